"""The run lifecycle and the job outcome, as pure functions: no emulator, no files but a database."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import subprocess
from pathlib import Path

import httpx
import pytest

from motion_studio.errors import (
    AuthError,
    BudgetError,
    ContentPolicyError,
    FalServerError,
    FalTimeoutError,
    InputError,
    LostContactError,
    NetworkError,
    OutputExpiredError,
    OutputNotServedError,
    RequestUnknownError,
    RunCancelledError,
    RunGoneError,
)
from motion_studio.history.runs import Run
from motion_studio.history.store import History
from motion_studio.jobs.outcome import outcome_for
from motion_studio.lifecycle import (
    ACTIVE,
    FINAL,
    TRANSITIONS,
    Action,
    IllegalTransitionError,
    Status,
    can_move,
    may_have_charged,
    situation,
)
from motion_studio.order import Options

# The way a run walks through the history when all goes well, and the ways it may end instead.
HAPPY_PATH = ["uploading", "submitting", "submitted", "queued", "running", "downloading", "done"]


@pytest.fixture
def history(tmp_path: Path) -> History:
    return History(tmp_path / "h.sqlite3", tmp_path / "runs")


def new_run(history: History, status: Status) -> str:
    """A run put straight into `status` (rows are only ever created as checking, so via SQL)."""
    run = history.writes.create(Run(options=Options(), endpoint="e"))
    with sqlite3.connect(history.db.db_path) as conn:
        conn.execute("UPDATE runs SET status = ? WHERE id = ?", (status.value, run.id))
    return run.id


def test_every_status_has_its_moves_and_final_ones_have_none() -> None:
    assert set(TRANSITIONS) == set(Status)
    for status in FINAL:
        assert TRANSITIONS[status] == frozenset()
    for status in ACTIVE:
        assert TRANSITIONS[status], status  # every live status can end somewhere


@pytest.mark.parametrize(("old", "new"), list(itertools.product(Status, Status)))
def test_the_history_refuses_every_illegal_move(history: History, old: Status, new: Status) -> None:
    run_id = new_run(history, old)
    if can_move(old, new):
        history.writes.record(run_id, new)
        assert history.reads.get(run_id).status == new.value
    else:
        with pytest.raises(IllegalTransitionError):
            history.writes.record(run_id, new)
        assert history.reads.get(run_id).status == old.value  # nothing written


def test_the_happy_path_is_legal_and_timed(history: History) -> None:
    run = history.writes.create(Run(options=Options(), endpoint="e"))
    for state in HAPPY_PATH:
        history.writes.record(run.id, state)
    assert [e.state for e in history.reads.events(run.id)] == ["checking", *HAPPY_PATH]


def test_the_database_itself_refuses_a_status_the_lifecycle_does_not_know(history: History) -> None:
    run = history.writes.create(Run(options=Options(), endpoint="e"))
    with sqlite3.connect(history.db.db_path) as conn, pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        conn.execute("UPDATE runs SET status = 'paused' WHERE id = ?", (run.id,))
    with pytest.raises(ValueError):
        history.writes.update(run.id, status="done")  # only `record` moves a run


def test_moving_a_deleted_run_is_a_clear_error(history: History) -> None:
    run = history.writes.create(Run(options=Options(), endpoint="e"))
    history.writes.delete(run.id)
    with pytest.raises(RunGoneError):
        history.writes.record(run.id, "uploading")


def test_charged_means_fal_has_a_request_id() -> None:
    assert not may_have_charged("uploading", None)
    assert not may_have_charged("failed", None)  # refused before fal accepted anything
    assert not may_have_charged("stopped", None)
    assert may_have_charged("submitting", None)  # nobody knows: say so
    assert may_have_charged("unknown", None)
    for status in ("submitted", "queued", "running", "downloading", "done", "failed", "interrupted"):
        assert may_have_charged(status, "req-1"), status


def test_what_a_user_can_do_comes_from_the_lifecycle() -> None:
    running = situation("running", "req", followed=True)
    assert running.actions == {Action.WATCH, Action.CANCEL, Action.DELETE}
    assert running.delete_label == "Cancel and delete" and not running.confirm_delete
    downloading = situation("downloading", "req", followed=True)
    assert Action.CANCEL not in downloading.actions  # a finished, paid video is never thrown away
    orphan = situation("running", "req", followed=False)  # its follower died
    assert Action.RESUME in orphan.actions and Action.WATCH not in orphan.actions
    assert Action.RESUME in situation("interrupted", "req", followed=False).actions
    assert Action.RESUME not in situation("uploading", None, followed=False).actions  # nothing to follow
    stopped = situation("stopped", None, followed=False)
    assert stopped.actions == {Action.RUN_AGAIN, Action.DELETE} and not stopped.charged
    assert not stopped.confirm_delete and "nothing was charged" in stopped.label
    done = situation("done", "req", followed=False)
    assert done.actions == {Action.RUN_AGAIN, Action.DELETE} and done.confirm_delete


# -- outcome_for: whatever a job raises, where its run rests and what the user reads --------------


def cancelled() -> BaseException:
    return asyncio.CancelledError()


OUTCOMES = [
    # (exception, cancel requested, phase) -> (status, kind)
    (InputError("too long"), False, None, None, "input"),
    (BudgetError("over"), False, None, None, "budget"),
    (subprocess.TimeoutExpired("ffmpeg", 300), False, None, None, "internal"),
    (KeyError("x"), False, Status.CHECKING, Status.FAILED, "internal"),
    (NetworkError("down"), False, Status.UPLOADING, Status.FAILED, "network"),
    (AuthError("401"), False, Status.UPLOADING, Status.FAILED, "auth"),
    (FalServerError("500"), False, Status.SUBMITTING, Status.FAILED, "server"),  # fal answered: refused
    (httpx.ReadTimeout("no answer"), False, Status.SUBMITTING, Status.UNKNOWN, "unknown"),  # unknown
    (FalTimeoutError("fal's 504"), False, Status.SUBMITTING, Status.FAILED, "timeout"),  # fal answered
    (AuthError("401"), False, Status.RUNNING, Status.INTERRUPTED, "auth"),  # another key may fetch it
    (LostContactError(FalServerError("503")), False, Status.RUNNING, Status.INTERRUPTED, "interrupted"),
    (NetworkError("down"), False, Status.QUEUED, Status.INTERRUPTED, "interrupted"),
    (KeyError("x"), False, Status.RUNNING, Status.INTERRUPTED, "internal"),
    (OutputExpiredError("req"), False, Status.DOWNLOADING, Status.FAILED, "expired"),
    (OutputNotServedError("req"), False, Status.DOWNLOADING, Status.INTERRUPTED, "interrupted"),
    (RequestUnknownError("req"), False, Status.INTERRUPTED, Status.FAILED, "unknown_request"),
    (ContentPolicyError("flagged"), False, Status.RUNNING, Status.FAILED, "content_policy"),
    (RunGoneError(), False, Status.RUNNING, None, "deleted"),
    (FalServerError("cancelled"), True, Status.CANCELLING, Status.CANCELLED, "cancelled"),
    (RunCancelledError(), False, Status.INTERRUPTED, Status.CANCELLED, "cancelled"),
    (cancelled(), True, None, None, "cancelled"),
    (cancelled(), True, Status.UPLOADING, Status.CANCELLED, "cancelled"),
    # fal never confirmed the cancel: it may still finish and bill, so the run stays resumable
    (cancelled(), True, Status.CANCELLING, Status.INTERRUPTED, "interrupted"),
    (cancelled(), True, Status.DOWNLOADING, Status.INTERRUPTED, "interrupted"),
    (cancelled(), False, Status.CHECKING, Status.STOPPED, "stopped"),
    (cancelled(), False, Status.UPLOADING, Status.STOPPED, "stopped"),
    (cancelled(), False, Status.SUBMITTING, Status.UNKNOWN, "unknown"),
    (cancelled(), False, Status.RUNNING, Status.INTERRUPTED, "interrupted"),
    (cancelled(), False, Status.DOWNLOADING, Status.INTERRUPTED, "interrupted"),
]


@pytest.mark.parametrize(("exc", "cancel", "phase", "status", "kind"), OUTCOMES)
def test_outcome_for(exc: BaseException, cancel: bool, phase, status, kind: str) -> None:
    outcome = outcome_for(exc, cancel, phase)
    assert (outcome.status, outcome.error.kind) == (status, kind)
    assert outcome.status is None or phase is None or can_move(phase, outcome.status)
    message = outcome.error.message
    assert message and type(exc).__name__ not in message  # one sentence, never a class name


def test_unforeseen_errors_are_logged_and_say_whether_anything_was_charged() -> None:
    before = outcome_for(ZeroDivisionError(), False, Status.UPLOADING)
    assert before.unexpected and "nothing was charged" in before.error.message
    after = outcome_for(httpx.ResponseNotRead(), False, Status.DOWNLOADING)
    assert after.unexpected and after.status is Status.INTERRUPTED and "Resume" in after.error.message
