"""Backbones, feature extractors, fine-tuning and a Keras 3 TF Hub layer.

The course builds every transfer-learning model the same way, with the
Functional API::

    Input (pixels 0-255) -> [augmentation] -> rescaling the backbone expects
        -> base(x, training=False) -> GlobalAveragePooling2D -> [Dropout] -> Dense(softmax)

Layers get fixed names (``augmentation``, ``rescaling``, ``base``, ``pooling``,
``dropout``, ``classifier``) so a checkpoint saved by one notebook loads into the
same model rebuilt in another.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras

from helpers._internal import network
from helpers._internal.device import on_one_replica as on_one_replica  # noqa: F401 (07 and the appendix call it)
from helpers._internal.network import explained as explained  # noqa: F401 (01 wraps hub downloads in it)
from helpers.backbones import BACKBONES, HUB, Backbone, short_name  # noqa: F401 (re-exported for the notebooks)


def resolve_backbone(default: str) -> str:
    """The backbone a notebook should use: ``COURSE_BACKBONE`` if set, else the notebook's ``default``.

    Taught in notebook 02, section 4 ("Model 0, step by step").

    Example:
        >>> resolve_backbone("efficientnet_b0")  # doctest: +SKIP
        'efficientnet_b0'
        >>> resolve_backbone("efficientnet_b0") in BACKBONES
        True
    """
    from helpers.config import load_profile

    name = load_profile().backbone or default
    if name not in BACKBONES:
        raise ValueError(f"Unknown backbone {name!r}; choose one of {sorted(BACKBONES)}.")
    return name


def hub_handle(default: str) -> str:
    """The TF Hub feature-vector handle to use: ``COURSE_BACKBONE``'s twin if set, else ``default``.

    Taught in notebook 01, section 4 ("Choose a model on TensorFlow Hub / Kaggle Models").

    ``default`` may be a backbone name or a handle.

    Example:
        >>> hub_handle("resnet50_v2")  # doctest: +SKIP
        'https://tfhub.dev/google/imagenet/resnet_v2_50/feature_vector/5'
        >>> hub_handle("resnet50_v2").startswith("https://tfhub.dev/google/imagenet/")
        True
    """
    from helpers.config import load_profile

    if default not in BACKBONES and "/" not in default:  # checked even when COURSE_BACKBONE overrides it
        raise ValueError(f"{default!r} is neither a backbone ({sorted(BACKBONES)}) nor a handle")
    chosen = load_profile().backbone
    if chosen:
        return BACKBONES[chosen].hub_handle
    return BACKBONES[default].hub_handle if default in BACKBONES else default


#: The offline route for ``keras.applications`` weights (the end of every :func:`load_backbone` download error).
KERAS_CACHE_HINT = (
    "put the weight file in the Keras cache (KERAS_HOME/models) or choose a backbone whose weights are cached "
    "there with COURSE_BACKBONE."
)


def load_backbone(name: str, input_shape: tuple[int, int, int], weights: str | None = "imagenet") -> keras.Model:
    """A ``keras.applications`` model without its classification head, named ``base``.

    Taught in notebook 04, section 8 ("Why BatchNorm stays in inference mode").

    Example:
        >>> base = load_backbone("mobilenet_v2_035", (224, 224, 3))  # doctest: +SKIP
        >>> base.output_shape  # doctest: +SKIP
        (None, 7, 7, 1280)
    """
    spec = BACKBONES[name]
    constructor = getattr(keras.applications, spec.application)
    try:
        base = constructor(include_top=False, weights=weights, input_shape=input_shape, **spec.kwargs)
    except Exception as err:  # keras.utils.get_file raises Exception("URL fetch failure on <url>: 403 -- Forbidden")
        if weights is None or network.classify(err) is None:
            raise
        url = next(iter(re.findall(r"URL fetch failure on (\S+?):? ", str(err))), "Keras' weight storage")
        message = network.explain(err, url, f"the ImageNet weights of {spec.application}", hint=KERAS_CACHE_HINT)
        raise ConnectionError(message) from err
    base.name = "base"
    base.course_backbone = name  # what backbone_of reads
    return base


def backbone_of(model: keras.Model) -> str:
    """The course backbone inside ``model`` (a :func:`load_backbone` base or a hub layer's handle); ``""`` if none.

    Used by :func:`helpers.training.fit_and_record` (notebook 01, section 8).

    ``fit_and_record`` files each result row under it.

    Example:
        >>> backbone_of(keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]))
        ''
    """
    for layer in model._flatten_layers(include_self=True, recursive=True):
        if getattr(layer, "course_backbone", ""):
            return layer.course_backbone
        if isinstance(layer, HubFeatureExtractor):
            return short_name(layer.handle)
        if layer is not model and isinstance(layer, keras.Model) and _application_backbone(layer.name):
            return _application_backbone(layer.name)  # a keras.applications model built in the notebook itself
    return ""


def _application_backbone(name: str) -> str:
    """The backbone whose ``keras.applications`` model Keras names ``name`` (``"mobilenetv2_0.35_224"``), or ``""``."""
    name = name.lower()
    for backbone, spec in BACKBONES.items():
        family = spec.application.lower()
        alpha = spec.kwargs.get("alpha")
        if alpha is None and name == family or alpha is not None and name.startswith(f"{family}_{alpha:0.2f}_"):
            return backbone
    return ""


@keras.saving.register_keras_serializable(package="helpers")
class PreprocessInput(keras.layers.Layer):
    """A family's ``preprocess_input`` as a layer, so it travels inside the model and prediction can't skip it.

    Taught in notebook 06, section 5 ("`preprocess_input`: what each family expects").

    ``mode`` is ``"tf"`` (to [-1, 1]), ``"caffe"`` (RGB to BGR, minus the ImageNet mean per channel) or
    ``"torch"`` (to [0, 1], minus the ImageNet mean, divided by its standard deviation), exactly as
    ``keras.applications.imagenet_utils.preprocess_input(x, mode=mode)`` on pixels in [0, 255]. Channel
    swaps and per-channel statistics are not a single scale and offset, hence a layer of its own.

    Example:
        >>> import numpy as np
        >>> red = np.array([[[[255.0, 0.0, 0.0]]]])  # one red pixel, RGB
        >>> [round(float(v), 3) for v in np.asarray(PreprocessInput("caffe")(red))[0, 0, 0]]  # BGR, mean removed
        [-103.939, -116.779, 131.32]
    """

    CAFFE_MEAN_RGB = (123.68, 116.779, 103.939)  # on [0, 255]
    TORCH_MEAN_RGB = (0.485, 0.456, 0.406)  # on [0, 1]
    TORCH_STD_RGB = (0.229, 0.224, 0.225)

    def __init__(self, mode: str, **kwargs: Any) -> None:
        if mode not in ("tf", "caffe", "torch"):
            raise ValueError(f"mode must be 'tf', 'caffe' or 'torch', got {mode!r}")
        super().__init__(**kwargs)
        self.mode = mode

    def call(self, inputs):
        x = keras.ops.cast(inputs, "float32")
        if self.mode == "tf":
            return x / 127.5 - 1.0
        if self.mode == "torch":
            mean, std = (keras.ops.convert_to_tensor(v) for v in (self.TORCH_MEAN_RGB, self.TORCH_STD_RGB))
            return (x / 255.0 - mean) / std
        return keras.ops.flip(x, axis=-1) - keras.ops.convert_to_tensor(self.CAFFE_MEAN_RGB[::-1])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mode": self.mode}


def rescaling_layer(name: str) -> keras.layers.Layer:
    """The layer that maps pixels in [0, 255] to the input backbone ``name`` was trained on (named ``rescaling``).

    Taught in notebook 02, section 4 ("Model 0, step by step").

    ``Rescaling`` for the linear ``"tf"`` family, :class:`PreprocessInput` for ``"caffe"`` and ``"torch"``,
    ``Identity`` for models that rescale inside themselves.

    Example:
        >>> rescaling_layer("mobilenet_v2_035").scale
        0.00784313725490196
        >>> type(rescaling_layer("vgg16")).__name__, type(rescaling_layer("efficientnet_b0")).__name__
        ('PreprocessInput', 'Identity')
    """
    spec = BACKBONES[name]
    if spec.preprocess in ("caffe", "torch"):
        return PreprocessInput(spec.preprocess, name="rescaling")
    if spec.scale is None:
        return keras.layers.Identity(name="rescaling")
    return keras.layers.Rescaling(spec.scale, offset=spec.offset, name="rescaling")


def inference_ms(model: keras.Model, batch: Any, repeats: int = 5) -> float:
    """Median milliseconds ``model`` takes for one batch in inference mode, after one warm-up call.

    Taught in notebook 01, section 9 ("Train the EfficientNetB0 feature extractor").

    Timing needs no pretrained weights: build the model with ``weights=None``.

    Example:
        >>> import numpy as np
        >>> tiny = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.GlobalAveragePooling2D()])
        >>> inference_ms(tiny, np.zeros((2, 8, 8, 3), "float32"), repeats=3) > 0
        True
    """
    import statistics
    import time

    model.predict_on_batch(batch)  # warm-up: builds and traces the graph
    times = []
    for _ in range(max(1, repeats)):
        started = time.perf_counter()
        model.predict_on_batch(batch)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def build_feature_extractor(
    backbone: str,
    input_shape: tuple[int, int, int],
    num_classes: int,
    augmentation: keras.layers.Layer | None = None,
    dropout: float = 0.0,
    weights: str | None = "imagenet",
    name: str = "feature_extractor",
) -> keras.Model:
    """A frozen pretrained base with a new softmax head, built with the Functional API.

    Taught in notebook 02, section 4 ("Model 0, step by step").

    The base is called with ``training=False`` to state the intent. Whether ``fit`` respects
    it inside a Functional model depends on the Keras version (Keras 3.0-3.15 pass the outer
    ``training=True`` through; notebook 02 shows what the installed one does). What keeps
    the base's BatchNormalization layers in inference mode (in Keras 3 and in tf.keras since TF 2.0) is that they
    stay frozen, which :func:`unfreeze_last` guarantees. Compile the model before its first
    ``fit``: the trainable weights are read then (see :func:`unfreeze_last`).

    Example:
        >>> model = build_feature_extractor("mobilenet_v2_035", (224, 224, 3), 10)  # doctest: +SKIP
        >>> model.get_layer("base").trainable  # doctest: +SKIP
        False
    """
    base = load_backbone(backbone, input_shape, weights)
    base.trainable = False
    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    if augmentation is not None:
        augmentation.name = "augmentation"
        x = augmentation(x)
    x = rescaling_layer(backbone)(x)
    x = base(x, training=False)
    x = keras.layers.GlobalAveragePooling2D(name="pooling")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    # float32 even under mixed precision: softmax and the loss need its range (a no-op on a CPU)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="classifier", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=name)


def unfreeze_last(base: keras.Model, n: int) -> list[str]:
    """Make the last ``n`` layers of ``base`` trainable, keeping every BatchNormalization layer frozen.

    Taught in notebook 04, section 4 ("Unfreeze the top of the backbone").

    All other layers are frozen. A frozen BatchNormalization layer always runs in
    inference mode (it keeps its ImageNet statistics).

    Recompile the model afterwards. Keras reads the ``trainable`` flags when it builds the
    training function, at the first ``fit`` after ``compile``; ``compile`` throws the old
    one away. A model that was already fitted keeps its old training function, so without
    a new ``compile`` the unfrozen layers do not change, and Keras 3.15 does not warn.

    Returns:
        the names of the layers that are now trainable, in order.

    Example:
        >>> names = unfreeze_last(model.get_layer("base"), 10)  # doctest: +SKIP
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    base.trainable = True
    cut = len(base.layers) - n
    for index, layer in enumerate(base.layers):
        layer.trainable = index >= cut and not isinstance(layer, keras.layers.BatchNormalization)
    return trainable_layer_names(base)


