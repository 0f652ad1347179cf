"""The core against the fal emulator: real fal_client, real HTTP(S), real files, real SQLite."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from motion_studio.history.store import History
from motion_studio.jobs.events import Cancelled, Done, Failed, Queued, Running
from motion_studio.jobs.runner import JobRunner
from motion_studio.media.video import probe_video
from motion_studio.order import Options, Order
from motion_studio.settings import Settings

from .fal_emulator import TRUNCATE, VALID_KEY, FalEmulator
from .orders import order
from .waiting import stays, wait_for

KEY = SecretStr(VALID_KEY)


def spec(samples: dict[str, Path], clip: str = "clip_5s", **options: object) -> Order:
    return order(samples["image_jpg"], samples[clip], **options)


def test_good_run_end_to_end(runner: JobRunner, history: History, fal: FalEmulator, samples) -> None:
    job = runner.start(spec(samples, prompt="a dancer", keep_sound=False, model="standard"), KEY)
    final = job.wait(30)
    assert isinstance(final, Done), final
    phases = [e.phase for e in job.events]
    assert phases[:3] == ["checked", "uploading", "queued"] and phases[-3:] == [
        "downloading",
        "downloaded",
        "done",
    ]
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
    run = history.reads.get(job.run_id)
    assert run.status == "done" and run.request_id == request.id and Path(run.output_path).exists()
    assert run.thumbnail_path and Path(run.thumbnail_path).exists()
    assert run.estimated_cost == pytest.approx(5 * 0.07)
    assert Path(run.image_path).parent == history.db.runs_dir / run.id
    states = [e.state for e in history.reads.events(run.id)]
    assert states[0] == "checking" and states[-1] == "done" and "submitted" in states


def test_the_status_stream_is_followed_and_polling_takes_over_when_it_fails(
    runner: JobRunner, history: History, fal: FalEmulator, samples
) -> None:
    """fal's server-sent status stream tells the moment a request completes; polls are the fallback."""
    job = runner.start(spec(samples), KEY)
    assert isinstance(job.wait(30), Done)
    polls = [c for c in fal.calls_to("status") if "logs=1" in c.query]
    assert len(fal.calls_to("stream")) == 1 and polls == []  # followed without a single poll
    assert any(isinstance(e, Running) and e.logs for e in job.events)  # logs arrive by the stream too
    fal.reset()
    fal.fail("status", 503, times=1)  # the stream is refused once: polling takes over
    job = runner.start(spec(samples, prompt="again"), KEY)
    assert isinstance(job.wait(30), Done)
    assert len(fal.calls_to("stream")) == 1 and len(fal.calls_to("status")) >= 1
    fal.reset()
    fal.fail("status", TRUNCATE, times=1)  # the stream is cut mid-event: polling takes over
    job = runner.start(spec(samples, prompt="cut"), KEY)
    assert isinstance(job.wait(30), Done)
    assert len(history.reads.recent()) == 3 and all(r.status == "done" for r in history.reads.recent())


def test_a_result_browsers_cannot_play_is_made_h264(
    runner: JobRunner, history: History, fal: FalEmulator, samples
) -> None:
    fal.output = samples["clip_mpeg4"].read_bytes()
    job = runner.start(spec(samples), KEY)
    final = job.wait(30)
    assert isinstance(final, Done)
    assert probe_video(final.output).codec == "h264"
    assert (final.output.parent / "output.original.mp4").exists()  # fal's file, as it came
    assert history.reads.get(job.run_id).output_path == str(final.output)


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
    assert history.reads.recent() == []


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
    run = history.reads.get(job.run_id)
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
    assert history.reads.get(job.run_id).status == "cancelled"


def test_cancel_while_uploading_sends_nothing_to_the_queue(
    runner: JobRunner, fal: FalEmulator, samples
) -> None:
    fal.fail("token", 429, {"detail": "slow down"}, times=1)  # the token call fails once: time to cancel
    job = runner.start(spec(samples, "clip_10s"), KEY)
    runner.cancel(job.id)
    final = job.wait(15)
    assert isinstance(final, Cancelled | Failed)
    assert stays(lambda: fal.submitted == [])


