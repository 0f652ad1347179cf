"""A local emulator of fal's queue and storage protocol, spoken over real HTTPS.

The app runs unmodified: `fal_client` (and our downloader) honour `HTTPS_PROXY` and `SSL_CERT_FILE`,
so a small CONNECT proxy sends fal's hosts (queue.fal.run, rest.fal.ai, v3.fal.media) to a local
TLS server whose certificate comes from a throw-away CA (trustme). It follows fal's documented
queue, storage and model schemas.

fal's two published sample inputs (`SAMPLE_IMAGE_URL`, `SAMPLE_VIDEO_URL`, on v3b.fal.media) are
served with stand-in content made at start (a PNG and an H.264 mp4), on the route "sample", so a run
can be given fal-hosted inputs exactly as fal's own example request does.

Timings are settable (`queue_seconds`, `run_seconds`, `hold`), faults are injectable per route with
`fail(route, status, body, times=...)`, and every call is recorded in `calls` so tests can assert on
what reached "fal" (and what did not), with the privacy headers it carried (`Call.headers`).

Lifetimes as fal keeps them: an upload's `X-Fal-Object-Lifecycle` (or `…-Preference`) expiry, and a
request's `X-Fal-Object-Lifecycle-Preference` for its output, are honoured (`expiries`): a file past
its expiry answers 404 and can't be a model's input. `expire(url)` ends one at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import trustme
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from motion_studio.catalog import OPTIONS, TIERS, ModelTier, Option
from motion_studio.media.ffmpeg import ffmpeg_exe

from .media_factory import make_clip, make_image

FAL_HOSTS = (
    "queue.fal.run",
    "rest.fal.ai",
    "v3.fal.media",
    "fal.media",
    "fal.run",
    "queue.falrun.com",
    "falrun.com",
)
# Each endpoint's input schema, made from the studio's catalogue (the one description of what each
# model takes): its fields by fal's names, each option's type, choices, bounds and length.
MODELS = {model.endpoint: model for model in TIERS.values()}
ENDPOINTS = tuple(MODELS)
ELEMENT_FIELDS = {"frontal_image_url", "reference_image_urls"}
VALID_KEY = "emu-key-id:emu-key-secret"
# The headers that say how long fal keeps a file or a request's copy (recorded with each call).
PRIVACY_HEADERS = ("x-fal-object-lifecycle", "x-fal-object-lifecycle-preference", "x-fal-store-io")
# fal's own sample inputs (the model's API page): already on fal's CDN, passed as they are.
SAMPLE_IMAGE_URL = "https://v3b.fal.media/files/b/0a875302/8NaxQrQxDNHppHtqcchMm.png"
SAMPLE_VIDEO_URL = "https://v3b.fal.media/files/b/0a8752bc/2xrNS217ngQ3wzXqA7LXr_output.mp4"
SAMPLE_URLS = (SAMPLE_IMAGE_URL, SAMPLE_VIDEO_URL)
SAMPLE_VIDEO_SECONDS = 5
# What a Wan result says of the prompt it made itself (Wan takes no prompt): made up, as fal's would be.
MADE_UP_PROMPT = "A person dances in a bright room, arms raised, smooth natural motion, steady camera."


@dataclass
class Call:
    method: str
    host: str
    path: str
    query: str
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)  # the privacy headers it carried

    def expiry_seconds(self) -> int | None:
        """The expiry the call asked for (an upload's own, else a request's for its outputs)."""
        for name in ("x-fal-object-lifecycle", "x-fal-object-lifecycle-preference"):
            if name in self.headers:
                return int(json.loads(self.headers[name])["expiration_duration_seconds"])
        return None


@dataclass
class Fault:
    status: int  # TRUNCATE: answer 200 with a Content-Length, send half the body and hang up
    body: Any
    headers: dict[str, str]
    times: int | None  # None: for ever (or for `until`)
    until: float | None = None  # a fault that lasts some seconds rather than some requests

    def active(self) -> bool:
        if self.until is not None and time.time() >= self.until:
            return False
        return self.times is None or self.times > 0


TRUNCATE = -1


@dataclass
class EmuRequest:
    id: str
    endpoint: str
    body: dict[str, Any]
    created: float
    output_expiry: int | None = None  # seconds fal keeps the output (the submit's lifecycle header)
    store_io: bool = True
    cancelled: bool = False
    cancel_calls: int = 0
    status_polls: int = 0
    logs: list[dict[str, Any]] = field(default_factory=list)
    # The seed a model that returns one used when the body gave none: drawn once, so every read of
    # the result says the same.
    seed: int = field(default_factory=lambda: random.randint(0, 2**31 - 1))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FalEmulator:
    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.valid_keys = {VALID_KEY}
        self.queue_seconds = 0.2
        self.run_seconds = 0.4
        self.positions = 3
        self.hold = False  # keep requests IN_PROGRESS until released
        self.network_down = False
        self.output: bytes | None = None  # what the "model" returns; by default the reference clip
        self.calls: list[Call] = []
        self.requests: dict[str, EmuRequest] = {}
        self.upload_bytes_per_second: float | None = None  # a throttled uplink, for the benchmarks
        self._uplink_free_at = 0.0
        self.multipart: dict[str, dict[str, Any]] = {}  # multipart uploads in progress, by upload id
        self.part_sizes: list[int] = []  # the size of every multipart part received
        self.files: dict[str, tuple[bytes, str]] = {}
        self.expiries: dict[str, float] = {}  # path on the fal CDN -> when fal deletes it
        self.initiated: dict[str, Call] = {}  # the fallback storage's initiations, by the file they make
        self.faults: dict[str, Fault] = {}
        self.proxied_hosts: list[str] = []
        self.delays: dict[str, float] = {}  # route -> seconds each answer takes (to stop a test mid-step)
        self.redirects: dict[str, str] = {}  # path on the fal CDN -> where it redirects (302)
        self.gzipped: set[str] = set()  # paths on the fal CDN always sent gzip-compressed
        self.samples: dict[str, tuple[bytes, str]] = {}  # fal's sample URLs -> stand-in content (start)
        self.silenced: dict[str, bytes] = {}  # a source clip's digest -> the clip without its sound
        self._silencing = threading.Lock()  # results read at once strip a clip once, not side by side
        self._tokens: set[str] = set()
        self._lock = threading.Lock()
        self.ca = trustme.CA()
        cert = self.ca.issue_cert(*FAL_HOSTS, "*.fal.media")
        self.ca_path = self.workdir / "fal-emulator-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_path))
        self._cert_path = self.workdir / "fal-emulator-cert.pem"
        cert.private_key_and_cert_chain_pem.write_to_path(str(self._cert_path))
        self.tls_port = _free_port()
        self.proxy_port = _free_port()
        self._server: uvicorn.Server | None = None
        self._proxy_loop: asyncio.AbstractEventLoop | None = None

    # -- control -------------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        """What a process needs in its environment to talk to this emulator instead of fal."""
        proxy = f"http://127.0.0.1:{self.proxy_port}"
        return {
            "HTTPS_PROXY": proxy,
            "https_proxy": proxy,
            "SSL_CERT_FILE": str(self.ca_path),
            "NO_PROXY": "localhost,127.0.0.1",
            "no_proxy": "localhost,127.0.0.1",
        }

    def fail(
        self,
        route: str,
        status: int,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        times: int | None = None,
        seconds: float | None = None,
    ) -> None:
        """Make `route` answer with an error, `times` times or for `seconds` seconds (default: always).

        Routes: token, upload, initiate, put_upload (fal_client's fallback upload), submit, status
        (the polled status and its server-sent-events stream alike),
        result (the *model* fails: COMPLETED with an error, then the error from the result endpoint),
        result_http (the result endpoint itself glitches), cancel, output (the result video's
        download), sample (a GET of one of fal's sample inputs), download (any other file).
        `status=TRUNCATE` sends half a body and hangs up.
        """
        self.faults[route] = Fault(
            status,
            body if body is not None else {"detail": "emulated"},
            headers or {},
            times,
            time.time() + seconds if seconds is not None else None,
        )

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.requests.clear()
            self.faults.clear()
            self.proxied_hosts.clear()
            self.delays.clear()
            self.redirects.clear()
            self.gzipped.clear()
            self.multipart.clear()
            self.part_sizes.clear()
            self.expiries.clear()
        self.hold = False
        self.upload_bytes_per_second = None
        self.network_down = False
        self.output = None
        self.queue_seconds, self.run_seconds = 0.2, 0.4

    def calls_to(self, route: str) -> list[Call]:
        return [c for c in self.calls if _route_of(c) == route]

    def sample_gets(self) -> dict[str, int]:
        """GETs of each of fal's sample URLs since the last reset (0 for one never fetched)."""
        counts = dict.fromkeys(SAMPLE_URLS, 0)
        for call in self.calls_to("sample"):
            if call.method == "GET":
                counts[f"https://{call.host}{call.path}"] += 1
        return counts

    def known_file(self, url: str) -> tuple[bytes, str] | None:
        """What a fal CDN URL serves here (an upload, an output or a sample); None for any other URL,
        and for a file past its expiry."""
        if url in self.samples:
            return self.samples[url]
        parts = urlsplit(url)
        if parts.scheme != "https" or not _on_fal_media(parts.hostname or ""):
            return None
        return self._live(parts.path)

    def _live(self, path: str) -> tuple[bytes, str] | None:
        if path in self.expiries and time.time() >= self.expiries[path]:
            return None
        return self.files.get(path)

    def _keep(self, path: str, data: bytes, content_type: str, call: Call) -> None:
        """Store a file, with the expiry its upload asked for (none: fal's own retention)."""
        self.files[path] = (data, content_type)
        seconds = call.expiry_seconds()
        if seconds is not None:
            self.expiries[path] = time.time() + seconds

    def expire(self, url: str) -> None:
        """fal deletes this file now (as its expiry would)."""
        self.expiries[urlsplit(url).path] = time.time()

    def uploads(self) -> list[Call]:
        """Every call that put a file on fal's storage (one request, a multipart initiation, or the
        fallback's initiation)."""
        return [c for c in self.calls if _route_of(c) in ("upload", "multipart_create", "initiate")]

    def _make_samples(self) -> None:
        """Stand-ins for fal's sample inputs: a person-like PNG, and a short H.264/AAC mp4."""
        folder = self.workdir / "samples"
        folder.mkdir(exist_ok=True)
        image = make_image(folder / "sample-image.png", (576, 1024))
        video = make_clip(folder / "sample-video.mp4", SAMPLE_VIDEO_SECONDS, size=(480, 848), fps=8)
        self.samples = {
            SAMPLE_IMAGE_URL: (image.read_bytes(), "image/png"),
            SAMPLE_VIDEO_URL: (video.read_bytes(), "video/mp4"),
        }

    @property
    def submitted(self) -> list[EmuRequest]:
        return list(self.requests.values())

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> FalEmulator:
        self._make_samples()
        config = uvicorn.Config(
            self._app(),
            host="127.0.0.1",
            port=self.tls_port,
            log_level="warning",
            ssl_certfile=str(self._cert_path),
            ssl_keyfile=str(self._cert_path),
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        threading.Thread(target=self._server.run, name="fal-emulator", daemon=True).start()
        started = threading.Event()
        threading.Thread(target=self._run_proxy, args=(started,), name="fal-proxy", daemon=True).start()
        started.wait(5)
        deadline = time.time() + 10
        while not self._server.started and time.time() < deadline:
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server:
            self._server.should_exit = True
        if self._proxy_loop:
            self._proxy_loop.call_soon_threadsafe(self._proxy_loop.stop)

    # -- the CONNECT proxy ---------------------------------------------------------------------

    def _run_proxy(self, started: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._proxy_loop = loop
        server = loop.run_until_complete(asyncio.start_server(self._tunnel, "127.0.0.1", self.proxy_port))
        started.set()
        try:
            loop.run_forever()
        finally:
            server.close()

    async def _tunnel(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
            host = target.rsplit(":", 1)[0]
            self.proxied_hosts.append(host)
            if (
                method != "CONNECT"
                or (host not in FAL_HOSTS and not _on_fal_media(host))
                or self.network_down
            ):
                writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
                writer.close()
                return
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.tls_port)
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            writer.close()

    # -- the HTTPS app -------------------------------------------------------------------------

    def _app(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self._dispatch, methods=["GET", "POST", "PUT"])])

    async def _dispatch(self, request: Request) -> Response:
        host = request.headers.get("host", "").split(":")[0]
        raw = await request.body()
        body: Any = None
        if raw and request.headers.get("content-type", "").startswith("application/json"):
            body = json.loads(raw)
        kept = {name: request.headers[name] for name in PRIVACY_HEADERS if name in request.headers}
        call = Call(request.method, host, request.url.path, request.url.query, body, kept)
        with self._lock:
            self.calls.append(call)
        route = _route_of(call)
        if self.delays.get(route):
            await asyncio.sleep(self.delays[route])
        # The status stream is the status endpoint's (`{status_url}/stream`): its faults are status's.
        fault = self.faults.get({"result": "result_http", "stream": "status"}.get(route, route))
        if fault is not None and fault.active():
            if fault.times is not None:
                fault.times -= 1
            if fault.status == TRUNCATE and route == "submit":  # fal takes the request; its answer is lost
                answer = await self._on_submit(request, call, raw)
                return self._cut(bytes(answer.body))
            if fault.status == TRUNCATE:
                return await self._truncated(route, call)
            return JSONResponse(
                fault.body, fault.status, headers={"x-fal-request-id": "emu", **fault.headers}
            )
        handler = getattr(self, f"_on_{route}", None)
        if handler is None:
            return JSONResponse({"detail": "Not found"}, 404)
        return await handler(request, call, raw)

    async def _truncated(self, route: str, call: Call) -> Response:
        """A body cut off half way: the declared Content-Length is never reached."""
        served = self.known_file(f"https://{call.host}{call.path}")
        return self._cut((served or (b"x" * 4096, ""))[0])

    @staticmethod
    def _cut(data: bytes) -> Response:
        """Half the body, then the connection breaks (the server fails mid-body), as a dropped
        download looks to the client: whatever the HTTP server would do with a short body."""

        async def half():
            yield data[: len(data) // 2]
            await asyncio.sleep(0.05)  # let the half reach the client first
            raise ConnectionAbortedError("emulated: connection dropped mid-body")

        return StreamingResponse(half(), headers={"content-length": str(len(data))})

    def _auth_error(self, request: Request, scheme: str = "Key") -> Response | None:
        value = request.headers.get("authorization", "")
        if scheme == "Key" and value.removeprefix("Key ") in self.valid_keys:
            return None
        if scheme == "Bearer" and value.removeprefix("Bearer ") in self._tokens:
            return None
        return JSONResponse({"detail": "Invalid API key or token"}, 401)

    async def _on_token(self, request: Request, call: Call, raw: bytes) -> Response:
        if (error := self._auth_error(request)) is not None:
            return error
        token = uuid.uuid4().hex
        self._tokens.add(token)
        expires = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() + 3600))
        return JSONResponse(
            {
                "token": token,
                "token_type": "Bearer",
                "base_url": "https://v3.fal.media",
                "expires_at": expires,
            }
        )

    async def _on_upload(self, request: Request, call: Call, raw: bytes) -> Response:
        await self._uplink(len(raw))
        if (error := self._auth_error(request, "Bearer")) is not None:
            return error
        name = request.headers.get("x-fal-file-name", "upload.bin")
        path = f"/files/{uuid.uuid4().hex[:12]}/{name}"
        self._keep(path, raw, request.headers.get("content-type", "application/octet-stream"), call)
        return JSONResponse({"access_url": f"https://v3.fal.media{path}"})

    async def _uplink(self, size: int) -> None:
        """The time `size` bytes take on the throttled uplink (the body has arrived already). One
        uplink for all uploads: parallel uploads share it, as they would on a real connection."""
        if self.upload_bytes_per_second:
            with self._lock:
                start = max(time.time(), self._uplink_free_at)
                self._uplink_free_at = done = start + size / self.upload_bytes_per_second
            await asyncio.sleep(max(0.0, done - time.time()))

    async def _on_multipart_create(self, request: Request, call: Call, raw: bytes) -> Response:
        """fal's multipart storage protocol (what fal_client speaks for big files): create, parts, complete."""
        if (error := self._auth_error(request, "Bearer")) is not None:
            return error
        ident = uuid.uuid4().hex[:12]
        name = request.headers.get("x-fal-file-name", "upload.bin")
        self.multipart[ident] = {"path": f"/files/{ident}/{name}", "parts": {}, "created_by": call}
        self.multipart[ident]["type"] = request.headers.get("content-type", "application/octet-stream")
        return JSONResponse({"access_url": f"https://v3.fal.media/files/{ident}/{name}", "uploadId": ident})

    async def _on_multipart_part(self, request: Request, call: Call, raw: bytes) -> Response:
        await self._uplink(len(raw))
        if (error := self._auth_error(request, "Bearer")) is not None:
            return error
        if "content-length" not in request.headers:  # like object stores: a part's size is declared
            return JSONResponse({"detail": "MissingContentLength"}, 411)
        upload_id, number = call.path.split("/multipart/")[1].split("/")[:2]
        self.multipart[upload_id]["parts"][int(number)] = raw
        self.part_sizes.append(len(raw))
        return Response(status_code=200, headers={"etag": f'"{upload_id}-{number}"'})

    async def _on_multipart_complete(self, request: Request, call: Call, raw: bytes) -> Response:
        if (error := self._auth_error(request, "Bearer")) is not None:
            return error
        upload = self.multipart[call.path.split("/multipart/")[1].split("/")[0]]
        numbers = [part["partNumber"] for part in (call.body or {}).get("parts", [])]
        if sorted(numbers) != sorted(upload["parts"]):
            return JSONResponse({"detail": "parts do not match"}, 400)
        data = b"".join(upload["parts"][n] for n in sorted(upload["parts"]))
        self._keep(upload["path"], data, upload["type"], upload["created_by"])
        return JSONResponse({"access_url": f"https://v3.fal.media{upload['path']}"})

    async def _on_initiate(self, request: Request, call: Call, raw: bytes) -> Response:
        if (error := self._auth_error(request)) is not None:
            return error
        ident = uuid.uuid4().hex[:12]
        name = (call.body or {}).get("file_name", "upload.bin")
        self.initiated[f"/files/{ident}/{name}"] = call
        return JSONResponse(
            {
                "upload_url": f"https://v3.fal.media/gcs-upload/{ident}/{name}",
                "file_url": f"https://v3.fal.media/files/{ident}/{name}",
            }
        )

    async def _on_put_upload(self, request: Request, call: Call, raw: bytes) -> Response:
        await self._uplink(len(raw))
        path = call.path.replace("/gcs-upload/", "/files/")
        self._keep(path, raw, request.headers.get("content-type", ""), self.initiated.get(path, call))
        return Response(status_code=200)

    async def _on_sample(self, request: Request, call: Call, raw: bytes) -> Response:
        data, content_type = self.samples[f"https://{call.host}{call.path}"]
        return Response(data, media_type=content_type)

    async def _on_output(self, request: Request, call: Call, raw: bytes) -> Response:
        return await self._on_download(request, call, raw)

    async def _on_download(self, request: Request, call: Call, raw: bytes) -> Response:
        if call.path in self.redirects:
            return Response(status_code=302, headers={"location": self.redirects[call.path]})
        served = self._live(call.path)
        if served is None:
            return JSONResponse({"detail": "Not found"}, 404)
        data, content_type = served
        if call.path in self.gzipped:  # sent compressed whatever the client asked
            import gzip

            return Response(
                gzip.compress(data), media_type=content_type, headers={"content-encoding": "gzip"}
            )
        return Response(data, media_type=content_type)

    async def _on_submit(self, request: Request, call: Call, raw: bytes) -> Response:
        if (error := self._auth_error(request)) is not None:
            return error
        endpoint = call.path.strip("/")
        if endpoint not in ENDPOINTS:
            return JSONResponse({"detail": f"Application '{endpoint}' not found"}, 404)
        problems = _validate(call.body, self.known_file, MODELS[endpoint])
        if problems:
            return JSONResponse({"detail": problems}, 422)
        rid = str(uuid.uuid4())
        self.requests[rid] = EmuRequest(
            rid,
            endpoint,
            call.body,
            time.time(),
            output_expiry=call.expiry_seconds(),
            store_io=call.headers.get("x-fal-store-io") != "0",
        )
        base = f"https://queue.fal.run/fal-ai/kling-video/requests/{rid}"
        return JSONResponse(
            {
                "request_id": rid,
                "response_url": base,
                "status_url": base + "/status",
                "cancel_url": base + "/cancel",
                "queue_position": self.positions - 1,
            },
            headers={"x-fal-request-id": rid},
        )

    def _authorised_request(self, request: Request, call: Call) -> EmuRequest | Response:
        """The queue request a status/result/cancel URL names, or fal's 404 / 401 answer."""
        parts = call.path.strip("/").split("/")
        req = self.requests.get(parts[3]) if len(parts) >= 4 else None
        if req is None:
            return JSONResponse({"detail": "Request not found"}, 404)
        return self._auth_error(request) or req

    def _state(self, req: EmuRequest, with_logs: bool) -> tuple[dict[str, Any], bool]:
        """The request's status as fal reports it at this instant, and whether it is complete."""
        elapsed = time.time() - req.created
        base = {
            "request_id": req.id,
            "response_url": f"https://queue.fal.run/fal-ai/kling-video/requests/{req.id}",
        }
        if req.cancelled:
            return {
                **base,
                "status": "COMPLETED",
                "logs": [],
                "metrics": {},
                "error": "Request was cancelled",
                "error_type": "client_cancelled",
            }, True
        if elapsed < self.queue_seconds:
            position = max(0, int((self.positions - 1) * (1 - elapsed / self.queue_seconds)))
            return {**base, "status": "IN_QUEUE", "queue_position": position, "logs": None}, False
        running = elapsed - self.queue_seconds
        steps = int(min(running, self.run_seconds) / self.run_seconds * 4) if self.run_seconds else 4
        while len(req.logs) < min(steps, 3) + 1:
            req.logs.append(
                {
                    "message": f"Generating frames: step {len(req.logs) + 1}",
                    "level": "INFO",
                    "source": "user",
                    "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S"),
                }
            )
        logs = list(req.logs) if with_logs else None
        if self.hold or running < self.run_seconds:
            return {**base, "status": "IN_PROGRESS", "logs": logs}, False
        status: dict[str, Any] = {
            **base,
            "status": "COMPLETED",
            "logs": logs,
            "metrics": {"inference_time": running},
        }
        fault = self.faults.get("result")
        if fault is not None:
            status["error"] = (
                json.dumps(fault.body.get("detail")) if isinstance(fault.body, dict) else "error"
            )
            status["error_type"] = (fault.body or {}).get("error_type") or "validation_error"
        elif len(req.body.get("prompt") or "") > 2500:
            status["error"], status["error_type"] = "prompt too long", "validation_error"
        return status, True

    async def _on_status(self, request: Request, call: Call, raw: bytes) -> Response:
        req = self._authorised_request(request, call)
        if isinstance(req, Response):
            return req
        req.status_polls += 1
        status, complete = self._state(req, request.query_params.get("logs") in ("1", "true", "True"))
        return JSONResponse(status, 200 if complete else 202, headers={"x-fal-request-id": req.id})

    async def _on_stream(self, request: Request, call: Call, raw: bytes) -> Response:
        req = self._authorised_request(request, call)
        if isinstance(req, Response):
            return req

        async def events():
            while req.id in self.requests:  # a request fal forgets ends its stream
                req.status_polls += 1  # each event is a status read, as a poll is
                status, complete = self._state(req, True)
                yield f"data: {json.dumps(status)}\n\n"
                if complete:
                    return
                await asyncio.sleep(0.05)

        return StreamingResponse(events(), media_type="text/event-stream")

    async def _on_result(self, request: Request, call: Call, raw: bytes) -> Response:
        req = self._authorised_request(request, call)
        if isinstance(req, Response):
            return req
        _status, complete = self._state(req, False)
        if not complete:
            return JSONResponse({"detail": "Request is still in progress"}, 400)
        fault = self.faults.get("result")  # a result fault is the model failing: seen once complete
        if fault is not None:
            return JSONResponse(
                fault.body, fault.status, headers={"x-fal-request-id": req.id, **fault.headers}
            )
        if req.cancelled:
            return JSONResponse(
                {"detail": "Request was cancelled", "error_type": "client_cancelled"},
                499,
                headers={"x-fal-error-type": "client_cancelled"},
            )
        if len(req.body.get("prompt") or "") > 2500:
            return JSONResponse(
                {
                    "detail": [
                        {
                            "loc": ["body", "prompt"],
                            "msg": "String should have at most 2500 characters",
                            "type": "string_too_long",
                        }
                    ]
                },
                422,
            )
        model = MODELS[req.endpoint]
        data = self.output
        if data is None:  # the model's video: the reference clip, as each model gives it back
            source = (self.known_file(req.body["video_url"]) or (b"", ""))[0]
            data = await asyncio.to_thread(self._silent, source) if "keep_sound" in model.local else source
        path = f"/files/output/{req.id}/output.mp4"
        if req.output_expiry is not None and path not in self.expiries:  # counted from its first read
            self.expiries[path] = time.time() + req.output_expiry
        self.files[path] = (data, "video/mp4")
        video = {
            "url": f"https://v3.fal.media{path}",
            "content_type": "video/mp4",
            "file_name": "output.mp4",
            "file_size": len(data),
        }
        return JSONResponse({"video": video, **_returned(model, req)}, headers={"x-fal-request-id": req.id})

    def _silent(self, clip: bytes) -> bytes:
        """The clip without its sound, as a model whose output has none (Wan, DreamActor: the studio
        keeps the clip's sound itself) gives it back; stripped once per clip."""
        digest = hashlib.sha256(clip).hexdigest()
        with self._silencing:
            if digest not in self.silenced:
                self.silenced[digest] = self._strip_sound(clip, digest)
        return self.silenced[digest]

    def _strip_sound(self, clip: bytes, digest: str) -> bytes:
        folder = self.workdir / "silenced"
        folder.mkdir(exist_ok=True)
        given, silent = folder / f"{digest}-in.mp4", folder / f"{digest}.mp4"
        given.write_bytes(clip)
        cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(given)]
        cmd += ["-map", "0:v:0", "-c:v", "copy", "-an", "-movflags", "+faststart", str(silent)]
        subprocess.run(cmd, check=True, capture_output=True, stdin=subprocess.DEVNULL, timeout=60)
        given.unlink()
        return silent.read_bytes()

    async def _on_cancel(self, request: Request, call: Call, raw: bytes) -> Response:
        req = self._authorised_request(request, call)
        if isinstance(req, Response):
            return req
        req.cancel_calls += 1
        _, complete = self._state(req, False)
        if complete and not req.cancelled:
            return JSONResponse({"status": "ALREADY_COMPLETED"}, 400)
        req.cancelled = True
        return JSONResponse({"status": "CANCELLATION_REQUESTED"}, 202)