def layer_table(model: keras.Model) -> list[tuple[str, str, str]]:
    """``(name, layer type, output shape)`` of every layer of ``model``: its structure, to print or compare.

    Taught in notebook 02, section 4 ("Model 0, step by step").

    Example:
        >>> layer_table(keras.Sequential([keras.Input((4,), name="x"), keras.layers.Dense(2, name="d")]))
        [('d', 'Dense', '(None, 2)')]
    """
    return [(layer.name, type(layer).__name__, str(tuple(layer.output.shape))) for layer in model.layers]


def trainable_layer_names(model: keras.Model) -> list[str]:
    """Names of the layers of ``model`` that are trainable and hold weights.

    Taught in notebook 01, section 7 ("Build the model: `create_model`").

    Example:
        >>> trainable_layer_names(model)  # doctest: +SKIP
        ['classifier']
    """
    return [layer.name for layer in model.layers if layer.trainable and layer.weights]


def expected_trainable(base: keras.Model, n: int) -> list[str]:
    """Which layers ``unfreeze_last(base, n)`` should make trainable: the last ``n`` with weights, minus BatchNorm.

    Taught in notebook 04, section 4 ("Unfreeze the top of the backbone").

    Example:
        >>> expected_trainable(base, 10)  # doctest: +SKIP
    """
    tail = base.layers[len(base.layers) - n :] if n else []
    return [layer.name for layer in tail if layer.weights and not isinstance(layer, keras.layers.BatchNormalization)]


