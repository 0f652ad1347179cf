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
from dataclasses import dataclass

from ..fal_service import FalService
from ..lifecycle import Status
from ..order import Order
from .events import JobEvent


@dataclass(frozen=True)
class BatchSlot:
    """A run of a batch: its row was reserved with the batch's other runs, in one transaction."""

    batch_id: str
    run_id: str


class Job:
    """A run in progress. The runner's loop writes its fields; other threads only read them."""

    def __init__(
        self,
        order: Order,
        run_id: str | None = None,
        *,
        owner: str | None = None,
        slot: BatchSlot | None = None,
        preview_of: str | None = None,
    ) -> None:
        self.id = uuid.uuid4().hex
        # What is asked for: an order of one, its inputs local files (each keeping the URL it was
        # fetched from: one on fal's CDN may go to fal as it is), which the checks have not seen yet.
        self.order = order
        self.owner = owner  # the browser that asked, when galleries are private
        self.slot = slot  # a run of a batch: the row reserved for it, and its batch
        self.preview_of = preview_of  # a full run started from a preview: the preview's run
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