def _returned(model: ModelTier, req: EmuRequest) -> dict[str, Any]:
    """What a model's result carries besides the video (`ModelTier.returns`): Wan's prompt, which it
    makes itself, and the seed it used (the body's, else one of its own)."""
    made = {"prompt": MADE_UP_PROMPT, "seed": req.body.get("seed", req.seed)}
    return {name: made[name] for name in model.returns}


def _route_of(call: Call) -> str:
    host, path, method = call.host, call.path, call.method
    if host == "rest.fal.ai":
        if path.startswith("/storage/auth/token"):
            return "token"
        if path.startswith("/storage/upload/initiate"):
            return "initiate"
        return "unknown"
    if _on_fal_media(host):
        if method == "GET" and f"https://{host}{path}" in SAMPLE_URLS:
            return "sample"
        if method == "POST" and path == "/files/upload":
            return "upload"
        if method == "POST" and path == "/files/upload/multipart":
            return "multipart_create"
        if "/multipart/" in path and method == "PUT":
            return "multipart_part"
        if "/multipart/" in path and method == "POST" and path.endswith("/complete"):
            return "multipart_complete"
        if method == "PUT" and path.startswith("/gcs-upload/"):
            return "put_upload"
        return "output" if path.startswith("/files/output/") else "download"
    if host in ("queue.fal.run", "queue.falrun.com"):
        if "/requests/" in path:
            if path.endswith("/status/stream"):
                return "stream"
            if path.endswith("/status"):
                return "status"
            if path.endswith("/cancel"):
                return "cancel"
            return "result"
        return "submit"
    return "unknown"


