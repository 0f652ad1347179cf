"""The one place where fal's answers (status, `detail`, `error_type`) and foreign exceptions (fal_client,
httpx, time-outs, OS errors) become our errors."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from .base import KEY_HELP, InternalError, StudioError
from .fal import (
    AuthError,
    ContentPolicyError,
    FalServerError,
    FalTimeoutError,
    FalValidationError,
    NetworkError,
    NotFoundError,
    RateLimitError,
)
from .run_state import RunCancelledError

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
