"""The people check in the page, in Chromium: the pose preview for the astronaut, the "no
person" warning for a blank picture with Generate still enabled (advice, never a refusal), and one line
when the check cannot run while everything else works."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import Browser, Page, ViewportSize, expect

from motion_studio import people
from motion_studio.people import Detector, PeopleChecker, detect

from . import people_media as pm
from .browser import TIMEOUT, pick

pytestmark = pytest.mark.browser
DESKTOP: ViewportSize = {"width": 1366, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The astronaut portrait, a 3.5 s pan over it (360 px: above Kling's 340 px minimum), a blank."""
    d = tmp_path_factory.mktemp("people-page")
    return {
        "astronaut": pm.save(pm.astronaut(), d / "astronaut.jpg"),
        "blank": pm.save(pm.gradient(), d / "blank.png"),
        "clip": pm.astronaut_clip(d / "pan.mp4", "pan", seconds=3.5, size=360),
    }


def new_page(browser: Browser, viewport: ViewportSize) -> Iterator[Page]:
    phone = viewport is PHONE
    context = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    yield page
    context.close()


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    yield from new_page(browser, DESKTOP)


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    yield from new_page(browser, PHONE)


def preview_size(page: Page) -> tuple[int, int]:
    """The pose preview picture's own size, once the browser has decoded it (scrolled to first: the
    picture is loaded lazily)."""
    expect(page.locator("#pose-accordion")).to_be_visible()
    page.locator("#pose-accordion").scroll_into_view_if_needed()
    page.wait_for_function("() => document.querySelector('#pose-preview img')?.naturalWidth > 0")
    img = page.locator("#pose-preview img")
    expect(img).to_be_visible()
    return img.evaluate("i => [i.naturalWidth, i.naturalHeight]")


def test_the_pose_preview_shows_the_image_and_a_clip_frame(app: str, desktop: Page, media) -> None:
    page = desktop
    page.goto(app)
    expect(page.locator("#pose-accordion")).to_be_hidden()  # nothing to show yet
    pick(page, media["astronaut"], media["clip"])
    expect(page.locator("#verdict")).to_contain_text("Ready")
    expect(page.locator("#people-check")).to_contain_text("image: 1 person · upper body")
    expect(page.locator("#people-check")).not_to_contain_text("⚠️")
    preview_size(page)
    # Two pictures side by side, the photo and one clip frame (the image's own check may show first).
    page.wait_for_function(
        "() => { const i = document.querySelector('#pose-preview img');"
        " return i && i.naturalWidth > 1.9 * i.naturalHeight; }"
    )
    expect(page.locator("#generate")).to_be_enabled()


def test_no_person_is_a_warning_and_generate_stays_enabled_on_a_phone(app: str, phone: Page, media) -> None:
    page = phone
    page.goto(app)
    pick(page, media["blank"], media["clip"])
    warning = page.locator("#people-check")
    expect(warning).to_contain_text("No person was found in the image")
    expect(warning).to_contain_text("Before you pay")  # beside a green "Ready", it says why it matters
    expect(page.locator("#generate")).to_be_enabled()
    expect(page.locator("#verdict")).to_contain_text("Ready")
    preview_size(page)  # the clip's person is still shown
    shown = page.locator("#pose-preview img").bounding_box()
    assert shown is not None and shown["x"] >= 0 and shown["x"] + shown["width"] <= PHONE["width"]
    # Another image: the warning goes with the input it was about.
    pick(page, media["astronaut"], None)
    expect(warning).to_contain_text("image: 1 person")
    expect(warning).not_to_contain_text("No person")


def test_a_check_that_cannot_run_says_so_in_one_line(
    app: str, desktop: Page, media, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_mediapipe() -> tuple[object, object]:
        raise ImportError("No module named 'mediapipe'")

    monkeypatch.setattr(detect, "_create", no_mediapipe)
    monkeypatch.setattr(people, "_default", PeopleChecker(detector=Detector()))
    page = desktop
    page.goto(app)
    pick(page, media["blank"], media["clip"])
    expect(page.locator("#people-check")).to_contain_text(
        "The people check was skipped for the image and the clip: The people check is not available here"
    )
    expect(page.locator("#people-check p")).to_have_count(1)
    expect(page.locator("#verdict")).to_contain_text("Ready")
    expect(page.locator("#generate")).to_be_enabled()
    expect(page.locator("#pose-accordion")).to_be_hidden()
