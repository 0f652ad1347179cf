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


@pytest.fixture
def history(settings: Settings) -> History:
    return History(settings.db_path, settings.runs_dir)


@pytest.fixture
def runner(settings: Settings, history: History, fal: FalEmulator):
    runner = JobRunner(settings, history)
    yield runner
    runner.shutdown()


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
    run = history.get(job.run_id)
    assert run.is_preview and run.options.model == "pro"  # the full run's model is kept with it
    assert run.clip_seconds == pytest.approx(3.0, abs=0.05)
    assert run.estimated_cost == pytest.approx(0.21)  # 3 s at Standard's $0.07/s
    assert probe_video(run.full_clip_path).duration == pytest.approx(5, abs=0.2)  # the whole clip, kept
    assert Path(run.full_clip_path).parent == history.runs_dir / run.id
    summary = run_summary(run, history.events(run.id))
    assert summary.preview and summary.model == "standard" and summary.chosen_model == "pro"
    assert Action.RUN_FULL in run.situation(followed=False).actions


def test_the_full_run_starts_from_a_finished_preview_without_uploading_the_image_again(
    runner: JobRunner, history: History, fal: FalEmulator, samples, tmp_path: Path
) -> None:
    job = runner.start(order(samples["image_jpg"], samples["clip_5s"], model="pro", preview=True), KEY)
    assert isinstance(job.wait(30), Done)
    preview = history.get(job.run_id)
    uploads_before = len(fal.uploads())
    full = runner.run_full(preview, KEY)
    assert isinstance(full.wait(30), Done)
    first, second = fal.submitted
    assert second.endpoint == "fal-ai/kling-video/v2.6/pro/motion-control"
    assert second.body["image_url"] == first.body["image_url"]  # the preview's upload, reused
    assert len(fal.uploads()) == uploads_before + 1  # only the whole clip went up
    assert _sent_clip(fal, second.body["video_url"], tmp_path) == pytest.approx(5, abs=0.2)
    run = history.get(full.run_id)
    assert run.preview_of == preview.id and not run.is_preview and run.full_clip_path is None
    assert run.estimated_cost == pytest.approx(5 * 0.112)
    assert run_summary(run, []).preview_of == preview.id
    assert Action.RUN_FULL not in run.situation(followed=False).actions  # a full run has no full run


def test_only_a_finished_preview_has_a_full_run(
    runner: JobRunner, history: History, fal: FalEmulator, samples
) -> None:
    job = runner.start(order(samples["image_jpg"], samples["clip_5s"]), KEY)
    assert isinstance(job.wait(30), Done)
    run = history.get(job.run_id)
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
        full = guarded.run_full(history.get(job.run_id), KEY)
        final = full.wait(30)
        assert isinstance(final, Failed) and final.kind == "budget", final
        assert len(fal.submitted) == 1  # the full run never reached fal
    finally:
        guarded.shutdown()
