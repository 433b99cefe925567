"""Figures the notebooks draw again and again; each function returns its Figure.

Every figure has a title, labelled axes and a legend where there is more than one
line. :func:`save_fig` writes a figure into the course's ``images/`` folder, never over an
earlier, different figure of the same name.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use(matplotlib.get_backend())  # keep the notebook's inline backend
import matplotlib.pyplot as plt
import numpy as np

from helpers import config

HistoryLike = Any  # keras.callbacks.History or its ``.history`` dict


def _history_dict(history: HistoryLike) -> dict[str, list[float]]:
    return dict(history.history if hasattr(history, "history") else history)


def _epochs(history: HistoryLike, length: int) -> list[int]:
    """1-based epoch numbers of a History (taking ``initial_epoch`` into account)."""
    epoch = getattr(history, "epoch", None)
    return [e + 1 for e in epoch] if epoch else list(range(1, length + 1))


def _epoch_ticks(ax: plt.Axes, last_epoch: int) -> None:
    """Whole-number epoch ticks (matplotlib would label a 1-epoch run 0.96 ... 1.04)."""
    step = max(1, -(-last_epoch // 12))
    ax.set_xticks(range(1, last_epoch + 1, step))


def plot_loss_curves(history: HistoryLike, metric: str = "accuracy", title: str | None = None) -> plt.Figure:
    """Training and validation loss and ``metric`` per epoch, side by side.

    Taught in notebook 01, section 8 ("Train the ResNet50V2 feature extractor").

    Args:
        history: what ``model.fit`` returned (or its ``.history`` dict).
        metric: the metric to plot next to the loss, e.g. ``"accuracy"`` or ``"binary_accuracy"``.

    Example:
        >>> fig = plot_loss_curves({"loss": [1.0, 0.5], "accuracy": [0.5, 0.8]})
        >>> [ax.get_title() for ax in fig.axes]
        ['Loss', 'Accuracy']
    """
    logs = _history_dict(history)
    if metric not in logs:
        raise KeyError(f"{metric!r} is not in the history; it has {sorted(logs)}.")
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    for ax, key in zip(axes, ("loss", metric), strict=True):
        epochs = _epochs(history, len(logs[key]))
        ax.plot(epochs, logs[key], marker="o", label=f"training {key}")
        if f"val_{key}" in logs:
            ax.plot(epochs, logs[f"val_{key}"], marker="o", label=f"validation {key}")
        ax.set(title=key.replace("_", " ").capitalize(), xlabel="epoch", ylabel=key)
        _epoch_ticks(ax, max(epochs))
        ax.legend()
    if title:
        fig.suptitle(title)
    return fig


def compare_histories(
    original: HistoryLike, new: HistoryLike, initial_epochs: int, metric: str = "accuracy", title: str | None = None
) -> plt.Figure:
    """Curves of a feature-extraction run followed by its fine-tuning run, with a line where fine-tuning starts.

    Taught in notebook 04, section 7 ("Both stages on one plot").

    ``new`` must continue where ``original`` stopped: fit it with
    ``initial_epoch=len(original.epoch)``, so no epoch is counted twice.

    Example:
        >>> fig = compare_histories({"loss": [1, .8], "accuracy": [.5, .6]}, {"loss": [.6], "accuracy": [.7]}, 2)
        >>> fig.axes[0].get_xlabel()
        'epoch'
    """
    first, second = _history_dict(original), _history_dict(new)
    if len(first["loss"]) != initial_epochs:
        raise ValueError(f"original has {len(first['loss'])} epochs but initial_epochs={initial_epochs}.")
    new_epochs = getattr(new, "epoch", None)
    if new_epochs and new_epochs[0] != initial_epochs:
        raise ValueError(
            f"The fine-tuning run starts at epoch index {new_epochs[0]}, not {initial_epochs}: "
            "fit it with initial_epoch=len(history.epoch) so no epoch is repeated."
        )
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    for ax, key in zip(axes, ("loss", metric), strict=True):
        for prefix, label in (("", "training"), ("val_", "validation")):
            name = prefix + key
            if name in first:
                values = list(first[name]) + list(second.get(name, []))
                ax.plot(range(1, len(values) + 1), values, marker="o", label=f"{label} {key}")
                _epoch_ticks(ax, len(values))
        ax.axvline(initial_epochs + 0.5, color="grey", linestyle="--", label="start of fine-tuning")
        ax.set(title=key.replace("_", " ").capitalize(), xlabel="epoch", ylabel=key)
        ax.legend()
    if title:
        fig.suptitle(title)
    return fig


def prediction_title(true: str | None, predicted: str, confidence: float) -> str:
    """The title the course puts above a predicted image.

    Taught in notebook 01 solutions, exercise 3 ("Your own photos").

    Example:
        >>> prediction_title("ramen", "sushi", 0.91)
        'true: ramen\\npred: sushi (91%)'
    """
    head = f"pred: {predicted} ({confidence:.0%})"
    return head if true is None else f"true: {true}\n{head}"


def plot_image_grid(
    images: Sequence[np.ndarray],
    titles: Sequence[str],
    colors: Sequence[str] | None = None,
    ncols: int = 3,
    suptitle: str | None = None,
) -> plt.Figure:
    """Show images (pixels in [0, 255]) in a grid with one title each.

    Taught in notebook 05, section 2 ("Examine and understand the data").

    Example:
        >>> fig = plot_image_grid([np.zeros((8, 8, 3))], ["black"])
        >>> fig.axes[0].get_title()
        'black'
    """
    n = len(images)
    nrows = max(1, -(-n // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 3.4 * nrows), squeeze=False, layout="constrained")
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(np.clip(np.asarray(images[i]), 0, 255).astype("uint8"))
            ax.set_title(titles[i], fontsize=9, color=(colors[i] if colors else "black"))
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def plot_class_examples(folder: str | Path, per_class: int = 3, image_size: tuple[int, int] = (160, 160)) -> plt.Figure:
    """The first ``per_class`` images (by file name) of every class in an image folder, two classes per row.

    Taught in notebook 00, section 5 ("Look at the images").

    Example:
        >>> fig = plot_class_examples("data/food/train")  # doctest: +SKIP
    """
    from helpers.data import list_classes, list_images, load_image

    images, titles = [], []
    for name in list_classes(folder):
        for path in list_images(Path(folder) / name)[:per_class]:
            images.append(load_image(path, image_size))
            titles.append(f"{name}\n{path.name}")
    folder = Path(folder)
    ncols = per_class * 2 if per_class <= 3 else per_class
    return plot_image_grid(
        images,
        titles,
        ncols=ncols,
        suptitle=f"First {per_class} images of each class in {folder.parent.name}/{folder.name}/",
    )


def predict_dataset(model, dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run ``model`` over a batched ``(image, one-hot label)`` dataset once.

    Taught in notebook 01, section 13 ("Look at the mistakes").

    Returns:
        ``(images, true_labels, probabilities)`` as NumPy arrays, in dataset order. The images
        are kept as ``uint8`` (a quarter of the memory of ``float32``: about 0.4 GB for 2,500
        images at 224 px), enough to plot them.

    Example:
        >>> images, y_true, probs = predict_dataset(model, test_data)  # doctest: +SKIP
    """
    images, labels, probs = [], [], []
    for x, y in dataset:
        images.append(np.clip(np.rint(np.asarray(x)), 0, 255).astype("uint8"))
        labels.append(np.asarray(y))
        probs.append(np.asarray(model(x, training=False)))
    y = np.concatenate(labels)
    y_true = y.argmax(axis=1) if y.ndim == 2 else y.astype(int)
    return np.concatenate(images), y_true, np.concatenate(probs)


