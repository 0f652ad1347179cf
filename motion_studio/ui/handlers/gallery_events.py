"""The gallery and what can be done with a selected run: show more, select, delete, Resume, Run
again, side by side."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import gradio as gr

from ... import notices, presenter
from ...errors import StudioError
from ...history.runs import Run
from ...lifecycle import Action, Situation
from ...serving import servable
from ...studio.keys import Keys
from ...studio.service import Studio
from ..layout.parts import Page
from .changes import Changes, Values
from .result_views import PageViews


class GalleryHandlers:
    """The gallery's events, and the selected run's."""

    def __init__(self, studio: Studio, page: Page, views: PageViews) -> None:
        self.studio = studio
        self.page = page
        self.views = views

    def identify(self, browser: str | None) -> Changes:
        """This browser's id, which is also who the visitor is; a missing, undecryptable or odd one
        gets a fresh id (an empty gallery)."""
        seen = Keys.browser(browser) or uuid.uuid4().hex
        return {self.page.memory.browser: seen, self.page.memory.owner: seen}

    def identify_signed_in(self, browser: str | None, profile: gr.OAuthProfile | None) -> Changes:
        """With sign-in on: a signed-in visitor is their Hugging Face account (Gradio gives `profile`
        from its own session cookie), anyone else this browser; what signing in means for them, and
        which key pays for them."""
        changes = self.identify(browser)
        account = Keys.account(profile.username) if profile is not None else None
        if account is not None:
            changes[self.page.memory.owner] = account
        header = self.page.header
        if header.sign_in is not None:
            changes[header.sign_in] = presenter.sign_in_status(self.studio.settings, account)
        # The key box is empty after a load: whether the server's key is theirs decides both.
        changes[header.key_status] = self.studio.keys.status(None, account)
        changes[header.key_accordion] = gr.Accordion(open=not self.studio.keys.lent_to(account))
        return changes

    def refresh(self, values: Values) -> Changes:
        m = self.page.memory
        return self.views.gallery(values[m.owner], values[m.gallery_limit], unless=values[m.gallery_sig])

    def show_more(self, values: Values) -> Changes:
        m = self.page.memory
        limit = (values[m.gallery_limit] or 0) + self.studio.settings.gallery_page_size
        return {m.gallery_limit: limit, **self.views.gallery(values[m.owner], limit)}

    def select(self, values: Values, evt: gr.SelectData) -> Changes:
        """A run selected in the gallery: its card, its videos, its settings back in the inputs."""
        g, p, m = self.page.gallery, self.page.inputs, self.page.memory
        ids, owner = values[m.gallery_ids], values[m.owner]
        run = self.studio.gallery.run_for(ids[evt.index], owner) if evt.index < len(ids) else None
        if run is None:
            return {m.selected_run: None, g.card: notices.RUN_GONE, **self._run_buttons(None)}
        job = self.studio.gallery.job_to_watch(run, owner)
        image, _ = run.input_files()
        # Its clip as it was given (probed, maybe previewed; a preview's whole clip) goes back too.
        result = self.views.result(run)
        situation = self.studio.gallery.situation(run)
        return {
            m.selected_run: run.id,
            g.card: presenter.run_details(run, self.studio.history.reads.events(run.id), situation),
            self.page.run.progress: presenter.selected_text(run, situation),  # a live one streams on
            p.image: servable(image),
            p.video: self.studio.runs.clip_to_restore(run),
            p.image_url: "",
            p.video_url: "",
            **{box: run.options.get(name) for name, box in p.options.items() if name in run.options.values},
            p.tier: self._restored_model(run.options.model),
            **self._restored_face(run),
            m.job_id: job.id if job else None,
            **result,
            **self._run_buttons(run, situation),
        }

    @staticmethod
    def _restored_model(model: str) -> object:
        """The run's model back in the model's choice, which lists its family's models (its family
        follows); a model the catalogue no longer has leaves the choice as it is."""
        family = presenter.family_of(model)
        return gr.update(value=model, choices=presenter.model_choices(family)) if family else gr.skip()

    def _restored_face(self, run: Run) -> Changes:
        """The run's face back in the panel (empty boxes for a run without one), shown for a v3 run."""
        p = self.page.inputs
        face = run.face
        paths = [face.frontal, *face.angles, *[None] * len(p.face_angles)][: len(p.face_images)]
        return {
            p.face_box: gr.update(visible=presenter.face_panel_shown(run.options.model)),
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
        situation = situation or self.studio.gallery.situation(run)
        return {
            g.resume: gr.update(visible=Action.RESUME in situation.actions),
            g.run_again: gr.update(
                visible=Action.RUN_AGAIN in situation.actions, value=presenter.run_again_label(run)
            ),
            g.delete: gr.update(visible=True, value=situation.delete_label),
            g.confirm_row: gr.update(visible=False),
        }

    def ask_delete(self, values: Values) -> Changes:
        """Deleting paid work is asked about first; anything else goes at once."""
        m = self.page.memory
        run = self.studio.gallery.run_for(values[m.selected_run], values[m.owner])
        if run is not None and self.studio.gallery.situation(run).confirm_delete:
            g = self.page.gallery
            return {g.confirm_row: gr.update(visible=True), g.confirm_text: presenter.delete_question(run)}
        return self.delete(values)

    def delete(self, values: Values) -> Changes:
        m, view = self.page.memory, self.page.run
        self.studio.runs.delete(values[m.selected_run], values[m.owner], values[self.page.header.key_box])
        return {
            m.selected_run: None,
            self.page.gallery.card: notices.RUN_DELETED,
            view.progress: "",  # it said where the deleted run was
            **self.views.gallery(values[m.owner], values[m.gallery_limit]),
            **self._run_buttons(None),
            view.output: None,  # the deleted run's videos leave the players
            view.reference: None,
            view.side: None,
            view.download: gr.update(value=None, visible=False),
            **self.views.run_full(None),
            view.results: gr.update(visible=False),
            view.empty: gr.update(visible=True),
            **self.views.grid(None),
        }

    def keep(self) -> Changes:
        return {self.page.gallery.confirm_row: gr.update(visible=False)}

    def act(self, action: str) -> Callable[[Values], Changes]:
        """A handler that starts a job for the selected run (Resume, Run again) and shows it."""
        runs = self.studio.runs
        act = {"resume": runs.resume, "run_again": runs.run_again, "run_full": runs.run_full}[action]

        def handler(values: Values) -> Changes:
            m, view = self.page.memory, self.page.run
            try:
                job = act(values[m.selected_run], values[m.owner], values[self.page.header.key_box])
            except StudioError as exc:
                return {m.job_id: None, view.progress: presenter.error_text(exc)}
            return {
                m.job_id: job.id,
                view.progress: notices.STARTING,
                self.page.gallery.timer: gr.Timer(active=True),
                view.run_full: gr.update(visible=False),  # one full run per click, never two
            }

        return handler

    def side_by_side(self, values: Values) -> Changes:
        m, view = self.page.memory, self.page.run
        try:
            made, note = self.studio.runs.side_by_side(values[m.selected_run], values[m.owner])
        except StudioError as exc:
            return {view.side_note: presenter.error_text(exc)}
        return {view.side: made, view.side_note: note}
