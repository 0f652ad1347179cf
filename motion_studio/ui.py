"""The Gradio page: layout, and wiring of components to the core and the presenter. No business logic.

`create_demo()` builds the page; `launch()` is what `python app.py` (and a Space) runs. Helper events
are private (`api_visibility="private"`); the one public endpoint is `/generate`.
"""

from __future__ import annotations

import signal
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import gradio as gr
import safehttpx

from . import presenter
from .catalog import ORIENTATION_MAX_SECONDS
from .errors import StudioError
from .fetching import is_public
from .jobs import Done, Failed, JobSpec
from .lifecycle import Action
from .serving import servable
from .settings import Settings, configure_logging, get_settings
from .studio import Studio

ASSETS = Path(__file__).resolve().parent.parent / "assets"
# Gradio fetches URLs itself too (`/file=http…`, URL file inputs) through safehttpx, whose notion of
# "public" lets CGNAT and other inside ranges through: it gets ours.
safehttpx.is_public_ip = is_public
PRIVATE: dict[str, Any] = {"api_visibility": "private"}
CSS = """
#verdict p, #cost p { margin: 0.2em 0; }
#progress { min-height: 2.5em; }
.small-note p { font-size: 0.85em; opacity: 0.8; margin: 0; }
"""


def create_demo(settings: Settings | None = None, studio: Studio | None = None) -> gr.Blocks:
    settings = settings or get_settings()
    studio = studio or Studio(settings)
    lends_its_key = bool(settings.fal_key and settings.fal_key.get_secret_value().strip())
    lends_its_key = lends_its_key and not settings.visitors_bring_own_key

    # Gradio's cache keeps what it handed out; files older than a day go (checked hourly).
    with gr.Blocks(title="Motion Control Studio", delete_cache=(3600, 86400)) as demo:
        gr.Markdown(
            "# 🕺 Motion Control Studio\n"
            "Give a **character image** and a **reference video**: Kling v2.6 Motion Control on fal.ai makes "
            "the character perform the video's motion. Inputs are checked here before anything is uploaded "
            "or paid for; every run is kept in the gallery below."
        )
        key_status = gr.Markdown(presenter.key_status(settings, None), elem_id="key-status")
        with gr.Accordion("fal API key for this session", open=not lends_its_key):
            key_box = gr.Textbox(
                label="fal API key",
                type="password",
                placeholder="paste a key from fal.ai/dashboard/keys",
                elem_id="fal-key",
                info="Used for this browser session only; never stored or shown again.",
            )
        job_id = gr.State(None)
        # A random id kept in this browser's localStorage: whose runs are whose, for private galleries.
        # Its secret is kept (a setting, or a file in the data directory): the id survives restarts.
        owner = gr.BrowserState(
            None, storage_key="motion-studio-owner", secret=settings.browser_state_secret()
        )
        selected_run = gr.State(None)
        gallery_ids = gr.State([])
        gallery_sig = gr.State(None)  # None: not rendered yet, so even an empty history is shown

        with gr.Row(equal_height=False):
            with gr.Column():
                image = gr.Image(
                    label="Character image",
                    type="filepath",
                    sources=["upload", "clipboard"],
                    image_mode=None,
                    height=320,
                    elem_id="image-input",
                )
                image_url = gr.Textbox(
                    label="…or an image URL", placeholder="https://…", elem_id="image-url", max_lines=1
                )
                image_info = gr.Markdown(elem_id="image-info", elem_classes="small-note")
            with gr.Column():
                video = gr.Video(
                    label="Reference video",
                    sources=["upload", "webcam"],
                    include_audio=True,
                    # 720p is plenty for a motion reference and keeps conversion and upload quick.
                    webcam_options=gr.WebcamOptions(
                        mirror=False,
                        constraints={"video": {"width": {"ideal": 1280}, "height": {"ideal": 720}}},
                    ),
                    height=320,
                    elem_id="video-input",
                )
                video_url = gr.Textbox(
                    label="…or a video URL", placeholder="https://…", elem_id="video-url", max_lines=1
                )
                video_info = gr.Markdown(elem_id="video-info", elem_classes="small-note")
                trim = gr.Button("Trim", visible=False, size="sm", elem_id="trim")
        with gr.Row():
            with gr.Column():
                orientation = gr.Radio(
                    presenter.orientation_choices(),
                    value="video",
                    label="Character orientation",
                    elem_id="orientation",
                )
                orientation_note = gr.Markdown(presenter.orientation_help("video"), elem_classes="small-note")
            with gr.Column():
                tier = gr.Radio(
                    presenter.tier_choices(), value=settings.default_tier, label="Model", elem_id="tier"
                )
                keep_sound = gr.Checkbox(
                    value=True, label="Keep the reference video's sound", elem_id="keep-sound"
                )
        prompt = gr.Textbox(
            label="Prompt (optional)",
            lines=2,
            elem_id="prompt",
            placeholder="e.g. a knight in shining armour, studio lighting",
        )
        prompt_count = gr.Markdown(
            presenter.prompt_counter(""), elem_id="prompt-counter", elem_classes="small-note"
        )
        gr.Examples(
            examples=[
                [
                    str(ASSETS / "example_character.png"),
                    str(ASSETS / "example_motion.mp4"),
                    "video",
                    "a cartoon character waving both arms",
                ],
                [
                    str(ASSETS / "example_character.png"),
                    str(ASSETS / "example_motion.mp4"),
                    "image",
                    "",
                ],
            ],
            inputs=[image, video, orientation, prompt],
            cache_examples=False,
            label="Examples (made by this project; loading one costs nothing)",
        )
        verdict = gr.Markdown(
            "Add a character image and a reference clip to start, or click an example above.",
            elem_id="verdict",
        )
        cost = gr.Markdown(
            presenter.check_for_page(None, None, "video", "", settings.default_tier, settings).cost_text,
            elem_id="cost",
        )
        with gr.Row():
            generate = gr.Button("Generate", variant="primary", interactive=False, elem_id="generate")
            cancel = gr.Button("Cancel", variant="stop", visible=False, elem_id="cancel")
        progress = gr.Markdown(elem_id="progress")
        logs = gr.Textbox(
            label="fal log", lines=4, max_lines=8, autoscroll=True, interactive=False, elem_id="logs"
        )
        with gr.Row():
            output = gr.Video(
                label="Result", interactive=False, buttons=["download"], height=400, elem_id="output-video"
            )
            reference = gr.Video(
                label="Reference clip", interactive=False, height=400, elem_id="reference-video"
            )
        download = gr.DownloadButton("Download result", visible=False, elem_id="download")

        gr.Markdown("## Past runs")
        runs_summary = gr.Markdown(elem_id="runs-summary", elem_classes="small-note")
        gallery = gr.Gallery(
            label="Past runs, newest first",
            show_label=False,
            columns=6,
            height=280,
            allow_preview=False,
            preview=False,
            object_fit="cover",
            interactive=False,
            fit_columns=False,
            elem_id="gallery",
        )
        run_card = gr.Markdown(
            "Every run appears here as soon as it starts, and stays after a restart. "
            "Select one to see its details, restore its settings, or delete it.",
            elem_id="run-details",
        )
        with gr.Row():
            resume = gr.Button("Resume this run", visible=False, elem_id="resume-run", size="sm")
            run_again = gr.Button("Run again", visible=False, elem_id="run-again", size="sm")
            delete = gr.Button(
                "Delete this run", variant="stop", visible=False, elem_id="delete-run", size="sm"
            )
        with gr.Column(visible=False, elem_id="confirm-delete") as confirm_row:
            confirm_text = gr.Markdown(elem_id="confirm-delete-text")
            with gr.Row():
                confirm_yes = gr.Button(
                    "Yes, delete it", variant="stop", size="sm", elem_id="confirm-delete-yes"
                )
                confirm_no = gr.Button("Keep it", size="sm", elem_id="confirm-delete-no")
        timer = gr.Timer(3.0)

        # Hidden endpoint for API clients: returns the output video.
        api_output = gr.Video(visible=False)
        api_trigger = gr.Button(visible=False)

        # -- handlers (thin: they call the presenter and the core) -----------------------------

        check_inputs = [image, image_url, video, video_url, orientation, prompt, tier, key_box]

        def live_check(
            img: str | None,
            img_url: str,
            vid: str | None,
            vid_url: str,
            orient: str,
            text: str,
            tier_name: str,
            key: str,
        ) -> tuple[Any, ...]:
            try:
                img, vid = presenter.pick_inputs(img, img_url, vid, vid_url, settings)
            except StudioError as exc:
                hide = gr.update(visible=False)
                return "", "", presenter.error_text(exc), gr.skip(), gr.update(interactive=False), hide
            pasted = bool(key and key.strip())  # the server's caps apply to its own key only
            result = presenter.check_for_page(
                img, vid, orient, text or "", tier_name, settings, on_server_key=not pasted
            )
            offer = f"✂ Use only the first {result.trim_to:g} s" if result.trim_to else None
            return (
                result.image_text,
                result.video_text,
                result.verdict,
                result.cost_text,
                gr.update(interactive=result.ready),
                gr.update(visible=bool(offer), value=offer),
            )

        # One event for every trigger, "always_last": checks of a page never overlap, and the last one
        # reads the latest inputs. (Separate events raced: loading an example sets four inputs at once,
        # and a check that started with only the image could finish last and say "add a clip".)
        gr.on(
            triggers=[
                image.change,
                video.change,
                orientation.change,
                tier.change,
                image_url.submit,
                image_url.blur,
                video_url.submit,
                video_url.blur,
                prompt.blur,
                key_box.blur,  # a pasted key lifts the server's caps
            ],
            fn=live_check,
            inputs=check_inputs,
            outputs=[image_info, video_info, verdict, cost, generate, trim],
            trigger_mode="always_last",
            show_progress="hidden",
            **PRIVATE,
        )

        def trim_clip(vid: str | None, vid_url: str, orient: str) -> tuple[Any, ...]:
            try:
                source = presenter.pick_input(vid, vid_url, "video", settings)
                if not source:
                    return gr.skip(), gr.skip(), "Pick a clip first."
                limit = ORIENTATION_MAX_SECONDS[orient]
                return servable(presenter.trim_for_page(source, limit, settings)), "", gr.skip()
            except StudioError as exc:
                return gr.skip(), gr.skip(), presenter.error_text(exc)

        trim.click(trim_clip, [video, video_url, orientation], [video, video_url, verdict], **PRIVATE)
        prompt.change(presenter.prompt_counter, prompt, prompt_count, show_progress="hidden", **PRIVATE)
        orientation.change(
            presenter.orientation_help, orientation, orientation_note, show_progress="hidden", **PRIVATE
        )
        key_box.change(
            lambda k: presenter.key_status(settings, k),
            key_box,
            key_status,
            show_progress="hidden",
            **PRIVATE,
        )

        def start(
            img: str | None,
            img_url: str,
            vid: str | None,
            vid_url: str,
            orient: str,
            text: str,
            sound: bool,
            tier_name: str,
            key: str,
            browser: str | None,
        ) -> tuple[Any, ...]:
            try:
                secret, source = studio.key_for(key)
                img, vid = presenter.pick_inputs(img, img_url, vid, vid_url, settings)
                if not img or not vid:
                    raise StudioError("Add a character image and a reference clip first.")
            except StudioError as exc:
                return (
                    None,
                    presenter.error_text(exc),
                    gr.update(),
                    gr.update(visible=False),
                    gr.skip(),
                    gr.skip(),
                )
            job = studio.runner.start(
                JobSpec(img, vid, orient, text or "", bool(sound), tier_name, owner=studio.visitor(browser)),
                secret,
                source,
            )
            hidden = gr.update(value=None, visible=False)
            return job.id, "⏳ Starting…", gr.update(interactive=False), gr.update(visible=True), None, hidden

        async def follow(current: str | None, browser: str | None) -> AsyncIterator[tuple[Any, ...]]:
            """Stream one job's progress into the page. The job lives in the runner, not in this handler,
            so a closed tab or a reload does not stop it."""
            job = studio.runner.get(current) if current else None
            if job is None:
                yield (gr.skip(),) * len(follow_outputs)
                return
            async for event in presenter.watch(job):
                if event is None or not event.terminal:
                    yield (
                        presenter.progress_text(job),
                        presenter.log_text(job),
                        gr.skip(),
                        gr.skip(),
                        gr.skip(),
                        gr.update(interactive=False),
                        gr.update(visible=True),
                        *(gr.skip(),) * len(gallery_outputs),
                    )
                    continue
                run = studio.history.get(job.run_id) if job.run_id else None
                result = servable(event.output) if isinstance(event, Done) else None
                yield (
                    presenter.progress_text(job),
                    presenter.log_text(job),
                    result or gr.skip(),
                    gr.update(value=result, visible=True) if result else gr.update(visible=False),
                    servable(run.video_path) if run and run.video_path else gr.skip(),
                    gr.update(interactive=True),
                    gr.update(visible=False),
                    *studio.gallery(browser),
                )

        gallery_outputs = [gallery, gallery_ids, gallery_sig, runs_summary]
        follow_outputs = [progress, logs, output, download, reference, generate, cancel, *gallery_outputs]
        generate.click(
            start,
            [image, image_url, video, video_url, orientation, prompt, keep_sound, tier, key_box, owner],
            [job_id, progress, generate, cancel, output, download],
            **PRIVATE,
        ).then(
            follow, [job_id, owner], follow_outputs, concurrency_limit=None, show_progress="hidden", **PRIVATE
        )

        def do_cancel(current: str | None) -> str:
            if current:
                studio.runner.cancel(current)
            return "⏹ Cancelling on fal…"

        cancel.click(do_cancel, job_id, progress, concurrency_limit=None, **PRIVATE)

        def refresh_gallery(signature: str | None, browser: str | None) -> tuple[Any, ...]:
            view = studio.gallery(browser)
            return (gr.skip(),) * len(view) if view[2] == signature else view

        def identify(browser: str | None) -> str:
            """This browser's id; a missing, undecryptable or odd one gets a fresh id (an empty gallery)."""
            return studio.visitor(browser) or uuid.uuid4().hex

        timer.tick(refresh_gallery, [gallery_sig, owner], gallery_outputs, show_progress="hidden", **PRIVATE)
        demo.load(identify, owner, owner, **PRIVATE).then(
            refresh_gallery, [gallery_sig, owner], gallery_outputs, **PRIVATE
        )

        def run_buttons(run: Any) -> tuple[Any, ...]:
            """Resume / Run again / Delete, as the lifecycle allows for this run."""
            if run is None:
                hide = gr.update(visible=False)
                return hide, hide, hide, hide
            situation = studio.situation(run)
            return (
                gr.update(visible=Action.RESUME in situation.actions),
                gr.update(visible=Action.RUN_AGAIN in situation.actions),
                gr.update(visible=True, value=situation.delete_label),
                gr.update(visible=False),
            )

        run_controls = [resume, run_again, delete, confirm_row]

        def select_run(ids: list[str], browser: str | None, evt: gr.SelectData) -> tuple[Any, ...]:
            run = studio.run_for(ids[evt.index], browser) if evt.index < len(ids) else None
            if run is None:
                return (None, "This run no longer exists.", *(gr.skip(),) * 9, *run_buttons(None))
            job = studio.runner.job_for_run(run.id)
            return (
                run.id,
                presenter.run_details(run, studio.history.events(run.id), studio.situation(run)),
                servable(run.output_path),
                servable(run.image_path),
                servable(run.video_path),
                run.orientation,
                run.prompt,
                run.keep_sound,
                run.tier,
                job.id if job and not job.finished else None,
                servable(run.video_path),
                *run_buttons(run),
            )

        gallery.select(
            select_run,
            [gallery_ids, owner],
            [
                selected_run,
                run_card,
                output,
                image,
                video,
                orientation,
                prompt,
                keep_sound,
                tier,
                job_id,
                reference,
                *run_controls,
            ],
            **PRIVATE,
        ).then(
            follow, [job_id, owner], follow_outputs, concurrency_limit=None, show_progress="hidden", **PRIVATE
        )

        def ask_delete(run_id: str | None, browser: str | None, key: str) -> dict[Any, Any]:
            """Deleting paid work is asked about first; anything else goes at once."""
            run = studio.run_for(run_id, browser)
            if run is not None and studio.situation(run).confirm_delete:
                return {confirm_row: gr.update(visible=True), confirm_text: presenter.delete_question(run)}
            return delete_run(run_id, browser, key)

        def delete_run(run_id: str | None, browser: str | None, key: str) -> dict[Any, Any]:
            studio.delete(run_id, browser, key)
            hide = gr.update(visible=False)
            return {
                selected_run: None,
                run_card: "Run deleted.",
                **dict(zip(gallery_outputs, studio.gallery(browser), strict=True)),
                **{button: hide for button in (delete, resume, run_again, confirm_row)},
                output: None,  # the deleted run's video leaves the player
                download: gr.update(value=None, visible=False),
                reference: None,
            }

        deleted_outputs = [selected_run, run_card, *gallery_outputs, delete, resume, run_again, confirm_row]
        deleted_outputs += [confirm_text, output, download, reference]
        delete.click(ask_delete, [selected_run, owner, key_box], deleted_outputs, **PRIVATE)
        confirm_yes.click(delete_run, [selected_run, owner, key_box], deleted_outputs, **PRIVATE)
        confirm_no.click(lambda: gr.update(visible=False), None, confirm_row, **PRIVATE)

        def acting_on_run(act: Any) -> Any:
            """A handler that starts a job for the selected run (Resume, Run again) and shows it."""

            def handler(run_id: str | None, key: str, browser: str | None) -> tuple[Any, ...]:
                try:
                    job = act(run_id, browser, key)
                except StudioError as exc:
                    return None, presenter.error_text(exc)
                return job.id, "⏳ Starting…"

            return handler

        for button, act in ((resume, studio.resume), (run_again, studio.run_again)):
            button.click(
                acting_on_run(act), [selected_run, key_box, owner], [job_id, progress], **PRIVATE
            ).then(
                follow,
                [job_id, owner],
                follow_outputs,
                concurrency_limit=None,
                show_progress="hidden",
                **PRIVATE,
            )

        async def api_generate(
            img: str | None,
            vid: str | None,
            orient: str,
            text: str,
            sound: bool,
            tier_name: str,
            request: gr.Request,
        ) -> str | None:
            """Generate a motion-control video; returns the output MP4. Uses the server's FAL_KEY."""
            try:
                secret, _ = studio.key_for(None)
            except StudioError as exc:
                raise gr.Error(exc.message) from None
            if not img or not vid:
                raise gr.Error("Both an image and a video are required.")
            job = studio.runner.start(
                JobSpec(
                    img,
                    vid,
                    orient or "video",
                    text or "",
                    bool(sound),
                    tier_name or settings.default_tier,
                    owner=studio.api_caller(request.headers.get("x-forwarded-for"), request.client),
                ),
                secret,
            )
            final = None
            async for event in job.subscribe():
                final = event
            if isinstance(final, Done):
                return servable(final.output)
            raise gr.Error(final.message if isinstance(final, Failed) else "The run was cancelled.")

        api_trigger.click(
            api_generate,
            [image, video, orientation, prompt, keep_sound, tier],
            api_output,
            api_name="generate",
            concurrency_limit=None,
        )
    return demo


