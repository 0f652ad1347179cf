"""Batches: several characters on one clip, or one character on several clips, as
one batch: one verdict and one spending check, runs started together, cancel-all, one grid at the end.
Against the fal emulator, through the service, the command line, the API and the page."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from motion_studio.errors import BatchError, InputError, VisitorLimitError
from motion_studio.history.schema import MIGRATIONS
from motion_studio.history.store import History
from motion_studio.jobs.events import Cancelled, Done, Running
from motion_studio.jobs.job import Job
from motion_studio.jobs.turns import Waiting
from motion_studio.media.grid_video import cell_size, grid_layout
from motion_studio.media.video import probe_video
from motion_studio.order import MAX_INPUTS, Order, Source
from motion_studio.presenter import run_caption
from motion_studio.settings import Settings, get_settings
from motion_studio.studio.service import Studio

from .fal_emulator import FalEmulator
from .old_databases import old_database
from .orders import order
from .test_api import spent
from .test_cli import cli
from .waiting import wait_for


@pytest.fixture
def studio(settings: Settings, fal: FalEmulator) -> Iterator[Studio]:
    studio = Studio(settings)
    yield studio
    studio.runner.shutdown()


def three_images(samples, clip: str = "clip_3s", **options: object) -> Order:
    """person.jpg, person.png and person.webp on one clip: a batch of 3 runs."""
    return order(
        samples["image_jpg"],
        samples[clip],
        more_images=(samples["image_png"], samples["image_webp"]),
        **options,
    )


def waited(job: Job) -> bool:
    """The job waited for its turn (its batch's runs take turns on their way to fal)."""
    return any(isinstance(event, Waiting) for event in job.events)


def reconfigured(monkeypatch: pytest.MonkeyPatch, **values: str) -> Settings:
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    return get_settings()


# -- the service, against the emulator ---------------------------------------------------------------


def test_a_batch_of_three_images_runs_end_to_end_and_ends_in_one_grid(
    studio: Studio, fal: FalEmulator, samples
) -> None:
    request = three_images(samples, model="standard")
    reading = studio.batches.read(request)
    assert reading.ready and reading.names == ("person.jpg", "person.png", "person.webp")
    assert reading.cost == pytest.approx(3 * 3 * 0.07)
    batch = studio.batches.start(request, None, None)
    finals = [job.wait(60) for job in batch.jobs]
    assert all(isinstance(final, Done) for final in finals), finals
    assert len(fal.submitted) == 3 and len({r.body["image_url"] for r in fal.submitted}) == 3
    assert len({r.body["video_url"] for r in fal.submitted}) == 1  # one clip, uploaded once
    runs = studio.history.reads.batch(batch.id)
    assert [r.id for r in runs] == list(batch.run_ids) and [r.batch_index for r in runs] == [1, 2, 3]
    assert all(r.status == "done" and Path(r.output_path or "").is_file() for r in runs)
    assert [r.id for r in studio.history.reads.recent(3)] == list(batch.run_ids)  # the gallery: 1/3, 2/3, 3/3
    assert "batch 2/3" in run_caption(runs[1])
    states = [e.state for e in studio.history.reads.events(runs[2].id)]
    assert states[0] == "checking" and states[-1] == "done" and "submitted" in states  # a whole lifecycle
    grid = studio.batches.grid_file(batch.id)
    assert grid is not None and grid.parent == studio.settings.data_dir / "batches" / batch.id
    info, output = probe_video(grid), probe_video(runs[0].output_path or "")
    width, height = cell_size(output, 3)
    assert (info.width, info.height) == (3 * width, height)  # three cells in one row
    assert info.codec == "h264" and info.duration == pytest.approx(output.duration, abs=0.3)
    made = grid.stat().st_mtime_ns
    assert studio.batches.grid_file(batch.id) == grid and grid.stat().st_mtime_ns == made  # made once
    summary = studio.batches.summary(batch.id)
    assert summary.status == "done" and summary.runs_done == 3
    assert [s.fal_request_id for s in summary.runs] == [r.request_id for r in runs]
    shown = Path(studio.batches.made_grid(batch.id) or "")
    assert shown.is_file()
    studio.runs.delete(runs[1].id, None, None)  # the grid showed its video: it goes, links and all
    assert not grid.exists() and not shown.exists()
    again = studio.batches.grid_file(batch.id)  # made again from the two results left
    assert again is not None and probe_video(again).width == 2 * cell_size(output, 2)[0]


def test_a_batch_over_the_daily_budget_is_refused_whole_with_nothing_uploaded(
    settings: Settings, fal: FalEmulator, samples, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two runs of 3 s at $0.07/s fit ($0.42); three ($0.63) do not. One run of 12 s ($0.84) passes the cap.
    caps = {"MOTION_STUDIO_DAILY_BUDGET": "0.5", "MOTION_STUDIO_MAX_RUN_COST": "0.5"}
    studio = Studio(reconfigured(monkeypatch, **caps))
    try:
        clips = order(
            samples["image_jpg"],
            samples["clip_3s"],
            model="standard",
            more_videos=(samples["clip_12s"],),
        )
        cap, budget = studio.batches.read(clips).problems  # the batch's ($1.05) passes the budget too
        assert cap.startswith("clip_12s.mp4: This run would cost about $0.84; this server allows")
        assert "this batch of 2 runs about $1.05" in budget
        with pytest.raises(InputError, match=r"clip_12s\.mp4: This run would cost"):
            studio.batches.start(clips, None, None)
        request = three_images(samples, model="standard")
        reading = studio.batches.read(request)
        assert not reading.ready
        assert reading.problems[0].startswith("This server's daily budget of $0.50")
        assert "this batch of 3 runs about $0.63" in reading.problems[0]
        with pytest.raises(InputError, match="this batch of 3 runs about"):
            studio.batches.start(request, None, None)
        assert studio.history.reads.recent() == [] and spent(fal) == [] and fal.submitted == []
    finally:
        studio.runner.shutdown()


def test_the_reservation_refuses_a_batch_whole_past_a_visitors_limit(
    settings: Settings, fal: FalEmulator, samples, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The verdict can't know another tab's runs: the one transaction that reserves them says no."""
    studio = Studio(reconfigured(monkeypatch, MOTION_STUDIO_VISITOR_ACTIVE_RUNS="2"))
    try:
        with pytest.raises(VisitorLimitError, match="This batch has 3 runs and you have 0 going"):
            studio.batches.start(three_images(samples), None, "a" * 32)
        assert studio.history.reads.recent() == [] and spent(fal) == []
    finally:
        studio.runner.shutdown()


def test_cancel_all_reaches_fal_for_every_run(studio: Studio, fal: FalEmulator, samples) -> None:
    fal.hold = True
    owner = "b" * 32
    batch = studio.batches.start(three_images(samples), None, owner)
    for job in batch.jobs:
        wait_for(lambda job=job: any(isinstance(e, Running) for e in job.events), what="all running")
    assert studio.batches.cancel_all(batch.id, "c" * 32) == 0  # another browser cancels nothing
    assert studio.batches.cancel_all(batch.id, owner) == 3
    assert all(isinstance(job.wait(15), Cancelled) for job in batch.jobs)
    assert len(fal.submitted) == 3 and all(request.cancel_calls == 1 for request in fal.submitted)
    assert [r.status for r in studio.history.reads.batch(batch.id)] == ["cancelled"] * 3
    assert studio.batches.grid_file(batch.id) is None  # nothing to put side by side


def test_runs_wait_their_turn_before_submit(
    settings: Settings, fal: FalEmulator, samples, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With MOTION_STUDIO_BATCH_PARALLEL=1, a run starts uploading only once the one before has been
    submitted; the others wait, and say so. Cancelling a run that waits never reaches fal."""
    studio = Studio(reconfigured(monkeypatch, MOTION_STUDIO_BATCH_PARALLEL="1"))
    try:
        fal.delays["submit"] = 0.3
        batch = studio.batches.start(three_images(samples), None, None)
        assert all(isinstance(job.wait(60), Done) for job in batch.jobs)
        runs = studio.history.reads.batch(batch.id)
        times = [{e.state: e.at for e in studio.history.reads.events(run.id)} for run in runs]
        order = sorted(times, key=lambda t: t["submitted"])
        for before, after in itertools.pairwise(order):
            assert after["uploading"] >= before["submitted"]
        assert sum(map(waited, batch.jobs)) == 2
        fal.reset()
        fal.delays["submit"] = 1.5  # the first run's submit takes its time: the others wait meanwhile
        batch = studio.batches.start(three_images(samples, prompt="again"), None, None)
        wait_for(lambda: sum(map(waited, batch.jobs)) == 2, what="two runs waiting")
        waiting = [job for job in batch.jobs if waited(job)]
        for job in waiting:
            studio.runner.cancel(job.id)
        assert all(isinstance(job.wait(15), Cancelled) for job in waiting)
        [first] = [job for job in batch.jobs if job not in waiting]
        assert isinstance(first.wait(30), Done)
        assert len(fal.submitted) == 1  # the cancelled ones never reached fal
        statuses = {run.id: run.status for run in studio.history.reads.batch(batch.id)}
        assert sorted(statuses.values()) == ["cancelled", "cancelled", "done"]
    finally:
        studio.runner.shutdown()


def test_inputs_of_runs_waiting_their_turn_survive_the_scratch_quota(
    settings: Settings, fal: FalEmulator, samples, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch's images fetched by URL sit in the scratch folder until each run's turn comes: a fetch
    by another visitor meanwhile, past the quota, prunes other files but never theirs."""
    studio = Studio(
        reconfigured(monkeypatch, MOTION_STUDIO_BATCH_PARALLEL="1", MOTION_STUDIO_SCRATCH_MB="10")
    )
    try:
        for name in ("image_jpg", "image_png", "image_webp"):
            fal.files[f"/files/batch/{samples[name].name}"] = (samples[name].read_bytes(), "image/png")
        fal.files["/files/other/big.mp4"] = (b"\0" * (11 * 2**20), "video/mp4")  # past the quota alone
        url = "https://v3.fal.media/files/batch/"
        more = tuple(url + samples[name].name for name in ("image_png", "image_webp"))
        fal.delays["submit"] = 1.0  # the first run's submit takes its time: the others wait meanwhile
        wanted = order(None, samples["clip_3s"], image_url=url + samples["image_jpg"].name, more_images=more)
        batch = studio.batches.start(wanted, None, None)
        wait_for(lambda: sum(map(waited, batch.jobs)) == 2, what="two runs waiting")
        studio.reader.pick(Source(url="https://v3.fal.media/files/other/big.mp4"), "video")  # prunes now
        assert all(isinstance(job.wait(60), Done) for job in batch.jobs)
        assert len(fal.submitted) == 3 and len({r.body["image_url"] for r in fal.submitted}) == 3
    finally:
        studio.runner.shutdown()


def test_the_verdict_names_each_input_and_the_shape_is_checked_first(
    studio: Studio, fal: FalEmulator, samples
) -> None:
    image, clip = samples["image_jpg"], samples["clip_3s"]
    bad = order(image, clip, more_images=(samples["image_small"], samples["text_file"]))
    reading = studio.batches.read(bad)
    assert not reading.ready and len(reading.problems) == 2
    assert reading.problems[0].startswith("small.png: The image is 200×300")
    assert reading.problems[1].startswith("notes.jpg is not an image")  # it names the file already
    clips = order(image, clip, more_videos=(samples["clip_12s"],))
    found = studio.batches.read(clips)
    assert found.ready and found.varies == "video" and found.names == ("clip_3s.mp4", "clip_12s.mp4")
    too_long = order(image, clip, orientation="image", more_videos=(samples["clip_12s"],))
    [problem] = studio.batches.read(too_long).problems
    assert problem.startswith("clip_12s.mp4: The clip is 12.0 s; with orientation 'image'")
    with pytest.raises(BatchError) as both:  # the order can't be made: nothing is read or fetched
        order(image, clip, more_images=(samples["image_png"],), more_videos=(samples["clip_5s"],))
    assert both.value.message == (
        "A batch varies either the character image or the reference clip, not both: keep only the "
        "extra images or only the extra clips."
    )
    with pytest.raises(BatchError) as many:
        order(image, clip, more_images=(samples["image_png"],) * MAX_INPUTS)
    assert many.value.message == "A batch takes at most 8 character images in all; 9 were given. Remove 1."
    assert fal.calls == []


def test_the_grid_layouts_and_the_batch_columns_of_an_old_database(tmp_path: Path) -> None:
    assert [grid_layout(n) for n in range(2, 9)] == [(1, 2), (1, 3), (2, 2), (2, 3), (2, 3), (2, 4), (2, 4)]
    history = History(old_database(tmp_path, 4), tmp_path / "runs")
    assert history.db.schema_version == len(MIGRATIONS) == 9
    old = history.reads.get("old-run")
    assert old is not None and old.batch_id is None and "batch" not in run_caption(old)


# -- the command line and the API ---------------------------------------------------------------------


def test_the_command_line_runs_a_batch_and_prints_json(fal: FalEmulator, data_dir: Path, samples) -> None:
    clip = str(samples["clip_3s"])
    images = ["--image", str(samples["image_jpg"]), "--image", str(samples["image_png"])]
    result = cli(fal, data_dir, "generate", *images, "--video", clip, "--orientation", "video", "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["status"] == "done" and found["runs_done"] == found["runs_total"] == 2
    assert {run["fal_request_id"] for run in found["runs"]} == {r.id for r in fal.submitted}
    assert all(Path(run["output_path"]).is_file() for run in found["runs"])
    assert found["estimated_cost"] == pytest.approx(2 * 3 * 0.112)
    grid = probe_video(found["grid_path"])
    width, height = cell_size(probe_video(found["runs"][0]["output_path"]), 2)
    assert (grid.width, grid.height) == (2 * width, height)
    assert "run 2/2 (person.png)" in result.stderr  # progress, a line per run as it moves on

    fal.reset()
    single = cli(fal, data_dir, "generate", *images[:2], "--video", clip, "--orientation", "video", "--json")
    assert single.returncode == 0, single.stderr
    run = json.loads(single.stdout)
    assert run["status"] == "done" and Path(run["output_path"]).is_file()
    assert run["fal_request_id"] == fal.submitted[0].id

    fal.reset()
    fal.fail(
        "result", 422, {"detail": [{"loc": ["body", "image_url"], "msg": "No person", "type": "value_error"}]}
    )
    clips = ["--video", clip, "--video", str(samples["clip_5s"])]
    failed = cli(fal, data_dir, "generate", *images[:2], *clips, "--orientation", "video", "--json")
    assert failed.returncode == 1  # any run failed: not zero
    found = json.loads(failed.stdout)
    assert found["status"] == "failed" and found["grid_path"] is None
    assert [run["error"] for run in found["runs"]] == ["fal rejected the image_url: No person."] * 2

    refused = cli(fal, data_dir, "generate", *images, *clips, "--orientation", "video")
    assert refused.returncode == 1 and "not both" in refused.stderr


def test_the_api_checks_and_generates_a_batch_by_name(
    app: str, fal: FalEmulator, samples, tmp_path: Path
) -> None:
    from gradio_client import Client, handle_file

    client = Client(app, download_files=str(tmp_path))
    inputs = {
        "image": handle_file(str(samples["image_jpg"])),
        "video": handle_file(str(samples["clip_3s"])),
        "more_images": [handle_file(str(samples["image_png"]))],
        "model": "standard",
    }
    found = client.predict(**inputs, api_name="/check")
    assert found["ready"] is True and found["verdict"].startswith("Ready: a batch of 2 runs")
    assert found["varies"] == "image" and found["inputs"] == ["person.jpg", "person.png"]
    assert found["estimate"]["runs"] == 2 and found["estimate"]["estimated_cost"] == pytest.approx(0.42)
    assert [run["image"]["width"] for run in found["runs"]] == [600, 600]
    assert fal.calls == []  # a check spends nothing

    video, summary = client.predict(**inputs, prompt="a dancer", api_name="/generate")
    assert summary["status"] == "done" and summary["runs_done"] == 2 and len(fal.submitted) == 2
    assert {run["fal_request_id"] for run in summary["runs"]} == {r.id for r in fal.submitted}
    assert Path(video).name.endswith("-grid.mp4")
    grid, cell = probe_video(video), probe_video(samples["clip_3s"])
    assert grid.width == 2 * cell_size(cell, 2)[0]

    too_many = {**inputs, "more_images": [handle_file(str(samples["image_png"]))] * MAX_INPUTS}
    with pytest.raises(Exception, match="A batch takes at most 8 character images in all; 9 were given"):
        client.predict(**too_many, api_name="/generate")
    assert len(fal.submitted) == 2


# -- the page -----------------------------------------------------------------------------------------


@pytest.mark.browser
def test_the_page_makes_a_batch_cancels_it_all_and_plays_its_grid(
    app: str, page, fal: FalEmulator, samples
) -> None:
    from playwright.sync_api import expect

    from .browser import pick, video_duration

    page.goto(app)
    pick(page, samples["image_jpg"], samples["clip_3s"])
    expect(page.locator("#generate")).to_be_enabled()
    page.locator("#batch-panel").get_by_text("Batch: several characters").click()  # closed: open it
    files = page.locator("#batch-files input[type=file]")
    files.set_input_files([str(samples["image_small"]), str(samples["image_png"])])
    expect(page.locator("#verdict")).to_contain_text("small.png: The image is 200×300")
    expect(page.locator("#generate")).to_be_disabled()
    page.locator("#batch-files").get_by_role("button", name="Clear").click()
    files.set_input_files([str(samples["image_png"]), str(samples["image_webp"])])
    expect(page.locator("#verdict")).to_contain_text("Ready: a batch of 3 runs")
    expect(page.locator("#cost")).to_contain_text("3 runs × $0.34")
    expect(page.locator("#generate")).to_have_text("Generate 3 runs · ≈ $1.01")

    fal.hold = True  # the first batch is cancelled on fal, every run of it, from a reloaded page
    page.locator("#generate").click()
    expect(page.locator("#progress")).to_contain_text("0 of 3 done")
    wait_for(lambda: len(fal.submitted) == 3 and all(r.status_polls for r in fal.submitted), what="3 on fal")
    page.reload()  # the page re-attaches to the batch: its progress and Cancel all come back
    expect(page.locator("#progress")).to_contain_text("0 of 3 done")
    page.locator("#cancel-all").click()
    expect(page.locator("#progress")).to_contain_text("0 of 3 done (3 did not finish)")
    assert [request.cancel_calls for request in fal.submitted] == [1, 1, 1]
    expect(page.locator("#cancel-all")).to_be_hidden()

    fal.hold = False
    pick(page, samples["image_jpg"], samples["clip_3s"])
    page.locator("#batch-panel").get_by_text("Batch: several characters").click()
    files.set_input_files([str(samples["image_png"]), str(samples["image_webp"])])
    expect(page.locator("#generate")).to_have_text("Generate 3 runs · ≈ $1.01")
    page.locator("#generate").click()
    expect(page.locator("#progress")).to_contain_text("3 of 3 done.", timeout=60_000)
    expect(page.locator("#grid-video video")).to_be_visible()  # the Grid tab is opened for it
    assert video_duration(page, "grid-video") > 2
    size = page.evaluate(
        "() => { const v = document.querySelector('#grid-video video'); return [v.videoWidth, v.videoHeight]; }"
    )
    width, height = cell_size(probe_video(samples["clip_3s"]), 3)
    assert size == [3 * width, height]
    expect(page.locator("#gallery")).to_contain_text("batch 3/3")
    assert len(fal.submitted) == 6
