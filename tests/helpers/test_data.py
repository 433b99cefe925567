import io
import os
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from helpers import config, data
from tests.conftest import SHARED, needs_shared_data


def test_tiny_folders_have_the_requested_layout(tiny_data):
    assert data.list_classes(tiny_data / "train") == sorted(data.TINY_CLASSES)
    assert data.count_images(tiny_data / "train") == {c: 12 for c in data.TINY_CLASSES}
    assert data.count_images(tiny_data / "test") == {c: 4 for c in data.TINY_CLASSES}
    assert data.find_corrupt_images(tiny_data) == []


def test_tiny_classes_differ_in_colour(tiny_data):
    means = {
        c: np.mean(
            [data.load_image(p, (32, 32)).mean(axis=(0, 1)) for p in data.list_images(tiny_data / "train" / c)], axis=0
        )
        for c in data.TINY_CLASSES
    }
    assert means["red_circle"][0] > means["red_circle"][2]
    assert means["blue_triangle"][2] > means["blue_triangle"][0]


def test_walk_through_dir_is_sorted_and_counts(tiny_data, capsys):
    lines = data.walk_through_dir(tiny_data / "train")
    assert lines[0].startswith("There are 3 directories and 0 images")
    assert [line.rsplit("/", 1)[-1] for line in lines[1:]] == [f"{c}'." for c in sorted(data.TINY_CLASSES)]
    assert all("12 images" in line for line in lines[1:])
    assert capsys.readouterr().out.strip().splitlines() == lines


@pytest.mark.parametrize(
    ("available", "fraction", "reference", "expected"),
    [(375, 0.01, 750, 7), (375, 0.1, 750, 75), (375, 1.0, 750, 375), (12, 0.5, None, 6), (3, 0.01, None, 1)],
)
def test_subset_size(available, fraction, reference, expected):
    assert data.subset_size(available, fraction, reference) == expected


def test_make_subset_is_exact_deterministic_and_leaves_src(tiny_data, tmp_path):
    before = sorted(p.name for p in (tiny_data / "train").rglob("*.jpg"))
    a = data.make_subset(tiny_data / "train", tmp_path / "a", 0.5, seed=1)
    b = data.make_subset(tiny_data / "train", tmp_path / "b", 0.5, seed=1)
    data.make_subset(tiny_data / "train", tmp_path / "c", 0.5, seed=2)
    assert a == b == {k: 6 for k in data.TINY_CLASSES}
    names = lambda d: sorted(p.name for p in d.rglob("*.jpg"))  # noqa: E731
    assert names(tmp_path / "a") == names(tmp_path / "b") != names(tmp_path / "c")
    assert sorted(p.name for p in (tiny_data / "train").rglob("*.jpg")) == before


def test_make_subset_reuses_same_and_refuses_different(tiny_data, tmp_path):
    data.make_subset(tiny_data / "train", tmp_path / "s", 0.5, seed=1)
    assert data.make_subset(tiny_data / "train", tmp_path / "s", 0.5, seed=1) == {k: 6 for k in data.TINY_CLASSES}
    with pytest.raises(FileExistsError, match="different selection"):
        data.make_subset(tiny_data / "train", tmp_path / "s", 0.25, seed=1)


def test_make_subset_can_copy(tiny_data, tmp_path):
    data.make_subset(tiny_data / "train", tmp_path / "copy", 0.25, link=False)
    files = list((tmp_path / "copy").rglob("*.jpg"))
    assert len(files) == 9 and not any(f.is_symlink() for f in files)


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, payload in members.items():
            zf.writestr(name, payload)
    return path


def test_download_and_extract_from_a_file_url(tmp_path):
    archive = _zip(tmp_path / "food.zip", {"food/train/a/1.jpg": b"x", "food/test/a/2.jpg": b"y"})
    out = data.download_and_extract(archive.as_uri(), tmp_path / "dest", sha256=data.sha256sum(archive))
    assert (out / "food" / "train" / "a" / "1.jpg").read_bytes() == b"x"


def test_wrong_sha256_is_refused_and_the_download_deleted(tmp_path):
    archive = _zip(tmp_path / "food.zip", {"a.txt": b"x"})
    with pytest.raises(ValueError, match="SHA-256"):
        data.download_and_extract(archive.as_uri(), tmp_path / "dest", sha256="0" * 64)
    assert not (tmp_path / "dest" / "downloads" / "food.zip").exists()
    assert not (tmp_path / "dest" / "a.txt").exists()


