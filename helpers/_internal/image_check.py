"""Checking a folder of images before training on it, and setting the unusable files aside.

Photos collected by hand break training in many small ways: a text file named ``.jpg``, an iPhone
HEIC photo, a download cut short, macOS's ``._photo.jpg`` files, a photo dropped next to the class
folders instead of into one. :func:`check_image_folder` reads every file once and lists *every*
problem, each with a short stable code (:data:`KINDS`) and what to do about it; it changes nothing.
:func:`clean_image_folder` moves the unusable files into ``<root>_rejected/`` (it never deletes
anything) and, with ``convert=True``, writes RGB JPEG copies of the images that can be converted.

Problems are **errors** (the folder cannot be trained on until they are fixed) or **warnings**
(training works; the result may suffer). The loaders of :mod:`helpers.data` call
:func:`require_usable` first: it raises :class:`BadImageFolderError` on errors, prints each warning
once per session, and does not read an unchanged folder again.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

#: File endings ``keras.utils.image_dataset_from_directory`` reads; it skips every other file.
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
#: Image formats TensorFlow's loader decodes, with the endings each may carry.
LOADER_FORMATS = {"JPEG": (".jpg", ".jpeg"), "PNG": (".png",), "GIF": (".gif",), "BMP": (".bmp",)}
#: Folder names that make a dataset folder a split layout (``train/``, ``val/``, ``test/``), in this order.
SPLIT_NAMES = ("train", "val", "validation", "test")
#: ``clean_image_folder(root)`` moves files into ``<root>`` + this; checks skip folders with this ending.
REJECTED_SUFFIX = "_rejected"
#: The log ``clean_image_folder`` appends to, inside the rejected folder.
LOG_NAME = "rejected.csv"
#: System files that are not photos (compared in lower case), besides every name starting with a dot.
HIDDEN_NAMES = frozenset({"thumbs.db", "ehthumbs.db", "desktop.ini", "__macosx"})
#: Default smallest useful image side in pixels.
MIN_SIDE = 32
#: Default largest ratio between the biggest and the smallest class of a split.
MAX_RATIO = 10.0

_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})
_GREY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"})
_WIDE_MODES = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N", "F"})
_HEIF_BRANDS = {
    b"heic": "HEIC", b"heix": "HEIC", b"hevc": "HEIC", b"hevx": "HEIC", b"heim": "HEIC", b"heis": "HEIC",
    b"hevm": "HEIC", b"hevs": "HEIC", b"mif1": "HEIF", b"msf1": "HEIF", b"avif": "AVIF", b"avis": "AVIF",
}
_ORIENTATIONS = {
    2: "mirrored", 3: "upside down", 4: "upside down and mirrored", 5: "on its side and mirrored",
    6: "on its side (rotate 90 degrees clockwise)", 7: "on its side and mirrored",
    8: "on its side (rotate 90 degrees anticlockwise)",
}


class Kind(NamedTuple):
    """What a problem code means: how serious it is, what it applies to, and what to do."""

    severity: str  #: ``"error"`` (training refuses the folder) or ``"warning"`` (training goes ahead)
    on_file: bool  #: a file (which cleaning may move or convert) rather than a folder or the layout
    convertible: bool  #: ``clean_image_folder(..., convert=True)`` can turn the file into a usable RGB JPEG
    fix: str  #: what to do


_CONVERT = "clean_image_folder(folder, convert=True)"

#: Every problem code, with its severity, what it applies to and what to do.
KINDS: dict[str, Kind] = {
    # errors: a file the loader cannot use
    "empty_file": Kind("error", True, False, "Copy or download the photo again, or remove it."),
    "not_image": Kind("error", True, False, "Replace it with the real photo or remove it."),
    "hidden_image": Kind("error", True, False, "Remove it: it is not one of your photos."),
    "truncated": Kind("error", True, False, "Copy or download the photo again, or remove it."),
    "corrupt": Kind("error", True, False, "Replace it with a good copy or remove it."),
    "unsupported_format": Kind(
        "error", True, True,
        "Save it as JPEG or PNG (iPhone: Settings > Camera > Formats > Most Compatible); "
        f"{_CONVERT} converts the formats Pillow reads (WebP, TIFF, AVIF).",
    ),
    "ignored_extension": Kind("error", True, True, f"Rename it to .jpg / .png, or {_CONVERT} writes a .jpg copy."),
    "broken_link": Kind("error", True, False, "Restore the file it points to, or remove the link."),
    "unreadable": Kind("error", True, False, "Check the file's permissions, or remove it."),
    "loose_file": Kind("error", True, False, "Move it into the folder of its class."),
    "system_folder": Kind("error", True, False, "Delete the folder (or move it out): it holds no photos."),
    # errors: the layout
    "no_classes": Kind("error", False, False, "Put the photos into one sub-folder per class: <folder>/<class>/."),
    "empty_class": Kind("error", False, False, "Add photos of this class or delete the empty folder."),
    "single_class": Kind("error", False, False, "Add a folder for at least one more class."),
    "class_mismatch": Kind("error", False, False, "Use the same class folders in every split."),
    # warnings: the file loads, but ...
    "hidden_file": Kind("warning", True, False, "Nothing to do (the loader skips it); you may delete it."),
    "stray_file": Kind("warning", True, False, "Nothing to do (the loader skips it), or move it elsewhere."),
    "wrong_extension": Kind("warning", True, True, f"Rename it to the ending of its format, or {_CONVERT}."),
    "greyscale": Kind("warning", True, True, f"Fine to keep; {_CONVERT} writes an RGB copy."),
    "alpha": Kind("warning", True, True, f"{_CONVERT} puts it on a white background."),
    "cmyk": Kind("warning", True, True, f"{_CONVERT} writes an RGB copy."),
    "sixteen_bit": Kind("warning", True, True, f"{_CONVERT} writes an 8-bit RGB copy."),
    "animated": Kind("warning", True, True, f"Fine to keep; {_CONVERT} keeps the first frame as a JPEG."),
    "rotated": Kind("warning", True, True, f"{_CONVERT} writes an upright copy."),
    "too_small": Kind("warning", True, False, "Use a larger photo, or remove it."),
    "duplicate_across_splits": Kind(
        "warning", True, False, "Keep the photo in one split only, or the test score is too optimistic."
    ),
    "duplicate_in_split": Kind("warning", True, False, "Remove one copy (it counts twice in training)."),
    # warnings: the layout
    "nested_folder": Kind("warning", False, False, "Move its images up into the class folder."),
    "uneven_classes": Kind(
        "warning", False, False, "Collect more photos of the small classes (or use fewer of the big ones)."
    ),
}


class BadImageFolderError(ValueError):
    """An image folder holds problems that stop training; the message names them and says what to do."""


@dataclass(frozen=True)
class Problem:
    """One problem: where it is, its code (a key of :data:`KINDS`) and what is wrong.

    Example:
        >>> problem = Problem(Path("cats/notes.jpg"), "not_image", "it holds text ('my notes'), not an image.")
        >>> problem.is_error, problem.reason
        (True, "it holds text ('my notes'), not an image. Replace it with the real photo or remove it.")
    """

    path: Path
    kind: str
    detail: str

    @property
    def severity(self) -> str:
        """``"error"`` or ``"warning"``."""
        return KINDS[self.kind].severity

    @property
    def is_error(self) -> bool:
        """Whether the problem stops training."""
        return self.severity == "error"

    @property
    def reason(self) -> str:
        """What is wrong and what to do, in words."""
        return f"{self.detail} {KINDS[self.kind].fix}"

    def __str__(self) -> str:
        return f"{self.path}: {self.kind}: {self.reason}"


@dataclass
class FolderReport:
    """Everything :func:`check_image_folder` found in a dataset folder."""

    root: Path | None  #: the dataset folder (``None`` when checked as separate split folders)
    layout: str  #: ``"splits"`` (``train/``, ``test/``, ...) or ``"classes"`` (``<root>/<class>/``)
    splits: dict[str, Path]  #: split name to folder (``""`` for a one-level class folder)
    classes: dict[str, dict[str, int]]  #: usable images per class, per split
    problems: list[Problem] = field(default_factory=list)
    files: int = 0  #: files inspected
    seconds: float = 0.0  #: how long the check took

    @property
    def errors(self) -> list[Problem]:
        """The problems that stop training."""
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        """The problems training goes ahead with."""
        return [p for p in self.problems if not p.is_error]

    @property
    def ok(self) -> bool:
        """Whether the folder can be trained on (no errors; warnings allowed)."""
        return not self.errors

    def kinds(self) -> Counter[str]:
        """How many problems of each kind.

        Example:
            >>> check_image_folder("my_photos").kinds()  # doctest: +SKIP
            Counter({'greyscale': 3, 'not_image': 1})
        """
        return Counter(p.kind for p in self.problems)

    def paths(self, kind: str) -> list[Path]:
        """The paths with a problem of ``kind``, in report order.

        Example:
            >>> check_image_folder("my_photos").paths("greyscale")  # doctest: +SKIP
            [PosixPath('my_photos/cats/old.jpg')]
        """
        return [p.path for p in self.problems if p.kind == kind]

    def error_files(self) -> list[Path]:
        """The files (and system folders) with at least one error, sorted: what :func:`clean_image_folder` moves.

        Example:
            >>> check_image_folder("my_photos").error_files()  # doctest: +SKIP
            [PosixPath('my_photos/cats/notes.jpg')]
        """
        return sorted({p.path for p in self.errors if KINDS[p.kind].on_file})

    def show(self, path: Path) -> str:
        """``path`` relative to the checked folder where possible, for reading."""
        bases = [self.root] if self.root is not None else [folder.parent for folder in self.splits.values()]
        for base in bases:
            if path.is_relative_to(base):
                return path.relative_to(base).as_posix()
        return str(path)

    def summary(self, per_kind: int = 3) -> str:
        """Counts per kind and the first ``per_kind`` paths of each, errors first, with what to do.

        Example:
            >>> print(check_image_folder("my_photos").summary(per_kind=5))  # doctest: +SKIP
            Image check of my_photos (class folders): 212 files, 3 classes, 1 errors, 2 warnings (0.1 s).
            ...
        """
        where = str(self.root) if self.root is not None else ", ".join(f"{k}={v}" for k, v in self.splits.items())
        n_classes = len({c for per_split in self.classes.values() for c in per_split})
        shape = "class folders" if self.layout == "classes" else "splits " + ", ".join(self.splits)
        lines = [
            f"Image check of {where} ({shape}): {self.files} files, {n_classes} classes, "
            f"{len(self.errors)} errors, {len(self.warnings)} warnings ({self.seconds:.1f} s)."
        ]
        for severity, title in (("error", "ERRORS (training refuses the folder)"), ("warning", "WARNINGS")):
            chosen = [p for p in self.problems if p.severity == severity]
            if not chosen:
                continue
            lines.append(f"{title}:")
            by_kind: dict[str, list[Problem]] = defaultdict(list)
            for problem in chosen:
                by_kind[problem.kind].append(problem)
            for kind, problems in by_kind.items():
                lines.append(f"  {kind} ({len(problems)}): {KINDS[kind].fix}")
                lines += [f"    {self.show(p.path)}: {p.detail}" for p in problems[:per_kind]]
                if len(problems) > per_kind:
                    lines.append(f"    ... and {len(problems) - per_kind} more")
        if self.ok:
            lines.append("No errors: the folder can be trained on.")
        elif self.error_files() and self.root is not None:
            lines.append(f'To set the unusable files aside: helpers.data.clean_image_folder("{self.root}")')
            if any(KINDS[p.kind].convertible for p in self.errors):
                lines.append("(add convert=True to write JPEG copies of what can be converted instead)")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


# --------------------------------------------------------------------------- one file


@dataclass(frozen=True)
class _Content:
    """What reading one file found (independent of its name and place)."""

    sha256: str | None = None
    format: str | None = None
    error: str | None = None  # a file error kind: empty_file, not_image, truncated, corrupt, unreadable
    detail: str = ""
    mode: str = ""
    width: int = 0
    height: int = 0
    frames: int = 1
    bits: int = 8
    alpha: bool = False
    orientation: int = 1


def is_hidden(name: str) -> bool:
    """Whether a file or folder name is a system file rather than a photo or class.

    Example:
        >>> [is_hidden(n) for n in (".DS_Store", "._cat.jpg", "Thumbs.db", "cat.jpg")]
        [True, True, True, False]
    """
    return name.startswith(".") or name.lower() in HIDDEN_NAMES


def sniff_format(head: bytes) -> str | None:
    """The image format the first bytes of a file announce (``"JPEG"``, ``"HEIC"``, ...), or ``None``.

    Example:
        >>> sniff_format(b"\\x89PNG\\r\\n\\x1a\\n"), sniff_format(b"\\x00\\x00\\x00\\x18ftypheic"), sniff_format(b"hi")
        ('PNG', 'HEIC', None)
    """
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head.startswith(b"BM") and len(head) >= 14:
        return "BMP"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if head[4:8] == b"ftyp":
        return _HEIF_BRANDS.get(head[8:12], "HEIF" if head[8:12].startswith(b"he") else None)
    return None


def _describe_data(data: bytes) -> str:
    """A few words on what a non-image file holds."""
    head = data[:512].lstrip()
    lower = head.lower()
    if lower.startswith((b"<!doctype html", b"<html")):
        return "it is a web page (HTML), not an image: the page was saved instead of the picture."
    if head.startswith(b"%PDF"):
        return "it is a PDF document, not an image."
    if head.startswith(b"PK\x03\x04"):
        return "it is a ZIP archive, not an image."
    try:
        text = data[:200].decode("utf-8")
    except UnicodeDecodeError:
        return "its content is not an image format the check knows."
    if text.isprintable() or all(c.isprintable() or c.isspace() for c in text):
        snippet = " ".join(text.split())[:40]
        return f"it holds text ({snippet!r}), not an image."
    return "its content is not an image format the check knows."


def _image_facts(data: bytes, fmt: str) -> dict:
    """Decode the pixels of a JPEG / PNG / GIF / BMP fully and return its mode, size, frames, bits, alpha, EXIF turn."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        facts = {
            "mode": image.mode,
            "width": image.size[0],
            "height": image.size[1],
            "frames": int(getattr(image, "n_frames", 1)) if fmt == "GIF" else 1,
            "alpha": image.mode in _ALPHA_MODES or "transparency" in image.info,
        }
        try:
            facts["orientation"] = int(image.getexif().get(0x0112, 1) or 1)
        except Exception:  # a damaged EXIF block is not worth refusing a photo over
            facts["orientation"] = 1
        if fmt == "GIF":
            image.seek(0)
        image.load()  # decodes every pixel: a file cut short fails here
    if fmt == "PNG":
        with Image.open(io.BytesIO(data)) as image:
            image.verify()  # chunk checksums and the end marker, which load() does not look at
        bits = data[24] if data[12:16] == b"IHDR" and len(data) > 24 else 8
    else:
        bits = 16 if facts["mode"] in _WIDE_MODES else 8
    facts["bits"] = 16 if bits == 16 or facts["mode"] in _WIDE_MODES else 8
    return facts


