"""Sign in with Hugging Face, as a setting: off (as before, and always off a Space), optional, or
required to use the lent key. The page's handlers get `gr.OAuthProfile`s made here, as Gradio would
fill them from its session cookie on a Space."""

from __future__ import annotations

from collections.abc import Iterator

import gradio as gr
import pytest

from motion_studio import notices
from motion_studio.errors import SignInRequiredError, VisitorLimitError
from motion_studio.history.limits import VisitorLimits
from motion_studio.history.runs import Run
from motion_studio.jobs.events import Done, Failed
from motion_studio.order import Options
from motion_studio.settings import Settings
from motion_studio.studio.keys import Keys
from motion_studio.studio.service import Studio
from motion_studio.ui.handlers.page_handlers import Handlers
from motion_studio.ui.layout.examples import examples
from motion_studio.ui.layout.gallery_panel import gallery_view
from motion_studio.ui.layout.inputs_column import inputs
from motion_studio.ui.layout.page_header import header
from motion_studio.ui.layout.page_memory import memory
from motion_studio.ui.layout.parts import Page
from motion_studio.ui.layout.result_column import run_view
from motion_studio.ui.page import create_demo

from .fal_emulator import FalEmulator
from .orders import order
from .waiting import stays, wait_for

BROWSER_A, BROWSER_B = "a" * 32, "b" * 32


def profile(username: str) -> gr.OAuthProfile:
    """Hugging Face's userinfo, as Gradio keeps it in its session and hands it to a handler."""
    return gr.OAuthProfile(
        {
            "preferred_username": username,
            "name": username.title(),
            "profile": f"https://huggingface.co/{username}",
            "picture": "",
        }
    )


