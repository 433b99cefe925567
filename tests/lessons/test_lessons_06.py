"""What notebook 06 teaches about Keras, checked offline on small models (``weights=None``).

The notebook prints these facts and keeps the checks a learner learns from; the checks on Keras' internals live
here: what each family's ``preprocess_input`` does, what the published "depth" counts and what the published
table says about size and speed, how the VGG recipe's two heads are sized, that a weights file rebuilds the same
base, that ``RandomRotation`` takes fractions of a turn (and what Keras 3.15 does with a factor of 20), what
``validation_split`` with ``subset="both"`` returns, and that the 8×8 degradation removes fine detail as a blur.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras.applications import imagenet_utils

from helpers.backbones import BACKBONES, PUBLISHED
from helpers.models import PreprocessInput, count_params, rescaling_layer
from helpers.plotting import pareto_front

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "06_choosing_a_base_model.ipynb"

PIXELS = np.array([[0.0, 0.0, 0.0], [127.5, 127.5, 127.5], [255.0, 255.0, 255.0], [255.0, 0.0, 0.0]], "float32")

#: The ``keras.applications`` module holding each course backbone's ``preprocess_input``.
FAMILY_MODULES = {
    "efficientnet_b0": keras.applications.efficientnet,
    "resnet50_v2": keras.applications.resnet_v2,
    "mobilenet_v2_035": keras.applications.mobilenet_v2,
    "mobilenet_v2_100": keras.applications.mobilenet_v2,
    "mobilenet_v1_025": keras.applications.mobilenet,
    "vgg16": keras.applications.vgg16,
    "resnet50": keras.applications.resnet50,
    "densenet121": keras.applications.densenet,
}


# --------------------------------------------------------------------------- section 5: preprocess_input


@pytest.mark.parametrize("mode", ["tf", "caffe", "torch"])
def test_preprocess_input_layer_equals_imagenet_utils_on_the_notebooks_pixels(mode):
    by_layer = np.asarray(PreprocessInput(mode)(PIXELS))
    by_function = imagenet_utils.preprocess_input(PIXELS.copy(), mode=mode)
    np.testing.assert_allclose(by_layer, by_function, atol=1e-4)


def test_the_three_modes_on_readable_pixels():
    tf_mode = np.asarray(PreprocessInput("tf")(PIXELS))
    np.testing.assert_allclose(tf_mode[:3], [[-1] * 3, [0] * 3, [1] * 3], atol=1e-6)
    caffe = np.asarray(PreprocessInput("caffe")(PIXELS))
    np.testing.assert_allclose(caffe[3], [-103.939, -116.779, 255 - 123.68], atol=1e-3)  # BGR, mean removed
    torch = np.asarray(PreprocessInput("torch")(PIXELS))
    assert len(set(np.round(torch[1], 3))) == 3, "a grey pixel gets three different values (per-channel statistics)"


def test_imagenet_utils_preprocess_input_changes_a_float_array_in_place():
    """Why the notebook hands it a copy: the function writes into a float NumPy array it is given."""
    x = PIXELS.copy()
    imagenet_utils.preprocess_input(x, mode="caffe")
    assert not np.array_equal(x, PIXELS)
    layer_input = PIXELS.copy()
    PreprocessInput("caffe")(layer_input)
    assert np.array_equal(layer_input, PIXELS), "the layer never changes its input"


@pytest.mark.parametrize("name", sorted(FAMILY_MODULES))
def test_each_backbone_family_preprocess_input_is_its_declared_mode(name):
    out = np.asarray(FAMILY_MODULES[name].preprocess_input(PIXELS.copy()))
    mode = BACKBONES[name].preprocess
    if mode is None:
        np.testing.assert_allclose(out, PIXELS)
    else:
        np.testing.assert_allclose(out, np.asarray(PreprocessInput(mode)(PIXELS)), atol=1e-4)
    np.testing.assert_allclose(np.asarray(rescaling_layer(name)(PIXELS)), out, atol=1e-4)


# --------------------------------------------------------------------------- section 3: the applications table


@pytest.mark.parametrize("application", sorted(PUBLISHED))
def test_published_depth_counts_the_layers_with_weights_and_params_match(application):
    model = getattr(keras.applications, application)(weights=None, input_shape=(75, 75, 3))  # InceptionV3's minimum
    with_weights = sum(1 for layer in model.layers if layer.weights)
    assert with_weights == PUBLISHED[application]["depth"]
    assert len(model.layers) > with_weights, "len(model.layers) also counts layers without weights"
    if application != "VGG16":  # VGG16's Flatten head depends on the image size; the others pool globally
        assert abs(model.count_params() / 1e6 - PUBLISHED[application]["params_m"]) < 0.06
    del model
    keras.backend.clear_session()


def _notebook_candidates() -> list[str]:
    """The models of section 3's table, read from the notebook's ``candidates = [...]``."""
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    code = "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "code")
    match = re.search(r"^candidates = (\[.*?\])", code, re.S | re.M)
    assert match, "notebook 06 no longer defines candidates = [...]: update this test"
    return ast.literal_eval(match[1])


def test_vgg16_is_the_largest_file_of_the_eight_shown_and_faster_than_resnet101():
    candidates = _notebook_candidates()
    assert len(candidates) == 8, "the text says 'the eight shown'"
    assert max(candidates, key=lambda name: PUBLISHED[name]["size_mb"]) == "VGG16"
    assert PUBLISHED["VGG16"]["cpu_ms"] < PUBLISHED["ResNet101"]["cpu_ms"]
    ratio = PUBLISHED["EfficientNetB0"]["params_m"] / PUBLISHED["ResNet50V2"]["params_m"]
    assert 0.15 < ratio < 0.25, "a fifth of ResNet50V2's parameters"
    assert PUBLISHED["EfficientNetB0"]["cpu_ms"] >= PUBLISHED["ResNet50V2"]["cpu_ms"], "and no faster on a CPU"


def test_on_the_published_cpu_figures_inceptionv3_beats_efficientnetb0_on_both_counts():
    """Why the solutions decide the trade in code: the published column contradicts 'EfficientNetB0 is better'."""
    names = ["EfficientNetB0", "InceptionV3", "Xception"]
    assert PUBLISHED["InceptionV3"]["cpu_ms"] < PUBLISHED["EfficientNetB0"]["cpu_ms"]
    assert PUBLISHED["InceptionV3"]["top1"] > PUBLISHED["EfficientNetB0"]["top1"]
    front = pareto_front([PUBLISHED[n]["cpu_ms"] for n in names], [PUBLISHED[n]["top1"] for n in names])
    assert [names[i] for i in front] == ["InceptionV3", "Xception"]


def test_only_vgg16s_top_grows_with_the_image_size():
    with_top = [keras.applications.VGG16(weights=None, input_shape=(s, s, 3)).count_params() for s in (32, 64)]
    without = [
        keras.applications.VGG16(weights=None, include_top=False, input_shape=(s, s, 3)).count_params()
        for s in (32, 64)
    ]
    assert with_top[1] - with_top[0] == (2 * 2 - 1 * 1) * 512 * 4096, "fc1 takes the flattened grid"
    assert without[0] == without[1]
    keras.backend.clear_session()


# --------------------------------------------------------------------------- section 4: the VGG recipe


def _recipe(base, pooling, backbone, shape, num_classes=2):
    """Notebook 06's recipe: preprocessing inside, frozen base, pooling, Dense(100), softmax."""
    for layer in base.layers:
        layer.trainable = False
    inputs = keras.Input(shape=shape, name="image")
    x = rescaling_layer(backbone)(inputs)
    x = base(x, training=False)
    x = pooling(x)
    x = keras.layers.Dense(100, activation="relu", name="hidden")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", kernel_initializer="random_uniform")(x)
    return keras.Model(inputs, outputs)


