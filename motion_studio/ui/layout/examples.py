"""The examples, above the inputs: what a newcomer clicks first, so they are in view on a fresh page
(on a phone too, where the inputs column alone is taller than the screen)."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from .assets import page_text


@dataclass(frozen=True)
class Examples:
    fal: gr.Button  # fal's own sample, fetched from fal's CDN
    offline: gr.Button  # the project's cartoon figure, orientation video
    offline_image: gr.Button  # the same, orientation image


def examples() -> Examples:
    """One row of buttons (they wrap on a phone), and what each example is under them."""
    with gr.Accordion("Try an example (loading one costs nothing)", open=True, elem_id="examples"):
        with gr.Row(elem_id="example-buttons"):
            fal = gr.Button(
                "💃 fal's own sample: a dancer (fetched from fal's CDN)",
                size="sm",
                min_width=220,
                elem_id="example-fal",
            )
            offline = gr.Button(
                "🧍 Offline: cartoon figure, orientation video",
                size="sm",
                min_width=150,
                elem_id="example-offline",
            )
            offline_image = gr.Button(
                "🧍 Offline: cartoon figure, orientation image",
                size="sm",
                min_width=150,
                elem_id="example-offline-image",
            )
        gr.Markdown(page_text("examples.md"), elem_classes="small-note")
    return Examples(fal, offline, offline_image)
