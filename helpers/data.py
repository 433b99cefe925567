"""Getting, sub-sampling and loading the course's image data.

The functions here turn "a folder of photos, one sub-folder per class" into
``tf.data`` pipelines, make the 1% / 10% / 100% training subsets, and fetch the
course's food data in whichever way the active profile asks for.

Every loader checks its folder first (:func:`check_image_folder`, from :mod:`helpers._internal.image_check`)
and refuses one holding files training cannot use; :func:`clean_image_folder` sets those aside.

Class names always come from folder names; nothing here hard-codes them.
"""

from __future__ import annotations

import os
import random
import shutil
import warnings
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from helpers import config
from helpers._internal import image_check, network
from helpers._internal.downloads import LOCK_NAME as LOCK_NAME
from helpers._internal.downloads import MARKER_NAME as MARKER_NAME
from helpers._internal.downloads import Pin as Pin
from helpers._internal.downloads import archive_stem
from helpers._internal.downloads import download_and_extract as download_and_extract
from helpers._internal.downloads import download_file as download_file
from helpers._internal.downloads import extract_archive as extract_archive
from helpers._internal.downloads import load_pins as load_pins
from helpers._internal.downloads import read_marker as read_marker
from helpers._internal.downloads import sha256sum as sha256sum
from helpers._internal.image_check import BadImageFolderError as BadImageFolderError
from helpers._internal.image_check import CleanResult as CleanResult
from helpers._internal.image_check import FolderReport as FolderReport
from helpers._internal.image_check import Problem as Problem
from helpers._internal.image_check import check_image_folder as check_image_folder
from helpers._internal.image_check import clean_image_folder as clean_image_folder

if TYPE_CHECKING:  # pragma: no cover - typing only
    import tensorflow as tf

#: File endings ``keras.utils.image_dataset_from_directory`` reads.
IMAGE_SUFFIXES = image_check.IMAGE_SUFFIXES

#: The course's food archives (10 Food-101 classes; test set 250 images per class).
FOOD_ARCHIVES = {
    1: "https://storage.googleapis.com/ztm_tf_course/food_vision/10_food_classes_1_percent.zip",
    10: "https://storage.googleapis.com/ztm_tf_course/food_vision/10_food_classes_10_percent.zip",
    100: "https://storage.googleapis.com/ztm_tf_course/food_vision/10_food_classes_all_data.zip",
}

#: The fixed validation set holds, per class, this fraction of the test set's images: as large as the design
#: allows, so that its 95 % intervals are as narrow as they can be without taking more from the training data.
VALIDATION_SHARE_OF_TEST = 0.25

#: Classes of the tiny generated data set used by the smoke profile and the tests.
TINY_CLASSES = ("red_circle", "green_square", "blue_triangle")


