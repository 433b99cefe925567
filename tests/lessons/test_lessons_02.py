"""What notebook 02 teaches about Keras, checked on tiny models: graph structure, parameter formulas, the helper.

The notebook shows these models and prints their summaries; the checks on Keras' internals (graph nodes,
layer and weight counts, parameter formulas, helper layout == hand-built layout) live here. Offline and fast:
tiny models, ``weights=None``, 64 px.
"""

from __future__ import annotations

import keras
import numpy as np

from helpers.backbones import BACKBONES
from helpers.models import build_feature_extractor, count_params, layer_table, rescaling_layer, trainable_layer_names

BACKBONE = "mobilenet_v2_035"
INPUT_SHAPE = (64, 64, 3)
NUM_CLASSES = 3


def test_sequential_and_functional_stack_have_the_dense_parameter_formula():
    sequential = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(5, activation="relu"), keras.layers.Dense(3, activation="softmax")]
    )
    inputs = keras.Input((4,))
    outputs = keras.layers.Dense(3, activation="softmax")(keras.layers.Dense(5, activation="relu")(inputs))
    functional = keras.Model(inputs, outputs)
    assert sequential.count_params() == functional.count_params() == (4 * 5 + 5) + (5 * 3 + 3)
    functional.set_weights(sequential.get_weights())
    x = np.random.default_rng(0).normal(size=(2, 4)).astype("float32")
    np.testing.assert_allclose(sequential(x), functional(x), rtol=1e-6)


def test_two_inputs_two_outputs_and_concatenate_shapes():
    photo, menu = keras.Input((8,), name="photo_features"), keras.Input((3,), name="menu_facts")
    x = keras.layers.Concatenate(name="merge")([photo, menu])
    x = keras.layers.Dense(6, activation="relu", name="hidden")(x)
    model = keras.Model(
        [photo, menu], [keras.layers.Dense(4, activation="softmax")(x), keras.layers.Dense(1)(x)], name="two_heads"
    )
    assert len(model.inputs) == 2 and len(model.outputs) == 2
    merge = model.get_layer("merge")
    assert [tuple(t.shape) for t in merge.input] == [(None, 8), (None, 3)]
    assert tuple(merge.output.shape) == (None, 11)
    rng = np.random.default_rng(0)
    food_class, calories = model([rng.normal(size=(2, 8)), rng.normal(size=(2, 3))])
    assert food_class.shape == (2, 4), "for each of the 2 dishes, one probability per class"
    assert calories.shape == (2, 1), "for each of the 2 dishes, one calorie number"
    np.testing.assert_allclose(np.asarray(food_class).sum(axis=1), 1.0, rtol=1e-5)


def test_branches_merge_into_one_layer():
    numbers = keras.Input((8,))
    relu = keras.layers.Dense(4, activation="relu")(numbers)
    tanh = keras.layers.Dense(4, activation="tanh")(numbers)
    merged = keras.layers.Concatenate(name="merge")([relu, tanh])
    model = keras.Model(numbers, keras.layers.Dense(2, activation="softmax")(merged))
    merge = model.get_layer("merge")
    assert len(merge.input) == 2 and tuple(merge.output.shape) == (None, 8)
    assert model(np.zeros((2, 8), "float32")).shape == (2, 2)


def test_a_shared_layer_is_one_layer_called_twice_with_one_set_of_weights():
    left, right = keras.Input((6,), name="left_dish"), keras.Input((6,), name="right_dish")
    encoder = keras.layers.Dense(3, activation="relu", name="encoder")
    left_code, right_code = encoder(left), encoder(right)
    difference = keras.layers.Subtract(name="difference")([left_code, right_code])
    same_dish = keras.layers.Dense(1, activation="sigmoid", name="same_dish")(difference)
    siamese = keras.Model([left, right], same_dish)

    assert [layer.name for layer in siamese.layers].count("encoder") == 1
    config = next(entry for entry in siamese.get_config()["layers"] if entry["name"] == "encoder")
    assert len(config["inbound_nodes"]) == 2, "one layer, two calls"
    assert len(siamese.weights) == 4, "encoder kernel + bias, head kernel + bias: nothing duplicated"
    assert siamese.count_params() == (6 * 3 + 3) + (3 * 1 + 1)
    halves = keras.Model(left, left_code), keras.Model(right, right_code)
    assert all(a is b for a, b in zip(halves[0].weights, halves[1].weights, strict=True))
    dish = np.random.default_rng(0).normal(size=(1, 6)).astype("float32")
    np.testing.assert_allclose(halves[0](dish), halves[1](dish))
    bias = siamese.get_layer("same_dish").bias
    np.testing.assert_allclose(siamese([dish, dish]), keras.activations.sigmoid(bias)[None], rtol=1e-6)


def _model_0_by_hand(pooling=None):
    """Notebook 02, steps 1-4, with the raw keras.applications call (random weights)."""
    application = getattr(keras.applications, BACKBONES[BACKBONE].application)
    base = application(include_top=False, weights=None, input_shape=INPUT_SHAPE, **BACKBONES[BACKBONE].kwargs)
    base.name = "base"
    base.trainable = False
    inputs = keras.Input(INPUT_SHAPE, name="image")
    x = rescaling_layer(BACKBONE)(inputs)
    x = base(x, training=False)
    x = (pooling or keras.layers.GlobalAveragePooling2D(name="pooling"))(x)
    outputs = keras.layers.Dense(NUM_CLASSES, activation="softmax", name="classifier")(x)
    return keras.Model(inputs, outputs, name="model_0")


