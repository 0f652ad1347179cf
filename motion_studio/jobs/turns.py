"""A batch's runs take turns on their way to fal: at most `MOTION_STUDIO_BATCH_PARALLEL` of them
between their start and fal's answer to their submit (checks, copies, uploads), the others waiting.

Eight runs started at once would otherwise check, copy and upload eight clips side by side on a
small machine and a shared uplink, and the first request would reach fal last. Once fal has a run's
request its turn ends: every submitted run is followed at the same time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio

from .events import JobEvent
from .job import BatchSlot, Job


@dataclass(frozen=True)
class Waiting(JobEvent):
    """A run of a batch waits for its turn: `parallel` of the batch's runs are on their way to fal."""

    parallel: int = 1
    phase = "waiting"

    def describe(self) -> str:
        runs = "run goes" if self.parallel == 1 else "runs go"
        return f"Waiting its turn ({self.parallel} {runs} to fal at a time)…"


class BatchTurns:
    """One gate per batch, on the runner's event loop (so no lock is needed); a gate goes when the
    last run of its batch has passed it."""

    def __init__(self, parallel: int) -> None:
        self.parallel = parallel
        self._gates: dict[str, tuple[anyio.Semaphore, list[Job]]] = {}

    @asynccontextmanager
    async def turn(self, job: Job, slot: BatchSlot | None) -> AsyncIterator[None]:
        """Hold one of the batch's turns for the body (nothing to wait for outside a batch)."""
        if slot is None:
            yield
            return
        if slot.batch_id not in self._gates:
            self._gates[slot.batch_id] = (anyio.Semaphore(self.parallel), [])
        gate, users = self._gates[slot.batch_id]
        users.append(job)
        try:
            if gate.value == 0:
                job.publish(Waiting(job.run_id, parallel=self.parallel))
            async with gate:
                yield
        finally:
            users.remove(job)
            if not users:
                self._gates.pop(slot.batch_id, None)
