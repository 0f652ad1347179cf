"""What the page shows, computed from the core without Gradio: live verdicts, progress, gallery, run cards.

Everything here is a plain function of core objects, so it is unit-tested without a browser and the
UI module is left with layout and wiring only.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import notices
from .catalog import (
    FACE_REFERENCE,
    FAMILIES,
    MAX_MODELS,
    OPTIONS,
    PREVIEW_SECONDS,
    TIERS,
    Option,
    billed_seconds,
    format_cost,
    format_price,
    tier,
)
from .errors import StudioError
from .history.runs import Run, RunEvent
from .input_reading import Reading
from .jobs.events import Failed, Running
from .jobs.job import Job
from .lifecycle import Situation, icon
from .order import Options
from .people_check import PeopleCheck
from .settings import Settings
from .verdicts import verdict


@dataclass(frozen=True)
class InputCheck:
    """The live verdict shown beside the inputs; `ready` decides whether Generate is enabled."""

    image_text: str
    video_text: str
    verdict: str
    cost_text: str
    ready: bool
    trim_to: float | None = None  # the clip is too long: offer to keep its first `trim_to` seconds


EMPTY_VERDICT = "Add a character image and a reference clip to start, or try an example."


def price_line(options: Options) -> str:
    """The cost line before a clip is known: the model's price per second (with its chosen setting)."""
    return f"Price: {format_price(options.price_per_second)} of video ({options.runs_on.title})."


def input_check(reading: Reading, options: Options) -> InputCheck:
    """One line per input saying what was found, the verdict, and the cost line with its arithmetic."""
    image_text = video_text = ""
    if reading.image_report:
        image_text = f"🖼 {reading.image_report.info.summary()}"
    elif reading.image_problem:
        image_text = f"🖼 {reading.image_problem}"
    if reading.video_report:
        video_text = f"🎞 {reading.video_report.info.summary()}"
    elif reading.video_problem:
        video_text = f"🎞 {reading.video_problem}"
    cost_text = price_line(options)
    if reading.seconds is not None and reading.cost is not None:
        cost_text = (
            f"Estimated cost: **{format_cost(reading.cost)}** = {billed_seconds(reading.seconds)} s billed × "
            f"{format_price(options.price_per_second)} ({options.runs_on.title}; the clip's "
            f"{reading.seconds:.1f} s, rounded up to whole seconds)."
        )
    found = verdict(reading)
    if found.kind == "problem":
        said = "❌ " + found.sentence
    elif found.kind == "missing":
        said = (
            f"Add {found.missing} to start, or try an example."
            if reading.image or reading.video
            else EMPTY_VERDICT
        )
    else:
        said = "✅ Ready. " + " ".join(reading.notes)
    return InputCheck(image_text, video_text, said.strip(), cost_text, reading.ready, reading.trim_to)


def people_text(check: PeopleCheck | None) -> str:
    """The people check beside the verdict: one line per warning (each says the fix), one line when
    it was skipped, and what was read when there is nothing to warn about. Empty: nothing to say."""
    if check is None:
        return ""
    lines = [f"⚠️ {warning.message}" for warning in check.warnings]
    if lines:  # beside a green "Ready": say plainly that these are worth reading before paying
        lines.insert(0, "**Before you pay:** fal may refuse, and still bill, a run like this.")
    if check.skipped:
        lines.append(f"👤 {check.skipped}")
    found = "; ".join(f"{name}: {text}" for name, text in check.readings())
    if found and not check.warnings:
        lines.append(f"👤 People check: {found}.")
    return "\n\n".join(lines)


def generate_label(reading: Reading | None) -> str:
    """The Generate button carries the estimate, so the price is in view at the moment of paying."""
    if reading is None or reading.cost is None or not reading.ready:
        return "Generate"
    return f"Generate · ≈ {format_cost(reading.cost)}"


def choice_note(name: str, value: str | None) -> str:
    """The line under a choice option: what the chosen value does."""
    choice = OPTIONS[name].choice(value)
    return f"**{value}**: {choice.help}." if choice else ""


def face_panel_shown(tier_name: str) -> bool:
    """The "Keep the face consistent" panel is there only for a model that can bind a face (v3)."""
    model = TIERS.get(tier_name)
    return bool(model and model.face_binding)


def prompt_placeholder(tier_name: str) -> str:
    """The prompt's example; with a v3 model it names the face, as a prompt with a face should."""
    if face_panel_shown(tier_name):
        return f"e.g. {FACE_REFERENCE} as a knight in shining armour, studio lighting"
    return "e.g. a knight in shining armour, studio lighting"