def list_images(folder: str | Path) -> list[Path]:
    """Image files directly inside ``folder``, sorted by name.

    Taught in notebook 00, section 6 ("One image, as numbers").

    Example:
        >>> list_images("data/food/train/apple_pie")[:1]  # doctest: +SKIP
        [PosixPath('data/food/train/apple_pie/1005649.jpg')]
    """
    return sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def list_classes(folder: str | Path) -> list[str]:
    """Sorted class names of an image folder (its sub-folders), checking the layout.

    Taught in notebook 00, section 4 ("Walk through the folders").

    Raises a ``ValueError`` that says what to do when the folder is missing, has no
    class sub-folders, or a class folder holds no images.

    Example:
        >>> list_classes("data/food/train")  # doctest: +SKIP
        ['apple_pie', 'baby_back_ribs', ...]
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder} does not exist. Expected a folder with one sub-folder of images per class.")
    names = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not names:
        loose = list_images(folder)
        hint = f" It holds {len(loose)} loose images: move them into one sub-folder per class." if loose else ""
        raise ValueError(f"{folder} has no class sub-folders (expected {folder}/<class>/<image>.jpg).{hint}")
    empty = [n for n in names if not list_images(folder / n)]
    if empty:
        raise ValueError(
            f"Class folder(s) {empty} in {folder} hold no images ({', '.join(IMAGE_SUFFIXES)}). "
            "Add images or delete the empty folder."
        )
    return names


def walk_through_dir(path: str | Path) -> list[str]:
    """Print (and return) how many folders and images each folder under ``path`` holds, in sorted order.

    Taught in notebook 00, section 4 ("Walk through the folders").

    Example:
        >>> lines = walk_through_dir("data/food")  # doctest: +SKIP
        There are 2 directories and 0 images in 'data/food'.
    """
    lines = []
    for dirpath, dirnames, filenames in sorted(os.walk(path)):
        dirnames.sort()
        images = [f for f in filenames if Path(f).suffix.lower() in IMAGE_SUFFIXES]
        lines.append(f"There are {len(dirnames)} directories and {len(images)} images in '{dirpath}'.")
    print("\n".join(lines))
    return lines


def count_images(folder: str | Path) -> dict[str, int]:
    """Number of images per class in an image folder.

    Taught in notebook 00, section 4 ("Walk through the folders").

    Example:
        >>> count_images("data/food/train")  # doctest: +SKIP
        {'apple_pie': 75, ...}
    """
    return {name: len(list_images(Path(folder) / name)) for name in list_classes(folder)}


def num_images(folder: str | Path) -> int:
    """Total number of images in an image folder (all classes).

    Taught in notebook 00, section 4 ("Walk through the folders").

    Example:
        >>> num_images("data/food/test")  # doctest: +SKIP
        1250
    """
    return sum(count_images(folder).values())


def count_examples(dataset: Any) -> int:
    """How many examples a batched ``(inputs, labels)`` data set holds, as ``fit_and_record`` records them.

    Used by :func:`helpers.training.fit_and_record` (notebook 01, section 8).

    The course's loaders (:func:`image_folders`, :func:`two_class_data`) note the number on the data
    sets they return (``dataset.num_images``); any other data set is counted once, batch by batch.

    Example:
        >>> import tensorflow as tf
        >>> count_examples(tf.data.Dataset.from_tensor_slices(([1, 2, 3], [0, 1, 0])).batch(2))
        3
    """
    known = getattr(dataset, "num_images", None)
    if known is not None:
        return int(known)
    return sum(int(len(labels)) for _, labels in dataset)


def _noting_size(dataset: Any, size: int) -> Any:
    """``dataset`` with its number of examples noted on it (:func:`count_examples` reads it)."""
    dataset.num_images = size
    return dataset


def subset_size(available: int, fraction: float, reference_per_class: int | None = None) -> int:
    """How many images per class a ``fraction`` subset takes.

    Used by :func:`helpers.data.make_subset` (notebook 00, section 3).

    With ``reference_per_class`` the fraction is of that number (the course's 1% is
    1% of Food-101's 750 images per class, i.e. 7), capped at what is available.

    Example:
        >>> subset_size(375, 0.01, 750), subset_size(375, 0.10, 750), subset_size(375, 1.0, 750)
        (7, 75, 375)
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    base = reference_per_class or available
    return max(1, min(available, int(fraction * base + 1e-9)))


def _select(
    src: Path, count: Callable[[int], int], seed: int, exclude: Mapping[str, Collection[str]] | None
) -> dict[str, list[Path]]:
    """A deterministic per-class sample of ``src``: ``count(available)`` files per class, never one in ``exclude``."""
    rng = random.Random(seed)
    selection: dict[str, list[Path]] = {}
    for name in list_classes(src):
        skip = set((exclude or {}).get(name, ()))
        files = [p for p in list_images(src / name) if p.name not in skip]
        if not files:
            raise ValueError(f"{src / name} has no images left once the validation images are set aside.")
        selection[name] = sorted(rng.sample(files, count(len(files))))
    return selection


def _materialise(selection: Mapping[str, list[Path]], dst: Path, link: bool) -> dict[str, int]:
    """Write ``selection`` into ``dst`` (symlinks or copies), or reuse ``dst`` if it holds exactly that selection."""
    if dst.exists():
        existing = {name: sorted(p.name for p in list_images(dst / name)) for name in list_classes(dst)}
        wanted = {name: [p.name for p in files] for name, files in selection.items()}
        if existing != wanted:
            raise FileExistsError(
                f"{dst} already exists with a different selection. Delete it or choose another folder."
            )
        return {name: len(files) for name, files in existing.items()}
    tmp = dst.with_name(dst.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    for name, files in selection.items():
        (tmp / name).mkdir(parents=True)
        for file in files:
            target = tmp / name / file.name
            if link:
                try:
                    target.symlink_to(file.resolve())
                    continue
                except OSError:
                    pass
            shutil.copy2(file, target)
    tmp.rename(dst)
    return {name: len(files) for name, files in selection.items()}


def image_names(folder: str | Path) -> dict[str, list[str]]:
    """File names of the images of every class in an image folder.

    Taught in notebook 00, section 4 ("Walk through the folders").

    Example:
        >>> image_names("data/food/validation")  # doctest: +SKIP
        {'apple_pie': ['1011328.jpg', ...], ...}
    """
    return {name: [p.name for p in list_images(Path(folder) / name)] for name in list_classes(folder)}


def make_subset(
    src: str | Path,
    dst: str | Path,
    fraction: float,
    seed: int = config.DEFAULT_SEED,
    reference_per_class: int | None = None,
    link: bool = True,
    exclude: Mapping[str, Collection[str]] | None = None,
) -> dict[str, int]:
    """Make a deterministic per-class sample of an image folder, leaving ``src`` untouched.

    Used by :func:`helpers.data.food_data` (notebook 00, section 3).

    The same ``src``, ``fraction``, ``seed`` and ``exclude`` always pick the same files. Files named
    in ``exclude`` (class name to file names, e.g. the validation set) are never picked. Files are
    symlinked (``link=True``, falling back to copies where links are not allowed) or copied. An
    existing ``dst`` is reused when it holds exactly the same selection and refused otherwise, so
    nothing is overwritten.

    Returns:
        the number of images per class in ``dst``.

    Example:
        >>> make_subset("food/train", "food_10_percent/train", 0.10, reference_per_class=750)  # doctest: +SKIP
        {'apple_pie': 75, ...}
    """
    src, dst = Path(src), Path(dst)
    subset_size(1, fraction)  # checks the fraction before anything is read
    selection = _select(src, lambda available: subset_size(available, fraction, reference_per_class), seed, exclude)
    return _materialise(selection, dst, link)


def validation_per_class(test_per_class: int) -> int:
    """Validation images per class: a quarter of the test set's (:data:`VALIDATION_SHARE_OF_TEST`), at least 1.

    Taught in notebook 05 solutions, exercise 3 ("Your own two classes").

    A quarter of Food-101's 250 test images per class is 62: 620 validation images for the 10 classes, a 95 %
    interval of about ±3 points at 80 % accuracy (with 20 per class it was about ±5.5).

    Example:
        >>> validation_per_class(250), validation_per_class(125), validation_per_class(4)
        (62, 31, 1)
    """
    return max(1, int(test_per_class * VALIDATION_SHARE_OF_TEST))


def make_validation_split(
    src: str | Path,
    dst: str | Path,
    per_class: int,
    seed: int = config.DEFAULT_SEED,
    exclude: Mapping[str, Collection[str]] | None = None,
    link: bool = True,
) -> dict[str, int]:
    """Set ``per_class`` images of every class of ``src`` aside as a fixed validation folder ``dst``.

    Used by :func:`helpers.data.food_data` (notebook 00, section 3).

    Deterministic like :func:`make_subset`; files named in ``exclude`` (training subsets that must
    stay disjoint from it) are never picked. Every class keeps at least one image for training.

    Example:
        >>> make_validation_split("food/train", "food/validation", 20)  # doctest: +SKIP
        {'apple_pie': 20, ...}
    """
    if per_class < 1:
        raise ValueError(f"per_class must be >= 1, got {per_class}")
    selection = _select(Path(src), lambda available: min(per_class, available - 1), seed, exclude)
    too_few = [name for name, files in selection.items() if not files]
    if too_few:
        raise ValueError(f"Classes {too_few} of {src} have too few images to set any aside for validation.")
    return _materialise(selection, Path(dst), link)


# --------------------------------------------------------------------------- tiny data


def _draw_shape(shape: str, color: tuple[int, int, int], size: int, rng: np.random.Generator):
    """One RGB image: a noisy background and a coloured shape at a random place and scale."""
    from PIL import Image, ImageDraw

    background = rng.integers(90, 170, size=(size, size, 3), dtype=np.uint8)
    image = Image.fromarray(background)
    draw = ImageDraw.Draw(image)
    r = int(size * rng.uniform(0.2, 0.35))
    cx, cy = (int(v) for v in rng.integers(r, size - r, size=2))
    jitter = tuple(int(np.clip(c + rng.integers(-30, 31), 0, 255)) for c in color)
    if shape == "circle":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=jitter)
    elif shape == "square":
        draw.rectangle([cx - r, cy - r, cx + r, cy + r], fill=jitter)
    else:
        draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=jitter)
    return image


