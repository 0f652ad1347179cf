"""What the page says about a batch, as plain functions of plain data (no I/O, no Gradio): the one
verdict naming each input's problem, the whole batch's estimate with its arithmetic, the Generate
button's label, and the progress of every run (n of N done).

Kept beside `presenter.py` (a run's words), which the batch's words reuse for the first run's inputs.
"""

from __future__ import annotations

import time
from pathlib import Path

from . import presenter
from .batches.progress import BatchProgress
from .batches.reading import BatchReading
from .catalog import PREVIEW_SECONDS, billed_seconds, format_cost, format_price
from .history.runs import Run
from .input_reading import Reading
from .lifecycle import icon
from .order import Order
from .presenter import InputCheck

WAITING = "waiting its turn"


def batch_check(reading: BatchReading, order: Order) -> InputCheck:
    """The live verdict for a batch: the first run's inputs as a run's check shows them, then every
    problem of the batch (each naming its input), and the estimate for the whole batch."""
    first = presenter.input_check(reading.readings[0] if reading.readings else Reading(), order.options)
    if len(reading.problems) == 1:
        verdict = f"❌ {reading.problems[0]}"
    elif reading.problems:
        verdict = "❌ Fix these before the batch can start:\n" + "\n".join(f"- {p}" for p in reading.problems)
    elif not reading.ready:
        verdict = first.verdict
    else:
        kind = {"image": "character image", "video": "clip", "model": "model"}[reading.varies]
        notes = " ".join(dict.fromkeys(note for r in reading.readings for note in r.notes))
        what = "a comparison of" if reading.varies == "model" else "a batch of"
        verdict = (
            f"✅ Ready: {what} {reading.size} runs, one per {kind} ({', '.join(reading.names)}). {notes}"
        )
    return InputCheck(
        first.image_text,
        first.video_text,
        verdict.strip(),
        batch_cost_text(reading, order) or first.cost_text,
        reading.ready,
        first.trim_to,
    )


def batch_cost_text(reading: BatchReading, order: Order) -> str | None:
    """The whole batch's estimate, with its arithmetic; None until every run's clip is known. A
    comparison's is the sum of each model's run."""
    total = reading.cost
    if total is None:
        return None
    if order.compared:
        parts = " + ".join(
            f"{format_cost(r.cost or 0.0)} ({name})"
            for name, r in zip(reading.names, reading.readings, strict=True)
        )
        return f"Estimated cost for the comparison: **{format_cost(total)}** = {parts}."
    tier_name = order.options.runs_on.name
    price = format_price(order.options.price_per_second)
    seconds = [billed_seconds(r.seconds or 0.0) for r in reading.readings]
    if len(set(seconds)) == 1:
        each = reading.readings[0].cost or 0.0
        how = f"{reading.size} runs × {format_cost(each)} ({seconds[0]} s billed × {price}, {tier_name})"
    else:
        how = f"{sum(seconds)} s billed in all × {price} ({tier_name}; each clip rounded up to whole seconds)"
    return f"Estimated cost for the batch: **{format_cost(total)}** = {how}."


def generate_label(reading: BatchReading) -> str:
    """Generate carries the batch's size and its estimate, in view at the moment of paying."""
    if not reading.ready or reading.cost is None:
        return f"Generate {reading.size} runs"
    return f"Generate {reading.size} runs · ≈ {format_cost(reading.cost)}"


def preview_label(order: Order, clip_seconds: float | None) -> str:
    """The Preview button of a batch (a preview of each run); a comparison's previews each go to
    their own model's family, so its estimate is the sum of theirs."""
    if not order.compared:
        return presenter.preview_label(order.options, clip_seconds, order.size)
    previews = [options.model_copy(update={"preview": True}) for options in order.each]
    seconds = clip_seconds or PREVIEW_SECONDS  # any clip a model takes is at least this long
    cost = sum(preview.estimate_cost(seconds) for preview in previews)
    sent = previews[0].sent_seconds(seconds)
    return f"Preview {len(previews)} × {sent:g} s · one per model · ≈ {format_cost(cost)}"


def progress_text(progress: BatchProgress, now: float | None = None) -> str:
    """n of N done, and a line per run: its input's name and where it is."""
    runs = progress.runs
    elapsed = (now or time.time()) - progress.started_at
    head = f"🎬 Batch: {progress.done} of {progress.size} done"
    if progress.settled:
        others = len(runs) - progress.done
        head += f" ({others} did not finish)." if others else "."
    else:
        head += f" · {elapsed:.0f} s elapsed"
    compared = len({run.options.model for run in runs}) > 1
    lines = [head.replace("Batch", "Comparison", 1) if compared else head]
    for run in runs:
        label = WAITING if run.id in progress.waiting else run.situation(followed=True).label
        lines.append(f"{run.batch_index}. {icon(run.status)} {_run_name(run, runs)} · {label}")
    return "\n".join([lines[0], "", *lines[1:]])  # a numbered list under the heading


def _run_name(run: Run, runs: tuple[Run, ...]) -> str:
    """What a batch's progress calls a run: its own clip, its own image, or (a comparison) its model."""
    if len({other.source_video for other in runs}) > 1:
        return Path(run.source_video or "").name
    if len({other.options.model for other in runs}) > 1:
        return run.options.ran_as
    return Path(run.source_image or "").name


def grid_note(made: bool, done: int) -> str:
    """Under the grid: what it shows, or why there is none."""
    if made:
        return (
            "Every result of the batch side by side, in the batch's order (a comparison's labelled by "
            "model): one video to compare and share."
        )
    if done < 2:
        return "The grid needs at least two finished runs of the batch."
    return "The grid appears here when every run of the batch has ended."


def cancelling(asked: int) -> str:
    """What Cancel all says: how many runs were asked to stop on fal."""
    if not asked:
        return "Nothing to cancel: no run of this batch is going."
    return f"⏹ Cancelling {asked} {'run' if asked == 1 else 'runs'} of the batch on fal…"
