"""A run's inputs as one step each: every local check (nothing written), then the local copies."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..catalog import Face
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


def check_inputs(
    image: str | Path, video: str | Path, orientation: str | None, max_pixels: int = MAX_PIXELS
) -> tuple[ImageReport, VideoReport]:
    """All local checks, in the order a user would fix them; nothing is written or uploaded."""
    return inspect_image(image, max_pixels), inspect_video(video, orientation)


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


def face_image_name(index: int, face: Face) -> str:
    """How a sentence names one of the face's images (`index` in `face.images`)."""
    if face.frontal and index == 0:
        return "The face's frontal image"
    return f"The face's angle {index + (0 if face.frontal else 1)}"


def check_face(face: Face, max_pixels: int = MAX_PIXELS) -> tuple[ImageReport, ...]:
    """Each of the face's images checked exactly as the character image is (fal has the same limits
    for them as far as anyone documents), each refusal naming which image it is about."""
    reports = []
    for index, path in enumerate(face.images):
        try:
            reports.append(inspect_image(path, max_pixels))
        except InputError as exc:
            raise InputError(f"{face_image_name(index, face)}: {exc.message}") from None
    return tuple(reports)


def prepare_face(
    face: Face, reports: tuple[ImageReport, ...], run_dir: Path, max_pixels: int = MAX_PIXELS
) -> Face:
    """The face's images copied (converted when needed) into the run folder, as the character image is."""
    copies = [
        str(prepare_image(path, report, run_dir / f"face-{index}", max_pixels))
        for index, (path, report) in enumerate(zip(face.images, reports, strict=True))
    ]
    if face.frontal:
        return Face(copies[0], tuple(copies[1:]))
    return Face(None, tuple(copies))
