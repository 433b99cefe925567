"""The exercise checks: each passes a right answer and fails the typical wrong ones with a message that teaches.

The models are tiny stand-ins with the layout the lessons use (a ``base`` with BatchNorm, pooling, a
softmax head), trained for an epoch or two on random images, so every mistake the lessons warn about
(no recompile, unfrozen BatchNorm, ``initial_epoch=epoch[-1]``, the test set as validation data) can be
made for real and caught.
"""

from __future__ import annotations

import random
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest
import tensorflow as tf

from helpers import exercises as ex_module
from helpers.data import (
    count_images,
    list_classes,
    list_images,
    load_image,
    make_tiny_image_folders,
    validation_per_class,
)
from helpers.exercises import FillIn, NotYet, ____, exercises
from helpers.models import unfreeze_last
from helpers.plotting import plot_class_examples, plot_image_grid
from helpers.training import compile_classifier

SHAPE = (16, 16, 3)
CLASSES = 3


def _data(seed: int, n: int = 12) -> tf.data.Dataset:
    rng = np.random.default_rng(seed)
    images = rng.uniform(0, 255, (n, *SHAPE)).astype("float32")
    labels = keras.utils.to_categorical(rng.integers(0, CLASSES, n), CLASSES)
    return tf.data.Dataset.from_tensor_slices((images, labels)).batch(4)


TRAIN, VAL, TEST = _data(0), _data(1), _data(2)


def _model(name: str = "model") -> keras.Model:
    """The lessons' layout in miniature: image -> base (conv, BatchNorm, ...) -> pooling -> softmax head."""
    keras.utils.set_random_seed(0)
    base = keras.Sequential(
        [
            keras.Input(SHAPE),
            keras.layers.Rescaling(1 / 255, name="scale"),
            keras.layers.Conv2D(4, 3, name="conv_1"),
            keras.layers.BatchNormalization(name="bn_1"),
            keras.layers.Conv2D(4, 3, name="conv_2"),
            keras.layers.BatchNormalization(name="bn_2"),
            keras.layers.Conv2D(4, 3, name="conv_3"),
        ],
        name="base",
    )
    base.trainable = False
    inputs = keras.Input(SHAPE, name="image")
    x = base(inputs, training=False)
    x = keras.layers.GlobalAveragePooling2D(name="pooling")(x)
    outputs = keras.layers.Dense(CLASSES, activation="softmax", name="classifier")(x)
    return keras.Model(inputs, outputs, name=name)


@pytest.fixture(scope="module")
def head_only():
    """A head trained for two epochs, as Model 2 / 05's head-only model: ``(weights, history)``."""
    model = compile_classifier(_model(), 1e-3)
    history = model.fit(TRAIN, validation_data=VAL, epochs=2, verbose=0, shuffle=False)
    return model.get_weights(), history


def _fine_tuned(head_only, n=2, recompile=True, freeze_bn=True, start=None, validation=VAL, learning_rate=1e-4):
    """Fine-tune the head-only model's last ``n`` base layers one epoch; each flag makes one mistake."""
    weights, previous = head_only
    model = compile_classifier(_model(), 1e-3)
    model.set_weights(weights)
    model.fit(TRAIN, epochs=1, verbose=0, shuffle=False)  # fitted before, as a learner's model is
    base = model.get_layer("base")
    if freeze_bn:
        unfreeze_last(base, n)
    else:
        base.trainable = True  # every layer, BatchNorm included
    if recompile:
        compile_classifier(model, learning_rate)
    start = len(previous.epoch) if start is None else start
    history = model.fit(
        TRAIN, validation_data=validation, initial_epoch=start, epochs=start + 1, verbose=0, shuffle=False
    )
    return model, history


def _check_04_1(model, history, head_only, n=2):
    exercises("04").e1.check(model, history, n=n, previous=head_only[1], val_data=VAL, epochs=1)


def test_a_blank_raises_a_friendly_fill_in_wherever_it_is_used():
    for use in (lambda: ____ + 1, lambda: 1e-3 / ____, lambda: ____ < 0, lambda: range(____), lambda: ____.fit):
        with pytest.raises(FillIn, match=r"Fill in the blanks \(____\) first"):
            use()
    assert repr(____) == "____"
    with pytest.raises(FillIn):
        exercises("04").e3.check(____, "more data")


