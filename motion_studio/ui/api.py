"""The app's public API, and with it the MCP server's tools: `/generate` and `/check`, nothing else.

Both are `gr.api` endpoints: typed by their signatures, with fal's own parameter names, so a script
calls them by name and an agent reads each parameter's description (the docstring's `Args:`, written
from the catalogue's limits) in the MCP tool's schema. The page's own events are private (wiring.py).

An image or a clip is a string: an http(s) URL, fetched by the studio's SSRF-safe fetcher exactly as
the page's URL boxes are (a file on fal's CDN then goes to fal as it is). From `gradio_client`,
`handle_file(path)` uploads a local file first; it arrives as Gradio's file dict, which Gradio has
checked to be one of its uploads. The handlers only turn these into a `RunRequest`, call the studio,
and shape the answer; every rule lives behind the studio.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import anyio
import gradio as gr
from gradio.data_classes import FileData

from ..batches import MAX_INPUTS
from ..catalog import (
    FACE_MAX_ANGLES,
    FACE_REFERENCE,
    FACE_TIERS,
    LIMITS,
    ORIENTATION_HELP,
    ORIENTATION_MAX_SECONDS,
    TIERS,
    format_price,
)
from ..errors import InputError, RunCancelledError, StudioError, map_exception
from ..inputs import FaceGiven
from ..jobs import Done, Failed
from ..studio import RunRequest, Studio
from ..summary import BatchCheckSummary, BatchSummary, CheckSummary, RunSummary
from .api_batch import batch_request, generate_batch

log = logging.getLogger("motion_studio.api")

# The schema's enums follow the catalogue (a model added there is offered here); to the type checker
# they are plain strings, which is all the handlers rely on (the studio refuses unknown names).
if TYPE_CHECKING:
    Orientation = str
    ModelName = str
    FileInput = str | dict[str, Any]
else:
    Orientation = Literal[tuple(ORIENTATION_MAX_SECONDS)]
    ModelName = Literal[tuple(TIERS)]
    # The schema says "string" (what an MCP client can give: a URL); gradio_client's upload arrives
    # as a file dict, which `_file_or_url` takes too.
    FileInput = str


def wire_api(studio: Studio) -> None:
    """`/generate` and `/check`, inside the page's Blocks (the MCP server exposes exactly these two)."""
    default_model = studio.settings.default_tier

    async def generate(
        image: FileInput,
        video: FileInput,
        character_orientation: Orientation = "video",
        prompt: str = "",
        keep_original_sound: bool = True,
        model: ModelName = default_model,
        face_image: FileInput | None = None,
        face_reference_images: list[FileInput] | None = None,
        more_images: list[FileInput] | None = None,
        more_videos: list[FileInput] | None = None,
        request: gr.Request | None = None,
    ) -> tuple[FileData, RunSummary | BatchSummary]:
        headers = request.headers if request is not None else {}
        caller = studio.api_caller(headers.get("x-forwarded-for"), getattr(request, "client", None))
        try:  # fetching a URL and probing a clip block: not on the server's event loop
            wanted = _run_request(image, video, character_orientation, prompt, keep_original_sound, model)
            wanted = wanted.with_face(_face(face_image, face_reference_images))
            if (batch := batch_request(wanted, more_images, more_videos, _file_or_url)) is not None:
                return await generate_batch(studio, batch, caller)  # several runs, one grid (api_batch.py)
            job = await anyio.to_thread.run_sync(studio.start_for_api, wanted, caller)
        except Exception as exc:
            raise _one_sentence(exc) from None
        final = None
        async for event in job.subscribe():
            final = event
        if not isinstance(final, Done):  # its one sentence, as the page shows it
            message = final.message if isinstance(final, Failed) else RunCancelledError().message
            raise gr.Error(message, print_exception=False)
        try:  # a link, or a copy across filesystems: off the event loop
            video_file, summary = await anyio.to_thread.run_sync(studio.result_for_api, final.run_id or "")
        except StudioError as exc:
            raise gr.Error(exc.message, print_exception=False) from None
        return FileData(path=video_file, orig_name=Path(video_file).name), summary

    def check(
        image: FileInput,
        video: FileInput,
        character_orientation: Orientation = "video",
        prompt: str = "",
        keep_original_sound: bool = True,
        model: ModelName = default_model,
        face_image: FileInput | None = None,
        face_reference_images: list[FileInput] | None = None,
        more_images: list[FileInput] | None = None,
        more_videos: list[FileInput] | None = None,
        request: gr.Request | None = None,
    ) -> CheckSummary | BatchCheckSummary:
        headers = request.headers if request is not None else {}
        caller = studio.api_caller(headers.get("x-forwarded-for"), getattr(request, "client", None))
        try:
            studio.admit_api_check(caller)  # free for the caller, not for the server: a few a minute
            wanted = _run_request(image, video, character_orientation, prompt, keep_original_sound, model)
            wanted = wanted.with_face(_face(face_image, face_reference_images))
            if (batch := batch_request(wanted, more_images, more_videos, _file_or_url)) is not None:
                return studio.batches.check_for_api(batch)
            return studio.check_for_api(wanted)
        except Exception as exc:
            raise _one_sentence(exc) from None

    generate.__doc__ = _GENERATE_DOC.format(args=_args_doc(default_model))
    check.__doc__ = _CHECK_DOC.format(args=_args_doc(default_model))
    gr.api(_typed(generate), api_name="generate", concurrency_limit=None)  # it waits on fal, not the CPU
    gr.api(_typed(check), api_name="check")


