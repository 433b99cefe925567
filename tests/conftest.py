"""Fixtures for the unit tests: tiny generated data, a tiny TF Hub module, the shared folder."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

#: A handle no real module uses, so the tiny stand-in can't be mistaken for a real one.
TINY_HANDLE = "https://tfhub.dev/course-tests/tiny/feature_vector/1"

needs_shared_weights = pytest.mark.skipif(
    not (SHARED / "weights" / "keras" / "models").is_dir(),
    reason="needs ../shared/weights/keras (real ImageNet weights); absent on this machine",
)
needs_shared_data = pytest.mark.skipif(
    not (SHARED / "data" / "food10").is_dir(), reason="needs ../shared/data/food10; absent on this machine"
)


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated train/val/test image folder: 3 classes, 12 train, 4 validation and 4 test JPEGs each, 32 px."""
    import shutil

    from helpers.data import make_tiny_image_folders

    root = make_tiny_image_folders(tmp_path_factory.mktemp("tiny"), per_class=12, size=32)
    other = make_tiny_image_folders(tmp_path_factory.mktemp("tiny_val"), per_class=4, size=32, seed=1)
    shutil.move(other / "train", root / "val")
    return root


@pytest.fixture(scope="session")
def tiny_inner_model():
    """The Keras model behind the tiny hub module: a fixed random conv + global pooling, 8 features."""
    import keras

    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((None, None, 3)),
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
        ]
    )


@pytest.fixture(scope="session")
def tiny_hub_handle(tmp_path_factory: pytest.TempPathFactory, tiny_inner_model) -> str:
    """A TF2 feature-vector SavedModel placed where ``tensorflow_hub`` resolves ``TINY_HANDLE``."""
    from tools import hub_cache

    built = hub_cache.save_feature_vector(tiny_inner_model, tmp_path_factory.mktemp("hub") / "tiny", None)
    hub_cache.place(built, TINY_HANDLE)
    return TINY_HANDLE
