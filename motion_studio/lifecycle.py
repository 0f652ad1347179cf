"""A run's lifecycle: its statuses, the legal moves between them, and what each means for the user.

Every layer reads a run's situation from here — whether fal may have charged for it and what the
user can do next — so the page, the command line and the API can never disagree, and the history
refuses a move this table does not allow (a bug then surfaces as an error, not as a run stuck in a
state that lies).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    CHECKING = "checking"  # inputs are being checked and copied; nothing has left the machine
    UPLOADING = "uploading"  # inputs are going to fal's storage; nothing is queued yet
    SUBMITTING = "submitting"  # the request is on its way to fal's queue
    SUBMITTED = "submitted"  # fal accepted it: from here on it may be billed
    QUEUED = "queued"
    RUNNING = "running"
    CANCELLING = "cancelling"  # fal was asked to cancel; it may still finish
    DOWNLOADING = "downloading"  # fal finished; its video is being copied here
    INTERRUPTED = "interrupted"  # fal could not be reached, or the app stopped: Resume picks it up
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    STOPPED = "stopped"  # the app stopped before the run was sent to fal: nothing was charged
    UNKNOWN = "unknown"  # the app stopped while sending: fal may or may not have the request


class Action(StrEnum):
    WATCH = "watch"
    CANCEL = "cancel"
    RESUME = "resume"
    RUN_AGAIN = "run_again"
    RUN_FULL = "run_full"  # a finished preview: its whole clip on the chosen model
    DELETE = "delete"


FINAL = frozenset({Status.DONE, Status.FAILED, Status.CANCELLED, Status.STOPPED, Status.UNKNOWN})
# Followed by a job right now (or waiting for one after a crash: the startup sweep settles those).
IN_FLIGHT = frozenset(
    {
        Status.CHECKING,
        Status.UPLOADING,
        Status.SUBMITTING,
        Status.SUBMITTED,
        Status.QUEUED,
        Status.RUNNING,
        Status.CANCELLING,
        Status.DOWNLOADING,
    }
)
BEFORE_SUBMIT = frozenset({Status.CHECKING, Status.UPLOADING})
ACTIVE = IN_FLIGHT | {Status.INTERRUPTED}

_AFTER_SUBMIT = {
    Status.QUEUED,
    Status.RUNNING,
    Status.CANCELLING,
    Status.DOWNLOADING,
    Status.FAILED,
    Status.CANCELLED,
    Status.INTERRUPTED,
}
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.CHECKING: frozenset({Status.UPLOADING, Status.FAILED, Status.CANCELLED, Status.STOPPED}),
    Status.UPLOADING: frozenset({Status.SUBMITTING, Status.FAILED, Status.CANCELLED, Status.STOPPED}),
    # INTERRUPTED: fal answered with an id, but the app stopped before it could record "submitted".
    Status.SUBMITTING: frozenset(
        {Status.SUBMITTED, Status.FAILED, Status.CANCELLED, Status.UNKNOWN, Status.INTERRUPTED}
    ),
    Status.SUBMITTED: frozenset(_AFTER_SUBMIT),
    Status.QUEUED: frozenset(_AFTER_SUBMIT),
    Status.RUNNING: frozenset(_AFTER_SUBMIT),  # fal may put a request back in its queue
    # fal may answer a cancel with "already completed": the paid video is then downloaded.
    Status.CANCELLING: frozenset({Status.DOWNLOADING, Status.FAILED, Status.CANCELLED, Status.INTERRUPTED}),
    # A paid video being copied is never "cancelled": if the copy stops, Resume finishes it.
    Status.DOWNLOADING: frozenset({Status.DONE, Status.FAILED, Status.INTERRUPTED}),
    Status.INTERRUPTED: frozenset(_AFTER_SUBMIT),
    **{status: frozenset() for status in FINAL},
}


class IllegalTransitionError(RuntimeError):
    """A bug: some code tried a move the lifecycle does not allow. Never shown to a user as such."""


def can_move(old: Status | str, new: Status | str) -> bool:
    return Status(new) in TRANSITIONS[Status(old)]


def check_move(old: Status | str, new: Status | str) -> None:
    if not can_move(old, new):
        raise IllegalTransitionError(f"a run cannot go from {old!r} to {new!r}")


def may_have_charged(status: Status | str, request_id: str | None) -> bool:
    """fal bills requests it accepted: a run may have cost money once it has a request id (or when
    the app stopped mid-submit, so nobody knows)."""
    status = Status(status)
    if status in (Status.SUBMITTING, Status.UNKNOWN):
        return True
    return request_id is not None and status is not Status.STOPPED


@dataclass(frozen=True)
class Situation:
    """What a user needs to know about a run: where it is, whether it cost money, what they can do."""

    status: Status
    label: str
    charged: bool
    actions: frozenset[Action]
    confirm_delete: bool  # deleting throws away paid work: ask first

    @property
    def delete_label(self) -> str:
        return "Cancel and delete" if Action.CANCEL in self.actions else "Delete this run"


_LABELS = {
    Status.CHECKING: "checking the inputs",
    Status.UPLOADING: "uploading to fal",
    Status.SUBMITTING: "sending to fal",
    Status.SUBMITTED: "submitted to fal",
    Status.QUEUED: "in fal's queue",
    Status.RUNNING: "generating on fal",
    Status.CANCELLING: "cancelling on fal",
    Status.DOWNLOADING: "downloading the result",
    Status.INTERRUPTED: "interrupted: press Resume",
    Status.DONE: "done",
    Status.FAILED: "failed",
    Status.CANCELLED: "cancelled",
    Status.STOPPED: "stopped before it was sent to fal: nothing was charged",
    Status.UNKNOWN: "stopped while sending to fal: it may have been received",
}


def situation(status: Status | str, request_id: str | None, *, followed: bool) -> Situation:
    """`followed`: a job in some process is following the run right now (it can be watched)."""
    status = Status(status)
    charged = may_have_charged(status, request_id)
    actions = {Action.DELETE}
    if status in IN_FLIGHT and followed:
        actions.add(Action.WATCH)
        if status is not Status.DOWNLOADING:
            actions.add(Action.CANCEL)
    elif status in ACTIVE and request_id is not None:
        actions.add(Action.RESUME)  # nobody follows it: fal may still finish it, or has already
    if status in FINAL:
        actions.add(Action.RUN_AGAIN)
    return Situation(
        status=status,
        label=_LABELS[status],
        charged=charged,
        actions=frozenset(actions),
        confirm_delete=charged and Action.CANCEL not in actions,
    )


STATUS_ICONS = {
    Status.DONE: "✅",
    Status.FAILED: "❌",
    Status.CANCELLED: "⏹",
    Status.CANCELLING: "⏹",
    Status.INTERRUPTED: "⚠️",
    Status.STOPPED: "⏸",
    Status.UNKNOWN: "❔",
}


def icon(status: str) -> str:
    try:
        return STATUS_ICONS.get(Status(status), "⏳")
    except ValueError:
        return "⏳"
