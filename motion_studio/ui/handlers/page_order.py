"""The one place where the page's inputs become the order it asks for (a single run, a batch when the
batch panel holds files, or a comparison when it compares models): the live check and Generate read
them alike."""

from __future__ import annotations

from ... import presenter
from ...options_parser import parse_options
from ...order import FaceSources, Order, Source
from ..layout.inputs_column import Inputs
from .changes import Values


def page_order(p: Inputs, values: Values, default_model: str, *, preview: bool = False) -> Order:
    """`values` holds the inputs' components; an option whose box is not among them takes its
    default; `preview`: the Preview button asked. The batch panel's files count only for more images
    or clips, its models only while it compares (each hidden part keeps its value for a switch back).
    Raises the sentence for options or a batch that can't be made."""
    chosen = {name: values[box] for name, box in p.options.items() if box in values}
    comparing = values.get(p.batch.kind) == "model"
    more_models = (values.get(p.batch.compare) or None) if comparing else None
    options, *compared = parse_options(
        {**chosen, "preview": preview, "more_models": more_models}, edge="page", default_model=default_model
    )
    files = () if comparing else values[p.batch.files] or []
    extra = tuple(Source(file=path) for path in files if path)
    by_video = values[p.batch.kind] == "video"
    return Order.of(
        options,
        Source.given(values[p.image], values[p.image_url]),
        Source.given(values[p.video], values[p.video_url]),
        more_images=() if by_video else extra,
        more_videos=extra if by_video else (),
        face=_face(options.model, *(values[box] for box in p.face_images)),
        compared=tuple(compared),
    )


def _face(model: str, frontal: str | None, *angles: str | None) -> FaceSources:
    """The face panel's images, only while a v3 model is chosen: with another model the panel is
    hidden, and what it still holds (kept for a switch back) is not part of the run."""
    if not presenter.face_panel_shown(model):
        return FaceSources()
    return FaceSources(Source.given(frontal), tuple(Source(file=angle) for angle in angles if angle))
