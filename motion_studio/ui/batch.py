"""The page's batches: the panel that makes one (more character images, or more clips), what its
events do, and the Grid tab where every result of a batch ends side by side.

Kept out of `layout/` and `handlers/` (one module for the batch): their builders call `batch_panel`
and `grid_tab`, and `Handlers` hands the batch's events here. Every rule is the batches service's
(`motion_studio/batches/`), every sentence `batch_text.py`'s; this module lays out and picks the
components each answer goes to.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio.to_thread
import gradio as gr

from .. import batch_text, presenter
from ..batches import BatchProgress, BatchRequest, Source, grid_download_name
from ..errors import StudioError
from ..history.runs import Run
from ..serving import servable_as
from ..studio import RunRequest, Studio

if TYPE_CHECKING:
    from .handlers import Handlers
    from .layout import Page

Changes = dict[Any, Any]
POLL_SECONDS = 1.0


@dataclass(frozen=True)
class BatchPanel:
    """The "Batch: several characters or clips" panel: which input varies, and the extra files."""

    box: gr.Accordion
    kind: gr.Radio
    files: gr.File


@dataclass(frozen=True)
class GridView:
    """The result area's Grid tab: shown for a run of a batch, with every result side by side."""

    tab: gr.Tab
    note: gr.Markdown
    video: gr.Video


def batch_panel() -> BatchPanel:
    """Closed until wanted: a batch is the exception, and a closed accordion costs one line."""
    with gr.Accordion("Batch: several characters or clips", open=False, elem_id="batch-panel") as box:
        gr.Markdown(_page_text("batch.md"), elem_classes="small-note")
        kind = gr.Radio(
            [("More character images", "image"), ("More clips", "video")],
            value="image",
            show_label=False,
            elem_id="batch-kind",
        )
        files = gr.File(
            label="More character images or clips (one run each)",
            file_count="multiple",
            file_types=["image", "video"],
            height=150,
            elem_id="batch-files",
        )
    return BatchPanel(box, kind, files)


def grid_tab() -> GridView:
    """Inside the result's tabs: hidden until a run of a batch is shown."""
    with gr.Tab("Grid", id="grid", visible=False, elem_id="grid-tab") as tab:
        note = gr.Markdown(elem_id="grid-note", elem_classes="small-note")
        video = gr.Video(
            label="Every result of the batch",
            interactive=False,
            buttons=["download"],
            elem_id="grid-video",  # as tall as the grid is: a row of three is a wide, low picture
        )
    return GridView(tab, note, video)


def _page_text(name: str) -> str:
    from .layout import page_text  # layout imports this module to build the panel

    return page_text(name)


