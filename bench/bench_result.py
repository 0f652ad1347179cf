"""fal COMPLETED → the run's video playable, with a real-size result, against the download alone.

    .venv/bin/python bench/bench_result.py [runs]          # at the job's events, in this process
    .venv/bin/python bench/bench_result.py --page [runs]   # in the page, in Chromium (`python app.py`)

fal's own example response for this model is a 35 MB video; here the emulator's output is a ~35 MB
1080p H.264 clip (made once with imageio-ffmpeg's ffmpeg and kept in the temp dir) and every call to
fal's queue and CDN pays 50 ms. The emulator holds the request IN_PROGRESS; the clock starts when
it is released (fal's COMPLETED) and each step is timed from what the emulator and the job see:

- notice: COMPLETED → the result request reaches fal (the status stream, the result call sent);
- fetch: the result request → the download request reaches fal's CDN;
- download: → the whole file is on disk where the page reads it;
- checks: → the job's `Downloaded` event (the page is told: the video plays);
- after: `Downloaded` → `Done` (thumbnail, bookkeeping; the page already shows the video).

With `--page`, the studio runs as `python app.py` in a process of its own and Chromium drives its
page (bench_page.py's way: pick the inputs, Generate, the emulator holds the request); the steps are
the same up to the file on disk, then:

- page told: → the result `<video>` has its source (the page was told and drew it);
- page plays: → that `<video>` reaches readyState ≥ 3 (it can play);

and COMPLETED → playable is the issue's figure, end to end. "download alone" is a plain `httpx` GET of the same file through the same proxy, as fast as
this machine moves 35 MB over loopback TLS. Printed, never asserted: shared machines are noisy.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import httpx  # noqa: E402

from motion_studio.history.store import History  # noqa: E402
from motion_studio.jobs.events import Done, Downloaded  # noqa: E402
from motion_studio.jobs.runner import JobRunner  # noqa: E402
from motion_studio.order import Options, Order, Source  # noqa: E402
from motion_studio.settings import Settings  # noqa: E402
from motion_studio.tls import client_tls  # noqa: E402
from tests.fal_emulator import VALID_KEY, FalEmulator  # noqa: E402
from tests.media_factory import QUIET, make_clip, make_image  # noqa: E402

RUNS = 5
LATENCY = 0.05
FAL_ROUTES = ("status", "stream", "result", "output")
STEPS = ("notice", "fetch", "download", "checks", "COMPLETED → playable", "after (→ Done)")


def result_clip(path: Path) -> Path:
    """A ~35 MB 1080p H.264/AAC clip, moov at the end as ffmpeg writes it by default (noise keeps
    the bitrate up); made once, reused by later runs of the benchmark."""
    if path.exists():
        return path
    video = "testsrc2=size=1920x1080:rate=24:duration=10,noise=alls=30:allf=t+u"
    cmd = [*QUIET, "-f", "lavfi", "-i", video, "-f", "lavfi", "-i", "sine=frequency=440:duration=10"]
    cmd += ["-c:v", "libx264", "-preset", "ultrafast", "-b:v", "28M", "-maxrate", "28M", "-bufsize", "28M"]
    cmd += ["-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)]
    subprocess.run(cmd, check=True, capture_output=True)
    return path


class Stamps:
    """When the emulator received each request of interest (its handlers, wrapped)."""

    def __init__(self, emulator: FalEmulator) -> None:
        self.at: dict[str, float] = {}
        for route in ("result", "output"):
            handler = getattr(emulator, f"_on_{route}")
            setattr(emulator, f"_on_{route}", self._stamped(route, handler))

    def _stamped(self, route: str, handler: Any) -> Any:
        async def stamped(*args: Any) -> Any:
            self.at.setdefault(route, time.time() - LATENCY)  # when it arrived, before the latency
            return await handler(*args)

        return stamped


def appeared(path: Path, stop: threading.Event, found: dict[str, float]) -> None:
    """Stamp the moment `path` exists (the download renamed into place), to 10 ms: polled more
    often, this thread would take the GIL from the download it times."""
    while not stop.is_set():
        if path.exists():
            found["file"] = time.time()
            return
        time.sleep(0.01)


def one_run(runner: JobRunner, history: History, emulator: FalEmulator, spec: Order) -> dict[str, float]:
    from common import running_held  # (this script's folder is on sys.path)

    stamps = Stamps(emulator)
    job = running_held(runner, emulator, spec)
    assert job.run_id
    found: dict[str, float] = {}
    stop = threading.Event()
    watcher = threading.Thread(
        target=appeared, args=(history.db.run_dir(job.run_id) / "output.mp4", stop, found), daemon=True
    )
    watcher.start()
    time.sleep(0.5)
    released = time.time()
    emulator.hold = False
    final = job.wait(120)
    stop.set()
    assert isinstance(final, Done), final
    shown = next(e.at for e in job.events if isinstance(e, Downloaded))
    result, output, file = stamps.at["result"], stamps.at["output"], found["file"]
    return {
        "notice": result - released,
        "fetch": output - result,
        "download": file - output,
        "checks": shown - file,
        "COMPLETED → playable": shown - released,
        "after (→ Done)": final.at - shown,
    }


def plain_download(url: str, dest: Path) -> float:
    """The same file through the same proxy with nothing around it."""
    started = time.time()
    with (
        httpx.Client(verify=client_tls(), timeout=120) as client,
        client.stream("GET", url) as response,
        open(dest, "wb") as out,
    ):
        response.raise_for_status()
        for chunk in response.iter_bytes(1024 * 1024):
            out.write(chunk)
    return time.time() - started


PAGE_STEPS = ("notice", "fetch", "download", "page told", "page plays", "COMPLETED → playable")
# Installed in the page before the click: when the result <video> got its source, and when it could play.
STAMP_VIDEO = """() => {
    window.__told = window.__plays = 0;
    const timer = setInterval(() => {
        const v = document.querySelector('#output-video video');
        if (!v || !v.currentSrc) return;
        window.__told = window.__told || Date.now();
        if (v.readyState >= 3) { window.__plays = Date.now(); clearInterval(timer); }
    }, 5);
}"""


def new_output(runs_dir: Path, before: set[Path], stop: threading.Event, found: dict[str, float]) -> None:
    """Stamp the moment a new run's output.mp4 exists in the studio's data (renamed into place)."""
    while not stop.is_set():
        if set(runs_dir.glob("*/output.mp4")) - before:
            found["file"] = time.time()
            return
        time.sleep(0.01)


def page_run(
    browser: Any, url: str, emulator: FalEmulator, runs_dir: Path, files: tuple[Path, Path]
) -> dict[str, float]:
    """One run through the page: Generate, hold fal a while, release it, wait for the video to play."""

    from common import ready_page, wait_until  # (this script's folder is on sys.path)

    stamps = Stamps(emulator)
    context, page, seen = ready_page(browser, url, emulator, *files)
    try:
        page.evaluate(STAMP_VIDEO)
        page.click("#generate")
        wait_until(lambda: set(emulator.requests) - seen, 120, "the submit")
        found: dict[str, float] = {}
        stop = threading.Event()
        before = set(runs_dir.glob("*/output.mp4"))
        threading.Thread(target=new_output, args=(runs_dir, before, stop, found), daemon=True).start()
        time.sleep(1.0)  # fal works a while (the page's stream is following the run)
        released = time.time()
        emulator.hold = False
        page.wait_for_function("() => window.__plays", polling=50, timeout=120_000)
        told, plays = (page.evaluate(f"() => window.{name}") / 1000 for name in ("__told", "__plays"))
        stop.set()
    finally:
        emulator.hold = False
        context.close()
    result, output, file = stamps.at["result"], stamps.at["output"], found["file"]
    return {
        "notice": result - released,
        "fetch": output - result,
        "download": file - output,
        "page told": told - file,
        "page plays": plays - told,
        "COMPLETED → playable": plays - released,
    }


def page_main(runs: int, tmp: Path, emulator: FalEmulator) -> tuple[dict[str, list[float]], list[float]]:
    """The studio as `python app.py` runs it, its page in Chromium; `runs` runs after a warm-up."""
    from bench_page import start_app  # (this script's folder is on sys.path)
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM, CHROMIUM_ARGS

    files = make_image(tmp / "person.jpg"), make_clip(tmp / "c.mp4", 5)
    app, url = start_app("studio", emulator, tmp)
    runs_dir = tmp / "studio" / "data" / "runs"
    steps: dict[str, list[float]] = {step: [] for step in PAGE_STEPS}
    plain: list[float] = []
    try:
        with sync_playwright() as pw:
            env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, env=env)
            page_run(browser, url, emulator, runs_dir, files)  # warm-up: first page, imports, TLS
            for _ in range(runs):
                for step, value in page_run(browser, url, emulator, runs_dir, files).items():
                    steps[step].append(value)
                plain.append(plain_download(_output_url(emulator), tmp / "plain.mp4"))
            browser.close()
    finally:
        app.terminate()
        app.wait(15)
    return steps, plain


def _output_url(emulator: FalEmulator) -> str:
    call = next(c for c in reversed(emulator.calls) if c.path.startswith("/files/output/"))
    return f"https://{call.host}{call.path}"


def main() -> None:
    page = "--page" in sys.argv
    args = [a for a in sys.argv[1:] if a != "--page"]
    runs = int(args[0]) if args else RUNS
    tmp = Path(tempfile.mkdtemp(prefix="bench-result-"))
    clip = result_clip(Path(tempfile.gettempdir()) / "bench-result-1080p.mp4")
    emulator = FalEmulator(tmp / "emu").start()
    os.environ.update(emulator.env())
    emulator.queue_seconds = emulator.run_seconds = 0.0
    emulator.output = clip.read_bytes()
    for route in FAL_ROUTES:
        emulator.delays[route] = LATENCY
    try:
        steps, plain = page_main(runs, tmp, emulator) if page else job_main(runs, tmp, emulator)
    finally:
        emulator.stop()
    size = clip.stat().st_size / 2**20
    where = "in the page (Chromium)" if page else "at the job's events"
    print(
        f"== fal COMPLETED → video playable {where} (s, {runs} runs; {size:.0f} MB 1080p result, "
        f"{LATENCY * 1000:.0f} ms latency)"
    )
    print(f"{'':24s} {'min':>6s} {'median':>7s} {'max':>6s}")
    for label, values in {**steps, "download alone (httpx)": plain}.items():
        print(f"{label:24s} {min(values):6.2f} {statistics.median(values):7.2f} {max(values):6.2f}")
    gap = statistics.median(steps["COMPLETED → playable"]) - statistics.median(plain)
    print(f"COMPLETED → playable minus the download alone (medians): {gap:+.2f} s")
    paired = [a - b for a, b in zip(steps["COMPLETED → playable"], plain, strict=True)]
    print(
        f"the same, run by run (each run against the download right after it): median {statistics.median(paired):+.2f} s"
    )


def job_main(runs: int, tmp: Path, emulator: FalEmulator) -> tuple[dict[str, list[float]], list[float]]:
    """The runner in this process, timed at its job's events; `runs` runs after a warm-up."""
    spec = Order(
        Options(), ((Source(str(make_image(tmp / "person.jpg"))), Source(str(make_clip(tmp / "c.mp4", 5)))),)
    )
    settings = Settings(FAL_KEY=VALID_KEY, MOTION_STUDIO_DATA_DIR=tmp / "data")
    history = History(settings.db_path, settings.runs_dir)
    runner = JobRunner(settings, history)
    one_run(runner, history, emulator, spec)  # warm-up: imports, TLS, the upload cached
    steps: dict[str, list[float]] = {step: [] for step in STEPS}
    plain: list[float] = []
    try:
        for _ in range(runs):
            for step, value in one_run(runner, history, emulator, spec).items():
                steps[step].append(value)
            plain.append(plain_download(_output_url(emulator), tmp / "plain.mp4"))
    finally:
        runner.shutdown()
    return steps, plain


if __name__ == "__main__":
    main()
