"""What each event on the page does: call the studio, return `{component: value}` for what changes.

No rule is decided here: which key pays, what a run may do next, what the inputs amount to and what a
run costs come from the studio (and, through it, the lifecycle and the catalogue); the sentences come
from the presenter. A handler only picks the components the answer goes to.

`Handlers` is the one object `wiring.py` uses, made of a group per thing the user does: `inputs` (the
live check, previews, trim, examples, the people check, the face panel), `running` (start a run,
follow its progress, cancel it) and `gallery` (the gallery, and what can be done with a selected run);
`base` holds what the groups share.
"""

from __future__ import annotations

import threading

from ...studio import Studio
from ..batch import BatchHandlers
from ..layout import Page
from .base import Changes
from .gallery import GalleryHandlers
from .inputs import InputHandlers, page_face
from .running import RunHandlers


class Handlers(InputHandlers, RunHandlers, GalleryHandlers):
    """One per page build; every method is an event handler (its inputs are the wired components)."""

    def __init__(self, studio: Studio, page: Page) -> None:
        self.studio = studio
        self.page = page
        # A page's session → its one current progress stream (a token, and the job it follows).
        self._streams: dict[str, tuple[object, str]] = {}
        # A page's session → its newest people check (an older one finishing later is dropped).
        self._people: dict[str, object] = {}
        self._lock = threading.Lock()
        self.batch = BatchHandlers(studio, page, self)  # a batch's events (ui/batch.py)


__all__ = ["Changes", "Handlers", "page_face"]
