"""A Gradio image box that hands the app the file as dropped, so the app's own check reads it.

Gradio's `Image` opens every upload with Pillow before the handler runs: a text file named `.png`, an
empty file, a decompression bomb or an iPhone HEIC photo fails inside Gradio, the handler never runs
and the page keeps its old verdict. An image box made by `any_image` is `gr.Image` in the browser, but
passes the uploaded file's path on untouched; `media.inspect_image` then says what is wrong with it.

How: `gr.Image.preprocess` is wrapped once, for boxes carrying the `ANY_FILE` class only. Not a
subclass (Gradio writes a `.pyi` stub next to the module of every component subclass) and not an
instance attribute (Gradio rebuilds a component from its arguments when a handler updates it).
"""

from __future__ import annotations

from typing import Any

import gradio as gr

ANY_FILE = "takes-any-file"
_decode = gr.Image.preprocess


def _preprocess(self: gr.Image, payload: Any) -> Any:
    takes_any = ANY_FILE in (self.elem_classes or []) and self.type == "filepath"
    if takes_any and payload is not None and payload.path and not (payload.url or "").startswith("data:"):
        return str(payload.path)
    return _decode(self, payload)


gr.Image.preprocess = _preprocess  # type: ignore[method-assign]


def any_image(**kwargs: Any) -> gr.Image:
    """`gr.Image(type="filepath", **kwargs)` without Gradio decoding the upload first."""
    classes = kwargs.pop("elem_classes", None) or []
    classes = [classes] if isinstance(classes, str) else list(classes)
    return gr.Image(type="filepath", elem_classes=[*classes, ANY_FILE], **kwargs)
