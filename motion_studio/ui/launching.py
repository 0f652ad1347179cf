"""How the page is served: launch arguments (shared with the tests), style, and `python app.py`."""

from __future__ import annotations

import signal
from typing import Any

import gradio as gr

from ..errors import StudioError
from ..settings import Settings, configure_logging, get_settings
from ..studio.service import Studio
from .api import mcp_options_first
from .layout.assets import ASSETS
from .page import create_demo


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
    studio = Studio(settings)
    demo = create_demo(settings, studio)
    # A Space stops its container with SIGTERM: treat it like Ctrl-C, so every run saves its state.
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        demo.queue(default_concurrency_limit=settings.concurrency).launch(**launch_kwargs(settings))
    finally:
        studio.runner.shutdown()


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
