"""The left column: what goes into a run (the character image, the reference clip, the model by its
family and its options, the face and batch panels), and the Generate button. Each option's control is made from the
catalogue (`option_controls.py`); this module only says where each sits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from ... import presenter
from ...catalog import OPTIONS
from ...order import Options
from ...settings import Settings
from ..components import any_image
from .assets import page_text
from .batch_panel import BatchPanel, batch_panel
from .face import face_panel
from .option_controls import Control, OptionControls


@dataclass(frozen=True)
class Inputs:
    image: gr.Image
    image_url: gr.Textbox
    image_info: gr.Markdown
    video: gr.Video
    video_url: gr.Textbox
    video_info: gr.Markdown
    trim: gr.Button
    family: gr.Radio  # the model's family: the model's choice lists that family's models
    tier: gr.Radio  # the model: what the order reads (the family follows it)
    model_note: gr.Markdown  # what the chosen model is for
    controls: OptionControls  # every option's control, its note or counter, as the catalogue describes it
    generate: gr.Button
    preview: gr.Button  # the clip's first seconds on the family's cheapest model, before paying for all
    input_note: gr.HTML
    # "Keep the face consistent" (v3 only): a frontal photo and up to three more angles of the face.
    face_box: gr.Accordion
    face_frontal: gr.Image
    face_angles: tuple[gr.Image, ...]
    face_info: gr.Markdown
    face_name: gr.Button  # puts @Element1 in the prompt
    batch: BatchPanel  # more character images, or more clips: one run each
    image_from_url: gr.Image  # what an image URL holds, once fetched: you see what you pay for
    video_from_url: gr.Video  # the same for a clip URL (an H.264 preview when browsers can't play it)

    @property
    def options(self) -> dict[str, gr.components.Component]:
        """Each choice of a run (the model and every catalogue option) and the box that sets it: the
        page's order, its wiring and a run restored from the gallery all go by this."""
        return {**self.controls.boxes, "model": self.tier}

    # Kling's options that the page does more with (the face's name in the prompt, trimming to the
    # orientation's limit, the examples): their boxes by name.
    @property
    def orientation(self) -> Control:
        return self.controls.boxes["orientation"]

    @property
    def prompt(self) -> Control:
        return self.controls.boxes["prompt"]

    def starters(self, interactive: bool) -> dict[gr.Button, Any]:
        """Generate and Preview are held and given back together: either one spends money."""
        return {button: gr.update(interactive=interactive) for button in (self.generate, self.preview)}

    @property
    def face_images(self) -> list[gr.Image]:
        """The panel's image boxes, the frontal one first: what a handler gets, in this order."""
        return [self.face_frontal, *self.face_angles]


def inputs(settings: Settings) -> Inputs:
    """The left column: what goes into a run, and the button that starts it."""
    with gr.Row(equal_height=False):
        with gr.Column(min_width=200):
            image, image_url, image_from_url, image_info = _character_image()
        with gr.Column(min_width=200):
            video, video_url, video_from_url, video_info, trim = _reference_clip()
    input_note = gr.HTML("", elem_id="input-note", padding=False)
    # Written by `assets/upload_guard.js` only (never by a handler), so the browser's sentence stays put.
    gr.HTML('<div id="upload-refusal"></div>', padding=False, elem_id="upload-refusal-box")
    family, tier, model_note = _model_choice(settings.default_tier)
    controls = OptionControls(settings.default_tier)
    # Each option in its own column, in the catalogue's order (the sound, which every model takes,
    # last): a model's options fill the row from the left, two or three abreast, one on a phone.
    with gr.Row(equal_height=False, elem_id="options-row"):
        for name in [*(name for name in OPTIONS if name not in ("prompt", "keep_sound")), "keep_sound"]:
            controls.place(name)
    controls.place("prompt", placeholder=presenter.prompt_placeholder(settings.default_tier))
    face_box, face_frontal, face_angles, face_info, face_name = face_panel(settings)
    batch = batch_panel(settings.default_tier)
    generate, preview = _generate(settings)
    return Inputs(
        image=image,
        image_url=image_url,
        image_info=image_info,
        video=video,
        video_url=video_url,
        video_info=video_info,
        trim=trim,
        family=family,
        tier=tier,
        model_note=model_note,
        controls=controls,
        generate=generate,
        preview=preview,
        input_note=input_note,
        face_box=face_box,
        face_frontal=face_frontal,
        face_angles=face_angles,
        face_info=face_info,
        face_name=face_name,
        batch=batch,
        image_from_url=image_from_url,
        video_from_url=video_from_url,
    )


def _model_choice(default_model: str) -> tuple[gr.Radio, gr.Radio, gr.Markdown]:
    """The family first (what each is for, under it), then that family's models (what the chosen one
    is for, under it)."""
    family = presenter.family_of(default_model) or ""
    with gr.Group():
        family_box = gr.Radio(
            presenter.family_choices(),
            value=family,
            label="Model family",
            info=presenter.family_note(family),
            elem_id="family",
        )
        tier = gr.Radio(presenter.model_choices(family), value=default_model, label="Model", elem_id="tier")
    note = gr.Markdown(presenter.model_note(default_model), elem_id="model-note", elem_classes="small-note")
    return family_box, tier, note


def _character_image() -> tuple[gr.Image, gr.Textbox, gr.Image, gr.Markdown]:
    """The character image: a file, or a URL with what it holds shown under it once fetched."""
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
    image_from_url = gr.Image(
        label="From the URL",
        interactive=False,
        visible=False,
        height=160,
        buttons=["fullscreen"],
        elem_id="image-from-url",
    )
    image_info = gr.Markdown(elem_id="image-info", elem_classes="small-note")
    return image, image_url, image_from_url, image_info


def _reference_clip() -> tuple[gr.Video, gr.Textbox, gr.Video, gr.Markdown, gr.Button]:
    """The reference clip: a file, a webcam recording or a URL, and the Trim offer for a long one."""
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
    video_from_url = gr.Video(
        label="From the URL",
        interactive=False,
        visible=False,
        height=160,
        buttons=[],
        elem_id="video-from-url",
    )
    video_info = gr.Markdown(elem_id="video-info", elem_classes="small-note")
    trim = gr.Button("Trim", visible=False, size="sm", elem_id="trim")
    return video, video_url, video_from_url, video_info, trim


def _generate(settings: Settings) -> tuple[gr.Button, gr.Button]:
    with gr.Row(equal_height=True, elem_id="start-row"):
        generate = gr.Button(
            "Generate", variant="primary", size="lg", interactive=False, scale=3, elem_id="generate"
        )
        preview = gr.Button(
            presenter.preview_label(Options.model_validate({"model": settings.default_tier}), None),
            variant="secondary",
            size="lg",
            interactive=False,
            scale=2,
            elem_id="preview",
        )
    gr.Markdown(
        page_text("upload_ahead.md"),
        visible=settings.upload_ahead,
        elem_id="upload-ahead-note",
        elem_classes="small-note",
    )
    return generate, preview
