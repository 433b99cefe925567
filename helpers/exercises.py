"""Exercises that check themselves: ``check()``, ``hint()`` and ``solution()`` for each exercise of a lesson.

Each lesson's exercise cells end with a check call, with blanks (``____``) for you to fill in::

    from helpers.exercises import ____, exercises

    ex = exercises("04")
    ...  # your code, with the blanks filled in
    ex.e1.check(model, history, n=20, previous=history_2, val_data=val_data)

A check inspects what you built or ran (the model, its optimizer, the history of its ``fit``),
not a typed answer. When something is not right yet it raises :class:`NotYet`, which says what was
expected, what it found and where the lesson explains it. ``ex.e1.hint()`` prints a hint and
``ex.e1.solution()`` where the worked solution is. Checks never look at the test set.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from helpers._internal import checks
from helpers._internal.checks import Problem as Problem

__all__ = ["Blank", "Exercise", "FillIn", "NotYet", "____", "exercises"]


class FillIn(Exception):
    """Raised when a blank (``____``) of an exercise cell is used before it is filled in.

    Used by :class:`helpers.exercises.Exercise` (notebook 04 solutions, exercise 1).
    """


_FILL_IN = (
    "Fill in the blanks (____) first: replace each one by your answer and run the cell again. "
    "Stuck? The exercise's hint() gives a hint, solution() says where the worked solution is."
)


def _refuse(*_args: Any, **_kwargs: Any) -> Any:
    raise FillIn(_FILL_IN)


class Blank:
    """The blank ``____`` of an exercise cell: any use of it raises :class:`FillIn` with a friendly message.

    Used by :class:`helpers.exercises.Exercise` (notebook 04 solutions, exercise 1); the lessons' exercise cells
    leave blanks of it for you to fill in.

    Example:
        >>> ____ + 1
        Traceback (most recent call last):
        ...
        helpers.exercises.FillIn: Fill in the blanks (____) first: replace each one by your answer and run ...
    """

    def __repr__(self) -> str:
        return "____"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # copy, pickle and IPython probe for special names
            raise AttributeError(name)
        raise FillIn(_FILL_IN)

    __str__ = __format__ = __call__ = __iter__ = __len__ = __getitem__ = _refuse
    __bool__ = __index__ = __int__ = __float__ = __neg__ = __pos__ = __abs__ = _refuse
    __lt__ = __le__ = __gt__ = __ge__ = __eq__ = __ne__ = _refuse
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _refuse
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __pow__ = __rpow__ = _refuse
    __mod__ = __rmod__ = __array__ = __fspath__ = __hash__ = __instancecheck__ = __subclasscheck__ = _refuse
    __setattr__ = __delattr__ = _refuse


#: The blank of an exercise cell: replace it by your answer. Used by :class:`helpers.exercises.Exercise`
#: (notebook 04 solutions, exercise 1).
____ = Blank()


class NotYet(AssertionError):
    """Raised by :meth:`Exercise.check` when the answer is not right yet: what was expected, what was found, why.

    Used by :class:`helpers.exercises.Exercise` (notebook 04 solutions, exercise 1).
    """


Checker = Callable[..., "list[Problem] | str"]


def _has_blank(value: Any, depth: int = 3) -> bool:
    """Whether ``value`` is a blank, or a list, tuple, set or dict that holds one (up to ``depth`` levels deep)."""
    if isinstance(value, Blank):
        return True
    if isinstance(value, Mapping):
        value = [*value.keys(), *value.values()]
    if depth == 0 or not isinstance(value, list | tuple | set):
        return False
    return any(_has_blank(item, depth - 1) for item in value)


@dataclass(frozen=True)
class Exercise:
    """One exercise of a lesson: ``check(...)`` what you built, a ``hint()``, and where its ``solution()`` is.

    Used by :func:`helpers.exercises.exercises` (notebook 04 solutions, exercise 1).
    """

    lesson: str
    number: int
    title: str
    checker: Checker
    hint_text: str
    solution_notebook: str

    @property
    def label(self) -> str:
        """``exercise 04.1 ("Unfreeze more layers")``."""
        return f'exercise {self.lesson}.{self.number} ("{self.title}")'

    def check(self, *args: Any, **kwargs: Any) -> None:
        """Check your answer: print what is right, or raise :class:`NotYet` listing each :class:`Problem` found.

        An argument that is (or holds) a :class:`Blank` (``____``) raises :class:`FillIn`: fill it in first.
        """
        if any(_has_blank(value) for value in (*args, *kwargs.values())):
            raise FillIn(_FILL_IN)
        outcome = self.checker(*args, **kwargs)
        if isinstance(outcome, str):
            print(f"Correct, {self.label}: {outcome}")
            return
        shown = "\n".join(f"- {problem}" for problem in outcome)
        raise NotYet(f"Not yet, {self.label}:\n{shown}\nStuck? Run hint().") from None

    def hint(self) -> None:
        """Print a hint for this exercise."""
        print(f"Hint, {self.label}: {self.hint_text}")

    def solution(self) -> None:
        """Print where this exercise's worked solution is."""
        print(
            f"Solution, {self.label}: notebooks/solutions/{self.solution_notebook}, section "
            f'"Exercise {self.number}. {self.title}". Its code fills the same blanks and passes the same check.'
        )


