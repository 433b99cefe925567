"""Near-duplicates across splits: planted copies of a training photo are found, distinct photos are not.

A stand-in feature model (pixels scaled to [-1, 1], averaged over 4x4 blocks) keeps the test fast and offline;
the threshold itself is calibrated on real photos and real features in ``benchmarks/bench_near_duplicates.py``.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

from helpers.data import COPY_KINDS, embed_images, near_duplicates, perceptual_hash, plant_copy, split_images

SIZE = (32, 32)


def _photo(path: Path, seed: int) -> Path:
    """A smooth random "photo" (a 4x4 grid of colours, enlarged), 64 px."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(small).resize((64, 64), Image.Resampling.BICUBIC).save(path, quality=95)
    return path


@pytest.fixture(scope="module")
def feature_model():
    return keras.Sequential(
        [keras.Input((*SIZE, 3)), keras.layers.Rescaling(1 / 127.5, offset=-1), keras.layers.AveragePooling2D(4),
         keras.layers.Flatten()]
    )  # fmt: skip


@pytest.fixture()
def splits(tmp_path):
    train = [_photo(tmp_path / "train" / "a" / f"{i}.jpg", i) for i in range(6)]
    test = [_photo(tmp_path / "test" / "a" / f"{i}.jpg", 100 + i) for i in range(4)]
    return tmp_path / "train", tmp_path / "test", train, test


def test_embeddings_have_length_one(splits, feature_model):
    _, _, train, _ = splits
    vectors = embed_images(feature_model, train, SIZE, batch_size=4)
    assert vectors.shape == (6, 8 * 8 * 3)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1, rtol=1e-5)


def test_planted_copies_are_found_and_distinct_photos_are_not(splits, feature_model):
    train_dir, test_dir, train, _ = splits
    assert near_duplicates(feature_model, train_dir, test_dir, SIZE) == [], "distinct photos: no pair"
    planted = {
        kind: plant_copy(train[i], test_dir / "a" / f"copy_{kind}.jpg", kind) for i, kind in enumerate(COPY_KINDS)
    }
    pairs = near_duplicates(feature_model, train_dir, test_dir, SIZE, threshold=0.8)
    found = {pair.other: pair for pair in pairs}
    for i, kind in enumerate(("resized", "reencoded")):
        pair = found[planted[kind]]
        assert pair.train == train[i] and pair.similarity > 0.95 and pair.hash_bits <= 10, kind
    assert {pair.other for pair in pairs} <= set(planted.values()), "only the planted copies"
    assert [pair.similarity for pair in pairs] == sorted((pair.similarity for pair in pairs), reverse=True)
    by_hash_only = near_duplicates(feature_model, train_dir, test_dir, SIZE, threshold=1.01)
    assert {pair.other for pair in by_hash_only} >= {planted["resized"], planted["reencoded"]}, "the hash alone"


def test_a_copy_is_what_its_kind_says(tmp_path):
    original = _photo(tmp_path / "a.jpg", 0)
    sizes = {kind: Image.open(plant_copy(original, tmp_path / f"{kind}.jpg", kind)).size for kind in COPY_KINDS}
    assert sizes == {"resized": (32, 32), "reencoded": (64, 64), "cropped": (51, 51)}
    assert (
        plant_copy(original, tmp_path / "again.jpg", "cropped").read_bytes() == (tmp_path / "cropped.jpg").read_bytes()
    )
    with pytest.raises(ValueError, match="kind must be one of"):
        plant_copy(original, tmp_path / "x.jpg", "rotated")
    with pytest.raises(ValueError, match="no class sub-folders"):  # a split folder holds class folders
        split_images(tmp_path)


def test_the_perceptual_hash_is_imagehash_phash(tmp_path):
    imagehash = pytest.importorskip("imagehash")
    for seed in range(5):
        path = _photo(tmp_path / f"{seed}.jpg", seed)
        with Image.open(path) as image:
            np.testing.assert_array_equal(perceptual_hash(path), imagehash.phash(image).hash.flatten())
