"""The people check as the page, the API and the CLI use it: one call, plain data back.

`people/` reads pictures; this module decides what the app does with a reading: the one sentence
saying the check was skipped, and which pose preview file stands for which inputs (named after their
content, so a check repeated on a blur or a model change reuses it instead of drawing it again).
Whether the check runs at all is the caller's (`Settings.people_check`; the CLI's `--strict` runs it
anyway). Blocking: a photo takes ~0.04 s, a 30 s clip ~0.5 s, the first call in a process ~0.6 s more
while the models load, so the page and the API call it in a worker thread, never on an event loop.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from . import people
from .people import PeopleReport, PeopleWarning, Skipped
from .people.cache import file_digest

log = logging.getLogger("motion_studio.people_check")
TURNED_OFF = "The people check is turned off on this server (MOTION_STUDIO_PEOPLE_CHECK=false)."


@dataclass(frozen=True)
class PeopleCheck:
    """What the check found in a run's inputs. `preview` is the pose preview PNG (None when it was
    not asked for, or shows nobody); the warnings never keep a run from being generated."""

    report: PeopleReport
    preview: Path | None = None

    @property
    def warnings(self) -> tuple[PeopleWarning, ...]:
        return self.report.warnings

    @property
    def skipped(self) -> str | None:
        """One sentence when the check of an input could not run (an odd file, MediaPipe missing)."""
        return skipped_sentence(self.report.skipped)

    def readings(self) -> list[tuple[str, str]]:
        """(input, what was read) for each input that was checked, e.g. ("image", "1 person · …")."""
        found = [("image", self.report.image), ("clip", self.report.clip)]
        return [(name, reading.summary()) for name, reading in found if reading is not None]


def skipped_sentence(skipped: tuple[Skipped, ...]) -> str | None:
    """The sentence saying the check of an input was skipped and why (both inputs named if both)."""
    if not skipped:
        return None
    subjects = " and the ".join(dict.fromkeys(s.subject for s in skipped))
    reasons = " ".join(dict.fromkeys(s.reason for s in skipped))
    return f"The people check was skipped for the {subjects}: {reasons}"


def check_inputs(
    image: str | Path | None, video: str | Path | None, preview_dir: Path | None = None
) -> PeopleCheck:
    """Check the photo and the clip (either may be None); with `preview_dir`, also draw the pose
    preview there when either shows a person. Never raises: what fails is in `skipped`."""
    report = people.check_people(image, video)
    if preview_dir is None or not _shows_someone(report):
        return PeopleCheck(report)
    return PeopleCheck(report, _preview(image, video, preview_dir))


def _shows_someone(report: PeopleReport) -> bool:
    return bool((report.image and report.image.has_person) or (report.clip and report.clip.has_person))


def _preview(image: str | Path | None, video: str | Path | None, folder: Path) -> Path | None:
    """The preview PNG for these two files' contents, drawn once and then reused."""
    try:
        key = ":".join(file_digest(p) if p else "-" for p in (image, video))
    except OSError:
        return None
    dest = folder / f"pose-{hashlib.sha256(key.encode()).hexdigest()[:32]}.png"
    if dest.is_file():
        return dest
    made = people.pose_preview(image, video, dest)
    if isinstance(made, Skipped):
        log.info("no pose preview: %s", made.reason)
        return None
    return made
