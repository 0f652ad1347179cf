"""End to end through `python -m motion_studio`, a real subprocess, against the fal emulator."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from motion_studio.cli import STRICT_REFUSED
from motion_studio.history.store import History
from motion_studio.media.video import probe_video

from . import people_media as pm
from .fal_emulator import VALID_KEY, FalEmulator
from .waiting import wait_for

ROOT = Path(__file__).resolve().parents[1]


def cli_command(fal: FalEmulator, data_dir: Path, *args: str, key: str | None = VALID_KEY, **env: str):
    """The command line and environment a user would have, pointed at the emulator."""
    environ = {
        **os.environ,
        **fal.env(),
        "PYTHONPATH": str(ROOT),
        "MOTION_STUDIO_DATA_DIR": str(data_dir),
        "MOTION_STUDIO_POLL_INTERVAL": "0.05",
        "MOTION_STUDIO_STATUS_RETRY_SECONDS": "3",
        **env,
    }
    environ.pop("FAL_KEY", None)
    if key is not None:
        environ["FAL_KEY"] = key
    return [sys.executable, "-m", "motion_studio", *args], environ


def cli(fal: FalEmulator, data_dir: Path, *args: str, key: str | None = VALID_KEY, **env: str):
    command, environ = cli_command(fal, data_dir, *args, key=key, **env)
    return subprocess.run(
        command, cwd=data_dir.parent, env=environ, capture_output=True, text=True, timeout=180, check=False
    )


def generate_args(samples, clip: str = "clip_5s", orientation: str = "video") -> list[str]:
    return ["generate", "--image", str(samples["image_jpg"]), "--video", str(samples[clip]),
            "--orientation", orientation]  # fmt: skip


def generate(fal: FalEmulator, data_dir: Path, samples, clip: str = "clip_5s", *extra: str, **kw):
    return cli(fal, data_dir, *generate_args(samples, clip), *extra, **kw)


def only_run(data_dir: Path):
    [run] = History(data_dir / "history.sqlite3", data_dir / "runs").reads.recent()
    return run


def test_good_run_prints_a_playable_mp4(fal: FalEmulator, data_dir: Path, samples) -> None:
    result = generate(fal, data_dir, samples, "clip_5s", "--prompt", "waving")
    assert result.returncode == 0, result.stderr
    output = Path(result.stdout.strip().splitlines()[-1])
    assert output.is_file() and output.is_relative_to(data_dir)
    info = probe_video(output)
    assert info.codec == "h264" and info.duration > 4
    run = only_run(data_dir)
    assert run.status == "done" and run.output_path == str(output) and run.options.get("prompt") == "waving"
    assert "Generating frames" in result.stderr  # fal's log lines are shown
    listing = cli(fal, data_dir, "history")
    assert run.id in listing.stdout and "done" in listing.stdout
    assert VALID_KEY not in result.stdout + result.stderr + listing.stdout


def test_conversions_are_announced(fal: FalEmulator, data_dir: Path, samples) -> None:
    result = cli(fal, data_dir, "generate", "--image", str(samples["image_webp"]), "--video",
                 str(samples["clip_webm"]), "--orientation", "video")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "note: The WEBP image will be converted to PNG" in result.stderr
    assert "note: The webm (vp9) clip will be converted to MP4 (H.264)" in result.stderr
    [request] = fal.submitted
    assert request.body["video_url"].endswith(".mp4") and request.body["image_url"].endswith(".png")


def test_no_sound_reaches_fal_as_false(fal: FalEmulator, data_dir: Path, samples) -> None:
    assert generate(fal, data_dir, samples, "clip_5s", "--no-sound", "--tier", "standard").returncode == 0
    [request] = fal.submitted
    assert request.body["keep_original_sound"] is False
    assert request.endpoint.endswith("/standard/motion-control")


def test_too_long_clip_is_refused_before_any_request(fal: FalEmulator, data_dir: Path, samples) -> None:
    result = cli(fal, data_dir, *generate_args(samples, "clip_12s", orientation="image"))
    assert result.returncode == 1
    assert result.stderr.strip().endswith(
        "The clip is 12.0 s; with orientation 'image' the limit is 10 s. Switch to 'video' (30 s) or trim it."
    )
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert fal.calls == [] and fal.proxied_hosts == []


def test_people_warnings_are_printed_and_strict_refuses_on_them(
    fal: FalEmulator, data_dir: Path, samples, tmp_path: Path
) -> None:
    """A picture with nobody in it: `--strict` refuses with nothing uploaded or sent; without it the
    warning is printed and the run goes on (advice, as in the page)."""
    blank = pm.save(pm.gradient(), tmp_path / "blank.png")
    args = ["generate", "--image", str(blank), "--video", str(samples["clip_3s"]), "--orientation", "video"]
    refused = cli(fal, data_dir, *args, "--strict")
    assert refused.returncode == STRICT_REFUSED, refused.stderr
    assert "warning: No person was found in the image" in refused.stderr
    assert "--strict: not generating" in refused.stderr and "Traceback" not in refused.stderr
    assert refused.stdout == "" and fal.calls == [] and fal.proxied_hosts == []
    assert History(data_dir / "history.sqlite3", data_dir / "runs").reads.recent() == []
    went_on = cli(fal, data_dir, *args)
    assert went_on.returncode == 0, went_on.stderr
    assert "warning: No person was found in the image" in went_on.stderr
    assert len(fal.submitted) == 1 and only_run(data_dir).status == "done"


def test_missing_key_is_one_clear_line(fal: FalEmulator, data_dir: Path, samples) -> None:
    result = generate(fal, data_dir, samples, key=None)
    assert result.returncode == 2
    assert "FAL_KEY" in result.stderr and ".env" in result.stderr and "Traceback" not in result.stderr
    assert fal.calls == []


CONTENT = {
    "detail": [
        {
            "loc": ["body", "image_url"],
            "type": "content_policy_violation",
            "msg": "The content could not be processed because it was flagged by a content checker.",
        }
    ]
}


@pytest.mark.parametrize(
    ("setup", "kind", "words"),
    [
        (lambda f: None, "auth", "HTTP 401"),  # a wrong key (see `key` below)
        (
            lambda f: f.fail("submit", 403, {"detail": "User is locked. Reason: Exhausted balance."}),
            "auth",
            "locked or out of balance",
        ),
        (
            lambda f: f.fail(
                "submit",
                422,
                {
                    "detail": [
                        {
                            "loc": ["body", "video_url"],
                            "msg": "Unsupported video codec",
                            "type": "value_error",
                        }
                    ]
                },
            ),
            "validation",
            "fal rejected the video_url: Unsupported video codec.",
        ),
        (lambda f: f.fail("result", 422, CONTENT), "content_policy", "content checker flagged the image_url"),
        (
            lambda f: f.fail("submit", 500, {"detail": "Internal Server Error"}),
            "server",
            "fal failed on its side",
        ),
        (
            lambda f: f.fail("result", 500, {"detail": "Model crashed", "error_type": "internal_error"}),
            "server",
            "Model crashed",
        ),
        (
            lambda f: f.fail(
                "submit",
                504,
                {"detail": "Request timed out", "error_type": "request_timeout"},
                headers={"X-Fal-Error-Type": "request_timeout"},
            ),
            "timeout",
            "timed out",
        ),
        (lambda f: f.fail("submit", 429, {"detail": "Rate limit exceeded"}), "rate_limit", "HTTP 429"),
    ],
    ids=[
        "401",
        "403-locked",
        "422-detail",
        "content-policy",
        "500-submit",
        "completed-with-error",
        "504-timeout",
        "429",
    ],
)
def test_fal_errors_become_messages_and_history(
    fal: FalEmulator, data_dir: Path, samples, setup, kind: str, words: str
) -> None:
    setup(fal)
    key = "wrong-id:wrong-secret" if kind == "auth" and not fal.faults else VALID_KEY
    result = generate(fal, data_dir, samples, key=key)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert words in last and "Traceback" not in result.stderr and "{" not in last
    run = only_run(data_dir)
    assert run.status == "failed" and run.error_kind == kind and words in run.error_message
    assert key not in result.stderr


def test_client_side_timeout_cancels_on_fal(fal: FalEmulator, data_dir: Path, samples) -> None:
    fal.hold = True
    result = generate(fal, data_dir, samples, MOTION_STUDIO_REQUEST_TIMEOUT="1")
    assert result.returncode == 1 and "did not finish within 1 s" in result.stderr
    assert fal.submitted[0].cancel_calls == 1
    assert only_run(data_dir).error_kind == "timeout"


def test_network_down(fal: FalEmulator, data_dir: Path, samples) -> None:
    fal.network_down = True
    result = generate(fal, data_dir, samples)
    assert result.returncode == 1 and "Could not reach fal" in result.stderr
    assert only_run(data_dir).error_kind == "network"


def test_resume_command_finishes_an_interrupted_run(fal: FalEmulator, data_dir: Path, samples) -> None:
    fal.hold = True
    command, environ = cli_command(fal, data_dir, *generate_args(samples))
    proc = subprocess.Popen(
        command, cwd=data_dir.parent, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    wait_for(lambda: fal.submitted and fal.submitted[0].status_polls > 2, 60, "fal polled")
    proc.kill()  # the machine dies after fal accepted (and will bill) the request
    proc.wait()
    assert only_run(data_dir).status in ("submitted", "queued", "running")
    fal.hold = False
    result = cli(fal, data_dir, "resume")
    assert result.returncode == 0, result.stderr
    assert only_run(data_dir).status == "done" and len(fal.submitted) == 1
    assert Path(result.stdout.strip().splitlines()[-1]).is_file()


def test_ctrl_c_cancels_the_request_on_fal(fal: FalEmulator, data_dir: Path, samples) -> None:
    fal.hold = True
    command, environ = cli_command(fal, data_dir, *generate_args(samples))
    proc = subprocess.Popen(command, cwd=data_dir.parent, env=environ, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    wait_for(lambda: fal.submitted and fal.submitted[0].status_polls > 2, 60, "fal polled")
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Cancelling the fal request" in stderr and "Traceback" not in stderr
    assert fal.submitted[0].cancel_calls == 1
    assert only_run(data_dir).status == "cancelled"
