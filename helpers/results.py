"""The course's results table: one row per experiment, appended as each notebook runs.

Every notebook validates its models on the fixed validation set, evaluates them once on
the full test set and calls :func:`record`;
:func:`results_table` and :func:`plot_results` compare everything recorded so far.
The table lives in ``<runs>/results.csv`` (``COURSE_RUN_DIR`` moves it).

Command line (used by ``make run``)::

    python -m helpers.results summary runs/20261125-101500
"""

from __future__ import annotations

import argparse
import csv
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from helpers import config

COLUMNS = (
    "experiment",
    "notebook",
    "backbone",
    "train_images",
    "classes",
    "epochs",
    "val_accuracy",
    "val_loss",
    "val_images",
    "test_accuracy",
    "test_loss",
    "test_images",
    "seconds",
    "seconds_per_epoch",
    "profile",
    "machine",
    "tensorflow",
    "keras",
)
#: Columns only the CSV keeps: where and with what a row was run, and a figure derived from two others.
CSV_ONLY = frozenset({"seconds_per_epoch", "machine", "tensorflow", "keras", "val_images", "test_images"})
#: The columns :func:`results_table` prints: :data:`COLUMNS` without :data:`CSV_ONLY`.
TABLE_COLUMNS = tuple(column for column in COLUMNS if column not in CSV_ONLY)