def read_content(path: Path, full: bool = True) -> _Content:
    """Read one file once: hash it and, for the loader's formats, decode every pixel (``full``; else sniff the head).

    Example:
        >>> read_content(Path("cat.jpg")).format  # doctest: +SKIP
        'JPEG'
    """
    from PIL import Image, ImageFile

    try:
        with open(path, "rb") as handle:
            data = handle.read() if full else handle.read(4096)
    except OSError as err:
        return _Content(error="unreadable", detail=f"it cannot be read ({err.strerror or err}).")
    if not data:
        return _Content(error="empty_file", detail="it is empty (0 bytes): a copy or download did not finish.")
    fmt = sniff_format(data[:32])
    sha = hashlib.sha256(data).hexdigest() if full else None
    if fmt is None:
        try:
            with Image.open(io.BytesIO(data)) as image:
                fmt = str(image.format or "unknown")
        except Exception:  # Pillow raises many kinds for data it does not know
            return _Content(sha, error="not_image", detail=_describe_data(data))
    if fmt not in LOADER_FORMATS or not full:
        return _Content(sha, format=fmt)
    try:
        if ImageFile.LOAD_TRUNCATED_IMAGES:  # Pillow was told to pad files cut short; a check must not be
            raise OSError("not checked: PIL.ImageFile.LOAD_TRUNCATED_IMAGES is True")
        facts = _image_facts(data, fmt)
    except Exception as err:  # Pillow raises OSError, SyntaxError, ValueError, ... for bad data
        message = str(err) or type(err).__name__
        cut = "truncated" in message.lower()
        if cut:
            detail = f"the {fmt} data is cut short ({message}): an interrupted copy or download."
        else:
            detail = f"the {fmt} data cannot be decoded ({message})."
        return _Content(sha, format=fmt, error="truncated" if cut else "corrupt", detail=detail)
    return _Content(sha, format=fmt, **facts)


