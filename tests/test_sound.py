"""The clip's sound and what a model returns besides its video: Wan and DreamActor give back video
only (the studio puts the clip's sound back itself), Wan tells the prompt it made and the seed it
used. Against the fal emulator over real HTTPS, with real ffmpeg."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from motion_studio.catalog import TIERS
from motion_studio.history.runs import Run
from motion_studio.jobs.events import Done
from motion_studio.jobs.runner import JobRunner
from motion_studio.media.video import probe_video
from motion_studio.presenter import run_details
from motion_studio.summary import run_summary

from .fal_emulator import MADE_UP_PROMPT, SAMPLE_IMAGE_URL, SAMPLE_VIDEO_URL, VALID_KEY, FalEmulator
from .media_factory import FFMPEG
from .orders import order
from .test_cli import cli, cli_command
from .test_crashes import kill_9, release, the_run, wait_for_status
from .waiting import wait_for

HEADERS = {"Authorization": f"Key {VALID_KEY}"}
KEY = SecretStr(VALID_KEY)


# -- the emulator: each model's schema and result ------------------------------------------------------------


def _fal_result(client: httpx.Client, model: str, body: dict[str, Any]) -> dict[str, Any]:
    """Submit `body` to the model's endpoint and read its result once it is complete."""
    submitted = client.post(f"https://queue.fal.run/{TIERS[model].endpoint}", json=body, headers=HEADERS)
    assert submitted.status_code == 200, submitted.text
    status_url = submitted.json()["status_url"]
    wait_for(lambda: client.get(status_url, headers=HEADERS).status_code == 200, 10, "completed")
    result = client.get(submitted.json()["response_url"], headers=HEADERS)
    assert result.status_code == 200, result.text
    return result.json()


def _has_sound(client: httpx.Client, url: str, folder: Path) -> bool:
    target = folder / f"{url.rsplit('/', 2)[-2]}.mp4"
    target.write_bytes(client.get(url).content)
    return probe_video(target).has_audio


def test_the_emulator_answers_each_model_as_fal_does(fal: FalEmulator, samples, tmp_path: Path) -> None:
    """Wan's and DreamActor's bodies are taken and their videos come back without sound; Wan's result
    carries its prompt and seed; Kling's video keeps the clip's sound; a Kling field sent to Wan is
    fal's 422."""
    fal.files["/files/emu/clip.mp4"] = (samples["clip_3s"].read_bytes(), "video/mp4")
    silenced = len(fal.silenced)  # the session's emulator keeps what earlier tests had stripped
    inputs = {"image_url": "https://x/i.png", "video_url": "https://v3.fal.media/files/emu/clip.mp4"}
    with httpx.Client(timeout=20) as client:
        wan = _fal_result(client, "wan-move", {**inputs, "seed": 7, "resolution": "580p"})
        assert (wan["prompt"], wan["seed"]) == (MADE_UP_PROMPT, 7)
        assert not _has_sound(client, wan["video"]["url"], tmp_path)
        drawn = _fal_result(client, "wan-replace", inputs)
        assert isinstance(drawn["seed"], int) and drawn["prompt"] == MADE_UP_PROMPT
        actor = _fal_result(client, "dreamactor", {**inputs, "trim_first_second": False})
        assert set(actor) == {"video"} and not _has_sound(client, actor["video"]["url"], tmp_path)
        kling = _fal_result(client, "pro", {**inputs, "character_orientation": "video"})
        assert set(kling) == {"video"} and _has_sound(client, kling["video"]["url"], tmp_path)
        refused = client.post(
            f"https://queue.fal.run/{TIERS['wan-move'].endpoint}",
            json={**inputs, "character_orientation": "video", "keep_original_sound": True},
            headers=HEADERS,
        )
    assert refused.status_code == 422
    assert {tuple(d["loc"]) for d in refused.json()["detail"]} == {
        ("body", "character_orientation"),
        ("body", "keep_original_sound"),
    }
    assert len(fal.submitted) == 4 and len(fal.silenced) <= silenced + 1  # the clip was stripped once


