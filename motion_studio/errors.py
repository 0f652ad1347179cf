"""The few failures a user can meet, as types, and the one place where fal's failures become them.

Every layer above (CLI, job runner, UI) shows `error.message` and never a traceback or raw JSON, so
the wording lives here, next to the mapping, where it can be tested and kept consistent.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

KEY_HELP = (
    "Set FAL_KEY in your environment or in a .env file next to app.py "
    "(or as a Space secret), or paste a key for this session."
)


class StudioError(Exception):
    """Base class: `kind` is a stable machine name, `message` one sentence for humans."""

    kind = "error"
    # False when fal's answer never arrived (a broken connection, a time-out on our side, a bug):
    # whatever was being sent may or may not have reached fal.
    fal_answered = True

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MissingKeyError(StudioError):
    kind = "auth"

    def __init__(self) -> None:
        super().__init__(f"No fal API key is set. {KEY_HELP}")


class InputError(StudioError):
    """An input failed a local check; nothing was uploaded or paid for."""

    kind = "input"


class TooManyChecksError(StudioError):
    """An API caller past `MOTION_STUDIO_API_CHECKS_PER_MINUTE`: nothing was read or fetched."""

    kind = "rate"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"Too many checks from this address: at most {limit} a minute. Wait a moment and try again."
        )


class StrictRefusalError(InputError):
    """`generate --strict` stops on the people check's warnings, before anything leaves the machine."""

    def __init__(self) -> None:
        super().__init__(
            "--strict: not generating because of the people check's warnings above; "
            "nothing was uploaded or paid for."
        )


class ClipTooLongError(InputError):
    """Too long for the chosen orientation: the page offers to trim it, so it carries the numbers."""

    def __init__(self, message: str, duration: float, limit: float) -> None:
        super().__init__(message)
        self.duration = duration
        self.limit = limit


class FaceElementError(InputError):
    """A face to keep consistent that fal would refuse (or the model would ignore): said before
    anything is uploaded, so it never costs a thing."""

    @classmethod
    def model(cls, model: str, face_models: str) -> FaceElementError:
        return cls(
            f"The {model} model can't keep a face consistent: choose {face_models}, or remove the face images."
        )

    @classmethod
    def orientation(cls) -> FaceElementError:
        return cls(
            "Keeping the face consistent works only with orientation 'video': switch to 'video', or "
            "remove the face images."
        )

    @classmethod
    def too_many(cls, given: int, limit: int) -> FaceElementError:
        return cls(
            f"{given} more angles of the face were given; fal takes at most {limit} besides the frontal "
            "image. Remove some."
        )


class BudgetError(StudioError):
    """The server's spending guard refused a run before anything was uploaded."""

    kind = "budget"

    @classmethod
    def per_run(cls, cost: float, cap: float, options: str = "your own fal key") -> BudgetError:
        """`options`: what would fit under the cap, in words (see `catalog.options_under`)."""
        return cls(
            f"This run would cost about {_dollars(cost)}; this server allows at most {_dollars(cap)} per "
            f"run on its key. Use {options}."
        )

    @classmethod
    def daily(cls, budget: float, spent: float, cost: float, runs: int = 1) -> BudgetError:
        """`runs`: a batch's runs are checked together, so the sentence names the whole batch."""
        what = f"this batch of {runs} runs" if runs > 1 else "this run"
        return cls(
            f"This server's daily budget of {_dollars(budget)} for its key would be exceeded "
            f"({_dollars(spent)} committed in the last 24 h, {what} about {_dollars(cost)}). "
            "Use your own fal key, or try again later."
        )


