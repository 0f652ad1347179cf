"""The app's public API, and with it the MCP server's tools: `/generate` and `/check`, nothing else.

Both are `gr.api` endpoints whose signatures are made from the catalogue: the two inputs, every option
(fal's own parameter names, so a script calls them by name; each option's text, choices and bounds in
the MCP tool's schema), the face and a batch's extra inputs, then any option added since. Every
option goes through `parse_options`, as the page's and the command line's do. The page's own events
are private (wiring.py).

An image or a clip is a string: an http(s) URL, fetched by the studio's SSRF-safe fetcher exactly as
the page's URL boxes are (a file on fal's CDN then goes to fal as it is). From `gradio_client`,
`handle_file(path)` uploads a local file first; it arrives as Gradio's file dict, which Gradio has
checked to be one of its uploads. The handlers only turn these into an `Order`, call the studio, and
shape the answer; every rule lives behind the studio.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import anyio
import gradio as gr
from gradio.components.api_component import Api
from gradio.data_classes import FileData
from mcp import types as mcp_types

from ..catalog import FACE_MAX_ANGLES, FACE_REFERENCE, FACE_TIERS, LIMITS, OPTIONS, Option, compare_option
from ..errors import RunCancelledError, StudioError, UrlError, map_exception
from ..jobs.events import Done, Failed
from ..jobs.job import Job
from ..option_help import described, offered
from ..options_parser import parse_options
from ..order import MAX_INPUTS, FaceSources, Options, Order, Source
from ..studio.service import Studio
from ..summary import BatchCheckSummary, BatchSummary, CheckSummary, RunSummary

log = logging.getLogger("motion_studio.api")

# To the type checker a file is a plain string or Gradio's file dict. The schema says "string" (what
# an MCP client can give: a URL); gradio_client's upload arrives as a file dict, which
# `_file_or_url` takes too.
if TYPE_CHECKING:
    FileInput = str | dict[str, Any]
else:
    FileInput = str

Answer = tuple[FileData, RunSummary | BatchSummary]


def wire_api(studio: Studio) -> None:
    """`/generate` and `/check`, inside the page's Blocks (the MCP server exposes exactly these two)."""

    model = studio.settings.default_tier

    async def generate(*values: Any) -> Answer:
        request, order = _parsed(values, model)
        caller = _caller(studio, request)
        try:  # fetching a URL and probing a clip block: not on the server's event loop
            wanted = order()
            if wanted.is_batch:
                batch = await anyio.to_thread.run_sync(studio.batches.start_for_api, wanted, caller)
                return await _answer(batch.jobs, studio.batches.result_for_api, batch.id)
            job = await anyio.to_thread.run_sync(studio.orders.start_for_api, wanted, caller)
        except Exception as exc:
            raise _one_sentence(exc) from None
        return await _answer((job,), studio.runs.result_for_api, None)

    def check(*values: Any) -> CheckSummary | BatchCheckSummary:
        request, order = _parsed(values, model)
        caller = _caller(studio, request)
        try:
            studio.orders.admit_api_check(caller)  # free for the caller, not for the server: a few a minute
            wanted = order()
            return (
                studio.batches.check_for_api(wanted)
                if wanted.is_batch
                else studio.orders.check_for_api(wanted)
            )
        except Exception as exc:
            raise _one_sentence(exc) from None

    for fn, doc, returns, name in (
        (generate, _GENERATE_DOC, Answer, "generate"),
        (check, _CHECK_DOC, CheckSummary | BatchCheckSummary, "check"),
    ):  # /generate waits on fal, not the CPU: no concurrency limit
        limit = None if name == "generate" else "default"
        endpoint = gr.api(_described(fn, doc, returns, model), api_name=name, concurrency_limit=limit)
        _bounds_in_schema(endpoint, model)


def _parameters(default_model: str) -> list[inspect.Parameter]:
    """The endpoints' parameters, in order: the inputs, the first options, the face, a batch's
    extras, then the options added since. An option's default is null: the catalogue's default for
    the chosen model (which the description states)."""
    keyword = inspect.Parameter.POSITIONAL_OR_KEYWORD

    def param(name: str, annotation: Any, default: Any = inspect.Parameter.empty) -> inspect.Parameter:
        return inspect.Parameter(name, keyword, annotation=annotation, default=default)

    first, added = offered(default_model)
    return [
        param("image", FileInput),
        param("video", FileInput),
        *(param(option.api_name, _annotation(option), None) for option in first),
        param("face_image", FileInput | None, None),
        param("face_reference_images", list[FileInput] | None, None),
        param("more_images", list[FileInput] | None, None),
        param("more_videos", list[FileInput] | None, None),
        param("more_models", list[_annotation(compare_option(default_model))] | None, None),  # type: ignore[misc]
        *(param(option.api_name, _annotation(option), None) for option in added),
        param("request", gr.Request | None, None),
    ]


