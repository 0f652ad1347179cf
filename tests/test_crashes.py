"""`kill -9` of the command line and of the app at each phase of a run, then a restart.

Whatever the phase, the run must end done (with its video) or "stopped before it was sent to fal",
never stuck in a phase, never submitted twice. The emulator holds each phase open long enough to
kill the process in it (a slow conversion, upload, queue, generation or download).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import httpx
import pytest

from motion_studio.history.runs import Run
from motion_studio.history.store import History

from .fal_emulator import VALID_KEY, FalEmulator
from .media_factory import make_clip
from .test_cli import ROOT, cli, cli_command, generate_args
from .waiting import wait_for

# Generous: on two busy cores an app's start and a run's way to a phase have taken over a minute.
PATIENCE = 180

PHASES: dict[str, Callable[[FalEmulator], None]] = {
    "checking": lambda f: None,  # the slow part is converting the big WebM clip
    "uploading": lambda f: f.delays.update(upload=30),
    "queued": lambda f: setattr(f, "queue_seconds", 60),
    "running": lambda f: setattr(f, "hold", True),
    "downloading": lambda f: f.delays.update(output=30),
}
BEFORE_SUBMIT = ("checking", "uploading")


@pytest.fixture(scope="module")
def big_webm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clip whose conversion to MP4 takes seconds: time to kill a process while it checks."""
    return make_clip(tmp_path_factory.mktemp("big") / "big.webm", 30, size=(1280, 720), fps=24)


def the_run(data_dir: Path) -> Run | None:
    runs = History(data_dir / "history.sqlite3", data_dir / "runs").reads.recent()
    return runs[0] if runs else None


def wait_for_status(data_dir: Path, status: str) -> Run:
    return wait_for(
        lambda: (r := the_run(data_dir)) and r.status == status and r, PATIENCE, f"status {status}"
    )


