"""The core against the fal emulator: real fal_client, real HTTP(S), real files, real SQLite."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from motion_studio.history import History
from motion_studio.jobs import Cancelled, Done, Failed, JobRunner, JobSpec, Queued, Running
from motion_studio.media import probe_video
from motion_studio.settings import Settings

from .fal_emulator import VALID_KEY, FalEmulator

KEY = SecretStr(VALID_KEY)


@pytest.fixture
def history(settings: Settings) -> History:
    return History(settings.db_path, settings.runs_dir)


@pytest.fixture
def runner(settings: Settings, history: History, fal: FalEmulator):
    runner = JobRunner(settings, history)
    yield runner
    runner.shutdown()


def spec(samples: dict[str, Path], clip: str = "clip_5s", **kw: object) -> JobSpec:
    return JobSpec(str(samples["image_jpg"]), str(samples[clip]), kw.pop("orientation", "video"), **kw)  # type: ignore[arg-type]


def wait_for(predicate, timeout: float = 20) -> None:
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, "condition not reached in time"
        time.sleep(0.02)


def test_good_run_end_to_end(runner: JobRunner, history: History, fal: FalEmulator, samples) -> None:
    job = runner.start(spec(samples, prompt="a dancer", keep_sound=False, tier="standard"), KEY)
    final = job.wait(30)
    assert isinstance(final, Done), final
    phases = [e.phase for e in job.events]
    assert phases[:3] == ["checked", "uploading", "queued"] and phases[-2:] == ["downloading", "done"]
    assert "running" in phases
    assert any(isinstance(e, Queued) and e.position is not None for e in job.events)
    assert any(isinstance(e, Running) and e.logs for e in job.events)
    info = probe_video(final.output)
    assert info.codec == "h264" and info.duration == pytest.approx(5, abs=0.2)
    [request] = fal.submitted
    assert request.endpoint == "fal-ai/kling-video/v2.6/standard/motion-control"
    assert request.body["keep_original_sound"] is False
    assert request.body["character_orientation"] == "video" and request.body["prompt"] == "a dancer"
    assert set(request.body) == {
        "image_url",
        "video_url",
        "character_orientation",
        "prompt",
        "keep_original_sound",
    }
    run = history.get(job.run_id)
    assert run.status == "done" and run.request_id == request.id and Path(run.output_path).exists()
    assert run.thumbnail_path and Path(run.thumbnail_path).exists()
    assert run.estimated_cost == pytest.approx(5 * 0.07)
    assert Path(run.image_path).parent == history.runs_dir / run.id
    states = [e.state for e in history.events(run.id)]
    assert states[0] == "checking" and states[-1] == "done" and "submitted" in states


def test_a_result_browsers_cannot_play_is_made_h264(
    runner: JobRunner, history: History, fal: FalEmulator, samples
) -> None:
    fal.output = samples["clip_mpeg4"].read_bytes()
    job = runner.start(spec(samples), KEY)
    final = job.wait(30)
    assert isinstance(final, Done)
    assert probe_video(final.output).codec == "h264"
    assert (final.output.parent / "output.original.mp4").exists()  # fal's file, as it came
    assert history.get(job.run_id).output_path == str(final.output)


def test_same_file_is_uploaded_once(runner: JobRunner, fal: FalEmulator, samples) -> None:
    for _ in range(2):
        assert isinstance(runner.start(spec(samples), KEY).wait(30), Done)
    assert len(fal.calls_to("upload")) == 2  # image + clip, once
    assert len(fal.submitted) == 2


def test_rejected_clip_never_reaches_fal(
    runner: JobRunner, history: History, fal: FalEmulator, samples
) -> None:
    final = runner.start(spec(samples, "clip_12s", orientation="image"), KEY).wait(10)
    assert isinstance(final, Failed) and final.kind == "input"
    assert "Switch to 'video'" in final.message
    assert fal.calls == [] and fal.proxied_hosts == []
    assert history.recent() == []


def test_a_5xx_on_a_status_poll_does_not_lose_the_run(runner: JobRunner, fal: FalEmulator, samples) -> None:
    fal.fail("status", 500, {"detail": "Internal Server Error"}, times=2)
    assert isinstance(runner.start(spec(samples), KEY).wait(30), Done)


def test_completed_with_error_reports_the_result_error(
    runner: JobRunner, history: History, fal: FalEmulator, samples
) -> None:
    fal.fail(
        "result",
        422,
        {
            "detail": [
                {
                    "loc": ["body", "image_url"],
                    "msg": "No person detected in the image",
                    "type": "value_error",
                }
            ]
        },
    )
    job = runner.start(spec(samples), KEY)
    final = job.wait(30)
    assert isinstance(final, Failed) and final.kind == "validation"
    assert final.message == "fal rejected the image_url: No person detected in the image."
    run = history.get(job.run_id)
    assert run.status == "failed" and run.error_kind == "validation" and run.request_id


def test_cancel_reaches_fal(runner: JobRunner, history: History, fal: FalEmulator, samples) -> None:
    fal.hold = True
    job = runner.start(spec(samples), KEY)
    wait_for(lambda: any(isinstance(e, Running) for e in job.events))
    runner.cancel(job.id)
    final = job.wait(15)
    assert isinstance(final, Cancelled)
    [request] = fal.submitted
    assert request.cancel_calls == 1
    assert history.get(job.run_id).status == "cancelled"


def test_cancel_while_uploading_sends_nothing_to_the_queue(
    runner: JobRunner, fal: FalEmulator, samples
) -> None:
    fal.fail("token", 429, {"detail": "slow down"}, times=1)  # the token call fails once: time to cancel
    job = runner.start(spec(samples, "clip_10s"), KEY)
    runner.cancel(job.id)
    final = job.wait(15)
    assert isinstance(final, Cancelled | Failed)
    time.sleep(0.3)
    assert fal.submitted == []


def test_restart_resumes_a_paid_run(settings: Settings, fal: FalEmulator, samples) -> None:
    """The process dies after submit; a new runner on the same history finishes and downloads it."""
    fal.hold = True
    first = JobRunner(settings, History(settings.db_path, settings.runs_dir))
    job = first.start(spec(samples), KEY)
    wait_for(lambda: any(isinstance(e, Running) for e in job.events))
    first.shutdown()  # the "crash": its loop stops mid-follow
    history = History(settings.db_path, settings.runs_dir)
    [pending] = history.unfinished()
    assert pending.request_id == fal.submitted[0].id
    fal.hold = False
    second = JobRunner(settings, history)
    try:
        [resumed] = second.resume_unfinished(KEY)
        final = resumed.wait(30)
        assert isinstance(final, Done)
        assert history.get(pending.id).status == "done"
        assert len(fal.submitted) == 1  # not paid twice
    finally:
        second.shutdown()


def test_many_listeners_from_other_loops(runner: JobRunner, samples) -> None:
    job = runner.start(spec(samples), KEY)

    async def listen() -> list[str]:
        return [event.phase async for event in job.subscribe()]

    async def both() -> list[list[str]]:
        return await asyncio.gather(listen(), listen())

    first, second = asyncio.run(both())
    assert first == second and first[-1] == "done"
    late = asyncio.run(listen())  # a listener that arrives after the end gets the whole story
    assert late == first


def test_status_stream_and_error_shapes_of_the_emulator(fal: FalEmulator, samples) -> None:
    """The emulator's own protocol surface that the app does not use: SSE stream, 401 and 422 bodies."""
    headers = {"Authorization": f"Key {VALID_KEY}"}
    with httpx.Client(timeout=10) as client:
        bad = client.post(
            "https://queue.fal.run/fal-ai/kling-video/v2.6/pro/motion-control",
            json={},
            headers={"Authorization": "Key wrong"},
        )
        assert bad.status_code == 401
        invalid = client.post(
            "https://queue.fal.run/fal-ai/kling-video/v2.6/pro/motion-control",
            json={"image_url": "x", "video_url": "y", "character_orientation": "up", "seed": 1},
            headers=headers,
        )
        assert invalid.status_code == 422
        assert {tuple(d["loc"]) for d in invalid.json()["detail"]} == {
            ("body", "character_orientation"),
            ("body", "seed"),
        }
        ok = client.post(
            "https://queue.fal.run/fal-ai/kling-video/v2.6/pro/motion-control",
            json={"image_url": "x", "video_url": "y", "character_orientation": "image"},
            headers=headers,
        ).json()
        with client.stream("GET", ok["status_url"] + "/stream", headers=headers) as stream:
            statuses = [
                json.loads(line[5:])["status"] for line in stream.iter_lines() if line.startswith("data:")
            ]
        assert statuses[0] == "IN_QUEUE" and statuses[-1] == "COMPLETED" and "IN_PROGRESS" in statuses
        again = client.put(ok["cancel_url"], headers=headers)
        assert again.status_code == 400 and again.json()["status"] == "ALREADY_COMPLETED"


