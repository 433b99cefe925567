import types

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest

from helpers import plotting


def _history(loss, acc, val_loss=None, val_acc=None, epoch=None, metric="accuracy"):
    logs = {"loss": loss, metric: acc}
    if val_loss:
        logs.update({"val_loss": val_loss, f"val_{metric}": val_acc})
    return types.SimpleNamespace(history=logs, epoch=epoch if epoch is not None else list(range(len(loss))))


def test_loss_curves_have_titled_labelled_axes_and_lines():
    fig = plotting.plot_loss_curves(_history([1.0, 0.5, 0.3], [0.4, 0.7, 0.8], [1.1, 0.7, 0.6], [0.3, 0.6, 0.7]))
    assert plotting.figure_lines(fig) == {
        "Loss": ["training loss", "validation loss"],
        "Accuracy": ["training accuracy", "validation accuracy"],
    }
    loss_ax = fig.axes[0]
    assert (loss_ax.get_xlabel(), loss_ax.get_ylabel()) == ("epoch", "loss")
    assert list(loss_ax.get_lines()[0].get_xdata()) == [1, 2, 3]
    assert list(loss_ax.get_lines()[1].get_ydata()) == [1.1, 0.7, 0.6]


def test_loss_curves_take_any_metric_name():
    fig = plotting.plot_loss_curves(_history([1.0], [0.5], metric="binary_accuracy"), metric="binary_accuracy")
    assert fig.axes[1].get_title() == "Binary accuracy"
    with pytest.raises(KeyError, match="binary_accuracy"):
        plotting.plot_loss_curves(_history([1.0], [0.5], metric="binary_accuracy"))


def test_compare_histories_joins_runs_and_marks_fine_tuning():
    first = _history([1.0, 0.8], [0.5, 0.6], [1.1, 0.9], [0.4, 0.5])
    second = _history([0.6, 0.5], [0.7, 0.8], [0.8, 0.7], [0.6, 0.65], epoch=[2, 3])
    fig = plotting.compare_histories(first, second, initial_epochs=2)
    lines = fig.axes[1].get_lines()
    assert [line.get_label() for line in lines] == ["training accuracy", "validation accuracy", "start of fine-tuning"]
    assert list(lines[0].get_xdata()) == [1, 2, 3, 4] and list(lines[0].get_ydata()) == [0.5, 0.6, 0.7, 0.8]
    assert lines[2].get_xdata()[0] == 2.5


def test_compare_histories_catches_the_repeated_epoch():
    first = _history([1.0, 0.8], [0.5, 0.6])
    repeated = _history([0.6], [0.7], epoch=[1])  # fit(initial_epoch=history.epoch[-1]) repeats epoch 2
    with pytest.raises(ValueError, match="initial_epoch=len"):
        plotting.compare_histories(first, repeated, initial_epochs=2)
    with pytest.raises(ValueError, match="initial_epochs"):
        plotting.compare_histories(first, _history([0.6], [0.7], epoch=[3]), initial_epochs=3)


