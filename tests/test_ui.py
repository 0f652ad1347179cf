"""The page in a real browser (Debian's Chromium via Playwright) against the app and the fal emulator."""

from __future__ import annotations

import contextlib
import logging
import re
from pathlib import Path

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import Browser, Page, expect

from motion_studio.settings import Settings, get_settings

from .browser import TIMEOUT, choose, free_port, generate, pick, running_app, video_duration, wait_done
from .fal_emulator import VALID_KEY, FalEmulator
from .waiting import wait_for

pytestmark = pytest.mark.browser


def test_live_verdict_run_and_playback(app: str, page: Page, fal: FalEmulator, samples) -> None:
    page.goto(app)
    expect(page.locator("#generate")).to_be_disabled()
    expect(page.locator("#result-empty")).to_contain_text("Your video will appear here")
    expect(page.locator("#output-video")).to_be_hidden()  # no empty boxes before a run
    pick(page, samples["image_jpg"], samples["clip_5s"])
    expect(page.locator("#verdict")).to_contain_text("Ready")
    expect(page.locator("#video-info")).to_contain_text("5.0 s · 480×360 · 12 fps · with audio")
    expect(page.locator("#image-info")).to_contain_text("600×800 JPEG")
    expect(page.locator("#cost")).to_contain_text("$0.56")
    choose(page, "tier", "Standard")
    expect(page.locator("#cost")).to_contain_text("$0.35")
    expect(page.locator("#generate")).to_have_text("Generate · ≈ $0.35")  # the estimate on the button
    assert fal.submitted == []  # checking costs nothing
    # Ready inputs go to fal's storage while the user is still choosing: Generate only submits.
    wait_for(lambda: len(fal.calls_to("upload")) == 2, what="the inputs uploaded ahead")
    expect(page.locator("#generate")).to_be_enabled()
    page.locator("#generate").click()
    wait_done(page)
    assert len(fal.calls_to("upload")) == 2  # not sent again
    expect(page.locator("#progress")).to_contain_text("$0.35")  # what it cost, and how long it took
    expect(page.locator("#result-empty")).to_be_hidden()
    assert video_duration(page, "output-video") > 4
    # Served from the outbox as it is (a link, no copy into Gradio's cache, no hashing of its bytes).
    assert "motion-studio-outbox-" in (page.locator("#output-video video").get_attribute("src") or "")
    # Every player loads its video's header and first frame, not the whole file, until it is played
    # (Gradio's ask for all of it): the result shows sooner, and no unwatched video is downloaded.
    preloads = page.eval_on_selector_all("video", "vs => vs.map(v => v.getAttribute('preload'))")
    assert preloads and set(preloads) == {"metadata"}
    with page.expect_download() as download:
        page.locator("#download").click()
    assert re.fullmatch(r"motion-\d{4}-\d\d-\d\d-\w{1,8}\.mp4", download.value.suggested_filename)
    page.get_by_text("fal log").click()  # closed until asked for
    assert "Generating frames" in page.locator("#logs textarea").input_value()
    expect(page.locator("#gallery img")).to_have_count(1)
    page.reload()
    expect(page.locator("#gallery img")).to_have_count(1)
    expect(page.locator("#gallery")).to_contain_text("done")
    [request] = fal.submitted
    assert request.endpoint.endswith("/standard/motion-control")


def test_too_long_clip_shows_reason_and_sends_nothing(
    app: str, page: Page, fal: FalEmulator, samples
) -> None:
    page.goto(app)
    choose(page, "orientation", "image")
    pick(page, samples["image_jpg"], samples["clip_12s"])
    expect(page.locator("#verdict")).to_contain_text(
        "The clip is 12.0 s; with orientation 'image' the limit is 10 s. Switch to 'video' (30 s) or trim it."
    )
    expect(page.locator("#generate")).to_be_disabled()
    assert fal.calls == [] and fal.proxied_hosts == []
    page.locator("#trim").click()  # the page offers to keep the first 10 s
    expect(page.locator("#video-info")).to_contain_text("10.0 s")
    expect(page.locator("#verdict")).to_contain_text("Ready")
    expect(page.locator("#generate")).to_be_enabled()
    expect(page.locator("#trim")).to_be_hidden()
    assert fal.submitted == []  # ready now: the inputs may go to fal's storage, nothing is paid


