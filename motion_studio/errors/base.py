"""What every error shares: `StudioError` (a stable `kind` and one sentence), the key help, and the
error for a bug nobody foresaw."""

from __future__ import annotations

KEY_HELP = (
    "Set FAL_KEY in your environment or in a .env file next to app.py "
    "(or as a Space secret), or paste a key for this session."
)


class StudioError(Exception):
    """Base class: `kind` is a stable machine name, `message` one sentence for humans."""

    kind = "error"
    # False when fal's answer never arrived (a broken connection, a time-out on our side, a bug):
    # whatever was being sent may or may not have reached fal.
    fal_answered = True

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InternalError(StudioError):
    """Anything nobody foresaw: the traceback goes to the server log, the user gets this sentence."""

    kind = "internal"
    fal_answered = False  # nobody knows how far it got

    def __init__(self, charged: bool) -> None:
        tail = (
            "fal may still finish it: press Resume to fetch the video."
            if charged
            else "Nothing was sent to fal's queue, so nothing was charged."
        )
        super().__init__(
            f"Something went wrong inside the studio (the details are in the server log). {tail}"
        )


class SettingsError(StudioError):
    """The app's own configuration can't be used: said at start, before anything runs."""

    @classmethod
    def invalid(cls, problems: str) -> SettingsError:
        return cls(f"Invalid setting in the environment or .env ({problems}).")

    @classmethod
    def empty_secret(cls, path: object) -> SettingsError:
        return cls(f"{path} is empty: delete it, and the app makes a new one.")
