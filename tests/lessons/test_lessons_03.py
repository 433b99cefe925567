"""Notebook 03's models and checkpoint, checked on tiny offline builds (``weights=None``, small images).

The notebook keeps the checks a learner learns from; the layout and internals it relies on are tested here.
"""

from __future__ import annotations

import json
import re
import warnings

import keras
import numpy as np
import pytest

from helpers.callbacks import checkpoint_callback, checkpoint_path, history_logger, latest_checkpoint, model_variant
from helpers.config import find_root
from helpers.data import image_folders
from helpers.models import build_feature_extractor, count_params, trainable_layer_names
from helpers.plotting import plot_accuracy_vs_size
from helpers.results import accuracy_interval
from helpers.training import augmented_feature_extractor, compile_classifier, data_augmentation, extract_features

SIZE = 32
SHAPE = (SIZE, SIZE, 3)
NOTEBOOKS = find_root() / "notebooks"


def _feature_model(model: keras.Model) -> keras.Model:
    """03's feature model: the frozen layers of ``model`` without augmentation, shared, not copied."""
    inputs = keras.Input(shape=SHAPE, name="image")
    x = model.get_layer("rescaling")(inputs)
    x = model.get_layer("base")(x, training=False)
    return keras.Model(inputs, model.get_layer("pooling")(x), name="feature_model")


def _source(path) -> str:
    return "\n".join("".join(cell["source"]) for cell in json.loads(path.read_text())["cells"])


def test_model_1_layout_only_the_classifier_trains():
    model = build_feature_extractor(
        "mobilenet_v2_035", SHAPE, 3, augmentation=data_augmentation(1), weights=None, name="model_1"
    )
    layout = ["image", "augmentation", "rescaling", "base", "pooling", "classifier"]
    assert [layer.name for layer in model.layers] == layout
    assert trainable_layer_names(model) == ["classifier"] and not model.get_layer("base").trainable
    assert not model.get_layer("augmentation").weights, "augmentation layers hold no weights, only a random state"


def test_checkpoint_callback_is_the_modelcheckpoint_03_writes_out(tmp_path):
    ckpt = tmp_path / "run" / "checkpoint.weights.h5"
    raw = keras.callbacks.ModelCheckpoint(
        filepath=str(ckpt), save_weights_only=True, monitor="val_loss", save_freq="epoch"
    )
    helper = checkpoint_callback(ckpt)
    settings = ("filepath", "save_weights_only", "monitor", "save_freq", "save_best_only")
    assert {k: getattr(helper, k) for k in settings} == {k: getattr(raw, k) for k in settings}
    with pytest.raises(ValueError, match=r"\.weights\.h5"):
        keras.callbacks.ModelCheckpoint(str(tmp_path / "checkpoint.ckpt"), save_weights_only=True)
    with pytest.raises(ValueError, match=r"\.weights\.h5"):
        checkpoint_callback(tmp_path / "checkpoint.ckpt")


