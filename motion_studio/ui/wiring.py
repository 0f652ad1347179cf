"""Which event calls which handler, with which inputs, updating which components: in the page's
order, the inputs column, the result column, the page's load, and the gallery.

Every handler of more than one input is wired with a *set* of components and gets `{component:
value}` (Gradio's dict-style inputs), so no list here has to match a handler's arguments. Helper
events are private (`api_visibility="private"`): the public API is `api.py`'s alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import gradio as gr
from gradio.blocks import Block

from .. import presenter
from ..settings import Settings
from .handlers.page_handlers import Handlers
from .layout.parts import Page

PRIVATE: dict[str, Any] = {"api_visibility": "private"}
QUIET: dict[str, Any] = {**PRIVATE, "show_progress": "hidden"}
STREAM: dict[str, Any] = {**QUIET, "concurrency_limit": None}  # a progress stream waits on nobody
SHOW_PROGRESS = """() => {
  const progress = document.querySelector('#progress');
  const box = progress && progress.getBoundingClientRect();
  if (box && (box.top < 0 || box.bottom > window.innerHeight)) {
    progress.scrollIntoView({behavior: 'smooth', block: 'center'});
  }
}"""


@dataclass(frozen=True)
class Steps:
    """Events more than one trigger runs (`.then(**step)`): the live check and what follows it, and
    following a run or a batch."""

    check: dict[str, Any]
    people: dict[str, Any] | None  # None: the people check is off
    url_previews: dict[str, Any]
    follow: dict[str, Any]
    batch_follow: dict[str, Any]


def wire(demo: gr.Blocks, page: Page, on: Handlers, settings: Settings) -> None:
    steps = _steps(page, on, settings)
    _wire_check(page, steps)
    _wire_inputs(page, on, steps)
    _wire_run(page, on, steps)
    _wire_load(demo, page, on, steps, settings)
    _wire_gallery(page, on, steps)


def _steps(page: Page, on: Handlers, settings: Settings) -> Steps:
    h, p, r, m = page.header, page.inputs, page.run, page.memory
    # The live check: one event for every trigger, "always_last", so checks of a page never overlap
    # and the last one reads the latest inputs (loading an example sets several inputs at once).
    check_in = values_of(p.image, p.image_url, p.video, p.video_url, h.key_box, *p.options.values())
    check_in |= values_of(
        *p.face_images, p.batch.kind, p.batch.files, p.batch.compare, m.refused_image, m.owner
    )
    check_out = [p.image_info, p.video_info, r.verdict, r.cost, p.generate, p.preview, p.trim, m.checked]
    check_out += [p.face_info]
    check_out += [p.image, m.refused_image]  # a picture no browser can show leaves its box
    check = {"fn": on.inputs.check, "inputs": check_in, "outputs": check_out, "trigger_mode": "always_last"}
    # The people check follows each check as its own event, so the verdict never waits for it; "always
    # last" again, so the check of the newest inputs is never dropped behind an older one still running.
    people: dict[str, Any] = {
        "fn": on.inputs.people,
        "inputs": [m.checked],
        "outputs": [r.people, r.pose_box, r.pose],
        "trigger_mode": "always_last",
        **QUIET,
    }
    # What a URL holds, shown under it once the check has fetched it.
    url_previews: dict[str, Any] = {
        "fn": on.inputs.url_previews,
        "inputs": values_of(m.checked, p.image, p.image_url, p.video, p.video_url, m.url_shown),
        "outputs": [p.image_from_url, p.video_from_url, m.url_shown],
        "trigger_mode": "always_last",
        **QUIET,
    }
    return Steps(
        check=check,
        people=people if settings.people_check else None,
        url_previews=url_previews,
        follow=_follow(page, on),
        batch_follow=_batch_follow(page, on),
    )


def _follow(page: Page, on: Handlers) -> dict[str, Any]:
    """Follow a run: after Generate, on load, and after a run is selected, resumed or run again."""
    p, r, m = page.inputs, page.run, page.memory
    follow_out = [r.progress, r.logs, p.generate, p.preview, r.cancel, m.selected_run]
    return {
        "fn": on.runs.follow,
        "inputs": values_of(m.job_id, m.owner, m.gallery_limit),
        "outputs": [*follow_out, *_gallery_out(page), *_result_out(page)],
        **STREAM,
    }


def _batch_follow(page: Page, on: Handlers) -> dict[str, Any]:
    """Follow a batch: after Generate started one, and on load."""
    p, r, m = page.inputs, page.run, page.memory
    batch_out = [r.progress, r.cancel, r.cancel_all, p.generate, p.preview, m.selected_run, r.tabs]
    return {
        "fn": on.batch.follow,
        "inputs": values_of(m.batch_id, m.owner, m.gallery_limit),
        "outputs": [*batch_out, *_gallery_out(page), *_result_out(page)],
        **STREAM,
    }


def _wire_check(page: Page, steps: Steps) -> None:
    """The live check, run by any change of the inputs, then the people check and the URL previews."""
    h, p = page.header, page.inputs
    # (A model's change checks once its controls and the comparison's models follow it: `_wire_inputs`.)
    triggers = [p.image.change, p.video.change, p.image_url.submit]
    triggers += [p.image_url.blur, p.video_url.submit, p.video_url.blur, h.key_box.blur]
    # An option's text is checked when the user leaves its box, any other option when it changes.
    triggers += [box.blur if isinstance(box, gr.Textbox) else box.change for box in p.controls.boxes.values()]
    triggers += [box.change for box in p.face_images]
    triggers += [p.batch.files.change, p.batch.kind.change, p.batch.compare.change]
    checked = gr.on(triggers=triggers, **steps.check, **QUIET)
    if steps.people is not None:
        checked.then(**steps.people)
    checked.then(**steps.url_previews)


def _wire_inputs(page: Page, on: Handlers, steps: Steps) -> None:
    """The inputs column, top to bottom: previews, the model and its face panel, trim, the examples,
    the prompt's counter, the orientation's help, the key's status."""
    h, p, r, e = page.header, page.inputs, page.run, page.examples
    p.video.upload(on.inputs.preview, p.video, [p.video, p.input_note, p.video_url], **QUIET)
    p.image.upload(on.inputs.image_preview, p.image, [p.image, p.image_url], **QUIET)
    # The family lists its models; a model shows its controls (those of every compared model in a
    # comparison) and Kling v3's face panel, then the check runs on what the model changed.
    p.family.input(on.inputs.family_chosen, values_of(p.family, p.tier), p.tier, **QUIET)
    shown_out = [p.face_box, *p.controls.components]
    chosen_in = values_of(p.tier, p.batch.kind, p.batch.compare)
    chosen_out = [p.family, p.model_note, p.batch.compare, *shown_out]
    p.tier.change(on.inputs.model_chosen, chosen_in, chosen_out, **QUIET).then(**steps.check, **QUIET)
    kind_out = [p.batch.files, p.batch.compare, *shown_out]
    p.batch.kind.change(on.inputs.batch_kind_chosen, chosen_in, kind_out, **QUIET)
    p.batch.compare.change(on.inputs.compared_chosen, chosen_in, shown_out, **QUIET)
    for box in p.face_images:
        box.upload(on.inputs.face_preview, box, box, **QUIET)
    p.face_name.click(on.inputs.name_face, p.prompt, p.prompt, **QUIET).then(**steps.check, **QUIET)
    trim_in = values_of(p.video, p.video_url, p.orientation)
    p.trim.click(on.inputs.trim, trim_in, [p.video, p.video_url, r.verdict], **PRIVATE)
    example_fal = e.fal.click(on.inputs.example_fal, None, _example_out(page), **QUIET)
    example_fal = example_fal.then(**steps.check, **QUIET)
    example_fal.then(**steps.url_previews)
    if steps.people is not None:
        example_fal.then(**steps.people)
    for button, orientation in ((e.offline, "video"), (e.offline_image, "image")):
        button.click(partial(on.inputs.example_offline, orientation), None, _example_out(page), **QUIET)
    for name, note in p.controls.notes.items():  # a choice's line, a text's counter
        control = p.controls.boxes[name]
        says = presenter.choice_note if isinstance(control, gr.Radio) else presenter.text_counter
        control.change(partial(says, name), control, note, **QUIET)
    h.key_box.change(on.inputs.key_status, [h.key_box, page.memory.owner], h.key_status, **QUIET)


