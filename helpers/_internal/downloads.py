"""Downloading and extracting the course's archives so that nothing half-finished is ever trusted.

- Every archive is checked against its pin in ``archives.json`` (``python -m tools.pins`` fills them in) or,
  until it has one, against the SHA-256 its first verified download recorded (trust on first use).
- Downloads say what, how big and where to, show a progress bar (``tqdm``), and go to a ``.part`` file that is
  checked (size the server announced, pin or lock) and only then renamed. An interrupted one keeps its ``.part``,
  never used as a file, only continued by the next run with an HTTP ``Range`` request.
- Extraction happens in a ``.partial`` folder and ends with a ``.extracted`` marker; a folder without one is
  unfinished and is extracted again.

Why not pooch (1.9.0): it hashes and shows a ``tqdm`` bar, but its downloaders send no ``Range`` header and its
temporary file is deleted on any failure, so an interrupted download starts over. Its ``Unzip``/``Untar`` extract
straight into the destination with no completion marker and refuse no member that escapes it (``zipfile`` rewrites
such names; ``Untar`` filters only on Python >= 3.12). Resume and safe extraction would stay ours, so pooch would
save little code and add a dependency.

:mod:`helpers.data` re-exports the public names, so ``helpers.data.download_and_extract`` keeps working.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import shutil
import tarfile
import urllib.error
import urllib.request
import warnings
import zipfile
from collections.abc import Callable, Collection, Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from helpers import config
from helpers._internal import network

#: The committed pin table: SHA-256 and size of every archive the course downloads (``python -m tools.pins``).
PINS_FILE = Path(__file__).parents[1] / "archives.json"  # helpers/archives.json, installed with the package
#: Trust on first use: ``<data root>/archives.lock.json`` records each unpinned archive's first verified download.
LOCK_NAME = "archives.lock.json"
#: Written last into every extracted top-level folder: the archive's name, SHA-256 and member count.
MARKER_NAME = ".extracted"
#: Seconds a download waits for the server on any one read before it gives up.
DOWNLOAD_TIMEOUT = 60.0
#: Top-level archive folders never extracted (macOS metadata, which several archives would all claim).
SKIPPED_MEMBERS = ("__MACOSX",)
#: A ``206`` answer's ``Content-Range``: the first byte sent and the file's total size (``*``: not known).
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-\d+/(\d+|\*)")
_ARCHIVE_SUFFIXES = (".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".tar", ".zip")


class Pin(NamedTuple):
    """What an archive must be: its SHA-256 and its size in bytes, ``None`` where not known (yet)."""

    sha256: str | None = None
    size: int | None = None


def load_pins(path: str | Path = PINS_FILE) -> dict[str, Pin]:
    """The pin table in ``path``: archive URL to :class:`Pin` (empty when the file does not exist).

    Example:
        >>> all(isinstance(pin, Pin) for pin in load_pins().values())
        True
    """
    path = Path(path)
    if not path.is_file():
        return {}
    archives = json.loads(path.read_text())["archives"]
    return {url: Pin(entry.get("sha256"), entry.get("size")) for url, entry in archives.items()}


#: Every course archive's pin (URL to :class:`Pin`), read from :data:`PINS_FILE`.
ARCHIVE_PINS: dict[str, Pin] = load_pins()


def sha256sum(path: str | Path) -> str:
    """Return the SHA-256 hex digest of a file.

    Example:
        >>> sha256sum(__file__)[:4].isalnum()
        True
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _safe_members(names: Sequence[str], dest: Path) -> None:
    """Raise if any archive member would be written outside ``dest``."""
    dest = dest.resolve()
    for name in names:
        target = (dest / name).resolve()
        if target != dest and dest not in target.parents:
            raise ValueError(f"Refusing to extract {name!r}: it would land outside {dest}. The archive is unsafe.")


