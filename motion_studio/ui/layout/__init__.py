"""The page's parts, top to bottom: each builder lays out one part and returns its components.

No event is wired here (see `wiring.py`) and no rule is decided (see `handlers/`): a newcomer can
read what the page looks like without reading what it does. Every `elem_id` is what the browser tests
(and users' own scripts) find the page by.

One module per part: `page_header` (the intro and the key), `inputs_column` (the left column, with
`face`, Kling v3's face panel; the batch panel is `ui/batch.py`'s), `result_column` (the right
column), `gallery` (below both), `page_memory` (what a page remembers between events); `assets` is
where their files and long texts live.
"""

from __future__ import annotations

from dataclasses import dataclass

from .assets import ASSETS, page_text
from .face import face_panel
from .gallery import GalleryView, gallery_view
from .inputs_column import Inputs, inputs
from .page_header import Header, header
from .page_memory import Memory, memory
from .result_column import RunView, run_view


@dataclass(frozen=True)
class Page:
    header: Header
    inputs: Inputs
    run: RunView
    gallery: GalleryView
    memory: Memory


__all__ = [
    "ASSETS",
    "GalleryView",
    "Header",
    "Inputs",
    "Memory",
    "Page",
    "RunView",
    "face_panel",
    "gallery_view",
    "header",
    "inputs",
    "memory",
    "page_text",
    "run_view",
]
