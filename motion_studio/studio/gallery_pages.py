"""The gallery and a run selected in it: which runs a browser may see (private galleries), their
pictures and captions, what the page offers for a run, and which live job a browser may follow."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import presenter
from ..history.runs import Run
from ..history.store import History
from ..jobs.job import Job
from ..jobs.runner import JobRunner
from ..lifecycle import Situation
from ..serving import servable
from ..settings import Settings
from .keys import Keys


@dataclass(frozen=True)
class GalleryPage:
    """What the gallery shows: `items` are (picture, caption) for `ids`, newest first."""

    items: list[tuple[str, str]]
    ids: list[str]
    signature: str
    summary: str
    more: bool  # older runs exist beyond this page
    active: bool  # a run is still going: the page keeps polling


def _beside_full_runs(runs: list[Run]) -> list[Run]:
    """Newest first, except that a preview follows the (newest) full run started from it, so the two
    are seen next to each other; the runs between them move up one place."""
    by_id = {run.id: run for run in runs}
    followed = {run.preview_of for run in runs if run.preview_of in by_id}
    placed: list[Run] = []
    for run in runs:
        if run.id in followed:
            continue  # shown after its full run
        placed.append(run)
        if run.preview_of in followed and by_id[run.preview_of] not in placed:
            placed.append(by_id[run.preview_of])
    return placed


class Gallery:
    """The gallery's pages and the run a browser selected in it (one per `Studio`)."""

    def __init__(self, settings: Settings, history: History, runner: JobRunner, keys: Keys) -> None:
        self.settings = settings
        self.history = history
        self.runner = runner
        self.keys = keys

    def job_to_watch(self, run: Run, owner: str | None) -> Job | None:
        """The live job of a run selected in the gallery, if this browser started it (another
        visitor's running run, in a shared gallery, is shown but not followed or cancelled here)."""
        job = self.runner.job_for_run(run.id)
        if job is None or job.finished or run.owner != self.keys.visitor(owner):
            return None
        return job

    def live_job(self, owner: str | None) -> Job | None:
        """This browser's newest run that is still going, to re-attach a reloaded or second tab to."""
        visitor = self.keys.visitor(owner)
        if visitor is None:
            return None
        for run in self.history.reads.recent(20, owner=visitor):
            job = self.runner.job_for_run(run.id) if run.active else None
            if job is not None and not job.finished:
                return job
        return None

    def page(
        self, owner: str | None, limit: int | None = None, unless: str | None = None
    ) -> GalleryPage | None:
        """The newest `limit` runs this browser may see, with a count of all of them; None when its
        signature is still `unless` (a poll that finds nothing new touches no file)."""
        visitor = self.keys.visitor(owner) or "-"  # "-" owns nothing
        scope = visitor if self.settings.galleries_are_private else None
        limit = limit or self.settings.gallery_page_size
        runs = self.history.reads.recent(limit, owner=scope)
        total = self.history.reads.count(owner=scope)
        signature = f"{total}|{presenter.history_signature(runs)}"
        if signature == unless:
            return None
        shown = [(run, picture) for run in _beside_full_runs(runs) if (picture := self._picture(run))]
        return GalleryPage(
            items=[(picture, presenter.run_caption(run)) for run, picture in shown],
            ids=[run.id for run, _ in shown],
            signature=signature,
            summary=presenter.runs_summary(runs, total),
            more=total > len(runs),
            active=self.history.reads.active_count(owner=scope, in_flight=True) > 0,
        )

    @staticmethod
    def _picture(run: Run) -> str | None:
        """A frame of the output, or the character image while there is no output yet."""
        return next(
            (servable(p) for p in (run.thumbnail_path, run.image_path) if p and Path(p).exists()), None
        )

    def run_for(self, run_id: str | None, owner: str | None) -> Run | None:
        """A run this browser may see: with private galleries, only its own (the machine's own user
        sees every run)."""
        run = self.history.reads.get(run_id) if run_id else None
        private = self.settings.galleries_are_private and not self.keys.local
        if run is not None and private and run.owner != self.keys.visitor(owner):
            return None
        return run

    def situation(self, run: Run) -> Situation:
        """What the page offers for `run`: read from the lifecycle, never decided by the page."""
        followed = self.runner.job_for_run(run.id) is not None or self.history.leases.is_followed(run)
        return run.situation(followed=followed)
