"""What every media check needs about a file before looking inside it: a short name, its real kind,
that it exists and is not empty, and a cheap content key for files derived from it."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

import filetype

from ..errors import FileError

MB = 1024 * 1024


def short_name(path: Path) -> str:
    """File names end up in one-sentence messages: long ones are cut so the sentence stays readable."""
    return path.name if len(path.name) <= 60 else path.name[:57] + "…"


def kind_of(path: Path) -> str | None:
    """The file's real kind from its magic bytes, so a mislabelled file gets an honest message."""
    try:
        guess = filetype.guess(str(path))
    except OSError:
        return None
    return guess.mime.split("/")[0] if guess else None


def require_file(path: Path, what: str) -> int:
    """The file's size; a missing or empty file is refused before any parser sees it."""
    if not path.is_file():
        raise FileError.missing(what, short_name(path))
    size = path.stat().st_size
    if size == 0:
        raise FileError.empty(what, short_name(path))
    return size


def content_key(path: Path, salt: str = "") -> str:
    """sha256 of the size, the first and the last MB: unique enough to name derived files (previews)
    without reading a 100 MB clip, and stable across uploads of the same file under other names."""
    size = path.stat().st_size
    digest = hashlib.sha256(f"{size}:{salt}:".encode())
    with open(path, "rb") as handle:
        digest.update(handle.read(MB))
        if size > 2 * MB:
            handle.seek(-MB, os.SEEK_END)
            digest.update(handle.read(MB))
        elif size > MB:
            digest.update(handle.read())
    return digest.hexdigest()[:24]


def temp_sibling(target: Path) -> Path:
    """Where a derived file is written before it is renamed into place: a half-written file (a crash,
    two browsers asking at once, each writing its own) is never taken for a finished one."""
    return target.with_name(f".{target.stem}.{uuid.uuid4().hex[:12]}.tmp{target.suffix}")
