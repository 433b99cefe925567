"""The checks behind :mod:`helpers.exercises`: what each lesson's exercise cells are checked for.

Each ``_check_NN_M`` inspects what a learner built or ran for exercise M of notebook NN and returns either a
list of :class:`Problem` (what was expected, what was found, where the lesson explains it) or a one-line
summary of what is right. The small ``*_problems`` functions are the checks the lessons share: the trainable
layers, the recompile, the learning rate, the epochs a continued ``fit`` ran and the validation curve.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np


@dataclass(frozen=True)
class Problem:
    """One thing a check found wrong: what, what was expected, what was found, and where the lesson explains it.

    Used by :class:`helpers.exercises.Exercise` (notebook 04 solutions, exercise 1).
    """

    what: str
    expected: str
    found: str
    see: str

    def __str__(self) -> str:
        return f"{self.what}\n  expected: {self.expected}\n  found:    {self.found}\n  see:      {self.see}"


# --- what the checks look at -------------------------------------------------------------------------------------


def _is_batch_norm(layer: keras.layers.Layer) -> bool:
    return isinstance(layer, keras.layers.BatchNormalization)


def _trainable_problems(model: keras.Model, n: int | None, see: str, base_name: str = "base") -> list[Problem]:
    """Whether exactly the last ``n`` layers of ``model``'s base (all when ``None``) train, BatchNorm frozen.

    Used by the fine-tuning checks of notebooks 04 and 05.
    """
    from helpers.models import expected_trainable, trainable_layer_names

    base = model.get_layer(base_name)
    n = len(base.layers) if n is None else n
    problems = []
    thawed = [layer.name for layer in base.layers if _is_batch_norm(layer) and layer.trainable]
    if thawed:
        problems.append(
            Problem(
                "BatchNormalization layers of the base can train",
                "every BatchNormalization layer frozen (unfreeze_last keeps them frozen)",
                f"{len(thawed)} trainable, for example {thawed[0]!r} (did you set base.trainable = True?)",
                see,
            )
        )
    found = trainable_layer_names(base) if base.trainable else []
    wanted = expected_trainable(base, n)
    if found != wanted:
        problems.append(
            Problem(
                f"not the last {n} layers of the base are the ones that train",
                f"{len(wanted)} layers with weights: {_few(wanted)}",
                f"{len(found)}: {_few(found)}",
                see,
            )
        )
    return problems


def _recompile_problems(model: keras.Model, see: str) -> list[Problem]:
    """Whether ``model``'s optimizer updates every trainable variable: ``compile`` again after unfreezing.

    Used by the fine-tuning checks of notebooks 04 and 05. Keras builds the optimizer at the first
    ``fit`` after ``compile``; a model fitted before and unfrozen since keeps an optimizer that does not
    know the unfrozen weights (Keras 3.15 does not warn).
    """
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return [Problem("the model is not compiled", "compile_classifier(model, ...)", "no optimizer", see)]
    tracked = getattr(optimizer, "_trainable_variables", None)
    if not tracked:  # not built yet (never fitted), or an optimizer that does not say: nothing to compare
        return []
    updated = {id(variable) for variable in tracked}
    missing = [v for v in model.trainable_variables if id(v) not in updated]
    if not missing:
        return []
    return [
        Problem(
            "the optimizer does not update the layers you unfroze",
            f"it updates all {len(model.trainable_variables)} trainable variables",
            f"{len(missing)} of them left out, for example {missing[0].path!r}: "
            "the model was fitted, unfrozen and fitted again without a new compile",
            see,
        )
    ]


def _learning_rate_problems(model: keras.Model, expected: float, see: str) -> list[Problem]:
    """Whether ``model`` was compiled with learning rate ``expected`` (within 1%).

    Used by the fine-tuning checks of notebooks 04 and 05.
    """
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return [Problem("the model is not compiled", "compile_classifier(model, ...)", "no optimizer", see)]
    rate = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
    if math.isclose(rate, expected, rel_tol=0.01):
        return []
    return [Problem("another learning rate", f"{expected:g}", f"{rate:g}", see)]


def _continued_problems(history: Any, previous: Any, epochs: int | None, see: str) -> list[Problem]:
    """Whether ``history`` continues ``previous`` at ``len(previous.epoch)``, for ``epochs`` epochs.

    Used by the fine-tuning checks of notebooks 04 and 05. ``epochs`` defaults to the profile's
    ``fine_tune_epochs``.
    """
    from helpers.config import load_profile

    epochs = load_profile().fine_tune_epochs if epochs is None else epochs
    start = len(previous.epoch)
    problems = []
    if not history.epoch or history.epoch[0] != start:
        first = history.epoch[0] if history.epoch else "no epoch"
        repeated = " (epoch[-1] is the last epoch already trained: it runs again)" if first == start - 1 else ""
        problems.append(
            Problem(
                "the continued fit does not start where the first one stopped",
                f"initial_epoch=len(previous.epoch) = {start}",
                f"the first epoch is {first}{repeated}",
                see,
            )
        )
    if len(history.epoch) != epochs:
        problems.append(
            Problem(
                "another number of epochs",
                f"{epochs} more epochs: epochs=initial_epoch + {epochs} (epochs is the epoch to stop at)",
                f"{len(history.epoch)}",
                see,
            )
        )
    return problems


def _validation_problems(model: keras.Model, history: Any, val_data: Any, see: str) -> list[Problem]:
    """Whether ``history``'s validation curve was measured on ``val_data`` (and not on the test set).

    Used by the checks of every exercise that trains a model. It evaluates ``model`` on ``val_data``
    once and compares the loss with the last ``val_loss`` of ``history``: the same weights on the same
    images give the same loss.
    """
    if "val_loss" not in history.history:
        return [Problem("no validation curve", "fit(..., validation_data=val_data)", "no val_loss in history", see)]
    recorded = float(history.history["val_loss"][-1])
    measured = float(model.evaluate(val_data, return_dict=True, verbose=0)["loss"])
    if math.isclose(recorded, measured, rel_tol=2e-3, abs_tol=1e-4):
        return []
    return [
        Problem(
            "the validation curve was measured on other images than the validation set",
            f"the last val_loss equals the loss on val_data ({measured:.4f})",
            f"val_loss {recorded:.4f}: was the test set (or the training set) passed as validation data?",
            see,
        )
    ]


def _few(names: Sequence[str], shown: int = 4) -> str:
    if not names:
        return "none"
    head = ", ".join(names[:shown])
    return head if len(names) <= shown else f"{head}, ... ({len(names) - shown} more)"


def _summary_of_fine_tuning(model: keras.Model, history: Any, n: int | None) -> str:
    from helpers.models import trainable_layer_names

    base = model.get_layer("base")
    layers = "every layer" if n is None else f"the last {n} layers"
    first, last = history.epoch[0] + 1, history.epoch[-1] + 1
    return (
        f"{layers} of the base ({len(trainable_layer_names(base))} with weights) train with BatchNorm frozen, "
        f"the model was recompiled, epochs {first} to {last} continue the earlier run, and the curves use "
        f"the validation set (val_accuracy {history.history['val_accuracy'][-1]:.1%})."
    )


# --- notebooks 00 to 02 -----------------------------------------------------------------------------------------


def _images_shown(fig: Any) -> int:
    """How many images a figure shows (axes holding an image)."""
    return sum(bool(ax.images) for ax in getattr(fig, "axes", []))


def _check_00_1(folder: str | Path, per_class: Mapping[str, int], images_per_epoch: int) -> list[Problem] | str:
    """Notebook 00, exercise 1: the images of each class of the 1% folder, and how many one epoch shows."""
    from helpers.data import count_images

    see = 'notebook 00, section 4 ("Walk through the folders")'
    counted = count_images(folder)
    problems = []
    if dict(per_class) != counted:
        problems.append(Problem("not the images per class of that folder", f"{counted}", f"{dict(per_class)}", see))
    if images_per_epoch != sum(counted.values()):
        problems.append(
            Problem(
                "an epoch shows the model every training image once",
                f"{sum(counted.values())} (the sum over the classes)",
                f"{images_per_epoch}",
                see,
            )
        )
    return (
        problems
        or f"{images_per_epoch} images per epoch, {min(counted.values())} to {max(counted.values())} per class."
    )


def _check_00_2(fig: Any, folder: str | Path, hardest: Sequence[str], per_class: int = 5) -> list[Problem] | str:
    """Notebook 00, exercise 2: five images of each class, and the two classes you think are hardest to tell apart."""
    import matplotlib.pyplot as plt

    from helpers.data import count_images

    see = 'notebook 00, section 5 ("Look at the images")'
    counted = count_images(folder)
    wanted = sum(min(per_class, count) for count in counted.values())
    problems = []
    if _images_shown(fig) != wanted:
        problems.append(
            Problem(f"not {per_class} images of every class", f"{wanted} images", f"{_images_shown(fig)}", see)
        )
    if len(hardest) != 2 or len(set(hardest)) != 2 or not set(hardest) <= set(counted):
        problems.append(
            Problem("two different classes of the folder", f"two of {sorted(counted)}", f"{list(hardest)}", see)
        )
    if isinstance(fig, plt.Figure):
        plt.close(fig)
    return problems or f"{wanted} images shown; hardest to tell apart, you think: {hardest[0]} and {hardest[1]}."


def _check_00_3(small: np.ndarray, large: np.ndarray, fig: Any) -> list[Problem] | str:
    """Notebook 00, exercise 3: one image at 64x64 and at 224x224, side by side."""
    see = 'notebook 00, section 6 ("One image, as numbers")'
    problems = []
    for name, image, size in (("small", small, 64), ("large", large, 224)):
        if tuple(np.shape(image)) != (size, size, 3):
            problems.append(
                Problem(f"the {name} image has another shape", f"({size}, {size}, 3)", f"{tuple(np.shape(image))}", see)
            )
    if _images_shown(fig) != 2:
        problems.append(
            Problem("not the two images side by side", "a figure with 2 images", f"{_images_shown(fig)} images", see)
        )
    ratio = (224 * 224) / (64 * 64)
    return problems or f"the 64x64 image keeps 1 pixel of every {ratio:.1f}: fine texture and small details go."


def _hub_layers(model: keras.Model) -> list[keras.layers.Layer]:
    from helpers.models import HubFeatureExtractor

    return [layer for layer in model.layers if isinstance(layer, HubFeatureExtractor)]


def _hub_pixel_problems(model: keras.Model, data: Any, see: str) -> list[Problem]:
    """Whether the pixels that reach ``model``'s TF Hub layer are in [0, 1], on one batch of ``data``.

    Hub image models expect [0, 1]; [0, 255] trains without an error and ruins the accuracy (notebook 01,
    section 10).
    """
    hubs = _hub_layers(model)
    if not hubs:
        return [
            Problem(
                "no TF Hub layer in the model",
                "a HubFeatureExtractor (hub_classifier builds one)",
                f"{[type(layer).__name__ for layer in model.layers]}",
                see,
            )
        ]
    images = next(iter(data))[0]
    into_hub = keras.Model(model.inputs, hubs[0].input)
    pixels = keras.ops.convert_to_numpy(into_hub(images, training=False))
    low, high = float(pixels.min()), float(pixels.max())
    if low >= -1e-6 and high <= 1 + 1e-6:
        return []
    return [
        Problem(
            "the hub model gets pixels outside [0, 1]",
            "[0, 1]: a Rescaling(1 / 255) layer before it",
            f"[{low:.3g}, {high:.3g}]",
            see,
        )
    ]


def _check_01_1(model: keras.Model, history: Any, val_data: Any) -> list[Problem] | str:
    """Notebook 01, exercise 1: MobileNetV2 from TF Hub, pixels in [0, 1], validated on the validation set."""
    from helpers.models import hub_handle

    see = 'notebook 01, section 7 ("Build the model: `create_model`")'
    problems = _hub_pixel_problems(model, val_data, 'notebook 01, section 10 ("Why the `Rescaling` layer matters")')
    handle = hub_handle("mobilenet_v2_100")
    used = [layer.handle for layer in _hub_layers(model)]
    if used and used[0] != handle:
        problems.append(Problem("another hub model", f"hub_handle('mobilenet_v2_100') = {handle}", used[0], see))
    if not problems:
        problems = _validation_problems(model, history, val_data, 'notebook 01, section 12 ("Compare the experiments")')
    return (
        problems or f"MobileNetV2 from TF Hub on [0, 1] pixels, val_accuracy {history.history['val_accuracy'][-1]:.1%}."
    )


_MODEL_FACTS = ("handle", "input_size", "pixel_range", "feature_length", "parameters")


def _check_01_2(found: Sequence[Mapping[str, Any]]) -> list[Problem] | str:
    """Notebook 01, exercise 2: three feature vectors the course's table does not list, with their facts."""
    from helpers.backbones import BACKBONES

    see = 'notebook 01, section 4 ("Choose a model on TensorFlow Hub / Kaggle Models")'
    known = {spec.hub_handle for spec in BACKBONES.values() if spec.hub_handle}
    problems = []
    if len(found) < 3:
        problems.append(Problem("fewer than three models", "three", f"{len(found)}", see))
    for index, facts in enumerate(found):
        missing = [key for key in _MODEL_FACTS if key not in facts]
        if missing:
            problems.append(
                Problem(f"model {index}: facts missing", f"{list(_MODEL_FACTS)}", f"missing {missing}", see)
            )
            continue
        if facts["handle"] in known:
            problems.append(
                Problem(
                    f"model {index} is in the course's table",
                    "a model BACKBONES does not list",
                    f"{facts['handle']}",
                    see,
                )
            )
        numbers = {key: facts[key] for key in ("feature_length", "parameters")}
        if not all(isinstance(value, int) and value > 0 for value in numbers.values()):
            problems.append(Problem(f"model {index}: counts", "whole numbers above 0", f"{numbers}", see))
    handles = [facts.get("handle") for facts in found]
    if len(set(handles)) != len(handles):
        problems.append(Problem("the same model twice", "three different handles", f"{handles}", see))
    return problems or f"{len(found)} models: " + "; ".join(str(facts["handle"]) for facts in found) + "."


