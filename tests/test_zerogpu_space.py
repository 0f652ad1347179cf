"""The studio as a ZeroGPU Space runs it: `python app.py` with Hugging Face's own `spaces` package.

Since a free account hosts Gradio Spaces on ZeroGPU only, most copies of this Space land there. The
platform stops a Space whose start-up reports no `@spaces.GPU` function, and Gradio's queue on ZeroGPU
holds one waiting event unless the app says otherwise. A stand-in for ZeroGPU's device API (what
`SPACES_ZERO_DEVICE_API_URL` points at) records what `spaces` asks of it: the start-up report at
`launch()`, and a `/schedule` for every call of a decorated function, which would spend a visitor's
GPU quota (none must come: the studio's work runs on the CPU host, and fal's).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import gradio as gr
import pytest

from motion_studio.settings import Settings
from motion_studio.studio.service import Studio
from motion_studio.ui.launching import queue_kwargs, register_for_zerogpu

from .fal_emulator import FalEmulator
from .test_crashes import PATIENCE, app_process, start_over_api, the_run
from .waiting import wait_for

spaces = pytest.importorskip("spaces", reason="the `spaces` package is pinned in requirements-dev.txt")


class DeviceApi(ThreadingHTTPServer):
    """ZeroGPU's device API, as far as a start-up goes: it accepts the report (200, which is what
    `spaces.zero.client.startup_report` expects) and answers anything else 404."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _DeviceApiHandler)
        self.posts: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _DeviceApiHandler(BaseHTTPRequestHandler):
    server: DeviceApi

    def do_POST(self) -> None:
        self.server.posts.append(self.path.split("?")[0])
        self.send_response(200 if self.path == "/startup-report" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def device_api() -> Iterator[DeviceApi]:
    server = DeviceApi()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def as_a_zerogpu_space(device_api: DeviceApi) -> dict[str, str]:
    """What Hugging Face sets in a ZeroGPU Space's container."""
    return {
        "SYSTEM": "spaces",
        "SPACE_ID": "owner/motion-studio",
        "SPACES_ZERO_GPU": "true",
        "SPACES_ZERO_DEVICE_API_URL": device_api.url,
    }


def test_a_zerogpu_space_starts_answers_six_visitors_at_once_and_runs(
    fal: FalEmulator, data_dir: Path, samples, device_api: DeviceApi, tmp_path: Path
) -> None:
    from gradio_client import Client, handle_file

    log = tmp_path / "app.log"
    with app_process(fal, data_dir, env=as_a_zerogpu_space(device_api), log=log) as (_, url):
        assert device_api.posts == ["/startup-report"]
        assert "ZeroGPU: _no_gpu_work registered with @spaces.GPU" in log.read_text()
        client = Client(url, verbose=False)

        def check() -> dict:
            return client.predict(
                image=handle_file(str(samples["image_jpg"])),
                video=handle_file(str(samples["clip_5s"])),
                api_name="/check",
            )

        with ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(lambda _: check(), range(6)))
        assert [answer["ready"] for answer in answers] == [True] * 6
        start_over_api(url, samples["image_jpg"], samples["clip_5s"])
        run = wait_for(lambda: (r := the_run(data_dir)) and r.final and r, PATIENCE, "the run ended")
        assert run.status == "done" and Path(run.output_path).is_file()
    assert len(fal.submitted) == 1
    assert device_api.posts == ["/startup-report"]  # no /schedule: nothing ran under the GPU decorator


def test_off_zerogpu_nothing_is_registered_and_the_queue_is_the_settings(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without SPACES_ZERO_GPU, `spaces` (installed, as Gradio imports it) registers nothing; without
    the package at all, neither; the queue's size is the setting's either way."""
    from spaces.zero import decorator

    monkeypatch.delenv("SPACES_ZERO_GPU", raising=False)
    assert register_for_zerogpu() is None and decorator.decorated_cache == {}
    with monkeypatch.context() as without:
        without.setitem(sys.modules, "spaces", None)  # `import spaces` fails
        assert register_for_zerogpu() is None
    assert queue_kwargs(settings) == {"default_concurrency_limit": 4, "max_size": 64}
    sized = settings.model_copy(update={"queue_size": 5})
    with gr.Blocks() as demo:
        gr.Markdown("a page")
    demo.queue(**queue_kwargs(sized))
    assert demo._queue.max_size == 5


def test_on_zerogpu_no_event_of_the_page_is_wrapped_even_with_auto_wrap(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`SPACES_GRADIO_AUTO_WRAP=true` would put every event under `@spaces.GPU` when `spaces` was
    imported before Gradio (Gradio's own import of it fails while Gradio itself is half imported, so
    `python app.py` never gets there). Simulated in this process: the one registered function is the
    studio's placeholder, and no event of the page is wrapped."""
    import gradio.block_function
    import spaces.gradio
    from spaces.config import Config
    from spaces.zero import decorator

    from motion_studio.ui.page import create_demo

    monkeypatch.setenv("SYSTEM", "spaces")
    monkeypatch.setenv("SPACE_ID", "owner/motion-studio")
    monkeypatch.setattr(Config, "zero_gpu", True)
    monkeypatch.setattr(decorator, "decorated_cache", {})
    monkeypatch.setattr(spaces.gradio, "gradio_auto_wrap_enabled", True)
    monkeypatch.setattr(gradio.block_function, "spaces", spaces)
    assert register_for_zerogpu() == "_no_gpu_work"
    studio = Studio(settings)
    try:
        demo = create_demo(settings, studio)
    finally:
        studio.runner.shutdown()
    assert {fn.__name__ for fn in decorator.decorated_cache} == {"_no_gpu_work"}
    assert not [fn.name for fn in demo.fns.values() if hasattr(fn.fn, "zerogpu")]