def _run_request(
    image: FileInput, video: FileInput, orientation: str, prompt: str, keep_sound: bool, model: str
) -> RunRequest:
    image_path, image_url = _file_or_url(image, "image")
    video_path, video_url = _file_or_url(video, "video")
    return RunRequest(
        image_path, video_path, orientation, prompt or "", bool(keep_sound), model, image_url, video_url
    )


def _face(frontal: FileInput | None, angles: list[FileInput] | None) -> FaceGiven:
    """The face to keep consistent, each image an uploaded file or a URL (checked like `image`)."""
    image, image_url = _file_or_url(frontal, "face image")
    picked = [_file_or_url(angle, "face image") for angle in angles or []]
    return FaceGiven(
        image,
        image_url,
        tuple(path for path, _ in picked if path),
        tuple(url for _, url in picked if url),
    )


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
    raise InputError(f"Give the {kind} as an http(s) URL (or, from gradio_client, as handle_file(path)).")


def _one_sentence(exc: BaseException) -> gr.Error:
    """Any failure as the one sentence the studio has for it (errors/); a bug is logged in full."""
    if isinstance(exc, gr.Error):
        return exc
    error = map_exception(exc)
    if not isinstance(exc, StudioError):
        log.error("API call failed unexpectedly", exc_info=exc)
    return gr.Error(error.message, print_exception=False)


