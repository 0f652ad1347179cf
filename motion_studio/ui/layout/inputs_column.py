"""The left column: what goes into a run (the character image, the reference clip, the model, the
face and batch panels, the prompt), and the Generate button."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from ... import presenter
from ...order import Options
from ...settings import Settings
from ..components import any_image
from .assets import page_text
from .batch import BatchPanel, batch_panel
from .face import face_panel


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
        """Each option of a run (a field of `Options`) and the box that sets it: the page's order, its
        wiring and a run restored from the gallery all go by this."""
        return {
            "orientation": self.orientation,
            "prompt": self.prompt,
            "keep_sound": self.keep_sound,
            "model": self.tier,
        }

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
    with gr.Row(equal_height=False):
        with gr.Column(min_width=200):
            orientation, orientation_note = _orientation()
        with gr.Column(min_width=200):
            tier, keep_sound = _model(settings)
    face_box, face_frontal, face_angles, face_info, face_name = face_panel(settings)
    batch = batch_panel()
    prompt, prompt_count, generate, preview = _prompt_and_generate(settings)
    return Inputs(
        image=image,
        image_url=image_url,
        image_info=image_info,
        video=video,
        video_url=video_url,
        video_info=video_info,
        trim=trim,
        orientation=orientation,
        orientation_note=orientation_note,
        tier=tier,
        keep_sound=keep_sound,
        prompt=prompt,
        prompt_count=prompt_count,
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


def _orientation() -> tuple[gr.Radio, gr.Markdown]:
    orientation = gr.Radio(
        presenter.orientation_choices(),
        value="video",
        label="Character orientation",
        elem_id="orientation",
    )
    orientation_note = gr.Markdown(presenter.orientation_help("video"), elem_classes="small-note")
    return orientation, orientation_note


def _model(settings: Settings) -> tuple[gr.Radio, gr.Checkbox]:
    tier = gr.Radio(presenter.tier_choices(), value=settings.default_tier, label="Model", elem_id="tier")
    keep_sound = gr.Checkbox(value=True, label="Keep the reference clip's sound", elem_id="keep-sound")
    return tier, keep_sound


def _prompt_and_generate(settings: Settings) -> tuple[gr.Textbox, gr.Markdown, gr.Button, gr.Button]:
    prompt = gr.Textbox(
        label="Prompt (optional)",
        lines=2,
        elem_id="prompt",
        placeholder=presenter.prompt_placeholder(settings.default_tier),
    )
    prompt_count = gr.Markdown(
        presenter.prompt_counter(""), elem_id="prompt-counter", elem_classes="small-note"
    )
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
    return prompt, prompt_count, generate, preview
