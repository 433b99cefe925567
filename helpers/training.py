"""Training steps every experiment shares: augmentation, timed fit + evaluation + record, cached features.

The notebooks compile their models themselves (that is where learning rates and
the "recompile after changing ``trainable``" lesson live) and hand the rest to
:func:`fit_and_record`, so every experiment is validated, tested and recorded the
same way: curves on the fixed validation set, the test set once at the end.
"""

from __future__ import annotations

import operator
import time
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from helpers import config
from helpers._internal import resume as resume_run
from helpers.results import record, with_interval


def data_augmentation(seed: int = config.DEFAULT_SEED) -> keras.Sequential:
    """The course's augmentation layers: random flip, rotation, zoom, height and width shift.

    Taught in notebook 03, section 3 ("Data augmentation, as layers of the model").

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

    Taught in notebook 03, section 5 ("Model 2: 10% of the data, with augmentation and a checkpoint").

    Example:
        >>> model = augmented_feature_extractor("mobilenet_v2_035", (224, 224, 3), 10, name="m")  # doctest: +SKIP
    """
    from helpers.models import build_feature_extractor

    return build_feature_extractor(
        backbone, input_shape, num_classes, augmentation=data_augmentation(seed), name=name, weights=weights
    )


def compile_classifier(model: keras.Model, learning_rate: float = 1e-3) -> keras.Model:
    """Compile ``model`` the way every course experiment does: Adam, categorical cross-entropy, accuracy.

    Taught in notebook 03, section 4 ("Model 1: 1% of the data, with augmentation").

    Call it again after changing ``trainable``: Keras reads the flags when it builds the training
    function at the first ``fit`` after ``compile``, so a model fitted before keeps training only
    the weights that were trainable then. Pass a lower ``learning_rate`` to fine-tune. Returns ``model``.

    Example:
        >>> model = compile_classifier(keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]), 1e-4)
        >>> round(float(model.optimizer.learning_rate), 6)
        0.0001
    """
    if not isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        learning_rate = float(learning_rate)  # a number (or a schedule), checked before Keras sees it
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def fit_and_record(
    model: keras.Model,
    splits: Sequence[Any],
    *,
    experiment: str,
    epochs: int | None = None,
    initial_epoch: int = 0,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    resume: bool = False,
) -> tuple[keras.callbacks.History, dict[str, float]]:
    """What every experiment does after ``compile``: the same ``fit``, ``evaluate`` and ``record`` each time.

    Taught in notebook 01, section 8 ("Train the ResNet50V2 feature extractor"); every later lesson uses it.

    1. ``model.fit(train_data, validation_data=val_data, ...)``, timed: the per-epoch curves use the
       fixed **validation** set, never the test set. ``splits`` is ``(train_data, val_data, test_data)``
       (or an :class:`helpers.data.ImageSplits`, which starts with them).
    2. Logs to TensorBoard under ``<runs>/tensorboard/<experiment>/<timestamp>`` unless a
       ``TensorBoard`` callback is already in ``callbacks``.
    3. ``model.evaluate(test_data)`` once, on the **full** test set, after training.
    4. One row in the results table: the notebook is the experiment's prefix (``"03_model_2"`` -> 03),
       the backbone is read from the model, the training images are counted from ``train_data``.

    ``epochs`` is the epoch to stop at, as in ``model.fit`` (the profile's epochs by default): to continue
    a model for 5 more epochs pass ``initial_epoch=len(history.epoch)`` and ``epochs=len(history.epoch) + 5``.
    With ``resume=True`` every epoch is backed up, and running the same cell again after an interruption
    (Ctrl-C, a kernel restart) continues where it stopped (notebook 04, "If training is interrupted").

    Returns:
        ``(history, test_metrics)`` where ``test_metrics`` is ``evaluate(..., return_dict=True)``.

    Example:
        >>> history, metrics = fit_and_record(model, (train, val, test), experiment="02_model_0")  # doctest: +SKIP
        >>> history, metrics = fit_and_record(model, (train, val, test), experiment="04_model_3",
        ...                                   epochs=10, initial_epoch=5, resume=True)  # doctest: +SKIP
    """
    from helpers.data import count_examples
    from helpers.models import backbone_of

    profile = config.load_profile()
    train_data, val_data, test_data = splits[:3]
    epochs = profile.epochs if epochs is None else operator.index(epochs)  # whole numbers, checked here
    initial_epoch = operator.index(initial_epoch)
    backbone = backbone_of(model)
    attempt = resume_run.Attempt(model, experiment, _with_tensorboard(callbacks, experiment), resume, backbone)
    started = time.perf_counter()
    with attempt.running(initial_epoch, epochs):
        history = model.fit(
            train_data,
            epochs=epochs,
            initial_epoch=initial_epoch,
            steps_per_epoch=profile.steps_per_epoch,
            validation_data=val_data,
            callbacks=attempt.callbacks,
            shuffle=False,  # the tf.data pipeline shuffles the training data itself; Keras would ignore (and warn)
            verbose=2,
        )
    history, seconds = attempt.whole_run(history, time.perf_counter() - started)
    test_metrics = model.evaluate(test_data, return_dict=True, verbose=0)
    row = record(
        experiment, model, history, test_metrics, notebook=experiment.split("_")[0],
        train_images=count_examples(train_data), seconds=seconds, backbone=backbone,
        val_images=count_examples(val_data), test_images=count_examples(test_data),
    )  # fmt: skip
    attempt.finish()
    print(
        f"{experiment}: validation accuracy {with_interval(row['val_accuracy'], row['val_images'])} | test accuracy "
        f"{with_interval(row['test_accuracy'], row['test_images'])}, test loss {row['test_loss']:.3f} on the full "
        f"test set ({seconds:.0f} s of training; in brackets the 95% intervals)"
    )
    return history, test_metrics


def _with_tensorboard(
    callbacks: Sequence[keras.callbacks.Callback], experiment: str
) -> list[keras.callbacks.Callback]:
    """``callbacks`` and, unless one is among them already, a TensorBoard logger for ``experiment``."""
    from helpers.callbacks import tensorboard_callback

    callbacks = list(callbacks)
    if not any(isinstance(callback, keras.callbacks.TensorBoard) for callback in callbacks):
        callbacks.append(tensorboard_callback(None, experiment))
    return callbacks


def time_one_epoch(model: keras.Model, data: Any, **fit_kwargs: Any) -> float:
    """Seconds for one epoch of ``model.fit(data, **fit_kwargs)``, after a one-step warm-up that traces the graph.

    Taught in notebook 03, section 9 ("Faster experiments with cached features").

    Example:
        >>> seconds = time_one_epoch(head, cached_train)  # doctest: +SKIP
    """
    model.fit(data, epochs=1, verbose=0, shuffle=False, **{**fit_kwargs, "steps_per_epoch": 1})
    started = time.perf_counter()
    model.fit(data, epochs=1, verbose=0, shuffle=False, **fit_kwargs)
    return time.perf_counter() - started


def extract_features(base: keras.Model, dataset: Any) -> tuple[np.ndarray, np.ndarray]:
    """Run a frozen feature extractor over a batched ``(image, label)`` dataset once.

    Taught in notebook 03, section 9 ("Faster experiments with cached features").

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
