"""fal's documented error shapes map to a few error types with one readable sentence each."""

from __future__ import annotations

import pytest

from motion_studio import errors


@pytest.mark.parametrize(
    ("status", "detail", "error_type", "kind", "words"),
    [
        (401, "Invalid key", None, "auth", "FAL_KEY"),
        (403, "User is locked", None, "auth", "out of balance"),
        (429, "Too many requests", None, "rate_limit", "Wait a minute"),
        (
            422,
            [
                {
                    "loc": ["body", "image_url"],
                    "msg": "Could not download the image",
                    "type": "file_download_error",
                }
            ],
            None,
            "validation",
            "fal rejected the image_url: Could not download the image.",
        ),
        (
            422,
            [
                {
                    "loc": ["body", "image_url"],
                    "msg": "flagged by a content checker",
                    "type": "content_policy_violation",
                }
            ],
            None,
            "content_policy",
            "content checker flagged the image_url",
        ),
        (504, "Request timed out", "request_timeout", "timeout", "timed out"),
        (504, "Startup timed out", "startup_timeout", "timeout", "timed out"),
        (503, "No runner", "runner_scheduling_failure", "server", "fal failed on its side"),
        (500, "Internal Server Error", None, "server", "does not charge server errors"),
        (499, "Cancelled", "client_cancelled", "cancelled", "cancelled"),
        (422, "prompt too long", None, "validation", "prompt too long"),
    ],
)
def test_fal_shapes(status: int, detail: object, error_type: str | None, kind: str, words: str) -> None:
    error = errors.from_detail(status, detail, error_type)
    assert error.kind == kind
    assert words in error.message
    assert "{" not in error.message and "Traceback" not in error.message


def test_missing_key_names_fal_key_and_env_file() -> None:
    message = errors.MissingKeyError().message
    assert "FAL_KEY" in message and ".env" in message


def test_transport_and_unknown_errors() -> None:
    import httpx

    assert errors.map_exception(httpx.ConnectError("boom")).kind == "network"
    assert errors.map_exception(TimeoutError()).kind == "timeout"
    unexpected = errors.map_exception(RuntimeError("secret stuff"))
    assert unexpected.kind == "internal" and "secret stuff" not in unexpected.message
    assert "RuntimeError" not in unexpected.message