def kill_9(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def release(fal: FalEmulator) -> None:
    fal.delays.clear()
    fal.hold = False
    fal.queue_seconds = 0.2


def check_after_restart(run: Run, fal: FalEmulator, phase: str) -> None:
    if phase in BEFORE_SUBMIT:
        assert run.status == "stopped" and run.error_kind == "stopped"
        assert "nothing was charged" in run.error_message and fal.submitted == []
    else:
        assert run.status == "done" and Path(run.output_path).is_file()
        assert len(fal.submitted) == 1


@pytest.mark.parametrize("phase", list(PHASES))
def test_kill_9_of_the_cli(fal: FalEmulator, data_dir: Path, samples, big_webm: Path, phase: str) -> None:
    PHASES[phase](fal)
    clip = big_webm if phase == "checking" else samples["clip_5s"]
    args = ["generate", "--image", str(samples["image_jpg"]), "--video", str(clip), "--orientation", "video"]
    command, environ = cli_command(fal, data_dir, *args)
    proc = subprocess.Popen(command, cwd=data_dir.parent, env=environ, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        wait_for_status(data_dir, phase)
    finally:
        kill_9(proc)
    release(fal)
    result = cli(fal, data_dir, "resume")  # what a user runs after a crash
    assert result.returncode == 0, result.stderr
    run = the_run(data_dir)
    check_after_restart(run, fal, phase)
    if phase == "uploading":  # nothing was sent: one command starts it again, same inputs
        again = cli(fal, data_dir, "again", run.id)
        assert again.returncode == 0, again.stderr
        [request] = fal.submitted
        assert the_run(data_dir).status == "done" and request.body["character_orientation"] == "video"


@contextlib.contextmanager
def app_process(
    fal: FalEmulator, data_dir: Path, env: Mapping[str, str] | None = None, log: Path | None = None
) -> Iterator[tuple[subprocess.Popen, str]]:
    """`python app.py` as a user runs it, pointed at the emulator (with `env` added, and its output
    in `log` when given)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    environ = {
        **os.environ,
        **fal.env(),
        "FAL_KEY": VALID_KEY,
        "MOTION_STUDIO_DATA_DIR": str(data_dir),
        "MOTION_STUDIO_SERVER_NAME": "127.0.0.1",
        "MOTION_STUDIO_SERVER_PORT": str(port),
        "MOTION_STUDIO_POLL_INTERVAL": "0.05",
        "GRADIO_ANALYTICS_ENABLED": "False",
        **(env or {}),
    }
    output = log.open("wb") if log else subprocess.DEVNULL
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=environ, stdout=output,
                            stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    def serving() -> bool:
        assert proc.poll() is None, "the app exited"
        with contextlib.suppress(httpx.HTTPError):
            return httpx.get(url, timeout=1, trust_env=False).status_code == 200
        return False

    try:
        wait_for(serving, PATIENCE, "the app serving")
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)
        if log:
            output.close()


def start_over_api(url: str, image: Path, video: Path) -> None:
    """Start a run through the public API the way any HTTP client can, without waiting for it."""
    with httpx.Client(base_url=url, timeout=60, trust_env=False) as client:
        files = [("files", image.open("rb")), ("files", video.open("rb"))]
        paths = client.post("/gradio_api/upload", files=files).json()
        data = [{"path": p, "meta": {"_type": "gradio.FileData"}} for p in paths]
        # The optional parameters after these (a face, a batch) as their defaults, however many there are.
        count = len(client.get("/gradio_api/info").json()["named_endpoints"]["/generate"]["parameters"])
        values = [*data, "video", "", True, "pro"]
        answer = client.post(
            "/gradio_api/call/generate", json={"data": [*values, *[None] * (count - len(values))]}
        )
        assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("phase", list(PHASES))
def test_kill_9_of_the_app(fal: FalEmulator, data_dir: Path, samples, big_webm: Path, phase: str) -> None:
    PHASES[phase](fal)
    clip = big_webm if phase == "checking" else samples["clip_5s"]
    with app_process(fal, data_dir) as (proc, url):
        start_over_api(url, samples["image_jpg"], clip)
        wait_for_status(data_dir, phase)
        kill_9(proc)
    release(fal)
    with app_process(fal, data_dir):  # the restart settles or resumes what the crash left
        run = wait_for(lambda: (r := the_run(data_dir)) and r.final and r, PATIENCE, "the run settled")
        check_after_restart(run, fal, phase)


def test_resume_by_id_takes_over_a_run_whose_follower_was_killed(
    fal: FalEmulator, data_dir: Path, samples
) -> None:
    """No start-up sweep in between: `resume RUN` itself notices the dead follower and takes over."""
    fal.delays["output"] = 30
    command, environ = cli_command(fal, data_dir, *generate_args(samples))
    proc = subprocess.Popen(command, cwd=data_dir.parent, env=environ, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        run = wait_for_status(data_dir, "downloading")
    finally:
        kill_9(proc)
    release(fal)
    result = cli(fal, data_dir, "resume", run.id)
    assert result.returncode == 0, result.stderr
    assert the_run(data_dir).status == "done" and len(fal.submitted) == 1


def test_sigterm_lets_the_app_save_every_run(fal: FalEmulator, data_dir: Path, samples) -> None:
    """A Space stops its container with SIGTERM: runs are saved as resumable, and the app exits."""
    fal.hold = True
    with app_process(fal, data_dir) as (proc, url):
        start_over_api(url, samples["image_jpg"], samples["clip_5s"])
        wait_for_status(data_dir, "running")
        proc.terminate()
        proc.wait(timeout=30)
    run = the_run(data_dir)
    assert run.status == "interrupted" and run.lease_holder is None
    release(fal)
    with app_process(fal, data_dir):
        wait_for(lambda: the_run(data_dir).status == "done", PATIENCE, "the run resumed after the restart")
    assert len(fal.submitted) == 1