def _check_01_3(
    model: keras.Model, photos_dir: str | Path, photo: str | Path, predicted: str, split: Mapping[str, Any]
) -> list[Problem] | str:
    """Notebook 01, exercise 3: a photo the model did not train on (not even a copy), predicted by the model."""
    from helpers.data import list_classes, load_image, sha256sum

    see = 'notebook 01, exercise 3, and notebook 00, section 4 ("Walk through the folders")'
    split_train, _ = keras.utils.image_dataset_from_directory(photos_dir, subset="both", verbose=False, **split)
    training = {Path(path).resolve() for path in split_train.file_paths}
    photo = Path(photo)
    problems = []
    if photo.resolve() in training or sha256sum(photo) in {sha256sum(path) for path in training}:
        problems.append(
            Problem(
                "the model trained on this photo",
                "a photo of the validation split, or a new one",
                f"{photo} is (a copy of) a training photo",
                see,
            )
        )
    names = list_classes(photos_dir)
    image = load_image(photo, tuple(model.input_shape[1:3]))
    expected = names[int(np.argmax(keras.ops.convert_to_numpy(model(image[None], training=False))[0]))]
    if predicted != expected:
        problems.append(Problem("not the model's prediction", f"{expected!r}", f"{predicted!r}", see))
    return problems or f"{photo.name}, a photo the model did not train on: predicted {predicted}."


