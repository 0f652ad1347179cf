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
from datetime import datetime

from pydantic import SecretStr
from rich.console import Console
from rich.markup import escape
from rich.table import Column, Table

from . import fetching, notices
from .catalog import FACE_MAX_ANGLES, check_face, format_cost
from .cli_batch import STRICT_REFUSED, generate_batch, run_json
from .errors import InternalError, RunActionError, StrictRefusalError, StudioError
from .history.runs import Run
from .history.store import History
from .jobs.events import Checked, Done, Failed, JobEvent, Running
from .jobs.job import Job
from .jobs.runner import JobRunner
from .lifecycle import Action
from .order import MAX_INPUTS, FaceSources, Options, Order, Source, option_fields
from .people.detect import mute_native_logs
from .people_check import check_inputs
from .settings import Settings, configure_logging, get_settings


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
    """`generate`'s flags: the inputs, then every option as `Options` describes it, then the face."""
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
    for option in option_fields():
        default = default_model if option.name == "model" else option.default
        if option.kind is bool:  # a flag that turns the option's default around
            action = "store_false" if default else "store_true"
            gen.add_argument(*option.cli, dest=option.name, action=action, help=option.description)
            continue
        choices = list(option.choices) or None
        gen.add_argument(
            *option.cli, dest=option.name, choices=choices, default=default,
            help=option.description.replace("%", "%%") + " Default: %(default)s",
        )  # fmt: skip
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


