"""Does the ``tf.data`` input pipeline keep the frozen base busy?

Two rates, measured in one run on the 10% training images of the active profile:

- **delivered**: images/s that iterating ``helpers.data.image_folders``'s training pipeline alone gives (read,
  decode, resize, batch, prefetch; Keras maps the decoding with ``num_parallel_calls=AUTOTUNE``), timed over
  a full pass after a warm-up pass;
- **consumed**: images/s the frozen feature extractor (rescaling, base, pooling, head) takes in inference mode on a
  batch already in memory (``helpers.models.inference_ms``).

Target: delivered / consumed >= 3, so the model never waits for data.

The same measurement is repeated for a candidate pipeline that decodes and resizes every image once and keeps the
result in memory (``cache()`` before the per-epoch shuffle). It yields exactly the same images, labels and order,
epoch after epoch (checked below); only epochs after the first are faster. Its figure is reported beside the
current pipeline's, so the README can say what the proposed change to ``image_folders`` buys.

    COURSE_DATA_DIR=../shared/data/food10 COURSE_BACKBONE=mobilenet_v2_035 python benchmarks/bench_input_pipeline.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from benchmarks.common import backbone_for_profile, figure, stopwatch
from helpers import config, data, models

NAME = "input_pipeline_headroom"
TARGET = 3.0


def cached_pipeline(train_dir: Path, image_size: tuple[int, int], batch_size: int, seed: int, class_names: list[str]):
    """The training pipeline of ``image_folders``, rebuilt with the decoded images cached in memory.

    Same file order as ``image_dataset_from_directory`` (its public ``file_paths``, shuffled once with ``seed``),
    same decoding and bilinear resize, same shuffle (buffer ``8 * batch_size``, same seed, reshuffled every
    epoch), but the shuffle comes after ``cache()``: the pixels are computed on the first pass and read from
    memory afterwards. ``tf.data``'s shuffle depends on positions, not on contents, so the order is unchanged.
    """
    import keras
    import tensorflow as tf

    paths = keras.utils.image_dataset_from_directory(
        train_dir, shuffle=True, seed=seed, image_size=image_size, batch_size=batch_size, label_mode="categorical",
        class_names=class_names, verbose=False,
    ).file_paths
    labels = [class_names.index(Path(p).parent.name) for p in paths]
    num_classes = len(class_names)

    def load(path, label):
        image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
        image = tf.image.resize(image, image_size, method="bilinear")
        image.set_shape((*image_size, 3))
        return image, tf.one_hot(label, num_classes)

    ds = tf.data.Dataset.from_tensor_slices((paths, labels))
    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE).cache()
    ds = ds.shuffle(batch_size * 8, seed=seed).batch(batch_size)
    return ds.prefetch(tf.data.AUTOTUNE)


def images_per_second(dataset, warmup: bool = True) -> tuple[float, int]:
    """Images/s of one full pass over ``dataset`` (after a warm-up pass when ``warmup``), and the images counted."""
    if warmup:
        for _ in dataset:
            pass
    count = 0
    with stopwatch() as elapsed:
        for images, _ in dataset:
            count += int(images.shape[0])
    return count / elapsed[0], count


def same_epochs(first, second, epochs: int = 2) -> bool:
    """Whether two pipelines yield the same labels in the same order and the same pixels, for ``epochs`` epochs."""
    for _ in range(epochs):
        for (xa, ya), (xb, yb) in zip(first, second, strict=True):
            if not (np.array_equal(np.asarray(ya), np.asarray(yb)) and np.allclose(xa, xb, atol=1e-3)):
                return False
    return True


def main(repeats: int = 10) -> dict:
    profile = config.setup(verbose=False)
    backbone = backbone_for_profile()
    folders = data.food_data(10, profile)
    train, _, _, names = data.image_folders(*folders, profile.image_size, profile.batch_size, profile.seed)

    delivered, count = images_per_second(train)
    model = models.build_feature_extractor(backbone, profile.input_shape, len(names), weights=None)
    batch = next(iter(train))[0].numpy()
    consumed = len(batch) / (models.inference_ms(model, batch, repeats=repeats) / 1000)

    # The candidate: decoded images cached in memory. The same seed must give the same order as image_folders.
    config.set_seeds(profile.seed)
    current = data.image_folders(*folders, profile.image_size, profile.batch_size, profile.seed, verify=False)[0]
    settings = (folders.train, profile.image_size, profile.batch_size, profile.seed, names)
    identical = same_epochs(current, cached_pipeline(*settings))
    candidate = cached_pipeline(*settings)  # a new one: its cache is empty
    first_pass, _ = images_per_second(candidate, warmup=False)  # fills the cache
    cached, _ = images_per_second(candidate, warmup=False)
    cache_mb = count * np.prod(profile.input_shape) * 4 / 2**20

    print(f"images: {count} | backbone: {backbone} | image size: {profile.image_size[0]} px | "
          f"batch: {profile.batch_size} | {config.machine()}")
    print(f"image_folders pipeline alone: {delivered:.0f} images/s | frozen model, batch in memory: "
          f"{consumed:.0f} images/s | headroom {delivered / consumed:.2f}x")
    print(f"with cache(): first pass {first_pass:.0f} images/s, later passes {cached:.0f} images/s "
          f"(headroom {cached / consumed:.1f}x; about {cache_mb:.0f} MB of float32 pixels; "
          f"same images, labels and order as image_folders over 2 epochs: {identical})")
    return {
        "results": [
            figure(NAME, delivered / consumed, "x", ">=", TARGET),
            figure(NAME + "_with_cache", cached / consumed, "x", ">=", TARGET),
        ],
        "images": count,
        "backbone": backbone,
        "delivered_images_per_s": delivered,
        "consumed_images_per_s": consumed,
        "cached_first_pass_images_per_s": first_pass,
        "cached_images_per_s": cached,
        "cache_mb": float(cache_mb),
        "cache_keeps_order": identical,
    }


if __name__ == "__main__":
    main()
