"""The top of the page: the intro, signing in with Hugging Face (when the Space asks for it), and the
fal API key (its status, and the box to paste one)."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from ... import presenter
from ...settings import Settings
from ...studio.keys import Keys
from .assets import page_text


@dataclass(frozen=True)
class Header:
    key_status: gr.Markdown
    key_box: gr.Textbox
    key_accordion: gr.Accordion
    sign_in: gr.Markdown | None = None  # None: sign-in is off (as everywhere but on a Space that turns it on)


def header(settings: Settings) -> Header:
    gr.Markdown(page_text("intro.md"), elem_id="intro")
    sign_in = None
    if settings.sign_in != "off":
        # What a signed-out visitor can do, until the page's load says who this visitor is.
        sign_in = gr.Markdown(presenter.sign_in_status(settings, None), elem_id="sign-in")
        gr.LoginButton(elem_id="sign-in-button")
    # As for a visitor not signed in, until the page's load says who this visitor is: the box is open
    # when the server's key is not theirs to use.
    keys = Keys(settings)
    key_status = gr.Markdown(keys.status(None, None), elem_id="key-status")
    lent = keys.lent_to(None)
    with gr.Accordion("fal API key for this session", open=not lent, elem_id="key-accordion") as accordion:
        key_box = gr.Textbox(
            label="fal API key",
            type="password",
            placeholder="paste a key from fal.ai/dashboard/keys",
            elem_id="fal-key",
            info="Used for this browser session only; never stored or shown again.",
        )
    return Header(key_status, key_box, accordion, sign_in)
