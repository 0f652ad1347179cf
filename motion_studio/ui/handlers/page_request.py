"""The one place where the page's inputs become the run it asks for (or the batch, when the batch
panel holds files): the live check and Generate read them alike."""

from __future__ import annotations

from ... import presenter
from ...batches import BatchRequest, Source
from ...inputs import FaceGiven
from ...studio import RunRequest
from ..layout.inputs_column import Inputs
from .changes import Values


def page_request(p: Inputs, values: Values) -> RunRequest | BatchRequest:
    """`values` holds the inputs' components; without the sound box (the live check) sound is kept."""
    tier = values[p.tier]
    request = RunRequest(
        values[p.image],
        values[p.video],
        values[p.orientation],
        values[p.prompt] or "",
        values.get(p.keep_sound, True),
        tier,
        values[p.image_url],
        values[p.video_url],
    )
    request = request.with_face(_face(tier, *(values[box] for box in p.face_images)))
    extra = tuple(Source(file=path) for path in values[p.batch.files] or [] if path)
    if not extra:
        return request
    if values[p.batch.kind] == "video":
        return BatchRequest(request, more_videos=extra)
    return BatchRequest(request, extra)


def _face(tier: str, frontal: str | None, *angles: str | None) -> FaceGiven:
    """The face panel's images, only while a v3 model is chosen: with another model the panel is
    hidden, and what it still holds (kept for a switch back) is not part of the run."""
    if not presenter.face_panel_shown(tier):
        return FaceGiven()
    return FaceGiven(frontal, None, tuple(angle for angle in angles if angle))
