"""What the page shows, without a browser: verdicts, costs, progress, gallery, run cards, URL inputs."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from motion_studio import presenter
from motion_studio.errors import OptionError
from motion_studio.history.runs import Run
from motion_studio.history.store import History
from motion_studio.input_reading import InputReader
from motion_studio.jobs.events import Checked, Done, Queued, Running
from motion_studio.jobs.job import Job
from motion_studio.options_parser import parse_options
from motion_studio.order import Options, Source
from motion_studio.people import Framing, PeopleReport, PeopleWarning, PoseReading, Skipped, WarningCode
from motion_studio.people_check import PeopleCheck
from motion_studio.settings import Settings

from .fal_emulator import FalEmulator
from .orders import order


def check(
    image: str | None,
    video: str | None,
    orientation: str,
    prompt: str,
    tier: str,
    settings: Settings,
    on_server_key: bool = True,
) -> presenter.InputCheck:
    """The page's live check: the studio reads the inputs, the presenter says what it found."""
    options = Options(orientation=orientation, prompt=prompt, model=tier)
    reading = InputReader(settings).read(
        Source.given(image), Source.given(video), options, on_server_key=on_server_key
    )
    return presenter.input_check(reading, options)


def test_verdicts(settings: Settings, samples) -> None:
    empty = check(None, None, "video", "", "pro", settings)
    assert not empty.ready and "Add a character image and a reference clip" in empty.verdict
    assert presenter.generate_label(None) == "Generate"
    assert empty.cost_text == "Price: $0.112/s of video (Pro)."
    ok = check(str(samples["image_jpg"]), str(samples["clip_10s"]), "image", "", "standard", settings)
    assert ok.ready and ok.verdict.startswith("✅ Ready")
    only_clip = check(None, str(samples["clip_10s"]), "image", "", "standard", settings)
    assert only_clip.verdict == "Add a character image to start, or try an example."
    assert ok.cost_text == (
        "Estimated cost: **$0.70** = 10 s billed × $0.07/s (Standard; the clip's 10.0 s, rounded up to "
        "whole seconds)."
    )
    capped = settings.model_copy(update={"max_run_cost": 1.0})
    over = check(str(samples["image_jpg"]), str(samples["clip_10s"]), "video", "", "pro", capped)
    assert not over.ready and over.verdict == (  # what would fit, and only that
        "❌ This run would cost about $1.12; this server allows at most $1.00 per run on its key. Use a "
        "clip of at most 8 s, the standard model or your own fal key."
    )
    pasted = check(
        str(samples["image_jpg"]), str(samples["clip_10s"]), "video", "", "pro", capped, on_server_key=False
    )
    assert pasted.ready  # the visitor's own key pays: no cap
    tight = settings.model_copy(update={"max_run_cost": 0.5})
    standard_over = check(str(samples["image_jpg"]), str(samples["clip_10s"]), "video", "", "standard", tight)
    assert standard_over.verdict.endswith("Use a clip of at most 7 s or your own fal key.")  # no "pro"
    under = check(str(samples["image_jpg"]), str(samples["clip_5s"]), "video", "", "pro", capped)
    assert under.ready and "per run" not in under.verdict
    long = check(str(samples["image_jpg"]), str(samples["clip_12s"]), "image", "", "pro", settings)
    assert not long.ready and "Switch to 'video'" in long.verdict and long.trim_to == 10
    assert ok.trim_to is None
    webm = check(str(samples["image_webp"]), str(samples["clip_webm"]), "video", "", "pro", settings)
    assert webm.ready and "converted to PNG" in webm.verdict and "converted to MP4" in webm.verdict
    with pytest.raises(
        OptionError, match=r"^Prompt must be text of at most 2500 characters \(got 2600 characters\)\.$"
    ):
        parse_options({"prompt": "x" * 2600}, edge="page", default_model="pro")
    assert presenter.text_counter("prompt", "x" * 2600).startswith("❌ 2600 / 2500")


