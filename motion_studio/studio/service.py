"""`Studio`, the one object a page and its API share: it opens the history, the job runner, the input
reader and the batches once, and takes what it can do from the mixins beside this module."""

from __future__ import annotations

import logging

from ..batches import Batches
from ..inputs import InputReader
from ..jobs import JobRunner
from ..rate import PerCaller
from ..settings import Settings
from .run_actions import RunActionsMixin
from .starting import StartingMixin

log = logging.getLogger("motion_studio.studio")


class Studio(StartingMixin, RunActionsMixin):
    """The core objects one page (and its API) shares: settings, history and the job runner."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.history = settings.open_history()
        self.runner = JobRunner(settings, self.history)
        self.reader = InputReader(settings, self.runner.inputs_in_use)
        self._api_checks = PerCaller(settings.api_checks_per_minute)
        # Several characters on one clip (or one on several clips) as one batch: batches/.
        self.batches = Batches(
            settings, self.history, self.runner, self.reader, key_for=self.key_for, visitor=self.visitor
        )
        # Runs a crash left behind are settled; paid ones are followed again, with the server's key.
        self.resumed = self.runner.resume_unfinished(settings.fal_key)
        if self.resumed:
            log.info("following %d unfinished run(s) again", len(self.resumed))
