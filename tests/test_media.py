"""Media checks on real files: every verdict, every refusal, and no leaked processes or handles."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from motion_studio.errors import ClipTooLongError, InputError
from motion_studio.media import image, video, views
from motion_studio.media.moov_first import MoovFirstWriter, write_moov_first
from motion_studio.media.mp4_header import surely_plays

from .media_factory import (
    QUIET,
    bomb_png,
    heic_image,
    hevc_clip,
    make_clip,
    make_image,
    mpo_image,
    prores_mov,
)


@pytest.mark.parametrize(
    ("clip", "orientation", "ok"),
    [
        ("clip_2s", "video", False),
        ("clip_3s", "image", True),
        ("clip_10s", "image", True),
        ("clip_12s", "image", False),
        ("clip_12s", "video", True),
        ("clip_30s", "video", True),
        ("clip_31s", "video", False),
    ],
)
def test_clip_length_against_orientation(
    samples: dict[str, Path], clip: str, orientation: str, ok: bool
) -> None:
    if ok:
        report = _inspect(samples[clip], orientation)
        assert report.info.duration == pytest.approx(int(clip.split("_")[1][:-1]), abs=0.2)
    else:
        with pytest.raises(InputError):
            _inspect(samples[clip], orientation)


def _inspect(path: Path, orientation: str) -> video.VideoReport:
    return video.inspect_video(path, orientation)


def test_too_long_message_says_what_to_do(samples: dict[str, Path]) -> None:
    with pytest.raises(InputError) as err:
        _inspect(samples["clip_12s"], "image")
    assert err.value.message == (
        "The clip is 12.0 s; with orientation 'image' the limit is 10 s. Switch to 'video' (30 s) or trim it."
    )
    with pytest.raises(InputError, match=r"31.0 s; with orientation 'video' the limit is 30 s. Trim it"):
        _inspect(samples["clip_31s"], "video")
    with pytest.raises(InputError, match=r"2.0 s; the model needs at least 3 s"):
        _inspect(samples["clip_2s"], "video")


def test_reads_fps_size_audio(samples: dict[str, Path]) -> None:
    loud = _inspect(samples["clip_5s"], "video").info
    silent = _inspect(samples["clip_5s_silent"], "video").info
    assert (loud.width, loud.height, loud.fps, loud.has_audio) == (480, 360, 12.0, True)
    assert silent.has_audio is False
    assert loud.summary() == "5.0 s · 480×360 · 12 fps · with audio"


def test_phone_rotation_is_read(samples: dict[str, Path]) -> None:
    info = _inspect(samples["clip_phone"], "video").info
    assert info.rotation == 90
    assert info.display_size == (360, 640)


def test_webm_is_converted_and_mov_kept(samples: dict[str, Path], tmp_path: Path) -> None:
    webm = _inspect(samples["clip_webm"], "video")
    assert webm.needs_conversion and "converted to MP4" in webm.notes[0]
    out = media_prepare(samples["clip_webm"], webm, tmp_path)
    assert out.suffix == ".mp4"
    again = _inspect(out, "video").info
    assert again.codec == "h264" and again.container == "mp4" and again.has_audio
    mov = _inspect(samples["clip_mov"], "video")
    assert mov.action == "remux" and mov.info.container == "mov" and "repackaged as MP4" in mov.notes[0]
    remuxed = media_prepare(samples["clip_mov"], mov, tmp_path)
    assert remuxed.suffix == ".mp4"
    again = _inspect(remuxed, "video").info
    assert (again.container, again.codec, again.has_audio) == ("mp4", "h264", True)
    assert again.duration == pytest.approx(mov.info.duration, abs=0.1)
    mpeg4 = _inspect(samples["clip_mpeg4"], "video")
    assert mpeg4.action == "transcode" and "(mpeg4)" in mpeg4.notes[0]
    assert _inspect(samples["clip_5s"], "video").action == "copy"


def test_browser_recording_without_duration_header(samples: dict[str, Path]) -> None:
    """MediaRecorder (webcam) webm has no duration in its header: it is measured by decoding."""
    report = _inspect(samples["clip_recorded"], "image")
    assert report.info.duration == pytest.approx(4, abs=0.2) and report.info.has_audio
    assert report.action == "transcode" and "The webm (vp9) clip" in report.notes[0]


def test_a_result_that_browsers_cannot_play_is_reencoded(samples: dict[str, Path], tmp_path: Path) -> None:
    output = tmp_path / "output.mp4"
    output.write_bytes(samples["clip_mpeg4"].read_bytes())
    assert video.ensure_playable(output) == output
    assert video.probe_video(output).codec == "h264"
    assert video.probe_video(tmp_path / "output.original.mp4").codec == "mpeg4"
    before = output.stat().st_mtime_ns
    assert video.ensure_playable(output) == output and output.stat().st_mtime_ns == before  # H.264 is kept


def media_prepare(path: Path, report: video.VideoReport, tmp_path: Path) -> Path:
    return video.prepare_video(path, report, tmp_path / f"ref-{path.stem}")


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("clip_truncated", "corrupt or truncated"),
        ("clip_corrupt", "corrupt or truncated"),
        ("empty", "is empty"),
        ("audio_only", "no picture"),
        ("video_is_image", "is an image, not a video"),
        ("clip_tiny", "each side must be 340–3850 px"),
    ],
)
def test_bad_videos_get_one_sentence(samples: dict[str, Path], name: str, words: str) -> None:
    with pytest.raises(InputError) as err:
        _inspect(samples[name], "video")
    assert words in err.value.message
    assert "\n" not in err.value.message and "Traceback" not in err.value.message


def test_missing_video(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        _inspect(tmp_path / "nope.mp4", "video")


@pytest.mark.parametrize(
    ("name", "converted", "note"),
    [
        ("image_jpg", False, None),
        ("image_png", False, None),
        ("image_rgba", True, "flattened to RGB"),
        ("image_webp", True, "WEBP image will be converted to PNG"),
        ("image_gif", True, "GIF image will be converted to PNG"),
        ("image_bmp", True, "BMP image will be converted to PNG"),
        ("image_tiff", True, "TIFF image will be converted to PNG"),
        ("image_exif", True, "EXIF rotation"),
    ],
)
def test_images_accepted_or_converted(
    samples: dict[str, Path], tmp_path: Path, name: str, converted: bool, note: str | None
) -> None:
    report = image.inspect_image(samples[name])
    assert report.needs_conversion is converted
    if note:
        assert any(note in n for n in report.notes)
    out = image.prepare_image(samples[name], report, tmp_path / "image")
    with Image.open(out) as result:
        assert result.format in ("PNG", "JPEG") and result.mode in ("RGB", "L")
        assert result.size == (report.info.width, report.info.height)


def test_exif_rotation_is_applied(samples: dict[str, Path], tmp_path: Path) -> None:
    report = image.inspect_image(samples["image_exif"])
    assert (report.info.width, report.info.height) == (600, 800)  # stored 800×600, shown upright
    out = image.prepare_image(samples["image_exif"], report, tmp_path / "image")
    with Image.open(out) as result:
        assert result.size == (600, 800)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("image_small", "at least 340 px"),
        ("image_wide", "aspect 3.8:1"),
        ("image_gif_animated", "is animated"),
        ("image_truncated", "truncated or corrupt"),
        ("image_is_video", "is a video, not an image"),
        ("text_file", "not an image the app can read"),
        ("empty", "is empty"),
    ],
)
def test_bad_images_get_one_sentence(samples: dict[str, Path], name: str, words: str) -> None:
    with pytest.raises(InputError) as err:
        image.inspect_image(samples[name])
    assert words in err.value.message


def test_decompression_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.png"
    Image.new("1", (9000, 9000)).save(bomb)
    assert bomb.stat().st_size < 200_000
    with pytest.raises(InputError, match="MP"):
        image.inspect_image(bomb)


def test_big_file_is_reencoded_under_10_mb(tmp_path: Path) -> None:
    noisy = tmp_path / "noisy.png"
    Image.frombytes("RGB", (2400, 2400), os.urandom(2400 * 2400 * 3)).save(noisy)
    assert noisy.stat().st_size > 10 * 1024 * 1024
    report = image.inspect_image(noisy)
    assert report.needs_conversion and "re-encoded as JPEG" in report.notes[-1]
    out = image.prepare_image(noisy, report, tmp_path / "image")
    assert out.suffix == ".jpg" and out.stat().st_size <= 10 * 1024 * 1024


def test_trim_keeps_the_first_seconds_exactly(samples: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(ClipTooLongError) as err:
        _inspect(samples["clip_12s"], "image")
    assert (err.value.duration, err.value.limit) == (pytest.approx(12, abs=0.1), 10)
    trimmed = video.trim_clip(samples["clip_12s"], err.value.limit, tmp_path)
    report = _inspect(trimmed, "image")
    assert report.info.duration == pytest.approx(10, abs=0.1) and report.info.has_audio
    assert video.trim_clip(samples["clip_12s"], 10, tmp_path) == trimmed  # made once
    assert _inspect(samples["clip_12s"], "video").info.duration == pytest.approx(12, abs=0.1)  # original kept


def test_thumbnail(samples: dict[str, Path], tmp_path: Path) -> None:
    thumb = video.extract_thumbnail(samples["clip_3s"], tmp_path / "thumb.jpg")
    assert thumb is not None
    with Image.open(thumb) as picture:
        assert picture.width == 320


def test_checks_leave_no_processes_or_handles(samples: dict[str, Path], tmp_path: Path) -> None:
    def open_files() -> set[str]:
        """Pipes (to ffmpeg) and files; sockets are left out, other threads of the session own those."""
        found = set()
        for fd in os.listdir("/proc/self/fd"):
            with contextlib.suppress(OSError):
                target = os.readlink(f"/proc/self/fd/{fd}")
                if target.startswith(("pipe:", "/")):
                    found.add(f"{fd} -> {target}")
        return found

    def children() -> list[str]:
        return [p for p in os.listdir("/proc") if p.isdigit() and _ppid(p) == os.getpid()]

    before = open_files()
    for name in ("clip_5s", "clip_truncated", "audio_only", "clip_webm"):
        with contextlib.suppress(InputError):
            video.inspect_video(samples[name], "video")
    for name in ("image_jpg", "image_truncated", "image_rgba", "text_file"):
        with contextlib.suppress(InputError):
            image.inspect_image(samples[name])
    make_image(tmp_path / "x.png")
    assert open_files() - before == set()
    assert children() == []


def _ppid(pid: str) -> int:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


@contextlib.contextmanager
def watched_file(path: Path):
    """A named pipe standing in for a private file: `opened` turns true if anything opens it to read."""
    os.mkfifo(path)
    opened = threading.Event()
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            try:  # opening a pipe to write without blocking works only while someone reads it
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
                opened.set()
            except OSError:
                time.sleep(0.001)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield opened
    finally:
        stop.set()
        thread.join()


def test_a_playlist_named_mp4_is_refused_and_reads_nothing(tmp_path: Path) -> None:
    """A playlist or concat list renamed `.mp4` could make ffmpeg read other local files into a clip."""
    secret = tmp_path / "secret.mp4"
    lists = {
        "playlist.mp4": f"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nfile://{secret}\n#EXT-X-ENDLIST\n",
        "concat.mp4": f"ffconcat version 1.0\nfile '{secret}'\n",
        "bare.mp4": f"file '{secret}'\n",
    }
    with watched_file(secret) as opened:
        for name, text in lists.items():
            path = tmp_path / name
            path.write_text(text)
            with pytest.raises(InputError, match="is a playlist or a list of files, not a video"):
                video.inspect_video(path, "video")
        # Past our first look (the words start late), ffmpeg's own allow-lists refuse the list.
        sneaky = tmp_path / "sneaky.mp4"
        sneaky.write_text("\n" * 70 + f"ffconcat version 1.0\nfile '{secret}'\n")
        with pytest.raises(InputError, match="could not be read as a video"):
            video.inspect_video(sneaky, "video")
        assert not video.to_mp4(sneaky, tmp_path / "out.mp4", reencode=True, has_audio=False)
    assert not opened.is_set()


def test_real_clips_pass_the_allow_lists(samples) -> None:
    for clip in ("clip_5s", "clip_webm", "clip_mov", "clip_recorded", "clip_mpeg4"):
        assert video.inspect_video(samples[clip], "video").info.duration > 3


# --- phone and editor formats, previews a browser can show, side by side -------------------------------


@pytest.fixture(scope="module")
def phone(tmp_path_factory: pytest.TempPathFactory, samples: dict[str, Path]) -> dict[str, Path]:
    """What phones and editors hand over (HEVC, ProRes, HEIC, MPO) and what a careless drop brings."""
    d = tmp_path_factory.mktemp("phone")
    m: dict[str, Path] = {
        "hevc_mp4": hevc_clip(d / "iphone.mp4"),
        "hevc_mov": hevc_clip(d / "IMG_0001.MOV"),
        "prores_mov": prores_mov(d / "edit.mov"),
        "portrait_result": make_clip(d / "result.mp4", 4, size=(720, 1280), audio=False),
        "heic": heic_image(d / "IMG_0002.HEIC"),
        "mpo": mpo_image(d / "IMG_0003.jpg"),
        "big_bmp": make_image(d / "scan.bmp", (2600, 1800)),
        "bomb": bomb_png(d / "bomb.png"),
    }
    m["text_png"] = d / "notes.png"
    m["text_png"].write_text("not an image at all")
    m["text_mp4"] = d / "notes.mp4"
    m["text_mp4"].write_text("not a video either\n" * 50)
    m["empty_png"] = d / "empty.png"
    m["empty_png"].write_bytes(b"")
    m["png_truncated"] = d / "cut.png"
    m["png_truncated"].write_bytes(samples["image_png"].read_bytes()[:1500])
    m["heic_as_mp4"] = d / "photo.mp4"
    shutil.copyfile(m["heic"], m["heic_as_mp4"])
    m["mov_truncated"] = d / "cut.mov"
    m["mov_truncated"].write_bytes(m["hevc_mov"].read_bytes()[:20000])
    return m


def _plain_sentence(message: str) -> bool:
    """One line for a person: no traceback, no exception class name."""
    return "\n" not in message and not re.search(r"[A-Z]\w*(Error|Exception|Warning)\b", message)


def test_hevc_is_sent_as_it_is_and_prores_converted(phone: dict[str, Path], tmp_path: Path) -> None:
    assert _inspect(phone["hevc_mp4"], "video").action == "copy"
    mov = _inspect(phone["hevc_mov"], "video")
    assert mov.action == "remux" and "browsers" not in mov.notes[0]  # the preview is what browsers get
    prores = _inspect(phone["prores_mov"], "video")
    assert prores.action == "transcode" and "(prores)" in prores.notes[0]
    out = media_prepare(phone["prores_mov"], prores, tmp_path)
    assert video.probe_video(out).codec == "h264"


def test_an_oversized_prores_clip_is_judged_by_its_converted_size(
    phone: dict[str, Path], samples: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Edit formats are huge by design: what counts is the MP4 that is sent."""
    small = dataclasses.replace(video.LIMITS, video_max_bytes=1024 * 1024)
    monkeypatch.setattr(video, "LIMITS", small)
    assert phone["prores_mov"].stat().st_size > small.video_max_bytes
    report = _inspect(phone["prores_mov"], "video")
    assert "under 1 MB" in report.notes[0]
    assert media_prepare(phone["prores_mov"], report, tmp_path).stat().st_size <= small.video_max_bytes
    padding = 1024 * 1024 + 8  # an MP4 `free` box: ignored by every reader, counted by the limit
    big_h264 = tmp_path / "big.mp4"
    big_h264.write_bytes(
        samples["clip_5s"].read_bytes() + padding.to_bytes(4, "big") + b"free" + bytes(padding - 8)
    )
    with pytest.raises(InputError, match="fal accepts up to 1 MB"):
        _inspect(big_h264, "video")


