"""Callbacks that write into timestamped run folders and never overwrite a run.

TensorBoard.dev no longer exists: logs stay local and you view them with
``%load_ext tensorboard`` and ``%tensorboard --logdir runs/tensorboard``.
Keras 3 only saves weights to files ending in ``.weights.h5``.
"""

from __future__ import annotations

import time
from pathlib import Path

import keras

from helpers import config


def new_run_dir(root: str | Path, experiment: str) -> Path:
    """Create and return ``<root>/<experiment>/<YYYYmmdd-HHMMSS>`` (suffixed ``-1``, ``-2`` ... if taken).

    Example:
        >>> new_run_dir("runs/tensorboard", "model_0")  # doctest: +SKIP
        PosixPath('runs/tensorboard/model_0/20261125-101500')
    """
    parent = Path(root) / experiment
    parent.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for suffix in ["", *(f"-{i}" for i in range(1, 1000))]:
        candidate = parent / f"{stamp}{suffix}"
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            continue
    raise RuntimeError(f"Could not create a new run folder under {parent}.")


def _run_key(path: Path) -> tuple[str, int]:
    """Sort key of a run folder name ``YYYYmmdd-HHMMSS[-n]``."""
    stamp, _, suffix = path.name.partition("-")[2].partition("-")
    return path.name.split("-")[0] + stamp, int(suffix or 0)


def latest_run_dir(root: str | Path, experiment: str) -> Path:
    """The newest run folder of ``experiment`` under ``root``.

    Example:
        >>> latest_run_dir("runs/tensorboard", "model_0")  # doctest: +SKIP
    """
    parent = Path(root) / experiment
    runs = [p for p in parent.glob("*") if p.is_dir()] if parent.is_dir() else []
    if not runs:
        raise FileNotFoundError(f"No runs of {experiment!r} under {Path(root)}. Run the notebook that trains it first.")
    return max(runs, key=_run_key)


def tensorboard_callback(dir: str | Path | None, experiment: str) -> keras.callbacks.TensorBoard:
    """A TensorBoard callback logging to a new ``<dir>/<experiment>/<timestamp>`` folder.

    ``dir`` defaults to ``<runs>/tensorboard``.

    Example:
        >>> cb = tensorboard_callback(None, "resnet50_v2")  # doctest: +SKIP
        Saving TensorBoard logs to: runs/tensorboard/resnet50_v2/20261125-101500
    """
    root = Path(dir) if dir else config.load_profile().runs_dir / "tensorboard"
    log_dir = new_run_dir(root, experiment)
    print(f"Saving TensorBoard logs to: {log_dir}")
    return keras.callbacks.TensorBoard(log_dir=str(log_dir))


def checkpoint_callback(
    path: str | Path, monitor: str = "val_loss", save_best_only: bool = False
) -> keras.callbacks.ModelCheckpoint:
    """Save the model's weights to ``path`` at the end of every epoch.

    ``path`` must end in ``.weights.h5`` (Keras 3's rule for weight files) and must not
    exist yet: an earlier run's checkpoint is never overwritten. Use
    :func:`checkpoint_path` to get a fresh one.

    Example:
        >>> cb = checkpoint_callback(checkpoint_path("model_2"))  # doctest: +SKIP
    """
    path = Path(path)
    if not path.name.endswith(".weights.h5"):
        raise ValueError(f"{path.name}: Keras 3 saves weights only to files ending in '.weights.h5'.")
    if path.exists():
        raise FileExistsError(
            f"{path} exists; choose a new path (checkpoint_path() makes one) instead of overwriting it."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    return keras.callbacks.ModelCheckpoint(
        filepath=str(path), save_weights_only=True, save_freq="epoch", monitor=monitor, save_best_only=save_best_only
    )


def checkpoint_path(experiment: str, root: str | Path | None = None) -> Path:
    """A fresh ``<runs>/checkpoints/<experiment>/<timestamp>/checkpoint.weights.h5`` path.

    Example:
        >>> checkpoint_path("model_2")  # doctest: +SKIP
        PosixPath('runs/checkpoints/model_2/20261125-101500/checkpoint.weights.h5')
    """
    root = Path(root) if root else config.load_profile().runs_dir / "checkpoints"
    return new_run_dir(root, experiment) / "checkpoint.weights.h5"


def latest_checkpoint(experiment: str, root: str | Path | None = None) -> Path:
    """The newest checkpoint file saved for ``experiment``.

    Example:
        >>> latest_checkpoint("model_2")  # doctest: +SKIP
    """
    root = Path(root) if root else config.load_profile().runs_dir / "checkpoints"
    found = [p.parent for p in (Path(root) / experiment).glob("*/checkpoint.weights.h5")]
    if not found:
        raise FileNotFoundError(
            f"No checkpoint of {experiment!r} under {root}. Run the notebook that trains {experiment!r} first."
        )
    return max(found, key=_run_key) / "checkpoint.weights.h5"
