"""The README's Results section is the reference CSV, not numbers typed by hand."""

from __future__ import annotations

import csv

import pytest

from helpers.config import find_root
from tools import reference

ROOT = find_root()
CSV = ROOT / "results" / "reference_offline.csv"


def _published() -> tuple[list[dict[str, str]], dict[str, float]]:
    with CSV.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    seconds_path = ROOT / "results" / "reference_seconds.csv"
    seconds = {}
    if seconds_path.exists():
        with seconds_path.open(newline="") as handle:
            seconds = {row["notebook"]: float(row["seconds"]) for row in csv.DictReader(handle)}
    return rows, seconds


def test_the_readme_shows_exactly_the_reference_csv():
    rows, seconds = _published()
    readme = (ROOT / "README.md").read_text()
    note_path = ROOT / "results" / reference.NOTE_NAME
    note = note_path.read_text().strip() if note_path.exists() else ""
    assert reference.readme_section(rows, seconds, note) in readme, "run `make reference` (or --publish-only RUN_DIR)"


def test_a_note_goes_under_the_times():
    row = {"experiment": "02_model_0", "notebook": "02", "train_images": "750", "epochs": "5", "val_accuracy": "0.5",
           "test_accuracy": "0.6", "seconds_per_epoch": "8.1"}  # fmt: skip
    section = reference.readme_section([row], {"02_x.ipynb": 60.0}, "Measured on a busy machine.")
    assert (
        section.splitlines()[-3:]
        == ["Time per notebook: 02 60 s (1 minutes in all).", "Measured on a busy machine.", "", reference.README_END][
            -3:
        ]
    )


def test_the_reference_run_covers_every_lesson_and_the_machine():
    rows, seconds = _published()
    notebooks = {row["notebook"] for row in rows}
    assert {"01", "02", "03", "04", "05", "06"} <= notebooks
    for row in rows:
        assert row["profile"] == "local" and row["backbone"] == reference.BACKBONE
        assert row["machine"] and row["tensorflow"] and row["keras"] and float(row["seconds_per_epoch"]) >= 0
    assert {path.name for path in reference.lessons(ROOT)} <= set(seconds)


def test_update_readme_needs_its_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# x\n")
    with pytest.raises(ValueError, match="markers"):
        reference.update_readme(readme, "table")
    readme.write_text(f"a\n{reference.README_START}\nold\n{reference.README_END}\nb\n")
    reference.update_readme(readme, f"{reference.README_START}\nnew\n{reference.README_END}")
    assert readme.read_text() == f"a\n{reference.README_START}\nnew\n{reference.README_END}\nb\n"
