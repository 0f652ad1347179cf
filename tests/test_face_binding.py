"""Kling v3 with face binding: the catalogue, fal's `elements`, a run with a face
against the emulator (which validates the v3 schema), refusals before anything is sent, the history
that restores a face, the command line, the API, and the page's "Keep the face consistent" panel."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from motion_studio import catalog
from motion_studio.catalog import TIERS, Face
from motion_studio.errors import FaceElementError, InputError
from motion_studio.history.schema import MIGRATIONS
from motion_studio.history.store import History
from motion_studio.jobs.events import Done
from motion_studio.jobs.runner import JobRunner
from motion_studio.order import Options
from motion_studio.settings import Settings
from motion_studio.studio.service import Studio

from .fal_emulator import VALID_KEY, FalEmulator, _validate
from .media_factory import make_image
from .old_databases import old_database
from .orders import face as face_of
from .orders import order

KEY = SecretStr(VALID_KEY)
# Every route on which fal's storage or queue is asked for something.
SPENDING = ["token", "initiate", "upload", "multipart_create", "put_upload", "submit"]


def spent(fal: FalEmulator) -> list[str]:
    return [route for route in SPENDING for _ in fal.calls_to(route)]


@pytest.fixture(scope="module")
def faces(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A frontal photo and three angles (different bytes, so each is its own upload), and a bad one."""
    folder = tmp_path_factory.mktemp("faces")
    found = {
        "frontal": make_image(folder / "frontal.jpg", (512, 512)),
        **{f"angle{i}": make_image(folder / f"angle{i}.png", (400 + 20 * i, 480)) for i in (1, 2, 3, 4)},
        "tiny": make_image(folder / "tiny.png", (200, 200)),
    }
    return found


# -- the catalogue ----------------------------------------------------------------------------------


