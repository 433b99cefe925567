"""What notebook 04 relies on about the helpers and Keras, checked offline on tiny models (``weights=None``).

The notebook keeps the checks a learner learns from; the facts about layouts, checkpoints and Keras'
training function live here.
"""

from __future__ import annotations

import json

import h5py
import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from helpers.config import find_root
from helpers.models import (
    count_params,
    load_backbone,
    rescaling_layer,
    top_losses,
    trainable_layer_names,
    unfreeze_last,
)
from helpers.training import augmented_feature_extractor, compile_classifier, data_augmentation

BACKBONE = "mobilenet_v2_035"
SHAPE = (32, 32, 3)
KERAS_3_15_OR_OLDER = tuple(int(part) for part in keras.version().split(".")[:2]) <= (3, 15)
NOTEBOOKS = find_root() / "notebooks"


def _model_2(name="model_2"):
    return augmented_feature_extractor(BACKBONE, SHAPE, 3, seed=0, name=name, weights=None)


def _hand_built_like_section_8():
    """Notebook 04's ``model_bn``: Model 2's layout written out with the Functional API."""
    base = load_backbone(BACKBONE, SHAPE, weights=None)
    inputs = keras.Input(shape=SHAPE, name="image")
    x = data_augmentation(0)(inputs)
    x = rescaling_layer(BACKBONE)(x)
    x = base(x, training=False)
    x = keras.layers.GlobalAveragePooling2D(name="pooling")(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="classifier")(x)
    return keras.Model(inputs, outputs, name="bn_unfrozen")


def test_model_2_rebuilt_has_the_layers_04_looks_up():
    model = _model_2()
    assert [layer.name for layer in model.layers] == [
        "image",
        "augmentation",
        "rescaling",
        "base",
        "pooling",
        "classifier",
    ]
    assert not model.get_layer("base").trainable
    assert trainable_layer_names(model) == ["classifier"]


def test_unfreeze_last_makes_base_and_classifier_the_trainable_layers():
    model = _model_2()
    before = count_params(model)
    unfreeze_last(model.get_layer("base"), 10)
    assert trainable_layer_names(model) == ["base", "classifier"]
    after = count_params(model)
    assert after["trainable"] > before["trainable"]
    assert after["trainable"] + after["non_trainable"] == before["trainable"] + before["non_trainable"]


def test_hand_built_model_matches_model_2_and_loads_its_checkpoint(tmp_path):
    model_2 = _model_2()
    model_bn = _hand_built_like_section_8()
    assert [layer.name for layer in model_bn.layers] == [layer.name for layer in model_2.layers]
    path = tmp_path / "checkpoint.weights.h5"
    model_2.save_weights(path)
    model_bn.load_weights(path)
    for ours, theirs in zip(model_bn.get_weights(), model_2.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)


def _toy():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(8, activation="relu", name="hidden"),
            keras.layers.Dense(2, activation="softmax", name="head"),
        ]
    )
    x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    y = keras.utils.to_categorical(np.arange(32) % 2, 2)
    return model, model.get_layer("hidden"), x, y


def _changes(model, layer, x, y):
    before = layer.get_weights()[0]
    model.fit(x, y, epochs=1, verbose=0)
    return not np.allclose(before, layer.get_weights()[0])


def test_unfreezing_between_compile_and_the_first_fit_trains_the_layer():
    model, hidden, x, y = _toy()
    hidden.trainable = False
    compile_classifier(model)
    hidden.trainable = True  # no fit yet: the training function is built at the next fit
    assert _changes(model, hidden, x, y)


def test_a_fitted_model_needs_a_recompile_for_an_unfrozen_layer_to_train():
    model, hidden, x, y = _toy()
    hidden.trainable = False
    compile_classifier(model)
    model.fit(x, y, epochs=1, verbose=0)
    hidden.trainable = True
    changed = _changes(model, hidden, x, y)
    if KERAS_3_15_OR_OLDER:
        assert not changed, "Keras <= 3.15 keeps the old training function (notebook 04, section 5 says so)"
    compile_classifier(model)
    assert _changes(model, hidden, x, y)


def _nested_batchnorm(trainable_bn):
    inner_in = keras.Input((4, 4, 2))
    norm = keras.layers.BatchNormalization(momentum=0.5, name="norm")
    inner = keras.Model(inner_in, norm(keras.layers.Conv2D(2, 1, name="conv")(inner_in)), name="base")
    inputs = keras.Input((4, 4, 2))
    x = keras.layers.GlobalAveragePooling2D()(inner(inputs, training=False))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))
    norm.trainable = trainable_bn
    return compile_classifier(model), norm


@pytest.mark.parametrize("trainable_bn", [False, True])
def test_frozen_batchnorm_keeps_its_moving_mean_in_fit(trainable_bn):
    model, norm = _nested_batchnorm(trainable_bn)
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, size=(16, 4, 4, 2)).astype("float32")
    y = keras.utils.to_categorical(np.arange(16) % 2, 2)
    before = keras.ops.convert_to_numpy(norm.moving_mean).copy()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    moved = not np.allclose(before, keras.ops.convert_to_numpy(norm.moving_mean))
    if not trainable_bn:
        assert not moved, "a frozen BatchNorm runs in inference mode (Keras 3, tf.keras since TF 2.0)"
    elif KERAS_3_15_OR_OLDER:
        assert moved, "Keras <= 3.15 passes fit's training=True past training=False (notebook 04, section 8)"


