"""Training steps every experiment shares: augmentation, timed fit + evaluation + record, cached features.

The notebooks compile their models themselves (that is where learning rates and
the "recompile after changing ``trainable``" lesson live) and hand the rest to
:func:`fit_and_record`, so every experiment is validated, tested and recorded the
same way: curves on the fixed validation set, the test set once at the end.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
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

    Returns:
        ``(history, test_metrics)`` where ``test_metrics`` is ``evaluate(..., return_dict=True)``.

    Example:
        >>> history, metrics = fit_and_record(model, train, val, test, experiment="02_model_0", notebook="02",
        ...                                   train_images=750, epochs=5)  # doctest: +SKIP
    """
    from helpers.callbacks import tensorboard_callback

    profile = profile or config.load_profile()
    callbacks = list(callbacks)
    if tensorboard and not any(isinstance(cb, keras.callbacks.TensorBoard) for cb in callbacks):
        callbacks.append(tensorboard_callback(None, experiment))
    started = time.perf_counter()
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
    seconds = time.perf_counter() - started
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
    print(
        f"{experiment}: validation accuracy {row['val_accuracy']:.1%} | test accuracy {row['test_accuracy']:.1%}, "
        f"test loss {row['test_loss']:.3f} on the full test set ({seconds:.0f} s of training)"
    )
    return history, test_metrics


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