def _content_problems(content: _Content, suffix: str, min_side: int) -> list[tuple[str, str]]:
    """The problems ``content`` causes for a file ending in ``suffix`` that the loader reads."""
    if content.error:
        return [(content.error, content.detail)]
    fmt = str(content.format)
    if fmt not in LOADER_FORMATS:
        return [(
            "unsupported_format",
            f"it is a {fmt} image: TensorFlow's image_dataset_from_directory reads only JPEG, PNG, BMP and GIF.",
        )]
    found = []
    if suffix not in LOADER_FORMATS[fmt]:
        found.append(("wrong_extension", f"it is a {fmt} image named '{suffix}' (expected {LOADER_FORMATS[fmt][0]})."))
    if content.mode == "CMYK":
        found.append(("cmyk", "its colours are CMYK (a print format): they may come out wrong when decoded."))
    if content.bits == 16:
        found.append(("sixteen_bit", f"it has 16 bits per channel (mode {content.mode}): the loader cuts them to 8."))
    if content.alpha:
        found.append((
            "alpha",
            f"it has transparency (mode {content.mode}): the loader drops it, so transparent areas show whatever "
            "colour is stored under them (often black).",
        ))
    if content.mode in _GREY_MODES:
        found.append(("greyscale", f"it is greyscale (mode {content.mode}): the model gets three identical channels."))
    if content.frames > 1:
        found.append(("animated", f"it is an animated GIF with {content.frames} frames: only the first is used."))
    if content.orientation in _ORIENTATIONS:
        found.append((
            "rotated",
            f"its EXIF data says it is shown {_ORIENTATIONS[content.orientation]}; TensorFlow ignores that, "
            "so the model sees it turned.",
        ))
    if min(content.width, content.height) < min_side:
        found.append((
            "too_small",
            f"it is only {content.width}x{content.height} pixels (under {min_side} on a side): blown up to the "
            "model's input size it is a blur.",
        ))
    return found


