"""`Studio`, the one object a page, its API and the command line's batches share: it opens the history,
the job runner and the input reader once, and holds the collaborators that use them: `keys` (which
key pays, who is asking), `orders` (a single run: read, check, start), `batches` (an order of
several), `gallery` (what a browser may see) and `runs` (what may be done with a run)."""

from __future__ import annotations

import logging

from ..batches.batch_service import Batches
from ..input_reading import InputReader
from ..jobs.runner import JobRunner
from ..settings import Settings
from .gallery_pages import Gallery
from .keys import Keys
from .orders import Orders
from .run_actions import RunActions

log = logging.getLogger("motion_studio.studio")


class Studio:
    """The core objects one page (and its API) shares, and the collaborators built on them."""

    def __init__(self, settings: Settings, *, local: bool = False) -> None:
        """`local`: the studio of the machine's own user (the command line; see `Keys`), which settles
        the runs a crash left behind but follows them again only when asked (`runs.resume_unfinished`)."""
        settings.apply_prices()
        self.settings = settings
        self.history = settings.open_history()
        self.runner = JobRunner(settings, self.history)
        self.reader = InputReader(settings, self.runner.inputs_in_use)
        self.keys = Keys(settings, local=local)
        self.orders = Orders(settings, self.runner, self.reader, self.keys)
        self.batches = Batches(
            settings,
            self.history,
            self.runner,
            self.reader,
            key_for=self.keys.key_for,
            visitor=self.keys.visitor,
        )
        self.gallery = Gallery(settings, self.history, self.runner, self.keys)
        self.runs = RunActions(self.history, self.runner, self.reader, self.keys, self.gallery)
        # Runs a crash left behind are settled; paid ones are followed again, with the server's key.
        self.resumed = self.runner.resume_unfinished(None if local else settings.fal_key)
        if self.resumed:
            log.info("following %d unfinished run(s) again", len(self.resumed))
