"""What every group of handlers shares: the state they read (set by `Handlers`), and the two views
more than one group redraws: a run's result area and the gallery."""

from __future__ import annotations

import threading
from typing import Any

import gradio as gr

from ...history.runs import Run
from ...studio import Studio
from ..batch import BatchHandlers
from ..layout import Page

Changes = dict[Any, Any]


class HandlerBase:
    """The handlers' shared state (see `Handlers.__init__`) and the result area and gallery they draw."""

    studio: Studio
    page: Page
    batch: BatchHandlers
    _streams: dict[str, tuple[object, str]]
    _people: dict[str, object]
    _lock: threading.Lock

    def _result(self, run: Run) -> Changes:
        """The result area for a run: its video, its reference, a download named after it."""
        view = self.page.run
        played = download = self.studio.result_file(run)
        return {
            view.empty: gr.update(visible=played is None),
            view.results: gr.update(visible=played is not None),
            view.output: played,
            view.reference: self.studio.reference_clip(run),
            view.side: None,
            view.side_note: "Open this tab to put the reference and the result side by side in one video.",
            view.download: gr.update(value=download, visible=download is not None),
            **self.batch.grid_changes(run),
        }

    def _gallery(self, owner: str | None, limit: int | None, unless: str | None = None) -> Changes:
        g, m = self.page.gallery, self.page.memory
        view = self.studio.gallery(owner, limit, unless)
        if view is None:  # nothing changed (the timer is left as it is: setting it ticks it)
            return {g.timer: gr.skip()}
        return {
            g.timer: gr.Timer(active=view.active),
            g.gallery: gr.update(value=view.items, visible=bool(view.items)),  # no empty box
            m.gallery_ids: view.ids,
            m.gallery_sig: view.signature,
            g.summary: view.summary,
            g.show_more: gr.update(visible=view.more),
        }