class VisitorLimitError(StudioError):
    """A visitor reached this server's per-visitor limit on its key, before anything was uploaded."""

    kind = "limit"

    @classmethod
    def active(cls, limit: int, going: int | None = None, runs: int = 1) -> VisitorLimitError:
        """`runs` > 1: a batch, refused whole when its runs and those `going` would pass `limit`."""
        if runs > 1:
            return cls(
                f"This batch has {runs} runs and you have {going or 0} going; this server's key allows "
                f"{limit} at once per visitor. Make a smaller batch, wait, or paste your own fal key."
            )
        noun = "run" if limit == 1 else "runs"
        return cls(
            f"You already have {limit} {noun} going on this server's key, its limit per visitor. Wait for "
            "one to finish, or paste your own fal key."
        )

    @classmethod
    def hourly(cls, limit: int, started: int | None = None, runs: int = 1) -> VisitorLimitError:
        if runs > 1:
            return cls(
                f"This batch has {runs} runs and you have started {started or 0} in the last hour; this "
                f"server's key allows {limit} per hour per visitor. Make a smaller batch, try again later, "
                "or paste your own fal key."
            )
        return cls(
            f"You have started {limit} runs on this server's key in the last hour, its limit per visitor. "
            "Try again later, or paste your own fal key."
        )


class BatchError(InputError):
    """A batch that can't be made as asked (its shape, not its files): said before anything is read."""

    @classmethod
    def none_finished(cls, why: str | None) -> BatchError:
        return cls(f"No run of the batch finished: {why or 'they were cancelled.'}")

    @classmethod
    def both_kinds(cls) -> BatchError:
        return cls(
            "A batch varies either the character image or the reference clip, not both: keep only the "
            "extra images or only the extra clips."
        )

    @classmethod
    def too_many(cls, given: int, limit: int, kind: str) -> BatchError:
        return cls(
            f"A batch takes at most {limit} {kind}s in all; {given} were given. Remove {given - limit}."
        )


class OwnKeyRequiredError(StudioError):
    """The server lends its key to nobody: each visitor brings their own."""

    kind = "auth"

    def __init__(self) -> None:
        super().__init__(
            "This server asks every visitor to use their own fal key: paste one in the key box "
            "(get one at https://fal.ai/dashboard/keys). It is used for your session only."
        )


def _dollars(amount: float) -> str:
    return f"${amount:.2f}"


class AuthError(StudioError):
    kind = "auth"


class FalValidationError(StudioError):
    kind = "validation"


class ContentPolicyError(StudioError):
    kind = "content_policy"


class RateLimitError(StudioError):
    kind = "rate_limit"


class FalServerError(StudioError):
    kind = "server"


class NotFoundError(StudioError):
    """fal answered 404/410: retrying cannot help. The service says what was not found."""

    kind = "not_found"


class FalTimeoutError(StudioError):
    kind = "timeout"


class GaveUpWaitingError(StudioError):
    """fal did not finish within the request timeout, so the studio cancelled the request: final."""

    kind = "timeout"


class NetworkError(StudioError):
    kind = "network"


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


class OutputExpiredError(StudioError):
    """fal answered 404/410 for a finished run's video: its copy is gone, and retrying cannot help."""

    kind = "expired"

    def __init__(self, request_id: str | None) -> None:
        super().__init__(
            "fal's copy of this video has expired, so it can no longer be downloaded "
            f"(fal request id {request_id or 'unknown'})."
        )


class RequestUnknownError(StudioError):
    """fal answered 404 for a request's status or result: it does not know this request (any more)."""

    kind = "unknown_request"

    def __init__(self, request_id: str | None) -> None:
        super().__init__(
            f"fal no longer knows this request (fal request id {request_id or 'unknown'}), so its "
            "result cannot be fetched."
        )


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


class InternalError(StudioError):
    """Anything nobody foresaw: the traceback goes to the server log, the user gets this sentence."""

    kind = "internal"
    fal_answered = False  # nobody knows how far it got

    def __init__(self, charged: bool) -> None:
        tail = (
            "fal may still finish it: press Resume to fetch the video."
            if charged
            else "Nothing was sent to fal's queue, so nothing was charged."
        )
        super().__init__(
            f"Something went wrong inside the studio (the details are in the server log). {tail}"
        )


class RunCancelledError(StudioError):
    kind = "cancelled"

    def __init__(self, message: str = "The run was cancelled.") -> None:
        super().__init__(message)


# Failures that retrying may cure; what fal_service retries, and what interrupts a paid run.
TRANSIENT_ERRORS = (FalServerError, NetworkError, RateLimitError, FalTimeoutError)

