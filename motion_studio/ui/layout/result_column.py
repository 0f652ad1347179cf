"""The right column: the verdict and the people check, a run's progress, its videos in tabs, its log."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from ... import presenter
from ...order import Options
from ...settings import Settings
from .assets import page_text
from .batch_panel import GridView, grid_tab


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
    run_full: gr.Button  # a finished preview's whole clip, on the chosen model
    logs: gr.Textbox
    cancel_all: gr.Button  # every run of a batch
    tabs: gr.Tabs
    grid: GridView  # a batch's results side by side


def run_view(settings: Settings) -> RunView:
    """The right column: the verdict before a run, its progress during, its videos after."""
    verdict = gr.Markdown(presenter.EMPTY_VERDICT, elem_id="verdict")
    cost = gr.Markdown(presenter.price_line(Options(model=settings.default_tier)), elem_id="cost")
    people, pose_box, pose = _people_check()
    with gr.Row(equal_height=True):
        progress = gr.Markdown(elem_id="progress")
        cancel = gr.Button("Cancel", variant="stop", visible=False, size="sm", scale=0, elem_id="cancel")
        cancel_all = gr.Button(
            "Cancel all", variant="stop", visible=False, size="sm", scale=0, elem_id="cancel-all"
        )
    empty = gr.Markdown(page_text("empty_result.md"), elem_id="result-empty", elem_classes="empty-state")
    with gr.Column(visible=False, elem_id="results") as results:
        with gr.Tabs(elem_id="result-tabs") as tabs:
            output, reference, side_tab, side_note, side = _result_tabs()
            grid = grid_tab()
        with gr.Row(elem_id="result-actions"):
            run_full = gr.Button(
                "Run the full clip", variant="primary", visible=False, size="sm", elem_id="run-full"
            )
            download = gr.DownloadButton("Download result", visible=False, size="sm", elem_id="download")
    with gr.Accordion("fal log", open=False, elem_id="log-accordion"):
        logs = gr.Textbox(
            show_label=False, lines=4, max_lines=8, autoscroll=True, interactive=False, elem_id="logs"
        )
    return RunView(
        verdict=verdict,
        cost=cost,
        people=people,
        pose_box=pose_box,
        pose=pose,
        progress=progress,
        cancel=cancel,
        empty=empty,
        results=results,
        output=output,
        reference=reference,
        side_tab=side_tab,
        side_note=side_note,
        side=side,
        download=download,
        run_full=run_full,
        logs=logs,
        cancel_all=cancel_all,
        tabs=tabs,
        grid=grid,
    )


def _people_check() -> tuple[gr.Markdown, gr.Accordion, gr.Image]:
    """The people check arrives a moment after the verdict, in its own event: advice only."""
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
    return people, pose_box, pose


def _result_tabs() -> tuple[gr.Video, gr.Video, gr.Tab, gr.Markdown, gr.Video]:
    """A run's videos: the result, its reference clip, and both side by side (made when asked)."""
    with gr.Tab("Result", id="result"):
        output = gr.Video(
            label="Result",
            interactive=False,
            buttons=["download"],
            height=420,
            elem_id="output-video",
        )
    with gr.Tab("Reference", id="reference"):
        reference = gr.Video(label="Reference clip", interactive=False, height=420, elem_id="reference-video")
    with gr.Tab("Side by side", id="side") as side_tab:
        side_note = gr.Markdown(elem_id="side-note", elem_classes="small-note")
        side = gr.Video(
            label="Reference | result",
            interactive=False,
            buttons=["download"],
            height=420,
            elem_id="side-video",
        )
    return output, reference, side_tab, side_note, side
