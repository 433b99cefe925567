"""Backing up every epoch of a run and resuming it after an interruption (``fit_and_record(..., resume=True)``).

A learner never calls these by name: :func:`helpers.training.fit_and_record` does, and notebook 04 reads
:func:`resume_point` and :func:`backup_dir` through :mod:`helpers.callbacks`.

The backup of an unfinished run (:func:`backup_dir`) is one folder per experiment, rewritten after every epoch
so that running the cell again resumes, and deleted once the run is recorded. It is the only thing the course
rewrites, and it holds nothing a finished run needs.
"""

from __future__ import annotations

import contextlib
import csv
import json
import shutil
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace

import keras

from helpers import config

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


def run_variant(model: keras.Model, backbone: str = "") -> str | None:
    """What a model's backup is filed under: ``model_variant(backbone, image size)`` for an image model.

    ``None`` (no variant folder) without a ``backbone`` or for inputs that are not images: a model's own
    name changes from one build to the next (``sequential``, ``sequential_1``), so it cannot name a backup.

    Example:
        >>> run_variant(keras.Sequential([keras.Input((64, 64, 3)), keras.layers.Flatten()]), "mobilenet_v2_035")
        'mobilenet_v2_035_64px'
        >>> run_variant(keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]), "mobilenet_v2_035") is None
        True
    """
    from helpers.callbacks import model_variant

    try:
        shape = model.input_shape
    except AttributeError:  # a model with no input yet (BackupAndRestore refuses it anyway)
        return None
    if not backbone or not isinstance(shape, tuple) or len(shape) != 4 or not shape[1]:
        return None
    return model_variant(backbone, int(shape[1]))


class Attempt:
    """One ``fit`` of a run, and (with ``resume``) its backup and what earlier attempts of the run finished.

    :func:`helpers.training.fit_and_record` makes one per call: ``callbacks`` go to ``fit`` (the backup
    ones first), :meth:`running` wraps the ``fit``, :meth:`whole_run` joins its history to the earlier
    attempts', and :meth:`finish` deletes the backup once the run is recorded.

    With ``resume=True`` an interrupted run (Ctrl-C, a kernel restart, a crash) continues where it stopped
    when the same call runs again, in a fresh model built the same way: :func:`backup_callbacks` back up
    the weights, the optimizer state and the epoch after every epoch into
    ``<runs>/backup/<experiment>/<variant>`` (:func:`run_variant`). ``fit`` then starts at the backup's
    epoch instead of ``initial_epoch``; an epoch interrupted half-way is trained again from its start.
    The history, the row and any ``history_logger`` file cover the whole run, as if it had never stopped;
    the seconds add up every attempt. A shuffled ``tf.data`` pipeline starts a new order after a restart,
    so the result is as good as, not identical to, an uninterrupted run; with a fixed order it matches to
    float precision (``tests/helpers/test_resume.py``).
    """

    def __init__(
        self,
        model: keras.Model,
        experiment: str,
        callbacks: Sequence[keras.callbacks.Callback],
        resume: bool,
        backbone: str = "",
        runs_dir: Path | None = None,
    ) -> None:
        self.model, self.experiment = model, experiment
        self.root = (runs_dir or config.load_profile().runs_dir) / "backup"
        self.callbacks = list(callbacks)
        self.backup: Path | None = None
        self.earlier = SimpleNamespace(epoch=[], history={}, seconds=0.0)
        if resume:
            self.backup = backup_dir(experiment, run_variant(model, backbone), self.root)
            self.earlier = backup_progress(self.backup)
            continue_csv_logs(self.callbacks, self.earlier)
            self.callbacks = [*backup_callbacks(self.backup, self.earlier.seconds), *self.callbacks]

    @contextlib.contextmanager
    def running(self, initial_epoch: int, epochs: int) -> Iterator[None]:
        """Around the ``fit``: say where the backup goes (or what it resumes) and, if stopped, how to go on."""
        if self.backup is not None:
            _announce_resume(self.experiment, self.backup, self.earlier, initial_epoch, epochs)
        try:
            yield
        except BaseException:
            if self.backup is not None:
                _announce_interruption(self.experiment, self.backup)
            raise
        finally:
            # Keras 3.15's BackupAndRestore leaves the restored epoch on the model, where every later fit would
            # start instead of its own initial_epoch: forget it.
            self.model._initial_epoch = None

    def whole_run(self, history: keras.callbacks.History, seconds: float) -> tuple[keras.callbacks.History, float]:
        """This attempt's history and seconds, with the earlier attempts' epochs and seconds put in front."""
        if not self.earlier.epoch:
            return history, seconds
        if not history.epoch:  # every epoch was done before the interruption: this attempt saved no checkpoint
            _save_missing_checkpoints(self.model, self.callbacks)
        return _whole_run(self.earlier, history), seconds + self.earlier.seconds

    def finish(self) -> None:
        """The run is recorded: its backup has nothing left to give, so delete it."""
        if self.backup is not None:
            _remove_backup(self.backup, self.root)


