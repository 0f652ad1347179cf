"""Files the page may show, without the data directory being served to anyone who guesses a path.

Gradio serves every file under `allowed_paths` to whoever asks for its path, so the data directory is
not in it. A handler's file output is copied into Gradio's content-hashed cache instead, and the page
is given that URL: only the browser that was handed a run's file can fetch it. Gradio accepts to copy
files from the working or the temporary directory; a data directory elsewhere (a Space's bucket) is
linked, or copied once, into a private temporary folder first.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from functools import cache
from pathlib import Path


@cache
def _outbox() -> Path:
    return Path(tempfile.mkdtemp(prefix="motion-studio-outbox-"))


def _under(path: Path, folder: Path) -> bool:
    return path.is_relative_to(folder.resolve())


def servable(path: str | Path | None) -> str | None:
    """`path` as Gradio will accept to hand to the page (None and missing files give None)."""
    if not path or not Path(path).is_file():
        return None
    real = Path(path).resolve()
    if _under(real, Path.cwd()) or _under(real, Path(tempfile.gettempdir())):
        return str(real)
    return _linked(real, real.name)


def servable_as(path: str | Path | None, name: str) -> str | None:
    """`path` under another file name (a download is named after its run), as `servable` gives it."""
    if not path or not Path(path).is_file():
        return None
    return _linked(Path(path).resolve(), Path(name).name)


def _linked(real: Path, name: str) -> str:
    """A hard link (or, across filesystems, one copy) of `real` named `name` in a private folder."""
    stat = real.stat()
    digest = hashlib.sha256(f"{real}:{stat.st_mtime_ns}:{stat.st_size}:{name}".encode()).hexdigest()[:32]
    target = _outbox() / digest / name
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        try:
            os.link(real, partial)  # no copy on the same filesystem
        except OSError:
            shutil.copyfile(real, partial)
        os.replace(partial, target)
    return str(target)