def face_text(reading: Reading) -> str:
    """What was read of each of the face's images, or what is wrong with one of them."""
    if reading.face_problem:
        return f"🙂 {reading.face_problem}"
    face = reading.face
    names = (["frontal"] if face.frontal else []) + [f"angle {n}" for n in range(1, len(face.angles) + 1)]
    parts = [f"{name}: {r.info.summary()}" for name, r in zip(names, reading.face_reports, strict=False)]
    return f"🙂 {' · '.join(parts)}" if parts else ""


def text_counter(name: str, text: str | None) -> str:
    """A text option's length against its limit (the prompt's counter)."""
    n, limit = len(text or ""), OPTIONS[name].max_chars
    mark = "❌ " if limit is not None and n > limit else ""
    return f"{mark}{n} / {limit} characters" if limit is not None else f"{n} characters"


def choice_labels(name: str) -> list[tuple[str, str]]:
    """A choice option's values as its radio shows them, in the catalogue's order (the orientation:
    `video` first, as its 30 s limit accepts more clips), each with the clip length it allows."""
    return [
        (f"{c.value} (≤ {c.clip_max_seconds:g} s)" if c.clip_max_seconds else c.value, c.value)
        for c in OPTIONS[name].choices
    ]


def family_choices() -> list[tuple[str, str]]:
    """The page's first choice: the model's family (its maker and kind), by its short name."""
    return [(family.short, family.name) for family in FAMILIES.values()]


def family_note(family: str) -> str:
    """What a family is for, in one line, under the family's choice."""
    known = FAMILIES.get(family)
    return known.help if known else ""


def family_of(model: str) -> str | None:
    """The family of a model (None for a name the catalogue no longer has: an old run's)."""
    known = TIERS.get(model)
    return known.family if known else None


def model_choices(family: str) -> list[tuple[str, str]]:
    """The models of one family, as the page's model choice lists them (title, resolution, price)."""
    return [(model.label, model.name) for model in TIERS.values() if model.family == family]


def family_model(family: str, current: str | None, default: str) -> str:
    """The model a family's choice selects: the one chosen already if it is of that family, else the
    server's default if it is, else the family's first (its best)."""
    names = [name for _, name in model_choices(family)]
    return next((name for name in (current, default) if name in names), names[0] if names else default)


def model_note(model: str) -> str:
    """The line under the model's choice: what the chosen model is for."""
    known = TIERS.get(model)
    return f"**{known.full_title}**: {known.purpose}." if known else ""


def compare_choices(chosen: str) -> list[tuple[str, str]]:
    """The models a comparison can add to the chosen one, each named with its family (the list mixes
    families): every model but the chosen one."""
    return [
        (model.full_title + model.label.removeprefix(model.title), model.name)
        for model in TIERS.values()
        if model.name != chosen
    ]


# A number's box that may be left empty (an option whose default is none: the seed) says what empty means.
EMPTY_NUMBER = "empty: the model picks one"
COMPARE_LABEL = f"The same image and clip on these models too (up to {MAX_MODELS - 1})"


def progress_text(job: Job, now: float | None = None) -> str:
    """Phase, elapsed time and queue position, from the job's latest event."""
    last = job.last
    elapsed = (now or time.time()) - job.started_at
    if last is None:
        return f"⏳ Checking inputs… ({elapsed:.0f} s)"
    state = last.kind if isinstance(last, Failed) and last.kind in ("interrupted", "stopped") else last.phase
    text = f"{icon(state)} {last.describe()}"
    if last.terminal:
        return text
    if job.cancel_requested:
        text = "⏹ Cancelling on fal…"
    return f"{text} · {elapsed:.0f} s elapsed"


def log_text(job: Job) -> str:
    lines = [line for event in job.events if isinstance(event, Running) for line in event.logs]
    return "\n".join(lines[-200:])


def run_caption(run: Run) -> str:
    """Status, place in its batch, date, its choices (the orientation), model, length and its texts
    (the prompt); the page wraps it, never cuts it."""
    when = datetime.fromtimestamp(run.created_at).strftime("%b %d, %H:%M")
    clip = f"{run.clip_seconds:.0f} s" if run.clip_seconds else ""
    texts = " · ".join(str(value) for option, value in _options_of(run) if _is_text(option) and value)
    prompt = (texts[:80] + "…") if len(texts) > 80 else texts
    batch = f"batch {run.batch_index}/{run.batch_size}" if run.batch_id else ""
    parts = [
        f"{icon(run.status)} {run.status}",
        "🔍 preview" if run.is_preview else ("full run of a preview" if run.preview_of else ""),
        batch,
        when,
        *(str(value) for option, value in _options_of(run) if option.choices),
        run.model_title,
        clip,
    ]
    line = " · ".join(p for p in parts if p)
    return f"{line}\n{prompt}" if prompt else line


