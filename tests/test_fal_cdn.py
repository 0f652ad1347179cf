"""Inputs already on fal's CDN (fal's own sample URLs) go to fal as they are, after the same checks.

The emulator serves fal's two published sample URLs with stand-in media and counts their GETs, so a
test sees that each was fetched once (for the check) and never uploaded back to fal.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from PIL import Image
from pydantic import SecretStr

from motion_studio import fetching
from motion_studio.errors import StudioError
from motion_studio.history.store import History
from motion_studio.jobs.events import Done, Uploading
from motion_studio.jobs.runner import JobRunner
from motion_studio.media.video import probe_video
from motion_studio.order import Order
from motion_studio.settings import Settings, get_settings

from .fal_emulator import SAMPLE_IMAGE_URL, SAMPLE_URLS, SAMPLE_VIDEO_URL, VALID_KEY, FalEmulator
from .orders import order
from .test_cli import cli

KEY = SecretStr(VALID_KEY)
NOT_AGAIN = "already on fal's CDN, not uploaded again"
FAL = ("fal.media",)


@pytest.mark.parametrize(
    ("url", "hosts", "expected"),
    [
        (SAMPLE_IMAGE_URL, FAL, True),
        (SAMPLE_VIDEO_URL, FAL, True),
        ("https://v3b.fal.media/files/x.png", FAL, True),
        ("https://fal.media/files/x.png", FAL, True),
        ("https://V3B.Fal.Media/files/x.png", FAL, True),
        ("https://v3b.fal.media:443/files/x.png", FAL, True),
        ("http://v3b.fal.media/files/x.png", FAL, False),
        ("https://evil.fal.media.example.com/x.png", FAL, False),
        ("https://fal.media.evil.com/x.png", FAL, False),
        ("https://evilfal.media/x.png", FAL, False),
        ("https://user@v3b.fal.media/x.png", FAL, False),
        ("https://user:pw@v3b.fal.media/x.png", FAL, False),
        ("https://v3b.fal.media:8443/x.png", FAL, False),
        ("https://v3b.fal.media:notaport/x.png", FAL, False),
        ("https://v3b.fal.media./x.png", FAL, False),
        ("https://v3b.fal.media\\@evil.com/x.png", FAL, False),
        (" https://v3b.fal.media/x.png", FAL, False),
        ("ftp://v3b.fal.media/x.png", FAL, False),
        ("/files/x.png", FAL, False),
        ("", FAL, False),
        ("https://v3b.fal.media/x.png", (), False),
        ("https://cdn.example.org/x.png", ("cdn.example.org",), True),
        ("https://v3b.fal.media/x.png", ("v3.fal.media",), False),
    ],
)
def test_on_fal_cdn(url: str, hosts: tuple[str, ...], expected: bool) -> None:
    assert fetching.on_fal_cdn(url, hosts) is expected


def test_the_hosts_setting(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings.fal_cdn_hosts == ("fal.media",)
    monkeypatch.setenv("MOTION_STUDIO_FAL_CDN_HOSTS", " fal.media, .CDN.example.org ,")
    assert Settings().fal_cdn_hosts == ("fal.media", "cdn.example.org")
    monkeypatch.setenv("MOTION_STUDIO_FAL_CDN_HOSTS", "none")
    assert Settings().fal_cdn_hosts == ()
    monkeypatch.setenv("MOTION_STUDIO_FAL_CDN_HOSTS", "*.fal.media")
    get_settings.cache_clear()
    with pytest.raises(StudioError, match="MOTION_STUDIO_FAL_CDN_HOSTS"):
        get_settings()


def test_the_emulator_serves_fals_samples(fal: FalEmulator, tmp_path: Path) -> None:
    image = fetching.fetch_url(SAMPLE_IMAGE_URL, "image", tmp_path)
    video = fetching.fetch_url(SAMPLE_VIDEO_URL, "video", tmp_path)
    with Image.open(image) as picture:
        assert picture.format == "PNG" and min(picture.size) >= 300
    info = probe_video(video)
    assert info.codec == "h264" and 3 <= info.duration <= 10
    assert fal.sample_gets() == {SAMPLE_IMAGE_URL: 1, SAMPLE_VIDEO_URL: 1}
    with httpx.Client(timeout=10) as client:  # fal checks input URLs on its CDN: unknown ones are refused
        answer = client.post(
            "https://queue.fal.run/fal-ai/kling-video/v2.6/pro/motion-control",
            json={
                "image_url": SAMPLE_IMAGE_URL,
                "video_url": "https://v3b.fal.media/files/b/nothing-here.mp4",
                "character_orientation": "video",
            },
            headers={"Authorization": f"Key {VALID_KEY}"},
        )
    assert answer.status_code == 422
    assert [d["loc"] for d in answer.json()["detail"]] == [["body", "video_url"]]


def start(settings: Settings, history: History, spec: Order) -> tuple[Done, str]:
    runner = JobRunner(settings, history)
    try:
        job = runner.start(spec, KEY)
        final = job.wait(30)
        assert isinstance(final, Done), final
        assert job.run_id
        return final, job.run_id
    finally:
        runner.shutdown()


def fetched(url: str, kind: str, settings: Settings) -> str:
    """As the page and the command line do it: the URL downloaded into the data directory."""
    return str(fetching.fetch_url(url, kind, settings.data_dir / "downloads"))


def samples_spec(settings: Settings) -> Order:
    return order(
        fetched(SAMPLE_IMAGE_URL, "image", settings),
        fetched(SAMPLE_VIDEO_URL, "video", settings),
        prompt="An african american woman dancing",
        image_url=SAMPLE_IMAGE_URL,
        video_url=SAMPLE_VIDEO_URL,
    )


def test_fals_samples_are_checked_here_and_passed_as_they_are(
    settings: Settings, history: History, fal: FalEmulator
) -> None:
    final, run_id = start(settings, history, samples_spec(settings))
    assert fal.calls_to("upload") == [] and fal.calls_to("token") == [] and fal.calls_to("initiate") == []
    [request] = fal.submitted
    assert request.body["image_url"] == SAMPLE_IMAGE_URL and request.body["video_url"] == SAMPLE_VIDEO_URL
    assert fal.sample_gets() == dict.fromkeys(SAMPLE_URLS, 1)  # once each, for the check
    run = history.reads.get(run_id)
    assert run is not None
    assert (run.image_url, run.video_url) == (SAMPLE_IMAGE_URL, SAMPLE_VIDEO_URL)
    assert Path(run.image_path).read_bytes() == fal.samples[SAMPLE_IMAGE_URL][0]  # the copy that was checked
    assert probe_video(final.output).duration == pytest.approx(5, abs=0.3)
    [uploading] = [e for e in history.reads.events(run_id) if e.state == "uploading"]
    assert uploading.detail == f"image and video {NOT_AGAIN}"


def test_a_fal_url_whose_file_is_converted_is_uploaded(
    settings: Settings, history: History, fal: FalEmulator, samples
) -> None:
    """The check made a new file of the image (WebP → PNG): fal must get that one, so it is uploaded;
    the clip, left as it was, still goes by its URL."""
    fal.files["/files/abc/person.webp"] = (samples["image_webp"].read_bytes(), "image/webp")
    webp_url = "https://v3.fal.media/files/abc/person.webp"
    spec = order(
        fetched(webp_url, "image", settings),
        fetched(SAMPLE_VIDEO_URL, "video", settings),
        image_url=webp_url,
        video_url=SAMPLE_VIDEO_URL,
    )
    runner = JobRunner(settings, history)
    try:
        job = runner.start(spec, KEY)
        assert isinstance(job.wait(30), Done)
    finally:
        runner.shutdown()
    assert len(fal.calls_to("upload")) == 1
    [request] = fal.submitted
    assert request.body["video_url"] == SAMPLE_VIDEO_URL
    assert request.body["image_url"] not in (webp_url, SAMPLE_IMAGE_URL)
    assert request.body["image_url"].endswith(".png")
    [uploading] = [e for e in job.events if isinstance(e, Uploading)]
    assert uploading.reused == ("video",)
    assert uploading.describe() == f"Uploading the image to fal (the clip is {NOT_AGAIN})…"


def test_urls_not_on_fals_cdn_are_uploaded_as_before(
    settings: Settings, history: History, fal: FalEmulator, samples
) -> None:
    spec = order(
        samples["image_jpg"],
        samples["clip_5s"],
        image_url="https://example.com/person.jpg",
        video_url="https://fal.media.example.com/dance.mp4",
    )
    _, run_id = start(settings, history, spec)
    assert len(fal.calls_to("upload")) == 2
    [request] = fal.submitted
    assert request.body["image_url"].startswith("https://v3.fal.media/files/")
    assert request.body["video_url"].startswith("https://v3.fal.media/files/")
    run = history.reads.get(run_id)
    assert run is not None and run.image_url == request.body["image_url"]
    assert all(NOT_AGAIN not in e.detail for e in history.reads.events(run_id))


def test_with_the_setting_off_fals_samples_are_uploaded(
    settings: Settings, history: History, fal: FalEmulator
) -> None:
    off = settings.model_copy(update={"fal_cdn_hosts": ()})
    start(off, history, samples_spec(off))
    assert len(fal.calls_to("upload")) == 2
    [request] = fal.submitted
    assert request.body["image_url"] != SAMPLE_IMAGE_URL and request.body["video_url"] != SAMPLE_VIDEO_URL


def test_cli_takes_urls_and_passes_fals_samples_as_they_are(fal: FalEmulator, data_dir: Path) -> None:
    result = cli(fal, data_dir, "generate", "--image", SAMPLE_IMAGE_URL, "--video", SAMPLE_VIDEO_URL,
                 "--orientation", "video", "--prompt", "An african american woman dancing")  # fmt: skip
    assert result.returncode == 0, result.stderr
    output = Path(result.stdout.strip().splitlines()[-1])
    assert output.is_file() and probe_video(output).codec == "h264"
    assert fal.calls_to("upload") == [] and fal.calls_to("token") == []
    assert fal.sample_gets() == dict.fromkeys(SAMPLE_URLS, 1)
    [request] = fal.submitted
    assert (request.body["image_url"], request.body["video_url"]) == (SAMPLE_IMAGE_URL, SAMPLE_VIDEO_URL)
    assert NOT_AGAIN in result.stderr
    [run] = History(data_dir / "history.sqlite3", data_dir / "runs").reads.recent()
    assert (run.image_url, run.video_url) == (SAMPLE_IMAGE_URL, SAMPLE_VIDEO_URL)
    assert Path(run.source_image).is_relative_to(data_dir / "downloads")


def test_cli_mixes_a_url_and_a_file_and_reports_a_url_it_cannot_fetch(
    fal: FalEmulator, data_dir: Path, samples
) -> None:
    result = cli(fal, data_dir, "generate", "--image", str(samples["image_jpg"]), "--video",
                 SAMPLE_VIDEO_URL, "--orientation", "video")  # fmt: skip
    assert result.returncode == 0, result.stderr
    [request] = fal.submitted
    assert request.body["video_url"] == SAMPLE_VIDEO_URL
    assert request.body["image_url"].startswith("https://v3.fal.media/files/")
    assert len(fal.calls_to("upload")) == 1
    missing = cli(fal, data_dir, "generate", "--image", "https://v3b.fal.media/files/b/missing.png",
                  "--video", SAMPLE_VIDEO_URL, "--orientation", "video")  # fmt: skip
    assert missing.returncode == 1 and "Could not download the image" in missing.stderr
    assert len(fal.submitted) == 1  # nothing more reached fal's queue


# -- what fal keeps, and for how long ------------------------------------------------------------

DAY = 86400


def test_every_upload_and_every_submit_tells_fal_when_to_expire(
    settings: Settings, history: History, fal: FalEmulator, samples
) -> None:
    """Inputs expire after a day, outputs after seven (the defaults), and fal keeps its request
    history copy unless told otherwise; the files fal deletes are gone from its CDN."""
    start(settings, history, order(samples["image_jpg"], samples["clip_5s"]))
    uploads = fal.uploads()
    assert len(uploads) == 2 and [call.expiry_seconds() for call in uploads] == [DAY, DAY]
    [submit] = fal.calls_to("submit")
    assert submit.expiry_seconds() == 7 * DAY and "x-fal-store-io" not in submit.headers
    [request] = fal.submitted
    assert request.output_expiry == 7 * DAY and request.store_io
    fal.expire(request.body["image_url"])
    assert fal.known_file(request.body["image_url"]) is None  # fal's CDN no longer serves it


def test_the_privacy_settings_reach_fal(
    settings: Settings, history: History, fal: FalEmulator, samples
) -> None:
    private = settings.model_copy(
        update={"fal_input_expiry_hours": 2, "fal_output_expiry_days": 1, "fal_store_io": False}
    )
    start(private, history, order(samples["image_png"], samples["clip_3s"]))
    assert [call.expiry_seconds() for call in fal.uploads()] == [2 * 3600, 2 * 3600]
    [submit] = fal.calls_to("submit")
    assert submit.expiry_seconds() == DAY and submit.headers["x-fal-store-io"] == "0"
    assert not fal.submitted[0].store_io


def test_fals_samples_passed_as_they_are_get_no_expiry(
    settings: Settings, history: History, fal: FalEmulator
) -> None:
    """Nothing of ours was uploaded: fal's own files are left alone, only the output expires."""
    start(settings, history, samples_spec(settings))
    assert fal.uploads() == [] and fal.expiries.keys() == {f"/files/output/{fal.submitted[0].id}/output.mp4"}