@pytest.mark.parametrize("name", ["hevc_mp4", "hevc_mov", "prores_mov"])
def test_preview_of_what_chromium_cannot_play_is_h264(
    phone: dict[str, Path], tmp_path: Path, name: str
) -> None:
    preview = views.preview_video(phone[name], tmp_path)
    assert preview != phone[name] and preview.parent == tmp_path and preview.suffix == ".mp4"
    info = video.probe_video(preview)
    assert (info.codec, info.container, info.pix_fmt, info.audio_codec) == ("h264", "mp4", "yuv420p", "aac")
    assert (info.width, info.height) == (640, 360) and info.duration == pytest.approx(4, abs=0.2)
    made = preview.stat().st_mtime_ns
    assert views.preview_video(phone[name], tmp_path) == preview and preview.stat().st_mtime_ns == made
    assert [p.name for p in tmp_path.iterdir()] == [preview.name]  # no temporary file left behind


def test_preview_is_at_most_720_on_the_short_side_and_upright(tmp_path: Path) -> None:
    tall = make_clip(tmp_path / "tall.webm", 3, size=(1080, 1920), audio=False)
    assert views.preview_video(tall, tmp_path / "p") == tall  # VP9 in WebM plays as it is, at any size
    hevc = hevc_clip(tmp_path / "tall.mov", 3, size=(1080, 1920), audio=False)
    info = video.probe_video(views.preview_video(hevc, tmp_path / "p"))
    assert (info.width, info.height, info.has_audio) == (720, 1280, False)
    turned = make_clip(tmp_path / "turned.mp4", 3, size=(640, 360), rotate=90, codec="mpeg4")
    info = video.probe_video(views.preview_video(turned, tmp_path / "p"))
    assert (info.width, info.height, info.rotation) == (360, 640, 0)


