"""A run's inputs as one step each: every local check (nothing written), then the local copies."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..catalog import LIMITS, ORIENTATION_MAX_SECONDS
from ..errors import InputError
from .image import MAX_PIXELS, ImageInfo, ImageReport, inspect_image, prepare_image
from .video import VideoInfo, VideoReport, inspect_video, prepare_video


@dataclass(frozen=True)
class PreparedInputs:
    """Inputs that passed every check, as files the model accepts, with what was done to them."""

    image: Path
    video: Path
    image_info: ImageInfo
    video_info: VideoInfo
    notes: tuple[str, ...] = field(default=())


def check_prompt(prompt: str | None) -> str:
    """fal only refuses an over-long prompt at result time (after the wait); refuse it up front."""
    text = (prompt or "").strip()
    if len(text) > LIMITS.prompt_max_chars:
        raise InputError(
            f"The prompt is {len(text)} characters; the limit is {LIMITS.prompt_max_chars}. Shorten it."
        )
    return text


def check_inputs(
    image: str | Path,
    video: str | Path,
    orientation: str,
    prompt: str | None = None,
    max_pixels: int = MAX_PIXELS,
) -> tuple[ImageReport, VideoReport, str]:
    """All local checks, in the order a user would fix them; nothing is written or uploaded."""
    if orientation not in ORIENTATION_MAX_SECONDS:
        raise InputError("Orientation must be 'image' or 'video'.")
    image_report = inspect_image(image, max_pixels)
    video_report = inspect_video(video, orientation)
    return image_report, video_report, check_prompt(prompt)


def prepare_inputs(
    image: str | Path,
    video: str | Path,
    image_report: ImageReport,
    video_report: VideoReport,
    run_dir: Path,
    max_pixels: int = MAX_PIXELS,
) -> PreparedInputs:
    """Local copies in the run folder: history keeps them even after the originals are gone."""
    return PreparedInputs(
        image=prepare_image(image, image_report, run_dir / "image", max_pixels),
        video=prepare_video(video, video_report, run_dir / "reference"),
        image_info=image_report.info,
        video_info=video_report.info,
        notes=image_report.notes + video_report.notes,
    )