def test_fal_unreachable_after_submit_keeps_the_run_resumable(
    settings: Settings, history: History, fal: FalEmulator, samples
) -> None:
    """Past every retry, a paid run is 'interrupted', not failed; Resume fetches it once fal answers."""
    runner = JobRunner(settings.model_copy(update={"status_retry_seconds": 0.5}), history)
    try:
        fal.fail("status", 503, {"detail": "Service Unavailable"})
        job = runner.start(spec(samples), KEY)
        final = job.wait(30)
        assert isinstance(final, Failed) and final.kind == "interrupted"
        assert "press Resume" in final.message
        run = history.get(job.run_id)
        assert run.status == "interrupted" and run.request_id == fal.submitted[0].id
        assert [r.id for r in history.unfinished()] == [run.id]
        fal.faults.clear()
        resumed = runner.resume(run, KEY)
        assert isinstance(resumed.wait(30), Done)
        assert history.get(run.id).status == "done" and len(fal.submitted) == 1
    finally:
        runner.shutdown()


def test_concurrent_runs_each_get_their_own_result(
    runner: JobRunner, history: History, fal: FalEmulator, samples
) -> None:
    jobs = [runner.start(spec(samples, clip, prompt=f"run {i}"), KEY)
            for i, clip in enumerate(("clip_3s", "clip_5s", "clip_10s"))]  # fmt: skip
    finals = [job.wait(60) for job in jobs]
    assert all(isinstance(f, Done) for f in finals)
    durations = sorted(probe_video(f.output).duration for f in finals)
    assert durations == [pytest.approx(3, abs=0.2), pytest.approx(5, abs=0.2), pytest.approx(10, abs=0.2)]
    assert len({f.output for f in finals}) == 3 and len(fal.submitted) == 3
    assert {r.prompt for r in history.recent()} == {"run 0", "run 1", "run 2"}


def test_spending_guards_apply_to_the_server_key_only(
    settings: Settings, history: History, fal: FalEmulator, samples
) -> None:
    guarded = JobRunner(settings.model_copy(update={"max_run_cost": 1.0, "daily_budget": 1.0}), history)
    try:
        final = guarded.start(spec(samples, "clip_10s"), KEY).wait(30)  # 10 s × $0.112 = $1.12
        assert isinstance(final, Failed) and final.kind == "budget"
        assert "at most $1.00 per run" in final.message and fal.calls == []
        assert isinstance(guarded.start(spec(samples, "clip_5s"), KEY).wait(30), Done)  # $0.56
        final = guarded.start(spec(samples, "clip_5s"), KEY).wait(30)  # $0.56 + $0.56 > $1.00
        assert isinstance(final, Failed) and "daily budget of $1.00" in final.message
        assert isinstance(guarded.start(spec(samples, "clip_10s"), KEY, "session").wait(30), Done)
        assert len(fal.submitted) == 2
    finally:
        guarded.shutdown()
