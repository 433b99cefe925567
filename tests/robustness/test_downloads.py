"""Downloads and extraction never leave something a later run would trust (all offline, against 127.0.0.1).

A local HTTP server serves a good zip, a truncated one (a ``Content-Length`` larger than what it sends), a
different one under the same URL, and slow ones, honouring ``Range`` requests (or, in one mode, ignoring them);
every request it gets is counted, with its ``Range`` header and what was sent.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import sys
import threading
import time
import warnings
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from helpers import config, data
from helpers._internal import downloads
from tools import pins

TOP = "food_tiny"
#: Seconds the slow routes stall: far longer than the 1 s client timeout the tests use.
STALL_S = 5.0


def _food_zip(top: str = TOP, extra: bytes = b"") -> bytes:
    """A tiny course-like archive: ``<top>/{train,test}/<class>/x.jpg``, plus macOS metadata that is skipped."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for split in ("train", "test"):
            for name in ("pizza", "sushi"):
                zf.writestr(f"{top}/{split}/{name}/x.jpg", f"{split}-{name}".encode() + extra)
        zf.writestr(f"__MACOSX/{top}/._x.jpg", b"resource fork")
    return buffer.getvalue()


GOOD = _food_zip()
WRONG = _food_zip(extra=b" swapped")  # a valid zip too, of another length, under the same URL
#: Where the ``truncated`` route stops sending :data:`GOOD`.
HALF = len(GOOD) // 2
EXPECTED = {f"{s}/{c}/x.jpg": f"{s}-{c}".encode() for s in ("train", "test") for c in ("pizza", "sushi")}


