"""Every model of the catalogue through the API and the command line, against the emulator's strict
schema per endpoint: each gets only its own fields by fal's names, Kling's body is what it was, a
comparison sends one request per model and answers one summary and one labelled grid."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from motion_studio import cli
from motion_studio.catalog import OPTIONS, TIERS
from motion_studio.media.video import probe_video
from motion_studio.settings import Settings

from .fal_emulator import SAMPLE_IMAGE_URL, SAMPLE_VIDEO_SECONDS, SAMPLE_VIDEO_URL, FalEmulator

SAMPLES = {"image": SAMPLE_IMAGE_URL, "video": SAMPLE_VIDEO_URL}
# Each new model's own settings, as a caller gives them (fal's names), and nothing else.
OWN_FIELDS: dict[str, dict[str, Any]] = {
    "wan-move": {"resolution": "580p", "seed": 7, "guidance_scale": 1.5},
    "wan-replace": {"resolution": "580p", "seed": 7, "guidance_scale": 1.0},
    "dreamactor": {"trim_first_second": False},
}
KLING_FIELDS = {"character_orientation", "prompt", "keep_original_sound", "elements"}


@pytest.mark.parametrize("model", list(OWN_FIELDS))
def test_each_new_model_reaches_its_endpoint_with_its_own_fields_only(
    client: Any, fal: FalEmulator, model: str
) -> None:
    video, summary = client.predict(**SAMPLES, model=model, **OWN_FIELDS[model], api_name="/generate")
    [request] = fal.submitted
    assert request.endpoint == TIERS[model].endpoint
    assert request.body == {"image_url": SAMPLE_IMAGE_URL, "video_url": SAMPLE_VIDEO_URL, **OWN_FIELDS[model]}
    assert not KLING_FIELDS & set(request.body)
    assert summary["status"] == "done" and summary["model"] == model
    if TIERS[model].returns:  # Wan: the prompt it made and the seed it used, kept with the run
        assert summary["seed_used"] == 7 and summary["model_prompt"]
    info = probe_video(video)
    assert info.codec == "h264" and info.has_audio and summary["sound_added_locally"] is True


def test_kling_s_body_is_unchanged(client: Any, fal: FalEmulator) -> None:
    client.predict(**SAMPLES, model="pro", prompt="A woman dancing", api_name="/generate")
    [request] = fal.submitted
    assert request.body == {
        "image_url": SAMPLE_IMAGE_URL,
        "video_url": SAMPLE_VIDEO_URL,
        "character_orientation": "video",
        "prompt": "A woman dancing",
        "keep_original_sound": True,
    }


def test_an_unknown_resolution_is_refused_naming_it_and_its_choices(client: Any, fal: FalEmulator) -> None:
    for endpoint in ("/check", "/generate"):
        with pytest.raises(Exception) as refused:
            client.predict(**SAMPLES, model="wan-move", resolution="1080p", api_name=endpoint)
        assert "resolution must be '480p', '580p' or '720p' (got '1080p')." in str(refused.value)
    assert fal.calls == []


def test_a_wan_estimate_follows_its_resolution(client: Any, fal: FalEmulator) -> None:
    check = client.predict(**SAMPLES, model="wan-move", resolution="480p", api_name="/check")
    assert check["ready"] and check["estimate"]["billed_seconds"] == SAMPLE_VIDEO_SECONDS == 5
    assert check["estimate"]["price_per_second"] == 0.04 and check["estimate"]["estimated_cost"] == 0.20
    sharp = client.predict(**SAMPLES, model="wan-move", resolution="720p", api_name="/check")
    assert sharp["estimate"]["estimated_cost"] == 0.40
    assert fal.calls == []


def test_comparing_three_models_sends_one_request_each_and_answers_one_grid(
    client: Any, fal: FalEmulator
) -> None:
    models = ["pro", "wan-move", "dreamactor"]
    check = client.predict(**SAMPLES, model="pro", more_models=models[1:], api_name="/check")
    assert check["ready"] and check["varies"] == "model" and check["estimate"]["models"] == models
    each = [TIERS[name].estimate_cost(SAMPLE_VIDEO_SECONDS) for name in models]
    assert check["estimate"]["estimated_cost"] == pytest.approx(sum(each))
    assert fal.calls == []

    grid, summary = client.predict(
        **SAMPLES, model="pro", more_models=models[1:], resolution="580p", api_name="/generate"
    )
    assert sorted(r.endpoint for r in fal.submitted) == sorted(TIERS[name].endpoint for name in models)
    bodies = {r.endpoint: r.body for r in fal.submitted}
    assert bodies[TIERS["wan-move"].endpoint]["resolution"] == "580p"  # each model takes its own options
    assert "resolution" not in bodies[TIERS["pro"].endpoint]
    assert summary["status"] == "done" and [run["model"] for run in summary["runs"]] == models
    assert summary["estimated_cost"] == pytest.approx(sum(r["estimated_cost"] for r in summary["runs"]))
    info = probe_video(grid)
    portrait = 480 / 848  # the emulator's sample clip, which its outputs follow
    assert info.codec == "h264" and info.width / info.height == pytest.approx(3 * portrait, abs=0.02)


def test_a_comparison_s_preview_takes_each_family_s_cheapest_setting(client: Any, fal: FalEmulator) -> None:
    more = ["v3-pro", "wan-move", "dreamactor"]
    check = client.predict(
        **SAMPLES, model="pro", more_models=more, resolution="720p", preview=True, api_name="/check"
    )
    assert check["estimate"]["models"] == ["standard", "v3-standard", "wan-move", "dreamactor"]
    assert [run["estimate"]["clip_seconds"] for run in check["runs"]] == [3, 3, 3, 3]
    wan = check["runs"][2]["estimate"]
    assert wan["price_per_second"] == 0.04 and wan["estimated_cost"] == 0.12  # 480p, not 720p

    client.predict(**SAMPLES, model="wan-move", resolution="720p", preview=True, api_name="/generate")
    [request] = fal.submitted
    assert request.body["resolution"] == "480p"


@pytest.mark.parametrize(
    ("arguments", "sentence"),
    [
        ({"more_models": ["pro"]}, r"^more_models names 'pro' twice, or names the chosen model"),
        ({"more_models": ["wan-move", "wan-move"]}, r"^more_models names 'wan-move' twice"),
        ({"more_models": ["kling-9"]}, r"^more_models must be a list of at most 3 of 'pro', .* \(got 'kling-9'\)\.$"),
        ({"more_models": ["standard", "v3-pro", "v3-standard", "wan-move"]}, r"^more_models must be a list of at most 3"),
        ({"more_models": "wan-move"}, r"^more_models must be a list"),
        ({"more_models": ["wan-move"], "more_images": [SAMPLE_IMAGE_URL]}, r"^A comparison runs one character image"),
        ({"model": "wan-move", "prompt": "dancing"}, r"^prompt is not an option of the model 'wan-move' \(only of 'pro'"),
        ({"model": "wan-move", "more_models": ["dreamactor"], "prompt": "x"}, r"^prompt is not an option of any of the models 'wan-move', 'dreamactor'"),
        ({"model": "v3-pro", "more_models": ["wan-move"], "face_image": SAMPLE_IMAGE_URL}, r"^The wan-move model can't keep a face consistent"),
    ],
)  # fmt: skip
def test_a_comparison_s_mistakes_are_one_sentence_for_free(
    client: Any, fal: FalEmulator, arguments: dict[str, Any], sentence: str
) -> None:
    for endpoint in ("/check", "/generate"):
        with pytest.raises(Exception) as refused:
            client.predict(**{**SAMPLES, "model": "pro", **arguments}, api_name=endpoint)
        assert re.search(sentence, str(refused.value)), refused.value
    assert fal.calls == []


def test_the_command_line_compares_with_a_repeated_flag(
    settings: Settings, fal: FalEmulator, samples: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["generate", "--image", str(samples["image_jpg"]), "--video", str(samples["clip_5s"])]
    argv += ["--model", "standard", "--compare", "wan-move", "--compare", "dreamactor"]
    argv += ["--resolution", "720p", "--seed", "7", "--keep-first-second", "--json"]
    assert cli.main(argv) == 0, capsys.readouterr().err
    summary = json.loads(capsys.readouterr().out)
    assert [run["model"] for run in summary["runs"]] == ["standard", "wan-move", "dreamactor"]
    bodies = {r.endpoint: r.body for r in fal.submitted}
    assert bodies[TIERS["wan-move"].endpoint] | {"image_url": "", "video_url": ""} == {
        "image_url": "",
        "video_url": "",
        "resolution": "720p",
        "seed": 7,
        "guidance_scale": OPTIONS["guidance_scale"].default,
    }
    assert bodies[TIERS["dreamactor"].endpoint]["trim_first_second"] is False
    assert "seed" not in bodies[TIERS["standard"].endpoint]


def test_the_command_line_names_its_flag_in_a_comparison_s_mistake(
    settings: Settings, fal: FalEmulator, samples: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["generate", "--image", str(samples["image_jpg"]), "--video", str(samples["clip_5s"])]
    assert cli.main([*argv, "--compare", "wan-9"]) == 1
    assert capsys.readouterr().err.replace("\n", " ").startswith("error: --compare must be a list")
    assert cli.main([*argv, "--model", "wan-move", "--orientation", "image"]) == 1
    assert "--orientation is not an option of the model 'wan-move'" in capsys.readouterr().err
    assert fal.calls == []


@pytest.mark.parametrize("model", list(TIERS))
def test_every_model_runs_from_the_command_line(
    settings: Settings,
    fal: FalEmulator,
    samples: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    model: str,
) -> None:
    argv = ["generate", "--image", str(samples["image_jpg"]), "--video", str(samples["clip_5s"])]
    assert cli.main([*argv, "--model", model, "--json"]) == 0, capsys.readouterr().err
    summary = json.loads(capsys.readouterr().out)
    [request] = fal.submitted
    assert summary["status"] == "done" and request.endpoint == TIERS[model].endpoint
    assert set(request.body) <= TIERS[model].fal_fields()
