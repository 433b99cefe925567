"""What notebook 05 relies on about the helpers, TFDS and Keras, checked offline on tiny models (``weights=None``).

The notebook keeps the checks a learner learns from; the facts about split slicing, the bottleneck layer,
layer counts, zero-epoch rows and reloading the head-only weights live here.
"""

from __future__ import annotations

import re
from itertools import pairwise
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

BACKBONE = "mobilenet_v2_035"
SHAPE = (32, 32, 3)
CATS_VS_DOGS_IMAGES = 23_262  # the size notebook 05 quotes for cats_vs_dogs' train split


def _image_range(spec, total):
    """Notebook 05's reading of a slicing string: round each percentage to the closest image."""
    start, stop = re.fullmatch(r"\w+\[(\d*)%?:(\d*)%?\]", spec).groups()
    return round(total * int(start or 0) / 100), round(total * int(stop or 100) / 100)


@pytest.mark.parametrize("split", sorted(CATS_VS_DOGS_SPLITS))
def test_the_notebooks_reading_of_a_slice_is_what_tfds_takes(split):
    tfds = pytest.importorskip("tensorflow_datasets")
    spec = CATS_VS_DOGS_SPLITS[split]
    info = tfds.core.SplitInfo(name="train", shard_lengths=[CATS_VS_DOGS_IMAGES], num_bytes=0, filename_template=None)
    (absolute,) = tfds.core.ReadInstruction.from_spec(spec).to_absolute({"train": info})
    first, after_last = _image_range(spec, CATS_VS_DOGS_IMAGES)
    assert (absolute.from_ or 0, absolute.to or CATS_VS_DOGS_IMAGES) == (first, after_last)


def test_the_course_slices_are_disjoint():
    ranges = sorted(_image_range(spec, CATS_VS_DOGS_IMAGES) for spec in CATS_VS_DOGS_SPLITS.values())
    assert all(a[1] <= b[0] for a, b in pairwise(ranges))


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
