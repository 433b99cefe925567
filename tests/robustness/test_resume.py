"""An interrupted run resumes where it stopped, in a fresh model, and ends where an uninterrupted one ends.

A tiny ``Dense`` model on fixed random data, in a fixed batch order, so that the uninterrupted run and the
interrupted-then-resumed one can be compared weight for weight. The interruption is the ``KeyboardInterrupt``
that Ctrl-C (Jupyter's "interrupt the kernel") raises, thrown at the end of an epoch; the resumed run uses a
model built again from scratch, as after a kernel restart.
"""

from __future__ import annotations

import ast
import dataclasses
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from helpers import callbacks, config, training
from helpers._internal import resume
from helpers.results import load_results

EPOCHS = 6
#: The measured difference between resumed and uninterrupted final weights is 0.0 on a CPU; allow float noise.
ATOL = 1e-5


class Interrupt(keras.callbacks.Callback):
    """Raise ``KeyboardInterrupt`` (what Ctrl-C raises) at the end of epoch ``epoch`` (0-based)."""

    def __init__(self, epoch: int) -> None:
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


class EpochsRun(keras.callbacks.Callback):
    """The epochs ``fit`` actually trained."""

    def __init__(self) -> None:
        super().__init__()
        self.epochs: list[int] = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)


@pytest.fixture
def runs(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_RUN_DIR", str(tmp_path))
    return tmp_path


def _data():
    """Training, validation and test pipelines in a fixed order (no shuffle), 4 batches of training data."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 8)).astype("float32")
    y = keras.utils.to_categorical((x[:, 0] + x[:, 1] > 0).astype(int), 2)

    def pipe(a, b):
        return tf.data.Dataset.from_tensor_slices((a, b)).batch(16)

    return pipe(x[:64], y[:64]), pipe(x[64:80], y[64:80]), pipe(x[80:], y[80:])


def _model(seed: int = 0, learning_rate: float | None = 1e-2) -> keras.Model:
    """The same architecture every time; ``seed`` sets the starting weights (compiled unless no learning rate)."""
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [keras.Input((8,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(2, activation="softmax")]
    )
    return training.compile_classifier(model, learning_rate) if learning_rate else model


def _fit(model, experiment, **kwargs):
    """``fit_and_record`` on every batch each epoch (the smoke profile's ``steps_per_epoch=2`` would carry the data
    iterator over from one epoch to the next, and a restarted run would begin it again)."""
    train, val, test = _data()
    profile = dataclasses.replace(config.load_profile(), steps_per_epoch=None)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(config, "load_profile", lambda *args, **kwargs: profile)
        return training.fit_and_record(model, (train, val, test), experiment=experiment, **kwargs)


def _largest_difference(a: keras.Model, b: keras.Model) -> float:
    return max(float(np.max(np.abs(x - y))) for x, y in zip(a.get_weights(), b.get_weights(), strict=True))


def test_an_interrupted_run_resumes_in_a_fresh_model_and_ends_like_an_uninterrupted_one(runs, capsys):
    reference = _model()
    reference_history, _ = _fit(reference, "uninterrupted", epochs=EPOCHS)

    interrupted = _model()
    ckpt = callbacks.checkpoint_path("resumed")
    with pytest.raises(KeyboardInterrupt):
        _fit(
            interrupted, "resumed", epochs=EPOCHS, resume=True,
            callbacks=[callbacks.checkpoint_callback(ckpt), callbacks.history_logger(ckpt), Interrupt(2)],
        )
    backup, reached = callbacks.resume_point("resumed")
    assert reached == 3 and backup is not None and backup.exists(), "epochs 0, 1 and 2 are backed up"
    assert "run this cell again" in capsys.readouterr().out
    assert [row["experiment"] for row in load_results()] == ["uninterrupted"], "an interrupted run records nothing"

    fresh = _model(seed=1)  # a kernel restart: the same cells build the model again (other weights, new optimizer)
    assert _largest_difference(fresh, reference) > 0.1
    ran = EpochsRun()
    ckpt_2 = callbacks.checkpoint_path("resumed")  # the re-run cell asks for a new checkpoint folder
    history, _ = _fit(
        fresh, "resumed", epochs=EPOCHS, resume=True,
        callbacks=[ran, callbacks.checkpoint_callback(ckpt_2), callbacks.history_logger(ckpt_2)],
    )
    assert "resuming from the backup" in capsys.readouterr().out
    assert ran.epochs == [3, 4, 5], "only the remaining epochs are trained"
    assert fresh.history.epoch == [3, 4, 5], "fit's own history: the remaining epochs, numbered as in the whole run"
    assert history.epoch == list(range(EPOCHS)), "the returned history covers the whole run"
    for key in ("loss", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(history.history[key], reference_history.history[key], atol=ATOL)

    difference = _largest_difference(fresh, reference)
    print(f"largest weight difference, resumed vs uninterrupted: {difference:.3g}")
    assert difference <= ATOL, "weights, optimizer state and epoch were all restored"
    assert int(fresh.optimizer.iterations) == int(reference.optimizer.iterations) == EPOCHS * 4

    rows = [row for row in load_results() if row["experiment"] == "resumed"]
    assert len(rows) == 1 and rows[0]["epochs"] == str(EPOCHS), "the finished run is recorded once, with every epoch"
    assert callbacks.resume_point("resumed") == (None, 0) and not callbacks.backup_dir("resumed").exists()
    assert callbacks.load_history(ckpt_2).epoch == list(range(EPOCHS)), "history.csv holds the whole run"
    assert callbacks.load_history(ckpt).epoch == [0, 1, 2], "the interrupted attempt's files stay as they were"


def test_resuming_a_fine_tuning_run_that_started_at_initial_epoch(runs, tmp_path):
    """04's case: continue from epoch 2 (``initial_epoch=len(history.epoch)``), interrupted after epoch 4 of 6."""
    first_stage = _model()
    _fit(first_stage, "first_stage", epochs=2)
    weights = tmp_path / "first_stage.weights.h5"
    first_stage.save_weights(weights)

    def fine_tune_model():
        model = _model(seed=3, learning_rate=None)
        model.load_weights(weights)  # as 04 loads Model 2's checkpoint, then compiles with a lower learning rate
        return training.compile_classifier(model, 1e-3)

    reference = fine_tune_model()
    reference_history, _ = _fit(reference, "fine_tune_reference", epochs=EPOCHS, initial_epoch=2)
    assert reference_history.epoch == [2, 3, 4, 5]

    with pytest.raises(KeyboardInterrupt):
        _fit(fine_tune_model(), "fine_tune", epochs=EPOCHS, initial_epoch=2, resume=True, callbacks=[Interrupt(3)])
    assert callbacks.resume_point("fine_tune")[1] == 4, "the backup's epoch counts from 0, like initial_epoch"

    fresh, ran = fine_tune_model(), EpochsRun()
    history, _ = _fit(fresh, "fine_tune", epochs=EPOCHS, initial_epoch=2, resume=True, callbacks=[ran])
    assert ran.epochs == [4, 5], "the backup's epoch wins over initial_epoch"
    assert history.epoch == [2, 3, 4, 5] and fresh.history.epoch == [4, 5]
    np.testing.assert_allclose(history.history["val_loss"], reference_history.history["val_loss"], atol=ATOL)
    assert _largest_difference(fresh, reference) <= ATOL
    row = next(row for row in load_results() if row["experiment"] == "fine_tune")
    assert row["epochs"] == str(EPOCHS)

    later = fresh.fit(_data()[0], epochs=1, shuffle=False, verbose=0)
    assert later.epoch == [0], "the restored epoch does not stick to the model: a later fit starts where it asks"


def test_interrupted_after_training_but_before_recording_records_once_without_training_again(runs, monkeypatch):
    reference = _model()
    _fit(reference, "reference", epochs=3)

    model = _model()
    calls = []

    evaluate = model.evaluate

    def evaluate_interrupted(*args, **kwargs):  # Ctrl-C during the final evaluation on the test set
        if kwargs.get("_use_cached_eval_dataset"):  # fit's validation after each epoch goes through here too
            return evaluate(*args, **kwargs)
        calls.append(1)
        raise KeyboardInterrupt

    monkeypatch.setattr(model, "evaluate", evaluate_interrupted)
    with pytest.raises(KeyboardInterrupt):
        _fit(model, "late", epochs=3, resume=True)
    assert calls and callbacks.resume_point("late")[1] == 3 and not load_results()[1:]

    fresh, ran = _model(seed=2), EpochsRun()
    ckpt = callbacks.checkpoint_path("late")
    history, _ = _fit(
        fresh, "late", epochs=3, resume=True,
        callbacks=[ran, callbacks.checkpoint_callback(ckpt), callbacks.history_logger(ckpt)],
    )
    assert ran.epochs == [] and history.epoch == [0, 1, 2], "nothing is trained again; the history comes back"
    assert _largest_difference(fresh, reference) <= ATOL
    restored = _model(seed=4, learning_rate=None)
    restored.load_weights(ckpt)
    assert _largest_difference(restored, reference) <= ATOL, "the checkpoint is written though no epoch ran"
    assert callbacks.load_history(ckpt).epoch == [0, 1, 2]
    assert [row["experiment"] for row in load_results()] == ["reference", "late"]
    assert not callbacks.backup_dir("late").exists()


def test_without_a_backup_training_starts_at_initial_epoch_and_leaves_no_backup(runs, capsys):
    backup = callbacks.backup_dir("plain")
    assert callbacks.resume_point("plain") == (None, 0)
    history, _ = _fit(_model(), "plain", epochs=4, initial_epoch=1, resume=True)
    assert history.epoch == [1, 2, 3]
    assert f"backing up every epoch to {backup}" in capsys.readouterr().out
    assert not backup.exists(), "a finished run deletes its backup"


def test_a_backup_is_filed_by_backbone_and_image_size():
    images = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.GlobalAveragePooling2D()])
    assert resume.run_variant(images, "mobilenet_v2_035") == callbacks.model_variant("mobilenet_v2_035", 32)
    assert resume.run_variant(images) is None


