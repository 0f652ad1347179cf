"""The upload cache: files already on fal's storage, by their SHA-256, so they are not sent twice."""

from __future__ import annotations

import time

from .database import Database


class UploadCache:
    """Kept in the history's database, so every process (the app, the command line) shares it."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def cached_upload(self, sha256: str, max_age_seconds: float) -> str | None:
        with self._db.connect() as conn:
            row = conn.execute(
                "SELECT url FROM uploads WHERE sha256 = ? AND uploaded_at >= ?",
                (sha256, time.time() - max_age_seconds),
            ).fetchone()
        return row["url"] if row else None

    def remember_upload(self, sha256: str, url: str) -> None:
        with self._db.connect() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO uploads (sha256, url, uploaded_at) VALUES (?, ?, ?)",
                (sha256, url, time.time()),
            )