def test_hint_and_solution_say_something_and_where(capsys):
    e1 = exercises("04").e1
    e1.hint()
    e1.solution()
    out = capsys.readouterr().out
    assert "compile_classifier" in out
    assert "04_fine_tuning_solutions.ipynb" in out and '"Exercise 1. Unfreeze more layers"' in out
    with pytest.raises(KeyError, match="lessons with checks"):
        exercises("99")


def test_fine_tuning_the_right_way_passes(head_only, capsys):
    model, history = _fine_tuned(head_only)
    _check_04_1(model, history, head_only)
    assert "Correct, exercise 04.1" in capsys.readouterr().out


def test_no_recompile_after_unfreezing_fails(head_only):
    model, history = _fine_tuned(head_only, recompile=False)
    with pytest.raises(NotYet, match="the optimizer does not update the layers you unfroze") as caught:
        exercises("04").e1.check(model, history, n=2, previous=head_only[1], val_data=VAL, epochs=1, learning_rate=1e-3)
    assert "Recompile" in str(caught.value) and "without a new compile" in str(caught.value)


def test_unfrozen_batch_norm_fails(head_only):
    model, history = _fine_tuned(head_only, freeze_bn=False)
    with pytest.raises(NotYet, match="BatchNormalization layers of the base can train") as caught:
        _check_04_1(model, history, head_only)
    assert "'bn_1'" in str(caught.value) or "'bn_2'" in str(caught.value)


def test_the_wrong_number_of_layers_fails(head_only):
    model, history = _fine_tuned(head_only, n=4)
    with pytest.raises(NotYet, match="not the last 2 layers of the base"):
        _check_04_1(model, history, head_only)


def test_initial_epoch_at_the_last_epoch_fails(head_only):
    model, history = _fine_tuned(head_only, start=len(head_only[1].epoch) - 1)
    with pytest.raises(NotYet, match=r"epoch\[-1\] is the last epoch already trained"):
        _check_04_1(model, history, head_only)


def test_the_test_set_as_validation_data_fails(head_only):
    model, history = _fine_tuned(head_only, validation=TEST)
    with pytest.raises(NotYet, match="was the test set .* passed as validation data"):
        _check_04_1(model, history, head_only)


def test_another_learning_rate_fails(head_only):
    model, history = _fine_tuned(head_only, learning_rate=1e-3)
    with pytest.raises(NotYet, match="another learning rate") as caught:
        _check_04_1(model, history, head_only)
    assert "expected: 0.0001" in str(caught.value) and "found:    0.001" in str(caught.value)


def test_05_whole_model_and_its_learning_rate(head_only, capsys):
    model, history = _fine_tuned(head_only, n=len(_model().get_layer("base").layers), learning_rate=1e-4)
    exercises("05").e2.check(model, history, previous=head_only[1], val_data=VAL, epochs=1)
    assert "every layer of the base" in capsys.readouterr().out
    with pytest.raises(NotYet, match="another learning rate"):  # exercise 1 asks for 1e-5
        exercises("05").e1.check(model, history, n=None, previous=head_only[1], val_data=VAL, epochs=1)


# --- 04, exercise 2: pred_and_plot ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> tuple[Path, Path, Path]:
    root = make_tiny_image_folders(tmp_path_factory.mktemp("ex"), per_class=4, size=16)
    val = make_tiny_image_folders(tmp_path_factory.mktemp("ex_val"), per_class=2, size=16, seed=1) / "train"
    return root / "train", val, root / "test"


def _pred_and_plot(wrong_folder: bool = False):
    rng = random.Random(0)

    def pred_and_plot(model, data_dir, class_name=None, split="val"):
        folders = dict(zip(("train", "val", "test"), data_dir, strict=True))
        folder = folders["test" if wrong_folder else split]
        names = list_classes(folder)
        true_class = class_name or rng.choice(names)
        path = rng.choice(list_images(folder / true_class))
        image = load_image(path, SHAPE[:2])
        probabilities = np.asarray(model(image[None], training=False))[0]
        predicted, confidence = names[int(probabilities.argmax())], float(probabilities.max())
        fig = plot_image_grid([image], [f"{true_class} -> {predicted}"], ncols=1)
        return fig, path, true_class, predicted, confidence

    return pred_and_plot


