"""The public API and the MCP server: `/generate` and `/check`, by name, against the fal emulator.

An MCP client (the `mcp` package, over streamable HTTP) sees exactly the two tools with a description
for every parameter; `check` reads inputs given as URLs and asks fal nothing; `generate` returns the
video and the run's summary. `gradio_client` calls both endpoints by parameter name.
"""

from __future__ import annotations

import ast
import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from motion_studio.catalog import OPTIONS, TIERS
from motion_studio.history.store import History
from motion_studio.people_check import TURNED_OFF
from motion_studio.settings import Settings
from motion_studio.studio.orders import Orders
from motion_studio.studio.service import Studio

from . import people_media as pm
from .fal_emulator import SAMPLE_IMAGE_URL, SAMPLE_VIDEO_URL, FalEmulator
from .orders import order

# The first release's parameters keep their places (a positional caller's arguments never shift);
# every option added since comes after them, in the catalogue's order.
PARAMETERS = [
    *("image", "video", "character_orientation", "prompt", "keep_original_sound", "model", "preview"),
    *("face_image", "face_reference_images", "more_images", "more_videos", "more_models"),
    *(option.api_name for option in OPTIONS.values() if option.appended),
]
# Every route on which fal's storage or queue would be asked for something (GETs of input URLs on
# fal's CDN are the studio fetching an input, not a request to fal).
SPENDING = ["token", "initiate", "upload", "multipart_create", "put_upload", "submit"]
LONG_CLIP_URL = "https://v3b.fal.media/files/tests/long-12s.mp4"


