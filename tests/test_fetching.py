"""URL inputs: fetched from public addresses only, every hop checked, never a connection inside.

Nothing here contacts an address that is not loopback: the forbidden addresses are refused before
any connection, which a listener on loopback confirms; "public" hosts are the emulated fal CDN,
reached through the emulator's proxy as the app reaches the internet through an egress proxy.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from motion_studio import fetching
from motion_studio.errors import InputError
from motion_studio.input_reading import InputReader
from motion_studio.order import Source
from motion_studio.settings import Settings

from .fal_emulator import FalEmulator


@pytest.fixture
def listener() -> Iterator[tuple[int, list[object]]]:
    """A TCP listener on loopback that records every connection made to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    seen: list[object] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            seen.append(conn)
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], seen
    stop.set()
    thread.join()
    server.close()


INSIDE = [
    "http://127.0.0.1:{port}/x.png",
    "http://localhost:{port}/x.png",
    "http://[::1]:{port}/x.png",
    "http://127.1:{port}/x.png",
    "http://0x7f.0.0.1:{port}/x.png",
    "http://2130706433:{port}/x.png",
    "http://0177.0.0.1:{port}/x.png",
    "http://[::ffff:127.0.0.1]:{port}/x.png",
    "http://0.0.0.0:{port}/x.png",
    "https://127.0.0.1:{port}/x.png",  # through the proxy: the address in the URL is still checked
    "https://2130706433:{port}/x.png",
    "https://localhost:{port}/x.png",
    "http://10.1.2.3/x.png",
    "http://172.16.0.1/x.png",
    "http://192.168.1.1/x.png",
    "http://169.254.169.254/latest/meta-data",
    "http://100.64.0.1/x.png",  # CGNAT
    "http://224.0.0.1/x.png",  # multicast
    "http://[fe80::1]/x.png",
    "http://[fc00::1]/x.png",
    "https://10.1.2.3/x.png",
]


@pytest.mark.parametrize("url", INSIDE)
def test_addresses_inside_are_refused_before_any_connection(
    url: str, listener, fal: FalEmulator, tmp_path: Path
) -> None:
    port, seen = listener
    with pytest.raises(InputError, match=r"private network|not a URL that can be fetched"):  # httpx
        fetching.fetch_url(url.format(port=port), "image", tmp_path)  # refuses some odd spellings itself
    assert seen == [] and not fal.proxied_hosts
    assert list(tmp_path.iterdir()) == []  # no file, not even a partial one


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("file:///etc/passwd", "Only http\\(s\\) URLs"),
        ("ftp://example.com/x.mp4", "Only http\\(s\\) URLs"),
        ("gopher://127.0.0.1:70/", "Only http\\(s\\) URLs"),
        ("http://name-that-does-not-resolve.invalid/x.mp4", "could not be found"),
        ("not a url", "Only http\\(s\\) URLs"),
    ],
)
def test_other_schemes_and_unresolvable_names_are_refused(url: str, words: str, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=words):
        fetching.fetch_url(url, "video", tmp_path)


def test_a_public_url_that_redirects_inside_is_refused_at_that_hop(
    listener, fal: FalEmulator, tmp_path: Path
) -> None:
    port, seen = listener
    fal.redirects["/files/abc/hop.mp4"] = f"http://127.0.0.1:{port}/secret.mp4"
    with pytest.raises(InputError, match="private network"):
        fetching.fetch_url("https://v3.fal.media/files/abc/hop.mp4", "video", tmp_path)
    assert seen == []  # the first hop was fetched, the second never connected


def test_public_urls_are_fetched_once_even_twice_at_once(
    settings: Settings, fal: FalEmulator, samples
) -> None:
    data = samples["clip_5s"].read_bytes()
    fal.files["/files/abc/dance.mp4"] = (data, "video/mp4")
    fal.redirects["/files/abc/moved.mp4"] = "https://v3.fal.media/files/abc/dance.mp4"
    url = "https://v3.fal.media/files/abc/moved.mp4"
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(InputReader(settings).pick(Source(url=url), "video")))
               for _ in range(2)]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2 and results[0] == results[1]
    assert Path(results[0]).read_bytes() == data and Path(results[0]).is_relative_to(settings.data_dir)
    assert InputReader(settings).pick(Source(url=url), "video") == results[0]  # kept: not fetched again
    assert len(fal.calls_to("download")) <= 4  # two fetches at most, each a redirect and the file
    assert not list(Path(results[0]).parent.glob("*.part"))
    with pytest.raises(InputError, match="Could not download"):
        InputReader(settings).pick(Source(url="https://v3.fal.media/files/missing.png"), "image")


def test_fetched_and_trimmed_files_stay_under_their_quota(tmp_path: Path) -> None:
    downloads, trimmed = tmp_path / "downloads", tmp_path / "trimmed"
    for folder in (downloads, trimmed):
        folder.mkdir()
    import os

    for age, (folder, name) in enumerate([(downloads, "a"), (trimmed, "b"), (downloads, "c")]):
        path = folder / name
        path.write_bytes(b"x" * 1000)
        os.utime(path, (1000 + age, 1000 + age))
    (downloads / "busy.part").write_bytes(b"x" * 5000)  # a download under way is left alone
    fetching.prune([downloads, trimmed], 2000)
    assert sorted(p.name for p in downloads.iterdir()) == ["busy.part", "c"]
    assert [p.name for p in trimmed.iterdir()] == ["b"]
