"""The page's inputs as the studio reads them: previews that stand for their clip, caps by who pays."""

from __future__ import annotations

from pathlib import Path

from motion_studio.input_reading import InputReader
from motion_studio.settings import Settings
from motion_studio.studio.service import Studio

from .media_factory import hevc_clip
from .orders import order


def test_a_preview_stands_for_its_clip_and_nothing_else(settings: Settings, samples, tmp_path: Path) -> None:
    reader = InputReader(settings)
    clip = hevc_clip(tmp_path / "IMG_0003.mov", 3)
    preview = reader.preview(str(clip))
    assert preview and Path(preview).name.startswith("preview-")
    assert reader.original(preview) == str(clip)
    copied = tmp_path / "elsewhere" / Path(preview).name  # Gradio hands the page's copy back
    copied.parent.mkdir()
    copied.write_bytes(Path(preview).read_bytes())
    assert reader.original(str(copied)) == str(clip)
    assert reader.preview(str(samples["clip_5s"])) is None  # H.264 plays as it is
    stranger = tmp_path / "preview-0123456789abcdef0123.mp4"  # a name never handed out
    assert reader.original(str(stranger)) == str(stranger)
    assert reader.original(str(samples["clip_5s"])) == str(samples["clip_5s"])


def test_the_verdict_follows_who_pays(settings: Settings, samples) -> None:
    own_key = Studio(settings.model_copy(update={"visitors_bring_own_key": True}))
    try:
        inputs = order(samples["image_jpg"], samples["clip_5s"])
        refused = own_key.orders.read(inputs, None)
        assert not refused.ready and "their own fal key" in refused.problems[-1]
        assert own_key.orders.read(inputs, "abc:pasted").ready
    finally:
        own_key.runner.shutdown()


def test_a_gallery_poll_that_finds_nothing_new_touches_no_file(settings: Settings) -> None:
    studio = Studio(settings)
    try:
        first = studio.gallery.page(None)
        assert first is not None and first.summary.startswith("No runs yet")
        assert studio.gallery.page(None, unless=first.signature) is None
    finally:
        studio.runner.shutdown()
