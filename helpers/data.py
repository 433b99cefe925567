"""Getting, sub-sampling and loading the course's image data.

The functions here turn "a folder of photos, one sub-folder per class" into
``tf.data`` pipelines, make the 1% / 10% / 100% training subsets, and fetch the
course's food data in whichever way the active profile asks for.

Every loader checks its folder first (:func:`check_image_folder`, from :mod:`helpers.image_check`)
and refuses one holding files training cannot use; :func:`clean_image_folder` sets those aside.

Class names always come from folder names; nothing here hard-codes them.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import random
import shutil
import tarfile
import urllib.request
import warnings
import zipfile
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from helpers import config, image_check
from helpers.image_check import BadImageFolderError as BadImageFolderError
from helpers.image_check import CleanResult as CleanResult
from helpers.image_check import FolderReport as FolderReport
from helpers.image_check import Problem as Problem
from helpers.image_check import check_image_folder as check_image_folder
from helpers.image_check import clean_image_folder as clean_image_folder

if TYPE_CHECKING:  # pragma: no cover - typing only
    import tensorflow as tf

#: File endings ``keras.utils.image_dataset_from_directory`` reads.
IMAGE_SUFFIXES = image_check.IMAGE_SUFFIXES

#: The course's food archives (10 Food-101 classes; test set 250 images per class).
FOOD_ARCHIVES = {
    1: "https://storage.googleapis.com/ztm_tf_course/food_vision/10_food_classes_1_percent.zip",
    10: "https://storage.googleapis.com/ztm_tf_course/food_vision/10_food_classes_10_percent.zip",
    100: "https://storage.googleapis.com/ztm_tf_course/food_vision/10_food_classes_all_data.zip",
}

#: Images per class in the course's fixed validation set (fewer when the test set has under 4x as many).
VALIDATION_PER_CLASS = 20

#: Classes of the tiny generated data set used by the smoke profile and the tests.
TINY_CLASSES = ("red_circle", "green_square", "blue_triangle")


# --------------------------------------------------------------------------- files

#: The committed pin table: SHA-256 and size of every archive the course downloads (``python -m helpers.pins``).
PINS_FILE = Path(__file__).with_name("archives.json")
#: Trust on first use: ``<data root>/archives.lock.json`` records each unpinned archive's first verified download.
LOCK_NAME = "archives.lock.json"
#: Written last into every extracted top-level folder: the archive's name, SHA-256 and member count.
MARKER_NAME = ".extracted"
#: Seconds a download waits for the server on any one read before it gives up.
DOWNLOAD_TIMEOUT = 60.0
#: Top-level archive folders never extracted (macOS metadata, which several archives would all claim).
SKIPPED_MEMBERS = ("__MACOSX",)
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


def _archive_stem(name: str) -> str:
    """An archive's file name without its archive ending.

    Example:
        >>> _archive_stem("10_food_classes_10_percent.zip"), _archive_stem("food.tar.gz")
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
    staging = dest / f"{_archive_stem(archive.name)}.partial"
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


def _fetch(url: str, part: Path, timeout: float) -> Pin:
    """Stream ``url`` into ``part``: the SHA-256 and size of what arrived, all that the server announced."""
    digest, received, announced = hashlib.sha256(), 0, None
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(part, "wb") as out:
            length = response.headers.get("Content-Length")
            announced = int(length) if length and length.strip().isdigit() else None
            while chunk := response.read(1 << 20):
                out.write(chunk)
                digest.update(chunk)
                received += len(chunk)
    except http.client.IncompleteRead as err:
        received += len(err.partial)
    except (OSError, http.client.HTTPException, ValueError) as err:  # URLError, timeouts, resets, bad URLs
        reason = getattr(err, "reason", err)
        if isinstance(err, TimeoutError) or isinstance(reason, TimeoutError):
            raise ConnectionError(
                f"Timed out: {url} sent nothing for {timeout:g} s (after {received:,} bytes). The server or the "
                f"connection is too slow; nothing was kept. Try again later. {_offline_hint()}"
            ) from err
        raise ConnectionError(f"Could not download {url} ({reason}). Nothing was kept. {_offline_hint()}") from err
    if announced is not None and received < announced:
        raise ConnectionError(
            f"The download of {url} was cut short: {received:,} of {announced:,} bytes arrived. "
            "Nothing was kept; run again to download it afresh."
        )
    return Pin(digest.hexdigest(), received)