def test_confusion_matrix_counts_and_labels():
    fig = plotting.plot_confusion_matrix([0, 1, 1, 2], [0, 1, 0, 2], ["a", "b", "c"])
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["1", "0", "0", "1", "1", "0", "0", "0", "1"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert ax.get_title() == "Confusion matrix"
    normalized = plotting.plot_confusion_matrix([0, 1, 1], [0, 1, 0], ["a", "b"], normalize=True)
    assert [t.get_text() for t in normalized.axes[0].texts] == ["1.00", "0.00", "0.50", "0.50"]


def test_image_grid_titles_and_colours():
    fig = plotting.plot_image_grid([np.zeros((4, 4, 3))] * 2, ["x", "y"], ["green", "red"], ncols=2, suptitle="S")
    assert [ax.get_title() for ax in fig.axes] == ["x", "y"]
    assert fig.axes[1].title.get_color() == "red" and fig._suptitle.get_text() == "S"


def test_class_examples_and_predictions(tiny_data):
    import keras

    from helpers.data import image_folders

    fig = plotting.plot_class_examples(tiny_data / "train", per_class=2, image_size=(32, 32))
    assert [ax.get_title().split("\n")[0] for ax in fig.axes if ax.get_title()] == ["blue_triangle"] * 2 + [
        "green_square"
    ] * 2 + ["red_circle"] * 2
    _, _, test, names = image_folders(tiny_data / "train", tiny_data / "test", tiny_data / "test", (32, 32), 4)
    model = keras.Sequential(
        [keras.Input((32, 32, 3)), keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3, activation="softmax")]
    )
    images, y_true, probs = plotting.predict_dataset(model, test)
    assert images.shape == (12, 32, 32, 3) and probs.shape == (12, 3) and y_true.tolist() == sorted(y_true.tolist())
    assert images.dtype == np.uint8, "kept as uint8: a quarter of float32's memory"
    fig = plotting.plot_predictions(model, test, names, n=6)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert len(titles) == 6 and all(t.startswith("true: ") and "pred: " in t for t in titles)
    spread = plotting.plot_predictions(model, test, names, n=3, every=4)  # 4 test images per class
    assert [ax.get_title().split("\n")[0] for ax in spread.axes if ax.get_title()] == [f"true: {c}" for c in names]


def test_augmentation_figure(tiny_data):
    import keras

    from helpers.data import load_image

    image = load_image(tiny_data / "train" / "red_circle" / "red_circle_000.jpg", (32, 32))
    fig = plotting.plot_augmentation(keras.Sequential([keras.layers.RandomFlip()]), image, n=3)
    assert [ax.get_title() for ax in fig.axes] == ["original", "augmented 1", "augmented 2", "augmented 3"]


def test_save_fig_writes_png(tmp_path):
    fig = plotting.plot_loss_curves({"loss": [1.0], "accuracy": [0.5]})
    path = plotting.save_fig("curves", fig, tmp_path)
    assert path == tmp_path / "curves.png" and path.read_bytes()[:4] == b"\x89PNG"


def test_epoch_ticks_are_whole_numbers_even_for_one_epoch():
    fig = plotting.plot_loss_curves({"loss": [1.0], "accuracy": [0.5]})
    assert list(fig.axes[0].get_xticks()) == [1]
    fig = plotting.compare_histories({"loss": [1.0], "accuracy": [0.5]}, {"loss": [0.9], "accuracy": [0.6]}, 1)
    assert list(fig.axes[0].get_xticks()) == [1, 2]


def test_top_losses_figure_shows_the_highest_losses_first():
    images = np.zeros((4, 8, 8, 3))
    probs = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4], [0.2, 0.8]])
    fig = plotting.plot_top_losses(images, [1, 1, 1, 0], probs, ["cat", "dog"], k=2)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["true: dog\npred: cat (90%)\nloss 2.30", "true: cat\npred: dog (80%)\nloss 1.61"]
    assert all(ax.title.get_color() == "red" for ax in fig.axes if ax.get_title())


def test_pareto_front_keeps_only_unbeaten_models():
    assert plotting.pareto_front([10, 20, 30, 25], [0.70, 0.75, 0.74, 0.80]) == [0, 1, 3]
    assert plotting.pareto_front([5, 5], [0.6, 0.7]) == [1]
    fig = plotting.plot_accuracy_vs_latency(["a", "b", "c"], [1, 2, 3], [0.7, 0.6, 0.8], "T", "ms")
    ax = fig.axes[0]
    assert ax.get_title() == "T" and ax.get_xlabel() == "ms" and "accuracy" in ax.get_ylabel()
    front = next(line for line in ax.get_lines() if line.get_label() == "Pareto front")
    assert list(front.get_xdata()) == [1, 3]
