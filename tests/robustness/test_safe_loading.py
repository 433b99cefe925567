"""Whole models load back with Keras' safe mode on; a Lambda layer's stored bytecode is refused, and never run."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest

from helpers.callbacks import model_path
from helpers.config import find_root
from helpers.models import KNOWN_HUB_HANDLES, HubFeatureExtractor, PreprocessInput, hub_classifier, load_course_model
from helpers.training import augmented_feature_extractor, compile_classifier

SHAPE = (32, 32, 3)


def _images(n: int = 4) -> np.ndarray:
    return np.random.default_rng(0).uniform(0, 255, (n, *SHAPE)).astype("float32")


def _trained(model: keras.Model) -> keras.Model:
    """``model`` compiled and fitted for one step, so its optimizer state is saved (and loaded) too."""
    compile_classifier(model)
    labels = keras.utils.to_categorical(np.arange(4) % model.output_shape[-1], model.output_shape[-1])
    model.fit(_images(), labels, epochs=1, verbose=0)
    return model


def _round_trip(model: keras.Model, tmp_path: Path) -> keras.Model:
    """Save ``model`` to a fresh ``.keras`` path and load it back with the course's helper."""
    path = model_path(model.name, root=tmp_path)
    model.save(path)
    return load_course_model(path)


def test_model_2s_recipe_loads_back_in_safe_mode_with_identical_predictions(tmp_path):
    model = _trained(augmented_feature_extractor("mobilenet_v2_035", SHAPE, 3, 1, name="m2", weights=None))
    loaded = _round_trip(model, tmp_path)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    np.testing.assert_array_equal(loaded.predict_on_batch(_images()), model.predict_on_batch(_images()))
    assert int(loaded.optimizer.iterations) == 1, "compiled as saved, optimizer state included: it can train on"


def test_the_course_layers_are_registered_and_load_in_safe_mode(tmp_path, tiny_hub_handle, monkeypatch):
    from helpers import models

    monkeypatch.setattr(models, "KNOWN_HUB_HANDLES", models.KNOWN_HUB_HANDLES | {tiny_hub_handle})  # as if the course's
    inputs = keras.Input(SHAPE)
    outputs = keras.layers.Dense(2, activation="softmax")(keras.layers.Flatten()(PreprocessInput("caffe")(inputs)))
    caffe = keras.Model(inputs, outputs, name="caffe")
    hub = hub_classifier(tiny_hub_handle, 3, SHAPE)
    for model in (_trained(caffe), _trained(hub)):
        loaded = _round_trip(model, tmp_path)
        assert {type(layer).__name__ for layer in loaded.layers} == {type(layer).__name__ for layer in model.layers}
        np.testing.assert_allclose(loaded.predict_on_batch(_images()), model.predict_on_batch(_images()), atol=1e-6)


def _lambda_model(marker: Path) -> keras.Model:
    """A model whose Lambda layer appends a line to ``marker`` each time its function runs."""

    def doubling(path: str):
        return lambda x: (open(path, "a").write("ran\n"), x * 2.0)[1]  # a side effect, on purpose

    inputs = keras.Input((4,))
    x = keras.layers.Lambda(doubling(str(marker)), name="double")(inputs)
    return keras.Model(inputs, keras.layers.Dense(2)(x), name="with_lambda")


def test_a_lambda_layer_is_refused_with_a_reason_and_its_code_never_runs(tmp_path):
    marker = tmp_path / "lambda_ran.txt"
    model = _lambda_model(marker)
    path = model_path("with_lambda", root=tmp_path)
    model.save(path)
    marker.unlink(missing_ok=True)  # building the model ran the function; from here on only loading could

    with pytest.raises(ValueError, match="Python bytecode") as refused:
        load_course_model(path)
    message = str(refused.value)
    assert str(path) in message and "untrusted" in message and "safe_mode=False" in message
    assert not marker.exists(), "safe mode refused the Lambda before running its stored code"

    loaded = load_course_model(path, safe_mode=False)  # a file made here, by this test
    assert marker.exists(), "loading without safe mode runs the stored bytecode: what safe mode protects against"
    x = np.ones((2, 4), "float32")
    np.testing.assert_allclose(loaded.predict_on_batch(x), model.predict_on_batch(x), rtol=1e-6)


def test_other_load_errors_are_not_reworded(tmp_path):
    with pytest.raises(ValueError) as err:
        load_course_model(tmp_path / "missing.keras")
    assert "Lambda" not in str(err.value)


def test_04_saves_its_model_to_a_fresh_path_loads_it_safely_and_says_why():
    cells = json.loads((find_root() / "notebooks" / "04_fine_tuning.ipynb").read_text())["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    assert "saved_path = model_path(" in code and "load_course_model(saved_path)" in code
    assert "safe_mode=False" not in code, "the notebook never turns safe mode off"
    assert "safe_mode" in text and "Lambda" in text and "bytecode" in text


def _writing_saved_model(folder: Path, marker: Path) -> Path:
    """A TF Hub-style feature-vector SavedModel whose graph writes ``marker`` every time it is called."""
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec([None, *SHAPE], tf.float32)])
    def feature_vector(images):
        with tf.control_dependencies([tf.io.write_file(str(marker), "the SavedModel's graph ran")]):
            return tf.reduce_mean(images, axis=[1, 2])

    module = tf.train.Checkpoint()
    module.__call__ = feature_vector
    module.variables, module.trainable_variables, module.regularization_losses = [], [], []
    tf.saved_model.save(module, str(folder))
    return folder


def test_a_hub_layer_naming_an_unknown_savedmodel_is_refused_in_safe_mode_and_never_runs(tmp_path):
    marker = tmp_path / "written.txt"
    handle = str(_writing_saved_model(tmp_path / "writer", marker))
    assert handle not in KNOWN_HUB_HANDLES
    model = keras.Sequential([keras.Input(SHAPE), HubFeatureExtractor(handle), keras.layers.Dense(2)])
    model.predict_on_batch(_images())
    assert marker.exists(), "the test's SavedModel does write when it runs"
    marker.unlink()
    path = model_path("writer", root=tmp_path)
    model.save(path)

    with pytest.raises(ValueError) as refused:
        load_course_model(path)  # safe_mode=True
    message = str(refused.value)
    assert handle in message and "not one of the course's TF Hub handles" in message
    assert "safe_mode=False" in message and "TFSMLayer" in message
    with pytest.raises(ValueError, match="not one of the course's TF Hub handles"):
        keras.saving.load_model(path)  # Keras's own default is safe mode too
    assert not marker.exists(), "refused before the graph could run: nothing was written"

    trusted = load_course_model(path, safe_mode=False)  # a file this test made
    trusted.predict_on_batch(_images())
    assert marker.exists(), "with safe mode off the same file loads and its graph runs"


def test_every_known_hub_handle_is_a_course_backbone():
    from helpers.backbones import BACKBONES

    assert KNOWN_HUB_HANDLES == {spec.hub_handle for spec in BACKBONES.values() if spec.hub_handle}
    assert all(handle.startswith("https://tfhub.dev/") for handle in KNOWN_HUB_HANDLES)
