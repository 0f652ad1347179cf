"""A job: one run being worked on, as an append-only event log that any number of listeners follow.

Listeners live on other event loops (Gradio's, the command line's), so events reach them through
`call_soon_threadsafe`; a listener whose loop is gone (a closed tab) is skipped and the job goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from collections.abc import AsyncGenerator
from concurrent.futures import Future
from dataclasses import dataclass, field

from ..catalog import Face
from ..fal_service import FalService
from ..lifecycle import Status
from .events import JobEvent


@dataclass(frozen=True)
class BatchSlot:
    """A run of a batch: its row was reserved with the batch's other runs, in one transaction."""

    batch_id: str
    run_id: str


@dataclass(frozen=True)
class JobSpec:
    """What a user asked for; paths are local files the checks have not seen yet.

    `image_url` / `video_url`: the https URL the local file was fetched from, if it was. When that URL
    is on fal's CDN and the checks leave the file as it is, fal gets the URL rather than a re-upload.
    """

    image: str
    video: str
    orientation: str
    prompt: str = ""
    keep_sound: bool = True
    tier: str = "pro"
    owner: str | None = None  # the browser that asked, when galleries are private
    image_url: str | None = None  # the https URL `image` was fetched from
    video_url: str | None = None  # the https URL `video` was fetched from
    face: Face = field(default_factory=Face)  # a face to keep consistent (v3 only): local files
    slot: BatchSlot | None = None  # a run of a batch: the row reserved for it, and its batch


class Job:
    """A run in progress. The runner's loop writes its fields; other threads only read them."""

    def __init__(self, spec: JobSpec, run_id: str | None = None) -> None:
        self.id = uuid.uuid4().hex
        self.spec = spec
        self.run_id = run_id
        self.request_id: str | None = None
        self.phase: Status | None = None  # the run's status as this job last recorded (or found) it
        self.holds_lease = False  # only the run's follower writes its row
        self.started_at = time.time()
        self.cancel_requested = False
        self.delete_requested = False
        self.fal_cancel_sent = False
        self.future: Future[None] | None = None
        self.service: FalService | None = None  # the fal client this job uses, once it has one
        self.client_ident: str | None = None
        # Where the image and the clip go up from: the checked files themselves when the run's copies
        # are byte for byte the same (an upload ahead sent those, so their URLs are known at once).
        self.upload_from: tuple[str, str] | None = None
        self._events: list[JobEvent] = []
        self._listeners: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[JobEvent]]] = []
        self._lock = threading.Lock()
        self._finished = threading.Event()

    @property
    def events(self) -> list[JobEvent]:
        with self._lock:
            return list(self._events)

    @property
    def last(self) -> JobEvent | None:
        with self._lock:
            return self._events[-1] if self._events else None

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    def publish(self, event: JobEvent) -> None:
        """Append and fan out; nothing is published after the terminal event."""
        with self._lock:
            if self._finished.is_set():
                return
            self._events.append(event)
            listeners = list(self._listeners)
            if event.terminal:
                self._finished.set()
        for loop, queue in listeners:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(queue.put_nowait, event)

    async def subscribe(self) -> AsyncGenerator[JobEvent, None]:
        """Every event so far, then live ones, until the terminal one; safe from any event loop."""
        queue: asyncio.Queue[JobEvent] = asyncio.Queue()
        entry = (asyncio.get_running_loop(), queue)
        with self._lock:
            backlog = list(self._events)
            self._listeners.append(entry)
        try:
            for event in backlog:
                yield event
                if event.terminal:
                    return
            while True:
                event = await queue.get()
                yield event
                if event.terminal:
                    return
        finally:
            with self._lock:
                self._listeners.remove(entry)

    def wait(self, timeout: float | None = None) -> JobEvent | None:
        self._finished.wait(timeout)
        return self.last