def plot_predictions(
    model, dataset, class_names: Sequence[str], n: int = 9, title: str | None = None, every: int = 1
) -> plt.Figure:
    """``n`` images of ``dataset`` (every ``every``-th) with true and predicted class and confidence (red: wrong).

    Taught in notebook 02, section 10 ("Look at some predictions").

    A test set sorted by class shows one class only in its first images: pass
    ``every=test_images // len(class_names)`` to spread the ``n`` images over the classes.

    Example:
        >>> fig = plot_predictions(model, test_data, class_names, every=125)  # doctest: +SKIP
    """
    images, y_true, probs = predict_dataset(model, dataset.unbatch().shard(max(1, every), 0).take(n).batch(n))
    predicted = probs.argmax(axis=1)
    titles = [
        prediction_title(class_names[t], class_names[p], probs[i, p])
        for i, (t, p) in enumerate(zip(y_true, predicted, strict=True))
    ]
    colors = ["green" if t == p else "red" for t, p in zip(y_true, predicted, strict=True)]
    return plot_image_grid(images, titles, colors, suptitle=title or "Predictions (green = right, red = wrong)")


def plot_top_losses(
    images: np.ndarray,
    y_true: Sequence[int],
    probabilities: np.ndarray,
    class_names: Sequence[str],
    k: int = 9,
    title: str = "The highest-loss predictions",
) -> plt.Figure:
    """The ``k`` predictions with the highest loss (:func:`helpers.models.top_losses`), highest first.

    Taught in notebook 01, section 13 ("Look at the mistakes").

    Each title gives the true class, the prediction with its confidence, and the loss
    (``-log`` of the probability the true class got). Wrong predictions are red. Takes what
    :func:`predict_dataset` returns.

    Example:
        >>> fig = plot_top_losses(*predict_dataset(model, test_data), class_names)  # doctest: +SKIP
    """
    from helpers.models import top_losses

    worst = top_losses(y_true, probabilities, k)
    probabilities = np.asarray(probabilities)
    predicted = probabilities.argmax(axis=1)
    titles = [
        prediction_title(class_names[y_true[i]], class_names[predicted[i]], probabilities[i][predicted[i]])
        + f"\nloss {-np.log(max(float(probabilities[i][y_true[i]]), 1e-12)):.2f}"
        for i in worst
    ]
    colors = ["red" if predicted[i] != y_true[i] else "green" for i in worst]
    return plot_image_grid([images[i] for i in worst], titles, colors, suptitle=title)