def _on_fal_media(host: str) -> bool:
    return host == "fal.media" or host.endswith(".fal.media")


def _fal_media_url(value: object) -> bool:
    try:
        return isinstance(value, str) and _on_fal_media(urlsplit(value).hostname or "")
    except ValueError:
        return False


def _validate(body: Any, known: Callable[[str], object] | None, model: ModelTier) -> list[dict[str, Any]]:
    """The model's input schema on fal, strictly: a field the model does not have is an error here. v3
    adds `elements`: at most one element, with an optional `frontal_image_url` and at most 3
    `reference_image_urls`, and only with orientation `video`.

    With `known`, an input URL on fal's CDN must name a file the emulator has (an upload or one of
    fal's samples): a mangled or invented fal URL is refused, as fal could not fetch it. An element's
    URLs must be such files, whatever their host. Other values are left alone (the model, not the
    schema, would fail on them)."""
    if not isinstance(body, dict):
        return [{"loc": ["body"], "msg": "Input should be an object", "type": "model_type"}]
    problems = []
    for name in ("image_url", "video_url"):
        if not isinstance(body.get(name), str):
            problems.append({"loc": ["body", name], "msg": "Field required", "type": "missing"})
    for option in (OPTIONS[name] for name in model.options):
        if option.fal in body:
            problems += _field_problems(option, body[option.fal])
    for name in ("image_url", "video_url"):
        value = body.get(name)
        if known is not None and _fal_media_url(value) and known(value) is None:
            problems.append(
                {
                    "loc": ["body", name],
                    "msg": "File could not be downloaded from the given URL",
                    "type": "file_download_error",
                    "input": value,
                }
            )
    if model.face_binding and "elements" in body:
        problems += _validate_elements(body["elements"], body.get("character_orientation"), known)
    for name in set(body) - model.fal_fields():
        problems.append(
            {"loc": ["body", name], "msg": "Extra inputs are not permitted", "type": "extra_forbidden"}
        )
    return problems