def test_multipart_and_fallback_uploads_carry_the_expiry(
    history: History, fal: FalEmulator, samples, tmp_path: Path
) -> None:
    import asyncio
    import os

    from motion_studio.fal_lifetimes import Lifetimes
    from motion_studio.fal_service import FalService

    big = tmp_path / "big.mp4"
    big.write_bytes(os.urandom(6 * 2**20))

    async def upload(path: Path) -> str:
        service = FalService(
            KEY, history, upload_part_mb=5, upload_cache_seconds=0, lifetimes=Lifetimes(3600)
        )
        try:
            return await service.upload(path)
        finally:
            await service.aclose()

    big_url = asyncio.run(upload(big))
    [create] = fal.calls_to("multipart_create")
    assert create.expiry_seconds() == 3600 and big_url.removeprefix("https://v3.fal.media") in fal.expiries
    fal.fail("upload", 503)  # fal's CDN refuses: fal_client's fallback storage takes it, with the expiry
    small_url = asyncio.run(upload(samples["image_png"]))
    [initiate] = fal.calls_to("initiate")
    assert initiate.headers["x-fal-object-lifecycle-preference"] == '{"expiration_duration_seconds": 3600}'
    assert small_url.removeprefix("https://v3.fal.media") in fal.expiries


def test_a_cached_upload_past_its_expiry_is_sent_again(
    settings: Settings, history: History, fal: FalEmulator, samples
) -> None:
    """The same files again reuse fal's URLs; once those expire (or would before fal reads them), the
    files are uploaded anew, and fal never gets a dead URL."""
    spec = order(samples["image_jpg"], samples["clip_5s"])
    start(settings, history, spec)
    start(settings, history, spec)
    assert len(fal.uploads()) == 2  # the second run reused both
    first = fal.submitted[0].body
    assert fal.submitted[1].body["image_url"] == first["image_url"]
    with history.db.connect() as conn:  # as time would: both expire now, and fal deletes them
        conn.execute("UPDATE uploads SET expires_at = ?", (time.time() - 1,))
    fal.expire(first["image_url"])
    fal.expire(first["video_url"])
    start(settings, history, spec)
    assert len(fal.uploads()) == 4
    third = fal.submitted[2].body
    assert third["image_url"] != first["image_url"] and third["video_url"] != first["video_url"]
    soon = settings.model_copy(update={"fal_input_expiry_hours": 0.25})  # 15 min < the request timeout
    with history.db.connect() as conn:
        conn.execute("UPDATE uploads SET expires_at = ?", (time.time() - 1,))
    start(soon, history, spec)
    start(soon, history, spec)
    assert len(fal.uploads()) == 8  # each lives too short to be handed to fal again