def test_zip_member_escaping_dest_is_refused(tmp_path):
    archive = _zip(tmp_path / "evil.zip", {"ok.txt": b"x", "../evil.txt": b"boom"})
    with pytest.raises(ValueError, match="outside"):
        data.extract_archive(archive, tmp_path / "dest")
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "dest" / "ok.txt").exists()


def test_tar_member_escaping_dest_is_refused(tmp_path):
    path = tmp_path / "evil.tar.gz"
    with tarfile.open(path, "w:gz") as tf_:
        info = tarfile.TarInfo("../../evil.txt")
        info.size = 4
        tf_.addfile(info, io.BytesIO(b"boom"))
    with pytest.raises(ValueError, match="outside"):
        data.extract_archive(path, tmp_path / "dest")


def test_no_network_says_what_to_do(tmp_path):
    with pytest.raises(ConnectionError, match="COURSE_DATA_DIR"):
        data.download_and_extract((tmp_path / "missing.zip").as_uri(), tmp_path / "dest")


def test_layout_errors_say_what_to_do(tmp_path, tiny_data):
    with pytest.raises(ValueError, match="does not exist"):
        data.list_classes(tmp_path / "nope")
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "1.jpg").write_bytes((tiny_data / "train" / "red_circle" / "red_circle_000.jpg").read_bytes())
    with pytest.raises(ValueError, match="loose images"):
        data.list_classes(tmp_path / "flat")
    (tmp_path / "cls" / "empty").mkdir(parents=True)
    with pytest.raises(ValueError, match="hold no images"):
        data.list_classes(tmp_path / "cls")


def test_corrupt_image_is_named(tmp_path, tiny_data):
    import shutil

    for split in ("train", "val", "test"):
        shutil.copytree(tiny_data / split, tmp_path / split)
    data.image_folders(tmp_path / "train", tmp_path / "val", tmp_path / "test", (32, 32), 8)  # verified once
    (tmp_path / "train" / "red_circle" / "broken.jpg").write_bytes(b"not an image")
    with pytest.raises(ValueError, match="broken.jpg"):  # the folder changed: checked again
        data.image_folders(tmp_path / "train", tmp_path / "val", tmp_path / "test", (32, 32), 8)


def test_a_verified_folder_is_not_read_again(tiny_data, monkeypatch):
    data.image_folders(tiny_data / "train", tiny_data / "val", tiny_data / "test", (32, 32), 8)
    from helpers._internal import image_check

    monkeypatch.setattr(image_check, "read_content", lambda *a, **k: pytest.fail(f"{a[0]} was read again"))
    data.image_folders(tiny_data / "train", tiny_data / "val", tiny_data / "test", (32, 32), 8)


def test_image_folders_pipelines(tiny_data):
    train, val, test, names = data.image_folders(
        tiny_data / "train", tiny_data / "val", tiny_data / "test", (32, 32), 8
    )
    assert names == sorted(data.TINY_CLASSES)
    x, y = next(iter(train))
    assert x.shape == (8, 32, 32, 3) and y.shape == (8, 3)
    assert float(np.max(x)) > 1.0  # pixels stay in [0, 255]
    for fixed in (val, test):
        labels = np.concatenate([yb.numpy().argmax(1) for _, yb in fixed])
        assert labels.tolist() == sorted(labels.tolist())  # validation and test sets are not shuffled


def test_mismatched_classes_are_refused(tiny_data, tmp_path):
    import shutil

    shutil.copytree(tiny_data / "test", tmp_path / "test")
    shutil.rmtree(tmp_path / "test" / "red_circle")
    with pytest.raises(ValueError, match="differ"):
        data.image_folders(tiny_data / "train", tiny_data / "val", tmp_path / "test", (32, 32), 8)


def test_photo_folder_splits_and_requires_enough_photos(tiny_data):
    train, val, names = data.photo_folder(tiny_data / "train", (32, 32), 4, min_per_class=10)
    assert names == sorted(data.TINY_CLASSES)
    assert sum(int(x.shape[0]) for x, _ in train) + sum(int(x.shape[0]) for x, _ in val) == 36
    with pytest.raises(ValueError, match="at least 20"):
        data.photo_folder(tiny_data / "train", min_per_class=20)


def _disjoint(*folders):
    names = [{(c, n) for c, files in data.image_names(f).items() for n in files} for f in folders]
    return all(not (a & b) for i, a in enumerate(names) for b in names[i + 1 :])


