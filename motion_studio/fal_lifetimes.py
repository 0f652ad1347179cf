"""How long fal keeps what the studio leaves on it, said to fal on every upload and every submit.

Without these, every upload and every output is a public URL on fal's CDN kept for as long as fal
keeps files: on a public Space, each visitor's photo (a face, often) and each result. fal's storage
protocol takes an expiry per object: `X-Fal-Object-Lifecycle` on an upload (and on a multipart
upload's initiation; `…-Preference` on fal's storage-backed fallback), and
`X-Fal-Object-Lifecycle-Preference` on a model request, for the objects it outputs. `X-Fal-Store-IO: 0`
on a request asks fal to keep no copy of its inputs and outputs in the request history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from fal_client import StorageSettings

DAY = 24 * 3600


@dataclass(frozen=True)
class Lifetimes:
    """`inputs`/`outputs`: seconds fal keeps an upload / a request's output; `store_io`: whether fal
    keeps the request's inputs and outputs in its request history (its default)."""

    inputs: int = DAY
    outputs: int = 7 * DAY
    store_io: bool = True

    def upload_lifecycle(self) -> dict[str, int]:
        """The lifecycle an upload carries (fal_client's `object_lifecycle_preference` payload)."""
        return {"expiration_duration_seconds": self.inputs}

    def upload_headers(self) -> dict[str, str]:
        """The header fal's CDN reads on an upload (as fal_client sends it)."""
        return {"X-Fal-Object-Lifecycle": json.dumps(self.upload_lifecycle())}

    def storage_settings(self) -> StorageSettings:
        """The same expiry for fal_client's own upload (the fallback storage)."""
        return StorageSettings(expires_in=self.inputs)

    def request_headers(self) -> dict[str, str]:
        """The headers of a model request: its outputs expire, and, when asked, fal keeps no copy."""
        headers = {
            "X-Fal-Object-Lifecycle-Preference": json.dumps({"expiration_duration_seconds": self.outputs})
        }
        if not self.store_io:
            headers["X-Fal-Store-IO"] = "0"
        return headers