@pytest.mark.parametrize("model", [m.name for m in TIERS.values() if "keep_sound" in m.local])
def test_keeping_the_sound_is_never_sent_to_a_model_that_has_none(model: str) -> None:
    assert "keep_original_sound" not in TIERS[model].fal_fields()


# -- a run keeps what its model returned ---------------------------------------------------------------------


def _run(runner: JobRunner, samples, clip: str = "clip_3s", **options: object) -> Run:
    """A run of `options` on the test image and `clip`, to its end; its row as the history keeps it."""
    job = runner.start(order(samples["image_jpg"], samples[clip], **options), KEY)
    final = job.wait(60)
    assert isinstance(final, Done), final
    run = runner.history.reads.get(job.run_id or "")
    assert run is not None and run.status == "done"
    return run


def test_wan_s_prompt_and_seed_are_kept_shown_and_summarised(
    runner: JobRunner, fal: FalEmulator, samples
) -> None:
    run = _run(runner, samples, model="wan-move", seed=7, keep_sound=False)
    [request] = fal.submitted
    assert request.body["seed"] == 7 and "keep_original_sound" not in request.body
    assert run.returned == {"prompt": MADE_UP_PROMPT, "seed": 7}
    card = run_details(run, runner.history.reads.events(run.id))
    assert f"- **Wan's prompt:** {MADE_UP_PROMPT}" in card and "- **Seed used:** 7" in card
    summary = run_summary(run, []).model_dump(mode="json")
    assert (summary["model_prompt"], summary["seed_used"], summary["seed"]) == (MADE_UP_PROMPT, 7, 7)
    drawn = _run(runner, samples, model="wan-replace", keep_sound=False)  # no seed given: fal's own, kept
    seed = fal.submitted[-1].seed
    assert "seed" not in fal.submitted[-1].body and drawn.returned["seed"] == seed
    assert run_summary(drawn, []).seed_used == seed and f"- **Seed used:** {seed}" in run_details(drawn, [])


def test_a_kling_run_keeps_nothing_besides_its_video(runner: JobRunner, fal: FalEmulator, samples) -> None:
    run = _run(runner, samples, model="standard")
    assert run.returned == {} and run.sound_added is None
    summary = run_summary(run, [])
    assert (summary.model_prompt, summary.seed_used, summary.sound_added_locally) == (None, None, None)
    assert "prompt:**" not in run_details(run, []) and "Seed used" not in run_details(run, [])


# -- the clip's sound, put back here ----------------------------------------------------------------------------


def _sound_of(run: Run) -> bool:
    info = probe_video(Path(run.output_path or ""))
    assert (info.codec, info.container) == ("h264", "mp4")  # still what every browser plays
    return info.has_audio


def test_wan_s_silent_video_gets_the_clip_s_sound_here(runner: JobRunner, fal: FalEmulator, samples) -> None:
    run = _run(runner, samples, model="wan-move", keep_sound=True)
    assert _sound_of(run) and run.sound_added is True
    assert len(fal.submitted) == 1 and "keep_original_sound" not in fal.submitted[0].body  # no paid call more
    said = "The clip's sound was put back on the result here: Wan Move returns video only."
    events = runner.history.reads.events(run.id)
    assert (events[-1].state, events[-1].detail) == ("done", said)
    assert f"- 🔊 {said}" in run_details(run, events)
    assert run_summary(run, events).sound_added_locally is True
    assert probe_video(Path(run.output_path or "")).duration == pytest.approx(3, abs=0.3)
    assert [p.name for p in Path(run.output_path or "").parent.glob(".*")] == []  # no partial file left