def test_pred_and_plot_right_and_from_the_wrong_folder(folders, capsys):
    model = _model()
    exercises("04").e2.check(_pred_and_plot(), model, folders)
    assert "Correct, exercise 04.2" in capsys.readouterr().out
    with pytest.raises(NotYet, match="not a validation image of the class asked for"):
        exercises("04").e2.check(_pred_and_plot(wrong_folder=True), model, folders)
    assert not plt.get_fignums(), "the check closes the figures it made"


def test_the_mistakes_need_a_verdict_per_image():
    e3 = exercises("04").e3
    verdicts = dict.fromkeys(range(9), "model error")
    e3.check(verdicts, "more data")
    with pytest.raises(NotYet, match="not every one of the 9 images"):
        e3.check({0: "model error"}, "more data")
    with pytest.raises(NotYet, match="cleaner labels first, but no image has a wrong label"):
        e3.check(verdicts, "cleaner labels")


# --- 05, exercises 3 and 4 -----------------------------------------------------------------------------------


def test_own_two_classes_counts_the_validation_set(tmp_path):
    folder = make_tiny_image_folders(tmp_path / "mine", ("red_circle", "blue_square"), per_class=8, size=16)
    names = list_classes(folder / "train")
    val = validation_per_class(min(count_images(folder / "test").values())) * 2
    exercises("05").e3.check(folder, names, {"train": 16 - val, "val": val, "test": 16})
    with pytest.raises(NotYet, match="the validation set is not the one two_class_data sets aside"):
        exercises("05").e3.check(folder, names, {"train": 16, "val": 16, "test": 16})
    with pytest.raises(NotYet, match="not a train/ and test/ folder"):
        exercises("05").e3.check(folder / "train", names, {"val": val})


def _sigmoid_model(units=1, activation="sigmoid", loss="binary"):
    keras.utils.set_random_seed(0)
    base = _model().get_layer("base")
    inputs = keras.Input(SHAPE)
    x = keras.layers.GlobalAveragePooling2D()(base(inputs, training=False))
    x = keras.layers.Dropout(0.2)(x)
    model = keras.Model(inputs, keras.layers.Dense(units, activation=activation)(x))
    model.compile("adam", keras.losses.BinaryCrossentropy() if loss == "binary" else "categorical_crossentropy")
    return model


def test_the_sigmoid_head_right_and_as_two_softmax_units():
    binary = lambda data: data.map(lambda x, y: (x, y[:, -1:]))  # noqa: E731
    model = _sigmoid_model()
    history = model.fit(binary(TRAIN), validation_data=binary(VAL), epochs=1, verbose=0, shuffle=False)
    history.history["val_accuracy"] = [0.5]  # the check reports it; this model was compiled without metrics
    exercises("05").e4.check(model, history, binary(VAL))
    softmax = _sigmoid_model(units=2, activation="softmax", loss="categorical")
    with pytest.raises(NotYet, match="the head is not one sigmoid unit") as caught:
        exercises("05").e4.check(softmax, history, VAL)
    assert "not binary cross-entropy" in str(caught.value)


def test_every_checked_lesson_names_its_solutions_notebook():
    root = Path(__file__).resolve().parents[2] / "notebooks" / "solutions"
    for lesson in ex_module.lessons_with_checks():
        names = vars(exercises(lesson))
        assert list(names) == [f"e{i}" for i in range(1, len(names) + 1)]
        assert (root / next(iter(names.values())).solution_notebook).is_file()


# --- notebooks 00 to 02 ----------------------------------------------------------------------------------------


