"""Speed of the people and pose check, printed as figures (never asserted: shared machines are noisy).

    .venv/bin/python bench/bench_people.py [--quick]

Targets, on a 2-core machine, uncached (a new checker each time, models already loaded):
a photo ≤ 0.3 s and a 30 s clip ≤ 1.5 s, median. Also shown: the first check in a process (imports
MediaPipe and loads the models), a 12 MP phone photo, a 30 s clip with few keyframes (x264's default
of one every 250 frames: the worst case for frame sampling), a cached check and the pose preview.
The media are made on the spot from scikit-image's astronaut photo (see tests/people_media.py).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from motion_studio.media import memo  # noqa: E402
from motion_studio.people import Detector, PeopleChecker, Skipped  # noqa: E402
from tests import people_media as pm  # noqa: E402

IMAGE_TARGET = 0.3
CLIP_TARGET = 1.5


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - start)
        if isinstance(result, Skipped):
            raise SystemExit(f"check skipped: {result.reason}")
    return samples


def report(name: str, samples: list[float], target: float | None = None) -> None:
    med = statistics.median(samples)
    verdict = ""
    if target is not None:
        verdict = f"  target ≤ {target:.1f} s: {'ok' if med <= target else 'OVER'}"
    print(
        f"{name:<44} median {med:6.3f} s  min {min(samples):6.3f}  max {max(samples):6.3f}"
        f"  (n={len(samples)}){verdict}"
    )


def main() -> None:
    quick = "--quick" in sys.argv
    reps = 3 if quick else 9
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        print("making media (30 s 1080×1920 clips take a while)…", flush=True)
        photo = pm.save(pm.astronaut(), d / "astronaut.jpg")
        big = pm.astronaut().resize((3000, 3000), Image.Resampling.BICUBIC)
        phone_photo = d / "phone.jpg"
        sheet = Image.new("RGB", (3000, 4000), (200, 200, 200))
        sheet.paste(big, (0, 500))
        sheet.save(phone_photo, quality=90)
        seconds = 10.0 if quick else 30.0
        clip = pm.astronaut_clip(d / "phone.mp4", "phone", seconds=seconds, size=1080, fps=30, gop=30)
        long_gop = pm.astronaut_clip(d / "long-gop.mp4", "phone", seconds=seconds, size=1080, fps=30)

        detector = Detector()

        def fresh() -> PeopleChecker:
            memo.forget_all()  # the content hash is part of an uncached check
            return PeopleChecker(detector=detector)

        start = time.perf_counter()
        first = fresh().check_image(photo)
        cold = time.perf_counter() - start
        if isinstance(first, Skipped):
            raise SystemExit(f"check skipped: {first.reason}")
        print(f"{'first check in the process (loads models)':<44} {cold:6.3f} s")

        report(
            "photo 512×512 JPEG, uncached", timed(lambda: fresh().check_image(photo), reps * 2), IMAGE_TARGET
        )
        report("phone photo 3000×4000 JPEG, uncached", timed(lambda: fresh().check_image(phone_photo), reps))
        label = f"{seconds:.0f} s clip 1080×1920, 1 s keyframes, uncached"
        report(label, timed(lambda: fresh().check_clip(clip), reps), CLIP_TARGET)
        label = f"{seconds:.0f} s clip 1080×1920, 250-frame GOP, uncached"
        report(label, timed(lambda: fresh().check_clip(long_gop), reps), CLIP_TARGET)
        warm = fresh()
        warm.check(photo, clip)
        report("photo + clip, cached", timed(lambda: warm.check(photo, clip), reps))
        report(
            "pose preview (photo + clip frame), cached",
            timed(lambda: warm.preview(photo, clip, d / "p.png"), reps),
        )


if __name__ == "__main__":
    main()
