"""What every benchmark shares: how a figure is judged against its target, printed and returned.

A benchmark's ``main()`` returns a dict whose ``"results"`` is a list of figures made by :func:`figure`;
``run_all.py`` writes them to ``benchmarks/last_results.csv``. Figures without a target (context, or the
README's measured CPU column) are printed as ``INFO`` and written with an empty ``met``.
"""

from __future__ import annotations

import operator
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_OPS = {">=": operator.ge, "<=": operator.le}


def fmt(value: float, unit: str) -> str:
    """A value with its unit, as the RESULT lines print it.

    Example:
        >>> fmt(71.04, "x"), fmt(0.2134, "share"), fmt(41.26, "s/epoch"), fmt(212.0, "s")
        ('71.0x', '21.3%', '41.3 s/epoch', '212 s')
    """
    if unit == "x":
        return f"{value:.1f}x"
    if unit == "share":
        return f"{value:.1%}"
    if unit == "s":
        return f"{value:.0f} s"
    return f"{value:.3g} {unit}" if value < 10 else f"{value:.1f} {unit}"


def figure(
    name: str, value: float, unit: str, op: str | None = None, bound: float | None = None, problem: str = ""
) -> dict:
    """One measured figure, judged against ``op bound`` (``">="`` or ``"<="``) when given, and printed.

    Prints ``RESULT <name>: <value> (target <op> <bound>) PASS|MISS`` (``INFO`` and no target without one) and
    returns ``{"name", "value", "unit", "target", "met"}`` (``met`` is ``None`` without a target). A ``problem``
    (e.g. "2 notebooks failed") makes it a MISS whatever the value, and is printed.

    Example:
        >>> row = figure("cached_features", 71.0, "x", ">=", 10)
        RESULT cached_features: 71.0x (target >= 10.0x) PASS
        >>> row["met"], row["target"]
        (True, '>= 10')
        >>> figure("validation_share_after", 0.31, "share", "<=", 0.25)["met"]
        RESULT validation_share_after: 31.0% (target <= 25.0%) MISS by 6.0 points
        False
        >>> figure("smoke_run_seconds", 200, "s", "<=", 300, problem="1 notebook failed")["met"]
        RESULT smoke_run_seconds: 200 s (target <= 300 s) MISS: 1 notebook failed
        False
    """
    value = float(value)
    if op is None:
        print(f"RESULT {name}: {fmt(value, unit)} (no target: measured for the record) INFO", flush=True)
        return {"name": name, "value": value, "unit": unit, "target": "", "met": None}
    if op not in _OPS or bound is None:
        raise ValueError(f"op must be one of {sorted(_OPS)} with a bound, got {op!r} {bound!r}")
    met = bool(_OPS[op](value, bound)) and not problem
    verdict = "PASS" if met else ("MISS: " + problem if problem else "MISS" + _shortfall(value, unit, bound))
    print(f"RESULT {name}: {fmt(value, unit)} (target {op} {fmt(bound, unit)}) {verdict}", flush=True)
    return {"name": name, "value": value, "unit": unit, "target": f"{op} {bound:g}", "met": met}


def _shortfall(value: float, unit: str, bound: float) -> str:
    """How far a missed figure is from its target, in words the RESULT line appends."""
    if unit == "share":
        return f" by {abs(value - bound) * 100:.1f} points"
    if unit == "x":
        return f" by {bound / value:.1f}x" if value > 0 else ""
    return f" by {fmt(abs(value - bound), unit)}"


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """Time a ``with`` block: the yielded list holds the elapsed seconds afterwards.

    Example:
        >>> with stopwatch() as elapsed:
        ...     pass
        >>> elapsed[0] >= 0
        True
    """
    elapsed: list[float] = []
    started = time.perf_counter()
    try:
        yield elapsed
    finally:
        elapsed.append(time.perf_counter() - started)


def median_of(repeats: int, measure) -> float:
    """The median of ``repeats`` calls of ``measure()`` (timings on a shared machine are noisy).

    Example:
        >>> values = iter([3.0, 1.0, 2.0])
        >>> median_of(3, lambda: next(values))
        2.0
    """
    import statistics

    return float(statistics.median(measure() for _ in range(max(1, repeats))))


def backbone_for_profile(default: str = "efficientnet_b0") -> str:
    """The backbone the notebooks use in the active profile (``COURSE_BACKBONE``, else the notebooks' default)."""
    from helpers.models import resolve_backbone

    return resolve_backbone(default)


def rows_in_memory(dataset, batches: int) -> tuple:
    """The first ``batches`` batches of a ``(image, label)`` dataset as two NumPy arrays (images, labels)."""
    import numpy as np

    images, labels = [], []
    for x, y in dataset.take(batches):
        images.append(np.asarray(x))
        labels.append(np.asarray(y))
    return np.concatenate(images), np.concatenate(labels)


def read_seconds(path: str | Path) -> dict[str, float]:
    """``notebook -> seconds`` from a ``seconds.csv`` (columns ``notebook,seconds``), as the suites write it.

    Example:
        >>> import tempfile
        >>> file = Path(tempfile.mkdtemp()) / "seconds.csv"
        >>> _ = file.write_text("notebook,seconds\\n00_setup.ipynb,12.5\\n01_hub.ipynb,170\\n")
        >>> read_seconds(file)
        {'00_setup.ipynb': 12.5, '01_hub.ipynb': 170.0}
    """
    import csv

    with Path(path).open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or {"notebook", "seconds"} - set(rows[0]):
        raise ValueError(f"{path} must be a CSV with the columns notebook,seconds and one row per notebook.")
    return {row["notebook"]: float(row["seconds"]) for row in rows}


def write_seconds(path: str | Path, seconds: dict[str, float]) -> Path:
    """Write ``notebook -> seconds`` as :func:`read_seconds` reads it (the format of ``tools.reference``)."""
    import csv

    path = Path(path)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["notebook", "seconds"])
        writer.writerows((name, round(value, 1)) for name, value in seconds.items())
    return path


def print_seconds(seconds: dict[str, float]) -> None:
    """One line per notebook and the total, in minutes and seconds."""
    for name, value in seconds.items():
        print(f"  {name:<58} {value:7.1f} s")
    total = sum(seconds.values())
    print(f"  {'total':<58} {total:7.1f} s ({total / 60:.1f} min, {len(seconds)} notebooks)")