def _epochs(first: int, last: int) -> str:
    """``"epoch 3"`` or ``"epochs 3 to 5"`` (1-based, as Keras prints them)."""
    return f"epoch {first}" if first == last else f"epochs {first} to {last}"


def _announce_resume(experiment: str, backup: Path, earlier: SimpleNamespace, initial_epoch: int, epochs: int) -> None:
    """One line: where the backup goes, and the epoch training starts at."""
    if not earlier.epoch:
        print(f"{experiment}: backing up every epoch to {backup}; training {_epochs(initial_epoch + 1, epochs)}.")
        return
    reached = earlier.epoch[-1] + 1
    left = f"training {_epochs(reached + 1, epochs)}" if reached < epochs else "only the test set is left"
    print(
        f"{experiment}: resuming from the backup in {backup}: {_epochs(earlier.epoch[0] + 1, reached)} done "
        f"({earlier.seconds:.0f} s); {left}."
    )


def _announce_interruption(experiment: str, backup: Path) -> None:
    """What an interrupted run left in its backup, and how to continue."""
    done = backup_progress(backup).epoch
    if not done:
        print(f"{experiment} stopped before an epoch of this run finished: there is nothing to resume from.")
        return
    which = _epochs(done[0] + 1, done[-1] + 1).capitalize() + (" is" if len(done) == 1 else " are")
    print(
        f"{experiment} stopped. {which} backed up in {backup}: run this cell again (after a kernel restart too) to "
        "continue from there. If you change the model first, delete that folder: a backup only loads into the model "
        "it was made from."
    )


def _remove_backup(folder: Path, root: Path) -> None:
    """Delete a finished run's backup ``folder``, and the folders above it up to ``root`` that it leaves empty."""
    shutil.rmtree(folder, ignore_errors=True)
    for parent in folder.parents:
        if parent == root or root not in parent.parents or any(parent.iterdir()):
            break
        parent.rmdir()


def _save_missing_checkpoints(model: keras.Model, callbacks: Sequence[keras.callbacks.Callback]) -> None:
    """Write the weights to each every-epoch ``ModelCheckpoint`` file that does not exist yet."""
    for callback in callbacks:
        if not isinstance(callback, keras.callbacks.ModelCheckpoint) or callback.save_best_only:
            continue
        path = Path(callback.filepath)
        if "{" not in str(path) and not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            if callback.save_weights_only:
                model.save_weights(path)
            else:
                model.save(path)


def _whole_run(earlier: SimpleNamespace, history: keras.callbacks.History) -> keras.callbacks.History:
    """A ``History`` of the whole run: the epochs earlier attempts finished, then the ones this ``fit`` ran."""
    start = history.epoch[0] if history.epoch else earlier.epoch[-1] + 1
    keep = [index for index, epoch in enumerate(earlier.epoch) if epoch < start]
    whole = keras.callbacks.History()
    whole.epoch = [earlier.epoch[i] for i in keep] + list(history.epoch)
    keys = list(history.history) or list(earlier.history)
    whole.history = {
        key: [earlier.history.get(key, [float("nan")] * len(earlier.epoch))[i] for i in keep]
        + list(history.history.get(key, []))
        for key in keys
    }
    return whole
