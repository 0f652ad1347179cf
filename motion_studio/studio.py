"""The objects one running app shares between its page, its API and its background jobs.

Kept out of `ui.py` so the page holds layout and wiring only: which runs a browser may see (private
galleries) is decided here.
"""

from __future__ import annotations

import logging

from . import presenter
from .history import History, Run
from .jobs import JobRunner
from .settings import Settings

log = logging.getLogger("motion_studio.studio")


class Studio:
    """The core objects one page (and its API) shares: settings, history and the job runner."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.history = History(settings.db_path, settings.runs_dir)
        self.runner = JobRunner(settings, self.history)
        # Paid runs that a restart interrupted are followed again, with the server's key.
        self.resumed = self.runner.resume_unfinished(settings.fal_key)
        if self.resumed:
            log.info("following %d unfinished run(s) again", len(self.resumed))

    def gallery(self, owner: str | None) -> tuple[list[tuple[str, str]], list[str], str, str]:
        """Values for `[gallery, gallery_ids, gallery_sig, runs_summary]`, always updated together."""
        runs = self.history.recent(200, owner=(owner or "-") if self.settings.galleries_are_private else None)
        shown = presenter.gallery_runs(runs)
        return (
            presenter.gallery_items(shown),
            [r.id for r in shown],
            presenter.history_signature(runs),
            presenter.runs_summary(runs),
        )

    def run_for(self, run_id: str | None, owner: str | None) -> Run | None:
        """A run this browser may see: with private galleries, only its own."""
        run = self.history.get(run_id) if run_id else None
        if run is not None and self.settings.galleries_are_private and run.owner != owner:
            return None
        return run
