"""Running a notebook again never overwrites what an earlier run made: each helper is called twice, as a re-run would.

Checkpoints, ``history.csv``, TensorBoard logs and saved ``.keras`` models go to a new timestamped folder per run;
``results.csv`` is only appended to; ``save_fig`` never writes over an existing figure.
"""

from __future__ import annotations

from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest
import tensorflow as tf

from helpers import callbacks, plotting, results, training


@pytest.fixture
def runs(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_RUN_DIR", str(tmp_path / "runs"))
    return tmp_path / "runs"


def _snapshot(root: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in root.rglob("*") if path.is_file()}


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = keras.utils.to_categorical(np.arange(32) % 2, 2)
    pipe = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)
    return pipe, pipe.take(1), pipe.skip(1)


def _model_2_cell(seed: int) -> tuple[keras.Model, Path]:
    """03's Model 2 cells in miniature: a fresh checkpoint path, checkpoint and history callbacks, fit, record."""
    keras.utils.set_random_seed(seed)  # a re-run need not train to the same weights
    model = training.compile_classifier(
        keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    )
    ckpt = callbacks.checkpoint_path("03_model_2", "tiny_4px")
    train, val, test = _data()
    training.fit_and_record(
        model, (train, val, test), experiment="03_model_2", epochs=2,
        callbacks=[callbacks.checkpoint_callback(ckpt), callbacks.history_logger(ckpt)], resume=True,
    )
    return model, ckpt


def test_a_rerun_keeps_every_file_of_the_first_run_byte_for_byte(runs):
    _, first_ckpt = _model_2_cell(seed=0)
    first = _snapshot(runs)
    table = runs / "results.csv"
    assert first_ckpt in first and first_ckpt.with_name("history.csv") in first
    assert any("tensorboard" in path.parts for path in first), "TensorBoard logs are among the files checked"
    assert not (runs / "backup" / "03_model_2").exists(), "a finished run leaves no backup behind, nor its folder"

    _, second_ckpt = _model_2_cell(seed=1)
    second = _snapshot(runs)
    assert second_ckpt != first_ckpt and second_ckpt.parent.parent == first_ckpt.parent.parent
    for path, content in first.items():
        if path == table:
            assert second[path].startswith(content), "results.csv: the first run's rows stay, the re-run appends"
        else:
            assert second.get(path) == content, f"{path.relative_to(runs)} was changed by the re-run"
    assert len(second) > len(first)
    assert len(list((runs / "tensorboard" / "03_model_2").iterdir())) == 2, "one TensorBoard folder per run"
    assert [row["experiment"] for row in results.load_results(latest_only=False)] == ["03_model_2", "03_model_2"]
    assert callbacks.latest_checkpoint("03_model_2", "tiny_4px") == second_ckpt, "the newest run is the one used"


def test_a_results_table_with_other_columns_is_set_aside_never_rewritten(tmp_path):
    table = tmp_path / "results.csv"
    model = keras.Sequential([keras.Input((2,))], name="m")
    history = keras.callbacks.History()
    history.epoch, history.history = [0], {"val_accuracy": [0.5], "val_loss": [1.0]}
    kept = []
    for old in (b"experiment,accuracy\nold_1,0.5\n", b"experiment,accuracy\nold_2,0.6\n"):  # twice in one second
        table.write_bytes(old)
        results.record("new", model, history, {"accuracy": 0.7, "loss": 0.9}, notebook="99", train_images=1,
                       seconds=1, path=table)
        kept.append(old)
    set_aside = sorted(tmp_path.glob("results-old-columns-*.csv"))
    assert sorted(path.read_bytes() for path in set_aside) == sorted(kept), "both older tables kept, unchanged"


def test_save_fig_never_writes_over_an_earlier_figure(tmp_path):
    first_fig = plotting.plot_loss_curves({"loss": [1.0, 0.5], "accuracy": [0.5, 0.7]}, title="first run")
    first = plotting.save_fig("curves", first_fig, tmp_path)
    content = first.read_bytes()
    second_fig = plotting.plot_loss_curves({"loss": [1.0, 0.4], "accuracy": [0.5, 0.8]}, title="second run")
    second = plotting.save_fig("curves", second_fig, tmp_path)
    assert (first.name, second.name) == ("curves.png", "curves-2.png")
    assert first.read_bytes() == content and second.read_bytes() != content
    assert plotting.save_fig("curves", first_fig, tmp_path) == first, "the same figure again: no second copy"
    third = plotting.save_fig("curves", plotting.plot_loss_curves({"loss": [2.0], "accuracy": [0.1]}), tmp_path)
    assert third.name == "curves-3.png" and len(list(tmp_path.glob("curves*.png"))) == 3
    plt.close("all")


def test_saved_models_go_to_a_new_path_every_run(runs):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)], name="m")
    first = callbacks.model_path("04_model_4", "tiny_2px")
    model.save(first)
    content = first.read_bytes()
    model.layers[0].set_weights([w + 1 for w in model.layers[0].get_weights()])
    second = callbacks.model_path("04_model_4", "tiny_2px")
    model.save(second)
    assert first != second and first.read_bytes() == content and second.exists()
    assert first.parent.parent == second.parent.parent == runs / "models" / "04_model_4" / "tiny_2px"
