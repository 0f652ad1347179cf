"""Each option's control, made from its description in the catalogue: a radio for a choice (with a
line under it saying what the chosen value does), a checkbox for a flag, a box for a text (with its
counter when it has a limit), a number box with its bounds. Each sits in its own column, shown only
while the chosen model (or, in a comparison, one of the compared models) takes its option: a hidden
option leaves no gap in the row of options."""

from __future__ import annotations

from typing import Any

import gradio as gr

from ... import presenter
from ...catalog import OPTIONS, Option, tier

Control = gr.Radio | gr.Checkbox | gr.Textbox | gr.Number | gr.Slider


class OptionControls:
    """The option controls of one page, placed where the layout asks, by option name."""

    def __init__(self, default_model: str) -> None:
        self.default_model = default_model
        self.boxes: dict[str, Control] = {}
        self.notes: dict[str, gr.Markdown] = {}  # a choice's line, or a text's counter
        self.columns: dict[str, gr.Column] = {}  # each option's control and note

    def place(self, name: str, **extra: Any) -> None:
        """The option's control here (and its note under it), if the catalogue has that option;
        `extra`: what the layout adds to it (a text's placeholder)."""
        option = OPTIONS.get(name)
        if option is None:
            return
        shown = tier(self.default_model).takes(name)
        element = option.name.replace("_", "-")
        with gr.Column(min_width=200, visible=shown, elem_id=f"{element}-column") as column:
            self.boxes[name] = _control(option, shown, extra)
            note = _note(option, shown)
        self.columns[name] = column
        if note is not None:
            self.notes[name] = note

    @property
    def components(self) -> list[Any]:
        """Every control, note and column: what showing the controls of a model updates."""
        return [*self.boxes.values(), *self.notes.values(), *self.columns.values()]

    def shown_for(self, model: str, *compared: str) -> dict[Any, Any]:
        """Every control and note shown or hidden as `model` (or one of the `compared` models) takes
        its option (a hidden one keeps its value for a switch back; the page's order leaves it out)."""
        models = [tier(name) for name in (model, *compared)]

        def takes(name: str) -> bool:
            return any(each.takes(name) for each in models)

        return {
            box: gr.update(visible=takes(name))
            for boxes in (self.boxes, self.notes, self.columns)
            for name, box in boxes.items()
        }


def _control(option: Option, shown: bool, extra: dict[str, Any]) -> Control:
    common: dict[str, Any] = {
        "label": option.label,
        "value": option.default,
        "visible": shown,
        "elem_id": option.name.replace("_", "-"),
        **extra,
    }
    if option.kind is bool:
        # Its help under it, unless the help only says the label again (keeping the clip's sound).
        restated = option.help.lower().startswith(option.label.lower())
        return gr.Checkbox(info=None if restated else option.help, **common)
    if option.choices:
        return gr.Radio(presenter.choice_labels(option.name), **common)
    if option.kind is str:
        lines = 2 if option.max_chars and option.max_chars > 200 else 1
        return gr.Textbox(lines=lines, **common)
    if option.default is None:
        # A number that may be left empty (the seed) is typed as text: Gradio's number box shows and
        # sends 0 for none, and again whenever it is shown after being hidden (a seed of 0 each run).
        return gr.Textbox(max_lines=1, info=option.help, placeholder=presenter.EMPTY_NUMBER, **common)
    if option.minimum is not None and option.maximum is not None and option.kind is float:
        return gr.Slider(option.minimum, option.maximum, info=option.help, **common)
    precision = 0 if option.kind is int else None
    return gr.Number(
        minimum=option.minimum, maximum=option.maximum, precision=precision, info=option.help, **common
    )


def _note(option: Option, shown: bool) -> gr.Markdown | None:
    if option.choices:
        return gr.Markdown(
            presenter.choice_note(option.name, option.default), visible=shown, elem_classes="small-note"
        )
    if option.kind is str and option.max_chars:
        return gr.Markdown(
            presenter.text_counter(option.name, ""),
            visible=shown,
            elem_id=f"{option.name.replace('_', '-')}-counter",
            elem_classes="small-note",
        )
    return None
