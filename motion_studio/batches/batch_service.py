"""The batches an app (or the command line) has: the one place pages, the API and the command line
go to read, start, follow, cancel and show them, with the key that pays and the browser that asks."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from pydantic import SecretStr

from ..errors import BatchError, InputError, StoppedBeforeSubmitError, StudioError
from ..history.runs import Run
from ..history.store import History
from ..input_reading import InputReader
from ..jobs.job import Job
from ..jobs.runner import JobRunner
from ..jobs.turns import Waiting
from ..lifecycle import Status
from ..order import FaceSources, Order
from ..people_check import TURNED_OFF, PeopleCheck, check_inputs
from ..serving import download_name, servable_as
from ..settings import Settings
from ..summary import BatchCheckSummary, BatchSummary, batch_check_summary, batch_summary
from ..verdicts import batch_verdict
from .batch_grids import BatchGrids, grid_download_name
from .batch_starts import batch_rows, start_one
from .progress import BATCH_ID, Batch, BatchProgress
from .reading import BatchReader, BatchReading

KeyFor = Callable[[str | None, str | None], tuple[SecretStr, str]]


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
        self.batch_reader = BatchReader(settings, history, reader)
        self.grids = BatchGrids(settings, history)

    # -- the verdict --------------------------------------------------------------------------------

    def read(self, order: Order, session_key: str | None = None) -> BatchReading:
        """The batch's verdict before Generate, with the caps of whoever pays (see `BatchReader.read`)."""
        return self.batch_reader.read(order, session_key)

    def check_for_api(self, order: Order) -> BatchCheckSummary:
        """`read` as data for an API caller, on the server's key (which may not be lent: said here)."""
        reading = self.read(order)
        try:
            self.key_for(None, "api:")  # any API caller (see `Keys.api_caller`)
        except StudioError as exc:
            reading = reading.with_problem(exc.message)
        people: list[PeopleCheck | str | None] = [
            (check_inputs(r.image, r.video) if r.image or r.video else None)
            if self.settings.people_check
            else TURNED_OFF
            for r in reading.readings
        ]  # each input is read once: the check keeps its results by content
        return batch_check_summary(reading, order, people)

    # -- starting -----------------------------------------------------------------------------------

    def start(
        self,
        order: Order,
        session_key: str | None,
        owner: str | None,
        *,
        reading: BatchReading | None = None,
    ) -> Batch:
        """A page's batch (or the command line's): the key that pays (a pasted one wins), this
        browser as its owner; `reading`: the batch read already (not read twice)."""
        visitor = self.visitor(owner)
        key, source = self.key_for(session_key, visitor)
        return self.start_with(order, key, source, visitor, session_key=session_key, reading=reading)

    def start_for_api(self, order: Order, caller: str) -> Batch:
        """An API caller's batch: always the server's key, never a pasted one."""
        key, source = self.key_for(None, caller)
        return self.start_with(order, key, source, caller)

    def start_with(
        self,
        order: Order,
        key: SecretStr,
        key_source: str,
        owner: str | None,
        *,
        session_key: str | None = None,
        reading: BatchReading | None = None,
    ) -> Batch:
        """Read the batch (unless `reading` is given), reserve all its runs in one transaction (the
        spending guards for the batch as a whole, on the server's key), then start each run."""
        reading = reading or self.read(order, session_key)
        if not reading.ready:
            raise InputError(batch_verdict(reading).sentence)
        batch_id = time.strftime("%Y%m%d-%H%M%S-", time.gmtime()) + uuid.uuid4().hex
        rows = batch_rows(reading, order.each, key_source, owner, batch_id)
        face = FaceSources.of_files(reading.face)
        guarded = key_source == "server"
        # Inserted last run first: the gallery lists runs of one instant newest row first, so the batch
        # reads 1/N, 2/N… from the left.
        self.history.writes.create_many(
            rows[::-1],
            holder=self.runner.holder,
            daily_budget=self.settings.daily_budget if guarded else None,
            visitor_limits=self.settings.visitor_limits() if guarded else None,
        )
        jobs: list[Job] = []
        try:
            for row, one, urls, options in zip(rows, reading.readings, reading.urls, order.each, strict=True):
                jobs.append(start_one(self.runner, row, one, urls, options, owner, face, key, key_source))
        except BaseException:
            # A start that failed half way (the app shutting down, Ctrl-C): the rows reserved for runs
            # that never started rest as stopped before submit, their reservations released.
            for row in rows[len(jobs) :]:
                with contextlib.suppress(Exception):  # never hide what got us here
                    self.history.writes.end(row.id, Status.STOPPED, StoppedBeforeSubmitError())
            raise
        return Batch(batch_id, tuple(row.id for row in rows), tuple(jobs))

    # -- following, cancelling, showing --------------------------------------------------------------

    def runs(self, batch_id: str | None, owner: str | None) -> list[Run]:
        """The batch's runs this browser may see (with private galleries, only its own)."""
        if not batch_id or not BATCH_ID.fullmatch(batch_id):
            return []
        runs = self.history.reads.batch(batch_id)
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
        """Every result of the batch side by side in one video, made once (see `BatchGrids.file`)."""
        return self.grids.file(batch_id)

    def made_grid(self, batch_id: str | None) -> str | None:
        """The batch's grid as the page may show it, if it was made already (nothing is made here)."""
        return self.grids.made(batch_id)

    def grid(self, batch_id: str | None, owner: str | None) -> Path | None:
        """The grid of a batch this browser may see; None while it is going or with under two results."""
        runs = self.runs(batch_id, owner)
        return self.grid_file(runs[0].batch_id or "") if runs else None

    def summary(self, batch_id: str) -> BatchSummary:
        runs = self.history.reads.batch(batch_id)
        return batch_summary(batch_id, [(run, self.history.reads.events(run.id)) for run in runs])

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
            done = [run for run in self.history.reads.batch(batch_id) if run.status == Status.DONE]
            shown = servable_as(done[0].output_path, download_name(done[0])) if done else None
        if shown is None:
            errors = [run.error for run in summary.runs if run.error]
            raise BatchError.none_finished(errors[0] if errors else None)
        return shown, summary
