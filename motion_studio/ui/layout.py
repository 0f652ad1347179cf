"""The page's parts, top to bottom: each builder lays out one part and returns its components.

No event is wired here (see `wiring.py`) and no rule is decided (see `handlers.py`): a newcomer can
read what the page looks like without reading what it does. Every `elem_id` is what the browser tests
(and users' own scripts) find the page by.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from .. import presenter
from ..catalog import FACE_MAX_ANGLES, FACE_REFERENCE
from ..settings import Settings
from .batch import BatchPanel, GridView, batch_panel, grid_tab
from .components import any_image

ASSETS = Path(__file__).resolve().parent.parent.parent / "assets"


def page_text(name: str) -> str:
    """Long page text lives in `assets/*.md`, where it can be edited without touching code."""
    return (ASSETS / name).read_text(encoding="utf-8")


@dataclass(frozen=True)
class Header:
    key_status: gr.Markdown
    key_box: gr.Textbox


@dataclass(frozen=True)
class Inputs:
    image: gr.Image
    image_url: gr.Textbox
    image_info: gr.Markdown
    video: gr.Video
    video_url: gr.Textbox
    video_info: gr.Markdown
    trim: gr.Button
    orientation: gr.Radio
    orientation_note: gr.Markdown
    tier: gr.Radio
    keep_sound: gr.Checkbox
    prompt: gr.Textbox
    prompt_count: gr.Markdown
    generate: gr.Button
    example_fal: gr.Button
    example_offline: gr.Button
    example_offline_image: gr.Button
    input_note: gr.HTML
    # "Keep the face consistent" (v3 only): a frontal photo and up to three more angles of the face.
    face_box: gr.Accordion
    face_frontal: gr.Image
    face_angles: tuple[gr.Image, ...]
    face_info: gr.Markdown
    face_name: gr.Button  # puts @Element1 in the prompt
    batch: BatchPanel  # more character images, or more clips: one run each (ui/batch.py)

    @property
    def face_images(self) -> list[gr.Image]:
        """The panel's image boxes, the frontal one first: what a handler gets, in this order."""
        return [self.face_frontal, *self.face_angles]


@dataclass(frozen=True)
class RunView:
    verdict: gr.Markdown
    cost: gr.Markdown
    people: gr.Markdown
    pose_box: gr.Accordion
    pose: gr.Image
    progress: gr.Markdown
    cancel: gr.Button
    empty: gr.Markdown
    results: gr.Column
    output: gr.Video
    reference: gr.Video
    side_tab: gr.Tab
    side_note: gr.Markdown
    side: gr.Video
    download: gr.DownloadButton
    logs: gr.Textbox
    cancel_all: gr.Button  # every run of a batch
    tabs: gr.Tabs
    grid: GridView  # a batch's results side by side (ui/batch.py)


@dataclass(frozen=True)
class GalleryView:
    summary: gr.Markdown
    gallery: gr.Gallery
    show_more: gr.Button
    card: gr.Markdown
    resume: gr.Button
    run_again: gr.Button
    delete: gr.Button
    confirm_row: gr.Column
    confirm_text: gr.Markdown
    confirm_yes: gr.Button
    confirm_no: gr.Button
    timer: gr.Timer


@dataclass(frozen=True)
class Memory:
    """What a page remembers between events (per tab; `owner` per browser, in localStorage)."""

    job_id: gr.State
    owner: gr.BrowserState
    selected_run: gr.State
    gallery_ids: gr.State
    gallery_sig: gr.State
    gallery_limit: gr.State
    checked: gr.State  # (image, clip) the last check accepted: what the people check reads
    batch_id: gr.State  # the batch this page started last, whose progress it follows


@dataclass(frozen=True)
class Page:
    header: Header
    inputs: Inputs
    run: RunView
    gallery: GalleryView
    memory: Memory


def header(settings: Settings) -> Header:
    gr.Markdown(page_text("intro.md"), elem_id="intro")
    key_status = gr.Markdown(presenter.key_status(settings, None), elem_id="key-status")
    lends_its_key = settings.lends_its_key
    with gr.Accordion("fal API key for this session", open=not lends_its_key, elem_id="key-accordion"):
        key_box = gr.Textbox(
            label="fal API key",
            type="password",
            placeholder="paste a key from fal.ai/dashboard/keys",
            elem_id="fal-key",
            info="Used for this browser session only; never stored or shown again.",
        )
    return Header(key_status, key_box)