def _resumed_experiments(notebook: str) -> dict[str, bool]:
    """Each ``fit_and_record`` call of ``notebook``'s steps: its experiment and whether it passes ``resume=True``.

    The exercise cells (with blanks ``____``) are the learner's to fill in, and not counted.
    """
    found = {}
    path = config.find_root() / "notebooks" / notebook
    trees = [
        ast.parse("".join(cell["source"]))
        for cell in json.loads(path.read_text())["cells"]
        if cell["cell_type"] == "code" and "____" not in "".join(cell["source"])
    ]
    # keyword sets a notebook names once and passes as **name: fine_tune = dict(initial_epoch=..., resume=True)
    named = {
        target.id: {k.arg: k.value for k in node.value.keywords}
        for tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
        and getattr(node.value.func, "id", "") == "dict"
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "fit_and_record":
                keywords = {k.arg: k.value for k in node.keywords if k.arg is not None}
                for splat in (k.value for k in node.keywords if k.arg is None):
                    keywords = {**named.get(getattr(splat, "id", ""), {}), **keywords}
                resume = keywords.get("resume")
                found[ast.literal_eval(keywords["experiment"])] = isinstance(resume, ast.Constant) and resume.value
    return found


def test_the_long_runs_of_03_and_04_resume_and_04_explains_it():
    lesson_03 = _resumed_experiments("03_data_size_experiments.ipynb")
    assert lesson_03["03_model_2_10_percent_aug"] and lesson_03["03_feature_extraction_100_percent"]
    assert all(_resumed_experiments("04_fine_tuning.ipynb").values()), "every fine-tuning run of 04 can resume"
    cells = json.loads((config.find_root() / "notebooks" / "04_fine_tuning.ipynb").read_text())["cells"]
    text = "\n".join("".join(cell["source"]) for cell in cells)
    assert "### If training is interrupted" in text and "resume_point(" in text and "BackupAndRestore" in text


def test_the_course_model_resumes_after_a_restart(runs, tiny_data):
    """Model 2's recipe (augmentation, a nested backbone, a shuffled image pipeline) through the same interruption."""
    from helpers.data import image_folders

    train, val, test, names = image_folders(tiny_data / "train", tiny_data / "val", tiny_data / "test", (32, 32), 8)

    def model_2():
        model = training.augmented_feature_extractor("mobilenet_v2_035", (32, 32, 3), len(names), 1, weights=None)
        return training.compile_classifier(model)

    def fit(model, extra):
        return training.fit_and_record(
            model, (train, val, test), experiment="03_model_2", epochs=3, resume=True, callbacks=extra,
        )

    with pytest.raises(KeyboardInterrupt):
        fit(model_2(), [Interrupt(1)])
    backup, reached = callbacks.resume_point("03_model_2", callbacks.model_variant("mobilenet_v2_035", 32))
    assert reached == 2 and backup is not None

    fresh, ran = model_2(), EpochsRun()
    history, _ = fit(fresh, [ran])
    assert ran.epochs == [2] and history.epoch == [0, 1, 2]
    assert [row["epochs"] for row in load_results() if row["experiment"] == "03_model_2"] == ["3"]
    assert not (runs / "backup" / "03_model_2").exists()