# --------------------------------------------------------------------------- the folder


@dataclass
class _Entry:
    """A file found under a split folder: where it sits and which class folder holds it."""

    path: Path
    split: str
    klass: str | None  # None: directly in the split folder (no class)
    content: _Content | None = None


#: File contents already read this session, by real path, size and modification time (the loaders reuse them).
_CONTENTS: dict[tuple[str, int, int, bool], _Content] = {}


def _resolve_layout(root: Path, layout: str) -> dict[str, Path]:
    """The split folders of a dataset folder: ``{"train": ..., "test": ...}`` or ``{"": root}``."""
    if layout not in ("auto", "splits", "classes"):
        raise ValueError(f"layout must be 'auto', 'splits' or 'classes', got {layout!r}")
    subdirs = sorted(
        p.name for p in root.iterdir() if p.is_dir() and not is_hidden(p.name) and not p.name.endswith(REJECTED_SUFFIX)
    )
    splits = [name for name in SPLIT_NAMES if name in subdirs]
    if layout == "splits" or (layout == "auto" and splits and ("train" in splits or set(subdirs) <= set(SPLIT_NAMES))):
        return {name: root / name for name in splits}
    return {"": root}


def _walk_split(split: str, folder: Path) -> tuple[list[_Entry], list[Problem], dict[str, Path]]:
    """Every file under one split folder, the layout problems met on the way, and its class folders."""
    entries: list[_Entry] = []
    problems: list[Problem] = []
    classes: dict[str, Path] = {}
    for child in sorted(folder.iterdir()):
        if child.name.endswith(REJECTED_SUFFIX) and child.is_dir():
            continue
        if child.is_dir() and not child.name.startswith(".") and child.name.lower() in HIDDEN_NAMES:
            detail = "a system folder (macOS metadata from unzipping on a Mac): the loader would take it for a class."
            problems.append(Problem(child, "system_folder", detail))
        elif is_hidden(child.name):
            problems.append(Problem(child, "hidden_file", "a hidden system file or folder, not a photo."))
        elif child.is_dir():
            classes[child.name] = child
        else:
            entries.append(_Entry(child, split, None))
    for name, class_dir in classes.items():
        for dirpath, dirnames, filenames in os.walk(class_dir):  # as Keras walks it: links to folders not followed
            here = Path(dirpath)
            dirnames.sort()
            if here == class_dir:
                for sub in dirnames:
                    link = " It is a link, which the loader does not follow: its images are not used." if (
                        here / sub
                    ).is_symlink() else ""
                    problems.append(Problem(
                        here / sub,
                        "nested_folder",
                        f"a folder inside class '{name}': Keras reads its images as '{name}', but the course's "
                        f"counts and subsets only see images directly in the class folder.{link}",
                    ))
            entries += [_Entry(here / f, split, name) for f in sorted(filenames)]
    return entries, problems, classes


@contextmanager
def _strict_pillow() -> Iterator[None]:
    """Within the block, Pillow refuses files cut short (``ImageFile.LOAD_TRUNCATED_IMAGES`` False), as by default."""
    from PIL import ImageFile

    relaxed = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = relaxed


def _read_many(paths: list[Path], full: list[bool], workers: int | None = None) -> list[_Content]:
    """:func:`read_content` for each path, in a thread pool (hashing and decoding release the GIL)."""
    if not paths:
        return []
    workers = workers or min(8, (os.cpu_count() or 1) + 2)
    with _strict_pillow(), ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda job: read_content(*job), zip(paths, full, strict=True)))


def _read_all(entries: list[_Entry], cache: bool, workers: int | None) -> None:
    """Fill in ``entry.content`` for every entry that needs reading, each file read once (links to one file too)."""
    jobs: list[tuple[_Entry, tuple[str, int, int, bool]]] = []
    for entry in entries:
        if is_hidden(entry.path.name) or not os.path.exists(entry.path):
            continue  # hidden files are judged by name, broken links by the missing target
        try:
            stat = entry.path.stat()
        except OSError as err:
            entry.content = _Content(error="unreadable", detail=f"it cannot be read ({err.strerror or err}).")
            continue
        full = entry.path.suffix.lower() in IMAGE_SUFFIXES
        key = (os.path.realpath(entry.path), stat.st_size, stat.st_mtime_ns, full)
        if cache and key in _CONTENTS:
            entry.content = _CONTENTS[key]
        else:
            jobs.append((entry, key))
    unique = list(dict.fromkeys(key for _, key in jobs))
    read = dict(zip(unique, _read_many([Path(key[0]) for key in unique], [key[3] for key in unique], workers),
                    strict=True))
    for entry, key in jobs:
        entry.content = read[key]
        if cache:
            _CONTENTS[key] = read[key]


