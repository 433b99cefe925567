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
import json
import time
from pathlib import Path
from types import SimpleNamespace

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


def tensorboard_command(dir: str | Path | None = None) -> str:
    """The notebook magic that opens TensorBoard on every run logged so far, with an absolute path.

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

    A checkpoint holds weights only; this file keeps the training curves that led to them.

    Example:
        >>> callbacks = [checkpoint_callback(ckpt), history_logger(ckpt)]  # doctest: +SKIP
    """
    path = Path(checkpoint).parent / "history.csv"
    if path.exists():
        raise FileExistsError(f"{path} exists; use a new checkpoint_path() for a new run.")
    return keras.callbacks.CSVLogger(str(path))


def load_history(checkpoint: str | Path) -> SimpleNamespace:
    """The training history saved by :func:`history_logger` beside ``checkpoint``, shaped like a Keras ``History``.

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


#: Inside a backup folder: Keras' ``BackupAndRestore`` state, and one row per finished epoch.
BACKUP_STATE = "state"
BACKUP_EPOCHS = "epochs.csv"


def backup_dir(experiment: str, variant: str | None = None, root: str | Path | None = None) -> Path:
    """Where an unfinished run keeps what it needs to resume: ``<runs>/backup/<experiment>/[<variant>/]``.

    Not timestamped: running the same cell again, even after a kernel restart, must find it. It holds
    ``state/`` (Keras' ``BackupAndRestore``: weights, optimizer state and epoch, rewritten after every
    epoch) and ``epochs.csv`` (each finished epoch's metrics and the training seconds so far).
    ``fit_and_record(..., resume=True)`` deletes it once the run's row is recorded. The variant
    (:func:`model_variant`) keeps a backup from loading into a model of another backbone or image size.

    Example:
        >>> backup_dir("04_model_3", "mobilenet_v2_035_64px", root="/tmp/runs/backup")
        PosixPath('/tmp/runs/backup/04_model_3/mobilenet_v2_035_64px')
    """
    root = Path(root) if root else config.load_profile().runs_dir / "backup"
    return root / experiment / variant if variant else root / experiment


def _backup_epoch(folder: Path) -> int:
    """The epoch the backup in ``folder`` reached (0 without one)."""
    metadata = folder / BACKUP_STATE / "training_metadata.json"
    if not (metadata.exists() and (folder / BACKUP_STATE / "latest.weights.h5").exists()):
        return 0
    try:
        return int(json.loads(metadata.read_text())["epoch"])
    except (ValueError, KeyError):  # cut short while being written: Keras falls back on its previous copy
        return 0


def resume_point(
    experiment: str, variant: str | None = None, root: str | Path | None = None
) -> tuple[Path | None, int]:
    """The backup an interrupted run of ``experiment`` left, and the epoch it reached; ``(None, 0)`` without one.

    The epoch counts finished epochs from 0, like ``initial_epoch``: a resumed ``fit`` starts there, so
    an interruption during epoch 4 (1-based) of a run started at ``initial_epoch=0`` gives 3. The file
    is Keras' ``BackupAndRestore`` weights file, optimizer state included.

    Example:
        >>> resume_point("04_model_3", "mobilenet_v2_035_64px", root="/tmp/no-backups-here")
        (None, 0)
    """
    folder = backup_dir(experiment, variant, root)
    epoch = _backup_epoch(folder)
    return (folder / BACKUP_STATE / "latest.weights.h5", epoch) if epoch else (None, 0)


class EpochLog(keras.callbacks.Callback):
    """Append every finished epoch's metrics, and the training seconds so far, to a CSV file.

    The file is opened and closed for each row, so an interruption loses no finished epoch; a
    resumed run appends to it (``seconds_before`` carries the earlier attempts' time).

    Example:
        >>> log = EpochLog("runs/backup/model_2/epochs.csv")  # doctest: +SKIP
    """

    def __init__(self, path: str | Path, seconds_before: float = 0.0) -> None:
        super().__init__()
        self.path = Path(path)
        self.seconds_before = seconds_before
        self._started = time.perf_counter()

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        seconds = self.seconds_before + time.perf_counter() - self._started
        row = {"epoch": epoch, "seconds": round(seconds, 3), **{k: float(v) for k, v in sorted((logs or {}).items())}}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.path.exists() or self.path.stat().st_size == 0
        if not new:
            with self.path.open(newline="") as handle:
                fields = next(csv.reader(handle))
        with self.path.open("a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(row) if new else fields, extrasaction="ignore")
            if new:
                writer.writeheader()
            writer.writerow(row)


def backup_callbacks(folder: str | Path, seconds_before: float = 0.0) -> list[keras.callbacks.Callback]:
    """Keras' ``BackupAndRestore`` in ``<folder>/state`` and an :class:`EpochLog` in ``<folder>/epochs.csv``.

    ``BackupAndRestore`` saves the weights, the optimizer state and the epoch after every epoch, keeping
    the previous copy too (``double_checkpoint``: an interruption while it writes leaves one that loads).
    When ``fit`` starts and a backup is there, it loads it and ``fit`` starts at the backup's epoch
    instead of ``initial_epoch`` (Keras 3.15: ``initial_epoch = model._initial_epoch or initial_epoch``).
    Its own deletion at the end of ``fit`` is switched off: :func:`helpers.training.fit_and_record`
    deletes the folder once the run's row is recorded, so an interruption during the final
    evaluation loses nothing either. Put them first among the callbacks: they save an epoch before
    any later callback can fail.

    Example:
        >>> callbacks = backup_callbacks(backup_dir("03_model_2"))  # doctest: +SKIP
    """
    folder = Path(folder)
    return [
        keras.callbacks.BackupAndRestore(str(folder / BACKUP_STATE), double_checkpoint=True, delete_checkpoint=False),
        EpochLog(folder / BACKUP_EPOCHS, seconds_before),
    ]


def backup_progress(folder: str | Path) -> SimpleNamespace:
    """What earlier attempts of a run finished: ``epoch`` and ``history`` (as a Keras ``History``) and ``seconds``.

    Only the epochs the backup's state reached count; without a backup all are empty.

    Example:
        >>> backup_progress("/tmp/no-backup-here")
        namespace(epoch=[], history={}, seconds=0.0)
    """
    folder = Path(folder)
    reached, path = _backup_epoch(folder), folder / BACKUP_EPOCHS
    rows = []
    if reached and path.exists():
        with path.open(newline="") as handle:
            rows = [row for row in csv.DictReader(handle) if int(row["epoch"]) < reached]
    keys = [key for key in (rows[0] if rows else {}) if key not in ("epoch", "seconds")]
    return SimpleNamespace(
        epoch=[int(row["epoch"]) for row in rows],
        history={key: [float(row[key]) for row in rows] for key in keys},
        seconds=float(rows[-1]["seconds"]) if rows else 0.0,
    )


def continue_csv_logs(callbacks: list[keras.callbacks.Callback], earlier: SimpleNamespace) -> list[Path]:
    """Start each ``CSVLogger`` among ``callbacks`` (a :func:`history_logger`) with the epochs ``earlier`` finished.

    A resumed run's ``history.csv`` then holds every epoch of the run, as if it had never stopped, and
    :func:`load_history` gives the whole curve. Only loggers that would start their file afresh
    (``append=False``) are filled; they then append. Returns the files written.

    Example:
        >>> continue_csv_logs([history_logger(ckpt)], backup_progress(backup_dir("03_model_2")))  # doctest: +SKIP
    """
    written = []
    keys = sorted(earlier.history)
    for callback in callbacks:
        if not isinstance(callback, keras.callbacks.CSVLogger) or callback.append or not earlier.epoch:
            continue
        path = Path(callback.filename)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle, delimiter=callback.sep)
            writer.writerow(["epoch", *keys])
            for index, epoch in enumerate(earlier.epoch):
                writer.writerow([epoch, *(earlier.history[key][index] for key in keys)])
        callback.append = True
        written.append(path)
    return written
