import keras
import numpy as np

from helpers import training
from helpers.data import image_folders
from helpers.results import load_results


def test_augmentation_changes_images_only_in_training():
    aug = training.data_augmentation()
    x = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    np.testing.assert_array_equal(np.asarray(aug(x, training=False)), x)
    assert not np.allclose(np.asarray(aug(x, training=True)), x)


def test_fit_and_record_validates_on_val_tests_once_and_records(tiny_data, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_RUN_DIR", str(tmp_path))
    train, val, test, names = image_folders(
        tiny_data / "train", tiny_data / "val", tiny_data / "test", (32, 32), 8
    )
    model = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            keras.layers.Rescaling(1 / 255),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    evaluated = []
    original_evaluate = model.evaluate


    def spy(*args, **kwargs):  # fit validates through evaluate(x=..., _use_cached_eval_dataset=True)
        data = args[0] if args else kwargs.get("x")
        evaluated.append(("validation" if kwargs.get("_use_cached_eval_dataset") else "evaluate", data))
        return original_evaluate(*args, **kwargs)

    monkeypatch.setattr(model, "evaluate", spy)
    history, metrics = training.fit_and_record(
        model, (train, val, test), experiment="99_tiny", epochs=2
    )
    assert history.epoch == [0, 1] and set(metrics) >= {"accuracy", "loss"}
    assert [kind for kind, data in evaluated if data is test] == ["evaluate"], "the test set: once, after training"
    assert all(data is val for kind, data in evaluated if kind == "validation"), "fit validates on val only"
    assert metrics == original_evaluate(test, return_dict=True, verbose=0)
    val_metrics = original_evaluate(val, return_dict=True, verbose=0)
    assert abs(history.history["val_accuracy"][-1] - val_metrics["accuracy"]) < 1e-6, "curves use the validation set"
    assert list((tmp_path / "tensorboard" / "99_tiny").glob("*/validation")), "logged to TensorBoard"
    first_val_accuracy = history.history["val_accuracy"][-1]
    history, _ = training.fit_and_record(
        model,
        (train, val, test),
        experiment="99_tiny_more",
        epochs=3,
        initial_epoch=len(history.epoch),
    )
    assert history.epoch == [2]
    rows = load_results(tmp_path / "results.csv")
    assert [(r["experiment"], r["epochs"]) for r in rows] == [("99_tiny", "2"), ("99_tiny_more", "3")]
    assert float(rows[0]["val_accuracy"]) == round(first_val_accuracy, 4)
    assert float(rows[0]["test_accuracy"]) == round(metrics["accuracy"], 4)
    read = {(r["notebook"], r["train_images"], r["backbone"]) for r in rows}
    assert read == {("99", "36", model.name)}, "notebook, images and backbone (here the model's name) are read"
    assert "on the full test set" in capsys.readouterr().out


def test_extract_features_keeps_order(tiny_data):
    _, _, test, _ = image_folders(tiny_data / "train", tiny_data / "val", tiny_data / "test", (32, 32), 5)
    pooled = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.GlobalAveragePooling2D()])
    features, labels = training.extract_features(pooled, test)
    images = np.concatenate([np.asarray(x) for x, _ in test])
    assert features.shape == (12, 3) and labels.shape == (12, 3)
    np.testing.assert_allclose(features, images.mean(axis=(1, 2)), rtol=1e-5)


def test_augmentation_layers_draw_independently():
    seeds = [layer.seed for layer in training.data_augmentation(7).layers]
    assert len(set(seeds)) == len(seeds)


def test_augmented_feature_extractor_is_model_2s_recipe():
    model = training.augmented_feature_extractor("mobilenet_v2_035", (32, 32, 3), 3, seed=1, name="m", weights=None)
    assert [layer.name for layer in model.layers][:3] == ["image", "augmentation", "rescaling"]
    assert [layer.seed for layer in model.get_layer("augmentation").layers] == [1, 2, 3, 4]
    compiled = training.compile_classifier(model, 1e-4)
    assert compiled is model and abs(float(model.optimizer.learning_rate) - 1e-4) < 1e-9


def test_time_one_epoch_is_positive_and_trains():
    model = training.compile_classifier(
        keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    )
    x, y = np.ones((8, 3), "float32"), np.eye(2)[[0, 1] * 4]
    assert training.time_one_epoch(model, x, y=y, batch_size=4) > 0
    assert model.optimizer.iterations.numpy() == 1 + 2  # one warm-up step, then one epoch of two batches
