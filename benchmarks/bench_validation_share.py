"""What share of a training epoch goes to validation, before and after the fixed validation set?

The 10% model of notebook 03 (``augmented_feature_extractor``: augmentation, frozen base, softmax head) on the
10% training images of the active profile. Measured in one run:

- one training epoch without validation (``time_one_epoch``, after a one-step warm-up);
- one ``evaluate`` on the full test set (1,250 images with ``../shared/data/food10``): how the course used to
  validate every epoch ("before");
- one ``evaluate`` on the fixed validation set (``food_data(10).val``, 200 images there): what it does now ("after").

share = evaluate / (training epoch + evaluate). Target: the "after" share <= 25%.

    COURSE_DATA_DIR=../shared/data/food10 COURSE_BACKBONE=mobilenet_v2_035 python benchmarks/bench_validation_share.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import backbone_for_profile, figure, median_of, stopwatch
from helpers import config, data, training

NAME = "validation_share"
TARGET = 0.25


def time_evaluate(model, dataset) -> float:
    """Seconds for one ``model.evaluate(dataset)``, after a one-batch warm-up that traces the graph."""
    model.evaluate(dataset.take(1), verbose=0)
    with stopwatch() as elapsed:
        model.evaluate(dataset, verbose=0)
    return elapsed[0]


def main(repeats: int | None = None) -> dict:
    """Median of ``repeats`` timings of each part (default 3; 1 in the smoke profile)."""
    profile = config.setup(verbose=False)
    repeats = repeats or (1 if profile.smoke else 3)
    backbone = backbone_for_profile()
    folders = data.food_data(10, profile)
    train, val, test, names = data.image_folders(*folders, profile.image_size, profile.batch_size, profile.seed)
    sizes = {split: data.num_images(folder) for split, folder in folders._asdict().items()}

    model = training.augmented_feature_extractor(
        backbone, profile.input_shape, len(names), profile.seed, name="model_2", weights=None
    )
    training.compile_classifier(model)
    train_epoch = median_of(repeats, lambda: training.time_one_epoch(model, train))
    on_test = median_of(repeats, lambda: time_evaluate(model, test))
    on_val = median_of(repeats, lambda: time_evaluate(model, val))
    before = on_test / (train_epoch + on_test)
    after = on_val / (train_epoch + on_val)

    print(f"backbone: {backbone} | image size: {profile.image_size[0]} px | training images: {sizes['train']} | "
          f"validated on: test set {sizes['test']} images (before), validation set {sizes['val']} images (after)")
    print(f"median of {repeats}: training epoch {train_epoch:.1f} s | evaluate on the test set {on_test:.1f} s | "
          f"evaluate on the validation set {on_val:.1f} s")
    print(f"epoch with validation: {train_epoch + on_test:.1f} s before, {train_epoch + on_val:.1f} s after "
          f"({(train_epoch + on_test) / (train_epoch + on_val):.2f}x faster)")
    return {
        "results": [
            figure(NAME + "_before", before, "share"),
            figure(NAME + "_after", after, "share", "<=", TARGET),
        ],
        "backbone": backbone,
        "images": sizes,
        "train_epoch_s": train_epoch,
        "evaluate_test_s": on_test,
        "evaluate_val_s": on_val,
    }


if __name__ == "__main__":
    main()
