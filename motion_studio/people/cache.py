"""Results kept by file content: the same photo or clip, uploaded again under another name or
checked again by the CLI and the page, is read once.

The key is the sha256 of the whole file (a clip of 100 MB hashes in about 0.1 s), remembered per
(path, size, mtime, inode) so asking again about the same file on disk does not hash it again.
Both caches are small bounded LRUs in memory: readings are a few kB each.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Generic, TypeVar

T = TypeVar("T")
_CHUNK = 1024 * 1024


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


_digests: LruCache[str] = LruCache(256)


def file_digest(path: str | Path) -> str:
    """sha256 of the file's content (hex), hashed once per version of the file on disk."""
    path = Path(path)
    stat = path.stat()
    stamp = f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ino}"
    known = _digests.get(stamp)
    if known is not None:
        return known
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    _digests.put(stamp, digest.hexdigest())
    return digest.hexdigest()
