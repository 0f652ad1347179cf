"""The app's public API: `/generate`, for scripts and agents (the page's own events are private)."""

from __future__ import annotations

import gradio as gr

from ..errors import StudioError
from ..jobs import Done, Failed
from ..serving import servable
from ..studio import RunRequest, Studio
from .layout import Inputs


def wire_api(studio: Studio, inputs: Inputs) -> None:
    """A hidden button carries the endpoint, so its parameters are the page's own inputs."""
    output = gr.Video(visible=False)
    trigger = gr.Button(visible=False)

    async def generate(
        img: str | None,
        vid: str | None,
        orient: str,
        text: str,
        sound: bool,
        tier_name: str,
        request: gr.Request,
    ) -> str | None:
        """Generate a motion-control video; returns the output MP4. Uses the server's FAL_KEY."""
        caller = studio.api_caller(request.headers.get("x-forwarded-for"), request.client)
        try:
            job = studio.start_for_api(RunRequest(img, vid, orient, text, sound, tier_name), caller)
        except StudioError as exc:
            raise gr.Error(exc.message) from None
        final = None
        async for event in job.subscribe():
            final = event
        if isinstance(final, Done):
            return servable(final.output)
        raise gr.Error(final.message if isinstance(final, Failed) else "The run was cancelled.")

    trigger.click(
        generate,
        [inputs.image, inputs.video, inputs.orientation, inputs.prompt, inputs.keep_sound, inputs.tier],
        output,
        api_name="generate",
        concurrency_limit=None,
    )
