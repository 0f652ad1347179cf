"""The objects one running app shares between its page, its API and its background jobs.

Kept out of the `ui` package so the page holds layout and wiring only: which runs a browser may see (private
galleries), which key pays, and what a user may do with a run (from the lifecycle) are decided here.

`service` (`Studio`, the one entry point) is composed of one mixin per job: `keys` (which key pays,
who is asking), `starting` (starting runs, checking inputs), `gallery` (the gallery and a selected
run) and `run_actions` (what may be done with a run); this module re-exports their public names.
"""

from __future__ import annotations

from ..run_request import RunRequest
from ..serving import download_name
from .gallery import GalleryPage
from .service import Studio

__all__ = ["GalleryPage", "RunRequest", "Studio", "download_name"]