def _order(args: argparse.Namespace) -> Order:
    """The command line's order: its options by the same description the API uses, each input a
    file or a URL to fetch; several --image or several --video make a batch."""
    options = Options.model_validate({option.name: getattr(args, option.name) for option in option_fields()})
    image, *more_images = [_source(value) for value in args.image]
    video, *more_videos = [_source(value) for value in args.video]
    face = FaceSources(_source(args.face) if args.face else Source(), tuple(map(_source, args.face_angle)))
    return Order.of(
        options, image, video, more_images=tuple(more_images), more_videos=tuple(more_videos), face=face
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
    history = settings.open_history()
    if args.command == "history":
        history.sweep()
        _print_history(history, args.limit)
        return 0
    try:
        key = settings.require_key()
        runner = JobRunner(settings, history)
    except StudioError as exc:
        err.print(f"[red]error:[/] {exc.message}", soft_wrap=True)
        return 2
    try:
        return _command(args, runner, key, err)
    except StudioError as exc:
        err.print(f"[red]error:[/] {exc.message}", soft_wrap=True)
        return 1
    except Exception:  # a bug: the details to the log, one sentence to the user
        logging.getLogger("motion_studio.cli").debug("unexpected error", exc_info=True)
        err.print(f"[red]error:[/] {InternalError(charged=False).message}", soft_wrap=True)
        return 1
    finally:
        runner.shutdown()


def _command(args: argparse.Namespace, runner: JobRunner, key: SecretStr, err: Console) -> int:
    history = runner.history
    if args.command == "resume":
        if args.run_id:
            run = _existing(history, args.run_id)
            if Action.RESUME not in run.situation(followed=False).actions:
                raise RunActionError.cli_nothing_to_resume(run.id, run.status)
            if run.key_source != "server":
                raise RunActionError.cli_pasted_key(run.id)
            jobs = [runner.resume(run, key, "server")]
        else:
            jobs = runner.resume_unfinished(key)
        err.print(f"{len(jobs)} unfinished run(s) to resume.")
        codes = [_follow(runner, job, err) for job in jobs]
        return max(codes, default=0)
    if args.command == "again":
        run = _existing(history, args.run_id)
        if Action.RUN_AGAIN not in run.situation(followed=False).actions:
            raise RunActionError.cli_still_going(run.id, run.status)
        return _follow(runner, runner.run_again(run, key), err)
    if args.command == "full":
        run = _existing(history, args.run_id)
        if Action.RUN_FULL not in run.situation(followed=False).actions:
            raise RunActionError.not_a_finished_preview()
        return _follow(runner, runner.run_full(run, key), err)
    history.sweep()  # runs a crash left behind get their true status before a new one starts
    settings = runner.settings
    order = _order(args)
    check_face(order.options.model, order.options.orientation, order.face.outline())  # before any fetch
    if any(map(_is_url, [*args.image, *args.video])):  # room first: never prune an input about to be used
        scratch = [settings.data_dir / "downloads", settings.data_dir / "trimmed"]
        fetching.prune(scratch, settings.scratch_mb * 2**20)
    if order.is_batch:  # several characters on one clip, or one character on several clips
        return generate_batch(order, args, runner, key, err)
    image = _local_input(order.image, "image", settings, err)
    video = _local_input(order.video, "video", settings, err)
    face = FaceSources(
        _local_input(order.face.frontal, "image", settings, err) if order.face.frontal else Source(),
        tuple(_local_input(angle, "image", settings, err) for angle in order.face.angles),
    )
    if (settings.people_check or args.strict) and not _people_check(image.file, video.file, args.strict, err):
        return STRICT_REFUSED
    local = Order(order.options, ((image, video),), face)
    return _follow(runner, runner.start(local, key), err, as_json=args.json)


def _is_url(value: str) -> bool:
    return value.strip().lower().startswith(("http://", "https://"))


def _local_input(source: Source, kind: str, settings: Settings, err: Console) -> Source:
    """A path as it is; a URL fetched into the data directory (as the page does), keeping the https
    URL it came from, so an input already on fal's CDN can be passed to fal without a second upload."""
    if source.file or not source.url:
        return source
    url = source.url
    err.print(f"Fetching the {kind} from {url}…", soft_wrap=True, markup=False)
    path = fetching.fetch_url(url, kind, settings.data_dir / "downloads")
    return Source(str(path), url if url.lower().startswith("https://") else None)


def _people_check(image: str | None, video: str | None, strict: bool, err: Console) -> bool:
    """Print the people check's warnings (advice, like the page's); False when `strict` and it warned.
    A check that could not run (an odd file, no mediapipe) is a note, not a warning."""
    with err.status("Looking for the person in the image and the clip…"):
        found = check_inputs(image, video)
    for warning in found.warnings:
        err.print(f"  [yellow]warning:[/] {escape(warning.message)}", soft_wrap=True)
    if found.skipped:
        err.print(f"  [yellow]note:[/] {escape(found.skipped)}", soft_wrap=True)
    if strict and found.warnings:
        err.print(f"[red]error:[/] {escape(StrictRefusalError().message)}", soft_wrap=True)
        return False
    return True


def _existing(history: History, run_id: str) -> Run:
    run = history.get(run_id)
    if run is None:
        raise RunActionError.unknown_id(run_id)
    return run


def _follow(runner: JobRunner, job: Job, err: Console, *, as_json: bool = False) -> int:
    """Show the job's events until it ends; Ctrl-C cancels the fal request, not just the display.
    `as_json`: the run's summary on stdout, whatever the end (scripts read its status)."""
    try:
        final = asyncio.run(_show(job, err))
    except KeyboardInterrupt:
        err.print("Cancelling the fal request…")
        runner.cancel(job.id)
        final = job.wait(runner.settings.cancel_grace_seconds + 5)
    run = runner.history.get(job.run_id) if as_json and job.run_id else None
    if run is not None:
        print(run_json(runner.history, run))
    if isinstance(final, Done):
        if not as_json:
            print(final.output)
        preview = runner.history.get(job.run_id) if job.run_id else None
        if preview is not None and preview.is_preview:
            err.print(notices.preview_done(preview.id), soft_wrap=True)
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


def _print_history(history: History, limit: int) -> None:
    table = Table(
        Column("run", no_wrap=True),  # whole, so it can be copied into `resume` or `again`
        "when", "status", "tier", "orient.", "clip", "cost", "output / error", "next", show_lines=False
    )  # fmt: skip
    for run in history.recent(limit):
        situation = run.situation(followed=history.is_followed(run))
        when = datetime.fromtimestamp(run.created_at).strftime("%Y-%m-%d %H:%M")
        clip = f"{run.clip_seconds:.1f} s" if run.clip_seconds else "-"
        cost = format_cost(run.estimated_cost) if run.estimated_cost is not None else "-"
        table.add_row(
            run.id,
            when,
            run.status,
            f"{run.options.model} (preview)" if run.is_preview else run.options.model,
            run.options.orientation,
            clip,
            cost,
            run.output_path or run.error_message or "",
            _next_step(run.id, situation.actions),
        )
    Console(width=240).print(table if table.row_count else "No runs yet.")


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