def inputs(settings: Settings) -> Inputs:
    """The left column: what goes into a run, and the button that starts it."""
    with gr.Row(equal_height=False):
        with gr.Column(min_width=200):
            image = any_image(
                label="Character image",
                sources=["upload", "clipboard"],
                image_mode=None,
                height=260,
                elem_id="image-input",
            )
            image_url = gr.Textbox(
                show_label=False, placeholder="…or an image URL (https://…)", elem_id="image-url", max_lines=1
            )
            image_info = gr.Markdown(elem_id="image-info", elem_classes="small-note")
        with gr.Column(min_width=200):
            video = gr.Video(
                label="Reference clip",
                sources=["upload", "webcam"],
                include_audio=True,
                # 720p is plenty for a motion reference and keeps conversion and upload quick.
                webcam_options=gr.WebcamOptions(
                    mirror=False,
                    constraints={"video": {"width": {"ideal": 1280}, "height": {"ideal": 720}}},
                ),
                height=260,
                elem_id="video-input",
            )
            video_url = gr.Textbox(
                show_label=False, placeholder="…or a video URL (https://…)", elem_id="video-url", max_lines=1
            )
            video_info = gr.Markdown(elem_id="video-info", elem_classes="small-note")
            trim = gr.Button("Trim", visible=False, size="sm", elem_id="trim")
    input_note = gr.HTML("", elem_id="input-note", padding=False)
    # Written by `assets/upload_guard.js` only (never by a handler), so the browser's sentence stays put.
    gr.HTML('<div id="upload-refusal"></div>', padding=False, elem_id="upload-refusal-box")
    with gr.Row(equal_height=False):
        with gr.Column(min_width=200):
            orientation = gr.Radio(
                presenter.orientation_choices(),
                value="video",
                label="Character orientation",
                elem_id="orientation",
            )
            orientation_note = gr.Markdown(presenter.orientation_help("video"), elem_classes="small-note")
        with gr.Column(min_width=200):
            tier = gr.Radio(
                presenter.tier_choices(), value=settings.default_tier, label="Model", elem_id="tier"
            )
            keep_sound = gr.Checkbox(
                value=True, label="Keep the reference clip's sound", elem_id="keep-sound"
            )
    face_box, face_frontal, face_angles, face_info, face_name = face_panel(settings)
    batch = batch_panel()
    prompt = gr.Textbox(
        label="Prompt (optional)",
        lines=2,
        elem_id="prompt",
        placeholder=presenter.prompt_placeholder(settings.default_tier),
    )
    prompt_count = gr.Markdown(
        presenter.prompt_counter(""), elem_id="prompt-counter", elem_classes="small-note"
    )
    generate = gr.Button("Generate", variant="primary", size="lg", interactive=False, elem_id="generate")
    gr.Markdown(
        page_text("upload_ahead.md"),
        visible=settings.upload_ahead,
        elem_id="upload-ahead-note",
        elem_classes="small-note",
    )
    with gr.Accordion("Try an example (loading one costs nothing)", open=True, elem_id="examples"):
        example_fal = gr.Button(
            "💃 fal's own sample: a dancer (fetched from fal's CDN)", size="sm", elem_id="example-fal"
        )
        with gr.Row():
            example_offline = gr.Button(
                "🧍 Offline: cartoon figure, orientation video", size="sm", elem_id="example-offline"
            )
            example_offline_image = gr.Button(
                "🧍 Offline: cartoon figure, orientation image", size="sm", elem_id="example-offline-image"
            )
        gr.Markdown(page_text("examples.md"), elem_classes="small-note")
    return Inputs(
        image,
        image_url,
        image_info,
        video,
        video_url,
        video_info,
        trim,
        orientation,
        orientation_note,
        tier,
        keep_sound,
        prompt,
        prompt_count,
        generate,
        example_fal,
        example_offline,
        example_offline_image,
        input_note,
        face_box,
        face_frontal,
        face_angles,
        face_info,
        face_name,
        batch,
    )


