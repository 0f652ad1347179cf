"""The Gradio page. `create_demo()` reads as the page, top to bottom; the parts live beside it:

- `layout/` lays out each part and returns its components (a module per part),
- `handlers/` says what each event does (calling the studio, returning `{component: value}`), a module
  per group of events: the inputs, a run, the gallery,
- `wiring.py` connects events to handlers, `api.py` is the public API,
- `launching.py` serves it (`python app.py` runs `launch()`).
"""

from __future__ import annotations

import gradio as gr
import safehttpx

from ..fetching import is_public
from ..serving import outbox
from ..settings import Settings, get_settings
from ..studio import Studio
from . import layout
from .api import wire_api
from .handlers import Handlers
from .launching import launch, launch_kwargs
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
        header = layout.header(settings)
        with gr.Row(equal_height=False, elem_id="studio"):
            with gr.Column(scale=5, min_width=320, elem_id="inputs-column"):
                inputs = layout.inputs(settings)
            with gr.Column(scale=6, min_width=320, elem_id="run-column"):
                run = layout.run_view(settings)
        gallery = layout.gallery_view()
        memory = layout.memory(settings)
        page = layout.Page(header, inputs, run, gallery, memory)
        wire(demo, page, Handlers(studio, page))
    return demo


__all__ = ["create_demo", "launch", "launch_kwargs"]
