"""A run: start it, follow its progress (one stream per page), show how it finished, cancel it; and
the stream tokens the batch's events share."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import anyio.to_thread
import gradio as gr

from ... import presenter
from ...errors import StudioError
from ...history.runs import Run
from ...jobs import Done, Downloaded, Job, watch
from ...studio import RunRequest
from .base import Changes, HandlerBase
from .inputs import page_face


class RunHandlers(HandlerBase):
    """A run's events, from Generate to its end."""

    # -- a run ------------------------------------------------------------------------------------

    def start(
        self,
        image: str | None,
        image_url: str,
        video: str | None,
        video_url: str,
        orientation: str,
        prompt: str,
        sound: bool,
        tier: str,
        key: str,
        owner: str | None,
        face: str | None = None,
        angle1: str | None = None,
        angle2: str | None = None,
        angle3: str | None = None,
        batch_kind: str = "image",
        batch_files: list[str] | None = None,
    ) -> Changes:
        request = RunRequest(image, video, orientation, prompt, sound, tier, image_url, video_url)
        request = request.with_face(page_face(tier, face, angle1, angle2, angle3))
        if (batch := self.batch.request(request, batch_kind, batch_files)) is not None:
            return self.batch.start(batch, key, owner)
        run = self.page.run
        try:
            job = self.studio.start(request, key, owner)
        except StudioError as exc:  # said in the verdict, where a progress stream can't overwrite it
            return {run.verdict: presenter.error_text(exc)}
        return {
            self.page.memory.job_id: job.id,
            self.page.memory.batch_id: None,  # a batch's stream (which follows this one) has nothing to do
            run.progress: "⏳ Starting…",
            self.page.inputs.generate: gr.update(interactive=False),
            run.cancel: gr.update(visible=True),
            run.cancel_all: gr.update(visible=False),
            self.page.gallery.timer: gr.Timer(active=True),
        }

    def attach(self, owner: str | None) -> Changes:
        """On load, a reload or in a second tab: this browser's running run, with progress and Cancel
        (a run of a batch: the batch's progress, with Cancel all)."""
        job = self.studio.live_job(owner)
        batch_id = job.spec.slot.batch_id if job is not None and job.spec.slot is not None else None
        return {
            self.page.memory.job_id: job.id if job and not batch_id else None,
            self.page.memory.batch_id: batch_id,
        }

    async def follow(
        self, job_id: str | None, owner: str | None, limit: int | None, request: gr.Request
    ) -> AsyncIterator[Changes]:
        """Stream a run this page did not just start (re-attached on load, selected in the gallery)."""
        async for changes in self._stream(job_id, owner, limit, request, release=False):
            yield changes

    async def follow_started(
        self, job_id: str | None, owner: str | None, limit: int | None, request: gr.Request
    ) -> AsyncIterator[Changes]:
        """Stream a run this page just started: Generate, held off since the click, comes back once
        fal has the request (no double-paid double click), so another run may be started meanwhile."""
        async for changes in self._stream(job_id, owner, limit, request, release=True):
            yield changes

    async def _stream(
        self, job_id: str | None, owner: str | None, limit: int | None, request: gr.Request, *, release: bool
    ) -> AsyncIterator[Changes]:
        """Stream one job's progress into the page. The job lives in the runner, not here, so a closed
        tab does not stop it. A page has one stream: a newer one (another run selected) ends this one."""
        job = self.studio.runner.get(job_id) if job_id else None
        session = request.session_hash or uuid.uuid4().hex
        if job is None:  # nothing to follow: a stream this page had stops
            with self._lock:
                self._streams.pop(session, None)
            yield {self.page.run.progress: gr.skip()}  # (a generator that yields nothing blanks outputs)
            return
        token = (object(), job.id)
        with self._lock:
            current = self._streams.get(session)
            # Already streamed here (a re-attach racing the click): keep that one, unless this one must
            # bring Generate back.
            duplicate = current is not None and current[1] == job.id and not release
            if not duplicate:
                self._streams[session] = token
        if duplicate:
            yield {self.page.run.progress: gr.skip()}
            return
        held = release
        shown_in_gallery = False
        try:
            async for event in watch(job):
                if self._streams.get(session) is not token:  # another stream took over this page
                    if held:
                        yield {self.page.inputs.generate: gr.update(interactive=True)}
                    return
                changes = self._progress(job)
                if held and (job.request_id is not None or (event is not None and event.terminal)):
                    held = False
                    changes[self.page.inputs.generate] = gr.update(interactive=True)
                elif held:  # a check meanwhile (a blur, another model) must not bring it back early
                    changes[self.page.inputs.generate] = gr.update(interactive=False)
                if isinstance(event, Downloaded) and (run := self.studio.history.get(event.run_id or "")):
                    # It plays now. Done sends it again with the gallery's thumbnail: Gradio may merge two
                    # quick updates of one stream, and the last one must hold the result.
                    changes.update(await anyio.to_thread.run_sync(self._result, run))  # may link or preview
                if event is not None and event.terminal:
                    changes.update(await anyio.to_thread.run_sync(self._finished, job, event, owner, limit))
                    if release:  # the last word: Gradio may merge quick yields, losing the first enable
                        changes[self.page.inputs.generate] = gr.update(interactive=True)
                elif release and not shown_in_gallery and job.run_id:  # the new run's tile, at once
                    shown_in_gallery = True
                    changes.update(self._gallery(owner, limit))
                yield changes
        finally:
            with self._lock:
                if self._streams.get(session) is token:
                    del self._streams[session]

    def _progress(self, job: Job) -> Changes:
        run = self.page.run
        return {
            run.progress: presenter.progress_text(job),
            run.logs: presenter.log_text(job),
            run.cancel: gr.update(visible=not job.finished),
        }

    def _finished(self, job: Job, event: Any, owner: str | None, limit: int | None) -> Changes:
        """The end of a stream: the gallery, and the result (for a run that ended done)."""
        changes: Changes = {self.page.run.cancel: gr.update(visible=False), **self._gallery(owner, limit)}
        run = self.studio.history.get(job.run_id) if job.run_id else None
        if run is not None and isinstance(event, Done):
            changes.update(self._result(run))
            changes[self.page.memory.selected_run] = run.id
        return changes

    def cancel(self, job_id: str | None) -> Changes:
        if not job_id:
            return {self.page.run.progress: "Nothing to cancel: no run of yours is going in this page."}
        self.studio.runner.cancel(job_id)
        return {self.page.run.progress: "⏹ Cancelling on fal…"}

    # -- for the batch's events (ui/batch.py): one stream per page, the same result and gallery -----

    def take_stream(self, session: str, key: str) -> object:
        """This page's progress stream is now the one for `key`: a stream it had ends at its next tick."""
        token = (object(), key)
        with self._lock:
            self._streams[session] = token
        return token

    def holds_stream(self, session: str, token: object) -> bool:
        return self._streams.get(session) is token

    def drop_stream(self, session: str, token: object) -> None:
        with self._lock:
            if self._streams.get(session) is token:
                del self._streams[session]

    def result_changes(self, run: Run) -> Changes:
        return self._result(run)

    def gallery_changes(self, owner: str | None, limit: int | None) -> Changes:
        return self._gallery(owner, limit)