@pytest.fixture
def on_space(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYSTEM", "spaces")
    monkeypatch.setenv("SPACE_ID", "owner/motion-studio")
    # Gradio's sign-in routes need Hugging Face's OAuth app (a Space's `hf_oauth: true`) and the
    # `oauth` extra, neither of which a test has: without them every visitor is signed out, which is
    # what Gradio does too when its session middleware is missing.
    monkeypatch.setattr("gradio.routes.attach_oauth", lambda app: None)
    # On a Space Gradio's launch also starts Spaces' hot-reload server (with `spaces` installed: on
    # 0.0.0.0:7887, with an import hook kept for the rest of the process). Nothing of the page
    # depends on it, and the test process is not a Space's container: no reloader here.
    monkeypatch.setattr("gradio.http_server.get_space", lambda: None)


def built(settings: Settings) -> tuple[Studio, Page, Handlers]:
    """The page's parts and handlers, as `create_demo` makes them, without launching anything."""
    studio = Studio(settings)
    with gr.Blocks():
        page = Page(
            header(settings),
            examples(),
            inputs(settings),
            run_view(settings),
            gallery_view(),
            memory(settings),
        )
    return studio, page, Handlers.for_page(studio, page)


@pytest.fixture
def required(settings: Settings, on_space: None) -> Iterator[tuple[Studio, Page, Handlers]]:
    studio, page, on = built(
        settings.model_copy(
            update={"hf_sign_in": "required", "private_galleries": True, "visitor_active_runs": 1}
        )
    )
    yield studio, page, on
    studio.runner.shutdown()


def owner_of(page: Page, on: Handlers, browser: str | None, who: gr.OAuthProfile | None) -> str:
    return on.gallery.identify_signed_in(browser, who)[page.memory.owner]


def gallery_ids(page: Page, on: Handlers, owner: str) -> list[str]:
    m = page.memory
    return on.gallery.refresh({m.gallery_sig: None, m.owner: owner, m.gallery_limit: 50})[m.gallery_ids]


def test_off_is_as_before_and_sign_in_is_off_everywhere_but_on_a_space(settings: Settings) -> None:
    """Locally the setting changes nothing: no sign-in button (Gradio would then expect Hugging Face's
    sign-in, which only a Space has), a visitor is their browser, the lent key is lent."""
    asked = settings.model_copy(update={"hf_sign_in": "required", "sign_in_for_own_keys": True})
    assert settings.sign_in == "off" and asked.sign_in == "off"
    demo = create_demo(asked)
    assert not demo.expects_oauth
    studio, page, on = built(asked)
    try:
        assert page.header.sign_in is None
        assert on.gallery.identify(BROWSER_A) == {
            page.memory.browser: BROWSER_A,
            page.memory.owner: BROWSER_A,
        }
        assert (
            studio.keys.key_for(None, None)[1] == "server"
            and studio.keys.key_for("k:s", None)[1] == "session"
        )
        assert studio.keys.key_for(None, "api:1.2.3.4")[1] == "server"
    finally:
        studio.runner.shutdown()


def test_required_a_signed_out_visitor_is_told_what_to_do_and_refused_the_lent_key(
    required: tuple[Studio, Page, Handlers], samples
) -> None:
    studio, page, on = required
    changes = on.gallery.identify_signed_in(BROWSER_A, None)
    assert changes[page.memory.owner] == BROWSER_A  # still this browser: its gallery as before
    assert changes[page.header.sign_in] == notices.SIGN_IN_OR_PASTE
    with pytest.raises(SignInRequiredError, match="sign in at the top of the page, or paste your own"):
        studio.orders.start(order(samples["image_jpg"], samples["clip_3s"]), None, BROWSER_A)
    with pytest.raises(SignInRequiredError):
        studio.batches.start(
            order(samples["image_jpg"], samples["clip_3s"], more_images=(samples["image_png"],)),
            None,
            BROWSER_A,
        )
    # A pasted key needs no sign-in unless the owner says so.
    assert studio.keys.key_for("visitor:key", BROWSER_A)[1] == "session"
    strict = studio.settings.model_copy(update={"sign_in_for_own_keys": True})
    from motion_studio.presenter import sign_in_status
    from motion_studio.studio.keys import Keys

    with pytest.raises(SignInRequiredError, match="also with their own fal key"):
        Keys(strict).key_for("visitor:key", BROWSER_A)
    assert Keys(strict).key_for("visitor:key", "hf:alice")[1] == "session"
    assert sign_in_status(strict, None) == notices.SIGN_IN_FIRST
    assert "Signed in as **alice**" in sign_in_status(strict, "hf:alice")


def test_required_the_header_says_which_key_a_visitor_may_use_and_opens_the_box_when_not_the_servers(
    required: tuple[Studio, Page, Handlers],
) -> None:
    """Signed out, the server's key is not theirs: the header never says it is used, it says what
    they can do, and the key box is open (as the page is first drawn, and after the load); signed in,
    the server's key is theirs, and the box closes. A key pasted is used either way."""
    studio, page, on = required
    h = page.header
    assert h.key_status.value == notices.KEY_FOR_SIGNED_IN_ONLY and h.key_accordion.open is True
    signed_out = on.gallery.identify_signed_in(BROWSER_A, None)
    assert signed_out[h.key_status] == notices.KEY_FOR_SIGNED_IN_ONLY
    assert "server's FAL_KEY" not in signed_out[h.key_status] and signed_out[h.key_accordion].open is True
    signed_in = on.gallery.identify_signed_in(BROWSER_A, profile("alice"))
    assert (
        signed_in[h.key_status] == "🔑 Using the server's FAL_KEY."
        and signed_in[h.key_accordion].open is False
    )
    # The box's status as a key is pasted and cleared again, for each of them.
    assert on.inputs.key_status("", BROWSER_A) == notices.KEY_FOR_SIGNED_IN_ONLY
    assert "Using the key you pasted" in on.inputs.key_status("visitor:key", BROWSER_A)
    assert on.inputs.key_status("", "hf:alice") == "🔑 Using the server's FAL_KEY."
    strict = Keys(studio.settings.model_copy(update={"sign_in_for_own_keys": True}))
    assert strict.status(None, BROWSER_A) == notices.KEY_FOR_SIGNED_IN_ONLY_OWN_KEYS_TOO
    assert not strict.lent_to(BROWSER_A) and strict.lent_to("hf:alice") and not strict.lent_to("api:1.2.3.4")


def test_optional_and_off_the_header_is_as_before(settings: Settings, on_space: None) -> None:
    for sign_in in ("optional", "off"):
        studio, page, on = built(settings.model_copy(update={"hf_sign_in": sign_in}))
        try:
            h = page.header
            assert h.key_status.value == "🔑 Using the server's FAL_KEY." and h.key_accordion.open is False
            assert on.inputs.key_status("", BROWSER_A) == "🔑 Using the server's FAL_KEY."
        finally:
            studio.runner.shutdown()


def test_the_api_cannot_sign_in_so_it_is_refused_the_lent_key_in_one_sentence(
    required: tuple[Studio, Page, Handlers], samples
) -> None:
    studio, _, _ = required
    with pytest.raises(SignInRequiredError, match="the API cannot sign in"):
        studio.orders.start_for_api(order(samples["image_jpg"], samples["clip_3s"]), "api:1.2.3.4")
    summary = studio.orders.check_for_api(order(samples["image_jpg"], samples["clip_3s"]))
    assert any("the API cannot sign in" in problem for problem in summary.problems)


def test_an_account_owns_its_gallery_and_limits_from_any_browser(
    required: tuple[Studio, Page, Handlers], fal: FalEmulator, samples
) -> None:
    studio, page, on = required
    alice_a, alice_b = (
        owner_of(page, on, BROWSER_A, profile("alice")),
        owner_of(page, on, BROWSER_B, profile("alice")),
    )
    bob = owner_of(page, on, BROWSER_A, profile("bob"))  # another account in the same browser
    assert alice_a == alice_b == "hf:alice" and bob == "hf:bob"
    signed_in = on.gallery.identify_signed_in(BROWSER_B, profile("alice"))[page.header.sign_in]
    assert "Signed in as **alice**" in signed_in
    done = studio.orders.start(order(samples["image_jpg"], samples["clip_3s"]), None, alice_a).wait(30)
    assert isinstance(done, Done)
    [run_id] = gallery_ids(page, on, alice_b)  # the other browser sees it
    assert (
        gallery_ids(page, on, bob) == [] and gallery_ids(page, on, BROWSER_A) == []
    )  # signed out: not theirs
    assert (
        studio.gallery.run_for(run_id, alice_b) is not None
        and studio.gallery.run_for(run_id, BROWSER_B) is None
    )
    # One run going on the lent key is alice's limit: from her other browser too; bob is someone else.
    studio.history.writes.create(
        Run(options=Options(), endpoint="e", owner="hf:alice", key_source="server", status="running")
    )
    refused = studio.orders.start(order(samples["image_jpg"], samples["clip_3s"]), None, alice_b).wait(30)
    assert isinstance(refused, Failed) and "already have 1 run going" in refused.message
    assert isinstance(
        studio.orders.start(order(samples["image_jpg"], samples["clip_3s"]), None, bob).wait(30), Done
    )


def test_a_forged_account_in_the_browser_owns_nothing(required: tuple[Studio, Page, Handlers]) -> None:
    """What a browser keeps (or forges) is only ever a browser id: an account comes from Gradio's
    signed-in profile alone, and the page's owner is a state the browser can't write."""
    studio, page, on = required
    assert owner_of(page, on, "hf:alice", None) not in ("hf:alice", None)
    assert isinstance(page.memory.owner, gr.State) and page.memory.owner.stateful
    assert studio.keys.account("alice") == "hf:alice" and studio.keys.account("no such/name") is None


def test_optional_signed_out_visitors_use_the_lent_key_and_are_told_what_signing_in_gives(
    settings: Settings, on_space: None
) -> None:
    studio, page, on = built(settings.model_copy(update={"hf_sign_in": "optional"}))
    try:
        assert on.gallery.identify_signed_in(BROWSER_A, None)[page.header.sign_in] == notices.SIGN_IN_OPTIONAL
        assert studio.keys.key_for(None, BROWSER_A)[1] == "server"
        assert studio.keys.key_for(None, "api:1.2.3.4")[1] == "server"  # the API as before
    finally:
        studio.runner.shutdown()


def test_a_persons_daily_dollars_count_per_account(tmp_path, settings: Settings) -> None:
    from motion_studio.history.store import History

    assert settings.model_copy(update={"visitor_daily_dollars": 5.0}).visitor_limits() == VisitorLimits(
        daily=5.0
    )
    history = History(tmp_path / "h.sqlite3", tmp_path / "runs")
    limits = VisitorLimits(daily=2.0)

    def run(owner: str, cost: float) -> Run:
        return Run(options=Options(), endpoint="e", owner=owner, key_source="server", estimated_cost=cost)

    history.writes.create(run("hf:alice", 1.5), visitor_limits=limits)
    with pytest.raises(VisitorLimitError, match=r"past \$2.00 on this server's key in 24 hours"):
        history.writes.create(run("hf:alice", 1.0), visitor_limits=limits)
    history.writes.create(run("hf:bob", 1.0), visitor_limits=limits)  # bob is someone else
    history.writes.create(run("hf:alice", 0.5), visitor_limits=limits)  # what is left fits


@pytest.mark.browser
def test_the_signed_out_page_says_what_to_do_and_generate_answers(
    settings: Settings, fal: FalEmulator, on_space: None, browser, samples
) -> None:
    """Sign-in required, a visitor signed out: the page loads, says in one sentence what they can do,
    and Generate is not silently dead: it answers with the same choice."""
    from playwright.sync_api import expect

    from .browser import TIMEOUT, generate, running_app

    context = browser.new_context(viewport={"width": 1280, "height": 1600})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    try:
        with running_app(settings.model_copy(update={"hf_sign_in": "required"})) as url:
            page.goto(url)
            expect(page.locator("#sign-in")).to_contain_text("Sign in with Hugging Face")
            expect(page.locator("#sign-in")).to_contain_text("or paste your own fal key")
            expect(page.locator("#sign-in-button")).to_be_visible()
            # The key line says the same, never that the server's key is used; its box is open.
            expect(page.locator("#key-status")).to_contain_text(
                "only to visitors signed in with Hugging Face"
            )
            expect(page.locator("#key-status")).not_to_contain_text("Using the server's FAL_KEY")
            expect(page.locator("#fal-key textarea, #fal-key input")).to_be_visible()
            generate(page, samples["image_jpg"], samples["clip_3s"])
            expect(page.locator("#verdict")).to_contain_text("only to visitors signed in with Hugging Face")
            assert fal.submitted == []
    finally:
        context.close()


def test_required_uploads_ahead_for_an_account_only(
    required: tuple[Studio, Page, Handlers], fal: FalEmulator, samples
) -> None:
    """Upload ahead pays with the lent key, so it follows the same rule as Generate: a signed-in
    visitor's inputs go up while they choose; a signed-out one's never leave the machine."""
    studio, page, on = required
    wanted = order(samples["image_jpg"], samples["clip_3s"])
    reading = studio.orders.read(wanted, None)
    studio.orders.upload_ahead(reading, None, "page-signed-out", BROWSER_A)
    assert stays(lambda: fal.calls_to("upload") == [], 1.0)
    alice = owner_of(page, on, BROWSER_B, profile("alice"))
    studio.orders.upload_ahead(reading, None, "page-alice", alice)
    wait_for(lambda: len(fal.calls_to("upload")) == 2, what="both inputs uploaded ahead")