def test_top_losses_highest_first_and_above_log_k_always_wrong():
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(5), size=200)
    y_true = rng.integers(0, 5, size=200)
    worst = top_losses(y_true, probabilities, k=50)
    losses = [-np.log(probabilities[i, y_true[i]]) for i in worst]
    assert losses == sorted(losses, reverse=True)
    for i, loss in zip(worst, losses, strict=True):
        if loss > np.log(5):
            assert probabilities[i].argmax() != y_true[i]


def _source(path) -> str:
    return "\n".join("".join(cell["source"]) for cell in json.loads(path.read_text())["cells"])


def test_a_trained_models_weights_file_holds_its_optimizer_state(tmp_path):
    """04, section 3: a .weights.h5 of a compiled, trained model has an optimizer group; one of a fresh model not."""
    model, _, x, y = _toy()
    fresh = tmp_path / "fresh.weights.h5"
    model.save_weights(fresh)
    compile_classifier(model)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    trained = tmp_path / "trained.weights.h5"
    model.save_weights(trained)
    with h5py.File(fresh, "r") as handle:
        assert "optimizer" not in handle and "layers" in handle
    with h5py.File(trained, "r") as handle:
        assert {"layers", "optimizer"} <= set(handle)
        shapes = [handle["optimizer/vars"][key].shape for key in sorted(handle["optimizer/vars"], key=int)]
    kernel = tuple(model.get_layer("hidden").kernel.shape)
    assert shapes.count(kernel) == 2, "Adam's two running averages of the kernel"

    reloaded, _, _, _ = _toy()
    reloaded.load_weights(trained)  # not compiled: the optimizer's state is skipped without a word
    compile_classifier(reloaded)
    assert int(reloaded.optimizer.iterations) == 0, "04's fine-tuning starts with a fresh Adam"


def test_the_backup_resumes_adams_state(tmp_path):
    """04, section 6: BackupAndRestore's .weights.h5 brings the optimizer's step count back with the weights."""

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    class AtStart(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.iterations = int(self.model.optimizer.iterations)

    model, _, x, y = _toy()
    compile_classifier(model)
    with pytest.raises(KeyboardInterrupt):
        model.fit(
            x,
            y,
            epochs=4,
            batch_size=8,
            verbose=0,
            callbacks=[keras.callbacks.BackupAndRestore(str(tmp_path)), Interrupt()],
        )
    done = int(model.optimizer.iterations)
    assert done == 2 * 4

    again, _, _, _ = _toy()
    compile_classifier(again)
    at_start = AtStart()
    history = again.fit(
        x, y, epochs=4, batch_size=8, verbose=0, callbacks=[keras.callbacks.BackupAndRestore(str(tmp_path)), at_start]
    )
    assert at_start.iterations == done, "Adam continues from the backup's step count"
    assert history.epoch == [2, 3]


@pytest.mark.parametrize(
    ("backbone", "momentum", "fraction"),
    [
        ("mobilenet_v2_035", 0.999, 0.11),
        ("efficientnet_b0", 0.99, 0.70),
    ],
)
def test_batchnorm_momentum_and_how_far_120_steps_move_it(backbone, momentum, fraction):
    """04, section 8: the drift in a short run depends on the backbone's BatchNorm momentum."""
    base = load_backbone(backbone, SHAPE, weights=None)
    momenta = {layer.momentum for layer in base.layers if isinstance(layer, keras.layers.BatchNormalization)}
    assert momenta == {momentum}
    assert abs((1 - momentum**120) - fraction) < 0.01


def test_initial_epoch_numbers_the_epochs_and_tensorboard_logs_them(tmp_path):
    """04, sections 6 and 11: fit(initial_epoch=3, epochs=5) runs epochs 3 and 4; the event files say the same."""
    model, _, x, y = _toy()
    compile_classifier(model)
    history = model.fit(
        x,
        y,
        validation_data=(x[:8], y[:8]),
        initial_epoch=3,
        epochs=5,
        verbose=0,
        callbacks=[keras.callbacks.TensorBoard(log_dir=str(tmp_path))],
    )
    assert history.epoch == [3, 4]
    for split, key in (("train", "accuracy"), ("validation", "val_accuracy")):
        events = EventAccumulator(str(tmp_path / split), size_guidance={"tensors": 0})
        events.Reload()
        logged = [
            (event.step, float(tf.make_ndarray(event.tensor_proto))) for event in events.Tensors("epoch_accuracy")
        ]
        assert [step for step, _ in logged] == history.epoch
        np.testing.assert_allclose([value for _, value in logged], history.history[key], rtol=1e-6)


def test_04_says_what_holds_and_compares_depth_at_equal_epochs():
    lesson = _source(NOTEBOOKS / "04_fine_tuning.ipynb")
    solutions = _source(NOTEBOOKS / "solutions" / "04_fine_tuning_solutions.ipynb")
    assert "holds weights only" not in lesson and "on every Keras version" not in lesson
    assert "on every version" not in lesson
    assert "h5py.File(model_2_checkpoint" in lesson, "section 3 opens the checkpoint"
    assert "EventAccumulator" in lesson and "04_tensorboard_scalars" in lesson, "TensorBoard is shown, not only named"
    assert "fine_tune_epochs * 2" not in lesson and "fine_tune_epochs * 2" not in solutions
    assert "fine_tune_end = fine_tune_start + profile.fine_tune_epochs  #" in solutions
