"""How the page is served: launch arguments (shared with the tests), style, and `python app.py`."""

from __future__ import annotations

import logging
import signal
from typing import Any

import gradio as gr

from ..errors import StudioError
from ..settings import Settings, configure_logging, get_settings
from ..studio.service import Studio
from .api import mcp_options_first
from .layout.assets import ASSETS
from .page import create_demo

logger = logging.getLogger(__name__)


def launch_kwargs(settings: Settings) -> dict[str, Any]:
    """Shared by `launch()` and the tests, so the tests run the page exactly as users get it."""
    return {
        "server_name": settings.server_name,
        "server_port": settings.server_port,
        # Only the examples: the data directory is never served by path (see serving.py).
        "allowed_paths": [str(ASSETS)],
        # Videos in the data directory are served to the page; the history database never is.
        "blocked_paths": [
            *(str(settings.db_path.resolve()) + suffix for suffix in ("", "-wal", "-shm", "-journal")),
            str(settings.browser_secret_path.resolve()),
        ],
        "run_history": False,  # Gradio would otherwise keep every event's inputs (the key!) in localStorage
        # The public API's two endpoints (`/generate`, `/check`, see api.py) as MCP tools, served at
        # /gradio_api/mcp/ (streamable HTTP); the page's own events are private, so no other tool.
        "mcp_server": True,
        "app_kwargs": {"lifespan": mcp_options_first(settings.default_tier)},
        "max_file_size": f"{settings.max_upload_mb}mb",
        "theme": gr.themes.Soft(),
        "css": (ASSETS / "studio.css").read_text(encoding="utf-8"),
        "head": _upload_guard_script(settings.max_upload_mb) + _player_preload_script(),
    }


def queue_kwargs(settings: Settings) -> dict[str, Any]:
    """Shared by `launch()` and the tests. The queue's size is always the app's: left unset, Gradio
    makes it 1 on ZeroGPU, and a second visitor waiting is told the queue is full."""
    return {"default_concurrency_limit": settings.concurrency, "max_size": settings.queue_size}


def register_for_zerogpu() -> str | None:
    """On a ZeroGPU Space, one function under `@spaces.GPU`, named in the answer; elsewhere (or without
    the `spaces` package) nothing happens and the answer is None.

    ZeroGPU stops a Space whose start-up reports no `@spaces.GPU` function, and `spaces` reports only
    the functions decorated before `launch()`. The studio has no GPU work (fal generates the video; the
    people check, probes and conversions run on the CPU host), and a decorated call would spend the
    visitor's ZeroGPU quota, so the function is registered for the report and never called, and no event
    is wrapped (not even with SPACES_GRADIO_AUTO_WRAP)."""
    try:
        import spaces
    except ImportError:
        return None
    if spaces.GPU(_no_gpu_work) is _no_gpu_work:  # what `spaces.GPU` gives back off ZeroGPU
        return None
    spaces.disable_gradio_auto_wrap()
    return _no_gpu_work.__qualname__


def _no_gpu_work() -> None:
    """Registered on ZeroGPU for its start-up check only (see `register_for_zerogpu`); never called."""


def _upload_guard_script(limit_mb: int) -> str:
    """A file over the upload limit, or of the wrong kind for its box, is refused in the browser before
    it is sent, with the app's own sentence (instead of Gradio's toast): `assets/upload_guard.js`."""
    script = (ASSETS / "upload_guard.js").read_text(encoding="utf-8")
    return f"<script>window.MOTION_STUDIO_MAX_MB = {int(limit_mb)};\n{script}</script>"


def _player_preload_script() -> str:
    """Every video in the page loads its header and first frame, not its whole file, until it is
    played: the result shows sooner and the page downloads only what is watched
    (`assets/player_preload.js`)."""
    return f"<script>{(ASSETS / 'player_preload.js').read_text(encoding='utf-8')}</script>"


def launch() -> None:
    try:
        settings = get_settings()
    except StudioError as exc:
        raise SystemExit(f"error: {exc.message}") from None
    configure_logging()
    zero_gpu = register_for_zerogpu()  # before the page is built, and before launch() reports
    if zero_gpu is not None:
        logger.info(
            "ZeroGPU: %s registered with @spaces.GPU for the start-up check; no event uses it", zero_gpu
        )
    studio = Studio(settings)
    demo = create_demo(settings, studio)
    # A Space stops its container with SIGTERM: treat it like Ctrl-C, so every run saves its state.
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        demo.queue(**queue_kwargs(settings)).launch(**launch_kwargs(settings))
    finally:
        studio.runner.shutdown()


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