# --- the index ---------------------------------------------------------------------------------------------------

_SOLUTIONS = {
    "00": "00_setup_and_data_solutions.ipynb",
    "01": "01_feature_extraction_with_tf_hub_solutions.ipynb",
    "02": "02_functional_api_model_0_solutions.ipynb",
    "03": "03_data_size_experiments_solutions.ipynb",
    "04": "04_fine_tuning_solutions.ipynb",
    "05": "05_mobilenetv2_cats_vs_dogs_solutions.ipynb",
    "06": "06_choosing_a_base_model_solutions.ipynb",
}

_EXERCISES: dict[str, list[tuple[str, Checker, str]]] = {
    "00": [
        (
            "Walk through the 1% folder",
            checks._check_00_1,
            "count_images(folder) returns {class: images}; one epoch shows every training image once.",
        ),
        (
            "Five images per class",
            checks._check_00_2,
            "plot_class_examples(train_dir, per_class=5); then name two classes of list_classes(train_dir).",
        ),
        (
            "64 against 224 pixels",
            checks._check_00_3,
            "load_image(path, (64, 64)) and load_image(path, (224, 224)), then plot_image_grid of both, ncols=2.",
        ),
    ],
    "01": [
        (
            "MobileNetV2 from TF Hub",
            checks._check_01_1,
            'hub_classifier(hub_handle("mobilenet_v2_100"), num_classes, profile.input_shape) rescales to [0, 1] '
            'for you; then fit_and_record(model, splits, experiment="01s_mobilenet_v2_100").',
        ),
        (
            "Find three other models",
            checks._check_01_2,
            "each model's page on Kaggle Models gives its input size, pixel range and output; the number of "
            "parameters is HubFeatureExtractor(handle).module_params once you can load it.",
        ),
        (
            "Your own photos",
            checks._check_01_3,
            "photo_folder(..., validation_split=0.2, seed=...) keeps a fifth of your photos out of training: "
            "predict one of those, or a new photo.",
        ),
        (
            "The best ImageNet model today",
            checks._check_01_4,
            "timm's results tables (huggingface/pytorch-image-models, results/) list ImageNet top-1 for every "
            "model they ship; write the date you looked.",
        ),
    ],
    "02": [
        (
            "Dropout",
            checks._check_02_1,
            'keras.layers.Dropout(0.2, name="dropout") goes between the pooling layer and the classifier.',
        ),
        (
            "Two inputs",
            checks._check_02_2,
            'keras.Input((1,), name="brightness"), keras.layers.Concatenate()([pooled, brightness]), and a '
            "dataset whose inputs are a dict {'image': ..., 'brightness': ...}.",
        ),
        (
            "Max pooling",
            checks._check_02_3,
            "keras.layers.GlobalMaxPooling2D() keeps the largest value of each channel: tf.reduce_max over axes "
            "1 and 2.",
        ),
        (
            "Count the BatchNormalization layers",
            checks._check_02_4,
            "isinstance(layer, keras.layers.BatchNormalization) over base.layers; layer.count_params().",
        ),
    ],
    "03": [
        (
            "Model 1 without augmentation",
            checks._check_03_1,
            "build_feature_extractor(backbone, profile.input_shape, num_classes) without augmentation=, trained on "
            "train_data[1] like model 1.",
        ),
        (
            "Add `RandomContrast`",
            checks._check_03_2,
            "keras.Sequential([*data_augmentation(seed).layers, keras.layers.RandomContrast(0.2)]), then "
            "build_feature_extractor(..., augmentation=that block).",
        ),
        (
            "The cached head for ten times as many epochs",
            checks._check_03_3,
            "epochs=10 * profile.epochs in the head's fit, with validation_data=(val_features, val_labels).",
        ),
        (
            "Reload Model 2 and check its validation accuracy",
            checks._check_03_4,
            'latest_checkpoint("03_model_2_10_percent_aug", variant) holds the last epoch\'s weights; evaluate on '
            "val_data, not test_data.",
        ),
        (
            "The cached head on the accuracy-vs-size plot",
            checks._check_03_5,
            "a second curve in plot_accuracy_vs_size: ([train images of the row], [its val_accuracy]).",
        ),
    ],
    "04": [
        (
            "Unfreeze more layers",
            checks._check_04_1,
            "unfreeze_last(base, n) first, then compile_classifier(model, learning_rate=1e-4): the order matters. "
            "Continue at initial_epoch=len(history_2.epoch) and stop at epochs=initial_epoch + "
            "profile.fine_tune_epochs.",
        ),
        (
            "`pred_and_plot`",
            checks._check_04_2,
            "zip the three folders with ('train', 'val', 'test') to pick one; list_images(folder / class_name) "
            "and rng.choice; load_image(path, profile.image_size); model(image[None], training=False).",
        ),
        (
            "The mistakes",
            checks._check_04_3,
            "index i is the i-th image of plot_top_losses (highest loss first). A dish a person would name "
            "the other way is a wrong label; one that looks like both classes is ambiguous.",
        ),
    ],
    "05": [
        (
            "Other depths",
            checks._check_05_1,
            "rebuild the head-only model and load its checkpoint for each run, unfreeze_last(base, n), "
            "compile_classifier(model, learning_rate=1e-5), then fit_and_record with "
            "initial_epoch=len(history_head.epoch).",
        ),
        (
            "Another learning rate",
            checks._check_05_2,
            "the same as exercise 1 with every layer of the base: n = len(base.layers), learning rate 1e-4.",
        ),
        (
            "Your own two classes",
            checks._check_05_3,
            "dataclasses.replace(profile, data_dir=folder), then two_class_data(that profile): it returns the "
            "splits, the class names and the sizes.",
        ),
        (
            "One logit instead of two softmax units",
            checks._check_05_4,
            'Dense(1, activation="sigmoid") after Dropout(0.2); compile with keras.losses.BinaryCrossentropy(); '
            "map the labels to labels[:, -1:].",
        ),
    ],
    "06": [
        (
            "Two more models on the latency plot",
            checks._check_06_1,
            "build every model at max(profile.image_size[0], 75) px, time it with inference_ms, then "
            "plot_accuracy_vs_latency with PUBLISHED[name]['top1'].",
        ),
        (
            "The ResNet50 recipe",
            checks._check_06_2,
            'rescaling_layer(resolve_backbone("resnet50")) is the "caffe" preprocess_input, as a layer; the recipe '
            "with GlobalAveragePooling2D instead of Flatten.",
        ),
        (
            "The wrong preprocessing",
            checks._check_06_3,
            "rescaling_layer(backbone) for the right one; PreprocessInput with a mode the backbone does not use "
            "for the wrong one, both named 'rescaling'.",
        ),
        (
            "Two more degradations",
            checks._check_06_4,
            "tf.image.rgb_to_grayscale then grayscale_to_rgb; tf.nn.avg_pool2d with a large ksize, strides=1, "
            'padding="SAME".',
        ),
    ],
}


def exercises(lesson: str) -> SimpleNamespace:
    """The exercises of a lesson as ``e1``, ``e2``, ...: each with ``check(...)``, ``hint()`` and ``solution()``.

    Taught in notebook 04 solutions, exercise 1 ("Unfreeze more layers"); every checked lesson's "Exercises"
    cells start with it.

    Example:
        >>> ex = exercises("04")
        >>> ex.e1.title
        'Unfreeze more layers'
    """
    if lesson not in _EXERCISES:
        raise KeyError(f"No checked exercises for lesson {lesson!r}; lessons with checks: {sorted(_EXERCISES)}")
    return SimpleNamespace(
        **{
            f"e{number}": Exercise(lesson, number, title, checker, hint, _SOLUTIONS[lesson])
            for number, (title, checker, hint) in enumerate(_EXERCISES[lesson], start=1)
        }
    )


def lessons_with_checks() -> list[str]:
    """The lessons whose exercises have checks, in order.

    Not used in a lesson; the course's tests read it to find the lessons whose exercise cells end with a check.
    """
    return sorted(_EXERCISES)