def test_00_counts_plots_and_sizes(folders, capsys):
    train_dir = folders[0]
    per_class = count_images(train_dir)
    e = exercises("00")
    e.e1.check(train_dir, per_class, sum(per_class.values()))
    with pytest.raises(NotYet, match="an epoch shows the model every training image once"):
        e.e1.check(train_dir, per_class, max(per_class.values()))  # one class's images, not all
    names = list_classes(train_dir)
    e.e2.check(plot_class_examples(train_dir, per_class=5, image_size=(16, 16)), train_dir, names[:2])
    with pytest.raises(NotYet, match="not 5 images of every class") as caught:
        e.e2.check(plot_class_examples(train_dir, per_class=3, image_size=(16, 16)), train_dir, names[:1] * 2)
    assert "two different classes of the folder" in str(caught.value)
    path = list_images(train_dir / names[0])[0]
    small, large = load_image(path, (64, 64)), load_image(path, (224, 224))
    e.e3.check(small, large, plot_image_grid([small, large], ["64", "224"], ncols=2))
    with pytest.raises(NotYet, match="the small image has another shape"):
        e.e3.check(large, large, plot_image_grid([large, large], ["224", "224"], ncols=2))
    plt.close("all")
    assert capsys.readouterr().out.count("Correct") == 3


@pytest.fixture()
def tiny_hub(tiny_hub_handle, monkeypatch):
    """The tiny hub module stands in for MobileNetV2's handle."""
    import helpers.models

    monkeypatch.setattr(helpers.models, "hub_handle", lambda default: tiny_hub_handle)
    return tiny_hub_handle


def test_01_hub_pixels_in_0_1_and_not_0_255(tiny_hub):
    from helpers.models import hub_classifier

    right = hub_classifier(tiny_hub, CLASSES, SHAPE)
    history = right.fit(TRAIN, validation_data=VAL, epochs=1, verbose=0, shuffle=False)
    exercises("01").e1.check(right, history, val_data=VAL)
    wrong = hub_classifier(tiny_hub, CLASSES, SHAPE, rescale=False)
    history = wrong.fit(TRAIN, validation_data=VAL, epochs=1, verbose=0, shuffle=False)
    with pytest.raises(NotYet, match=r"the hub model gets pixels outside \[0, 1\]") as caught:
        exercises("01").e1.check(wrong, history, val_data=VAL)
    assert "Rescaling(1 / 255)" in str(caught.value) and "section 10" in str(caught.value)


def test_01_three_models_and_a_dated_answer():
    from helpers.backbones import BACKBONES

    facts = {"input_size": (224, 224), "pixel_range": (0, 1), "feature_length": 1280, "parameters": 10}
    found = [{"handle": f"https://example.org/model/{i}", **facts} for i in range(3)]
    exercises("01").e2.check(found)
    found[0]["handle"] = BACKBONES["efficientnet_b0"].hub_handle
    with pytest.raises(NotYet, match="model 0 is in the course's table"):
        exercises("01").e2.check(found)
    answer = {"model": "m", "top1": 0.91, "source": "a paper, arXiv:0000.00000", "date": "2022-05-04"}
    exercises("01").e4.check({**answer, "on_kaggle_models": False})
    with pytest.raises(NotYet, match="top-1 accuracy as a fraction") as caught:
        exercises("01").e4.check({**answer, "top1": 91.0, "date": "2999-01-01", "on_kaggle_models": False})
    assert "a date in the future" in str(caught.value)


def test_01_a_photo_the_model_did_not_train_on(tmp_path):
    photos = make_tiny_image_folders(tmp_path / "photos", per_class=10, size=16) / "train"
    split = {"validation_split": 0.2, "seed": 0}
    train_split, val_split = keras.utils.image_dataset_from_directory(photos, subset="both", verbose=False, **split)
    model = _model()
    names = list_classes(photos)

    def predicted(photo):
        return names[int(np.argmax(model(load_image(photo, SHAPE[:2])[None], training=False)[0]))]

    unseen = Path(val_split.file_paths[0])
    exercises("01").e3.check(model, photos, unseen, predicted(unseen), split)
    seen = Path(train_split.file_paths[0])
    with pytest.raises(NotYet, match="the model trained on this photo"):
        exercises("01").e3.check(model, photos, seen, predicted(seen), split)


def _head_on(base, pooling, dropout=None, extra_input=False):
    inputs = keras.Input(SHAPE, name="image")
    x = pooling(base(inputs, training=False))
    inputs = [inputs]
    if extra_input:
        number = keras.Input((1,), name="brightness")
        x = keras.layers.Concatenate()([x, number])
        inputs.append(number)
    if dropout:
        x = keras.layers.Dropout(dropout)(x)
    model = keras.Model(inputs, keras.layers.Dense(CLASSES, activation="softmax")(x))
    return compile_classifier(model)


