"""What several benchmarks share: the emulator's slow uplink, fal's plain recipe, a process's peak
memory, and figures printed as min / median / max with ratios of medians.

The uplink's figures are bench_click.py's (imported from there, not copied).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_click import ENDPOINT, LATENCY, UPLINK  # noqa: E402  (this script's folder is on sys.path)

from motion_studio.jobs.events import Running  # noqa: E402
from motion_studio.order import Options  # noqa: E402
from tests.fal_emulator import FalEmulator  # noqa: E402
from tests.media_factory import QUIET  # noqa: E402

# Every call on the way to fal pays the latency; uploads also share the throttled uplink.
ROUTES_TO_FAL = ("token", "upload", "multipart_create", "multipart_part", "multipart_complete", "submit")


def slow_uplink(emulator: FalEmulator, uplink: float | None = UPLINK, latency: float = LATENCY) -> None:
    """The emulator as the issue measures: uploads at `uplink` bytes/s (shared), `latency` per call."""
    emulator.upload_bytes_per_second = uplink
    for route in ROUTES_TO_FAL:
        emulator.delays[route] = latency


def forget_files(emulator: FalEmulator) -> None:
    """Drop what earlier runs uploaded (the emulator keeps every file in memory)."""
    with emulator._lock:
        emulator.files.clear()
        emulator.multipart.clear()
        emulator.requests.clear()
        emulator.calls.clear()


def noisy_clip(path: Path, seed: int, seconds: float = 5.0, bitrate: str = "32M") -> Path:
    """A 640x360 clip of noise (it does not compress): about `seconds` × `bitrate` / 8 bytes."""
    source = f"testsrc=size=640x360:rate=24:duration={seconds},noise=alls=60:allf=t+u:all_seed={seed}"
    cmd = [*QUIET, "-f", "lavfi", "-i", source, "-c:v", "libx264", "-preset", "ultrafast"]
    subprocess.run([*cmd, "-b:v", bitrate, "-pix_fmt", "yuv420p", str(path)], check=True, capture_output=True)
    return path


def variant(source: Path, dest: Path, n: int) -> Path:
    """A copy of `source` with other bytes (a tag in its metadata): a distinct file for the upload
    cache, made in milliseconds (no re-encoding)."""
    cmd = [*QUIET, "-i", str(source), "-c", "copy", "-metadata", f"comment=bench {n}", str(dest)]
    subprocess.run(cmd, check=True, capture_output=True)
    return dest


async def plain_recipe(client: Any, image: Path, clip: Path, *, subscribe: bool) -> str:
    """fal's docs: upload the image, upload the clip, then submit (or subscribe: submit and wait for
    the result). Returns the request id, or the result's video URL when subscribing."""
    image_url = await client.upload_file(image)
    video_url = await client.upload_file(clip)
    arguments = Options().fal_arguments(image_url, video_url)
    if subscribe:
        result = await client.subscribe(ENDPOINT, arguments=arguments)
        return str(result["video"]["url"])
    handle = await client.submit(ENDPOINT, arguments=arguments)
    return str(handle.request_id)


def memory_mb(pid: int | str = "self") -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak since start, or since `reset_peak`) of a process, in MB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0]) / 1024
    return found


def reset_peak(pid: int | str = "self") -> None:
    """Start VmHWM over from the current RSS (Linux's clear_refs, value 5)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def wait_until(condition: Any, timeout: float, what: str, step: float = 0.005) -> Any:
    """Poll `condition()` until it returns something truthy; that value."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what}")
        time.sleep(step)
    return value


def running_held(runner: Any, emulator: FalEmulator, spec: Any) -> Any:
    """A job started with fal holding its request, once it runs on fal (the emulator's `hold` then
    decides when it completes)."""
    from pydantic import SecretStr

    from tests.fal_emulator import VALID_KEY

    emulator.hold = True
    job = runner.start(spec, SecretStr(VALID_KEY))
    wait_until(lambda: any(isinstance(e, Running) for e in job.events), 60, "the run running on fal")
    return job


def ready_page(
    browser: Any, url: str, emulator: FalEmulator, image: Path, clip: Path
) -> tuple[Any, Any, set[str]]:
    """(a browser context, its page with both inputs picked and Generate ready, the request ids fal
    had before): fal holds the next request until the benchmark lets it complete."""
    from tests.browser import pick

    context = browser.new_context(viewport={"width": 1280, "height": 1600})
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(url)
    page.locator("#generate").wait_for()
    emulator.hold = True
    seen = set(emulator.requests)
    pick(page, image, clip)
    page.wait_for_selector("#generate:not([disabled])")  # the verdict says ready
    return context, page, seen


def print_figures(title: str, figures: dict[str, list[float]], unit: str = "s") -> None:
    """One line per variant: min, median and max."""
    width = max(len(label) for label in figures) + 2
    print(f"== {title}")
    print(f"{'':{width}s} {'min':>7s} {'median':>7s} {'max':>7s}  ({unit})")
    for label, values in figures.items():
        low, mid, high = min(values), statistics.median(values), max(values)
        print(f"{label:{width}s} {low:7.2f} {mid:7.2f} {high:7.2f}")


def print_ratios(figures: dict[str, list[float]], base: str, what: str = "medians") -> None:
    """`base`'s median over each other variant's: above 1× the variant takes less (time or memory)."""
    reference = statistics.median(figures[base])
    for label, values in figures.items():
        mid = statistics.median(values)
        if label != base:
            print(f"ratio {base} / {label} ({what}): " + (f"{reference / mid:.2f}×" if mid else "∞"))