_ANSWER_KEYS = ("model", "top1", "source", "date", "on_kaggle_models")


def _check_01_4(answer: Mapping[str, Any]) -> list[Problem] | str:
    """Notebook 01, exercise 4: the best ImageNet model you found, with its accuracy, source and date."""
    import datetime

    see = 'notebook 01, section 4 ("Choose a model on TensorFlow Hub / Kaggle Models")'
    missing = [key for key in _ANSWER_KEYS if key not in answer]
    if missing:
        return [Problem("facts missing", f"{list(_ANSWER_KEYS)}", f"missing {missing}", see)]
    problems = []
    top1 = answer["top1"]
    if not isinstance(top1, float | int) or not 0 < top1 <= 1:
        problems.append(Problem("top-1 accuracy as a fraction", "a number in (0, 1], 0.9 for 90%", f"{top1!r}", see))
    if not isinstance(answer["source"], str) or len(answer["source"].strip()) < 10:
        problems.append(Problem("no source", "a link or a paper that others can check", f"{answer['source']!r}", see))
    try:
        looked = datetime.date.fromisoformat(str(answer["date"]))
        if looked > datetime.date.today():
            problems.append(Problem("a date in the future", "the date of your source or lookup", f"{looked}", see))
    except ValueError:
        problems.append(Problem("not a date", '"YYYY-MM-DD"', f"{answer['date']!r}", see))
    if not isinstance(answer["on_kaggle_models"], bool):
        problems.append(Problem("is it on Kaggle Models?", "True or False", f"{answer['on_kaggle_models']!r}", see))
    return problems or (
        f"{answer['model']}: {answer['top1']:.1%} top-1, from {answer['source']} ({answer['date']}). "
        "A record without a date cannot be checked later."
    )


