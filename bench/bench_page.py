"""The studio's page in Chromium against fal's plain recipe in a plain Gradio page, with a slow uplink.

    .venv/bin/python bench/bench_page.py

Both apps run as `python` processes of their own against the project's fal emulator (in this
process), which takes uploads at 5 MB/s with 50 ms per call. The plain page is what fal's docs
suggest: on Generate, upload the image, upload the clip, `fal_client.subscribe`, then show the video
(downloaded first: the browser here can't reach the emulator's CDN). Each run uses a new page and new
files (a ~20 MB noisy clip), so nothing is served from a cache. Measured, for 3 runs of each:

- click → fal request id: from just before the click to the submit the emulator receives, for a user
  who clicks the moment Generate is enabled, and (studio) for one who first spends 5 s on a prompt;
- fal COMPLETED → playable: from the moment the emulator lets the request complete to the page's
  result `<video>` reaching readyState ≥ 3 (it can play).

Printed with ratios, never asserted: shared machines are noisy.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from bench_click import inputs  # noqa: E402  (this script's folder is on sys.path)
from common import plain_recipe, print_figures, print_ratios, ready_page, slow_uplink, wait_until  # noqa: E402

from tests.fal_emulator import VALID_KEY, FalEmulator  # noqa: E402
from tests.media_factory import make_clip, make_image  # noqa: E402

RUNS = 3
UPLOADS = ("upload", "multipart_create", "multipart_part", "multipart_complete")
PAUSE = 5.0  # seconds a user spends on the prompt before clicking
PLAYABLE = """() => {
    const v = document.querySelector('#output-video video');
    return v && v.currentSrc && v.readyState >= 3 ? Date.now() : false;
}"""


def plain_app(port: int, outdir: Path) -> None:
    """Run inside a child process: fal's recipe behind a plain Gradio page (same element ids)."""
    import gradio as gr
    import httpx

    client = None

    def ready(image: str | None, video: str | None) -> tuple[dict, str]:
        both = bool(image and video)
        return gr.update(interactive=both), "Ready" if both else "Add an image and a clip"

    async def generate(image: str, video: str) -> str:
        nonlocal client
        import fal_client

        client = client or fal_client.AsyncClient(key=VALID_KEY)
        url = await plain_recipe(client, Path(image), Path(video), subscribe=True)
        dest = outdir / f"{time.time_ns()}.mp4"
        async with httpx.AsyncClient() as http:
            dest.write_bytes((await http.get(url)).raise_for_status().content)
        return str(dest)

    with gr.Blocks() as demo:
        image = gr.Image(type="filepath", elem_id="image-input")
        video = gr.Video(elem_id="video-input")
        verdict = gr.Markdown("Add an image and a clip", elem_id="verdict")
        button = gr.Button("Generate", interactive=False, elem_id="generate")
        output = gr.Video(elem_id="output-video")
        gr.on([image.change, video.change], ready, [image, video], [button, verdict])
        button.click(generate, [image, video], output)
    demo.queue().launch(server_name="127.0.0.1", server_port=port, quiet=True)