def _file_problems(entry: _Entry, min_side: int) -> list[Problem]:
    """The problems of one file, from its name, its place and its content."""
    path, suffix = entry.path, entry.path.suffix.lower()
    readable = suffix in IMAGE_SUFFIXES
    if is_hidden(path.name):
        if readable and entry.klass is not None:
            detail = "a hidden system file with an image ending (like macOS's '._photo.jpg'): the loader would read it."
            return [Problem(path, "hidden_image", detail)]
        return [Problem(path, "hidden_file", "a hidden system file, not a photo.")]
    if os.path.islink(path) and not os.path.exists(path):
        return [Problem(path, "broken_link", f"a link to {os.readlink(path)}, which does not exist.")]
    content = entry.content or _Content(error="unreadable", detail="it could not be read.")
    is_image = content.format is not None
    found: list[Problem] = []
    if entry.klass is None:
        if not is_image:
            return [Problem(path, "stray_file", "not an image, outside any class folder.")]
        where = f"{entry.split}/" if entry.split else "the dataset folder"
        found.append(Problem(path, "loose_file", f"an image directly in {where}, outside any class folder."))
        if not readable:
            return found
    if not readable:
        if content.error == "unreadable":
            return [Problem(path, "unreadable", content.detail)]
        if not is_image:
            return [Problem(path, "stray_file", f"not an image ({suffix or 'no ending'}): the loader skips it.")]
        if content.format in LOADER_FORMATS:
            detail = (
                f"a {content.format} image ending in '{suffix or 'nothing'}', which the loader skips "
                "(it reads .jpg .jpeg .png .bmp .gif): the photo would be left out."
            )
            return [Problem(path, "ignored_extension", detail)]
        detail = f"it is a {content.format} image: TensorFlow's loader skips it (it reads only JPEG, PNG, BMP, GIF)."
        return [Problem(path, "unsupported_format", detail)]
    return found + [Problem(path, kind, detail) for kind, detail in _content_problems(content, suffix, min_side)]


def _layout_problems(
    splits: Mapping[str, Path], class_dirs: Mapping[str, dict[str, Path]], counts: Mapping[str, dict[str, int]],
    max_ratio: float,
) -> list[Problem]:
    """Problems of the class folders: none, one, empty, uneven, different between splits."""
    problems = []
    for split, folder in splits.items():
        names = class_dirs[split]
        if not names:
            problems.append(Problem(folder, "no_classes", "it holds no class folders."))
        elif len(names) == 1:
            only = next(iter(names))
            detail = f"it has one class only ('{only}'): nothing to tell apart."
            problems.append(Problem(folder, "single_class", detail))
        for name, path in names.items():
            if counts[split].get(name, 0) == 0:
                problems.append(Problem(path, "empty_class", f"class folder '{name}' holds no usable image."))
        sizes = {name: n for name, n in counts[split].items() if n > 0}
        if len(sizes) > 1 and max(sizes.values()) > max_ratio * min(sizes.values()):
            big, small = max(sizes, key=sizes.get), min(sizes, key=sizes.get)
            problems.append(Problem(folder, "uneven_classes", (
                f"the classes are very uneven: '{big}' has {sizes[big]} images, '{small}' only {sizes[small]} "
                f"(more than {max_ratio:g} to 1): the model will favour the big class."
            )))
    reference = next(iter(splits), None)
    for split, folder in splits.items():
        if split == reference:
            continue
        missing = sorted(set(class_dirs[reference]) - set(class_dirs[split]))
        extra = sorted(set(class_dirs[split]) - set(class_dirs[reference]))
        if missing or extra:
            parts = ([f"it lacks {missing}"] if missing else []) + ([f"it has extra {extra}"] if extra else [])
            detail = f"its classes differ from those of {reference}/: {' and '.join(parts)}."
            problems.append(Problem(folder, "class_mismatch", detail))
    return problems


def _near(path: Path, folder: Path) -> str:
    """``path`` as ``<folder name>/<path inside it>``, short enough to read in a message."""
    return (Path(folder.name) / path.relative_to(folder)).as_posix() if path.is_relative_to(folder) else str(path)


def _duplicate_problems(entries: list[_Entry], usable: set[int], splits: Mapping[str, Path]) -> list[Problem]:
    """The same bytes twice: within one split, and in two splits (the later one is reported)."""
    same_folder = {}
    for split, folder in splits.items():
        same_folder.setdefault(os.path.realpath(folder), split)
    problems = []
    first: dict[tuple[str, str], Path] = {}  # (split, sha) -> first file
    seen_in: dict[str, list[tuple[str, Path]]] = defaultdict(list)  # sha -> (split, first file) in split order
    for split in splits:
        if same_folder[os.path.realpath(splits[split])] != split:
            continue  # the same folder passed twice (e.g. as validation and test data): not a duplicate
        for entry in entries:
            if entry.split != split or id(entry) not in usable or entry.content is None:
                continue
            sha = str(entry.content.sha256)
            if (split, sha) in first:
                other = first[(split, sha)]
                detail = f"the same file (identical bytes) as {_near(other, splits[split])}."
                problems.append(Problem(entry.path, "duplicate_in_split", detail))
                continue
            first[(split, sha)] = entry.path
            earlier = [(s, p) for s, p in seen_in[sha] if s != split]
            if earlier:
                other_split, other = earlier[0]
                problems.append(Problem(entry.path, "duplicate_across_splits", (
                    f"the same file (identical bytes) as {_near(other, splits[other_split])}."
                )))
            seen_in[sha].append((split, entry.path))
    return problems


def _as_splits(root: str | Path | Mapping[str, str | Path], layout: str) -> tuple[Path | None, dict[str, Path]]:
    """A dataset folder or a mapping of split folders, as ``(root or None, {split: folder})``, checked to exist."""
    if isinstance(root, Mapping):
        base, splits = None, {str(k): Path(v) for k, v in root.items()}
    else:
        base = Path(root)
        if not base.is_dir():
            raise BadImageFolderError(
                f"{base} does not exist. Expected a folder with one sub-folder of images per class "
                "(or train/<class>/ and test/<class>/ folders)."
            )
        splits = _resolve_layout(base, layout)
        if not splits:
            raise BadImageFolderError(f"{base} holds no {', '.join(SPLIT_NAMES)} folder (layout='splits').")
    for folder in splits.values():
        if not folder.is_dir():
            raise BadImageFolderError(
                f"{folder} does not exist. Expected a folder with one sub-folder of images per class."
            )
    return base, splits