def test_food_data_in_smoke_profile(tmp_path):
    profile = config.load_profile({"COURSE_SMOKE": "1", "COURSE_DATA_ROOT": str(tmp_path)})
    train_1, val, test = data.food_data(1, profile)
    train_100, val_again, test_again = data.food_data(100, profile)
    assert test == test_again and val == val_again
    assert data.count_images(val) == {c: 1 for c in data.TINY_CLASSES}  # a quarter of 4 test images per class
    assert data.count_images(train_1) == {c: 7 for c in data.TINY_CLASSES}
    assert data.count_images(train_100) == {c: 11 for c in data.TINY_CLASSES}  # 12 minus the validation image
    assert _disjoint(val, train_100) and _disjoint(val, train_1)


def test_food_data_from_local_folder_refuses_bad_layout(tmp_path):
    (tmp_path / "only_train" / "train" / "a").mkdir(parents=True)
    profile = config.load_profile({"COURSE_DATA_DIR": str(tmp_path / "only_train"), "COURSE_DATA_ROOT": str(tmp_path)})
    with pytest.raises(ValueError, match="test/ is missing"):
        data.food_data(10, profile)


@needs_shared_data
def test_food_data_from_the_shared_food10(tmp_path):
    profile = config.load_profile({"COURSE_DATA_DIR": str(SHARED / "data/food10"), "COURSE_DATA_ROOT": str(tmp_path)})
    trains = []
    for percent, per_class in ((1, 7), (10, 75), (100, 344)):
        train, val, test = data.food_data(percent, profile)
        counts = data.count_images(train)
        assert len(counts) == 10 and set(counts.values()) == {per_class}
        trains.append(train)
    assert data.num_images(test) == 1250 and data.num_images(val) == 310 == 10 * (125 // 4)
    assert all(_disjoint(val, train) for train in trains)


def test_tfds_loaders_with_mock_data():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=64, policy=tfds.testing.MockPolicy.USE_CODE):
        train, test, names = data.load_food101_tfds(num_classes=10, image_size=(32, 32), batch_size=4)
        assert names[0] == "apple_pie" and len(names) == 10
        for x, y in train.take(2):
            assert x.shape[1:] == (32, 32, 3) and y.shape[1:] == (10,)
            assert np.all(np.asarray(y).sum(axis=1) == 1)
        train, val, test, names, sizes = data.load_cats_vs_dogs(image_size=(32, 32), batch_size=4)
        assert names == ["cat", "dog"]
        learner = config.load_profile({"COURSE_DATA_ROOT": "/tmp/unused"})
        splits = data.two_class_data(learner)
        assert splits.class_names == ["cat", "dog"] and splits.sizes == sizes
        assert min(sizes.values()) > 0  # mock data gives every slice the same number of examples
        for split in (train, val, test):
            x, y = next(iter(split))
            assert x.shape == (4, 32, 32, 3) and y.shape == (4, 2)


def test_load_image_range_and_shape():
    image = data.load_image(SHARED / "images" / "chelsea.png", (64, 48)) if (SHARED / "images").is_dir() else None
    if image is None:
        pytest.skip("needs ../shared/images")
    assert image.shape == (64, 48, 3) and image.dtype == np.float32 and 1 < image.max() <= 255


def test_tests_leave_course_folders_alone():
    assert os.environ["COURSE_RUN_DIR"] != str(config.find_root() / "runs")


def test_learner_profile_validation_is_disjoint_from_every_subset(tmp_path, tiny_data):
    """Downloads faked by pre-extracted archives: 1% and 10% are drawn from the 100% training images."""
    import shutil

    profile = config.load_profile({"COURSE_DATA_ROOT": str(tmp_path)})
    full = tmp_path / "10_food_classes_all_data"
    shutil.copytree(tiny_data / "train", full / "train")
    shutil.copytree(tiny_data / "test", full / "test")
    for percent, per_class in ((1, 1), (10, 3)):
        archive = tmp_path / data.FOOD_ARCHIVES[percent].rsplit("/", 1)[-1].removesuffix(".zip")
        shutil.copytree(tiny_data / "test", archive / "test")
        for name in data.TINY_CLASSES:
            (archive / "train" / name).mkdir(parents=True)
            for path in data.list_images(full / "train" / name)[:per_class]:
                shutil.copy(path, archive / "train" / name)
    folders = {p: data.food_data(p, profile) for p in (1, 10, 100)}
    assert {f.test for f in folders.values()} == {tmp_path / "10_food_classes_10_percent" / "test"}
    assert len({f.val for f in folders.values()}) == 1
    assert folders[1].train == tmp_path / "10_food_classes_1_percent" / "train"
    val = folders[10].val
    assert data.count_images(val) == {c: 1 for c in data.TINY_CLASSES}
    assert all(_disjoint(val, f.train) for f in folders.values())
    assert data.count_images(folders[100].train) == {c: 11 for c in data.TINY_CLASSES}


