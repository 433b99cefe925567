"""The benchmarks run (smoke profile, generated images, offline) and ``run_all`` writes every column.

Their figures mean nothing here (64 px, a few images); ``make benchmark`` measures them on real data. The smoke and
real-suite durations are read from ``seconds.csv`` files, never rerun.
"""

from __future__ import annotations

import csv
import doctest
import subprocess
import sys

import pytest

from benchmarks import (
    bench_cached_features,
    bench_default_models,
    bench_input_pipeline,
    bench_near_duplicates,
    bench_real_suite,
    bench_smoke,
    bench_validation_share,
    common,
    run_all,
)
from helpers.config import find_root


def _figures(outcome: dict) -> dict[str, dict]:
    rows = outcome["results"]
    assert rows and all(set(row) == {"name", "value", "unit", "target", "met"} for row in rows)
    return {row["name"]: row for row in rows}


@pytest.fixture()
def seconds_csv(tmp_path):
    def write(values: dict[str, float], name: str = "seconds.csv"):
        return common.write_seconds(tmp_path / name, values)

    return write


def test_common_examples():
    assert doctest.testmod(common, raise_on_error=False).failed == 0


def test_cached_features_returns_a_positive_speedup():
    outcome = bench_cached_features.main()
    (row,) = _figures(outcome).values()
    assert row["value"] > 0 and row["target"] == ">= 10" and outcome["cached_epoch_s"] > 0


def test_input_pipeline_measures_both_pipelines_and_the_cache_keeps_the_order():
    outcome = bench_input_pipeline.main(repeats=2)
    rows = _figures(outcome)
    assert set(rows) == {"input_pipeline_headroom", "input_pipeline_headroom_with_cache"}
    assert all(row["value"] > 0 and row["target"] == ">= 3" for row in rows.values())
    assert outcome["delivered_images_per_s"] > 0 and outcome["consumed_images_per_s"] > 0
    assert outcome["cache_keeps_order"], "the cached pipeline must yield the same images in the same order"


def test_near_duplicates_finds_planted_copies_and_matches_imagehash():
    pytest.importorskip("imagehash")
    outcome = bench_near_duplicates.main(planted=6)
    rows = _figures(outcome)
    kinds = ("resized", "reencoded", "cropped")
    assert {f"near_duplicates_found_{kind}" for kind in kinds} <= set(rows)
    assert rows["near_duplicates_found_resized"]["value"] == 1.0, "the hash finds every resized copy"
    assert rows["perceptual_hash_matches_imagehash"]["value"] == 1.0
    assert rows["near_duplicates_false_alarms"]["target"] == "<= 0.05"


def test_validation_share_before_and_after():
    outcome = bench_validation_share.main()
    rows = _figures(outcome)
    assert 0 < rows["validation_share_before"]["value"] < 1 and rows["validation_share_before"]["met"] is None
    assert 0 < rows["validation_share_after"]["value"] < 1 and rows["validation_share_after"]["target"] == "<= 0.25"
    assert outcome["images"]["val"] < outcome["images"]["test"]


def test_default_models_table():
    # The smallest backbone keeps the test fast; make benchmark times EfficientNetB0 and ResNet50V2.
    outcome = bench_default_models.main(("mobilenet_v2_035",), batches=1)
    rows = _figures(outcome)
    assert set(rows) == {"epoch_s_mobilenet_v2_035_feature_extraction", "epoch_s_mobilenet_v2_035_fine_tuning"}
    assert all(row["value"] > 0 and row["unit"] == "s/epoch" for row in rows.values())
    assert bench_default_models.DEFAULT_MODELS == ("efficientnet_b0", "resnet50_v2")


def test_smoke_and_real_suite_are_judged_from_seconds_files(seconds_csv):
    smoke = bench_smoke.main(seconds_csv({"00_a.ipynb": 100, "01_b.ipynb": 250}, "smoke.csv"))
    (row,) = _figures(smoke).values()
    assert row["value"] == 350 and row["met"] is False and row["target"] == "<= 300"
    suite = bench_real_suite.main(seconds_csv({"00_a.ipynb": 600.5, "01_b.ipynb": 600}))
    (row,) = _figures(suite).values()
    assert row["value"] == 1200.5 and row["met"] is True
    assert bench_real_suite.main(seconds_csv({}).with_name("missing.csv"))["results"] == []


def test_run_all_writes_every_column(tmp_path, seconds_csv):
    out = tmp_path / "results.csv"
    smoke = seconds_csv({"00_a.ipynb": 10.0}, "smoke.csv")
    suite = seconds_csv({"00_a.ipynb": 700.0, "01_b.ipynb": 900.0})
    code = run_all.main(["--only", "validation_share", "smoke", "real_suite", "--smoke-times", str(smoke),
                         "--suite-times", str(suite), "--csv", str(out)])
    assert code == 0
    with out.open(newline="") as handle:
        reader = csv.DictReader(handle)
        rows = {row["name"]: row for row in reader}
    assert tuple(reader.fieldnames) == run_all.COLUMNS
    assert set(rows) == {"validation_share_before", "validation_share_after", "smoke_run_seconds", "real_suite_seconds"}
    assert all(all(row[c] for c in ("name", "value", "unit", "machine", "date", "tensorflow", "keras", "profile"))
               for row in rows.values())
    assert rows["real_suite_seconds"]["met"] == "no" and rows["real_suite_seconds"]["source"] == str(suite)
    assert rows["smoke_run_seconds"]["met"] == "yes" and rows["validation_share_before"]["met"] == ""
    assert "cores" in rows["smoke_run_seconds"]["machine"] and rows["smoke_run_seconds"]["profile"].startswith("smoke")

    faster = seconds_csv({"00_a.ipynb": 600.0}, "faster.csv")
    assert run_all.main(["--only", "real_suite", "--suite-times", str(faster), "--csv", str(out), "--update"]) == 0
    with out.open(newline="") as handle:
        updated = {row["name"]: row for row in csv.DictReader(handle)}
    assert set(updated) == set(rows) and updated["real_suite_seconds"]["met"] == "yes"
    assert updated["validation_share_after"] == rows["validation_share_after"], "--update keeps the other figures"


def test_run_all_runs_as_a_script():
    done = subprocess.run([sys.executable, "benchmarks/run_all.py", "--help"], cwd=find_root(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "--suite-times" in done.stdout