def test_cancel_reaches_fal(app: str, page: Page, fal: FalEmulator, samples) -> None:
    fal.hold = True
    page.goto(app)
    generate(page, samples["image_png"], samples["clip_3s"])
    expect(page.locator("#progress")).to_contain_text("Generating")
    expect(page.locator("#progress")).to_contain_text("elapsed")
    page.locator("#cancel").click()
    expect(page.locator("#progress")).to_contain_text("Cancelled on fal; fal may still bill")
    [request] = fal.submitted
    assert request.cancel_calls == 1
    expect(page.locator("#generate")).to_be_enabled()
    # Picked in the gallery, the run says where it is, not what the page said last; Run again its price.
    expect(page.locator("#gallery")).to_contain_text("cancelled")
    page.locator("#gallery img").first.click()
    expect(page.locator("#progress")).to_contain_text("Selected run: cancelled · fal may have charged for it")
    expect(page.locator("#run-again")).to_contain_text("Run again · ≈ $")


def test_closing_the_tab_does_not_stop_a_paid_run(
    app: str, browser: Browser, fal: FalEmulator, samples
) -> None:
    fal.hold = True
    context = browser.new_context()
    tab = context.new_page()
    tab.set_default_timeout(TIMEOUT)
    tab.goto(app)
    generate(tab, samples["image_jpg"], samples["clip_3s"])
    expect(tab.locator("#progress")).to_contain_text("Generating")
    context.close()  # the user closes the tab while fal is working
    fal.hold = False
    again = browser.new_page()
    again.set_default_timeout(TIMEOUT)
    again.goto(app)
    expect(again.locator("#gallery")).to_contain_text("done", timeout=60_000)
    again.locator("#gallery img").first.click()
    assert video_duration(again, "output-video") > 2
    assert len(fal.submitted) == 1 and fal.submitted[0].cancel_calls == 0
    again.close()


def test_a_reload_and_a_second_tab_reattach_to_the_running_run_and_can_cancel_it(
    app: str, page: Page, fal: FalEmulator, samples
) -> None:
    fal.hold = True
    page.goto(app)
    generate(page, samples["image_jpg"], samples["clip_3s"])
    expect(page.locator("#progress")).to_contain_text("Generating")
    page.reload()  # no click needed: the page finds this browser's running run
    expect(page.locator("#progress")).to_contain_text("Generating")
    expect(page.locator("#cancel")).to_be_visible()
    expect(page.locator("#gallery")).to_contain_text("running")
    second = page.context.new_page()  # same browser, another tab
    second.set_default_timeout(TIMEOUT)
    second.goto(app)
    expect(second.locator("#progress")).to_contain_text("Generating")
    second.locator("#cancel").click()
    expect(second.locator("#progress")).to_contain_text("Cancelled")
    expect(page.locator("#progress")).to_contain_text("Cancelled")  # the first tab hears it too
    assert fal.submitted[0].cancel_calls == 1
    second.close()


def test_a_running_run_is_cancelled_on_fal_before_it_is_deleted(
    app: str, page: Page, fal: FalEmulator, samples
) -> None:
    fal.hold = True
    page.goto(app)
    generate(page, samples["image_jpg"], samples["clip_3s"])
    expect(page.locator("#progress")).to_contain_text("Generating")
    page.locator("#gallery img").first.click(timeout=3 * TIMEOUT)  # the gallery's tick, on a loaded machine
    expect(page.locator("#delete-run")).to_have_text("Cancel and delete")
    page.locator("#delete-run").click()  # no question: the run has not finished, the button says it all
    # The row goes once fal has the cancel and the job has ended, then the gallery's next tick shows
    # it gone: on a loaded machine (three test workers on two cores) that takes longer than one wait.
    expect(page.locator("#gallery img")).to_have_count(0, timeout=3 * TIMEOUT)
    wait_for(lambda: fal.submitted[0].cancel_calls == 1, what="the cancel reaching fal")
    # It was the only run: the runs area hides with its card, and the summary is the empty one again.
    expect(page.locator("#runs-shown")).to_be_hidden()
    expect(page.locator("#runs-summary")).to_contain_text("No runs yet")
    expect(page.locator("#progress")).not_to_contain_text("Selected run")  # it spoke of the deleted run


