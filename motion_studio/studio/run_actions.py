"""What a user may do with a run they can see (as its lifecycle allows): resume, run again, delete,
and the files it leaves: its video, the API's answer for it, its reference clip, the side-by-side."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from .. import notices
from ..errors import InputError, RunActionError, StudioError
from ..history.runs import Run
from ..history.store import History
from ..input_reading import InputReader
from ..jobs.job import Job
from ..jobs.runner import JobRunner
from ..lifecycle import Action
from ..media.video import probe_video
from ..media.views import side_by_side
from ..serving import download_name, servable, servable_as
from ..summary import RunSummary, run_summary
from .gallery_pages import Gallery
from .keys import Keys


class RunActions:
    """The actions on a run a browser can see, and the files it leaves (one per `Studio`)."""

    def __init__(
        self, history: History, runner: JobRunner, reader: InputReader, keys: Keys, gallery: Gallery
    ) -> None:
        self.history = history
        self.runner = runner
        self.reader = reader
        self.keys = keys
        self.gallery = gallery

    def resume(self, run_id: str | None, owner: str | None, session_key: str | None) -> Job:
        run = self._run_allowing(run_id, owner, Action.RESUME)
        return self.runner.resume(run, self.keys.key_for_run(run, session_key), run.key_source)

    def resume_unfinished(self) -> list[Job]:
        """Every run a crash or a restart left unfinished, paid with the server's key, followed again."""
        return self.runner.resume_unfinished(self.keys.key_for(None)[0])

    def run_again(self, run_id: str | None, owner: str | None, session_key: str | None) -> Job:
        run = self._run_allowing(run_id, owner, Action.RUN_AGAIN)
        key, source = self.keys.key_for(session_key, self.keys.visitor(owner))
        return self.runner.run_again(run, key, source)

    def run_full(self, run_id: str | None, owner: str | None, session_key: str | None) -> Job:
        """A finished preview's full run, paid by whoever may pay now (as Run again)."""
        run = self._run_allowing(run_id, owner, Action.RUN_FULL)
        key, source = self.keys.key_for(session_key, self.keys.visitor(owner))
        return self.runner.run_full(run, key, source)

    def delete(self, run_id: str | None, owner: str | None, session_key: str | None) -> None:
        """Delete a run; one still on fal is cancelled there first."""
        run = self.gallery.run_for(run_id, owner)
        if run is None:
            return
        try:
            key: SecretStr | None = self.keys.key_for_run(run, session_key)
        except StudioError:
            key = None  # a run still on fal is then only deleted here; the confirmation said so
        self.runner.delete(run, key)

    def result_file(self, run: Run) -> str | None:
        """The run's video as the page plays and downloads it, named after the run (the player's own
        download button saves the very file it plays)."""
        return servable_as(run.output_path, download_name(run))

    def result_for_api(self, run_id: str) -> tuple[str, RunSummary]:
        """A done run as the API answers it: its video as a file the server may hand out, and its
        summary (links or copies the video: call it off the event loop)."""
        run = self.history.reads.get(run_id)
        video_file = self.result_file(run) if run else None
        if run is None or video_file is None:
            raise RunActionError.video_gone()
        return video_file, run_summary(run, self.history.reads.events(run.id))

    def reference_clip(self, run: Run) -> str | None:
        """The run's clip as a browser plays it (an H.264 copy of a MOV/HEVC/ProRes clip)."""
        _, clip = run.input_files()
        return servable(self.reader.preview(clip) or clip)

    def clip_to_restore(self, run: Run) -> str | None:
        """The clip a selected run puts back in the page: as the user gave it (a preview's whole
        clip, so Generate then runs all of it), as a browser plays it."""
        clip = run.given_clip()
        return servable(self.reader.preview(clip) or clip)

    def side_by_side(self, run_id: str | None, owner: str | None) -> tuple[str, str]:
        """Reference | result as one video, made once per run (kept in the run's folder), with the
        sentence saying what is where. A full run started from a preview has the preview between
        them: what was paid for first, and what it became."""
        run = self.gallery.run_for(run_id, owner)
        if run is None or not run.output_path or not Path(run.output_path).exists():
            raise RunActionError.not_finished()
        _, clip = run.input_files()
        if not clip or not Path(clip).exists():
            raise RunActionError.clip_gone()
        preview = self._preview_video(run, owner)
        name = "side-by-side-with-preview.mp4" if preview else "side-by-side.mp4"
        target = Path(run.output_path).with_name(name)
        try:
            made = side_by_side(clip, run.output_path, target, between=(preview,) if preview else ())
        except InputError as exc:
            raise RunActionError.side_by_side_failed(exc.message) from None
        note = notices.SIDE_BY_SIDE_WITH_PREVIEW if preview else notices.SIDE_BY_SIDE_MADE
        return servable_as(made, download_name(run, "side-by-side")) or "", note

    def _preview_video(self, run: Run, owner: str | None) -> Path | None:
        """The video of the preview a full run was started from, while it is kept."""
        preview = self.gallery.run_for(run.preview_of, owner) if run.preview_of else None
        if preview is None or not preview.output_path or not Path(preview.output_path).exists():
            return None
        return Path(preview.output_path)

    def full_clip_seconds(self, run: Run) -> float | None:
        """How long a preview's whole clip is: what its full run will be billed for."""
        if not run.full_clip_path or not Path(run.full_clip_path).exists():
            return None
        try:
            return probe_video(run.full_clip_path).duration
        except InputError:
            return None

    def _run_allowing(self, run_id: str | None, owner: str | None, action: Action) -> Run:
        """The run, if it may be seen and its lifecycle allows `action`; else the sentence saying why
        (on the command line, naming the run: its user gave its id, not a selection)."""
        run = self.gallery.run_for(run_id, owner)
        local = self.keys.local
        if run is None:
            raise RunActionError.unknown_id(run_id or "") if local else RunActionError.gone()
        # The command line's resume waits for a run another process follows (one follower per run);
        # a page shows that run being watched instead.
        situation = run.situation(followed=False) if local else self.gallery.situation(run)
        if action not in situation.actions:
            if action is Action.RESUME:
                raise (
                    RunActionError.cli_nothing_to_resume(run.id, run.status)
                    if local
                    else RunActionError.nothing_to_resume()
                )
            if action is Action.RUN_AGAIN:
                raise (
                    RunActionError.cli_still_going(run.id, run.status)
                    if local
                    else RunActionError.still_going()
                )
            raise RunActionError.not_a_finished_preview()
        return run
