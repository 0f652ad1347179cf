"""The project's fal emulator in a process of its own, for benchmarks that measure this process's
memory and CPU (the emulator's must not count as the app's)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def start_emulator() -> tuple[subprocess.Popen[str], dict[str, str]]:
    """The running emulator (no queue or run time) and the variables that send fal's traffic to it."""
    emu = subprocess.Popen(
        [sys.executable, "-m", "tests.fal_emulator", "--queue-seconds", "0", "--run-seconds", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert emu.stdout is not None
    env = {}
    for _ in range(6):
        name, _, value = emu.stdout.readline().removeprefix("export ").strip().partition("=")
        env[name] = value
    return emu, env
