"""Files the page may show, without the data directory being served to anyone who guesses a path.

Gradio serves every file under `allowed_paths` to whoever asks for its path, so the data directory is
not in it. A file the page shows is hard-linked (across filesystems, copied once) into the *outbox*:
a folder per file, named by a keyed hash nobody can guess, that Gradio serves as a static path. So a
result reaches the page with no copy and no hashing of its bytes (Gradio's cache would read and copy
every file it is handed, each time). A link is a capability, not a check of who asks: nobody can work
it out, but whoever holds it (another browser, signed in or not, or `curl`) gets the file, so a
visitor who shares a link to their result or photo shares the file (the page says so, `notices`).
Deleting a run withdraws its links at once (`withdraw`), and links older than `OUTBOX_HOURS` are
pruned, so a deleted run's video does not live on there.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import tempfile
import threading
import time
from datetime import datetime
from functools import cache
from pathlib import Path

from .history.runs import Run

OUTBOX_HOURS = 24.0  # as long as Gradio's own cache keeps what it handed out
_KEY = secrets.token_bytes(16)  # this process's: a link's folder name can't be worked out from its path
_pruned_at = [0.0]
_SOURCES: dict[Path, Path] = {}  # a link's folder -> the file it links, so a delete can withdraw it
_SOURCES_LOCK = threading.Lock()  # the page links files from Gradio's worker threads


@cache
def outbox() -> Path:
    """The folder the page's files are linked into; the page wiring makes it Gradio's static path."""
    return Path(tempfile.mkdtemp(prefix="motion-studio-outbox-"))


def servable(path: str | Path | None) -> str | None:
    """`path` as Gradio will accept to hand to the page (None and missing files give None)."""
    if not path or not Path(path).is_file():
        return None
    real = Path(path).resolve()
    return _linked(real, real.name)


def servable_as(path: str | Path | None, name: str) -> str | None:
    """`path` under another file name (a download is named after its run), as `servable` gives it."""
    if not path or not Path(path).is_file():
        return None
    return _linked(Path(path).resolve(), Path(name).name)


def _linked(real: Path, name: str) -> str:
    """A hard link (or, across filesystems, one copy) of `real` named `name` in a private folder."""
    _prune_now_and_then()
    stat = real.stat()
    made = f"{real}:{stat.st_mtime_ns}:{stat.st_size}:{name}".encode()
    digest = hashlib.blake2b(made, key=_KEY, digest_size=16).hexdigest()
    target = outbox() / digest / name
    with _SOURCES_LOCK:  # known before it exists: a `withdraw` meanwhile finds it
        _SOURCES[target.parent] = real
    try:
        if not target.exists():
            _make_link(real, target)
    except FileNotFoundError:
        if not _withdrawn(target.parent):
            raise
    if _withdrawn(target.parent):  # the run was deleted while its file was being linked
        shutil.rmtree(target.parent, ignore_errors=True)
    return str(target)


def _make_link(real: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    # Its own partial name: two threads linking the same file at once never meet on one.
    partial = target.with_name(f".{secrets.token_hex(8)}.part")
    try:
        os.link(real, partial)  # no copy on the same filesystem
    except FileNotFoundError:
        raise  # the file or the folder went meanwhile: copying would fail the same way
    except OSError:
        shutil.copyfile(real, partial)
    os.replace(partial, target)


def _withdrawn(link: Path) -> bool:
    with _SOURCES_LOCK:
        return link not in _SOURCES


def withdraw(folder: Path) -> int:
    """Remove every link to a file under `folder` (a deleted run's), so a page or a shared address
    that still holds one gets nothing more; how many went."""
    inside = folder.resolve()
    with _SOURCES_LOCK:
        gone = [link for link, real in _SOURCES.items() if real.is_relative_to(inside)]
        for link in gone:
            del _SOURCES[link]
    for link in gone:
        shutil.rmtree(link, ignore_errors=True)
    return len(gone)


def _prune_now_and_then() -> None:
    """At most hourly: drop links older than `OUTBOX_HOURS` (a page still showing one gets a new link
    the next time it asks for the file)."""
    now = time.time()
    if now - _pruned_at[0] < 3600:
        return
    _pruned_at[0] = now
    for folder in outbox().iterdir():
        try:
            if now - folder.stat().st_mtime > OUTBOX_HOURS * 3600:
                shutil.rmtree(folder, ignore_errors=True)
                with _SOURCES_LOCK:
                    _SOURCES.pop(folder, None)
        except OSError:
            continue


def download_name(run: Run, view: str = "") -> str:
    """`motion-<date>-<run>.mp4`: a download says what it is, not `output.mp4`. The run part is the
    id's random tail (its head is the date and time), so two runs of one day never share a name."""
    day = datetime.fromtimestamp(run.created_at or 0).strftime("%Y-%m-%d")
    return f"motion-{day}-{run.id.rsplit('-', 1)[-1][:8]}{'-' + view if view else ''}.mp4"