def _annotation(option: Option) -> Any:
    """The type Gradio's schema shows (its choices as an enum); a caller's wrong type still reaches
    `parse_options`, which names it."""
    return Literal[option.choice_values] if option.choices else option.kind  # type: ignore[valid-type]


def _bounds_in_schema(endpoint: Any, default_model: str) -> None:
    """Gradio's schema is made from type hints alone: an option's bounds and length are added to its
    parameter's schema, which the API page and the MCP tools show."""
    first, added = offered(default_model)
    by_name = {option.api_name: option for option in (*first, *added)}
    blocks = gr.context.get_blocks_context()
    if blocks is None:
        return
    names = [p.name for p in _parameters(default_model) if p.name != "request"]
    for name, component in zip(names, blocks.fns[endpoint["id"]].inputs, strict=False):
        option = by_name.get(name)
        if option is None:
            continue
        bounds = {"minimum": option.minimum, "maximum": option.maximum, "maxLength": option.max_chars}
        if isinstance(component, Api):
            info: dict[str, Any] = component._api_info
            info.update({key: value for key, value in bounds.items() if value is not None})


def _described(fn: Callable[..., Any], doc: str, returns: Any, default_model: str) -> Callable[..., Any]:
    """`fn` as Gradio reads an endpoint: a signature and annotations made from `_parameters` (Gradio
    reads the type hints for the schema and passes values in this order), and the docstring whose
    `Args:` describe each parameter."""
    parameters = _parameters(default_model)
    fn.__signature__ = inspect.Signature(parameters, return_annotation=returns)  # type: ignore[attr-defined]
    fn.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": returns}
    fn.__doc__ = doc.format(args=_args_doc(default_model))
    return fn


def _parsed(values: tuple[Any, ...], default_model: str) -> tuple[gr.Request | None, Callable[[], Order]]:
    """The call's request, and its order (made when called, so that its one sentence is raised
    where the endpoint answers errors)."""
    parameters = _parameters(default_model)
    named = {p.name: p.default for p in parameters} | dict(
        zip((p.name for p in parameters), values, strict=False)
    )

    def order() -> Order:
        options, *compared = _options(named, default_model)
        return Order.of(
            options,
            _source(named.get("image"), "image"),
            _source(named.get("video"), "video"),
            more_images=tuple(_source(value, "image") for value in named.get("more_images") or [] if value),
            more_videos=tuple(_source(value, "video") for value in named.get("more_videos") or [] if value),
            face=FaceSources(
                _source(named.get("face_image"), "face image"),
                tuple(_source(v, "face image") for v in named.get("face_reference_images") or []),
            ),
            compared=tuple(compared),
        )

    request = named.get("request")
    return (request if isinstance(request, gr.Request) else None), order


def _options(named: Mapping[str, Any], default_model: str) -> tuple[Options, ...]:
    """The call's options (the chosen model's, then each compared model's), by their API names,
    through the parser every edge uses."""
    first, added = offered(default_model)
    given = {option.name: named.get(option.api_name) for option in (*first, *added)}
    return parse_options(
        {**given, "more_models": named.get("more_models")}, edge="api", default_model=default_model
    )


def mcp_options_first(default_model: str) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """A lifespan for the served app (see `launch_kwargs`). The MCP server checks a tool call's
    arguments against the schema before the tool runs, and its refusal names no parameter ("'x' is
    not one of [...]"): a tool call's options are read first, by the parser `/check` uses, so an
    agent gets the sentence that names the parameter. The schema keeps its choices and bounds."""

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        server = getattr(app.get_blocks().mcp_server_obj, "mcp_server", None)
        if server is not None:
            tools = server.request_handlers[mcp_types.CallToolRequest]

            async def options_first(request: mcp_types.CallToolRequest) -> Any:
                try:
                    _options(request.params.arguments or {}, default_model)
                except StudioError as exc:
                    refusal = mcp_types.TextContent(type="text", text=exc.message)
                    return mcp_types.ServerResult(mcp_types.CallToolResult(content=[refusal], isError=True))
                return await tools(request)

            server.request_handlers[mcp_types.CallToolRequest] = options_first
        yield

    return lifespan


