"""50 runs at once: the studio's API path against fal's plain recipe 50 times over, side by side.

    .venv/bin/python bench/bench_concurrent.py [--uplink MBPS] [--clip-mb MB]

Each side runs in a process of its own (its peak memory is its own); the project's fal emulator runs
in this one, with 50 ms per call on the way to fal and 3 s of "generation" per request. The uplink
is not throttled unless asked (50 × 8 MB through a 5 MB/s uplink takes 80 s whatever the app does).
Every run has its own image and its own ~8 MB clip (no upload is served from a cache).

- the studio: 50 × `Studio.start_for_api` (what `/generate` calls), each run to Done (checked,
  uploaded, submitted, followed, video downloaded, thumbnail made, history written);
- the plain recipe (fal's docs): 50 × (upload image, upload clip, `subscribe`) with asyncio, on one
  `fal_client.AsyncClient`, to the result's URL (nothing downloaded).

Printed: when each request reached the emulator and when each run ended (seconds after the 50 were
started), the spread of the submits (first to last), and the peak memory growth of each process
(VmHWM over the RSS before the 50 start). Never asserted: shared machines are noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from common import (  # noqa: E402  (this script's folder is on sys.path)
    forget_files,
    memory_mb,
    noisy_clip,
    plain_recipe,
    print_figures,
    print_ratios,
    reset_peak,
    slow_uplink,
    variant,
)

from tests.fal_emulator import VALID_KEY, FalEmulator  # noqa: E402
from tests.media_factory import make_image  # noqa: E402

RUNS = 50
RUN_SECONDS = 3.0  # each request "generates" this long once submitted


def studio_side(pairs: list[tuple[str, str]], warm: tuple[str, str], data: Path) -> dict:
    """In a child process: the 50 runs through the studio, each to its end."""
    from pydantic import SecretStr

    from motion_studio.jobs.events import Done
    from motion_studio.order import Options, Order, Source
    from motion_studio.settings import Settings
    from motion_studio.studio.service import Studio

    def order(image: str, clip: str) -> Order:
        return Order.of(Options(), Source(image), Source(clip))

    studio = Studio(Settings(FAL_KEY=SecretStr(VALID_KEY), MOTION_STUDIO_DATA_DIR=data))
    final = studio.orders.start_for_api(order(*warm), "api:bench").wait(120)  # imports, TLS, ffmpeg
    assert isinstance(final, Done), final
    baseline, start = _baseline()
    jobs = [
        studio.orders.start_for_api(order(image, clip), f"api:bench-{n}")
        for n, (image, clip) in enumerate(pairs)
    ]
    finals = [job.wait(600) for job in jobs]
    peak = memory_mb()["VmHWM"]
    studio.runner.shutdown()
    failed = [repr(f) for f in finals if not isinstance(f, Done)]
    ends = [f.at for f in finals if f is not None]
    return {"start": start, "ends": ends, "baseline": baseline, "peak": peak, "failed": failed}


def plain_side(pairs: list[tuple[str, str]], warm: tuple[str, str]) -> dict:
    """In a child process: fal's recipe 50 times at once with asyncio."""
    import fal_client

    async def both() -> dict:
        client = fal_client.AsyncClient(key=VALID_KEY)

        async def one(image: str, clip: str) -> float:
            await plain_recipe(client, Path(image), Path(clip), subscribe=True)
            return time.time()

        await one(*warm)
        baseline, start = _baseline()
        outcomes = await asyncio.gather(*(one(*pair) for pair in pairs), return_exceptions=True)
        ends = [o for o in outcomes if isinstance(o, float)]
        failed = [repr(o) for o in outcomes if not isinstance(o, float)]
        return {
            "start": start,
            "ends": ends,
            "baseline": baseline,
            "peak": memory_mb()["VmHWM"],
            "failed": failed,
        }

    return asyncio.run(both())


def _baseline() -> tuple[float, float]:
    """The RSS once warm (the peak counter starts over from it), and the clock's start."""
    gc.collect()
    baseline = memory_mb()["VmRSS"]
    reset_peak()
    return baseline, time.time()


