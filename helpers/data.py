"""Getting, sub-sampling and loading the course's image data.

The functions here turn "a folder of photos, one sub-folder per class" into
``tf.data`` pipelines, make the 1% / 10% / 100% training subsets, and fetch the
course's food data in whichever way the active profile asks for.

Class names always come from folder names; nothing here hard-codes them.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import tarfile
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from helpers import config

if TYPE_CHECKING:  # pragma: no cover - typing only
    import tensorflow as tf

#: File endings ``keras.utils.image_dataset_from_directory`` reads.
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif")

#: The course's food archives (10 Food-101 classes; test set 250 images per class).
FOOD_ARCHIVES = {
    1: "https://storage.googleapis.com/ztm_tf_course/food_vision/10_food_classes_1_percent.zip",
    10: "https://storage.googleapis.com/ztm_tf_course/food_vision/10_food_classes_10_percent.zip",
    100: "https://storage.googleapis.com/ztm_tf_course/food_vision/10_food_classes_all_data.zip",
}

#: Classes of the tiny generated data set used by the smoke profile and the tests.
TINY_CLASSES = ("red_circle", "green_square", "blue_triangle")


# --------------------------------------------------------------------------- files


def sha256sum(path: str | Path) -> str:
    """Return the SHA-256 hex digest of a file.

    Example:
        >>> sha256sum(__file__)[:4].isalnum()
        True
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _safe_members(names: Sequence[str], dest: Path) -> None:
    """Raise if any archive member would be written outside ``dest``."""
    dest = dest.resolve()
    for name in names:
        target = (dest / name).resolve()
        if target != dest and dest not in target.parents:
            raise ValueError(f"Refusing to extract {name!r}: it would land outside {dest}. The archive is unsafe.")


def extract_archive(archive: str | Path, dest: str | Path) -> Path:
    """Extract a ``.zip`` or ``.tar(.gz)`` into ``dest``, refusing members that escape it.

    Example:
        >>> extract_archive("food.zip", "data/")  # doctest: +SKIP
        PosixPath('data')
    """
    archive, dest = Path(archive), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            _safe_members(zf.namelist(), dest)
            zf.extractall(dest)
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tf_:
            members = tf_.getmembers()
            _safe_members([m.name for m in members], dest)
            if any(m.issym() or m.islnk() for m in members):
                raise ValueError(f"Refusing to extract {archive}: it contains links.")
            tf_.extractall(dest)
    else:
        raise ValueError(f"{archive} is neither a zip nor a tar archive.")
    return dest


def download_and_extract(url: str, dest: str | Path, sha256: str | None = None) -> Path:
    """Download ``url`` once (cached by ``keras.utils.get_file``), check it, extract it into ``dest``.

    Args:
        url: where the archive lives (``https://`` or ``file://``).
        dest: folder to extract into; created if missing.
        sha256: expected SHA-256 of the archive; a mismatch raises and deletes the download.

    Returns:
        ``dest`` as a ``Path``.

    Example:
        >>> download_and_extract(FOOD_ARCHIVES[10], "data/")  # doctest: +SKIP
        PosixPath('data')
    """
    import keras

    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    name = url.rstrip("/").rsplit("/", 1)[-1]
    try:
        archive = Path(keras.utils.get_file(fname=name, origin=url, cache_dir=str(dest), cache_subdir="downloads"))
    except Exception as err:  # urllib raises several kinds; all mean "could not download"
        raise ConnectionError(
            f"Could not download {url} ({err}). Without internet, point {config.ENV_DATA_DIR} at a local "
            "folder with train/<class>/ and test/<class>/ sub-folders, or set COURSE_SMOKE=1."
        ) from err
    if sha256 is not None:
        actual = sha256sum(archive)
        if actual != sha256:
            archive.unlink()
            raise ValueError(f"{name}: SHA-256 is {actual}, expected {sha256}. The download was deleted; try again.")
    return extract_archive(archive, dest)


def list_images(folder: str | Path) -> list[Path]:
    """Image files directly inside ``folder``, sorted by name.

    Example:
        >>> list_images("data/food/train/apple_pie")[:1]  # doctest: +SKIP
        [PosixPath('data/food/train/apple_pie/1005649.jpg')]
    """
    return sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def list_classes(folder: str | Path) -> list[str]:
    """Sorted class names of an image folder (its sub-folders), checking the layout.

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

    Example:
        >>> count_images("data/food/train")  # doctest: +SKIP
        {'apple_pie': 75, ...}
    """
    return {name: len(list_images(Path(folder) / name)) for name in list_classes(folder)}


