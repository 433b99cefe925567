"""Checking, cleaning learners' photo folders (``helpers._internal.image_check``; ``helpers.data`` offers them).

Each test builds its folders itself (Pillow, ``tmp_path``). Nothing here is timed: how long the check takes
on the real 3,750-image folder is measured by hand and reported, never asserted (timings are not tests).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers import config, data
from helpers._internal import image_check
from helpers._internal.image_check import BadImageFolderError, check_image_folder, clean_image_folder
from tests.conftest import SHARED, needs_shared_data

CLASSES = ("birds", "cats", "dogs")
COLOURS = {"birds": (40, 60, 220), "cats": (220, 40, 40), "dogs": (40, 200, 60)}

#: Every bad entry of the dirty folder: path under the root -> the kind it must be reported with.
BAD = {
    "train/cats/notes.jpg": "not_image",
    "train/cats/.DS_Store": "hidden_file",
    "train/Thumbs.db": "hidden_file",
    "train/cats/._good_0.jpg": "hidden_image",
    "train/cats/empty.jpg": "empty_file",
    "train/cats/cut.jpg": "truncated",
    "train/dogs/cut.png": "truncated",
    "train/dogs/garbled.png": "corrupt",
    "train/dogs/iphone.heic": "unsupported_format",
    "train/dogs/iphone_renamed.jpg": "unsupported_format",
    "train/birds/photo.webp": "unsupported_format",
    "train/birds/scan.tiff": "unsupported_format",
    "train/birds/saved.jfif": "ignored_extension",
    "train/birds/gone.jpg": "broken_link",
    "train/loose.jpg": "loose_file",
    "train/__MACOSX": "system_folder",
    "train/cats/readme.txt": "stray_file",
    "train/cats/anim.gif": "animated",
    "train/cats/print.jpg": "cmyk",
    "train/dogs/deep.png": "sixteen_bit",
    "train/dogs/logo.png": "alpha",
    "train/birds/grey.jpg": "greyscale",
    "train/birds/actually_png.jpg": "wrong_extension",
    "train/cats/tiny.jpg": "too_small",
    "train/cats/turned.jpg": "rotated",
    "train/dogs/more": "nested_folder",
    "train/dogs/spare.jpg": "duplicate_in_split",
    "test/cats/copy_of_train.jpg": "duplicate_across_splits",
}
#: The bad entries that stop training: the files cleaning moves.
ERROR_FILES = {path for path, kind in BAD.items() if image_check.KINDS[kind].severity == "error"}
#: What ``convert=True`` turns into a JPEG (original path -> new path); HEIC cannot be read, so it is moved.
CONVERTED = {
    "train/birds/photo.webp": "train/birds/photo.jpg",
    "train/birds/scan.tiff": "train/birds/scan.jpg",
    "train/birds/saved.jfif": "train/birds/saved.jpg",
    "train/cats/anim.gif": "train/cats/anim.jpg",
    "train/cats/print.jpg": "train/cats/print.jpg",
    "train/dogs/deep.png": "train/dogs/deep.jpg",
    "train/dogs/logo.png": "train/dogs/logo.jpg",
    "train/birds/grey.jpg": "train/birds/grey.jpg",
    "train/birds/actually_png.jpg": "train/birds/actually_png.jpg",
    "train/cats/turned.jpg": "train/cats/turned.jpg",
}


def _photo(name: str, seed: int, size: tuple[int, int] = (32, 32)) -> Image.Image:
    """A small RGB photo: noise plus the class colour in the middle, unique per seed."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(60, 190, size=(size[1], size[0], 3), dtype=np.uint8)
    pixels[size[1] // 4 : 3 * size[1] // 4, size[0] // 4 : 3 * size[0] // 4] = COLOURS[name]
    return Image.fromarray(pixels)


def _encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _good_folders(root: Path, per_split: dict[str, int]) -> Path:
    """``root/<split>/<class>/good_<i>.jpg`` for every split and class."""
    seed = 0
    for split, count in per_split.items():
        for name in CLASSES:
            (root / split / name).mkdir(parents=True, exist_ok=True)
            for i in range(count):
                seed += 1
                _photo(name, seed).save(root / split / name / f"good_{i}.jpg", quality=90)
    return root


def _make_dirty(root: Path) -> Path:
    """A train / val / test folder of good photos plus one entry for every key of :data:`BAD`."""
    _good_folders(root, {"train": 4, "val": 2, "test": 2})
    train = root / "train"
    jpeg = _encoded(_photo("cats", 100, (64, 64)), "JPEG", quality=90)
    png = _encoded(_photo("dogs", 101), "PNG")
    garbled = bytearray(png)
    garbled[garbled.find(b"IDAT") + 20] ^= 0xFF
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(200)
    frames = [_photo("cats", 102).convert("P"), _photo("cats", 103).convert("P")]
    animated = io.BytesIO()
    frames[0].save(animated, "GIF", save_all=True, append_images=frames[1:], duration=100)
    deep = Image.fromarray(np.arange(32 * 32, dtype=np.uint16).reshape(32, 32) * 60)
    logo = _photo("dogs", 104).convert("RGBA")
    logo.putalpha(Image.fromarray(np.tile(np.array([0, 255], dtype=np.uint8).repeat(16), (32, 1))))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to show"
    payloads = {
        "train/cats/notes.jpg": b"these are my notes, not a photo\n",
        "train/cats/.DS_Store": b"\x00\x00\x00\x01Bud1" + bytes(60),
        "train/Thumbs.db": bytes(64),
        "train/cats/._good_0.jpg": b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + bytes(60),
        "train/cats/empty.jpg": b"",
        "train/cats/cut.jpg": jpeg[: len(jpeg) // 2],
        "train/dogs/cut.png": png[: len(png) // 2],
        "train/dogs/garbled.png": bytes(garbled),
        "train/dogs/iphone.heic": heic,
        "train/dogs/iphone_renamed.jpg": heic,
        "train/birds/photo.webp": _encoded(_photo("birds", 105), "WEBP"),
        "train/birds/scan.tiff": _encoded(_photo("birds", 106), "TIFF"),
        "train/birds/saved.jfif": _encoded(_photo("birds", 107), "JPEG"),
        "train/loose.jpg": _encoded(_photo("cats", 108), "JPEG"),
        "train/__MACOSX/cats/._good_1.jpg": b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + bytes(60),
        "train/cats/readme.txt": b"photos of my cats\n",
        "train/cats/anim.gif": animated.getvalue(),
        "train/cats/print.jpg": _encoded(_photo("cats", 109).convert("CMYK"), "JPEG"),
        "train/dogs/deep.png": _encoded(deep, "PNG"),
        "train/dogs/logo.png": _encoded(logo, "PNG"),
        "train/birds/grey.jpg": _encoded(_photo("birds", 110).convert("L"), "JPEG"),
        "train/birds/actually_png.jpg": _encoded(_photo("birds", 111), "PNG"),
        "train/cats/tiny.jpg": _encoded(_photo("cats", 112, (16, 16)), "JPEG"),
        "train/cats/turned.jpg": _encoded(_photo("cats", 113, (48, 32)), "JPEG", exif=exif.tobytes()),
        "train/dogs/more/nested.jpg": _encoded(_photo("dogs", 114), "JPEG"),
        "train/dogs/spare.jpg": (train / "dogs" / "good_1.jpg").read_bytes(),
        "test/cats/copy_of_train.jpg": (train / "cats" / "good_0.jpg").read_bytes(),
    }
    for relative, payload in payloads.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(payload)
    (train / "birds" / "gone.jpg").symlink_to(root.parent / "nowhere.jpg")
    return root


@pytest.fixture
def dirty(tmp_path: Path) -> Path:
    return _make_dirty(tmp_path / "photos")


def _tree(*roots: Path) -> dict[str, tuple]:
    """Everything under ``roots`` (links not followed): kind, content hash or link target, modification time."""
    found = {}
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            for name in dirnames + filenames:
                path = Path(dirpath) / name
                stat = path.lstat()
                if path.is_symlink():
                    found[str(path)] = ("link", os.readlink(path))
                elif path.is_dir():
                    found[str(path)] = ("dir",)
                else:
                    found[str(path)] = ("file", hashlib.sha256(path.read_bytes()).hexdigest(), stat.st_mtime_ns)
    return found


def _files(*roots: Path) -> list[Path]:
    return [Path(d) / f for root in roots for d, _, names in os.walk(root) for f in names]


def _kinds_by_path(report: image_check.FolderReport, root: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for problem in report.problems:
        found.setdefault(problem.path.relative_to(root).as_posix(), set()).add(problem.kind)
    return found


# --------------------------------------------------------------------------- checking


def test_every_bad_entry_is_reported_with_its_kind(dirty):
    report = check_image_folder(dirty)
    found = _kinds_by_path(report, dirty)
    assert len(set(BAD.values())) >= 18
    missing = {path: kind for path, kind in BAD.items() if kind not in found.get(path, set())}
    assert missing == {}
    assert not any("good_" in path and "._" not in path for path in found)  # good photos have no problems
    assert report.layout == "splits" and list(report.splits) == ["train", "val", "test"]
    assert not report.ok
    assert {p.relative_to(dirty).as_posix() for p in report.error_files()} == ERROR_FILES
    assert report.classes["test"] == {"birds": 2, "cats": 3, "dogs": 2}
    assert report.classes["train"]["dogs"] == 4 + 4  # good, the 16-bit and transparent PNGs, nested, duplicate


def test_each_problem_says_what_it_is_and_what_to_do(dirty):
    report = check_image_folder(dirty)
    for problem in report.problems:
        assert problem.kind in image_check.KINDS and problem.severity in ("error", "warning")
        assert problem.reason.startswith(problem.detail) and len(problem.reason) > len(problem.detail) + 10
    by_path = {p.path.relative_to(dirty).as_posix(): p for p in report.problems}
    assert "text" in by_path["train/cats/notes.jpg"].reason
    assert "HEIC" in by_path["train/dogs/iphone_renamed.jpg"].reason
    assert "16x16" in by_path["train/cats/tiny.jpg"].reason
    assert "train/cats/good_0.jpg" in by_path["test/cats/copy_of_train.jpg"].reason
    assert {p.kind for p in report.warnings} >= {"greyscale", "alpha", "duplicate_across_splits", "too_small"}


def test_the_summary_counts_each_kind_and_names_paths(dirty):
    text = str(check_image_folder(dirty))
    assert "ERRORS" in text and "WARNINGS" in text
    assert "unsupported_format (4)" in text and "hidden_file (2)" in text
    assert "train/cats/notes.jpg" in text
    assert f'clean_image_folder("{dirty}")' in text


def test_the_check_changes_nothing(dirty):
    before = _tree(dirty.parent)
    check_image_folder(dirty)
    check_image_folder(dirty / "train", min_side=64, max_ratio=1.5)
    assert _tree(dirty.parent) == before


def test_the_minimum_side_is_a_parameter(dirty):
    small = check_image_folder(dirty, min_side=33).paths("too_small")
    assert len(small) > 10 and dirty / "train" / "cats" / "tiny.jpg" in small
    assert check_image_folder(dirty, min_side=8).paths("too_small") == []


def test_folder_problems_are_reported_and_cleaning_leaves_folders_alone(tmp_path):
    root = tmp_path / "layout"
    for name, count in (("a", 12), ("b", 0), ("c", 1)):
        (root / "train" / name).mkdir(parents=True)
        for i in range(count):
            _photo("cats", 200 + 20 * len(name) + i + 7 * count).save(root / "train" / name / f"{i}.jpg")
    (root / "test" / "a").mkdir(parents=True)
    _photo("dogs", 300).save(root / "test" / "a" / "0.jpg")
    (root / "val").mkdir()
    _photo("dogs", 301).save(root / "val" / "stray.jpg")
    report = check_image_folder(root)
    found = _kinds_by_path(report, root)
    assert "empty_class" in found["train/b"]
    assert "uneven_classes" in found["train"]  # 12 images against 1, more than 10 times
    assert {"single_class", "class_mismatch"} <= found["test"]
    assert {"no_classes", "class_mismatch"} <= found["val"] and "loose_file" in found["val/stray.jpg"]
    assert check_image_folder(root, max_ratio=20).paths("uneven_classes") == []
    result = clean_image_folder(root)
    assert [p.relative_to(root).as_posix() for p, _ in result.moved] == ["val/stray.jpg"]
    assert (root / "train" / "b").is_dir() and (root / "val").is_dir()  # folders are left as they are
    assert {p.kind for p in result.after.errors} == {"empty_class", "single_class", "class_mismatch", "no_classes"}
    assert "does not fix" in str(result)


def test_a_single_class_folder(tmp_path):
    (tmp_path / "one" / "cats").mkdir(parents=True)
    _photo("cats", 1).save(tmp_path / "one" / "cats" / "a.jpg")
    report = check_image_folder(tmp_path / "one")
    assert report.layout == "classes" and [p.kind for p in report.errors] == ["single_class"]


def test_the_course_folders_pass(tiny_data, tmp_path):
    assert check_image_folder(tiny_data).problems == []
    assert check_image_folder(tiny_data / "train").problems == []
    data.make_subset(tiny_data / "train", tmp_path / "linked", 0.5, link=True)  # symlinks are followed
    linked = check_image_folder(tmp_path / "linked")
    assert linked.ok and sum(linked.classes[""].values()) == 18
    assert any(p.is_symlink() for p in (tmp_path / "linked").rglob("*.jpg"))


@needs_shared_data
def test_the_real_course_data_passes_with_its_duplicates_as_warnings():
    food = check_image_folder(SHARED / "data" / "food10")
    assert food.ok and food.files == 5000
    carpaccio = SHARED / "data" / "food10" / "test" / "beef_carpaccio" / "1801501.jpg"
    assert carpaccio in food.paths("duplicate_across_splits")
    assert all(p.kind.startswith("duplicate") for p in food.problems)
    bees = check_image_folder(SHARED / "data" / "hymenoptera")
    assert bees.ok and bees.classes["train"] == {"ants": 124, "bees": 121}


def test_find_corrupt_images_decodes_every_pixel(dirty):
    bad = {p.relative_to(dirty).as_posix() for p in data.find_corrupt_images(dirty)}
    assert {"train/cats/cut.jpg", "train/dogs/cut.png", "train/cats/notes.jpg", "train/cats/empty.jpg"} <= bad
    assert {"train/dogs/garbled.png", "train/dogs/iphone_renamed.jpg", "train/birds/gone.jpg"} <= bad
    assert not any("good_" in p and "._" not in p for p in bad)
    assert "train/birds/grey.jpg" not in bad and "train/cats/print.jpg" not in bad


def test_helpers_data_offers_the_check():
    assert data.check_image_folder is check_image_folder and data.clean_image_folder is clean_image_folder
    assert issubclass(data.BadImageFolderError, ValueError)
    assert data.IMAGE_SUFFIXES == image_check.IMAGE_SUFFIXES


# --------------------------------------------------------------------------- cleaning


def test_cleaning_moves_exactly_the_error_files_and_deletes_nothing(dirty):
    rejected = dirty.with_name("photos_rejected")
    before = _tree(dirty)
    count = len(_files(dirty))
    result = clean_image_folder(dirty)
    assert result.rejected_dir == rejected and result.log == rejected / "rejected.csv"
    moved = {src.relative_to(dirty).as_posix(): dst for src, dst in result.moved}
    assert set(moved) == ERROR_FILES
    for relative, target in moved.items():
        assert target == rejected / relative and not os.path.lexists(dirty / relative)
        assert _tree(target.parent)[str(target)][:2] == before[str(dirty / relative)][:2]  # same bytes or link
    assert len(_files(dirty)) + len(_files(rejected)) == count + 1  # + the log
    with open(result.log, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["file"] for row in rows} == ERROR_FILES and all(row["action"] == "moved" for row in rows)
    notes = next(row for row in rows if row["file"] == "train/cats/notes.jpg")
    assert notes["kinds"] == "not_image" and "text" in notes["reason"]
    assert result.ok and result.converted == []
    gone = {dirty / relative for relative in ERROR_FILES}
    untouched = {k: v for k, v in before.items() if not gone & {Path(k), *Path(k).parents}}
    assert {k: v for k, v in _tree(dirty).items() if k in untouched} == untouched


def test_convert_writes_rgb_jpegs_and_keeps_the_originals(dirty):
    originals = {relative: (dirty / relative).read_bytes() for relative in CONVERTED}
    count = len(_files(dirty))
    result = clean_image_folder(dirty, convert=True)
    rejected = result.rejected_dir
    assert {(s.relative_to(dirty).as_posix(), n.relative_to(dirty).as_posix()) for s, n, _ in result.converted} == set(
        CONVERTED.items()
    )
    for relative, new in CONVERTED.items():
        assert (rejected / relative).read_bytes() == originals[relative]  # the original, unchanged
        with Image.open(dirty / new) as image:
            assert image.format == "JPEG" and image.mode == "RGB"
            assert image.getexif().get(0x0112, 1) == 1
    with Image.open(dirty / "train/cats/turned.jpg") as image:
        assert image.size == (32, 48)  # turned upright
    with Image.open(dirty / "train/dogs/logo.jpg") as image:
        assert min(image.getpixel((2, 2))) > 235  # the transparent half is on white
    with Image.open(dirty / "train/dogs/deep.jpg") as image:
        assert max(image.getpixel((31, 31))) > 200  # 16-bit scaled to 8, not clipped or blackened
    moved = {s.relative_to(dirty).as_posix() for s, _ in result.moved}
    assert moved == ERROR_FILES - set(CONVERTED)  # HEIC cannot be read by Pillow: moved aside
    new_files = len({n for _, n, _ in result.converted})
    assert len(_files(dirty)) + len(_files(rejected)) == count + new_files + 1  # + the log
    left = {p.kind for p in result.after.problems}
    assert not left & {k for k, kind in image_check.KINDS.items() if kind.convertible}
    assert result.after.ok


def test_a_second_clean_never_overwrites(dirty):
    first = clean_image_folder(dirty)
    log_before = first.log.read_text()
    (dirty / "train/cats/notes.jpg").write_bytes(b"second notes\n")
    (dirty / "train/cats/empty.jpg").write_bytes(b"")
    second = clean_image_folder(dirty)
    rejected = first.rejected_dir
    assert (rejected / "train/cats/notes.jpg").read_bytes() == b"these are my notes, not a photo\n"
    assert (rejected / "train/cats/notes_1.jpg").read_bytes() == b"second notes\n"
    assert (rejected / "train/cats/empty_1.jpg").exists()
    assert {d.relative_to(rejected).as_posix() for _, d in second.moved} == {
        "train/cats/notes_1.jpg", "train/cats/empty_1.jpg"
    }
    log_after = second.log.read_text()
    assert log_after.startswith(log_before)  # appended, never rewritten
    with open(second.log, newline="") as handle:
        notes = [row["moved_to"] for row in csv.DictReader(handle) if row["file"] == "train/cats/notes.jpg"]
    assert notes == ["train/cats/notes.jpg", "train/cats/notes_1.jpg"]
    assert clean_image_folder(dirty).moved == [] and second.log.read_text() == log_after


# --------------------------------------------------------------------------- the loaders


def _profile(dirty: Path, tmp_path: Path, variable: str = "COURSE_DATA_DIR") -> config.Profile:
    return config.load_profile({variable: str(dirty), "COURSE_DATA_ROOT": str(tmp_path / "course")})


def test_every_loader_refuses_the_dirty_folder_and_says_what_to_do(dirty, tmp_path):
    train, val, test = dirty / "train", dirty / "val", dirty / "test"
    calls = {
        "image_folders": lambda: data.image_folders(train, val, test, (32, 32), 8),
        "photo_folder": lambda: data.photo_folder(train, (32, 32), 4, min_per_class=2),
        "food_data": lambda: data.food_data(10, _profile(dirty, tmp_path)),
        "two_class_data": lambda: data.two_class_data(_profile(dirty, tmp_path, "COURSE_TWO_CLASS_DIR")),
    }
    for name, call in calls.items():
        with pytest.raises(BadImageFolderError) as caught:
            call()
        message = str(caught.value)
        assert "notes.jpg" in message and "helpers.data.clean_image_folder(" in message, name
        assert f"{len(ERROR_FILES)} unusable file(s)" in message, name
        assert "... and" in message and "more" in message, name  # the first few, then how many more
    assert not (tmp_path / "course" / "subsets").exists()  # refused before any subset was made
    with pytest.raises(ValueError, match=re.escape(f'clean_image_folder("{dirty.resolve()}")')):
        data.food_data(10, _profile(dirty, tmp_path))
    with pytest.raises(ValueError, match=re.escape(f'clean_image_folder("{train}")')):
        data.photo_folder(train, (32, 32), 4, min_per_class=2)


def test_a_cleaned_folder_loads_and_trains(dirty, capsys):
    import keras

    clean_image_folder(dirty)
    counts = check_image_folder(dirty).classes
    train, val, test, names = data.image_folders(dirty / "train", dirty / "val", dirty / "test", (32, 32), 8)
    assert "warning" in capsys.readouterr().out  # warnings are printed, not raised
    assert names == list(CLASSES)
    assert sum(int(x.shape[0]) for x, _ in train) == sum(counts["train"].values())
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((32, 32, 3)),
        keras.layers.Rescaling(1 / 255),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(len(names), activation="softmax"),
    ])
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(train, validation_data=val, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0]) and np.isfinite(history.history["val_loss"][0])
    mine_train, mine_val, mine_names = data.photo_folder(dirty / "train", (32, 32), 4, min_per_class=2)
    assert mine_names == list(CLASSES)
    loaded = sum(int(x.shape[0]) for x, _ in mine_train) + sum(int(x.shape[0]) for x, _ in mine_val)
    assert loaded == sum(counts["train"].values())


def test_a_checked_folder_is_not_read_again_and_a_change_reads_only_new_files(tiny_data, tmp_path, monkeypatch):
    for split in ("train", "val", "test"):
        shutil.copytree(tiny_data / split, tmp_path / split)
    folders = (tmp_path / "train", tmp_path / "val", tmp_path / "test")
    data.image_folders(*folders, (32, 32), 8)
    read = []
    real = image_check.read_content
    monkeypatch.setattr(image_check, "read_content", lambda path, full=True: read.append(path) or real(path, full))
    data.image_folders(*folders, (32, 32), 8)
    assert read == []
    _photo("cats", 7).save(tmp_path / "train" / "red_circle" / "new.jpg")
    data.image_folders(*folders, (32, 32), 8)
    assert read == [(tmp_path / "train" / "red_circle" / "new.jpg").resolve()]


def test_warnings_are_printed_once(tiny_data, tmp_path, capsys):
    for split in ("train", "val", "test"):
        shutil.copytree(tiny_data / split, tmp_path / split)
    _photo("cats", 8).convert("L").save(tmp_path / "train" / "red_circle" / "grey.jpg")
    folders = (tmp_path / "train", tmp_path / "val", tmp_path / "test")
    data.image_folders(*folders, (32, 32), 8)
    out = capsys.readouterr().out
    assert "greyscale (1)" in out and "grey.jpg" in out
    _photo("cats", 9).save(tmp_path / "train" / "red_circle" / "another.jpg")  # a change: checked again
    data.image_folders(*folders, (32, 32), 8)
    assert "greyscale" not in capsys.readouterr().out


def test_files_cut_short_are_caught_even_if_pillow_was_told_to_pad_them(dirty, monkeypatch):
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    found = _kinds_by_path(check_image_folder(dirty), dirty)
    assert "truncated" in found["train/cats/cut.jpg"] and "truncated" in found["train/dogs/cut.png"]
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # the learner's setting is left as it was
