"""Errors for what fal answered (or failed to): auth, validation, content policy, rate limits, server
errors, time-outs, the network, and results fal no longer has."""

from __future__ import annotations

from .base import StudioError


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


class OutputExpiredError(StudioError):
    """fal answered 404/410 for a run's video older than fal keeps outputs: its copy is gone, and
    retrying cannot help."""

    kind = "expired"

    def __init__(
        self, request_id: str | None, *, kept_days: float | None = None, age_seconds: float | None = None
    ) -> None:
        message = (
            "fal's copy of this video has expired, so it can no longer be downloaded "
            f"(fal request id {request_id or 'unknown'})."
        )
        if kept_days is not None and age_seconds is not None:
            message += f" fal keeps a video {kept_days:g} days, and this one finished {age_seconds / 86400:.0f} days ago."
        super().__init__(message)


class OutputNotServedError(StudioError):
    """fal answered 404/410 for a video it finished moments ago: too young to have expired, so a
    hiccup of its CDN. The run stays resumable (it may well be served a little later)."""

    kind = "interrupted"

    def __init__(self, request_id: str | None) -> None:
        super().__init__(
            f"fal finished this run but does not serve its video yet (fal request id {request_id or 'unknown'}). "
            "The run is kept: press Resume on it in the gallery, or run `python -m motion_studio resume`, "
            "in a little while."
        )


class RequestUnknownError(StudioError):
    """fal answered 404 for a request's status or result: it does not know this request (any more)."""

    kind = "unknown_request"

    def __init__(self, request_id: str | None) -> None:
        super().__init__(
            f"fal no longer knows this request (fal request id {request_id or 'unknown'}), so its "
            "result cannot be fetched."
        )


# Failures that retrying may cure; what fal_service retries, and what interrupts a paid run.
TRANSIENT_ERRORS = (FalServerError, NetworkError, RateLimitError, FalTimeoutError)
