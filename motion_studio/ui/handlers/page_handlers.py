"""Every group of handlers of one page, made together so they share its views and its stream."""

from __future__ import annotations

from dataclasses import dataclass

from ...studio.service import Studio
from ..layout.parts import Page
from .batch_events import BatchHandlers
from .gallery_events import GalleryHandlers
from .input_events import InputHandlers
from .result_views import PageViews
from .running import RunHandlers
from .streams import Streams


@dataclass(frozen=True)
class Handlers:
    """One per page build; every method of every group is an event handler."""

    inputs: InputHandlers
    runs: RunHandlers
    gallery: GalleryHandlers
    batch: BatchHandlers

    @classmethod
    def for_page(cls, studio: Studio, page: Page) -> Handlers:
        views, streams = PageViews(studio, page), Streams()
        batch = BatchHandlers(studio, page, views, streams)
        return cls(
            inputs=InputHandlers(studio, page, batch),
            runs=RunHandlers(studio, page, views, streams, batch),
            gallery=GalleryHandlers(studio, page, views),
            batch=batch,
        )