def test_02_dropout_max_pooling_and_two_inputs():
    base = _model().get_layer("base")
    right = _head_on(base, keras.layers.GlobalAveragePooling2D(), dropout=0.2)
    history = right.fit(TRAIN, validation_data=VAL, epochs=1, verbose=0, shuffle=False)
    exercises("02").e1.check(right, history, val_data=VAL)
    wrong = _head_on(base, keras.layers.GlobalAveragePooling2D(), dropout=0.5)
    with pytest.raises(NotYet, match=r"not one Dropout\(0.2\)"):
        exercises("02").e1.check(wrong, history, val_data=VAL)
    grid = np.random.default_rng(0).normal(size=(1, 4, 4, 3)).astype("float32")
    max_model = _head_on(base, keras.layers.GlobalMaxPooling2D())
    history = max_model.fit(TRAIN, validation_data=VAL, epochs=1, verbose=0, shuffle=False)
    exercises("02").e3.check(keras.layers.GlobalMaxPooling2D()(grid), grid, max_model, history, VAL)
    with pytest.raises(NotYet, match="not the largest value of each channel"):
        exercises("02").e3.check(keras.layers.GlobalAveragePooling2D()(grid), grid, max_model, history, VAL)
    two = _head_on(base, keras.layers.GlobalAveragePooling2D(), extra_input=True)
    both = TRAIN.map(lambda x, y: ({"image": x, "brightness": tf.reduce_mean(x, axis=[1, 2, 3])[:, None]}, y))
    exercises("02").e2.check(two, two.fit(both, epochs=1, verbose=0, shuffle=False))
    with pytest.raises(NotYet, match="not two inputs"):
        exercises("02").e2.check(right, history)


def test_02_batch_norm_count():
    base = _model().get_layer("base")
    norms = [layer for layer in base.layers if isinstance(layer, keras.layers.BatchNormalization)]
    exercises("02").e4.check(base, len(norms), sum(layer.count_params() for layer in norms))
    with pytest.raises(NotYet, match="another number of parameters in them"):
        exercises("02").e4.check(base, len(norms), sum(len(layer.trainable_weights) for layer in norms))


# --- notebooks 03 and 06 ---------------------------------------------------------------------------------------


def _augmented(extra=()):
    from helpers.training import data_augmentation

    return keras.Sequential([*data_augmentation(0).layers, *extra], name="augmentation")


def _with_augmentation(augmentation):
    base = _model().get_layer("base")
    inputs = keras.Input(SHAPE)
    x = keras.layers.GlobalAveragePooling2D()(base(augmentation(inputs), training=False))
    return compile_classifier(keras.Model(inputs, keras.layers.Dense(CLASSES, activation="softmax")(x)))


def test_03_augmentation_left_out_and_added():
    from helpers.plotting import plot_augmentation

    plain = compile_classifier(_model())
    history = plain.fit(TRAIN, validation_data=VAL, epochs=1, verbose=0, shuffle=False)
    exercises("03").e1.check(plain, history, val_data=VAL)
    augmented = _with_augmentation(_augmented())
    history = augmented.fit(TRAIN, validation_data=VAL, epochs=1, verbose=0, shuffle=False)
    with pytest.raises(NotYet, match="the model still augments"):
        exercises("03").e1.check(augmented, history, val_data=VAL)
    block = _augmented([keras.layers.RandomContrast(0.2)])
    image = np.full(SHAPE, 100.0, dtype="float32")
    fig = plot_augmentation(block, image, n=3, title="contrast")
    contrast_model = _with_augmentation(block)
    history = contrast_model.fit(TRAIN, validation_data=VAL, epochs=1, verbose=0, shuffle=False)
    exercises("03").e2.check(block, fig, contrast_model, history, val_data=VAL)
    with pytest.raises(NotYet, match="not the course's four layers and RandomContrast") as caught:
        exercises("03").e2.check(_augmented(), fig, augmented, history, val_data=VAL)
    assert "the model does not use the new block" in str(caught.value)
    plt.close("all")


