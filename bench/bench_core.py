"""Speed and memory of the core, printed as figures (never asserted: shared machines are noisy).

    .venv/bin/python bench/bench_core.py

- media checks: the live verdict runs on every input change, so it must stay well under 100 ms;
- cold start of `python app.py` to its page served, against a bare Gradio app;
- app overhead per run against the local fal emulator with zero queue/run time (upload, submit,
  poll, download, thumbnail, history writes);
- the gallery with 1,000 past runs: its first page, and a poll that finds nothing new.
"""

from __future__ import annotations

import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import httpx  # noqa: E402
from emulator_process import start_emulator  # noqa: E402  (this script's folder is on sys.path)
from pydantic import SecretStr  # noqa: E402

from motion_studio.history.runs import Run  # noqa: E402
from motion_studio.history.store import History  # noqa: E402
from motion_studio.jobs.events import Done  # noqa: E402
from motion_studio.jobs.runner import JobRunner  # noqa: E402
from motion_studio.media.image import inspect_image  # noqa: E402
from motion_studio.media.video import inspect_video, prepare_video  # noqa: E402
from motion_studio.order import Options, Order, Source  # noqa: E402
from motion_studio.settings import Settings  # noqa: E402
from motion_studio.studio.service import Studio  # noqa: E402
from tests.fal_emulator import VALID_KEY  # noqa: E402
from tests.media_factory import make_clip, make_image  # noqa: E402


def timed(fn, repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), max(samples)


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    clip = make_clip(tmp / "clip.mp4", 10, size=(720, 1280))
    webm = make_clip(tmp / "clip.webm", 5)
    image = make_image(tmp / "person.jpg", size=(1080, 1920))
    print("== media checks (median / max of 30, ms)")
    # Readings are remembered by path, size and modification time: touching the file each time
    # measures the reading itself, as the first check of a new file pays it.
    for name, fn in [
        ("inspect_video 10 s 720x1280 mp4", lambda: (os.utime(clip), inspect_video(clip, "video"))),
        ("inspect_image 1080x1920 jpeg", lambda: (os.utime(image), inspect_image(image))),
        ("the same clip again (remembered)", lambda: inspect_video(clip, "video")),
    ]:
        median, worst = timed(fn, 30)
        print(f"{name:40s} {median:7.1f} {worst:7.1f}")
    report = inspect_video(webm, "video")
    median, _ = timed(lambda: prepare_video(webm, report, tmp / "converted"), 3)
    print(f"{'prepare_video 5 s webm -> h264 mp4':40s} {median:7.1f}")

    # The emulator runs in its own process, so its memory and CPU are not counted as the app's.
    emu, emulator_env = start_emulator()
    os.environ.update(emulator_env)
    settings = Settings(
        FAL_KEY=VALID_KEY, MOTION_STUDIO_DATA_DIR=tmp / "data", MOTION_STUDIO_POLL_INTERVAL=0.01
    )
    history = History(settings.db_path, settings.runs_dir)
    runner = JobRunner(settings, history)
    small = make_clip(tmp / "small.mp4", 4)
    spec = Order(Options(), ((Source(str(image)), Source(str(small))),))
    runner.start(spec, SecretStr(VALID_KEY)).wait(60)  # warm-up: imports, TLS, first upload
    durations = []
    for _ in range(10):
        start = time.perf_counter()
        final = runner.start(spec, SecretStr(VALID_KEY)).wait(60)
        assert isinstance(final, Done), final
        durations.append((time.perf_counter() - start) * 1000)
    print("== one run against the emulator, zero queue/run time (ms)")
    print(f"{'median / max of 10':40s} {statistics.median(durations):7.1f} {max(durations):7.1f}")
    runner.shutdown()

    emu.terminate()

    gallery_settings = Settings(FAL_KEY=VALID_KEY, MOTION_STUDIO_DATA_DIR=tmp / "gallery-data")
    studio = Studio(gallery_settings)
    thumb = tmp / "thumb.jpg"
    thumb.write_bytes(b"x")
    for i in range(1000):
        studio.history.writes.create(
            Run(options=Options(prompt=f"run {i}"), endpoint="e", thumbnail_path=str(thumb))
        )
    print("== gallery with 1,000 runs (median / max of 20, ms)")
    median, worst = timed(lambda: studio.gallery.page(None, 24), 20)
    print(f"{'first page of 24, all counted':40s} {median:7.1f} {worst:7.1f}")
    page = studio.gallery.page(None, 24)
    assert page is not None
    median, worst = timed(lambda: studio.gallery.page(None, 24, unless=page.signature), 20)
    print(f"{'a poll that finds nothing new':40s} {median:7.1f} {worst:7.1f}")
    studio.runner.shutdown()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"== peak RSS of this process: {rss:.0f} MB")
    print("== cold start: process started → page served (median of 3, s)")
    bare = "import gradio as gr\nwith gr.Blocks() as demo:\n    gr.Markdown('x')\ndemo.launch()\n"
    for name, command in (
        ("python app.py", [sys.executable, "app.py"]),
        ("a bare Gradio app", [sys.executable, "-c", bare]),
    ):
        print(f"{name:40s} {statistics.median(cold_start(command, tmp) for _ in range(3)):7.2f}")


def cold_start(command: list[str], tmp: Path) -> float:
    """Seconds from starting `command` to its first page served (GET / answers 200)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "MOTION_STUDIO_SERVER_PORT": str(port)}
    env.update(MOTION_STUDIO_DATA_DIR=str(tmp / "cold-data"), FAL_KEY=VALID_KEY)
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200:
                    return time.perf_counter() - start
            except httpx.HTTPError:
                time.sleep(0.02)
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
