"""The upload cache: files already on fal's storage, by their SHA-256, so they are not sent twice.

Each URL is kept with the moment fal deletes it (its expiry, sent with the upload): a URL about to
expire is not reused, or fal would be handed a file it can no longer fetch. Rows from before expiries
were sent have none (fal keeps those files by its own rules)."""

from __future__ import annotations

import time

from .database import Database


class UploadCache:
    """Kept in the history's database, so every process (the app, the command line) shares it."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def cached_upload(self, sha256: str, max_age_seconds: float, *, alive_for: float = 0.0) -> str | None:
        """The URL of these bytes, uploaded less than `max_age_seconds` ago and still on fal for at
        least `alive_for` seconds more; None: upload them again."""
        now = time.time()
        with self._db.connect() as conn:
            row = conn.execute(
                "SELECT url FROM uploads WHERE sha256 = ? AND uploaded_at >= ? "
                "AND (expires_at IS NULL OR expires_at >= ?)",
                (sha256, now - max_age_seconds, now + alive_for),
            ).fetchone()
        return row["url"] if row else None

    def remember_upload(self, sha256: str, url: str, *, expires_at: float | None = None) -> None:
        with self._db.connect() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO uploads (sha256, url, uploaded_at, expires_at) VALUES (?, ?, ?, ?)",
                (sha256, url, time.time(), expires_at),
            )