def test_03_epochs_reload_and_the_plot():
    from helpers.plotting import plot_accuracy_vs_size

    head = compile_classifier(keras.Sequential([keras.Input((4,)), keras.layers.Dense(CLASSES, activation="softmax")]))
    x = np.random.default_rng(0).normal(size=(12, 4)).astype("float32")
    y = keras.utils.to_categorical(np.arange(12) % CLASSES, CLASSES)
    history = head.fit(x, y, validation_data=(x, y), epochs=3, verbose=0, shuffle=False)
    exercises("03").e3.check(history, epochs=3)
    with pytest.raises(NotYet, match="another number of epochs"):
        exercises("03").e3.check(history, epochs=30)
    val = head.evaluate(x, y, return_dict=True, verbose=0)
    exercises("03").e4.check(val, history)
    with pytest.raises(NotYet, match="another accuracy than the one recorded"):
        exercises("03").e4.check({"accuracy": history.history["val_accuracy"][-1] + 0.1}, history)
    row = {"train_images": "750", "val_accuracy": "0.42"}
    curves = {"images": ([75, 750, 7500], [0.2, 0.5, 0.7]), "cached": ([750], [0.42])}
    exercises("03").e5.check(plot_accuracy_vs_size(curves, 200, "size"), row)
    with pytest.raises(NotYet, match="the cached-features point is not on the plot"):
        exercises("03").e5.check(plot_accuracy_vs_size({"images": curves["images"]}, 200, "size"), row)
    plt.close("all")


def test_06_latency_table():
    latency = {name: 10.0 + i for i, name in enumerate(["VGG16", "ResNet50", "ResNet50V2", "ResNet101", "MobileNet",
                                                        "MobileNetV2", "DenseNet121", "EfficientNetB0"])}  # fmt: skip
    fig, ax = plt.subplots()
    ax.set_title("latency")
    with pytest.raises(NotYet, match="not every model timed") as caught:
        exercises("06").e1.check(latency, 64, fig)
    assert "images too small for InceptionV3" in str(caught.value)
    exercises("06").e1.check({**latency, "InceptionV3": 30.0, "Xception": 40.0}, 75, fig)
    plt.close("all")


def _preprocessed(layer):
    base = _model().get_layer("base")
    inputs = keras.Input(SHAPE)
    x = keras.layers.GlobalAveragePooling2D()(base(layer(inputs), training=False))
    x = keras.layers.Dense(4, activation="relu")(x)
    return compile_classifier(keras.Model(inputs, keras.layers.Dense(CLASSES, activation="softmax")(x)))


def test_06_preprocessing_right_and_wrong():
    from helpers.models import PreprocessInput, rescaling_layer, resolve_backbone

    backbone = resolve_backbone("resnet50")
    right = _preprocessed(rescaling_layer(backbone))
    history = right.fit(TRAIN, validation_data=VAL, epochs=1, verbose=0, shuffle=False)
    exercises("06").e2.check(right, history, val_data=VAL)
    other = "tf" if getattr(rescaling_layer(backbone), "mode", None) == "caffe" else "caffe"
    wrong = _preprocessed(PreprocessInput(other, name="rescaling"))
    with pytest.raises(NotYet, match="not the backbone's own preprocessing"):
        exercises("06").e2.check(wrong, history, val_data=VAL)
    exercises("06").e3.check(right, wrong, backbone)
    with pytest.raises(NotYet, match="the wrong model preprocesses like the right one"):
        exercises("06").e3.check(right, right, backbone)


def test_06_degradations():
    def grayscale(images, labels):
        return tf.image.grayscale_to_rgb(tf.image.rgb_to_grayscale(images)), labels

    def heavy_blur(images, labels):
        return tf.nn.avg_pool2d(images, ksize=5, strides=1, padding="SAME"), labels

    def mild_blur(images, labels):
        return tf.nn.avg_pool2d(images, ksize=1, strides=1, padding="SAME"), labels

    exercises("06").e4.check(grayscale, heavy_blur, VAL)
    with pytest.raises(NotYet, match="not a heavy blur"):
        exercises("06").e4.check(grayscale, mild_blur, VAL)
    with pytest.raises(NotYet, match="not three equal channels"):
        exercises("06").e4.check(lambda x, y: (x, y), heavy_blur, VAL)
