"""fal COMPLETED → the run's video ready, following fal's status stream against polling every 2 s.

    .venv/bin/python bench/bench_follow.py

The emulator holds each request IN_PROGRESS; the moment it is released (fal's COMPLETED), the clock
starts, and it stops at the job's Done event (result fetched, video downloaded, probed, thumbnail
made, history written). Printed as figures and a ratio, never asserted: shared machines are noisy.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from motion_studio.history.store import History  # noqa: E402
from motion_studio.jobs.events import Done  # noqa: E402
from motion_studio.jobs.runner import JobRunner  # noqa: E402
from motion_studio.order import Options, Order, Source  # noqa: E402
from motion_studio.settings import Settings  # noqa: E402
from tests.fal_emulator import VALID_KEY, FalEmulator  # noqa: E402
from tests.media_factory import make_clip, make_image  # noqa: E402

RUNS = 7


def completed_to_done(runner: JobRunner, emulator: FalEmulator, spec: Order) -> float:
    """Seconds from fal's COMPLETED to the job's Done."""
    from common import running_held  # (this script's folder is on sys.path)

    job = running_held(runner, emulator, spec)
    time.sleep(random.uniform(0.3, 2.3))  # anywhere between two polls, as a real run would end
    released = time.time()
    emulator.hold = False
    final = job.wait(60)
    assert isinstance(final, Done), final
    return final.at - released


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-follow-"))
    emulator = FalEmulator(tmp / "emu").start()
    os.environ.update(emulator.env())
    emulator.queue_seconds = emulator.run_seconds = 0.0
    image = make_image(tmp / "person.jpg")
    clip = make_clip(tmp / "clip.mp4", 5)
    spec = Order(Options(), ((Source(str(image)), Source(str(clip))),))
    figures: dict[str, list[float]] = {}
    for label, stream in (("status stream (the studio)", True), ("polling every 2 s (before)", False)):
        settings = Settings(
            FAL_KEY=VALID_KEY,
            MOTION_STUDIO_DATA_DIR=tmp / label.split()[0],
            MOTION_STUDIO_POLL_INTERVAL=2.0,
            MOTION_STUDIO_STATUS_STREAM=stream,
        )
        runner = JobRunner(settings, History(settings.db_path, settings.runs_dir))
        completed_to_done(runner, emulator, spec)  # warm-up: imports, TLS, the upload cached
        figures[label] = [completed_to_done(runner, emulator, spec) for _ in range(RUNS)]
        runner.shutdown()
    emulator.stop()
    print(f"== fal COMPLETED → video ready (s, {RUNS} runs each; 5 s clip, emulator on this machine)")
    print(f"{'':32s} {'min':>6s} {'median':>7s} {'max':>6s}")
    for label, values in figures.items():
        print(f"{label:32s} {min(values):6.2f} {statistics.median(values):7.2f} {max(values):6.2f}")
    stream, poll = (statistics.median(v) for v in figures.values())
    print(f"ratio of medians, polling / stream: {poll / stream:.1f}×")


if __name__ == "__main__":
    main()