def make_tiny_image_folders(
    root: str | Path,
    classes: Sequence[str] = TINY_CLASSES,
    per_class: int = 12,
    size: int = 64,
    test_per_class: int | None = None,
    seed: int = config.DEFAULT_SEED,
) -> Path:
    """Generate a small, learnable image folder: ``root/train/<class>/`` and ``root/test/<class>/``.

    Taught in notebook 05, section 2 ("Examine and understand the data").

    Each class is a distinct coloured shape (``<colour>_<shape>``, e.g. ``red_circle``)
    on a noisy background, saved as real JPEG files, so a model can actually learn it.
    The smoke profile and the tests use it; it is never shown as real results.

    Example:
        >>> make_tiny_image_folders("/tmp/tiny", per_class=4)  # doctest: +SKIP
        PosixPath('/tmp/tiny')
    """
    colors = {"red": (220, 30, 30), "green": (30, 200, 30), "blue": (30, 30, 220), "yellow": (230, 220, 20)}
    root = Path(root)
    rng = np.random.default_rng(seed)
    test_per_class = test_per_class or max(2, per_class // 3)
    for split, count in (("train", per_class), ("test", test_per_class)):
        for name in classes:
            color, _, shape = name.partition("_")
            if color not in colors or shape not in ("circle", "square", "triangle"):
                raise ValueError(
                    f"tiny class names are <colour>_<shape> from {sorted(colors)} x circle/square/triangle: {name!r}"
                )
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                _draw_shape(shape, colors[color], size, rng).save(folder / f"{name}_{i:03d}.jpg", quality=90)
    return root


# --------------------------------------------------------------------------- checks and pipelines


# ``check_image_folder`` / ``clean_image_folder`` (every problem of a folder of photos, and setting the unusable
# files aside) live in :mod:`helpers._internal.image_check` and are imported above, so ``helpers.data`` offers them too.


def find_corrupt_images(folder: str | Path) -> list[Path]:
    """Files under ``folder`` with an image ending whose pixels cannot be decoded as JPEG / PNG / BMP / GIF (sorted).

    Not used in a lesson; only the decoding part of :func:`check_image_folder` (which the lessons call), kept as a
    direct check for the tests and for learners debugging a folder of their own.

    Every pixel is decoded (a file cut short is caught, not only a bad header). For every other problem
    of a folder of photos see :func:`check_image_folder`.

    Example:
        >>> find_corrupt_images("data/food/train")  # doctest: +SKIP
        []
    """
    return image_check.unreadable_images(folder)


#: Image checks passed in this Python session, with the folders' signature then (see ``image_check.require_usable``).
_VERIFIED = image_check._VERIFIED


def image_folders(
    train_dir: str | Path,
    val_dir: str | Path,
    test_dir: str | Path,
    image_size: tuple[int, int] = (224, 224),
    batch_size: int = 32,
    seed: int = config.DEFAULT_SEED,
    label_mode: str = "categorical",
    verify: bool = True,
) -> tuple[tf.data.Dataset, tf.data.Dataset, tf.data.Dataset, list[str]]:
    """Load ``train/``, validation and ``test/`` class folders as ``tf.data`` pipelines.

    Taught in notebook 00, section 7 ("From folders to a `tf.data` pipeline").

    Each is read with ``keras.utils.image_dataset_from_directory``, which already decodes in parallel
    and prefetches (``AUTOTUNE``) and keeps ``.class_names``: the datasets are returned as it makes
    them. The training data is shuffled; the validation and test data are not, so predictions line up with labels.
    Pixels stay in [0, 255] (``float32``): each model rescales for itself. With ``verify`` the
    three folders are checked first (:func:`check_image_folder`: every file decoded, the classes
    compared, duplicates across them found) once per session, again only if a folder changes: errors
    raise :class:`BadImageFolderError` naming the files and what to do, warnings are printed once.

    Use the validation data for everything you decide (curves, checkpoints, "which model is
    better") and the test data once per model, at the end.

    Returns:
        ``(train_data, val_data, test_data, class_names)``.

    Example:
        >>> train, val, test, names = image_folders(*food_data(10), (224, 224), 32)  # doctest: +SKIP
    """
    import keras

    folders = {"train": Path(train_dir), "validation": Path(val_dir), "test": Path(test_dir)}
    if verify:
        image_check.require_usable(folders)
    names = {split: list_classes(folder) for split, folder in folders.items()}
    if not names["train"] == names["validation"] == names["test"]:
        raise ValueError(f"The train, validation and test classes differ: {names}. Use the same class folders.")
    common = dict(image_size=image_size, batch_size=batch_size, label_mode=label_mode, class_names=names["train"])
    train = keras.utils.image_dataset_from_directory(folders["train"], shuffle=True, seed=seed, **common)
    val = keras.utils.image_dataset_from_directory(folders["validation"], shuffle=False, **common)
    test = keras.utils.image_dataset_from_directory(folders["test"], shuffle=False, **common)
    return (
        *(_noting_size(ds, len(ds.file_paths)) for ds in (train, val, test)),
        names["train"],
    )


def photo_folder(
    path: str | Path,
    image_size: tuple[int, int] = (224, 224),
    batch_size: int = 32,
    validation_split: float = 0.2,
    min_per_class: int = 10,
    seed: int = config.DEFAULT_SEED,
) -> tuple[tf.data.Dataset, tf.data.Dataset, list[str]]:
    """Load any folder of your own photos (one sub-folder per class) split into train and validation.

    Taught in notebook 01 solutions, exercise 3 ("Your own photos").

    The folder is checked first (:func:`check_image_folder`): a file training cannot use raises
    :class:`BadImageFolderError`, which names it and says what to do (usually
    ``clean_image_folder(path)``, then load again); warnings are printed once.

    Example:
        >>> train, val, names = photo_folder("my_photos")  # doctest: +SKIP
    """
    import keras
    import tensorflow as tf

    image_check.require_usable(path, layout="classes")
    counts = count_images(path)
    few = {k: v for k, v in counts.items() if v < min_per_class}
    if few:
        raise ValueError(f"Each class needs at least {min_per_class} photos; these have fewer: {few}.")
    train, val = keras.utils.image_dataset_from_directory(
        path,
        validation_split=validation_split,
        subset="both",
        seed=seed,
        image_size=image_size,
        batch_size=batch_size,
        label_mode="categorical",
    )
    names = list(train.class_names)
    return train.prefetch(tf.data.AUTOTUNE), val.prefetch(tf.data.AUTOTUNE), names


def load_image(path: str | Path, image_size: tuple[int, int] = (224, 224)) -> np.ndarray:
    """Read one image file as a ``float32`` array of shape ``(*image_size, 3)`` with pixels in [0, 255].

    Taught in notebook 00, section 6 ("One image, as numbers").

    It is resized with bilinear interpolation, as ``image_dataset_from_directory`` resizes the
    training images, so a single photo reaches the model the way the training photos did.

    Example:
        >>> load_image("chelsea.png", (224, 224)).shape  # doctest: +SKIP
        (224, 224, 3)
    """
    import keras

    image = keras.utils.load_img(path, target_size=image_size, color_mode="rgb", interpolation="bilinear")
    return keras.utils.img_to_array(image).astype("float32")


#: Cosine similarity of two images' pooled backbone features at or above which :func:`near_duplicates` reports them.
#: Calibrated in ``benchmarks/bench_near_duplicates.py`` on planted copies (resized, re-encoded, cropped) and on
#: distinct photos of one class; its figures are in ``benchmarks/last_results.csv``.
#: Taught in notebook 03, section 10 ("Near-duplicates across the splits").
NEAR_DUPLICATE_THRESHOLD = 0.85

#: Bits (of 64) in which two images' perceptual hashes (:func:`perceptual_hash`) may differ for
#: :func:`near_duplicates` to report them: planted copies differed in at most 2, distinct photos in 14 or more.
#: Taught in notebook 03, section 10 ("Near-duplicates across the splits").
HASH_BITS = 6

#: The kinds of copy :func:`plant_copy` makes: what a scraped data set holds twice without identical bytes.
#: Taught in notebook 03, section 10 ("Near-duplicates across the splits").
COPY_KINDS = ("resized", "reencoded", "cropped")


class NearDuplicate(NamedTuple):
    """A training image and a validation or test image that look like the same photo.

    Used by :func:`helpers.data.near_duplicates` (notebook 03, section 10).
    """

    similarity: float  #: cosine similarity of their backbone features
    hash_bits: int  #: bits in which their perceptual hashes differ
    train: Path
    other: Path


def embed_images(
    feature_model: Any, paths: Sequence[str | Path], image_size: tuple[int, int], batch_size: int = 32
) -> np.ndarray:
    """The pooled features of each image, scaled to length 1, so that a dot product is a cosine similarity.

    Used by :func:`helpers.data.near_duplicates` (notebook 03, section 10).

    ``feature_model`` maps images with pixels in [0, 255] to one vector each (a frozen backbone with its
    preprocessing and pooling, like notebook 03's ``feature_model``). Returns an array ``(len(paths), features)``.

    Example:
        >>> vectors = embed_images(feature_model, list_images(val_dir / "pizza"), (224, 224))  # doctest: +SKIP
    """
    import keras

    vectors = []
    for start in range(0, len(paths), batch_size):
        batch = np.stack([load_image(path, image_size) for path in paths[start : start + batch_size]])
        features = keras.ops.convert_to_numpy(feature_model(batch, training=False))
        vectors.append(features.reshape(len(batch), -1))
    if not vectors:
        return np.zeros((0, 0), dtype="float32")
    stacked = np.concatenate(vectors).astype("float32")
    return stacked / np.maximum(np.linalg.norm(stacked, axis=1, keepdims=True), 1e-12)


def _dct_matrix(n: int) -> np.ndarray:
    """The (unscaled) DCT-II as a matrix: ``_dct_matrix(n) @ x`` is ``scipy.fftpack.dct(x) / 2``."""
    k, i = np.arange(n)[:, None], np.arange(n)[None, :]
    return np.cos(np.pi * (2 * i + 1) * k / (2 * n))


def perceptual_hash(path: str | Path) -> np.ndarray:
    """The 64-bit perceptual hash of an image (pHash), as 64 booleans: equal for copies that keep the picture.

    Used by :func:`helpers.data.near_duplicates` (notebook 03, section 10).

    The image in grayscale at 32x32 pixels, its 2-D cosine transform, and for each of the 8x8 lowest frequencies
    whether it is above their median: what ``imagehash.phash`` computes (``benchmarks/bench_near_duplicates.py``
    compares the two), without another dependency. Resizing and re-encoding keep the low frequencies; a crop
    moves them.

    Example:
        >>> int(np.sum(perceptual_hash("a.jpg") != perceptual_hash("copy.jpg")))  # doctest: +SKIP
        2
    """
    from PIL import Image

    with Image.open(path) as image:
        pixels = np.asarray(image.convert("L").resize((32, 32), Image.Resampling.LANCZOS), dtype="float64")
    dct = _dct_matrix(32)
    low = (dct @ pixels @ dct.T)[:8, :8]
    return (low > np.median(low)).flatten()


def split_images(folder: str | Path) -> list[Path]:
    """Every image of a split folder (``<folder>/<class>/<image>``), class by class, sorted by name.

    Taught in notebook 03, section 10 ("Near-duplicates across the splits").

    Example:
        >>> len(split_images("data/food/test"))  # doctest: +SKIP
        2500
    """
    return [path for name in list_classes(folder) for path in list_images(Path(folder) / name)]


def near_duplicates(
    feature_model: Any,
    train: str | Path | Sequence[str | Path],
    other: str | Path | Sequence[str | Path],
    image_size: tuple[int, int],
    threshold: float = NEAR_DUPLICATE_THRESHOLD,
    hash_bits: int = HASH_BITS,
) -> list[NearDuplicate]:
    """Pairs of a training image and a validation or test image that look like the same photo, most alike first.

    Taught in notebook 03, section 10 ("Near-duplicates across the splits").

    ``train`` and ``other`` are split folders (``<split>/<class>/<image>``) or lists of image paths. A content
    hash (:func:`sha256sum`) catches only identical files; a resized, re-encoded or cropped copy of a training
    photo has other bytes. Two detectors look for those, and a pair is reported when either fires:

    - the frozen backbone's features (:func:`embed_images`): cosine similarity at or above ``threshold``. They
      find crops, which move a hash;
    - the perceptual hash (:func:`perceptual_hash`): at most ``hash_bits`` of 64 bits differ. It finds resized
      and re-encoded copies more surely than the features.

    Each image is embedded and hashed once; every training image is compared with every other image. Look at the
    pairs before you trust a test accuracy: a model that trained on a photo recognises its copy.

    Example:
        >>> train, test = list_images(train_dir), list_images(test_dir)  # doctest: +SKIP
        >>> pairs = near_duplicates(feature_model, train, test, (224, 224))  # doctest: +SKIP
    """
    train_paths, other_paths = _paths(train), _paths(other)
    if not train_paths or not other_paths:
        return []
    similarity = (
        embed_images(feature_model, train_paths, image_size) @ embed_images(feature_model, other_paths, image_size).T
    )
    train_hashes = np.stack([perceptual_hash(path) for path in train_paths])
    other_hashes = np.stack([perceptual_hash(path) for path in other_paths])
    bits = (train_hashes[:, None, :] != other_hashes[None, :, :]).sum(axis=2)
    rows, cols = np.nonzero((similarity >= threshold) | (bits <= hash_bits))
    pairs = [
        NearDuplicate(float(similarity[r, c]), int(bits[r, c]), train_paths[r], other_paths[c])
        for r, c in zip(rows, cols, strict=True)
    ]
    return sorted(pairs, key=lambda pair: (-pair.similarity, pair.hash_bits, str(pair.train), str(pair.other)))


def _paths(images: str | Path | Sequence[str | Path]) -> list[Path]:
    """A split folder's images (:func:`split_images`), or the paths given."""
    if isinstance(images, str | Path):
        return split_images(images)
    return [Path(path) for path in images]


def plant_copy(path: str | Path, dst: str | Path, kind: str, seed: int = config.DEFAULT_SEED) -> Path:
    """Write a near-copy of the image at ``path`` to the file ``dst`` (a ``.jpg``): ``kind`` is one of
    :data:`COPY_KINDS`. Returns ``dst``.

    Taught in notebook 03, section 10 ("Near-duplicates across the splits").

    ``"resized"`` is the photo at half its width and height, ``"reencoded"`` the photo saved again as a JPEG
    of quality 30, ``"cropped"`` a crop of 80% of its width and height at a random place: the copies a data
    set scraped from the web holds without identical bytes.

    Example:
        >>> plant_copy("train/pizza/1.jpg", "test/pizza/copy.jpg", "resized")  # doctest: +SKIP
        PosixPath('test/pizza/copy.jpg')
    """
    from PIL import Image

    if kind not in COPY_KINDS:
        raise ValueError(f"kind must be one of {COPY_KINDS}, got {kind!r}")
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(path) as opened:
        image = opened.convert("RGB")
    width, height = image.size
    quality = 90
    if kind == "resized":
        image = image.resize((max(1, width // 2), max(1, height // 2)), Image.Resampling.BILINEAR)
    elif kind == "reencoded":
        quality = 30
    else:
        rng = random.Random(f"{seed}-{Path(path).name}")
        w, h = max(1, int(width * 0.8)), max(1, int(height * 0.8))
        left, top = rng.randint(0, width - w), rng.randint(0, height - h)
        image = image.crop((left, top, left + w, top + h))
    image.save(dst, format="JPEG", quality=quality)
    return dst


# --------------------------------------------------------------------------- the course's data


#: Single photos for prediction demos, with the ImageNet class each shows. Those in ``../shared/images`` are used
#: where that folder exists (offline machines); otherwise two of TensorFlow's example images are downloaded once.
SHARED_PHOTOS = {
    "chelsea.png": "tabby",
    "coffee.png": "espresso",
    "mountain_bike.jpeg": "mountain_bike",
    "soccer_ball.jpg": "soccer_ball",
}
EXAMPLE_PHOTOS = {
    "https://storage.googleapis.com/download.tensorflow.org/example_images/grace_hopper.jpg": "military_uniform",
    "https://storage.googleapis.com/download.tensorflow.org/example_images/YellowLabradorLooking_new.jpg": (
        "Labrador_retriever"
    ),
}


def demo_photos(profile: config.Profile | None = None, shared: str | Path | None = None) -> dict[Path, str]:
    """Photos for ImageNet prediction demos, each with the ImageNet class name it shows (sorted by file name).

    Taught in notebook 06, section 5 ("`preprocess_input`: what each family expects").

    Example:
        >>> photos = demo_photos()  # doctest: +SKIP
        >>> {path.name: label for path, label in photos.items()}  # doctest: +SKIP
        {'chelsea.png': 'tabby', 'coffee.png': 'espresso', ...}
    """
    profile = profile or config.load_profile()
    folder = Path(shared) if shared else profile.root.parent / "shared" / "images"
    if folder.is_dir():
        found = {folder / name: label for name, label in SHARED_PHOTOS.items() if (folder / name).is_file()}
        if found:
            return dict(sorted(found.items()))
    import keras

    photos = {}
    for url, label in EXAMPLE_PHOTOS.items():
        name = url.rsplit("/", 1)[-1]
        try:
            path = keras.utils.get_file(fname=name, origin=url, cache_dir=str(profile.data_root), cache_subdir="photos")
        except Exception as err:  # urllib raises several kinds; all mean "could not download"
            raise ConnectionError(
                f"Could not download the example photo {url} ({err}). Without internet, pass shared= a folder "
                f"holding {sorted(SHARED_PHOTOS)}."
            ) from err
        photos[Path(path)] = label
    return dict(sorted(photos.items()))


def tiny_food_dir(profile: config.Profile) -> Path:
    """The smoke profile's generated data folder (made on first use).

    Used by :func:`helpers.data.food_data` (notebook 00, section 3).
    """
    root = profile.data_root / f"tiny_images_{profile.image_size[0]}px"
    if not (root / "test").is_dir():
        partial = root.with_name(root.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        make_tiny_image_folders(partial, per_class=12, size=profile.image_size[0], seed=profile.seed)
        partial.rename(root)
    return root


class FoodFolders(NamedTuple):
    """The three folders of one food-data subset: ``train``, ``val`` (fixed validation) and ``test``.

    Used by :func:`helpers.data.food_data` (notebook 00, section 3), which returns one.
    """

    train: Path
    val: Path
    test: Path


def _unverifiable_copy(folder: Path, archive: Path) -> bool:
    """A complete-looking folder nothing can check: ``train/`` and ``test/``, but no marker, archive or ``.partial``."""
    return (
        (folder / "train").is_dir()
        and (folder / "test").is_dir()
        and read_marker(folder) is None
        and not archive.exists()
        and not folder.with_name(folder.name + ".partial").exists()
    )


def _archive_dir(profile: config.Profile, percent: int) -> Path:
    """The extracted course archive for ``percent``: downloaded, verified and extracted once, then reused.

    A folder with the marker of a complete extraction is used without any network request. One without
    it is unfinished and extracted again (from the verified archive in ``downloads/``, else downloaded
    again), except a folder holding ``train/`` and ``test/`` with no archive and no interrupted extraction
    beside it (copied there by hand, or extracted by an older version of the course): that one is used as
    it is, with a warning that it could not be verified.
    """
    url = FOOD_ARCHIVES[percent]
    name = url.rsplit("/", 1)[-1]
    folder = profile.data_root / archive_stem(name)
    if _unverifiable_copy(folder, profile.data_root / "downloads" / name):
        warnings.warn(
            f"{folder} has no {MARKER_NAME} marker and no archive to check it against, so it is used unverified. "
            "Delete it to download and verify the course's archive.",
            stacklevel=2,
        )
        return folder
    download_and_extract(url, profile.data_root, folder=folder.name)
    return folder


def food_data(percent: int, profile: config.Profile | None = None) -> FoodFolders:
    """Training, validation and test folders of the course's 10 food classes for a 1, 10 or 100 percent subset.

    Taught in notebook 00, section 3 ("Get the food data").

    The **validation** folder is the same for every subset: :func:`validation_per_class` images per
    class, taken from the training images no subset uses. It is what curves, checkpoints and model
    choices look at. The **test** folder is the same for every subset too, and a model meets it once,
    at the end. Where the data comes from depends on the profile:

    - ``COURSE_DATA_DIR`` set: the validation images are set aside from its ``train/``, and the
      subsets are sampled from the rest with :func:`make_subset` (percent of Food-101's 750 images
      per class, capped at what is left) under ``COURSE_DATA_ROOT``; the test folder is its ``test/``.
      The folder is checked first (:func:`check_image_folder`): errors raise :class:`BadImageFolderError`.
    - smoke profile: the same, from a tiny generated folder.
    - otherwise: the course's archives are downloaded once and extracted. The 1% and 10% training
      folders are the archives' own; the validation images come from the 100% archive's training
      images that neither of them holds, and the 100% subset is that archive without them. Every
      archive holds the same test set; the 10% archive's copy is used.

    Example:
        >>> train_dir, val_dir, test_dir = food_data(10)  # doctest: +SKIP
    """
    if percent not in FOOD_ARCHIVES:
        raise ValueError(f"percent must be one of {sorted(FOOD_ARCHIVES)}, got {percent}")
    profile = profile or config.load_profile()
    subsets = profile.data_root / "subsets"
    if profile.data_dir is None and not profile.smoke:
        archives = {p: _archive_dir(profile, p) for p in sorted(FOOD_ARCHIVES)}
        test_dir = archives[10] / "test"
        small = [image_names(archives[p] / "train") for p in (1, 10)]
        in_small = {name: set(small[0].get(name, [])) | set(small[1].get(name, [])) for name in small[1]}
        val_dir = subsets / f"food_validation_seed{profile.seed}"
        per_class = validation_per_class(min(count_images(test_dir).values()))
        make_validation_split(archives[100] / "train", val_dir, per_class, profile.seed, exclude=in_small)
        if percent != 100:
            return FoodFolders(archives[percent] / "train", val_dir, test_dir)
        train_dir = subsets / f"food_100_percent_seed{profile.seed}"
        make_subset(archives[100] / "train", train_dir, 1.0, profile.seed, exclude=image_names(val_dir))
        return FoodFolders(train_dir, val_dir, test_dir)
    source = profile.data_dir if profile.data_dir is not None else tiny_food_dir(profile)
    for split in ("train", "test"):
        if not (source / split).is_dir():
            raise ValueError(f"{source} must hold train/<class>/ and test/<class>/ folders; {split}/ is missing.")
    image_check.require_usable(source)  # before any subset links to a file training cannot use
    val_dir = subsets / f"{source.name}_validation_seed{profile.seed}"
    per_class = validation_per_class(min(count_images(source / "test").values()))
    make_validation_split(source / "train", val_dir, per_class, profile.seed)
    train_dir = subsets / f"{source.name}_{percent}_percent_train_seed{profile.seed}"
    make_subset(
        source / "train",
        train_dir,
        percent / 100,
        profile.seed,
        config.FOOD101_TRAIN_PER_CLASS,
        exclude=image_names(val_dir),
    )
    return FoodFolders(train_dir, val_dir, source / "test")


def load_food101_tfds(
    num_classes: int = 10,
    image_size: tuple[int, int] = (224, 224),
    batch_size: int = 32,
    data_dir: str | None = None,
) -> tuple[tf.data.Dataset, tf.data.Dataset, list[str]]:
    """Food-101 from TensorFlow Datasets, cut to its first ``num_classes`` classes.

    Not used in a lesson; all of Food-101 from TensorFlow Datasets (about 5 GB), for a learner who wants more than the
    course's 10-class archives.

    Downloads about 5 GB the first time. Returns batched ``(image, one-hot label)``
    pipelines with pixels in [0, 255] and the class names.

    Example:
        >>> train, test, names = load_food101_tfds(10)  # doctest: +SKIP
    """
    import tensorflow_datasets as tfds

    (train, test), info = tfds.load(
        "food101", split=["train", "validation"], as_supervised=True, with_info=True, data_dir=data_dir
    )
    names = info.features["label"].names[:num_classes]
    return (
        _tfds_pipeline(train, image_size, batch_size, num_classes, shuffle=True),
        _tfds_pipeline(test, image_size, batch_size, num_classes, shuffle=False),
        list(names),
    )


#: ``cats_vs_dogs`` (TensorFlow Datasets) has a single ``train`` split; these slices of it are the course's three.
#: Taught in notebook 05, section 2 ("Examine and understand the data").
CATS_VS_DOGS_SPLITS = {"train": "train[:10%]", "val": "train[10%:12%]", "test": "train[80%:]"}


class ImageSplits(NamedTuple):
    """Training, validation and test pipelines, their class names and how many images each holds.

    Used by :func:`helpers.data.two_class_data` (notebook 05, section 2), which returns one.
    """

    train: tf.data.Dataset
    val: tf.data.Dataset
    test: tf.data.Dataset
    class_names: list[str]
    sizes: dict[str, int]


#: Where TensorFlow Datasets downloads ``cats_vs_dogs`` from (tensorflow_datasets 4.9).
CATS_VS_DOGS_URL = (
    "https://download.microsoft.com/download/3/E/1/3E1C3F21-ECDB-4869-8368-6DEBA77B919F/kagglecatsanddogs_5340.zip"
)

#: Any two-class folder instead of ``cats_vs_dogs`` (what :func:`load_cats_vs_dogs`'s download errors end with).
TWO_CLASS_HINT = (
    "use any two-class image folder instead, one with train/<class>/ and test/<class>/ sub-folders (cats and "
    f"dogs from elsewhere, or your own photos of two things): point {config.ENV_DATA_DIR} at it and "
    "two_class_data() (notebook 05) reads it instead of cats_vs_dogs, or give its folders to "
    "image_folders(train_dir, val_dir, test_dir, image_size, batch_size) yourself; COURSE_SMOKE=1 uses a small "
    "generated one."
)


def load_cats_vs_dogs(
    image_size: tuple[int, int] = (224, 224),
    batch_size: int = 32,
    data_dir: str | None = None,
    splits: Mapping[str, str] = CATS_VS_DOGS_SPLITS,
) -> ImageSplits:
    """``cats_vs_dogs`` from TensorFlow Datasets as training, validation and test pipelines (one-hot labels).

    Used by :func:`helpers.data.two_class_data` (notebook 05, section 2).

    The data set ships one ``train`` split of about 23,000 photos; the split API cuts it into disjoint
    slices (:data:`CATS_VS_DOGS_SPLITS`: 10% to train, 2% to validate, the last 20% to test). It downloads
    about 800 MB the first time. Pixels stay in [0, 255].

    Example:
        >>> train, val, test, names, sizes = load_cats_vs_dogs()  # doctest: +SKIP
        >>> names  # doctest: +SKIP
        ['cat', 'dog']
    """
    import tensorflow_datasets as tfds

    try:
        parts, info = tfds.load(
            "cats_vs_dogs",
            split=[splits["train"], splits["val"], splits["test"]],
            as_supervised=True,
            with_info=True,
            data_dir=data_dir,
        )
    except Exception as err:
        if not _is_download_failure(err):
            raise
        raise ConnectionError(
            "TensorFlow Datasets could not download cats_vs_dogs, an archive of about 787 MiB from "
            "download.microsoft.com (that download broke in 2022 and was unreliable again in 2024). "
            + network.explain(err, CATS_VS_DOGS_URL, "the cats_vs_dogs archive", hint=TWO_CLASS_HINT)
        ) from err
    names = list(info.features["label"].names)
    sizes = {split: _cardinality(part) for split, part in zip(("train", "val", "test"), parts, strict=True)}
    train, val, test = (
        _noting_size(_tfds_pipeline(part, image_size, batch_size, len(names), shuffle=(i == 0)), sizes[split])
        for i, (split, part) in enumerate(zip(("train", "val", "test"), parts, strict=True))
    )
    return ImageSplits(train, val, test, names, sizes)


def _is_download_failure(err: BaseException) -> bool:
    """Whether ``err`` from ``tfds.load`` means the download failed (not, say, a bad split string)."""
    if network.classify(err) is not None:
        return True
    names = {cls.__name__ for cls in type(err).__mro__}  # tfds.download.DownloadError, NonMatchingChecksumError
    return bool(names & {"DownloadError", "NonMatchingChecksumError"})


def _cardinality(dataset) -> int:
    """How many elements an unbatched dataset holds (counted once when TensorFlow does not know)."""
    known = int(dataset.cardinality())
    return known if known >= 0 else int(dataset.reduce(0, lambda count, _: count + 1))


def tiny_two_class_dir(profile: config.Profile) -> Path:
    """The smoke profile's generated two-class folder (``train/``, ``test/``; made on first use).

    Used by :func:`helpers.data.two_class_data` (notebook 05, section 2).
    """
    root = profile.data_root / f"tiny_two_classes_{profile.image_size[0]}px"
    if not (root / "test").is_dir():
        partial = root.with_name(root.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        make_tiny_image_folders(
            partial, ("red_circle", "blue_square"), per_class=16, size=profile.image_size[0], seed=profile.seed
        )
        partial.rename(root)
    return root


def two_class_data(profile: config.Profile | None = None) -> ImageSplits:
    """Notebook 05's data: cats vs dogs, or any local two-class folder, as train / validation / test pipelines.

    Taught in notebook 05, section 2 ("Examine and understand the data").

    - ``COURSE_TWO_CLASS_DIR`` set (or ``COURSE_DATA_DIR``, when that folder holds exactly two classes): a
      folder with ``train/<class>/`` and ``test/<class>/`` (or ``val/<class>/``, as the classic ants-vs-bees
      set has). Its ``test/`` (else ``val/``) is the test set; the validation set is set aside from
      ``train/`` (:func:`validation_per_class` images per class), the rest trains. The folder is checked
      first (:func:`check_image_folder`): errors raise :class:`BadImageFolderError`. A ``COURSE_DATA_DIR``
      with more classes (the food data) is refused with a message that says to set ``COURSE_TWO_CLASS_DIR``:
      the lessons that call this are two-class lessons, so one run can give 01-04 the food classes and
      05-06 their own two classes.
    - smoke profile: the same, from a tiny generated two-class folder.
    - otherwise: ``cats_vs_dogs`` from TensorFlow Datasets (:func:`load_cats_vs_dogs`).

    Example:
        >>> train, val, test, class_names, sizes = two_class_data()  # doctest: +SKIP
    """
    profile = profile or config.load_profile()
    source = _two_class_source(profile)
    if source is None and not profile.smoke:
        return load_cats_vs_dogs(profile.image_size, profile.batch_size)
    source = source or tiny_two_class_dir(profile)
    test_dir = next((source / name for name in ("test", "val") if (source / name).is_dir()), None)
    if not (source / "train").is_dir() or test_dir is None:
        raise ValueError(
            f"{source} must hold train/<class>/ and test/<class>/ (or val/<class>/) folders, one sub-folder per class."
        )
    image_check.require_usable(source)  # before any subset links to a file training cannot use
    val_dir = profile.data_root / "subsets" / f"{source.name}_validation_seed{profile.seed}"
    per_class = validation_per_class(min(count_images(test_dir).values()))
    make_validation_split(source / "train", val_dir, per_class, profile.seed)
    train_dir = profile.data_root / "subsets" / f"{source.name}_train_seed{profile.seed}"
    make_subset(source / "train", train_dir, 1.0, profile.seed, exclude=image_names(val_dir))
    train, val, test, names = image_folders(
        train_dir, val_dir, test_dir, profile.image_size, profile.batch_size, profile.seed
    )
    sizes = {"train": num_images(train_dir), "val": num_images(val_dir), "test": num_images(test_dir)}
    return ImageSplits(train, val, test, names, sizes)


def _two_class_source(profile: config.Profile) -> Path | None:
    """The two-class folder the environment names, or ``None`` (the smoke folder, else ``cats_vs_dogs``)."""
    if profile.two_class_dir is not None:
        return profile.two_class_dir
    if profile.data_dir is not None:
        train = profile.data_dir / "train"
        classes = [folder for folder in train.iterdir() if folder.is_dir()] if train.is_dir() else []
        if len(classes) > 2:
            raise ValueError(
                f"{config.ENV_DATA_DIR}={profile.data_dir} holds {len(classes)} classes, and this is a two-class "
                f"lesson. Set {config.ENV_TWO_CLASS_DIR}=<a folder with train/ and test/ (or val/) of two classes, "
                "e.g. ants vs bees> for it (the other lessons keep the many-class folder), or unset "
                f"{config.ENV_DATA_DIR} to download cats vs dogs."
            )
        return profile.data_dir
    return None


def _tfds_pipeline(ds, image_size, batch_size, num_classes, shuffle):
    import tensorflow as tf

    ds = ds.filter(lambda image, label: label < num_classes)

    def prepare(image, label):
        image = tf.image.resize(tf.cast(image, tf.float32), image_size)
        return image, tf.one_hot(label, num_classes)

    ds = ds.map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
    if shuffle:
        ds = ds.shuffle(1000, seed=config.DEFAULT_SEED)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
