"""Errors for where a run stands when it ends badly: lost contact, a failed model, stopped before or
during submit, an unconfirmed cancel, a stopped follower, deleted or cancelled."""

from __future__ import annotations

from .base import StudioError


class LostContactError(StudioError):
    """fal stopped answering (5xx, network, rate limit) after the run was submitted, beyond all retries.

    The request may well finish on fal and be billed, so the run is kept as resumable, not failed.
    """

    kind = "interrupted"

    def __init__(self, cause: StudioError) -> None:
        super().__init__(
            f"fal could not be reached for a while during this run ({cause.kind.replace('_', ' ')}). "
            "The run is kept: press Resume on it in the gallery, or run `python -m motion_studio resume`, "
            "once fal answers again."
        )
        self.cause = cause


class ModelFailedError(StudioError):
    """fal finished the request with an error: final, whatever its kind (a retry cannot change it)."""

    def __init__(self, cause: StudioError) -> None:
        super().__init__(cause.message)
        self.kind = cause.kind
        self.cause = cause


class StoppedBeforeSubmitError(StudioError):
    """The app stopped (a crash, a restart) before the run reached fal's queue."""

    kind = "stopped"

    def __init__(self) -> None:
        super().__init__(
            "The app stopped before this run was sent to fal, so nothing was charged. "
            "Press Run again to start it with the same inputs."
        )


class SubmitUnconfirmedError(StudioError):
    """The request was on its way to fal when the app stopped or the connection broke: fal may or
    may not have received it (and may bill it)."""

    kind = "unknown"

    def __init__(self, what: str = "The app stopped") -> None:
        super().__init__(
            f"{what} while sending this run to fal, so it is not known whether fal received it; if it "
            "did, it may be billed (see https://fal.ai/dashboard/requests). Press Run again to start it over."
        )


class CancelUnconfirmedError(StudioError):
    """Cancel was asked for, but fal never said the request was cancelled: it may still finish."""

    kind = "interrupted"

    def __init__(self) -> None:
        super().__init__(
            "fal did not confirm the cancel, so it may still finish (and bill) this run. Press Resume "
            "on it in the gallery, or run `python -m motion_studio resume`, to fetch its video if it does."
        )


class FollowerStoppedError(StudioError):
    """The process following a submitted run stopped; fal may still finish the run."""

    kind = "interrupted"

    def __init__(self) -> None:
        super().__init__(
            "The app stopped while this run was on fal; fal may still finish it. Press Resume on it in "
            "the gallery, or run `python -m motion_studio resume`, to fetch the video."
        )


class RunGoneError(StudioError):
    """The run was deleted while something still worked on it."""

    kind = "deleted"

    def __init__(self) -> None:
        super().__init__("This run was deleted.")


class RunCancelledError(StudioError):
    kind = "cancelled"

    def __init__(self, message: str = "The run was cancelled.") -> None:
        super().__init__(message)


class RunActionError(StudioError):
    """What a user asked of a run that its state (or what is left of it) does not allow."""

    @classmethod
    def gone(cls) -> RunActionError:
        return cls("This run no longer exists.")

    @classmethod
    def nothing_to_resume(cls) -> RunActionError:
        return cls("This run is not waiting for anything.")

    @classmethod
    def still_going(cls) -> RunActionError:
        return cls("This run is still going.")

    @classmethod
    def not_a_finished_preview(cls) -> RunActionError:
        return cls("Only a finished preview has a full clip to run: select one in the gallery first.")

    @classmethod
    def no_full_clip(cls) -> RunActionError:
        return cls("This preview's whole clip is no longer kept: generate the full run from the clip again.")

    @classmethod
    def video_gone(cls) -> RunActionError:
        return cls("This run's video is no longer kept.")

    @classmethod
    def not_finished(cls) -> RunActionError:
        return cls("Select a finished run first: the side-by-side view needs its video.")

    @classmethod
    def clip_gone(cls) -> RunActionError:
        return cls("This run's reference clip is no longer kept, so there is nothing to put beside it.")

    @classmethod
    def side_by_side_failed(cls, why: str) -> RunActionError:
        return cls(f"The side-by-side video could not be made: {why}")

    @classmethod
    def server_key_gone(cls) -> RunActionError:
        return cls("This run was started with the server's key, which is no longer set.")

    @classmethod
    def pasted_key_needed(cls) -> RunActionError:
        return cls("This run was started with a key pasted in the page: paste that key first.")

    @classmethod
    def unknown_id(cls, run_id: str) -> RunActionError:
        return cls(f"There is no run {run_id!r}; `python -m motion_studio history` lists them.")

    @classmethod
    def cli_nothing_to_resume(cls, run_id: str, status: str) -> RunActionError:
        return cls(f"Run {run_id} is {status}: there is nothing to resume.")

    @classmethod
    def cli_pasted_key(cls, run_id: str) -> RunActionError:
        return cls(f"Run {run_id} was started with a key pasted in the page: resume it there, with that key.")

    @classmethod
    def cli_still_going(cls, run_id: str, status: str) -> RunActionError:
        return cls(f"Run {run_id} is still {status}; wait for it to end, or resume it.")
