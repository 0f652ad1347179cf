"""Below both columns: the gallery of this browser's runs, a selected run's card and its buttons."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from ... import notices


@dataclass(frozen=True)
class GalleryView:
    summary: gr.Markdown
    shown: gr.Column  # everything under the summary: hidden while this browser has no runs
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


def gallery_view() -> GalleryView:
    """Below both columns: every run of this browser, newest first, and what can be done with one."""
    gr.Markdown("## Your runs", elem_id="runs-title")
    summary = gr.Markdown(elem_id="runs-summary", elem_classes="small-note")
    # Hidden until the first run: no empty frame with a broken-image icon, no card asking to select
    # a run there is none of; the summary above says the runs will appear here.
    with gr.Column(visible=False, elem_id="runs-shown") as shown:
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
            delete = gr.Button(
                "Delete this run", variant="stop", visible=False, elem_id="delete-run", size="sm"
            )
        gr.Markdown(notices.FILE_LINKS, elem_id="file-links", elem_classes="small-note")
        with gr.Column(visible=False, elem_id="confirm-delete") as confirm_row:
            confirm_text = gr.Markdown(elem_id="confirm-delete-text")
            with gr.Row():
                confirm_yes = gr.Button(
                    "Yes, delete it", variant="stop", size="sm", elem_id="confirm-delete-yes"
                )
                confirm_no = gr.Button("Keep it", size="sm", elem_id="confirm-delete-no")
    timer = gr.Timer(3.0, active=False)  # on only while one of this browser's runs is active
    return GalleryView(
        summary,
        shown,
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
