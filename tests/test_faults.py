"""Every fault at every network step, through the command line and through the API.

Each case says where the run must rest, what the user reads, and how many requests fal may have
received (never more than one). A run left interrupted is then finished by Resume (the CLI's
`resume`, or the app's restart), from the saved output URL when fal had already finished.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from motion_studio.history.store import History
from motion_studio.settings import Settings

from .browser import running_app
from .fal_emulator import TRUNCATE, FalEmulator
from .test_cli import cli, generate, only_run
from .waiting import wait_for


@dataclass(frozen=True)
class Case:
    name: str
    setup: Callable[[FalEmulator], object]
    status: str  # where the run rests
    kind: str | None = None  # its error kind (None: done)
    words: str = ""  # what the user reads
    submits: int = 1


CASES = [
    Case("upload-503-falls-back", lambda f: f.fail("upload", 503), "done"),
    Case(
        "upload-and-fallback-503",
        lambda f: (f.fail("upload", 503), f.fail("initiate", 503)),
        "failed",
        "server",
        "fal failed on its side",
        submits=0,
    ),
    Case("submit-503", lambda f: f.fail("submit", 503), "failed", "server", "fal failed on its side", 0),
    Case(
        "submit-answer-lost",  # fal queued it, the answer never arrived: sent once, and said so
        lambda f: f.fail("submit", TRUNCATE),
        "unknown",
        "unknown",
        "not known whether fal received it",
    ),
    Case("status-503-x3", lambda f: f.fail("status", 503, times=3), "done"),
    Case("status-503-for-1s", lambda f: f.fail("status", 503, seconds=1), "done"),
    Case(
        "status-503-always",
        lambda f: f.fail("status", 503),
        "interrupted",
        "interrupted",
        "press Resume",
    ),
    Case(
        "status-404",
        lambda f: f.fail("status", 404, {"detail": "Request not found"}),
        "failed",
        "unknown_request",
        "fal no longer knows this request",
    ),
    Case("result-503-x2", lambda f: f.fail("result_http", 503, times=2), "done"),
    Case("result-503-always", lambda f: f.fail("result_http", 503), "interrupted", "interrupted", "Resume"),
    Case("output-503-x2", lambda f: f.fail("output", 503, times=2), "done"),
    Case("output-truncated", lambda f: f.fail("output", TRUNCATE, times=1), "done"),
    Case("output-503-always", lambda f: f.fail("output", 503), "interrupted", "interrupted", "Resume"),
    Case(  # moments after COMPLETED a missing video is a hiccup of fal's CDN, not its expiry
        "output-404",
        lambda f: f.fail("output", 404),
        "interrupted",
        "interrupted",
        "does not serve its video yet",
    ),
]
CLASS_NAME = re.compile(r"\b[A-Z][a-zA-Z]+(Error|Exception|NotRead)\b")


def check_run(data_dir: Path, fal: FalEmulator, case: Case) -> None:
    run = only_run(data_dir)
    assert run.status == case.status, (run.status, run.error_message)
    assert len(fal.submitted) == case.submits
    if case.kind:
        assert run.error_kind == case.kind and case.words in run.error_message
        assert not CLASS_NAME.search(run.error_message)
    if case.kind == "unknown_request" or case.name == "output-404":
        assert fal.submitted[0].id in run.error_message  # the request id, for fal's support
    if case.status == "done":
        assert Path(run.output_path).is_file()
    if case.status == "done" and case.name.split("-")[0] in ("status", "result", "output"):
        route = {"result": "result_http"}.get(case.name.split("-")[0], case.name.split("-")[0])
        assert not fal.faults[route].active()  # every fault answer was served, and the run got past them
    if case.name == "upload-503-falls-back":
        assert len(fal.calls_to("initiate")) == 2  # fal_client's fallback route took both files


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_cli_under_fault(fal: FalEmulator, data_dir: Path, samples, case: Case) -> None:
    case.setup(fal)
    result = generate(fal, data_dir, samples)
    assert "Traceback" not in result.stderr and not CLASS_NAME.search(result.stderr), result.stderr
    if case.status == "done":
        assert result.returncode == 0, result.stderr
        assert Path(result.stdout.strip().splitlines()[-1]).is_file()
    else:
        assert result.returncode == 1
        assert case.words in result.stderr.strip().splitlines()[-1]
    check_run(data_dir, fal, case)
    if case.status == "interrupted":
        results_before = len(fal.calls_to("result"))
        fal.faults.clear()
        resumed = cli(fal, data_dir, "resume")
        assert resumed.returncode == 0, resumed.stderr
        run = only_run(data_dir)
        assert run.status == "done" and Path(run.output_path).is_file() and len(fal.submitted) == 1
        if case.name.startswith("output"):  # fal had finished: the saved output URL is used as it is
            assert len(fal.calls_to("result")) == results_before


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_api_under_fault(settings: Settings, fal: FalEmulator, samples, case: Case, tmp_path: Path) -> None:
    from gradio_client import Client, handle_file

    case.setup(fal)
    # The command line's retry window (see `cli_command`): a run resting interrupted waits it out once.
    settings = settings.model_copy(update={"status_retry_seconds": 3})
    with running_app(settings) as url:
        client = Client(url, download_files=str(tmp_path))
        call = lambda: client.predict(  # noqa: E731
            image=handle_file(str(samples["image_jpg"])),
            video=handle_file(str(samples["clip_5s"])),
            api_name="/generate",
        )
        if case.status == "done":
            video, summary = call()
            assert Path(video).is_file() and summary["status"] == "done"
        else:
            with pytest.raises(Exception) as raised:
                call()
            assert case.words in str(raised.value) and not CLASS_NAME.search(str(raised.value))
        check_run(settings.data_dir, fal, case)
    if case.status == "interrupted":
        fal.faults.clear()
        with running_app(settings):  # a restart follows the server key's unfinished runs again
            history = History(settings.db_path, settings.runs_dir)
            wait_for(lambda: history.reads.recent()[0].status == "done", 30, "the resumed run done")
        assert len(fal.submitted) == 1


def test_a_video_missing_after_fals_retention_has_expired(fal: FalEmulator, data_dir: Path, samples) -> None:
    """The early 404 rests interrupted; once the run finished longer ago than fal keeps outputs (seven
    days by default), the same 404 is final, and says why."""
    fal.fail("output", 404)
    assert generate(fal, data_dir, samples).returncode == 1
    assert only_run(data_dir).status == "interrupted"
    history = History(data_dir / "history.sqlite3", data_dir / "runs")
    with history.db.connect() as conn:  # fal said COMPLETED eight days ago
        conn.execute("UPDATE run_events SET at = at - ? WHERE state = 'downloading'", (8 * 86400,))
    resumed = cli(fal, data_dir, "resume")
    run = only_run(data_dir)
    assert run.status == "failed" and run.error_kind == "expired", run.error_message
    assert "fal's copy of this video has expired" in run.error_message
    assert "fal keeps a video 7 days, and this one finished 8 days ago" in run.error_message
    assert fal.submitted[0].id in run.error_message and "expired" in resumed.stderr
