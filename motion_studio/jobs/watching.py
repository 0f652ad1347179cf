"""Following a job from a page: each event as it comes, and a tick in between so elapsed time moves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from .events import JobEvent
from .job import Job


async def watch(job: Job, tick: float = 1.0) -> AsyncIterator[JobEvent | None]:
    """Each event as it comes, and `None` every `tick` seconds in between (a page redraws the
    elapsed time on it, and a superseded stream notices it should stop)."""
    events = job.subscribe()
    pending = asyncio.ensure_future(events.__anext__())
    try:
        while True:
            done, _ = await asyncio.wait({pending}, timeout=tick)
            if not done:
                yield None
                continue
            try:
                event = pending.result()
            except StopAsyncIteration:
                return
            yield event
            if event.terminal:
                return
            pending = asyncio.ensure_future(events.__anext__())
    finally:
        # A stream closed mid-wait: the pending read must have ended before its generator can close
        # ("aclose(): asynchronous generator is already running" otherwise).
        pending.cancel()
        await asyncio.wait({pending})  # never raises what the read raised
        await events.aclose()