@pytest.mark.parametrize("name", ["clip_5s", "clip_mov", "clip_webm"])
def test_what_chromium_plays_is_previewed_as_it_is(
    samples: dict[str, Path], tmp_path: Path, name: str
) -> None:
    assert views.preview_video(samples[name], tmp_path) == samples[name]
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_side_by_side(samples: dict[str, Path], phone: dict[str, Path], tmp_path: Path) -> None:
    """480×360 reference and a 720×1280 result: both 720 high, 960 + 406 wide, as long as the result."""
    dest = tmp_path / "compare" / "side.mp4"
    out = views.side_by_side(samples["clip_5s"], phone["portrait_result"], dest)
    assert out == dest
    info = video.probe_video(out)
    assert (info.codec, info.pix_fmt, info.height) == ("h264", "yuv420p", 720)
    assert info.width == pytest.approx(960 + 406, abs=4)
    assert info.duration == pytest.approx(4, abs=0.2) and not info.has_audio  # the result is silent
    data = out.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")  # +faststart: plays while it downloads
    made = out.stat().st_mtime_ns
    assert views.side_by_side(samples["clip_5s"], phone["portrait_result"], dest).stat().st_mtime_ns == made
    # A short reference holds its last frame; the sound is the result's.
    voiced = video.probe_video(views.side_by_side(samples["clip_3s"], samples["clip_5s"], tmp_path / "b.mp4"))
    assert voiced.duration == pytest.approx(5, abs=0.2) and voiced.has_audio and voiced.audio_codec == "aac"
    assert (voiced.width, voiced.height) == (480 * 2, 360)