class BatchHandlers:
    """The batch's events; `main` is the page's `Handlers` (one progress stream per page, the result
    area and the gallery are drawn the same way for a batch's runs)."""

    def __init__(self, studio: Studio, page: Page, main: Handlers) -> None:
        self.studio = studio
        self.page = page
        self.main = main

    @staticmethod
    def request(base: RunRequest, kind: str, files: list[str] | None) -> BatchRequest | None:
        """The page's inputs as a batch, when the panel holds files (None: a single run)."""
        extra = tuple(Source(file=path) for path in files or [] if path)
        if not extra:
            return None
        return BatchRequest(base, more_videos=extra) if kind == "video" else BatchRequest(base, extra)

    def check(self, request: BatchRequest, key: str) -> Changes:
        """The live verdict for a batch: every input's problem by name, the whole batch's estimate on
        Generate. Nothing is uploaded ahead for a batch (its reservation comes first)."""
        tier = request.base.tier or self.studio.settings.default_tier
        reading = self.studio.batches.read(request, key)
        shown = batch_text.batch_check(reading, tier)
        first = reading.readings[0] if reading.readings else None
        p, r = self.page.inputs, self.page.run
        offer = f"✂ Use only the first {shown.trim_to:g} s" if shown.trim_to else None
        return {
            p.image_info: shown.image_text,
            p.video_info: shown.video_text,
            r.verdict: shown.verdict,
            r.cost: shown.cost_text,
            p.generate: gr.update(interactive=shown.ready, value=batch_text.generate_label(reading)),
            p.trim: gr.update(visible=bool(offer), value=offer),
            self.page.memory.checked: (first.image, first.video) if first else (None, None),
            p.face_info: presenter.face_text(first) if first else "",
        }

    def start(self, request: BatchRequest, key: str, owner: str | None) -> Changes:
        """Reserve and start every run of the batch; its progress stream follows (`follow`)."""
        r, m = self.page.run, self.page.memory
        try:
            batch = self.studio.batches.start(request, key, owner)
        except StudioError as exc:  # said in the verdict, where a progress stream can't overwrite it
            return {r.verdict: presenter.error_text(exc), m.batch_id: None}
        return {
            m.job_id: None,
            m.batch_id: batch.id,
            r.progress: f"⏳ Starting a batch of {len(batch.jobs)} runs…",
            self.page.inputs.generate: gr.update(interactive=False),
            r.cancel: gr.update(visible=False),
            r.cancel_all: gr.update(visible=True),
            self.page.gallery.timer: gr.Timer(active=True),
        }

    async def follow_started(
        self, batch_id: str | None, owner: str | None, limit: int | None, request: gr.Request
    ) -> AsyncIterator[Changes]:
        """Follow a batch this page just started: Generate, held off since the click, comes back once
        fal has every run of it (no double-paid double click)."""
        async for changes in self._stream(batch_id, owner, limit, request, release=True):
            yield changes

    async def follow(
        self, batch_id: str | None, owner: str | None, limit: int | None, request: gr.Request
    ) -> AsyncIterator[Changes]:
        """Follow a batch this page did not just start (re-attached after a reload, in a second tab)."""
        async for changes in self._stream(batch_id, owner, limit, request, release=False):
            yield changes

    async def _stream(
        self,
        batch_id: str | None,
        owner: str | None,
        limit: int | None,
        request: gr.Request,
        *,
        release: bool,
    ) -> AsyncIterator[Changes]:
        """The batch's progress (n of N done, a line per run) until every run has ended, then its grid,
        the first result and the gallery. A newer stream of this page (another run selected) ends it."""
        r, p = self.page.run, self.page.inputs
        progress = await self._progress(batch_id, owner)
        if progress is None:
            yield {r.progress: gr.skip()}  # (a generator that yields nothing blanks its outputs)
            return
        session = request.session_hash or uuid.uuid4().hex
        token = self.main.take_stream(session, f"batch:{progress.batch_id}")
        held = release
        try:
            while True:
                if not self.main.holds_stream(session, token):  # another run is followed here now
                    yield self._left(held)
                    return
                changes: Changes = {
                    r.progress: batch_text.progress_text(progress),
                    r.cancel: gr.update(visible=False),
                    r.cancel_all: gr.update(visible=not progress.settled),
                }
                if held:  # a check meanwhile (a blur, another model) must not bring it back early
                    held = not progress.sent
                    changes[p.generate] = gr.update(interactive=not held)
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
            self.main.drop_stream(session, token)

    def _left(self, held: bool) -> Changes:
        """The stream stops before the batch ended: Cancel all goes, and Generate comes back if held."""
        gone: Changes = {self.page.run.cancel_all: gr.update(visible=False)}
        return {**gone, self.page.inputs.generate: gr.update(interactive=True)} if held else gone

    async def _progress(self, batch_id: str | None, owner: str | None) -> BatchProgress | None:
        return await anyio.to_thread.run_sync(self.studio.batches.progress, batch_id, owner)

    def _ended(self, progress: BatchProgress, owner: str | None, limit: int | None) -> Changes:
        """Every run ended: the gallery, the first result in the result area, the grid made and shown."""
        changes = self.main.gallery_changes(owner, limit)
        done = [run for run in progress.runs if run.status == "done"]
        if not done:
            return changes
        changes.update(self.main.result_changes(done[0]))
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

    def show_grid(self, run_id: str | None, owner: str | None) -> Changes:
        """The Grid tab opened for the selected run's batch: made now if its runs have all ended."""
        run = self.studio.run_for(run_id, owner)
        return self._grid(run.batch_id if run else None, owner)

    def grid_changes(self, run: Run | None) -> Changes:
        """With a run's result: the Grid tab is there for a run of a batch, with its grid if made (it
        is made when the tab is opened, or when the batch's stream sees its runs end)."""
        g = self.page.run.grid
        batch_id = run.batch_id if run is not None else None
        shown = self.studio.batches.made_grid(batch_id)
        return {
            g.tab: gr.Tab(visible=batch_id is not None),
            g.video: shown,
            g.note: batch_text.grid_note(shown is not None, 2) if batch_id else "",
        }

    def cancel_all(self, batch_id: str | None, owner: str | None) -> Changes:
        asked = self.studio.batches.cancel_all(batch_id, owner)
        return {self.page.run.progress: batch_text.cancelling(asked)}
