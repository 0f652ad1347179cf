"""Inputs given as URLs, fetched so that a URL can never make the server reach inside its own network.

On a public Space the server, not the visitor, fetches the URL. So the host is resolved once (a name
that does not resolve is refused: fail closed), every address it resolves to must be public, the
connection goes to the address that was checked (no second lookup a DNS trick could answer
differently), and every redirect hop is checked the same way. When an egress proxy is configured for
the URL's scheme, the proxy resolves and connects: then names are passed to it and only addresses
written in the URL itself are checked.

The connection pinning is safehttpx's (which ships with Gradio): its `AsyncSecureTransport` idea in a
synchronous transport, with a stricter notion of "public" (safehttpx lets CGNAT and IPv4-mapped IPv6
through, and asks Google's DNS when the local resolver has no public answer).
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import os
import socket
import tempfile
import time
import urllib.request
from collections.abc import Collection, Iterable
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx

from .catalog import LIMITS
from .errors import UrlError

MAX_REDIRECTS = 5
DEADLINE_SECONDS = 120.0  # a whole download: a server trickling bytes can't hold a worker for ever
TIMEOUT = httpx.Timeout(15.0)
_URL_SUFFIXES = {
    "image": (".jpg", ".jpeg", ".png", ".webp", ".gif"),
    "video": (".mp4", ".mov", ".webm", ".mkv"),
}


def is_public(address: str) -> bool:
    """A globally routable unicast address: not loopback, private, link-local, CGNAT, multicast,
    reserved or unspecified, also when written as IPv4-mapped IPv6."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            return is_public(str(embedded))
        if any(ip in net for net in _NOT_PUBLIC_V6):
            return False
    elif any(ip in net for net in _NOT_PUBLIC_V4):
        return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


# Ranges some Python versions still call global (fixed in later releases: CVE-2024-4032).
_NOT_PUBLIC_V4 = [ipaddress.IPv4Network("192.0.0.0/24"), ipaddress.IPv4Network("100.64.0.0/10")]
_NOT_PUBLIC_V6 = [
    ipaddress.IPv6Network("fec0::/10"),
    ipaddress.IPv6Network("64:ff9b::/96"),
    ipaddress.IPv6Network("64:ff9b:1::/48"),
]


def public_address(host: str) -> str:
    """Resolve `host` once; refuse it unless every address it has is public (fail closed)."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise UrlError.unknown_host(host) from None
    addresses = [str(info[4][0]) for info in infos]
    if not addresses or not all(is_public(a) for a in addresses):
        raise UrlError.inside()
    return addresses[0]


class _PinnedTransport(httpx.HTTPTransport):
    """Connects to the address that was checked, while TLS and the Host header keep the name."""

    def __init__(self, address: str) -> None:
        super().__init__()  # (a transport reads only SSL_CERT_FILE from the environment, no proxies)
        self._address = address

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        request.url = request.url.copy_with(host=self._address)
        request.headers["Host"] = host if request.url.port is None else f"{host}:{request.url.port}"
        request.extensions = {**request.extensions, "sni_hostname": host}
        return super().handle_request(request)


def _address_literal(host: str) -> str | None:
    """The address a host written as one stands for, odd IPv4 spellings too (`127.1`, `0x7f.1`,
    `2130706433`), as the C library reads them; None for a name."""
    with contextlib.suppress(ValueError):
        return str(ipaddress.ip_address(host.strip("[]")))
    with contextlib.suppress(OSError):
        return socket.inet_ntoa(socket.inet_aton(host))
    return None


def _proxy_for(url: httpx.URL) -> str | None:
    """The egress proxy for this URL, decided once here (and used as decided, never again by httpx)."""
    proxies = urllib.request.getproxies_environment()
    bypass = urllib.request.proxy_bypass_environment(url.host)  # type: ignore[attr-defined]
    return None if url.scheme not in proxies or bypass else proxies[url.scheme]


def _inside_by_name(name: str) -> bool:
    """Behind a proxy: a name we can tell points inside (an address, localhost, or a name that
    resolves here to a non-public address); a name unknown here is the proxy's to resolve."""
    literal = _address_literal(name)
    if literal is not None:
        return not is_public(literal)
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        infos = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        return False
    return not all(is_public(str(info[4][0])) for info in infos)


