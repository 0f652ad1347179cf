"""Which key pays and who is asking: a pasted key or the server's, a browser's claimed id, a visitor
signed in with Hugging Face, an API caller's address, and the key a run was paid with (so a resumed or
deleted run finds its request)."""

from __future__ import annotations

import re
from typing import Any

from pydantic import SecretStr

from .. import notices, presenter
from ..errors import OwnKeyRequiredError, RunActionError, SignInRequiredError
from ..history.runs import Run
from ..settings import Settings

VISITOR_ID = re.compile(r"[0-9a-f]{32}")
ACCOUNT = re.compile(r"hf:[A-Za-z0-9][A-Za-z0-9._-]{0,95}")  # a Hugging Face username, marked
API_CALLER = "api:"


class Keys:
    """Which key pays and who a visitor or an API caller is (one per `Studio`). `local`: the studio
    serves the machine's own user (the command line), who pays with the server's key and may act on
    every run; a page's or an API's studio never is."""

    def __init__(self, settings: Settings, *, local: bool = False) -> None:
        self.settings = settings
        self.local = local

    def key_for(self, session_key: str | None, visitor: str | None = None) -> tuple[SecretStr, str]:
        """A key pasted in this browser wins over the server's: visitors can pay for themselves. In
        own-key mode the server's key is lent to nobody (page and API alike); with sign-in required,
        only to `visitor`s signed in with Hugging Face (so never to the API, which can't sign in)."""
        if self.local:
            return self.settings.require_key(), "server"
        pasted = bool(session_key and session_key.strip())
        if not pasted and self.settings.visitors_bring_own_key:
            raise OwnKeyRequiredError()
        if self.settings.sign_in != "off" and not self.is_account(visitor):
            if not pasted and self.settings.sign_in == "required":
                api = bool(visitor and visitor.startswith(API_CALLER))
                raise SignInRequiredError.api() if api else SignInRequiredError.lent_key()
            if pasted and self.settings.sign_in_for_own_keys:
                raise SignInRequiredError.own_key()
        return self.settings.require_key(session_key), "session" if pasted else "server"

    def lent_to(self, visitor: str | None) -> bool:
        """The server's key pays for this page visitor when they paste none (as `key_for` decides): it
        has one and lends it, and, where sign-in is required, they are signed in."""
        if not self.settings.lends_its_key:
            return False
        return self.settings.sign_in != "required" or self.is_account(visitor)

    def status(self, session_key: str | None, visitor: str | None) -> str:
        """What the page says about the key for this visitor: never that the server's key is used when
        it is not lent to them (a signed-out visitor where sign-in is required), but what they can do."""
        pasted = bool(session_key and session_key.strip())
        if pasted or not self.settings.lends_its_key or self.lent_to(visitor):
            return presenter.key_status(self.settings, session_key)
        if self.settings.sign_in_for_own_keys:
            return notices.KEY_FOR_SIGNED_IN_ONLY_OWN_KEYS_TOO
        return notices.KEY_FOR_SIGNED_IN_ONLY

    @staticmethod
    def browser(value: object) -> str | None:
        """A browser's id as the page may claim it: only the shape `identify` hands out. Anything
        else (a forged value sent to an event directly, another caller's `api:` id, an account's
        name) is nobody."""
        return value if isinstance(value, str) and VISITOR_ID.fullmatch(value) else None

    @staticmethod
    def account(username: str) -> str | None:
        """Who a visitor signed in as `username` is: the same owner from any browser or device."""
        owner = f"hf:{username}"
        return owner if ACCOUNT.fullmatch(owner) else None

    @staticmethod
    def is_account(visitor: str | None) -> bool:
        return bool(visitor and ACCOUNT.fullmatch(visitor))

    @classmethod
    def visitor(cls, owner: object) -> str | None:
        """Who the page's visitor is: a browser's id, or an account. Only the server fills the page's
        owner (a per-session state a browser can't write; see `identify`), and only from these two."""
        if isinstance(owner, str) and ACCOUNT.fullmatch(owner):
            return owner
        return cls.browser(owner)

    def api_caller(self, forwarded_for: str | None, client: Any) -> str:
        """Who an API call counts as, for the per-visitor limits: the connecting address, or, behind
        `MOTION_STUDIO_TRUSTED_PROXIES` proxies that append to X-Forwarded-For, the address the
        outermost of them saw (what a client writes there itself is further left, and ignored)."""
        hops = self.settings.trusted_proxies
        entries = [e.strip() for e in (forwarded_for or "").split(",") if e.strip()]
        address = entries[-hops] if hops and len(entries) >= hops else getattr(client, "host", None)
        return f"{API_CALLER}{address or 'unknown'}"

    def key_for_run(self, run: Run, session_key: str | None) -> SecretStr:
        """The key a run was paid with: another account's key would not find its request on fal."""
        if self.local and run.key_source != "server":
            raise RunActionError.cli_pasted_key(run.id)
        if run.key_source == "server":
            if self.settings.fal_key is None or not self.settings.fal_key.get_secret_value().strip():
                raise RunActionError.server_key_gone()
            return self.settings.fal_key
        if not (session_key and session_key.strip()):
            raise RunActionError.pasted_key_needed()
        return SecretStr(session_key.strip())