def test_a_run_stopped_by_a_restart_starts_again_in_one_click(
    settings: Settings, fal: FalEmulator, page: Page, samples
) -> None:
    fal.delays["upload"] = 30
    with running_app(settings) as url:
        page.goto(url)
        generate(page, samples["image_jpg"], samples["clip_3s"])
        expect(page.locator("#progress")).to_contain_text("Uploading")
    # The app stopped mid-upload (a Space restart; `kill -9` is in test_crashes.py).
    fal.delays.clear()
    history = settings.open_history()
    with running_app(settings) as url:
        page.goto(url)
        page.locator("#gallery img").first.click()
        expect(page.locator("#run-details")).to_contain_text("stopped before it was sent to fal")
        expect(page.locator("#run-details")).to_contain_text("nothing was charged")
        expect(page.locator("#resume-run")).to_be_hidden()
        page.locator("#run-again").click()
        wait_done(page)
        assert len(fal.submitted) == 1 and len(history.reads.recent()) == 2


def test_interrupted_run_is_resumed_from_the_gallery(
    settings: Settings, fal: FalEmulator, page: Page, samples
) -> None:
    fal.fail("status", 503, {"detail": "Service Unavailable"})  # fal stops answering after submit
    with running_app(settings.model_copy(update={"status_retry_seconds": 0.5})) as url:
        page.goto(url)
        generate(page, samples["image_jpg"], samples["clip_3s"])
        expect(page.locator("#progress")).to_contain_text("press Resume")
        fal.faults.clear()
        page.locator("#gallery img").first.click()
        expect(page.locator("#run-details")).to_contain_text("interrupted")
        page.locator("#resume-run").click()
        wait_done(page)
        assert video_duration(page, "output-video") > 2
        assert len(fal.submitted) == 1


def test_private_galleries_show_each_browser_its_own_runs(
    settings: Settings, fal: FalEmulator, browser: Browser, samples
) -> None:
    with running_app(settings.model_copy(update={"private_galleries": True})) as url:
        mine, theirs = browser.new_context(), browser.new_context()
        page, other = mine.new_page(), theirs.new_page()
        for p in (page, other):
            p.set_default_timeout(TIMEOUT)
            p.goto(url)
        generate(page, samples["image_jpg"], samples["clip_3s"])
        wait_done(page)
        expect(page.locator("#gallery img")).to_have_count(1)
        # What the page says under the runs is what a link is: it opens for whoever holds it.
        expect(page.locator("#file-links")).to_contain_text("opens for anyone who has it")
        link = page.locator("#output-video video").get_attribute("src")
        assert link and other.request.get(link).status == 200
        other.reload()
        expect(other.locator("#runs-summary")).to_contain_text("No runs yet")
        expect(other.locator("#gallery img")).to_have_count(0)
        page.reload()  # the same browser keeps its id (localStorage) and so its gallery
        expect(page.locator("#gallery img")).to_have_count(1)
        expect(page.locator("#runs-summary")).to_contain_text("1 run · 1 finished")
        mine.close()
        theirs.close()