def archive_stem(name: str) -> str:
    """An archive's file name without its archive ending.

    Example:
        >>> archive_stem("10_food_classes_10_percent.zip"), archive_stem("food.tar.gz")
        ('10_food_classes_10_percent', 'food')
    """
    for suffix in _ARCHIVE_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _top(name: str) -> str:
    """The first part of an archive member's path (``''`` for the archive's root itself)."""
    parts = [part for part in PurePosixPath(name).parts if part not in ("/", ".")]
    return parts[0] if parts else ""


def read_marker(folder: str | Path) -> dict | None:
    """The completion marker of an extracted folder (``archive``, ``sha256``, ``members``), or ``None``.

    Example:
        >>> read_marker("data/10_food_classes_10_percent")["members"]  # doctest: +SKIP
        8455
    """
    try:
        marker = json.loads((Path(folder) / MARKER_NAME).read_text())
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) and isinstance(marker.get("sha256"), str) else None


def _members(archive: Path) -> list[str]:
    """Names of the members of a zip or tar archive to extract; raises if it is neither, or holds links."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            names = zf.namelist()
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tf_:
            members = tf_.getmembers()
        if any(m.issym() or m.islnk() for m in members):
            raise ValueError(f"Refusing to extract {archive}: it contains links.")
        names = [m.name for m in members]
    else:
        raise ValueError(f"{archive} is neither a zip nor a tar archive.")
    return [name for name in names if _top(name) not in SKIPPED_MEMBERS]


def _extract_members(archive: Path, names: Sequence[str], into: Path) -> None:
    """Extract the members ``names`` of a zip or tar archive into ``into``."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(into, members=names)
        return
    with tarfile.open(archive) as tf_:
        wanted = set(names)
        members = [m for m in tf_.getmembers() if m.name in wanted]
        if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4
            tf_.extractall(into, members=members, filter="data")
        else:  # pragma: no cover - older Pythons
            tf_.extractall(into, members=members)


def _already_extracted(dest: Path, tops: Collection[str], sha256: str) -> bool:
    """Whether every top-level entry of an archive is a folder in ``dest`` marked as extracted from it."""
    markers = [read_marker(dest / top) if (dest / top).is_dir() else None for top in tops]
    return bool(tops) and all(m is not None and m["sha256"] == sha256 for m in markers)


def _move_into_place(staging: Path, dest: Path, sha256: str) -> None:
    """Rename every entry of ``staging`` into ``dest``: a folder there without a marker (unfinished) is replaced,
    one marked as this archive's is kept, one marked as another archive's is never touched."""
    entries = sorted(staging.iterdir())
    for entry in entries:  # checked first, so that nothing moves when one entry cannot
        target = dest / entry.name
        marker = read_marker(target) if target.is_dir() else None
        if marker is not None and marker["sha256"] != sha256:
            raise FileExistsError(
                f"{target} was extracted from another archive ({marker.get('archive')}, SHA-256 {marker['sha256']}) "
                "and is left as it is. Move or delete it to extract this archive there."
            )
    for entry in entries:
        target = dest / entry.name
        if target.is_dir() and not target.is_symlink():
            if read_marker(target) is not None:
                continue  # finished by an earlier run from the same archive
            shutil.rmtree(target)  # no marker: an interrupted extraction
        elif target.is_symlink() or target.exists():
            target.unlink()
        entry.rename(target)


def extract_archive(archive: str | Path, dest: str | Path, sha256: str | None = None) -> Path:
    """Extract a ``.zip`` or ``.tar(.gz)`` into ``dest``, all or nothing, refusing members that escape it.

    The members go to ``dest/<archive name>.partial/`` first (one left by an interrupted run is removed).
    Only when all are out is a :data:`MARKER_NAME` file (the archive's name, SHA-256 and member count)
    written into each top-level folder and each top-level entry renamed into ``dest``, so a folder there
    without a marker is unfinished: it is replaced. A folder marked as this archive's is kept (when all
    are, nothing is extracted again); one marked as another archive's raises ``FileExistsError`` and is
    never touched. Top-level ``__MACOSX/`` metadata is skipped.

    Args:
        archive: the ``.zip`` / ``.tar(.gz)`` file.
        dest: folder to extract into; created if missing.
        sha256: the archive's SHA-256 when the caller has it already (else it is computed).

    Returns:
        ``dest`` as a ``Path``.

    Example:
        >>> extract_archive("food.zip", "data/")  # doctest: +SKIP
        PosixPath('data')
    """
    archive, dest = Path(archive), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    names = _members(archive)
    staging = dest / f"{archive_stem(archive.name)}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    _safe_members(names, staging)
    sha256 = sha256 or sha256sum(archive)
    if _already_extracted(dest, {_top(name) for name in names} - {""}, sha256):
        return dest
    try:
        staging.mkdir()
        _extract_members(archive, names, staging)
        marker = json.dumps({"archive": archive.name, "sha256": sha256, "members": len(names)})
        for entry in staging.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                (entry / MARKER_NAME).write_text(marker + "\n")
        _move_into_place(staging, dest, sha256)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dest


