"""Which event calls which handler, with which inputs, updating which components.

Helper events are private (`api_visibility="private"`): the public API is `api.py`'s alone.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import gradio as gr

from .. import presenter
from .handlers import Handlers
from .layout import Page

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


def wire(demo: gr.Blocks, page: Page, on: Handlers) -> None:
    h, p, r, g, m = page.header, page.inputs, page.run, page.gallery, page.memory
    gallery_out = [g.timer, g.gallery, m.gallery_ids, m.gallery_sig, g.summary, g.show_more]
    result_out = [r.empty, r.results, r.output, r.reference, r.side, r.side_note, r.download]
    result_out += [r.grid.tab, r.grid.video, r.grid.note]
    follow_out = [r.progress, r.logs, p.generate, r.cancel, m.selected_run, *gallery_out, *result_out]
    buttons_out = [g.resume, g.run_again, g.delete, g.confirm_row]

    # The live check: one event for every trigger, "always_last", so checks of a page never overlap
    # and the last one reads the latest inputs (loading an example sets several inputs at once).
    check_in = [p.image, p.image_url, p.video, p.video_url, p.orientation, p.prompt, p.tier, h.key_box]
    check_in += [*p.face_images, p.batch.kind, p.batch.files]
    check_out = [p.image_info, p.video_info, r.verdict, r.cost, p.generate, p.trim, m.checked]
    check_out += [p.face_info]
    check: dict[str, Any] = {
        "fn": on.check,
        "inputs": check_in,
        "outputs": check_out,
        "trigger_mode": "always_last",
    }
    triggers = [p.image.change, p.video.change, p.orientation.change, p.tier.change, p.image_url.submit]
    triggers += [p.image_url.blur, p.video_url.submit, p.video_url.blur, p.prompt.blur, h.key_box.blur]
    triggers += [box.change for box in p.face_images]
    triggers += [p.batch.files.change, p.batch.kind.change]
    checked = gr.on(triggers=triggers, **check, **QUIET)
    # The people check follows each check as its own event, so the verdict never waits for it; "always
    # last" again, so the check of the newest inputs is never dropped behind an older one still running.
    people: dict[str, Any] = {
        "fn": on.people,
        "inputs": [m.checked],
        "outputs": [r.people, r.pose_box, r.pose],
        "trigger_mode": "always_last",
        **QUIET,
    }
    if on.studio.settings.people_check:
        checked.then(**people)
    # What a URL holds, shown under it once the check has fetched it.
    url_previews: dict[str, Any] = {
        "fn": on.url_previews,
        "inputs": [m.checked, p.image, p.image_url, p.video, p.video_url, m.url_shown],
        "outputs": [p.image_from_url, p.video_from_url, m.url_shown],
        "trigger_mode": "always_last",
        **QUIET,
    }
    checked.then(**url_previews)
    p.video.upload(on.preview, p.video, [p.video, p.input_note, p.video_url], **QUIET)
    p.image.upload(on.image_preview, p.image, [p.image, p.image_url], **QUIET)
    # Kling v3's face panel: shown for v3 only; its images are checked like the character image.
    p.tier.change(on.model_chosen, p.tier, [p.face_box, p.prompt], **QUIET)
    for box in p.face_images:
        box.upload(on.face_preview, box, box, **QUIET)
    p.face_name.click(on.name_face, p.prompt, p.prompt, **QUIET).then(**check, **QUIET)
    p.trim.click(on.trim, [p.video, p.video_url, p.orientation], [p.video, p.video_url, r.verdict], **PRIVATE)
    example_fal = p.example_fal.click(on.example_fal, None, _example_out(p), **QUIET).then(**check, **QUIET)
    example_fal.then(**url_previews)
    if on.studio.settings.people_check:
        example_fal.then(**people)
    for button, orientation in ((p.example_offline, "video"), (p.example_offline_image, "image")):
        button.click(partial(on.example_offline, orientation), None, _example_out(p), **QUIET)
    p.prompt.change(presenter.prompt_counter, p.prompt, p.prompt_count, **QUIET)
    p.orientation.change(presenter.orientation_help, p.orientation, p.orientation_note, **QUIET)
    h.key_box.change(on.key_status, h.key_box, h.key_status, **QUIET)

    # A run: start it, then follow it (also after a reload, from the gallery, Resume and Run again).
    follow: dict[str, Any] = {
        "fn": on.follow,
        "inputs": [m.job_id, m.owner, m.gallery_limit],
        "outputs": follow_out,
        **STREAM,
    }
    run_in = [p.image, p.image_url, p.video, p.video_url, p.orientation, p.prompt, p.keep_sound, p.tier]
    start_out = [m.job_id, r.progress, r.verdict, p.generate, r.cancel, g.timer, m.batch_id, r.cancel_all]
    started = {**follow, "fn": on.follow_started}
    start_in = [*run_in, h.key_box, m.owner, *p.face_images, p.batch.kind, p.batch.files]
    # A batch (the batch panel holds files): `start` starts it instead, and its own stream follows.
    batch_out = [r.progress, r.cancel, r.cancel_all, p.generate, m.selected_run, r.tabs]
    batch_follow: dict[str, Any] = {
        "fn": on.batch.follow,
        "inputs": [m.batch_id, m.owner, m.gallery_limit],
        "outputs": [*batch_out, *gallery_out, *result_out],
        **STREAM,
    }
    batch_started = {**batch_follow, "fn": on.batch.follow_started}
    # Not through Gradio's queue (a direct request: ~0.1 s sooner to fal); `start` only hands the run
    # to the runner, which is where runs queue.
    p.generate.click(on.start, start_in, start_out, queue=False, **PRIVATE).then(**started).then(
        **batch_started
    )
    # The run's progress (and Cancel) sit at the top of the result column: off screen from Generate
    # on a phone, and on a desktop scrolled down to it. Bring them into view, in the browser only.
    p.generate.click(None, None, None, js=SHOW_PROGRESS, **PRIVATE)
    r.cancel.click(on.cancel, m.job_id, r.progress, concurrency_limit=None, **PRIVATE)
    r.cancel_all.click(
        on.batch.cancel_all, [m.batch_id, m.owner], r.progress, concurrency_limit=None, **PRIVATE
    )
    r.grid.tab.select(on.batch.show_grid, [m.selected_run, m.owner], [r.grid.video, r.grid.note], **PRIVATE)
    r.side_tab.select(on.side_by_side, [m.selected_run, m.owner], [r.side, r.side_note], **PRIVATE)
    demo.load(on.identify, m.owner, m.owner, **PRIVATE).then(
        on.refresh, [m.gallery_sig, m.owner, m.gallery_limit], gallery_out, **PRIVATE
    ).then(on.attach, m.owner, [m.job_id, m.batch_id], **PRIVATE).then(**follow).then(**batch_follow)

    # The gallery: polled only while a run is active; a selected run comes back into the page.
    g.timer.tick(on.refresh, [m.gallery_sig, m.owner, m.gallery_limit], gallery_out, **QUIET)
    g.show_more.click(on.show_more, [m.owner, m.gallery_limit], [m.gallery_limit, *gallery_out], **PRIVATE)
    select_out = [m.selected_run, g.card, *_example_out(p), p.keep_sound, p.tier, m.job_id, *result_out]
    select_out += [p.face_box, *p.face_images, r.progress]
    g.gallery.select(on.select, [m.gallery_ids, m.owner], [*select_out, *buttons_out], **PRIVATE).then(
        **follow
    )
    delete_out = [m.selected_run, g.card, *gallery_out, *buttons_out, g.confirm_text, *result_out, r.progress]
    g.delete.click(
        on.ask_delete, [m.selected_run, m.owner, h.key_box, m.gallery_limit], delete_out, **PRIVATE
    )
    g.confirm_yes.click(
        on.delete, [m.selected_run, m.owner, h.key_box, m.gallery_limit], delete_out, **PRIVATE
    )
    g.confirm_no.click(on.keep, None, g.confirm_row, **PRIVATE)
    for button, action in ((g.resume, "resume"), (g.run_again, "run_again")):
        button.click(
            on.act(action), [m.selected_run, h.key_box, m.owner], [m.job_id, r.progress, g.timer], **PRIVATE
        ).then(**follow)


def _example_out(p: Any) -> list[Any]:
    """The inputs an example (or a restored run) fills."""
    return [p.image, p.video, p.image_url, p.video_url, p.orientation, p.prompt]
