"""A batch's comparison grid: every result in one H.264/AAC video, side by side (ffmpeg's `xstack`).

Made only for people to look at, like the side-by-side view (views.py), in the same house style:
each result scaled into one cell size (letterboxed when its shape differs), cells at most 720 px high
and the whole at most 1920 px wide, as long as the longest result (a shorter one holds its last
frame), with the first result's sound. A comparison's cells carry their model's name in a corner
(drawn by Pillow, whose own font is always there: a Space may have no system fonts). Written to a
temporary name first, so a half-written grid is never served, and made once: a second call finds it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from ..errors import ViewError
from . import ffmpeg
from .video import VideoInfo, probe_video
from .views import H264_OUTPUT, encode, even

CELL_MAX_HEIGHT = 720
GRID_MAX_WIDTH = 1920
# (rows, columns) for 2–8 results: one row up to three, then two rows.
LAYOUTS = {2: (1, 2), 3: (1, 3), 4: (2, 2), 5: (2, 3), 6: (2, 3), 7: (2, 4), 8: (2, 4)}


def grid_layout(count: int) -> tuple[int, int]:
    """The grid's rows and columns for `count` results (2 to 8)."""
    if count not in LAYOUTS:
        raise ValueError(f"a grid takes 2 to 8 results, not {count}")
    return LAYOUTS[count]


def cell_size(first: VideoInfo, columns: int) -> tuple[int, int]:
    """One cell's width and height: the first result's shape, at most 720 px high, and narrow enough
    that `columns` cells fit in 1920 px. Both even (H.264 wants it)."""
    width, height = first.display_size
    cell_h: float = min(height, CELL_MAX_HEIGHT)
    cell_w = cell_h * width / height
    if cell_w * columns > GRID_MAX_WIDTH:
        cell_w = GRID_MAX_WIDTH / columns
        cell_h = cell_w * height / width
    return even(cell_w), even(cell_h)


def label_image(text: str, cell_height: int, dest: Path) -> Path:
    """A cell's label: white text on a dark, half-clear box, sized to the cell (a PNG at `dest`)."""
    font = ImageFont.load_default(size=max(14, cell_height // 22))
    left, top, right, bottom = (round(edge) for edge in font.getbbox(text))
    pad = max(6, cell_height // 80)
    box = Image.new("RGBA", (right - left + 2 * pad, bottom - top + 2 * pad), (0, 0, 0, 170))
    ImageDraw.Draw(box).text((pad - left, pad - top), text, font=font, fill=(255, 255, 255, 255))
    box.save(dest)
    return dest


def comparison_grid(results: list[Path], dest: Path, labels: list[str] | None = None) -> Path:
    """The grid of `results` (2 to 8 videos, in this order: row by row) at `dest`, made once; each
    cell labelled with its entry of `labels` when given."""
    if dest.is_file() and dest.stat().st_size > 0:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent) as scratch:
        return _grid(results, dest, labels, Path(scratch))


def _grid(results: list[Path], dest: Path, labels: list[str] | None, scratch: Path) -> Path:
    _, columns = grid_layout(len(results))
    infos = [probe_video(path) for path in results]  # an unreadable result is refused in words
    cell_w, cell_h = cell_size(infos[0], columns)
    duration = max(info.duration for info in infos)
    fps = f"fps={infos[0].fps:g}," if infos[0].fps > 0 else ""
    cell = (
        f"scale={cell_w}:{cell_h}:force_original_aspect_ratio=decrease,"
        f"pad={cell_w}:{cell_h}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1,{fps}format=yuv420p,"
        "tpad=stop_mode=clone:stop=-1"  # a shorter result holds its last frame; -t ends the grid
    )
    cells = ";".join(f"[{n}:v:0]{cell}[c{n}]" for n in range(len(results)))
    stacked = [f"[c{n}]" for n in range(len(results))]
    badges: list[Path] = []
    if labels:
        badges = [label_image(text, cell_h, scratch / f"label-{n}.png") for n, text in enumerate(labels)]
        margin = max(8, cell_h // 60)
        cells += "".join(
            f";[c{n}][{len(results) + n}:v]overlay={margin}:{margin}[l{n}]" for n in range(len(results))
        )
        stacked = [f"[l{n}]" for n in range(len(results))]
    layout = "|".join(f"{(n % columns) * cell_w}_{(n // columns) * cell_h}" for n in range(len(results)))
    stack = "".join(stacked)
    graph = f"{cells};{stack}xstack=inputs={len(results)}:layout={layout}:fill=black[v]"
    cmd = [*ffmpeg.quiet()]
    for path in results:
        cmd += ffmpeg.safe_input(path)
    for badge in badges:  # our own PNGs, not an input anyone gave
        cmd += ["-i", str(badge)]
    cmd += ["-filter_complex", graph, "-map", "[v]"]
    sound = next((n for n, info in enumerate(infos) if info.has_audio), None)
    cmd += ["-map", f"{sound}:a:0", "-c:a", "aac", "-b:a", "160k"] if sound is not None else ["-an"]
    cmd += ["-t", f"{duration:.3f}", *H264_OUTPUT, "-crf", "23"]
    return encode(cmd, dest, ViewError.grid())