class _Expected(NamedTuple):
    """What an archive must be, where that comes from, and what to do when it is not."""

    pin: Pin
    source: str
    hint: str


def _read_lock(lock: Path) -> dict[str, dict]:
    """The entries of a lock file (URL to ``{"sha256", "size"}``); empty when it does not exist."""
    if not lock.is_file():
        return {}
    try:
        entries = json.loads(lock.read_text())
    except ValueError as err:
        raise ValueError(
            f"{lock} is not valid JSON ({err}). Fix it, or delete it to trust the next download of each archive."
        ) from err
    return entries if isinstance(entries, dict) else {}


def _record_lock(lock: Path, url: str, got: Pin) -> None:
    """Record ``url``'s verified SHA-256 and size in ``lock`` (written to a temporary file, then renamed)."""
    entries = _read_lock(lock)
    entries[url] = {"sha256": got.sha256, "size": got.size}
    tmp = lock.with_name(lock.name + ".tmp")
    tmp.write_text(json.dumps(entries, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, lock)


def _expected(url: str, sha256: str | None, lock: Path) -> _Expected:
    """What the archive at ``url`` must be: the caller's SHA-256, else its pin, else what ``lock`` recorded."""
    pin = ARCHIVE_PINS.get(url, Pin())
    pinned = f"pinned in helpers/{PINS_FILE.name}"
    retry = "Try again later; if it persists, the file on the server changed: tell the course's maintainers."
    if sha256 is not None:
        return _Expected(Pin(sha256, pin.size), "expected by the caller", retry)
    if pin.sha256 is not None:
        return _Expected(pin, pinned, retry)
    recorded = _read_lock(lock).get(url)
    if recorded:
        return _Expected(
            Pin(recorded["sha256"], pin.size if pin.size is not None else recorded.get("size")),
            f"recorded in {lock} by its first download on this machine",
            f"The file changed since then. Only if the course really replaced it: delete the entry for {url} from "
            f"{lock} and the folder it was extracted to, then run again.",
        )
    return _Expected(pin, pinned, retry)


def _verify(label: str, got: Pin, expected: _Expected) -> None:
    """Raise ``ValueError`` unless ``got`` is the size and SHA-256 ``expected``."""
    want = expected.pin
    if want.sha256 is not None and got.sha256 != want.sha256:
        raise ValueError(
            f"{label}: SHA-256 is {got.sha256} ({got.size:,} bytes), but {want.sha256} is {expected.source}. "
            f"It was refused and deleted. {expected.hint}"
        )
    if want.size is not None and got.size != want.size:
        raise ValueError(
            f"{label} is {got.size:,} bytes, but {want.size:,} bytes are {expected.source}. "
            f"It was refused and deleted. {expected.hint}"
        )


def _offline_hint() -> str:
    return (
        f"Without internet, point {config.ENV_DATA_DIR} at a local folder with train/<class>/ and test/<class>/ "
        "sub-folders, or set COURSE_SMOKE=1."
    )


def _human(size: int) -> str:
    """A size in bytes as people read it (powers of 1000, like the progress bar).

    Example:
        >>> _human(133612354), _human(999), _human(2_500)
        ('133.6 MB', '999 B', '2.5 kB')
    """
    if size < 1000:
        return f"{size} B"
    for unit in ("kB", "MB", "GB"):
        size /= 1000
        if size < 999.95 or unit == "GB":
            return f"{size:.1f} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def _progress_bar(show: bool, name: str, total: int | None, done: int):
    """A ``tqdm.auto`` bar (bytes and rate, in a notebook or a terminal); ``None`` without tqdm or when not wanted."""
    if not show:
        return None
    try:
        with warnings.catch_warnings():  # tqdm.auto warns in a notebook without ipywidgets, then uses a text bar
            warnings.simplefilter("ignore")
            from tqdm.auto import tqdm

            return tqdm(total=total, initial=done, desc=name, unit="B", unit_scale=True, unit_divisor=1000)
    except ImportError:  # no tqdm (or tqdm's notebook bar without its widgets): no bar, the download is the same
        return None


def _part_path(target: str | Path) -> Path:
    """Where :func:`download_file` keeps the bytes of ``target`` until they are checked: ``<target>.part``.

    Example:
        >>> _part_path("data/downloads/food.zip").as_posix()
        'data/downloads/food.zip.part'
    """
    target = Path(target)
    return target.with_name(target.name + ".part")


def _open(url: str, offset: int, timeout: float):
    """``urlopen(url)``, asking for the bytes from ``offset`` on when it is not 0."""
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)


