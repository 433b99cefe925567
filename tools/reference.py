"""The reference run: every lesson for real, offline, and the results the README publishes (``make reference``).

Lessons 00-04 and 07 run on the 10 Food-101 classes and 05-06 on ants vs bees, from ``../shared/data``, with
MobileNetV2 a0.35 (the ImageNet weights ``../shared/weights/keras`` holds). The run's ``results.csv`` becomes
``results/reference_offline.csv``, its figures go to ``results/figures/``, and the README's Results section
is rewritten from the CSV, so no published number is typed by hand (``tests/tools/test_reference.py`` checks it).

Command line::

    python -m tools.reference            # run, then publish
    python -m tools.reference --publish-only runs/20261125-194259   # publish an earlier reference run
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import time
from collections.abc import Collection, Mapping
from pathlib import Path

from helpers import config
from helpers.results import with_interval

BACKBONE = "mobilenet_v2_035"
README_START = "<!-- reference results: written by `make reference`, do not edit by hand -->"
README_END = "<!-- end of reference results -->"
#: The ``--note`` of the published run, in ``results/``.
NOTE_NAME = "reference_note.txt"
#: Figures the README and the course book show, copied from the run's images.
FIGURES = ("results.png",)


def shared_data(root: Path | None = None) -> dict[str, Path]:
    """The real data folders: ``food`` (10 Food-101 classes) and ``two_class`` (ants vs bees).

    Example:
        >>> sorted(shared_data())
        ['food', 'two_class']
    """
    shared = (root or config.find_root()).parent / "shared" / "data"
    return {"food": shared / "food10", "two_class": shared / "hymenoptera"}


def lessons(root: Path) -> list[Path]:
    """The lesson notebooks (not the solutions, not the appendix, which records no results), in course order."""
    notebooks = config.course_notebooks(root)
    return [nb for nb in notebooks if nb.parent.name == "notebooks" and not nb.stem.endswith("_appendix")]


def run_lessons(
    run_dir: Path,
    data: Mapping[str, Path],
    environ: dict[str, str] | None = None,
    only: Collection[str] | None = None,
) -> dict[str, float]:
    """Execute every lesson for real into ``run_dir`` with the reference profile; return seconds per notebook.

    ``environ`` (default ``os.environ``) is updated in place with the profile; restore it yourself if needed.
    ``only`` keeps the lessons whose number is in it (``{"00", "01"}``), in course order; ``None`` runs all.
    """
    from tools.runner import execute

    env = os.environ if environ is None else environ
    missing = [str(folder) for folder in data.values() if not folder.is_dir()]
    if missing:
        raise FileNotFoundError(f"The reference run needs the real data folders {missing} (see ../shared/README.md).")
    env.pop(config.ENV_SMOKE, None)
    env.update(
        {
            config.ENV_BACKBONE: BACKBONE,
            config.ENV_RUN_DIR: str(run_dir),
            config.ENV_IMAGES_DIR: str(run_dir / "images"),
            config.ENV_DATA_ROOT: str(run_dir / "data"),
            # as a learner would run it: 01-04 on the food classes, the two-class lessons 05-06 on their own
            config.ENV_DATA_DIR: str(data["food"]),
            config.ENV_TWO_CLASS_DIR: str(data["two_class"]),
        }
    )
    seconds = {}
    for notebook in lessons(config.find_root()):
        if only is not None and notebook.name[:2] not in only:
            continue
        started = time.perf_counter()
        print(f"-> {notebook.name}", flush=True)
        execute(notebook, run_dir)
        seconds[notebook.name] = round(time.perf_counter() - started, 1)
        print(f"   done in {seconds[notebook.name]:.0f} s", flush=True)
    with (run_dir / "seconds.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["notebook", "seconds"])
        writer.writerows(seconds.items())
    return seconds


def readme_section(rows: list[Mapping[str, str]], seconds: Mapping[str, float], note: str = "") -> str:
    """The README's Results section, written from the reference CSV (and the notebooks' run times).

    ``note`` (``--note`` on the command line) is one more line under the times, for what a reader should know
    about how they were measured.

    Example:
        >>> row = {"experiment": "02_model_0", "notebook": "02", "train_images": "750", "epochs": "5",
        ...        "val_accuracy": "0.545", "val_images": "310", "test_accuracy": "0.661", "test_images": "1250",
        ...        "seconds_per_epoch": "8.1",
        ...        "machine": "CPU, 2 cores", "tensorflow": "2.21.0", "keras": "3.15.1", "backbone": "b"}
        >>> print(readme_section([row], {}).splitlines()[4])
        | 02 | `02_model_0` | 750 | 5 | 54.5% (48.9-60.0) | 66.1% (63.4-68.7) | 8.1 |
    """
    first = rows[0] if rows else {}
    lines = [
        README_START,
        "",
        "| notebook | experiment | training images | epochs | validation accuracy (95% interval) "
        "| test accuracy (95% interval) | s / epoch |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['notebook']} | `{row['experiment']}` | {row['train_images']} | {row['epochs']} | "
            f"{_shown(row, 'val')} | {_shown(row, 'test')} | {row['seconds_per_epoch']} |"
        )
    lines += [
        "",
        f"Backbone `{first.get('backbone', BACKBONE)}`; machine: {first.get('machine', '?')}; TensorFlow "
        f"{first.get('tensorflow', '?')}, Keras {first.get('keras', '?')}.",
    ]
    if seconds:
        total = sum(seconds.values())
        per_notebook = ", ".join(f"{name.split('_')[0]} {value:.0f} s" for name, value in seconds.items())
        lines.append(f"Time per notebook: {per_notebook} ({total / 60:.0f} minutes in all).")
    if note:
        lines.append(note)
    lines += ["", README_END]
    return "\n".join(lines)


def _shown(row: Mapping[str, str], split: str) -> str:
    """A row's ``split`` accuracy with its 95% interval (alone when the row has no image count)."""
    images = row.get(f"{split}_images") or ""
    return with_interval(float(row[f"{split}_accuracy"]), int(images) if images else None)


