"""The page as a studio, in Chromium at desktop and phone sizes: layout, every input understood, result
views, runs you come back to, and a gallery that pages through all runs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import Browser, Page, expect

from motion_studio.catalog import FAL_SAMPLE_IMAGE, FAL_SAMPLE_VIDEO
from motion_studio.history.runs import Run
from motion_studio.history.store import History
from motion_studio.order import Options
from motion_studio.settings import Settings

from .browser import TIMEOUT, generate, pick, running_app, video_duration, wait_done
from .fal_emulator import SAMPLE_IMAGE_URL, SAMPLE_VIDEO_URL, FalEmulator
from .media_factory import bomb_png, heic_image, hevc_clip, prores_mov

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def new_page(browser: Browser, viewport: dict[str, int]) -> Page:
    context = browser.new_context(viewport=viewport, is_mobile=viewport is PHONE, has_touch=viewport is PHONE)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    return page


@pytest.fixture(params=["desktop", "phone"])
def sized(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    page = new_page(browser, DESKTOP if request.param == "desktop" else PHONE)
    yield page
    page.context.close()


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    page = new_page(browser, DESKTOP)
    yield page
    page.context.close()


def box(page: Page, selector: str) -> dict[str, float]:
    found = page.locator(selector).bounding_box()
    assert found is not None, selector
    return found


def test_the_run_sits_beside_the_inputs_on_a_desktop_and_below_them_on_a_phone(
    app: str,
    sized: Page,
    fal: FalEmulator,
    samples,
) -> None:
    page = sized
    page.goto(app)
    # The first screen: the examples in view before anything is filled in (on a phone too)...
    for example in ("#example-fal", "#example-offline", "#example-offline-image"):
        expect(page.locator(example)).to_be_in_viewport(ratio=1)
    assert page.evaluate("window.scrollY") == 0
    # ...and no empty gallery frame nor a card about selecting a run before there is one.
    expect(page.locator("#runs-summary")).to_contain_text("No runs yet. Your videos will appear here")
    expect(page.locator("#gallery")).to_be_hidden()
    expect(page.locator("#run-details")).to_be_hidden()
    expect(page.locator("#result-empty")).to_be_visible()  # an empty state, no empty players
    expect(page.locator("#output-video")).to_be_hidden()
    inputs, run = box(page, "#inputs-column"), box(page, "#run-column")
    phone = page.viewport_size == PHONE
    if phone:
        assert run["y"] >= inputs["y"] + inputs["height"] - 1  # stacked: inputs, then the run
    else:
        assert run["x"] >= inputs["x"] + inputs["width"] - 1 and abs(run["y"] - inputs["y"]) < 5
    assert box(page, "#runs-title")["y"] > max(inputs["y"] + inputs["height"], run["y"] + run["height"]) - 1
    generate(page, samples["image_jpg"], samples["clip_5s"])
    expect(page.locator("#progress")).to_be_in_viewport()  # brought into view from Generate, below it
    wait_done(page)
    assert video_duration(page, "output-video") > 4
    result = box(page, "#output-video")
    if not phone:  # the result is in view beside the inputs, not a screen below them
        assert result["y"] < 900
    assert result["x"] >= 0 and result["x"] + result["width"] <= page.viewport_size["width"] + 1
    # The first run brings the gallery and its card; each caption sits under its picture, not over it.
    expect(page.locator("#gallery img")).to_have_count(1)
    expect(page.locator("#run-details")).to_contain_text("Select a run")
    picture, caption = box(page, "#gallery .thumbnail-item img"), box(page, "#gallery .caption-label")
    assert caption["y"] >= picture["y"] + picture["height"] - 1
    expect(page.locator("#gallery .caption-label")).to_contain_text("done")


def test_each_bad_image_gets_its_sentence_and_later_checks_still_work(
    app: str,
    sized: Page,
    samples,
    tmp_path: Path,
) -> None:
    page = sized
    text = tmp_path / "notes.png"
    text.write_text("this is not a picture")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    bomb = bomb_png(tmp_path / "bomb.png")
    cases = [
        (text, "is not an image the app can read"),
        (empty, "is empty"),
        (bomb, "MP"),
    ]
    page.goto(app)
    pick(page, None, samples["clip_5s"])
    expect(page.locator("#video-info")).to_contain_text("5.0 s")
    for path, sentence in cases:
        pick(page, path, None)
        expect(page.locator("#image-info")).to_contain_text(sentence)
        expect(page.locator("#verdict")).to_contain_text("❌")
        expect(page.locator("#generate")).to_be_disabled()
        assert "Error" not in page.locator("#verdict").inner_text()
        # No browser can show it: the box is emptied (no broken picture), and the sentence stays.
        expect(page.locator("#image-input img")).to_have_count(0)
        expect(page.locator("#image-input").get_by_text("Drop Image Here")).to_be_visible()
        page.locator("#prompt textarea").fill(path.name)
        page.locator("#prompt textarea").blur()  # a later check still says what was wrong
        expect(page.locator("#verdict")).to_contain_text(sentence)
        expect(page.locator("#image-info")).to_contain_text(sentence)
    pick(page, samples["image_small"], None)  # a picture the model can't take stays in view
    expect(page.locator("#image-info")).to_contain_text("at least 340 px")
    expect(page.locator("#image-input img")).to_be_visible()
    pick(page, samples["clip_3s"], None)  # the wrong kind of file: refused in the browser, kindly
    expect(page.locator("#upload-refusal")).to_contain_text("clip_3s.mp4 is a video, not an image")
    document = tmp_path / "contract.pdf"
    document.write_bytes(b"%PDF-1.4 not a picture")
    pick(page, document, None)
    expect(page.locator("#upload-refusal")).to_contain_text("contract.pdf is not an image. Pick a photo")
    pick(page, samples["image_jpg"], None)  # a bad file never blocks the next check
    expect(page.locator("#verdict")).to_contain_text("Ready")
    expect(page.locator("#image-info")).to_contain_text("600×800 JPEG")
    expect(page.locator("#upload-refusal")).to_be_empty()


def test_an_iphone_heic_photo_is_shown_and_accepted(
    app: str,
    desktop: Page,
    samples,
    tmp_path: Path,
) -> None:
    page = desktop
    page.goto(app)
    pick(page, heic_image(tmp_path / "IMG_0001.heic"), samples["clip_5s"])
    expect(page.locator("#verdict")).to_contain_text("Ready")
    # The box shows the PNG it becomes (Chromium can't draw HEIC).
    page.wait_for_function(
        "() => { const i = document.querySelector('#image-input img'); return i && i.naturalWidth > 0; }"
    )


def test_a_file_over_the_upload_limit_is_refused_in_the_browser_with_a_sentence(
    settings: Settings, fal: FalEmulator, desktop: Page, tmp_path: Path
) -> None:
    page = desktop
    big = tmp_path / "holiday.mp4"
    big.write_bytes(b"\0" * (2 * 1024 * 1024 + 1))
    with running_app(settings.model_copy(update={"max_upload_mb": 2})) as url:
        page.goto(url)
        pick(page, None, big)
        expect(page.locator("#upload-refusal")).to_contain_text(
            "holiday.mp4 is 2 MB; this page takes files up to 2 MB"
        )
        expect(page.locator("#upload-refusal")).to_contain_text("Trim or compress the clip")
        expect(page.locator(".toast-body")).to_have_count(0)  # not Gradio's toast
        expect(page.locator("#video-input video")).to_have_count(0)  # nothing was uploaded


@pytest.mark.parametrize("kind", ["hevc", "prores"])
def test_a_clip_chromium_cannot_play_gets_an_h264_preview_before_and_after_the_run(
    app: str,
    desktop: Page,
    fal: FalEmulator,
    samples,
    tmp_path: Path,
    kind: str,
) -> None:
    page = desktop
    clip = hevc_clip(tmp_path / "IMG_0002.mov", 4) if kind == "hevc" else prores_mov(tmp_path / "edit.mov", 4)
    page.goto(app)
    pick(page, samples["image_jpg"], clip)
    expect(page.locator("#verdict")).to_contain_text("Ready")
    expect(page.locator("#input-note")).to_contain_text("H.264 preview")
    assert video_duration(page, "video-input") > 3  # it plays
    page.locator("#generate").click()
    wait_done(page)
    assert len(fal.submitted) == 1
    page.get_by_role("tab", name="Reference").click()
    assert video_duration(page, "reference-video") > 3


def test_the_side_by_side_view_plays_and_downloads_under_the_runs_name(
    app: str,
    desktop: Page,
    fal: FalEmulator,
    samples,
) -> None:
    page = desktop
    page.goto(app)
    generate(page, samples["image_jpg"], samples["clip_5s"])
    wait_done(page)
    page.get_by_role("tab", name="Side by side").click()
    expect(page.locator("#side-note")).to_contain_text("Reference on the left")
    assert video_duration(page, "side-video") > 4
    width = page.evaluate("() => document.querySelector('#side-video video').videoWidth")
    height = page.evaluate("() => document.querySelector('#side-video video').videoHeight")
    assert width > 1.5 * height  # two pictures beside each other
    with page.expect_download() as download:
        page.locator("#side-video").get_by_role("button", name="Download").click()
    assert download.value.suggested_filename.endswith("-side-by-side.mp4")


def test_the_gallery_counts_all_runs_and_pages_through_500(
    settings: Settings, fal: FalEmulator, desktop: Page, samples
) -> None:
    # Seeded in one transaction, each run already stopped: 500 commits took seconds on a busy disk.
    now = time.time()
    History(settings.db_path, settings.runs_dir).writes.create_many(
        [
            Run(
                options=Options(prompt=f"run number {n}"),
                endpoint="e",
                image_path=str(samples["image_jpg"]),
                created_at=now - 500 + n,
                status="stopped",
            )
            for n in range(500)
        ]
    )
    page = desktop
    # Pages of 100 (the setting a server can choose) instead of 24: five pages through the same 500.
    settings = settings.model_copy(update={"gallery_page_size": 100})
    size = settings.gallery_page_size
    with running_app(settings) as url:
        page.goto(url)
        expect(page.locator("#runs-summary")).to_contain_text(f"500 runs · showing the newest {size}")
        expect(page.locator("#gallery img")).to_have_count(size)
        expect(page.locator("#gallery")).to_contain_text("run number 499")  # newest first, uncut
        for shown in range(2 * size, 500 + size, size):
            page.locator("#show-more").click()
            expect(page.locator("#gallery img")).to_have_count(min(shown, 500))
        expect(page.locator("#show-more")).to_be_hidden()
        expect(page.locator("#runs-summary")).to_contain_text("500 runs · 0 finished")
        expect(page.locator("#gallery")).to_contain_text("run number 0")


def test_fals_sample_example_runs_end_to_end_and_is_not_uploaded_again(
    app: str,
    desktop: Page,
    fal: FalEmulator,
    samples,
) -> None:
    page = desktop
    page.goto(app)
    page.locator("#example-fal").click()
    expect(page.locator("#verdict")).to_contain_text("Ready")
    expect(page.locator("#video-info")).to_contain_text("5.0 s")
    assert fal.sample_gets() == {SAMPLE_IMAGE_URL: 1, SAMPLE_VIDEO_URL: 1}  # fetched to be checked
    assert fal.submitted == []
    # What the URLs hold is shown under them: nobody pays for a picture or a clip they have not seen.
    expect(page.locator("#image-from-url img")).to_be_visible()
    expect(page.locator("#video-from-url video")).to_be_visible()
    assert video_duration(page, "video-from-url") > 4
    page.locator("#prompt textarea").fill("A woman dancing, slowly")
    page.locator("#prompt textarea").blur()  # a check of the prompt: the previews stay, not reloaded
    expect(page.locator("#video-from-url video")).to_be_visible()
    page.locator("#generate").click()
    wait_done(page)
    assert video_duration(page, "output-video") > 4
    assert fal.calls_to("upload") == [] and fal.calls_to("token") == [] and fal.calls_to("initiate") == []
    [request] = fal.submitted
    assert request.body["image_url"] == SAMPLE_IMAGE_URL and request.body["video_url"] == SAMPLE_VIDEO_URL
    assert fal.sample_gets() == {SAMPLE_IMAGE_URL: 1, SAMPLE_VIDEO_URL: 1}
    assert (FAL_SAMPLE_IMAGE, FAL_SAMPLE_VIDEO) == (SAMPLE_IMAGE_URL, SAMPLE_VIDEO_URL)  # one truth
    pick(page, samples["image_jpg"], None)  # a file picked wins over the URL, and the page says so
    expect(page.locator("#image-url input, #image-url textarea")).to_have_value("")
    expect(page.locator("#image-from-url")).to_be_hidden()
    expect(page.locator("#video-from-url video")).to_be_visible()  # the clip still comes from its URL


def test_gradios_trim_editor_shows_its_buttons_on_a_phone(
    app: str,
    browser: Browser,
    samples,
) -> None:
    page = new_page(browser, PHONE)
    try:
        page.goto(app)
        pick(page, None, samples["clip_5s"])
        expect(page.locator("#video-info")).to_contain_text("5.0 s")
        page.locator("#video-input").get_by_label("Trim video to selection").click()
        trim = page.locator("#video-input").get_by_role("button", name="Trim", exact=True)
        expect(trim).to_be_visible()
        button, frame = box(page, "#video-input button:text-is('Trim')"), box(page, "#video-input")
        assert button["y"] + button["height"] <= frame["y"] + frame["height"]  # inside its box, not cut
    finally:
        page.context.close()


def test_the_face_panels_boxes_fit_their_text(app: str, sized: Page) -> None:
    page = sized
    page.goto(app)
    page.locator("#tier").get_by_text("v3 Pro").first.click()
    expect(page.locator("#face-panel")).to_be_visible()
    for elem_id in ("face-frontal", "face-angle-1", "face-angle-2", "face-angle-3"):
        frame = box(page, f"#{elem_id}")
        for text in ("Drop Image Here", "Click to Upload"):
            shown = page.locator(f"#{elem_id}").get_by_text(text).bounding_box()
            assert shown is not None, (elem_id, text)
            assert frame["x"] <= shown["x"] and shown["x"] + shown["width"] <= frame["x"] + frame["width"]
            assert frame["y"] <= shown["y"] and shown["y"] + shown["height"] <= frame["y"] + frame["height"]
        cut = page.locator(f"#{elem_id} [data-testid=upload-text]").evaluate(
            "wrap => [...wrap.querySelectorAll('*')].some(e => e.scrollWidth > e.clientWidth + 1)"
        )
        assert not cut, elem_id