def _length(response) -> int | None:
    length = response.headers.get("Content-Length")
    return int(length) if length and length.strip().isdigit() else None


def _chunks(response) -> Iterator[bytes]:
    """The body of ``response`` in pieces, ending with what arrived when the connection closed early."""
    read = getattr(response, "read1", response.read)  # read1: what has arrived, so a stall keeps it
    try:
        while chunk := read(1 << 16):
            yield chunk
    except http.client.IncompleteRead as err:
        yield err.partial


def _start(url: str, offset: int, size: int | None, timeout: float) -> tuple:
    """Open ``url`` to continue a ``.part`` of ``offset`` bytes when the server can: ``(response, offset, total)``.

    The offset is 0 (start over) unless the server answers ``206`` with a ``Content-Range`` that starts at
    ``offset`` and whose total is ``size`` (when known). A ``200`` (no Range support) is used from its first
    byte; a ``416`` or a ``Content-Range`` that does not fit is answered by asking for the whole file again.
    """
    if offset:
        try:
            response = _open(url, offset, timeout)
        except urllib.error.HTTPError as err:
            if err.code != 416:  # 416: the .part is not a prefix of the file the server has now
                raise
            err.close()
        else:
            if getattr(response, "status", None) != 206:  # 200 (or file://): the whole file, from its first byte
                return response, 0, _length(response)
            match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
            total = int(match[2]) if match and match[2] != "*" else None
            if match and int(match[1]) == offset and (size is None or total in (None, size)):
                rest = _length(response)
                if total is None:
                    total = size if size is not None or rest is None else offset + rest
                return response, offset, total
            response.close()
    response = _open(url, 0, timeout)
    return response, 0, _length(response)