def test_restart_resumes_a_paid_run(settings: Settings, fal: FalEmulator, samples) -> None:
    """The process dies after submit; a new runner on the same history finishes and downloads it."""
    fal.hold = True
    first = JobRunner(settings, History(settings.db_path, settings.runs_dir))
    job = first.start(spec(samples), KEY)
    wait_for(lambda: any(isinstance(e, Running) for e in job.events))
    first.shutdown()  # the "crash": its loop stops mid-follow
    history = History(settings.db_path, settings.runs_dir)
    [pending] = history.reads.unfinished()
    assert pending.request_id == fal.submitted[0].id
    fal.hold = False
    second = JobRunner(settings, history)
    try:
        [resumed] = second.resume_unfinished(KEY)
        final = resumed.wait(30)
        assert isinstance(final, Done)
        assert history.reads.get(pending.id).status == "done"
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
        run = history.reads.get(job.run_id)
        assert run.status == "interrupted" and run.request_id == fal.submitted[0].id
        assert [r.id for r in history.reads.unfinished()] == [run.id]
        fal.faults.clear()
        resumed = runner.resume(run, KEY)
        assert isinstance(resumed.wait(30), Done)
        assert history.reads.get(run.id).status == "done" and len(fal.submitted) == 1
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
    assert {r.options.get("prompt") for r in history.reads.recent()} == {"run 0", "run 1", "run 2"}


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


def test_concurrent_runs_never_pass_the_daily_budget_together(
    settings: Settings, history: History, fal: FalEmulator, samples
) -> None:
    """Five $0.56 runs started at once against a $2.00 budget: exactly three go to fal."""
    fal.hold = True  # none has a request id yet when the others are checked
    guarded = JobRunner(settings.model_copy(update={"daily_budget": 2.0}), history)
    try:
        jobs = [guarded.start(spec(samples), KEY) for _ in range(5)]
        refused = wait_for(
            lambda: [j for j in jobs if j.finished] if sum(j.finished for j in jobs) == 2 else None
        )
        assert all(isinstance(j.last, Failed) and j.last.kind == "budget" for j in refused)
        wait_for(lambda: len(fal.submitted) == 3)
        fal.hold = False
        assert all(isinstance(j.wait(30), Done) for j in jobs if j not in refused)
        assert stays(lambda: len(fal.submitted) == 3)
        assert history.reads.server_spend_since(0) == pytest.approx(3 * 0.56)
    finally:
        guarded.shutdown()


def test_an_unforeseen_error_in_the_checks_ends_the_job_with_a_sentence(
    runner: JobRunner, fal: FalEmulator, samples, monkeypatch: pytest.MonkeyPatch, caplog, tmp_path: Path
) -> None:
    """ffmpeg hanging past its time-out: the job still ends, the log has the traceback."""
    import shutil
    import subprocess

    def hung(*args, **kwargs):
        raise subprocess.TimeoutExpired(args[0], 300)

    clip = Path(shutil.copy(samples["clip_5s"], tmp_path / "never-probed.mp4"))  # no remembered probe
    monkeypatch.setattr("motion_studio.media.ffmpeg.subprocess.run", hung)
    final = runner.start(order(samples["image_jpg"], clip), KEY).wait(15)
    assert isinstance(final, Failed) and final.kind == "internal"
    assert "nothing was charged" in final.message and "TimeoutExpired" not in final.message
    assert "TimeoutExpired" in caplog.text and fal.calls == []


def test_shutdown_settles_every_run_and_closes_every_client(
    settings: Settings, history: History, fal: FalEmulator, samples
) -> None:
    fal.hold = True
    runner = JobRunner(settings, history)
    paid = runner.start(spec(samples), KEY)
    fal.valid_keys.add("visitor-id:visitor-secret")
    visitor = runner.start(spec(samples, "clip_3s"), SecretStr("visitor-id:visitor-secret"), "session")
    wait_for(
        lambda: (
            len(fal.submitted) == 2 and all(j.phase and j.phase.value == "running" for j in (paid, visitor))
        )
    )
    services = [paid.service, visitor.service]
    runner.shutdown()
    assert paid.finished and visitor.finished  # awaited, not abandoned
    assert isinstance(paid.last, Failed) and paid.last.kind == "interrupted"
    assert {history.reads.get(j.run_id).status for j in (paid, visitor)} == {"interrupted"}
    assert all(service.closed for service in services)
    assert history.reads.get(paid.run_id).lease_holder is None  # another process may follow it at once


def test_a_visitors_key_is_dropped_when_its_last_job_ends(
    runner: JobRunner, fal: FalEmulator, samples
) -> None:
    visitor = SecretStr("visitor-id:visitor-secret")
    fal.valid_keys.add(visitor.get_secret_value())
    jobs = [runner.start(spec(samples), visitor, "session") for _ in range(2)]
    wait_for(lambda: runner.session_clients == 1)
    assert all(isinstance(j.wait(30), Done) for j in jobs)
    wait_for(lambda: runner.session_clients == 0)
    assert isinstance(runner.start(spec(samples), KEY).wait(30), Done)
    assert runner.session_clients == 0  # the server's own client stays for the next run