def test_private_galleries_survive_a_restart_and_a_forged_id_sees_nothing(
    settings: Settings, fal: FalEmulator, browser: Browser, samples
) -> None:
    private = settings.model_copy(update={"private_galleries": True})
    port = free_port()
    mine, theirs = browser.new_context(), browser.new_context()
    page, other = mine.new_page(), theirs.new_page()
    for p in (page, other):
        p.set_default_timeout(TIMEOUT)
    with running_app(private, port) as url:
        for p, clip in ((page, "clip_3s"), (other, "clip_5s")):
            p.goto(url)
            generate(p, samples["image_jpg"], samples[clip])
            wait_done(p)
    with running_app(private, port) as url:  # a restart: a new process, the same data directory
        for p, seconds in ((page, "3 s"), (other, "5 s")):
            p.goto(url)
            expect(p.locator("#gallery img")).to_have_count(1)  # exactly its own run
            expect(p.locator("#gallery")).to_contain_text(seconds)
        other.evaluate("localStorage.setItem('motion-studio-owner', '\"forged-value\"')")
        other.reload()
        expect(other.locator("#runs-summary")).to_contain_text("No runs yet")
        expect(other.locator("#gallery img")).to_have_count(0)
    mine.close()
    theirs.close()


def test_gallery_survives_restart_and_restores_a_run(
    settings: Settings, fal: FalEmulator, page: Page, samples
) -> None:
    with running_app(settings) as url:
        page.goto(url)
        pick(page, samples["image_jpg"], samples["clip_3s"])
        choose(page, "orientation", "image")
        page.locator("#prompt textarea").fill("a robot dancing")
        page.locator("#prompt textarea").blur()
        expect(page.locator("#generate")).to_be_enabled()
        page.locator("#generate").click()
        wait_done(page)
    with running_app(settings) as url:  # a new process would read the same data directory
        page.goto(url)
        expect(page.locator("#gallery img")).to_have_count(1)
        page.locator("#gallery img").first.click()
        expect(page.locator("#run-details")).to_contain_text("a robot dancing")
        expect(page.locator("#prompt textarea")).to_have_value("a robot dancing")
        expect(page.locator("#orientation input[value=image]")).to_be_checked()
        assert video_duration(page, "output-video") > 2
        expect(page.locator("#run-again")).to_be_visible()
        expect(page.locator("#resume-run")).to_be_hidden()
        page.locator("#delete-run").click()  # a paid run: asked first
        expect(page.locator("#confirm-delete-text")).to_contain_text("fal may have charged for this run")
        page.locator("#confirm-delete-no").click()
        expect(page.locator("#confirm-delete")).to_be_hidden()
        expect(page.locator("#gallery img")).to_have_count(1)
        page.locator("#delete-run").click()
        page.locator("#confirm-delete-yes").click()
        expect(page.locator("#gallery img")).to_have_count(0)
        expect(page.locator("#output-video video")).to_have_count(0)  # its video left the player