def _layer_types(model: keras.Model) -> list[str]:
    return [type(layer).__name__ for layer in model.layers]


def _check_02_1(model: keras.Model, history: Any, val_data: Any) -> list[Problem] | str:
    """Notebook 02, exercise 1: Dropout(0.2) between pooling and classifier, no new parameters, validated."""
    from helpers.models import count_params

    see = 'notebook 02, section 4 ("Model 0, step by step")'
    wanted = ["GlobalAveragePooling2D", "Dropout", "Dense"]
    problems = []
    if _layer_types(model)[-3:] != wanted:
        problems.append(
            Problem("not pooling, dropout, classifier at the end", f"{wanted}", f"{_layer_types(model)[-3:]}", see)
        )
    rates = [layer.rate for layer in model.layers if isinstance(layer, keras.layers.Dropout)]
    if rates != [0.2]:
        problems.append(Problem("not one Dropout(0.2)", "[0.2]", f"{rates}", see))
    head = model.layers[-1].count_params()
    if count_params(model)["trainable"] != head:
        problems.append(
            Problem(
                "more trains than the classifier",
                f"{head:,} trainable parameters (dropout has none)",
                f"{count_params(model)['trainable']:,}",
                'notebook 02, section 7 ("What trains? Parameters and trainable layers")',
            )
        )
    if not problems:
        problems = _validation_problems(
            model, history, val_data, 'notebook 02, section 9 ("Evaluate: the loss curves")'
        )
    return problems or f"Dropout(0.2) adds no parameters ({head:,} train, all in the classifier); validated."


def _check_02_2(model: keras.Model, history: Any) -> list[Problem] | str:
    """Notebook 02, exercise 2: an image input and a number input, concatenated before the classifier, trained."""
    see = 'notebook 02, section 2 ("Sequential or Functional?")'
    problems = []
    shapes = sorted(tuple(tensor.shape[1:]) for tensor in model.inputs)
    if len(model.inputs) != 2 or (1,) not in shapes:
        problems.append(
            Problem("not two inputs, one of them a single number", "an image and Input((1,))", f"{shapes}", see)
        )
    merges = [layer for layer in model.layers if isinstance(layer, keras.layers.Concatenate)]
    classifier = model.layers[-1]
    if not merges or classifier.input is not merges[-1].output:
        problems.append(
            Problem(
                "the classifier does not read the concatenation",
                "Concatenate -> classifier",
                f"{_layer_types(model)}",
                see,
            )
        )
    losses = history.history.get("loss", [])
    if not losses or not np.isfinite(losses[-1]):
        problems.append(Problem("it did not train", "a finite training loss", f"{losses}", see))
    return problems or f"two inputs {shapes} merged before the classifier; last loss {losses[-1]:.3f}."


def _check_02_3(
    max_pooled: Any, grid: np.ndarray, model: keras.Model, history: Any, val_data: Any
) -> list[Problem] | str:
    """Notebook 02, exercise 3: global max pooling is the largest value of each channel; model 0 with it."""
    see = 'notebook 02, section 6 ("From feature maps to a vector: global average pooling")'
    expected = np.max(np.asarray(grid), axis=(1, 2))
    problems = []
    if np.shape(max_pooled) != expected.shape or not np.allclose(max_pooled, expected, atol=5e-3):
        problems.append(
            Problem(
                "not the largest value of each channel",
                f"{np.round(expected, 3)}",
                f"{np.round(np.asarray(max_pooled), 3)}",
                see,
            )
        )
    if not any(isinstance(layer, keras.layers.GlobalMaxPooling2D) for layer in model.layers):
        problems.append(
            Problem(
                "the model does not pool with GlobalMaxPooling2D", "GlobalMaxPooling2D", f"{_layer_types(model)}", see
            )
        )
    if not problems:
        problems = _validation_problems(
            model, history, val_data, 'notebook 02, section 9 ("Evaluate: the loss curves")'
        )
    return problems or f"max pooling, val_accuracy {history.history['val_accuracy'][-1]:.1%}."


def _check_02_4(base: keras.Model, batch_norms: int, parameters: int) -> list[Problem] | str:
    """Notebook 02, exercise 4: the base's BatchNormalization layers, their parameters, none of them trainable."""
    see = 'notebook 02, section 5 ("Why `base(x, training=False)`?")'
    norms = [layer for layer in base.layers if _is_batch_norm(layer)]
    held = sum(layer.count_params() for layer in norms)
    problems = []
    if batch_norms != len(norms):
        problems.append(Problem("another number of BatchNormalization layers", f"{len(norms)}", f"{batch_norms}", see))
    if parameters != held:
        problems.append(
            Problem("another number of parameters in them", f"{held:,} (4 per channel)", f"{parameters:,}", see)
        )
    trainable = [layer.name for layer in norms if layer.trainable_weights]
    if trainable:
        problems.append(Problem("some of them can train", "none: the base is frozen", f"{_few(trainable)}", see))
    return problems or (
        f"{len(norms)} BatchNormalization layers hold {held:,} parameters; frozen, they keep their ImageNet "
        "statistics (training=False) and their scales and offsets (trainable=False)."
    )


