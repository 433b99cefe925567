"""The pretrained backbones the course knows, in one table that imports nothing heavy.

:mod:`helpers.config` checks ``COURSE_BACKBONE`` against it and :mod:`helpers.models`
builds models from it; neither imports the other for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

HUB = "https://tfhub.dev/"


@dataclass(frozen=True)
class Backbone:
    """A pretrained ``keras.applications`` model and its TF Hub feature-vector twin.

    Used by :data:`helpers.backbones.BACKBONES` (notebook 01, section 4): each entry is one.

    ``preprocess`` names what the family's ``preprocess_input`` does to pixels in [0, 255]:

    - ``"tf"``: scale to [-1, 1] (MobileNet, MobileNetV2, ResNetV2, Inception, Xception);
    - ``"caffe"``: RGB to BGR, then subtract the ImageNet mean per channel (VGG, ResNet v1);
    - ``"torch"``: scale to [0, 1], subtract the ImageNet mean, divide by its standard deviation (DenseNet);
    - ``None``: nothing, the model rescales inside itself (EfficientNet, ConvNeXt).

    ``scale``/``offset`` is the linear part for ``"tf"`` (``x * scale + offset``).

    Example:
        >>> BACKBONES["mobilenet_v2_035"].application, BACKBONES["mobilenet_v2_035"].kwargs
        ('MobileNetV2', {'alpha': 0.35})
    """

    application: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    scale: float | None = None
    offset: float = 0.0
    hub_handle: str = ""
    preprocess: str | None = None


#: Backbones known to the course, by the names ``COURSE_BACKBONE`` accepts.
#: Taught in notebook 01, section 4 ("Choose a model on TensorFlow Hub / Kaggle Models").
BACKBONES: dict[str, Backbone] = {
    "efficientnet_b0": Backbone("EfficientNetB0", hub_handle=HUB + "tensorflow/efficientnet/b0/feature-vector/1"),
    "resnet50_v2": Backbone(
        "ResNet50V2", scale=1 / 127.5, offset=-1.0, hub_handle=HUB + "google/imagenet/resnet_v2_50/feature_vector/5",
        preprocess="tf",
    ),
    "mobilenet_v2_035": Backbone(
        "MobileNetV2", {"alpha": 0.35}, 1 / 127.5, -1.0, HUB + "google/imagenet/mobilenet_v2_035_224/feature_vector/5",
        "tf",
    ),
    "mobilenet_v2_100": Backbone(
        "MobileNetV2", {"alpha": 1.0}, 1 / 127.5, -1.0, HUB + "google/imagenet/mobilenet_v2_100_224/feature_vector/5",
        "tf",
    ),
    "mobilenet_v1_025": Backbone(
        "MobileNet", {"alpha": 0.25}, 1 / 127.5, -1.0, HUB + "google/imagenet/mobilenet_v1_025_224/feature_vector/5",
        "tf",
    ),
    "vgg16": Backbone("VGG16", preprocess="caffe"),
    "resnet50": Backbone("ResNet50", preprocess="caffe"),
    "densenet121": Backbone("DenseNet121", preprocess="torch"),
}

#: The figures the Keras documentation publishes for its applications (https://keras.io/api/applications/):
#: size (MB), ImageNet top-1 and top-5 accuracy, parameters (millions, with the top), depth, and milliseconds per
#: inference step on CPU and GPU, as the page gives them (its own machine, batch and settings).
#: Taught in notebook 06, section 3 ("The `keras.applications` models: published figures and what your machine
#: measures").
PUBLISHED: dict[str, dict[str, float]] = {
    "Xception": dict(size_mb=88, top1=0.790, top5=0.945, params_m=22.9, depth=81, cpu_ms=109.4, gpu_ms=8.1),
    "VGG16": dict(size_mb=528, top1=0.713, top5=0.901, params_m=138.4, depth=16, cpu_ms=69.5, gpu_ms=4.2),
    "ResNet50": dict(size_mb=98, top1=0.749, top5=0.921, params_m=25.6, depth=107, cpu_ms=58.2, gpu_ms=4.6),
    "ResNet50V2": dict(size_mb=98, top1=0.760, top5=0.930, params_m=25.6, depth=103, cpu_ms=45.6, gpu_ms=4.4),
    "ResNet101": dict(size_mb=171, top1=0.764, top5=0.928, params_m=44.7, depth=209, cpu_ms=89.6, gpu_ms=5.2),
    "InceptionV3": dict(size_mb=92, top1=0.779, top5=0.937, params_m=23.9, depth=189, cpu_ms=42.2, gpu_ms=6.9),
    "MobileNet": dict(size_mb=16, top1=0.704, top5=0.895, params_m=4.3, depth=55, cpu_ms=22.6, gpu_ms=3.4),
    "MobileNetV2": dict(size_mb=14, top1=0.713, top5=0.901, params_m=3.5, depth=105, cpu_ms=25.9, gpu_ms=3.8),
    "DenseNet121": dict(size_mb=33, top1=0.750, top5=0.923, params_m=8.1, depth=242, cpu_ms=77.1, gpu_ms=5.4),
    "EfficientNetB0": dict(size_mb=29, top1=0.771, top5=0.933, params_m=5.3, depth=132, cpu_ms=46.0, gpu_ms=4.9),
}


def short_name(handle: str) -> str:
    """The course's name for a TF Hub handle of :data:`BACKBONES` (the handle itself for any other).

    Taught in notebook 01, section 4 ("Choose a model on TensorFlow Hub / Kaggle Models").

    Example:
        >>> short_name(BACKBONES["resnet50_v2"].hub_handle), short_name("https://example.org/m/1")
        ('resnet50_v2', 'https://example.org/m/1')
    """
    return next((name for name, spec in BACKBONES.items() if spec.hub_handle == handle), handle)
