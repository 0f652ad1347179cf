"""A batch as a page, the API or the command line asks for it, told apart before anything is read:
its inputs, which of them each run has its own of, and whether its shape can be made at all."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import BatchError
from ..run_request import RunRequest

MAX_INPUTS = 8  # character images (or clips) in one batch, the first one included
BATCH_ID = re.compile(r"\d{8}-\d{6}-[0-9a-f]{32}")


@dataclass(frozen=True)
class Source:
    """One input as a page or a caller gives it: an uploaded (or the command line's) file, or a URL."""

    file: str | None = None
    url: str | None = None

    def __bool__(self) -> bool:
        return bool(self.file or (self.url and self.url.strip()))

    @property
    def name(self) -> str:
        """What the verdict calls it: the file's name, or the last part of the URL."""
        if self.file:
            return Path(self.file).name
        url = (self.url or "").strip()
        return urlsplit(url).path.rsplit("/", 1)[-1] or url


@dataclass(frozen=True)
class BatchRequest:
    """A batch as asked for. `base` is its first run (its image and clip, and the settings every run
    shares); then either `more_images` (one clip, several characters) or `more_videos` (one character,
    several clips): one run each."""

    base: RunRequest
    more_images: tuple[Source, ...] = ()
    more_videos: tuple[Source, ...] = ()

    @property
    def varies(self) -> str:
        """ "image" or "video": the input each run has its own of."""
        return "video" if self.more_videos and not self.more_images else "image"

    @property
    def size(self) -> int:
        return 1 + len(self.more_images) + len(self.more_videos)

    def shape_problem(self) -> str | None:
        """What is wrong with the batch as a whole, before any file is read."""
        if self.more_images and self.more_videos:
            return BatchError.both_kinds().message
        if self.size > MAX_INPUTS:
            kind = "character image" if self.varies == "image" else "clip"
            return BatchError.too_many(self.size, MAX_INPUTS, kind).message
        return None

    def inputs(self) -> list[tuple[Source, Source]]:
        """Each run's (image, clip), in the batch's order."""
        image = Source(self.base.image, self.base.image_url)
        clip = Source(self.base.video, self.base.video_url)
        if self.varies == "video":
            return [(image, other) for other in (clip, *self.more_videos)]
        return [(other, clip) for other in (image, *self.more_images)]

    def names(self) -> list[str]:
        """What the verdict calls each run: by its own input (the image, or the clip)."""
        return [(image if self.varies == "image" else clip).name for image, clip in self.inputs()]


def _url(source: Source) -> str | None:
    """The URL an input came from, when no file was given for it (fal may fetch it there itself)."""
    return None if source.file or not (source.url and source.url.strip()) else source.url.strip()