def _sha(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


class _Handler(BaseHTTPRequestHandler):
    """Serves ``server.routes[path] = (kind, body)``, honouring ``Range: bytes=N-`` (``206``, or ``416`` past the end).

    Kinds: ``good``; ``no_range`` (ignores Range: always ``200`` and the whole body); ``truncated`` (announces
    what it would send, sends half of it, closes the connection); ``stall_headers``, ``stall_body``.
    """

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        self.server.requests.append(self.path)
        kind, body = self.server.routes.get(self.path, ("missing", b""))
        wanted = self.headers.get("Range")
        match = re.fullmatch(r"bytes=(\d+)-", wanted or "") if kind != "no_range" else None
        start = int(match[1]) if match else 0
        if kind == "missing":
            self.send_error(404)
            return
        if start >= len(body) > 0:
            self.server.served.append((wanted, 416, 0))  # recorded before the client can see any answer
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{len(body)}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if kind == "stall_headers":
            time.sleep(STALL_S)
        piece = body[start:]
        sent = len(piece) // 2 if kind in ("truncated", "stall_body") else len(piece)
        self.server.served.append((wanted, 206 if start else 200, sent))
        self.send_response(206 if start else 200)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(len(piece)))
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        self.end_headers()
        self.wfile.write(piece[:sent])
        self.wfile.flush()
        if kind == "truncated":
            self.close_connection = True  # fewer bytes than announced, then the connection closes
            return
        if kind == "stall_body":
            time.sleep(STALL_S)
            self.wfile.write(piece[sent:])

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - http.server's signature
        """Quiet: no line per request on stderr."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes: dict[str, tuple[str, bytes]] = {}
        self.requests: list[str] = []
        #: Per answered request: its ``Range`` header (``None``: none), the status sent and the body bytes sent.
        self.served: list[tuple[str | None, int, int]] = []

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"

    def serve(self, path: str, kind: str, body: bytes) -> str:
        self.routes[path] = (kind, body)
        return self.url(path)

    def handle_error(self, request, client_address) -> None:
        """A client that gave up (the timeout tests) breaks the pipe: expected, not worth a traceback."""


@pytest.fixture(scope="module")
def _running_server() -> Iterator[_Server]:
    server = _Server()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def server(_running_server: _Server, monkeypatch: pytest.MonkeyPatch) -> _Server:
    """The local server with no routes and no requests yet; no course pins in force."""
    _running_server.routes.clear()
    _running_server.requests.clear()
    _running_server.served.clear()
    monkeypatch.setattr(downloads, "ARCHIVE_PINS", {})
    return _running_server


def _files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` except the marker, by relative path."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and p.name != data.MARKER_NAME
    }


def _unfinished(root: Path) -> list[str]:
    """Anything under ``root`` a later run could mistake for finished work: ``.part`` files, ``.partial`` folders."""
    return sorted(p.name for p in root.rglob("*") if p.name.endswith((".part", ".partial")))


def _lock(root: Path) -> dict:
    path = root / data.LOCK_NAME
    return json.loads(path.read_text()) if path.exists() else {}


def _fetch(url: str, dest: Path, **kwargs) -> Path:
    return data.download_and_extract(url, dest, timeout=5, folder=TOP, **kwargs)


def test_a_good_archive_is_downloaded_verified_and_extracted_with_its_marker(server, tmp_path):
    url = server.serve(f"/{TOP}.zip", "good", GOOD)
    assert _fetch(url, tmp_path) == tmp_path
    assert _files(tmp_path / TOP) == EXPECTED
    assert data.read_marker(tmp_path / TOP) == {"archive": f"{TOP}.zip", "sha256": _sha(GOOD), "members": 4}
    assert (tmp_path / "downloads" / f"{TOP}.zip").read_bytes() == GOOD
    assert _lock(tmp_path) == {url: {"sha256": _sha(GOOD), "size": len(GOOD)}}
    assert not (tmp_path / "__MACOSX").exists()
    assert _unfinished(tmp_path) == [] and server.requests == [f"/{TOP}.zip"]


def test_a_truncated_download_is_refused_and_leaves_nothing_to_trust(server, tmp_path):
    url = server.serve(f"/{TOP}.zip", "truncated", GOOD)
    with pytest.raises(ConnectionError, match="cut short") as info:
        _fetch(url, tmp_path)
    assert url in str(info.value) and f"{len(GOOD) // 2:,} of {len(GOOD):,} bytes" in str(info.value)
    assert "run again to resume" in str(info.value)
    assert not (tmp_path / "downloads" / f"{TOP}.zip").exists() and not (tmp_path / TOP).exists()
    assert _lock(tmp_path) == {}
    assert _unfinished(tmp_path) == [f"{TOP}.zip.part"], "only the .part, never taken for the archive"
    server.serve(f"/{TOP}.zip", "good", GOOD)  # the next run continues it and gets the whole file
    _fetch(url, tmp_path)
    assert _files(tmp_path / TOP) == EXPECTED and _lock(tmp_path)[url]["sha256"] == _sha(GOOD)
    assert _unfinished(tmp_path) == []


def test_a_download_cut_half_way_resumes_with_a_range_request(server, tmp_path, capsys):
    url = server.serve(f"/{TOP}.zip", "truncated", GOOD)
    part = tmp_path / "downloads" / f"{TOP}.zip.part"
    with pytest.raises(ConnectionError, match="cut short"):
        _fetch(url, tmp_path)
    assert part.read_bytes() == GOOD[:HALF]
    capsys.readouterr()
    server.serve(f"/{TOP}.zip", "good", GOOD)
    _fetch(url, tmp_path)
    assert server.served == [(None, 200, HALF), (f"bytes={HALF}-", 206, len(GOOD) - HALF)], "only the rest is sent"
    assert data.sha256sum(tmp_path / "downloads" / f"{TOP}.zip") == _sha(GOOD)
    assert _lock(tmp_path)[url] == {"sha256": _sha(GOOD), "size": len(GOOD)}, "the SHA-256 covers the kept prefix"
    assert _files(tmp_path / TOP) == EXPECTED and not part.exists()
    out = capsys.readouterr().out
    human = downloads._human
    assert f"Resuming {TOP}.zip at {human(HALF)} of {human(len(GOOD))}\n" in out
    assert out.index("Downloading") < out.index("Resuming")


def test_a_server_that_ignores_range_sends_the_whole_file_again(server, tmp_path):
    url = server.serve(f"/{TOP}.zip", "no_range", GOOD)
    (tmp_path / "downloads").mkdir()
    (tmp_path / "downloads" / f"{TOP}.zip.part").write_bytes(b"x" * 100)  # appended to, it would spoil the file
    _fetch(url, tmp_path)
    assert server.served == [("bytes=100-", 200, len(GOOD))]
    assert (tmp_path / "downloads" / f"{TOP}.zip").read_bytes() == GOOD and _files(tmp_path / TOP) == EXPECTED
    assert _unfinished(tmp_path) == []


def test_a_part_the_server_cannot_continue_416_is_started_over(server, tmp_path):
    url = server.serve(f"/{TOP}.zip", "good", GOOD)
    (tmp_path / "downloads").mkdir()
    (tmp_path / "downloads" / f"{TOP}.zip.part").write_bytes(b"x" * (len(GOOD) + 5))  # longer than the file
    _fetch(url, tmp_path)
    assert server.served == [(f"bytes={len(GOOD) + 5}-", 416, 0), (None, 200, len(GOOD))]
    assert (tmp_path / "downloads" / f"{TOP}.zip").read_bytes() == GOOD and _unfinished(tmp_path) == []


@pytest.mark.parametrize(
    ("pin", "prefix", "body", "served", "error"),
    [
        # the server's file (WRONG) is not the pinned size: its Content-Range total disagrees, so the .part
        # is discarded and the whole file fetched, then refused for its size
        (
            data.Pin(size=len(GOOD)),
            GOOD[:HALF],
            WRONG,
            [(f"bytes={HALF}-", 206, len(WRONG) - HALF), (None, 200, len(WRONG))],
            rf"is {len(WRONG):,} bytes, but",
        ),
        # a .part left by another file (WRONG) continued with the pinned one: the SHA-256 of the whole refuses it
        (
            data.Pin(sha256=_sha(GOOD), size=len(GOOD)),
            WRONG[:HALF],
            GOOD,
            [(f"bytes={HALF}-", 206, len(GOOD) - HALF)],
            "SHA-256 is",
        ),
        # the same with nothing known yet (trust on first use): the archive does not read through intact
        (None, WRONG[:HALF], GOOD, [(f"bytes={HALF}-", 206, len(GOOD) - HALF)], "not a complete zip or tar archive"),
    ],
    ids=["content_range_total", "sha256", "trust_on_first_use"],
)
def test_a_resumed_file_that_differs_from_its_pin_is_refused_and_deleted(
    server, tmp_path, monkeypatch, pin, prefix, body, served, error
):
    url = server.serve(f"/{TOP}.zip", "good", body)
    if pin is not None:
        monkeypatch.setattr(downloads, "ARCHIVE_PINS", {url: pin})
    (tmp_path / "downloads").mkdir()
    (tmp_path / "downloads" / f"{TOP}.zip.part").write_bytes(prefix)  # left by an interrupted run
    with pytest.raises(ValueError, match=error) as info:
        _fetch(url, tmp_path)
    assert "refused and deleted" in str(info.value)
    assert server.served == served
    assert _unfinished(tmp_path) == [] and not (tmp_path / "downloads" / f"{TOP}.zip").exists()
    assert not (tmp_path / TOP).exists() and _lock(tmp_path) == {}


@pytest.mark.parametrize(("pin", "shown"), [(None, len(GOOD)), (123_456, 123_456)], ids=["content_length", "pin"])
def test_the_download_is_announced_before_it_starts(server, tmp_path, monkeypatch, capsys, pin, shown):
    url = server.serve(f"/{TOP}.zip", "truncated", GOOD)
    if pin is not None:
        monkeypatch.setattr(downloads, "ARCHIVE_PINS", {url: data.Pin(size=pin)})
    with pytest.raises(ConnectionError, match="cut short"):  # announced even when the download then fails
        _fetch(url, tmp_path)
    target = tmp_path / "downloads" / f"{TOP}.zip"
    out = capsys.readouterr().out
    assert out == f"Downloading {TOP}.zip ({downloads._human(shown)}) from {url} to {target}\n"


@pytest.mark.parametrize("tqdm", ["installed", "missing", "not_wanted"])
def test_the_progress_bar_shows_bytes_and_is_optional(server, tmp_path, monkeypatch, capsys, tqdm):
    url = server.serve(f"/{TOP}.zip", "good", GOOD)
    if tqdm == "missing":
        monkeypatch.setitem(sys.modules, "tqdm", None)  # what `import tqdm.auto` meets without tqdm
        monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    data.download_and_extract(url, tmp_path, timeout=5, folder=TOP, progress=tqdm != "not_wanted")
    assert _files(tmp_path / TOP) == EXPECTED
    err = capsys.readouterr().err
    assert (f"{TOP}.zip: 100%" in err and "B/s" in err) == (tqdm == "installed"), err


@pytest.mark.parametrize("pin", [data.Pin(sha256=_sha(GOOD)), data.Pin(size=len(GOOD))], ids=["sha256", "size"])
def test_a_file_that_differs_from_its_pin_is_refused(server, tmp_path, monkeypatch, pin):
    url = server.serve(f"/{TOP}.zip", "good", WRONG)
    monkeypatch.setattr(downloads, "ARCHIVE_PINS", {url: pin})
    with pytest.raises(ValueError, match=r"pinned in helpers/archives\.json.*refused and deleted"):
        _fetch(url, tmp_path)
    assert not (tmp_path / "downloads" / f"{TOP}.zip").exists() and not (tmp_path / TOP).exists()
    assert _unfinished(tmp_path) == [] and _lock(tmp_path) == {}
    server.serve(f"/{TOP}.zip", "good", GOOD)  # the pinned file itself passes
    _fetch(url, tmp_path)
    assert _files(tmp_path / TOP) == EXPECTED


def test_the_lock_refuses_a_file_that_changed_since_its_first_download(server, tmp_path):
    url = server.serve(f"/{TOP}.zip", "good", GOOD)
    _fetch(url, tmp_path)
    shutil.rmtree(tmp_path / TOP)
    (tmp_path / "downloads" / f"{TOP}.zip").unlink()
    server.serve(f"/{TOP}.zip", "good", WRONG)  # same URL, other bytes
    with pytest.raises(ValueError, match=r"SHA-256 is .* recorded in .*archives\.lock\.json") as info:
        _fetch(url, tmp_path)
    assert "delete the entry" in str(info.value)
    assert not (tmp_path / "downloads" / f"{TOP}.zip").exists() and not (tmp_path / TOP).exists()
    assert _lock(tmp_path)[url]["sha256"] == _sha(GOOD), "a refused file never replaces the recorded one"
    assert server.requests == [f"/{TOP}.zip"] * 2 and _unfinished(tmp_path) == []


def test_the_lock_refuses_an_archive_swapped_on_disk_before_it_is_extracted_again(server, tmp_path):
    url = server.serve(f"/{TOP}.zip", "good", GOOD)
    _fetch(url, tmp_path)
    shutil.rmtree(tmp_path / TOP)
    (tmp_path / "downloads" / f"{TOP}.zip").write_bytes(WRONG)
    with pytest.raises(ValueError, match=r"SHA-256 is .* recorded in"):
        _fetch(url, tmp_path)
    assert not (tmp_path / TOP).exists() and not (tmp_path / "downloads" / f"{TOP}.zip").exists()
    assert server.requests == [f"/{TOP}.zip"]


@pytest.mark.parametrize("kind", ["stall_headers", "stall_body"])
def test_a_slow_server_gives_a_clear_error_within_a_bounded_time(server, tmp_path, kind):
    url = server.serve(f"/{TOP}.zip", kind, GOOD * 50)
    start = time.monotonic()
    with pytest.raises(ConnectionError, match=r"Timed out: .* sent nothing for 1 s") as info:
        data.download_and_extract(url, tmp_path, timeout=1, folder=TOP)
    assert time.monotonic() - start < min(10, STALL_S)
    assert not (tmp_path / "downloads" / f"{TOP}.zip").exists() and not (tmp_path / TOP).exists()
    assert _lock(tmp_path) == {}
    if kind == "stall_headers":  # nothing arrived: nothing kept
        assert _unfinished(tmp_path) == [] and "Nothing was kept" in str(info.value)
    else:  # half arrived: kept as a .part, to be continued
        assert _unfinished(tmp_path) == [f"{TOP}.zip.part"] and "the next run resumes from there" in str(info.value)


def _no_marker(root: Path) -> None:
    """An extraction stopped half-way by an older version: the folder in place, a file missing, no marker."""
    (root / TOP / data.MARKER_NAME).unlink()
    (root / TOP / "test" / "sushi" / "x.jpg").unlink()


def _partial_left(root: Path) -> None:
    """An extraction stopped half-way: only its ``.partial`` folder is there."""
    shutil.rmtree(root / TOP)
    (root / f"{TOP}.partial" / TOP / "train" / "pizza").mkdir(parents=True)
    (root / f"{TOP}.partial" / TOP / "train" / "pizza" / "x.jpg").write_bytes(b"half")


def _no_marker_no_archive(root: Path) -> None:
    _no_marker(root)
    (root / "downloads" / f"{TOP}.zip").unlink()


@pytest.mark.parametrize(
    ("interrupt", "requests"), [(_no_marker, 1), (_partial_left, 1), (_no_marker_no_archive, 2)],
    ids=["no_marker", "partial_left", "no_marker_no_archive"],
)
def test_a_half_finished_extraction_is_detected_and_redone(server, tmp_path, interrupt, requests):
    url = server.serve(f"/{TOP}.zip", "good", GOOD)
    _fetch(url, tmp_path)
    interrupt(tmp_path)
    _fetch(url, tmp_path)
    assert _files(tmp_path / TOP) == EXPECTED
    assert data.read_marker(tmp_path / TOP)["sha256"] == _sha(GOOD)
    assert _unfinished(tmp_path) == []
    assert len(server.requests) == requests, "re-extracted from the verified archive when it is still there"


def test_a_finished_folder_is_reused_without_any_network_request(server, tmp_path):
    url = server.serve(f"/{TOP}.zip", "good", GOOD)
    _fetch(url, tmp_path)
    (tmp_path / "downloads" / f"{TOP}.zip").unlink()  # not needed any more
    server.serve(f"/{TOP}.zip", "good", WRONG)  # would be refused, were it fetched
    _fetch(url, tmp_path)
    assert server.requests == [f"/{TOP}.zip"] and _files(tmp_path / TOP) == EXPECTED


def test_a_finished_folder_of_another_archive_is_never_deleted(server, tmp_path, monkeypatch):
    url = server.serve(f"/{TOP}.zip", "good", GOOD)
    _fetch(url, tmp_path)
    monkeypatch.setattr(downloads, "ARCHIVE_PINS", {url: data.Pin(sha256=_sha(WRONG))})
    with pytest.raises(ValueError, match="left as it is"):
        _fetch(url, tmp_path)
    assert _files(tmp_path / TOP) == EXPECTED and data.read_marker(tmp_path / TOP)["sha256"] == _sha(GOOD)
    assert server.requests == [f"/{TOP}.zip"]


@pytest.mark.parametrize(("legacy", "requests"), [(GOOD, 0), (GOOD[:-40], 1)], ids=["complete", "truncated"])
def test_an_archive_left_by_an_older_version_is_trusted_only_when_complete(server, tmp_path, legacy, requests):
    url = server.serve(f"/{TOP}.zip", "good", GOOD)
    (tmp_path / "downloads").mkdir()
    (tmp_path / "downloads" / f"{TOP}.zip").write_bytes(legacy)
    _fetch(url, tmp_path)
    assert _files(tmp_path / TOP) == EXPECTED and _lock(tmp_path)[url]["sha256"] == _sha(GOOD)
    assert len(server.requests) == requests


def test_extract_archive_alone_is_all_or_nothing(tmp_path):
    archive = tmp_path / f"{TOP}.zip"
    archive.write_bytes(GOOD)
    (tmp_path / "dest" / f"{TOP}.partial" / "junk").mkdir(parents=True)
    assert data.extract_archive(archive, tmp_path / "dest") == tmp_path / "dest"
    assert _files(tmp_path / "dest" / TOP) == EXPECTED and _unfinished(tmp_path / "dest") == []
    other = tmp_path / "other.zip"
    other.write_bytes(WRONG)
    with pytest.raises(FileExistsError, match="another archive"):  # same top-level folder, other archive
        data.extract_archive(other, tmp_path / "dest")
    assert _files(tmp_path / "dest" / TOP) == EXPECTED


def test_the_course_archives_use_their_pins_and_are_reused(server, tmp_path, monkeypatch):
    payload = _food_zip("10_food_classes_10_percent")
    url = server.serve("/10_food_classes_10_percent.zip", "good", payload)
    monkeypatch.setitem(data.FOOD_ARCHIVES, 10, url)
    monkeypatch.setattr(downloads, "ARCHIVE_PINS", {url: data.Pin(size=len(payload) + 1)})
    profile = config.load_profile({"COURSE_DATA_ROOT": str(tmp_path)})
    with pytest.raises(ValueError, match="pinned"):
        data._archive_dir(profile, 10)
    monkeypatch.setattr(downloads, "ARCHIVE_PINS", {url: data.Pin(sha256=_sha(payload), size=len(payload))})
    folder = data._archive_dir(profile, 10)
    assert folder == tmp_path / "10_food_classes_10_percent" and _files(folder) == EXPECTED
    assert data._archive_dir(profile, 10) == folder and len(server.requests) == 2
    (folder / data.MARKER_NAME).unlink()  # interrupted by an older version, its archive still there: redone
    (folder / "train" / "pizza" / "x.jpg").unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data._archive_dir(profile, 10)
    assert _files(folder) == EXPECTED and data.read_marker(folder) is not None and len(server.requests) == 2


def test_a_hand_made_course_folder_without_archive_is_used_with_a_warning(server, tmp_path, monkeypatch):
    url = server.serve("/10_food_classes_1_percent.zip", "good", GOOD)
    monkeypatch.setitem(data.FOOD_ARCHIVES, 1, url)
    for split in ("train", "test"):
        (tmp_path / "10_food_classes_1_percent" / split / "pizza").mkdir(parents=True)
    profile = config.load_profile({"COURSE_DATA_ROOT": str(tmp_path)})
    with pytest.warns(UserWarning, match="used unverified"):
        assert data._archive_dir(profile, 1) == tmp_path / "10_food_classes_1_percent"
    assert server.requests == []


def test_every_course_archive_has_a_pin_entry():
    pinned = data.load_pins()
    assert set(data.FOOD_ARCHIVES.values()) <= set(pinned)
    for pin in pinned.values():
        assert pin.sha256 is None or (len(pin.sha256) == 64 and int(pin.sha256, 16) >= 0)
        assert pin.size is None or (isinstance(pin.size, int) and pin.size > 0)


def test_the_pin_command_writes_pins_and_never_silently_changes_one(server, tmp_path, capsys):
    url = server.serve(f"/{TOP}.zip", "good", GOOD)
    pins_file = tmp_path / "archives.json"
    assert pins.main(["--file", str(pins_file), "--timeout", "5", url]) == 0
    assert data.load_pins(pins_file) == {url: data.Pin(_sha(GOOD), len(GOOD))}
    server.serve(f"/{TOP}.zip", "good", WRONG)
    assert pins.main(["--file", str(pins_file), "--timeout", "5", url]) == 1
    assert "differ from their pins" in capsys.readouterr().out
    assert data.load_pins(pins_file) == {url: data.Pin(_sha(GOOD), len(GOOD))}
    assert pins.main(["--file", str(pins_file), "--timeout", "5", "--replace", url]) == 0
    assert data.load_pins(pins_file) == {url: data.Pin(_sha(WRONG), len(WRONG))}
