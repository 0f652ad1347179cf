"""`python -m motion_studio`: generate from a terminal, list history, resume unfinished runs.

Progress goes to stderr (a live rich display on a terminal, plain lines otherwise) and the output
path is the last line on stdout, so the command composes in shell scripts.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Callable
from datetime import datetime

from rich.console import Console
from rich.markup import escape
from rich.table import Column, Table

from . import notices
from .catalog import FACE_MAX_ANGLES, OPTIONS, compare_option, format_cost
from .cli_batch import STRICT_REFUSED, generate_batch, run_json
from .errors import InternalError, StrictRefusalError, StudioError
from .history.runs import Run
from .jobs.events import Checked, Done, Failed, JobEvent, Running
from .jobs.job import Job
from .lifecycle import Action
from .option_help import described, offered
from .options_parser import parse_options
from .order import MAX_INPUTS, FaceSources, Order, Source
from .people.detect import mute_native_logs
from .settings import Settings, configure_logging, get_settings
from .studio.service import Studio


def _parser(settings: Settings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m motion_studio", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    _generate_arguments(
        commands.add_parser(
            "generate", help="make a video: the image's character performs the clip's motion"
        ),
        settings.default_tier,
    )
    hist = commands.add_parser("history", help="list past runs, newest first")
    hist.add_argument("--limit", type=int, default=20)
    resume = commands.add_parser(
        "resume", help="follow runs that were submitted but never finished, and download them"
    )
    resume.add_argument("run_id", nargs="?", help="only this run (default: every unfinished one)")
    again = commands.add_parser("again", help="start a new run with the inputs and settings of an old one")
    again.add_argument("run_id")
    full = commands.add_parser(
        "full", help="start the full run of a finished preview: the whole clip on the chosen model"
    )
    full.add_argument("run_id")
    return parser


def _generate_arguments(gen: argparse.ArgumentParser, default_model: str) -> None:
    """`generate`'s flags: the inputs, every option as the catalogue describes it, then the face."""
    gen.add_argument(
        "--image",
        required=True,
        action="append",
        help="character image, a file or an http(s) URL (JPG/PNG; WebP, GIF... are converted); repeat it "
        f"for a batch: one run per image on the same clip, at most {MAX_INPUTS}",
    )
    gen.add_argument(
        "--video",
        required=True,
        action="append",
        help="reference clip, a file or an http(s) URL (MP4/MOV; WebM... is converted); repeat it for a "
        f"batch: one run per clip with the same image, at most {MAX_INPUTS} (not with several --image)",
    )
    _option_flags(gen, default_model)
    gen.add_argument(
        "--face",
        metavar="FRONTAL",
        help="keep this face consistent (v3 models, orientation video): a frontal photo of it, file or URL",
    )
    gen.add_argument(
        "--face-angle",
        action="append",
        default=[],
        metavar="PATH",
        help=f"another angle of the same face, file or URL; up to {FACE_MAX_ANGLES} (repeat the flag)",
    )
    gen.add_argument(
        "--strict",
        action="store_true",
        help=f"refuse (exit {STRICT_REFUSED}, nothing uploaded) when the people check warns: no person, "
        "several people, too small, half body vs full body... (runs even if MOTION_STUDIO_PEOPLE_CHECK=false)",
    )
    gen.add_argument(
        "--json",
        action="store_true",
        help="print the run's summary as JSON on stdout (a batch: every run's, and the grid's path)",
    )


def _option_flags(gen: argparse.ArgumentParser, default_model: str) -> None:
    """A flag for every option the catalogue describes, and the comparison's repeatable one."""
    first, added = offered(default_model)
    for option in (*first, *added):
        # No type or choices for argparse: every value goes through `parse_options`, whose sentence
        # names the flag, as the API's names the parameter. A flag given is its default turned around.
        help_text = described(option, "cli").replace("%", "%%")
        if option.kind is bool:
            gen.add_argument(
                *option.cli_flags,
                dest=option.name,
                action="store_const",
                const=not option.default,
                help=help_text,
            )
        else:
            gen.add_argument(*option.cli_flags, dest=option.name, metavar=option.name.upper(), help=help_text)
    compare = compare_option(default_model)
    gen.add_argument(
        *compare.cli_flags,
        dest="compare",
        action="append",
        metavar="MODEL",
        help=described(compare, "cli").replace("%", "%%") + " Repeat the flag for each model.",
    )