def test_without_keep_sound_or_without_sound_in_the_clip_nothing_is_added(
    runner: JobRunner, fal: FalEmulator, samples
) -> None:
    for run in (
        _run(runner, samples, model="dreamactor", keep_sound=False),
        _run(runner, samples, "clip_5s_silent", model="wan-replace", keep_sound=True),
    ):
        assert not _sound_of(run) and run.sound_added is None
        events = runner.history.reads.events(run.id)
        assert events[-1].detail == "" and "🔊" not in run_details(run, events)
        assert run_summary(run, events).sound_added_locally is None


def test_a_kling_result_keeps_fal_s_sound_and_one_that_lost_it_gets_the_clip_s(
    runner: JobRunner, fal: FalEmulator, samples
) -> None:
    run = _run(runner, samples, model="standard", keep_sound=True)
    assert _sound_of(run) and run.sound_added is None  # fal's own sound: nothing done here
    assert fal.submitted[0].body["keep_original_sound"] is True
    fal.output = samples["clip_5s_silent"].read_bytes()  # fal's video came without its sound
    run = _run(runner, samples, model="standard", keep_sound=True)
    assert _sound_of(run) and run.sound_added is True
    assert "Kling Standard returns video only." in run_details(run, [])


def test_a_failed_remux_leaves_a_done_run_with_its_silent_video(
    runner: JobRunner, fal: FalEmulator, samples, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ffmpeg fails to add the sound (an ffmpeg that refuses `-shortest`, the re-mux's alone): the paid
    video is kept silent, the run is done, and the card and the summary say the sound is missing."""
    failing = tmp_path / "ffmpeg"
    failing.write_text(
        f'#!/bin/sh\nfor a in "$@"; do [ "$a" = -shortest ] && exit 1; done\nexec {FFMPEG} "$@"\n'
    )
    failing.chmod(0o755)
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(failing))
    run = _run(runner, samples, model="wan-move", keep_sound=True)
    assert not _sound_of(run) and run.sound_added is False
    said = (
        "The clip's sound could not be put back on the result, so it is silent: Wan Move returns video only."
    )
    events = runner.history.reads.events(run.id)
    assert events[-1].detail == said and f"- 🔊 {said}" in run_details(run, events)
    assert run_summary(run, events).sound_added_locally is False


def test_a_run_killed_while_downloading_gets_its_sound_when_resumed(
    fal: FalEmulator, data_dir: Path, samples
) -> None:
    """`kill -9` of the command line while Wan's video downloads: `resume` downloads it again and puts
    the clip's sound on it, as an unbroken run would; fal's prompt and seed were kept with the URL."""
    fal.delays.update(output=30)
    args = ["generate", "--image", str(samples["image_jpg"]), "--video", str(samples["clip_3s"])]
    command, environ = cli_command(fal, data_dir, *args, "--model", "wan-move", "--seed", "7")
    proc = subprocess.Popen(command, cwd=data_dir.parent, env=environ, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        killed = wait_for_status(data_dir, "downloading")
    finally:
        kill_9(proc)
    assert killed.returned == {"prompt": MADE_UP_PROMPT, "seed": 7} and killed.sound_added is None
    release(fal)
    result = cli(fal, data_dir, "resume")
    assert result.returncode == 0, result.stderr
    run = the_run(data_dir)
    assert run is not None and run.status == "done" and len(fal.submitted) == 1
    assert _sound_of(run) and run.sound_added is True and run.returned["seed"] == 7


def test_the_api_s_summary_says_what_wan_returned_and_that_the_sound_was_added(
    app: str, fal: FalEmulator
) -> None:
    from gradio_client import Client

    video, summary = Client(app, verbose=False).predict(
        image=SAMPLE_IMAGE_URL,
        video=SAMPLE_VIDEO_URL,
        model="wan-move",
        seed=7,
        keep_original_sound=True,
        api_name="/generate",
    )
    assert summary["status"] == "done" and probe_video(Path(video)).has_audio
    assert (summary["model_prompt"], summary["seed_used"], summary["seed"]) == (MADE_UP_PROMPT, 7, 7)
    assert summary["sound_added_locally"] is True and summary["keep_original_sound"] is True
    assert "keep_original_sound" not in fal.submitted[0].body
