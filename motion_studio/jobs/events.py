"""What a job tells its listeners (the page, the command line, the API), one typed event at a time.

Exactly one event of a job is `terminal`: Done, Failed or Cancelled. `describe()` is the sentence a
user sees for it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class JobEvent:
    run_id: str | None
    at: float = field(default_factory=time.time, kw_only=True)
    terminal = False
    phase = "event"

    def describe(self) -> str:
        return self.phase


@dataclass(frozen=True)
class Checked(JobEvent):
    clip_seconds: float
    estimated_cost: float
    notes: tuple[str, ...] = ()
    phase = "checked"

    def describe(self) -> str:
        return f"Inputs checked ({self.clip_seconds:.1f} s clip, about ${self.estimated_cost:.2f})."


@dataclass(frozen=True)
class Uploading(JobEvent):
    """`reused`: the inputs ("image", "video") already on fal's CDN, passed by URL, not uploaded."""

    reused: tuple[str, ...] = ()
    phase = "uploading"

    def describe(self) -> str:
        names = {"image": "image", "video": "clip"}
        sent = [names[kind] for kind in ("image", "video") if kind not in self.reused]
        if not self.reused:
            return "Uploading the image and the clip to fal…"
        kept = " and the ".join(names[kind] for kind in self.reused)
        on_cdn = (
            f"the {kept} {'are' if len(self.reused) > 1 else 'is'} already on fal's CDN, not uploaded again"
        )
        if not sent:
            return on_cdn[0].upper() + on_cdn[1:] + "."
        return f"Uploading the {sent[0]} to fal ({on_cdn})…"


@dataclass(frozen=True)
class Queued(JobEvent):
    position: int | None = None
    request_id: str | None = None
    phase = "queued"

    def describe(self) -> str:
        if self.position is None:
            return "Submitted to fal."
        return f"In fal's queue, position {self.position + 1}." if self.position else "Next in fal's queue."


@dataclass(frozen=True)
class Running(JobEvent):
    logs: tuple[str, ...] = ()
    phase = "running"

    def describe(self) -> str:
        return "Generating the video on fal (this usually takes several minutes)…"


@dataclass(frozen=True)
class Watching(JobEvent):
    """Another process follows this run (the app, or `resume` in a terminal): we wait for its end."""

    phase = "watching"

    def describe(self) -> str:
        return "Another process is following this run; waiting for it to finish…"


@dataclass(frozen=True)
class Downloading(JobEvent):
    phase = "downloading"

    def describe(self) -> str:
        return "Downloading the result…"


@dataclass(frozen=True)
class Downloaded(JobEvent):
    """The video is here and plays: a page shows it now, before the thumbnail and the bookkeeping
    that `Done` waits for."""

    output: Path
    phase = "downloaded"

    def describe(self) -> str:
        return "The video is here; finishing up…"


@dataclass(frozen=True)
class Done(JobEvent):
    output: Path
    took: float | None = None  # seconds from the run's start
    cost: float | None = None  # the estimate
    terminal = True
    phase = "done"

    def describe(self) -> str:
        parts = []
        if self.took is not None:
            minutes, seconds = divmod(round(self.took), 60)
            parts.append(f"in {minutes} min {seconds} s" if minutes else f"in {seconds} s")
        if self.cost is not None:
            parts.append(f"about ${self.cost:.2f} (estimate)")
        return "Done" + (" " + " · ".join(parts) if parts else "") + "."


@dataclass(frozen=True)
class Failed(JobEvent):
    """Any end but done or cancelled; `kind` names it (input, budget, interrupted, stopped, expired…)."""

    kind: str
    message: str
    terminal = True
    phase = "failed"

    def describe(self) -> str:
        return self.message


@dataclass(frozen=True)
class Cancelled(JobEvent):
    sent: bool = False  # fal had the request: it may bill the time it ran
    terminal = True
    phase = "cancelled"

    def describe(self) -> str:
        if self.sent:
            return "Cancelled on fal; fal may still bill the time it ran."
        return "Cancelled before it was sent to fal: nothing was charged."
