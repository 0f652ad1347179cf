"""A batch's runs once its reading is ready: one row each (reserved together, so the batch fits the
spending guards whole or not at all), then one job each, started into the row kept for it."""

from __future__ import annotations

from pydantic import SecretStr

from ..catalog import Face, ModelTier
from ..history.runs import Run
from ..inputs import Reading
from ..jobs import Job, JobRunner, JobSpec
from ..jobs.job import BatchSlot
from ..run_request import RunRequest
from .reading import BatchReading


def batch_rows(
    reading: BatchReading,
    base: RunRequest,
    model: ModelTier,
    key_source: str,
    owner: str | None,
    batch_id: str,
) -> list[Run]:
    """Each run's row, in the batch's order (its index in the batch, 1 to N, and the batch's size)."""
    return [
        Run(
            tier=model.name,
            endpoint=model.endpoint,
            orientation=base.orientation,
            prompt=base.prompt,
            keep_sound=base.keep_sound,
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
        for index, one in enumerate(reading.readings, start=1)
    ]


def start_one(
    runner: JobRunner,
    row: Run,
    one: Reading,
    urls: tuple[str | None, str | None],
    base: RunRequest,
    model_name: str,
    owner: str | None,
    face: Face,
    key: SecretStr,
    key_source: str,
) -> Job:
    """One run of the batch, into the row reserved for it."""
    assert one.image and one.video  # a ready reading has both
    image_url, video_url = urls
    batch_id = row.batch_id or ""
    spec = JobSpec(
        one.image,
        one.video,
        base.orientation,
        base.prompt,
        base.keep_sound,
        model_name,
        owner=owner,
        image_url=image_url,
        video_url=video_url,
        face=face,
        slot=BatchSlot(batch_id, row.id),
    )
    return runner.start(spec, key, key_source)
