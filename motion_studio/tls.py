"""One TLS context for every HTTP client the studio makes.

Building an `httpx.AsyncClient` builds a TLS context, which loads the whole CA bundle: about 19 ms of
CPU, on the event loop that streams every run. A run makes several clients (uploads, the download),
so fifty runs at once spent seconds there. A context is safe to share; this one is made once, the way
httpx makes it (honouring `SSL_CERT_FILE` / `SSL_CERT_DIR`).
"""

from __future__ import annotations

import os
import ssl
from functools import cache

import httpx


def client_tls() -> ssl.SSLContext:
    """The shared context for the CA settings in force now (a changed `SSL_CERT_FILE` gets its own)."""
    return _context(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@cache
def _context(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    return httpx.create_ssl_context()
