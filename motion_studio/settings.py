"""Settings, read once from the environment and an optional `.env` file.

pydantic-settings does the parsing (types, defaults, `.env` via python-dotenv) so that every knob the
app has is listed in one place and in `.env.example`. Values that fal does not document precisely
(upload cache lifetime, timeouts) are settings rather than constants, so a user can be conservative.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import time
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from . import catalog
from .errors import MissingKeyError, SettingsError
from .fal_lifetimes import Lifetimes
from .history.limits import VisitorLimits
from .history.store import History

# The models whose price per second is a setting (published figures disagree, or none is confirmed),
# each with its setting's field: `apply_prices` gives them to the catalogue, the manual says so.
PRICE_SETTINGS = {
    "v3-pro": "v3_pro_price",
    "v3-standard": "v3_standard_price",
    "dreamactor": "dreamactor_price",
}
_HOST_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")


class Settings(BaseSettings):
    """Everything configurable. Environment variables win over `.env`, which wins over defaults."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    fal_key: SecretStr | None = Field(
        default=None,
        alias="FAL_KEY",
        description="Your fal API key (https://fal.ai/dashboard/keys); never logged, stored in the history "
        "or sent to the browser. Without it the app still starts, says how to set one, and visitors can "
        "paste a key for their own browser session.",
    )
    data_dir: Path = Field(
        default=Path("data"),
        alias="MOTION_STUDIO_DATA_DIR",
        description="Where the history database, the runs' inputs, outputs and thumbnails, and the batches' "
        "grids live. On a Hugging Face Space, point this at the path where your Storage Bucket is mounted, "
        "e.g. /data-bucket/motion-studio.",
    )
    default_tier: str = Field(
        default="pro",
        alias="MOTION_STUDIO_DEFAULT_TIER",
        description="The model used when none is chosen: pro (Kling v2.6, 1080p, $0.112/s), standard "
        "(v2.6, 720p, $0.07/s), v3-pro or v3-standard (Kling v3, which can also keep a face consistent), "
        "wan-move, wan-replace (Wan 2.2 Animate, from $0.04/s) or dreamactor (DreamActor v2).",
    )
    # Kling v3's price per second of video: the public figures disagree, so the higher one is the
    # default (estimates and spending guards err on the safe side); set what fal bills you.
    v3_pro_price: float = Field(
        default=catalog.V3_PRO_PRICE,
        gt=0,
        alias="MOTION_STUDIO_V3_PRO_PRICE",
        description="Dollars per second of video for v3-pro, used by every estimate and spending guard. "
        "Published figures disagree ($0.168 or $0.126), so the default is the higher one: set what fal "
        "bills you.",
    )
    v3_standard_price: float = Field(
        default=catalog.V3_STANDARD_PRICE,
        gt=0,
        alias="MOTION_STUDIO_V3_STANDARD_PRICE",
        description="Dollars per second of video for v3-standard, as for v3-pro: set what fal bills you.",
    )
    dreamactor_price: float = Field(
        default=catalog.DREAMACTOR_PRICE,
        gt=0,
        alias="MOTION_STUDIO_DREAMACTOR_PRICE",
        description="Dollars per second of video for dreamactor, used by every estimate and spending "
        "guard. Its price is not confirmed (one third-party figure is $0.10), so the default is set "
        "higher: set what fal bills you.",
    )
    poll_interval: float = Field(
        default=2.0,
        gt=0,
        alias="MOTION_STUDIO_POLL_INTERVAL",
        description="Seconds between status polls while fal works on a run (when the status stream can't "
        "be read, or is turned off).",
    )
    status_stream: bool = Field(
        default=True,
        alias="MOTION_STUDIO_STATUS_STREAM",
        description="Follow fal's status stream (server-sent events, read with httpx-sse), so the video is "
        "fetched the moment fal says COMPLETED; polling takes over if the stream is refused, cut or silent "
        "for 2 minutes. false: poll only.",
    )
    upload_part_mb: float = Field(
        default=8.0,
        ge=5,
        alias="MOTION_STUDIO_UPLOAD_PART_MB",
        description="Inputs bigger than this many MB go to fal's storage from disk a part of this size at "
        "a time (fal's multipart protocol), so memory stays at a few parts whatever the clip's size. At "
        "least 5.",
    )
    upload_ahead: bool = Field(
        default=True,
        alias="MOTION_STUDIO_UPLOAD_AHEAD",
        description="Once both inputs are checked and ready, send them to fal's storage while you are "
        "still choosing, so that Generate only submits. false: nothing leaves the machine before you press "
        "Generate.",
    )
    people_check: bool = Field(
        default=True,
        alias="MOTION_STUDIO_PEOPLE_CHECK",
        description="Look for the person in the image and the clip before paying (MediaPipe, offline, on "
        "the CPU): no person, several people, a person under 5 % of the image, half body vs full body, a "
        "person leaving the clip. Warnings and a pose preview beside the verdict, never a refusal (the "
        "CLI's --strict refuses on them, and runs the check even when this is off). false: never run (a "
        "server that can't spare the CPU, or has no mediapipe).",
    )
    request_timeout: float = Field(
        default=1800.0,
        gt=0,
        alias="MOTION_STUDIO_REQUEST_TIMEOUT",
        description="Give up (and cancel on fal) if a run has not finished after this many seconds.",
    )
    status_retry_seconds: float = Field(
        default=300.0,
        gt=0,
        alias="MOTION_STUDIO_STATUS_RETRY_SECONDS",
        description="How long to keep retrying status, result and download calls that fail with 5xx, 429 "
        "or network errors; after that the run rests interrupted, and Resume picks it up.",
    )
    cancel_grace_seconds: float = Field(
        default=30.0,
        gt=0,
        alias="MOTION_STUDIO_CANCEL_GRACE_SECONDS",
        description="After Cancel, how long to wait for fal to confirm. Without an answer the run rests "
        "interrupted (fal may still finish and bill it; Resume fetches the video), never falsely cancelled.",
    )
    lease_seconds: float = Field(
        default=600.0,
        ge=60,
        alias="MOTION_STUDIO_LEASE_SECONDS",
        description="One process follows a run at a time (the app, or python -m motion_studio resume). A "
        "follower on this machine that dies frees its runs at once; one on another machine sharing the "
        "data directory frees them after this many seconds without renewing (it renews every 30 s while "
        "it follows a run).",
    )
    upload_cache_hours: float = Field(
        default=6.0,
        ge=0,
        alias="MOTION_STUDIO_UPLOAD_CACHE_HOURS",
        description="Reuse the fal URL of a file already uploaded (same content) for this many hours "
        "instead of uploading it again.",
    )
    fal_input_expiry_hours: float = Field(
        default=24.0,
        ge=0.1,
        alias="MOTION_STUDIO_FAL_INPUT_EXPIRY_HOURS",
        description="Every file the studio uploads to fal's storage (a photo, a clip, a face) is deleted "
        "by fal after this many hours; until then it is a public URL on fal's CDN. fal reads a run's inputs "
        "when it starts the run, and an interrupted run resumes without them, so a day is ample; a cached "
        "upload is reused only while it has at least MOTION_STUDIO_REQUEST_TIMEOUT left, else it is sent "
        "again.",
    )
    fal_output_expiry_days: float = Field(
        default=7.0,
        ge=1,
        alias="MOTION_STUDIO_FAL_OUTPUT_EXPIRY_DAYS",
        description="Every run asks fal to delete its video after this many days (the studio downloads it "
        "the moment it exists; fal's copy only serves Resume after an interruption). Also how long a "
        "missing video counts as a hiccup of fal's CDN (the run stays interrupted, Resume tries again) "
        "rather than expired. At least 1.",
    )
    fal_store_io: bool = Field(
        default=True,
        alias="MOTION_STUDIO_FAL_STORE_IO",
        description="false: every run is sent with X-Fal-Store-IO: 0, so fal keeps no copy of its inputs "
        "and outputs in your request history on fal's dashboard (the URLs still exist until they expire). "
        "A run's result may then be fetchable from fal for a shorter time: Resume of a run interrupted "
        "before its video's URL was known may find nothing.",
    )
    fal_cdn_hosts: Annotated[tuple[str, ...], NoDecode] = Field(
        default=("fal.media",),
        alias="MOTION_STUDIO_FAL_CDN_HOSTS",
        description="Hosts of fal's own CDN, comma-separated, each with its subdomains: an https input URL "
        "there that the checks leave as it is goes to fal as it is instead of being uploaded again. none: "
        "always upload.",
    )
    scratch_mb: int = Field(
        default=2000,
        ge=10,
        alias="MOTION_STUDIO_SCRATCH_MB",
        description="Files fetched from URLs and trimmed copies are kept under this many MB in all, the "
        "oldest removed first, never one a run of this app still waits to read (a batch's later runs) nor "
        "the one just made.",
    )
    max_image_pixels: int = Field(
        default=40_000_000,
        gt=0,
        alias="MOTION_STUDIO_MAX_IMAGE_PIXELS",
        description="Refuse images with more pixels than this before decoding them (decompression-bomb "
        "guard).",
    )
    max_upload_mb: int = Field(
        default=200,
        ge=1,
        alias="MOTION_STUDIO_MAX_UPLOAD_MB",
        description="The largest file, in MB, the page accepts in its image or clip box; bigger files are "
        "refused in the browser with a sentence, before they are sent (fal itself takes clips up to "
        "100 MB; a bigger photo is re-encoded to fit).",
    )
    gallery_page_size: int = Field(
        default=24,
        ge=1,
        alias="MOTION_STUDIO_GALLERY_PAGE_SIZE",
        description="How many runs the gallery shows at first, and how many more each Show more adds.",
    )
    server_name: str | None = Field(
        default=None,
        alias="MOTION_STUDIO_SERVER_NAME",
        description="The address the page listens on. Unset: Gradio decides (GRADIO_SERVER_NAME, which "
        "Spaces set; else 127.0.0.1).",
    )
    server_port: int | None = Field(
        default=None,
        alias="MOTION_STUDIO_SERVER_PORT",
        description="The port the page listens on. Unset: Gradio decides (GRADIO_SERVER_PORT, which Spaces "
        "set; else 7860).",
    )
    concurrency: int = Field(
        default=4,
        gt=0,
        alias="MOTION_STUDIO_CONCURRENCY",
        description="How many page events (checks, starts) are handled at once; progress streams are not "
        "limited.",
    )
    queue_size: int = Field(
        default=64,
        ge=1,
        le=10_000,
        alias="MOTION_STUDIO_QUEUE_SIZE",
        description="How many page and API events (checks, starts) may wait for their turn at once; past "
        "this a caller is told the queue is full. The app sets it on every hardware: left unset, Gradio "
        "allows only 1 on ZeroGPU.",
    )
    batch_parallel: int = Field(
        default=4,
        gt=0,
        alias="MOTION_STUDIO_BATCH_PARALLEL",
        description="How many of a batch's runs are on their way to fal at once (checks, copies, uploads, "
        "until fal answers the submit); the others wait their turn. Once submitted, every run is followed "
        "at the same time.",
    )
    max_run_cost: float | None = Field(
        default=None,
        gt=0,
        alias="MOTION_STUDIO_MAX_RUN_COST",
        description="Spending guard for the server's FAL_KEY (a public Space lends it to every visitor who "
        "doesn't paste their own): refuse a run whose estimate is above this many dollars. Unset: no limit.",
    )
    daily_budget: float | None = Field(
        default=None,
        gt=0,
        alias="MOTION_STUDIO_DAILY_BUDGET",
        description="Spending guard for the server's FAL_KEY: refuse runs once the estimates of the last "
        "24 h would pass this many dollars. Unset: no limit.",
    )
    visitor_active_runs: int | None = Field(
        default=None,
        gt=0,
        alias="MOTION_STUDIO_VISITOR_ACTIVE_RUNS",
        description="Runs one visitor (a browser, or an API caller's address) may have going at once on "
        "the server's FAL_KEY. Unset: no limit. A visitor's own pasted key is never limited.",
    )
    visitor_runs_per_hour: int | None = Field(
        default=None,
        gt=0,
        alias="MOTION_STUDIO_VISITOR_RUNS_PER_HOUR",
        description="Runs one visitor may start per hour on the server's FAL_KEY. Unset: no limit.",
    )
    api_checks_per_minute: int | None = Field(
        default=60,
        gt=0,
        alias="MOTION_STUDIO_API_CHECKS_PER_MINUTE",
        description="/check calls (API and MCP) one caller may make per minute: a check costs nothing, but "
        "it fetches and probes files on the server. MCP calls reach the API from the server itself, so "
        "all MCP clients share one count.",
    )
    trusted_proxies: int = Field(
        default=0,
        ge=0,
        alias="MOTION_STUDIO_TRUSTED_PROXIES",
        description="Proxies in front of the app that append the caller's address to X-Forwarded-For; "
        "only their entries name an API caller. 0: the connecting address is the caller's (anything a "
        "client writes in that header is ignored).",
    )
    visitor_daily_dollars: float | None = Field(
        default=None,
        gt=0,
        alias="MOTION_STUDIO_VISITOR_DAILY_DOLLARS",
        description="Dollars one visitor may spend on the server's FAL_KEY in 24 hours, by the runs' "
        "estimates (a run fal never received doesn't count). With sign-in, a visitor is their Hugging Face "
        "account, wherever they sign in from. Unset: no limit.",
    )
    hf_sign_in: Literal["off", "optional", "required"] = Field(
        default="off",
        alias="MOTION_STUDIO_HF_SIGN_IN",
        description="Sign in with Hugging Face on a Space (needs hf_oauth: true in the README's front "
        "matter). optional: a signed-in visitor is their account (their gallery follows them to any "
        "browser, and the per-visitor limits count per account); required: as optional, and the server's "
        "FAL_KEY is lent only to signed-in visitors (the API then lends it to nobody). off: as before. "
        "Ignored off a Space.",
    )
    sign_in_for_own_keys: bool = Field(
        default=False,
        alias="MOTION_STUDIO_SIGN_IN_FOR_OWN_KEYS",
        description="With sign-in on: true asks visitors who paste their own fal key to sign in too.",
    )
    visitors_bring_own_key: bool = Field(
        default=False,
        alias="MOTION_STUDIO_VISITORS_BRING_OWN_KEY",
        description="true: the server's FAL_KEY is lent to nobody; every visitor pastes their own, and the "
        "API is refused.",
    )
    private_galleries: bool | None = Field(
        default=None,
        alias="MOTION_STUDIO_PRIVATE_GALLERIES",
        description="true: each browser sees only its own runs (a random id kept in its localStorage); "
        "false: everyone sees every run. Unset: true on a Hugging Face Space (SPACE_ID is set), false on "
        "your own machine.",
    )
    browser_secret: SecretStr | None = Field(
        default=None,
        alias="MOTION_STUDIO_BROWSER_SECRET",
        description="Encrypts the id each browser keeps in its localStorage (private galleries). Unset: a "
        "secret is made once and kept in the data directory (never served), so galleries survive "
        "restarts; set it (any random string) when the data directory is not kept across restarts.",
    )

    def apply_prices(self) -> None:
        """Give the catalogue the prices that are settings: every estimate, guard and label reads it.
        Called once where an app or the command line starts (one process, one price table), not when
        settings are merely built."""
        catalog.apply_prices({model: getattr(self, field) for model, field in PRICE_SETTINGS.items()})

    @field_validator("default_tier")
    @classmethod
    def _a_model(cls, value: str) -> str:
        """One of the catalogue's models (a new model is an entry there, not an edit here)."""
        if value not in catalog.TIERS:
            expected = catalog.either([f"'{name}'" for name in catalog.TIERS])
            raise PydanticCustomError("literal_error", "Input should be {expected}", {"expected": expected})
        return value

    @field_validator("fal_cdn_hosts", mode="before")
    @classmethod
    def _host_list(cls, value: object) -> object:
        """A comma-separated list from the environment; each entry a plain host name (no scheme,
        port or wildcard), so a typo can't quietly widen what counts as fal's."""
        if isinstance(value, str):
            value = [] if value.strip().lower() == "none" else value.split(",")
        if not isinstance(value, list | tuple):
            return value
        hosts = tuple(str(h).strip().lower().strip(".") for h in value if str(h).strip())
        for host in hosts:
            if not _HOST_NAME.match(host):
                raise ValueError(f"{host!r} is not a host name (write e.g. fal.media)")
        return hosts

    @property
    def lends_its_key(self) -> bool:
        """The server has a key and lends it to visitors (not in bring-your-own-key mode)."""
        has_key = bool(self.fal_key and self.fal_key.get_secret_value().strip())
        return has_key and not self.visitors_bring_own_key

    def fal_lifetimes(self) -> Lifetimes:
        """How long fal keeps uploads and outputs, and whether it keeps the requests' copy."""
        return Lifetimes(
            inputs=max(60, round(self.fal_input_expiry_hours * 3600)),
            outputs=round(self.fal_output_expiry_days * 86400),
            store_io=self.fal_store_io,
        )

    @property
    def galleries_are_private(self) -> bool:
        if self.private_galleries is not None:
            return self.private_galleries
        return bool(os.environ.get("SPACE_ID"))  # Spaces set it; a laptop has one user

    @property
    def sign_in(self) -> Literal["off", "optional", "required"]:
        """Sign-in as it applies here: only on a Space, where Hugging Face provides it (Gradio's test:
        SYSTEM=spaces and SPACE_ID). Elsewhere Gradio would mock it with the machine's own Hugging Face
        login, which a laptop or a server may not have: off there, as before."""
        on_space = os.environ.get("SYSTEM") == "spaces" and bool(os.environ.get("SPACE_ID"))
        return self.hf_sign_in if on_space else "off"

    def open_history(self) -> History:
        return History(self.db_path, self.runs_dir, lease_seconds=self.lease_seconds)

    def visitor_limits(self) -> VisitorLimits | None:
        """The per-visitor limits on the server's key (a run, or a batch as a whole), if any are set."""
        if (
            self.visitor_active_runs is None
            and self.visitor_runs_per_hour is None
            and (self.visitor_daily_dollars is None)
        ):
            return None
        return VisitorLimits(
            active=self.visitor_active_runs,
            per_hour=self.visitor_runs_per_hour,
            daily=self.visitor_daily_dollars,
        )

    @property
    def browser_secret_path(self) -> Path:
        return self.data_dir / "browser-secret"

    def browser_state_secret(self) -> str:
        """The setting, or a secret made once (by whichever process comes first) and kept, private."""
        if self.browser_secret is not None and self.browser_secret.get_secret_value().strip():
            return self.browser_secret.get_secret_value().strip()
        path = self.browser_secret_path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(32))
        for _ in range(50):  # another process may be writing it this very moment
            text = path.read_text().strip()
            if text:
                return text
            time.sleep(0.01)
        raise SettingsError.empty_secret(path)

    @property
    def db_path(self) -> Path:
        return self.data_dir / "history.sqlite3"

    @property
    def runs_dir(self) -> Path:
        return self.data_dir / "runs"

    def batch_dir(self, batch_id: str) -> Path:
        """A batch's own files (its grid): the batches and the runner's delete both find them here."""
        return self.data_dir / "batches" / batch_id

    def require_key(self, session_key: str | None = None) -> SecretStr:
        """A session key typed in the UI wins over the server's key, so visitors can pay for themselves."""
        if session_key and session_key.strip():
            return SecretStr(session_key.strip())
        if self.fal_key is not None and self.fal_key.get_secret_value().strip():
            return self.fal_key
        raise MissingKeyError()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Cached so the `.env` file is read once per process; tests call `get_settings.cache_clear()`."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors(include_url=False)
        )
        raise SettingsError.invalid(problems) from None


def configure_logging(level: int = logging.INFO) -> None:
    """Our own events at INFO; httpx's per-request lines (a poll every few seconds) only when they fail."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