def count_params(model: keras.Model) -> dict[str, int]:
    """Trainable and non-trainable parameter counts of ``model``.

    Taught in notebook 01, section 7 ("Build the model: `create_model`").

    Example:
        >>> count_params(model)  # doctest: +SKIP
        {'trainable': 12810, 'non_trainable': 410208}
    """
    return {
        "trainable": int(sum(keras.ops.size(w) for w in model.trainable_weights)),
        "non_trainable": int(sum(keras.ops.size(w) for w in model.non_trainable_weights)),
    }


@keras.saving.register_keras_serializable(package="helpers")
class HubFeatureExtractor(keras.layers.Layer):
    """A frozen TF Hub image feature-vector model as a real Keras 3 layer.

    Taught in notebook 01, section 5 ("`hub.KerasLayer` and Keras 3").

    ``hub.KerasLayer`` is a ``tf_keras`` layer, so Keras 3 refuses it ("Only instances
    of keras.Layer can be added to a Sequential model"). This layer loads the same
    SavedModel with ``tensorflow_hub.load`` (same handles, same download cache) and
    calls it, so it works in Sequential and Functional Keras 3 models. It is
    feature extraction only: the hub model's weights stay frozen.

    Inputs are images with pixels in [0, 1], the range TF Hub image models expect. The layer computes in
    ``float32`` even under mixed precision (``dtype`` defaults to ``"float32"``): a SavedModel's signature takes
    the dtype it was saved with.

    Example:
        >>> layer = HubFeatureExtractor(hub_handle("resnet50_v2"))  # doctest: +SKIP
        >>> model = keras.Sequential([keras.Input((224, 224, 3)), layer, keras.layers.Dense(10)])  # doctest: +SKIP
    """

    def __init__(self, handle: str, output_key: str | None = None, **kwargs: Any) -> None:
        if kwargs.pop("trainable", False):
            raise ValueError("HubFeatureExtractor is frozen; fine-tune a keras.applications backbone instead.")
        kwargs.setdefault("dtype", "float32")  # the SavedModel was saved in float32, whatever Keras's policy
        super().__init__(trainable=False, **kwargs)
        import tensorflow_hub as hub

        self.handle = handle
        self.output_key = output_key
        # A 403 / 429 from the hub, a failed certificate check or no network each get a message naming that
        # cause (and the way around it); any other error, e.g. a local folder that is no SavedModel, keeps its own.
        with network.explained(handle, "the TF Hub module", hint=network.HUB_OFFLINE_HINT, hub=True):
            self._module = hub.load(handle)
        self._module_params = int(sum(v.shape.num_elements() for v in self._module.variables))

    @property
    def module_params(self) -> int:
        """How many (frozen) numbers the hub model holds.

        This layer keeps the SavedModel's variables to itself, so ``model.summary()`` shows 0
        parameters for it; ``keras.layers.TFSMLayer`` hands them to Keras, which then counts them.
        """
        return self._module_params

    def call(self, inputs):
        from helpers._internal.device import on_one_replica

        # Under a distribution strategy a SavedModel runs only inside a replica; fit / predict already are.
        return on_one_replica(self._forward, inputs)

    def _forward(self, inputs):
        if callable(self._module):  # a TF2 SavedModel
            outputs = self._module(inputs)
        else:  # an older TF1 Hub module: call its default signature
            outputs = self._module.signatures["default"](inputs)
        if isinstance(outputs, dict):
            outputs = outputs[self.output_key or "default"]
        return outputs

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "handle": self.handle, "output_key": self.output_key}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> HubFeatureExtractor:
        """Rebuild the layer from a saved model, refusing in safe mode a handle the course does not know.

        A SavedModel is a TensorFlow graph that may run any operation when called (read or write files,
        for one), which is why Keras's safe mode refuses ``keras.layers.TFSMLayer``. This layer loads the
        handle a ``.keras`` file names, so it refuses the same way (:data:`HUB_REFUSED`), unless the handle
        is one of :data:`KNOWN_HUB_HANDLES`.
        """
        handle = config.get("handle")
        if _in_safe_mode() and handle not in KNOWN_HUB_HANDLES:
            raise ValueError(HUB_REFUSED.format(handle=handle))
        return cls(**config)