def face_panel(
    settings: Settings,
) -> tuple[gr.Accordion, gr.Image, tuple[gr.Image, ...], gr.Markdown, gr.Button]:
    """Kling v3's face binding: shown only while a v3 model is chosen (the handlers ignore its images
    otherwise). Four image boxes, two by two."""
    with gr.Accordion(
        "Keep the face consistent (optional)",
        open=True,
        visible=presenter.face_panel_shown(settings.default_tier),
        elem_id="face-panel",
    ) as box:
        gr.Markdown(page_text("face.md"), elem_classes="small-note")
        boxes = []
        with gr.Column(elem_id="face-images"):  # two by two: labels and buttons fit on a phone too
            for row in range((FACE_MAX_ANGLES + 2) // 2):
                with gr.Row(equal_height=True):
                    for n in range(2 * row, min(2 * row + 2, FACE_MAX_ANGLES + 1)):
                        boxes.append(
                            any_image(
                                label="Frontal" if n == 0 else f"Angle {n}",
                                sources=["upload", "clipboard"],
                                image_mode=None,
                                height=140,
                                min_width=120,
                                buttons=[],  # no full-screen button: the label fits beside the clear one
                                elem_id="face-frontal" if n == 0 else f"face-angle-{n}",
                            )
                        )
        frontal, angles = boxes[0], tuple(boxes[1:])
        info = gr.Markdown(elem_id="face-info", elem_classes="small-note")
        name = gr.Button(f"Name the face in the prompt ({FACE_REFERENCE})", size="sm", elem_id="face-name")
    return box, frontal, angles, info, name


def run_view(settings: Settings) -> RunView:
    """The right column: the verdict before a run, its progress during, its videos after."""
    verdict = gr.Markdown(presenter.EMPTY_VERDICT, elem_id="verdict")
    cost = gr.Markdown(presenter.price_line(settings.default_tier), elem_id="cost")
    # The people check (issue 11) arrives a moment after the verdict, in its own event: advice only.
    people = gr.Markdown(elem_id="people-check")
    with gr.Accordion(
        "Pose preview: what the model will match", open=True, visible=False, elem_id="pose-accordion"
    ) as pose_box:
        pose = gr.Image(
            show_label=False,
            type="filepath",
            format="png",
            interactive=False,
            buttons=["fullscreen"],
            elem_id="pose-preview",
        )
    with gr.Row(equal_height=True):
        progress = gr.Markdown(elem_id="progress")
        cancel = gr.Button("Cancel", variant="stop", visible=False, size="sm", scale=0, elem_id="cancel")
        cancel_all = gr.Button(
            "Cancel all", variant="stop", visible=False, size="sm", scale=0, elem_id="cancel-all"
        )
    empty = gr.Markdown(page_text("empty_result.md"), elem_id="result-empty", elem_classes="empty-state")
    with gr.Column(visible=False, elem_id="results") as results:
        with gr.Tabs(elem_id="result-tabs") as tabs:
            with gr.Tab("Result", id="result"):
                output = gr.Video(
                    label="Result",
                    interactive=False,
                    buttons=["download"],
                    height=420,
                    elem_id="output-video",
                )
            with gr.Tab("Reference", id="reference"):
                reference = gr.Video(
                    label="Reference clip", interactive=False, height=420, elem_id="reference-video"
                )
            with gr.Tab("Side by side", id="side") as side_tab:
                side_note = gr.Markdown(elem_id="side-note", elem_classes="small-note")
                side = gr.Video(
                    label="Reference | result",
                    interactive=False,
                    buttons=["download"],
                    height=420,
                    elem_id="side-video",
                )
            grid = grid_tab()
        download = gr.DownloadButton("Download result", visible=False, size="sm", elem_id="download")
    with gr.Accordion("fal log", open=False, elem_id="log-accordion"):
        logs = gr.Textbox(
            show_label=False, lines=4, max_lines=8, autoscroll=True, interactive=False, elem_id="logs"
        )
    return RunView(
        verdict,
        cost,
        people,
        pose_box,
        pose,
        progress,
        cancel,
        empty,
        results,
        output,
        reference,
        side_tab,
        side_note,
        side,
        download,
        logs,
        cancel_all,
        tabs,
        grid,
    )


def gallery_view() -> GalleryView:
    """Below both columns: every run of this browser, newest first, and what can be done with one."""
    gr.Markdown("## Your runs", elem_id="runs-title")
    summary = gr.Markdown(elem_id="runs-summary", elem_classes="small-note")
    gallery = gr.Gallery(
        show_label=False,
        columns=5,
        height="auto",
        allow_preview=False,
        preview=False,
        object_fit="cover",
        interactive=False,
        fit_columns=False,  # one run is one tile, not a picture the width of the page
        elem_id="gallery",
    )
    show_more = gr.Button("Show more", visible=False, size="sm", elem_id="show-more")
    card = gr.Markdown(
        "Select a run to see its details, restore its settings, or delete it.", elem_id="run-details"
    )
    with gr.Row():
        resume = gr.Button("Resume this run", visible=False, elem_id="resume-run", size="sm")
        run_again = gr.Button("Run again", visible=False, elem_id="run-again", size="sm")
        delete = gr.Button("Delete this run", variant="stop", visible=False, elem_id="delete-run", size="sm")
    with gr.Column(visible=False, elem_id="confirm-delete") as confirm_row:
        confirm_text = gr.Markdown(elem_id="confirm-delete-text")
        with gr.Row():
            confirm_yes = gr.Button("Yes, delete it", variant="stop", size="sm", elem_id="confirm-delete-yes")
            confirm_no = gr.Button("Keep it", size="sm", elem_id="confirm-delete-no")
    timer = gr.Timer(3.0, active=False)  # on only while one of this browser's runs is active
    return GalleryView(
        summary,
        gallery,
        show_more,
        card,
        resume,
        run_again,
        delete,
        confirm_row,
        confirm_text,
        confirm_yes,
        confirm_no,
        timer,
    )


def memory(settings: Settings) -> Memory:
    # A random id kept in this browser's localStorage: whose runs are whose, for private galleries.
    # Its secret is kept (a setting, or a file in the data directory): the id survives restarts.
    owner = gr.BrowserState(None, storage_key="motion-studio-owner", secret=settings.browser_state_secret())
    gallery_sig: Any = gr.State(None)  # None: not rendered yet, so even an empty history is shown
    return Memory(
        job_id=gr.State(None),
        owner=owner,
        selected_run=gr.State(None),
        gallery_ids=gr.State([]),
        gallery_sig=gallery_sig,
        gallery_limit=gr.State(settings.gallery_page_size),
        checked=gr.State((None, None)),
        batch_id=gr.State(None),
    )
