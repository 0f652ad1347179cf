"""The people check's decisions, as pure functions of what the models saw: no MediaPipe, no files.

Kept apart so every rule (framing from landmark visibility, how many people, the clip's summary,
which warnings to give) is unit-tested on synthetic landmark data, and so the thresholds live in
one place. The thresholds follow Kling's own guidance: one realistic character, head visible,
body proportions clear, more than 5 % of the image, and a half-body character not driven by
full-body motion (it animates the largest person).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from ..catalog import FAMILIES
from .results import (
    ClipFrameReading,
    ClipReading,
    Framing,
    Landmark,
    PeopleWarning,
    PoseReading,
    WarningCode,
)

# The models the advice names, by their families' short names in the catalogue (as the page's model
# choice and a run's card say them): Kling follows one person, the largest; DreamActor takes several
# characters, and non-human ones (fal's model page).
KLING = FAMILIES["kling"].short
SEVERAL_CHARACTERS = FAMILIES["dreamactor"].short

# Kling wants the character to cover more than 5 % of the image.
MIN_SHARE = 0.05
# A landmark counts as seen when the model is at least this sure it is visible *and* it lies inside
# the picture: the pose model also places (with high visibility, sometimes) body parts beyond the
# edge, such as the hips of a head-and-shoulders portrait.
SEEN_VISIBILITY = 0.5
# A segmentation mask pixel is the person's when its probability is above this.
MASK_THRESHOLD = 0.5

# MediaPipe Pose's 33 landmark indices, grouped by what they tell about the framing.
HEAD = range(0, 11)  # nose, eyes, ears, mouth
SHOULDERS = (11, 12)
HIPS = (23, 24)
KNEES = (25, 26)
FEET = (27, 28, 29, 30, 31, 32)  # ankles, heels, toes
POSE_LANDMARKS = 33
# Each leg as (hip, knee, (ankle, heel, toe)), the person's left then right.
LEGS = ((23, 25, (27, 29, 31)), (24, 26, (28, 30, 32)))
# A leg counts as in view only when it hangs down: knee below the hip and foot below the knee, each
# by at least this fraction of the torso's height. Where a picture ends at the waist over a plain
# background (a letterboxed clip, a small portrait on a canvas), the model draws the legs folded up
# into the picture with visibilities of 0.6-0.8; real standing legs drop by about a torso each.
MIN_LEG_DROP = 0.25

# Wider framings first: when a clip's frames are split evenly, the wider framing is reported.
_FRAMING_ORDER = (Framing.FULL_BODY, Framing.UPPER_BODY, Framing.HEAD_ONLY, Framing.UNKNOWN)


def is_seen(landmark: Landmark) -> bool:
    """Visible (per the model) and inside the picture."""
    return landmark.visibility >= SEEN_VISIBILITY and 0.0 <= landmark.x <= 1.0 and 0.0 <= landmark.y <= 1.0


def _mid_y(landmarks: Sequence[Landmark], pair: tuple[int, int]) -> float:
    return (landmarks[pair[0]].y + landmarks[pair[1]].y) / 2


def leg_in_view(landmarks: Sequence[Landmark], leg: tuple[int, int, tuple[int, ...]]) -> bool:
    """The knee and a foot point of this leg are seen, and the leg hangs down from the hip (see
    MIN_LEG_DROP; the hip's place is used even when the model is unsure it is visible)."""
    hip, knee, foot = leg
    if not is_seen(landmarks[knee]):
        return False
    feet = [landmarks[i] for i in foot if is_seen(landmarks[i])]
    if not feet:
        return False
    drop = MIN_LEG_DROP * abs(_mid_y(landmarks, HIPS) - _mid_y(landmarks, SHOULDERS))
    knee_y = landmarks[knee].y
    return knee_y - landmarks[hip].y >= drop and max(p.y for p in feet) - knee_y >= drop


def framing_of(landmarks: Sequence[Landmark]) -> Framing:
    """Full body when a leg is in view down to the foot (with the head or shoulders), upper body when
    the shoulders or hips are, head only when only the face is; UNKNOWN without any seen landmark."""
    if len(landmarks) < POSE_LANDMARKS:
        return Framing.UNKNOWN

    def any_seen(indices: Iterable[int]) -> bool:
        return any(is_seen(landmarks[i]) for i in indices)

    head, shoulders = any_seen(HEAD), any_seen(SHOULDERS)
    if (head or shoulders) and any(leg_in_view(landmarks, leg) for leg in LEGS):
        return Framing.FULL_BODY
    if shoulders or any_seen(HIPS):
        return Framing.UPPER_BODY
    if head:
        return Framing.HEAD_ONLY
    return Framing.UNKNOWN


def count_people(pose_found: bool, faces: int) -> int:
    """People in a picture: the faces found, or one when only the pose model found someone (a person
    seen from behind, or too small for the face detector). The pose model follows one person only,
    so faces are the only count of several."""
    return max(faces, 1 if pose_found else 0)


def mask_share(mask: np.ndarray | None) -> float | None:
    """Fraction of the picture the segmentation mask gives to the person (None without a mask)."""
    if mask is None or mask.size == 0:
        return None
    return float(np.count_nonzero(mask > MASK_THRESHOLD)) / float(mask.size)


def reading_from(
    landmarks: Sequence[Landmark], faces: int, share: float | None, width: int = 0, height: int = 0
) -> PoseReading:
    """A picture's reading from what the models returned (landmarks empty when no pose was found)."""
    pose_found = len(landmarks) >= POSE_LANDMARKS
    people = count_people(pose_found, faces)
    return PoseReading(
        people=people,
        framing=framing_of(landmarks) if pose_found else Framing.UNKNOWN,
        share=share if pose_found else None,
        faces=faces,
        landmarks=tuple(landmarks) if pose_found else (),
        width=width,
        height=height,
    )


def majority_framing(framings: Iterable[Framing]) -> Framing:
    """The framing most frames show; UNKNOWN frames count only when nothing else was seen."""
    counts: Counter[Framing] = Counter(f for f in framings if f is not Framing.UNKNOWN)
    if not counts:
        return Framing.UNKNOWN
    best = max(counts.values())
    return next(f for f in _FRAMING_ORDER if counts.get(f) == best)


def summarise_clip(duration: float, frames: Sequence[ClipFrameReading]) -> ClipReading:
    """The clip's reading from its sampled frames (in time order)."""
    ordered = tuple(sorted(frames, key=lambda f: f.time))
    with_person = [f.reading for f in ordered if f.reading.has_person]
    return ClipReading(
        duration=duration,
        frames=ordered,
        framing=majority_framing(r.framing for r in with_person),
        frames_without_person=len(ordered) - len(with_person),
        frames_with_several_people=sum(1 for r in with_person if r.people > 1),
    )


def several_people_threshold(sampled: int) -> int:
    """Several people must show in at least a third of the sampled frames (at least one) before the
    clip is said to have them: one stray face (a poster, a passer-by) is not worth a warning."""
    return max(1, math.ceil(sampled / 3))


def _seconds(times: Sequence[float]) -> str:
    shown = [f"{t:.1f} s" for t in times[:3]]
    if len(times) > 3:
        shown[-1] += " and later"
    if len(shown) == 1:
        return shown[0]
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def image_warnings(image: PoseReading) -> list[PeopleWarning]:
    """Warnings about the photo alone."""
    if not image.has_person:
        return [
            PeopleWarning(
                WarningCode.NO_PERSON_IMAGE,
                f"No person was found in the image; {KLING} needs one clearly visible person, so use a "
                "photo where the person's head and body are in view, or, if your character is not "
                f"human, choose {SEVERAL_CHARACTERS}, which handles non-human characters.",
                "image",
            )
        ]
    out: list[PeopleWarning] = []
    if image.people > 1:
        out.append(
            PeopleWarning(
                WarningCode.SEVERAL_PEOPLE_IMAGE,
                f"The image shows {image.people} people and {KLING} animates the largest one; crop the "
                f"photo to the person you want to animate, or choose {SEVERAL_CHARACTERS}, which takes "
                "several characters.",
                "image",
            )
        )
    if image.share is not None and image.share < MIN_SHARE:
        out.append(
            PeopleWarning(
                WarningCode.PERSON_TOO_SMALL,
                f"The person covers only {image.share * 100:.1f} % of the image (Kling needs more than "
                f"{MIN_SHARE * 100:.0f} %); crop the photo closer around them.",
                "image",
            )
        )
    if image.framing is Framing.HEAD_ONLY:
        out.append(
            PeopleWarning(
                WarningCode.HEAD_ONLY_IMAGE,
                "The image shows only the head, so Kling has to invent the body it moves; use a photo "
                "that shows at least the upper body (the whole body for full-body motion).",
                "image",
            )
        )
    return out


def clip_warnings(clip: ClipReading) -> list[PeopleWarning]:
    """Warnings about the reference clip alone."""
    if not clip.has_person:
        return [
            PeopleWarning(
                WarningCode.NO_PERSON_CLIP,
                "No person was found in the clip; the motion is read from a person, so pick a clip "
                "with one person clearly in view.",
                "clip",
            )
        ]
    out: list[PeopleWarning] = []
    missing = [f.time for f in clip.frames if not f.reading.has_person]
    if missing:
        out.append(
            PeopleWarning(
                WarningCode.PERSON_LEAVES_CLIP,
                f"The person is out of view in {len(missing)} of {clip.sampled} checked frames (at "
                f"{_seconds(missing)}); trim the clip to the part where they stay in frame.",
                "clip",
            )
        )
    if clip.frames_with_several_people >= several_people_threshold(clip.sampled):
        out.append(
            PeopleWarning(
                WarningCode.SEVERAL_PEOPLE_CLIP,
                f"Several people appear in {clip.frames_with_several_people} of {clip.sampled} checked "
                f"frames and {KLING} follows the largest one; use a clip with one person in view, or "
                f"choose {SEVERAL_CHARACTERS}, which takes several characters.",
                "clip",
            )
        )
    return out


def pairing_warnings(image: PoseReading, clip: ClipReading) -> list[PeopleWarning]:
    """Warnings about the photo and the clip together: a framing mismatch."""
    if not (image.has_person and clip.has_person):
        return []
    if image.framing is Framing.UPPER_BODY and clip.framing is Framing.FULL_BODY:
        return [
            PeopleWarning(
                WarningCode.HALF_BODY_IMAGE_FULL_BODY_MOTION,
                "The image shows the upper body but the clip moves a full body, so Kling has to invent "
                "the legs; use a full-body photo or a clip framed from the waist up.",
                "both",
            )
        ]
    if image.framing is Framing.FULL_BODY and clip.framing in (Framing.UPPER_BODY, Framing.HEAD_ONLY):
        return [
            PeopleWarning(
                WarningCode.FULL_BODY_IMAGE_HALF_BODY_MOTION,
                "The image shows a full body but the clip only the upper body, so the legs get no "
                "motion to follow; use a clip showing the whole body or crop the photo to the upper body.",
                "both",
            )
        ]
    return []


def advise(image: PoseReading | None, clip: ClipReading | None) -> tuple[PeopleWarning, ...]:
    """Every warning for a run's inputs (either may be missing): image ones, clip ones, then the pair."""
    out: list[PeopleWarning] = []
    if image is not None:
        out += image_warnings(image)
    if clip is not None:
        out += clip_warnings(clip)
    if image is not None and clip is not None:
        out += pairing_warnings(image, clip)
    return tuple(out)
