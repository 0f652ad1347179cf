"""Waiting on conditions, never on fixed sleeps: a test waits exactly as long as it must."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(predicate: Callable[[], T], timeout: float = 20, what: str = "condition") -> T:
    """Poll `predicate` until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} not reached within {timeout} s"
        time.sleep(0.02)


def stays(predicate: Callable[[], object], seconds: float = 0.5) -> bool:
    """A negative check: `predicate` holds for the whole of `seconds` (use after the thing that
    would break it has had its chance, e.g. after a job ended)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not predicate():
            return False
        time.sleep(0.02)
    return True
