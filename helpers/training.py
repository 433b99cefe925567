"""Training steps every experiment shares: augmentation, timed fit + evaluation + record, cached features.

The notebooks compile their models themselves (that is where learning rates and
the "recompile after changing ``trainable``" lesson live) and hand the rest to
:func:`fit_and_record`, so every experiment is validated, tested and recorded the
same way: curves on the fixed validation set, the test set once at the end.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import keras
import numpy as np

from helpers import config
from helpers.results import record


def data_augmentation(seed: int = config.DEFAULT_SEED) -> keras.Sequential:
    """The course's augmentation layers: random flip, rotation, zoom, height and width shift.

    They change images only while training (``training=True``); at inference they pass
    images through unchanged. Pixels stay in [0, 255].

    Example:
        >>> [layer.__class__.__name__ for layer in data_augmentation().layers]
        ['RandomFlip', 'RandomRotation', 'RandomZoom', 'RandomTranslation']
    """
    return keras.Sequential(
        [
            # a different seed per layer, so that flips, turns, zooms and shifts are drawn independently
            keras.layers.RandomFlip("horizontal", seed=seed),
            keras.layers.RandomRotation(0.1, seed=seed + 1),
            keras.layers.RandomZoom(0.1, seed=seed + 2),
            keras.layers.RandomTranslation(0.1, 0.1, seed=seed + 3),
        ],
        name="augmentation",
    )


def augmented_feature_extractor(
    backbone: str,
    input_shape: tuple[int, int, int],
    num_classes: int,
    seed: int = config.DEFAULT_SEED,
    name: str = "feature_extractor",
    weights: str | None = "imagenet",
) -> keras.Model:
    """The course's augmented recipe (models 1, 2 and the 100% model of 03): a frozen backbone with
    :func:`data_augmentation` in front. Notebook 04 rebuilds Model 2 with it to load Model 2's checkpoint.

    Example:
        >>> model = augmented_feature_extractor("mobilenet_v2_035", (224, 224, 3), 10, name="m")  # doctest: +SKIP
    """
    from helpers.models import build_feature_extractor

    return build_feature_extractor(
        backbone, input_shape, num_classes, augmentation=data_augmentation(seed), name=name, weights=weights
    )


def compile_classifier(model: keras.Model, learning_rate: float = 1e-3) -> keras.Model:
    """Compile ``model`` the way every course experiment does: Adam, categorical cross-entropy, accuracy.

    Call it again after changing ``trainable``: Keras reads the flags when it builds the training
    function at the first ``fit`` after ``compile``, so a model fitted before keeps training only
    the weights that were trainable then. Pass a lower ``learning_rate`` to fine-tune. Returns ``model``.

    Example:
        >>> model = compile_classifier(keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]), 1e-4)
        >>> round(float(model.optimizer.learning_rate), 6)
        0.0001
    """
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def fit_and_record(
    model: keras.Model,
    train_data: Any,
    val_data: Any,
    test_data: Any,
    *,
    experiment: str,
    notebook: str,
    train_images: int,
    epochs: int,
    initial_epoch: int = 0,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    backbone: str = "",
    profile: config.Profile | None = None,
    tensorboard: bool = True,
    resume: bool = False,
    variant: str | None = None,
) -> tuple[keras.callbacks.History, dict[str, float]]:
    """What every experiment does after ``compile``: the same ``fit``, ``evaluate`` and ``record`` each time.

    1. ``model.fit(train_data, validation_data=val_data, ...)``, timed: the per-epoch curves
       use the fixed **validation** set, never the test set.
    2. Logs to TensorBoard under ``<runs>/tensorboard/<experiment>/<timestamp>`` (unless a
       ``TensorBoard`` callback is already in ``callbacks`` or ``tensorboard=False``).
    3. ``model.evaluate(test_data)`` once, on the **full** test set, after training.
    4. One row in the results table with the final validation and test figures.

    ``epochs`` is the epoch to stop at, as in ``model.fit``: to continue a model for 5
    more epochs pass ``initial_epoch=len(history.epoch)`` and ``epochs=len(history.epoch) + 5``.

    With ``resume=True`` an interrupted run (Ctrl-C, a kernel restart, a crash) continues where it
    stopped when the same call runs again, in a fresh model built the same way:
    :func:`helpers.callbacks.backup_callbacks` back up the weights, the optimizer state and the epoch
    after every epoch into ``<runs>/backup/<experiment>/<variant>`` (``variant`` defaults to
    ``model_variant(backbone, image size)`` for an image model with a ``backbone``). ``fit`` then starts at
    the backup's epoch instead of ``initial_epoch``; an epoch that was interrupted half-way is trained
    again from its start. The returned history, the row and any ``history_logger`` file cover the whole
    run, earlier attempts included, as if it had never stopped; ``seconds`` adds up every attempt. The
    row is recorded once, when the run finishes, and then the backup is deleted. A shuffled ``tf.data``
    pipeline starts a new order after a restart, so the result is as good as, not identical to, an
    uninterrupted run; with a fixed order it matches to float precision (``tests/test_resume.py``).

    Returns:
        ``(history, test_metrics)`` where ``test_metrics`` is ``evaluate(..., return_dict=True)``.

    Example:
        >>> history, metrics = fit_and_record(model, train, val, test, experiment="02_model_0", notebook="02",
        ...                                   train_images=750, epochs=5)  # doctest: +SKIP
        >>> history, metrics = fit_and_record(model, train, val, test, experiment="04_model_3", notebook="04",
        ...                                   train_images=750, epochs=10, initial_epoch=5,
        ...                                   resume=True)  # doctest: +SKIP
    """
    from helpers.callbacks import tensorboard_callback

    profile = profile or config.load_profile()
    callbacks = list(callbacks)
    if tensorboard and not any(isinstance(cb, keras.callbacks.TensorBoard) for cb in callbacks):
        callbacks.append(tensorboard_callback(None, experiment))
    backup, earlier = None, None
    if resume:
        backup, earlier, callbacks = _prepare_resume(model, experiment, variant, backbone, profile, callbacks)
        _announce_resume(experiment, backup, earlier, initial_epoch, epochs)
    started = time.perf_counter()
    try:
        history = model.fit(
            train_data,
            epochs=epochs,
            initial_epoch=initial_epoch,
            steps_per_epoch=profile.steps_per_epoch,
            validation_data=val_data,
            callbacks=callbacks,
            shuffle=False,  # the tf.data pipeline shuffles the training data itself; Keras would ignore (and warn)
            verbose=2,
        )
    except BaseException:
        if backup is not None:
            _announce_interruption(experiment, backup)
        raise
    finally:
        # Keras 3.15's BackupAndRestore leaves the restored epoch on the model, where every later fit would
        # start instead of its own initial_epoch: forget it.
        model._initial_epoch = None
    seconds = time.perf_counter() - started
    if earlier is not None and earlier.epoch:
        if not history.epoch:  # every epoch was done before the interruption: this attempt saved no checkpoint
            _save_missing_checkpoints(model, callbacks)
        history = _whole_run(earlier, history)
        seconds += earlier.seconds
    test_metrics = model.evaluate(test_data, return_dict=True, verbose=0)
    row = record(
        experiment,
        model,
        history,
        test_metrics,
        notebook=notebook,
        train_images=train_images,
        seconds=seconds,
        backbone=backbone,
    )
    if backup is not None:  # recorded: the run is finished, its backup has nothing left to give
        _remove_backup(backup, profile.runs_dir / "backup")
    print(
        f"{experiment}: validation accuracy {row['val_accuracy']:.1%} | test accuracy {row['test_accuracy']:.1%}, "
        f"test loss {row['test_loss']:.3f} on the full test set ({seconds:.0f} s of training)"
    )
    return history, test_metrics


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


def _prepare_resume(
    model: keras.Model,
    experiment: str,
    variant: str | None,
    backbone: str,
    profile: config.Profile,
    callbacks: list[keras.callbacks.Callback],
) -> tuple[Path, SimpleNamespace, list[keras.callbacks.Callback]]:
    """The backup folder, what earlier attempts finished, and the callbacks with the backup ones first."""
    from helpers.callbacks import backup_callbacks, backup_dir, backup_progress, continue_csv_logs

    folder = backup_dir(experiment, variant or run_variant(model, backbone), profile.runs_dir / "backup")
    earlier = backup_progress(folder)
    continue_csv_logs(callbacks, earlier)
    return folder, earlier, [*backup_callbacks(folder, earlier.seconds), *callbacks]


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
    from helpers.callbacks import backup_progress

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


def time_one_epoch(model: keras.Model, data: Any, **fit_kwargs: Any) -> float:
    """Seconds for one epoch of ``model.fit(data, **fit_kwargs)``, after a one-step warm-up that traces the graph.

    Example:
        >>> seconds = time_one_epoch(head, cached_train)  # doctest: +SKIP
    """
    model.fit(data, epochs=1, verbose=0, shuffle=False, **{**fit_kwargs, "steps_per_epoch": 1})
    started = time.perf_counter()
    model.fit(data, epochs=1, verbose=0, shuffle=False, **fit_kwargs)
    return time.perf_counter() - started


def extract_features(base: keras.Model, dataset: Any) -> tuple[np.ndarray, np.ndarray]:
    """Run a frozen feature extractor over a batched ``(image, label)`` dataset once.

    Returns:
        ``(features, labels)`` as NumPy arrays, in dataset order: train a small head on
        them for many epochs without running the expensive base again.

    Example:
        >>> features, labels = extract_features(feature_model, train_data)  # doctest: +SKIP
    """
    features, labels = [], []
    for images, batch_labels in dataset:
        features.append(np.asarray(base(images, training=False)))
        labels.append(np.asarray(batch_labels))
    return np.concatenate(features), np.concatenate(labels)