def _caller(studio: Studio, request: gr.Request | None) -> str:
    headers = request.headers if request is not None else {}
    return studio.keys.api_caller(headers.get("x-forwarded-for"), getattr(request, "client", None))


async def _answer(
    jobs: tuple[Job, ...], result: Callable[[str], tuple[str, Any]], batch_id: str | None
) -> Answer:
    """Wait for every run, then answer the result (a batch's grid, or the run's video) and its
    summary; a single run that did not end done answers its one sentence, as the page shows it."""
    finals = await asyncio.gather(*(_last_event(job) for job in jobs))
    if batch_id is None and not isinstance(finals[0], Done):
        final = finals[0]
        message = final.message if isinstance(final, Failed) else RunCancelledError().message
        raise gr.Error(message, print_exception=False)
    wanted = batch_id if batch_id is not None else getattr(finals[0], "run_id", "") or ""
    try:  # a link, a grid, or a copy across filesystems: off the event loop
        shown, summary = await anyio.to_thread.run_sync(result, wanted)
    except StudioError as exc:
        raise gr.Error(exc.message, print_exception=False) from None
    return FileData(path=shown, orig_name=Path(shown).name), summary


async def _last_event(job: Job) -> Any:
    final = None
    async for event in job.subscribe():
        final = event
    return final


def _source(value: Any, kind: str) -> Source:
    return Source.given(*_file_or_url(value, kind))


def _file_or_url(value: FileInput | None, kind: str) -> tuple[str | None, str | None]:
    """(uploaded file, URL): a string is only ever a URL (never a path on this server), and a dict
    only a file Gradio took as an upload (it has checked the path is one; a dict without Gradio's
    file marker was never checked, so it is refused)."""
    if value is None or value == "":
        return None, None
    if isinstance(value, str):
        return None, value
    meta = value.get("meta") if isinstance(value, dict) else None
    if isinstance(meta, dict) and meta.get("_type") == "gradio.FileData" and value.get("path"):
        return str(value["path"]), None
    raise UrlError.not_a_file_or_url(kind)


def _one_sentence(exc: BaseException) -> gr.Error:
    """Any failure as the one sentence the studio has for it (errors/); a bug is logged in full."""
    if isinstance(exc, gr.Error):
        return exc
    error = map_exception(exc)
    if not isinstance(exc, StudioError):
        log.error("API call failed unexpectedly", exc_info=exc)
    return gr.Error(error.message, print_exception=False)


# -- what the API page and the MCP tool schema say (one line per parameter: Gradio's docstring parser) --

_GENERATE_DOC = """Generate a motion-control video on fal (Kling, Wan 2.2 Animate or DreamActor: see model): the character in `image` performs the motion of `video`.

This spends money on the server's fal key (see the estimate `check` gives, for free, first) and waits
until the video is ready, usually several minutes. The inputs are checked first, as `check` does; a run
that is refused there costs nothing.

{args}

Returns:
    The output video (MP4, H.264/AAC) and a JSON summary: run_id, fal_request_id, status, model (the model fal ran), chosen_model, preview (true: a 3 s preview; call again without preview for the whole clip), preview_of, endpoint, each option the model took by its parameter name (e.g. character_orientation, prompt, keep_original_sound), clip_seconds, billed_seconds, price_per_second, estimated_cost (USD), model_prompt and seed_used (what the model returned besides its video: Wan's own prompt and the seed it used, which given as seed makes the same video again; null for the other models), sound_added_locally (true: the clip's sound was put back here on a result that came without it, at no cost; false: it could not be and the video is silent; null: nothing to do), error, timings (started_at, submitted_at, finished_at, total_seconds, before_fal_seconds, on_fal_seconds, steps). For a batch (more_images, more_videos, or more_models to compare models): the grid video (every result side by side, in the batch's order, row by row; a comparison's cells labelled by model) and a JSON summary: batch_id, status (done, partly done or failed), runs_done, runs_total, estimated_cost (USD, the whole batch), runs (each run's summary as above).
"""