def _check(
    root: str | Path | Mapping[str, str | Path], layout: str, min_side: int, max_ratio: float, cache: bool,
    workers: int | None,
) -> FolderReport:
    """The check behind :func:`check_image_folder` and :func:`require_usable` (``cache``: reuse file contents)."""
    start = time.perf_counter()
    base, splits = _as_splits(root, layout)
    entries, problems, class_dirs = [], [], {}
    for split, folder in splits.items():
        found, trouble, class_dirs[split] = _walk_split(split, folder)
        entries += found
        problems += trouble
    _read_all(entries, cache, workers)
    usable: set[int] = set()
    counts: dict[str, dict[str, int]] = {split: dict.fromkeys(class_dirs[split], 0) for split in splits}
    for entry in entries:
        found = _file_problems(entry, min_side)
        problems += found
        if entry.klass is not None and entry.path.suffix.lower() in IMAGE_SUFFIXES and not any(
            p.is_error for p in found
        ):
            usable.add(id(entry))
            counts[entry.split][entry.klass] += 1
    problems += _layout_problems(splits, class_dirs, counts, max_ratio)
    problems += _duplicate_problems(entries, usable, splits)
    order = {kind: i for i, kind in enumerate(KINDS)}
    problems.sort(key=lambda p: (not p.is_error, order[p.kind], str(p.path)))
    layout_name = "classes" if list(splits) == [""] else "splits"
    return FolderReport(base, layout_name, splits, counts, problems, len(entries), time.perf_counter() - start)


def check_image_folder(
    root: str | Path | Mapping[str, str | Path],
    *,
    layout: str = "auto",
    min_side: int = MIN_SIDE,
    max_ratio: float = MAX_RATIO,
    workers: int | None = None,
) -> FolderReport:
    """Inspect a whole image folder once and report every problem; nothing on disk changes.

    ``root`` is a split layout (``train/``, ``val/`` and/or ``test/``, each with class sub-folders), a
    one-level class folder (``root/<class>/*.jpg``), or a mapping of split name to folder.
    ``layout="auto"`` tells the two apart by the folder names; ``"splits"`` / ``"classes"`` force one.
    Links are followed. Every file is read once: hashed (SHA-256, for duplicates) and, if the loader
    reads it, decoded pixel by pixel with Pillow (so a file cut short is caught, not only a bad header),
    in a thread pool.

    **Errors** (training refuses the folder): ``empty_file``, ``not_image``, ``hidden_image`` (macOS
    ``._photo.jpg``), ``truncated``, ``corrupt``, ``unsupported_format`` (HEIC / HEIF / AVIF, WebP, TIFF,
    ...), ``ignored_extension`` (e.g. ``.jfif``), ``broken_link``, ``unreadable``, ``loose_file``,
    ``system_folder`` (``__MACOSX``); and of the layout ``no_classes``, ``empty_class``, ``single_class``,
    ``class_mismatch``. **Warnings** (training goes ahead): ``hidden_file`` (``.DS_Store``, ``Thumbs.db``),
    ``stray_file``, ``wrong_extension``, ``greyscale``, ``alpha``, ``cmyk``, ``sixteen_bit``, ``animated``,
    ``rotated`` (EXIF), ``too_small``, ``duplicate_across_splits`` (the course's own Food-101 folder has
    two), ``duplicate_in_split``, ``nested_folder``, ``uneven_classes``. :data:`KINDS` says what to do
    about each.

    Args:
        root: the dataset folder, or ``{"train": ..., "test": ...}``.
        layout: ``"auto"``, ``"splits"`` or ``"classes"``.
        min_side: images with a side shorter than this (pixels) are reported as ``too_small``.
        max_ratio: a split whose biggest class has more than this times the images of its smallest is
            reported as ``uneven_classes``.
        workers: threads that read files (default: a few more than the CPU cores).

    Returns:
        a :class:`FolderReport`: ``.ok``, ``.errors``, ``.warnings``, ``.summary()``; each problem has a
        ``path``, a ``kind`` (a key of :data:`KINDS`) and a ``reason`` that says what to do.

    Example:
        >>> report = check_image_folder("my_photos")  # doctest: +SKIP
        >>> report.ok, report.kinds()  # doctest: +SKIP
        (False, Counter({'not_image': 1, 'greyscale': 2}))
        >>> print(report)  # doctest: +SKIP
    """
    return _check(root, layout, min_side, max_ratio, cache=False, workers=workers)


def unreadable_images(folder: str | Path) -> list[Path]:
    """Files under ``folder`` with an image ending whose content cannot be decoded as an image the loader reads.

    Example:
        >>> unreadable_images("data/food/train")  # doctest: +SKIP
        []
    """
    files = [p for p in sorted(Path(folder).rglob("*")) if p.suffix.lower() in IMAGE_SUFFIXES and not p.is_dir()]
    contents = _read_many(files, [True] * len(files))
    pairs = zip(files, contents, strict=True)
    return [path for path, content in pairs if content.error or content.format not in LOADER_FORMATS]


# --------------------------------------------------------------------------- the loaders' gate


#: Checks passed this session: (layout, split folders, thresholds) -> the folders' signature then.
_VERIFIED: dict[tuple, tuple] = {}
#: Warnings already printed this session: (kind, real path).
_WARNED: set[tuple[str, str]] = set()


def folder_signature(folders: Iterable[Path]) -> tuple:
    """Names, kinds, sizes and modification times of everything under ``folders``: changes when anything does.

    Example:
        >>> folder_signature([Path("my_photos")])  # doctest: +SKIP
        (('my_photos', 'cats', 'd', 0, 0), ...)
    """
    entries = []
    for folder in folders:
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames.sort()
            for name in sorted(dirnames) + sorted(filenames):
                path = os.path.join(dirpath, name)
                try:
                    stat = os.stat(path)
                    entries.append((str(folder), os.path.relpath(path, folder), stat.st_mode, stat.st_size,
                                    stat.st_mtime_ns, os.path.islink(path)))
                except OSError:
                    entries.append((str(folder), os.path.relpath(path, folder), "missing"))
    return tuple(entries)


