"""Errors about whose key pays and how much: a missing key, the server's budget and per-visitor limits,
and too many checks."""

from __future__ import annotations

from .base import KEY_HELP, StudioError


class MissingKeyError(StudioError):
    kind = "auth"

    def __init__(self) -> None:
        super().__init__(f"No fal API key is set. {KEY_HELP}")


class TooManyChecksError(StudioError):
    """An API caller past `MOTION_STUDIO_API_CHECKS_PER_MINUTE`: nothing was read or fetched."""

    kind = "rate"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"Too many checks from this address: at most {limit} a minute. Wait a moment and try again."
        )


class BudgetError(StudioError):
    """The server's spending guard refused a run before anything was uploaded."""

    kind = "budget"

    @classmethod
    def per_run(cls, cost: float, cap: float, options: str = "your own fal key") -> BudgetError:
        """`options`: what would fit under the cap, in words (see `catalog.options_under`)."""
        return cls(
            f"This run would cost about {_dollars(cost)}; this server allows at most {_dollars(cap)} per "
            f"run on its key. Use {options}."
        )

    @classmethod
    def daily(cls, budget: float, spent: float, cost: float, runs: int = 1) -> BudgetError:
        """`runs`: a batch's runs are checked together, so the sentence names the whole batch."""
        what = f"this batch of {runs} runs" if runs > 1 else "this run"
        return cls(
            f"This server's daily budget of {_dollars(budget)} for its key would be exceeded "
            f"({_dollars(spent)} committed in the last 24 h, {what} about {_dollars(cost)}). "
            "Use your own fal key, or try again later."
        )


class SignInRequiredError(StudioError):
    """This Space lends its key (or, if its owner says so, itself) only to visitors signed in with
    Hugging Face."""

    kind = "sign_in"

    @classmethod
    def lent_key(cls) -> SignInRequiredError:
        return cls(
            "This Space lends its fal key only to visitors signed in with Hugging Face: sign in at the "
            "top of the page, or paste your own fal key in the key box."
        )

    @classmethod
    def own_key(cls) -> SignInRequiredError:
        return cls("This Space asks every visitor to sign in with Hugging Face, also with their own fal key.")

    @classmethod
    def api(cls) -> SignInRequiredError:
        """The API has no way to sign in, so on such a Space it has no key to run on."""
        return cls(
            "This Space lends its fal key only to visitors signed in with Hugging Face on its page; the API "
            "cannot sign in, so run this on the page, or on your own copy of the Space with your own key."
        )


class VisitorLimitError(StudioError):
    """A visitor reached this server's per-visitor limit on its key, before anything was uploaded."""

    kind = "limit"

    @classmethod
    def active(cls, limit: int, going: int | None = None, runs: int = 1) -> VisitorLimitError:
        """`runs` > 1: a batch, refused whole when its runs and those `going` would pass `limit`."""
        if runs > 1:
            return cls(
                f"This batch has {runs} runs and you have {going or 0} going; this server's key allows "
                f"{limit} at once per visitor. Make a smaller batch, wait, or paste your own fal key."
            )
        noun = "run" if limit == 1 else "runs"
        return cls(
            f"You already have {limit} {noun} going on this server's key, its limit per visitor. Wait for "
            "one to finish, or paste your own fal key."
        )

    @classmethod
    def daily(cls, limit: float, spent: float, cost: float) -> VisitorLimitError:
        return cls(
            f"This would take you past {_dollars(limit)} on this server's key in 24 hours, its limit per "
            f"person ({_dollars(spent)} of your runs in that time, this about {_dollars(cost)}). Try again "
            "later, or paste your own fal key."
        )

    @classmethod
    def hourly(cls, limit: int, started: int | None = None, runs: int = 1) -> VisitorLimitError:
        if runs > 1:
            return cls(
                f"This batch has {runs} runs and you have started {started or 0} in the last hour; this "
                f"server's key allows {limit} per hour per visitor. Make a smaller batch, try again later, "
                "or paste your own fal key."
            )
        return cls(
            f"You have started {limit} runs on this server's key in the last hour, its limit per visitor. "
            "Try again later, or paste your own fal key."
        )


class OwnKeyRequiredError(StudioError):
    """The server lends its key to nobody: each visitor brings their own."""

    kind = "auth"

    def __init__(self) -> None:
        super().__init__(
            "This server asks every visitor to use their own fal key: paste one in the key box "
            "(get one at https://fal.ai/dashboard/keys). It is used for your session only."
        )


def _dollars(amount: float) -> str:
    return f"${amount:.2f}"