def test_validation_split_keeps_a_training_image_and_never_overwrites(tmp_path, tiny_data):
    counts = data.make_validation_split(tiny_data / "train", tmp_path / "val", 100)
    assert set(counts.values()) == {11}
    with pytest.raises(FileExistsError):
        data.make_validation_split(tiny_data / "train", tmp_path / "val", 2)


def test_num_images_totals_every_class(tiny_data):
    assert data.num_images(tiny_data / "train") == 36 == sum(data.count_images(tiny_data / "train").values())


def test_two_class_data_in_smoke_profile(tmp_path):
    profile = config.load_profile({"COURSE_SMOKE": "1", "COURSE_DATA_ROOT": str(tmp_path)})
    splits = data.two_class_data(profile)
    assert splits.class_names == ["blue_square", "red_circle"]
    assert splits.sizes == {"train": 2 * 15, "val": 2 * 1, "test": 2 * 5}
    x, y = next(iter(splits.val))
    assert x.shape[1:] == (64, 64, 3) and y.shape[1:] == (2,)


@needs_shared_data
def test_two_class_data_from_ants_and_bees(tmp_path):
    """The classic set has train/ and val/ only: val/ becomes the test set, validation comes out of train/."""
    folder = SHARED / "data" / "hymenoptera"
    profile = config.load_profile({"COURSE_DATA_DIR": str(folder), "COURSE_DATA_ROOT": str(tmp_path)})
    splits = data.two_class_data(profile)
    assert splits.class_names == ["ants", "bees"]
    assert splits.sizes["test"] == data.num_images(folder / "val")
    assert splits.sizes["train"] + splits.sizes["val"] == data.num_images(folder / "train")
    assert splits.sizes["val"] <= splits.sizes["test"] // 4


@needs_shared_data
def test_the_two_class_lessons_take_their_own_folder_beside_the_food_classes(tmp_path):
    food, bees = SHARED / "data" / "food10", SHARED / "data" / "hymenoptera"
    env = {"COURSE_DATA_DIR": str(food), "COURSE_DATA_ROOT": str(tmp_path)}
    with pytest.raises(ValueError, match="holds 10 classes, and this is a two-class lesson. Set COURSE_TWO_CLASS_DIR"):
        data.two_class_data(config.load_profile(env))
    profile = config.load_profile({**env, "COURSE_TWO_CLASS_DIR": str(bees)})
    assert data.two_class_data(profile).class_names == ["ants", "bees"]
    assert "two-class data=" in profile.describe() and profile.name == "local"
    assert len(data.count_images(data.food_data(10, profile)[0])) == 10, "the food lessons keep the food classes"


def test_two_class_data_refuses_a_folder_without_test_or_val(tmp_path):
    (tmp_path / "mine" / "train" / "a").mkdir(parents=True)
    profile = config.load_profile({"COURSE_DATA_DIR": str(tmp_path / "mine"), "COURSE_DATA_ROOT": str(tmp_path)})
    with pytest.raises(ValueError, match=r"test/<class>/ \(or val/<class>/\)"):
        data.two_class_data(profile)


def test_demo_photos_prefer_the_shared_folder(tmp_path):
    from PIL import Image

    Image.new("RGB", (8, 8)).save(tmp_path / "coffee.png")
    (tmp_path / "notes.txt").write_text("not a photo")
    photos = data.demo_photos(shared=tmp_path)
    assert photos == {tmp_path / "coffee.png": "espresso"}


def test_demo_photos_without_folder_or_network_say_what_to_do(tmp_path, monkeypatch):
    profile = config.load_profile({"COURSE_DATA_ROOT": str(tmp_path)})
    monkeypatch.setattr(data, "EXAMPLE_PHOTOS", {(tmp_path / "missing.jpg").as_uri(): "x"})
    with pytest.raises(ConnectionError, match="pass shared="):
        data.demo_photos(profile, shared=tmp_path / "none")
