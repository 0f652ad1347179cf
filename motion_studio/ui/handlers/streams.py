"""One progress stream per page: a newer stream (another run selected, a batch started) ends the one
the page had, at its next tick."""

from __future__ import annotations

import threading


class Streams:
    """A page's session → its one current progress stream (a token, and what it follows)."""

    def __init__(self) -> None:
        self._current: dict[str, tuple[object, str]] = {}
        self._lock = threading.Lock()

    def take(self, session: str, key: str, *, unless_following: bool = False) -> object | None:
        """This page's stream is now the one for `key`. With `unless_following`, a page already
        following `key` keeps that stream and gets None (a re-attach racing the click)."""
        token = (object(), key)
        with self._lock:
            current = self._current.get(session)
            if unless_following and current is not None and current[1] == key:
                return None
            self._current[session] = token
        return token

    def holds(self, session: str, token: object) -> bool:
        return self._current.get(session) is token

    def drop(self, session: str, token: object | None = None) -> None:
        """The stream with `token` ended (None: whichever this page had)."""
        with self._lock:
            if token is None:
                self._current.pop(session, None)
            elif self._current.get(session) is token:
                del self._current[session]