def test_deleting_a_run_withdraws_the_links_the_page_was_handed(
    runner: JobRunner, history: History, samples
) -> None:
    """A deleted run's video and inputs stop being served at once, not when the outbox is pruned a
    day later; another run's links stay."""
    from motion_studio.serving import servable, servable_as

    kept, gone = (runner.start(spec(samples), KEY) for _ in range(2))
    assert isinstance(kept.wait(30), Done) and isinstance(gone.wait(30), Done)
    kept_run, gone_run = history.reads.get(kept.run_id), history.reads.get(gone.run_id)
    kept_link = Path(servable(kept_run.output_path) or "")
    links = [
        Path(servable(gone_run.output_path) or ""),
        Path(servable_as(gone_run.image_path, "i.png") or ""),
    ]
    assert all(link.is_file() for link in [kept_link, *links])
    runner.delete(gone_run, KEY)
    assert history.reads.get(gone.run_id) is None
    assert not any(link.exists() or link.parent.exists() for link in links)
    assert kept_link.is_file()


def test_deleting_a_running_run_cancels_it_on_fal_first(
    runner: JobRunner, history: History, fal: FalEmulator, samples
) -> None:
    fal.hold = True
    job = runner.start(spec(samples), KEY)
    wait_for(lambda: any(isinstance(e, Running) for e in job.events))
    runner.delete(history.reads.get(job.run_id), KEY)
    assert isinstance(job.wait(15), Cancelled)
    assert fal.submitted[0].cancel_calls == 1
    wait_for(lambda: history.reads.get(job.run_id) is None)
    assert not (history.db.runs_dir / job.run_id).exists()


def test_a_404_on_status_is_final_not_a_loop(
    runner: JobRunner, history: History, fal: FalEmulator, samples
) -> None:
    fal.hold = True
    job = runner.start(spec(samples), KEY)
    wait_for(lambda: any(isinstance(e, Running) for e in job.events))
    fal.requests.clear()  # fal forgets the request
    final = job.wait(15)
    assert isinstance(final, Failed) and final.kind == "unknown_request"
    run = history.reads.get(job.run_id)
    assert run.status == "failed" and run.request_id in run.error_message
    assert "resume" not in {a.value for a in run.situation(followed=False).actions}


def test_one_follower_per_run_the_cli_waits_for_the_app(
    settings: Settings, history: History, fal: FalEmulator, samples, data_dir
) -> None:
    """The app follows a run; `resume` in a terminal watches it instead of downloading it again."""
    from .test_cli import cli_command

    fal.hold = True
    job = runner_app = JobRunner(settings, history)
    try:
        job = runner_app.start(spec(samples), KEY)
        wait_for(lambda: any(isinstance(e, Running) for e in job.events))
        command, environ = cli_command(fal, data_dir, "resume", job.run_id)
        proc = subprocess.Popen(command, cwd=data_dir.parent, env=environ, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)  # fmt: skip
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)
        reader.start()
        wait_for(lambda: any("Another process is following this run" in line for line in lines), 60)
        fal.hold = False  # only now may the app finish it: the terminal is watching
        out = proc.stdout.read()
        proc.wait(timeout=60)
        reader.join(timeout=10)
        assert proc.returncode == 0, "".join(lines)
        assert isinstance(job.wait(30), Done)
        assert out.strip().splitlines()[-1] == str(job.last.output)
        assert len(fal.calls_to("output")) == 1 and len(fal.submitted) == 1  # downloaded once
    finally:
        runner_app.shutdown()


def test_cancelling_a_run_another_runner_follows_asks_fal_and_leaves_its_row_alone(
    settings: Settings, history: History, fal: FalEmulator, samples
) -> None:
    fal.hold = True
    follower, watcher = JobRunner(settings, history), JobRunner(settings, history)
    try:
        job = follower.start(spec(samples), KEY)
        wait_for(lambda: any(isinstance(e, Running) for e in job.events))
        watching = watcher.resume(history.reads.get(job.run_id), KEY)
        wait_for(lambda: any(e.phase == "watching" for e in watching.events))
        watcher.cancel(watching.id)
        assert isinstance(job.wait(15), Cancelled)  # the follower heard fal's answer and recorded it
        assert isinstance(watching.wait(15), Cancelled)  # the watcher read it from the row
        assert history.reads.get(job.run_id).status == "cancelled" and fal.submitted[0].cancel_calls == 1
    finally:
        follower.shutdown()
        watcher.shutdown()


