"""fal, through the real `fal_client.AsyncClient`, wrapped so that callers only ever see `StudioError`s.

Two things fal_client does not do for us: it lets a single 5xx on a status poll escape although the
request goes on running (and is paid for), and it keeps no memory of what it uploaded. So status,
result and download are retried here (tenacity) for as long as `status_retry_seconds` allows, and
uploads are cached by content hash in the run history.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiofiles
import fal_client
import httpx
from pydantic import SecretStr
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_delay,
    wait_exponential,
)

from .errors import (
    TRANSIENT_ERRORS,
    FalServerError,
    ModelFailedError,
    NetworkError,
    NotFoundError,
    OutputExpiredError,
    RateLimitError,
    RequestUnknownError,
    RunCancelledError,
    StudioError,
    from_detail,
    map_exception,
)
from .history import History

T = TypeVar("T")
QUEUE_URL = "https://queue.fal.run"


@dataclass(frozen=True)
class StatusUpdate:
    """One status poll, reduced to what a user sees: where the request is and what fal logged since."""

    state: str  # "queued" | "running" | "completed"
    position: int | None = None
    new_logs: tuple[str, ...] = field(default=())
    error: str | None = None
    error_type: str | None = None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


class FalService:
    def __init__(
        self,
        key: SecretStr,
        history: History,
        *,
        poll_interval: float = 2.0,
        retry_seconds: float = 300.0,
        upload_cache_seconds: float = 6 * 3600,
    ) -> None:
        self._client = fal_client.AsyncClient(key=key.get_secret_value())
        self._key = key
        self._http: httpx.AsyncClient | None = None  # for the one call fal_client would repeat
        self._history = history
        self._poll_interval = poll_interval
        self._retry_seconds = retry_seconds
        self._upload_cache_seconds = upload_cache_seconds
        self.closed = False

    async def _call(
        self,
        make: Callable[[], Awaitable[T]],
        *,
        retry: bool = False,
        retry_on: tuple[type[StudioError], ...] = TRANSIENT_ERRORS,
    ) -> T:
        """Run one fal call; map its failure; retry the `retry_on` ones when that is safe."""
        if not retry:
            try:
                return await make()
            except Exception as exc:
                raise map_exception(exc) from exc
        retrying = AsyncRetrying(
            stop=stop_after_delay(self._retry_seconds),
            wait=wait_exponential(multiplier=self._poll_interval, max=30),
            retry=retry_if_exception(lambda exc: isinstance(exc, retry_on)),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._call(make)
        raise AssertionError("unreachable")  # pragma: no cover

    async def upload(self, path: Path) -> str:
        """Upload once per content: the same file picked again reuses the URL fal already has."""
        sha = file_sha256(path)
        cached = self._history.cached_upload(sha, self._upload_cache_seconds)
        if cached:
            return cached
        url = await self._call(lambda: self._client.upload_file(path))
        self._history.remember_upload(sha, url)
        return url

    async def submit(self, endpoint: str, arguments: dict[str, Any]) -> str:
        """One POST to fal's queue (its documented protocol), never repeated.

        fal_client's `submit` re-sends the POST when an answer is lost (a read time-out, a dropped
        connection): each copy may be queued and billed, and only the last id would be kept. A lost
        answer is instead reported as such, and the run says fal may or may not have it."""

        async def post() -> str:
            response = await self._queue_http().post(f"{QUEUE_URL}/{endpoint}", json=arguments)
            response.raise_for_status()
            return str(response.json()["request_id"])

        # A 429 is fal saying "not now": nothing was queued, so asking again is safe.
        return await self._call(post, retry=True, retry_on=(RateLimitError,))

    def _queue_http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(
                headers={"Authorization": f"Key {self._key.get_secret_value()}"},
                timeout=httpx.Timeout(120.0, connect=30.0),
            )
        return self._http

    async def aclose(self) -> None:
        """Close the fal client's connections (its key goes with this object)."""
        client = await self._client._client
        await client.aclose()
        if self._http is not None:
            await self._http.aclose()
        self.closed = client.is_closed and (self._http is None or self._http.is_closed)

    async def status(self, endpoint: str, request_id: str) -> fal_client.Status:
        try:
            return await self._call(
                lambda: self._client.status(endpoint, request_id, with_logs=True), retry=True
            )
        except NotFoundError:
            raise RequestUnknownError(request_id) from None

    async def follow(self, endpoint: str, request_id: str) -> AsyncIterator[StatusUpdate]:
        """Poll until COMPLETED, yielding position changes and only the log lines not yet seen."""
        import asyncio

        seen = 0
        while True:
            status = await self.status(endpoint, request_id)
            if isinstance(status, fal_client.Queued):
                yield StatusUpdate("queued", position=status.position)
            elif isinstance(status, fal_client.InProgress | fal_client.Completed):
                logs = [str(entry.get("message", "")) for entry in (status.logs or [])]
                seen = 0 if len(logs) < seen else seen
                new, seen = tuple(logs[seen:]), len(logs)
                if isinstance(status, fal_client.Completed):
                    yield StatusUpdate(
                        "completed", new_logs=new, error=status.error, error_type=status.error_type
                    )
                    return
                yield StatusUpdate("running", new_logs=new)
            await asyncio.sleep(self._poll_interval)

    async def result(self, endpoint: str, request_id: str, *, retry: bool = True) -> dict[str, Any]:
        try:
            return await self._call(lambda: self._client.result(endpoint, request_id), retry=retry)
        except NotFoundError:
            raise RequestUnknownError(request_id) from None

    async def output_url(self, endpoint: str, request_id: str, update: StatusUpdate) -> str:
        """The result's video URL. After a COMPLETED-with-error the result endpoint holds the real
        error (often a 422), so it is fetched once, without retrying, and that error is raised."""
        if update.error:
            try:
                await self.result(endpoint, request_id, retry=False)
                error = from_detail(500, update.error, update.error_type)
            except StudioError as exc:
                error = exc
            raise error if isinstance(error, RunCancelledError) else ModelFailedError(error)
        result = await self.result(endpoint, request_id)
        try:
            return str(result["video"]["url"])
        except (KeyError, TypeError):
            raise ModelFailedError(FalServerError("fal finished but returned no video. Try again.")) from None

    async def download(self, url: str, dest: Path, *, request_id: str | None = None) -> Path:
        """Stream the output to disk at once: fal deletes media after a while, the user's copy stays.

        Retried through 5xx, 429, network errors and a truncated body; a 404/410 means fal's copy
        expired, which no retry can cure."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        partial = dest.with_suffix(dest.suffix + ".part")

        async def fetch() -> Path:
            async with (
                httpx.AsyncClient(follow_redirects=True, timeout=120) as client,
                client.stream("GET", url) as response,
            ):
                if response.status_code in (404, 410):
                    raise OutputExpiredError(request_id)
                if response.status_code >= 400:
                    await response.aread()
                    raise from_detail(response.status_code, None, response.headers.get("x-fal-error-type"))
                expected = int(response.headers.get("content-length") or 0)
                received = 0
                async with aiofiles.open(partial, "wb") as out:
                    async for chunk in response.aiter_bytes(1024 * 1024):
                        received += len(chunk)
                        await out.write(chunk)
            if received == 0 or (expected and received < expected):
                raise NetworkError("The video from fal arrived incomplete. Fetching it again.")
            partial.replace(dest)
            return dest

        return await self._call(fetch, retry=True)

    async def cancel(self, endpoint: str, request_id: str) -> bool:
        """Ask fal to cancel; False when fal says the request already completed (so it is kept)."""
        try:
            await self._client.cancel(endpoint, request_id)
        except fal_client.client.FalClientHTTPError as exc:
            if "ALREADY_COMPLETED" in exc.response.text:
                return False
            raise map_exception(exc) from exc
        except Exception as exc:
            raise map_exception(exc) from exc
        return True