def update_readme(readme: Path, section: str) -> None:
    """Replace the text between the two reference markers of ``readme`` with ``section``."""
    text = readme.read_text()
    if README_START not in text or README_END not in text:
        raise ValueError(f"{readme} has no reference-results markers; add them under a '## Results' heading.")
    head, rest = text.split(README_START, 1)
    tail = rest.split(README_END, 1)[1]
    readme.write_text(head + section + tail)


def publish(run_dir: Path, root: Path | None = None, note: str = "") -> Path:
    """Copy a reference run's results and figures into ``results/`` and rewrite the README's Results section."""
    root = root or config.find_root()
    target = root / "results"
    (target / "figures").mkdir(parents=True, exist_ok=True)
    csv_path = target / "reference_offline.csv"
    shutil.copyfile(run_dir / "results.csv", csv_path)
    for name in FIGURES:
        if (run_dir / name).exists():
            shutil.copyfile(run_dir / name, target / "figures" / name)
    seconds = {}
    if (run_dir / "seconds.csv").exists():
        with (run_dir / "seconds.csv").open(newline="") as handle:
            seconds = {row["notebook"]: float(row["seconds"]) for row in csv.DictReader(handle)}
        shutil.copyfile(run_dir / "seconds.csv", target / "reference_seconds.csv")
    with csv_path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    note_path = target / NOTE_NAME  # kept beside the CSV, so that the README can be checked against both
    if note:
        note_path.write_text(note + "\n")
    elif note_path.exists():
        note_path.unlink()
    update_readme(root / "README.md", readme_section(rows, seconds, note))
    return csv_path


def main(argv: list[str] | None = None) -> int:
    """Run the reference course (or publish an earlier run with ``--publish-only``)."""
    from helpers.callbacks import new_run_dir
    from helpers.results import main as summary

    parser = argparse.ArgumentParser(prog="python -m tools.reference", description=__doc__.split("\n\n")[0])
    parser.add_argument("--publish-only", metavar="RUN_DIR", default=None)
    parser.add_argument("--note", default="", help="a line under the times in the README (how they were measured)")
    args = parser.parse_args(argv)
    root = config.find_root()
    if args.publish_only:
        run_dir = Path(args.publish_only)
    else:
        run_dir = new_run_dir(root / "runs", "")
        print(f"Reference run folder: {run_dir}")
        run_lessons(run_dir, shared_data(root))
        summary(["summary", str(run_dir)])
    print(f"Published {publish(run_dir, root, args.note)} and the README's Results section.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
