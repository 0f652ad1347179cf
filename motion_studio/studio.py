"""The objects one running app shares between its page, its API and its background jobs.

Kept out of `ui.py` so the page holds layout and wiring only: which runs a browser may see (private
galleries), which key pays, and what a user may do with a run (from the lifecycle) are decided here.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from pydantic import SecretStr

from . import presenter
from .errors import OwnKeyRequiredError, StudioError
from .history import Run
from .jobs import Job, JobRunner
from .lifecycle import Action, Situation
from .settings import Settings

log = logging.getLogger("motion_studio.studio")
VISITOR_ID = re.compile(r"[0-9a-f]{32}")


class Studio:
    """The core objects one page (and its API) shares: settings, history and the job runner."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.history = settings.open_history()
        self.runner = JobRunner(settings, self.history)
        # Runs a crash left behind are settled; paid ones are followed again, with the server's key.
        self.resumed = self.runner.resume_unfinished(settings.fal_key)
        if self.resumed:
            log.info("following %d unfinished run(s) again", len(self.resumed))

    def key_for(self, session_key: str | None) -> tuple[SecretStr, str]:
        """A key pasted in this browser wins over the server's: visitors can pay for themselves. In
        own-key mode the server's key is lent to nobody (page and API alike)."""
        pasted = bool(session_key and session_key.strip())
        if not pasted and self.settings.visitors_bring_own_key:
            raise OwnKeyRequiredError()
        return self.settings.require_key(session_key), "session" if pasted else "server"

    @staticmethod
    def visitor(browser: object) -> str | None:
        """A browser's id as the page may claim it: only the shape `identify` hands out. Anything
        else (a forged value sent to an event directly, another caller's `api:` id) is nobody."""
        return browser if isinstance(browser, str) and VISITOR_ID.fullmatch(browser) else None

    def api_caller(self, forwarded_for: str | None, client: Any) -> str:
        """Who an API call counts as, for the per-visitor limits: the connecting address, or, behind
        `MOTION_STUDIO_TRUSTED_PROXIES` proxies that append to X-Forwarded-For, the address the
        outermost of them saw (what a client writes there itself is further left, and ignored)."""
        hops = self.settings.trusted_proxies
        entries = [e.strip() for e in (forwarded_for or "").split(",") if e.strip()]
        address = entries[-hops] if hops and len(entries) >= hops else getattr(client, "host", None)
        return f"api:{address or 'unknown'}"

    def gallery(self, owner: str | None) -> tuple[list[tuple[str, str]], list[str], str, str]:
        """Values for `[gallery, gallery_ids, gallery_sig, runs_summary]`, always updated together."""
        visitor = self.visitor(owner) or "-"  # "-" owns nothing
        runs = self.history.recent(200, owner=visitor if self.settings.galleries_are_private else None)
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
        if run is not None and self.settings.galleries_are_private and run.owner != self.visitor(owner):
            return None
        return run

    def situation(self, run: Run) -> Situation:
        """What the page offers for `run`: read from the lifecycle, never decided by the page."""
        followed = self.runner.job_for_run(run.id) is not None or self.history.is_followed(run)
        return run.situation(followed=followed)

    def key_for_run(self, run: Run, session_key: str | None) -> SecretStr:
        """The key a run was paid with: another account's key would not find its request on fal."""
        if run.key_source == "server":
            if self.settings.fal_key is None or not self.settings.fal_key.get_secret_value().strip():
                raise StudioError("This run was started with the server's key, which is no longer set.")
            return self.settings.fal_key
        if not (session_key and session_key.strip()):
            raise StudioError("This run was started with a key pasted in the page: paste that key first.")
        return SecretStr(session_key.strip())

    def resume(self, run_id: str | None, owner: str | None, session_key: str | None) -> Job:
        run = self._run_allowing(run_id, owner, Action.RESUME, "This run is not waiting for anything.")
        return self.runner.resume(run, self.key_for_run(run, session_key), run.key_source)

    def run_again(self, run_id: str | None, owner: str | None, session_key: str | None) -> Job:
        run = self._run_allowing(run_id, owner, Action.RUN_AGAIN, "This run is still going.")
        key, source = self.key_for(session_key)
        return self.runner.run_again(run, key, source)

    def delete(self, run_id: str | None, owner: str | None, session_key: str | None) -> None:
        """Delete a run; one still on fal is cancelled there first."""
        run = self.run_for(run_id, owner)
        if run is None:
            return
        try:
            key: SecretStr | None = self.key_for_run(run, session_key)
        except StudioError:
            key = None  # a run still on fal is then only deleted here; the confirmation said so
        self.runner.delete(run, key)

    def _run_allowing(self, run_id: str | None, owner: str | None, action: Action, refusal: str) -> Run:
        run = self.run_for(run_id, owner)
        if run is None:
            raise StudioError("This run no longer exists.")
        if action not in self.situation(run).actions:
            raise StudioError(refusal)
        return run
