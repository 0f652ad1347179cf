"""A run: start it, follow its progress (one stream per page), show how it finished, cancel it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import anyio.to_thread
import gradio as gr

from ... import notices, presenter
from ...errors import StudioError
from ...jobs.events import Done, Downloaded
from ...jobs.job import Job
from ...jobs.watching import watch
from ...studio.service import Studio
from ..layout.parts import Page
from .batch_events import BatchHandlers
from .changes import Changes, Values
from .page_order import page_order
from .result_views import PageViews
from .streams import Streams


class RunHandlers:
    """A run's events, from Generate to its end."""

    def __init__(
        self, studio: Studio, page: Page, views: PageViews, streams: Streams, batch: BatchHandlers
    ) -> None:
        self.studio = studio
        self.page = page
        self.views = views
        self.streams = streams
        self.batch = batch  # the batch panel holds files: Generate starts a batch

    def start(self, values: Values) -> Changes:
        """Generate: the run (or the batch) as the page's inputs ask."""
        return self._start(values, preview=False)

    def start_preview(self, values: Values) -> Changes:
        """Preview: the same order, on the clip's first seconds and the family's cheapest model."""
        return self._start(values, preview=True)

    def _start(self, values: Values, *, preview: bool) -> Changes:
        key, owner = values[self.page.header.key_box], values[self.page.memory.owner]
        run = self.page.run
        try:
            order = page_order(self.page.inputs, values, self.studio.settings.default_tier, preview=preview)
            if order.is_batch:
                return self.batch.start(order, key, owner)
            job = self.studio.orders.start(order, key, owner)
        except StudioError as exc:  # said in the verdict, where a progress stream can't overwrite it
            return {run.verdict: presenter.error_text(exc)}
        return {
            self.page.memory.job_id: job.id,
            self.page.memory.batch_id: None,  # a batch's stream (which follows this one) has nothing to do
            run.progress: notices.STARTING,
            **self.page.inputs.starters(False),
            run.cancel: gr.update(visible=True),
            run.cancel_all: gr.update(visible=False),
            self.page.gallery.timer: gr.Timer(active=True),
        }

    def attach(self, owner: str | None) -> Changes:
        """On load, a reload or in a second tab: this browser's running run, with progress and Cancel
        (a run of a batch: the batch's progress, with Cancel all)."""
        job = self.studio.gallery.live_job(owner)
        batch_id = job.slot.batch_id if job is not None and job.slot is not None else None
        return {
            self.page.memory.job_id: job.id if job and not batch_id else None,
            self.page.memory.batch_id: batch_id,
        }

    async def follow(self, values: Values, request: gr.Request) -> AsyncIterator[Changes]:
        """Stream a run this page did not just start (re-attached on load, selected in the gallery)."""
        async for changes in self._stream(values, request, release=False):
            yield changes

    async def follow_started(self, values: Values, request: gr.Request) -> AsyncIterator[Changes]:
        """Stream a run this page just started: Generate, held off since the click, comes back once
        fal has the request (no double-paid double click), so another run may be started meanwhile."""
        async for changes in self._stream(values, request, release=True):
            yield changes

    async def _stream(self, values: Values, request: gr.Request, *, release: bool) -> AsyncIterator[Changes]:
        """Stream one job's progress into the page. The job lives in the runner, not here, so a closed
        tab does not stop it. A page has one stream: a newer one (another run selected) ends this one."""
        m, p = self.page.memory, self.page.inputs
        owner, limit, job_id = values[m.owner], values[m.gallery_limit], values[m.job_id]
        job = self.studio.runner.get(job_id) if job_id else None
        session = request.session_hash or uuid.uuid4().hex
        if job is None:  # nothing to follow: a stream this page had stops
            self.streams.drop(session)
            yield {self.page.run.progress: gr.skip()}  # (a generator that yields nothing blanks outputs)
            return
        # Already streamed here (a re-attach racing the click): keep that one, unless this one must
        # bring Generate back.
        token = self.streams.take(session, job.id, unless_following=not release)
        if token is None:
            yield {self.page.run.progress: gr.skip()}
            return
        held = release
        shown_in_gallery = False
        try:
            async for event in watch(job):
                if not self.streams.holds(session, token):  # another stream took over this page
                    if held:
                        yield p.starters(True)
                    return
                changes = self._progress(job)
                if held and (job.request_id is not None or (event is not None and event.terminal)):
                    held = False
                    changes.update(p.starters(True))
                elif held:  # a check meanwhile (a blur, another model) must not bring it back early
                    changes.update(p.starters(False))
                if isinstance(event, Downloaded) and (
                    run := self.studio.history.reads.get(event.run_id or "")
                ):
                    # It plays now: only the player, so the browser starts on the video at once. Done
                    # sends the whole result area (the same video, its download, the gallery's thumbnail):
                    # Gradio may merge two quick updates of one stream, and the last one must hold the
                    # result. (Off the event loop: it links the file.)
                    changes.update(await anyio.to_thread.run_sync(self.views.playing, run))
                if event is not None and event.terminal:
                    changes.update(await anyio.to_thread.run_sync(self._finished, job, event, owner, limit))
                    if release:  # the last word: Gradio may merge quick yields, losing the first enable
                        changes.update(p.starters(True))
                elif release and not shown_in_gallery and job.run_id:  # the new run's tile, at once
                    shown_in_gallery = True
                    changes.update(self.views.gallery(owner, limit))
                yield changes
        finally:
            self.streams.drop(session, token)

    def _progress(self, job: Job) -> Changes:
        run = self.page.run
        return {
            run.progress: presenter.progress_text(job),
            run.logs: presenter.log_text(job),
            run.cancel: gr.update(visible=not job.finished),
        }

    def _finished(self, job: Job, event: Any, owner: str | None, limit: int | None) -> Changes:
        """The end of a stream: the gallery, and the result (for a run that ended done)."""
        changes: Changes = {
            self.page.run.cancel: gr.update(visible=False),
            **self.views.gallery(owner, limit),
        }
        run = self.studio.history.reads.get(job.run_id) if job.run_id else None
        if run is not None and isinstance(event, Done):
            changes.update(self.views.result(run))
            changes[self.page.memory.selected_run] = run.id
        return changes

    def cancel(self, job_id: str | None) -> Changes:
        if not job_id:
            return {self.page.run.progress: notices.NOTHING_TO_CANCEL}
        self.studio.runner.cancel(job_id)
        return {self.page.run.progress: notices.CANCELLING}
