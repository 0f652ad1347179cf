"""Results kept by file content: the same photo or clip, uploaded again under another name or
checked again by the CLI and the page, is read once.

The key is the sha256 of the whole file (a clip of 100 MB hashes in about 0.1 s), the app's one
digest per version of a file on disk (`media.memo.file_sha256`, which the uploads read too).
Both caches are small bounded LRUs in memory: readings are a few kB each.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar

from ..media.memo import file_sha256

T = TypeVar("T")


class LruCache(Generic[T]):
    """A thread-safe least-recently-used map of at most `maxsize` entries."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[str, T] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> T | None:
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key: str, value: T) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


file_digest = file_sha256  # one digest per file version in the whole app (media/memo.py)
