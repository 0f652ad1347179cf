"""What a page remembers between events: Gradio states, this browser's id, and who the visitor is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from ...settings import Settings


@dataclass(frozen=True)
class Memory:
    """What a page remembers between events (per tab; `browser` per browser, in localStorage)."""

    job_id: gr.State
    browser: gr.BrowserState
    # Who the visitor is: this browser's id, or their Hugging Face account when signed in. Set by the
    # page's load alone, and held by the server (a browser can't write a `gr.State`): an account's
    # name is public, so a value a browser sends must never decide whose runs are whose.
    owner: gr.State
    selected_run: gr.State
    gallery_ids: gr.State
    gallery_sig: gr.State
    gallery_limit: gr.State
    checked: gr.State  # (image, clip) the last check accepted: what the people check reads
    batch_id: gr.State  # the batch this page started last, whose progress it follows
    url_shown: gr.State  # (image, clip) fetched from URLs and shown under them, so they are sent once
    refused_image: gr.State  # an image file the check refused and took out of its box (see the check)


def memory(settings: Settings) -> Memory:
    # A random id kept in this browser's localStorage: whose runs are whose, for private galleries.
    # Its secret is kept (a setting, or a file in the data directory): the id survives restarts.
    browser = gr.BrowserState(None, storage_key="motion-studio-owner", secret=settings.browser_state_secret())
    gallery_sig: Any = gr.State(None)  # None: not rendered yet, so even an empty history is shown
    return Memory(
        job_id=gr.State(None),
        browser=browser,
        owner=gr.State(None),
        selected_run=gr.State(None),
        gallery_ids=gr.State([]),
        gallery_sig=gallery_sig,
        gallery_limit=gr.State(settings.gallery_page_size),
        checked=gr.State((None, None)),
        batch_id=gr.State(None),
        url_shown=gr.State((None, None)),
        refused_image=gr.State(None),
    )
