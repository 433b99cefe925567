"""Put a TF Hub feature-vector module where ``tensorflow_hub`` looks for a handle.

``tensorflow_hub`` downloads a handle such as
``https://tfhub.dev/google/imagenet/mobilenet_v2_035_224/feature_vector/5`` into
``$TFHUB_CACHE_DIR/<sha1 of the handle>/`` and loads it from there ever after.
Without internet, this module builds an equivalent TF2 SavedModel from the
ImageNet weights in the Keras cache and places it in that folder, so the
notebooks' real ``hub`` code runs unchanged. The tests use the same builder.

Command line::

    python -m tools.hub_cache seed                       # mobilenet_v2_035
    python -m tools.hub_cache seed --backbone mobilenet_v1_025 --cache-dir /tmp/hub
    python -m tools.hub_cache where HANDLE              # print the cache folder
    python -m tools.hub_cache offline --keras-src ../shared/weights/keras   # fill the Keras cache, then seed
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import keras


def cache_dir() -> Path:
    """The folder ``tensorflow_hub`` caches modules in (``TFHUB_CACHE_DIR`` or ``<tmp>/tfhub_modules``).

    Example:
        >>> cache_dir().is_absolute()
        True
    """
    return Path(os.environ.get("TFHUB_CACHE_DIR") or Path(tempfile.gettempdir()) / "tfhub_modules")


def module_dir(handle: str, cache: str | Path | None = None) -> Path:
    """Where ``tensorflow_hub`` resolves ``handle``: ``<cache>/<sha1(handle)>``.

    Example:
        >>> module_dir("https://tfhub.dev/x/1", "/c").as_posix()
        '/c/72fa5c886a9c6569ce2f0cbeb0ccac8dddca3594'
    """
    return Path(cache or cache_dir()) / hashlib.sha1(handle.encode("utf8")).hexdigest()


def save_feature_vector(model: keras.Model, export_dir: str | Path, rescale: tuple[float, float] | None) -> Path:
    """Save ``model`` as a TF2 SavedModel that behaves like a TF Hub image feature vector.

    The saved ``__call__`` takes ``float32`` images ``[batch, height, width, 3]`` with pixels
    in [0, 1] (the hub convention), maps them back to [0, 255], applies ``x * scale + offset``
    when ``rescale`` is ``(scale, offset)`` (``None``: the model takes [0, 255] itself), runs
    ``model`` in inference mode and returns its output.

    Example:
        >>> save_feature_vector(keras.Sequential([keras.Input((8, 8, 3)), keras.layers.GlobalAveragePooling2D()]),
        ...                     "/tmp/fv", None)  # doctest: +SKIP
    """
    import tensorflow as tf

    scale, offset = rescale if rescale else (1.0, 0.0)

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)])
    def call(images):
        return model(images * (255.0 * scale) + offset, training=False)

    # The attributes TF Hub's "reusable SavedModel" convention asks for.
    module = tf.train.Checkpoint(model=model)
    module.__call__ = call
    module.variables = list(model.variables)
    module.trainable_variables = list(model.trainable_variables)
    module.regularization_losses = []

    export_dir = Path(export_dir)
    tf.saved_model.save(module, str(export_dir))
    return export_dir


def build_module(backbone: str, export_dir: str | Path, image_size: int = 224) -> Path:
    """Build the TF Hub twin of ``backbone`` from the ImageNet weights in the Keras cache.

    Example:
        >>> build_module("mobilenet_v2_035", "/tmp/mobilenet_fv")  # doctest: +SKIP
    """
    from helpers.models import BACKBONES, load_backbone

    spec = BACKBONES[backbone]
    base = load_backbone(backbone, (image_size, image_size, 3))
    pooled = keras.Model(base.inputs, keras.layers.GlobalAveragePooling2D()(base.outputs[0]))
    rescale = None if spec.scale is None else (spec.scale, spec.offset)
    return save_feature_vector(pooled, export_dir, rescale)


def place(export_dir: str | Path, handle: str, cache: str | Path | None = None) -> Path:
    """Move a SavedModel folder to where ``tensorflow_hub`` resolves ``handle``; an existing module is kept.

    Example:
        >>> place("/tmp/mobilenet_fv", BACKBONES["mobilenet_v2_035"].hub_handle)  # doctest: +SKIP
    """
    target = module_dir(handle, cache)
    if target.exists() and any(target.iterdir()):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(export_dir), str(target))
    Path(f"{target}.descriptor.txt").write_text(f"Module: {handle}\nBuilt offline by tools.hub_cache\n")
    return target


def seed(backbone: str = "mobilenet_v2_035", cache: str | Path | None = None) -> Path:
    """Build ``backbone``'s feature vector from the Keras cache and place it under its TF Hub handle.

    Does nothing when the handle is already cached.

    Example:
        >>> seed("mobilenet_v2_035")  # doctest: +SKIP
    """
    from helpers.models import BACKBONES

    handle = BACKBONES[backbone].hub_handle
    target = module_dir(handle, cache)
    if target.exists() and any(target.iterdir()):
        return target
    with tempfile.TemporaryDirectory() as tmp:
        built = build_module(backbone, Path(tmp) / "module")
        return place(built, handle, cache)


def keras_cache_dir() -> Path:
    """The folder Keras caches downloaded weights in: ``$KERAS_HOME/models`` or ``~/.keras/models``.

    Example:
        >>> keras_cache_dir().name
        'models'
    """
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras") / "models"


def fill_keras_cache(src: str | Path) -> list[Path]:
    """Copy weight files from another Keras cache (``src`` or ``src/models``) into this one, keeping existing files.

    Returns:
        the files copied (already-present files are left alone).

    Example:
        >>> fill_keras_cache("../shared/weights/keras")  # doctest: +SKIP
        [PosixPath('/root/.keras/models/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5'), ...]
    """
    src = Path(src)
    src = src / "models" if (src / "models").is_dir() else src
    if not src.is_dir():
        raise FileNotFoundError(f"{src} is not a folder of Keras weight files (.h5, .json).")
    target = keras_cache_dir()
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for file in sorted(src.iterdir()):
        if file.suffix in (".h5", ".json") and not (target / file.name).exists():
            shutil.copyfile(file, target / file.name)
            copied.append(target / file.name)
    return copied


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m tools.hub_cache", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    seed_cmd = sub.add_parser("seed", help="build a backbone's TF Hub twin from the Keras cache")
    seed_cmd.add_argument("--backbone", default="mobilenet_v2_035")
    seed_cmd.add_argument("--cache-dir", default=None, help="default: $TFHUB_CACHE_DIR or <tmp>/tfhub_modules")
    where = sub.add_parser("where", help="print where tensorflow_hub caches a handle")
    where.add_argument("handle")
    offline = sub.add_parser("offline", help="copy weights into the Keras cache, then seed the backbone's TF Hub twin")
    offline.add_argument("--keras-src", required=True, help="another Keras cache, e.g. ../shared/weights/keras")
    offline.add_argument("--backbone", default="mobilenet_v2_035")
    args = parser.parse_args(argv)
    if args.command == "seed":
        print(seed(args.backbone, args.cache_dir))
    elif args.command == "offline":
        copied = fill_keras_cache(args.keras_src)
        print(f"Keras cache {keras_cache_dir()}: {len(copied)} file(s) copied")
        print(f"TF Hub twin of {args.backbone}: {seed(args.backbone)}")
    else:
        print(module_dir(args.handle))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
