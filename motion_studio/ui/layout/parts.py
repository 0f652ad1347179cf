"""The whole page as one object: what the handlers write to and the wiring connects."""

from __future__ import annotations

from dataclasses import dataclass

from .examples import Examples
from .gallery_panel import GalleryView
from .inputs_column import Inputs
from .page_header import Header
from .page_memory import Memory
from .result_column import RunView


@dataclass(frozen=True)
class Page:
    header: Header
    examples: Examples
    inputs: Inputs
    run: RunView
    gallery: GalleryView
    memory: Memory
