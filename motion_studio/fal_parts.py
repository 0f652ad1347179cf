"""fal's multipart storage upload, with each part streamed from disk in small chunks.

fal_client's `AsyncMultipartUpload.save_file` reads one whole part into memory and hands the bytes
to httpx; on the TLS path that part then exists three times (the bytes, the encrypted copy in the
SSL write buffer, the transport's send buffer), so two 8 MB parts in flight cost about 50 MB.
This subclass keeps fal_client's protocol code (create, auth headers, complete) and changes one
thing: a part's body is an async iterator over `CHUNK_BYTES` slices of the file with an explicit
Content-Length, so no layer ever holds more than a chunk of it.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from pathlib import Path

import aiofiles
import aiofiles.os
import httpx
from fal_client.client import AsyncCDNTokenManager, AsyncMultipartUpload, _async_request

CHUNK_BYTES = 512 * 1024  # what one read, one TLS record batch and one socket write hold at most


async def _file_range(path: Path, start: int, length: int) -> AsyncIterator[bytes]:
    """Yield `length` bytes of `path` from `start`, a chunk at a time."""
    async with aiofiles.open(path, "rb") as handle:
        await handle.seek(start)
        left = length
        while left > 0:
            chunk = await handle.read(min(CHUNK_BYTES, left))
            if not chunk:
                raise OSError(f"{path.name} got shorter while it was being uploaded")
            left -= len(chunk)
            yield chunk


class StreamedMultipartUpload(AsyncMultipartUpload):
    """fal_client's multipart upload whose parts stream from disk instead of sitting in memory."""

    async def upload_file_part(self, part_number: int, path: Path, start: int, length: int) -> None:
        url = f"{self.access_url}/multipart/{self.upload_id}/{part_number}"
        headers = {
            **await self.get_auth_headers(),
            "Content-Type": self.content_type,
            "Content-Length": str(length),  # a known length: httpx sends it as is, not chunked
            "Accept-Encoding": "identity",  # fal_client asks for this to get the part's ETag back
        }
        response = await _async_request(
            self._client,
            "PUT",
            url,
            headers=headers,
            content=_file_range(path, start, length),
            timeout=None,
        )
        self._parts.append({"partNumber": part_number, "etag": response.headers["etag"]})

    @classmethod
    async def upload(
        cls,
        *,
        client: httpx.AsyncClient,
        token_manager: AsyncCDNTokenManager,
        path: Path,
        content_type: str,
        part_bytes: int,
        parts_in_flight: int,
    ) -> str:
        """Upload `path` in parts of `part_bytes`, `parts_in_flight` at once; return its URL."""
        size = await aiofiles.os.path.getsize(path)
        upload = cls(
            file_name=path.name,
            client=client,
            token_manager=token_manager,
            chunk_size=part_bytes,
            content_type=content_type,
            max_concurrency=parts_in_flight,
        )
        await upload.create()
        gate = asyncio.Semaphore(parts_in_flight)

        async def send(number: int) -> None:
            start = (number - 1) * part_bytes
            async with gate:
                await upload.upload_file_part(number, path, start, min(part_bytes, size - start))

        await asyncio.gather(*(send(n) for n in range(1, math.ceil(size / part_bytes) + 1)))
        upload._parts.sort(key=lambda part: part["partNumber"])
        return await upload.complete()
