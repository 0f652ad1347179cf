"""A preview: the clip's first 3 s on the family's Standard model, then the full run from it, against
the fal emulator (real fal_client, real HTTPS, real files, real SQLite)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from motion_studio.catalog import PREVIEW_SECONDS, TIERS
from motion_studio.errors import RunActionError
from motion_studio.history.store import History
from motion_studio.jobs.events import Done, Failed
from motion_studio.jobs.runner import JobRunner
from motion_studio.lifecycle import Action
from motion_studio.media.video import probe_video
from motion_studio.order import Options
from motion_studio.settings import Settings
from motion_studio.summary import run_summary

from .fal_emulator import VALID_KEY, FalEmulator
from .orders import order

KEY = SecretStr(VALID_KEY)


def _sent_clip(fal: FalEmulator, url: str, tmp_path: Path) -> float:
    """The length of the clip fal was given (the bytes uploaded to the emulator's storage)."""
    found = fal.known_file(url)
    assert found is not None, url
    path = tmp_path / f"sent-{len(list(tmp_path.iterdir()))}.mp4"
    path.write_bytes(found[0])
    return probe_video(path).duration


@pytest.mark.parametrize(
    ("chosen", "runs_on"),
    [
        ("pro", "standard"),
        ("standard", "standard"),
        ("v3-pro", "v3-standard"),
        ("v3-standard", "v3-standard"),
    ],
)
def test_a_preview_runs_on_the_standard_model_of_the_chosen_family(chosen: str, runs_on: str) -> None:
    options = Options(model=chosen, preview=True)
    assert options.runs_on is TIERS[runs_on]
    assert options.sent_seconds(12.4) == PREVIEW_SECONDS == 3.0
    assert options.estimate_cost(12.4) == pytest.approx(3 * TIERS[runs_on].price_per_second)
    assert Options(model=chosen).runs_on is TIERS[chosen]  # the full run: the chosen model, whole clip
    assert Options(model=chosen).estimate_cost(12.4) == pytest.approx(13 * TIERS[chosen].price_per_second)
    assert "preview" not in options.fal_arguments("i", "v")  # the studio's choice, not fal's field


def test_a_preview_sends_the_clips_first_3_seconds_to_the_standard_endpoint(
    runner: JobRunner, history: History, fal: FalEmulator, samples, tmp_path: Path
) -> None:
    job = runner.start(order(samples["image_jpg"], samples["clip_5s"], model="pro", preview=True), KEY)
    assert isinstance(job.wait(30), Done)
    [request] = fal.submitted
    assert request.endpoint == "fal-ai/kling-video/v2.6/standard/motion-control"
    assert set(request.body) == {"image_url", "video_url", "character_orientation", "keep_original_sound"}
    assert _sent_clip(fal, request.body["video_url"], tmp_path) == pytest.approx(3.0, abs=0.05)
    run = history.reads.get(job.run_id)
    assert run.is_preview and run.options.model == "pro"  # the full run's model is kept with it
    assert run.clip_seconds == pytest.approx(3.0, abs=0.05)
    assert run.estimated_cost == pytest.approx(0.21)  # 3 s at Standard's $0.07/s
    assert probe_video(run.full_clip_path).duration == pytest.approx(5, abs=0.2)  # the whole clip, kept
    assert Path(run.full_clip_path).parent == history.db.runs_dir / run.id
    summary = run_summary(run, history.reads.events(run.id))
    assert summary.preview and summary.model == "standard" and summary.chosen_model == "pro"
    assert Action.RUN_FULL in run.situation(followed=False).actions


def test_the_full_run_starts_from_a_finished_preview_without_uploading_the_image_again(
    runner: JobRunner, history: History, fal: FalEmulator, samples, tmp_path: Path
) -> None:
    job = runner.start(order(samples["image_jpg"], samples["clip_5s"], model="pro", preview=True), KEY)
    assert isinstance(job.wait(30), Done)
    preview = history.reads.get(job.run_id)
    uploads_before = len(fal.uploads())
    full = runner.run_full(preview, KEY)
    assert isinstance(full.wait(30), Done)
    first, second = fal.submitted
    assert second.endpoint == "fal-ai/kling-video/v2.6/pro/motion-control"
    assert second.body["image_url"] == first.body["image_url"]  # the preview's upload, reused
    assert len(fal.uploads()) == uploads_before + 1  # only the whole clip went up
    assert _sent_clip(fal, second.body["video_url"], tmp_path) == pytest.approx(5, abs=0.2)
    run = history.reads.get(full.run_id)
    assert run.preview_of == preview.id and not run.is_preview and run.full_clip_path is None
    assert run.estimated_cost == pytest.approx(5 * 0.112)
    assert run_summary(run, []).preview_of == preview.id
    assert Action.RUN_FULL not in run.situation(followed=False).actions  # a full run has no full run


def test_an_interrupted_preview_resumes_to_its_end_and_then_offers_its_full_run(
    settings: Settings, history: History, fal: FalEmulator, samples
) -> None:
    """A preview is a run like any other: fal unreachable after submit leaves it resumable."""
    runner = JobRunner(settings.model_copy(update={"status_retry_seconds": 0.5}), history)
    try:
        fal.fail("status", 503, {"detail": "Service Unavailable"})
        job = runner.start(order(samples["image_jpg"], samples["clip_5s"], preview=True), KEY)
        final = job.wait(30)
        assert isinstance(final, Failed) and final.kind == "interrupted"
        run = history.reads.get(job.run_id)
        assert Action.RUN_FULL not in run.situation(followed=False).actions  # not before it is done
        fal.faults.clear()
        assert isinstance(runner.resume(run, KEY).wait(30), Done)
        run = history.reads.get(job.run_id)
        assert run.status == "done" and run.is_preview and len(fal.submitted) == 1
        assert Action.RUN_FULL in run.situation(followed=False).actions
    finally:
        runner.shutdown()


def test_a_preview_run_again_is_cut_again_from_its_whole_clip(
    runner: JobRunner, history: History, fal: FalEmulator, samples, tmp_path: Path
) -> None:
    job = runner.start(order(samples["image_jpg"], samples["clip_5s"], preview=True), KEY)
    assert isinstance(job.wait(30), Done)
    again = runner.run_again(history.reads.get(job.run_id), KEY)
    assert isinstance(again.wait(30), Done)
    run = history.reads.get(again.run_id)
    assert run.is_preview and probe_video(run.full_clip_path).duration == pytest.approx(5, abs=0.2)
    assert _sent_clip(fal, fal.submitted[1].body["video_url"], tmp_path) == pytest.approx(3.0, abs=0.05)


def test_only_a_finished_preview_has_a_full_run(
    runner: JobRunner, history: History, fal: FalEmulator, samples
) -> None:
    job = runner.start(order(samples["image_jpg"], samples["clip_5s"]), KEY)
    assert isinstance(job.wait(30), Done)
    run = history.reads.get(job.run_id)
    assert Action.RUN_FULL not in run.situation(followed=False).actions
    with pytest.raises(RunActionError) as refused:
        runner.run_full(run, KEY)
    assert refused.value.message == RunActionError.no_full_clip().message


def test_the_spending_guard_counts_the_preview_and_its_full_run(
    settings: Settings, history: History, fal: FalEmulator, samples
) -> None:
    """$0.21 preview + $0.56 full run > a $0.70 budget, though the full run alone would fit."""
    guarded = JobRunner(settings.model_copy(update={"daily_budget": 0.70}), history)
    try:
        job = guarded.start(order(samples["image_jpg"], samples["clip_5s"], preview=True), KEY)
        assert isinstance(job.wait(30), Done)
        full = guarded.run_full(history.reads.get(job.run_id), KEY)
        final = full.wait(30)
        assert isinstance(final, Failed) and final.kind == "budget", final
        assert len(fal.submitted) == 1  # the full run never reached fal
    finally:
        guarded.shutdown()


# -- the page, in Chromium at both sizes -----------------------------------------------------------


@pytest.fixture(params=["desktop", "phone"])
def sized(request: pytest.FixtureRequest, browser):
    from .browser import TIMEOUT

    phone = request.param == "phone"
    viewport = {"width": 390, "height": 844} if phone else {"width": 1366, "height": 900}
    context = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    yield page
    context.close()


@pytest.mark.browser
def test_the_page_previews_then_runs_the_full_clip_and_shows_them_side_by_side(
    app: str, sized, fal: FalEmulator, samples
) -> None:
    from playwright.sync_api import expect

    from .browser import pick, video_duration, wait_done

    page = sized
    page.goto(app)
    pick(page, samples["image_jpg"], samples["clip_5s"])
    preview, generate = page.locator("#preview"), page.locator("#generate")
    expect(preview).to_be_enabled()
    expect(preview).to_have_text("Preview 3 s · Standard · ≈ $0.21")  # beside Generate, with its price
    expect(generate).to_contain_text("$0.56")
    shown, beside = preview.bounding_box(), generate.bounding_box()
    assert shown and beside and shown["x"] + shown["width"] <= page.viewport_size["width"] + 1
    if page.viewport_size["width"] > 1000:
        assert abs(shown["y"] - beside["y"]) < 5 and shown["x"] > beside["x"]
    preview.click()
    wait_done(page)
    assert 2.5 < video_duration(page, "output-video") < 3.5
    run_full = page.locator("#run-full")
    expect(run_full).to_have_text("Run the full clip · Pro · ≈ $0.56")
    expect(page.locator("#gallery .caption-label").first).to_contain_text("preview")
    run_full.click()
    expect(run_full).to_be_hidden()  # one click, one full run
    expect(page.locator("#gallery img")).to_have_count(2, timeout=60_000)
    expect(page.locator("#gallery .caption-label").first).to_contain_text("done", timeout=60_000)
    wait_done(page)
    assert [r.endpoint.split("/")[3] for r in fal.submitted] == ["standard", "pro"]
    assert video_duration(page, "output-video") > 4.5
    captions = page.locator("#gallery .caption-label")
    expect(captions.nth(0)).to_contain_text("full run of a preview")  # the full run, then its preview
    expect(captions.nth(1)).to_contain_text("preview")
    page.get_by_role("tab", name="Side by side").click()
    expect(page.locator("#side-note")).to_contain_text("the 3-second preview this run followed")
    assert video_duration(page, "side-video") > 4.5
    page.locator("#gallery .thumbnail-item").nth(1).click()  # the preview, selected: its whole clip returns
    expect(page.locator("#run-details")).to_contain_text("its full run uses Pro and the whole clip")
    expect(run_full).to_be_visible()
    assert video_duration(page, "video-input") > 4.5


# -- the API (and its MCP tools) and the command line -------------------------------------------------


def test_the_api_previews_cheaply_and_its_summary_says_so(
    app: str, fal: FalEmulator, samples, tmp_path: Path
) -> None:
    from gradio_client import Client, handle_file

    client = Client(app, download_files=str(tmp_path))
    inputs = {"image": handle_file(str(samples["image_jpg"])), "video": handle_file(str(samples["clip_5s"]))}
    found = client.predict(**inputs, model="pro", preview=True, api_name="/check")
    assert found["ready"] is True
    assert found["estimate"] == {
        "model": "standard",
        "preview": True,
        "endpoint": "fal-ai/kling-video/v2.6/standard/motion-control",
        "clip_seconds": 3.0,
        "billed_seconds": 3,
        "price_per_second": 0.07,
        "estimated_cost": 0.21,
        "currency": "USD",
    }
    video, summary = client.predict(**inputs, model="pro", preview=True, api_name="/generate")
    assert Path(video).is_file()
    [request] = fal.submitted
    assert request.endpoint.endswith("/standard/motion-control") and "preview" not in request.body
    assert summary["preview"] is True and summary["model"] == "standard" and summary["chosen_model"] == "pro"
    assert summary["billed_seconds"] == 3 and summary["estimated_cost"] == 0.21
    _, full = client.predict(**inputs, model="pro", api_name="/generate")  # then the whole clip
    assert full["preview"] is False and full["model"] == "pro" and full["estimated_cost"] == 0.56


def test_the_command_line_previews_then_runs_the_full_clip(fal: FalEmulator, data_dir: Path, samples) -> None:
    from .test_cli import cli, generate

    previewed = generate(fal, data_dir, samples, "clip_5s", "--preview", "--json")
    assert previewed.returncode == 0, previewed.stderr
    history = History(data_dir / "history.sqlite3", data_dir / "runs")
    [preview] = history.reads.recent()
    assert preview.is_preview and preview.estimated_cost == pytest.approx(0.21)
    assert f"python -m motion_studio full {preview.id}" in previewed.stderr
    assert '"preview": true' in previewed.stdout
    listing = cli(fal, data_dir, "history")
    assert "pro (preview)" in listing.stdout and f"full {preview.id}" in listing.stdout
    full = cli(fal, data_dir, "full", preview.id)
    assert full.returncode == 0, full.stderr
    assert probe_video(Path(full.stdout.strip().splitlines()[-1])).duration > 4.5
    newest = history.reads.recent()[0]
    assert newest.preview_of == preview.id and newest.options.model == "pro" and not newest.is_preview
    again = cli(fal, data_dir, "full", newest.id)  # a full run has no full run: one sentence
    assert again.returncode != 0 and "Only a finished preview has a full clip to run" in again.stderr
    assert "Traceback" not in again.stderr


def test_a_batch_previews_each_run(fal: FalEmulator, data_dir: Path, samples, tmp_path: Path) -> None:
    """An order of several takes the same path: each run a 3 s preview, the batch reserved at their price."""
    from .test_cli import cli

    result = cli(fal, data_dir, "generate", "--image", str(samples["image_jpg"]), "--image",
                 str(samples["image_png"]), "--video", str(samples["clip_5s"]), "--preview", "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert '"estimated_cost": 0.42' in result.stdout  # two previews at $0.21
    assert [r.endpoint.split("/")[3] for r in fal.submitted] == ["standard", "standard"]
    for request in fal.submitted:
        assert _sent_clip(fal, request.body["video_url"], tmp_path) == pytest.approx(3.0, abs=0.05)
    runs = History(data_dir / "history.sqlite3", data_dir / "runs").reads.recent()
    assert len(runs) == 2 and all(r.is_preview and r.batch_id and r.full_clip_path for r in runs)