def num_images(folder: str | Path) -> int:
    """Total number of images in an image folder (all classes).

    Example:
        >>> num_images("data/food/test")  # doctest: +SKIP
        1250
    """
    return sum(count_images(folder).values())


def subset_size(available: int, fraction: float, reference_per_class: int | None = None) -> int:
    """How many images per class a ``fraction`` subset takes.

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


def make_subset(
    src: str | Path,
    dst: str | Path,
    fraction: float,
    seed: int = config.DEFAULT_SEED,
    reference_per_class: int | None = None,
    link: bool = True,
) -> dict[str, int]:
    """Make a deterministic per-class sample of an image folder, leaving ``src`` untouched.

    The same ``src``, ``fraction`` and ``seed`` always pick the same files. Files are
    symlinked (``link=True``, falling back to copies where links are not allowed) or
    copied. An existing ``dst`` is reused when it holds exactly the same selection and
    refused otherwise, so nothing is overwritten.

    Returns:
        the number of images per class in ``dst``.

    Example:
        >>> make_subset("food/train", "food_10_percent/train", 0.10, reference_per_class=750)  # doctest: +SKIP
        {'apple_pie': 75, ...}
    """
    src, dst = Path(src), Path(dst)
    rng = random.Random(seed)
    selection: dict[str, list[Path]] = {}
    for name in list_classes(src):
        files = list_images(src / name)
        selection[name] = sorted(rng.sample(files, subset_size(len(files), fraction, reference_per_class)))
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


def find_corrupt_images(folder: str | Path) -> list[Path]:
    """Image files under ``folder`` that cannot be read as images (sorted).

    Example:
        >>> find_corrupt_images("data/food/train")  # doctest: +SKIP
        []
    """
    from PIL import Image, UnidentifiedImageError

    bad = []
    for path in sorted(Path(folder).rglob("*")):
        if path.suffix.lower() in IMAGE_SUFFIXES:
            try:
                with Image.open(path) as image:
                    image.verify()
            except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
                bad.append(path)
    return bad


def _check_images(folder: Path) -> None:
    bad = find_corrupt_images(folder)
    if bad:
        shown = ", ".join(str(p) for p in bad[:5]) + (" ..." if len(bad) > 5 else "")
        raise ValueError(f"{len(bad)} file(s) in {folder} are not readable images: {shown}. Delete or replace them.")


def image_folders(
    train_dir: str | Path,
    test_dir: str | Path,
    image_size: tuple[int, int] = (224, 224),
    batch_size: int = 32,
    seed: int = config.DEFAULT_SEED,
    label_mode: str = "categorical",
    verify: bool = True,
) -> tuple[tf.data.Dataset, tf.data.Dataset, list[str]]:
    """Load ``train/<class>/`` and ``test/<class>/`` folders as prefetched ``tf.data`` pipelines.

    The training data is shuffled; the test data is not, so predictions line up with
    labels. Pixels stay in [0, 255] (``float32``): each model rescales for itself.

    Returns:
        ``(train_data, test_data, class_names)``.

    Example:
        >>> train, test, names = image_folders("food/train", "food/test", (224, 224), 32)  # doctest: +SKIP
    """
    import keras
    import tensorflow as tf

    train_names, test_names = list_classes(train_dir), list_classes(test_dir)
    if train_names != test_names:
        raise ValueError(f"train and test classes differ: {train_names} vs {test_names}. Use the same class folders.")
    if verify:
        _check_images(Path(train_dir))
        _check_images(Path(test_dir))
    common = dict(image_size=image_size, batch_size=batch_size, label_mode=label_mode, class_names=train_names)
    train = keras.utils.image_dataset_from_directory(train_dir, shuffle=True, seed=seed, **common)
    test = keras.utils.image_dataset_from_directory(test_dir, shuffle=False, **common)
    return train.prefetch(tf.data.AUTOTUNE), test.prefetch(tf.data.AUTOTUNE), train_names


def photo_folder(
    path: str | Path,
    image_size: tuple[int, int] = (224, 224),
    batch_size: int = 32,
    validation_split: float = 0.2,
    min_per_class: int = 10,
    seed: int = config.DEFAULT_SEED,
) -> tuple[tf.data.Dataset, tf.data.Dataset, list[str]]:
    """Load any folder of your own photos (one sub-folder per class) split into train and validation.

    Example:
        >>> train, val, names = photo_folder("my_photos")  # doctest: +SKIP
    """
    import keras
    import tensorflow as tf

    counts = count_images(path)
    few = {k: v for k, v in counts.items() if v < min_per_class}
    if few:
        raise ValueError(f"Each class needs at least {min_per_class} photos; these have fewer: {few}.")
    _check_images(Path(path))
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

    Example:
        >>> load_image("chelsea.png", (224, 224)).shape  # doctest: +SKIP
        (224, 224, 3)
    """
    import keras

    image = keras.utils.load_img(path, target_size=image_size, color_mode="rgb")
    return keras.utils.img_to_array(image).astype("float32")