def plot_confusion_matrix(
    y_true: Sequence[int],
    y_pred: Sequence[int],
    class_names: Sequence[str],
    normalize: bool = False,
    title: str = "Confusion matrix",
) -> plt.Figure:
    """A labelled confusion matrix (rows: true class, columns: predicted class).

    Taught in notebook 04, section 10 ("Where the chosen model goes wrong").

    Example:
        >>> fig = plot_confusion_matrix([0, 1, 1], [0, 1, 0], ["cat", "dog"])
        >>> fig.axes[0].get_ylabel()
        'true class'
    """
    k = len(class_names)
    matrix = np.zeros((k, k), dtype=float)
    np.add.at(matrix, (np.asarray(y_true, int), np.asarray(y_pred, int)), 1)
    if normalize:
        matrix = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    size = max(5.0, 0.6 * k + 2)
    fig, ax = plt.subplots(figsize=(size, size), layout="constrained")
    shown = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(shown, ax=ax, fraction=0.046)
    ax.set(xticks=range(k), yticks=range(k), xlabel="predicted class", ylabel="true class", title=title)
    ax.set_xticklabels(class_names, rotation=70, ha="right")
    ax.set_yticklabels(class_names)
    threshold = matrix.max() / 2 if matrix.size else 0
    for i in range(k):
        for j in range(k):
            text = f"{matrix[i, j]:.2f}" if normalize else f"{int(matrix[i, j])}"
            ax.text(
                j, i, text, ha="center", va="center", fontsize=8, color="white" if matrix[i, j] > threshold else "black"
            )
    return fig


def plot_augmentation(augmentation, image: np.ndarray, n: int = 5, title: str = "Data augmentation") -> plt.Figure:
    """One image and ``n`` augmented versions of it (the layers run with ``training=True``).

    Taught in notebook 03, section 3 ("Data augmentation, as layers of the model").

    Example:
        >>> fig = plot_augmentation(augmentation, image)  # doctest: +SKIP
    """
    versions = [np.asarray(augmentation(image[None], training=True)[0]) for _ in range(n)]
    titles = ["original"] + [f"augmented {i + 1}" for i in range(n)]
    return plot_image_grid([image, *versions], titles, ncols=n + 1, suptitle=title)


def pareto_front(latency: Sequence[float], accuracy: Sequence[float]) -> list[int]:
    """Indices of the models no other model beats on both counts (faster *and* more accurate), fastest first.

    Taught in notebook 06, section 3 ("The `keras.applications` models: published figures and what your machine
    measures").

    Example:
        >>> pareto_front([10, 20, 30, 25], [0.70, 0.75, 0.74, 0.80])
        [0, 1, 3]
    """
    order = sorted(range(len(latency)), key=lambda i: (latency[i], -accuracy[i]))
    front, best = [], float("-inf")
    for i in order:
        if accuracy[i] > best:
            front.append(i)
            best = accuracy[i]
    return front