def test_resume_uses_the_key_the_run_was_paid_with(settings: Settings, fal: FalEmulator) -> None:
    from motion_studio.errors import StudioError
    from motion_studio.history.runs import Run
    from motion_studio.studio.service import Studio

    studio = Studio(settings)
    try:
        server_run = Run(options=Options(), endpoint="e", key_source="server")
        assert studio.keys.key_for_run(server_run, "someone-else:key") == settings.fal_key
        visitor_run = Run(options=Options(), endpoint="e", key_source="session")
        with pytest.raises(StudioError, match="paste that key"):
            studio.keys.key_for_run(visitor_run, "")
        assert studio.keys.key_for_run(visitor_run, " mine:key ").get_secret_value() == "mine:key"
    finally:
        studio.runner.shutdown()


def test_a_forged_visitor_id_owns_nothing_and_api_callers_are_their_address(settings: Settings) -> None:
    """Helper events can be called with any value: only ids of the page's own shape own runs."""
    from types import SimpleNamespace

    import safehttpx

    from motion_studio.history.runs import Run
    from motion_studio.studio.service import Studio

    private = settings.model_copy(update={"private_galleries": True, "trusted_proxies": 1})
    studio = Studio(private)
    try:
        api_run = studio.history.writes.create(Run(options=Options(), endpoint="e", owner="api:1.2.3.4"))
        browser = "0123456789abcdef0123456789abcdef"
        mine = studio.history.writes.create(Run(options=Options(), endpoint="e", owner=browser))
        assert studio.gallery.run_for(api_run.id, "api:1.2.3.4") is None  # not a browser id: nobody
        assert (
            studio.gallery.run_for(mine.id, browser) is not None
            and studio.gallery.run_for(mine.id, None) is None
        )
        assert studio.gallery.page("api:1.2.3.4").ids == [] and studio.gallery.page(None).ids == []
        client = SimpleNamespace(host="10.0.0.2")  # the proxy
        assert studio.keys.api_caller("6.6.6.6, 203.0.113.9", client) == "api:203.0.113.9"  # its entry only
        assert studio.keys.api_caller(None, client) == "api:10.0.0.2"
        direct = Studio(settings)  # no proxy trusted: what a client writes is ignored
        assert direct.keys.api_caller("6.6.6.6", client) == "api:10.0.0.2"
        direct.runner.shutdown()
    finally:
        studio.runner.shutdown()
    import motion_studio.ui.page  # noqa: F401 - Gradio's own URL fetching gets the studio's notion of public

    assert safehttpx.is_public_ip("100.64.0.1") is False


def test_a_big_clip_goes_up_from_disk_a_part_at_a_time(
    history: History, fal: FalEmulator, tmp_path: Path
) -> None:
    """fal's multipart storage protocol from the first part's size on, each part streamed from disk
    with its declared length (the emulator refuses a part without one, as object stores do); a
    small file still goes in one request."""
    import asyncio
    import os

    from motion_studio.fal_service import FalService

    big, small = tmp_path / "big.mp4", tmp_path / "small.mp4"
    data = os.urandom(12 * 2**20 + 123)
    big.write_bytes(data)
    small.write_bytes(os.urandom(2**20))

    async def upload_both() -> tuple[str, str]:
        service = FalService(KEY, history, upload_part_mb=5, upload_cache_seconds=0)
        try:
            return await service.upload(big), await service.upload(small)
        finally:
            await service.aclose()

    big_url, small_url = asyncio.run(upload_both())
    assert sorted(fal.part_sizes) == sorted([5 * 2**20, 5 * 2**20, 2 * 2**20 + 123])
    assert fal.files[big_url.removeprefix("https://v3.fal.media")][0] == data
    assert len(fal.calls_to("multipart_create")) == 1 and len(fal.calls_to("multipart_complete")) == 1
    assert len(fal.calls_to("upload")) == 1  # the small one, whole
    assert small_url.endswith("/small.mp4")


