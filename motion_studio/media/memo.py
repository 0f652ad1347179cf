"""Readings of a file remembered by what identifies its bytes: path, size, modification time, inode.

The live verdict, the upload ahead and the run itself read the same files seconds apart (a probe is
an ffmpeg process, an image check decodes the whole picture): the run would pay 30–60 ms again for
an answer it already had. A file saved again has another size or modification time, so it is read
again; failures are never remembered, so a fixed file is not refused from memory.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")
KEPT = 256
_MEMORIES: list[OrderedDict[tuple[object, ...], object]] = []  # every memo, so `forget_all` can empty them


def file_identity(path: str | Path) -> tuple[str, int, int, int]:
    """Path, size, modification time and inode: a file replaced whole (same size, same time, as
    `cp -p` or `rsync -t` leave it) is another inode, so it is read again."""
    stat = Path(path).stat()
    return str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns, stat.st_ino


def by_file(func: Callable[P, R]) -> Callable[P, R]:
    """Remember `func(path, *rest)` for the file's identity and `rest` (the most recent `KEPT`)."""
    kept: OrderedDict[tuple[object, ...], R] = OrderedDict()
    lock = threading.Lock()
    _MEMORIES.append(kept)  # type: ignore[arg-type]  # only emptied through it

    @functools.wraps(func)
    def remembered(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            key = (file_identity(args[0]), *args[1:], *sorted(kwargs.items()))  # type: ignore[arg-type]
        except (OSError, IndexError, TypeError):
            return func(*args, **kwargs)  # a missing file: the function says so in its own words
        with lock:
            if key in kept:
                kept.move_to_end(key)
                return kept[key]
        value = func(*args, **kwargs)
        with lock:
            kept[key] = value
            while len(kept) > KEPT:
                kept.popitem(last=False)
        return value

    return remembered


def forget_all() -> None:
    """Forget every remembered reading (benchmarks time checks uncached)."""
    for kept in _MEMORIES:
        kept.clear()


@by_file
def file_sha256(path: str | Path) -> str:
    """The file's SHA-256 (hex), read once per version of the file on disk: the upload ahead, the run
    that uses it and the people check ask for the same file's digest seconds apart (a 100 MB clip
    hashes in about 0.1 s)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
