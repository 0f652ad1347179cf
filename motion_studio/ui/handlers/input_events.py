"""The inputs and their verdict: the live check, the previews, trim, the examples, the people check
and the face panel."""

from __future__ import annotations

import threading
from typing import Any

import gradio as gr

from ... import notices, presenter
from ...catalog import FAL_SAMPLE_IMAGE, FAL_SAMPLE_VIDEO
from ...errors import StudioError
from ...input_reading import Reading
from ...order import Source, prompt_with_face
from ...serving import servable
from ...studio.keys import Keys
from ...studio.service import Studio
from ..layout.assets import ASSETS
from ..layout.parts import Page
from .batch_events import BatchHandlers
from .changes import Changes, Values
from .page_order import page_order


class InputHandlers:
    """The inputs' events: what the page says about them, and what fills them."""

    def __init__(self, studio: Studio, page: Page, batch: BatchHandlers) -> None:
        self.studio = studio
        self.page = page
        self.batch = batch  # the panel holds files: the verdict is the batch's
        # A page's session → its newest people check (an older one finishing later is dropped).
        self._people: dict[str, object] = {}
        self._lock = threading.Lock()

    def check(self, values: Values, request: gr.Request) -> Changes:
        """The live verdict, with the caps of whoever pays; ready inputs start for fal's storage."""
        key = values[self.page.header.key_box]
        p = self.page.inputs
        given, values = values, self._with_refused_image(values)
        try:
            wanted = page_order(p, values, self.studio.settings.default_tier)
        except StudioError as exc:  # a batch that can't be made as asked: nothing is read
            return self._refused(exc)
        if wanted.is_batch:
            return self.batch.check(wanted, key)
        reading = self.studio.orders.read(wanted, key)
        owner = values[self.page.memory.owner]
        self.studio.orders.upload_ahead(reading, key, request.session_hash or "", owner)
        shown = presenter.input_check(reading, wanted.options)
        offer = notices.trim_offer(shown.trim_to)
        return {
            p.image_info: shown.image_text,
            p.video_info: shown.video_text,
            self.page.run.verdict: shown.verdict,
            self.page.run.cost: shown.cost_text,
            p.generate: gr.update(interactive=shown.ready, value=presenter.generate_label(reading)),
            p.preview: gr.update(
                interactive=shown.ready, value=presenter.preview_label(wanted.options, reading.seconds)
            ),
            p.trim: gr.update(visible=bool(offer), value=offer),
            self.page.memory.checked: (reading.image, reading.video),
            p.face_info: presenter.face_text(reading),
            **self._image_box(given, values, reading),
        }

    def _with_refused_image(self, values: Values) -> Values:
        """A picked file no browser can show is taken out of its box (a broken-picture frame says
        nothing): while the box stays empty and no URL is given, the check reads that file again, so
        its sentence stays under the empty box instead of "add an image"."""
        p, refused = self.page.inputs, values[self.page.memory.refused_image]
        if refused and not values[p.image] and not (values[p.image_url] or "").strip():
            return {**values, p.image: refused}
        return values

    def _image_box(self, given: Values, read: Values, reading: Reading) -> Changes:
        """Empty the image box of a refused file the browser can't show, and remember the file; forget
        it once the box or the URL holds something else. Emptying the box runs the check again, which
        then reads the remembered file (see above) and leaves the box alone: no loop."""
        p, m = self.page.inputs, self.page.memory
        picked = given[p.image]
        if picked and reading.image_problem and not self.studio.reader.can_show_image(picked):
            return {p.image: None, m.refused_image: picked}
        return {} if read is not given else {m.refused_image: None}

    def _refused(self, error: StudioError) -> Changes:
        """The verdict for an order that can't be made: its one sentence, and no Generate."""
        p = self.page.inputs
        return {
            p.image_info: "",
            p.video_info: "",
            self.page.run.verdict: presenter.error_text(error),
            **p.starters(False),
            p.trim: gr.update(visible=False),
        }

    def url_previews(self, values: Values) -> Changes:
        """What an input given by URL holds, shown under its URL once the check has fetched it (fal's
        example too): nobody should pay for a picture or a clip they have not seen. Sent only when it
        changes, so a check of the prompt does not reload the player."""
        p, m = self.page.inputs, self.page.memory
        checked, shown = values[m.checked], values[m.url_shown]
        image_file = checked[0] if not values[p.image] and (values[p.image_url] or "").strip() else None
        clip_file = checked[1] if not values[p.video] and (values[p.video_url] or "").strip() else None
        changes: Changes = {m.url_shown: (image_file, clip_file)}
        if image_file != shown[0]:
            changes[p.image_from_url] = gr.update(value=servable(image_file), visible=bool(image_file))
        if clip_file != shown[1]:
            playable = self.studio.reader.preview(clip_file) or clip_file if clip_file else None
            changes[p.video_from_url] = gr.update(value=servable(playable), visible=bool(clip_file))
        return changes

    def family_chosen(self, values: Values) -> Changes:
        """A family chosen: the model's choice lists its models, and one of them is chosen (which
        shows that model's controls and checks again, as choosing a model does)."""
        p = self.page.inputs
        family = values[p.family]
        model = presenter.family_model(family, values[p.tier], self.studio.settings.default_tier)
        return {p.tier: gr.update(choices=presenter.model_choices(family), value=model)}

    def model_chosen(self, values: Values) -> Changes:
        """A model chosen (on the page, or restored from a run): its family follows, what it is for is
        said under it, a comparison can no longer add it, and the controls follow."""
        p = self.page.inputs
        tier = values[p.tier]
        compared = [name for name in values[p.batch.compare] or [] if name != tier]
        family = presenter.family_of(tier) or ""
        return {
            p.family: gr.update(value=family, info=presenter.family_note(family)),
            p.model_note: presenter.model_note(tier),
            p.batch.compare: gr.update(choices=presenter.compare_choices(tier), value=compared),
            **self._controls(tier, values[p.batch.kind], compared),
        }

    def batch_kind_chosen(self, values: Values) -> Changes:
        """More images or clips take files; a comparison takes models (and shows their controls)."""
        p = self.page.inputs
        comparing = values[p.batch.kind] == "model"
        return {
            p.batch.files: gr.update(visible=not comparing),
            p.batch.compare: gr.update(visible=comparing),
            **self.compared_chosen(values),
        }

    def compared_chosen(self, values: Values) -> Changes:
        """The models compared changed: the controls of every one of them are shown."""
        p = self.page.inputs
        return self._controls(values[p.tier], values[p.batch.kind], values[p.batch.compare] or [])

    def _controls(self, tier: str, kind: str, compared: list[str]) -> Changes:
        """The controls of the options the model takes (in a comparison, those any compared model
        takes too), and only those; the face panel only for a v3 model, and the prompt's example names
        the face then."""
        p = self.page.inputs
        models = [name for name in compared if name != tier] if kind == "model" else []
        changes: Changes = {
            **p.controls.shown_for(tier, *models),
            p.face_box: gr.update(visible=presenter.face_panel_shown(tier)),
        }
        if (
            "prompt" in p.controls.boxes
        ):  # its visibility (as `shown_for` gave it) and its example, in one update
            shown = changes[p.prompt]["visible"]
            changes[p.prompt] = gr.update(visible=shown, placeholder=presenter.prompt_placeholder(tier))
        return changes

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
        found = self.studio.orders.check_people(image, video, preview=True)
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
        """A clip Chromium can't play (MOV/HEVC/ProRes) is shown as an H.264 copy; fal gets the original.
        An uploaded clip wins over a URL: the URL box is emptied, so the page shows what is used."""
        unchanged = {self.page.inputs.input_note: gr.skip(), self.page.inputs.video_url: ""}
        if not video or self.studio.reader.original(video) != video:
            return unchanged
        copy = self.studio.reader.preview(video)
        if copy is None:
            return unchanged
        return {
            self.page.inputs.video: copy,
            self.page.inputs.input_note: f'<p class="input-note">{notices.CLIP_PREVIEWED}</p>',
            self.page.inputs.video_url: "",
        }

    def image_preview(self, image: str | None) -> Changes:
        """A photo browsers can't show (HEIC, TIFF) is replaced by the PNG it would be converted to. An
        uploaded photo wins over a URL: the URL box is emptied, so the page shows what is used."""
        shown = self.studio.reader.image_preview(image)
        return {
            self.page.inputs.image: servable(shown) if shown else gr.skip(),
            self.page.inputs.image_url: "",
        }

    def trim(self, values: Values) -> Changes:
        p = self.page.inputs
        try:
            trimmed = self.studio.orders.trim(
                Source.given(values[p.video], values[p.video_url]), values[p.orientation]
            )
        except StudioError as exc:
            return {self.page.run.verdict: presenter.error_text(exc)}
        return {p.video: trimmed, p.video_url: ""}

    def example_fal(self) -> Changes:
        """fal's own published sample (a real dancer): fetched from fal's CDN, passed to fal as it is."""
        p = self.page.inputs
        return {
            p.image: None,
            p.video: None,
            p.image_url: FAL_SAMPLE_IMAGE,
            p.video_url: FAL_SAMPLE_VIDEO,
            p.orientation: "video",
            p.prompt: notices.EXAMPLE_FAL_PROMPT,
        }

    def example_offline(self, orientation: str) -> Changes:
        p = self.page.inputs
        return {
            p.image: str(ASSETS / "example_character.png"),
            p.video: str(ASSETS / "example_motion.mp4"),
            p.image_url: "",
            p.video_url: "",
            p.orientation: orientation,
            p.prompt: notices.EXAMPLE_OFFLINE_PROMPT if orientation == "video" else "",
        }

    def key_status(self, key: str, owner: str | None) -> str:
        return self.studio.keys.status(key, Keys.visitor(owner))
