"""What notebook 05 relies on about the helpers, TFDS and Keras, checked offline on tiny models (``weights=None``).

The notebook keeps the checks a learner learns from; the facts about split slicing, the bottleneck layer,
layer counts, zero-epoch rows, reloading the head-only weights and the reference figures it quotes live here.
"""

from __future__ import annotations

import csv
import json
import re
from itertools import pairwise
from pathlib import Path
from types import SimpleNamespace

import keras
import numpy as np
import pytest

from helpers.backbones import BACKBONES
from helpers.data import CATS_VS_DOGS_SPLITS
from helpers.models import (
    build_feature_extractor,
    count_params,
    expected_trainable,
    load_backbone,
    trainable_layer_names,
    unfreeze_last,
)
from helpers.results import load_results, record

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "05_mobilenetv2_cats_vs_dogs.ipynb"
BACKBONE = "mobilenet_v2_035"
SHAPE = (32, 32, 3)
CATS_VS_DOGS_IMAGES = 23_262  # the TFDS catalog's size, notebook 05's fallback before the download


def _markdown(path: Path = NOTEBOOK) -> list[str]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown"]


def _catalog_split():
    tfds = pytest.importorskip("tensorflow_datasets")
    info = tfds.core.SplitInfo(name="train", shard_lengths=[CATS_VS_DOGS_IMAGES], num_bytes=0, filename_template=None)
    return tfds, info


def _tfds_range(spec):
    """Notebook 05's reading of a slicing string: TFDS's own ``ReadInstruction``, on the catalog's size."""
    tfds, info = _catalog_split()
    (absolute,) = tfds.core.ReadInstruction.from_spec(spec).to_absolute({"train": info})
    return absolute.from_ or 0, CATS_VS_DOGS_IMAGES if absolute.to is None else absolute.to


@pytest.mark.parametrize("split", sorted(CATS_VS_DOGS_SPLITS))
def test_tfds_rounds_each_percentage_to_the_closest_image(split):
    """What the notebook's text says TFDS does to a percentage."""
    start, stop = re.fullmatch(r"\w+\[(\d*)%?:(\d*)%?\]", CATS_VS_DOGS_SPLITS[split]).groups()
    rounded = (
        round(CATS_VS_DOGS_IMAGES * int(start or 0) / 100),
        round(CATS_VS_DOGS_IMAGES * int(stop or 100) / 100),
    )
    assert _tfds_range(CATS_VS_DOGS_SPLITS[split]) == rounded


def test_the_course_slices_are_disjoint_and_sized_as_the_notebook_says():
    ranges = {split: _tfds_range(spec) for split, spec in CATS_VS_DOGS_SPLITS.items()}
    ordered = sorted(ranges.values())
    assert all(a[1] <= b[0] for a, b in pairwise(ordered))
    sizes = {split: stop - start for split, (start, stop) in ranges.items()}
    shares = {split: size / CATS_VS_DOGS_IMAGES for split, size in sizes.items()}
    assert shares == pytest.approx({"train": 0.10, "val": 0.02, "test": 0.20}, abs=1e-4)


def test_an_undownloaded_data_set_has_empty_split_info(tmp_path):
    """Why the notebook falls back on the catalog's size: before the download (and offline) ``splits`` is empty."""
    tfds = pytest.importorskip("tensorflow_datasets")
    splits = tfds.builder("cats_vs_dogs", data_dir=str(tmp_path)).info.splits
    assert "train" not in splits


@pytest.mark.parametrize("backbone", ["mobilenet_v2_035", "mobilenet_v2_100"])
def test_include_top_false_stops_at_the_bottleneck_layer(backbone):
    spec = BACKBONES[backbone]
    application = getattr(keras.applications, spec.application)
    with_top = application(include_top=True, weights=None, **spec.kwargs)
    assert [type(layer).__name__ for layer in with_top.layers[-2:]] == ["GlobalAveragePooling2D", "Dense"]
    base = load_backbone(backbone, (224, 224, 3), weights=None)
    assert base.layers[-1].name == with_top.layers[-3].name == "out_relu"
    assert base.output_shape == (None, 7, 7, 1280)


def test_two_class_feature_extractor_trains_only_its_head():
    model = build_feature_extractor(BACKBONE, SHAPE, 2, dropout=0.2, weights=None)  # 05's head
    assert [layer.name for layer in model.layers] == ["image", "rescaling", "base", "pooling", "dropout", "classifier"]
    assert trainable_layer_names(model) == ["classifier"]
    assert count_params(model)["trainable"] == 1280 * 2 + 2