def download_file(
    url: str, target: str | Path, timeout: float = DOWNLOAD_TIMEOUT, check: Callable[[Pin], None] | None = None
) -> Pin:
    """Download ``url`` to ``target`` so that ``target`` only ever holds a complete, accepted file.

    The bytes go to ``<target>.part`` (one left by an earlier run is overwritten, never used). Fewer bytes
    than the server's ``Content-Length``, no data for ``timeout`` seconds on any read, or any network
    error raise ``ConnectionError``; then ``check`` (if given) sees the SHA-256 and size and may raise to
    refuse the file. Only then is the file renamed to ``target``; on any error the ``.part`` is removed.

    Returns:
        the downloaded file's :class:`Pin` (SHA-256 and size).

    Example:
        >>> download_file(FOOD_ARCHIVES[10], "/tmp/food.zip").size  # doctest: +SKIP
        168546183
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    try:
        got = _fetch(url, part, timeout)
        if check is not None:
            check(got)
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)
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
) -> Path:
    """Download ``url`` once into ``dest/downloads/``, verify it, and extract it into ``dest``.

    What the archive must be comes from ``sha256``, else its pin in :data:`ARCHIVE_PINS`, else the
    SHA-256 its first verified download recorded in ``dest/archives.lock.json`` (trust on first use); a
    file that differs is deleted and refused with a ``ValueError`` that says why. Downloads go through a
    ``.part`` file (:func:`download_file`), so an interrupted, truncated or timed-out one leaves nothing a
    later run would use; extraction is all or nothing (:func:`extract_archive`).

    Args:
        url: where the archive lives (``https://``, ``http://`` or ``file://``).
        dest: folder to extract into; created if missing.
        sha256: expected SHA-256 of the archive (overrides its pin).
        timeout: seconds to wait for the server on any one read.
        folder: the top-level folder the archive holds. When it is already there with the expected
            archive's marker, nothing is read, downloaded or extracted.

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
            if expected.pin.sha256 is None:
                _record_lock(lock, url, got)

        digest = download_file(url, archive, timeout, check).sha256
    extract_archive(archive, dest, sha256=digest)
    if folder is not None and read_marker(dest / folder) is None:
        raise ValueError(f"{archive} holds no top-level folder {folder!r}; it was extracted into {dest} as it is.")
    return dest


def list_images(folder: str | Path) -> list[Path]:
    """Image files directly inside ``folder``, sorted by name.

    Example:
        >>> list_images("data/food/train/apple_pie")[:1]  # doctest: +SKIP
        [PosixPath('data/food/train/apple_pie/1005649.jpg')]
    """
    return sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def list_classes(folder: str | Path) -> list[str]:
    """Sorted class names of an image folder (its sub-folders), checking the layout.

    Raises a ``ValueError`` that says what to do when the folder is missing, has no
    class sub-folders, or a class folder holds no images.

    Example:
        >>> list_classes("data/food/train")  # doctest: +SKIP
        ['apple_pie', 'baby_back_ribs', ...]
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder} does not exist. Expected a folder with one sub-folder of images per class.")
    names = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not names:
        loose = list_images(folder)
        hint = f" It holds {len(loose)} loose images: move them into one sub-folder per class." if loose else ""
        raise ValueError(f"{folder} has no class sub-folders (expected {folder}/<class>/<image>.jpg).{hint}")
    empty = [n for n in names if not list_images(folder / n)]
    if empty:
        raise ValueError(
            f"Class folder(s) {empty} in {folder} hold no images ({', '.join(IMAGE_SUFFIXES)}). "
            "Add images or delete the empty folder."
        )
    return names


def walk_through_dir(path: str | Path) -> list[str]:
    """Print (and return) how many folders and images each folder under ``path`` holds, in sorted order.

    Example:
        >>> lines = walk_through_dir("data/food")  # doctest: +SKIP
        There are 2 directories and 0 images in 'data/food'.
    """
    lines = []
    for dirpath, dirnames, filenames in sorted(os.walk(path)):
        dirnames.sort()
        images = [f for f in filenames if Path(f).suffix.lower() in IMAGE_SUFFIXES]
        lines.append(f"There are {len(dirnames)} directories and {len(images)} images in '{dirpath}'.")
    print("\n".join(lines))
    return lines


def count_images(folder: str | Path) -> dict[str, int]:
    """Number of images per class in an image folder.

    Example:
        >>> count_images("data/food/train")  # doctest: +SKIP
        {'apple_pie': 75, ...}
    """
    return {name: len(list_images(Path(folder) / name)) for name in list_classes(folder)}


def num_images(folder: str | Path) -> int:
    """Total number of images in an image folder (all classes).

    Example:
        >>> num_images("data/food/test")  # doctest: +SKIP
        1250
    """
    return sum(count_images(folder).values())


def subset_size(available: int, fraction: float, reference_per_class: int | None = None) -> int:
    """How many images per class a ``fraction`` subset takes.

    With ``reference_per_class`` the fraction is of that number (the course's 1% is
    1% of Food-101's 750 images per class, i.e. 7), capped at what is available.

    Example:
        >>> subset_size(375, 0.01, 750), subset_size(375, 0.10, 750), subset_size(375, 1.0, 750)
        (7, 75, 375)
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    base = reference_per_class or available
    return max(1, min(available, int(fraction * base + 1e-9)))


def _select(
    src: Path, count: Callable[[int], int], seed: int, exclude: Mapping[str, Collection[str]] | None
) -> dict[str, list[Path]]:
    """A deterministic per-class sample of ``src``: ``count(available)`` files per class, never one in ``exclude``."""
    rng = random.Random(seed)
    selection: dict[str, list[Path]] = {}
    for name in list_classes(src):
        skip = set((exclude or {}).get(name, ()))
        files = [p for p in list_images(src / name) if p.name not in skip]
        if not files:
            raise ValueError(f"{src / name} has no images left once the validation images are set aside.")
        selection[name] = sorted(rng.sample(files, count(len(files))))
    return selection


def _materialise(selection: Mapping[str, list[Path]], dst: Path, link: bool) -> dict[str, int]:
    """Write ``selection`` into ``dst`` (symlinks or copies), or reuse ``dst`` if it holds exactly that selection."""
    if dst.exists():
        existing = {name: sorted(p.name for p in list_images(dst / name)) for name in list_classes(dst)}
        wanted = {name: [p.name for p in files] for name, files in selection.items()}
        if existing != wanted:
            raise FileExistsError(
                f"{dst} already exists with a different selection. Delete it or choose another folder."
            )
        return {name: len(files) for name, files in existing.items()}
    tmp = dst.with_name(dst.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    for name, files in selection.items():
        (tmp / name).mkdir(parents=True)
        for file in files:
            target = tmp / name / file.name
            if link:
                try:
                    target.symlink_to(file.resolve())
                    continue
                except OSError:
                    pass
            shutil.copy2(file, target)
    tmp.rename(dst)
    return {name: len(files) for name, files in selection.items()}


def image_names(folder: str | Path) -> dict[str, list[str]]:
    """File names of the images of every class in an image folder.

    Example:
        >>> image_names("data/food/validation")  # doctest: +SKIP
        {'apple_pie': ['1011328.jpg', ...], ...}
    """
    return {name: [p.name for p in list_images(Path(folder) / name)] for name in list_classes(folder)}


def make_subset(
    src: str | Path,
    dst: str | Path,
    fraction: float,
    seed: int = config.DEFAULT_SEED,
    reference_per_class: int | None = None,
    link: bool = True,
    exclude: Mapping[str, Collection[str]] | None = None,
) -> dict[str, int]:
    """Make a deterministic per-class sample of an image folder, leaving ``src`` untouched.

    The same ``src``, ``fraction``, ``seed`` and ``exclude`` always pick the same files. Files named
    in ``exclude`` (class name to file names, e.g. the validation set) are never picked. Files are
    symlinked (``link=True``, falling back to copies where links are not allowed) or copied. An
    existing ``dst`` is reused when it holds exactly the same selection and refused otherwise, so
    nothing is overwritten.

    Returns:
        the number of images per class in ``dst``.

    Example:
        >>> make_subset("food/train", "food_10_percent/train", 0.10, reference_per_class=750)  # doctest: +SKIP
        {'apple_pie': 75, ...}
    """
    src, dst = Path(src), Path(dst)
    subset_size(1, fraction)  # checks the fraction before anything is read
    selection = _select(src, lambda available: subset_size(available, fraction, reference_per_class), seed, exclude)
    return _materialise(selection, dst, link)


def validation_per_class(test_per_class: int) -> int:
    """Validation images per class: :data:`VALIDATION_PER_CLASS`, at most a quarter of the test set, at least 1.

    Example:
        >>> validation_per_class(250), validation_per_class(125), validation_per_class(4)
        (20, 20, 1)
    """
    return max(1, min(VALIDATION_PER_CLASS, test_per_class // 4))


def make_validation_split(
    src: str | Path,
    dst: str | Path,
    per_class: int,
    seed: int = config.DEFAULT_SEED,
    exclude: Mapping[str, Collection[str]] | None = None,
    link: bool = True,
) -> dict[str, int]:
    """Set ``per_class`` images of every class of ``src`` aside as a fixed validation folder ``dst``.

    Deterministic like :func:`make_subset`; files named in ``exclude`` (training subsets that must
    stay disjoint from it) are never picked. Every class keeps at least one image for training.

    Example:
        >>> make_validation_split("food/train", "food/validation", 20)  # doctest: +SKIP
        {'apple_pie': 20, ...}
    """
    if per_class < 1:
        raise ValueError(f"per_class must be >= 1, got {per_class}")
    selection = _select(Path(src), lambda available: min(per_class, available - 1), seed, exclude)
    too_few = [name for name, files in selection.items() if not files]
    if too_few:
        raise ValueError(f"Classes {too_few} of {src} have too few images to set any aside for validation.")
    return _materialise(selection, Path(dst), link)


# --------------------------------------------------------------------------- tiny data


def _draw_shape(shape: str, color: tuple[int, int, int], size: int, rng: np.random.Generator):
    """One RGB image: a noisy background and a coloured shape at a random place and scale."""
    from PIL import Image, ImageDraw

    background = rng.integers(90, 170, size=(size, size, 3), dtype=np.uint8)
    image = Image.fromarray(background)
    draw = ImageDraw.Draw(image)
    r = int(size * rng.uniform(0.2, 0.35))
    cx, cy = (int(v) for v in rng.integers(r, size - r, size=2))
    jitter = tuple(int(np.clip(c + rng.integers(-30, 31), 0, 255)) for c in color)
    if shape == "circle":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=jitter)
    elif shape == "square":
        draw.rectangle([cx - r, cy - r, cx + r, cy + r], fill=jitter)
    else:
        draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=jitter)
    return image


def make_tiny_image_folders(
    root: str | Path,
    classes: Sequence[str] = TINY_CLASSES,
    per_class: int = 12,
    size: int = 64,
    test_per_class: int | None = None,
    seed: int = config.DEFAULT_SEED,
) -> Path:
    """Generate a small, learnable image folder: ``root/train/<class>/`` and ``root/test/<class>/``.

    Each class is a distinct coloured shape (``<colour>_<shape>``, e.g. ``red_circle``)
    on a noisy background, saved as real JPEG files, so a model can actually learn it.
    The smoke profile and the tests use it; it is never shown as real results.

    Example:
        >>> make_tiny_image_folders("/tmp/tiny", per_class=4)  # doctest: +SKIP
        PosixPath('/tmp/tiny')
    """
    colors = {"red": (220, 30, 30), "green": (30, 200, 30), "blue": (30, 30, 220), "yellow": (230, 220, 20)}
    root = Path(root)
    rng = np.random.default_rng(seed)
    test_per_class = test_per_class or max(2, per_class // 3)
    for split, count in (("train", per_class), ("test", test_per_class)):
        for name in classes:
            color, _, shape = name.partition("_")
            if color not in colors or shape not in ("circle", "square", "triangle"):
                raise ValueError(
                    f"tiny class names are <colour>_<shape> from {sorted(colors)} x circle/square/triangle: {name!r}"
                )
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                _draw_shape(shape, colors[color], size, rng).save(folder / f"{name}_{i:03d}.jpg", quality=90)
    return root


# --------------------------------------------------------------------------- checks and pipelines


# ``check_image_folder`` / ``clean_image_folder`` (every problem of a folder of photos, and setting the unusable
# files aside) live in :mod:`helpers.image_check` and are imported above, so ``helpers.data`` offers them too.


def find_corrupt_images(folder: str | Path) -> list[Path]:
    """Files under ``folder`` with an image ending whose pixels cannot be decoded as JPEG / PNG / BMP / GIF (sorted).

    Every pixel is decoded (a file cut short is caught, not only a bad header). For every other problem
    of a folder of photos see :func:`check_image_folder`.

    Example:
        >>> find_corrupt_images("data/food/train")  # doctest: +SKIP
        []
    """
    return image_check.unreadable_images(folder)


#: Image checks passed in this Python session, with the folders' signature then (see ``image_check.require_usable``).
_VERIFIED = image_check._VERIFIED


def image_folders(
    train_dir: str | Path,
    val_dir: str | Path,
    test_dir: str | Path,
    image_size: tuple[int, int] = (224, 224),
    batch_size: int = 32,
    seed: int = config.DEFAULT_SEED,
    label_mode: str = "categorical",
    verify: bool = True,
) -> tuple[tf.data.Dataset, tf.data.Dataset, tf.data.Dataset, list[str]]:
    """Load ``train/``, validation and ``test/`` class folders as prefetched ``tf.data`` pipelines.

    Each is read with ``keras.utils.image_dataset_from_directory``. The training data is
    shuffled; the validation and test data are not, so predictions line up with labels.
    Pixels stay in [0, 255] (``float32``): each model rescales for itself. With ``verify`` the
    three folders are checked first (:func:`check_image_folder`: every file decoded, the classes
    compared, duplicates across them found) once per session, again only if a folder changes: errors
    raise :class:`BadImageFolderError` naming the files and what to do, warnings are printed once.

    Use the validation data for everything you decide (curves, checkpoints, "which model is
    better") and the test data once per model, at the end.

    Returns:
        ``(train_data, val_data, test_data, class_names)``.

    Example:
        >>> train, val, test, names = image_folders(*food_data(10), (224, 224), 32)  # doctest: +SKIP
    """
    import keras
    import tensorflow as tf

    folders = {"train": Path(train_dir), "validation": Path(val_dir), "test": Path(test_dir)}
    if verify:
        image_check.require_usable(folders)
    names = {split: list_classes(folder) for split, folder in folders.items()}
    if not names["train"] == names["validation"] == names["test"]:
        raise ValueError(f"The train, validation and test classes differ: {names}. Use the same class folders.")
    common = dict(image_size=image_size, batch_size=batch_size, label_mode=label_mode, class_names=names["train"])
    train = keras.utils.image_dataset_from_directory(folders["train"], shuffle=True, seed=seed, **common)
    val = keras.utils.image_dataset_from_directory(folders["validation"], shuffle=False, **common)
    test = keras.utils.image_dataset_from_directory(folders["test"], shuffle=False, **common)
    return (*(ds.prefetch(tf.data.AUTOTUNE) for ds in (train, val, test)), names["train"])


def photo_folder(
    path: str | Path,
    image_size: tuple[int, int] = (224, 224),
    batch_size: int = 32,
    validation_split: float = 0.2,
    min_per_class: int = 10,
    seed: int = config.DEFAULT_SEED,
) -> tuple[tf.data.Dataset, tf.data.Dataset, list[str]]:
    """Load any folder of your own photos (one sub-folder per class) split into train and validation.

    The folder is checked first (:func:`check_image_folder`): a file training cannot use raises
    :class:`BadImageFolderError`, which names it and says what to do (usually
    ``clean_image_folder(path)``, then load again); warnings are printed once.

    Example:
        >>> train, val, names = photo_folder("my_photos")  # doctest: +SKIP
    """
    import keras
    import tensorflow as tf

    image_check.require_usable(path, layout="classes")
    counts = count_images(path)
    few = {k: v for k, v in counts.items() if v < min_per_class}
    if few:
        raise ValueError(f"Each class needs at least {min_per_class} photos; these have fewer: {few}.")
    train, val = keras.utils.image_dataset_from_directory(
        path,
        validation_split=validation_split,
        subset="both",
        seed=seed,
        image_size=image_size,
        batch_size=batch_size,
        label_mode="categorical",
    )
    names = list(train.class_names)
    return train.prefetch(tf.data.AUTOTUNE), val.prefetch(tf.data.AUTOTUNE), names


def load_image(path: str | Path, image_size: tuple[int, int] = (224, 224)) -> np.ndarray:
    """Read one image file as a ``float32`` array of shape ``(*image_size, 3)`` with pixels in [0, 255].

    It is resized with bilinear interpolation, as ``image_dataset_from_directory`` resizes the
    training images, so a single photo reaches the model the way the training photos did.

    Example:
        >>> load_image("chelsea.png", (224, 224)).shape  # doctest: +SKIP
        (224, 224, 3)
    """
    import keras

    image = keras.utils.load_img(path, target_size=image_size, color_mode="rgb", interpolation="bilinear")
    return keras.utils.img_to_array(image).astype("float32")


# --------------------------------------------------------------------------- the course's data


#: Single photos for prediction demos, with the ImageNet class each shows. Those in ``../shared/images`` are used
#: where that folder exists (offline machines); otherwise two of TensorFlow's example images are downloaded once.
SHARED_PHOTOS = {
    "chelsea.png": "tabby",
    "coffee.png": "espresso",
    "mountain_bike.jpeg": "mountain_bike",
    "soccer_ball.jpg": "soccer_ball",
}
EXAMPLE_PHOTOS = {
    "https://storage.googleapis.com/download.tensorflow.org/example_images/grace_hopper.jpg": "military_uniform",
    "https://storage.googleapis.com/download.tensorflow.org/example_images/YellowLabradorLooking_new.jpg": (
        "Labrador_retriever"
    ),
}


def demo_photos(profile: config.Profile | None = None, shared: str | Path | None = None) -> dict[Path, str]:
    """Photos for ImageNet prediction demos, each with the ImageNet class name it shows (sorted by file name).

    Example:
        >>> photos = demo_photos()  # doctest: +SKIP
        >>> {path.name: label for path, label in photos.items()}  # doctest: +SKIP
        {'chelsea.png': 'tabby', 'coffee.png': 'espresso', ...}
    """
    profile = profile or config.load_profile()
    folder = Path(shared) if shared else profile.root.parent / "shared" / "images"
    if folder.is_dir():
        found = {folder / name: label for name, label in SHARED_PHOTOS.items() if (folder / name).is_file()}
        if found:
            return dict(sorted(found.items()))
    import keras

    photos = {}
    for url, label in EXAMPLE_PHOTOS.items():
        name = url.rsplit("/", 1)[-1]
        try:
            path = keras.utils.get_file(fname=name, origin=url, cache_dir=str(profile.data_root), cache_subdir="photos")
        except Exception as err:  # urllib raises several kinds; all mean "could not download"
            raise ConnectionError(
                f"Could not download the example photo {url} ({err}). Without internet, pass shared= a folder "
                f"holding {sorted(SHARED_PHOTOS)}."
            ) from err
        photos[Path(path)] = label
    return dict(sorted(photos.items()))



def tiny_food_dir(profile: config.Profile) -> Path:
    """The smoke profile's generated data folder (made on first use)."""
    root = profile.data_root / f"tiny_images_{profile.image_size[0]}px"
    if not (root / "test").is_dir():
        partial = root.with_name(root.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        make_tiny_image_folders(partial, per_class=12, size=profile.image_size[0], seed=profile.seed)
        partial.rename(root)
    return root


class FoodFolders(NamedTuple):
    """The three folders of one food-data subset: ``train``, ``val`` (fixed validation) and ``test``."""

    train: Path
    val: Path
    test: Path


def _unverifiable_copy(folder: Path, archive: Path) -> bool:
    """A complete-looking folder nothing can check: ``train/`` and ``test/``, but no marker, archive or ``.partial``."""
    return (
        (folder / "train").is_dir()
        and (folder / "test").is_dir()
        and read_marker(folder) is None
        and not archive.exists()
        and not folder.with_name(folder.name + ".partial").exists()
    )


def _archive_dir(profile: config.Profile, percent: int) -> Path:
    """The extracted course archive for ``percent``: downloaded, verified and extracted once, then reused.

    A folder with the marker of a complete extraction is used without any network request. One without
    it is unfinished and extracted again (from the verified archive in ``downloads/``, else downloaded
    again), except a folder holding ``train/`` and ``test/`` with no archive and no interrupted extraction
    beside it (copied there by hand, or extracted by an older version of the course): that one is used as
    it is, with a warning that it could not be verified.
    """
    url = FOOD_ARCHIVES[percent]
    name = url.rsplit("/", 1)[-1]
    folder = profile.data_root / _archive_stem(name)
    if _unverifiable_copy(folder, profile.data_root / "downloads" / name):
        warnings.warn(
            f"{folder} has no {MARKER_NAME} marker and no archive to check it against, so it is used unverified. "
            "Delete it to download and verify the course's archive.",
            stacklevel=2,
        )
        return folder
    download_and_extract(url, profile.data_root, folder=folder.name)
    return folder


def food_data(percent: int, profile: config.Profile | None = None) -> FoodFolders:
    """Training, validation and test folders of the course's 10 food classes for a 1, 10 or 100 percent subset.

    The **validation** folder is the same for every subset: :func:`validation_per_class` images per
    class, taken from the training images no subset uses. It is what curves, checkpoints and model
    choices look at. The **test** folder is the same for every subset too, and a model meets it once,
    at the end. Where the data comes from depends on the profile:

    - ``COURSE_DATA_DIR`` set: the validation images are set aside from its ``train/``, and the
      subsets are sampled from the rest with :func:`make_subset` (percent of Food-101's 750 images
      per class, capped at what is left) under ``COURSE_DATA_ROOT``; the test folder is its ``test/``.
      The folder is checked first (:func:`check_image_folder`): errors raise :class:`BadImageFolderError`.
    - smoke profile: the same, from a tiny generated folder.
    - otherwise: the course's archives are downloaded once and extracted. The 1% and 10% training
      folders are the archives' own; the validation images come from the 100% archive's training
      images that neither of them holds, and the 100% subset is that archive without them. Every
      archive holds the same test set; the 10% archive's copy is used.

    Example:
        >>> train_dir, val_dir, test_dir = food_data(10)  # doctest: +SKIP
    """
    if percent not in FOOD_ARCHIVES:
        raise ValueError(f"percent must be one of {sorted(FOOD_ARCHIVES)}, got {percent}")
    profile = profile or config.load_profile()
    subsets = profile.data_root / "subsets"
    if profile.data_dir is None and not profile.smoke:
        archives = {p: _archive_dir(profile, p) for p in sorted(FOOD_ARCHIVES)}
        test_dir = archives[10] / "test"
        small = [image_names(archives[p] / "train") for p in (1, 10)]
        in_small = {name: set(small[0].get(name, [])) | set(small[1].get(name, [])) for name in small[1]}
        val_dir = subsets / f"food_validation_seed{profile.seed}"
        per_class = validation_per_class(min(count_images(test_dir).values()))
        make_validation_split(archives[100] / "train", val_dir, per_class, profile.seed, exclude=in_small)
        if percent != 100:
            return FoodFolders(archives[percent] / "train", val_dir, test_dir)
        train_dir = subsets / f"food_100_percent_seed{profile.seed}"
        make_subset(archives[100] / "train", train_dir, 1.0, profile.seed, exclude=image_names(val_dir))
        return FoodFolders(train_dir, val_dir, test_dir)
    source = profile.data_dir if profile.data_dir is not None else tiny_food_dir(profile)
    for split in ("train", "test"):
        if not (source / split).is_dir():
            raise ValueError(f"{source} must hold train/<class>/ and test/<class>/ folders; {split}/ is missing.")
    image_check.require_usable(source)  # before any subset links to a file training cannot use
    val_dir = subsets / f"{source.name}_validation_seed{profile.seed}"
    per_class = validation_per_class(min(count_images(source / "test").values()))
    make_validation_split(source / "train", val_dir, per_class, profile.seed)
    train_dir = subsets / f"{source.name}_{percent}_percent_train_seed{profile.seed}"
    make_subset(
        source / "train", train_dir, percent / 100, profile.seed, config.FOOD101_TRAIN_PER_CLASS,
        exclude=image_names(val_dir),
    )
    return FoodFolders(train_dir, val_dir, source / "test")


def load_food101_tfds(
    num_classes: int = 10,
    image_size: tuple[int, int] = (224, 224),
    batch_size: int = 32,
    data_dir: str | None = None,
) -> tuple[tf.data.Dataset, tf.data.Dataset, list[str]]:
    """Food-101 from TensorFlow Datasets, cut to its first ``num_classes`` classes.

    Downloads about 5 GB the first time. Returns batched ``(image, one-hot label)``
    pipelines with pixels in [0, 255] and the class names.

    Example:
        >>> train, test, names = load_food101_tfds(10)  # doctest: +SKIP
    """
    import tensorflow_datasets as tfds

    (train, test), info = tfds.load(
        "food101", split=["train", "validation"], as_supervised=True, with_info=True, data_dir=data_dir
    )
    names = info.features["label"].names[:num_classes]
    return (
        _tfds_pipeline(train, image_size, batch_size, num_classes, shuffle=True),
        _tfds_pipeline(test, image_size, batch_size, num_classes, shuffle=False),
        list(names),
    )


#: ``cats_vs_dogs`` (TensorFlow Datasets) has a single ``train`` split; these slices of it are the course's three.
CATS_VS_DOGS_SPLITS = {"train": "train[:10%]", "val": "train[10%:12%]", "test": "train[80%:]"}


class ImageSplits(NamedTuple):
    """Training, validation and test pipelines, their class names and how many images each holds."""

    train: tf.data.Dataset
    val: tf.data.Dataset
    test: tf.data.Dataset
    class_names: list[str]
    sizes: dict[str, int]


def load_cats_vs_dogs(
    image_size: tuple[int, int] = (224, 224),
    batch_size: int = 32,
    data_dir: str | None = None,
    splits: Mapping[str, str] = CATS_VS_DOGS_SPLITS,
) -> ImageSplits:
    """``cats_vs_dogs`` from TensorFlow Datasets as training, validation and test pipelines (one-hot labels).

    The data set ships one ``train`` split of about 23,000 photos; the split API cuts it into disjoint
    slices (:data:`CATS_VS_DOGS_SPLITS`: 10% to train, 2% to validate, the last 20% to test). It downloads
    about 800 MB the first time. Pixels stay in [0, 255].

    Example:
        >>> train, val, test, names, sizes = load_cats_vs_dogs()  # doctest: +SKIP
        >>> names  # doctest: +SKIP
        ['cat', 'dog']
    """
    import tensorflow_datasets as tfds

    parts, info = tfds.load(
        "cats_vs_dogs",
        split=[splits["train"], splits["val"], splits["test"]],
        as_supervised=True,
        with_info=True,
        data_dir=data_dir,
    )
    names = list(info.features["label"].names)
    sizes = {split: _cardinality(part) for split, part in zip(("train", "val", "test"), parts, strict=True)}
    train, val, test = (
        _tfds_pipeline(part, image_size, batch_size, len(names), shuffle=(i == 0)) for i, part in enumerate(parts)
    )
    return ImageSplits(train, val, test, names, sizes)


def _cardinality(dataset) -> int:
    """How many elements an unbatched dataset holds (counted once when TensorFlow does not know)."""
    known = int(dataset.cardinality())
    return known if known >= 0 else int(dataset.reduce(0, lambda count, _: count + 1))


def tiny_two_class_dir(profile: config.Profile) -> Path:
    """The smoke profile's generated two-class folder (``train/``, ``test/``; made on first use)."""
    root = profile.data_root / f"tiny_two_classes_{profile.image_size[0]}px"
    if not (root / "test").is_dir():
        partial = root.with_name(root.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        make_tiny_image_folders(
            partial, ("red_circle", "blue_square"), per_class=16, size=profile.image_size[0], seed=profile.seed
        )
        partial.rename(root)
    return root


def two_class_data(profile: config.Profile | None = None) -> ImageSplits:
    """Notebook 05's data: cats vs dogs, or any local two-class folder, as train / validation / test pipelines.

    - ``COURSE_DATA_DIR`` set: a folder with ``train/<class>/`` and ``test/<class>/`` (or ``val/<class>/``,
      as the classic ants-vs-bees set has). Its ``test/`` (else ``val/``) is the test set; the validation
      set is set aside from ``train/`` (:func:`validation_per_class` images per class), the rest trains.
      The folder is checked first (:func:`check_image_folder`): errors raise :class:`BadImageFolderError`.
    - smoke profile: the same, from a tiny generated two-class folder.
    - otherwise: ``cats_vs_dogs`` from TensorFlow Datasets (:func:`load_cats_vs_dogs`).

    Example:
        >>> train, val, test, class_names, sizes = two_class_data()  # doctest: +SKIP
    """
    profile = profile or config.load_profile()
    if profile.data_dir is None and not profile.smoke:
        return load_cats_vs_dogs(profile.image_size, profile.batch_size)
    source = profile.data_dir if profile.data_dir is not None else tiny_two_class_dir(profile)
    test_dir = next((source / name for name in ("test", "val") if (source / name).is_dir()), None)
    if not (source / "train").is_dir() or test_dir is None:
        raise ValueError(
            f"{source} must hold train/<class>/ and test/<class>/ (or val/<class>/) folders, one sub-folder per class."
        )
    image_check.require_usable(source)  # before any subset links to a file training cannot use
    val_dir = profile.data_root / "subsets" / f"{source.name}_validation_seed{profile.seed}"
    per_class = validation_per_class(min(count_images(test_dir).values()))
    make_validation_split(source / "train", val_dir, per_class, profile.seed)
    train_dir = profile.data_root / "subsets" / f"{source.name}_train_seed{profile.seed}"
    make_subset(source / "train", train_dir, 1.0, profile.seed, exclude=image_names(val_dir))
    train, val, test, names = image_folders(
        train_dir, val_dir, test_dir, profile.image_size, profile.batch_size, profile.seed
    )
    sizes = {"train": num_images(train_dir), "val": num_images(val_dir), "test": num_images(test_dir)}
    return ImageSplits(train, val, test, names, sizes)


def _tfds_pipeline(ds, image_size, batch_size, num_classes, shuffle):
    import tensorflow as tf

    ds = ds.filter(lambda image, label: label < num_classes)

    def prepare(image, label):
        image = tf.image.resize(tf.cast(image, tf.float32), image_size)
        return image, tf.one_hot(label, num_classes)

    ds = ds.map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
    if shuffle:
        ds = ds.shuffle(1000, seed=config.DEFAULT_SEED)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
