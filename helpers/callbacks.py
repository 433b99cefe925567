"""Callbacks that write into timestamped run folders and never overwrite a run.

TensorBoard.dev no longer exists: logs stay local and you view them with
``%load_ext tensorboard`` and ``%tensorboard --logdir <runs>/tensorboard``
(:func:`tensorboard_command` prints the exact line for the active profile).
Keras 3 only saves weights to files ending in ``.weights.h5``.

Where a run's files go, and why a re-run never overwrites them:

- checkpoints, ``history.csv``, saved ``.keras`` models and TensorBoard logs: a new
  ``<experiment>/[<variant>/]<timestamp>`` folder per run (:func:`new_run_dir`);
- the backup of an unfinished run (:func:`backup_dir`): one folder per experiment, rewritten after
  every epoch so that running the cell again resumes (:func:`resume_point`), and deleted once the
  run is recorded. It is the only thing rewritten, and it holds nothing a finished run needs.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path
from types import SimpleNamespace

import keras

from helpers import config
from helpers._internal.resume import backup_dir as backup_dir  # noqa: F401 (04 reads where a backup is)
from helpers._internal.resume import resume_point as resume_point  # noqa: F401 (04 asks what a backup reached)


def new_run_dir(root: str | Path, experiment: str) -> Path:
    """Create and return ``<root>/<experiment>/<YYYYmmdd-HHMMSS>`` (suffixed ``-1``, ``-2`` ... if taken).

    Taught in notebook 01, section 8 ("Train the ResNet50V2 feature extractor").

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

    Taught in notebook 01, section 11 ("TensorBoard").

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

    Taught in notebook 02, section 8 ("Train model 0").

    ``dir`` defaults to ``<runs>/tensorboard``.

    Example:
        >>> cb = tensorboard_callback(None, "resnet50_v2")  # doctest: +SKIP
        Saving TensorBoard logs to: runs/tensorboard/resnet50_v2/20261125-101500
    """
    root = Path(dir) if dir else config.load_profile().runs_dir / "tensorboard"
    log_dir = new_run_dir(root, experiment)
    print(f"Saving TensorBoard logs to: {log_dir}")
    return keras.callbacks.TensorBoard(log_dir=str(log_dir))


def tensorboard_command(dir: str | Path | None = None) -> str:
    """The notebook magic that opens TensorBoard on every run logged so far, with an absolute path.

    Taught in notebook 01, section 11 ("TensorBoard").

    A relative ``--logdir`` is resolved from the notebook's folder, not the project's, so the
    course prints the absolute one.

    Example:
        >>> tensorboard_command("/tmp/runs/tensorboard")
        '%tensorboard --logdir /tmp/runs/tensorboard'
    """
    root = Path(dir) if dir else config.load_profile().runs_dir / "tensorboard"
    return f"%tensorboard --logdir {root.resolve()}"


def model_variant(backbone: str, image_size: tuple[int, int] | int) -> str:
    """The part of a checkpoint's folder that names what its weights depend on: backbone and image size.

    Taught in notebook 03, section 5 ("Model 2: 10% of the data, with augmentation and a checkpoint").

    A checkpoint only loads into the same architecture; naming it this way means a run with another
    ``COURSE_BACKBONE`` or image size never picks up a checkpoint it cannot load.

    Example:
        >>> model_variant("mobilenet_v2_035", (224, 224))
        'mobilenet_v2_035_224px'
    """
    size = image_size if isinstance(image_size, int) else image_size[0]
    return f"{backbone}_{size}px"


def checkpoint_callback(
    path: str | Path, monitor: str = "val_loss", save_best_only: bool = False
) -> keras.callbacks.ModelCheckpoint:
    """Save the model's weights to ``path`` at the end of every epoch.

    Taught in notebook 03, section 5 ("Model 2: 10% of the data, with augmentation and a checkpoint").

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


def checkpoint_path(experiment: str, variant: str | None = None, root: str | Path | None = None) -> Path:
    """A fresh ``<runs>/checkpoints/<experiment>/[<variant>/]<timestamp>/checkpoint.weights.h5`` path.

    Taught in notebook 03, section 5 ("Model 2: 10% of the data, with augmentation and a checkpoint").

    Pass ``variant=model_variant(backbone, image_size)`` so the folder says what the weights fit.

    Example:
        >>> checkpoint_path("model_2", model_variant("efficientnet_b0", 224))  # doctest: +SKIP
        PosixPath('runs/checkpoints/model_2/efficientnet_b0_224px/20261125-101500/checkpoint.weights.h5')
    """
    root = Path(root) if root else config.load_profile().runs_dir / "checkpoints"
    parent = root / experiment / variant if variant else root / experiment
    return new_run_dir(parent.parent, parent.name) / "checkpoint.weights.h5"