def _order(args: argparse.Namespace, default_model: str) -> Order:
    """The command line's order: its options through the parser every edge uses, each input a file
    or a URL to fetch; several --image or several --video make a batch."""
    first, added = offered(default_model)
    given = {option.name: getattr(args, option.name) for option in (*first, *added)}
    options, *compared = parse_options(
        {**given, "more_models": args.compare or None}, edge="cli", default_model=default_model
    )
    image, *more_images = [_source(value) for value in args.image]
    video, *more_videos = [_source(value) for value in args.video]
    face = FaceSources(_source(args.face) if args.face else Source(), tuple(map(_source, args.face_angle)))
    return Order.of(
        options,
        image,
        video,
        more_images=tuple(more_images),
        more_videos=tuple(more_videos),
        face=face,
        compared=tuple(compared),
    )


def _source(value: str) -> Source:
    """A path as it is (the user's own file), a URL to fetch."""
    return Source(url=value.strip()) if _is_url(value) else Source(file=value)


def main(argv: list[str] | None = None) -> int:
    err = Console(stderr=True, highlight=False)
    try:
        settings = get_settings()
    except StudioError as exc:
        err.print(f"[red]error:[/] {exc.message}", soft_wrap=True)
        return 2
    settings.apply_prices()  # before the flags' help, which states them
    args = _parser(settings).parse_args(argv)
    configure_logging(logging.WARNING)  # progress has its own display; logs only for trouble
    mute_native_logs()  # MediaPipe's model-loading chatter has nothing for a terminal's user
    if args.command == "history":  # reads the history only: no key, no runner
        history = settings.open_history()
        history.leases.sweep()
        _print_history(history.reads.recent(args.limit), history.leases.is_followed)
        return 0
    try:
        settings.require_key()
        studio = Studio(settings, local=True)  # the machine's own user: the server's key pays
    except StudioError as exc:
        err.print(f"[red]error:[/] {exc.message}", soft_wrap=True)
        return 2
    try:
        return _command(args, studio, err)
    except StudioError as exc:
        err.print(f"[red]error:[/] {exc.message}", soft_wrap=True)
        return 1
    except Exception:  # a bug: the details to the log, one sentence to the user
        logging.getLogger("motion_studio.cli").debug("unexpected error", exc_info=True)
        err.print(f"[red]error:[/] {InternalError(charged=False).message}", soft_wrap=True)
        return 1
    finally:
        studio.runner.shutdown()


def _command(args: argparse.Namespace, studio: Studio, err: Console) -> int:
    """Each command through the studio's own methods, as the page's buttons go."""
    if args.command == "resume":
        jobs = (
            [studio.runs.resume(args.run_id, None, None)] if args.run_id else studio.runs.resume_unfinished()
        )
        err.print(f"{len(jobs)} unfinished run(s) to resume.")
        return max((_follow(studio, job, err) for job in jobs), default=0)
    if args.command == "again":
        return _follow(studio, studio.runs.run_again(args.run_id, None, None), err)
    if args.command == "full":
        return _follow(studio, studio.runs.run_full(args.run_id, None, None), err)
    order = _order(args, studio.settings.default_tier)  # a wrong option or face: refused here, nothing read
    if order.is_batch:  # several characters, several clips, or several models
        return generate_batch(studio, order, args, err)
    for kind, source in (("image", order.image), ("video", order.video)):
        if source.url and not source.file:
            err.print(f"Fetching the {kind} from {source.url}…", soft_wrap=True, markup=False)
    local = studio.orders.localised(order)
    if not _people_check(studio, local, args.strict, err):
        return STRICT_REFUSED
    return _follow(studio, studio.orders.start(local, None, None), err, as_json=args.json)


def _is_url(value: str) -> bool:
    return value.strip().lower().startswith(("http://", "https://"))