def _wire_run(page: Page, on: Handlers, steps: Steps) -> None:
    """Generate, then follow the run (or the batch: the batch panel holds files); Cancel, Cancel all,
    and the result's tabs made when opened."""
    h, p, r, m = page.header, page.inputs, page.run, page.memory
    start_in = values_of(p.image, p.image_url, p.video, p.video_url, *p.options.values())
    start_in |= values_of(h.key_box, m.owner, *p.face_images, p.batch.kind, p.batch.files, p.batch.compare)
    start_out = [m.job_id, r.progress, r.verdict, p.generate, p.preview, r.cancel, page.gallery.timer]
    start_out += [m.batch_id]
    start_out += [r.cancel_all]
    started = {**steps.follow, "fn": on.runs.follow_started}
    batch_started = {**steps.batch_follow, "fn": on.batch.follow_started}
    # Not through Gradio's queue (a direct request: ~0.1 s sooner to fal); `start` only hands the run
    # to the runner, which is where runs queue.
    for button, start in ((p.generate, on.runs.start), (p.preview, on.runs.start_preview)):
        generated = button.click(start, start_in, start_out, queue=False, **PRIVATE)
        generated.then(**started).then(**batch_started)
        # The run's progress (and Cancel) sit at the top of the result column: off screen from the
        # button on a phone, and on a desktop scrolled down to it. Bring them into view, in the browser.
        button.click(None, None, None, js=SHOW_PROGRESS, **PRIVATE)
    r.cancel.click(on.runs.cancel, m.job_id, r.progress, concurrency_limit=None, **PRIVATE)
    batch_of = values_of(m.batch_id, m.owner)
    r.cancel_all.click(on.batch.cancel_all, batch_of, r.progress, concurrency_limit=None, **PRIVATE)
    selected = values_of(m.selected_run, m.owner)
    r.grid.tab.select(on.batch.show_grid, selected, [r.grid.video, r.grid.note], **PRIVATE)
    r.side_tab.select(on.gallery.side_by_side, selected, [r.side, r.side_note], **PRIVATE)