# --------------------------------------------------------------------------- the course's data


def tiny_food_dir(profile: config.Profile) -> Path:
    """The smoke profile's generated data folder (made on first use)."""
    root = profile.data_root / f"tiny_images_{profile.image_size[0]}px"
    if not (root / "test").is_dir():
        partial = root.with_name(root.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        make_tiny_image_folders(partial, per_class=12, size=profile.image_size[0], seed=profile.seed)
        partial.rename(root)
    return root


def food_data(percent: int, profile: config.Profile | None = None) -> tuple[Path, Path]:
    """Training and test folders of the course's 10 food classes for a 1, 10 or 100 percent subset.

    Where the data comes from depends on the profile:

    - ``COURSE_DATA_DIR`` set: subsets of its ``train/`` are made with :func:`make_subset`
      (percent of Food-101's 750 images per class) under ``COURSE_DATA_ROOT``; the test
      folder is always the full ``test/``.
    - smoke profile: the same, from a tiny generated folder.
    - otherwise: the course's archive for that percent is downloaded once and extracted; the test
      folder is the 10% archive's (every archive holds the same test set).

    Example:
        >>> train_dir, test_dir = food_data(10)  # doctest: +SKIP
    """
    if percent not in FOOD_ARCHIVES:
        raise ValueError(f"percent must be one of {sorted(FOOD_ARCHIVES)}, got {percent}")
    profile = profile or config.load_profile()
    if profile.data_dir is None and not profile.smoke:
        # Every archive holds the same full test set; the 10% archive's copy is the one the course uses, so all
        # subsets share one test folder.
        folders = {}
        for p in dict.fromkeys((percent, 10)):
            folders[p] = profile.data_root / FOOD_ARCHIVES[p].rsplit("/", 1)[-1].removesuffix(".zip")
            if not (folders[p] / "test").is_dir():
                download_and_extract(FOOD_ARCHIVES[p], profile.data_root)
        return folders[percent] / "train", folders[10] / "test"
    source = profile.data_dir if profile.data_dir is not None else tiny_food_dir(profile)
    for split in ("train", "test"):
        if not (source / split).is_dir():
            raise ValueError(f"{source} must hold train/<class>/ and test/<class>/ folders; {split}/ is missing.")
    subset = profile.data_root / "subsets" / f"{source.name}_{percent}_percent_seed{profile.seed}"
    make_subset(source / "train", subset / "train", percent / 100, profile.seed, config.FOOD101_TRAIN_PER_CLASS)
    return subset / "train", source / "test"


def load_food101_tfds(
    num_classes: int = 10,
    image_size: tuple[int, int] = (224, 224),
    batch_size: int = 32,
    data_dir: str | None = None,
) -> tuple[tf.data.Dataset, tf.data.Dataset, list[str]]:
    """Food-101 from TensorFlow Datasets, cut to its first ``num_classes`` classes.

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


def load_cats_vs_dogs(
    image_size: tuple[int, int] = (224, 224),
    batch_size: int = 32,
    data_dir: str | None = None,
) -> tuple[tf.data.Dataset, tf.data.Dataset, list[str]]:
    """``cats_vs_dogs`` from TensorFlow Datasets: 80% train / 20% test, batched, one-hot labels.

    Example:
        >>> train, test, names = load_cats_vs_dogs()  # doctest: +SKIP
    """
    import tensorflow_datasets as tfds

    (train, test), info = tfds.load(
        "cats_vs_dogs", split=["train[:80%]", "train[80%:]"], as_supervised=True, with_info=True, data_dir=data_dir
    )
    names = list(info.features["label"].names)
    return (
        _tfds_pipeline(train, image_size, batch_size, len(names), shuffle=True),
        _tfds_pipeline(test, image_size, batch_size, len(names), shuffle=False),
        names,
    )


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