#: The TF Hub handles of the course's backbones: a saved model naming one of them loads in safe mode.
KNOWN_HUB_HANDLES = frozenset(spec.hub_handle for spec in BACKBONES.values() if spec.hub_handle)

#: What :class:`HubFeatureExtractor` says when safe mode meets a handle outside :data:`KNOWN_HUB_HANDLES`.
HUB_REFUSED = (
    "This model's HubFeatureExtractor loads the SavedModel at {handle!r}, which is not one of the course's TF Hub "
    "handles, and safe mode is on. A SavedModel is a TensorFlow graph that can run any operation when it is called "
    "(read or write files, for one), so Keras's safe mode refuses to load one it cannot vouch for, as it refuses "
    "keras.layers.TFSMLayer. Pass safe_mode=False only for a file you made yourself (or fully trust)."
)


def _in_safe_mode() -> bool:
    """Whether Keras is loading a model in safe mode (``load_model(..., safe_mode=True)``, its default)."""
    try:  # Keras keeps the flag in a private module; TFSMLayer and Lambda read it the same way
        from keras.src.saving.serialization_lib import in_safe_mode
    except ImportError:  # a later Keras moved it: refuse rather than run an unknown graph
        return True
    return bool(in_safe_mode())


#: What :func:`load_course_model` says when Keras refuses a ``Lambda`` layer in safe mode.
LAMBDA_REFUSED = (
    "{path} holds a Lambda layer whose function is a Python lambda, and Keras refused to load it (safe_mode=True). "
    "A Lambda layer stores that function as Python bytecode, which runs while the model is rebuilt: a .keras file "
    "from an untrusted source could run any code on your machine. Pass safe_mode=False only for a file you made "
    "yourself (or fully trust); better, save models whose layers are Keras layers or registered classes "
    "(like this course's PreprocessInput and HubFeatureExtractor), which load without running stored code."
)


