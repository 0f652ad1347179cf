"""The page's model choice in Chromium against the fal emulator: models grouped by family, each showing
its own controls only, and a comparison of three models from the batch panel."""

from __future__ import annotations

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import Page, expect

from motion_studio.catalog import OPTIONS, TIERS

from .browser import pick, video_duration
from .fal_emulator import FalEmulator

pytestmark = pytest.mark.browser


def element(name: str) -> str:
    """An option's control on the page (its elem_id, as `option_controls` makes it)."""
    return "#" + name.replace("_", "-")


def choose_family(page: Page, name: str) -> None:
    page.locator("#family").get_by_text(name, exact=True).click()


def shows_only_the_controls_of(page: Page, *models: str) -> None:
    """Each option's control is shown if one of `models` takes it, and hidden otherwise."""
    for name in OPTIONS:
        control = expect(page.locator(element(name)))
        if any(TIERS[model].takes(name) for model in models):
            control.to_be_visible()
        else:
            control.to_be_hidden()


def test_each_family_lists_its_models_and_each_model_shows_its_own_controls(
    app: str, page: Page, fal: FalEmulator, samples
) -> None:
    page.goto(app)
    tier, note, family = page.locator("#tier"), page.locator("#model-note"), page.locator("#family")
    expect(page.locator('#tier input[value="pro"]')).to_be_checked()  # the default model, in its family
    expect(family).to_contain_text("Kling Motion Control:")  # what the family is for
    expect(note).to_contain_text("Kling Pro: its highest quality")
    shows_only_the_controls_of(page, "pro")
    pick(page, samples["image_jpg"], samples["clip_3s"])
    expect(page.locator("#generate")).to_have_text("Generate · ≈ $0.34")

    choose_family(page, "Wan")  # its first model, its controls, and the check again with its price
    expect(page.locator('#tier input[value="wan-move"]')).to_be_checked()
    expect(tier.locator("input")).to_have_count(2)  # Move and Replace only
    expect(family).to_contain_text("Wan 2.2 Animate:")
    expect(note).to_contain_text("Wan Move: your image, its scene included")
    shows_only_the_controls_of(page, "wan-move")
    seed = page.locator("#seed input, #seed textarea")
    expect(seed).to_have_value("")  # empty: the model picks a seed
    expect(page.locator("#generate")).to_have_text("Generate · ≈ $0.12")
    seed.fill("seven")
    seed.blur()
    expect(page.locator("#verdict")).to_contain_text("Seed must be a whole number")
    expect(page.locator("#generate")).to_be_disabled()
    seed.fill("7")
    seed.blur()
    expect(page.locator("#generate")).to_be_enabled()
    page.locator("#resolution").get_by_text("720p").click()
    expect(page.locator("#generate")).to_have_text("Generate · ≈ $0.24")
    tier.get_by_text("Wan Replace").click()
    expect(note).to_contain_text("Wan Replace: the clip's person is replaced")
    shows_only_the_controls_of(page, "wan-replace")

    choose_family(page, "DreamActor")
    expect(page.locator('#tier input[value="dreamactor"]')).to_be_checked()
    shows_only_the_controls_of(page, "dreamactor")
    expect(page.locator(element("trim_first_second") + " input")).to_be_checked()
    expect(page.locator("#face-panel")).to_be_hidden()
    expect(page.locator("#generate")).to_have_text("Generate · ≈ $0.45")

    choose_family(page, "Kling")  # the server's default model again
    expect(page.locator('#tier input[value="pro"]')).to_be_checked()
    expect(tier.locator("input")).to_have_count(4)
    page.locator('#tier input[value="v3-pro"]').check()
    shows_only_the_controls_of(page, "v3-pro")
    expect(page.locator("#face-panel")).to_be_visible()  # v3 only
    expect(page.locator("#generate")).to_have_text("Generate · ≈ $0.50")
    assert fal.submitted == []  # choosing costs nothing


def test_a_comparison_of_three_models_runs_once_on_each_and_ends_on_its_grid(
    app: str, page: Page, fal: FalEmulator, samples
) -> None:
    page.goto(app)
    pick(page, samples["image_jpg"], samples["clip_3s"])
    expect(page.locator("#generate")).to_be_enabled()
    page.locator("#batch-panel").get_by_text("Batch: several characters").click()  # closed: open it
    expect(page.locator("#compare-models")).to_be_hidden()
    page.locator("#batch-kind").get_by_text("Compare models").click()
    expect(page.locator("#batch-files")).to_be_hidden()  # the models instead of the files
    compare = page.locator("#compare-models")
    expect(compare).to_be_visible()
    expect(compare.locator('input[value="pro"]')).to_have_count(0)  # the chosen model is not offered
    compare.get_by_text("Wan Move").click()
    compare.get_by_text("DreamActor v2").click()
    shows_only_the_controls_of(page, "pro", "wan-move", "dreamactor")  # every compared model's options
    page.locator("#resolution").get_by_text("580p").click()  # Wan's, while Kling is the chosen model
    expect(page.locator("#verdict")).to_contain_text(
        "Ready: a comparison of 3 runs, one per model (Kling Pro, Wan Move 580p, DreamActor v2)"
    )
    expect(page.locator("#cost")).to_contain_text(
        "$0.34 (Kling Pro) + $0.18 (Wan Move 580p) + $0.45 (DreamActor v2)"
    )
    expect(page.locator("#generate")).to_have_text("Generate 3 runs · ≈ $0.97")
    expect(page.locator("#preview")).to_contain_text("Preview 3 × 3 s · one per model")

    page.locator("#generate").click()
    expect(page.locator("#progress")).to_contain_text("3 of 3 done.", timeout=90_000)
    expect(page.locator("#progress")).to_contain_text("Wan Move 580p · done")
    expect(page.locator("#grid-video video")).to_be_visible()  # the Grid tab is opened for it
    assert video_duration(page, "grid-video") > 2
    by_endpoint = {request.endpoint: request.body for request in fal.submitted}
    assert set(by_endpoint) == {TIERS[name].endpoint for name in ("pro", "wan-move", "dreamactor")}
    wan = by_endpoint[TIERS["wan-move"].endpoint]
    assert wan["resolution"] == "580p" and "seed" not in wan and "character_orientation" not in wan
    assert by_endpoint[TIERS["dreamactor"].endpoint]["trim_first_second"] is True
    expect(page.locator("#gallery")).to_contain_text("batch 3/3")
    expect(page.locator("#gallery .thumbnail-item")).to_have_count(3)

    # A run of it, selected in the gallery, brings its model back, and the family follows.
    page.locator("#gallery .thumbnail-item").filter(has_text="Wan Move").click()
    expect(page.locator('#family input[value="wan"]')).to_be_checked()
    expect(page.locator('#tier input[value="wan-move"]')).to_be_checked()
    expect(page.locator("#resolution input[value='580p']")).to_be_checked()
    expect(compare.locator('input[value="wan-move"]')).to_have_count(0)  # now the chosen one
    expect(page.locator("#model-note")).to_contain_text("Wan Move")