# --- notebook 03 -------------------------------------------------------------------------------------------------


def _random_layers(model: keras.Model) -> list[str]:
    """The names of the augmentation layers (``Random...``) anywhere inside ``model``."""
    return [
        type(layer).__name__
        for layer in model._flatten_layers(include_self=False, recursive=True)
        if type(layer).__name__.startswith("Random")
    ]


def _frozen_base_problems(model: keras.Model, see: str) -> list[Problem]:
    from helpers.models import count_params

    head = model.layers[-1].count_params()
    if count_params(model)["trainable"] == head:
        return []
    return [
        Problem(
            "more trains than the classifier",
            f"{head:,} trainable parameters: a frozen base",
            f"{count_params(model)['trainable']:,}",
            see,
        )
    ]


def _check_03_1(model: keras.Model, history: Any, val_data: Any) -> list[Problem] | str:
    """Notebook 03, exercise 1: model 1 without augmentation, the base frozen, validated."""
    see = 'notebook 03, section 3 ("Data augmentation, as layers of the model")'
    problems = []
    if _random_layers(model):
        problems.append(
            Problem(
                "the model still augments",
                "no Random... layer (leave out augmentation=)",
                f"{_random_layers(model)}",
                see,
            )
        )
    problems += _frozen_base_problems(model, 'notebook 03, section 4 ("Model 1: 1% of the data, with augmentation")')
    if not problems:
        problems = _validation_problems(model, history, val_data, see)
    return problems or f"no augmentation, val_accuracy {history.history['val_accuracy'][-1]:.1%}: compare with model 1."


def _check_03_2(
    augmentation: keras.Model, fig: Any, model: keras.Model, history: Any, val_data: Any
) -> list[Problem] | str:
    """Notebook 03, exercise 2: the augmentation block with RandomContrast(0.2), shown, and model 2 trained with it."""
    see = 'notebook 03, section 3 ("Data augmentation, as layers of the model")'
    kinds = [type(layer).__name__ for layer in augmentation.layers]
    wanted = ["RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast"]
    problems = []
    if sorted(kinds) != sorted(wanted):
        problems.append(Problem("not the course's four layers and RandomContrast", f"{wanted}", f"{kinds}", see))
    contrast = [layer for layer in augmentation.layers if isinstance(layer, keras.layers.RandomContrast)]
    if contrast and not math.isclose(float(np.max(np.abs(contrast[0].factor))), 0.2):
        problems.append(Problem("another contrast factor", "RandomContrast(0.2)", f"{contrast[0].factor}", see))
    if _images_shown(fig) < 2:
        problems.append(
            Problem(
                "no figure of augmented images",
                "plot_augmentation(augmentation, image, n=5)",
                f"{_images_shown(fig)} images",
                see,
            )
        )
    if "RandomContrast" not in _random_layers(model):
        problems.append(
            Problem(
                "the model does not use the new block", "augmentation=... in the model", f"{_random_layers(model)}", see
            )
        )
    if not problems:
        problems = _validation_problems(model, history, val_data, see)
    return problems or f"RandomContrast(0.2) in training, val_accuracy {history.history['val_accuracy'][-1]:.1%}."


def _check_03_3(history: Any, epochs: int | None = None) -> list[Problem] | str:
    """Notebook 03, exercise 3: the cached-features head for ten times the profile's epochs, validated."""
    from helpers.config import load_profile

    see = 'notebook 03, section 9 ("Faster experiments with cached features")'
    epochs = 10 * load_profile().epochs if epochs is None else epochs
    problems = []
    if len(history.epoch) != epochs:
        problems.append(
            Problem("another number of epochs", f"{epochs} (ten times profile.epochs)", f"{len(history.epoch)}", see)
        )
    curve = history.history.get("val_accuracy", [])
    if not curve:
        problems.append(
            Problem("no validation curve", "validation_data=(val_features, val_labels)", "no val_accuracy", see)
        )
    if problems:
        return problems
    best = int(np.argmax(curve))
    return f"{epochs} epochs; validation accuracy peaked at epoch {best + 1} ({curve[best]:.1%}), last {curve[-1]:.1%}."


def _check_03_4(val_metrics: Mapping[str, float], history: Any) -> list[Problem] | str:
    """Notebook 03, exercise 4: model 2 reloaded from its checkpoint scores the validation accuracy 03 recorded."""
    see = 'notebook 03, section 5 ("Model 2: 10% of the data, with augmentation and a checkpoint")'
    recorded = float(history.history["val_accuracy"][-1])
    if math.isclose(float(val_metrics["accuracy"]), recorded, abs_tol=1e-3):
        return f"the checkpoint's weights score {recorded:.1%} on the validation set, as 03 recorded."
    return [
        Problem(
            "another accuracy than the one recorded",
            f"{recorded:.4f} (model 2's last val_accuracy)",
            f"{float(val_metrics['accuracy']):.4f}: the last epoch's checkpoint, evaluated on val_data?",
            see,
        )
    ]


def _check_03_5(fig: Any, row: Mapping[str, str]) -> list[Problem] | str:
    """Notebook 03, exercise 5: the cached-features row as a second marker on the accuracy-vs-size plot."""
    see = 'notebook 03, section 7 ("Accuracy against training-set size")'
    size, accuracy = int(row["train_images"]), float(row["val_accuracy"])
    points = [
        (x, y)
        for ax in getattr(fig, "axes", [])
        for line in ax.get_lines()
        for x, y in zip(np.atleast_1d(line.get_xdata()), np.atleast_1d(line.get_ydata()), strict=False)
    ]
    found = any(abs(float(x) / size - 1) < 0.1 and math.isclose(float(y), accuracy, abs_tol=1e-6) for x, y in points)
    curves = [label for ax in getattr(fig, "axes", []) for label in ax.get_legend_handles_labels()[1]]
    if found and len([label for label in curves if label != "chance"]) >= 2:
        return f"the cached head ({accuracy:.1%} at {size} images) sits beside the curve of models on images."
    return [
        Problem(
            "the cached-features point is not on the plot",
            f"a marker at ({size}, {accuracy:.3f}), a second curve",
            f"curves {curves}",
            see,
        )
    ]