def test_heic_is_read_converted_and_previewed(phone: dict[str, Path], tmp_path: Path) -> None:
    report = image.inspect_image(phone["heic"])
    assert (report.info.width, report.info.height, report.info.format) == (600, 800, "HEIF")
    assert report.needs_conversion and "HEIC photo will be converted to PNG" in report.notes[0]
    out = image.prepare_image(phone["heic"], report, tmp_path / "image")
    with Image.open(out) as result:
        assert (result.format, result.size, result.mode) == ("PNG", (600, 800), "RGB")
    preview = views.preview_image(phone["heic"], tmp_path / "previews")
    with Image.open(preview) as shown:
        assert (shown.format, shown.size) == ("PNG", (600, 800))
    assert views.preview_image(phone["heic"], tmp_path / "previews") == preview


def test_preview_image(samples: dict[str, Path], phone: dict[str, Path], tmp_path: Path) -> None:
    for name in ("image_jpg", "image_png", "image_webp", "image_gif", "image_exif"):
        assert views.preview_image(samples[name], tmp_path) == samples[name]
    assert views.preview_image(phone["mpo"], tmp_path) == phone["mpo"]
    with Image.open(views.preview_image(phone["big_bmp"], tmp_path)) as shown:
        assert (shown.format, shown.size) == ("PNG", (2048, 1418))
    with Image.open(views.preview_image(samples["image_tiff"], tmp_path)) as shown:
        assert (shown.format, shown.size) == ("PNG", (600, 800))


