"""Pin the SHA-256 and size of every archive the course downloads, in ``helpers/archives.json``.

Run it on a machine with internet, then commit ``helpers/archives.json``::

    python -m tools.pins             # download each archive, fill in missing pins, check the others
    python -m tools.pins --replace   # overwrite pins that differ (only when the course really changed a file)

Each archive is downloaded into a temporary folder with the same checks as a learner's download
(:func:`helpers._internal.downloads.download_file`: ``.part`` file, ``Content-Length``, timeout) and deleted afterwards.
A pin that disagrees with the download is never overwritten without ``--replace``; nothing is written then.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from helpers import data
from helpers._internal import downloads

ABOUT = (
    "SHA-256 and size in bytes of every archive the course downloads (helpers._internal.downloads.ARCHIVE_PINS). "
    "null: not known yet; until it is, the first verified download on each machine records its SHA-256 in "
    "<data root>/archives.lock.json and every later use must match it (trust on first use). Fill in and check with "
    "`python -m tools.pins` on a machine with internet."
)


def _read(path: Path) -> dict:
    """The pin file's document (``about`` and ``archives``), or an empty one when the file does not exist."""
    document = json.loads(path.read_text()) if path.is_file() else {}
    document.setdefault("about", ABOUT)
    document.setdefault("archives", {})
    return document


def _differences(url: str, pinned: dict, got: downloads.Pin) -> list[str]:
    """How a download differs from the pins it already has (fields pinned as ``None`` never differ)."""
    return [
        f"{url}: {field} is {getattr(got, field)} now, {pinned[field]} is pinned"
        for field in ("sha256", "size")
        if pinned.get(field) is not None and pinned[field] != getattr(got, field)
    ]


def pin_archives(
    urls: Iterable[str] | None = None,
    pins_file: str | Path = downloads.PINS_FILE,
    timeout: float = downloads.DOWNLOAD_TIMEOUT,
    replace: bool = False,
) -> dict[str, downloads.Pin]:
    """Download each archive, compute its SHA-256 and size, and write them into ``pins_file``.

    Args:
        urls: archives to pin; by default every one of :data:`helpers.data.FOOD_ARCHIVES` and of ``pins_file``.
        pins_file: the pin table to fill in (created if missing).
        timeout: seconds to wait for the server on any one read.
        replace: overwrite pins that differ from the download; without it they raise ``ValueError``.

    Returns:
        every downloaded archive's :class:`helpers._internal.downloads.Pin`.

    Example:
        >>> pin_archives()  # doctest: +SKIP
        {'https://storage.googleapis.com/ztm_tf_course/food_vision/10_food_classes_1_percent.zip': Pin(...), ...}
    """
    path = Path(pins_file)
    document = _read(path)
    archives = document["archives"]
    wanted = list(urls) if urls is not None else [*data.FOOD_ARCHIVES.values(), *archives]
    found: dict[str, downloads.Pin] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for url in dict.fromkeys(wanted):
            target = Path(tmp) / "archive"
            found[url] = downloads.download_file(url, target, timeout)
            target.unlink()
    differences = [line for url, got in found.items() for line in _differences(url, archives.get(url, {}), got)]
    if differences and not replace:
        raise ValueError(
            "Downloads differ from their pins:\n  " + "\n  ".join(differences) + f"\nNothing was written to {path}. "
            "Only if the course really replaced these files, run again with --replace."
        )
    today = dt.date.today().isoformat()
    for url, got in found.items():
        archives[url] = {"sha256": got.sha256, "size": got.size, "source": f"python -m tools.pins on {today}"}
    tmp_file = path.with_name(path.name + ".tmp")
    tmp_file.write_text(json.dumps(document, indent=2) + "\n")
    os.replace(tmp_file, path)
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: pin every course archive; exit status 1 with the reason when a download fails or differs."""
    parser = argparse.ArgumentParser(prog="python -m tools.pins", description=__doc__.splitlines()[0])
    parser.add_argument("--replace", action="store_true", help="overwrite pins that differ from the download")
    parser.add_argument("--file", default=str(downloads.PINS_FILE), help="pin table to write (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=downloads.DOWNLOAD_TIMEOUT, help="seconds per read")
    parser.add_argument("urls", nargs="*", help="archives to pin (default: every course archive)")
    args = parser.parse_args(argv)
    try:
        found = pin_archives(args.urls or None, args.file, args.timeout, args.replace)
    except (ConnectionError, ValueError) as err:
        print(err)
        return 1
    for url, got in found.items():
        print(f"{got.sha256}  {got.size:>12,} bytes  {url}")
    print(f"Pinned in {args.file}; commit it.")
    return 0


if __name__ == "__main__":  # pragma: no cover - command line
    raise SystemExit(main())
