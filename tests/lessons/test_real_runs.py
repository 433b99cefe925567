"""Every lesson's teaching claims, checked on real photos with real ImageNet weights (marker ``real``).

The lesson notebooks run unchanged and for real, offline, exactly as ``make run`` runs them: 224 px images,
5 epochs per stage, the full test sets. Notebooks 00-04 and 07 use the 10 Food-101 classes of
``../shared/data/food10`` and notebooks 05-06 the ants-vs-bees folder, all with MobileNetV2 a0.35 (the only
ImageNet weights available offline). The checks read the rows the notebooks recorded, so prose, results
table and thresholds cannot drift apart. Skipped, with the reason, where ``../shared`` is absent.

Thresholds are loose enough for run-to-run noise and tight enough to catch a broken recipe; the reference
figures they come from are in ``results/reference_offline.csv``.

``make test`` (CI) runs the lessons of :data:`CI_LESSONS` for real, about a quarter of an hour on 2 cores. The
03-04 chain (the 100% data, the from-scratch baseline and both fine-tuning runs: about 50 minutes more) runs with
``COURSE_REAL_ALL=1``: ``make test-real`` runs every lesson so, and ``make reference`` runs them all to publish.
Without it the checks of 03's and 04's rows are skipped, saying so.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import pytest

from helpers.config import find_root
from tests.conftest import needs_shared_data, needs_shared_weights
from tools.reference import lessons

pytestmark = [pytest.mark.real, needs_shared_data, needs_shared_weights]

#: The lessons every ``make test`` runs for real; ``COURSE_REAL_ALL=1`` adds the long 03-04 chain.
CI_LESSONS = ("00", "01", "02", "05", "06", "07")
ALL = os.environ.get("COURSE_REAL_ALL") == "1"
#: Marks a check of the 03-04 chain's rows.
long_chain = pytest.mark.skipif(not ALL, reason="03-04 run for real in make test-real (COURSE_REAL_ALL=1)")



@pytest.fixture(scope="module")
def real_run(tmp_path_factory) -> Path:
    """Every lesson run for real into one run folder (``tools.reference.run_lessons``, as ``make reference``).

    ``COURSE_REAL_RUN=runs/<timestamp>`` checks an existing reference run's rows instead of running again.
    """
    from tools import hub_cache
    from tools.reference import run_lessons, shared_data

    if os.environ.get("COURSE_REAL_RUN"):
        return Path(os.environ["COURSE_REAL_RUN"])
    hub_cache.seed("mobilenet_v2_035")  # the offline TF Hub twin notebook 01 loads (kept if already built)
    run = tmp_path_factory.mktemp("real_run")
    saved = dict(os.environ)
    try:
        seconds = run_lessons(run, shared_data(), only=None if ALL else CI_LESSONS)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    print("real run, seconds per notebook:", seconds)
    return run


@pytest.fixture(scope="module")
def rows(real_run) -> dict[str, dict[str, str]]:
    with (real_run / "results.csv").open(newline="") as handle:
        return {row["experiment"]: row for row in csv.DictReader(handle)}


def test_every_row_is_a_real_run_with_the_offline_backbone(rows):
    assert rows and all(row["profile"] == "local" and row["backbone"] == "mobilenet_v2_035" for row in rows.values())


def accuracy(rows, experiment: str) -> float:
    assert experiment in rows, f"{experiment} was not recorded; recorded: {sorted(rows)}"
    return float(rows[experiment]["test_accuracy"])


def test_feature_extraction_on_10_percent_reaches_60_percent(rows):
    for experiment in ("01_efficientnet_b0_feature_vector", "02_model_0_10_percent"):
        assert accuracy(rows, experiment) >= 0.60, f"{experiment}: {accuracy(rows, experiment):.1%} on 1,250 images"
    assert rows["02_model_0_10_percent"]["train_images"] == "750"


@long_chain
def test_augmented_feature_extraction_on_10_percent_reaches_60_percent(rows):
    assert accuracy(rows, "03_model_2_10_percent_aug") >= 0.60


@long_chain
def test_1_percent_is_well_above_chance(rows):
    assert accuracy(rows, "03_model_1_1_percent_aug") >= 0.30


@long_chain
def test_all_the_data_beats_10_percent(rows):
    gain = accuracy(rows, "03_feature_extraction_100_percent") - accuracy(rows, "03_model_2_10_percent_aug")
    assert gain >= 0.05, f"100% of the data gained only {gain:+.1%} over 10%"


@long_chain
def test_fine_tuning_does_not_lose_to_its_feature_extractor(rows):
    pairs = [
        ("04_model_3_fine_tune_10_layers", "03_model_2_10_percent_aug"),
        ("04_model_4_fine_tune_100_percent", "03_feature_extraction_100_percent"),
    ]
    for tuned, extractor in pairs:
        assert accuracy(rows, tuned) >= accuracy(rows, extractor) - 0.01, f"{tuned} fell below {extractor}"


@long_chain
def test_imagenet_weights_beat_training_from_scratch(rows):
    # the same architecture and data, every layer trained from random weights for the same epochs
    gap = accuracy(rows, "03_model_2_10_percent_aug") - accuracy(rows, "03_from_scratch_10_percent")
    assert gap >= 0.25, f"pretraining bought only {gap:+.1%} over training from scratch"
    # a network evaluate sees as dead (BatchNorm's starting statistics) predicts the class prior: loss ln(classes)
    scratch = rows["03_from_scratch_10_percent"]
    dead = math.log(int(scratch["classes"]))
    assert abs(float(scratch["val_loss"]) - dead) > 0.01, f"from scratch: val_loss {scratch['val_loss']} = ln(classes)"


def test_the_hub_model_matches_keras_applications_with_the_same_weights(rows):
    # offline, 01's hub handle is the TF Hub twin of 02's keras.applications backbone; neither augments
    hub, keras_app = accuracy(rows, "01_efficientnet_b0_feature_vector"), accuracy(rows, "02_model_0_10_percent")
    assert abs(hub - keras_app) <= 0.03, f"hub {hub:.1%} vs keras.applications {keras_app:.1%}"


def test_leaving_out_the_rescaling_is_clearly_worse(rows):
    drop = accuracy(rows, "01_efficientnet_b0_feature_vector") - accuracy(rows, "01_hub_no_rescaling")
    assert drop >= 0.15, f"without rescaling the model lost only {drop:+.1%}"


def test_ants_and_bees_go_from_chance_to_85_percent(rows):
    assert abs(accuracy(rows, "05_before_training") - 0.5) <= 0.15, "an untrained head is near chance"
    assert accuracy(rows, "05_head_only") >= 0.85
    for experiment in ("05_whole_model_fine_tuned", "05_top_fine_tuned"):
        assert accuracy(rows, experiment) >= accuracy(rows, "05_head_only") - 0.05


def test_low_resolution_images_defeat_the_backbone(rows):
    assert accuracy(rows, "06_low_resolution") < accuracy(rows, "06_normal_images") - 0.05


def test_every_lesson_ran_and_kept_its_figures(real_run):
    ran = [nb for nb in lessons(find_root()) if ALL or nb.name[:2] in CI_LESSONS]
    assert ran and all((real_run / notebook.name).exists() for notebook in ran)
    # 06 asserts inside the notebook that the wrong preprocess_input gives the photos' classes less probability
    # than the right one; the executed copy exists only if that assertion held on the real weights
    assert len(list((real_run / "images").glob("*.png"))) >= (20 if ALL else 12)
    assert os.path.getsize(real_run / "results.csv") > 0
