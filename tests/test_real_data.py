"""The course's headline number, checked on real data: Model 0 (notebook 02) on the 10% food subset.

Runs notebook 02 unchanged in the local profile (``COURSE_DATA_DIR`` = ``../shared/data/food10``,
``COURSE_BACKBONE=mobilenet_v2_035``, 224 px, 5 epochs) and reads the row it recorded, so the notebook, the
results table and this threshold cannot drift apart. About a minute on 2 CPU cores.
"""

from __future__ import annotations

import csv

from helpers.config import find_root
from helpers.runner import execute
from tests.conftest import SHARED, needs_shared_data, needs_shared_weights

NOTEBOOK = find_root() / "notebooks" / "02_functional_api_model_0.ipynb"


@needs_shared_data
@needs_shared_weights
def test_model_0_reaches_60_percent_on_the_full_food10_test_set(tmp_path, monkeypatch):
    monkeypatch.delenv("COURSE_SMOKE", raising=False)
    monkeypatch.setenv("COURSE_DATA_DIR", str(SHARED / "data" / "food10"))
    monkeypatch.setenv("COURSE_BACKBONE", "mobilenet_v2_035")
    for name, folder in (("COURSE_RUN_DIR", "runs"), ("COURSE_IMAGES_DIR", "images"), ("COURSE_DATA_ROOT", "data")):
        monkeypatch.setenv(name, str(tmp_path / folder))
    execute(NOTEBOOK, tmp_path)
    with (tmp_path / "runs" / "results.csv").open(newline="") as handle:
        rows = {row["experiment"]: row for row in csv.DictReader(handle)}
    row = rows["02_model_0_10_percent"]
    assert (row["profile"], row["backbone"], row["train_images"], row["epochs"]) == (
        "local",
        "mobilenet_v2_035",
        "750",
        "5",
    )
    assert float(row["test_accuracy"]) >= 0.60, f"Model 0 reached only {row['test_accuracy']} on the 1,250 test images"