def _field_problems(option: Option, value: Any) -> list[dict[str, Any]]:
    """One field against its description: its type, its choices, its bounds, its length."""
    loc = ["body", option.fal]
    kinds = {bool: (bool,), int: (int,), float: (int, float), str: (str,)}[option.kind]
    if not isinstance(value, kinds) or (option.kind is not bool and isinstance(value, bool)):
        return [{"loc": loc, "msg": f"Input should be a valid {option.kind.__name__}", "type": "type_error"}]
    if option.choices and value not in option.choice_values:
        choices = " or ".join(f"'{v}'" for v in option.choice_values)
        return [{"loc": loc, "msg": f"Input should be {choices}", "type": "literal_error"}]
    low, high = option.minimum, option.maximum
    if (low is not None and value < low) or (high is not None and value > high):
        return [{"loc": loc, "msg": "Input is out of range", "type": "range_error"}]
    if option.max_chars is not None and len(value) > option.max_chars:
        return [
            {
                "loc": loc,
                "msg": f"String should have at most {option.max_chars} characters",
                "type": "string_too_long",
            }
        ]
    return []


def _validate_elements(
    elements: Any, orientation: Any, known: Callable[[str], object] | None
) -> list[dict[str, Any]]:
    """v3's `elements` (fal's v3 schema): a list of at most one element, each URL one fal can fetch."""
    loc = ["body", "elements"]
    if not isinstance(elements, list):
        return [{"loc": loc, "msg": "Input should be a valid list", "type": "list_type"}]
    problems: list[dict[str, Any]] = []
    if len(elements) > 1:
        problems.append({"loc": loc, "msg": "List should have at most 1 item", "type": "too_long"})
    if elements and orientation != "video":
        problems.append(
            {
                "loc": loc,
                "msg": "Elements are only supported when character_orientation is 'video'",
                "type": "value_error",
            }
        )
    for index, element in enumerate(elements):
        where = [*loc, index]
        if not isinstance(element, dict):
            problems.append({"loc": where, "msg": "Input should be an object", "type": "model_type"})
            continue
        for name in set(element) - ELEMENT_FIELDS:
            problems.append(
                {"loc": [*where, name], "msg": "Extra inputs are not permitted", "type": "extra_forbidden"}
            )
        urls: list[tuple[list[Any], Any]] = []
        if "frontal_image_url" in element:
            urls.append(([*where, "frontal_image_url"], element["frontal_image_url"]))
        references = element.get("reference_image_urls", [])
        if not isinstance(references, list):
            problems.append(
                {
                    "loc": [*where, "reference_image_urls"],
                    "msg": "Input should be a valid list",
                    "type": "list_type",
                }
            )
            references = []
        elif len(references) > 3:
            problems.append(
                {
                    "loc": [*where, "reference_image_urls"],
                    "msg": "List should have at most 3 items",
                    "type": "too_long",
                }
            )
        urls += [([*where, "reference_image_urls", i], url) for i, url in enumerate(references)]
        for at, url in urls:
            if not isinstance(url, str):
                problems.append({"loc": at, "msg": "Input should be a valid string", "type": "string_type"})
            elif known is not None and known(url) is None:
                problems.append(
                    {
                        "loc": at,
                        "msg": "File could not be downloaded from the given URL",
                        "type": "file_download_error",
                        "input": url,
                    }
                )
    return problems


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


def main() -> None:
    """`python -m tests.fal_emulator`: run it by hand and print the environment to point the app at it."""
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument(
        "--queue-seconds", type=float, default=5.0, help="time each request waits in the queue"
    )
    parser.add_argument("--run-seconds", type=float, default=20.0, help="time each request 'generates'")
    args = parser.parse_args()
    emulator = FalEmulator(Path(tempfile.mkdtemp(prefix="fal-emu-")))
    emulator.queue_seconds, emulator.run_seconds = args.queue_seconds, args.run_seconds
    emulator.start()
    for name, value in emulator.env().items():
        print(f"export {name}={value}")
    print(f"export FAL_KEY={VALID_KEY}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        emulator.stop()


if __name__ == "__main__":
    main()