def plot_accuracy_vs_latency(
    names: Sequence[str], latency_ms: Sequence[float], accuracy: Sequence[float], title: str, xlabel: str
) -> plt.Figure:
    """A scatter plot of accuracy against latency with the Pareto front drawn and each model labelled.

    Taught in notebook 06, section 3 ("The `keras.applications` models: published figures and what your machine
    measures").

    Example:
        >>> fig = plot_accuracy_vs_latency(["a", "b"], [10, 20], [0.7, 0.8], "t", "ms per batch")
        >>> figure_lines(fig)["t"]
        ['Pareto front']
    """
    fig, ax = plt.subplots(figsize=(8, 5), layout="constrained")
    ax.scatter(latency_ms, accuracy, color="tab:blue", zorder=3, label="model")
    for name, x, y in zip(names, latency_ms, accuracy, strict=True):
        ax.annotate(name, (x, y), textcoords="offset points", xytext=(5, 4), fontsize=8)
    front = pareto_front(latency_ms, accuracy)
    ax.plot([latency_ms[i] for i in front], [accuracy[i] for i in front], color="tab:red", linestyle="--",
            marker="o", zorder=2, label="Pareto front")
    ax.set(title=title, xlabel=xlabel, ylabel="ImageNet top-1 accuracy (published)")
    ax.legend(loc="lower right")
    return fig


def save_fig(name: str, fig: plt.Figure | None = None, images_dir: str | Path | None = None, dpi: int = 100) -> Path:
    """Save a figure (default: the current one) as ``<images_dir>/<name>.png`` and return the path; never overwrite.

    Taught in notebook 00, section 5 ("Look at the images").

    ``images_dir`` defaults to the profile's images folder (``images/`` or ``COURSE_IMAGES_DIR``).

    A re-run of a notebook must not replace the figure an earlier run saved, so an existing file is never
    written over: the first figure saved under a name keeps ``<name>.png``, and a later, different one goes
    to ``<name>-2.png``, then ``<name>-3.png``, ... (the highest number is the newest). A figure identical,
    byte for byte, to one already saved under that name is not saved twice: its path is returned. Use the
    returned path (the notebooks print it) rather than assuming ``<name>.png``. ``make run`` gives every run
    its own images folder, so there every figure keeps its plain name.

    Example:
        >>> path = save_fig("loss_curves_model_0")  # doctest: +SKIP
        >>> path.name  # doctest: +SKIP
        'loss_curves_model_0-2.png'
    """
    folder = Path(images_dir) if images_dir else config.load_profile().images_dir
    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    (fig or plt.gcf()).savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    png = buffer.getvalue()
    for number in itertools.count(1):
        path = folder / (f"{name}.png" if number == 1 else f"{name}-{number}.png")
        try:
            with path.open("xb") as handle:  # "x": fails if the file exists, even one made a moment ago
                handle.write(png)
            return path
        except FileExistsError:
            if path.read_bytes() == png:
                return path
    raise AssertionError("unreachable")  # itertools.count never ends


def figure_lines(fig: plt.Figure) -> Mapping[str, list[str]]:
    """Legend labels of every axis in ``fig`` by axis title (handy in tests and asserts).

    Taught in notebook 04, section 7 ("Both stages on one plot").

    Example:
        >>> figure_lines(plot_loss_curves({"loss": [1.0], "accuracy": [0.5]}))
        {'Loss': ['training loss'], 'Accuracy': ['training accuracy']}
    """
    return {ax.get_title(): [line.get_label() for line in ax.get_lines()] for ax in fig.axes if ax.get_title()}


def plot_accuracy_vs_size(
    curves: Mapping[str, tuple[Sequence[int], Sequence[float]]],
    images: int,
    title: str,
    ylabel: str = "validation accuracy",
    chance: float | None = None,
) -> plt.Figure:
    """Accuracy against the number of training images, one line per curve, each point with its 95% interval.

    Taught in notebook 03, section 7 ("Accuracy against training-set size").

    ``curves`` maps a label to ``(training images, accuracies)``. Every accuracy was measured on the same
    ``images`` images (the validation set), so each error bar is :func:`helpers.results.accuracy_interval`
    of it, and two points whose bars overlap are a tie as far as those images can tell. The x-axis is
    logarithmic, so each tenfold step of data is the same distance, and ticked at the sizes themselves;
    with several curves each one is nudged a few percent sideways, so that their bars do not hide each
    other. ``chance`` (one in the number of classes) adds a dotted line.

    Example:
        >>> fig = plot_accuracy_vs_size({"5 epochs": ([10, 100], [0.3, 0.6])}, 200, "Accuracy and data")
        >>> ax = fig.axes[0]
        >>> ax.get_title(), ax.get_xlabel(), ax.get_ylabel()
        ('Accuracy and data', 'training images (log scale)', 'validation accuracy (bars: 95% intervals)')
    """
    from helpers.results import accuracy_interval

    fig, ax = plt.subplots(figsize=(7.5, 4.5), layout="constrained")
    ticks: set[int] = set()
    for number, (label, (sizes, accuracies)) in enumerate(curves.items()):
        values = [float(accuracy) for accuracy in accuracies]
        bounds = [accuracy_interval(value, images) for value in values]
        errors = np.array([[value - low, high - value] for value, (low, high) in zip(values, bounds, strict=True)])
        nudge = 1.04 ** (number - (len(curves) - 1) / 2)
        ax.errorbar([size * nudge for size in sizes], values, yerr=errors.T, marker="o", capsize=4, label=label)
        ticks.update(int(size) for size in sizes)
    if chance is not None:
        ax.axhline(chance, color="grey", linestyle=":", label="chance")
    ax.set_xscale("log")
    ax.set_xlim(min(ticks) / 1.5, max(ticks) * 1.5)
    ax.set_xticks(sorted(ticks), labels=[str(size) for size in sorted(ticks)])
    ax.minorticks_off()
    ax.set(title=title, xlabel="training images (log scale)", ylabel=f"{ylabel} (bars: 95% intervals)", ylim=(0, 1.05))
    ax.legend(loc="lower right")
    return fig