def test_flatten_head_has_grid_times_the_weights_of_the_gap_head():
    shape = (85, 85, 3)  # the smoke profile's 64 px × 300 // 224
    base = keras.applications.MobileNetV2(weights=None, include_top=False, input_shape=shape, alpha=0.35)
    _, height, width, channels = base.output_shape
    flatten = _recipe(base, keras.layers.Flatten(), "mobilenet_v2_035", shape)
    gap = _recipe(base, keras.layers.GlobalAveragePooling2D(), "mobilenet_v2_035", shape)
    classifier = 100 * 2 + 2
    assert count_params(flatten)["trainable"] == height * width * channels * 100 + 100 + classifier
    assert count_params(gap)["trainable"] == channels * 100 + 100 + classifier
    assert count_params(flatten)["non_trainable"] == count_params(gap)["non_trainable"] == base.count_params()
    assert not base.trainable_weights, "the loop over base.layers freezes the whole base"


@pytest.mark.parametrize("backbone", ["mobilenet_v2_035", "vgg16"])
def test_a_base_rebuilt_from_its_weights_file_is_identical(backbone, tmp_path):
    spec = BACKBONES[backbone]
    application = getattr(keras.applications, spec.application)
    shape = (40, 40, 3)  # a size other than 224 works without the top
    base = application(weights=None, include_top=False, input_shape=shape, **spec.kwargs)
    path = tmp_path / f"06_{backbone}_base.weights.h5"
    base.save_weights(path)
    rebuilt = application(weights=str(path), include_top=False, input_shape=shape, **spec.kwargs)
    for a, b in zip(base.get_weights(), rebuilt.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    batch = np.random.default_rng(0).uniform(0, 255, (2, *shape)).astype("float32")
    np.testing.assert_allclose(base.predict_on_batch(batch), rebuilt.predict_on_batch(batch), rtol=1e-5, atol=1e-5)
    keras.backend.clear_session()


# --------------------------------------------------------------------------- section 6: from the old generator


def test_random_rotation_takes_a_fraction_of_a_full_turn():
    image = np.zeros((1, 5, 5, 1), "float32")
    image[0, 0, :2, 0] = [2.0, 1.0]
    quarter = keras.layers.RandomRotation((0.25, 0.25), fill_mode="constant", interpolation="nearest")
    np.testing.assert_array_equal(np.asarray(quarter(image, training=True))[0, :, :, 0], np.rot90(image[0, :, :, 0]))


def test_keras_3_15_refuses_a_rotation_factor_of_20_and_accepts_0_2_as_72_degrees():
    if tuple(int(part) for part in keras.__version__.split(".")[:2]) != (3, 15):
        pytest.skip("notebook 06 states what Keras 3.15 does; its cell prints what other versions do")
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        keras.layers.RandomRotation(20)
    low, high = keras.layers.RandomRotation(0.2).factor
    assert (360 * low, 360 * high) == pytest.approx((-72.0, 72.0))
    assert 360 * keras.layers.RandomRotation(20 / 360).factor[1] == pytest.approx(20.0)


def test_augmentation_layers_pass_images_through_outside_training():
    layers = keras.Sequential(
        [keras.layers.RandomRotation(20 / 360, seed=0), keras.layers.RandomZoom(0.2, 0.2, seed=1)]
        + ([keras.layers.RandomShear(x_factor=0.1, seed=2)] if hasattr(keras.layers, "RandomShear") else [])
    )
    batch = np.random.default_rng(0).uniform(0, 255, (2, 16, 16, 3)).astype("float32")
    np.testing.assert_array_equal(np.asarray(layers(batch, training=False)), batch)
    assert not np.array_equal(np.asarray(layers(batch, training=True)), batch)


def test_validation_split_with_subset_both_gives_two_disjoint_parts(tiny_data):
    train, val = keras.utils.image_dataset_from_directory(
        tiny_data / "train", validation_split=0.2, subset="both", seed=42, image_size=(32, 32), batch_size=4,
        label_mode="categorical",
    )
    assert not set(train.file_paths) & set(val.file_paths)
    assert len(train.file_paths) + len(val.file_paths) == 36  # 3 classes × 12 images
    assert len(val.file_paths) == round(0.2 * 36)


# --------------------------------------------------------------------------- section 7: the failure


def _low_resolution(images, size=(64, 64), low=(8, 8)):
    """Notebook 06's degradation: down to 8×8 (area), back up to the input size (bilinear)."""
    return tf.image.resize(tf.image.resize(images, low, method="area"), size, method="bilinear")


def test_low_resolution_keeps_the_shape_and_removes_fine_detail():
    checkerboard = (np.indices((64, 64)).sum(axis=0) % 2 * 255.0).astype("float32")
    images = np.repeat(checkerboard[None, :, :, None], 3, axis=-1)
    degraded = np.asarray(_low_resolution(images))
    assert degraded.shape == images.shape
    assert degraded.std() < 0.01 * images.std(), "a 1-pixel pattern averages out to flat grey"
    np.testing.assert_allclose(degraded.mean(), images.mean(), rtol=1e-3)
    colour = np.zeros((1, 64, 64, 3), "float32")
    colour[..., 0] = 200.0
    np.testing.assert_allclose(np.asarray(_low_resolution(colour)), colour, atol=1e-3)  # colour survives


def test_bilinear_upsampling_of_8x8_images_gives_a_blur_not_blocks():
    small = np.random.default_rng(0).uniform(0, 255, (1, 8, 8, 3)).astype("float32")
    bilinear = np.asarray(tf.image.resize(small, (64, 64), method="bilinear"))
    nearest = np.asarray(tf.image.resize(small, (64, 64), method="nearest"))
    assert len(np.unique(nearest[0, 0, :, 0])) == 8, "nearest: 8 blocks of one value per row"
    assert len(np.unique(bilinear[0, 0, :, 0])) > 32, "bilinear: values change smoothly across a row"
    jumps = np.abs(np.diff(bilinear, axis=2)).max()
    assert jumps < np.abs(np.diff(nearest, axis=2)).max() / 2, "no sharp edges between the 8×8 pixels"
