"""Seconds per epoch of the learner's default models on this machine, for the README's CPU column.

EfficientNetB0 (notebooks 01-04's default) and ResNet50V2 (notebook 01's comparison) at the profile's image size
(224 px outside the smoke profile), built with ``weights=None`` (timing needs no pretrained weights):

- **feature extraction**: ``build_feature_extractor`` (frozen base, softmax head), ``fit`` on a few batches of real
  training images already in memory (8 at 224 px), after a one-step warm-up, each step timed: the median step;
- **fine-tuning**: the same model with the last 10 layers of the base unfrozen (``unfreeze_last``, BatchNorm stays
  frozen), recompiled at learning rate 1e-4, timed the same way.

The median step is scaled to an epoch of the 10% training set (750 images: 10 classes x 75). It is the model's own cost:
decoding the JPEGs (``bench_input_pipeline.py``) and validation (``bench_validation_share.py``) come on top.

    COURSE_DATA_DIR=../shared/data/food10 python benchmarks/bench_default_models.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import figure, rows_in_memory
from helpers import config, data, models, training

#: The learner profile's default backbones.
DEFAULT_MODELS = ("efficientnet_b0", "resnet50_v2")
#: Images in one epoch of the course's 10% training set.
EPOCH_IMAGES = 750
FINE_TUNE_LAYERS = 10


def batch_seconds(model, dataset) -> list[float]:
    """Seconds of every training step of one epoch of ``model.fit(dataset)``, after a one-step warm-up."""
    import keras

    class StepTimer(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            self.started = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            float((logs or {}).get("loss", 0.0))  # waits for the step's result
            seconds.append(time.perf_counter() - self.started)

    seconds: list[float] = []
    model.fit(dataset, epochs=1, steps_per_epoch=1, verbose=0, shuffle=False)  # warm-up: traces the step
    model.fit(dataset, epochs=1, verbose=0, shuffle=False, callbacks=[StepTimer()])
    return seconds


def seconds_per_epoch(model, dataset, batch_size: int) -> float:
    """The median training step over the in-memory ``dataset``, scaled to an epoch of :data:`EPOCH_IMAGES` images.

    The median of single steps, rather than one timed epoch, keeps a burst of load from another process out.
    """
    return statistics.median(batch_seconds(model, dataset)) * EPOCH_IMAGES / batch_size


def main(backbones: tuple[str, ...] = DEFAULT_MODELS, batches: int | None = None) -> dict:
    import keras
    import tensorflow as tf

    profile = config.setup(verbose=False)
    batches = batches or (1 if profile.smoke else 8)
    train, _, _, names = data.image_folders(
        *data.food_data(10, profile), profile.image_size, profile.batch_size, profile.seed
    )
    x, y = rows_in_memory(train, batches)
    in_memory = tf.data.Dataset.from_tensor_slices((x, y)).batch(profile.batch_size)

    results, table = [], []
    for backbone in backbones:
        model = models.build_feature_extractor(backbone, profile.input_shape, len(names), weights=None)
        training.compile_classifier(model)
        frozen = seconds_per_epoch(model, in_memory, profile.batch_size)
        models.unfreeze_last(model.get_layer("base"), FINE_TUNE_LAYERS)
        training.compile_classifier(model, learning_rate=1e-4)
        fine_tuned = seconds_per_epoch(model, in_memory, profile.batch_size)
        table.append((backbone, frozen, fine_tuned))
        results.append(figure(f"epoch_s_{backbone}_feature_extraction", frozen, "s/epoch"))
        results.append(figure(f"epoch_s_{backbone}_fine_tuning", fine_tuned, "s/epoch"))
        del model
        keras.backend.clear_session()

    print(f"seconds per epoch of {EPOCH_IMAGES} images at {profile.image_size[0]} px, batch {profile.batch_size} "
          f"(median step of {len(x) // profile.batch_size}, in memory) | {config.machine()}")
    print(f"| {'model':<16} | feature extraction | fine-tuning (last {FINE_TUNE_LAYERS} layers) |")
    print(f"|{'-' * 18}|{'-' * 20}|{'-' * 30}|")
    for backbone, frozen, fine_tuned in table:
        print(f"| {backbone:<16} | {frozen:>16.1f} s | {fine_tuned:>26.1f} s |")
    return {
        "results": results,
        "image_size": profile.image_size[0],
        "timed_images": len(x),
        "seconds_per_epoch": {b: {"feature_extraction": f, "fine_tuning": t} for b, f, t in table},
    }


if __name__ == "__main__":
    main()
