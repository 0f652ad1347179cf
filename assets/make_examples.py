"""Regenerate the example inputs in assets/ (made here, so they are ours and license-clean).

    python assets/make_examples.py

A cartoon character image and a 4 s reference clip of a figure waving its arms, both tiny.
"""

from __future__ import annotations

import math
import subprocess
import tempfile
from pathlib import Path

import imageio_ffmpeg
from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent


def figure(draw: ImageDraw.ImageDraw, w: int, h: int, arm: float, body: str, skin: str) -> None:
    cx, top = w / 2, h * 0.12
    head = h * 0.09
    draw.ellipse((cx - head, top, cx + head, top + 2 * head), fill=skin, outline="black", width=3)
    neck, hip = top + 2 * head, h * 0.6
    draw.rounded_rectangle(
        (cx - w * 0.12, neck, cx + w * 0.12, hip), radius=20, fill=body, outline="black", width=3
    )
    for side in (-1, 1):
        sx, sy = cx + side * w * 0.12, neck + h * 0.03
        ex, ey = sx + side * math.cos(math.radians(arm)) * h * 0.2, sy - math.sin(math.radians(arm)) * h * 0.2
        draw.line((sx, sy, ex, ey), fill=skin, width=int(w * 0.05))
        draw.line(
            (cx + side * w * 0.07, hip, cx + side * w * 0.1, h * 0.92), fill="dimgray", width=int(w * 0.07)
        )


def make_image(path: Path) -> None:
    w, h = 512, 768
    image = Image.new("RGB", (w, h), "#f3efe6")
    draw = ImageDraw.Draw(image)
    figure(draw, w, h, arm=-60, body="#c0392b", skin="#f1c27d")
    image.save(path, "PNG", optimize=True)


def make_clip(path: Path, seconds: float = 4.0, fps: int = 12) -> None:
    w, h = 480, 720
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(int(seconds * fps)):
            image = Image.new("RGB", (w, h), "#dfe8f1")
            draw = ImageDraw.Draw(image)
            figure(draw, w, h, arm=60 * math.sin(2 * math.pi * i / fps), body="#2c3e50", skin="#d9a066")
            image.save(Path(tmp) / f"{i:04d}.png")
        subprocess.run(
            [
                imageio_ffmpeg.get_ffmpeg_exe(),
                "-hide_banner",
                "-loglevel",
                "error",
                "-y",
                "-framerate",
                str(fps),
                "-i",
                str(Path(tmp) / "%04d.png"),
                "-f",
                "lavfi",
                "-i",
                f"sine=frequency=330:duration={seconds}",
                "-c:v",
                "libx264",
                "-pix_fmt",
                "yuv420p",
                "-crf",
                "30",
                "-c:a",
                "aac",
                "-b:a",
                "32k",
                "-shortest",
                "-movflags",
                "+faststart",
                str(path),
            ],
            check=True,
        )


if __name__ == "__main__":
    make_image(HERE / "example_character.png")
    make_clip(HERE / "example_motion.mp4")
