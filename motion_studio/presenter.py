"""What the page shows, computed from the core without Gradio: live verdicts, progress, gallery, run cards.

Everything here is a plain function of core objects, so it is unit-tested without a browser and the
UI module is left with layout and wiring only.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from . import fetching
from .catalog import (
    LIMITS,
    ORIENTATION_HELP,
    ORIENTATION_MAX_SECONDS,
    TIERS,
    billed_seconds,
    either,
    format_cost,
    format_price,
    options_under,
    tier,
)
from .errors import BudgetError, ClipTooLongError, InputError, StudioError
from .history import Run, RunEvent
from .jobs import Failed, Job, JobEvent, Running
from .lifecycle import Situation, icon
from .media import inspect_image, inspect_video, trim_clip
from .serving import servable
from .settings import Settings


@dataclass(frozen=True)
class InputCheck:
    """The live verdict shown beside the inputs; `ready` decides whether Generate is enabled."""

    image_text: str
    video_text: str
    verdict: str
    cost_text: str
    ready: bool
    trim_to: float | None = None  # the clip is too long: offer to keep its first `trim_to` seconds


def check_for_page(
    image: str | None,
    video: str | None,
    orientation: str,
    prompt: str,
    tier_name: str,
    settings: Settings,
    *,
    on_server_key: bool = True,
) -> InputCheck:
    """Read both inputs and say, in one line each, what was found and whether a run can start
    (`on_server_key`: no key was pasted, so the server's caps apply)."""
    problems: list[str] = []
    notes: list[str] = []
    image_text = video_text = ""
    trim_to = None
    cost_text = f"Price: {format_price(tier(tier_name).price_per_second)} of video ({tier_name})."
    if image:
        try:
            report = inspect_image(image, settings.max_image_pixels)
            image_text = f"🖼 {report.info.summary()}"
            notes += report.notes
        except InputError as exc:
            image_text, problems = f"🖼 {exc.message}", [*problems, exc.message]
    if video:
        try:
            report_v = inspect_video(video, orientation)
            video_text = f"🎞 {report_v.info.summary()}"
            notes += report_v.notes
            seconds = report_v.info.duration
            cost = tier(tier_name).estimate_cost(seconds)
            cost_text = (
                f"Estimated cost: **{format_cost(cost)}** = {billed_seconds(seconds)} s billed × "
                f"{format_price(tier(tier_name).price_per_second)} ({tier_name}; the clip's "
                f"{seconds:.1f} s, rounded up to whole seconds)."
            )
            cap = settings.max_run_cost
            if on_server_key and cap is not None and cost > cap:  # refused as the run would be
                problems.append(
                    BudgetError.per_run(cost, cap, either(options_under(cap, seconds, tier_name))).message
                )
        except InputError as exc:
            video_text, problems = f"🎞 {exc.message}", [*problems, exc.message]
            trim_to = exc.limit if isinstance(exc, ClipTooLongError) else None
    if len(prompt or "") > LIMITS.prompt_max_chars:
        problems.append(
            f"The prompt is {len(prompt)} characters; the limit is {LIMITS.prompt_max_chars}. Shorten it."
        )
    if problems:
        verdict = "❌ " + problems[0]
    elif not image or not video:
        missing = " and ".join(
            name for name, value in (("a character image", image), ("a reference clip", video)) if not value
        )
        verdict = f"Add {missing} to start, or click an example above."
    else:
        verdict = "✅ Ready. " + " ".join(notes)
    ready = bool(image and video and not problems)
    return InputCheck(image_text, video_text, verdict.strip(), cost_text, ready, trim_to)


def trim_for_page(video: str, seconds: float, settings: Settings) -> str:
    """A trimmed copy in the data directory; the original clip is left untouched."""
    trimmed = trim_clip(video, seconds, settings.data_dir / "trimmed")
    fetching.prune(scratch_folders(settings), settings.scratch_mb * 2**20)
    return str(trimmed)


def orientation_help(orientation: str) -> str:
    return f"**{orientation}**: {ORIENTATION_HELP[orientation]}."


def prompt_counter(prompt: str) -> str:
    n = len(prompt or "")
    mark = "❌ " if n > LIMITS.prompt_max_chars else ""
    return f"{mark}{n} / {LIMITS.prompt_max_chars} characters"


def orientation_choices() -> list[tuple[str, str]]:
    """`video` first: its 30 s limit accepts more clips."""
    return [(f"{o} (≤ {ORIENTATION_MAX_SECONDS[o]:g} s)", o) for o in ("video", "image")]


def tier_choices() -> list[tuple[str, str]]:
    return [(t.label, t.name) for t in TIERS.values()]


def progress_text(job: Job, now: float | None = None) -> str:
    """Phase, elapsed time and queue position, from the job's latest event."""
    last = job.last
    elapsed = (now or time.time()) - job.started_at
    if last is None:
        return f"⏳ Checking inputs… ({elapsed:.0f} s)"
    state = last.kind if isinstance(last, Failed) and last.kind in ("interrupted", "stopped") else last.phase
    text = f"{icon(state)} {last.describe()}"
    if last.terminal:
        return text
    if job.cancel_requested:
        text = "⏹ Cancelling on fal…"
    return f"{text} · {elapsed:.0f} s elapsed"


def log_text(job: Job) -> str:
    lines = [line for event in job.events if isinstance(event, Running) for line in event.logs]
    return "\n".join(lines[-200:])


async def watch(job: Job, tick: float = 1.0) -> AsyncIterator[JobEvent | None]:
    """Each event as it comes, and `None` every `tick` seconds in between so elapsed time moves."""
    events = job.subscribe()
    pending = asyncio.ensure_future(events.__anext__())
    try:
        while True:
            done, _ = await asyncio.wait({pending}, timeout=tick)
            if not done:
                yield None
                continue
            try:
                event = pending.result()
            except StopAsyncIteration:
                return
            yield event
            if event.terminal:
                return
            pending = asyncio.ensure_future(events.__anext__())
    finally:
        pending.cancel()
        await events.aclose()


def run_caption(run: Run) -> str:
    when = datetime.fromtimestamp(run.created_at).strftime("%b %d %H:%M")
    clip = f"{run.clip_seconds:.0f} s" if run.clip_seconds else ""
    prompt = (run.prompt[:40] + "…") if len(run.prompt) > 40 else run.prompt
    parts = [
        f"{icon(run.status)} {run.status}",
        when,
        run.orientation,
        run.tier,
        clip,
        prompt,
    ]
    return " · ".join(p for p in parts if p)


def gallery_items(runs: list[Run]) -> list[tuple[str, str]]:
    """Newest first; a frame of the output, or the character image while there is no output yet."""
    items = []
    for run in runs:
        picture = next((p for p in (run.thumbnail_path, run.image_path) if p and Path(p).exists()), None)
        shown = servable(picture)
        if shown:
            items.append((shown, run_caption(run)))
    return items


def gallery_runs(runs: list[Run]) -> list[Run]:
    """The runs behind `gallery_items`, in the same order, so a click index maps to a run."""
    return [r for r in runs if any(p and Path(p).exists() for p in (r.thumbnail_path, r.image_path))]


def runs_summary(runs: list[Run]) -> str:
    """One line over the gallery: how many runs, and what the finished ones cost (estimated)."""
    if not runs:
        return "No runs yet. Your videos will appear here, and stay after a restart."
    done = [r for r in runs if r.status == "done"]
    active = sum(r.active for r in runs)
    spent = sum(r.estimated_cost or 0.0 for r in done)
    parts = [f"{len(runs)} run{'s' * (len(runs) != 1)}", f"{len(done)} finished"]
    if active:
        parts.append(f"{active} in progress")
    parts.append(f"≈ {format_cost(spent)} spent on finished runs (estimate)")
    return " · ".join(parts)


def history_signature(runs: list[Run]) -> str:
    return "|".join(f"{r.id}:{r.status}" for r in runs)


def run_details(run: Run, events: list[RunEvent], situation: Situation | None = None) -> str:
    """A run's card: what was asked, where it is, whether it cost money, each step's time, any error."""
    when = datetime.fromtimestamp(run.created_at).strftime("%Y-%m-%d %H:%M:%S")
    situation = situation or run.situation(followed=False)
    charged = "fal may have charged for it" if situation.charged else "nothing was charged"
    lines = [
        f"### {icon(run.status)} Run `{run.id}` — {situation.label}",
        f"- **When:** {when} · **Model:** {run.tier} · **Orientation:** {run.orientation} · "
        f"**Sound:** {'kept' if run.keep_sound else 'dropped'} · **Billing:** {charged}",
    ]
    if run.clip_seconds is not None and run.estimated_cost is not None:
        lines.append(
            f"- **Clip:** {run.clip_seconds:.1f} s · **Estimated cost:** {format_cost(run.estimated_cost)}"
        )
    if run.prompt:
        lines.append(f"- **Prompt:** {run.prompt}")
    if run.request_id:
        lines.append(f"- **fal request id:** `{run.request_id}`")
    if run.error_message:
        lines.append(f"- **Error:** {run.error_message}")
    if run.finished_at and run.created_at:
        lines.append(f"- **Took:** {run.finished_at - run.created_at:.0f} s")
    if events:
        start = events[0].at
        steps = ", ".join(f"{e.state} +{e.at - start:.0f}s" for e in events)
        lines.append(f"- **Timeline:** {steps}")
    return "\n".join(lines)


def delete_question(run: Run) -> str:
    """Asked before a run that may have cost money is deleted for good."""
    cost = f" (about {format_cost(run.estimated_cost)})" if run.estimated_cost else ""
    if run.active:
        return (
            f"⚠️ This run may still be on fal{cost}. It is cancelled there first when the key it was "
            "started with is available, then deleted for good. Go on?"
        )
    what = "its video and inputs" if run.output_path else "its record and inputs"
    return f"⚠️ fal may have charged for this run{cost}. Delete {what} for good?"


def key_status(settings: Settings, session_key: str | None) -> str:
    if session_key and session_key.strip():
        return "🔑 Using the key you pasted, for this browser session only. It is never stored."
    if settings.visitors_bring_own_key:
        return (
            "🔑 **Bring your own fal key:** this server does not lend its key. Paste yours below; it is "
            "used for this browser session only and never stored. Get one at https://fal.ai/dashboard/keys."
        )
    if settings.fal_key is not None and settings.fal_key.get_secret_value().strip():
        return "🔑 Using the server's FAL_KEY."
    return (
        "⚠️ **No fal API key is set.** Set `FAL_KEY` in the environment or in a `.env` file next to "
        "`app.py` (on a Hugging Face Space: *Settings → Secrets*), or paste a key below for this "
        "browser session only. Get one at https://fal.ai/dashboard/keys."
    )


def pick_input(uploaded: str | None, url: str | None, kind: str, settings: Settings) -> str | None:
    """An uploaded file wins; otherwise a URL, downloaded; otherwise nothing."""
    if uploaded:
        return uploaded
    if url and url.strip():
        path = fetching.fetch_url(url, kind, settings.data_dir / "downloads")
        fetching.prune(scratch_folders(settings), settings.scratch_mb * 2**20)
        return str(path)
    return None


def scratch_folders(settings: Settings) -> list[Path]:
    """Where fetched and trimmed files go: kept under a quota, the oldest removed first."""
    return [settings.data_dir / "downloads", settings.data_dir / "trimmed"]


def pick_inputs(
    image: str | None, image_url: str | None, video: str | None, video_url: str | None, settings: Settings
) -> tuple[str | None, str | None]:
    """The page's two inputs, each an upload or a URL, as local files."""
    return pick_input(image, image_url, "image", settings), pick_input(video, video_url, "video", settings)


def error_text(error: StudioError) -> str:
    return f"❌ {error.message}"
