"""Click → fal request id: fal's plain recipe against the studio, with a throttled uplink.

    .venv/bin/python bench/bench_click.py

The project's fal emulator takes uploads at 5 MB/s with 50 ms latency per call. Plain recipe (fal's
docs): on the click, upload the image, upload the clip, submit. The studio: the inputs go to fal's
storage as soon as they are ready (upload ahead); Generate then checks, reserves and submits. Measured
for a user who clicks the moment the verdict says Ready, and for one who first spends 5 s on a
prompt. Each run uses new files (nothing is served from the upload cache). Printed, never asserted.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import imageio_ffmpeg  # noqa: E402
from pydantic import SecretStr  # noqa: E402

from motion_studio.history.store import History  # noqa: E402
from motion_studio.jobs.runner import JobRunner  # noqa: E402
from motion_studio.order import Options, Order, Source  # noqa: E402
from motion_studio.settings import Settings  # noqa: E402
from tests.fal_emulator import VALID_KEY, FalEmulator  # noqa: E402
from tests.media_factory import make_image  # noqa: E402

ENDPOINT = "fal-ai/kling-video/v2.6/pro/motion-control"
RUNS = 3
UPLINK = 5_000_000  # bytes per second
LATENCY = 0.05


def noisy_clip(path: Path, seed: int) -> Path:
    """A 5 s clip of about 20 MB (noise does not compress), different for every seed."""
    source = f"testsrc=size=640x360:rate=24:duration=5,noise=alls=60:allf=t+u:all_seed={seed}"
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "lavfi", "-i", source]
    cmd += ["-c:v", "libx264", "-preset", "ultrafast", "-b:v", "32M", "-pix_fmt", "yuv420p", str(path)]
    subprocess.run(cmd, check=True)
    return path


def inputs(tmp: Path, n: int) -> tuple[Path, Path]:
    return make_image(tmp / f"person{n}.jpg", size=(600 + n, 800)), noisy_clip(tmp / f"clip{n}.mp4", n)


async def plain_recipe(image: Path, clip: Path) -> float:
    import fal_client

    client = fal_client.AsyncClient(key=VALID_KEY)
    start = time.perf_counter()
    image_url = await client.upload_file(image)
    video_url = await client.upload_file(clip)
    await client.submit(ENDPOINT, arguments=Options().fal_arguments(image_url, video_url))
    return time.perf_counter() - start


def studio(runner: JobRunner, image: Path, clip: Path, pause: float) -> float:
    key = SecretStr(VALID_KEY)
    runner.upload_ahead(str(image), key, ("bench", "image"))  # what the page does once Ready
    runner.upload_ahead(str(clip), key, ("bench", "video"))
    time.sleep(pause)
    start = time.perf_counter()
    job = runner.start(Order(Options(), ((Source(str(image)), Source(str(clip))),)), key)
    while job.request_id is None:
        if job.finished:
            raise RuntimeError(f"the run ended early: {job.last}")
        time.sleep(0.002)
    return time.perf_counter() - start


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-click-"))
    emulator = FalEmulator(tmp / "emu").start()
    os.environ.update(emulator.env())
    settings = Settings(FAL_KEY=VALID_KEY, MOTION_STUDIO_DATA_DIR=tmp / "data")
    runner = JobRunner(settings, History(settings.db_path, settings.runs_dir))
    emulator.hold = True  # requests stay queued: only the way to fal is measured
    warm = inputs(tmp, 99)
    asyncio.run(plain_recipe(*warm))
    studio(runner, *inputs(tmp, 98), 0)
    emulator.upload_bytes_per_second = UPLINK
    for route in ("token", "upload", "multipart_create", "multipart_part", "multipart_complete", "submit"):
        emulator.delays[route] = LATENCY
    figures: dict[str, list[float]] = {"plain recipe (upload on click, then submit)": []}
    figures["studio, click at once"] = []
    figures["studio, 5 s on the prompt first"] = []
    labels = list(figures)
    size = 0
    for n in range(RUNS):
        image, clip = inputs(tmp, 3 * n)
        size = clip.stat().st_size
        figures[labels[0]].append(asyncio.run(plain_recipe(image, clip)))
        figures[labels[1]].append(studio(runner, *inputs(tmp, 3 * n + 1), 0))
        figures[labels[2]].append(studio(runner, *inputs(tmp, 3 * n + 2), 5))
    runner.shutdown()
    emulator.stop()
    print(f"== click → fal request id (s; {RUNS} runs each; {size / 1e6:.0f} MB clip, 5 MB/s uplink, 50 ms)")
    print(f"{'':46s} {'min':>6s} {'median':>7s} {'max':>6s}")
    for label, values in figures.items():
        print(f"{label:46s} {min(values):6.2f} {statistics.median(values):7.2f} {max(values):6.2f}")
    plain = statistics.median(figures[labels[0]])
    for label in labels[1:]:
        print(f"ratio plain / {label}: {plain / statistics.median(figures[label]):.1f}×")


if __name__ == "__main__":
    main()
