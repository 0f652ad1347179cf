"""The API's batches: `/generate` and `/check` given `more_images` (one clip, several characters) or
`more_videos` (one character, several clips) make one batch of them.

`/check` answers one verdict and one estimate for the whole batch; `/generate` reserves and starts every
run (refused whole, with nothing uploaded, when the batch does not fit the server's spending guards),
waits for all of them, and answers the grid of every result and every run's summary. The rules are the
batches service's (`motion_studio/batches/`); this module only turns the API's values into a
`BatchRequest` and shapes the answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio.to_thread
import gradio as gr
from gradio.data_classes import FileData

from ..batches import BatchRequest, Source
from ..errors import StudioError
from ..jobs import Job
from ..run_request import RunRequest
from ..studio import Studio
from ..summary import BatchSummary

FilePicker = Callable[[Any, str], tuple[str | None, str | None]]


def batch_request(
    base: RunRequest, more_images: list[Any] | None, more_videos: list[Any] | None, picked: FilePicker
) -> BatchRequest | None:
    """The call as a batch, when it has more images or more clips (None: a single run). `picked`
    reads each value as the API reads `image` and `video` (an upload, or a URL)."""
    images = tuple(Source(*picked(value, "image")) for value in more_images or [] if value)
    videos = tuple(Source(*picked(value, "video")) for value in more_videos or [] if value)
    if not images and not videos:
        return None
    return BatchRequest(base, images, videos)


async def generate_batch(studio: Studio, request: BatchRequest, caller: str) -> tuple[FileData, BatchSummary]:
    """Start the batch, wait for every run, and answer its grid (or its one result) and its summary."""
    batch = await anyio.to_thread.run_sync(studio.batches.start_for_api, request, caller)
    await asyncio.gather(*(_until_done(job) for job in batch.jobs))
    try:
        shown, summary = await anyio.to_thread.run_sync(studio.batches.result_for_api, batch.id)
    except StudioError as exc:
        raise gr.Error(exc.message, print_exception=False) from None
    return FileData(path=shown, orig_name=Path(shown).name), summary


async def _until_done(job: Job) -> None:
    async for _ in job.subscribe():
        pass