def _people_check(studio: Studio, order: Order, strict: bool, err: Console) -> bool:
    """Print the people check's warnings (advice, like the page's); False when `strict` and it warned.
    A check that could not run (an odd file, no mediapipe) is a note, not a warning."""
    with err.status("Looking for the person in the image and the clip…"):
        found = studio.orders.check_people(order.image.file, order.video.file, always=strict)
    if found is None:
        return True
    for warning in found.warnings:
        err.print(f"  [yellow]warning:[/] {escape(warning.message)}", soft_wrap=True)
    if found.skipped:
        err.print(f"  [yellow]note:[/] {escape(found.skipped)}", soft_wrap=True)
    if strict and found.warnings:
        err.print(f"[red]error:[/] {escape(StrictRefusalError().message)}", soft_wrap=True)
        return False
    return True


def _follow(studio: Studio, job: Job, err: Console, *, as_json: bool = False) -> int:
    """Show the job's events until it ends; Ctrl-C cancels the fal request, not just the display.
    `as_json`: the run's summary on stdout, whatever the end (scripts read its status)."""
    try:
        final = asyncio.run(_show(job, err))
    except KeyboardInterrupt:
        err.print("Cancelling the fal request…")
        studio.runner.cancel(job.id)
        final = job.wait(studio.settings.cancel_grace_seconds + 5)
    run = studio.history.reads.get(job.run_id) if job.run_id else None
    if as_json and run is not None:
        print(run_json(studio.history, run))
    if isinstance(final, Done):
        if not as_json:
            print(final.output)
        if run is not None and run.is_preview:
            err.print(notices.preview_done(run.id), soft_wrap=True)
        return 0
    if isinstance(final, Failed):
        err.print(f"[red]error:[/] {final.message}", soft_wrap=True)
        return 1
    err.print("Cancelled.")
    return 130


async def _show(job: Job, err: Console) -> JobEvent | None:
    last: JobEvent | None = None
    with err.status("Checking inputs…") as status:
        async for event in job.subscribe():
            last = event
            if isinstance(event, Running):
                for line in event.logs:
                    err.print(f"  [dim]fal:[/] {line}", soft_wrap=True)
            if isinstance(event, Checked):
                for note in event.notes:  # conversions the user should know about
                    err.print(f"  [yellow]note:[/] {note}", soft_wrap=True)
            if not event.terminal:
                elapsed = time.time() - job.started_at
                text = f"{event.describe()} [dim]({elapsed:.0f} s)[/]"
                status.update(text)
                if not err.is_terminal:
                    err.print(text)
    return last


def _print_history(runs: list[Run], is_followed: Callable[[Run], bool]) -> None:
    """One row a run; a column for the model and one for its options that are not a text (each model
    takes its own, so one column per option would be mostly empty)."""
    table = Table(
        Column("run", no_wrap=True),  # whole, so it can be copied into `resume` or `again`
        "when", "status", Column("model", no_wrap=True), "options", "clip", "cost",
        "output / error", Column("next", no_wrap=True), show_lines=False,
    )  # fmt: skip
    for run in runs:
        situation = run.situation(followed=is_followed(run))
        when = datetime.fromtimestamp(run.created_at).strftime("%Y-%m-%d %H:%M")
        clip = f"{run.clip_seconds:.1f} s" if run.clip_seconds else "-"
        cost = format_cost(run.estimated_cost) if run.estimated_cost is not None else "-"
        table.add_row(
            run.id,
            when,
            run.status,
            f"{run.options.model} (preview)" if run.is_preview else run.options.model,
            _options_text(run),
            clip,
            cost,
            run.output_path or run.error_message or "",
            _next_step(run.id, situation.actions),
        )
    Console(width=240).print(table if table.row_count else "No runs yet.")


def _options_text(run: Run) -> str:
    """A run's own options that are not a text, as its card says them: "Orientation video, Sound kept"."""
    shown = [
        f"{option.short or option.label} {option.shown(value)}"
        for name, value in run.options.values.items()
        if (option := OPTIONS.get(name)) is not None and (option.kind is not str or option.choices)
    ]
    return ", ".join(shown) or "-"


def _next_step(run_id: str, actions: frozenset[Action]) -> str:
    if Action.RUN_FULL in actions:
        return f"full {run_id}"
    if Action.RESUME in actions:
        return f"resume {run_id}"
    if Action.WATCH in actions:
        return "running"
    return f"again {run_id}" if Action.RUN_AGAIN in actions else ""


if __name__ == "__main__":
    sys.exit(main())
