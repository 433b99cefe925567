from types import SimpleNamespace

import keras
import numpy as np
import pytest

from helpers import callbacks
from helpers._internal import resume


def test_run_dirs_are_new_every_time(tmp_path):
    first = callbacks.new_run_dir(tmp_path, "exp")
    second = callbacks.new_run_dir(tmp_path, "exp")
    assert first != second and first.is_dir() and second.is_dir()
    assert callbacks.latest_run_dir(tmp_path, "exp") == second


def test_latest_run_dir_without_runs_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="Run the notebook"):
        callbacks.latest_run_dir(tmp_path, "exp")


def test_tensorboard_callback_logs_into_its_own_folder(tmp_path, capsys):
    cb = callbacks.tensorboard_callback(tmp_path, "resnet")
    assert isinstance(cb, keras.callbacks.TensorBoard)
    assert cb.log_dir.startswith(str(tmp_path / "resnet")) and str(cb.log_dir) in capsys.readouterr().out


def test_checkpoint_needs_weights_h5_and_never_overwrites(tmp_path):
    with pytest.raises(ValueError, match=".weights.h5"):
        callbacks.checkpoint_callback(tmp_path / "model.h5")
    existing = tmp_path / "old.weights.h5"
    existing.write_bytes(b"precious")
    with pytest.raises(FileExistsError):
        callbacks.checkpoint_callback(existing)
    assert existing.read_bytes() == b"precious"


def test_checkpoint_saves_every_epoch_and_latest_finds_it(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    path = callbacks.checkpoint_path("exp", root=tmp_path)
    model.fit(np.zeros((4, 2)), np.zeros((4, 1)), epochs=2, verbose=0, callbacks=[callbacks.checkpoint_callback(path)])
    assert path.exists() and callbacks.latest_checkpoint("exp", root=tmp_path) == path
    later = callbacks.checkpoint_path("exp", root=tmp_path)  # a newer run that saved nothing yet
    assert later != path and callbacks.latest_checkpoint("exp", root=tmp_path) == path
    with pytest.raises(FileNotFoundError, match="Run the notebook"):
        callbacks.latest_checkpoint("other", root=tmp_path)


def test_history_logger_round_trip(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    path = callbacks.checkpoint_path("exp", root=tmp_path)
    history = model.fit(
        np.ones((4, 2)),
        np.ones((4, 1)),
        validation_data=(np.ones((2, 2)), np.ones((2, 1))),
        epochs=3,
        verbose=0,
        callbacks=[callbacks.checkpoint_callback(path), callbacks.history_logger(path)],
    )
    loaded = callbacks.load_history(path)
    assert loaded.epoch == history.epoch == [0, 1, 2]
    assert sorted(loaded.history) == sorted(history.history)
    np.testing.assert_allclose(loaded.history["val_loss"], history.history["val_loss"], rtol=1e-5)
    with pytest.raises(FileExistsError):
        callbacks.history_logger(path)
    with pytest.raises(FileNotFoundError, match="history_logger"):
        callbacks.load_history(tmp_path / "other" / "checkpoint.weights.h5")


def test_checkpoints_are_named_by_backbone_and_size_and_a_mismatch_says_so(tmp_path):
    variant = callbacks.model_variant("mobilenet_v2_035", (64, 64))
    path = callbacks.checkpoint_path("exp", variant, root=tmp_path)
    assert path.parent.parent.name == "mobilenet_v2_035_64px" and path.parent.parent.parent.name == "exp"
    path.write_bytes(b"weights")
    assert callbacks.latest_checkpoint("exp", variant, root=tmp_path) == path
    other = callbacks.model_variant("efficientnet_b0", 224)
    with pytest.raises(FileNotFoundError, match=r"another backbone or image size.*Run that notebook again"):
        callbacks.latest_checkpoint("exp", other, root=tmp_path)


def test_tensorboard_command_is_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert callbacks.tensorboard_command("runs/tensorboard") == f"%tensorboard --logdir {tmp_path}/runs/tensorboard"


def test_continue_csv_logs_starts_a_fresh_history_file_with_the_earlier_epochs_only(tmp_path):
    earlier = SimpleNamespace(epoch=[0, 1], history={"val_loss": [0.9, 0.8], "loss": [1.0, 0.5]}, seconds=2.0)
    fresh = keras.callbacks.CSVLogger(str(tmp_path / "history.csv"))
    other = tmp_path / "other.csv"
    other.write_text("epoch,loss\n7,0.1\n")
    appending = keras.callbacks.CSVLogger(str(other), append=True)  # its owner wants its rows kept as they are
    assert resume.continue_csv_logs([fresh, appending], earlier) == [tmp_path / "history.csv"]
    assert (tmp_path / "history.csv").read_text().splitlines() == ["epoch,loss,val_loss", "0,1.0,0.9", "1,0.5,0.8"]
    assert fresh.append and other.read_text() == "epoch,loss\n7,0.1\n"
    nothing = resume.backup_progress(tmp_path / "no-backup")
    new = keras.callbacks.CSVLogger(str(tmp_path / "new.csv"))
    assert resume.continue_csv_logs([new], nothing) == [] and not new.append, "nothing earlier: a usual start"
