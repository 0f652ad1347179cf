"""fal, through the real `fal_client.AsyncClient`, wrapped so that callers only ever see `StudioError`s.

Two things fal_client does not do for us: it lets a single 5xx on a status poll escape although the
request goes on running (and is paid for), and it keeps no memory of what it uploaded. So status,
result and download are retried here (tenacity) for as long as `status_retry_seconds` allows, and
uploads are cached by content hash in the run history. Every upload and every submit tells fal how
long to keep the files (`Lifetimes`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import json
import logging
import secrets
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import fal_client
import httpx
from fal_client.client import AppId
from httpx_sse import SSEError, aconnect_sse
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
    OutputNotServedError,
    RateLimitError,
    RequestUnknownError,
    RunCancelledError,
    StudioError,
    from_detail,
    map_exception,
)
from .fal_lifetimes import Lifetimes
from .fal_storage import Storage
from .history.store import History
from .media.moov_first import MoovFirstWriter, write_moov_first
from .tls import client_tls

log = logging.getLogger("motion_studio.fal")
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


@dataclass(frozen=True)
class FalOutput:
    """What a finished request gave: its video's URL, and the rest of fal's result (Wan's prompt and
    seed; `ModelTier.returns` says which fields a run keeps)."""

    url: str
    fields: dict[str, Any] = field(default_factory=dict)

    def only(self, names: tuple[str, ...]) -> FalOutput:
        """The result with only the fields `names` (the others are not the model's to tell)."""
        return FalOutput(self.url, {name: self.fields[name] for name in names if name in self.fields})


class FalService:
    def __init__(
        self,
        key: SecretStr,
        history: History,
        *,
        poll_interval: float = 2.0,
        retry_seconds: float = 300.0,
        upload_cache_seconds: float = 6 * 3600,
        status_stream: bool = True,
        stream_idle_seconds: float = 120.0,
        upload_part_mb: float = 8.0,
        lifetimes: Lifetimes | None = None,
        upload_alive_for: float = 1800.0,
    ) -> None:
        """`upload_alive_for`: how long a cached upload's URL must still live on fal to be reused."""
        self._client = fal_client.AsyncClient(key=key.get_secret_value())
        self._key = key
        self._http: httpx.AsyncClient | None = None  # for the one call fal_client would repeat
        self._history = history
        self._poll_interval = poll_interval
        self._retry_seconds = retry_seconds
        self._upload_cache_seconds = upload_cache_seconds
        self._status_stream = status_stream  # follow fal's SSE status stream; False: poll only
        self._stream_idle_seconds = stream_idle_seconds  # a stream silent this long is given up for polls
        self._lifetimes = lifetimes or Lifetimes()
        # Files bigger than one part go up in parts; smaller ones in one request; all streamed from disk.
        self._storage = Storage(
            self._client,
            history,
            lambda make: self._call(make),
            cache_seconds=upload_cache_seconds,
            part_bytes=max(int(upload_part_mb * 2**20), 5 * 2**20),
            lifetimes=self._lifetimes,
            alive_for=upload_alive_for,
        )
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
        """The file's URL on fal's storage: sent once per content, streamed from disk (fal_storage)."""
        return await self._storage.upload(path)

    async def submit(self, endpoint: str, arguments: dict[str, Any]) -> str:
        """One POST to fal's queue (its documented protocol), never repeated.

        fal_client's `submit` re-sends the POST when an answer is lost (a read time-out, a dropped
        connection): each copy may be queued and billed, and only the last id would be kept. A lost
        answer is instead reported as such, and the run says fal may or may not have it. The request
        asks fal to expire its outputs (and, when set, to keep no copy of its inputs and outputs)."""
        headers = self._lifetimes.request_headers()

        async def post() -> str:
            response = await self._queue_http().post(
                f"{QUEUE_URL}/{endpoint}", json=arguments, headers=headers
            )
            response.raise_for_status()
            return str(response.json()["request_id"])

        # A 429 is fal saying "not now": nothing was queued, so asking again is safe.
        return await self._call(post, retry=True, retry_on=(RateLimitError,))

    def _queue_http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(
                headers={"Authorization": f"Key {self._key.get_secret_value()}"},
                verify=client_tls(),
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
        """Updates until COMPLETED: position changes and only the log lines not yet seen.

        fal's status stream (server-sent events, one status per event) tells the moment a request
        completes; fal_client only polls, so the stream is read with httpx and `httpx-sse`. When it
        can't be read (refused, cut, closed early), polling takes over from where it was."""
        logs = _LogCursor()
        if self._status_stream:
            try:
                async for status in self._stream(endpoint, request_id):
                    update = _update(status, logs)
                    yield update
                    if update.state == "completed":
                        return
            except RequestUnknownError:
                raise
            except (StudioError, httpx.HTTPError, SSEError, ValueError) as exc:
                log.info("status stream of %s unavailable (%s); polling", request_id, type(exc).__name__)
        while True:
            update = _update(await self._status_json(endpoint, request_id), logs)
            yield update
            if update.state == "completed":
                return
            await asyncio.sleep(self._poll_interval)

    async def _stream(self, endpoint: str, request_id: str) -> AsyncIterator[dict[str, Any]]:
        """fal's statuses as its stream sends them (the URL uses only owner/alias, like fal's own)."""
        app = AppId.from_endpoint_id(endpoint)
        url = f"{QUEUE_URL}/{app.owner}/{app.alias}/requests/{request_id}/status/stream"
        timeout = httpx.Timeout(None, connect=30.0, read=self._stream_idle_seconds)
        async with aconnect_sse(
            self._queue_http(), "GET", url, params={"logs": "1"}, timeout=timeout
        ) as events:
            if events.response.status_code == 404:
                raise RequestUnknownError(request_id)
            events.response.raise_for_status()
            async for event in events.aiter_sse():
                if event.data:
                    yield json.loads(event.data)

    async def _status_json(self, endpoint: str, request_id: str) -> dict[str, Any]:
        """One polled status, as the stream would have sent it."""
        status = await self.status(endpoint, request_id)
        if isinstance(status, fal_client.Queued):
            return {"status": "IN_QUEUE", "queue_position": status.position}
        if isinstance(status, fal_client.Completed):
            return {
                "status": "COMPLETED",
                "logs": status.logs,
                "error": status.error,
                "error_type": status.error_type,
            }
        assert isinstance(status, fal_client.InProgress)
        return {"status": "IN_PROGRESS", "logs": status.logs}

    async def result(self, endpoint: str, request_id: str, *, retry: bool = True) -> dict[str, Any]:
        try:
            return await self._call(lambda: self._client.result(endpoint, request_id), retry=retry)
        except NotFoundError:
            raise RequestUnknownError(request_id) from None

    async def output(self, endpoint: str, request_id: str, update: StatusUpdate) -> FalOutput:
        """The result: its video's URL and its other fields. After a COMPLETED-with-error the result
        endpoint holds the real error (often a 422), so it is fetched once, without retrying, and that
        error is raised."""
        if update.error:
            try:
                await self.result(endpoint, request_id, retry=False)
                error = from_detail(500, update.error, update.error_type)
            except StudioError as exc:
                error = exc
            raise error if isinstance(error, RunCancelledError) else ModelFailedError(error)
        result = await self.result(endpoint, request_id)
        try:
            return FalOutput(str(result["video"]["url"]), {k: v for k, v in result.items() if k != "video"})
        except (KeyError, TypeError, AttributeError):
            raise ModelFailedError(FalServerError("fal finished but returned no video. Try again.")) from None

    async def download(
        self, url: str, dest: Path, *, request_id: str | None = None, completed_at: float | None = None
    ) -> Path:
        """Stream the output to disk at once: fal deletes media after a while, the user's copy stays.

        The file appears at `dest` complete or not at all (renamed into place), with its MP4 header
        first when fal wrote it last (the page plays it sooner: `media/moov_first.py`).
        Retried through 5xx, 429, network errors and a truncated body. A 404/410 from a video younger
        than fal keeps outputs (`completed_at`: when fal said COMPLETED) is a hiccup, retried like
        them; from an older one it means fal's copy expired, which no retry can cure."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        age = (request_id, completed_at)

        async def fetch() -> Path:
            # A blocking client in a thread of its own: on this path (one big body, nothing else to
            # interleave) httpx's sync client moves 35 MB ~0.1 s sooner than its async one. Each attempt
            # writes its own file, and one given up on (a shutdown, a cancel) stops at its next chunk
            # and removes it, so a read stalled on fal's CDN never writes into a later attempt's file.
            for stale in dest.parent.glob(f"{dest.name}.*.part"):  # a crash's, or a given-up attempt's
                stale.unlink(missing_ok=True)
            partial = dest.with_name(f"{dest.name}.{secrets.token_hex(4)}.part")
            stop = threading.Event()
            try:
                laid = await _in_daemon_thread(functools.partial(self._fetch_into, url, partial, stop, age))
            finally:
                stop.set()
            await asyncio.to_thread(_into_place, partial, dest, laid)
            return dest

        return await self._call(fetch, retry=True, retry_on=(*TRANSIENT_ERRORS, OutputNotServedError))

    def _fetch_into(
        self, url: str, partial: Path, stop: threading.Event, age: tuple[str | None, float | None]
    ) -> bool:
        """The whole body of `url` into `partial` (blocking), with its MP4 header first where it can
        be put there as it arrives (True), or the error that says why not."""
        try:
            with (
                httpx.Client(follow_redirects=True, timeout=120, verify=client_tls()) as client,
                client.stream("GET", url) as response,
            ):
                if response.status_code in (404, 410):
                    raise self._missing(*age)
                if response.status_code >= 400:
                    response.read()
                    raise from_detail(response.status_code, None, response.headers.get("x-fal-error-type"))
                expected = int(response.headers.get("content-length") or 0)
                as_sent = "content-encoding" not in response.headers  # else the length is not the file's
                received = 0
                with open(partial, "w+b") as out:
                    writer = MoovFirstWriter(out, expected if as_sent else 0)
                    for chunk in response.iter_bytes(1024 * 1024):
                        if stop.is_set():  # given up: nobody waits for this file
                            break
                        received += len(chunk)
                        writer.write(chunk)
                    complete = not stop.is_set() and received > 0 and not (expected and received < expected)
                    laid = complete and writer.finish()
            if stop.is_set():
                partial.unlink(missing_ok=True)
                return False
            if not complete:
                raise NetworkError("The video from fal arrived incomplete. Fetching it again.")
            return laid
        except BaseException:
            partial.unlink(missing_ok=True)
            raise

    def _missing(self, request_id: str | None, completed_at: float | None) -> StudioError:
        """fal has no video at the URL: expired when it is older than fal keeps outputs, else not yet."""
        age = time.time() - completed_at if completed_at is not None else None
        if age is None or age >= self._lifetimes.outputs:
            return OutputExpiredError(request_id, kept_days=self._lifetimes.outputs / 86400, age_seconds=age)
        return OutputNotServedError(request_id)

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


async def _in_daemon_thread(work: Callable[[], T]) -> T:
    """`work` in a thread of its own that neither the event loop's end nor the process's exit waits
    for (a read stalled on fal's CDN must not hold a shutdown); cancelling the await abandons it."""
    future: concurrent.futures.Future[T] = concurrent.futures.Future()

    def target() -> None:
        if not future.set_running_or_notify_cancel():  # given up before it started
            return
        try:
            future.set_result(work())
        except BaseException as exc:
            future.set_exception(exc)

    threading.Thread(target=target, name="fal-download", daemon=True).start()
    return await asyncio.wrap_future(future)


def _into_place(partial: Path, dest: Path, laid: bool) -> None:
    """The complete download renamed to `dest`; one whose header is still last (it could not be
    placed first as it arrived) is rewritten header first on the way when that helps (a copy in the
    kernel, tens of milliseconds for 35 MB)."""
    staged = partial.with_suffix(".moov")
    if not laid and write_moov_first(partial, staged):
        staged.replace(dest)
        partial.unlink(missing_ok=True)
    else:
        partial.replace(dest)


class _LogCursor:
    """How many of a request's log lines were shown (fal sends all of them with every status)."""

    def __init__(self) -> None:
        self.seen = 0

    def new(self, entries: list[dict[str, Any]] | None) -> tuple[str, ...]:
        lines = [str(entry.get("message", "")) for entry in (entries or [])]
        if len(lines) < self.seen:  # a shorter list: fal started over
            self.seen = 0
        new, self.seen = tuple(lines[self.seen :]), len(lines)
        return new


def _update(status: dict[str, Any], logs: _LogCursor) -> StatusUpdate:
    """A status from the stream or a poll, reduced to what a user sees."""
    state = status.get("status")
    if state == "IN_QUEUE":
        return StatusUpdate("queued", position=status.get("queue_position"))
    if state == "COMPLETED":
        return StatusUpdate(
            "completed", new_logs=logs.new(status.get("logs")), error=status.get("error"),
            error_type=status.get("error_type"),
        )  # fmt: skip
    if state == "IN_PROGRESS":
        return StatusUpdate("running", new_logs=logs.new(status.get("logs")))
    raise ValueError(f"unknown fal status {state!r}")
