"""A run as a page, an API caller or a batch asks for it, before anything is read or fetched.

Kept apart from the `studio` package so that every service that starts runs (the studio, batches) takes the
same request, and the API's refusal of choices the catalogue does not have is said the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .catalog import ORIENTATION_MAX_SECONDS, TIERS, either
from .errors import InputError
from .inputs import FaceGiven


@dataclass(frozen=True)
class RunRequest:
    """A run as a page or an API caller asks for it: each input an uploaded file or a URL. The
    defaults are the API's: orientation `video` (it takes the longer clips), sound kept."""

    image: str | None
    video: str | None
    orientation: str = "video"
    prompt: str = ""
    keep_sound: bool = True
    tier: str | None = None
    image_url: str | None = None
    video_url: str | None = None
    face: FaceGiven = field(default_factory=FaceGiven)  # a face to keep consistent (v3, orientation video)

    def with_face(self, face: FaceGiven) -> RunRequest:
        return replace(self, face=face)


def check_choices(request: RunRequest) -> None:
    """An API caller may send any string: an orientation or a model the catalogue does not have is
    refused in one sentence, before anything is fetched or read."""
    if request.orientation not in ORIENTATION_MAX_SECONDS:
        choices = either([f"'{o}'" for o in ORIENTATION_MAX_SECONDS])
        raise InputError(f"The character orientation must be {choices}, not {request.orientation!r}.")
    if request.tier is not None and request.tier not in TIERS:
        choices = either([f"'{t}'" for t in TIERS])
        raise InputError(f"There is no model {request.tier!r}; choose {choices}.")
