"""How much faster is an epoch on cached features than an epoch through the frozen base?

Measured in one run, reported as a ratio (times alone depend on the machine).
Uses the active profile: ``COURSE_DATA_DIR`` + ``COURSE_BACKBONE`` for real data,
``COURSE_SMOKE=1`` for a quick check on generated images.

    COURSE_DATA_DIR=../shared/data/food10 COURSE_BACKBONE=mobilenet_v2_035 python benchmarks/bench_cached_features.py

Target: the cached epoch is at least 10x faster at 224 px (the base dominates the cost). Timing needs no
pretrained weights, so the base is built with ``weights=None`` (same cost, works offline).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras

from benchmarks.common import backbone_for_profile, figure, median_of, stopwatch
from helpers import config, data, models, training

NAME = "cached_features_speedup"
TARGET = 10.0


def main(repeats: int | None = None) -> dict:
    """Median of ``repeats`` timed epochs each way (default 3; 1 in the smoke profile)."""
    profile = config.setup(verbose=False)
    repeats = repeats or (1 if profile.smoke else 3)
    backbone = backbone_for_profile()
    train, _, _, names = data.image_folders(
        *data.food_data(10, profile), profile.image_size, profile.batch_size, profile.seed
    )
    model = models.build_feature_extractor(backbone, profile.input_shape, len(names), weights=None)
    training.compile_classifier(model)
    image_epoch = median_of(repeats, lambda: training.time_one_epoch(model, train))

    features_model = keras.Model(model.input, model.get_layer("pooling").output)
    with stopwatch() as extraction:
        features, labels = training.extract_features(features_model, train)
    head = keras.Sequential([keras.Input(features.shape[1:]), keras.layers.Dense(len(names), activation="softmax")])
    training.compile_classifier(head)
    cached_epoch = median_of(
        repeats, lambda: training.time_one_epoch(head, features, y=labels, batch_size=profile.batch_size)
    )

    ratio = image_epoch / cached_epoch
    print(f"images: {len(features)} | backbone: {backbone} | image size: {profile.image_size[0]} px | "
          f"median of {repeats} epochs each")
    print(f"epoch through the frozen base: {image_epoch:.2f} s | one-off feature extraction: {extraction[0]:.2f} s")
    print(f"epoch on cached features: {cached_epoch:.3f} s | speed-up: {ratio:.0f}x")
    return {
        "results": [figure(NAME, ratio, "x", ">=", TARGET)],
        "images": len(features),
        "backbone": backbone,
        "image_epoch_s": image_epoch,
        "extraction_s": extraction[0],
        "cached_epoch_s": cached_epoch,
        "repeats": repeats,
    }


if __name__ == "__main__":
    main()
