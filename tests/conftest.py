from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# Gradio's upload cache is one folder per machine, named by content, and an app deletes its files when
# it shuts down: a second test run at the same time (another checkout, or another worker of this run:
# pytest-xdist) would lose its uploads. Each run and each worker (and the apps it starts) gets its own.
if "GRADIO_TEMP_DIR" not in os.environ or os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["GRADIO_TEMP_DIR"] = tempfile.mkdtemp(prefix="motion-studio-tests-gradio-")
    atexit.register(shutil.rmtree, os.environ["GRADIO_TEMP_DIR"], ignore_errors=True)

from motion_studio.history.store import History
from motion_studio.jobs.runner import JobRunner
from motion_studio.settings import Settings, get_settings

from .fal_emulator import VALID_KEY, FalEmulator
from .media_factory import make_audio, make_clip, make_image


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FalEmulator]:
    """One emulator for the session; the whole test process talks to it as if it were fal."""
    emu = FalEmulator(tmp_path_factory.mktemp("fal-emulator")).start()
    saved = {name: os.environ.get(name) for name in emu.env()}
    os.environ.update(emu.env())
    yield emu
    emu.stop()
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture
def fal(emulator: FalEmulator) -> Iterator[FalEmulator]:
    emulator.reset()
    yield emulator
    emulator.reset()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def settings(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Fast timings so tests take seconds; everything else as a user would have it."""
    values = {
        "FAL_KEY": VALID_KEY,
        "MOTION_STUDIO_DATA_DIR": str(data_dir),
        "MOTION_STUDIO_POLL_INTERVAL": "0.05",
        "MOTION_STUDIO_STATUS_RETRY_SECONDS": "5",
        "MOTION_STUDIO_CANCEL_GRACE_SECONDS": "3",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest.fixture
def history(settings: Settings) -> History:
    """The test's own history (its data directory)."""
    return History(settings.db_path, settings.runs_dir)


@pytest.fixture
def runner(settings: Settings, history: History, fal: FalEmulator) -> Iterator[JobRunner]:
    """A job runner on the test's history and the emulator, shut down after the test."""
    runner = JobRunner(settings, history)
    yield runner
    runner.shutdown()


@pytest.fixture(scope="session")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every kind of input a user might pick, made once per session (a few seconds in all)."""
    d = tmp_path_factory.mktemp("media")
    m: dict[str, Path] = {}
    for seconds in (2, 3, 10, 12, 30, 31):
        m[f"clip_{seconds}s"] = make_clip(d / f"clip_{seconds}s.mp4", seconds, fps=8)
    m["clip_5s"] = make_clip(d / "clip_5s.mp4", 5)
    m["clip_5s_silent"] = make_clip(d / "clip_5s_silent.mp4", 5, audio=False)
    m["clip_phone"] = make_clip(d / "phone.mp4", 4, size=(640, 360), rotate=90)
    m["clip_webm"] = make_clip(d / "clip.webm", 4)
    m["clip_mov"] = make_clip(d / "clip.mov", 4)
    m["clip_recorded"] = make_clip(d / "recorded.webm", 4, streamed=True)
    m["clip_mpeg4"] = make_clip(d / "clip_mpeg4.mp4", 4, codec="mpeg4")
    m["clip_tiny"] = make_clip(d / "tiny.mp4", 4, size=(320, 240))
    m["audio_only"] = make_audio(d / "sound.m4a")
    m["clip_truncated"] = d / "truncated.mp4"
    m["clip_truncated"].write_bytes(m["clip_5s"].read_bytes()[:3000])
    m["clip_corrupt"] = d / "corrupt.mp4"
    m["clip_corrupt"].write_bytes(os.urandom(20000))
    m["empty"] = d / "empty.mp4"
    m["empty"].write_bytes(b"")
    m["image_jpg"] = make_image(d / "person.jpg")
    m["image_png"] = make_image(d / "person.png")
    m["image_rgba"] = make_image(d / "person_rgba.png", mode="RGBA")
    m["image_webp"] = make_image(d / "person.webp")
    m["image_gif"] = make_image(d / "person.gif")
    m["image_bmp"] = make_image(d / "person.bmp")
    m["image_tiff"] = make_image(d / "person.tiff")
    m["image_gif_animated"] = make_image(d / "animated.gif", frames=3)
    m["image_exif"] = make_image(d / "rotated.jpg", size=(800, 600), exif_orientation=6)
    m["image_small"] = make_image(d / "small.png", size=(200, 300))
    m["image_wide"] = make_image(d / "wide.png", size=(1500, 400))
    m["image_truncated"] = d / "truncated.jpg"
    m["image_truncated"].write_bytes(m["image_jpg"].read_bytes()[:800])
    m["image_is_video"] = d / "actually_video.png"
    shutil.copyfile(m["clip_3s"], m["image_is_video"])
    m["video_is_image"] = d / "actually_image.mp4"
    shutil.copyfile(m["image_png"], m["video_is_image"])
    m["text_file"] = d / "notes.jpg"
    m["text_file"].write_text("not an image at all")
    return m


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync API keeps an event loop running in the main thread for
    the whole session once Chromium starts, and `asyncio.run` refuses to start under a running loop."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)  # stable: order kept


# -- the browser tests' fixtures (one Chromium for the whole session, shared by every module) ----------


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    pytest.importorskip("playwright")
    from playwright.sync_api import sync_playwright

    from .browser import CHROMIUM, CHROMIUM_ARGS

    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    with sync_playwright() as pw:
        # The browser talks to the app only; the emulator's proxy is for the app's fal traffic.
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, env=env)
        yield browser
        browser.close()


@pytest.fixture
def app(settings: Settings, fal: FalEmulator) -> Iterator[str]:
    from .browser import running_app

    with running_app(settings) as url:
        yield url


@pytest.fixture(scope="module")
def shared_app(emulator: FalEmulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One app for the module's calls (most are refused before anything is read), with the test
    settings' fast timings."""
    from .browser import running_app

    data = tmp_path_factory.mktemp("shared-app")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FAL_KEY", VALID_KEY)
        patch.setenv("MOTION_STUDIO_DATA_DIR", str(data / "data"))
        patch.setenv("MOTION_STUDIO_API_CHECKS_PER_MINUTE", "100000")
        patch.setenv("MOTION_STUDIO_POLL_INTERVAL", "0.05")
        patch.setenv("MOTION_STUDIO_STATUS_RETRY_SECONDS", "5")
        get_settings.cache_clear()
        settings: Settings = get_settings()
        with running_app(settings) as url:
            yield url
        get_settings.cache_clear()


@pytest.fixture(scope="module")
def client(shared_app: str) -> Any:
    from gradio_client import Client

    return Client(shared_app, verbose=False)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    from .browser import TIMEOUT

    context = browser.new_context(viewport={"width": 1280, "height": 1600})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    yield page
    context.close()
