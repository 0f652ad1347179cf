"""The API's batches: `/generate` and `/check` given `more_images` (one clip, several characters) or
`more_videos` (one character, several clips) make one batch of them.

`/check` answers one verdict and one estimate for the whole batch; `/generate` reserves and starts every
run (refused whole, with nothing uploaded, when the batch does not fit the server's spending guards),
waits for all of them, and answers the grid of every result and every run's summary. The rules are the
batches service's (`motion_studio/batches.py`); this module only turns the API's values into a
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

from ..batches import BatchRequest, Source, grid_download_name
from ..errors import StudioError
from ..jobs import Job
from ..run_request import RunRequest
from ..serving import servable_as
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
    summary = await anyio.to_thread.run_sync(studio.batches.summary, batch.id)
    try:
        grid = await anyio.to_thread.run_sync(studio.batches.grid_file, batch.id)
    except StudioError:
        grid = None  # every result is still there, each in its run's summary
    if grid is not None:
        shown = servable_as(grid, grid_download_name(batch.id))
    else:
        done = [run for run in studio.history.batch(batch.id) if run.status == "done"]
        shown = studio.result_file(done[0]) if done else None
    if shown is None:
        errors = [run.error for run in summary.runs if run.error]
        why = errors[0] if errors else "they were cancelled."
        raise gr.Error(f"No run of the batch finished: {why}", print_exception=False)
    return FileData(path=shown, orig_name=Path(shown).name), summary


async def _until_done(job: Job) -> None:
    async for _ in job.subscribe():
        pass
