"""Notebook 00's claims about its folders and pipelines, checked on tiny data instead of inside the lesson.

The notebook keeps the learner's checks (balanced subsets, no validation image elsewhere, the pixel range, the
class names, a transformed dataset losing ``.class_names``, the unshuffled validation data, the cache keeping the
data); the facts about the folders' layout, the batches' shapes and the steps of the loaded ``tf.data``
pipeline on the installed Keras live here.
"""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from helpers import config, data
from helpers.config import find_root

NOTEBOOK = find_root() / "notebooks" / "00_setup_and_data.ipynb"
SIZE = (32, 32)
BATCH = 8


def _walker_cell() -> str:
    """The notebook's "extra code" cell that lists the steps of ``train_data_keras``."""
    cells = ["".join(c["source"]) for c in json.loads(NOTEBOOK.read_text())["cells"] if c["cell_type"] == "code"]
    return next(cell for cell in cells if "_input_dataset" in cell)


def steps_of(dataset) -> list[str]:
    """The steps of ``dataset``'s pipeline, last step first, exactly as the notebook's cell lists them."""
    namespace = {"train_data_keras": dataset}
    exec(_walker_cell(), namespace)
    return namespace["steps"]


def _loaded(folder, shuffle=True):
    return keras.utils.image_dataset_from_directory(
        folder, label_mode="categorical", image_size=SIZE, batch_size=BATCH, shuffle=shuffle, seed=0
    )


def test_every_subset_shares_one_validation_and_one_test_folder_with_the_same_classes(tmp_path):
    profile = config.load_profile({"COURSE_SMOKE": "1", "COURSE_DATA_ROOT": str(tmp_path)})
    subsets = {percent: data.food_data(percent, profile) for percent in (1, 10, 100)}
    _, val_dir, test_dir = subsets[10]
    names = data.list_classes(test_dir)
    for train, val, test in subsets.values():
        assert val == val_dir and test == test_dir
        assert data.list_classes(train) == data.list_classes(val) == names


def test_the_loaded_batches_are_images_and_one_hot_labels(tiny_data):
    dataset = _loaded(tiny_data / "train")
    images, labels = next(iter(dataset))
    assert dataset.class_names == sorted(data.TINY_CLASSES)
    assert images.shape == (BATCH, *SIZE, 3) and images.dtype == tf.float32
    assert labels.shape == (BATCH, len(data.TINY_CLASSES))
    np.testing.assert_array_equal(np.sum(labels.numpy(), axis=1), 1.0)
    assert data.load_image(data.list_images(tiny_data / "train" / "red_circle")[0], SIZE).shape == (*SIZE, 3)


def test_the_loaded_pipeline_decodes_in_parallel_and_ends_with_a_prefetch(tiny_data):
    steps = steps_of(_loaded(tiny_data / "train"))
    assert steps[0] == "PrefetchDataset" and steps.count("PrefetchDataset") == 1
    assert "ParallelMapDataset" in steps


@pytest.mark.parametrize(
    "transform",
    [
        lambda ds: ds.map(lambda x, y: (x / 255.0, y)),
        lambda ds: ds.cache(),
        lambda ds: ds.prefetch(tf.data.AUTOTUNE),
        lambda ds: ds.take(1),
    ],
    ids=["map", "cache", "prefetch", "take"],
)
def test_any_transformation_drops_class_names_and_file_paths(tiny_data, transform):
    loaded = _loaded(tiny_data / "train")
    assert hasattr(loaded, "class_names") and hasattr(loaded, "file_paths")
    transformed = transform(loaded)
    assert not hasattr(transformed, "class_names") and not hasattr(transformed, "file_paths")


def test_image_folders_returns_the_loaded_datasets_without_a_second_prefetch(tiny_data):
    folders = (tiny_data / "train", tiny_data / "val", tiny_data / "test")
    train, val, test, names = data.image_folders(*folders, SIZE, BATCH, seed=0)
    direct_images, direct_labels = next(iter(_loaded(folders[0])))
    images, labels = next(iter(train))
    assert images.shape == direct_images.shape and images.dtype == direct_images.dtype
    assert labels.shape == direct_labels.shape
    for dataset, folder in zip((train, val, test), folders, strict=True):
        assert dataset.class_names == names
        assert steps_of(dataset) == steps_of(_loaded(folder, shuffle=dataset is train))
        assert dataset.num_images == data.num_images(folder)
    assert sum(int(len(y)) for _, y in val) == data.num_images(folders[1]), "one pass reads each image once"