def _relative_change(before: np.ndarray, after: np.ndarray) -> float:
    """Mean absolute change from ``before`` to ``after``, relative to the mean absolute value of ``before``."""
    before = np.asarray(before, dtype="float64")
    scale = float(np.mean(np.abs(before))) or 1.0
    return float(np.mean(np.abs(np.asarray(after, dtype="float64") - before))) / scale


def _channel_means(outputs: Any) -> np.ndarray:
    """The mean of each channel (last axis) of a batch of activations."""
    values = np.asarray(outputs, dtype="float64")
    return values.reshape(-1, values.shape[-1]).mean(axis=0)


def _identity_line(ax: plt.Axes, *series: np.ndarray) -> None:
    """A dotted ``y = x`` line across the range of ``series``: points on it did not change."""
    values = np.concatenate([np.ravel(s) for s in series])
    low, high = float(values.min()), float(values.max())
    ax.plot([low, high], [low, high], ":", color="grey", label="unchanged (y = x)")


def plot_batchnorm_drift(
    mean_before: Any,
    means_after: Mapping[str, Any],
    training_output: Any | None = None,
    inference_output: Any | None = None,
    layer_name: str = "BatchNormalization",
    title: str | None = None,
) -> plt.Figure:
    """How far a BatchNorm layer's moving mean drifted, and how its two modes differ on one batch.

    Taught in notebook 04, section 8 ("Why BatchNorm stays in inference mode").

    The left panel plots every channel's moving mean after training (``means_after``: a label, such as
    ``"BatchNorm trainable"``, to the layer's ``moving_mean``) against its value before (``mean_before``);
    a channel that did not move sits on the dotted ``y = x`` line. Each label gets its drift: the mean
    absolute change relative to the mean absolute value before. Given ``training_output`` and
    ``inference_output`` (the layer's output on one batch with ``training=True`` and ``training=False``),
    the right panel plots each channel's mean output in the two modes against each other: off the line,
    the layers after it see something else in training than at inference.

    Example:
        >>> before = np.array([0.0, 1.0, 2.0])
        >>> fig = plot_batchnorm_drift(before, {"frozen": before, "trainable": before + 0.5}, layer_name="bn")
        >>> [ax.get_title() for ax in fig.axes]
        ['bn: moving mean per channel']
        >>> figure_lines(fig)["bn: moving mean per channel"][:2]
        ['frozen (drift 0.00%)', 'trainable (drift 50.00%)']
    """
    before = np.asarray(mean_before, dtype="float64")
    both = training_output is not None and inference_output is not None
    fig, axes = plt.subplots(1, 2 if both else 1, figsize=(11 if both else 5.5, 4.5), layout="constrained")
    axes = np.atleast_1d(axes)
    ax = axes[0]
    afters = {label: np.asarray(after, dtype="float64") for label, after in means_after.items()}
    for (label, after), marker in zip(afters.items(), itertools.cycle("o^sD"), strict=False):
        drift = _relative_change(before, after)
        ax.plot(before, after, marker, linestyle="none", alpha=0.6, label=f"{label} (drift {drift:.2%})")
    _identity_line(ax, before, *afters.values())
    ax.set(title=f"{layer_name}: moving mean per channel", xlabel="before training", ylabel="after training")
    ax.legend(fontsize="small")
    if both:
        inference = _channel_means(inference_output)
        training = _channel_means(training_output)
        gap = float(np.mean(np.abs(np.asarray(training_output) - np.asarray(inference_output))))
        ax = axes[1]
        ax.plot(inference, training, "o", alpha=0.6, label=f"one channel (mean |gap| {gap:.3f})")
        _identity_line(ax, inference, training)
        ax.set(
            title=f"{layer_name}: mean output per channel, one batch",
            xlabel="inference mode (moving statistics)",
            ylabel="training mode (batch statistics)",
        )
        ax.legend(fontsize="small")
    fig.suptitle(title or f"BatchNorm layer {layer_name}: drift and the gap between its modes")
    return fig