def _fix_root(base: Path | None, splits: Mapping[str, Path]) -> Path | None:
    """The folder to hand to :func:`clean_image_folder`: the dataset folder, or the split folders' common parent."""
    if base is not None:
        return base
    parents = {folder.parent for folder in splits.values()}
    if len(parents) == 1 and all(folder.name in SPLIT_NAMES for folder in splits.values()):
        return parents.pop()
    return None


def refusal_message(report: FolderReport, shown: int = 8) -> str:
    """The words :func:`require_usable` raises with: the first errors, how many, and what to do.

    Example:
        >>> print(refusal_message(check_image_folder("my_photos")))  # doctest: +SKIP
    """
    errors = report.errors
    lines = [f"{len(errors)} problem(s) in {_where(report)} stop training:"]
    lines += [f"  - {report.show(p.path)}: {p.kind}: {p.reason}" for p in errors[:shown]]
    if len(errors) > shown:
        lines.append(f"  ... and {len(errors) - shown} more.")
    files = report.error_files()
    if files:
        fix = _fix_root(report.root, report.splits)
        targets = [fix] if fix is not None else sorted({f for f in report.splits.values() if any(
            p.is_relative_to(f) for p in files
        )})
        lines.append("What to do: run")
        lines += [f'    helpers.data.clean_image_folder("{target}"{_layout_arg(report)})' for target in targets]
        rejected = " and ".join(f"{t.with_name(t.name + REJECTED_SUFFIX)}/" for t in targets)
        lines.append(
            f"It moves the {len(files)} unusable file(s) into {rejected} (nothing is deleted; {LOG_NAME} there "
            "says why). Then run this again."
        )
        if any(KINDS[p.kind].convertible for p in errors):
            lines.append("With convert=True it writes JPEG copies of WebP / TIFF images and skipped endings instead.")
    if any(not KINDS[p.kind].on_file for p in errors):
        lines.append("clean_image_folder does not change folders: fix the folder problems above by hand.")
    lines.append(f"{_check_call(report)} lists every problem, warnings included.")
    return "\n".join(lines)


def _where(report: FolderReport) -> str:
    """The checked folder(s), for a message."""
    if report.root is not None:
        return str(report.root)
    return ", ".join(dict.fromkeys(str(f) for f in report.splits.values()))  # a folder used twice is named once


def _layout_arg(report: FolderReport) -> str:
    """``, layout="classes"`` where the folder was checked as class folders but looks like a split layout."""
    root = report.root
    if report.layout == "classes" and root is not None and _resolve_layout(root, "auto") != {"": root}:
        return ', layout="classes"'
    return ""


def _check_call(report: FolderReport) -> str:
    """The call that shows the whole report again, ready to copy."""
    target = _fix_root(report.root, report.splits)
    if target is not None:
        return f'helpers.data.check_image_folder("{target}"{_layout_arg(report)})'
    mapping = ", ".join(f'"{split}": "{folder}"' for split, folder in report.splits.items())
    return f"helpers.data.check_image_folder({{{mapping}}})"


def _print_new_warnings(report: FolderReport, shown: int = 3) -> None:
    """Print the warnings not printed before this session (a few per kind), never raising."""
    new = [p for p in report.warnings if (p.kind, os.path.realpath(p.path)) not in _WARNED]
    if not new:
        return
    _WARNED.update((p.kind, os.path.realpath(p.path)) for p in new)
    lines = [f"Image check of {_where(report)}: {len(new)} warning(s); training goes ahead."]
    by_kind: dict[str, list[Problem]] = defaultdict(list)
    for problem in new:
        by_kind[problem.kind].append(problem)
    for kind, problems in by_kind.items():
        lines.append(f"  {kind} ({len(problems)}): {report.show(problems[0].path)}: {problems[0].detail}")
        lines += [f"    also {report.show(p.path)}" for p in problems[1:shown]]
        if len(problems) > shown:
            lines.append(f"    ... and {len(problems) - shown} more")
    lines.append(f"  {_check_call(report)} lists them all, with what to do.")
    print("\n".join(lines))


def require_usable(
    root: str | Path | Mapping[str, str | Path],
    *,
    layout: str = "auto",
    min_side: int = MIN_SIDE,
    max_ratio: float = MAX_RATIO,
) -> FolderReport | None:
    """The loaders' gate: check ``root``, raise :class:`BadImageFolderError` on errors, print new warnings once.

    A check that passed is remembered with the folders' signature (:data:`_VERIFIED`), so an unchanged
    folder is not looked at again this session (``None`` is returned then); file contents already read
    are reused too, so only new or changed files are read.

    Example:
        >>> require_usable("my_photos", layout="classes")  # doctest: +SKIP
    """
    base, splits = _as_splits(root, layout)
    key = (layout, base, tuple((k, os.path.realpath(v)) for k, v in splits.items()), min_side, max_ratio)
    signature = folder_signature(splits.values())
    if _VERIFIED.get(key) == signature:
        return None
    report = _check(root, layout, min_side, max_ratio, cache=True, workers=None)
    if not report.ok:
        raise BadImageFolderError(refusal_message(report))
    _print_new_warnings(report)
    _VERIFIED[key] = signature
    return report


# --------------------------------------------------------------------------- cleaning