def test_unfreezing_every_layer_keeps_batchnorm_frozen():
    model = build_feature_extractor(BACKBONE, SHAPE, 2, weights=None)
    base = model.get_layer("base")
    names = unfreeze_last(base, len(base.layers))
    assert names == expected_trainable(base, len(base.layers))
    batch_norms = [layer for layer in base.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert batch_norms and not any(layer.trainable for layer in batch_norms)
    assert all(layer.trainable for layer in base.layers if layer not in batch_norms)
    frozen = sum(int(np.prod(w.shape)) for layer in batch_norms for w in layer.weights)
    assert count_params(model)["non_trainable"] == frozen, "only BatchNorm's numbers stay frozen"


def test_unfreezing_the_last_30_layers_of_mobilenet_v2():
    base = load_backbone(BACKBONE, SHAPE, weights=None)
    names = unfreeze_last(base, 30)
    assert names == expected_trainable(base, 30)
    assert names[0] == "block_14_expand" and names[-1] == "Conv_1" and len(names) == 10
    assert not any(layer.trainable for layer in base.layers[:-30])


def test_a_zero_epoch_row_takes_its_validation_figures_from_val_metrics(tmp_path):
    path = tmp_path / "results.csv"
    row = record(
        "05_before_training",
        SimpleNamespace(name="m"),
        SimpleNamespace(epoch=[], history={}),
        {"accuracy": 0.5, "loss": 0.7},
        notebook="05",
        train_images=10,
        seconds=0,
        val_metrics={"accuracy": 0.25, "loss": 0.9},
        path=path,
    )
    assert (row["epochs"], row["val_accuracy"], row["val_loss"], row["test_accuracy"]) == (0, 0.25, 0.9, 0.5)
    (stored,) = load_results(path)
    assert stored["experiment"] == "05_before_training" and stored["epochs"] == "0"


def test_head_only_weights_reload_into_a_rebuilt_model_and_survive_unfreezing(tmp_path):
    keras.utils.set_random_seed(0)
    trained = build_feature_extractor(BACKBONE, SHAPE, 2, dropout=0.2, weights=None, name="head_only")
    path = tmp_path / "checkpoint.weights.h5"
    trained.save_weights(path)
    rebuilt = build_feature_extractor(BACKBONE, SHAPE, 2, dropout=0.2, weights=None, name="top_fine_tuned")
    rebuilt.load_weights(path)
    unfreeze_last(rebuilt.get_layer("base"), 30)
    for ours, theirs in zip(rebuilt.get_weights(), trained.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    x = np.random.default_rng(0).uniform(0, 255, size=(2, *SHAPE)).astype("float32")
    np.testing.assert_allclose(rebuilt.predict_on_batch(x), trained.predict_on_batch(x), rtol=1e-5, atol=1e-6)


def test_two_softmax_units_are_one_sigmoid_of_their_difference():
    logits = np.random.default_rng(0).normal(size=(8, 2)).astype("float32")
    softmax = keras.ops.convert_to_numpy(keras.activations.softmax(logits))[:, 1]
    sigmoid = keras.ops.convert_to_numpy(keras.activations.sigmoid(logits[:, 1] - logits[:, 0]))
    np.testing.assert_allclose(softmax, sigmoid, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("backbone", ["mobilenet_v2_035", "mobilenet_v2_100"])
def test_the_top_30_layers_are_a_fifth_of_the_learners_and_most_of_the_parameters(backbone):
    """Section 8's count: layers with weights outside BatchNorm, the trainable ones, their share of parameters."""
    base = load_backbone(backbone, SHAPE, weights=None)
    learners = [
        layer for layer in base.layers if layer.weights and not isinstance(layer, keras.layers.BatchNormalization)
    ]
    unfreeze_last(base, 30)
    unfrozen = [layer for layer in learners if layer.trainable]
    share = sum(layer.count_params() for layer in unfrozen) / sum(layer.count_params() for layer in learners)
    assert (len(learners), len(unfrozen)) == (52, 10)
    assert len(base.layers) - len(learners) > 100, "most layers have no weights or are BatchNorm"
    assert 0.6 < share < 0.8


def test_the_reference_run_the_notebook_quotes_is_the_courses_own():
    rows = {row["experiment"]: row for row in csv.DictReader((ROOT / "results" / "reference_offline.csv").open())}
    (text,) = [cell for cell in _markdown() if cell.startswith("### Reference figures")]
    figures = [
        f"{100 * float(rows[name]['val_accuracy']):.1f}%"
        for name in ("05_head_only", "05_whole_model_fine_tuned", "05_top_fine_tuned")
    ]
    quoted = re.search(
        r"(\d+\.\d)% validation accuracy after training.*?(\d+\.\d)% after fine-tuning the whole "
        r"model, and (\d+\.\d)% after",
        text,
        re.S,
    )
    assert quoted, "the reference figures paragraph changed: update this test"
    assert [f"{value}%" for value in quoted.groups()] == figures
    assert "34 validation images" in text and "one validation image" in text
    head, whole = (float(rows[name]["val_accuracy"]) for name in ("05_head_only", "05_whole_model_fine_tuned"))
    assert round((head - whole) * 34) == 1 and all(
        abs(34 * float(rows[name]["val_accuracy"]) - round(34 * float(rows[name]["val_accuracy"]))) < 0.01
        for name in ("05_head_only", "05_whole_model_fine_tuned")
    ), "34 validation images, one fewer right after fine-tuning the whole model"


def test_the_five_steps_are_labelled_in_order():
    text = "\n".join(_markdown())
    positions = [text.find(f"**Step {n} of 5") for n in range(1, 6)]
    assert -1 not in positions and positions == sorted(positions)
