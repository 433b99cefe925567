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

    ``scale``/``offset`` is the rescaling ``preprocess_input`` applies to pixels in
    [0, 255]; ``None`` means the model rescales inside itself (EfficientNet).

    Example:
        >>> BACKBONES["mobilenet_v2_035"].application, BACKBONES["mobilenet_v2_035"].kwargs
        ('MobileNetV2', {'alpha': 0.35})
    """

    application: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    scale: float | None = None
    offset: float = 0.0
    hub_handle: str = ""


#: Backbones known to the course, by the names ``COURSE_BACKBONE`` accepts.
BACKBONES: dict[str, Backbone] = {
    "efficientnet_b0": Backbone("EfficientNetB0", hub_handle=HUB + "tensorflow/efficientnet/b0/feature-vector/1"),
    "resnet50_v2": Backbone(
        "ResNet50V2", scale=1 / 127.5, offset=-1.0, hub_handle=HUB + "google/imagenet/resnet_v2_50/feature_vector/5"
    ),
    "mobilenet_v2_035": Backbone(
        "MobileNetV2", {"alpha": 0.35}, 1 / 127.5, -1.0, HUB + "google/imagenet/mobilenet_v2_035_224/feature_vector/5"
    ),
    "mobilenet_v2_100": Backbone(
        "MobileNetV2", {"alpha": 1.0}, 1 / 127.5, -1.0, HUB + "google/imagenet/mobilenet_v2_100_224/feature_vector/5"
    ),
    "mobilenet_v1_025": Backbone(
        "MobileNet", {"alpha": 0.25}, 1 / 127.5, -1.0, HUB + "google/imagenet/mobilenet_v1_025_224/feature_vector/5"
    ),
}


def short_name(handle: str) -> str:
    """The course's name for a TF Hub handle of :data:`BACKBONES` (the handle itself for any other).

    Example:
        >>> short_name(BACKBONES["resnet50_v2"].hub_handle), short_name("https://example.org/m/1")
        ('resnet50_v2', 'https://example.org/m/1')
    """
    return next((name for name, spec in BACKBONES.items() if spec.hub_handle == handle), handle)
