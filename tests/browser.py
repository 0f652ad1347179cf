"""Helpers for the browser tests: the app as `python app.py` runs it, and what a user does in the page."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import httpx
import pytest

pytest.importorskip("playwright")
from playwright.sync_api import Page, expect

from motion_studio.settings import Settings
from motion_studio.studio.service import Studio
from motion_studio.ui.launching import launch_kwargs, queue_kwargs
from motion_studio.ui.page import create_demo

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # A fake camera and microphone (test pattern and beep) for the webcam-recording test.
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]
TIMEOUT = 30_000
# A busy 2-core machine (CI, a benchmark alongside) can take longer than Playwright's 5 s default to
# upload and check a clip: assertions wait up to 15 s for the page to get there.
expect.set_options(timeout=15_000)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    """Gradio's own localhost check, patient: the page answers within a minute, or it is not there."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return httpx.head(url, timeout=30, trust_env=False).status_code < 500
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.5)


@contextlib.contextmanager
def running_app(settings: Settings, port: int | None = None) -> Iterator[str]:
    """The app as `python app.py` runs it (same launch arguments), in-process, on 127.0.0.1.
    A restart that keeps the browser's localStorage needs the same `port` (the same origin)."""
    studio = Studio(settings)
    demo = create_demo(settings, studio)
    kwargs = {
        **launch_kwargs(settings),
        "server_name": "127.0.0.1",
        "server_port": port or free_port(),
        "quiet": True,
    }
    # Gradio checks that localhost answers before `launch` returns, with a 3 s timeout and no retry
    # after a time-out: on a loaded machine the page's first render can take longer, and the launch
    # fails ("When localhost is not accessible…") although nothing is wrong. The check waits here.
    with mock.patch("gradio.blocks.networking.url_ok", _answers):
        _, url, _ = demo.queue(**queue_kwargs(settings)).launch(prevent_thread_lock=True, **kwargs)
    try:
        yield url
    finally:
        demo.close()
        studio.runner.shutdown()


def pick(page: Page, image: Path | None, video: Path | None) -> None:
    if image:
        page.locator("#image-input input[type=file]").set_input_files(str(image))
    if video:
        page.locator("#video-input input[type=file]").set_input_files(str(video))


def generate(page: Page, image: Path, video: Path) -> None:
    """Pick both inputs, wait for the verdict to enable Generate, and press it."""
    pick(page, image, video)
    expect(page.locator("#generate")).to_be_enabled()
    page.locator("#generate").click()


def choose(page: Page, elem_id: str, label: str) -> None:
    page.locator(f"#{elem_id}").get_by_text(label, exact=False).first.click()


def wait_done(page: Page) -> None:
    expect(page.locator("#progress")).to_contain_text("Done", timeout=60_000)


def video_duration(page: Page, elem_id: str) -> float:
    """Play the element for real and report its duration once the browser has decoded it."""
    page.locator(f"#{elem_id} video").wait_for()
    return page.evaluate(
        """async (id) => {
            // Poll: Gradio may swap the element while it loads, and a busy machine decodes slowly.
            for (let i = 0; i < 100; i++) {
                const v = document.querySelector(`#${id} video`);
                if (v && v.readyState >= 1) {
                    v.muted = true;
                    try { await v.play(); } catch (e) {}
                    if (v.currentTime > 0 && v.duration > 0) return v.duration;
                }
                await new Promise(r => setTimeout(r, 100));
            }
            return -1;
        }""",
        elem_id,
    )