def runs_summary(runs: list[Run], total: int | None = None) -> str:
    """One line over the gallery: how many runs in all, and what the shown ones are and cost (estimated)."""
    total = len(runs) if total is None else total
    if not total:
        return "No runs yet. Your videos will appear here, and stay after a restart."
    done = [r for r in runs if r.status == "done"]
    active = sum(r.active for r in runs)
    spent = sum(r.estimated_cost or 0.0 for r in done)
    parts = [f"{total:,} run{'s' * (total != 1)}"]
    if total > len(runs):
        parts.append(f"showing the newest {len(runs)}")
    parts.append(f"{len(done)} finished")
    if active:
        parts.append(f"{active} in progress")
    whose = "shown " if total > len(runs) else ""
    parts.append(f"≈ {format_cost(spent)} spent on the finished runs {whose}(estimate)".replace("  ", " "))
    return " · ".join(parts)


def history_signature(runs: list[Run]) -> str:
    return "|".join(f"{r.id}:{r.status}" for r in runs)


def run_details(run: Run, events: list[RunEvent], situation: Situation | None = None) -> str:
    """A run's card: what was asked, where it is, whether it cost money, each step's time, any error."""
    when = datetime.fromtimestamp(run.created_at).strftime("%Y-%m-%d %H:%M:%S")
    situation = situation or run.situation(followed=False)
    charged = "fal may have charged for it" if situation.charged else "nothing was charged"
    lines = [
        f"### {icon(run.status)} Run `{run.id}` — {situation.label}",
        " · ".join(
            [
                f"- **When:** {when}",
                f"**Model:** {run.model_title}",
                *(f"**{o.short or o.label}:** {o.shown(v)}" for o, v in _options_of(run) if not _is_text(o)),
                f"**Billing:** {charged}",
            ]
        ),
    ]
    if run.is_preview:
        lines.append(
            f"- **Preview:** the clip's first {PREVIEW_SECONDS:g} s on {run.model_title}; its full run uses "
            f"{_model_title(run.options.model)} and the whole clip"
        )
    if run.preview_of:
        lines.append(f"- **Full run of the preview** `{run.preview_of}`")
    if run.batch_id:
        lines.append(f"- **Batch:** run {run.batch_index} of {run.batch_size} (batch `{run.batch_id}`)")
    if run.face:
        angles = len(run.face.angles)
        shown = ["a frontal image"] if run.face.frontal else []
        shown += [f"{angles} more angle{'s' * (angles != 1)}"] if angles else []
        lines.append(f"- **Face kept consistent ({FACE_REFERENCE}):** {' and '.join(shown)}")
    if run.clip_seconds is not None and run.estimated_cost is not None:
        lines.append(
            f"- **Clip:** {run.clip_seconds:.1f} s · **Estimated cost:** {format_cost(run.estimated_cost)}"
        )
    lines += [f"- **{o.short or o.label}:** {v}" for o, v in _options_of(run) if _is_text(o) and v]
    lines += _returned_lines(run)
    if run.sound_added is not None:
        lines.append(f"- 🔊 {notices.clip_sound(run.model_title, run.sound_added)}")
    if run.request_id:
        lines.append(f"- **fal request id:** `{run.request_id}`")
    if run.error_message and run.status != "cancelled":  # the heading says it was cancelled
        lines.append(f"- **Error:** {run.error_message}")
    if run.finished_at and run.created_at:
        lines.append(f"- **Took:** {run.finished_at - run.created_at:.0f} s")
    if events:
        start = events[0].at
        firsts = [next(group) for _, group in itertools.groupby(events, key=lambda e: e.state)]
        steps = ", ".join(f"{e.state} +{e.at - start:.0f}s" for e in firsts)  # queue moves: once
        lines.append(f"- **Timeline:** {steps}")
    return "\n".join(lines)


# What a run's card calls each field of fal's result it keeps (`{family}`: the model's, "Wan").
_RETURNED_LABELS = {"prompt": "{family}'s prompt", "seed": "Seed used"}


def _returned_lines(run: Run) -> list[str]:
    """What the model told besides its video (Wan: the prompt it made, and the seed it used, which
    given as the seed makes the same video again)."""
    try:
        family = FAMILIES[run.options.runs_on.family].short
    except ValueError:
        family = "The model"
    lines = []
    for name, value in run.returned.items():
        label = _RETURNED_LABELS.get(name, name.replace("_", " ").capitalize()).format(family=family)
        lines.append(f"- **{label}:** {value}")
    return lines