def _fetch(url: str, part: Path, timeout: float, size: int | None, progress: bool, target: Path) -> Pin:
    """Stream ``url`` into ``part``, continuing what an earlier run left there when the server can (HTTP Range).

    Returns the SHA-256 and size of the whole file (the kept prefix included); raises ``ConnectionError``
    when fewer bytes arrived than the server announced, leaving them in ``part`` for the next run.
    """
    name = url.rstrip("/").rsplit("/", 1)[-1]
    offset = part.stat().st_size if part.is_file() else 0
    if size is not None and offset >= size:  # as large as the whole file yet never accepted: not a prefix
        offset = 0
    digest, received, total = hashlib.sha256(), 0, None
    try:
        response, offset, total = _start(url, offset, size, timeout)
        with response, open(part, "ab" if offset else "wb") as out:
            if offset:
                with open(part, "rb") as kept:  # the final SHA-256 covers the kept prefix too
                    for chunk in iter(lambda: kept.read(1 << 20), b""):
                        digest.update(chunk)
            shown = size if size is not None else total
            print(f"Downloading {name} ({_human(shown) if shown else 'size unknown'}) from {url} to {target}")
            if offset:
                print(f"Resuming {name} at {_human(offset)}" + (f" of {_human(shown)}" if shown else ""))
            bar = _progress_bar(progress, name, shown, offset)
            try:
                for chunk in _chunks(response):
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
            finally:
                if bar is not None:
                    bar.close()
    except (OSError, http.client.HTTPException, ValueError) as err:  # URLError, timeouts, resets, bad URLs
        reason = getattr(err, "reason", err)
        have = part.stat().st_size if part.is_file() else 0
        kept = (
            f"The {have:,} bytes that arrived are kept in {part}; the next run resumes from there."
            if have
            else "Nothing was kept."
        )
        cause = network.classify(err)
        if cause is not None and cause.kind in ("http", "certificate"):  # the network works: not "no internet"
            raise ConnectionError(f"{network.explain(err, url, name)} {kept}") from err
        if isinstance(err, TimeoutError) or isinstance(reason, TimeoutError):
            raise ConnectionError(
                f"Timed out: {url} sent nothing for {timeout:g} s (after {have:,} bytes). The server or the "
                f"connection is too slow. {kept} Try again later. {_offline_hint()}"
            ) from err
        raise ConnectionError(f"Could not download {url} ({reason}). {kept} {_offline_hint()}") from err
    if total is not None and offset + received < total:
        raise ConnectionError(
            f"The download of {url} was cut short: {offset + received:,} of {total:,} bytes arrived. "
            f"They are kept in {part}; run again to resume from there."
        )
    return Pin(digest.hexdigest(), offset + received)


def download_file(
    url: str,
    target: str | Path,
    timeout: float = DOWNLOAD_TIMEOUT,
    check: Callable[[Pin], None] | None = None,
    *,
    size: int | None = None,
    progress: bool = True,
) -> Pin:
    """Download ``url`` to ``target`` so that ``target`` only ever holds a complete, accepted file.

    The bytes go to ``<target>.part``. One line says what is downloaded, how big (``size`` when given, else
    the server's ``Content-Length``) and where to; a progress bar (``tqdm``, when installed and ``progress``)
    shows bytes and rate. Fewer bytes than the server announced, no data for ``timeout`` seconds on any read,
    or any network error raise ``ConnectionError`` and keep the ``.part``: it is never used as a file, only
    continued by the next call with an HTTP ``Range`` request (a server that answers ``200`` sends the whole
    file again; a ``416``, or a ``Content-Range`` that does not continue the ``.part`` or whose total is not
    ``size``, starts it over). Then ``check`` (if given) sees the SHA-256 and size of the whole file and may
    raise to refuse it; a refused file is deleted. Only an accepted one is renamed to ``target``.

    Returns:
        the downloaded file's :class:`Pin` (SHA-256 and size).

    Example:
        >>> download_file(FOOD_ARCHIVES[10], "/tmp/food.zip").size  # doctest: +SKIP
        Downloading 10_food_classes_10_percent.zip (168.5 MB) from https://... to /tmp/food.zip
        168546183
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = _part_path(target)
    try:
        got = _fetch(url, part, timeout, size, progress, target)
    except BaseException:  # interrupted (network, timeout, Ctrl-C): what arrived stays, to be continued
        if part.is_file() and part.stat().st_size == 0:
            part.unlink()
        raise
    try:
        if check is not None:
            check(got)
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)  # refused: deleted
    return got


def _complete_archive(path: Path) -> bool:
    """Whether a zip or tar archive reads to its end with every checksum right (no truncation, no damage)."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                return zf.testzip() is None
        with tarfile.open(path) as tf_:
            for member in tf_:
                handle = tf_.extractfile(member)
                while handle is not None and handle.read(1 << 20):
                    pass
        return True
    except Exception:  # whatever stops it being read through (truncation, bad CRC, not an archive) means no
        return False


