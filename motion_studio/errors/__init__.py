"""The few failures a user can meet, as types, and the one place where fal's failures become them.

Every layer above (CLI, job runner, UI) shows `error.message` and never a traceback or raw JSON, so
the wording lives here, next to the mapping, where it can be tested and kept consistent.
"""

from __future__ import annotations

from .base import KEY_HELP, InternalError, SettingsError, StudioError
from .fal import (
    TRANSIENT_ERRORS,
    AuthError,
    ContentPolicyError,
    FalServerError,
    FalTimeoutError,
    FalValidationError,
    GaveUpWaitingError,
    NetworkError,
    NotFoundError,
    OutputExpiredError,
    OutputNotServedError,
    RateLimitError,
    RequestUnknownError,
)
from .mapping import from_detail, map_exception
from .media import ClipError, ClipTooLongError, FileError, ImageError, OptionError, ViewError
from .refused_inputs import (
    BatchError,
    FaceElementError,
    InputError,
    MissingInputError,
    StrictRefusalError,
    UrlError,
)
from .run_state import (
    CancelUnconfirmedError,
    FollowerStoppedError,
    LostContactError,
    ModelFailedError,
    RunActionError,
    RunCancelledError,
    RunGoneError,
    StoppedBeforeSubmitError,
    SubmitUnconfirmedError,
)
from .spending import (
    BudgetError,
    MissingKeyError,
    OwnKeyRequiredError,
    SignInRequiredError,
    TooManyChecksError,
    VisitorLimitError,
)

__all__ = [
    "KEY_HELP",
    "TRANSIENT_ERRORS",
    "AuthError",
    "BatchError",
    "BudgetError",
    "CancelUnconfirmedError",
    "ClipError",
    "ClipTooLongError",
    "ContentPolicyError",
    "FaceElementError",
    "FalServerError",
    "FalTimeoutError",
    "FalValidationError",
    "FileError",
    "FollowerStoppedError",
    "GaveUpWaitingError",
    "ImageError",
    "InputError",
    "InternalError",
    "LostContactError",
    "MissingInputError",
    "MissingKeyError",
    "ModelFailedError",
    "NetworkError",
    "NotFoundError",
    "OptionError",
    "OutputExpiredError",
    "OutputNotServedError",
    "OwnKeyRequiredError",
    "RateLimitError",
    "RequestUnknownError",
    "RunActionError",
    "RunCancelledError",
    "RunGoneError",
    "SettingsError",
    "SignInRequiredError",
    "StoppedBeforeSubmitError",
    "StrictRefusalError",
    "StudioError",
    "SubmitUnconfirmedError",
    "TooManyChecksError",
    "UrlError",
    "ViewError",
    "VisitorLimitError",
    "from_detail",
    "map_exception",
]