_TIMEOUT_TYPES = {"request_timeout", "startup_timeout"}
_CONTENT_WORDS = ("content_policy", "content policy", "flagged", "nsfw", "safety")


def _field_of(item: dict[str, Any]) -> str:
    loc = [str(part) for part in item.get("loc") or [] if part != "body"]
    return ".".join(loc) or "input"


def from_detail(status: int, detail: Any, error_type: str | None) -> StudioError:
    """Turn a fal error body (HTTP status, `detail`, `error_type`) into one of our errors."""
    if status in (401, 403):
        if status == 401:
            return AuthError(f"fal rejected the API key (HTTP 401). {KEY_HELP}")
        return AuthError(
            "fal refused this key (HTTP 403): the account may be locked or out of balance. "
            "Check https://fal.ai/dashboard/billing or use another key."
        )
    if status == 429:
        return RateLimitError(
            "fal is rate-limiting this key (HTTP 429) even after retries. Wait a minute and try again."
        )
    if error_type in _TIMEOUT_TYPES or status == 504:
        return FalTimeoutError(
            "fal timed out before the video could be generated. Try again; you are not charged for timeouts."
        )
    if error_type == "client_cancelled" or status == 499:
        return RunCancelledError()
    if status in (404, 410):
        text = _plain(detail) or f"HTTP {status}"
        return NotFoundError(f"fal does not know what was asked for ({text}).")
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        item = detail[0]
        text = str(item.get("msg") or "invalid value").rstrip(".")
        kind = str(item.get("type") or "")
        field = _field_of(item)
        if any(word in (kind + " " + text).lower() for word in _CONTENT_WORDS):
            return ContentPolicyError(
                f"fal's content checker flagged the {field}: {text}. Use a different image, clip or prompt."
            )
        return FalValidationError(f"fal rejected the {field}: {text}.")
    text = _plain(detail) or f"HTTP {status}"
    if status == 422:
        if any(word in text.lower() for word in _CONTENT_WORDS):
            return ContentPolicyError(f"fal's content checker flagged this run: {text}.")
        return FalValidationError(f"fal rejected the request: {text}.")
    if status >= 500 or status == 0:
        return FalServerError(
            f"fal failed on its side ({text}). Try again in a few minutes; fal does not charge server errors."
        )
    return FalServerError(f"fal answered with an error (HTTP {status}: {text}).")


def _plain(detail: Any) -> str:
    """fal's detail as a short phrase; an HTML error page (a proxy's) is not something to show."""
    text = " ".join(str(detail or "").split()).rstrip(".")
    if "<" in text and ">" in text:
        return ""
    return text if len(text) <= 200 else text[:197] + "…"


def map_exception(exc: BaseException) -> StudioError:
    """The single mapping from anything the fal client or httpx raises to a `StudioError`."""
    import fal_client

    if isinstance(exc, StudioError):
        return exc
    if isinstance(exc, fal_client.client.FalClientHTTPError):
        response = exc.response
        detail = _json_detail(response)
        return from_detail(exc.status_code, detail if detail is not None else exc.message, exc.error_type)
    if isinstance(exc, httpx.HTTPStatusError):
        response = exc.response
        return from_detail(
            response.status_code, _json_detail(response), response.headers.get("x-fal-error-type")
        )
    error: StudioError
    if isinstance(
        exc, (fal_client.client.FalClientTimeoutError, asyncio.TimeoutError, httpx.TimeoutException)
    ):
        error = FalTimeoutError("The request to fal timed out. Check your connection and try again.")
    elif isinstance(exc, httpx.TransportError | OSError):
        error = NetworkError("Could not reach fal. Check your internet connection and try again.")
    else:
        error = InternalError(charged=False)
    error.fal_answered = False
    return error


def _json_detail(response: httpx.Response) -> Any:
    try:
        body = response.json()
    except (ValueError, httpx.ResponseNotRead):  # a streamed body nobody read has no detail to give
        return None
    return body.get("detail") if isinstance(body, dict) else None
