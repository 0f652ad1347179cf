"""How a job ends, decided in one pure function: whatever was raised, where the run was, and whether
the user asked to cancel give the status the run rests in and the one sentence the user reads.

Like arq's `run_job`, nothing a job raises escapes as-is: an exception nobody foresaw becomes an
`InternalError` (its traceback goes to the server log), never a class name on the page.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ..errors import (
    TRANSIENT_ERRORS,
    AuthError,
    CancelUnconfirmedError,
    FollowerStoppedError,
    InternalError,
    LostContactError,
    OutputNotServedError,
    RunCancelledError,
    RunGoneError,
    StoppedBeforeSubmitError,
    StudioError,
    SubmitUnconfirmedError,
    map_exception,
)
from ..lifecycle import BEFORE_SUBMIT, Status

# What fal answers once a cancelled request ends (or a cancel raced its end): the cancel worked.
_CANCEL_ECHOES = ("cancelled", "server", "validation", "not_found", "unknown_request")


@dataclass(frozen=True)
class Outcome:
    """`status` None: there is no run row to write (refused by the checks, or deleted)."""

    status: Status | None
    error: StudioError
    unexpected: bool = False  # log the traceback


def outcome_for(exc: BaseException, cancel_requested: bool, phase: Status | None) -> Outcome:
    """`phase`: the run's status when `exc` was raised; None before its row exists."""
    if isinstance(exc, asyncio.CancelledError):
        return _interrupted_by_cancel(cancel_requested, phase)
    error = map_exception(exc)
    unexpected = isinstance(error, InternalError) and not isinstance(exc, InternalError)
    if isinstance(error, RunGoneError):
        return Outcome(None, error)
    submitted = phase is not None and phase not in BEFORE_SUBMIT and phase is not Status.SUBMITTING
    if cancel_requested and error.kind in _CANCEL_ECHOES and phase is not Status.DOWNLOADING:
        return Outcome(None if phase is None else Status.CANCELLED, RunCancelledError())
    if phase is None:
        return Outcome(None, error, unexpected)
    if isinstance(error, RunCancelledError) and phase is not Status.DOWNLOADING:
        return Outcome(Status.CANCELLED, error)  # fal says it was cancelled (after a restart, say)
    if phase is Status.SUBMITTING and not error.fal_answered:
        # No answer from fal: the request may have arrived (fal_client even retries it).
        return Outcome(Status.UNKNOWN, SubmitUnconfirmedError("The connection to fal broke"), unexpected)
    if not submitted:
        return Outcome(Status.FAILED, error, unexpected)
    if isinstance(error, LostContactError | CancelUnconfirmedError | OutputNotServedError):
        return Outcome(Status.INTERRUPTED, error)
    if isinstance(error, AuthError):  # the wrong key, or a locked account: another key may fetch it
        return Outcome(Status.INTERRUPTED, error)
    if isinstance(error, TRANSIENT_ERRORS):  # fal is away: it may still finish and bill the run
        return Outcome(Status.INTERRUPTED, LostContactError(error))
    if isinstance(error, InternalError):  # a bug after submit: keep the run resumable, not lost
        return Outcome(Status.INTERRUPTED, InternalError(charged=True), unexpected)
    return Outcome(Status.FAILED, error, unexpected)


def _interrupted_by_cancel(cancel_requested: bool, phase: Status | None) -> Outcome:
    """The task was cancelled: by the user (Cancel), or by the app shutting down."""
    if phase is Status.DOWNLOADING:  # a finished, paid video is never thrown away: Resume fetches it
        return Outcome(Status.INTERRUPTED, FollowerStoppedError())
    if cancel_requested and (phase is None or phase in BEFORE_SUBMIT):
        return Outcome(None if phase is None else Status.CANCELLED, RunCancelledError())
    if cancel_requested and phase is not Status.SUBMITTING:  # fal never said it stopped the request
        return Outcome(Status.INTERRUPTED, CancelUnconfirmedError())
    if phase is None or phase in BEFORE_SUBMIT:
        return Outcome(None if phase is None else Status.STOPPED, StoppedBeforeSubmitError())
    if phase is Status.SUBMITTING:
        return Outcome(Status.UNKNOWN, SubmitUnconfirmedError())
    return Outcome(Status.INTERRUPTED, FollowerStoppedError())