def with_mcp(app: str, action: Callable[[Any], Awaitable[Any]]) -> Any:
    """Run `action(session)` in an MCP client session with the app, as an agent's client would."""
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async def main() -> Any:
        timeout = httpx.Timeout(30, read=120)
        async with (
            httpx.AsyncClient(timeout=timeout, trust_env=False) as http,
            streamable_http_client(f"{app}gradio_api/mcp/", http_client=http) as (read, write, _),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            return await action(session)

    return asyncio.run(main())


def tool_values(result: Any) -> list[Any]:
    """A tool's outputs, as Gradio's MCP server sends them: each a text (a file as its URL, a dict as
    Python's repr), or all of them as one text (the list's repr) when the client asked for no progress."""
    values: list[Any] = []
    for content in result.content:
        try:
            value = ast.literal_eval(content.text)
        except (ValueError, SyntaxError):
            value = content.text
        values.extend(value if isinstance(value, list) else [value])
    return values


def spent(fal: FalEmulator) -> list[str]:
    return [route for route in SPENDING for _ in fal.calls_to(route)]


@pytest.fixture
def long_clip_url(fal: FalEmulator, samples) -> Any:
    """A 12 s clip at a public URL (on fal's CDN, as the emulator serves it)."""
    path = LONG_CLIP_URL.split("fal.media", 1)[1]
    fal.files[path] = (samples["clip_12s"].read_bytes(), "video/mp4")
    yield LONG_CLIP_URL
    fal.files.pop(path, None)


def test_mcp_lists_exactly_the_two_tools_with_their_parameters(app: str, fal: FalEmulator) -> None:
    async def list_tools(session: Any) -> Any:
        return (await session.list_tools()).tools

    tools = {tool.name: tool for tool in with_mcp(app, list_tools)}
    assert set(tools) == {"generate", "check"}
    for tool in tools.values():
        properties = tool.inputSchema["properties"]
        assert list(properties) == PARAMETERS
        assert all(properties[name].get("description") for name in PARAMETERS), properties
        assert tool.inputSchema["required"] == ["image", "video"]
        assert properties["character_orientation"]["enum"] == ["video", "image"]
        for option in OPTIONS.values():  # each option's choices and bounds, as the catalogue has them
            schema = properties[option.api_name]
            assert schema.get("enum", []) == list(option.choice_values)
            assert (schema.get("maxLength"), schema.get("minimum"), schema.get("maximum")) == (
                option.max_chars,
                option.minimum,
                option.maximum,
            )
        assert properties["model"]["enum"] == list(TIERS)
        assert properties["more_models"]["oneOf"][1]["items"]["enum"] == list(TIERS)
        assert "can keep a face consistent; 1080p, $0.168/s of video" in properties["model"]["description"]
        assert "'wan-move': Wan Move: " in properties["model"]["description"]
        assert "only with model 'v3-pro' or 'v3-standard'" in properties["face_image"]["description"].lower()
        assert "up to 3 more photos" in properties["face_reference_images"]["description"]
        assert "at most 10 s with character_orientation 'image'" in properties["video"]["description"]
        assert "at least 340 px" in properties["image"]["description"]
        assert "$0.112/s" in properties["model"]["description"]
    assert "without spending anything" in tools["check"].description
    assert "fal_request_id" in tools["generate"].description
    # The same two, and nothing else, in Gradio's API and its MCP schema (the page's events are private).
    info = httpx.get(f"{app}gradio_api/info", timeout=10, trust_env=False).json()
    assert set(info["named_endpoints"]) == {"/generate", "/check"} and not info["unnamed_endpoints"]
    schema = httpx.get(f"{app}gradio_api/mcp/schema", timeout=10, trust_env=False).json()
    assert {tool["name"] for tool in schema} == {"generate", "check"}
    assert fal.calls == []


def test_mcp_check_on_a_too_long_clip_gives_the_verdict_and_asks_fal_nothing(
    app: str, fal: FalEmulator, long_clip_url: str
) -> None:
    arguments = {"image": SAMPLE_IMAGE_URL, "video": long_clip_url, "character_orientation": "image"}

    async def check(session: Any) -> Any:
        return await session.call_tool("check", arguments)

    result = with_mcp(app, check)
    assert not result.isError, result.content
    [found] = tool_values(result)
    assert found["ready"] is False
    assert found["verdict"] == (
        "The clip is 12.0 s; with orientation 'image' the limit is 10 s. Switch to 'video' (30 s) or trim it."
    )
    assert found["trim_to_seconds"] == 10
    assert found["video"]["duration_seconds"] == pytest.approx(12, abs=0.2)  # what was read, all the same
    assert found["image"]["width"] == 576 and found["estimate"] is None
    # The only requests the emulator saw were the studio's GETs of the two input URLs: fal was asked nothing.
    fetches = fal.calls_to("sample") + fal.calls_to("download")
    assert len(fal.calls) == len(fetches) == 2 and {c.method for c in fetches} == {"GET"}


def test_mcp_generate_returns_the_video_and_the_summary(
    app: str, fal: FalEmulator, settings: Settings, tmp_path: Path
) -> None:
    arguments = {"image": SAMPLE_IMAGE_URL, "video": SAMPLE_VIDEO_URL, "prompt": "A woman dancing"}

    async def generate(session: Any) -> Any:
        return await session.call_tool("generate", arguments)

    result = with_mcp(app, generate)
    assert not result.isError, result.content
    video, summary = tool_values(result)
    url = video["url"] if isinstance(video, dict) else video
    assert url.startswith(f"{app}gradio_api/file=") and url.endswith(".mp4")
    played = httpx.get(url, timeout=30, trust_env=False)
    assert played.status_code == 200 and len(played.content) > 1000
    [request] = fal.submitted
    # Fetched by the studio (not by Gradio): fal's own CDN files go to fal as they are.
    assert request.body["image_url"] == SAMPLE_IMAGE_URL and request.body["video_url"] == SAMPLE_VIDEO_URL
    [run] = History(settings.db_path, settings.runs_dir).reads.recent()
    assert summary["run_id"] == run.id and summary["fal_request_id"] == request.id
    assert summary["status"] == "done" and summary["model"] == "pro"
    assert summary["billed_seconds"] == 5 and summary["estimated_cost"] == pytest.approx(0.56)
    assert summary["timings"]["total_seconds"] > 0
    assert [s["status"] for s in summary["timings"]["steps"]][-1] == "done"


def test_gradio_client_calls_both_endpoints_by_name(
    app: str, fal: FalEmulator, samples, settings: Settings, tmp_path: Path
) -> None:
    from gradio_client import Client, handle_file

    client = Client(app, download_files=str(tmp_path))
    found = client.predict(
        image=handle_file(str(samples["image_jpg"])),
        video=handle_file(str(samples["clip_5s"])),
        model="standard",
        api_name="/check",
    )
    assert found["ready"] is True and found["verdict"].startswith("Ready")
    assert found["video"] == {
        "duration_seconds": pytest.approx(5, abs=0.1),
        "width": 480,
        "height": 360,
        "fps": 12,
        "has_sound": True,
        "codec": "h264",
        "container": "mp4",
        "size_bytes": samples["clip_5s"].stat().st_size,
    }
    assert found["image"]["width"] == 600 and found["image"]["height"] == 800
    assert found["estimate"]["billed_seconds"] == 5 and found["estimate"]["estimated_cost"] == 0.35
    assert fal.calls == []  # a check never uploads ahead, unlike the page

    video, summary = client.predict(
        image=handle_file(str(samples["image_jpg"])),
        video=handle_file(str(samples["clip_5s"])),
        character_orientation="video",
        prompt="a dancer",
        keep_original_sound=False,
        model="standard",
        api_name="/generate",
    )
    assert Path(video).is_file() and Path(video).stat().st_size > 1000
    assert Path(video).name.startswith("motion-")  # named after its run
    [request] = fal.submitted
    assert request.body["keep_original_sound"] is False and request.body["prompt"] == "a dancer"
    assert request.endpoint.endswith("/standard/motion-control")
    assert summary["fal_request_id"] == request.id and summary["estimated_cost"] == 0.35
    assert summary["keep_original_sound"] is False and summary["error"] is None


@pytest.mark.parametrize(
    ("arguments", "sentence"),
    [
        (
            {"video": "clip_12s", "character_orientation": "image"},
            "with orientation 'image' the limit is 10 s",
        ),
        (
            {"model": "ultra"},
            "model must be 'pro', 'standard', 'v3-pro', 'v3-standard', 'wan-move', 'wan-replace' or "
            "'dreamactor' (got 'ultra').",
        ),
        (
            {"character_orientation": "sideways"},
            "character_orientation must be 'video' or 'image' (got 'sideways').",
        ),
        ({"image": "/etc/hostname"}, "Only http(s) URLs are fetched."),
        ({"image": "http://127.0.0.1:1/me.png"}, "points inside a private network"),
        ({"image": {"path": "/etc/hostname"}}, "Give the image as an http(s) URL"),
    ],
    ids=["too-long", "model", "orientation", "path", "private-url", "unchecked-dict"],
)
def test_refusals_are_one_sentence_and_cost_nothing(
    app: str, fal: FalEmulator, samples, tmp_path: Path, arguments: dict[str, Any], sentence: str
) -> None:
    from gradio_client import Client, handle_file

    given = {"image": handle_file(str(samples["image_jpg"])), "video": handle_file(str(samples["clip_5s"]))}
    for name, value in arguments.items():
        given[name] = (
            handle_file(str(samples[value])) if isinstance(value, str) and value in samples else value
        )
    client = Client(app, download_files=str(tmp_path))
    with pytest.raises(Exception, match=re.escape(sentence)) as raised:
        client.predict(**given, api_name="/generate")
    assert not re.search(r"Traceback|[A-Z]\w+Error\b", str(raised.value)), raised.value
    assert spent(fal) == [] and fal.submitted == []


@pytest.mark.parametrize(
    ("update", "sentence"),
    [
        ({"fal_key": None}, "No fal API key is set."),
        ({"visitors_bring_own_key": True}, "This server asks every visitor to use their own fal key"),
    ],
    ids=["no-key", "own-key-mode"],
)
def test_check_says_when_the_server_has_no_key_for_callers(
    settings: Settings, fal: FalEmulator, samples, update: dict[str, Any], sentence: str
) -> None:
    """Inputs that are fine, on a server that would refuse to generate: `check` says why, first."""
    from gradio_client import Client, handle_file

    from .browser import running_app

    with running_app(settings.model_copy(update=update)) as url:
        found = Client(url).predict(
            image=handle_file(str(samples["image_jpg"])),
            video=handle_file(str(samples["clip_5s"])),
            api_name="/check",
        )
    assert found["ready"] is False and found["verdict"].startswith(sentence)
    assert found["estimate"]["estimated_cost"] == pytest.approx(0.56)  # the inputs themselves are fine
    assert fal.calls == []


def test_a_forged_file_path_is_refused(
    app: str, fal: FalEmulator, samples, monkeypatch: pytest.MonkeyPatch, capfd: Any
) -> None:
    """File dicts naming files on the server that the caller never uploaded (good media, so only the
    path can be wrong): Gradio refuses them before the handler runs, so no file of the server's is
    read for a caller."""
    checked: list[Any] = []
    monkeypatch.setattr(Orders, "check_for_api", lambda self, request: checked.append(request))
    image, video = (
        {"path": str(samples[n]), "meta": {"_type": "gradio.FileData"}} for n in ("image_jpg", "clip_5s")
    )
    with httpx.Client(base_url=app, timeout=30, trust_env=False) as client:
        event = client.post(
            "/gradio_api/call/check",
            json={"data": [image, video, "video", "", True, "pro", False, *[None] * (len(PARAMETERS) - 7)]},
        )
        answer = client.get(f"/gradio_api/call/check/{event.json()['event_id']}").text
    assert "event: error" in answer
    assert "it was not uploaded by a user" in capfd.readouterr().err
    assert checked == [] and fal.calls == []


def test_check_returns_the_people_warnings_as_data(
    app: str, fal: FalEmulator, samples, tmp_path: Path
) -> None:
    """A picture with nobody in it: the people check's warning comes back as data, as advice (the
    inputs are still ready), and asks fal nothing."""
    from gradio_client import Client, handle_file

    blank = pm.save(pm.gradient(), tmp_path / "blank.png")
    found = Client(app).predict(
        image=handle_file(str(blank)), video=handle_file(str(samples["clip_5s"])), api_name="/check"
    )
    assert found["ready"] is True and found["people_check_skipped"] is None
    first = found["people_warnings"][0]
    assert first["code"] == "no_person_image" and first["subject"] == "image"
    assert first["message"].startswith("No person was found in the image")
    assert all(set(w) == {"code", "message", "subject"} for w in found["people_warnings"])
    assert fal.calls == []


def test_check_says_when_the_people_check_is_turned_off(settings: Settings, samples) -> None:
    studio = Studio(settings.model_copy(update={"people_check": False}))
    try:
        found = studio.orders.check_for_api(order(samples["image_jpg"], samples["clip_5s"]))
    finally:
        studio.runner.shutdown()
    assert found.ready and found.people_warnings == [] and found.people_check_skipped == TURNED_OFF


def test_check_is_limited_per_caller_a_minute(settings) -> None:
    """`/check` fetches and probes files for free: past the setting, a caller is refused in one
    sentence before anything is read, and other callers are not affected."""
    from motion_studio.errors import TooManyChecksError
    from motion_studio.rate import PerCaller
    from motion_studio.studio.service import Studio

    studio = Studio(settings.model_copy(update={"api_checks_per_minute": 2}))
    try:
        studio.orders.admit_api_check("api:1.2.3.4")
        studio.orders.admit_api_check("api:1.2.3.4")
        with pytest.raises(TooManyChecksError, match="at most 2 a minute"):
            studio.orders.admit_api_check("api:1.2.3.4")
        studio.orders.admit_api_check("api:5.6.7.8")
    finally:
        studio.runner.shutdown()
    window = PerCaller(1, window=0.05)
    assert window.admit("a") and not window.admit("a")
    import time

    time.sleep(0.06)
    assert window.admit("a") and PerCaller(None).admit("a")
