"""What the people check reads and says, as frozen dataclasses: safe to cache, share across threads
and hand to the page, the CLI or the API as they are (`as_dict()` gives plain JSON-able data)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any, Literal

Subject = Literal["image", "clip", "both"]


class Framing(StrEnum):
    """How much of the person a picture shows, the way Kling's guidance talks about it."""

    FULL_BODY = "full body"
    UPPER_BODY = "upper body"
    HEAD_ONLY = "head only"
    # A person was found (a face) but the pose model saw no body to judge the framing by.
    UNKNOWN = "unknown"


class WarningCode(StrEnum):
    """Stable machine names of the warnings: the API returns them and tests match on them, so the
    sentences may be reworded without breaking a caller."""

    NO_PERSON_IMAGE = "no_person_image"
    NO_PERSON_CLIP = "no_person_clip"
    SEVERAL_PEOPLE_IMAGE = "several_people_image"
    SEVERAL_PEOPLE_CLIP = "several_people_clip"
    PERSON_TOO_SMALL = "person_too_small"
    HEAD_ONLY_IMAGE = "head_only_image"
    HALF_BODY_IMAGE_FULL_BODY_MOTION = "half_body_image_full_body_motion"
    FULL_BODY_IMAGE_HALF_BODY_MOTION = "full_body_image_half_body_motion"
    PERSON_LEAVES_CLIP = "person_leaves_clip"


@dataclass(frozen=True)
class Landmark:
    """One of MediaPipe's 33 pose landmarks: x and y as fractions of the picture's width and height
    (outside 0..1 when the model places a body part beyond the edge), visibility from 0 to 1."""

    x: float
    y: float
    visibility: float


@dataclass(frozen=True)
class PoseReading:
    """What one picture (the photo, or one frame of the clip) shows.

    `people` is 0 when no person was found; `share` is the fraction of the picture covered by the
    person the pose model follows (None when it found none); `landmarks` are empty without a pose.
    """

    people: int
    framing: Framing
    share: float | None
    faces: int
    landmarks: tuple[Landmark, ...] = ()
    width: int = 0
    height: int = 0

    @property
    def has_person(self) -> bool:
        return self.people > 0

    def summary(self) -> str:
        """One line for a verdict: "1 person · upper body · 43 % of the picture · 1 face"."""
        if not self.has_person:
            return "no person found"
        parts = ["1 person" if self.people == 1 else f"{self.people} people", str(self.framing)]
        if self.share is not None:
            parts.append(f"{self.share * 100:.0f} % of the picture")
        parts.append("1 face" if self.faces == 1 else f"{self.faces} faces")
        return " · ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for the API, landmarks left out (33 points per picture are for the preview)."""
        data = asdict(self)
        data.pop("landmarks")
        data["framing"] = str(self.framing)
        return data


@dataclass(frozen=True)
class ClipFrameReading:
    """One sampled frame of the clip: where it is (seconds from the start) and what it shows."""

    time: float
    reading: PoseReading


@dataclass(frozen=True)
class ClipReading:
    """The clip summarised over a handful of evenly spaced frames.

    `framing` is the framing most of the frames with a person show (UNKNOWN when none has one).
    """

    duration: float
    frames: tuple[ClipFrameReading, ...]
    framing: Framing
    frames_without_person: int
    frames_with_several_people: int

    @property
    def sampled(self) -> int:
        return len(self.frames)

    @property
    def has_person(self) -> bool:
        return self.frames_without_person < self.sampled

    def summary(self) -> str:
        """One line for a verdict: "upper body in most frames · person in 6 of 6 frames"."""
        if not self.has_person:
            return f"no person found in {self.sampled} frames"
        line = f"{self.framing} in most frames · person in {self.sampled - self.frames_without_person} of {self.sampled} frames"
        if self.frames_with_several_people:
            line += f" · several people in {self.frames_with_several_people}"
        return line

    def as_dict(self) -> dict[str, Any]:
        return {
            "duration": self.duration,
            "framing": str(self.framing),
            "sampled": self.sampled,
            "frames_without_person": self.frames_without_person,
            "frames_with_several_people": self.frames_with_several_people,
            "frames": [{"time": f.time, **f.reading.as_dict()} for f in self.frames],
        }


@dataclass(frozen=True)
class PeopleWarning:
    """One thing worth knowing before paying, in one sentence that says the fix. Never blocks."""

    code: WarningCode
    message: str
    subject: Subject

    def as_dict(self) -> dict[str, str]:
        return {"code": str(self.code), "message": self.message, "subject": self.subject}


@dataclass(frozen=True)
class Skipped:
    """The check could not run on this input (an odd file, MediaPipe missing...): the reason, for the
    page to say "people check skipped" while everything else goes on."""

    subject: Literal["image", "clip", "preview"]
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"subject": self.subject, "reason": self.reason}


@dataclass(frozen=True)
class PeopleReport:
    """The whole check of a run's inputs: both readings (None when not given or skipped), the
    warnings from them, and what was skipped and why."""

    image: PoseReading | None
    clip: ClipReading | None
    warnings: tuple[PeopleWarning, ...]
    skipped: tuple[Skipped, ...] = ()

    @property
    def codes(self) -> tuple[WarningCode, ...]:
        return tuple(w.code for w in self.warnings)

    def as_dict(self) -> dict[str, Any]:
        return {
            "image": self.image.as_dict() if self.image else None,
            "clip": self.clip.as_dict() if self.clip else None,
            "warnings": [w.as_dict() for w in self.warnings],
            "skipped": [s.as_dict() for s in self.skipped],
        }
