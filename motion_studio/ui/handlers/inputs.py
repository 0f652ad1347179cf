"""The inputs and their verdict: the live check, the previews, trim, the examples, the people check
and the face panel."""

from __future__ import annotations

from typing import Any

import gradio as gr

from ... import presenter
from ...catalog import FAL_SAMPLE_IMAGE, FAL_SAMPLE_VIDEO, prompt_with_face
from ...errors import StudioError
from ...inputs import FaceGiven
from ...serving import servable
from ...studio import RunRequest
from ..layout import ASSETS
from .base import Changes, HandlerBase


class InputHandlers(HandlerBase):
    """The inputs' events: what the page says about them, and what fills them."""

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

    def url_previews(
        self,
        checked: tuple[str | None, str | None],
        image: str | None,
        image_url: str,
        video: str | None,
        video_url: str,
        shown: tuple[str | None, str | None],
    ) -> Changes:
        """What an input given by URL holds, shown under its URL once the check has fetched it (fal's
        example too): nobody should pay for a picture or a clip they have not seen. Sent only when it
        changes, so a check of the prompt does not reload the player."""
        image_file = checked[0] if not image and (image_url or "").strip() else None
        clip_file = checked[1] if not video and (video_url or "").strip() else None
        p = self.page.inputs
        changes: Changes = {self.page.memory.url_shown: (image_file, clip_file)}
        if image_file != shown[0]:
            changes[p.image_from_url] = gr.update(value=servable(image_file), visible=bool(image_file))
        if clip_file != shown[1]:
            playable = self.studio.reader.preview(clip_file) or clip_file if clip_file else None
            changes[p.video_from_url] = gr.update(value=servable(playable), visible=bool(clip_file))
        return changes

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
        """A clip Chromium can't play (MOV/HEVC/ProRes) is shown as an H.264 copy; fal gets the original.
        An uploaded clip wins over a URL: the URL box is emptied, so the page shows what is used."""
        unchanged = {self.page.inputs.input_note: gr.skip(), self.page.inputs.video_url: ""}
        if not video or self.studio.reader.original(video) != video:
            return unchanged
        copy = self.studio.reader.preview(video)
        if copy is None:
            return unchanged
        note = "🎞 Shown as an H.264 preview (your browser can't play the original); fal gets the original."
        return {
            self.page.inputs.video: copy,
            self.page.inputs.input_note: f'<p class="input-note">{note}</p>',
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


def page_face(tier: str, frontal: str | None, *angles: str | None) -> FaceGiven:
    """The face panel's images, only while a v3 model is chosen: with another model the panel is
    hidden, and what it still holds (kept for a switch back) is not part of the run."""
    if not presenter.face_panel_shown(tier):
        return FaceGiven()
    return FaceGiven(frontal, None, tuple(angle for angle in angles if angle))