# --- notebook 06 -------------------------------------------------------------------------------------------------


def _check_06_1(latency: Mapping[str, float], size: int, fig: Any) -> list[Problem] | str:
    """Notebook 06, exercise 1: InceptionV3 and Xception timed beside the others at 75 px or more, plotted."""
    from helpers.backbones import PUBLISHED
    from helpers.plotting import pareto_front

    see = 'notebook 06, section 3 ("The `keras.applications` models: published figures and what your machine measures")'
    problems = []
    missing = [name for name in ("InceptionV3", "Xception") if name not in latency]
    if missing or len(latency) < 8:
        problems.append(
            Problem("not every model timed", "the lesson's models, InceptionV3 and Xception", f"{sorted(latency)}", see)
        )
    if size < 75:
        problems.append(Problem("images too small for InceptionV3", "at least 75 px", f"{size} px", see))
    if not all(float(ms) > 0 for ms in latency.values()):
        problems.append(Problem("a latency that is not a time", "milliseconds above 0", f"{dict(latency)}", see))
    if not getattr(fig, "axes", None) or not fig.axes[0].get_title():
        problems.append(Problem("no titled figure", "plot_accuracy_vs_latency(...)", f"{type(fig).__name__}", see))
    if problems:
        return problems
    names = [name for name in latency if name in PUBLISHED]
    front = [names[i] for i in pareto_front([latency[n] for n in names], [PUBLISHED[n]["top1"] for n in names])]
    return f"{len(latency)} models at {size} px; on the Pareto front here: {', '.join(front)}."


def _preprocessing_output(layer: keras.layers.Layer) -> np.ndarray:
    pixels = np.array([[[[0.0, 127.5, 255.0]]]], dtype="float32")
    return keras.ops.convert_to_numpy(layer(pixels))


def _same_preprocessing(model: keras.Model, backbone: str) -> bool:
    """Whether ``model``'s layer named ``rescaling`` does what ``rescaling_layer(backbone)`` does."""
    from helpers.models import rescaling_layer

    try:
        layer = model.get_layer("rescaling")
    except ValueError:
        return False
    return bool(np.allclose(_preprocessing_output(layer), _preprocessing_output(rescaling_layer(backbone)), atol=1e-4))


def _check_06_2(model: keras.Model, history: Any, val_data: Any) -> list[Problem] | str:
    """Notebook 06, exercise 2: the VGG recipe with ResNet50, its "caffe" preprocessing and global average pooling."""
    from helpers.models import count_params, resolve_backbone

    see = 'notebook 06, section 5 ("`preprocess_input`: what each family expects")'
    backbone = resolve_backbone("resnet50")
    problems = []
    if not _same_preprocessing(model, backbone):
        problems.append(
            Problem(
                "not the backbone's own preprocessing",
                f"rescaling_layer({backbone!r}), named 'rescaling'",
                f"{_layer_types(model)}",
                see,
            )
        )
    if "GlobalAveragePooling2D" not in _layer_types(model):
        problems.append(
            Problem(
                "no global average pooling",
                "GlobalAveragePooling2D before the dense layers",
                f"{_layer_types(model)}",
                'notebook 06, section 4 ("The classic VGG16 recipe")',
            )
        )
    dense = sum(layer.count_params() for layer in model.layers if isinstance(layer, keras.layers.Dense))
    if count_params(model)["trainable"] != dense:
        problems.append(
            Problem(
                "the base trains",
                f"{dense:,} trainable parameters (the dense head)",
                f"{count_params(model)['trainable']:,}",
                see,
            )
        )
    if not problems:
        problems = _validation_problems(model, history, val_data, see)
    return problems or f"{backbone} with its own preprocessing, val_accuracy {history.history['val_accuracy'][-1]:.1%}."


def _check_06_3(right: keras.Model, wrong: keras.Model, backbone: str) -> list[Problem] | str:
    """Notebook 06, exercise 3: one frozen-backbone model with the backbone's preprocessing, one with a wrong one."""
    see = 'notebook 06, section 5 ("`preprocess_input`: what each family expects")'
    problems = []
    if not _same_preprocessing(right, backbone):
        problems.append(
            Problem(
                "the right model's preprocessing is not the backbone's",
                f"rescaling_layer({backbone!r}) named 'rescaling'",
                f"{_layer_types(right)}",
                see,
            )
        )
    if _same_preprocessing(wrong, backbone):
        problems.append(
            Problem(
                "the wrong model preprocesses like the right one",
                "another mode",
                "the same output on the same pixels",
                see,
            )
        )
    return problems or "two preprocessings; compare their validation accuracies: a head cannot undo the mismatch."


