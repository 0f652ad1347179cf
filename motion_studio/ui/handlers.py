"""What each event on the page does: call the studio, return `{component: value}` for what changes.

No rule is decided here: which key pays, what a run may do next, what the inputs amount to and what a
run costs come from the studio (and, through it, the lifecycle and the catalogue); the sentences come
from the presenter. A handler only picks the components the answer goes to.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import AsyncIterator
from typing import Any

import anyio.to_thread
import gradio as gr

from .. import presenter
from ..catalog import FAL_SAMPLE_IMAGE, FAL_SAMPLE_VIDEO, prompt_with_face
from ..errors import StudioError
from ..history import Run
from ..inputs import FaceGiven
from ..jobs import Done, Downloaded, Job, watch
from ..lifecycle import Action, Situation
from ..serving import servable
from ..studio import RunRequest, Studio
from .batch import BatchHandlers
from .layout import ASSETS, Page

Changes = dict[Any, Any]


class Handlers:
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

    # -- the inputs -------------------------------------------------------------------------------

    def check(
        self,
        image: str | None,
        image_url: str,
        video: str | None,
        video_url: str,
        orientation: str,
        prompt: str,
        tier: str,
        key: str,
        face: str | None,
        angle1: str | None,
        angle2: str | None,
        angle3: str | None,
        batch_kind: str,
        batch_files: list[str] | None,
        request: gr.Request,
    ) -> Changes:
        """The live verdict, with the caps of whoever pays; ready inputs start for fal's storage."""
        wanted = RunRequest(image, video, orientation, prompt or "", True, tier, image_url, video_url)
        wanted = wanted.with_face(page_face(tier, face, angle1, angle2, angle3))
        if (batch := self.batch.request(wanted, batch_kind, batch_files)) is not None:
            return self.batch.check(batch, key)
        reading = self.studio.read(wanted, key)
        self.studio.upload_ahead(reading, key, request.session_hash or "")
        shown = presenter.input_check(reading, tier)
        p = self.page.inputs
        offer = f"✂ Use only the first {shown.trim_to:g} s" if shown.trim_to else None
        return {
            p.image_info: shown.image_text,
            p.video_info: shown.video_text,
            self.page.run.verdict: shown.verdict,
            self.page.run.cost: shown.cost_text,
            p.generate: gr.update(interactive=shown.ready, value=presenter.generate_label(reading)),
            p.trim: gr.update(visible=bool(offer), value=offer),
            self.page.memory.checked: (reading.image, reading.video),
            p.face_info: presenter.face_text(reading),
        }

    def model_chosen(self, tier: str) -> Changes:
        """The face panel is there only for a v3 model, and the prompt's example names the face then."""
        p = self.page.inputs
        return {
            p.face_box: gr.update(visible=presenter.face_panel_shown(tier)),
            p.prompt: gr.update(placeholder=presenter.prompt_placeholder(tier)),
        }

    def name_face(self, prompt: str) -> Changes:
        """`@Element1` at the end of the prompt (unless it is there already): how fal names the face."""
        return {self.page.inputs.prompt: prompt_with_face(prompt or "")}

    def face_preview(self, image: str | None) -> Any:
        """A face photo browsers can't show (HEIC, TIFF) is replaced by the PNG it would become."""
        shown = self.studio.reader.image_preview(image)
        return servable(shown) if shown else gr.skip()

    def people(self, checked: Any, request: gr.Request) -> Changes:
        """The people check of the inputs the live check accepted, a moment after its verdict (its
        own event: the verdict never waits for it): warnings, or why it was skipped, and the pose
        preview. Advice only: Generate is left as the verdict set it."""
        image, video = checked if isinstance(checked, list | tuple) and len(checked) == 2 else (None, None)
        session, token = request.session_hash or "", object()
        with self._lock:
            self._people[session] = token
        found = self.studio.check_people(image, video, preview=True)
        r = self.page.run
        with self._lock:
            if self._people.get(session) is not token:  # the inputs changed meanwhile
                return {r.people: gr.skip(), r.pose_box: gr.skip(), r.pose: gr.skip()}
            del self._people[session]
        preview = servable(found.preview) if found else None
        return {
            r.people: presenter.people_text(found),
            r.pose_box: gr.update(visible=preview is not None),
            r.pose: preview,
        }

    def preview(self, video: str | None) -> Changes:
        """A clip Chromium can't play (MOV/HEVC/ProRes) is shown as an H.264 copy; fal gets the original."""
        unchanged = {self.page.inputs.input_note: gr.skip()}
        if not video or self.studio.reader.original(video) != video:
            return unchanged
        copy = self.studio.reader.preview(video)
        if copy is None:
            return unchanged
        note = "🎞 Shown as an H.264 preview (your browser can't play the original); fal gets the original."
        return {
            self.page.inputs.video: copy,
            self.page.inputs.input_note: f'<p class="input-note">{note}</p>',
        }

    def image_preview(self, image: str | None) -> Changes:
        """A photo browsers can't show (HEIC, TIFF) is replaced by the PNG it would be converted to."""
        shown = self.studio.reader.image_preview(image)
        return {self.page.inputs.image: servable(shown) if shown else gr.skip()}

    def trim(self, video: str | None, video_url: str, orientation: str) -> Changes:
        try:
            trimmed = self.studio.trim(video, video_url, orientation)
        except StudioError as exc:
            return {self.page.run.verdict: presenter.error_text(exc)}
        return {self.page.inputs.video: trimmed, self.page.inputs.video_url: ""}

    def example_fal(self) -> Changes:
        """fal's own published sample (a real dancer): fetched from fal's CDN, passed to fal as it is."""
        p = self.page.inputs
        return {
            p.image: None,
            p.video: None,
            p.image_url: FAL_SAMPLE_IMAGE,
            p.video_url: FAL_SAMPLE_VIDEO,
            p.orientation: "video",
            p.prompt: "A woman dancing",
        }

    def example_offline(self, orientation: str) -> Changes:
        p = self.page.inputs
        return {
            p.image: str(ASSETS / "example_character.png"),
            p.video: str(ASSETS / "example_motion.mp4"),
            p.image_url: "",
            p.video_url: "",
            p.orientation: orientation,
            p.prompt: "a cartoon character waving both arms" if orientation == "video" else "",
        }

    def key_status(self, key: str) -> str:
        return presenter.key_status(self.studio.settings, key)

    # -- a run ------------------------------------------------------------------------------------

    def start(
        self,
        image: str | None,
        image_url: str,
        video: str | None,
        video_url: str,
        orientation: str,
        prompt: str,
        sound: bool,
        tier: str,
        key: str,
        owner: str | None,
        face: str | None = None,
        angle1: str | None = None,
        angle2: str | None = None,
        angle3: str | None = None,
        batch_kind: str = "image",
        batch_files: list[str] | None = None,
    ) -> Changes:
        request = RunRequest(image, video, orientation, prompt, sound, tier, image_url, video_url)
        request = request.with_face(page_face(tier, face, angle1, angle2, angle3))
        if (batch := self.batch.request(request, batch_kind, batch_files)) is not None:
            return self.batch.start(batch, key, owner)
        run = self.page.run
        try:
            job = self.studio.start(request, key, owner)
        except StudioError as exc:  # said in the verdict, where a progress stream can't overwrite it
            return {run.verdict: presenter.error_text(exc)}
        return {
            self.page.memory.job_id: job.id,
            self.page.memory.batch_id: None,  # a batch's stream (which follows this one) has nothing to do
            run.progress: "⏳ Starting…",
            self.page.inputs.generate: gr.update(interactive=False),
            run.cancel: gr.update(visible=True),
            run.cancel_all: gr.update(visible=False),
            self.page.gallery.timer: gr.Timer(active=True),
        }

    def attach(self, owner: str | None) -> Changes:
        """On load, a reload or in a second tab: this browser's running run, with progress and Cancel
        (a run of a batch: the batch's progress, with Cancel all)."""
        job = self.studio.live_job(owner)
        batch_id = job.spec.slot.batch_id if job is not None and job.spec.slot is not None else None
        return {
            self.page.memory.job_id: job.id if job and not batch_id else None,
            self.page.memory.batch_id: batch_id,
        }

    async def follow(
        self, job_id: str | None, owner: str | None, limit: int | None, request: gr.Request
    ) -> AsyncIterator[Changes]:
        """Stream a run this page did not just start (re-attached on load, selected in the gallery)."""
        async for changes in self._stream(job_id, owner, limit, request, release=False):
            yield changes

    async def follow_started(
        self, job_id: str | None, owner: str | None, limit: int | None, request: gr.Request
    ) -> AsyncIterator[Changes]:
        """Stream a run this page just started: Generate, held off since the click, comes back once
        fal has the request (no double-paid double click), so another run may be started meanwhile."""
        async for changes in self._stream(job_id, owner, limit, request, release=True):
            yield changes

    async def _stream(
        self, job_id: str | None, owner: str | None, limit: int | None, request: gr.Request, *, release: bool
    ) -> AsyncIterator[Changes]:
        """Stream one job's progress into the page. The job lives in the runner, not here, so a closed
        tab does not stop it. A page has one stream: a newer one (another run selected) ends this one."""
        job = self.studio.runner.get(job_id) if job_id else None
        session = request.session_hash or uuid.uuid4().hex
        if job is None:  # nothing to follow: a stream this page had stops
            with self._lock:
                self._streams.pop(session, None)
            yield {self.page.run.progress: gr.skip()}  # (a generator that yields nothing blanks outputs)
            return
        token = (object(), job.id)
        with self._lock:
            current = self._streams.get(session)
            # Already streamed here (a re-attach racing the click): keep that one, unless this one must
            # bring Generate back.
            duplicate = current is not None and current[1] == job.id and not release
            if not duplicate:
                self._streams[session] = token
        if duplicate:
            yield {self.page.run.progress: gr.skip()}
            return
        held = release
        shown_in_gallery = False
        try:
            async for event in watch(job):
                if self._streams.get(session) is not token:  # another stream took over this page
                    if held:
                        yield {self.page.inputs.generate: gr.update(interactive=True)}
                    return
                changes = self._progress(job)
                if held and (job.request_id is not None or (event is not None and event.terminal)):
                    held = False
                    changes[self.page.inputs.generate] = gr.update(interactive=True)
                elif held:  # a check meanwhile (a blur, another model) must not bring it back early
                    changes[self.page.inputs.generate] = gr.update(interactive=False)
                if isinstance(event, Downloaded) and (run := self.studio.history.get(event.run_id or "")):
                    # It plays now. Done sends it again with the gallery's thumbnail: Gradio may merge two
                    # quick updates of one stream, and the last one must hold the result.
                    changes.update(await anyio.to_thread.run_sync(self._result, run))  # may link or preview
                if event is not None and event.terminal:
                    changes.update(await anyio.to_thread.run_sync(self._finished, job, event, owner, limit))
                elif release and not shown_in_gallery and job.run_id:  # the new run's tile, at once
                    shown_in_gallery = True
                    changes.update(self._gallery(owner, limit))
                yield changes
        finally:
            with self._lock:
                if self._streams.get(session) is token:
                    del self._streams[session]

    def _progress(self, job: Job) -> Changes:
        run = self.page.run
        return {
            run.progress: presenter.progress_text(job),
            run.logs: presenter.log_text(job),
            run.cancel: gr.update(visible=not job.finished),
        }

    def _finished(self, job: Job, event: Any, owner: str | None, limit: int | None) -> Changes:
        """The end of a stream: the gallery, and the result (for a run that ended done)."""
        changes: Changes = {self.page.run.cancel: gr.update(visible=False), **self._gallery(owner, limit)}
        run = self.studio.history.get(job.run_id) if job.run_id else None
        if run is not None and isinstance(event, Done):
            changes.update(self._result(run))
            changes[self.page.memory.selected_run] = run.id
        return changes

    def _result(self, run: Run) -> Changes:
        """The result area for a run: its video, its reference, a download named after it."""
        view = self.page.run
        played = download = self.studio.result_file(run)
        return {
            view.empty: gr.update(visible=played is None),
            view.results: gr.update(visible=played is not None),
            view.output: played,
            view.reference: self.studio.reference_clip(run),
            view.side: None,
            view.side_note: "Open this tab to put the reference and the result side by side in one video.",
            view.download: gr.update(value=download, visible=download is not None),
            **self.batch.grid_changes(run),
        }

    def cancel(self, job_id: str | None) -> Changes:
        if not job_id:
            return {self.page.run.progress: "Nothing to cancel: no run of yours is going in this page."}
        self.studio.runner.cancel(job_id)
        return {self.page.run.progress: "⏹ Cancelling on fal…"}

    def side_by_side(self, run_id: str | None, owner: str | None) -> Changes:
        view = self.page.run
        try:
            made = self.studio.side_by_side(run_id, owner)
        except StudioError as exc:
            return {view.side_note: presenter.error_text(exc)}
        return {
            view.side: made,
            view.side_note: "Reference on the left, result on the right: one video to share.",
        }

    # -- for the batch's events (ui/batch.py): one stream per page, the same result and gallery -----

    def take_stream(self, session: str, key: str) -> object:
        """This page's progress stream is now the one for `key`: a stream it had ends at its next tick."""
        token = (object(), key)
        with self._lock:
            self._streams[session] = token
        return token

    def holds_stream(self, session: str, token: object) -> bool:
        return self._streams.get(session) is token

    def drop_stream(self, session: str, token: object) -> None:
        with self._lock:
            if self._streams.get(session) is token:
                del self._streams[session]

    def result_changes(self, run: Run) -> Changes:
        return self._result(run)

    def gallery_changes(self, owner: str | None, limit: int | None) -> Changes:
        return self._gallery(owner, limit)

    # -- the gallery ------------------------------------------------------------------------------

    @staticmethod
    def identify(owner: str | None) -> str:
        """This browser's id; a missing, undecryptable or odd one gets a fresh id (an empty gallery)."""
        return Studio.visitor(owner) or uuid.uuid4().hex

    def refresh(self, signature: str | None, owner: str | None, limit: int | None) -> Changes:
        return self._gallery(owner, limit, unless=signature)

    def show_more(self, owner: str | None, limit: int | None) -> Changes:
        limit = (limit or 0) + self.studio.settings.gallery_page_size
        return {self.page.memory.gallery_limit: limit, **self._gallery(owner, limit)}

    def _gallery(self, owner: str | None, limit: int | None, unless: str | None = None) -> Changes:
        g, m = self.page.gallery, self.page.memory
        view = self.studio.gallery(owner, limit, unless)
        if view is None:  # nothing changed (the timer is left as it is: setting it ticks it)
            return {g.timer: gr.skip()}
        return {
            g.timer: gr.Timer(active=view.active),
            g.gallery: gr.update(value=view.items, visible=bool(view.items)),  # no empty box
            m.gallery_ids: view.ids,
            m.gallery_sig: view.signature,
            g.summary: view.summary,
            g.show_more: gr.update(visible=view.more),
        }

    def select(self, ids: list[str], owner: str | None, evt: gr.SelectData) -> Changes:
        """A run selected in the gallery: its card, its videos, its settings back in the inputs."""
        g, p, m = self.page.gallery, self.page.inputs, self.page.memory
        run = self.studio.run_for(ids[evt.index], owner) if evt.index < len(ids) else None
        if run is None:
            return {m.selected_run: None, g.card: "This run no longer exists.", **self._run_buttons(None)}
        job = self.studio.job_to_watch(run, owner)
        image, _ = run.input_files()
        result = self._result(run)  # its reference clip (probed, maybe previewed) goes back in the input too
        situation = self.studio.situation(run)
        return {
            m.selected_run: run.id,
            g.card: presenter.run_details(run, self.studio.history.events(run.id), situation),
            p.image: servable(image),
            p.video: result[self.page.run.reference],
            p.image_url: "",
            p.video_url: "",
            p.orientation: run.orientation,
            p.prompt: run.prompt,
            p.keep_sound: run.keep_sound,
            p.tier: run.tier,
            **self._restored_face(run),
            m.job_id: job.id if job else None,
            **result,
            **self._run_buttons(run, situation),
        }

    def _restored_face(self, run: Run) -> Changes:
        """The run's face back in the panel (empty boxes for a run without one), shown for a v3 run."""
        p = self.page.inputs
        face = run.face
        paths = [face.frontal, *face.angles, *[None] * len(p.face_angles)][: len(p.face_images)]
        return {
            p.face_box: gr.update(visible=presenter.face_panel_shown(run.tier)),
            **{box: servable(path) if path else None for box, path in zip(p.face_images, paths, strict=True)},
        }

    def _run_buttons(self, run: Run | None, situation: Situation | None = None) -> Changes:
        """Resume / Run again / Delete, as the lifecycle allows for this run."""
        g = self.page.gallery
        if run is None:
            return {
                button: gr.update(visible=False)
                for button in (g.resume, g.run_again, g.delete, g.confirm_row)
            }
        situation = situation or self.studio.situation(run)
        return {
            g.resume: gr.update(visible=Action.RESUME in situation.actions),
            g.run_again: gr.update(visible=Action.RUN_AGAIN in situation.actions),
            g.delete: gr.update(visible=True, value=situation.delete_label),
            g.confirm_row: gr.update(visible=False),
        }

    def ask_delete(self, run_id: str | None, owner: str | None, key: str, limit: int | None) -> Changes:
        """Deleting paid work is asked about first; anything else goes at once."""
        run = self.studio.run_for(run_id, owner)
        if run is not None and self.studio.situation(run).confirm_delete:
            g = self.page.gallery
            return {g.confirm_row: gr.update(visible=True), g.confirm_text: presenter.delete_question(run)}
        return self.delete(run_id, owner, key, limit)

    def delete(self, run_id: str | None, owner: str | None, key: str, limit: int | None) -> Changes:
        self.studio.delete(run_id, owner, key)
        view = self.page.run
        return {
            self.page.memory.selected_run: None,
            self.page.gallery.card: "Run deleted.",
            **self._gallery(owner, limit),
            **self._run_buttons(None),
            view.output: None,  # the deleted run's videos leave the players
            view.reference: None,
            view.side: None,
            view.download: gr.update(value=None, visible=False),
            view.results: gr.update(visible=False),
            view.empty: gr.update(visible=True),
            **self.batch.grid_changes(None),
        }

    def keep(self) -> Changes:
        return {self.page.gallery.confirm_row: gr.update(visible=False)}

    def act(self, action: str) -> Any:
        """A handler that starts a job for the selected run (Resume, Run again) and shows it."""
        act = {"resume": self.studio.resume, "run_again": self.studio.run_again}[action]

        def handler(run_id: str | None, key: str, owner: str | None) -> Changes:
            m, view = self.page.memory, self.page.run
            try:
                job = act(run_id, owner, key)
            except StudioError as exc:
                return {m.job_id: None, view.progress: presenter.error_text(exc)}
            return {
                m.job_id: job.id,
                view.progress: "⏳ Starting…",
                self.page.gallery.timer: gr.Timer(active=True),
            }

        return handler


def page_face(tier: str, frontal: str | None, *angles: str | None) -> FaceGiven:
    """The face panel's images, only while a v3 model is chosen: with another model the panel is
    hidden, and what it still holds (kept for a switch back) is not part of the run."""
    if not presenter.face_panel_shown(tier):
        return FaceGiven()
    return FaceGiven(frontal, None, tuple(angle for angle in angles if angle))
