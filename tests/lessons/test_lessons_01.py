"""Notebook 01's claims about its models, checked on a tiny hub module instead of inside the lesson.

The notebook writes ``create_model`` out (it is the lesson) and keeps only the learner's check that the
classifier alone is trainable; the layout, the parameter formula, the TFSMLayer comparison, the course layer's
frozen weights, the TensorBoard log folders and the list of recorded experiments live here.
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


def test_hub_keraslayer_is_refused_by_keras_3_and_the_course_layer_is_accepted_frozen(tiny_hub_handle):
    """Section 5's box: the error Keras 3 gives for ``hub.KerasLayer``, and route (c) accepted, frozen."""
    import tensorflow_hub as hub

    legacy = hub.KerasLayer(tiny_hub_handle)
    assert not isinstance(legacy, keras.Layer)
    with pytest.raises(ValueError, match="Only instances of `?keras.Layer`?"):
        keras.Sequential([keras.Input(INPUT_SHAPE), legacy])
    course = models.HubFeatureExtractor(tiny_hub_handle)
    model = keras.Sequential([keras.Input(INPUT_SHAPE), course])
    assert isinstance(course, keras.Layer) and not course.trainable
    assert not model.trainable_weights


def test_a_tensorboard_callback_writes_train_and_validation_logs_found_by_latest_run_dir(tmp_path):
    """Section 11 lists, for each experiment, the folders its latest run wrote: training and validation."""
    from helpers.callbacks import latest_run_dir, new_run_dir

    log_dir = new_run_dir(tmp_path, "01_tiny")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    x, y = np.ones((8, 4), "float32"), np.eye(2, dtype="float32")[[0, 1] * 4]
    callback = keras.callbacks.TensorBoard(log_dir=str(log_dir))
    model.fit(x, y, validation_data=(x, y), epochs=1, verbose=0, callbacks=[callback])
    run = latest_run_dir(tmp_path, "01_tiny")
    assert run == log_dir
    assert (run / "train").is_dir() and (run / "validation").is_dir()


def test_every_recorded_experiment_is_listed_for_tensorboard_and_compared():
    """Sections 11 and 12 walk one list of experiments: exactly those the notebook trains with fit_and_record."""
    import ast
    import re

    code = "\n".join(c for c in _cells(kind="code") if "____" not in c)  # not the exercises
    trained = set(re.findall(r'experiment\s*=\s*"(01_\w+)"', code))
    assert trained == {"01_resnet50_v2_feature_vector", "01_efficientnet_b0_feature_vector", "01_hub_no_rescaling"}
    listed = [
        ast.literal_eval(node.value)
        for node in ast.walk(ast.parse(code))
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "experiments"
    ]
    assert listed and all(set(names) == trained for names in listed)
    assert code.count("fit_and_record(") == 3


# --------------------------------------------------------------------------- what the prose may claim


def _cells(path=NOTEBOOK, kind=None):
    cells = json.loads(path.read_text())["cells"]
    return ["".join(c["source"]) for c in cells if kind is None or c["cell_type"] == kind]


def test_resnet50_v2_is_dated_2016_with_its_paper():
    text = "\n".join(_cells(kind="markdown"))
    assert "arxiv.org/abs/1603.05027" in text and "2016" in text
    assert "(2015)" not in text


def test_no_code_cell_types_a_published_timing_and_section_9_reads_the_run():
    """Timings come from helpers.backbones.PUBLISHED or from the learner's run, never typed into a cell."""
    import ast

    from helpers.backbones import PUBLISHED

    published = {PUBLISHED[name][key] for name in ("ResNet50V2", "EfficientNetB0") for key in ("cpu_ms", "gpu_ms")}
    code = _cells(kind="code")
    typed = set()
    for source in code:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Constant) and isinstance(node.value, float):
                typed.add(node.value)
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                typed |= {value for value in published if str(value) in node.value}
    assert not typed & published
    assert any("seconds_per_epoch" in source and "load_results" in source for source in code)
    assert "deeper" not in "\n".join(_cells(kind="markdown"))


def test_models_are_compared_and_their_mistakes_studied_on_the_validation_set():
    code = _cells(kind="code")
    assert not any("plot_results(" in source for source in code), "a test-accuracy chart invites choosing on it"
    (mistakes,) = [source for source in code if "plot_top_losses(" in source]
    assert "predict_dataset(candidates[best_name], val_data)" in mistakes
    assert "test" not in mistakes.replace("check:", "")
    comparisons = [source for source in code if "compare_accuracies(" in source]
    assert len(comparisons) >= 2, "section 10 (rescaling) and section 12 (the backbones) compare"
    for comparison in comparisons:
        assert '["val_accuracy"]' in comparison and "test" not in comparison


def test_the_solutions_split_is_photo_folders_split(tiny_data):
    """Exercise 3 of the solutions rebuilds photo_folder's split from the file names to pick an unseen photo."""
    from helpers.data import count_examples, photo_folder

    folder = tiny_data / "train"
    _, val, _ = photo_folder(folder, (32, 32), 4, validation_split=0.2, min_per_class=4, seed=7)
    split_train, split_val = keras.utils.image_dataset_from_directory(
        folder,
        validation_split=0.2,
        subset="both",
        seed=7,
        image_size=(32, 32),
        batch_size=4,
        label_mode="categorical",
    )
    assert len(split_val.file_paths) == count_examples(val)
    assert not set(split_train.file_paths) & set(split_val.file_paths)
    labels = [np.asarray(y).argmax(axis=1) for _, y in val]
    split_labels = [np.asarray(y).argmax(axis=1) for _, y in split_val]
    np.testing.assert_array_equal(np.concatenate(labels), np.concatenate(split_labels))


def test_the_solutions_predict_a_validation_photo():
    solutions = NOTEBOOK.parent / "solutions" / f"{NOTEBOOK.stem}_solutions.ipynb"
    code = _cells(solutions, kind="code")
    (picked,) = [source for source in code if "photo = " in source]
    assert "split_val.file_paths" in picked and "not in training_files" in picked
    (predicted,) = [source for source in code if "model.predict(image" in source]
    assert code.index(predicted) > code.index(picked)
