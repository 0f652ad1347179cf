from __future__ import annotations

import pytest

from motion_studio import catalog
from motion_studio.order import Options


def test_tiers_prices_and_estimates() -> None:
    pro, standard = catalog.tier("pro"), catalog.tier("standard")
    assert pro.endpoint == "fal-ai/kling-video/v2.6/pro/motion-control"
    assert standard.endpoint == "fal-ai/kling-video/v2.6/standard/motion-control"
    assert pro.estimate_cost(5.0) == pytest.approx(0.56)
    assert pro.estimate_cost(4.2) == pytest.approx(5 * 0.112)  # whole seconds, rounded up
    assert standard.estimate_cost(30.0) == pytest.approx(2.1)
    assert catalog.format_price(0.112) == "$0.112/s" and catalog.format_price(0.07) == "$0.07/s"
    with pytest.raises(ValueError, match="Unknown tier"):
        catalog.tier("ultra")


def test_limits() -> None:
    assert catalog.LIMITS.min_seconds == 3 and catalog.LIMITS.max_seconds == 30
    assert catalog.OPTIONS["prompt"].max_chars == 2500
    assert Options(orientation="image").clip_max_seconds == 10
    assert Options(orientation="video").clip_max_seconds == 30


def test_every_model_takes_its_options_by_fal_name() -> None:
    """A model's body holds exactly the fields its description names (the emulator's schema)."""
    for model in catalog.TIERS.values():
        body = Options(model=model.name).fal_arguments("i", "v")
        assert set(body) <= model.fal_fields() - {"elements"}
        assert all(
            catalog.OPTIONS[name].fal in model.fal_fields() for name in model.options if model.sends(name)
        )
        assert not any(catalog.OPTIONS[name].fal in model.fal_fields() for name in model.local)


def test_request_arguments_follow_the_schema() -> None:
    body = Options(orientation="image", keep_sound=False).fal_arguments("https://i", "https://v")
    assert body == {"image_url": "https://i", "video_url": "https://v", "character_orientation": "image",
                    "keep_original_sound": False}  # fmt: skip
    assert Options(prompt="dance").fal_arguments("i", "v")["prompt"] == "dance"