def test_v3_models_are_in_the_catalogue_with_prices_that_are_settings(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    monkeypatch.delenv("MOTION_STUDIO_V3_PRO_PRICE", raising=False)
    monkeypatch.delenv("MOTION_STUDIO_V3_STANDARD_PRICE", raising=False)
    Settings().apply_prices()
    pro, standard = catalog.tier("v3-pro"), catalog.tier("v3-standard")
    assert pro.endpoint == "fal-ai/kling-video/v3/pro/motion-control"
    assert standard.endpoint == "fal-ai/kling-video/v3/standard/motion-control"
    # The public figures disagree: the higher one is the default, so estimates err on the safe side.
    assert pro.price_per_second == 0.168 and standard.price_per_second == 0.126
    assert pro.estimate_cost(4.2) == pytest.approx(5 * 0.168)
    assert pro.label == "v3 Pro · 1080p · $0.168/s · face binding"
    assert catalog.tier("pro").label == "Pro · 1080p · $0.112/s"  # v2.6 as it was
    assert catalog.FACE_TIERS == ("v3-pro", "v3-standard")
    assert not catalog.tier("pro").face_binding and not catalog.tier("standard").face_binding
    try:
        monkeypatch.setenv("MOTION_STUDIO_V3_PRO_PRICE", "0.126")
        Settings().apply_prices()
        assert catalog.tier("v3-pro").estimate_cost(5) == pytest.approx(0.63)
        assert "$0.126/s" in catalog.tier("v3-pro").label
        monkeypatch.setenv("MOTION_STUDIO_V3_STANDARD_PRICE", "0")
        with pytest.raises(ValueError, match="greater than 0"):
            Settings().apply_prices()
    finally:
        monkeypatch.delenv("MOTION_STUDIO_V3_PRO_PRICE")
        monkeypatch.delenv("MOTION_STUDIO_V3_STANDARD_PRICE")
        Settings().apply_prices()
    assert catalog.tier("v3-pro").price_per_second == 0.168


def test_request_arguments_carry_one_element_only_for_a_v3_face() -> None:
    face = Face("https://f/front.jpg", ("https://f/a1.png", "https://f/a2.png"))
    body = Options(prompt="a dancer", model="v3-pro").fal_arguments("https://i", "https://v", face)
    assert body == {
        "image_url": "https://i",
        "video_url": "https://v",
        "character_orientation": "video",
        "keep_original_sound": True,
        "prompt": "a dancer @Element1",  # the prompt names the face
        "elements": [
            {
                "frontal_image_url": "https://f/front.jpg",
                "reference_image_urls": ["https://f/a1.png", "https://f/a2.png"],
            }
        ],
    }
    named = Options(prompt="@Element1 dances", model="v3-pro").fal_arguments("i", "v", face)
    assert named["prompt"] == "@Element1 dances"
    only_angles = Options(keep_sound=False, model="v3-standard").fal_arguments("i", "v", Face(None, ("a",)))
    assert (
        only_angles["elements"] == [{"reference_image_urls": ["a"]}] and only_angles["prompt"] == "@Element1"
    )
    frontal_only = Options(model="v3-pro").fal_arguments("i", "v", Face("f"))
    assert frontal_only["elements"] == [{"frontal_image_url": "f"}]
    # No face: the v2.6 body, on v3 too (no `elements`, no prompt added).
    plain = Options(orientation="image", model="v3-pro").fal_arguments("i", "v", Face())
    assert set(plain) == {"image_url", "video_url", "character_orientation", "keep_original_sound"}
    # The face rule is checked where an order is made, before anything is read or sent.
    with pytest.raises(FaceElementError, match="only with orientation 'video'"):
        order("i.png", "v.mp4", orientation="image", model="v3-pro", face=face_of("f.png"))
    with pytest.raises(FaceElementError, match="The pro model can't keep a face consistent"):
        order("i.png", "v.mp4", model="pro", face=face_of("f.png"))


def test_face_refusals_are_one_sentence_each() -> None:
    four = Face("f", ("a", "b", "c", "d"))
    with pytest.raises(FaceElementError) as raised:
        catalog.check_face("v3-pro", "video", four)
    assert raised.value.message == (
        "4 more angles of the face were given; fal takes at most 3 besides the frontal image. Remove some."
    )
    with pytest.raises(FaceElementError) as raised:
        catalog.check_face("standard", "video", Face("f"))
    assert raised.value.message == (
        "The standard model can't keep a face consistent: choose 'v3-pro' or 'v3-standard', or remove "
        "the face images."
    )
    assert isinstance(raised.value, InputError) and raised.value.kind == "input"
    catalog.check_face("pro", "image", Face())  # no face: nothing to refuse
    catalog.check_face("v3-standard", "video", Face(None, ("a", "b", "c")))


def test_over_the_cap_only_models_that_keep_the_face_are_offered() -> None:
    everything = ["a clip of at most 7 s", "the pro model", "the standard model", "the v3-standard model"]
    assert catalog.options_under(1.3, 10, "v3-pro") == [*everything, "your own fal key"]
    kept = ["a clip of at most 7 s", "the v3-standard model", "your own fal key"]
    assert catalog.options_under(1.3, 10, "v3-pro", face=True) == kept


# -- the emulator validates v3's schema as fal would ----------------------------------------------------


def test_the_emulator_validates_the_v3_schema(fal: FalEmulator) -> None:
    fal.files["/files/face.png"] = (b"png", "image/png")
    known = "https://v3.fal.media/files/face.png"
    base = {"image_url": "https://x/i.png", "video_url": "https://x/v.mp4", "character_orientation": "video"}

    def problems(body: dict[str, Any], *, v3: bool = True) -> list[str]:
        return [
            f"{'.'.join(map(str, p['loc'][1:]))}: {p['type']}"
            for p in _validate(body, fal.known_file, TIERS["v3-pro" if v3 else "pro"])
        ]

    assert (
        problems({**base, "elements": [{"frontal_image_url": known, "reference_image_urls": [known] * 3}]})
        == []
    )
    assert problems({**base, "elements": []}) == []
    assert problems({**base, "elements": [{"frontal_image_url": known}]}, v3=False) == [
        "elements: extra_forbidden"
    ]
    assert problems({**base, "elements": [{}, {}]}) == ["elements: too_long"]
    assert problems({**base, "elements": [{"reference_image_urls": [known] * 4}]}) == [
        "elements.0.reference_image_urls: too_long"
    ]
    assert problems(
        {**base, "character_orientation": "image", "elements": [{"frontal_image_url": known}]}
    ) == ["elements: value_error"]
    assert problems({**base, "elements": [{"frontal_image_url": "https://v3.fal.media/files/nope.png"}]}) == [
        "elements.0.frontal_image_url: file_download_error"
    ]
    assert problems({**base, "elements": [{"face_url": known}]}) == ["elements.0.face_url: extra_forbidden"]
    # Over HTTP: fal's 422 with `detail`, and nothing queued.
    answer = httpx.post(
        "https://queue.fal.run/fal-ai/kling-video/v2.6/pro/motion-control",
        json={**base, "elements": [{"frontal_image_url": known}]},
        headers={"Authorization": f"Key {VALID_KEY}"},
        verify=str(fal.ca_path),
        proxy=f"http://127.0.0.1:{fal.proxy_port}",
    )
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["body", "elements"]
    assert fal.submitted == []


# -- a run with a face, end to end --------------------------------------------------------------------------


def test_a_run_with_a_face_sends_one_element_of_uploaded_urls_and_again_restores_it(
    runner: JobRunner, history: History, fal: FalEmulator, samples, faces
) -> None:
    face = face_of(faces["frontal"], faces["angle1"], faces["angle2"])
    spec = order(samples["image_jpg"], samples["clip_5s"], prompt="a dancer", model="v3-pro", face=face)
    final = runner.start(spec, KEY).wait(30)
    assert isinstance(final, Done), final
    [request] = fal.submitted
    assert request.endpoint == "fal-ai/kling-video/v3/pro/motion-control"
    assert request.body["prompt"] == "a dancer @Element1"
    [element] = request.body["elements"]
    uploaded = {f"https://v3.fal.media{path}": data for path, (data, _) in fal.files.items()}
    assert uploaded[element["frontal_image_url"]] == faces["frontal"].read_bytes()
    assert [uploaded[url] for url in element["reference_image_urls"]] == [
        faces["angle1"].read_bytes(),
        faces["angle2"].read_bytes(),
    ]
    run = history.reads.get(final.run_id or "")
    assert (
        run is not None and run.options.model == "v3-pro" and run.estimated_cost == pytest.approx(5 * 0.168)
    )
    assert run.options.get("prompt") == "a dancer"  # as the user wrote it; fal got it with the face named
    # The run keeps its own copies of the face (in its folder) and their URLs on fal, in order.
    assert Path(run.face_frontal or "").parent == history.db.runs_dir / run.id
    assert [Path(p).read_bytes() for p in run.face_angles] == [
        faces["angle1"].read_bytes(),
        faces["angle2"].read_bytes(),
    ]
    assert run.face_frontal_url == element["frontal_image_url"]
    assert list(run.face_angle_urls) == element["reference_image_urls"]
    # Run again: the same face, from the run's copies (already on fal: not uploaded again).
    uploads = len(fal.calls_to("upload"))
    again = runner.run_again(run, KEY).wait(30)
    assert isinstance(again, Done), again
    assert fal.submitted[-1].body["elements"] == request.body["elements"]
    assert len(fal.calls_to("upload")) == uploads


@pytest.mark.parametrize(
    ("tier", "orientation", "angles", "sentence"),
    [
        ("v3-pro", "image", 1, "Keeping the face consistent works only with orientation 'video'"),
        ("pro", "video", 1, "The pro model can't keep a face consistent"),
        ("v3-standard", "video", 4, "4 more angles of the face were given"),
    ],
    ids=["orientation-image", "v2.6-model", "four-angles"],
)
def test_a_face_fal_would_refuse_is_refused_before_anything_is_sent(
    runner: JobRunner,
    history: History,
    fal: FalEmulator,
    samples,
    faces,
    tier: str,
    orientation: str,
    angles: int,
    sentence: str,
) -> None:
    face = face_of(faces["frontal"], *(faces[f"angle{i}"] for i in range(1, angles + 1)))
    with pytest.raises(FaceElementError) as refused:  # the order itself can't be made
        order(samples["image_jpg"], samples["clip_5s"], orientation=orientation, model=tier, face=face)
    assert refused.value.message.startswith(sentence)
    assert spent(fal) == [] and fal.submitted == [] and history.reads.recent() == []


def test_face_images_get_the_character_images_checks(
    settings: Settings, fal: FalEmulator, samples, faces
) -> None:
    studio = Studio(settings)
    try:
        request = order(
            samples["image_jpg"],
            samples["clip_5s"],
            model="v3-pro",
            face=face_of(faces["frontal"], faces["tiny"]),
        )
        reading = studio.orders.read(request, None)
        assert not reading.ready
        assert reading.problems == (
            "The face's angle 1: The image is 200×200; each side must be at least 340 px. Use a larger image.",
        )
        fine = studio.orders.read(replace(request, face=face_of(faces["frontal"])), None)
        assert fine.ready and fine.face.frontal == str(faces["frontal"]) and len(fine.face_reports) == 1
        assert "The prompt doesn't name the face, so @Element1 is added at its end." in fine.notes
        # orientation image: no order can be made of it (page, API and CLI alike), nothing is read
        with pytest.raises(FaceElementError, match="only with orientation 'video'"):
            order(
                samples["image_jpg"],
                samples["clip_5s"],
                orientation="image",
                model="v3-pro",
                face=face_of("https://v3.fal.media/files/face.png"),
            )
        assert fal.calls == []
    finally:
        studio.runner.shutdown()


# -- the history ------------------------------------------------------------------------------------------


def test_the_history_keeps_a_face_and_an_old_database_gains_the_columns(tmp_path: Path) -> None:
    db = old_database(tmp_path, 3)
    history = History(db, tmp_path / "runs")
    assert history.db.schema_version == len(MIGRATIONS) == 9
    old = history.reads.get("old-run")
    assert old is not None and old.face == Face() and old.face_angle_urls == ()
    from motion_studio.history.runs import Run

    run = history.writes.create(
        Run(
            options=Options(model="v3-pro"),
            endpoint="e",
            face_frontal="/f.jpg",
            face_angles=("/a.png", "/b.png"),
        )
    )
    history.writes.update(
        run.id, face_angle_urls=("https://u/a", "https://u/b"), face_frontal_url="https://u/f"
    )
    again = History(db, tmp_path / "runs").reads.get(run.id)
    assert again is not None and again.face == Face("/f.jpg", ("/a.png", "/b.png"))
    assert again.face_angle_urls == ("https://u/a", "https://u/b") and again.face_frontal_url == "https://u/f"


# -- the command line -----------------------------------------------------------------------------------------


def test_the_cli_takes_a_face_and_refuses_one_with_orientation_image(
    fal: FalEmulator, data_dir: Path, samples, faces
) -> None:
    from .test_cli import cli, generate_args, only_run

    off = {"MOTION_STUDIO_PEOPLE_CHECK": "false"}
    refused = cli(
        fal, data_dir, *generate_args(samples, orientation="image"), "--model", "v3-pro", "--face", str(faces["frontal"]), **off
    )  # fmt: skip
    assert refused.returncode == 1 and "only with orientation 'video'" in refused.stderr
    assert spent(fal) == []
    done = cli(
        fal, data_dir, *generate_args(samples), "--model", "v3-standard", "--face", str(faces["frontal"]),
        "--face-angle", str(faces["angle1"]), "--face-angle", str(faces["angle2"]), "--prompt", "@Element1 waves", **off,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip().splitlines()[-1]).is_file()
    [request] = fal.submitted
    assert (
        request.endpoint.endswith("/v3/standard/motion-control")
        and request.body["prompt"] == "@Element1 waves"
    )
    assert len(request.body["elements"][0]["reference_image_urls"]) == 2
    run = only_run(data_dir)
    assert run.face_frontal and len(run.face_angles) == 2


# -- the page ---------------------------------------------------------------------------------------------


@pytest.mark.browser
def test_the_face_panel_is_there_for_v3_only_and_a_run_with_it_completes_and_comes_back(
    app: str, page: Any, fal: FalEmulator, samples, faces
) -> None:
    pytest.importorskip("playwright")
    from playwright.sync_api import expect

    from .browser import pick, wait_done

    page.goto(app)
    panel, verdict, generate = (
        page.locator("#face-panel"),
        page.locator("#verdict"),
        page.locator("#generate"),
    )
    expect(page.locator("#tier")).to_be_visible()
    expect(panel).to_be_hidden()  # v2.6 (the default): no face binding
    page.locator('#tier input[value="v3-pro"]').check()
    expect(panel).to_be_visible()
    expect(page.locator("#prompt textarea")).to_have_attribute("placeholder", re.compile("@Element1"))
    pick(page, samples["image_jpg"], samples["clip_5s"])
    page.locator("#face-frontal input[type=file]").set_input_files(str(faces["frontal"]))
    page.locator("#face-angle-1 input[type=file]").set_input_files(str(faces["angle1"]))
    expect(page.locator("#face-info")).to_contain_text("frontal: 512×512 JPEG · angle 1: 420×480 PNG")
    expect(generate).to_be_enabled()
    expect(page.locator("#cost")).to_contain_text("$0.168/s")
    page.locator("#orientation input[value=image]").check()  # fal refuses a face with orientation image
    expect(verdict).to_contain_text("Keeping the face consistent works only with orientation 'video'")
    expect(generate).to_be_disabled()
    page.locator("#orientation input[value=video]").check()
    expect(generate).to_be_enabled()
    page.locator("#prompt textarea").fill("a dancer")
    page.locator("#face-name").click()
    expect(page.locator("#prompt textarea")).to_have_value("a dancer @Element1")
    expect(generate).to_be_enabled()
    generate.click()
    wait_done(page)
    [request] = fal.submitted
    assert request.endpoint == "fal-ai/kling-video/v3/pro/motion-control"
    assert request.body["prompt"] == "a dancer @Element1"
    [element] = request.body["elements"]
    assert set(element) == {"frontal_image_url", "reference_image_urls"}
    assert len(element["reference_image_urls"]) == 1
    # Another model: the panel goes (its images are not part of a v2.6 run), and comes back with v3.
    page.locator('#tier input[value="pro"]').check()
    expect(panel).to_be_hidden()
    # The run, selected in the gallery, brings its model and its face back.
    page.locator("#gallery img").first.click()
    expect(page.locator('#tier input[value="v3-pro"]')).to_be_checked()
    expect(page.locator("#run-details")).to_contain_text(
        "Face kept consistent (@Element1): a frontal image and 1 more angle"
    )
    expect(panel).to_be_visible()
    expect(page.locator("#face-frontal img")).to_be_visible()
    expect(page.locator("#face-angle-1 img")).to_be_visible()
    expect(page.locator("#face-angle-2 img")).to_have_count(0)
    expect(page.locator("#prompt textarea")).to_have_value("a dancer @Element1")


# -- the API ------------------------------------------------------------------------------------------------


def test_the_api_takes_a_face_by_name_and_refuses_one_with_orientation_image(
    app: str, fal: FalEmulator, samples, faces, tmp_path: Path
) -> None:
    from gradio_client import Client, handle_file

    client = Client(app, download_files=str(tmp_path))
    inputs = {"image": handle_file(str(samples["image_jpg"])), "video": handle_file(str(samples["clip_5s"]))}
    face = {
        "face_image": handle_file(str(faces["frontal"])),
        "face_reference_images": [handle_file(str(faces["angle1"])), handle_file(str(faces["angle2"]))],
    }
    found = client.predict(**inputs, **face, model="v3-standard", api_name="/check")
    assert found["ready"] is True and found["estimate"]["price_per_second"] == 0.126
    assert found["estimate"]["endpoint"] == "fal-ai/kling-video/v3/standard/motion-control"
    assert [(f["width"], f["format"]) for f in found["face_images"]] == [
        (512, "JPEG"),
        (420, "PNG"),
        (440, "PNG"),
    ]
    with pytest.raises(Exception, match=r"^Keeping the face consistent works only"):  # one sentence, free
        client.predict(**inputs, **face, model="v3-pro", character_orientation="image", api_name="/check")
    with pytest.raises(Exception, match="The standard model can't keep a face consistent"):
        client.predict(**inputs, **face, model="standard", api_name="/generate")
    assert spent(fal) == []
    video, summary = client.predict(
        **inputs, **face, model="v3-standard", prompt="a dancer", api_name="/generate"
    )
    assert Path(video).is_file() and summary["model"] == "v3-standard" and summary["status"] == "done"
    [request] = fal.submitted
    assert request.body["prompt"] == "a dancer @Element1"
    [element] = request.body["elements"]
    assert element["frontal_image_url"].startswith("https://v3.fal.media/")
    assert len(element["reference_image_urls"]) == 2
