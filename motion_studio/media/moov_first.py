"""An MP4 whose header (`moov`) comes after its media, written with the header first, in Python,
without ffmpeg: as it downloads (`MoovFirstWriter`, no second pass over the media), or from a file
(`write_moov_first`, the media copied in the kernel). Only the header's chunk offsets change.

A browser plays an MP4 from its header: with the header at the end (ffmpeg's default, and so of many
results), Chromium reads the start, seeks to the end for the header, then back to the media, three
requests to the page's file server; on the benchmark's 35 MB result that costs over a second before
the video can play. With the header first it is one request read in order. Anything this does not
surely understand is left as it is (the file still plays, only later).
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import BinaryIO

_MOOV_MAX = 64 * 2**20  # a bigger header is not a plain result: left as it is
_HEAD_MAX = 2**20  # the boxes before the media are small: past this the layout is not the usual one
_CONTAINERS = (b"moov", b"trak", b"mdia", b"minf", b"stbl")


def write_moov_first(source: Path, dest: Path) -> bool:
    """Write `source` to `dest` with its `moov` box before its `mdat` box and True, when `moov` is the
    last box and comes after `mdat`; False (nothing written) otherwise, or when unsure."""
    try:
        layout = _top_level(source)
        if layout is None:
            return False
        media_at, moov_at, moov_size = layout
        with open(source, "rb") as src:
            src.seek(moov_at)
            moov = bytearray(src.read(moov_size))
            if len(moov) != moov_size or not _shift_offsets(moov, 8, moov_size, moov_size):
                return False
            with open(dest, "wb", buffering=0) as out:
                _copy(src, out, 0, media_at)
                out.write(moov)
                _copy(src, out, media_at, moov_at - media_at)
    except (OSError, struct.error, ValueError):
        dest.unlink(missing_ok=True)
        return False
    return True


def _top_level(path: Path) -> tuple[int, int, int] | None:
    """(where `mdat` starts, where `moov` starts, `moov`'s size) when `moov` is the last box, after
    `mdat`; None otherwise."""
    end = path.stat().st_size
    media_at = moov_at = None
    at = 0
    with open(path, "rb") as handle:
        while at < end:
            handle.seek(at)
            size, kind = struct.unpack(">I4s", handle.read(8))
            if size == 1:
                size = struct.unpack(">Q", handle.read(8))[0]
            if size < 8 or at + size > end:  # 0 ("to the end") or broken: unsure
                return None
            if kind == b"mdat" and media_at is None:
                media_at = at
            elif kind == b"moov":
                moov_at = at
                if media_at is None or at + size != end or size > _MOOV_MAX:
                    return None
            at += size
    return (media_at, moov_at, end - moov_at) if media_at is not None and moov_at is not None else None


def _shift_offsets(data: bytearray, start: int, stop: int, delta: int) -> bool:
    """Add `delta` to every chunk offset (`stco`, `co64`) in the boxes of data[start:stop], in place;
    False when a 32-bit offset would overflow (the header would have to grow) or a box is broken."""
    at = start
    while at + 8 <= stop:
        size, kind = struct.unpack_from(">I4s", data, at)
        header = 8
        if size == 1:
            size, header = struct.unpack_from(">Q", data, at + 8)[0], 16
        if size < header or at + size > stop:
            return False
        body = at + header
        if kind in _CONTAINERS and not _shift_offsets(data, body, at + size, delta):
            return False
        if kind in (b"stco", b"co64") and not _shift_table(data, body, kind == b"co64", delta):
            return False
        at += size
    return at == stop


def _shift_table(data: bytearray, body: int, wide: bool, delta: int) -> bool:
    count = struct.unpack_from(">I", data, body + 4)[0]  # after version and flags
    fmt, width = (">Q", 8) if wide else (">I", 4)
    for n in range(count):
        where = body + 8 + n * width
        offset = struct.unpack_from(fmt, data, where)[0] + delta
        if not wide and offset >= 2**32:
            return False
        struct.pack_into(fmt, data, where, offset)
    return True


def _copy(src: BinaryIO, out: BinaryIO, offset: int, length: int) -> None:
    """`length` bytes of `src` from `offset` to the end of `out` (unbuffered), copied in the kernel."""
    src_fd, out_fd = src.fileno(), out.fileno()
    out_at = os.lseek(out_fd, 0, os.SEEK_END)
    while length > 0:
        try:
            sent = os.copy_file_range(src_fd, out_fd, length, offset, out_at)
        except OSError:  # a filesystem or kernel without it: through a buffer
            sent = os.pwrite(out_fd, os.pread(src_fd, min(length, 2**20), offset), out_at)
        if sent == 0:
            raise ValueError("the file ended early")
        offset, out_at, length = offset + sent, out_at + sent, length - sent
    os.lseek(out_fd, out_at, os.SEEK_SET)


class MoovFirstWriter:
    """A download written to `out` with its header first as it arrives, when its layout is the usual
    `[ftyp…][mdat][moov]` (ffmpeg's default) and its length is known: the header's place is left free
    before the media, the media written after it, and the header, the download's last bytes, held in
    memory and written into its place by `finish`, its chunk offsets moved. The media is written once,
    where it stays. Any other layout is written as it comes. `out` is open for reading too ("w+b"):
    a tail that turns out not to be one plain header moves the media back into its first place."""

    def __init__(self, out: BinaryIO, total: int) -> None:
        self._fd = out.fileno()
        self._total = total  # 0: unknown (no length, or a compressed body)
        self._head = bytearray()  # the first bytes, until the layout is known
        self._plan: tuple[int, int] | None = None  # (where mdat starts, where it ends) when header first
        self._decided = False
        self._at = 0  # the download's offset of the next byte placed
        self._moov = bytearray()

    def write(self, chunk: bytes) -> None:
        if self._decided:
            self._put(chunk)
            return
        self._head += chunk
        plan = _plan(self._head, self._total)
        if plan is not _WAIT or len(self._head) > _HEAD_MAX:
            self._decide(plan if isinstance(plan, tuple) else None)

    def finish(self) -> bool:
        """True when the file is laid out header first; False when it was written as it came."""
        if not self._decided:
            self._decide(None)
        if self._plan is None:
            return False
        media_at, media_end = self._plan
        header = bytearray(self._moov)  # shifted on a copy: a table it can't shift leaves the tail intact
        if _one_moov(header) and _shift_offsets(header, 8, len(header), len(header)):
            os.pwrite(self._fd, header, media_at)
            return True
        # Not one plain header after all: the media moved back, and the tail after it, as it came.
        _move(self._fd, media_at + len(self._moov), media_at, media_end - media_at)
        os.pwrite(self._fd, self._moov, media_end)
        return False

    def _decide(self, plan: tuple[int, int] | None) -> None:
        self._decided, self._plan = True, plan
        head, self._head = bytes(self._head), bytearray()
        self._put(head)

    def _put(self, chunk: bytes) -> None:
        """Place `chunk` (the download's bytes from `_at`) where the plan puts them."""
        start = self._at
        self._at += len(chunk)
        if self._plan is None:
            os.pwrite(self._fd, chunk, start)
            return
        media_at, media_end = self._plan
        shift = self._total - media_end  # the header's size
        before = chunk[: max(0, media_at - start)]
        media = chunk[len(before) : max(len(before), media_end - start)]
        if before:
            os.pwrite(self._fd, before, start)
        if media:
            os.pwrite(self._fd, media, start + len(before) + shift)
        self._moov += chunk[len(before) + len(media) :]


_WAIT = object()  # the first bytes do not tell the layout yet


def _plan(head: bytes | bytearray, total: int) -> tuple[int, int] | object | None:
    """(where mdat starts, where it ends) when the download is `[boxes][mdat][tail]` with a tail that
    can be a header; None when it is laid out otherwise (or its length is unknown); `_WAIT` when the
    first bytes do not tell yet."""
    if total <= 0:
        return None
    at = 0
    while at + 8 <= len(head):
        size, kind = struct.unpack_from(">I4s", head, at)
        if size == 1:
            if at + 16 > len(head):
                return _WAIT
            size = struct.unpack_from(">Q", head, at + 8)[0]
        if kind == b"moov" or size < 8:  # already header first, or "to the end" / broken
            return None
        if kind == b"mdat":
            tail = total - (at + size)
            return (at, at + size) if 8 <= tail <= _MOOV_MAX else None
        at += size
    return _WAIT


def _one_moov(data: bytearray) -> bool:
    """`data` is exactly one `moov` box (with a 32-bit size)."""
    return len(data) >= 8 and struct.unpack_from(">I4s", data) == (len(data), b"moov")


def _move(fd: int, src: int, dest: int, length: int) -> None:
    """`length` bytes at `src` moved back to `dest` (< `src`) within one file, front to back."""
    done = 0
    while done < length:
        block = os.pread(fd, min(2**20, length - done), src + done)
        if not block:
            raise ValueError("the file ended early")
        os.pwrite(fd, block, dest + done)
        done += len(block)
