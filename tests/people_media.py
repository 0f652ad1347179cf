"""Real photographs and clips of a person for the people check, made on the spot without a download.

The person is NASA's portrait of astronaut Eileen Collins (public domain, a work of the US federal
government), shipped inside scikit-image as `skimage.data.astronaut()`: an upper-body photo, 512×512.
Clips are made from it with the ffmpeg binary imageio-ffmpeg ships: a pan, a zoom, and a pan that
leaves the person behind.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from PIL import Image
from skimage import data

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
QUIET = [FFMPEG, "-hide_banner", "-loglevel", "error", "-y"]
GREY = (128, 128, 128)


def astronaut() -> Image.Image:
    """The upper-body portrait, 512×512 RGB."""
    return Image.fromarray(data.astronaut())


def save(picture: Image.Image, path: Path) -> Path:
    picture.save(path)
    return path


def two_astronauts() -> Image.Image:
    """Two copies side by side (1024×512): two people, two faces."""
    one = astronaut()
    both = Image.new("RGB", (one.width * 2, one.height))
    both.paste(one, (0, 0))
    both.paste(one, (one.width, 0))
    return both


def small_astronaut(canvas: int = 1000, side: int = 250) -> Image.Image:
    """The portrait shrunk to `side` px in the middle of a plain `canvas`: the person covers ~3 %."""
    sheet = Image.new("RGB", (canvas, canvas), (200, 200, 200))
    offset = (canvas - side) // 2
    sheet.paste(astronaut().resize((side, side)), (offset, offset))
    return sheet


def coffee() -> Image.Image:
    """scikit-image's cup of coffee (public domain): a photo with no person."""
    return Image.fromarray(data.coffee())


def gradient(size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A plain left-to-right grey ramp: nothing at all to find."""
    w, h = size
    ramp = np.tile(np.linspace(0, 255, w, dtype=np.uint8)[None, :, None], (h, 1, 3))
    return Image.fromarray(ramp)


def astronaut_clip(
    path: Path,
    motion: str = "pan",
    *,
    seconds: float = 4.0,
    size: int = 320,
    fps: int = 12,
    gop: int | None = None,
    crf: int = 28,
) -> Path:
    """An H.264 clip of the portrait, `size`×`size` (or `size` wide, 16:9 portrait for "phone").

    - "pan": a window sliding across the portrait on a wider grey backdrop; the person stays in view;
    - "zoom": a slow push in towards the face (still head and shoulders);
    - "leave": the person in view for the first half, then the window pans away onto empty grey;
    - "phone": the pan, portrait 9:16 like a phone clip (`size` is the width).
    `gop` is the keyframe interval (x264's default, 250, when None: one keyframe in a short clip).
    """
    still = path.with_suffix(".still.png")
    portrait = astronaut()
    n = round(seconds * fps)
    if motion == "zoom":
        portrait.save(still)
        vf = f"zoompan=z='1+0.4*on/{n}':x='iw/2-iw/zoom/2':y='ih/3-ih/zoom/3':d=1:s={size}x{size}:fps={fps}"
    elif motion in ("pan", "phone"):
        backdrop = Image.new("RGB", (1024, 512), GREY)
        backdrop.paste(portrait, (256, 0))
        backdrop.save(still)
        vf = f"crop=512:512:x='128+256*t/{seconds}':y=0,scale={size}:{size}"
        if motion == "phone":
            height = size * 16 // 9 // 2 * 2
            vf += f",pad={size}:{height}:0:(oh-ih)/2:color=0x808080"
    elif motion == "leave":
        backdrop = Image.new("RGB", (1536, 512), GREY)
        backdrop.paste(portrait, (0, 0))
        backdrop.save(still)
        half = seconds / 2
        vf = f"crop=512:512:x='if(lt(t,{half}),0,1024*(t-{half})/{half})':y=0,scale={size}:{size}"
    else:
        raise ValueError(motion)
    cmd = [*QUIET, "-loop", "1", "-framerate", str(fps), "-i", str(still), "-vf", vf, "-frames:v", str(n)]
    cmd += ["-c:v", "libx264", "-preset", "ultrafast", "-crf", str(crf), "-pix_fmt", "yuv420p"]
    cmd += ["-g", str(gop)] if gop else []
    subprocess.run([*cmd, str(path)], check=True, capture_output=True)
    still.unlink()
    return path


def standard_media(folder: Path) -> dict[str, Path]:
    """The photos and clips the people tests read, written to `folder`."""
    return {
        "astronaut": save(astronaut(), folder / "astronaut.jpg"),
        "two": save(two_astronauts(), folder / "two.png"),
        "small": save(small_astronaut(), folder / "small.png"),
        "coffee": save(coffee(), folder / "coffee.jpg"),
        "gradient": save(gradient(), folder / "gradient.png"),
        "pan": astronaut_clip(folder / "pan.mp4", "pan"),
        "zoom": astronaut_clip(folder / "zoom.mp4", "zoom", gop=12),
        "leave": astronaut_clip(folder / "leave.mp4", "leave"),
    }


def flagged_phone_clip(folder: Path) -> Path:
    """A 2 s portrait phone clip stored sideways with a rotation flag, as phones store them."""
    upright = astronaut_clip(folder / "phone.mp4", "phone", size=180, seconds=2)
    sideways = folder / "sideways.mp4"
    subprocess.run([*QUIET, "-i", str(upright), "-vf", "transpose=2", str(sideways)], check=True)
    flagged = folder / "flagged.mp4"
    subprocess.run(
        [*QUIET, "-display_rotation", "-90", "-i", str(sideways), "-c", "copy", str(flagged)], check=True
    )
    return flagged


def exif_rotated_photo(path: Path) -> Path:
    """The portrait stored upside down with an EXIF orientation flag saying so."""
    exif = Image.Exif()
    exif[0x0112] = 3  # orientation: rotated 180°
    astronaut().transpose(Image.Transpose.ROTATE_180).save(path, exif=exif)
    return path