def test_model_2_checkpoint_round_trip_as_03_saves_and_04_loads(tiny_data, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_RUN_DIR", str(tmp_path))
    train, val, _, names = image_folders(tiny_data / "train", tiny_data / "val", tiny_data / "test", (SIZE, SIZE), 8)
    variant = model_variant("mobilenet_v2_035", (SIZE, SIZE))
    ckpt = checkpoint_path("03_model_2_10_percent_aug", variant)
    model_2 = augmented_feature_extractor("mobilenet_v2_035", SHAPE, len(names), 1, name="model_2", weights=None)
    compile_classifier(model_2)
    history = model_2.fit(
        train, validation_data=val, epochs=1, callbacks=[checkpoint_callback(ckpt), history_logger(ckpt)],
        shuffle=False, verbose=0,
    )
    assert latest_checkpoint("03_model_2_10_percent_aug", variant) == ckpt
    assert (ckpt.parent / "history.csv").exists()
    with pytest.raises(FileExistsError):
        checkpoint_callback(ckpt)
    with pytest.raises(FileNotFoundError, match="another backbone or image size"):
        latest_checkpoint("03_model_2_10_percent_aug", model_variant("efficientnet_b0", (SIZE, SIZE)))

    restored = augmented_feature_extractor("mobilenet_v2_035", SHAPE, len(names), 1, name="restored", weights=None)
    restored.load_weights(ckpt)
    val_batch, _ = next(iter(val))
    np.testing.assert_allclose(restored.predict_on_batch(val_batch), model_2.predict_on_batch(val_batch), atol=1e-6)
    # the solutions' exercise 4: the checkpoint scores the validation accuracy fit recorded for the last epoch
    compile_classifier(restored)
    reloaded = restored.evaluate(val, return_dict=True, verbose=0)["accuracy"]
    assert abs(reloaded - history.history["val_accuracy"][-1]) < 1e-6


def test_feature_model_shares_model_2s_layers_and_the_glued_model_matches():
    model = augmented_feature_extractor("mobilenet_v2_035", SHAPE, 3, 1, name="model_2", weights=None)
    feature_model = _feature_model(model)
    assert feature_model.get_layer("base") is model.get_layer("base"), "shared, not a second backbone"
    assert feature_model.output_shape == (None, 1280)
    head = keras.Sequential([keras.Input((1280,)), keras.layers.Dense(3, activation="softmax", name="classifier")])
    head.set_weights(model.get_layer("classifier").get_weights())
    glued = keras.Model(feature_model.input, head(feature_model.output))
    x = np.random.default_rng(0).uniform(0, 255, (4, *SHAPE)).astype("float32")
    np.testing.assert_allclose(np.asarray(glued(x)), np.asarray(model(x, training=False)), rtol=1e-5, atol=1e-6)


def test_dropout_in_the_base_mobilenet_none_efficientnet_some():
    """What 03's measurement cell explains; the direction for EfficientNet under fit depends on the Keras version."""
    x = np.random.default_rng(1).uniform(0, 255, (2, *SHAPE)).astype("float32")
    for backbone, has_dropout in (("mobilenet_v2_035", False), ("efficientnet_b0", True)):
        model = build_feature_extractor(backbone, SHAPE, 3, weights=None)
        dropout = [layer for layer in model.get_layer("base").layers if isinstance(layer, keras.layers.Dropout)]
        assert bool(dropout) is has_dropout, backbone
        feature_model = _feature_model(model)
        inference = np.asarray(feature_model(x, training=False))
        np.testing.assert_array_equal(inference, np.asarray(feature_model(x, training=False)))
        if not has_dropout:  # frozen BatchNorm runs in inference mode (Keras 3, tf.keras since TF 2.0)
            np.testing.assert_allclose(np.asarray(feature_model(x, training=True)), inference, rtol=1e-5, atol=1e-6)


def test_03_keeps_the_names_04_and_the_solutions_rely_on():
    lesson = _source(NOTEBOOKS / "03_data_size_experiments.ipynb")
    flat = re.sub(r"\s+", "", lesson)  # the formatter may wrap a call over several lines
    for needed in (
        'ckpt = checkpoint_path("03_model_2_10_percent_aug", model_variant(backbone, profile.image_size))',
        "augmented_feature_extractor(backbone, profile.input_shape, num_classes, profile.seed, name=\"model_2\")",
        "callbacks=[model_2_checkpoint, model_2_history_log]",
        "model_2_checkpoint = checkpoint_callback(ckpt)",
        "model_2_history_log = history_logger(ckpt)",
        '"03_model_1_1_percent_aug"',
        '"03_feature_extraction_100_percent"',
        '"03_cached_features_10_percent"',
        '"03_from_scratch_10_percent"',
    ):
        assert re.sub(r"\s+", "", needed) in flat, needed
    assert "03_random_init_10_percent" not in lesson, "the frozen random backbone measured a dead network"
    unfreeze = lesson.index('model_scratch.get_layer("base").trainable = True')
    assert unfreeze < lesson.index("compile_classifier(model_scratch)"), "recompile after changing trainable"
    solutions = _source(NOTEBOOKS / "solutions" / "03_data_size_experiments_solutions.ipynb")
    new = re.findall(r'experiment="([^"]+)"', solutions)
    assert new and all(name.startswith("03s_") for name in new), new


def test_a_checkpoint_loads_silently_without_augmentation_and_at_another_size(tmp_path):
    """03, "What must match, and what loads silently": weights are matched by layer class and position."""
    saved = augmented_feature_extractor("mobilenet_v2_035", (48, 48, 3), 3, 1, name="model_2", weights=None)
    path = tmp_path / "checkpoint.weights.h5"
    saved.save_weights(path)

    other = build_feature_extractor("mobilenet_v2_035", SHAPE, 3, name="no_augmentation_32px", weights=None)
    assert "augmentation" not in [layer.name for layer in other.layers]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        other.load_weights(path)  # another image size, no augmentation: no error, no warning
    for ours, theirs in zip(other.get_weights(), saved.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)

    with pytest.raises(ValueError, match="could not be loaded"):
        build_feature_extractor("mobilenet_v2_035", SHAPE, 4, weights=None).load_weights(path)


def test_a_frozen_random_backbone_gives_the_head_nothing_to_learn_from():
    """Why 03 trains its from-scratch baseline with every layer trainable, not with a frozen random base."""
    model = build_feature_extractor("mobilenet_v2_035", SHAPE, 3, weights=None)
    x = np.random.default_rng(2).uniform(0, 255, (8, *SHAPE)).astype("float32")
    features = np.asarray(_feature_model(model)(x, training=False))
    assert np.abs(features).max() < 1e-6, "the features are all but zero"


def test_the_from_scratch_baseline_trains_every_layer():
    model = augmented_feature_extractor("mobilenet_v2_035", SHAPE, 3, 1, name="from_scratch", weights=None)
    head_only = count_params(model)["trainable"]
    base = model.get_layer("base")
    base.trainable = True
    compile_classifier(model)
    assert all(layer.trainable for layer in base.layers)
    assert count_params(model)["trainable"] > 10 * head_only
    first_conv = next(layer for layer in base.layers if isinstance(layer, keras.layers.Conv2D))
    before = first_conv.get_weights()[0]
    x = np.random.default_rng(3).uniform(0, 255, (8, *SHAPE)).astype("float32")
    model.fit(x, keras.utils.to_categorical(np.arange(8) % 3, 3), epochs=1, verbose=0)
    assert not np.allclose(before, first_conv.get_weights()[0]), "the backbone's first layer learns too"


def _moving_statistics_after(momentum: float | None, steps: int = 20) -> float:
    """The spread of a random MobileNetV2's features in inference mode over that in training mode, after ``steps``
    training-mode calls (each moves BatchNorm's moving statistics ``1 - momentum`` of the way)."""
    model = build_feature_extractor("mobilenet_v2_035", SHAPE, 3, weights=None)
    base = model.get_layer("base")
    base.trainable = True  # a frozen BatchNorm never updates its moving statistics
    for layer in base.layers:
        if momentum is not None and isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = momentum
    features = _feature_model(model)
    x = np.random.default_rng(3).uniform(0, 255, (8, *SHAPE)).astype("float32")
    for _ in range(steps):
        training = np.asarray(features(x, training=True))
    return float(np.asarray(features(x, training=False)).std() / training.std())


def test_from_scratch_batchnorm_needs_a_faster_momentum_for_evaluate_to_see_the_network():
    """03, before the from-scratch run: with MobileNetV2's 0.999 a short run leaves the moving statistics near
    their start and inference-mode features all but vanish (validation at chance exactly); 0.9 catches up."""
    assert _moving_statistics_after(None) < 0.05, "with the backbone's own momentum the features vanish"
    assert _moving_statistics_after(0.9) > 0.1, "with 0.9 inference-mode features keep their spread"
    lesson = _source(NOTEBOOKS / "03_data_size_experiments.ipynb")
    faster = lesson.index("layer.momentum = 0.9")
    assert lesson.index("model_scratch = augmented_feature_extractor(") < faster
    fit = lesson.index("fit_and_record(\n    model_scratch")
    assert faster < lesson.index("compile_classifier(model_scratch)") < fit


# --------------------------------------------------------------------------- section 7: accuracy against size


def test_plot_accuracy_vs_size_draws_each_accuracy_with_its_interval_and_labels_the_axes():
    curves = {"equal epochs": ([21, 210, 2100], [0.3, 0.6, 0.8]), "equal steps": ([21, 210, 2100], [0.4, 0.65, 0.8])}
    fig = plot_accuracy_vs_size(curves, 310, "Accuracy against training-set size", chance=0.1)
    ax = fig.axes[0]
    assert ax.get_title() == "Accuracy against training-set size"
    assert ax.get_xlabel() == "training images (log scale)" and ax.get_xscale() == "log"
    assert ax.get_ylabel() == "validation accuracy (bars: 95% intervals)"
    assert [float(tick) for tick in ax.get_xticks()] == [21, 210, 2100]
    assert ax.get_legend_handles_labels()[1] == ["chance", "equal epochs", "equal steps"]
    assert [container.get_label() for container in ax.containers] == ["equal epochs", "equal steps"]
    for container, (_, accuracies) in zip(ax.containers, curves.values(), strict=True):
        assert container.has_yerr
        bars = container.lines[2][0].get_segments()  # one vertical segment per point
        assert len(bars) == len(accuracies)
        for segment, accuracy in zip(bars, accuracies, strict=True):
            np.testing.assert_allclose(segment[:, 1], accuracy_interval(accuracy, 310))
    xs = [container.lines[0].get_xdata() for container in ax.containers]
    assert all(a < b for a, b in zip(xs[0], xs[1], strict=True)), "curves are nudged apart, bars stay visible"


def test_an_accuracy_without_images_has_no_interval_to_draw():
    with pytest.raises(ValueError, match="at least one image"):
        plot_accuracy_vs_size({"a": ([10], [0.5])}, 0, "t")


def test_steps_per_epoch_counts_the_batches_of_an_image_folder(tiny_data):
    """03 counts each run's updates as ``profile.epochs * cardinality`` when the profile sets no cap."""
    for batch_size in (5, 8, 36):
        train, _, _, _ = image_folders(tiny_data / "train", tiny_data / "val", tiny_data / "test", (SIZE, SIZE),
                                       batch_size)  # fmt: skip
        assert int(train.cardinality()) == -(-36 // batch_size) == len(list(train))


def test_a_repeated_cached_pipeline_gives_a_head_exactly_the_updates_asked_for():
    """03's equal-steps heads: more steps per epoch than the subset has batches, yet every step is a real update."""
    rng = np.random.default_rng(4)
    features = rng.normal(size=(10, 16)).astype("float32")
    labels = keras.utils.to_categorical(np.arange(10) % 3, 3)
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices((features, labels)).shuffle(10, seed=1).batch(4).repeat()
    head = compile_classifier(keras.Sequential([keras.Input((16,)), keras.layers.Dense(3, activation="softmax")]))
    history = head.fit(data, epochs=2, steps_per_epoch=7, validation_data=(features, labels), shuffle=False, verbose=0)
    assert int(head.optimizer.iterations) == 2 * 7, "3 batches of data, 7 updates per epoch"
    assert len(history.history["val_accuracy"]) == 2


def test_the_bottleneck_of_model_2_gives_section_9s_features_and_one_vector_per_image(tiny_data):
    """Section 7 cuts model 2 at its pooling layer; augmentation inside passes images through at inference."""
    model = augmented_feature_extractor("mobilenet_v2_035", SHAPE, 3, 1, name="model_2", weights=None)
    bottleneck = keras.Model(model.input, model.get_layer("pooling").output)
    x = np.random.default_rng(5).uniform(0, 255, (4, *SHAPE)).astype("float32")
    np.testing.assert_allclose(
        np.asarray(bottleneck(x, training=False)), np.asarray(_feature_model(model)(x, training=False)), atol=1e-6
    )
    train, _, _, _ = image_folders(tiny_data / "train", tiny_data / "val", tiny_data / "test", (SIZE, SIZE), 8)
    features, labels = extract_features(bottleneck, train)
    assert features.shape == (36, 1280) and labels.shape == (36, 3)