def _wire_load(demo: gr.Blocks, page: Page, on: Handlers, steps: Steps, settings: Settings) -> None:
    """On load (a reload, a second tab, back from signing in or out): who the visitor is, their
    gallery, and their run still going. Only with sign-in on does the load ask Gradio for the signed-in
    profile (asking at all makes Gradio expect Hugging Face's sign-in, which only a Space provides)."""
    m = page.memory
    who: list[Block] = [m.browser, m.owner]
    if settings.sign_in == "off" or page.header.sign_in is None:
        identified = demo.load(on.gallery.identify, m.browser, who, **PRIVATE)
    else:
        who += [page.header.sign_in, page.header.key_status, page.header.key_accordion]
        identified = demo.load(on.gallery.identify_signed_in, m.browser, who, **PRIVATE)
    refresh_in = values_of(m.gallery_sig, m.owner, m.gallery_limit)
    shown = identified.then(on.gallery.refresh, refresh_in, _gallery_out(page), **PRIVATE)
    attached = shown.then(on.runs.attach, m.owner, [m.job_id, m.batch_id], **PRIVATE)
    attached.then(**steps.follow).then(**steps.batch_follow)


def _wire_gallery(page: Page, on: Handlers, steps: Steps) -> None:
    """The gallery: polled only while a run is active; a selected run comes back into the page, and
    can be deleted, resumed or run again."""
    h, p, r, g, m = page.header, page.inputs, page.run, page.gallery, page.memory
    gallery_out, result_out = _gallery_out(page), _result_out(page)
    buttons_out = [g.resume, g.run_again, g.delete, g.confirm_row]
    g.timer.tick(on.gallery.refresh, values_of(m.gallery_sig, m.owner, m.gallery_limit), gallery_out, **QUIET)
    more_out = [m.gallery_limit, *gallery_out]
    g.show_more.click(on.gallery.show_more, values_of(m.owner, m.gallery_limit), more_out, **PRIVATE)
    restored = list(dict.fromkeys([*_example_out(page), *p.options.values()]))  # a run's inputs and options
    select_out = [m.selected_run, g.card, *restored, m.job_id, *result_out]
    select_out += [p.face_box, *p.face_images, r.progress, *buttons_out]
    selected = g.gallery.select(on.gallery.select, values_of(m.gallery_ids, m.owner), select_out, **PRIVATE)
    selected.then(**steps.follow)
    delete_in = values_of(m.selected_run, m.owner, h.key_box, m.gallery_limit)
    delete_out = [m.selected_run, g.card, *gallery_out, *buttons_out, g.confirm_text, *result_out, r.progress]
    g.delete.click(on.gallery.ask_delete, delete_in, delete_out, **PRIVATE)
    g.confirm_yes.click(on.gallery.delete, delete_in, delete_out, **PRIVATE)
    g.confirm_no.click(on.gallery.keep, None, g.confirm_row, **PRIVATE)
    for button, action in ((g.resume, "resume"), (g.run_again, "run_again"), (r.run_full, "run_full")):
        act_in = values_of(m.selected_run, h.key_box, m.owner)
        act_out = [m.job_id, r.progress, g.timer, r.run_full]
        button.click(on.gallery.act(action), act_in, act_out, **PRIVATE).then(**steps.follow)


def values_of(*components: Block) -> set[Block]:
    """A dict-style event's inputs: its handler gets `{component: value}` for each of them."""
    return set(components)


def _gallery_out(page: Page) -> list[Any]:
    g, m = page.gallery, page.memory
    return [g.timer, g.shown, g.gallery, m.gallery_ids, m.gallery_sig, g.summary, g.show_more]


def _result_out(page: Page) -> list[Any]:
    """A run's result area: what a finished run, a selected one or a deleted one redraws."""
    r = page.run
    return [
        r.empty,
        r.results,
        r.output,
        r.reference,
        r.side,
        r.side_note,
        r.download,
        r.run_full,
        *_grid_out(page),
    ]


def _grid_out(page: Page) -> list[Any]:
    return [page.run.grid.tab, page.run.grid.video, page.run.grid.note]


def _example_out(page: Page) -> list[Any]:
    """The inputs an example (or a restored run) fills."""
    p = page.inputs
    return [p.image, p.video, p.image_url, p.video_url, p.orientation, p.prompt]
