"""Notebook 01's claims about its models, checked on a tiny hub module instead of inside the lesson.

The notebook writes ``create_model`` out (it is the lesson) and keeps only the learner's check that the
classifier alone is trainable; the layout, the parameter formula and the TFSMLayer comparison live here.
"""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from helpers import models
from helpers.config import find_root

NOTEBOOK = find_root() / "notebooks" / "01_feature_extraction_with_tf_hub.ipynb"
INPUT_SHAPE = (24, 24, 3)
NUM_CLASSES = 3
FEATURES = 8  # the tiny module's feature vector length (tests/conftest.py)


@pytest.fixture(scope="module")
def create_model():
    """The ``create_model`` function exactly as notebook 01 defines it."""
    cells = ["".join(c["source"]) for c in json.loads(NOTEBOOK.read_text())["cells"] if c["cell_type"] == "code"]
    source = next(cell for cell in cells if "def create_model(" in cell)
    # The notebook names each model after a course backbone (short_name); the tiny handle is none of them, and
    # Keras refuses a "/" in a model name, so it gets a plain name here (hub_classifier does the same).
    namespace = {"keras": keras, "HubFeatureExtractor": models.HubFeatureExtractor, "short_name": lambda _: "tiny"}
    exec(source, namespace)
    return namespace["create_model"]


def _layout(model):
    return [(layer.name, type(layer).__name__) for layer in model.layers]


@pytest.mark.parametrize("rescale", [True, False])
def test_create_model_is_hub_classifier(create_model, tiny_hub_handle, rescale):
    ours = create_model(tiny_hub_handle, NUM_CLASSES, INPUT_SHAPE, rescale=rescale)
    helper = models.hub_classifier(tiny_hub_handle, NUM_CLASSES, INPUT_SHAPE, rescale=rescale)
    assert _layout(ours) == _layout(helper)
    names = ["rescaling", "feature_extractor", "classifier"] if rescale else ["feature_extractor", "classifier"]
    assert [layer.name for layer in ours.layers] == names
    if rescale:
        assert ours.get_layer("rescaling").scale == pytest.approx(1 / 255)
    head = ours.get_layer("classifier")
    assert head.units == NUM_CLASSES and head.activation.__name__ == "softmax"
    for model in (ours, helper):
        assert model.loss == "categorical_crossentropy"
        assert float(model.optimizer.learning_rate) == pytest.approx(1e-3)


def test_only_the_classifier_learns_and_its_size_is_features_plus_bias_times_classes(create_model, tiny_hub_handle):
    model = create_model(tiny_hub_handle, NUM_CLASSES, INPUT_SHAPE)
    params = models.count_params(model)
    assert models.trainable_layer_names(model) == ["classifier"]
    assert model.get_layer("classifier").kernel.shape[0] == FEATURES
    assert params["trainable"] == (FEATURES + 1) * NUM_CLASSES
    # HubFeatureExtractor keeps the SavedModel's variables to itself: Keras counts none of them
    assert params["non_trainable"] == 0 and model.get_layer("feature_extractor").module_params > 0


def test_tfsmlayer_gives_the_same_features_and_hands_keras_the_parameters(tiny_hub_handle):
    import tensorflow_hub as hub

    x = np.random.default_rng(0).uniform(0, 1, (2, *INPUT_SHAPE)).astype("float32")
    tfsm = keras.layers.TFSMLayer(hub.resolve(tiny_hub_handle), call_endpoint="serving_default", trainable=False)
    course = models.HubFeatureExtractor(tiny_hub_handle)
    outputs = tfsm(x)
    assert isinstance(outputs, dict) and len(outputs) == 1
    (features,) = outputs.values()
    np.testing.assert_allclose(np.asarray(features), np.asarray(course(x)), atol=1e-6)
    counted = keras.Sequential([keras.Input(INPUT_SHAPE), tfsm]).count_params()
    assert counted == course.module_params > 0
    assert keras.Sequential([keras.Input(INPUT_SHAPE), course]).count_params() == 0
    assert not tfsm.trainable_weights