def test_build_feature_extractor_is_the_model_built_by_hand():
    by_hand = _model_0_by_hand()
    helper = build_feature_extractor(BACKBONE, INPUT_SHAPE, NUM_CLASSES, weights=None, name="model_0")
    assert layer_table(by_hand) == layer_table(helper)
    assert count_params(by_hand) == count_params(helper)
    assert trainable_layer_names(by_hand) == trainable_layer_names(helper) == ["classifier"]


def test_only_the_head_trains_with_channels_times_classes_plus_classes_parameters():
    model = _model_0_by_hand()
    base = model.get_layer("base")
    channels = base.output_shape[-1]
    params = count_params(model)
    assert params["trainable"] == channels * NUM_CLASSES + NUM_CLASSES
    assert params["non_trainable"] == base.count_params()


def test_max_pooling_keeps_the_parameter_count_and_takes_the_grid_maximum():
    grid = np.random.default_rng(0).normal(size=(1, 4, 4, 3)).astype("float32")
    np.testing.assert_allclose(keras.layers.GlobalMaxPooling2D()(grid), grid.max(axis=(1, 2)))
    average = _model_0_by_hand()
    maximum = _model_0_by_hand(keras.layers.GlobalMaxPooling2D(name="pooling"))
    assert count_params(average) == count_params(maximum)


def test_a_frozen_batchnorm_keeps_its_statistics_through_fit_inside_a_nested_call():
    """The rule notebook 02 relies on for every Keras version: frozen BatchNorm runs in inference mode."""
    keras.utils.set_random_seed(0)
    inner_input = keras.Input((4,))
    norm = keras.layers.BatchNormalization(name="norm")
    inner = keras.Model(inner_input, keras.layers.Dropout(0.5)(norm(inner_input)), name="inner")
    outer_input = keras.Input((4,))
    x = inner(outer_input, training=False)
    model = keras.Model(outer_input, keras.layers.Dense(2, activation="softmax")(x))
    norm.trainable = False
    before = [np.asarray(w).copy() for w in norm.weights]
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    data = np.random.default_rng(0).normal(loc=5.0, scale=3.0, size=(16, 4)).astype("float32")
    labels = keras.utils.to_categorical(np.arange(16) % 2, 2)
    model.fit(data, labels, epochs=2, batch_size=8, verbose=0)
    for old, new in zip(before, norm.weights, strict=True):
        np.testing.assert_array_equal(old, np.asarray(new))


def test_the_base_without_its_top_returns_feature_maps_and_freezing_reaches_every_layer():
    """Notebook 02, steps 1 and 2: a grid of feature maps, and one flag that freezes every layer inside."""
    application = getattr(keras.applications, BACKBONES[BACKBONE].application)
    base = application(include_top=False, weights=None, input_shape=INPUT_SHAPE, **BACKBONES[BACKBONE].kwargs)
    assert len(base.output_shape) == 4, "(batch, height, width, channels), not a vector"
    assert base.output_shape[1:3] == (INPUT_SHAPE[0] // 32, INPUT_SHAPE[1] // 32)
    assert base.trainable_weights
    base.trainable = False
    assert not base.trainable_weights and base.non_trainable_weights
    assert not any(layer.trainable for layer in base.layers)
    norms = [layer for layer in base.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert norms and not any(layer.trainable for layer in norms)


def test_model_0_has_the_five_named_layers_every_later_notebook_uses():
    names = [layer.name for layer in _model_0_by_hand().layers]
    assert names == ["image", "rescaling", "base", "pooling", "classifier"]


def test_the_pooling_layer_averages_each_feature_map_of_the_base():
    """Notebook 02, section 6, on real feature maps: one vector per image, the mean over the grid."""
    model = _model_0_by_hand()
    images = np.random.default_rng(0).uniform(0, 255, size=(2, *INPUT_SHAPE)).astype("float32")
    maps = model.get_layer("base")(model.get_layer("rescaling")(images), training=False)
    vectors = model.get_layer("pooling")(maps)
    assert vectors.shape == (2, model.get_layer("base").output_shape[-1])
    np.testing.assert_allclose(vectors, np.asarray(maps).mean(axis=(1, 2)), rtol=1e-5, atol=1e-6)


def test_fit_trains_the_head_only_and_records_one_history_entry_per_epoch():
    """Notebook 02, section 8: after fit, still one trainable layer, the base's weights untouched."""
    keras.utils.set_random_seed(0)
    model = _model_0_by_hand()
    base_before = [np.asarray(w).copy() for w in model.get_layer("base").weights]
    head_before = [np.asarray(w).copy() for w in model.get_layer("classifier").weights]
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, size=(8, *INPUT_SHAPE)).astype("float32")
    labels = keras.utils.to_categorical(np.arange(8) % NUM_CLASSES, NUM_CLASSES)
    history = model.fit(images, labels, epochs=2, batch_size=4, verbose=0)
    assert len(history.epoch) == 2
    assert trainable_layer_names(model) == ["classifier"]
    for old, new in zip(base_before, model.get_layer("base").weights, strict=True):
        np.testing.assert_array_equal(old, np.asarray(new))
    assert any(
        not np.allclose(old, np.asarray(new))
        for old, new in zip(head_before, model.get_layer("classifier").weights, strict=True)
    ), "the head learned"
