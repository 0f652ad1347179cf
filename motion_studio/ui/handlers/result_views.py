"""The views more than one group of handlers redraws: a run's result area (with a batch's Grid tab)
and the gallery."""

from __future__ import annotations

import gradio as gr

from ... import batch_text, notices, presenter
from ...history.runs import Run
from ...lifecycle import Action
from ...studio.service import Studio
from ..layout.parts import Page
from .changes import Changes


class PageViews:
    """The result area and the gallery as they are drawn after any event that changes them."""

    def __init__(self, studio: Studio, page: Page) -> None:
        self.studio = studio
        self.page = page

    def result(self, run: Run) -> Changes:
        """The result area for a run: its video, its reference, a download named after it."""
        view = self.page.run
        played = download = self.studio.runs.result_file(run)
        return {
            **self._player(played),
            view.reference: self.studio.runs.reference_clip(run),
            view.side: None,
            view.side_note: notices.SIDE_BY_SIDE_OFFER,
            view.download: gr.update(value=download, visible=download is not None),
            **self.run_full(run),
            **self.grid(run),
        }

    def playing(self, run: Run) -> Changes:
        """Only the player, the moment the video plays: the rest of the result area (reference,
        download, side by side) follows with `result`, so the browser draws and loads the video first."""
        return self._player(self.studio.runs.result_file(run))

    def _player(self, played: str | None) -> Changes:
        view = self.page.run
        return {
            view.empty: gr.update(visible=played is None),
            view.results: gr.update(visible=played is not None),
            view.output: played,
        }

    def run_full(self, run: Run | None) -> Changes:
        """A finished preview offers its full run, with that run's price on the button."""
        button = self.page.run.run_full
        if run is None or Action.RUN_FULL not in self.studio.gallery.situation(run).actions:
            return {button: gr.update(visible=False)}
        label = presenter.run_full_label(run, self.studio.runs.full_clip_seconds(run))
        return {button: gr.update(visible=True, value=label)}

    def grid(self, run: Run | None) -> Changes:
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

    def gallery(self, owner: str | None, limit: int | None, unless: str | None = None) -> Changes:
        g, m = self.page.gallery, self.page.memory
        view = self.studio.gallery.page(owner, limit, unless)
        if view is None:  # nothing changed (the timer is left as it is: setting it ticks it)
            return {g.timer: gr.skip()}
        return {
            g.timer: gr.Timer(active=view.active),
            g.shown: gr.update(visible=bool(view.items) or view.more),  # no empty frame
            g.gallery: view.items,
            m.gallery_ids: view.ids,
            m.gallery_sig: view.signature,
            g.summary: view.summary,
            g.show_more: gr.update(visible=view.more),
        }