@dataclass
class CleanResult:
    """What :func:`clean_image_folder` did, and the check of the folder afterwards."""

    root: Path
    rejected_dir: Path  #: ``<root>_rejected/``, where the files went
    log: Path  #: the CSV log in it (one line per file; appended to, never rewritten)
    moved: list[tuple[Path, Path]]  #: (original path, where it is now)
    converted: list[tuple[Path, Path, Path]]  #: (original path, the new JPEG, where the original is now)
    before: FolderReport
    after: FolderReport

    @property
    def ok(self) -> bool:
        """Whether the folder can be trained on now."""
        return self.after.ok

    def summary(self) -> str:
        """What was moved and converted, and what is left to do."""
        if self.moved or self.converted:
            done = [f"moved {len(self.moved)} unusable file(s)"] if self.moved else []
            done += [f"converted {len(self.converted)} to RGB JPEG"] if self.converted else []
            lines = [
                f"Cleaned {self.root}: {' and '.join(done)}; the originals are in {self.rejected_dir} "
                f"({self.log.name} says why). Nothing was deleted."
            ]
        else:
            lines = [f"Nothing to clean in {self.root}: no file had to be moved or converted."]
        left = self.after.errors
        if left:
            lines.append(f"Still {len(left)} error(s), which cleaning does not fix (folders are left as they are):")
            lines += [f"  - {self.after.show(p.path)}: {p.kind}: {p.reason}" for p in left[:8]]
        else:
            lines.append(f"No errors left ({len(self.after.warnings)} warning(s)): the folder can be trained on.")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def _free_path(path: Path) -> Path:
    """``path``, or ``<stem>_<n><suffix>`` with the first ``n`` that names nothing yet (links included)."""
    candidate, n = path, 0
    while os.path.lexists(candidate):
        n += 1
        candidate = path.with_name(f"{path.stem}_{n}{path.suffix}")
    return candidate


def _move_aside(path: Path, root: Path, rejected: Path) -> Path:
    """Move ``path`` (a file or a link) to the same relative place under ``rejected``, never over another file."""
    target = _free_path(rejected / path.relative_to(root))
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(path, target)  # a rename (a link stays a link); target names nothing, so nothing is replaced
    return target


def _rgb_image(path: Path):
    """The image in ``path`` as an upright 8-bit RGB Pillow image (first frame; transparency on white)."""
    import numpy as np
    from PIL import Image, ImageOps

    with Image.open(path) as opened:
        opened.load()
        image = ImageOps.exif_transpose(opened) or opened
        if image.mode in _WIDE_MODES:
            pixels = np.asarray(image, dtype=np.float64)
            pixels = pixels / 257.0 if pixels.max() > 255 else pixels
            image = Image.fromarray(np.clip(pixels, 0, 255).round().astype(np.uint8), "L")
        if image.mode in _ALPHA_MODES or "transparency" in image.info:
            rgba = image.convert("RGBA")
            image = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
        return image.convert("RGB")


def _log(log: Path, row: list[str]) -> None:
    """Append one row to the CSV log (right after the move it records), with the header first when the log is new."""
    log.parent.mkdir(parents=True, exist_ok=True)
    new = not log.exists()
    with open(log, "a", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        if new:
            writer.writerow(["time", "action", "file", "moved_to", "new_file", "kinds", "reason"])
        writer.writerow(row)


def clean_image_folder(
    root: str | Path,
    convert: bool = False,
    *,
    layout: str = "auto",
    min_side: int = MIN_SIDE,
    max_ratio: float = MAX_RATIO,
) -> CleanResult:
    """Move every unusable file of an image folder into ``<root>_rejected/``; never delete anything.

    Each file with an error (see :func:`check_image_folder`) moves to the same relative path under the
    sibling folder ``<root>_rejected/``; a name already taken there gets ``_1``, ``_2``, ... so nothing
    is overwritten. Every move is appended to ``<root>_rejected/rejected.csv`` (time, action, file,
    where it went, the problem codes and why).

    With ``convert=True`` the images that can be converted (greyscale, transparency, CMYK, 16-bit,
    animated, EXIF-rotated, a wrong or skipped ending, WebP / TIFF / AVIF) get an upright 8-bit RGB JPEG
    ``<name>.jpg`` in their place and the original moves into ``<root>_rejected/``; a file Pillow cannot
    convert is moved like the others if it has an error, and left alone otherwise.

    Problems that are not a file (no classes, a single class, an empty class folder, uneven classes,
    classes that differ between splits, nested folders) are reported in the result but left alone, as
    are files with warnings only (unless converted) such as duplicates, small images and hidden system
    files like ``.DS_Store``.

    Returns:
        a :class:`CleanResult` with what moved, what was converted, and the check afterwards.

    Example:
        >>> result = clean_image_folder("my_photos", convert=True)  # doctest: +SKIP
        >>> print(result)  # doctest: +SKIP
        Cleaned my_photos: moved 2 unusable file(s) and converted 3 to RGB JPEG; ...
    """
    root = Path(root)
    before = check_image_folder(root, layout=layout, min_side=min_side, max_ratio=max_ratio)
    rejected = root.with_name(root.name + REJECTED_SUFFIX)
    log = rejected / LOG_NAME
    by_file: dict[Path, list[Problem]] = defaultdict(list)
    for problem in before.problems:
        if KINDS[problem.kind].on_file:
            by_file[problem.path].append(problem)
    moved, converted = [], []
    for path, problems in sorted(by_file.items()):
        errors = [p for p in problems if p.is_error]
        kinds = " ".join(p.kind for p in problems)
        reason = " | ".join(p.reason for p in problems)
        stamp = datetime.now().isoformat(timespec="seconds")
        convertible = [KINDS[p.kind].convertible for p in problems]
        if convert and any(convertible) and all(KINDS[p.kind].convertible for p in errors):
            try:
                image = _rgb_image(path)
            except Exception:  # Pillow cannot read it (e.g. HEIC): handled like any other file below
                image = None
            if image is not None:
                partial = _free_path(path.with_name(f".{path.name}.converting"))
                image.save(partial, "JPEG", quality=95)
                aside = _move_aside(path, root, rejected)
                new = _free_path(path.with_suffix(".jpg"))
                os.rename(partial, new)  # new names nothing, so nothing is replaced
                converted.append((path, new, aside))
                _log(log, [
                    stamp, "converted", path.relative_to(root).as_posix(), aside.relative_to(rejected).as_posix(),
                    new.relative_to(root).as_posix(), kinds, reason,
                ])
                continue
        if errors:
            aside = _move_aside(path, root, rejected)
            moved.append((path, aside))
            _log(log, [
                stamp, "moved", path.relative_to(root).as_posix(), aside.relative_to(rejected).as_posix(), "", kinds,
                reason,
            ])
    after = check_image_folder(root, layout=layout, min_side=min_side, max_ratio=max_ratio)
    return CleanResult(root, rejected, log, moved, converted, before, after)