def make_inputs(tmp: Path, clip_mb: float) -> tuple[list[tuple[str, str]], tuple[str, str]]:
    """RUNS distinct (image, clip) pairs and one for the warm-up: one noisy clip, re-tagged."""
    bitrate = f"{clip_mb * 8 / 3.5 / 1.16:.2f}M"  # 3.5 s (fal wants 3 s at least); x264 overshoots on noise
    source = noisy_clip(tmp / "source.mp4", 1, seconds=3.5, bitrate=bitrate)
    pairs = []
    for n in range(RUNS + 1):
        image = make_image(tmp / f"person{n}.jpg", size=(600 + n, 800))
        pairs.append((str(image), str(variant(source, tmp / f"clip{n}.mp4", n))))
    return pairs[:RUNS], pairs[RUNS]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uplink", type=float, default=None, help="throttle uploads to this many MB/s")
    parser.add_argument("--clip-mb", type=float, default=8.0, help="size of each clip (default 8 MB)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-concurrent-"))
    pairs, warm = make_inputs(tmp, args.clip_mb)
    clip_mb = Path(pairs[0][1]).stat().st_size / 1e6
    (tmp / "inputs.json").write_text(json.dumps({"pairs": pairs, "warm": warm}))
    emulator = FalEmulator(tmp / "emu").start()
    emulator.queue_seconds, emulator.run_seconds = 0.0, RUN_SECONDS
    slow_uplink(emulator, args.uplink * 1e6 if args.uplink else None)
    results = {}
    for side in ("plain", "studio"):
        forget_files(emulator)
        child = subprocess.run(
            [sys.executable, __file__, side, str(tmp)],
            env={**os.environ, **emulator.env()},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
        )
        if child.returncode != 0:
            raise SystemExit(f"the {side} side failed:\n{child.stderr[-3000:]}")
        result = json.loads(child.stdout.strip().splitlines()[-1])
        result["submits"] = sorted(r.created for r in emulator.submitted if r.created >= result["start"])
        result["uploads"] = len(emulator.calls_to("upload")), len(emulator.calls_to("multipart_part"))
        results[side] = result
    emulator.stop()
    shutil.rmtree(tmp, ignore_errors=True)

    labels = {"plain": "plain recipe (asyncio.gather)", "studio": "studio (Studio.start_for_api)"}
    uplink = f"{args.uplink:g} MB/s uplink" if args.uplink else "uplink not throttled"
    print(
        f"== {RUNS} runs at once ({clip_mb:.1f} MB clips, {uplink}, 50 ms per call, {RUN_SECONDS:g} s on fal)"
    )
    for side, r in results.items():
        single, parts = r["uploads"]
        print(
            f"{labels[side]}: {len(r['ends'])} ended, {len(r['failed'])} failed, "
            f"{len(r['submits'])} submits seen; {single} single-request uploads, {parts} multipart parts"
        )
        for failure in r["failed"][:3]:
            print(f"    {failure[:300]}")
    submits = {labels[s]: [t - r["start"] for t in r["submits"]] for s, r in results.items()}
    print_figures("start → submit seen by the emulator, per run", submits)
    spread = {label: [max(values) - min(values)] for label, values in submits.items()}
    for label, values in spread.items():
        print(f"{label}: submits spread over {values[0]:.2f} s, first to last")
    print_ratios(spread, labels["plain"], "spread of submits")
    ends = {labels[s]: [t - r["start"] for t in r["ends"]] for s, r in results.items()}
    print_figures("start → run ended (studio: Done; plain: subscribe returned), per run", ends)
    print_ratios({label: [max(values)] for label, values in ends.items()}, labels["plain"], "all ended")
    print("== memory of each process (MB): RSS before the runs, peak (VmHWM) during them, growth")
    for side, r in results.items():
        grown = r["peak"] - r["baseline"]
        print(f"{labels[side]:32s} {r['baseline']:6.0f} {r['peak']:6.0f} {grown:6.0f}")
    growth = {labels[s]: [r["peak"] - r["baseline"]] for s, r in results.items()}
    print_ratios(growth, labels["plain"], "peak growth")


def child(side: str, tmp: Path) -> None:
    spec = json.loads((tmp / "inputs.json").read_text())
    pairs = [tuple(p) for p in spec["pairs"]]
    warm = tuple(spec["warm"])
    result = studio_side(pairs, warm, tmp / "data") if side == "studio" else plain_side(pairs, warm)
    print(json.dumps(result))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] in ("plain", "studio"):
        child(sys.argv[1], Path(sys.argv[2]))
    else:
        main()
