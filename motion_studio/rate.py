"""A per-caller rate limit for calls that cost the server work but no money.

`/check` (an API endpoint and an MCP tool) fetches and probes up to a batch of files and runs the
people check on each: free for the caller, not for the server. On a public Space, a few callers
looping on it would starve every visitor's checks, so each caller gets at most a number of calls in
a sliding minute. Spending has its own guards (budgets, per-visitor run limits).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque

CALLERS_KEPT = 10_000  # the least recently seen callers are forgotten first


class PerCaller:
    """At most `limit` calls per `window` seconds for each caller; `limit=None` admits everything."""

    def __init__(self, limit: int | None, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._calls: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def admit(self, caller: str) -> bool:
        """Count this call and say whether it is within the limit (a refused call is not counted)."""
        if self.limit is None:
            return True
        now = time.monotonic()
        with self._lock:
            calls = self._calls.pop(caller, None) or deque()
            while calls and calls[0] <= now - self.window:
                calls.popleft()
            admitted = len(calls) < self.limit
            if admitted:
                calls.append(now)
            self._calls[caller] = calls  # now the most recently seen
            while len(self._calls) > CALLERS_KEPT:
                self._calls.popitem(last=False)
            return admitted