def start_app(label: str, emulator: FalEmulator, tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The studio as `python app.py` runs it, or the plain page; each in its own process."""
    from tests.browser import free_port

    port = free_port()
    folder = tmp / label
    folder.mkdir()
    env = {
        **os.environ,
        **emulator.env(),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "GRADIO_TEMP_DIR": str(folder / "gradio"),
        "FAL_KEY": VALID_KEY,
        "MOTION_STUDIO_DATA_DIR": str(folder / "data"),
        "MOTION_STUDIO_SERVER_NAME": "127.0.0.1",
        "MOTION_STUDIO_SERVER_PORT": str(port),
    }
    cmd = (
        [sys.executable, "app.py"]
        if label == "studio"
        else [sys.executable, __file__, str(port), str(folder)]
    )
    log = open(folder / "app.log", "wb")  # noqa: SIM115 - the process keeps writing to it
    app = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"

    def answers() -> bool:
        if app.poll() is not None:
            raise RuntimeError(f"the {label} app stopped; see {folder / 'app.log'}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return response.status == 200
        except OSError:
            return False

    wait_until(answers, 60, f"the {label} app", step=0.2)
    return app, url


def one_run(
    browser: Browser, url: str, emulator: FalEmulator, image: Path, clip: Path, pause: float
) -> tuple[float, float, int]:
    """(click → request id as fal sees it, fal COMPLETED → result playable in the page, in seconds;
    upload calls fal received after the click)."""
    context, page, seen = ready_page(browser, url, emulator, image, clip)
    try:
        time.sleep(pause)
        uploads = _upload_calls(emulator)
        clicked = time.time()
        page.click("#generate")
        request = wait_until(
            lambda: next((r for i, r in list(emulator.requests.items()) if i not in seen), None),
            120,
            "the submit",
        )
        late = _upload_calls(emulator) - uploads
        time.sleep(random.uniform(0.5, 1.5))  # fal works a while, and ends between two status reads
        released = time.time()
        emulator.hold = False
        playable = page.wait_for_function(PLAYABLE, polling=10, timeout=60_000).json_value() / 1000
        return request.created - clicked, playable - released, late
    finally:
        emulator.hold = False
        context.close()


def _upload_calls(emulator: FalEmulator) -> int:
    return sum(len(emulator.calls_to(route)) for route in UPLOADS)


def main() -> None:
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM, CHROMIUM_ARGS

    tmp = Path(tempfile.mkdtemp(prefix="bench-page-"))
    emulator = FalEmulator(tmp / "emu").start()
    emulator.queue_seconds = emulator.run_seconds = 0.0  # `hold` decides when a request completes
    files = [inputs(tmp, n) for n in range(3 * RUNS)]  # made before any clock runs (ffmpeg is busy)
    warm = make_image(tmp / "warm.jpg"), make_clip(tmp / "warm.mp4", 3)
    apps = {label: start_app(label, emulator, tmp) for label in ("plain", "studio")}
    clicks: dict[str, list[float]] = {"plain page (upload on click, subscribe)": []}
    clicks["studio, click at once"] = []
    clicks[f"studio, {PAUSE:g} s on the prompt first"] = []
    shown_as = {"plain": "plain page (polls every 0.1 s)", "studio": "studio (status stream)"}
    shown: dict[str, list[float]] = {label: [] for label in shown_as.values()}
    late: list[int] = []  # upload calls after the click, in the runs that waited
    try:
        with sync_playwright() as pw:
            env: dict[str, str | float | bool] = {
                k: v for k, v in os.environ.items() if "proxy" not in k.lower()
            }
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, env=env)
            for _, url in apps.values():  # warm-up: first page, imports, TLS; not counted
                one_run(browser, url, emulator, *warm, 0)
            slow_uplink(emulator)
            plain, studio = apps["plain"][1], apps["studio"][1]
            for n in range(RUNS):
                runs = zip(
                    clicks,
                    [(plain, 0.0), (studio, 0.0), (studio, PAUSE)],
                    files[3 * n : 3 * n + 3],
                    strict=True,
                )
                for label, (url, pause), (image, clip) in runs:
                    to_id, to_playable, uploads = one_run(browser, url, emulator, image, clip, pause)
                    clicks[label].append(to_id)
                    shown[shown_as["studio" if url == studio else "plain"]].append(to_playable)
                    if pause:
                        late.append(uploads)
            browser.close()
    finally:
        for app, _ in apps.values():
            app.terminate()
            app.wait(15)
        emulator.stop()
    size = files[0][1].stat().st_size / 1e6
    print_figures(
        f"click → fal request id ({RUNS} runs each; {size:.0f} MB clip, 5 MB/s uplink, 50 ms)", clicks
    )
    print_ratios(clicks, next(iter(clicks)))
    still = sum(1 for n in late if n)
    print(
        f"(after {PAUSE:g} s, the upload ahead was still sending at the click in {still} of {len(late)} runs)"
    )
    print_figures("fal COMPLETED → result playable in the page (readyState ≥ 3)", shown)
    print_ratios(shown, next(iter(shown)))
    shutil.rmtree(tmp, ignore_errors=True)  # kept when something failed: the apps' logs are there


if __name__ == "__main__":
    if len(sys.argv) == 3:
        plain_app(int(sys.argv[1]), Path(sys.argv[2]))
    else:
        main()