def _client_for(url: httpx.URL) -> httpx.Client:
    if url.scheme not in ("http", "https") or not url.host:
        raise UrlError.not_http()
    proxy = _proxy_for(url)
    if proxy is not None:  # the egress proxy resolves names; what can be seen from here is checked
        if _inside_by_name(url.host.lower().rstrip(".")):
            raise UrlError.inside()
        return httpx.Client(timeout=TIMEOUT, proxy=proxy)  # this proxy: httpx doesn't choose again
    return httpx.Client(timeout=TIMEOUT, transport=_PinnedTransport(public_address(url.host)))


def fetch_url(url: str, kind: str, dest_dir: Path) -> Path:
    """Download an input into `dest_dir` (once per URL), at most fal's own size limit; the name is a
    hash, so a URL cannot choose where it is written. Each download has a temporary file of its own,
    so two fetches of one URL at once both succeed."""
    url = (url or "").strip()
    try:
        start = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        raise UrlError.malformed() from None
    path_suffix = Path(start.path).suffix.lower()
    suffix = path_suffix if path_suffix in _URL_SUFFIXES[kind] else _URL_SUFFIXES[kind][0]
    target = dest_dir / (hashlib.sha256(url.encode()).hexdigest()[:24] + suffix)
    if target.exists():
        return target
    dest_dir.mkdir(parents=True, exist_ok=True)
    limit = LIMITS.video_max_bytes if kind == "video" else 4 * LIMITS.image_max_bytes
    handle, partial = tempfile.mkstemp(dir=dest_dir, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            _download(start, out, kind, limit)
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return target


def _download(url: httpx.URL, out: object, kind: str, limit: int) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    for _ in range(MAX_REDIRECTS + 1):
        with _client_for(url) as client:
            try:
                # No compression: a few compressed bytes could expand past any cap before it is checked.
                with client.stream("GET", url, headers={"Accept-Encoding": "identity"}) as response:
                    if response.is_redirect:
                        url = httpx.URL(urljoin(str(url), response.headers.get("location", "")))
                        continue
                    response.raise_for_status()
                    if response.headers.get("content-encoding", "identity").lower() not in ("", "identity"):
                        raise UrlError.compressed(kind)
                    size = 0
                    for chunk in response.iter_raw(1024 * 1024):
                        size += len(chunk)
                        if size > limit:
                            raise UrlError.too_large(kind, limit // 2**20)
                        if time.monotonic() > deadline:
                            raise UrlError.too_slow(kind)
                        out.write(chunk)  # type: ignore[attr-defined]
                    return
            except httpx.HTTPError:
                raise UrlError.failed(kind) from None
    raise UrlError.redirects()


def on_fal_cdn(url: str, hosts: Iterable[str]) -> bool:
    """Whether `url` is a file on fal's own CDN (`hosts` and their subdomains), so fal can fetch it
    itself and uploading our byte-identical copy again would only cost time.

    Strict on purpose (anything odd is simply uploaded, which is always safe): https only, no
    user-info, no port other than 443, and the host must be one of `hosts` or end in "." + one of
    them, so `fal.media.evil.com` and `evil.fal.media.example.com` are not fal's."""
    text = (url or "").strip()
    if text != url or any(c.isspace() or c == "\\" for c in text):
        return False
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return False
    host = parts.hostname or ""
    if parts.scheme != "https" or "@" in parts.netloc or port not in (None, 443) or not host:
        return False
    if host.endswith(".") or _address_literal(host) is not None:
        return False
    for allowed in hosts:
        allowed = allowed.strip().lower().strip(".")
        if allowed and (host == allowed or host.endswith("." + allowed)):
            return True
    return False


def prune(folders: list[Path], max_bytes: int, keep: Collection[Path] = ()) -> None:
    """Keep downloaded and trimmed files under `max_bytes` in all, the oldest going first, except the
    ones in `keep` (inputs this process's runs have not copied yet: a batch's runs wait their turn),
    which stay whatever their size."""
    kept = {path.resolve() for path in keep}
    files = [
        p
        for folder in folders
        if folder.is_dir()
        for p in folder.iterdir()
        if p.is_file() and p.suffix != ".part" and p.resolve() not in kept
    ]
    files.sort(key=lambda p: p.stat().st_mtime)
    total = sum(p.stat().st_size for p in files)
    for path in files:
        if total <= max_bytes:
            return
        with contextlib.suppress(OSError):
            size = path.stat().st_size
            path.unlink()
            total -= size
