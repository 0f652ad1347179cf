"""Peak memory while uploading a 90 MB clip: fal's plain recipe against the studio's upload.

    .venv/bin/python bench/bench_upload_memory.py

Each variant runs in its own process, whose resident set is sampled every 2 ms during the upload,
against the project's fal emulator in a third process. Printed as figures and a ratio, never asserted.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZE_MB = 90
sys.path.insert(0, str(ROOT / "bench"))
from emulator_process import start_emulator  # noqa: E402


def rss_mb() -> float:
    """This process's resident set now (the high-water mark would keep whatever imports peaked at)."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def one(variant: str, path: str) -> None:
    """Run inside a child process: upload `path` one way and print seconds and peak RSS growth."""
    import asyncio

    sys.path.insert(0, str(ROOT))
    import fal_client
    from pydantic import SecretStr

    from motion_studio.fal_service import FalService
    from motion_studio.history.store import History
    from tests.fal_emulator import VALID_KEY

    tmp = Path(tempfile.mkdtemp(prefix="bench-upload-"))

    async def plain() -> str:  # fal's docs: `fal_client.upload_file(path)`
        return await fal_client.AsyncClient(key=VALID_KEY).upload_file(path)

    async def studio() -> str:
        service = FalService(
            SecretStr(VALID_KEY), History(tmp / "h.sqlite3", tmp / "runs"), upload_cache_seconds=0
        )
        try:
            return await service.upload(Path(path))
        finally:
            await service.aclose()

    before = rss_mb()
    peak = [before]
    done = threading.Event()

    def sample() -> None:  # the peak of the resident set while the upload runs, every 2 ms
        while not done.wait(0.002):
            peak[0] = max(peak[0], rss_mb())

    sampler = threading.Thread(target=sample)
    sampler.start()
    start = time.perf_counter()
    asyncio.run(plain() if variant == "plain" else studio())
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    grown = max(peak[0], rss_mb()) - before
    print(f"{elapsed:.2f} {grown:.0f}")


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    clip = tmp / "clip.mp4"
    clip.write_bytes(os.urandom(SIZE_MB * 2**20))
    emu, emulator_env = start_emulator()
    env = {**os.environ, **emulator_env}
    results = {}
    for variant in ("plain", "studio"):
        out = subprocess.run(
            [sys.executable, __file__, variant, str(clip)], env=env, cwd=ROOT, capture_output=True, text=True
        )
        seconds, grown = out.stdout.split()[-2:]
        results[variant] = (float(seconds), float(grown))
    emu.terminate()
    print(f"== peak memory growth while uploading a {SIZE_MB} MB clip to the emulator")
    labels = {"plain": "plain recipe (fal_client.upload_file)", "studio": "the studio (parts from disk)"}
    for variant, (seconds, grown) in results.items():
        print(f"{labels[variant]:40s} {seconds:6.2f} s {grown:6.0f} MB = {grown / SIZE_MB:.2f} × file")
    ratio = results["plain"][1] / max(results["studio"][1], 1)
    print(f"ratio plain / studio (memory): {ratio:.1f}×")


if __name__ == "__main__":
    if len(sys.argv) == 3:
        one(sys.argv[1], sys.argv[2])
    else:
        main()