def load_course_model(path: str | Path, safe_mode: bool = True, compile: bool = True) -> keras.Model:
    """Load a whole model saved with ``model.save(path)`` (a ``.keras`` file), with Keras' ``safe_mode`` on.

    Taught in notebook 04, section 12 ("Save the chosen model, and load it safely").

    ``safe_mode=True`` (Keras' default, stated here so nobody turns it off by accident) rebuilds the model from
    its config without running code stored in the file. The course's own layers, :class:`PreprocessInput` and
    :class:`HubFeatureExtractor`, are registered with ``keras.saving.register_keras_serializable``, so they load
    in safe mode (importing this module registers them). A ``Lambda`` layer wrapping a Python ``lambda`` stores
    bytecode that would run on load; safe mode refuses it, and this function says why in a ``ValueError``
    (:data:`LAMBDA_REFUSED`). Pass ``safe_mode=False`` only for a file you made yourself.

    Example:
        >>> from helpers.callbacks import model_path
        >>> path = model_path("04_model_4_fine_tune_100_percent")  # doctest: +SKIP
        >>> model_4.save(path)  # doctest: +SKIP
        >>> loaded = load_course_model(path)  # doctest: +SKIP
    """
    try:
        return keras.saving.load_model(path, safe_mode=safe_mode, compile=compile)
    except ValueError as err:
        if "Lambda" not in str(err) or "safe_mode" not in str(err):
            raise
        raise ValueError(LAMBDA_REFUSED.format(path=path)) from err