def test_session_key_works_and_never_leaks(
    settings: Settings,
    fal: FalEmulator,
    page: Page,
    samples,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.delenv("FAL_KEY")
    get_settings.cache_clear()
    settings = get_settings().model_copy(update={"fal_key": None})
    bodies: list[str] = []

    def keep(response) -> None:
        with contextlib.suppress(Exception):
            bodies.append(response.text())

    page.on("response", keep)
    with running_app(settings) as url:
        page.goto(url)
        expect(page.locator("#key-status")).to_contain_text("No fal API key is set")
        generate(page, samples["image_jpg"], samples["clip_3s"])
        expect(page.locator("#verdict")).to_contain_text("No fal API key")
        assert fal.calls == []
        page.locator("#fal-key input").fill(VALID_KEY)
        expect(page.locator("#key-status")).to_contain_text("for this browser session only")
        page.locator("#generate").click()
        wait_done(page)
        html = page.content()
        storage = page.evaluate("JSON.stringify(Object.assign({}, localStorage, sessionStorage))")
    secret = VALID_KEY.split(":")[1]
    assert secret not in html and secret not in storage
    assert not [b for b in bodies if secret in b]
    assert secret not in caplog.text
    log_files = list(settings.data_dir.rglob("*"))
    assert not [p for p in log_files if p.is_file() and secret.encode() in p.read_bytes()]


def test_webcam_recording_keeps_sound_and_is_converted(
    app: str, browser: Browser, fal: FalEmulator, samples
) -> None:
    context = browser.new_context(permissions=["camera", "microphone"])
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(app)
    pick(page, samples["image_jpg"], None)
    webcam = page.locator("#video-input")
    webcam.get_by_label("Capture from camera").click()
    webcam.get_by_text("Click to Access Webcam").click()
    record = webcam.get_by_role("button", name="start recording")
    record.click()  # "Record"
    # Long enough that the recording passes the models' 3 s minimum even when a loaded machine's fake
    # camera delivers half its frames (a 4 s wait once gave a 2.0 s clip).
    page.wait_for_timeout(7000)
    record.click()  # "Stop"
    expect(page.locator("#video-info")).to_contain_text("with audio")
    expect(page.locator("#verdict")).to_contain_text("converted to MP4")
    page.locator("#generate").click()
    wait_done(page)
    uploads = [c for c in fal.calls_to("upload")]
    assert len(uploads) == 2
    [request] = fal.submitted
    assert request.body["video_url"].endswith(".mp4")
    assert video_duration(page, "output-video") > 3
    context.close()


def test_history_database_is_not_served(app: str, settings: Settings) -> None:
    """Gradio 6 serves only files it handed out itself; `blocked_paths` keeps it so for the database."""
    import httpx

    db = settings.db_path.resolve()
    secret = settings.browser_secret_path.resolve()
    assert db.exists() and secret.exists()
    for path in (db, Path(str(db) + "-wal"), secret):
        response = httpx.get(f"{app}gradio_api/file={path}", timeout=10)
        assert response.status_code in (403, 404), response.status_code
        assert b"SQLite" not in response.content and secret.read_bytes() not in response.content


def test_example_loads_and_costs_nothing(app: str, page: Page, fal: FalEmulator) -> None:
    page.goto(app)
    page.locator("#example-offline").click()
    expect(page.locator("#verdict")).to_contain_text("Ready")
    expect(page.locator("#video-info")).to_contain_text("4.0 s")
    assert fal.submitted == []


def test_own_key_mode_lends_the_server_key_to_nobody(
    settings: Settings, fal: FalEmulator, page: Page, samples, tmp_path: Path
) -> None:
    from gradio_client import Client, handle_file

    with running_app(settings.model_copy(update={"visitors_bring_own_key": True})) as url:
        page.goto(url)
        expect(page.locator("#key-status")).to_contain_text("Bring your own fal key")
        pick(page, samples["image_jpg"], samples["clip_3s"])  # the verdict says it before any click
        expect(page.locator("#verdict")).to_contain_text("asks every visitor to use their own fal key")
        expect(page.locator("#generate")).to_be_disabled()
        client = Client(url, download_files=str(tmp_path))
        with pytest.raises(Exception, match="asks every visitor to use their own fal key"):
            client.predict(image=handle_file(str(samples["image_jpg"])),
                           video=handle_file(str(samples["clip_3s"])), api_name="/generate")  # fmt: skip
        assert fal.calls == []
        page.locator("#fal-key input").fill(VALID_KEY)  # the visitor's own key
        page.locator("#fal-key input").blur()
        expect(page.locator("#verdict")).to_contain_text("Ready")
        page.locator("#generate").click()
        wait_done(page)
        assert len(fal.submitted) == 1


def test_per_visitor_limits_on_the_page_and_the_api(
    settings: Settings, fal: FalEmulator, page: Page, samples, tmp_path: Path
) -> None:
    from gradio_client import Client, handle_file

    fal.hold = True
    with running_app(settings.model_copy(update={"visitor_active_runs": 1})) as url:
        page.goto(url)
        generate(page, samples["image_jpg"], samples["clip_3s"])
        expect(page.locator("#progress")).to_contain_text("Generating")
        page.reload()  # a fresh page, the same browser: the same visitor
        generate(page, samples["image_jpg"], samples["clip_3s"])
        expect(page.locator("#progress")).to_contain_text("You already have 1 run going")
        client = Client(url, download_files=str(tmp_path))
        inputs = {
            "image": handle_file(str(samples["image_jpg"])),
            "video": handle_file(str(samples["clip_3s"])),
        }
        first = client.submit(**inputs, api_name="/generate")  # the API caller is another visitor
        wait_for(lambda: len(fal.submitted) == 2, what="the API's run on fal")
        with pytest.raises(Exception, match="You already have 1 run going"):
            client.predict(**inputs, api_name="/generate")
        fal.hold = False
        video, summary = first.result(timeout=60)
        assert Path(video).is_file() and summary["status"] == "done"
        assert len(fal.submitted) == 2


def test_another_visitor_gets_none_of_a_runs_files_by_any_path(
    settings: Settings, fal: FalEmulator, browser: Browser, samples
) -> None:
    """The data directory is not served: A's page plays A's video from Gradio's cache, and B (or anyone)
    asking for the files by their paths, however written, gets nothing."""
    from urllib.parse import quote

    import httpx

    with running_app(settings.model_copy(update={"private_galleries": True})) as url:
        mine = browser.new_context()
        page = mine.new_page()
        page.set_default_timeout(TIMEOUT)
        page.goto(url)
        generate(page, samples["image_jpg"], samples["clip_3s"])
        wait_done(page)
        assert video_duration(page, "output-video") > 2  # the owner's page plays it
        [run] = settings.open_history().reads.recent()
        assert len(run.id.rsplit("-", 1)[-1]) == 32  # 122 random bits: not guessable
        files = [p for p in (settings.runs_dir / run.id).iterdir() if p.is_file()]
        assert {p.name for p in files} >= {"output.mp4", "thumb.jpg"}
        data = settings.data_dir.resolve()
        for path in files:
            relative = path.resolve().relative_to(data)
            for form in (
                str(path.resolve()),
                f"{data}/runs/../{relative}",
                quote(str(path.resolve()), safe=""),
                f"{data}/./{relative}",
            ):
                response = httpx.get(f"{url}gradio_api/file={form}", timeout=10, trust_env=False)
                assert response.status_code in (403, 404), (form, response.status_code)
                assert response.content != path.read_bytes()
        from gradio_client import Client  # B calling every endpoint: there are two, and they take no run id

        endpoints = Client(url).view_api(print_info=False, return_format="dict")
        assert set(endpoints["named_endpoints"]) == {"/generate", "/check"}
        assert not endpoints["unnamed_endpoints"]
        mine.close()


def test_over_the_cap_the_verdict_offers_only_what_fits_and_a_pasted_key_lifts_it(
    settings: Settings, fal: FalEmulator, page: Page, samples
) -> None:
    with running_app(settings.model_copy(update={"max_run_cost": 1.0})) as url:
        page.goto(url)
        pick(page, samples["image_jpg"], samples["clip_10s"])
        expect(page.locator("#verdict")).to_contain_text("at most $1.00 per run on its key")
        expect(page.locator("#verdict")).to_contain_text(
            "a clip of at most 8 s, the standard model or your own"
        )
        expect(page.locator("#cost")).to_contain_text("10 s billed × $0.112/s")
        expect(page.locator("#generate")).to_be_disabled()
        page.get_by_text("fal API key for this session").click()  # closed: the server has a key
        page.locator("#fal-key input").fill(VALID_KEY)
        page.locator("#fal-key input").blur()
        expect(page.locator("#verdict")).to_contain_text("Ready")
        expect(page.locator("#generate")).to_be_enabled()
        page.locator("#generate").click()
        expect(page.locator("#progress")).to_contain_text("Done in", timeout=60_000)
        expect(page.locator("#progress")).to_contain_text("about $1.12 (estimate)")
        assert len(fal.submitted) == 1  # paid with the pasted key