def _options_of(run: Run) -> list[tuple[Option, Any]]:
    """A run's options as the catalogue describes them (a stored one no longer offered is left out)."""
    return [(OPTIONS[name], value) for name, value in run.options.values.items() if name in OPTIONS]


def _is_text(option: Option) -> bool:
    return option.kind is str and not option.choices


def preview_label(options: Options, clip_seconds: float | None, runs: int = 1) -> str:
    """The Preview button says what it sends and what it costs, as Generate does (a batch: a
    preview of each run)."""
    preview = options.model_copy(update={"preview": True})
    seconds = clip_seconds or PREVIEW_SECONDS  # any clip the model takes is at least this long
    cost = format_cost(runs * preview.estimate_cost(seconds))
    each = f"{runs} × " if runs > 1 else ""
    return f"Preview {each}{preview.sent_seconds(seconds):g} s · {preview.runs_on.title} · ≈ {cost}"


def run_full_label(run: Run, clip_seconds: float | None) -> str:
    """A preview's full run spends the chosen model's price on the whole clip: the button says how much."""
    full = run.options.model_copy(update={"preview": False})
    cost = f" · ≈ {format_cost(full.estimate_cost(clip_seconds))}" if clip_seconds else ""
    return f"Run the full clip · {_model_title(full.model)}{cost}"


def _model_title(name: str) -> str:
    """The model as the page's choice names it (*v3 Pro*), or its stored name if it is not known."""
    try:
        return tier(name).title
    except ValueError:
        return name


def run_again_label(run: Run) -> str:
    """Run again spends money as Generate does, so it says how much, as Generate does."""
    return f"Run again · ≈ {format_cost(run.estimated_cost)}" if run.estimated_cost else "Run again"


def selected_text(run: Run, situation: Situation) -> str:
    """The progress line for a run picked in the gallery: where that run is (not where the run before
    it was), and whether fal may have charged for one that did not finish."""
    text = f"{icon(run.status)} Selected run: {situation.label}"
    if situation.charged and run.status != "done":
        cost = f" (about {format_cost(run.estimated_cost)})" if run.estimated_cost else ""
        text += f" · fal may have charged for it{cost}"
    return text + "."


def delete_question(run: Run) -> str:
    """Asked before a run that may have cost money is deleted for good."""
    cost = f" (about {format_cost(run.estimated_cost)})" if run.estimated_cost else ""
    if run.active:
        return (
            f"⚠️ This run may still be on fal{cost}. It is cancelled there first when the key it was "
            "started with is available, then deleted for good. Go on?"
        )
    what = "its video and inputs" if run.output_path else "its record and inputs"
    return f"⚠️ fal may have charged for this run{cost}. Delete {what} for good?"


def key_status(settings: Settings, session_key: str | None) -> str:
    if session_key and session_key.strip():
        return "🔑 Using the key you pasted, for this browser session only. It is never stored."
    if settings.visitors_bring_own_key:
        return (
            "🔑 **Bring your own fal key:** this server does not lend its key. Paste yours below; it is "
            "used for this browser session only and never stored. Get one at https://fal.ai/dashboard/keys."
        )
    if settings.fal_key is not None and settings.fal_key.get_secret_value().strip():
        return "🔑 Using the server's FAL_KEY."
    return (
        "⚠️ **No fal API key is set.** Set `FAL_KEY` in the environment or in a `.env` file next to "
        "`app.py` (on a Hugging Face Space: *Settings → Secrets*), or paste a key below for this "
        "browser session only. Get one at https://fal.ai/dashboard/keys."
    )


def sign_in_status(settings: Settings, account: str | None) -> str:
    """What signing in with Hugging Face means for this visitor (`account`: `hf:<name>` when signed in)."""
    if account is not None:
        name = account.removeprefix("hf:")
        return (
            f"🤗 Signed in as **{name}**: your runs and this Space's limits follow your Hugging Face "
            "account, on any browser or device."
        )
    if settings.sign_in == "required":
        return notices.SIGN_IN_FIRST if settings.sign_in_for_own_keys else notices.SIGN_IN_OR_PASTE
    return notices.SIGN_IN_OPTIONAL_OWN_KEYS if settings.sign_in_for_own_keys else notices.SIGN_IN_OPTIONAL


def error_text(error: StudioError) -> str:
    return f"❌ {error.message}"
