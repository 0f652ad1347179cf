"""Where the page's files live (`assets/`: examples, style, scripts), and its long texts."""

from __future__ import annotations

from pathlib import Path

ASSETS = Path(__file__).resolve().parent.parent.parent.parent / "assets"


def page_text(name: str) -> str:
    """Long page text lives in `assets/*.md`, where it can be edited without touching code."""
    return (ASSETS / name).read_text(encoding="utf-8")
