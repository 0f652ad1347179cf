"""The page, top to bottom: the public API, the header, the examples, the inputs beside the result,
the gallery; then what a page remembers, and every event wired to its handler."""

from __future__ import annotations

import gradio as gr
import safehttpx

from ..fetching import is_public
from ..serving import outbox
from ..settings import Settings, get_settings
from ..studio.service import Studio
from .api import wire_api
from .handlers.page_handlers import Handlers
from .layout.examples import examples
from .layout.gallery_panel import gallery_view
from .layout.inputs_column import inputs
from .layout.page_header import header
from .layout.page_memory import memory
from .layout.parts import Page
from .layout.result_column import run_view
from .wiring import wire

# Gradio fetches URLs itself too (`/file=http…`, URL file inputs) through safehttpx, whose notion of
# "public" lets CGNAT and other inside ranges through: it gets ours.
safehttpx.is_public_ip = is_public


def create_demo(settings: Settings | None = None, studio: Studio | None = None) -> gr.Blocks:
    settings = settings or get_settings()
    studio = studio or Studio(settings)
    # Files the page shows are links in the outbox (see serving.py), served as they are: no copy.
    gr.set_static_paths([outbox()])
    # Gradio's cache keeps what it handed out; files older than a day go (checked hourly).
    with gr.Blocks(title="Motion Control Studio", delete_cache=(3600, 86400)) as demo:
        # The public API first: Gradio names every event after its handler, private ones too (the
        # page's live check is `check`), and a later event with a taken name gets a suffix.
        wire_api(studio)
        top = header(settings)
        tries = examples()
        with gr.Row(equal_height=False, elem_id="studio"):
            with gr.Column(scale=5, min_width=320, elem_id="inputs-column"):
                left = inputs(settings)
            with gr.Column(scale=6, min_width=320, elem_id="run-column"):
                right = run_view(settings)
        below = gallery_view()
        page = Page(top, tries, left, right, below, memory(settings))
        wire(demo, page, Handlers.for_page(studio, page), settings)
    return demo
