"""Batches: one reference clip with several character images, or one image with several clips, asked
for as one: one verdict for every input, one estimate and one spending check for the whole batch, its
runs started together (a few at a time on their way to fal, see `jobs/turns.py`), cancelled together,
and one grid of every result at the end.

Each run of a batch is a run like any other (the runner's `start`, the pipeline, the lifecycle, the
gallery): a batch adds only what holds for its runs together. Their rows are reserved in one
transaction (`History.create_many`), so a batch that does not fit the daily budget or a visitor's
limits is refused whole, before anything is uploaded.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import SecretStr

from .catalog import Face, check_face, tier
from .errors import (
    BatchError,
    BudgetError,
    InputError,
    OwnKeyRequiredError,
    StoppedBeforeSubmitError,
    StudioError,
)
from .history import History, Run
from .inputs import FaceGiven, InputReader, Reading
from .jobs import Job, JobRunner, JobSpec
from .jobs.job import BatchSlot
from .jobs.turns import Waiting
from .lifecycle import IN_FLIGHT, Status
from .media import comparison_grid
from .people_check import TURNED_OFF, PeopleCheck, check_inputs
from .run_request import RunRequest, check_choices
from .serving import download_name, servable_as
from .settings import Settings
from .summary import BatchCheckSummary, BatchSummary, batch_check_summary, batch_summary

MAX_INPUTS = 8  # character images (or clips) in one batch, the first one included
BATCH_ID = re.compile(r"\d{8}-\d{6}-[0-9a-f]{32}")

KeyFor = Callable[[str | None], tuple[SecretStr, str]]


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


@dataclass(frozen=True)
class BatchReading:
    """What a batch's inputs amount to. `readings` are each run's inputs as read (local files), in
    the batch's order; `problems` every sentence that keeps the batch from starting, each naming the
    input it is about (one shared by all runs is said once)."""

    varies: str
    names: tuple[str, ...]
    readings: tuple[Reading, ...] = ()
    urls: tuple[tuple[str | None, str | None], ...] = ()  # the URL each run's image and clip came from
    problems: tuple[str, ...] = ()
    face: Face = field(default_factory=Face)  # the face's images as local files, for every run

    @property
    def size(self) -> int:
        return len(self.names)

    @property
    def ready(self) -> bool:
        return bool(self.readings) and not self.problems and all(r.ready for r in self.readings)

    @property
    def cost(self) -> float | None:
        """The whole batch's estimate, once every run's clip is known."""
        costs = [r.cost for r in self.readings]
        if not costs or any(c is None for c in costs):
            return None
        return round(sum(c for c in costs if c is not None), 4)

    @property
    def verdict(self) -> str:
        """Ready, or the first thing to fix, in one sentence."""
        if self.problems:
            return self.problems[0]
        missing = [
            name
            for name, given in (
                ("a character image", all(r.image for r in self.readings)),
                ("a reference clip", all(r.video for r in self.readings)),
            )
            if not given
        ]
        if missing or not self.readings:
            return f"Add {' and '.join(missing) or 'a character image and a reference clip'}."
        kind = "character image" if self.varies == "image" else "clip"
        return f"Ready: a batch of {self.size} runs, one per {kind}, can be generated as it is."

    def with_problem(self, problem: str) -> BatchReading:
        return self if problem in self.problems else replace(self, problems=(*self.problems, problem))


@dataclass(frozen=True)
class Batch:
    """A batch that started: its id, and each run's id and job, in the batch's order."""

    id: str
    run_ids: tuple[str, ...]
    jobs: tuple[Job, ...]


@dataclass(frozen=True)
class BatchProgress:
    """Where a batch's runs are, read from their rows; `waiting`: runs still waiting for their turn."""

    batch_id: str
    runs: tuple[Run, ...]
    waiting: frozenset[str] = frozenset()

    @property
    def size(self) -> int:
        return max((r.batch_size or 0 for r in self.runs), default=len(self.runs))

    @property
    def done(self) -> int:
        return sum(r.status == Status.DONE for r in self.runs)

    @property
    def settled(self) -> bool:
        """No run is being worked on any more (each done, failed, cancelled, or waiting for Resume)."""
        return all(Status(r.status) not in IN_FLIGHT for r in self.runs)

    @property
    def sent(self) -> bool:
        """Every run has reached fal or ended: the page may take a new Generate."""
        return all(r.request_id or Status(r.status) not in IN_FLIGHT for r in self.runs)

    @property
    def started_at(self) -> float:
        return min((r.created_at for r in self.runs), default=time.time())


