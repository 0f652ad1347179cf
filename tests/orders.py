"""Orders as the tests write them: an image and a clip (files, or URLs), options by name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from motion_studio.order import FaceSources, Options, Order, Source


def order(
    image: str | Path | None = None,
    video: str | Path | None = None,
    *,
    image_url: str | None = None,
    video_url: str | None = None,
    face: FaceSources | None = None,
    more_images: tuple[str | Path, ...] = (),
    more_videos: tuple[str | Path, ...] = (),
    **options: Any,
) -> Order:
    """An order of one (or a batch, with `more_images` / `more_videos`, each a file or a URL).

    For the runner, whose inputs are local files, `image_url` / `video_url` beside a file say where
    that file was fetched from."""

    def source(file: str | Path | None, url: str | None) -> Source:
        return Source(str(file) if file else None, url)

    return Order.of(
        Options(**options),
        source(image, image_url),
        source(video, video_url),
        more_images=tuple(_given(value) for value in more_images),
        more_videos=tuple(_given(value) for value in more_videos),
        face=face or FaceSources(),
    )


def face(frontal: str | Path | None = None, *angles: str | Path) -> FaceSources:
    """A face to keep consistent: each image a file, or a URL."""
    return FaceSources(_given(frontal) if frontal else Source(), tuple(_given(a) for a in angles))


def _given(value: str | Path) -> Source:
    text = str(value)
    return Source(url=text) if text.startswith(("http://", "https://")) else Source(file=text)
