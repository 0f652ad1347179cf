"""The model catalogue: endpoint ids, input limits and prices, in one place (source: shared/FAL.md).

Where sources disagree (minimum image side 300 or 340 px) the stricter value is used, so that a run
the app lets through is not refused by fal after the user has waited for the upload.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

Orientation = Literal["image", "video"]

ORIENTATION_MAX_SECONDS: dict[str, float] = {"image": 10.0, "video": 30.0}
ORIENTATION_HELP: dict[str, str] = {
    "image": "keeps the pose of your image; better with camera moves; clip up to 10 s",
    "video": "follows the body orientation of the clip; better for complex motion; clip up to 30 s",
}


@dataclass(frozen=True)
class Limits:
    """Input limits shared by both v2.6 tiers (Kling's motion-control text, as FAL.md quotes it)."""

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
    name: str
    endpoint: str
    price_per_second: float
    resolution: str
    label: str

    def estimate_cost(self, seconds: float) -> float:
        """Billing is per second of output, which follows the clip; whole seconds, rounded up, to be safe."""
        return round(billed_seconds(seconds) * self.price_per_second, 3)


def billed_seconds(seconds: float) -> int:
    """The seconds a clip is billed as: whole seconds, rounded up (6.2 s is billed as 7 s)."""
    return math.ceil(max(seconds, 0.0) - 1e-9)


LIMITS = Limits()

TIERS: dict[str, ModelTier] = {
    "pro": ModelTier(
        name="pro",
        endpoint="fal-ai/kling-video/v2.6/pro/motion-control",
        price_per_second=0.112,
        resolution="1080p",
        label="Pro · 1080p · $0.112/s",
    ),
    "standard": ModelTier(
        name="standard",
        endpoint="fal-ai/kling-video/v2.6/standard/motion-control",
        price_per_second=0.07,
        resolution="720p",
        label="Standard · 720p · $0.07/s",
    ),
}


def tier(name: str) -> ModelTier:
    try:
        return TIERS[name]
    except KeyError:
        raise ValueError(f"Unknown tier {name!r}; choose one of {', '.join(TIERS)}.") from None


def request_arguments(
    image_url: str, video_url: str, orientation: str, prompt: str, keep_sound: bool
) -> dict[str, Any]:
    """The v2.6 input body, exactly as FAL.md gives it: no other fields, `prompt` only when there is one."""
    arguments: dict[str, Any] = {
        "image_url": image_url,
        "video_url": video_url,
        "character_orientation": orientation,
        "keep_original_sound": bool(keep_sound),
    }
    if prompt:
        arguments["prompt"] = prompt
    return arguments


def options_under(cap: float, seconds: float, tier_name: str) -> list[str]:
    """What would fit under a per-run cap on the server's key, and only that: a shorter clip (if one
    long enough for the model fits), another model (if it fits), and always one's own key."""
    model = tier(tier_name)
    options = []
    longest = math.floor(cap / model.price_per_second + 1e-9)
    if LIMITS.min_seconds <= longest < billed_seconds(seconds):
        options.append(f"a clip of at most {longest} s")
    options += [
        f"the {other.name} model"
        for other in TIERS.values()
        if other.name != model.name and other.estimate_cost(seconds) <= cap
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
