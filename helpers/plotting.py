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
