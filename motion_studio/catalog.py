"""The model catalogue: endpoint ids, input limits and prices, in one place (source: the
models' pages and API schemas on fal.ai).

Where sources disagree (minimum image side 300 or 340 px) the stricter value is used, so that a run
the app lets through is not refused by fal after the user has waited for the upload. Where prices
disagree (v3), the higher figure is the default and a setting overrides it (`apply_prices`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from .errors import FaceElementError

ORIENTATION_MAX_SECONDS: dict[str, float] = {"image": 10.0, "video": 30.0}
ORIENTATION_HELP: dict[str, str] = {
    "image": "keeps the pose of your image; better with camera moves; clip up to 10 s",
    "video": "follows the body orientation of the clip; better for complex motion; clip up to 30 s",
}


@dataclass(frozen=True)
class Limits:
    """Input limits shared by both v2.6 tiers (Kling's motion-control text, as fal's model page quotes it)."""

    min_seconds: float = 3.0
    video_formats: tuple[str, ...] = ("mp4", "mov")
    video_max_bytes: int = 100 * 1024 * 1024
    video_min_side: int = 340
    video_max_side: int = 3850
    image_formats: tuple[str, ...] = ("JPEG", "PNG")
    image_max_bytes: int = 10 * 1024 * 1024
    image_min_side: int = 340
    image_max_aspect: float = 2.5
    prompt_max_chars: int = 2500

    def max_seconds(self, orientation: str) -> float:
        return ORIENTATION_MAX_SECONDS[orientation]


@dataclass(frozen=True)
class ModelTier:
    """One endpoint. `face_binding`: it takes fal's `elements` (a face kept consistent, v3 only).
    `preview`: the model a preview of a run on this one goes to (its family's Standard model)."""

    name: str
    endpoint: str
    price_per_second: float
    resolution: str
    title: str
    preview: str
    face_binding: bool = False

    @property
    def label(self) -> str:
        """What the page's model choice says; made from the price, which may be a setting."""
        face = " · face binding" if self.face_binding else ""
        return f"{self.title} · {self.resolution} · {format_price(self.price_per_second)}{face}"

    def estimate_cost(self, seconds: float) -> float:
        """Billing is per second of output, which follows the clip; whole seconds, rounded up, to be safe."""
        return round(billed_seconds(seconds) * self.price_per_second, 3)


def billed_seconds(seconds: float) -> int:
    """The seconds a clip is billed as: whole seconds, rounded up (6.2 s is billed as 7 s)."""
    return math.ceil(max(seconds, 0.0) - 1e-9)


LIMITS = Limits()

# A preview is the shortest clip Kling takes, on the cheapest model of the chosen family: enough to see
# whether the character, the framing and the motion map, for a fraction of the full run's price.
PREVIEW_SECONDS = LIMITS.min_seconds

# The public figures for v3 disagree ($0.168/s or $0.126/s for pro): these defaults are the higher
# ones, and `MOTION_STUDIO_V3_PRO_PRICE` / `_V3_STANDARD_PRICE` override them (see `apply_prices`).
V3_PRO_PRICE = 0.168
V3_STANDARD_PRICE = 0.126

TIERS: dict[str, ModelTier] = {
    "pro": ModelTier(
        name="pro",
        preview="standard",
        endpoint="fal-ai/kling-video/v2.6/pro/motion-control",
        price_per_second=0.112,
        resolution="1080p",
        title="Pro",
    ),
    "standard": ModelTier(
        name="standard",
        preview="standard",
        endpoint="fal-ai/kling-video/v2.6/standard/motion-control",
        price_per_second=0.07,
        resolution="720p",
        title="Standard",
    ),
    "v3-pro": ModelTier(
        name="v3-pro",
        preview="v3-standard",
        endpoint="fal-ai/kling-video/v3/pro/motion-control",
        price_per_second=V3_PRO_PRICE,
        resolution="1080p",
        title="v3 Pro",
        face_binding=True,
    ),
    "v3-standard": ModelTier(
        name="v3-standard",
        preview="v3-standard",
        endpoint="fal-ai/kling-video/v3/standard/motion-control",
        price_per_second=V3_STANDARD_PRICE,
        resolution="720p",
        title="v3 Standard",
        face_binding=True,
    ),
}
FACE_TIERS = tuple(name for name, model in TIERS.items() if model.face_binding)

# fal's `elements`: at most one element, an optional frontal image and 0-3 more angles, named in the
# prompt as `@Element1`, only with orientation `video` (v3 only).
FACE_MAX_ANGLES = 3
FACE_REFERENCE = "@Element1"
FACE_ORIENTATION = "video"


def apply_prices(prices: dict[str, float]) -> None:
    """Set the price of models whose price is a setting (the settings call this once they are read):
    every estimate, budget check, label and API description reads the catalogue, so they all agree."""
    for name, price in prices.items():
        TIERS[name] = replace(tier(name), price_per_second=price)


def tier(name: str) -> ModelTier:
    try:
        return TIERS[name]
    except KeyError:
        raise ValueError(f"Unknown tier {name!r}; choose one of {', '.join(TIERS)}.") from None


@dataclass(frozen=True)
class Face:
    """The images of one face to keep consistent (fal's one element): paths, or URLs once uploaded."""

    frontal: str | None = None
    angles: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.frontal or self.angles)

    @property
    def images(self) -> tuple[str, ...]:
        """Every image, the frontal one first."""
        return (self.frontal, *self.angles) if self.frontal else self.angles

    def element(self) -> dict[str, Any]:
        """fal's element: `frontal_image_url` only when there is one, `reference_image_urls` likewise."""
        element: dict[str, Any] = {}
        if self.frontal:
            element["frontal_image_url"] = self.frontal
        if self.angles:
            element["reference_image_urls"] = list(self.angles)
        return element