def _local_archive(archive: Path, url: str, expected: _Expected, lock: Path) -> str | None:
    """The SHA-256 of an archive downloaded earlier when it is the expected one; ``None`` when there is none.

    One that differs from its pin or lock entry is deleted and refused (``ValueError``). One nothing is known
    about (left by an older version of the course) is trusted, and recorded in ``lock``, only when it reads
    to its end with every checksum right; otherwise it is deleted, to be downloaded again.
    """
    if not archive.is_file():
        return None
    if expected.pin.sha256 is None and not _complete_archive(archive):
        archive.unlink()
        return None
    got = Pin(sha256sum(archive), archive.stat().st_size)
    try:
        _verify(f"{archive} (from {url})", got, expected)
    except ValueError:
        archive.unlink()
        raise
    if expected.pin.sha256 is None:
        _record_lock(lock, url, got)
    return got.sha256


def _finished(folder: Path, archive: Path, expected: _Expected) -> bool:
    """Whether ``folder`` is a complete extraction of the expected archive (its marker); raises if of another."""
    marker = read_marker(folder) if folder.is_dir() else None
    if marker is None:
        return False
    want = expected.pin.sha256
    if want is not None and marker["sha256"] != want:
        raise ValueError(
            f"{folder} was extracted from an archive with SHA-256 {marker['sha256']}, but {want} is "
            f"{expected.source}. It is left as it is: delete it (and {archive} if present) to download and "
            "extract the expected archive."
        )
    return True


def download_and_extract(
    url: str,
    dest: str | Path,
    sha256: str | None = None,
    *,
    timeout: float = DOWNLOAD_TIMEOUT,
    folder: str | None = None,
    progress: bool = True,
) -> Path:
    """Download ``url`` once into ``dest/downloads/``, verify it, and extract it into ``dest``.

    What the archive must be comes from ``sha256``, else its pin in :data:`ARCHIVE_PINS`, else the
    SHA-256 its first verified download recorded in ``dest/archives.lock.json`` (trust on first use); a
    file that differs is deleted and refused with a ``ValueError`` that says why (with no SHA-256 known yet,
    so is one that is not a zip or tar archive reading through intact). Downloads go through a ``.part`` file
    (:func:`download_file`): an interrupted, truncated or timed-out one is never used as the archive, only
    continued by the next run (HTTP ``Range``). Extraction is all or nothing (:func:`extract_archive`).

    Args:
        url: where the archive lives (``https://``, ``http://`` or ``file://``).
        dest: folder to extract into; created if missing.
        sha256: expected SHA-256 of the archive (overrides its pin).
        timeout: seconds to wait for the server on any one read.
        folder: the top-level folder the archive holds. When it is already there with the expected
            archive's marker, nothing is read, downloaded or extracted.
        progress: show a progress bar while downloading (``tqdm``, when installed).

    Returns:
        ``dest`` as a ``Path``.

    Example:
        >>> download_and_extract(FOOD_ARCHIVES[10], "data/", folder="10_food_classes_10_percent")  # doctest: +SKIP
        PosixPath('data')
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    name = url.rstrip("/").rsplit("/", 1)[-1]
    archive, lock = dest / "downloads" / name, dest / LOCK_NAME
    expected = _expected(url, sha256, lock)
    if folder is not None and _finished(dest / folder, archive, expected):
        return dest
    digest = _local_archive(archive, url, expected, lock)
    if digest is None:

        def check(got: Pin) -> None:
            _verify(f"{name} from {url}", got, expected)
            if expected.pin.sha256 is None:  # trust on first use: only an archive that reads through intact
                if not _complete_archive(_part_path(archive)):
                    raise ValueError(
                        f"{name} from {url} ({got.size:,} bytes) is not a complete zip or tar archive: it ends early "
                        "or a checksum inside it is wrong. It was refused and deleted; run again to download it afresh."
                    )
                _record_lock(lock, url, got)

        digest = download_file(url, archive, timeout, check, size=expected.pin.size, progress=progress).sha256
    extract_archive(archive, dest, sha256=digest)
    if folder is not None and read_marker(dest / folder) is None:
        raise ValueError(f"{archive} holds no top-level folder {folder!r}; it was extracted into {dest} as it is.")
    return dest