def _typed(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` with its annotations evaluated: this module postpones them (`from __future__`), and
    Gradio reads the return annotation as it finds it, so a string would hide the two outputs."""
    fn.__signature__ = inspect.signature(fn, eval_str=True)  # type: ignore[attr-defined]
    return fn


# -- what the API page and the MCP tool schema say (one line per parameter: Gradio's docstring parser) --

_GENERATE_DOC = """Generate a motion-control video on fal (Kling): the character in `image` performs the motion of `video`.

This spends money on the server's fal key (see the estimate `check` gives, for free, first) and waits
until the video is ready, usually several minutes. The inputs are checked first, as `check` does; a run
that is refused there costs nothing.

{args}

Returns:
    The output video (MP4, H.264/AAC) and a JSON summary: run_id, fal_request_id, status, model, endpoint, orientation, keep_original_sound, clip_seconds, billed_seconds, price_per_second, estimated_cost (USD), error, timings (started_at, submitted_at, finished_at, total_seconds, before_fal_seconds, on_fal_seconds, steps). For a batch (more_images or more_videos): the grid video (every result side by side, in the batch's order, row by row) and a JSON summary: batch_id, status (done, partly done or failed), runs_done, runs_total, estimated_cost (USD, the whole batch), runs (each run's summary as above).
"""

_CHECK_DOC = """Check the inputs of `generate` without spending anything: nothing is uploaded to fal and no run is started.

Call it first: it reads both inputs as `generate` would (fetching URLs), and says whether they are
ready, what was read, and what the run would cost.

{args}

Returns:
    JSON: ready (bool), verdict (one sentence: ready, or the first thing to fix), problems, notes (conversions that will happen), image (width, height, format, size_bytes), video (duration_seconds, width, height, fps, has_sound, codec, container, size_bytes), estimate (model, clip_seconds, billed_seconds, price_per_second, estimated_cost in USD), trim_to_seconds (set when the clip is only too long), face_images (each face image read: width, height, format, size_bytes; frontal first), people_warnings (the people check's advice, each code, message, subject: e.g. no_person_image, several_people_image, person_too_small, half_body_image_full_body_motion; never part of ready), people_check_skipped (why that check did not run, or null). For a batch (more_images or more_videos): ready, verdict (one sentence for the whole batch), problems (each naming the input it is about), varies ('image' or 'video'), inputs (each run's own input), estimate (model, runs, billed_seconds, price_per_second, estimated_cost in USD for the whole batch), runs (each run's check as above).
"""


def _args_doc(default_model: str) -> str:
    """The `Args:` block, written from the catalogue so the limits it states are the ones enforced."""
    image_limits = (
        f"{' or '.join(LIMITS.image_formats)} (other formats such as WebP or HEIC are converted), "
        f"each side at least {LIMITS.image_min_side} px, aspect ratio at most {LIMITS.image_max_aspect:g}:1, "
        f"up to {LIMITS.image_max_bytes // 2**20} MB (a larger photo is re-encoded)"
    )
    clip_limits = (
        f"{' or '.join(f.upper() for f in LIMITS.video_formats)} (others, e.g. WebM, are converted), "
        f"{LIMITS.min_seconds:g} s to {ORIENTATION_MAX_SECONDS['video']:g} s "
        f"(at most {ORIENTATION_MAX_SECONDS['image']:g} s with character_orientation 'image'), "
        f"each side {LIMITS.video_min_side}-{LIMITS.video_max_side} px, up to {LIMITS.video_max_bytes // 2**20} MB"
    )
    orientations = " ".join(f"'{name}': {text}." for name, text in ORIENTATION_HELP.items())
    models = "; ".join(
        f"'{t.name}': {t.resolution}, {format_price(t.price_per_second)} of video"
        + (", can keep a face consistent (face_image)" if t.face_binding else "")
        for t in TIERS.values()
    )
    face_rule = (
        f"Only with model {' or '.join(repr(name) for name in FACE_TIERS)} and character_orientation "
        "'video' (refused otherwise, before anything is spent)"
    )
    lines = [
        f"image: The character image (one realistic person, full or upper body, head visible), as an http(s) URL; {image_limits}.",
        f"video: The reference clip whose motion the character performs (one continuous shot), as an http(s) URL; {clip_limits}. The output is as long as the clip, billed in whole seconds.",
        f"character_orientation: {orientations}. Default 'video'.",
        f"prompt: Optional text describing the scene or the character (up to {LIMITS.prompt_max_chars} characters).",
        "keep_original_sound: Keep the reference clip's sound in the output video. Default true.",
        f"model: The model: {models}. Default '{default_model}'.",
        f"face_image: Optional: a frontal photo of the character's face, kept consistent through the video (fal's element {FACE_REFERENCE}; the prompt names it, and it is added at the end of a prompt that does not), as an http(s) URL; same limits as image. {face_rule}.",
        f"face_reference_images: Optional: up to {FACE_MAX_ANGLES} more photos of the same face from other angles, as a list of http(s) URLs; same limits as image. {face_rule}.",
        f"more_images: Optional, for a batch: more character images (a list of http(s) URLs; same limits as image), each a run of its own with the same video and settings; at most {MAX_INPUTS} images in all, image included. One verdict, one estimate and one spending check for the whole batch (refused whole, nothing uploaded, if it does not fit); generate then returns a grid of every result side by side. Not with more_videos.",
        f"more_videos: Optional, for a batch: more reference clips (a list of http(s) URLs; same limits as video), each a run of its own with the same image and settings; at most {MAX_INPUTS} clips in all, video included. Works like more_images; not with it.",
    ]
    return "Args:\n" + "\n".join(f"    {line}" for line in lines)
