"""The one verdict on a set of inputs, before anything is paid: ready, the first thing to fix, or what
is still missing. The page, the API, the MCP tools and the command line all show this one (the page
adds its icons and its hints around it), for a single run's reading and for a batch's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .batches.reading import BatchReading
from .input_reading import Reading

READY = "Ready: these inputs can be generated as they are."
BOTH = "a character image and a reference clip"


@dataclass(frozen=True)
class Verdict:
    """`kind`: "ready", "problem" (the first thing to fix) or "missing" (an input not given yet);
    `sentence` says it; `missing` names what is missing ("a reference clip")."""

    kind: Literal["ready", "problem", "missing"]
    sentence: str
    missing: str = ""

    @property
    def ready(self) -> bool:
        return self.kind == "ready"


def verdict(reading: Reading) -> Verdict:
    """A single run's verdict: its first problem, or what is missing, or ready."""
    if reading.problems:
        return Verdict("problem", reading.problems[0])
    missing = " and ".join(
        name
        for name, value in (("a character image", reading.image), ("a reference clip", reading.video))
        if not value
    )
    return Verdict("missing", f"Add {missing}.", missing) if missing else Verdict("ready", READY)


def batch_verdict(reading: BatchReading) -> Verdict:
    """A batch's verdict: its first problem (each names the input it is about), what its runs still
    lack, or ready, saying how many runs, one per what."""
    if reading.problems:
        return Verdict("problem", reading.problems[0])
    missing = " and ".join(
        name
        for name, given in (
            ("a character image", reading.readings and all(r.image for r in reading.readings)),
            ("a reference clip", reading.readings and all(r.video for r in reading.readings)),
        )
        if not given
    )
    if missing or not reading.readings:
        missing = missing or BOTH
        return Verdict("missing", f"Add {missing}.", missing)
    kind = {"image": "character image", "video": "clip", "model": "model"}[reading.varies]
    what = "a comparison" if reading.varies == "model" else "a batch"
    return Verdict(
        "ready", f"Ready: {what} of {reading.size} runs, one per {kind}, can be generated as it is."
    )