def test_phone_jpeg_with_a_second_picture_is_a_still_jpeg(phone: dict[str, Path], tmp_path: Path) -> None:
    report = image.inspect_image(phone["mpo"])
    assert report.info.format == "JPEG" and not report.needs_conversion
    assert image.prepare_image(phone["mpo"], report, tmp_path / "image").suffix == ".jpg"


def test_heic_without_pillow_heif_says_what_to_do(
    phone: dict[str, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import shutil

    heic = Path(shutil.copy(phone["heic"], tmp_path / "fresh.heic"))  # not read before (readings are kept)
    monkeypatch.setattr(image, "HEIF_SUPPORTED", False)
    with pytest.raises(InputError) as err:
        image.inspect_image(heic)
    assert "is an iPhone HEIC photo" in err.value.message and "export it as JPG" in err.value.message
    with pytest.raises(InputError, match="iPhone HEIC photo"):
        views.preview_image(phone["heic"], Path("/nonexistent"))


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("text_png", "not an image the app can read"),
        ("empty_png", "is empty"),
        ("png_truncated", "truncated or corrupt"),
        ("bomb", "too large to open safely"),
        ("image_is_video", "is a video, not an image"),
        ("text_file", "not an image the app can read"),
        ("image_truncated", "truncated or corrupt"),
    ],
)
def test_every_bad_image_gets_one_plain_sentence(
    samples: dict[str, Path], phone: dict[str, Path], name: str, words: str
) -> None:
    path = phone.get(name) or samples[name]
    started = time.monotonic()
    with pytest.raises(InputError) as err:
        image.inspect_image(path)
    assert time.monotonic() - started < 3
    assert words in err.value.message and _plain_sentence(err.value.message)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("text_mp4", "could not be read as a video"),
        ("empty", "is empty"),
        ("video_is_image", "is an image, not a video"),
        ("heic_as_mp4", "is an image, not a video"),
        ("clip_truncated", "corrupt or truncated"),
        ("mov_truncated", "corrupt or truncated"),
        ("clip_corrupt", "corrupt or truncated"),
    ],
)
def test_every_bad_clip_gets_one_plain_sentence(
    samples: dict[str, Path], phone: dict[str, Path], name: str, words: str
) -> None:
    path = phone.get(name) or samples[name]
    started = time.monotonic()
    with pytest.raises(InputError) as err:
        video.inspect_video(path, "video")
    assert time.monotonic() - started < 3
    assert words in err.value.message and _plain_sentence(err.value.message)
    with pytest.raises(InputError):
        views.preview_video(path, Path("/nonexistent"))


