"""The fal clients of one runner: one per key, shared by the jobs that use it, so connections are
reused across runs. A visitor's pasted key lives no longer than their last job; the server's stays."""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass

from pydantic import SecretStr

from ..fal_service import FalService
from ..history.store import History
from ..settings import Settings
from .job import Job


@dataclass
class _Entry:
    service: FalService
    users: int
    session: bool


class ClientPool:
    """Used from the runner's event loop only."""

    def __init__(self, settings: Settings, history: History) -> None:
        self._settings = settings
        self._history = history
        self._entries: dict[str, _Entry] = {}

    def acquire(self, job: Job, key: SecretStr, key_source: str) -> FalService:
        ident = hashlib.sha256(key.get_secret_value().encode()).hexdigest()
        entry = self._entries.get(ident)
        if entry is None:
            s = self._settings
            service = FalService(
                key,
                self._history,
                poll_interval=s.poll_interval,
                retry_seconds=s.status_retry_seconds,
                upload_cache_seconds=s.upload_cache_hours * 3600,
                status_stream=s.status_stream,
                upload_part_mb=s.upload_part_mb,
                lifetimes=s.fal_lifetimes(),
                upload_alive_for=s.request_timeout,
            )
            entry = self._entries[ident] = _Entry(service, 0, key_source == "session")
        entry.users += 1
        job.service, job.client_ident = entry.service, ident
        return entry.service

    async def release(self, job: Job) -> None:
        ident, job.service = job.client_ident or "", None  # a finished job keeps no way to a key
        job.client_ident = None
        entry = self._entries.get(ident)
        if entry is None:
            return
        entry.users -= 1
        if entry.users <= 0 and entry.session:
            del self._entries[ident]
            await entry.service.aclose()

    @property
    def session_keys(self) -> int:
        """How many visitors' keys are held right now (each by a live job)."""
        return sum(entry.session for entry in self._entries.values())

    async def close(self) -> None:
        for entry in list(self._entries.values()):
            with contextlib.suppress(Exception):
                await entry.service.aclose()
        self._entries.clear()