def _check_06_4(grayscale: Callable[..., Any], heavy_blur: Callable[..., Any], data: Any) -> list[Problem] | str:
    """Notebook 06, exercise 4: a grayscale and a heavy-blur degradation of the images, labels kept."""
    see = 'notebook 06, section 7 ("When transfer learning fails")'
    images, labels = next(iter(data))
    problems = []
    gray, gray_labels = grayscale(images, labels)
    gray = keras.ops.convert_to_numpy(gray)
    if gray.shape != tuple(images.shape) or not np.allclose(gray[..., 0], gray[..., 1], atol=1e-3):
        problems.append(
            Problem("not three equal channels", f"shape {tuple(images.shape)}, R = G = B", f"shape {gray.shape}", see)
        )
    blurred, blur_labels = heavy_blur(images, labels)
    blurred, pixels = keras.ops.convert_to_numpy(blurred), keras.ops.convert_to_numpy(images)

    def roughness(x: np.ndarray) -> float:
        return float(np.abs(np.diff(x, axis=1)).mean() + np.abs(np.diff(x, axis=2)).mean())

    if blurred.shape != pixels.shape or roughness(blurred) > 0.5 * roughness(pixels):
        problems.append(
            Problem(
                "not a heavy blur",
                "neighbouring pixels at least twice as close as before",
                f"{roughness(blurred):.2f} against {roughness(pixels):.2f}",
                see,
            )
        )
    same = np.array_equal(keras.ops.convert_to_numpy(gray_labels), keras.ops.convert_to_numpy(labels))
    if not same or not np.array_equal(keras.ops.convert_to_numpy(blur_labels), keras.ops.convert_to_numpy(labels)):
        problems.append(Problem("the labels changed", "the same labels", "other labels", see))
    return problems or "both degradations keep the labels; compare the accuracy each one costs."


# --- notebook 04 -------------------------------------------------------------------------------------------------

_SEE_04_UNFREEZE = 'notebook 04, section 4 ("Unfreeze the top of the backbone")'
_SEE_04_RECOMPILE = 'notebook 04, section 5 ("Recompile, with a 10× lower learning rate")'
_SEE_04_CONTINUE = 'notebook 04, section 6 ("Model 3: fine-tune the last 10 layers on 10% of the data")'
_SEE_04_VALIDATION = 'notebook 04, section 10 ("Where the chosen model goes wrong")'


def _check_04_1(
    model: keras.Model,
    history: Any,
    n: int,
    previous: Any,
    val_data: Any,
    epochs: int | None = None,
    learning_rate: float = 1e-4,
) -> list[Problem] | str:
    """Notebook 04, exercise 1: the last ``n`` layers fine-tuned from Model 2, recompiled, continued, validated."""
    problems = [
        *_trainable_problems(model, n, _SEE_04_UNFREEZE),
        *_recompile_problems(model, _SEE_04_RECOMPILE),
        *_learning_rate_problems(model, learning_rate, _SEE_04_RECOMPILE),
        *_continued_problems(history, previous, epochs, _SEE_04_CONTINUE),
    ]
    if not problems:
        problems = _validation_problems(model, history, val_data, _SEE_04_VALIDATION)
    return problems or _summary_of_fine_tuning(model, history, n)


def _check_04_2(pred_and_plot: Callable[..., Any], model: keras.Model, data_dir: Sequence[Path]) -> list[Problem] | str:
    """Notebook 04, exercise 2: ``pred_and_plot`` shows and returns a seeded prediction of one image."""
    import matplotlib.pyplot as plt

    from helpers.data import list_classes, load_image

    see = 'notebook 04, exercise 2 and notebook 02, section 10 ("Look at some predictions")'
    train_dir, val_dir, _ = (Path(folder) for folder in data_dir)
    names = list_classes(val_dir)
    problems: list[Problem] = []
    result = pred_and_plot(model, data_dir, class_name=names[0])
    if not (isinstance(result, tuple) and len(result) == 5):
        return [
            Problem(
                "pred_and_plot returns something else",
                "(fig, path, true, predicted, confidence)",
                f"{type(result).__name__}",
                see,
            )
        ]
    fig, path, true_class, predicted, confidence = result
    path = Path(path)
    if path.parent != val_dir / names[0] or true_class != names[0]:
        problems.append(
            Problem(
                "not a validation image of the class asked for",
                f"an image in {val_dir / names[0]}",
                f"{path} (true class {true_class!r})",
                see,
            )
        )
    if predicted not in names or not 0 <= float(confidence) <= 1:
        problems.append(
            Problem(
                "the prediction is not a class and a probability",
                f"one of {names}, in [0, 1]",
                f"{predicted!r}, {confidence!r}",
                see,
            )
        )
    if not isinstance(fig, plt.Figure) or not any(ax.get_title() or ax.images for ax in fig.axes):
        problems.append(
            Problem(
                "no figure of the image", "a matplotlib Figure showing the image, titled", f"{type(fig).__name__}", see
            )
        )
    if isinstance(fig, plt.Figure):
        plt.close(fig)
    if not problems:
        image = load_image(path, tuple(model.input_shape[1:3]))
        expected = names[int(np.argmax(keras.ops.convert_to_numpy(model(image[None], training=False))[0]))]
        if predicted != expected:
            problems.append(Problem("the predicted class is not the model's", f"{expected!r}", f"{predicted!r}", see))
    _, train_path, train_class, _, _ = pred_and_plot(model, data_dir, split="train")
    if Path(train_path).parent != train_dir / train_class:
        problems.append(
            Problem(
                'split="train" does not pick a training image', f"an image in {train_dir}/<class>", f"{train_path}", see
            )
        )
    plt.close("all")
    return problems or f"{path.name}: true {true_class}, predicted {predicted} ({float(confidence):.0%})."


_VERDICTS = ("model error", "wrong label", "ambiguous")
_FIRST_CHANGES = ("more data", "more layers", "cleaner labels")


