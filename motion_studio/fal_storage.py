"""Sending files to fal's storage: once per content, streamed from disk, never whole in memory.

fal_client reads a file under 100 MB whole into memory before sending it, and on the TLS path that
file then exists three times (the bytes, the encrypted copy in the SSL write buffer, the transport's
send buffer): fifty runs with 8 MB clips took 0.8 GB. Its multipart upload, kept for bigger files,
still reads one whole part at a time. Here every request body is a `FileRange`, read from disk a
`CHUNK_BYTES` slice at a time with its length declared, so no layer holds more than a chunk of it:

- up to one part's size: one request to fal's CDN (`POST {CDN_URL}/files/upload`, as fal_client);
- bigger: fal's multipart protocol, with fal_client's own code for everything but the part bodies.

Each content is sent once: the URL is kept in the history by the file's SHA-256 (itself remembered
by path, size and modification time, so a file already hashed is not read again), and a second
upload of bytes still on their way waits for the first (`_Flight`). Every upload carries its expiry
(`Lifetimes`), and the cache keeps when each URL expires: a URL that would be gone before fal could
fetch it is never handed out again; the file is sent anew.
"""

from __future__ import annotations

import asyncio
import logging
import math
import mimetypes
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiofiles
import aiofiles.os
import anyio.to_thread
import fal_client
import httpx
from fal_client.client import (
    CDN_URL,
    USER_AGENT,
    AsyncCDNTokenManager,
    AsyncMultipartUpload,
    _async_maybe_retry_request,
    _async_request,
)

from .errors import map_exception
from .fal_lifetimes import Lifetimes
from .history.store import History
from .media.memo import file_sha256
from .tls import client_tls

log = logging.getLogger("motion_studio.fal")
CHUNK_BYTES = 512 * 1024  # what one read, one TLS record batch and one socket write hold at most
PARTS_IN_FLIGHT = 2  # parts sent at once


class FileRange:
    """`length` bytes of a file from `start`, as a request body: each iteration reads them from disk
    again, a chunk at a time, so a retried request sends the same bytes without holding them."""

    def __init__(self, path: Path, start: int, length: int) -> None:
        self.path, self.start, self.length = path, start, length

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        async with aiofiles.open(self.path, "rb") as handle:
            await handle.seek(self.start)
            left = self.length
            while left > 0:
                chunk = await handle.read(min(CHUNK_BYTES, left))
                if not chunk:
                    raise OSError(f"{self.path.name} got shorter while it was being uploaded")
                left -= len(chunk)
                yield chunk


class StreamedMultipartUpload(AsyncMultipartUpload):
    """fal_client's multipart upload whose parts stream from disk instead of sitting in memory."""

    async def upload_file_part(self, number: int, body: FileRange) -> None:
        url = f"{self.access_url}/multipart/{self.upload_id}/{number}"
        headers = {
            **await self.get_auth_headers(),
            "Content-Type": self.content_type,
            "Content-Length": str(body.length),  # declared: httpx sends it as is, not chunked
            "Accept-Encoding": "identity",  # fal_client asks for this to get the part's ETag back
        }
        response = await _async_request(self._client, "PUT", url, headers=headers, content=body, timeout=None)
        self._parts.append({"partNumber": number, "etag": response.headers["etag"]})

    @classmethod
    async def send(
        cls,
        client: httpx.AsyncClient,
        tokens: AsyncCDNTokenManager,
        path: Path,
        content_type: str,
        part: int,
        lifecycle: dict[str, int],
    ) -> str:
        """Upload `path` in parts of `part` bytes, `PARTS_IN_FLIGHT` at once; return its URL. The
        expiry goes with the initiation (fal_client's own header)."""
        size = await aiofiles.os.path.getsize(path)
        upload = cls(
            file_name=path.name,
            client=client,
            token_manager=tokens,
            chunk_size=part,
            content_type=content_type,
            max_concurrency=PARTS_IN_FLIGHT,
        )
        await upload.create(object_lifecycle_preference=lifecycle)
        gate = asyncio.Semaphore(PARTS_IN_FLIGHT)

        async def one(number: int) -> None:
            start = (number - 1) * part
            async with gate:
                await upload.upload_file_part(number, FileRange(path, start, min(part, size - start)))

        await asyncio.gather(*(one(n) for n in range(1, math.ceil(size / part) + 1)))
        upload._parts.sort(key=lambda entry: entry["partNumber"])
        return await upload.complete()


