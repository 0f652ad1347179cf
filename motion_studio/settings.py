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
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from . import catalog
from .errors import MissingKeyError, StudioError
from .history.limits import VisitorLimits
from .history.store import History

Tier = Literal["pro", "standard", "v3-pro", "v3-standard"]
_HOST_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")


class Settings(BaseSettings):
    """Everything configurable. Environment variables win over `.env`, which wins over defaults."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    fal_key: SecretStr | None = Field(default=None, alias="FAL_KEY")
    data_dir: Path = Field(default=Path("data"), alias="MOTION_STUDIO_DATA_DIR")
    default_tier: Tier = Field(default="pro", alias="MOTION_STUDIO_DEFAULT_TIER")
    # Kling v3's price per second of video: the public figures disagree, so the higher one is the
    # default (estimates and spending guards err on the safe side); set what fal bills you.
    v3_pro_price: float = Field(default=catalog.V3_PRO_PRICE, gt=0, alias="MOTION_STUDIO_V3_PRO_PRICE")
    v3_standard_price: float = Field(
        default=catalog.V3_STANDARD_PRICE, gt=0, alias="MOTION_STUDIO_V3_STANDARD_PRICE"
    )
    poll_interval: float = Field(default=2.0, gt=0, alias="MOTION_STUDIO_POLL_INTERVAL")
    # Follow fal's status stream (server-sent events: the result is fetched the moment it is ready);
    # polling every `poll_interval` seconds takes over when the stream can't be read. False: poll only.
    status_stream: bool = Field(default=True, alias="MOTION_STUDIO_STATUS_STREAM")
    # Inputs bigger than this go to fal's storage from disk, this many MB at a time (fal's multipart
    # protocol), so memory stays at a few parts whatever the clip's size; at least 5.
    upload_part_mb: float = Field(default=8.0, ge=5, alias="MOTION_STUDIO_UPLOAD_PART_MB")
    # Send each checked input to fal's storage at once, while the user is still choosing, so that
    # Generate only submits. False: nothing leaves the machine before Generate.
    upload_ahead: bool = Field(default=True, alias="MOTION_STUDIO_UPLOAD_AHEAD")
    # Look for the person in the image and the clip (MediaPipe, offline, on the CPU) and warn, never
    # refuse, when they will not fit Kling: nobody, several people, too small, half body vs full body.
    # False: the check never runs (a server that can't spare the CPU, or has no mediapipe).
    people_check: bool = Field(default=True, alias="MOTION_STUDIO_PEOPLE_CHECK")
    request_timeout: float = Field(default=1800.0, gt=0, alias="MOTION_STUDIO_REQUEST_TIMEOUT")
    status_retry_seconds: float = Field(default=300.0, gt=0, alias="MOTION_STUDIO_STATUS_RETRY_SECONDS")
    cancel_grace_seconds: float = Field(default=30.0, gt=0, alias="MOTION_STUDIO_CANCEL_GRACE_SECONDS")
    # How long a run stays claimed by a follower that stopped renewing it (one on another host: a
    # follower on this host is seen to die at once). Renewed every 30 s while a run is followed.
    lease_seconds: float = Field(default=600.0, ge=60, alias="MOTION_STUDIO_LEASE_SECONDS")
    upload_cache_hours: float = Field(default=6.0, ge=0, alias="MOTION_STUDIO_UPLOAD_CACHE_HOURS")
    # Inputs given as URLs on these hosts (or their subdomains) are fal's own files: when the checks
    # change nothing, fal gets the URL as it is instead of a second upload. Comma-separated; "none": off.
    fal_cdn_hosts: Annotated[tuple[str, ...], NoDecode] = Field(
        default=("fal.media",), alias="MOTION_STUDIO_FAL_CDN_HOSTS"
    )
    # Files fetched from URLs and trimmed copies are kept under this many MB in all (oldest go first).
    scratch_mb: int = Field(default=2000, ge=10, alias="MOTION_STUDIO_SCRATCH_MB")
    max_image_pixels: int = Field(default=40_000_000, gt=0, alias="MOTION_STUDIO_MAX_IMAGE_PIXELS")
    # The largest file the page accepts in its image or clip box (fal takes clips up to 100 MB; a bigger
    # photo is re-encoded to fit). Larger files are refused in the browser, before they are sent.
    max_upload_mb: int = Field(default=200, ge=1, alias="MOTION_STUDIO_MAX_UPLOAD_MB")
    # The gallery shows this many runs at first, and this many more at each "Show more".
    gallery_page_size: int = Field(default=24, ge=1, alias="MOTION_STUDIO_GALLERY_PAGE_SIZE")
    # None lets Gradio decide (GRADIO_SERVER_NAME / _PORT, which Spaces set; else 127.0.0.1:7860).
    server_name: str | None = Field(default=None, alias="MOTION_STUDIO_SERVER_NAME")
    server_port: int | None = Field(default=None, alias="MOTION_STUDIO_SERVER_PORT")
    concurrency: int = Field(default=4, gt=0, alias="MOTION_STUDIO_CONCURRENCY")
    # A batch's runs between their start and fal's answer to their submit (checks, copies, uploads) at
    # once; the others wait their turn. Once submitted, every run is followed at the same time.
    batch_parallel: int = Field(default=4, gt=0, alias="MOTION_STUDIO_BATCH_PARALLEL")
    # Spending guards for the server's own key (a public Space lends it to every visitor); None = no limit.
    max_run_cost: float | None = Field(default=None, gt=0, alias="MOTION_STUDIO_MAX_RUN_COST")
    daily_budget: float | None = Field(default=None, gt=0, alias="MOTION_STUDIO_DAILY_BUDGET")
    # Per visitor (a browser, or an API caller's address) on the server's key; None = no limit.
    visitor_active_runs: int | None = Field(default=None, gt=0, alias="MOTION_STUDIO_VISITOR_ACTIVE_RUNS")
    visitor_runs_per_hour: int | None = Field(default=None, gt=0, alias="MOTION_STUDIO_VISITOR_RUNS_PER_HOUR")
    # `/check` calls per API caller per minute (it fetches and probes files: free for the caller only).
    api_checks_per_minute: int | None = Field(default=60, gt=0, alias="MOTION_STUDIO_API_CHECKS_PER_MINUTE")
    # Proxies in front of the app that append the caller's address to X-Forwarded-For (0: none, the
    # connecting address is the caller's). Only then is that header believed, and only their part of it.
    trusted_proxies: int = Field(default=0, ge=0, alias="MOTION_STUDIO_TRUSTED_PROXIES")
    # True: the server's key is never used for visitors (page and API); they paste their own.
    visitors_bring_own_key: bool = Field(default=False, alias="MOTION_STUDIO_VISITORS_BRING_OWN_KEY")
    # Each browser sees only its own runs. Unset: on for a Hugging Face Space (SPACE_ID), off on a laptop.
    private_galleries: bool | None = Field(default=None, alias="MOTION_STUDIO_PRIVATE_GALLERIES")
    # Encrypts the browser id kept in each visitor's localStorage. Unset: made once and kept in the
    # data directory, so visitors keep their galleries across restarts.
    browser_secret: SecretStr | None = Field(default=None, alias="MOTION_STUDIO_BROWSER_SECRET")

    def model_post_init(self, context: object, /) -> None:
        """The catalogue takes the prices that are settings: every estimate, guard and label reads it."""
        catalog.apply_prices({"v3-pro": self.v3_pro_price, "v3-standard": self.v3_standard_price})

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

    @property
    def galleries_are_private(self) -> bool:
        if self.private_galleries is not None:
            return self.private_galleries
        return bool(os.environ.get("SPACE_ID"))  # Spaces set it; a laptop has one user

    def open_history(self) -> History:
        return History(self.db_path, self.runs_dir, lease_seconds=self.lease_seconds)

    def visitor_limits(self) -> VisitorLimits | None:
        """The per-visitor limits on the server's key (a run, or a batch as a whole), if any are set."""
        if self.visitor_active_runs is None and self.visitor_runs_per_hour is None:
            return None
        return VisitorLimits(active=self.visitor_active_runs, per_hour=self.visitor_runs_per_hour)

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
        raise StudioError(f"{path} is empty: delete it, and the app makes a new one.")

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
        raise StudioError(f"Invalid setting in the environment or .env ({problems}).") from None


def configure_logging(level: int = logging.INFO) -> None:
    """Our own events at INFO; httpx's per-request lines (a poll every few seconds) only when they fail."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
