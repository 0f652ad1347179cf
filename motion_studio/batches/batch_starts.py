"""A batch's runs once its reading is ready: one row each (reserved together, so the batch fits the
spending guards whole or not at all), then one job each, started into the row kept for it."""

from __future__ import annotations

from pydantic import SecretStr

from ..history.runs import Run
from ..input_reading import Reading
from ..jobs.job import BatchSlot, Job
from ..jobs.runner import JobRunner
from ..order import FaceSources, Options, Order, Source
from .reading import BatchReading


def batch_rows(
    reading: BatchReading,
    each: tuple[Options, ...],
    key_source: str,
    owner: str | None,
    batch_id: str,
) -> list[Run]:
    """Each run's row, in the batch's order (its index in the batch, 1 to N, and the batch's size),
    with its options (a comparison's runs each have their model's)."""
    return [
        Run(
            options=options,
            endpoint=options.runs_on.endpoint,
            key_source=key_source,
            owner=owner,
            clip_seconds=one.seconds,
            estimated_cost=one.cost,
            source_image=one.image,
            source_video=one.video,
            face_frontal=reading.face.frontal,
            face_angles=reading.face.angles,
            batch_id=batch_id,
            batch_index=index,
            batch_size=reading.size,
        )
        for index, (one, options) in enumerate(zip(reading.readings, each, strict=True), start=1)
    ]


def start_one(
    runner: JobRunner,
    row: Run,
    one: Reading,
    urls: tuple[str | None, str | None],
    options: Options,
    owner: str | None,
    face: FaceSources,
    key: SecretStr,
    key_source: str,
) -> Job:
    """One run of the batch, into the row reserved for it: an order of one, its inputs local files."""
    assert one.image and one.video  # a ready reading has both
    image_url, video_url = urls
    order = Order(options, ((Source(one.image, image_url), Source(one.video, video_url)),), face)
    return runner.start(order, key, key_source, owner=owner, slot=BatchSlot(row.batch_id or "", row.id))