def tensorboard_scalars(run_dir: str | Path, split: str, tag: str) -> list[tuple[int, float]]:
    """The ``(epoch, value)`` pairs a run logged for ``tag`` in ``run_dir / split``, read from its event files.

    Taught in notebook 04, section 11 ("The course's results").

    Keras' ``TensorBoard`` callback writes, in each run's folder, a ``train/`` and a ``validation/``
    folder of ``events.out.tfevents...`` files: one value per epoch for every metric, tagged
    ``epoch_loss``, ``epoch_accuracy``. TensorBoard's ``EventAccumulator`` reads them without starting a
    server. The epoch is counted from 0, as in ``history.epoch``, so a run started with
    ``initial_epoch=5`` logs from step 5.

    Example:
        >>> pairs = tensorboard_scalars(latest_run_dir(runs / "tensorboard", "04_model_3"),
        ...                             "validation", "epoch_accuracy")  # doctest: +SKIP
        >>> pairs[-1]  # doctest: +SKIP
        (9, 0.61)
    """
    import tensorflow as tf
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    folder = Path(run_dir) / split
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} does not exist: is {run_dir} a TensorBoard run folder?")
    events = EventAccumulator(str(folder), size_guidance={"tensors": 0})  # 0: keep every value
    events.Reload()
    if tag not in events.Tags().get("tensors", []):
        raise KeyError(f"{folder} logged no {tag!r}; it logged {sorted(events.Tags().get('tensors', []))}")
    return [(int(event.step), float(tf.make_ndarray(event.tensor_proto))) for event in events.Tensors(tag)]


def plot_tensorboard_scalars(
    runs: Mapping[str, str | Path],
    tags: Sequence[str] = ("epoch_loss", "epoch_accuracy"),
    splits: Sequence[str] = ("train", "validation"),
    title: str = "TensorBoard scalars, read from the event files",
) -> plt.Figure:
    """What TensorBoard's *Scalars* tab shows for ``runs`` ticked: one panel per tag, one colour per run.

    Taught in notebook 04, section 11 ("The course's results").

    ``runs`` maps a label to a run's TensorBoard folder (:func:`helpers.callbacks.latest_run_dir`);
    each is read with :func:`tensorboard_scalars`. Training is drawn solid, validation dashed, and the
    epochs are numbered from 1, as Keras prints them.

    Example:
        >>> fig = plot_tensorboard_scalars({"Model 3": latest_run_dir(runs, "04_model_3")})  # doctest: +SKIP
        >>> [ax.get_title() for ax in fig.axes]  # doctest: +SKIP
        ['epoch_loss', 'epoch_accuracy']
    """
    fig, axes = plt.subplots(1, len(tags), figsize=(6 * len(tags), 4.5), layout="constrained")
    axes = np.atleast_1d(axes)
    styles = itertools.cycle(("-o", "--s", ":^"))
    split_styles = {split: style for split, style in zip(splits, styles, strict=False)}
    for ax, tag in zip(axes, tags, strict=True):
        logged: set[int] = set()
        for number, (label, run_dir) in enumerate(runs.items()):
            for split in splits:
                pairs = tensorboard_scalars(run_dir, split, tag)
                epochs = [step + 1 for step, _ in pairs]
                logged.update(epochs)
                ax.plot(epochs, [value for _, value in pairs], split_styles[split], color=f"C{number}",
                        label=f"{label}, {split}")  # fmt: skip
        ax.set(title=tag, xlabel="epoch", ylabel=tag.removeprefix("epoch_"))
        ticks = sorted(logged)
        ax.set_xticks(ticks[:: max(1, -(-len(ticks) // 12))])  # whole epochs, at most about 12 ticks
        ax.legend(fontsize="small")
    fig.suptitle(title)
    return fig
