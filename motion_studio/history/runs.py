"""A run as the history stores it, and the one-line timeline entries it collects."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..catalog import Face
from ..lifecycle import ACTIVE, FINAL, Action, Situation, Status, situation
from ..order import Options


@dataclass
class Run:
    """One generation, from the first check to the downloaded video (or the reason it ended)."""

    options: Options  # what fal was asked for (stored as one JSON value: a new option needs no migration)
    endpoint: str
    key_source: str = "server"
    id: str = ""
    created_at: float = 0.0
    updated_at: float = 0.0
    status: str = Status.CHECKING.value
    image_path: str | None = None
    video_path: str | None = None
    image_url: str | None = None
    video_url: str | None = None
    clip_seconds: float | None = None
    estimated_cost: float | None = None
    request_id: str | None = None
    output_path: str | None = None
    output_url: str | None = None
    thumbnail_path: str | None = None
    error_kind: str | None = None
    error_message: str | None = None
    submitted_at: float | None = None
    finished_at: float | None = None
    owner: str | None = None
    source_image: str | None = None  # the files the user gave, for Run again when no copy was made yet
    source_video: str | None = None
    lease_holder: str | None = None
    lease_until: float | None = None
    # The face kept consistent (v3's element): the run's copies (the given files until they are made),
    # and their URLs on fal once uploaded. Lists are stored as JSON.
    face_frontal: str | None = None
    face_angles: tuple[str, ...] = ()
    face_frontal_url: str | None = None
    face_angle_urls: tuple[str, ...] = ()
    # A run of a batch: the batch's id, and this run's place in it (1-based) out of `batch_size`.
    batch_id: str | None = None
    batch_index: int | None = None
    batch_size: int | None = None
    # A preview (`options.preview`) keeps the whole clip it was cut from, for its full run; a full run
    # started from a preview names it, so the two are shown side by side.
    full_clip_path: str | None = None
    preview_of: str | None = None
    # What fal's result told besides the video, the fields the model's `returns` names (Wan: the prompt
    # it made, the seed it used); and whether the clip's sound was put back here on a result that came
    # without it (None: nothing to do; False: it could not be, the silent video was kept).
    returned: dict[str, Any] = field(default_factory=dict)
    sound_added: bool | None = None

    @property
    def active(self) -> bool:
        return Status(self.status) in ACTIVE

    @property
    def final(self) -> bool:
        return Status(self.status) in FINAL

    def situation(self, *, followed: bool) -> Situation:
        found = situation(self.status, self.request_id, followed=followed)
        if self.is_preview and self.status == Status.DONE.value and self.full_clip_path:
            return replace(found, actions=found.actions | {Action.RUN_FULL})
        return found

    def input_files(self) -> tuple[str | None, str | None]:
        """The run's own copies when they were made, else the files it was started from."""
        return self.image_path or self.source_image, self.video_path or self.source_video

    def given_clip(self) -> str | None:
        """The clip as the user gave it: a preview's whole clip (what Run again cuts again, and what
        goes back in the page), else the run's own."""
        if self.is_preview and self.full_clip_path and Path(self.full_clip_path).exists():
            return self.full_clip_path
        return self.input_files()[1]

    @property
    def model_title(self) -> str:
        """The model fal ran, named with its family ("Wan Move"; a preview's is its family's cheapest,
        not the one chosen); its stored name when this release no longer offers it."""
        try:
            return self.options.runs_on.full_title
        except ValueError:
            return self.options.model

    @property
    def is_preview(self) -> bool:
        return self.options.preview

    @property
    def face(self) -> Face:
        """The face's files (the run's copies once made), for Run again and the page to restore."""
        return Face(self.face_frontal, tuple(self.face_angles))


@dataclass(frozen=True)
class RunEvent:
    at: float
    state: str
    detail: str
