"""Uploads ahead: a checked input goes to fal's storage while the user is still choosing, so that
Generate only has to submit.

An upload ahead is an ordinary `FalService.upload`: its URL lands in the upload cache (by content
hash), and a run that needs the same bytes while it is still in flight waits for it instead of
sending them again. Each page slot (a browser session's image, or its clip) has at most one upload
ahead: a changed input abandons the stale one. A failed or slow upload ahead never breaks a run: the
run then uploads as it always did.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from pydantic import SecretStr

from ..fal_service import FalService
from ..history.store import History
from ..settings import Settings

log = logging.getLogger("motion_studio.ahead")
MAX_SLOTS = 10_000  # pages remembered (two slots each); the oldest are forgotten first


class UploadsAhead:
    """Lives on the job runner's event loop; `start` is called there (through the runner's portal)."""

    def __init__(self, settings: Settings, history: History) -> None:
        self.settings = settings
        self.history = history
        self._slots: dict[tuple[str, str], tuple[str, asyncio.Task[None]]] = {}
        self._sent: dict[tuple[str, str], str] = {}  # the last file each slot sent (bounded below)

    def start(self, path: str, key: SecretStr, slot: tuple[str, str]) -> None:
        """Upload `path` now for `slot`; the slot's previous upload, of another file, is abandoned."""
        current = self._slots.get(slot)
        if (current is not None and current[0] == path) or self._sent.get(slot) == path:
            return  # the same file is on its way, or went (each check of the page would ask again)
        if current is not None and not current[1].done():
            current[1].cancel()
        task = asyncio.ensure_future(self._upload(Path(path), key))
        self._slots[slot] = (path, task)
        task.add_done_callback(lambda _: self._forget(slot, task))

    def _forget(self, slot: tuple[str, str], task: asyncio.Task[None]) -> None:
        path, current = self._slots.get(slot, (None, None))
        if current is task and path is not None:
            del self._slots[slot]
            if not task.cancelled():
                self._sent[slot] = path
                while len(self._sent) > MAX_SLOTS:
                    del self._sent[next(iter(self._sent))]

    async def _upload(self, path: Path, key: SecretStr) -> None:
        service = FalService(
            key,
            self.history,
            retry_seconds=self.settings.status_retry_seconds,
            upload_cache_seconds=self.settings.upload_cache_hours * 3600,
            upload_part_mb=self.settings.upload_part_mb,
            lifetimes=self.settings.fal_lifetimes(),
            upload_alive_for=self.settings.request_timeout,
        )
        try:
            await service.upload(path)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # never a run's problem: the run uploads itself
            log.info("upload ahead of %s failed (%s); Generate will upload it", path.name, type(exc).__name__)
        finally:
            await service.aclose()

    def cancel_all(self) -> None:
        for _, task in list(self._slots.values()):
            task.cancel()
        self._slots.clear()
        self._sent.clear()