def launch_kwargs(settings: Settings) -> dict[str, Any]:
    """Shared by `launch()` and the tests, so the tests run the page exactly as users get it."""
    return {
        "server_name": settings.server_name,
        "server_port": settings.server_port,
        # Only the examples: the data directory is never served by path (see serving.py).
        "allowed_paths": [str(ASSETS)],
        # Videos in the data directory are served to the page; the history database never is.
        "blocked_paths": [
            *(str(settings.db_path.resolve()) + suffix for suffix in ("", "-wal", "-shm", "-journal")),
            str(settings.browser_secret_path.resolve()),
        ],
        "run_history": False,  # Gradio would otherwise keep every event's inputs (the key!) in localStorage
        "max_file_size": "100mb",
        "theme": gr.themes.Soft(),
        "css": CSS,
    }


def launch() -> None:
    try:
        settings = get_settings()
    except StudioError as exc:
        raise SystemExit(f"error: {exc.message}") from None
    configure_logging()
    studio = Studio(settings)
    demo = create_demo(settings, studio)
    # A Space stops its container with SIGTERM: treat it like Ctrl-C, so every run saves its state.
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        demo.queue(default_concurrency_limit=settings.concurrency).launch(**launch_kwargs(settings))
    finally:
        studio.runner.shutdown()


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


__all__ = ["create_demo", "launch", "launch_kwargs"]