def test_an_upload_ahead_is_used_by_the_run_and_one_in_flight_is_waited_for(
    runner: JobRunner, fal: FalEmulator, samples
) -> None:
    """Ready inputs go to fal's storage before Generate; the run then only submits. A run started
    while they are still on their way waits for them rather than sending them twice."""
    runner.upload_ahead(str(samples["image_jpg"]), KEY, ("page", "image"))
    runner.upload_ahead(str(samples["clip_5s"]), KEY, ("page", "video"))
    wait_for(lambda: len(fal.calls_to("upload")) == 2, what="both inputs uploaded ahead")
    assert isinstance(runner.start(spec(samples), KEY).wait(30), Done)
    assert len(fal.calls_to("upload")) == 2 and len(fal.submitted) == 1
    fal.reset()
    fal.delays["upload"] = 1.0  # a slow uplink: the run starts while the uploads are in flight
    runner.upload_ahead(str(samples["image_png"]), KEY, ("page", "image"))
    runner.upload_ahead(str(samples["clip_3s"]), KEY, ("page", "video"))
    wait_for(lambda: len(fal.calls_to("upload")) == 2, what="both uploads under way")
    job = runner.start(order(samples["image_png"], samples["clip_3s"]), KEY)
    assert isinstance(job.wait(30), Done)
    assert len(fal.calls_to("upload")) == 2  # waited for, not repeated
    fal.reset()
    fal.fail("upload", 500)  # an upload ahead that fails never breaks the run
    runner.upload_ahead(str(samples["image_webp"]), KEY, ("page", "image"))
    wait_for(lambda: len(fal.calls_to("upload")) >= 1, what="the failing upload ahead")
    fal.reset()
    assert isinstance(
        runner.start(order(samples["image_webp"], samples["clip_10s"]), KEY).wait(30),
        Done,
    )


def test_a_changed_input_abandons_its_stale_upload_ahead_and_the_setting_turns_it_off(
    settings: Settings, fal: FalEmulator, samples
) -> None:
    """The page's path (`Studio.read` then `upload_ahead`): a new clip in the same slot cancels the
    old clip's upload, which then never lands in the upload cache; with the setting off nothing
    leaves the machine before Generate, and Generate uploads both as it always did."""
    from motion_studio.fal_storage import file_sha256
    from motion_studio.studio.service import Studio

    studio = Studio(settings)
    try:
        fal.delays["upload"] = 1.5  # slow enough that the first clip is still on its way
        first = order(samples["image_jpg"], samples["clip_3s"])
        studio.orders.upload_ahead(studio.orders.read(first, None), None, "page-1")
        wait_for(lambda: len(fal.calls_to("upload")) == 2, what="both inputs on their way")
        second = order(samples["image_jpg"], samples["clip_5s"])
        studio.orders.upload_ahead(studio.orders.read(second, None), None, "page-1")
        wait_for(lambda: len(fal.calls_to("upload")) == 3, what="the new clip on its way")
        history = studio.history
        wait_for(lambda: history.uploads.cached_upload(file_sha256(samples["clip_5s"]), 3600) is not None)
        assert stays(
            lambda: history.uploads.cached_upload(file_sha256(samples["clip_3s"]), 3600) is None, 2.0
        )
        assert history.uploads.cached_upload(file_sha256(samples["image_jpg"]), 3600) is not None  # unchanged
    finally:
        studio.runner.shutdown()
    fal.reset()
    off = Studio(settings.model_copy(update={"upload_ahead": False}))
    try:
        request = order(samples["image_png"], samples["clip_10s"])
        off.orders.upload_ahead(off.orders.read(request, None), None, "page-2")
        assert stays(lambda: fal.calls_to("upload") == [], 1.0)
        assert isinstance(off.orders.start(request, None, None).wait(30), Done)
        assert len(fal.calls_to("upload")) == 2 and len(fal.submitted) == 1
    finally:
        off.runner.shutdown()


def test_a_download_given_up_stops_fetching_and_leaves_no_video(
    history: History, fal: FalEmulator, tmp_path: Path
) -> None:
    """The video is fetched in a thread of its own; a download given up (a shutdown, a cancelled
    task) returns at once though its read is stalled on fal's CDN (the exit does not wait for that
    thread, which stops and cleans up when the read returns), and nothing appears where the page
    reads the video."""
    from motion_studio.fal_service import FalService

    fal.files["/files/output/given-up/output.mp4"] = (os.urandom(6 * 2**20), "video/mp4")
    fal.delays["output"] = 20.0  # a stalled CDN: the answer would come long after the run gave up
    dest = tmp_path / "run" / "output.mp4"

    async def give_up() -> None:
        service = FalService(KEY, history)
        try:
            url = "https://v3.fal.media/files/output/given-up/output.mp4"
            task = asyncio.create_task(service.download(url, dest))
            wait = 0.0
            while not fal.calls_to("output") and wait < 10:  # the request is on its way
                await asyncio.sleep(0.05)
                wait += 0.05
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        finally:
            await service.aclose()

    started = time.monotonic()
    asyncio.run(give_up())  # the loop's end does not wait for the stalled read
    assert time.monotonic() - started < 15
    assert not dest.exists() and not list(dest.parent.glob("*.part"))