def latest_checkpoint(experiment: str, variant: str | None = None, root: str | Path | None = None) -> Path:
    """The newest checkpoint file saved for ``experiment`` (and ``variant``, see :func:`model_variant`).

    Taught in notebook 03, section 5 ("Model 2: 10% of the data, with augmentation and a checkpoint").

    When there is none for this ``variant`` but there are for others, the error names them: the
    checkpoint was trained with another backbone or image size and would not load.

    Example:
        >>> latest_checkpoint("model_2", model_variant("efficientnet_b0", 224))  # doctest: +SKIP
    """
    root = Path(root) if root else config.load_profile().runs_dir / "checkpoints"
    folder = root / experiment / variant if variant else root / experiment
    found = [p.parent for p in folder.glob("*/checkpoint.weights.h5")]
    if not found:
        others = sorted({p.parent.parent.name for p in (root / experiment).glob("*/*/checkpoint.weights.h5")})
        hint = (
            f" There are checkpoints for {others}: they were trained with another backbone or image size and "
            "would not load into this model. Run that notebook again with the current profile."
            if variant and others
            else ""
        )
        raise FileNotFoundError(
            f"No checkpoint of {experiment!r}{f' for {variant}' if variant else ''} under {root}. "
            f"Run the notebook that trains {experiment!r} first.{hint}"
        )
    return max(found, key=_run_key) / "checkpoint.weights.h5"


def history_logger(checkpoint: str | Path) -> keras.callbacks.CSVLogger:
    """Log every epoch's metrics to ``history.csv`` beside ``checkpoint``, so a later notebook can plot them.

    Taught in notebook 03, section 5 ("Model 2: 10% of the data, with augmentation and a checkpoint").

    A checkpoint holds the weights (and, once trained, the optimizer state), not the curves that led to
    them: this file does.

    Example:
        >>> callbacks = [checkpoint_callback(ckpt), history_logger(ckpt)]  # doctest: +SKIP
    """
    path = Path(checkpoint).parent / "history.csv"
    if path.exists():
        raise FileExistsError(f"{path} exists; use a new checkpoint_path() for a new run.")
    return keras.callbacks.CSVLogger(str(path))


def load_history(checkpoint: str | Path) -> SimpleNamespace:
    """The training history saved by :func:`history_logger` beside ``checkpoint``, shaped like a Keras ``History``.

    Taught in notebook 04, section 3 ("Where Model 2 left off").

    Example:
        >>> history_2 = load_history(latest_checkpoint("03_model_2_10_percent_aug"))  # doctest: +SKIP
        >>> history_2.epoch, sorted(history_2.history)  # doctest: +SKIP
        ([0, 1, 2, 3, 4], ['accuracy', 'loss', 'val_accuracy', 'val_loss'])
    """
    path = Path(checkpoint).parent / "history.csv"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: train the model again with history_logger() among its callbacks.")
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    logs = {key: [float(row[key]) for row in rows] for key in rows[0] if key != "epoch"} if rows else {}
    return SimpleNamespace(history=logs, epoch=[int(row["epoch"]) for row in rows])


def model_path(experiment: str, variant: str | None = None, root: str | Path | None = None) -> Path:
    """A fresh ``<runs>/models/<experiment>/[<variant>/]<timestamp>/model.keras`` path for ``model.save``.

    Taught in notebook 04, section 12 ("Save the chosen model, and load it safely").

    ``model.save`` overwrites an existing file without asking; a path from here is in a folder made
    just now, so a re-run saves beside the earlier model instead of over it. Load it back with
    :func:`helpers.models.load_course_model`.

    Example:
        >>> path = model_path("04_model_4", model_variant("efficientnet_b0", 224))  # doctest: +SKIP
        >>> model_4.save(path)  # doctest: +SKIP
    """
    root = Path(root) if root else config.load_profile().runs_dir / "models"
    parent = root / experiment / variant if variant else root / experiment
    return new_run_dir(parent.parent, parent.name) / "model.keras"