def hub_classifier(
    handle: str, num_classes: int, input_shape: tuple[int, int, int], rescale: bool = True
) -> keras.Model:
    """Notebook 01's ``create_model``: a frozen TF Hub feature vector with a new softmax head, compiled.

    Taught in notebook 01 solutions, exercise 1 ("MobileNetV2 from TF Hub").

    ``Input`` (pixels in [0, 255]) -> ``Rescaling(1/255)`` (hub models want [0, 1]; left out with
    ``rescale=False``) -> :class:`HubFeatureExtractor` -> ``Dense(num_classes, softmax)``, compiled
    with Adam (1e-3), categorical cross-entropy and accuracy. The model is named after the handle
    (:func:`helpers.backbones.short_name`; any other handle by its path).

    Example:
        >>> model = hub_classifier(hub_handle("efficientnet_b0"), 10, (224, 224, 3))  # doctest: +SKIP
        >>> [layer.name for layer in model.layers]  # doctest: +SKIP
        ['rescaling', 'feature_extractor', 'classifier']
    """
    layers: list[Any] = [keras.Input(shape=input_shape, name="image")]
    if rescale:
        layers.append(keras.layers.Rescaling(1 / 255, name="rescaling"))
    # float32 under mixed precision too (a no-op on a CPU): softmax and the loss need its range
    layers.append(HubFeatureExtractor(handle, name="feature_extractor"))
    layers.append(keras.layers.Dense(num_classes, activation="softmax", name="classifier", dtype="float32"))
    name = short_name(handle)
    if "/" in name:  # a handle outside BACKBONES: Keras names may not hold "/" or ":"
        name = re.sub(r"[^A-Za-z0-9_]+", "_", name.split("://")[-1]).strip("_")
    model = keras.Sequential(layers, name=name)
    model.compile(
        loss="categorical_crossentropy", optimizer=keras.optimizers.Adam(learning_rate=1e-3), metrics=["accuracy"]
    )
    return model


def top_losses(y_true: Sequence[int], probabilities, k: int = 9) -> list[int]:
    """Indices of the ``k`` predictions with the highest loss, highest first.

    Taught in notebook 04, section 10 ("Where the chosen model goes wrong").

    The loss of one prediction is its cross-entropy, ``-log(probability given to the true
    class)``: the images where the model gave the right answer the least probability. They are
    almost always wrong predictions, made with confidence.

    Example:
        >>> top_losses([0, 1, 1], [[0.1, 0.9], [0.2, 0.8], [0.6, 0.4]], k=2)
        [0, 2]
    """
    import numpy as np

    probabilities = np.asarray(probabilities, dtype="float64")
    true = np.asarray(y_true, dtype=int)
    losses = -np.log(np.clip(probabilities[np.arange(len(true)), true], 1e-12, 1.0))
    order = np.argsort(-losses, kind="stable")
    return [int(i) for i in order[:k]]
