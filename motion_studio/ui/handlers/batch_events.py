"""A batch's events: its live verdict, its start, its progress stream, its grid, Cancel all.

Every rule is the batches service's (`motion_studio/batches/`), every sentence `batch_text.py`'s; these
handlers pick the components each answer goes to. A batch's runs are drawn in the result area and the
gallery as any run is (`result_views`), and its progress takes the page's one stream (`streams`).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import anyio.to_thread
import gradio as gr

from ... import batch_text, notices, presenter
from ...batches.batch_grids import grid_download_name
from ...batches.progress import BatchProgress
from ...errors import StudioError
from ...order import Order
from ...serving import servable_as
from ...studio.service import Studio
from ..layout.parts import Page
from .changes import Changes, Values
from .result_views import PageViews
from .streams import Streams

POLL_SECONDS = 1.0


class BatchHandlers:
    """The batch's events."""

    def __init__(self, studio: Studio, page: Page, views: PageViews, streams: Streams) -> None:
        self.studio = studio
        self.page = page
        self.views = views
        self.streams = streams

    def check(self, order: Order, key: str) -> Changes:
        """The live verdict for a batch: every input's problem by name, the whole batch's estimate on
        Generate. Nothing is uploaded ahead for a batch (its reservation comes first)."""
        reading = self.studio.batches.read(order, key)
        shown = batch_text.batch_check(reading, order)
        first = reading.readings[0] if reading.readings else None
        p, r = self.page.inputs, self.page.run
        offer = notices.trim_offer(shown.trim_to)
        return {
            p.image_info: shown.image_text,
            p.video_info: shown.video_text,
            r.verdict: shown.verdict,
            r.cost: shown.cost_text,
            p.generate: gr.update(interactive=shown.ready, value=batch_text.generate_label(reading)),
            p.preview: gr.update(
                interactive=shown.ready,
                value=batch_text.preview_label(order, first.seconds if first else None),
            ),
            p.trim: gr.update(visible=bool(offer), value=offer),
            self.page.memory.checked: (first.image, first.video) if first else (None, None),
            p.face_info: presenter.face_text(first) if first else "",
        }

    def start(self, order: Order, key: str, owner: str | None) -> Changes:
        """Reserve and start every run of the batch; its progress stream follows (`follow`)."""
        r, m = self.page.run, self.page.memory
        try:
            batch = self.studio.batches.start(order, key, owner)
        except StudioError as exc:  # said in the verdict, where a progress stream can't overwrite it
            return {r.verdict: presenter.error_text(exc), m.batch_id: None}
        return {
            m.job_id: None,
            m.batch_id: batch.id,
            r.progress: notices.starting_batch(len(batch.jobs)),
            **self.page.inputs.starters(False),
            r.cancel: gr.update(visible=False),
            r.cancel_all: gr.update(visible=True),
            self.page.gallery.timer: gr.Timer(active=True),
        }

    async def follow_started(self, values: Values, request: gr.Request) -> AsyncIterator[Changes]:
        """Follow a batch this page just started: Generate, held off since the click, comes back once
        fal has every run of it (no double-paid double click)."""
        async for changes in self._stream(values, request, release=True):
            yield changes

    async def follow(self, values: Values, request: gr.Request) -> AsyncIterator[Changes]:
        """Follow a batch this page did not just start (re-attached after a reload, in a second tab)."""
        async for changes in self._stream(values, request, release=False):
            yield changes

    async def _stream(self, values: Values, request: gr.Request, *, release: bool) -> AsyncIterator[Changes]:
        """The batch's progress (n of N done, a line per run) until every run has ended, then its grid,
        the first result and the gallery. A newer stream of this page (another run selected) ends it."""
        r, p, m = self.page.run, self.page.inputs, self.page.memory
        owner, limit = values[m.owner], values[m.gallery_limit]
        progress = await self._progress(values[m.batch_id], owner)
        if progress is None:
            yield {r.progress: gr.skip()}  # (a generator that yields nothing blanks its outputs)
            return
        session = request.session_hash or uuid.uuid4().hex
        token = self.streams.take(session, f"batch:{progress.batch_id}")
        held = release
        try:
            while True:
                if not self.streams.holds(session, token):  # another run is followed here now
                    yield self._left(held)
                    return
                changes: Changes = {
                    r.progress: batch_text.progress_text(progress),
                    r.cancel: gr.update(visible=False),
                    r.cancel_all: gr.update(visible=not progress.settled),
                }
                if held:  # a check meanwhile (a blur, another model) must not bring it back early
                    held = not progress.sent
                    changes.update(p.starters(not held))
                if progress.settled:
                    changes.update(await anyio.to_thread.run_sync(self._ended, progress, owner, limit))
                    yield changes
                    return
                yield changes
                await asyncio.sleep(POLL_SECONDS)
                progress = await self._progress(progress.batch_id, owner)
                if progress is None:  # deleted meanwhile
                    yield self._left(held)
                    return
        finally:
            self.streams.drop(session, token)

    def _left(self, held: bool) -> Changes:
        """The stream stops before the batch ended: Cancel all goes, and Generate comes back if held."""
        gone: Changes = {self.page.run.cancel_all: gr.update(visible=False)}
        return {**gone, **self.page.inputs.starters(True)} if held else gone

    async def _progress(self, batch_id: str | None, owner: str | None) -> BatchProgress | None:
        return await anyio.to_thread.run_sync(self.studio.batches.progress, batch_id, owner)

    def _ended(self, progress: BatchProgress, owner: str | None, limit: int | None) -> Changes:
        """Every run ended: the gallery, the first result in the result area, the grid made and shown."""
        changes = self.views.gallery(owner, limit)
        done = [run for run in progress.runs if run.status == "done"]
        if not done:
            return changes
        changes.update(self.views.result(done[0]))
        changes[self.page.memory.selected_run] = done[0].id
        grid = self._grid(progress.batch_id, owner)
        changes.update(grid)
        if grid.get(self.page.run.grid.video):
            changes[self.page.run.tabs] = gr.Tabs(selected="grid")
        return changes

    def _grid(self, batch_id: str | None, owner: str | None) -> Changes:
        """The grid of the batch (made once, on the first call after its runs ended)."""
        g = self.page.run.grid
        try:
            made = self.studio.batches.grid(batch_id, owner)
        except StudioError as exc:
            return {g.video: None, g.note: presenter.error_text(exc)}
        done = sum(run.status == "done" for run in self.studio.batches.runs(batch_id, owner))
        shown = servable_as(made, grid_download_name(batch_id or "")) if made and batch_id else None
        return {g.video: shown, g.note: batch_text.grid_note(shown is not None, done)}

    def show_grid(self, values: Values) -> Changes:
        """The Grid tab opened for the selected run's batch: made now if its runs have all ended."""
        m = self.page.memory
        run = self.studio.gallery.run_for(values[m.selected_run], values[m.owner])
        return self._grid(run.batch_id if run else None, values[m.owner])

    def cancel_all(self, values: Values) -> Changes:
        m = self.page.memory
        asked = self.studio.batches.cancel_all(values[m.batch_id], values[m.owner])
        return {self.page.run.progress: batch_text.cancelling(asked)}
