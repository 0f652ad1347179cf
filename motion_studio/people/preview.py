"""The pose preview: the skeleton the pose model found, drawn over the photo and over one frame of
the clip, side by side in one picture, so a user sees what Kling will match before paying.

Pure Pillow drawing on pictures and landmarks already at hand; no model runs here.
"""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

from .results import Landmark
from .rules import SEEN_VISIBILITY

PREVIEW_HEIGHT = 480
GAP = 8
_BACKGROUND = (24, 24, 27)
_LEFT = (255, 138, 36)  # the person's left side (odd landmark indices)
_RIGHT = (56, 189, 248)  # the person's right side (even indices)
_CENTRE = (250, 250, 250)

# MediaPipe Pose's skeleton (`mp.solutions.pose.POSE_CONNECTIONS`), copied so drawing needs no
# mediapipe import.
POSE_CONNECTIONS = (
    (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10),
    (11, 12), (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19),
    (12, 14), (14, 16), (16, 18), (16, 20), (16, 22), (18, 20),
    (11, 23), (12, 24), (23, 24), (23, 25), (24, 26), (25, 27), (26, 28),
    (27, 29), (28, 30), (29, 31), (30, 32), (27, 31), (28, 32),
)  # fmt: skip


def _colour(a: int, b: int) -> tuple[int, int, int]:
    if a % 2 and b % 2:
        return _LEFT
    if a % 2 == 0 and b % 2 == 0 and a and b:
        return _RIGHT
    return _CENTRE


def fit_height(picture: Image.Image, height: int = PREVIEW_HEIGHT) -> Image.Image:
    """An RGB copy scaled to `height` px high, aspect ratio kept."""
    width = max(1, round(picture.width * height / picture.height))
    return picture.convert("RGB").resize((width, height), Image.Resampling.BILINEAR)


def draw_skeleton(picture: Image.Image, landmarks: Sequence[Landmark]) -> Image.Image:
    """A copy of `picture` with the landmarks the model is sure of (visibility ≥ 0.5) drawn over it;
    parts placed beyond the edge are cut off by it."""
    out = picture.convert("RGB")
    if not landmarks:
        return out
    draw = ImageDraw.Draw(out)
    line = max(2, round(min(out.size) / 160))
    points = [(p.x * out.width, p.y * out.height) for p in landmarks]
    sure = [p.visibility >= SEEN_VISIBILITY for p in landmarks]
    for a, b in POSE_CONNECTIONS:
        if a < len(points) and b < len(points) and sure[a] and sure[b]:
            draw.line([points[a], points[b]], fill=_colour(a, b), width=line)
    radius = line + 1
    for i, ((x, y), ok) in enumerate(zip(points, sure, strict=True)):
        if ok:
            colour = _CENTRE if i == 0 else (_LEFT if i % 2 else _RIGHT)
            draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=colour, outline=(0, 0, 0))
    return out


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except Exception:  # Pillow built without FreeType: the small bitmap font
        return ImageFont.load_default()


def add_caption(picture: Image.Image, text: str) -> Image.Image:
    """A copy with `text` on a dark band along the bottom edge."""
    out = picture.convert("RGB")
    if not text:
        return out
    band = max(20, out.height // 16)
    overlay = Image.new("RGBA", out.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    draw.rectangle([0, out.height - band, out.width, out.height], fill=(0, 0, 0, 160))
    draw.text((8, out.height - band + band // 6), text, fill=(255, 255, 255, 255), font=_font(band * 2 // 3))
    return Image.alpha_composite(out.convert("RGBA"), overlay).convert("RGB")


def panel(picture: Image.Image, landmarks: Sequence[Landmark], caption: str) -> Image.Image:
    """One side of the preview: the picture at the preview height, its skeleton, a caption."""
    return add_caption(draw_skeleton(fit_height(picture), landmarks), caption)


def side_by_side(panels: Sequence[Image.Image], gap: int = GAP) -> Image.Image:
    """The panels in a row on a dark background (all as high as the tallest)."""
    height = max(p.height for p in panels)
    width = sum(p.width for p in panels) + gap * (len(panels) - 1)
    sheet = Image.new("RGB", (width, height), _BACKGROUND)
    x = 0
    for p in panels:
        sheet.paste(p, (x, (height - p.height) // 2))
        x += p.width + gap
    return sheet