def accuracy_interval(accuracy: float, images: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% interval of an accuracy measured on ``images`` images (Wilson's score interval).

    Taught in notebook 01, section 12 ("Compare the experiments").

    An accuracy on a few hundred images is noisy: each image is ``1 / images`` of it, and a second
    sample of the same size would give a different figure. Two accuracies whose intervals overlap
    are a tie as far as these images can tell (:func:`compare_accuracies`).

    Example:
        >>> low, high = accuracy_interval(0.9, 200)
        >>> f"{low:.3f} to {high:.3f}"
        '0.851 to 0.934'
    """
    if images <= 0:
        raise ValueError("an accuracy needs at least one image to have an interval")
    centre = (accuracy + z * z / (2 * images)) / (1 + z * z / images)
    half = z / (1 + z * z / images) * (accuracy * (1 - accuracy) / images + z * z / (4 * images * images)) ** 0.5
    return max(0.0, centre - half), min(1.0, centre + half)


def with_interval(accuracy: float, images: int | None) -> str:
    """``"90.0% (85.1-93.4)"``: an accuracy and its 95% interval; the accuracy alone without a number of images.

    Used by :func:`helpers.training.fit_and_record` (notebook 01, section 8).

    Example:
        >>> with_interval(0.9, 200), with_interval(0.9, None)
        ('90.0% (85.1-93.4)', '90.0%')
    """
    if not images:
        return f"{accuracy:.1%}"
    low, high = accuracy_interval(accuracy, images)
    return f"{accuracy:.1%} ({100 * low:.1f}-{100 * high:.1f})"


def compare_accuracies(results: Mapping[str, tuple[float, int]]) -> str:
    """Which of several models is better, in words, calling a difference inside the 95% intervals a tie.

    Taught in notebook 01, section 12 ("Compare the experiments").

    ``results`` maps a name to ``(accuracy, images)``, measured on the same (validation) images.

    Example:
        >>> print(compare_accuracies({"A": (0.91, 200), "B": (0.86, 200)}))
        A 91.0% (86.2-94.2) and B 86.0% (80.5-90.1): a tie (5.0 points apart, inside the 95% intervals).
        >>> print(compare_accuracies({"A": (0.95, 1000), "B": (0.85, 1000)}))
        A 95.0% (93.5-96.2) beats B 85.0% (82.7-87.1) by 10.0 points (outside the 95% intervals).
    """
    ranked = sorted(results.items(), key=lambda item: -item[1][0])
    (best, (top, images)), lines = ranked[0], []
    best_low, _ = accuracy_interval(top, images)
    for name, (accuracy, count) in ranked[1:]:
        _, high = accuracy_interval(accuracy, count)
        points = 100 * (top - accuracy)
        shown = f"{best} {with_interval(top, images)}", f"{name} {with_interval(accuracy, count)}"
        if high >= best_low:
            lines.append(f"{shown[0]} and {shown[1]}: a tie ({points:.1f} points apart, inside the 95% intervals).")
        else:
            lines.append(f"{shown[0]} beats {shown[1]} by {points:.1f} points (outside the 95% intervals).")
    return "\n".join(lines)


def output_classes(model: Any) -> int | str:
    """How many classes ``model`` tells apart: its output units (one sigmoid unit: two classes); ``""`` if unknown.

    Used by :func:`helpers.results.record` (notebook 02, section 8).

    Example:
        >>> import keras
        >>> output_classes(keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")]))
        2
    """
    try:
        units = int(model.output_shape[-1])
    except (AttributeError, TypeError, ValueError, IndexError):
        return ""
    return 2 if units == 1 else units


def results_path(path: str | Path | None = None) -> Path:
    """``path`` or the profile's ``<runs>/results.csv``.

    Taught in notebook 07, section 3 ("Transfer learning").
    """
    return Path(path) if path else config.load_profile().runs_dir / "results.csv"


def _versions() -> dict[str, str]:
    """TensorFlow and Keras versions (imported lazily: the notebooks have imported them already)."""
    import keras
    import tensorflow as tf

    return {"tensorflow": tf.__version__, "keras": keras.__version__}


def _unused(path: Path) -> Path:
    """``path``, or ``<stem>-2<suffix>``, ``-3`` ... if it exists: a rename onto it would replace that file."""
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate


def record(
    experiment: str,
    model: Any,
    history: Any,
    test_metrics: Mapping[str, float],
    *,
    notebook: str,
    train_images: int,
    seconds: float,
    backbone: str = "",
    val_metrics: Mapping[str, float] | None = None,
    path: str | Path | None = None,
    val_images: int | None = None,
    test_images: int | None = None,
) -> dict[str, Any]:
    """Append one experiment's row to the results table and return it.

    Taught in notebook 02, section 8 ("Train model 0").

    Args:
        experiment: a unique, descriptive name (``"model_1_1_percent_aug"``).
        model: the trained model (its name is kept when ``backbone`` is empty).
        history: what ``fit`` returned; ``epochs`` is the last epoch it reached, so a
            fine-tuning run that continued from epoch 5 for 5 more records 10.
        test_metrics: ``model.evaluate(test_data, return_dict=True)`` on the full test set.
        seconds: how long this ``fit`` took; ``seconds_per_epoch`` divides it by the epochs it ran.
        val_metrics: the final figures on the validation set; by default the last epoch's
            ``val_accuracy`` and ``val_loss`` of ``history`` (fit with ``validation_data=val_data``).
        val_images, test_images: how many images the two accuracies were measured on, so that
            tables show each with its 95% interval (:func:`accuracy_interval`).

    The row also names the machine (processor, cores) and the TensorFlow and Keras versions, so a
    number can always be traced to where it was measured.

    The table is only ever appended to: a re-run adds its rows below the earlier ones (readers take the
    latest row of each experiment), and a table with other columns is renamed aside, never rewritten.

    Example:
        >>> row = record("model_0", model, history, model.evaluate(test, return_dict=True),
        ...              notebook="02", train_images=750, seconds=61.2)  # doctest: +SKIP
    """
    missing = {"accuracy", "loss"} - set(test_metrics)
    if missing:
        raise KeyError(f"test_metrics lacks {sorted(missing)}; pass model.evaluate(..., return_dict=True).")
    epochs = getattr(history, "epoch", None) or []
    if val_metrics is None:
        logs = getattr(history, "history", None) or {}
        if not logs.get("val_accuracy") or not logs.get("val_loss"):
            raise KeyError(
                "history has no val_accuracy / val_loss: fit with validation_data=val_data, or pass val_metrics."
            )
        val_metrics = {"accuracy": logs["val_accuracy"][-1], "loss": logs["val_loss"][-1]}
    row = {
        "experiment": experiment,
        "notebook": notebook,
        "backbone": backbone or getattr(model, "name", ""),
        "train_images": int(train_images),
        "classes": output_classes(model),
        "epochs": (epochs[-1] + 1) if epochs else 0,
        "val_accuracy": round(float(val_metrics["accuracy"]), 4),
        "val_loss": round(float(val_metrics["loss"]), 4),
        "val_images": "" if val_images is None else int(val_images),
        "test_accuracy": round(float(test_metrics["accuracy"]), 4),
        "test_loss": round(float(test_metrics["loss"]), 4),
        "test_images": "" if test_images is None else int(test_images),
        "seconds": round(float(seconds), 1),
        "seconds_per_epoch": round(float(seconds) / max(1, len(epochs)), 2),
        "profile": config.load_profile().name,
        "machine": config.machine(),
        **_versions(),
    }
    target = results_path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        with target.open(newline="") as handle:
            header = next(csv.reader(handle), [])
        if header != list(COLUMNS):  # written by an older version of the course: keep it, start a new table
            kept = _unused(target.with_name(f"{target.stem}-old-columns-{time.strftime('%Y%m%d-%H%M%S')}.csv"))
            target.rename(kept)
            print(f"{target.name} had other columns; it was kept as {kept.name} and a new table started.")
    new = not target.exists()
    with target.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        if new:
            writer.writeheader()
        writer.writerow(row)
    return row


def load_results(path: str | Path | None = None, latest_only: bool = True) -> list[dict[str, str]]:
    """Rows of the results table in the order recorded; with ``latest_only`` the last row per experiment.

    Taught in notebook 01, section 12 ("Compare the experiments").

    Example:
        >>> rows = load_results()  # doctest: +SKIP
    """
    target = results_path(path)
    if not target.exists():
        return []
    with target.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    if latest_only:
        latest = {row["experiment"]: row for row in rows}
        rows = [row for row in rows if latest[row["experiment"]] is row]
    return rows


def results_table(path: str | Path | None = None) -> str:
    """The results recorded so far as an aligned text table, sorted by notebook then order recorded.

    Taught in notebook 01, section 12 ("Compare the experiments").

    Example:
        >>> print(results_table())  # doctest: +SKIP
        experiment   notebook  backbone  train_images  epochs  test_accuracy ...
    """
    rows = [_shown(row) for row in sorted(load_results(path), key=lambda r: r["notebook"])]
    if not rows:
        return "No results recorded yet."
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in TABLE_COLUMNS}
    lines = ["  ".join(c.ljust(widths[c]) for c in TABLE_COLUMNS)]
    lines += ["  ".join(str(r[c]).ljust(widths[c]) for c in TABLE_COLUMNS) for r in rows]
    return "\n".join(lines)


def _shown(row: Mapping[str, str]) -> dict[str, str]:
    """A results row as tables show it: each accuracy with its 95% interval when the row has its image count."""
    shown = dict(row)
    for split in ("val", "test"):
        images = row.get(f"{split}_images") or ""
        shown[f"{split}_accuracy"] = with_interval(float(row[f"{split}_accuracy"]), int(images) if images else None)
    return shown


def plot_results(path: str | Path | None = None, title: str = "Accuracy of every experiment"):
    """Validation and test accuracy of every experiment (the latest run of each), grouped by data set.

    Taught in notebook 01, section 12 ("Compare the experiments").

    One panel per data set (experiments with the same number of classes and the same test set size), so a
    2-class and a 10-class accuracy never share an axis. In each panel, for every experiment: the validation
    accuracy (which the course compares) and the test accuracy (shown once per model), each with its 95%
    interval as an error bar, and a dashed line at chance (one in the number of classes).

    Example:
        >>> fig = plot_results()  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    rows = sorted(load_results(path), key=lambda r: r["notebook"])
    if not rows:
        raise ValueError(f"No results in {results_path(path)} yet: run a notebook that records one first.")
    groups: dict[tuple[str, str], list[dict[str, str]]] = {}
    for row in rows:
        groups.setdefault((row.get("classes", ""), row.get("test_images", "")), []).append(row)
    heights = [0.6 * len(group) + 1.2 for group in groups.values()]
    fig, axes = plt.subplots(
        len(groups), 1, figsize=(9, sum(heights) + 0.8), layout="constrained", squeeze=False,
        gridspec_kw={"height_ratios": heights},
    )  # fmt: skip
    for ax, ((classes, test_images), group) in zip(axes[:, 0], groups.items(), strict=True):
        _results_panel(ax, group, classes, test_images)
    axes[-1, 0].set_xlabel("accuracy (bars: 95% intervals)")
    axes[0, 0].legend(loc="lower right")
    fig.suptitle(title)
    return fig


def _results_panel(ax: Any, rows: list[dict[str, str]], classes: str, test_images: str) -> None:
    """One data set's panel of :func:`plot_results`: validation and test bars with intervals, and chance."""
    import numpy as np

    names = [f"{r['experiment']}\n{r['backbone']}, {r['train_images']} training images" for r in rows]
    where = np.arange(len(rows))
    for offset, split, color in ((-0.2, "val", "tab:orange"), (0.2, "test", "tab:blue")):
        accuracy = np.array([float(r[f"{split}_accuracy"]) for r in rows])
        images = [int(r[f"{split}_images"]) if r.get(f"{split}_images") else None for r in rows]
        bounds = [accuracy_interval(a, n) if n else (a, a) for a, n in zip(accuracy, images, strict=True)]
        errors = np.array([[a - low, high - a] for a, (low, high) in zip(accuracy, bounds, strict=True)]).T
        label = "validation (compared)" if split == "val" else "test (once per model)"
        bars = ax.barh(where + offset, accuracy, height=0.4, xerr=errors, color=color, label=label, capsize=3)
        ax.bar_label(bars, labels=[with_interval(a, n) for a, n in zip(accuracy, images, strict=True)],
                     padding=4, fontsize=8)  # fmt: skip
    if classes:
        ax.axvline(1 / int(classes), color="grey", linestyle="--", label="chance")
    ax.set_yticks(where, names)
    ax.invert_yaxis()
    data = f"{classes} classes" if classes else "classes unknown"
    shown = f", {test_images} test images" if test_images else ""
    ax.set(xlim=(0, 1.35), ylabel="experiment", title=f"{data}{shown}")


def main(argv: list[str] | None = None) -> int:
    """``summary RUN_DIR``: print the table of ``RUN_DIR/results.csv`` and save ``RUN_DIR/results.png``.

    Not used in a lesson; the command line ``python -m helpers.results summary RUN_DIR`` with which ``make run``
    (``tools/runner.py``) and ``tools/reference.py`` print and plot a run's results table.
    """
    parser = argparse.ArgumentParser(prog="python -m helpers.results")
    sub = parser.add_subparsers(dest="command", required=True)
    summary = sub.add_parser("summary", help="print the table and save the comparison plot")
    summary.add_argument("run_dir")
    args = parser.parse_args(argv)
    run_dir = Path(args.run_dir)
    csv_path = run_dir / "results.csv"
    print(results_table(csv_path))
    if load_results(csv_path):
        plot_results(csv_path).savefig(run_dir / "results.png", dpi=100, bbox_inches="tight")
        print(f"Comparison plot: {run_dir / 'results.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