def check_face(tier_name: str, orientation: str, face: Face | None) -> None:
    """Refuse a face fal would refuse (or that the chosen model would ignore), before anything is sent."""
    if not face:
        return
    model = tier(tier_name)
    if not model.face_binding:
        raise FaceElementError.model(model.name, either([f"'{name}'" for name in FACE_TIERS]))
    if orientation != FACE_ORIENTATION:
        raise FaceElementError.orientation()
    if len(face.angles) > FACE_MAX_ANGLES:
        raise FaceElementError.too_many(len(face.angles), FACE_MAX_ANGLES)


def options_under(cap: float, seconds: float, tier_name: str, *, face: bool = False) -> list[str]:
    """What would fit under a per-run cap on the server's key, and only that: a shorter clip (if one
    long enough for the model fits), another model (if it fits, and keeps the face when one is
    given), and always one's own key."""
    model = tier(tier_name)
    options = []
    longest = math.floor(cap / model.price_per_second + 1e-9)
    if LIMITS.min_seconds <= longest < billed_seconds(seconds):
        options.append(f"a clip of at most {longest} s")
    options += [
        f"the {other.name} model"
        for other in TIERS.values()
        if other.name != model.name
        and other.estimate_cost(seconds) <= cap
        and (other.face_binding or not face)
    ]
    return [*options, "your own fal key"]


def either(options: list[str]) -> str:
    """["a", "b", "c"] -> "a, b or c"."""
    return options[0] if len(options) == 1 else ", ".join(options[:-1]) + " or " + options[-1]


def format_cost(dollars: float) -> str:
    return f"${dollars:.2f}"


def format_price(dollars_per_second: float) -> str:
    """Prices have three significant decimals ($0.112/s); rounding them to cents would mislead."""
    return f"${dollars_per_second:.3f}".rstrip("0").rstrip(".") + "/s"


# fal's own published sample inputs for motion control (a real person, as the model needs), hosted
# on fal's CDN: the page's first example, passed to fal as they are.
FAL_SAMPLE_IMAGE = "https://v3b.fal.media/files/b/0a875302/8NaxQrQxDNHppHtqcchMm.png"
FAL_SAMPLE_VIDEO = "https://v3b.fal.media/files/b/0a8752bc/2xrNS217ngQ3wzXqA7LXr_output.mp4"
