"""A batch's two parts of the page: the panel that makes one (more character images, more clips, or
the same pair on more models: a comparison), in the left column, and the Grid tab where every result of a batch ends side by side, among the
result's tabs."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from ... import presenter
from .assets import page_text


@dataclass(frozen=True)
class BatchPanel:
    """The "Batch" panel: which input varies, and the extra files (or the models compared)."""

    box: gr.Accordion
    kind: gr.Radio
    files: gr.File
    compare: gr.CheckboxGroup  # the other models of a comparison, shown instead of the files


@dataclass(frozen=True)
class GridView:
    """The result area's Grid tab: shown for a run of a batch, with every result side by side."""

    tab: gr.Tab
    note: gr.Markdown
    video: gr.Video


def batch_panel(default_model: str) -> BatchPanel:
    """Closed until wanted: a batch is the exception, and a closed accordion costs one line."""
    with gr.Accordion("Batch: several characters, clips or models", open=False, elem_id="batch-panel") as box:
        gr.Markdown(page_text("batch.md"), elem_classes="small-note")
        kind = gr.Radio(
            [("More character images", "image"), ("More clips", "video"), ("Compare models", "model")],
            value="image",
            show_label=False,
            elem_id="batch-kind",
        )
        files = gr.File(
            label="More character images or clips (one run each)",
            file_count="multiple",
            file_types=["image", "video"],
            height=150,
            elem_id="batch-files",
        )
        compare = gr.CheckboxGroup(
            presenter.compare_choices(default_model),
            value=[],
            label=presenter.COMPARE_LABEL,
            visible=False,
            elem_id="compare-models",
        )
    return BatchPanel(box, kind, files, compare)


def grid_tab() -> GridView:
    """Inside the result's tabs: hidden until a run of a batch is shown."""
    with gr.Tab("Grid", id="grid", visible=False, elem_id="grid-tab") as tab:
        note = gr.Markdown(elem_id="grid-note", elem_classes="small-note")
        video = gr.Video(
            label="Every result of the batch",
            interactive=False,
            buttons=["download"],
            elem_id="grid-video",  # as tall as the grid is: a row of three is a wide, low picture
        )
    return GridView(tab, note, video)
