"""Photos: opened lazily and refused before decoding when they are bombs, checked as the model will
see them (EXIF rotation applied), and converted to an upright RGB PNG/JPEG when fal would refuse them.

iPhone photos are HEIC: pillow-heif's opener is registered here, for Pillow as a whole (so Gradio's
image component reads them too). Without it they get a sentence that says what to do.
"""

from __future__ import annotations

import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from .. import notices
from ..catalog import LIMITS
from ..errors import ImageError, InputError
from .files import MB, kind_of, require_file, short_name
from .memo import by_file

try:
    import pillow_heif
except ImportError:  # an install without it still reads every other format
    HEIF_SUPPORTED = False
else:
    pillow_heif.register_heif_opener()
    HEIF_SUPPORTED = True

MAX_PIXELS = 40_000_000
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs")
_HEIF_GENERIC = (b"mif1", b"msf1")


@dataclass(frozen=True)
class ImageInfo:
    width: int
    height: int
    format: str
    mode: str
    size_bytes: int

    def summary(self) -> str:
        return f"{self.width}×{self.height} {self.format}"


@dataclass(frozen=True)
class ImageReport:
    info: ImageInfo
    notes: tuple[str, ...] = ()
    needs_conversion: bool = False


def is_heic(path: Path) -> bool:
    """HEIC/HEIF from the `ftyp` box: a major brand of its own, or the generic one listing `heic`."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(64)
    except OSError:
        return False
    if head[4:8] != b"ftyp":
        return False
    brand = head[8:12]
    if brand in _HEIF_BRANDS:
        return True
    size = int.from_bytes(head[:4], "big")
    return brand in _HEIF_GENERIC and any(b in head[16:size] for b in _HEIF_BRANDS)


def open_image(path: Path, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Open lazily and refuse huge images before decoding a single pixel (decompression bombs)."""
    if not HEIF_SUPPORTED and is_heic(path):
        raise ImageError.heic_unreadable(short_name(path))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path)
    except UnidentifiedImageError:
        if kind_of(path) == "video":
            raise ImageError.is_video(short_name(path)) from None
        raise ImageError.not_an_image(short_name(path)) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError.bomb(short_name(path), max_pixels // 1_000_000) from None
    except Exception:  # format plugins raise assorted types on hostile headers
        raise ImageError.unreadable(short_name(path)) from None
    w, h = image.size
    if w * h > max_pixels:
        image.close()
        raise ImageError.too_many_pixels(w, h, max_pixels // 1_000_000)
    return image


def _corrupt(path: Path) -> InputError:
    return ImageError.corrupt(short_name(path))


def upright_rgb(image: Image.Image, path: Path) -> Image.Image:
    """Decoded, EXIF rotation applied, transparency flattened on white: what the model will see."""
    try:
        upright = ImageOps.exif_transpose(image)
        if upright.mode in ("RGBA", "LA", "P", "PA"):
            rgba = upright.convert("RGBA")
            flat = Image.new("RGB", rgba.size, "white")
            flat.paste(rgba, mask=rgba.getchannel("A"))
            return flat
        return upright.convert("RGB")
    except Exception:  # decoders raise OSError, SyntaxError, EOFError, zlib errors... on broken data
        raise _corrupt(path) from None


@by_file
def inspect_image(path: str | Path, max_pixels: int = MAX_PIXELS) -> ImageReport:
    """Check format, size, aspect ratio and file size, as the model will see it (EXIF rotation applied)."""
    path = Path(path)
    size = require_file(path, "image")
    with open_image(path, max_pixels) as image:
        # Many phones write JPEGs carrying a second picture (MPF: depth or gain map); Pillow calls
        # them MPO with two frames. The first is the photo, and any JPEG reader (fal's too) shows it.
        still = image.format == "MPO"
        if not still and getattr(image, "n_frames", 1) > 1:
            raise ImageError.animated(short_name(path))
        try:
            image.load()
            orientation = image.getexif().get(0x0112, 1)
        except Exception:  # decoders raise OSError, SyntaxError, EOFError, zlib errors... on broken data
            raise _corrupt(path) from None
        fmt = "JPEG" if still else image.format or "unknown"
        w, h = image.size
        if orientation in (5, 6, 7, 8):
            w, h = h, w
        mode = image.mode
    if min(w, h) < LIMITS.image_min_side:
        raise ImageError.too_small(w, h, LIMITS.image_min_side)
    ratio = max(w, h) / min(w, h)
    if ratio > LIMITS.image_max_aspect:
        raise ImageError.aspect(w, h, ratio, LIMITS.image_max_aspect)
    notes: list[str] = []
    if fmt not in LIMITS.image_formats:
        what = "HEIC photo" if fmt == "HEIF" else f"{fmt} image"
        notes.append(notices.image_converted(what))
    elif mode not in ("RGB", "L"):
        notes.append(notices.image_flattened(mode))
    if orientation != 1:
        notes.append(notices.EXIF_ROTATION)
    if size > LIMITS.image_max_bytes:
        notes.append(notices.image_reencoded(size / MB))
    info = ImageInfo(width=w, height=h, format=fmt, mode=mode, size_bytes=size)
    return ImageReport(info=info, notes=tuple(notes), needs_conversion=bool(notes))


def prepare_image(path: str | Path, report: ImageReport, dest: Path, max_pixels: int = MAX_PIXELS) -> Path:
    """Copy the image into the run folder, converted to an upright RGB PNG/JPEG when needed."""
    path = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not report.needs_conversion:
        target = dest.with_suffix(".jpg" if report.info.format == "JPEG" else ".png")
        shutil.copyfile(path, target)
        return target
    with open_image(path, max_pixels) as image:
        flat = upright_rgb(image, path)
    target = dest.with_suffix(".png")
    flat.save(target, "PNG", optimize=False)
    if target.stat().st_size > LIMITS.image_max_bytes:
        target.unlink()
        target = dest.with_suffix(".jpg")
        flat.save(target, "JPEG", quality=92)
    if target.stat().st_size > LIMITS.image_max_bytes:
        raise ImageError.still_too_big(short_name(path))
    return target