def test_a_probe_is_remembered_until_the_file_changes_and_a_failure_never_is(
    samples, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The verdict, the upload ahead and the run read the same clip seconds apart: ffmpeg runs once."""
    import os
    import shutil

    clip = Path(shutil.copy(samples["clip_5s"], tmp_path / "clip.mp4"))
    runs = []
    real = video._ffmpeg_report
    monkeypatch.setattr(video, "_ffmpeg_report", lambda *a, **k: runs.append(a) or real(*a, **k))
    first = video.probe_video(clip)
    assert video.probe_video(str(clip)) == first and len(runs) == 1
    shutil.copy(samples["clip_3s"], clip)  # saved again: another size and time
    os.utime(clip, ns=(1, 1))
    assert video.probe_video(clip).duration < first.duration and len(runs) == 2
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    for _ in range(2):
        with pytest.raises(InputError):
            video.probe_video(broken)
    assert len(runs) == 4


@pytest.mark.parametrize(
    ("name", "options", "plays"),
    [
        ("h264-aac.mp4", ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac"], True),
        ("h264-mp3.mp4", ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "libmp3lame"], True),
        ("baseline.mov", ["-c:v", "libx264", "-profile:v", "baseline", "-pix_fmt", "yuv420p", "-an"], True),
        ("h444.mp4", ["-c:v", "libx264", "-pix_fmt", "yuv444p", "-an"], False),
        ("h10bit.mp4", ["-c:v", "libx264", "-pix_fmt", "yuv420p10le", "-an"], False),
        ("mpeg4.mp4", ["-c:v", "mpeg4", "-c:a", "aac"], False),
        ("ac3.mp4", ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "ac3"], False),
    ],
)
def test_a_results_header_says_it_plays_only_when_it_surely_does(
    tmp_path: Path, name: str, options: list[str], plays: bool
) -> None:
    """The header check answers for the page without ffmpeg; it never says "plays" where ffmpeg's
    probe says otherwise (unsure files go to the probe, which converts them)."""
    path = tmp_path / name
    sources = ["-f", "lavfi", "-i", "testsrc=size=320x240:rate=12:duration=1"]
    sources += ["-f", "lavfi", "-i", "sine=duration=1"]
    subprocess.run([*QUIET, *sources, *options, "-shortest", str(path)], check=True, capture_output=True)
    assert surely_plays(path) is plays
    assert video.plays_in_browser(video.probe_video(path)) is plays


def test_a_header_that_is_not_an_mp4s_is_left_to_the_probe(tmp_path: Path) -> None:
    for name, data in (("empty.mp4", b""), ("text.mp4", b"hello world, no boxes here"), ("clip.webm", b"")):
        (tmp_path / name).write_bytes(data)
        assert not surely_plays(tmp_path / name)
    cut = tmp_path / "cut.mp4"
    subprocess.run(
        [*QUIET, "-f", "lavfi", "-i", "testsrc=size=320x240:rate=12:duration=1", "-c:v", "libx264",
         "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(cut)],
        check=True, capture_output=True,
    )  # fmt: skip
    cut.write_bytes(cut.read_bytes()[:200])  # the header cut short
    assert not surely_plays(cut)


def _top_boxes(path: Path) -> list[bytes]:
    data, at, kinds = path.read_bytes(), 0, []
    while at < len(data):
        kinds.append(data[at + 4 : at + 8])
        at += int.from_bytes(data[at : at + 4], "big")
    return kinds


def _frames(path: Path) -> str:
    """Every decoded frame's and sound packet's checksum: the same media, whatever the layout."""
    cmd = [*QUIET, "-i", str(path), "-f", "framemd5", "-"]
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def _header_last(path: Path) -> Path:
    """A 2 s H.264/AAC MP4 as ffmpeg writes it by default: its header (`moov`) after its media."""
    sources = [
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=320x240:rate=12:duration=2",
        "-f",
        "lavfi",
        "-i",
        "sine=duration=2",
    ]
    subprocess.run([*QUIET, *sources, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)],
                   check=True, capture_output=True)  # fmt: skip
    assert _top_boxes(path).index(b"moov") > _top_boxes(path).index(b"mdat")
    return path


def test_a_result_with_its_header_last_is_rewritten_header_first_with_the_same_frames(tmp_path: Path) -> None:
    """The page plays a result from one request read in order; the media itself is untouched."""
    last = _header_last(tmp_path / "last.mp4")
    first = tmp_path / "first.mp4"
    assert write_moov_first(last, first)
    assert _top_boxes(first).index(b"moov") < _top_boxes(first).index(b"mdat")
    assert first.stat().st_size == last.stat().st_size
    assert _frames(first) == _frames(last)
    assert surely_plays(first)
    assert not write_moov_first(first, tmp_path / "again.mp4")  # already header first: left as it is
    assert not (tmp_path / "again.mp4").exists()


def _streamed(data: bytes, dest: Path, chunk: int, total: int | None = None) -> bool:
    """`data` through a MoovFirstWriter in `chunk`-byte pieces, as a download arrives."""
    with open(dest, "w+b") as out:
        writer = MoovFirstWriter(out, len(data) if total is None else total)
        for at in range(0, len(data), chunk):
            writer.write(data[at : at + chunk])
        return writer.finish()


def test_a_download_is_written_header_first_as_it_arrives(tmp_path: Path) -> None:
    """The media written once, where it stays: the same file, byte for byte, as rewriting it after
    the download would give, in any size of pieces; a file already header first, or of unknown
    length, is written as it came."""
    last = _header_last(tmp_path / "last.mp4")
    rewritten = tmp_path / "rewritten.mp4"
    assert write_moov_first(last, rewritten)
    data = last.read_bytes()
    for chunk in (7, 4096, 2**20):
        assert _streamed(data, tmp_path / "streamed.mp4", chunk)
        assert (tmp_path / "streamed.mp4").read_bytes() == rewritten.read_bytes()
    assert surely_plays(tmp_path / "streamed.mp4")
    for source, total in ((rewritten.read_bytes(), None), (data, 0)):
        assert not _streamed(source, tmp_path / "as-sent.mp4", 4096, total)
        assert (tmp_path / "as-sent.mp4").read_bytes() == source


def test_a_download_whose_tail_is_not_one_header_is_written_as_it_came(tmp_path: Path) -> None:
    """A box after the header (or a tail that is no header) is not the usual layout: the media is
    moved back and the tail put after it, so the file is the one fal sent."""
    data = _header_last(tmp_path / "last.mp4").read_bytes()
    for source in (
        data + b"\0\0\0\x10free" + bytes(8),
        data[: data.rfind(b"moov") - 4] + b"\0\0\0\x10junkjunkjunk",
    ):
        assert not _streamed(source, tmp_path / "out.mp4", 4096)
        assert (tmp_path / "out.mp4").read_bytes() == source


def test_a_file_it_does_not_understand_is_left_as_it_is(tmp_path: Path) -> None:
    for name, data in (("empty.mp4", b""), ("text.mp4", b"hello world, no boxes here")):
        (tmp_path / name).write_bytes(data)
        assert not write_moov_first(tmp_path / name, tmp_path / "out.mp4")
        assert not (tmp_path / "out.mp4").exists()


def test_background_ffmpeg_work_yields_the_cpu(tmp_path: Path) -> None:
    """A thumbnail is made while the page starts playing the same video: it runs at a lower priority
    (the process's own niceness, read from inside it), and a normal run does not."""
    from motion_studio.media import ffmpeg

    said = "import os; print(os.nice(0))"
    background = ffmpeg.run([sys.executable, "-c", said], timeout=30, background=True)
    normal = ffmpeg.run([sys.executable, "-c", said], timeout=30)
    assert int(background.stdout) == min(19, os.nice(0) + ffmpeg.BACKGROUND_NICENESS)
    assert int(normal.stdout) == os.nice(0)
    with pytest.raises(subprocess.TimeoutExpired):  # a hung process is still ended and reported
        ffmpeg.run([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5, background=True)


def test_a_browser_recording_cut_off_is_still_read() -> None:
    """Chromium's MediaRecorder, on a busy machine, leaves a last cluster unfinished: ffmpeg warns
    before its "Input #0" line, which made moviepy's parser read no stream (the clip "unreadable")."""
    from moviepy.video.io.ffmpeg_reader import FFmpegInfosParser

    report = (
        "[in#0/matroska,webm @ 0x5] File ended prematurely at pos. 168410 (0x291da)\n"
        "Input #0, matroska,webm, from '/tmp/sample.webm':\n"
        "  Metadata:\n    encoder         : Chrome\n"
        "  Duration: N/A, start: 0.000000, bitrate: N/A\n"
        "  Stream #0:0(eng): Video: vp8, yuv420p(progressive), 1280x720, SAR 1:1 DAR 16:9, 19.92 tbr, 1k tbn (default)\n"
        "  Stream #0:1(eng): Audio: opus, 48000 Hz, mono, fltp, start 0.013000 (default)\n"
        "Stream mapping:\n  Stream #0:0 -> #0:0 (vp8 (native) -> wrapped_avframe (native))\n"
        "Output #0, null, to 'pipe:':\n"
        "frame=   36 fps=0.0 q=-0.0 Lsize=N/A time=00:00:04.46 bitrate=N/A speed=15.5x elapsed=0:00:00.28\n"
    )
    infos = FFmpegInfosParser(video._parsable(report), "/tmp/sample.webm", decode_file=True).parse()
    assert infos["video_found"] and infos["audio_found"] and infos["video_size"] == [1280, 720]
    assert infos["duration"] == pytest.approx(4.46)
