"""Kling v3's face panel, in the left column: a frontal photo and up to three more angles of the face."""

from __future__ import annotations

import gradio as gr

from ... import presenter
from ...catalog import FACE_MAX_ANGLES, FACE_REFERENCE
from ...settings import Settings
from ..components import any_image
from .assets import page_text


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
                                height=210,
                                min_width=120,
                                buttons=[],  # no full-screen button: the label fits beside the clear one
                                elem_id="face-frontal" if n == 0 else f"face-angle-{n}",
                            )
                        )
        frontal, angles = boxes[0], tuple(boxes[1:])
        info = gr.Markdown(elem_id="face-info", elem_classes="small-note")
        name = gr.Button(f"Name the face in the prompt ({FACE_REFERENCE})", size="sm", elem_id="face-name")
    return box, frontal, angles, info, name
