"""The command line's batches and its JSON: `generate` with several `--image` (one clip, several
characters) or several `--video` (one character, several clips) is one batch, checked, reserved and
followed together; `--json` prints what scripts need (a run's summary, or every run's and the grid's).

Progress goes to stderr, a line each time a run moves on. stdout gets each result's path and the
grid's last, or, with `--json`, one JSON object, so the command composes in shell scripts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from rich.console import Console
from rich.markup import escape

from .batches.batch_service import Batches
from .batches.progress import Batch
from .errors import StrictRefusalError, StudioError
from .history.runs import Run
from .history.store import History
from .jobs.events import Cancelled, Done, Failed, JobEvent, Running
from .order import Order
from .studio.service import Studio
from .summary import run_summary
from .verdicts import batch_verdict

# `generate --strict` refused because the people check warned: a code of its own, for scripts.
STRICT_REFUSED = 3


def generate_batch(studio: Studio, order: Order, args: argparse.Namespace, err: Console) -> int:
    """One batch from the command line, through the studio's batches as the page's; exit 0 when
    every run is done, 1 when any failed, 130 when it was cancelled (Ctrl-C cancels every run, on fal
    too)."""
    batches = studio.batches
    with err.status(f"Checking the batch's {order.size} inputs…"):
        reading = batches.read(order)
    if not reading.ready:
        for problem in reading.problems or (batch_verdict(reading).sentence,):
            err.print(f"[red]error:[/] {escape(problem)}", soft_wrap=True)
        return 1
    if not _people_check(studio, reading.readings, args, err):
        return STRICT_REFUSED
    batch = batches.start(order, None, None, reading=reading)
    names = dict(zip(batch.run_ids, reading.names, strict=True))
    try:
        asyncio.run(_show(batch, names, err))
    except KeyboardInterrupt:
        err.print("Cancelling every run of the batch on fal…")
        batches.cancel(batch)
        for job in batch.jobs:
            job.wait(studio.settings.cancel_grace_seconds + 5)
    return _report(batches, batch, args.json, err)


def _people_check(studio: Studio, readings: Any, args: argparse.Namespace, err: Console) -> bool:
    """The people check of each run's inputs (advice; with `--strict`, a refusal)."""
    warned = False
    for number, reading in enumerate(readings, start=1):
        found = studio.orders.check_people(reading.image, reading.video, always=args.strict)
        warnings = found.warnings if found else ()
        for warning in warnings:
            err.print(f"  [yellow]warning (run {number}):[/] {escape(warning.message)}", soft_wrap=True)
        warned = warned or bool(warnings)
    if args.strict and warned:
        err.print(f"[red]error:[/] {escape(StrictRefusalError().message)}", soft_wrap=True)
        return False
    return True


async def _show(batch: Batch, names: dict[str, str], err: Console) -> None:
    """A line whenever a run moves on (fal's log lines are left out: eight runs would drown them)."""
    size = len(batch.jobs)

    async def follow(number: int, run_id: str, events: Any) -> None:
        last = ""
        async for event in events:
            if isinstance(event, Running) and last == event.phase:
                continue
            last = event.phase
            err.print(
                f"run {number}/{size} ({escape(names[run_id])}): {escape(_said(event))}", soft_wrap=True
            )

    await asyncio.gather(
        *(
            follow(number, run_id, job.subscribe())
            for number, (run_id, job) in enumerate(zip(batch.run_ids, batch.jobs, strict=True), start=1)
        )
    )


def _said(event: JobEvent) -> str:
    return event.message if isinstance(event, Failed) else event.describe()


def _report(batches: Batches, batch: Batch, as_json: bool, err: Console) -> int:
    """Each result's path and the grid's (or the JSON); the exit code for the batch as a whole."""
    finals = [job.last for job in batch.jobs]
    grid = None
    try:
        grid = batches.grid_file(batch.id)
    except StudioError as exc:
        err.print(f"[yellow]note:[/] {escape(exc.message)}", soft_wrap=True)
    runs = batches.history.reads.batch(batch.id)
    if as_json:
        summary = batches.summary(batch.id).model_dump(mode="json")
        for run, data in zip(runs, summary["runs"], strict=True):
            data["output_path"] = run.output_path
        print(json.dumps({**summary, "grid_path": str(grid) if grid else None}, indent=2))
    else:
        for run in runs:
            if run.output_path and run.status == "done":
                print(run.output_path)
        if grid is not None:
            print(grid)
    done = sum(isinstance(final, Done) for final in finals)
    err.print(f"Batch {batch.id}: {done} of {len(finals)} runs done" + (f"; grid: {grid}" if grid else "."))
    if all(isinstance(final, Done) for final in finals):
        return 0
    if any(isinstance(final, Failed) for final in finals) or not finals:
        return 1
    return 130 if any(isinstance(final, Cancelled) for final in finals) else 1


def run_json(history: History, run: Run) -> str:
    """A single run for scripts (`generate --json`): its summary, and where its video is."""
    data = run_summary(run, history.reads.events(run.id)).model_dump(mode="json")
    return json.dumps({**data, "output_path": run.output_path}, indent=2)