_CHECK_DOC = """Check the inputs of `generate` without spending anything: nothing is uploaded to fal and no run is started.

Call it first: it reads both inputs as `generate` would (fetching URLs), and says whether they are
ready, what was read, and what the run would cost.

{args}

Returns:
    JSON: ready (bool), verdict (one sentence: ready, or the first thing to fix), problems, notes (conversions that will happen), image (width, height, format, size_bytes), video (duration_seconds, width, height, fps, has_sound, codec, container, size_bytes), estimate (model, preview, clip_seconds, billed_seconds, price_per_second, estimated_cost in USD; with preview, the preview's 3 s on its model), trim_to_seconds (set when the clip is only too long), face_images (each face image read: width, height, format, size_bytes; frontal first), people_warnings (the people check's advice, each code, message, subject: e.g. no_person_image, several_people_image, person_too_small, half_body_image_full_body_motion; never part of ready), people_check_skipped (why that check did not run, or null). For a batch (more_images, more_videos or more_models): ready, verdict (one sentence for the whole batch), problems (each naming the input it is about), varies ('image', 'video' or 'model'), inputs (each run's own input, or model), estimate (model, runs, billed_seconds, price_per_second (null for a comparison), models (a comparison's, as each run goes to fal), estimated_cost in USD for the whole batch: a comparison's is the sum), runs (each run's check as above).
"""


def _args_doc(default_model: str) -> str:
    """The `Args:` block: the inputs' limits from the catalogue and each option's own description, so
    what it states is what is enforced."""
    image_limits = (
        f"{' or '.join(LIMITS.image_formats)} (other formats such as WebP or HEIC are converted), "
        f"each side at least {LIMITS.image_min_side} px, aspect ratio at most {LIMITS.image_max_aspect:g}:1, "
        f"up to {LIMITS.image_max_bytes // 2**20} MB (a larger photo is re-encoded)"
    )
    clip_limits = (
        f"{' or '.join(f.upper() for f in LIMITS.video_formats)} (others, e.g. WebM, are converted), "
        f"{LIMITS.min_seconds:g} s to {LIMITS.max_seconds:g} s{_clip_caps()}, "
        f"each side {LIMITS.video_min_side}-{LIMITS.video_max_side} px, up to {LIMITS.video_max_bytes // 2**20} MB"
    )
    face_rule = (
        f"Only with model {' or '.join(repr(name) for name in FACE_TIERS)} and character_orientation "
        "'video' (refused otherwise, before anything is spent)"
    )
    first, added = offered(default_model)
    lines = [
        f"image: The character image (one realistic person, full or upper body, head visible), as an http(s) URL; {image_limits}.",
        f"video: The reference clip whose motion the character performs (one continuous shot), as an http(s) URL; {clip_limits}. The output is as long as the clip, billed in whole seconds.",
        *(f"{option.api_name}: {described(option, 'api')}" for option in first),
        f"face_image: Optional: a frontal photo of the character's face, kept consistent through the video (fal's element {FACE_REFERENCE}; the prompt names it, and it is added at the end of a prompt that does not), as an http(s) URL; same limits as image. {face_rule}.",
        f"face_reference_images: Optional: up to {FACE_MAX_ANGLES} more photos of the same face from other angles, as a list of http(s) URLs; same limits as image. {face_rule}.",
        f"more_images: Optional, for a batch: more character images (a list of http(s) URLs; same limits as image), each a run of its own with the same video and settings; at most {MAX_INPUTS} images in all, image included. One verdict, one estimate and one spending check for the whole batch (refused whole, nothing uploaded, if it does not fit); generate then returns a grid of every result side by side. Not with more_videos.",
        f"more_videos: Optional, for a batch: more reference clips (a list of http(s) URLs; same limits as video), each a run of its own with the same image and settings; at most {MAX_INPUTS} clips in all, video included. Works like more_images; not with it.",
        f"more_models: Optional, to compare models: {compare_option(default_model).help} A list of model names, as for model.",
        *(f"{option.api_name}: {described(option, 'api')}" for option in added),
    ]
    return "Args:\n" + "\n".join(f"    {line}" for line in lines)


def _clip_caps() -> str:
    """ " (at most 10 s with character_orientation 'image')": a choice that shortens the clip."""
    caps = [
        f"at most {c.clip_max_seconds:g} s with {option.api_name} '{c.value}'"
        for option in OPTIONS.values()
        for c in option.choices
        if c.clip_max_seconds is not None and c.clip_max_seconds < LIMITS.max_seconds
    ]
    return f" ({'; '.join(caps)})" if caps else ""