async def send_whole(
    client: httpx.AsyncClient,
    tokens: AsyncCDNTokenManager,
    path: Path,
    content_type: str,
    lifetimes: Lifetimes,
) -> str:
    """One request to fal's CDN, as fal_client's `upload_file` makes it, with the body streamed (and
    retried by fal_client's own rules: each try reads the file again)."""
    token = await tokens.get_token()
    size = await aiofiles.os.path.getsize(path)
    headers = {
        "Authorization": f"{token.token_type} {token.token}",
        "Content-Type": content_type,
        "Content-Length": str(size),
        "X-Fal-File-Name": path.name,
        **lifetimes.upload_headers(),
    }
    response = await _async_maybe_retry_request(
        client, "POST", f"{CDN_URL}/files/upload", content=FileRange(path, 0, size), headers=headers
    )
    return str(response.json()["access_url"])


@dataclass
class _Flight:
    """An upload on its way and how many callers wait for it. It goes on while anyone waits (a run
    that needs the bytes an upload ahead is sending); when the last one gives up (a changed input
    abandons its upload ahead), it stops, and nothing more is sent."""

    task: asyncio.Future[str]
    waiters: int = 0

    async def wait(self) -> str:
        self.waiters += 1
        try:
            return await asyncio.shield(self.task)
        finally:
            self.waiters -= 1
            if self.waiters == 0 and not self.task.done():
                self.task.cancel()


_IN_FLIGHT: dict[str, _Flight] = {}  # uploads on their way, by content hash


class Storage:
    """One key's uploads. `call` runs a fal call and maps its failure (FalService's error rules)."""

    def __init__(
        self,
        client: fal_client.AsyncClient,
        history: History,
        call: Callable[[Callable[[], Awaitable[str]]], Awaitable[str]],
        *,
        cache_seconds: float,
        part_bytes: int,
        lifetimes: Lifetimes,
        alive_for: float,
    ) -> None:
        """`alive_for`: how long a cached URL must still live to be reused (fal fetches a run's inputs
        when it starts the run, which may be that long after the submit)."""
        self._client = client
        self._history = history
        self._call = call
        self._cache_seconds = cache_seconds
        self._part_bytes = part_bytes
        self._lifetimes = lifetimes
        self._alive_for = alive_for

    async def upload(self, path: Path) -> str:
        """Upload once per content: the same file picked again reuses the URL fal already has, and
        an upload of the same bytes still in flight (an upload ahead) is waited for, not repeated."""
        sha = await anyio.to_thread.run_sync(file_sha256, path)
        cached = await anyio.to_thread.run_sync(
            lambda: self._history.uploads.cached_upload(sha, self._cache_seconds, alive_for=self._alive_for)
        )
        if cached:
            return cached
        flight = _IN_FLIGHT.get(sha)
        if flight is not None and flight.task.get_loop() is asyncio.get_running_loop():
            try:
                return await flight.wait()
            except BaseException:
                if not flight.task.done():
                    raise  # this upload was cancelled itself, not the one it waited for
                # That one failed or was abandoned: join the new try another waiter started, or start it.
                again = _IN_FLIGHT.get(sha)
                if (
                    again is not None
                    and again is not flight
                    and again.task.get_loop() is flight.task.get_loop()
                ):
                    return await again.wait()
        flight = _Flight(asyncio.ensure_future(self._send(path, sha)))
        _IN_FLIGHT[sha] = flight
        return await flight.wait()

    async def _send(self, path: Path, sha: str) -> str:
        try:
            sent_at = time.time()  # the expiry counts from fal's receipt: from before the send, to be safe
            url = await self._call(lambda: self._stream(path))
            expires_at = sent_at + self._lifetimes.inputs
            # a commit: off the loop
            await anyio.to_thread.run_sync(
                lambda: self._history.uploads.remember_upload(sha, url, expires_at=expires_at)
            )
            return url
        finally:
            flight = _IN_FLIGHT.get(sha)
            if flight is not None and flight.task is asyncio.current_task():
                del _IN_FLIGHT[sha]

    async def _stream(self, path: Path) -> str:
        """Parts over `part_bytes`, else one request; when fal's CDN refuses that one, fal_client's
        fallback storage (as its `upload_file` does; that path reads the file whole, a rare one).
        (fal_client's token manager is a private attribute of its pinned version; the tests run this
        against the emulator of fal's storage protocol.)"""
        tokens = await self._client._token_manager
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        headers, timeout = {"User-Agent": USER_AGENT}, self._client.default_timeout
        async with httpx.AsyncClient(headers=headers, timeout=timeout, verify=client_tls()) as http:
            if await aiofiles.os.path.getsize(path) > self._part_bytes:
                return await StreamedMultipartUpload.send(
                    http, tokens, path, content_type, self._part_bytes, self._lifetimes.upload_lifecycle()
                )
            try:
                return await send_whole(http, tokens, path, content_type, self._lifetimes)
            except Exception as exc:
                log.warning(
                    "The upload to fal's CDN failed: %s Trying fal's other storage.",
                    map_exception(exc).message,
                )
        return await self._client.upload_file(
            path, repository="fal", fallback_repository=[], lifecycle=self._lifetimes.storage_settings()
        )