class Batches:
    """Reads, starts, follows, cancels and shows batches; one per app (and one per command line)."""

    def __init__(
        self,
        settings: Settings,
        history: History,
        runner: JobRunner,
        reader: InputReader,
        *,
        key_for: KeyFor,
        visitor: Callable[[object], str | None] = lambda owner: owner if isinstance(owner, str) else None,
    ) -> None:
        """`key_for`: which key pays for a session key (see `Studio.key_for`); `visitor`: a browser
        id as the page may claim it (see `Studio.visitor`)."""
        self.settings = settings
        self.history = history
        self.runner = runner
        self.reader = reader
        self.key_for = key_for
        self.visitor = visitor
        self._grid_lock = threading.Lock()  # two pages finishing the same batch make its grid once

    # -- the verdict --------------------------------------------------------------------------------

    def read(self, request: BatchRequest, session_key: str | None = None) -> BatchReading:
        """Every input read once (a URL fetched once, however many runs use it), then each run's
        inputs as a run would read them, with the caps of whoever pays (a pasted key lifts the
        server's), and the daily budget for the batch as a whole."""
        names = tuple(request.names())
        shape = request.shape_problem()
        if shape is not None:  # nothing is read (or fetched) for a batch that can't be made
            return BatchReading(request.varies, names, problems=(shape,))
        base = request.base
        tier_name = base.tier or self.settings.default_tier
        pasted = bool(session_key and session_key.strip())
        local, problems = self._local_files(request)
        face, face_problem = self._pick_face(base, tier_name)
        problems += [face_problem] if face_problem else []
        readings = tuple(
            self.reader.read(
                local[image],
                None,
                local[clip],
                None,
                base.orientation,
                base.prompt,
                tier_name,
                on_server_key=not pasted,
                face=face,
            )
            for image, clip in request.inputs()
        )
        problems += _run_problems(names, readings, request.varies)
        reading = BatchReading(
            request.varies,
            names,
            readings,
            urls=tuple((_url(image), _url(clip)) for image, clip in request.inputs()),
            problems=tuple(dict.fromkeys(problems)),
            face=readings[0].face,
        )
        if not pasted:
            reading = self._within_daily_budget(reading)
            if self.settings.visitors_bring_own_key:
                reading = reading.with_problem(OwnKeyRequiredError().message)
        return reading

    def _local_files(self, request: BatchRequest) -> tuple[dict[Source, str | None], list[str]]:
        """Each input of the batch as a local file, once (the shared clip, or image, is fetched once
        however many runs use it); an input that can't be had is None, and its sentence names it."""
        local: dict[Source, str | None] = {}
        problems: list[str] = []
        for image, clip in request.inputs():
            for source, kind in ((image, "image"), (clip, "video")):
                if source in local:
                    continue
                try:
                    local[source] = self.reader.pick(source.file, source.url, kind) if source else None
                except StudioError as exc:
                    local[source] = None
                    problems.append(_named(source.name, exc.message))
        return local, problems

    def _pick_face(self, base: RunRequest, tier_name: str) -> tuple[FaceGiven, str | None]:
        """The face as local files, fetched once for every run (a face the model or the orientation
        can't take is refused before anything is fetched)."""
        if not base.face:
            return FaceGiven(), None
        try:
            check_face(tier_name, base.orientation, base.face.outline())
            picked = self.reader.pick_face(base.face)
        except StudioError as exc:
            return FaceGiven(), exc.message
        return FaceGiven(picked.frontal, None, picked.angles), None

    def _within_daily_budget(self, reading: BatchReading) -> BatchReading:
        """Said before Generate, as the reservation will refuse it: the batch's estimate past what is
        left of the server's daily budget."""
        budget, cost = self.settings.daily_budget, reading.cost
        if budget is None or cost is None:
            return reading
        spent = self.history.server_spend_since(time.time() - 86400)
        if spent + cost <= budget + 1e-9:
            return reading
        return reading.with_problem(BudgetError.daily(budget, spent, cost, runs=reading.size).message)

    def check_for_api(self, request: BatchRequest) -> BatchCheckSummary:
        """`read` as data for an API caller, on the server's key (which may not be lent: said here)."""
        check_choices(request.base)
        reading = self.read(request)
        try:
            self.key_for(None)
        except StudioError as exc:
            reading = reading.with_problem(exc.message)
        people: list[PeopleCheck | str | None] = [
            (check_inputs(r.image, r.video) if r.image or r.video else None)
            if self.settings.people_check
            else TURNED_OFF
            for r in reading.readings
        ]  # each input is read once: the check keeps its results by content
        return batch_check_summary(reading, request.base.tier or self.settings.default_tier, people)

    # -- starting -----------------------------------------------------------------------------------

    def start(self, request: BatchRequest, session_key: str | None, owner: str | None) -> Batch:
        """A page's batch: the key that pays (a pasted one wins), this browser as its owner."""
        key, source = self.key_for(session_key)
        return self.start_with(request, key, source, self.visitor(owner), session_key=session_key)

    def start_for_api(self, request: BatchRequest, caller: str) -> Batch:
        """An API caller's batch: always the server's key, never a pasted one."""
        check_choices(request.base)
        key, source = self.key_for(None)
        return self.start_with(request, key, source, caller)

    def start_with(
        self,
        request: BatchRequest,
        key: SecretStr,
        key_source: str,
        owner: str | None,
        *,
        session_key: str | None = None,
        reading: BatchReading | None = None,
    ) -> Batch:
        """Read the batch (unless `reading` is given), reserve all its runs in one transaction (the
        spending guards for the batch as a whole, on the server's key), then start each run."""
        base = request.base
        tier_name = base.tier or self.settings.default_tier
        check_face(tier_name, base.orientation or "video", base.face.outline())  # before any fetch
        reading = reading or self.read(request, session_key)
        if not reading.ready:
            raise InputError(reading.verdict)
        batch_id = time.strftime("%Y%m%d-%H%M%S-", time.gmtime()) + uuid.uuid4().hex
        model = tier(tier_name)
        rows = [
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
        guarded = key_source == "server"
        # Inserted last run first: the gallery lists runs of one instant newest row first, so the batch
        # reads 1/N, 2/N… from the left.
        self.history.create_many(
            rows[::-1],
            holder=self.runner.holder,
            daily_budget=self.settings.daily_budget if guarded else None,
            visitor_limits=self.settings.visitor_limits() if guarded else None,
        )
        jobs: list[Job] = []
        try:
            for row, one, urls in zip(rows, reading.readings, reading.urls, strict=True):
                jobs.append(
                    self._start_one(row, one, urls, base, model.name, owner, reading.face, key, key_source)
                )
        except BaseException:
            # A start that failed half way (the app shutting down, Ctrl-C): the rows reserved for runs
            # that never started rest as stopped before submit, their reservations released.
            for row in rows[len(jobs) :]:
                with contextlib.suppress(Exception):  # never hide what got us here
                    self.history.end(row.id, Status.STOPPED, StoppedBeforeSubmitError())
            raise
        return Batch(batch_id, tuple(row.id for row in rows), tuple(jobs))

    def _start_one(
        self,
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
        return self.runner.start(spec, key, key_source)

    # -- following, cancelling, showing --------------------------------------------------------------

    def runs(self, batch_id: str | None, owner: str | None) -> list[Run]:
        """The batch's runs this browser may see (with private galleries, only its own)."""
        if not batch_id or not BATCH_ID.fullmatch(batch_id):
            return []
        runs = self.history.batch(batch_id)
        if self.settings.galleries_are_private:
            runs = [run for run in runs if run.owner == self.visitor(owner)]
        return runs

    def progress(self, batch_id: str | None, owner: str | None) -> BatchProgress | None:
        runs = self.runs(batch_id, owner)
        if not runs or batch_id is None:
            return None
        waiting = frozenset(
            run.id
            for run in runs
            if (job := self.runner.job_for_run(run.id)) is not None and isinstance(job.last, Waiting)
        )
        return BatchProgress(batch_id, tuple(runs), waiting)

    def cancel_all(self, batch_id: str | None, owner: str | None) -> int:
        """Cancel every run of the batch this browser started that is still going (on fal too, for
        those fal has); how many were asked to stop."""
        visitor = self.visitor(owner)
        asked = 0
        for run in self.runs(batch_id, owner):
            job = self.runner.job_for_run(run.id)
            if job is not None and not job.finished and run.owner == visitor:
                self.runner.cancel(job.id)
                asked += 1
        return asked

    def cancel(self, batch: Batch) -> None:
        """Cancel a batch this process started (the command line's Ctrl-C, an API call that ends)."""
        for job in batch.jobs:
            self.runner.cancel(job.id)

    def grid_file(self, batch_id: str) -> Path | None:
        """Every result of the batch side by side in one video, made once (kept in the batch's folder
        in the data directory) when no run is going any more and at least two are done."""
        if not BATCH_ID.fullmatch(batch_id):
            return None
        runs = self.history.batch(batch_id)
        if not runs or any(Status(run.status) in IN_FLIGHT for run in runs):
            return None
        outputs = [
            Path(run.output_path)
            for run in runs
            if run.status == Status.DONE and run.output_path and Path(run.output_path).is_file()
        ]
        if len(outputs) < 2:
            return None
        with self._grid_lock:
            return comparison_grid(outputs, self._grid_path(batch_id))

    def _grid_path(self, batch_id: str) -> Path:
        return self.settings.data_dir / "batches" / batch_id / "grid.mp4"

    def made_grid(self, batch_id: str | None) -> str | None:
        """The batch's grid as the page may show it, if it was made already (nothing is made here)."""
        if not batch_id or not BATCH_ID.fullmatch(batch_id):
            return None
        return servable_as(self._grid_path(batch_id), grid_download_name(batch_id))

    def grid(self, batch_id: str | None, owner: str | None) -> Path | None:
        """The grid of a batch this browser may see; None while it is going or with under two results."""
        runs = self.runs(batch_id, owner)
        return self.grid_file(runs[0].batch_id or "") if runs else None

    def summary(self, batch_id: str) -> BatchSummary:
        runs = self.history.batch(batch_id)
        return batch_summary(batch_id, [(run, self.history.events(run.id)) for run in runs])

    def result_for_api(self, batch_id: str) -> tuple[str, BatchSummary]:
        """What the API answers for an ended batch: its grid (its one result when only one run is
        done) as a file the server may hand out, and its summary. Makes the grid: call it off the
        event loop."""
        summary = self.summary(batch_id)
        try:
            grid = self.grid_file(batch_id)
        except StudioError:
            grid = None  # every result is still there, each in its run's summary
        if grid is not None:
            shown = servable_as(grid, grid_download_name(batch_id))
        else:
            done = [run for run in self.history.batch(batch_id) if run.status == Status.DONE]
            shown = servable_as(done[0].output_path, download_name(done[0])) if done else None
        if shown is None:
            errors = [run.error for run in summary.runs if run.error]
            raise BatchError.none_finished(errors[0] if errors else None)
        return shown, summary


def grid_download_name(batch_id: str) -> str:
    """`motion-<date>-<batch>-grid.mp4`, as a run's downloads are named (the id's random tail)."""
    day = datetime.strptime(batch_id[:8], "%Y%m%d").strftime("%Y-%m-%d")
    return f"motion-{day}-{batch_id.rsplit('-', 1)[-1][:8]}-grid.mp4"


def _run_problems(names: tuple[str, ...], readings: tuple[Reading, ...], varies: str) -> list[str]:
    """Each run's problems: its own input's (and any other not shared by every run) named after that
    input; one every run has, once."""
    problems: list[str] = []
    for name, reading in zip(names, readings, strict=True):
        own = reading.image_problem if varies == "image" else reading.video_problem
        for problem in reading.problems:
            shared = problem != own and all(problem in other.problems for other in readings)
            problems.append(problem if shared else _named(name, problem))
    return problems


def _named(name: str, problem: str) -> str:
    """`problem`, saying which input it is about (unless it does already)."""
    return problem if not name or problem.startswith(name) else f"{name}: {problem}"


def _url(source: Source) -> str | None:
    """The URL an input came from, when no file was given for it (fal may fetch it there itself)."""
    return None if source.file or not (source.url and source.url.strip()) else source.url.strip()
