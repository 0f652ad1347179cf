"""Every option of every model, refused alike at every edge: a caller's mistake is one sentence naming
the parameter as that edge names it, and costs nothing (the fal emulator sees no request at all).

The cases are made from the catalogue, so an option added there is tested here with no edit: `null`
(the default, accepted), a wrong type, an unknown choice, a number out of range, a text too long, and
a value for an option the chosen model does not take. One app serves the module's API and MCP calls;
the command line runs in-process.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from motion_studio import cli
from motion_studio.catalog import OPTIONS, PREVIEW_OPTION, TIERS, Option, model_option
from motion_studio.errors import OptionError
from motion_studio.option_help import offered
from motion_studio.options_parser import called, parse_options
from motion_studio.settings import Settings

from .fal_emulator import SAMPLE_IMAGE_URL, SAMPLE_VIDEO_URL, FalEmulator

WRONG_TYPE: dict[type, Any] = {bool: "maybe", int: "seven", float: "fast", str: {"not": "text"}}


def bad_values(option: Option) -> list[tuple[str, Any]]:
    """The mistakes a caller can make with this option, each with the value that makes it."""
    cases: list[tuple[str, Any]] = [("wrong-type", WRONG_TYPE[option.kind]), ("a-list", [1, 2])]
    if option.choices:
        cases.append(("unknown-choice", "sideways"))
    if option.max_chars is not None:
        cases.append(("too-long", "x" * (option.max_chars + 1)))
    if option.maximum is not None:
        cases.append(("over", option.maximum + 1))
    if option.minimum is not None:
        cases.append(("under", option.minimum - 1))
    return cases


def every_mistake() -> list[Any]:
    """(model, option, case, value): each option of each model (the model and preview choices
    included), and each option a model does not take, given a value."""
    cases = []
    for model in TIERS.values():
        for option in (*(OPTIONS[name] for name in model.options), model_option("pro"), PREVIEW_OPTION):
            for case, value in bad_values(option):
                cases.append(pytest.param(model.name, option, value, id=f"{model.name}-{option.name}-{case}"))
        for option in OPTIONS.values():
            if not model.takes(option.name):
                value = option.choice_values[0] if option.choices else option.default or "x"
                cases.append(
                    pytest.param(model.name, option, value, id=f"{model.name}-{option.name}-not-taken")
                )
    return cases


MISTAKES = every_mistake()


def one_sentence_naming(message: str, name: str) -> bool:
    """The parameter first, then what it got and what it takes, in one sentence."""
    pattern = rf"{re.escape(name)} (must be|is not an option of the model) [^\n]+\.$"
    return bool(re.match(pattern, message)) and not re.search(r"Traceback|[A-Z]\w+Error\b", message)


# -- in-process: the one parser ----------------------------------------------------------------------


@pytest.mark.parametrize(("model", "option", "value"), MISTAKES)
def test_the_parser_refuses_each_mistake_naming_the_parameter_at_each_edge(
    model: str, option: Option, value: Any
) -> None:
    given = {"model": model, option.name: value} if option.name != "model" else {"model": value}
    for edge in ("api", "cli", "page"):
        if edge == "page" and option.name in OPTIONS and not TIERS[model].takes(option.name):
            continue  # the page hides the control of an option its model does not take, and leaves it out
        with pytest.raises(OptionError) as refused:
            parse_options(given, edge=edge, default_model="pro")
        assert one_sentence_naming(refused.value.message, called(option, edge)), refused.value.message


@pytest.mark.parametrize("model", list(TIERS))
def test_null_or_missing_is_the_default(model: str) -> None:
    nulls = {option.name: None for option in OPTIONS.values()}
    [options] = parse_options({**nulls, "model": model, "preview": None}, edge="api", default_model="pro")
    assert options.model == model and options.preview is False
    assert options.values == {name: OPTIONS[name].default for name in TIERS[model].options}
    assert parse_options({}, edge="api", default_model=model)[0].model == model  # the server's default


def test_the_api_words_are_the_example_s() -> None:
    with pytest.raises(OptionError, match=r"^keep_original_sound must be true or false \(got 'maybe'\)\.$"):
        parse_options({"keep_sound": "maybe"}, edge="api", default_model="pro")


# -- the API, the MCP tools and the command line, against one app ----------------------------------------


def api_arguments(model: str, option: Option, value: Any) -> dict[str, Any]:
    arguments = {"image": SAMPLE_IMAGE_URL, "video": SAMPLE_VIDEO_URL, option.api_name: value}
    return arguments if option.name == "model" else {**arguments, "model": model}


@pytest.mark.parametrize(("model", "option", "value"), MISTAKES)
def test_check_and_generate_refuse_each_mistake_for_free(
    client: Any, fal: FalEmulator, model: str, option: Option, value: Any
) -> None:
    for endpoint in ("/check", "/generate"):
        with pytest.raises(Exception) as refused:
            client.predict(**api_arguments(model, option, value), api_name=endpoint)
        assert one_sentence_naming(str(refused.value), option.api_name), refused.value
    assert fal.calls == []


def test_the_mcp_tools_refuse_each_mistake_for_free(shared_app: str, fal: FalEmulator) -> None:
    """One MCP session, every mistake sent to both tools, as an agent's client sends them."""
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async def call_all() -> list[tuple[str, str, Any]]:
        answers = []
        async with (
            httpx.AsyncClient(timeout=60, trust_env=False) as http,
            streamable_http_client(f"{shared_app}gradio_api/mcp/", http_client=http) as (read, write, _),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            for case in MISTAKES:
                model, option, value = case.values
                for tool in ("check", "generate"):
                    result = await session.call_tool(tool, api_arguments(model, option, value))
                    answers.append((option.api_name, case.id, result))
        return answers

    for name, case, result in asyncio.run(call_all()):
        text = " ".join(getattr(content, "text", "") for content in result.content)
        assert result.isError and re.search(rf"{re.escape(name)} (must be|is not an option)", text), (
            case,
            text,
        )
        assert "Traceback" not in text, (case, text)
    assert fal.calls == []


def cli_mistakes() -> list[Any]:
    """The mistakes a command line can make: its values are text, and a flag takes none."""
    cases = []
    for case in MISTAKES:
        model, option, value = case.values
        if option.kind is bool or not isinstance(value, str | int | float):
            continue  # a flag carries no value; a shell gives no objects or lists
        cases.append(pytest.param(model, option, str(value), id=case.id))
    return cases


@pytest.mark.parametrize(("model", "option", "value"), cli_mistakes())
def test_the_command_line_refuses_each_mistake_for_free(
    settings: Settings,
    fal: FalEmulator,
    samples: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    model: str,
    option: Option,
    value: str,
) -> None:
    argv = ["generate", "--image", str(samples["image_jpg"]), "--video", str(samples["clip_5s"])]
    argv += (
        [option.cli_flags[0], value]
        if option.name == "model"
        else ["--model", model, option.cli_flags[0], value]
    )
    assert cli.main(argv) == 1
    error = capsys.readouterr().err.replace("\n", " ").strip()
    assert error.startswith("error: ") and one_sentence_naming(
        error.removeprefix("error: "), option.cli_flags[0]
    ), error
    assert fal.calls == []


def test_every_flag_is_made_from_the_catalogue(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each option's flag is there with its own words: a flag that turns a default off says so."""
    with pytest.raises(SystemExit):
        cli.main(["generate", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    first, added = offered(settings.default_tier)
    for option in (*first, *added):
        assert option.cli_flags[0] in shown
    assert "Default: " not in shown  # no empty "Default:" after a text with no default
    assert "Drop the reference clip's sound" in shown and "(--face)" in shown and "(face_image)" not in shown


# -- what lists options: made from the catalogue, for every model -------------------------------------


@pytest.mark.parametrize("model", list(TIERS))
def test_the_page_shows_the_controls_of_the_model_s_options_only(model: str) -> None:
    import gradio as gr

    from motion_studio.ui.layout.option_controls import OptionControls

    with gr.Blocks():
        controls = OptionControls("pro")
        for name in OPTIONS:
            controls.place(name)
    assert set(controls.boxes) == set(OPTIONS)
    shown = controls.shown_for(model)
    for name, box in controls.boxes.items():
        assert shown[box]["visible"] is TIERS[model].takes(name)


@pytest.mark.parametrize("model", list(TIERS))
def test_the_card_the_caption_and_the_summary_name_each_option_of_the_run(model: str) -> None:
    from motion_studio import presenter
    from motion_studio.history.runs import Run
    from motion_studio.order import Options
    from motion_studio.summary import run_summary

    given = {
        name: OPTIONS[name].choice_values[-1] if OPTIONS[name].choices else None
        for name in TIERS[model].options
    }
    [options] = parse_options({**given, "model": model}, edge="api", default_model="pro")
    run = Run(options=options, endpoint=TIERS[model].endpoint, created_at=1_795_000_000.0)
    card, summary = presenter.run_details(run, []), run_summary(run, []).model_dump()
    for name, value in options.values.items():
        option = OPTIONS[name]
        if option.kind is not str or option.choices:
            assert f"**{option.short or option.label}:** {option.shown(value)}" in card
        assert summary[option.api_name] == value
    assert Options.model_validate_json(options.model_dump_json()) == options  # as the history keeps it


def a_valid_value(option: Option) -> Any:
    """A value other than the default that the option takes."""
    if option.kind is bool:
        return not option.default
    if option.choices:
        return next(value for value in option.choice_values if value != option.default)
    if option.kind is str:
        return "given by the test"
    low = option.minimum if option.minimum is not None else 0
    return option.kind(low + 1 if option.maximum is None or low + 1 <= option.maximum else low)


@pytest.mark.parametrize("model", list(TIERS))
def test_each_option_reaches_fal_by_its_name_and_only_for_its_models(
    client: Any, fal: FalEmulator, model: str
) -> None:
    """Every option the model takes, set to a value of its own, arrives in fal's body as given; no
    other option's field is sent (the emulator's schema for the endpoint refuses any)."""
    given = {OPTIONS[name].api_name: a_valid_value(OPTIONS[name]) for name in TIERS[model].options}
    client.predict(image=SAMPLE_IMAGE_URL, video=SAMPLE_VIDEO_URL, model=model, **given, api_name="/generate")
    [request] = fal.submitted
    assert request.endpoint == TIERS[model].endpoint
    sent = {OPTIONS[name].api_name for name in TIERS[model].options if TIERS[model].sends(name)}
    assert {name: request.body[name] for name in sent} == {name: given[name] for name in sent}
    assert set(request.body) <= TIERS[model].fal_fields()


@pytest.mark.parametrize(
    ("model", "option"),
    [(m, o) for m in TIERS.values() for o in OPTIONS.values() if not m.takes(o.name)],
    ids=lambda value: getattr(value, "name", ""),
)
def test_the_emulator_refuses_a_field_the_endpoint_does_not_take(model: Any, option: Option) -> None:
    from .fal_emulator import _validate

    body = {"image_url": "https://x/i.png", "video_url": "https://x/v.mp4", option.fal: a_valid_value(option)}
    assert {
        "loc": ["body", option.fal],
        "msg": "Extra inputs are not permitted",
        "type": "extra_forbidden",
    } in (_validate(body, None, model))
