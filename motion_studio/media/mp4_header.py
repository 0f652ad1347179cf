"""Whether an MP4 plays in a browser, read from its header alone (the `moov` box: codecs, H.264
profile and chroma format), in Python, without decoding or starting ffmpeg.

A result of fal's is a 35 MB video the page waits for: an ffmpeg probe costs 0.1–0.3 s there (a
process, and a seek to a `moov` written at the end), this costs a few milliseconds. It only ever says
"plays" for what is certain (H.264 8-bit 4:2:0, AAC or MP3 sound); anything else, or anything it
can't read, is left to the ffmpeg probe, which converts what browsers can't play.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

_MOOV_MAX = 64 * 2**20  # a header bigger than this is not a plain result: ffmpeg decides
_BROWSER_CONTAINERS = (".mp4", ".m4v", ".mov")
# Baseline, Main, Extended: 8-bit 4:2:0 by definition. High: 8-bit, but 4:2:0 or monochrome (checked).
_H264_8BIT_420 = (66, 77, 88)
_H264_HIGH = 100
_AAC_OR_MP3 = (0x40, 0x66, 0x67, 0x68, 0x69, 0x6B)  # MPEG-4/MPEG-2 AAC, MPEG-2/MPEG-1 audio (MP3)


def surely_plays(path: Path) -> bool:
    """True when the header shows only H.264 8-bit 4:2:0 video (at least one track) and AAC or MP3
    sound; False when unsure (not an MP4, another codec, a header it can't read)."""
    if path.suffix.lower() not in _BROWSER_CONTAINERS:
        return False
    try:
        moov = _read_moov(path)
        if moov is None:
            return False
        verdicts = [_track_plays(trak) for kind, trak in _boxes(moov) if kind == b"trak"]
    except (OSError, struct.error, ValueError, IndexError):
        return False
    return "video" in verdicts and all(verdict in ("video", "audio", "other") for verdict in verdicts)


def _read_moov(path: Path) -> bytes | None:
    """The `moov` box's payload, found by hopping over the top-level boxes (the media is not read)."""
    with open(path, "rb") as handle:
        while header := handle.read(8):
            if len(header) < 8:
                return None
            size, kind = struct.unpack(">I4s", header)
            skip = 8
            if size == 1:
                size, skip = struct.unpack(">Q", handle.read(8))[0], 16
            elif size == 0:  # to the end of the file: only the media can be that
                return None
            if size < skip:
                return None
            if kind == b"moov":
                return handle.read(size - skip) if size <= _MOOV_MAX else None
            handle.seek(size - skip, 1)
    return None


def _boxes(data: bytes, start: int = 0) -> Iterator[tuple[bytes, bytes]]:
    """The boxes laid one after the other in `data` from `start`: (type, payload)."""
    at = start
    while at + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, at)
        skip = 8
        if size == 1:
            size, skip = struct.unpack_from(">Q", data, at + 8)[0], 16
        if size < skip or at + size > len(data):
            raise ValueError("box overruns its parent")
        yield kind, data[at + skip : at + size]
        at += size


def _child(data: bytes, *path: bytes) -> bytes | None:
    for kind in path:
        data = next((payload for name, payload in _boxes(data) if name == kind), b"")
        if not data:
            return None
    return data


def _track_plays(trak: bytes) -> str:
    """ "video" / "audio" for a track browsers surely play, "other" for one they ignore (text,
    timecode), "no" otherwise."""
    hdlr = _child(trak, b"mdia", b"hdlr")
    stsd = _child(trak, b"mdia", b"minf", b"stbl", b"stsd")
    if hdlr is None or stsd is None:
        return "no"
    handler = hdlr[8:12]
    entries = list(_boxes(stsd, 8))  # version/flags, entry count
    if handler == b"vide":
        return "video" if entries and all(_h264_8bit_420(*entry) for entry in entries) else "no"
    if handler == b"soun":
        return "audio" if entries and all(_aac_or_mp3(*entry) for entry in entries) else "no"
    return "other" if handler in (b"text", b"sbtl", b"tmcd", b"meta", b"hint") else "no"


def _h264_8bit_420(kind: bytes, entry: bytes) -> bool:
    """An `avc1`/`avc3` sample entry whose `avcC` says 8-bit 4:2:0 (High profile states it after its
    parameter sets; when it does not, this is unsure)."""
    if kind not in (b"avc1", b"avc3"):
        return False
    avcc = _child(entry[78:], b"avcC")  # the visual sample entry's fixed fields come first
    if avcc is None or len(avcc) < 7:
        return False
    profile = avcc[1]
    if profile in _H264_8BIT_420:
        return True
    if profile != _H264_HIGH:
        return False
    at = 6
    for _ in range(avcc[5] & 0x1F):  # sequence parameter sets
        at += 2 + struct.unpack_from(">H", avcc, at)[0]
    for _ in range(avcc[at]):  # picture parameter sets
        at += 2 + struct.unpack_from(">H", avcc, at + 1)[0]
    at += 1
    if at + 3 > len(avcc):
        return False
    return avcc[at] & 0x03 == 1 and avcc[at + 1] & 0x07 == 0 and avcc[at + 2] & 0x07 == 0


def _aac_or_mp3(kind: bytes, entry: bytes) -> bool:
    """An `mp4a` sample entry whose `esds` names AAC or MP3 (QuickTime's sound entries v1/v2 carry
    more fixed fields, hence the search for the `esds` box)."""
    if kind != b"mp4a":
        return False
    version = struct.unpack_from(">H", entry, 8)[0]
    esds = _child(entry[{0: 28, 1: 44, 2: 64}.get(version, 28) :], b"esds")
    if esds is None:
        return False
    return _object_type(esds[4:]) in _AAC_OR_MP3


def _object_type(descriptor: bytes) -> int | None:
    """The objectTypeIndication of an ES descriptor's decoder config (ISO 14496-1)."""
    if not descriptor or descriptor[0] != 0x03:
        return None
    at = _after_length(descriptor, 1)
    flags = descriptor[at + 2]
    at += 3
    if flags & 0x80:
        at += 2
    if flags & 0x40:
        at += 1 + descriptor[at]
    if flags & 0x20:
        at += 2
    if descriptor[at] != 0x04:
        return None
    return descriptor[_after_length(descriptor, at + 1)]


def _after_length(data: bytes, at: int) -> int:
    """Past a descriptor's length (1–4 bytes, 7 bits each, the top bit says another follows)."""
    for _ in range(4):
        at += 1
        if not data[at - 1] & 0x80:
            break
    return at
