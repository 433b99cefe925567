"""How much faster is an epoch on cached features than an epoch through the frozen base?

Measured in one run, reported as a ratio (times alone depend on the machine).
Uses the active profile: ``COURSE_DATA_DIR`` + ``COURSE_BACKBONE`` for real data,
``COURSE_SMOKE=1`` for a quick check on generated images.

    COURSE_DATA_DIR=../shared/data/food10 COURSE_BACKBONE=mobilenet_v2_035 make benchmark

Target: the cached epoch is at least 10x faster at 224 px (the base dominates the cost).
"""

from __future__ import annotations

import time

import keras

from helpers import config, data, models, training


def main() -> float:
    profile = config.setup()
    backbone = models.resolve_backbone("efficientnet_b0")
    train, _, _, names = data.image_folders(
        *data.food_data(10, profile), profile.image_size, profile.batch_size, profile.seed
    )
    model = models.build_feature_extractor(backbone, profile.input_shape, len(names))
    training.compile_classifier(model)
    image_epoch = training.time_one_epoch(model, train)

    features_model = keras.Model(model.input, model.get_layer("pooling").output)
    started = time.perf_counter()
    features, labels = training.extract_features(features_model, train)
    extraction = time.perf_counter() - started
    head = keras.Sequential([keras.Input(features.shape[1:]), keras.layers.Dense(len(names), activation="softmax")])
    training.compile_classifier(head)
    cached_epoch = training.time_one_epoch(head, features, y=labels, batch_size=profile.batch_size)

    ratio = image_epoch / cached_epoch
    print(f"images: {len(features)} | backbone: {backbone} | image size: {profile.image_size}")
    print(f"epoch through the frozen base: {image_epoch:.2f} s | one-off feature extraction: {extraction:.2f} s")
    print(f"epoch on cached features: {cached_epoch:.3f} s | speed-up: {ratio:.0f}x")
    return ratio


if __name__ == "__main__":
    main()