def test_progress_text_and_logs() -> None:
    job = Job(order("i", "v"))
    job.started_at = time.time() - 12
    assert presenter.progress_text(job).startswith("⏳ Checking inputs")
    job.publish(Checked("r1", clip_seconds=5.0, estimated_cost=0.56))
    job.publish(Queued("r1", position=2))
    assert "position 3" in presenter.progress_text(job) and "12 s elapsed" in presenter.progress_text(job)
    job.publish(Running("r1", logs=("loading model", "step 1")))
    job.publish(Running("r1", logs=("step 2",)))
    assert presenter.log_text(job) == "loading model\nstep 1\nstep 2"
    job.publish(Done("r1", output=Path("/x/output.mp4"), took=372.4, cost=0.784))
    assert presenter.progress_text(job) == "✅ Done in 6 min 12 s · about $0.78 (estimate)."


def test_gallery_and_run_card(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3", tmp_path / "runs")
    thumb = tmp_path / "thumb.jpg"
    thumb.write_bytes(b"jpg")
    old = history.writes.create(
        Run(
            options=Options(prompt="first"),
            endpoint="e",
            thumbnail_path=str(thumb),
            clip_seconds=5,
            estimated_cost=0.56,
        )
    )
    for state in (
        "uploading",
        "submitting",
        "submitted",
        "queued",
        "queued",
        "running",
        "downloading",
        "done",
    ):
        history.writes.record(old.id, state)
    time.sleep(0.01)
    history.writes.create(
        Run(options=Options(orientation="image", prompt="no picture", model="standard"), endpoint="e")
    )
    runs = history.reads.recent()
    assert [r.options.get("prompt") for r in runs] == ["no picture", "first"]
    caption = presenter.run_caption(runs[1])
    assert (
        caption.startswith("✅ done · ")
        and "video · Kling Pro · 5 s" in caption
        and caption.endswith("\nfirst")
    )
    card = presenter.run_details(history.reads.get(old.id), history.reads.events(old.id))
    assert "Estimated cost:** $0.56" in card and "Timeline:** checking +0s, uploading" in card
    assert (
        card.count("queued") == 1 and "**Model:** Kling Pro ·" in card
    )  # a queue move once; the page's name
    assert "— done" in card
    assert presenter.history_signature(runs) != presenter.history_signature(runs[:1])
    assert presenter.runs_summary(runs) == (
        "2 runs · 1 finished · 1 in progress · ≈ $0.56 spent on the finished runs (estimate)"
    )
    assert presenter.runs_summary(runs, total=10_000) == (  # all are counted, a page is shown
        "10,000 runs · showing the newest 2 · 1 finished · 1 in progress · ≈ $0.56 spent on the finished "
        "runs shown (estimate)"
    )
    assert presenter.runs_summary([]).startswith("No runs yet")


def test_key_status_never_echoes_the_key(settings: Settings) -> None:
    assert "server's FAL_KEY" in presenter.key_status(settings, None)
    typed = presenter.key_status(settings, "abc:secret-typed")
    assert "secret-typed" not in typed and "session only" in typed
    nokey = settings.model_copy(update={"fal_key": None})
    assert "No fal API key is set" in presenter.key_status(nokey, "")


def test_url_inputs_are_downloaded_once(settings: Settings, fal: FalEmulator, samples) -> None:
    """A URL (here one on the emulated fal CDN) is fetched into the data dir, then checked like a file."""
    data = samples["clip_5s"].read_bytes()
    fal.files["/files/abc/dance.mp4"] = (data, "video/mp4")
    url = "https://v3.fal.media/files/abc/dance.mp4"
    reader = InputReader(settings)
    path = reader.pick(Source(url=url), "video")
    assert path and Path(path).read_bytes() == data and Path(path).is_relative_to(settings.data_dir)
    assert reader.pick(Source(url=url), "video") == path
    assert len(fal.calls_to("download")) == 1
    assert reader.pick(Source.given("/uploaded.mp4", url), "video") == "/uploaded.mp4"


def test_every_file_the_page_shows_is_a_link_in_the_outbox_under_a_name_nobody_can_guess(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Served as Gradio static files: no copy (a hard link on the same filesystem), no hashing of the
    bytes; the folder name is keyed by a per-process secret; links older than a day are pruned."""
    import os
    import tempfile
    import time

    from motion_studio import serving
    from motion_studio.serving import servable, servable_as

    serving.outbox.cache_clear()  # made again under this test's temp folder
    temp, bucket = tmp_path / "tmp", tmp_path / "bucket"
    temp.mkdir(), bucket.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    video = bucket / "output.mp4"
    video.write_bytes(b"video")
    link = Path(servable(video) or "")
    assert link.read_bytes() == b"video" and link.is_relative_to(temp) and link.name == "output.mp4"
    assert os.path.samefile(link, video)  # a link, not a copy
    assert servable(video) == str(link)  # once
    assert str(video) not in str(link) and len(link.parent.name) == 32
    named = Path(servable_as(video, "motion-2026-11-25-01234567.mp4") or "")
    assert named.name == "motion-2026-11-25-01234567.mp4" and named.parent != link.parent
    assert servable(None) is None and servable(bucket / "missing.mp4") is None
    old = time.time() - 2 * 86400
    os.utime(link.parent, (old, old))
    monkeypatch.setattr(serving, "_pruned_at", [0.0])
    servable(bucket / "output.mp4")  # the next link prunes what is older than a day, then links again
    assert not named.parent.exists() or named.parent.stat().st_mtime > old
    assert link.exists()  # linked again
    serving.outbox.cache_clear()


def test_a_link_made_while_its_run_is_deleted_is_withdrawn_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`withdraw` can run between a link's making and its use: the link never outlives the delete."""
    import os
    import tempfile

    from motion_studio import serving

    serving.outbox.cache_clear()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    run = tmp_path / "runs" / "r1"
    run.mkdir(parents=True)
    (run / "output.mp4").write_bytes(b"video")
    real_replace = os.replace

    def deleted_meanwhile(src: str, dst: str) -> None:
        real_replace(src, dst)
        assert serving.withdraw(run) == 1  # the delete comes now, the link just made

    monkeypatch.setattr(serving.os, "replace", deleted_meanwhile)
    link = Path(serving.servable(run / "output.mp4") or "")
    assert not link.exists() and not link.parent.exists()
    monkeypatch.setattr(serving.os, "replace", real_replace)
    kept = Path(serving.servable(run / "output.mp4") or "")  # not deleted after all: linked again
    assert kept.read_bytes() == b"video"
    serving.outbox.cache_clear()


def test_a_file_replaced_whole_with_the_same_size_and_time_is_hashed_again(tmp_path: Path) -> None:
    """`cp -p` and `rsync -t` keep size and time: the inode tells the new file from the old."""
    import os

    from motion_studio.media.memo import file_sha256

    path, other = tmp_path / "clip.mp4", tmp_path / "other.mp4"
    path.write_bytes(b"aaaa")
    other.write_bytes(b"bbbb")
    stat = path.stat()
    os.utime(other, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    first = file_sha256(path)
    os.replace(other, path)  # same size, same time, new content
    assert file_sha256(path) != first


def test_downloads_of_two_runs_on_one_day_have_different_names() -> None:
    """A run id starts with its date and time; the name takes its random tail."""
    from motion_studio.history.runs import Run
    from motion_studio.serving import download_name

    first = Run(Options(), "e", id="20261125-161700-0123456789abcdef", created_at=1_795_000_000.0)
    second = Run(Options(), "e", id="20261125-161700-fedcba9876543210", created_at=1_795_000_000.0)
    assert download_name(first).endswith("-01234567.mp4")
    assert download_name(first) != download_name(second)
    assert download_name(second, "side-by-side").endswith("-fedcba98-side-by-side.mp4")


def test_people_text_warns_says_when_skipped_and_otherwise_what_was_read() -> None:
    assert presenter.people_text(None) == ""
    one = PoseReading(1, Framing.UPPER_BODY, 0.43, 1)
    assert presenter.people_text(PeopleCheck(PeopleReport(one, None, ()))) == (
        "👤 People check: image: 1 person · upper body · 43 % of the picture · 1 face."
    )
    warning = PeopleWarning(WarningCode.PERSON_TOO_SMALL, "The person is small; crop closer.", "image")
    skipped = Skipped("clip", "The clip could not be read.")
    text = presenter.people_text(PeopleCheck(PeopleReport(one, None, (warning,), (skipped,))))
    assert text.split("\n\n") == [
        "**Before you pay:** fal may refuse, and still bill, a run like this.",
        "⚠️ The person is small; crop closer.",
        "👤 The people check was skipped for the clip: The clip could not be read.",
    ]
    both = (Skipped("image", "Not available."), Skipped("clip", "Not available."))
    gone = PeopleCheck(PeopleReport(None, None, (), both))
    assert gone.skipped == "The people check was skipped for the image and the clip: Not available."
