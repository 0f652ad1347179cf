"""Who follows a run: one follower per run across every process sharing a data directory.

The app and `python -m motion_studio resume` may both want to follow the same paid run; two
followers would download it twice and race on its files. A follower is named
`host:pid:token`, and a lease is free when its holder is gone: a process on this host that no longer
runs (a `kill -9` frees it at once), an earlier incarnation of this very process id (containers
reuse pids after a restart), or a lease past its expiry (a holder on another host).
"""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

_HOST = socket.gethostname()
_LIVE_TOKENS: set[str] = set()  # followers of this process that have not shut down


def new_holder() -> str:
    token = uuid.uuid4().hex[:12]
    _LIVE_TOKENS.add(token)
    return f"{_HOST}:{os.getpid()}:{token}"


def retire(holder: str) -> None:
    _LIVE_TOKENS.discard(holder.rsplit(":", 1)[-1])


def holder_is_alive(holder: str | None) -> bool:
    """False when the holder certainly stopped; True when it runs (or may: another host)."""
    if not holder:
        return False
    try:
        host, pid_text, token = holder.rsplit(":", 2)
        pid = int(pid_text)
    except ValueError:
        return False
    if host != _HOST:
        return True  # only its lease's expiry can tell
    if pid == os.getpid():
        return token in _LIVE_TOKENS
    return _pid_runs(pid)


def _pid_runs(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    try:  # a killed child its parent has not reaped yet is a zombie: it runs nothing any more
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def lease_is_live(holder: str | None, until: float | None, now: float) -> bool:
    """Someone follows the run right now. A holder on this host is asked directly (its process runs
    or not), whatever its lease says; only a holder elsewhere is judged by its lease's expiry."""
    if not holder:
        return False
    if holder.rsplit(":", 2)[0] == _HOST:
        return holder_is_alive(holder)
    return (until or 0.0) > now