def _check_04_3(verdicts: Mapping[int, str], first_change: str, shown: int = 9) -> list[Problem] | str:
    """Notebook 04, exercise 3: a verdict for each highest-loss image, and what to change first."""
    see = 'notebook 04, section 10 ("Where the chosen model goes wrong")'
    problems = []
    missing = [index for index in range(shown) if index not in verdicts]
    unknown = {index: verdict for index, verdict in verdicts.items() if verdict not in _VERDICTS}
    if missing:
        problems.append(
            Problem(
                f"not every one of the {shown} images has a verdict",
                f"keys 0 to {shown - 1}",
                f"missing {missing}",
                see,
            )
        )
    if unknown:
        problems.append(
            Problem("a verdict the exercise does not offer", f"one of {list(_VERDICTS)}", f"{unknown}", see)
        )
    if first_change not in _FIRST_CHANGES:
        problems.append(Problem("what to change first", f"one of {list(_FIRST_CHANGES)}", repr(first_change), see))
    if problems:
        return problems
    counts = {verdict: sum(v == verdict for v in verdicts.values()) for verdict in _VERDICTS}
    if first_change == "cleaner labels" and counts["wrong label"] == 0:
        return [
            Problem(
                "cleaner labels first, but no image has a wrong label",
                "a change your verdicts support",
                f"{counts}",
                see,
            )
        ]
    return f"{counts}; first: {first_change}. Compare with the solutions notebook's reading."


# --- notebook 05 -------------------------------------------------------------------------------------------------

_SEE_05_RULES = 'notebook 05, section 7 ("Fine-tune the whole model")'
_SEE_05_TOP = 'notebook 05, section 8 ("Fine-tune only the top of the base")'
_SEE_05_CHOOSE = 'notebook 05, section 9 ("Evaluate: four models side by side")'


def _check_05_1(
    model: keras.Model,
    history: Any,
    n: int | None,
    previous: Any,
    val_data: Any,
    learning_rate: float = 1e-5,
    epochs: int | None = None,
) -> list[Problem] | str:
    """Notebook 05, exercises 1 and 2: the last ``n`` layers (all if ``None``) fine-tuned from the head-only model."""
    see = _SEE_05_RULES if n is None else _SEE_05_TOP
    problems = [
        *_trainable_problems(model, n, see),
        *_recompile_problems(model, _SEE_05_RULES),
        *_learning_rate_problems(model, learning_rate, _SEE_05_RULES),
        *_continued_problems(history, previous, epochs, _SEE_05_RULES),
    ]
    if not problems:
        problems = _validation_problems(model, history, val_data, _SEE_05_CHOOSE)
    return problems or _summary_of_fine_tuning(model, history, n)


def _check_05_2(
    model: keras.Model, history: Any, previous: Any, val_data: Any, epochs: int | None = None
) -> list[Problem] | str:
    """Notebook 05, exercise 2: the whole model fine-tuned with a learning rate of 1e-4."""
    return _check_05_1(model, history, None, previous, val_data, learning_rate=1e-4, epochs=epochs)


def _check_05_3(folder: str | Path, class_names: Sequence[str], sizes: Mapping[str, int]) -> list[Problem] | str:
    """Notebook 05, exercise 3: a folder of your own two classes, loaded with a validation set from ``train/``."""
    from helpers.data import count_images, list_classes, validation_per_class

    see = 'notebook 05, section 2 ("Examine and understand the data")'
    folder = Path(folder)
    problems = []
    if not (folder / "train").is_dir() or not (folder / "test").is_dir():
        inside = sorted(path.name for path in folder.iterdir()) if folder.is_dir() else "no folder"
        return [
            Problem("not a train/ and test/ folder", f"{folder}/train/<class>, {folder}/test/<class>", f"{inside}", see)
        ]
    classes = list_classes(folder / "train")
    if list(class_names) != classes or len(classes) != 2:
        problems.append(
            Problem("the class names are not the folder's two classes", f"{classes}", f"{list(class_names)}", see)
        )
    set_aside = validation_per_class(min(count_images(folder / "test").values())) * len(classes)
    if sizes.get("val") != set_aside:
        problems.append(
            Problem(
                "the validation set is not the one two_class_data sets aside from train/",
                f"{set_aside} images",
                f"{sizes.get('val')}",
                see,
            )
        )
    return problems or f"{classes} with {dict(sizes)} images per split; {set_aside} set aside for validation."


def _check_05_4(model: keras.Model, history: Any, val_data: Any) -> list[Problem] | str:
    """Notebook 05, exercise 4: one sigmoid unit, binary cross-entropy, 05's Dropout(0.2), a frozen base."""
    see = 'notebook 05, section 4 ("Compose the model")'
    last = model.layers[-1]
    problems = []
    activation = getattr(getattr(last, "activation", None), "__name__", "")
    if not isinstance(last, keras.layers.Dense) or last.units != 1 or activation != "sigmoid":
        problems.append(
            Problem(
                "the head is not one sigmoid unit",
                'Dense(1, activation="sigmoid")',
                f"{type(last).__name__} {getattr(last, 'units', '?')} {activation}",
                see,
            )
        )
    loss = getattr(model, "loss", None)
    loss_name = getattr(loss, "name", str(loss))
    if "binary" not in str(loss_name):
        problems.append(Problem("not binary cross-entropy", "keras.losses.BinaryCrossentropy()", f"{loss_name}", see))
    rates = [layer.rate for layer in model.layers if isinstance(layer, keras.layers.Dropout)]
    if rates != [0.2]:
        problems.append(Problem("not 05's Dropout(0.2) before the head", "[0.2]", f"{rates}", see))
    if problems:
        return problems
    problems = [*_trainable_problems(model, 0, see), *_validation_problems(model, history, val_data, _SEE_05_CHOOSE)]
    return problems or f"one sigmoid unit, val_accuracy {history.history['val_accuracy'][-1]:.1%}."
