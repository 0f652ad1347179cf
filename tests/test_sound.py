"""The clip's sound and what a model returns besides its video: Wan and DreamActor give back video
only (the studio puts the clip's sound back itself), Wan tells the prompt it made and the seed it
used. Against the fal emulator over real HTTPS, with real ffmpeg."""

from __future__ import annotations

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

from .fal_emulator import MADE_UP_PROMPT, VALID_KEY, FalEmulator
from .orders import order
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
    assert len(fal.submitted) == 4 and len(fal.silenced) == 1  # the clip was stripped once


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
