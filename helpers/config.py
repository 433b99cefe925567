"""One place that reads the run profile from the environment.

Every notebook starts with :func:`setup`, which reads the profile, seeds every
random number generator and prints one line saying which profile is on.

Profiles (chosen by environment variables, never by editing a notebook):

========================  ==========================================================
``COURSE_SMOKE=1``        tiny generated images, 64 px, 1 epoch, 2 steps per epoch
                          (for CI and a quick check that everything runs)
``COURSE_DATA_DIR=path``  read a local ``train/<class>/``, ``test/<class>/`` folder
                          instead of downloading the course data
``COURSE_BACKBONE=name``  use this ``keras.applications`` backbone (and its TF Hub
                          twin) instead of each notebook's default
``COURSE_STRATEGY=...``   ``mirrored`` or ``default`` instead of the strategy
                          :mod:`helpers._internal.device` picks (``COURSE_CPU_DEVICES=N``: split
                          the processor into N devices to mirror over)
(none of them)            the learner profile: download the data, full sizes
========================  ==========================================================

The batch size is per replica: with several GPUs, a TPU or several machines each replica
takes one such batch per step, so :func:`setup` makes ``Profile.batch_size``, the batch the
data loaders read, the global one: per-replica size × replicas.

Where things go (each can be moved with an environment variable):
``COURSE_RUN_DIR`` (default ``runs/``) holds checkpoints, TensorBoard logs and
``results.csv``; ``COURSE_IMAGES_DIR`` (default ``images/``) holds saved
figures; ``COURSE_DATA_ROOT`` (default ``data/``) holds downloads and subsets.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers._internal.device import replicas_in_use
from helpers.backbones import BACKBONES

ENV_SMOKE = "COURSE_SMOKE"
ENV_DATA_DIR = "COURSE_DATA_DIR"
ENV_TWO_CLASS_DIR = "COURSE_TWO_CLASS_DIR"
ENV_BACKBONE = "COURSE_BACKBONE"
ENV_RUN_DIR = "COURSE_RUN_DIR"
ENV_IMAGES_DIR = "COURSE_IMAGES_DIR"
ENV_DATA_ROOT = "COURSE_DATA_ROOT"

DEFAULT_SEED = 42
#: Images per replica in one training step (smoke profile, other profiles); the global batch is this × replicas.
PER_REPLICA_BATCH = {"smoke": 8, "full": 32}
#: Training images per class in the full Food-101 training split; the course's
#: 1% / 10% / 100% subsets are fractions of this number.
FOOD101_TRAIN_PER_CLASS = 750

_TRUE = {"1", "true", "yes", "on"}

#: The Python versions the course supports, oldest and newest (``requires-python`` in ``pyproject.toml`` agrees).
SUPPORTED_PYTHON = ((3, 11), (3, 13))
#: The oldest TensorFlow and Keras the course runs on (Keras 3 ships with TensorFlow 2.16 and newer).
MINIMUM = {"tensorflow": (2, 16), "keras": (3, 0)}

#: Where each notebook service keeps files between cells: ``data`` for downloads and weight caches, ``work`` for
#: what the learner makes (runs, figures). Colab's ``/content`` lasts one runtime; Kaggle saves ``/kaggle/working``
#: with the notebook (20 GB at most), so the downloads go to ``/kaggle/temp`` beside it.
SERVICE_PLACES = {
    "colab": {"data": "/content/course/data", "work": "/content/course"},
    "kaggle": {"data": "/kaggle/temp/course/data", "work": "/kaggle/working"},
}


@dataclass(frozen=True)
class Profile:
    """The sizes and places a notebook works with.

    Taught in notebook 00, section 2 ("What the profile gives this notebook").

    ``batch_size`` is the global batch, the one the data loaders read: ``per_replica_batch_size`` images
    for each of ``replicas`` devices (one, unless a distribution strategy is in force).

    Example:
        >>> p = load_profile({"COURSE_SMOKE": "1"})
        >>> p.name, p.image_size, p.epochs
        ('smoke', (64, 64), 1)
        >>> p2 = load_profile({"COURSE_SMOKE": "1"}, replicas=2)
        >>> p2.batch_size, p2.per_replica_batch_size, p2.replicas
        (16, 8, 2)
    """

    name: str
    smoke: bool
    data_dir: Path | None
    backbone: str | None
    image_size: tuple[int, int]
    batch_size: int
    epochs: int
    fine_tune_epochs: int
    steps_per_epoch: int | None
    seed: int
    root: Path
    runs_dir: Path
    images_dir: Path
    data_root: Path
    replicas: int = 1
    two_class_dir: Path | None = None

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """``image_size`` plus the three colour channels."""
        return (*self.image_size, 3)

    @property
    def per_replica_batch_size(self) -> int:
        """The images each replica (device) takes per training step: ``batch_size`` split over ``replicas``."""
        return self.batch_size // self.replicas

    def describe(self) -> str:
        """One line that tells a learner which profile is active."""
        data = str(self.data_dir) if self.data_dir else ("generated tiny images" if self.smoke else "download")
        if self.two_class_dir:
            data += f" | two-class data={self.two_class_dir}"
        split = f" ({self.per_replica_batch_size} per replica × {self.replicas} replicas)" if self.replicas > 1 else ""
        return (
            f"profile={self.name} | data={data} | backbone={self.backbone or 'notebook default'} | "
            f"image_size={self.image_size[0]}x{self.image_size[1]} | batch_size={self.batch_size}{split} | "
            f"epochs={self.epochs}+{self.fine_tune_epochs} | "
            f"steps_per_epoch={self.steps_per_epoch or 'all'} | seed={self.seed}"
        )


def notebook_service(environ: Mapping[str, str] | None = None) -> str | None:
    """``"colab"`` or ``"kaggle"`` when the notebook runs there (from the variables each service sets), else ``None``.

    Used by :func:`helpers.config.setup` (notebook 00, section 1).

    Example:
        >>> notebook_service({"COLAB_RELEASE_TAG": "release-colab-20260801"}), notebook_service({})
        ('colab', None)
        >>> notebook_service({"KAGGLE_KERNEL_RUN_TYPE": "Interactive"})
        'kaggle'
    """
    env = os.environ if environ is None else environ
    if env.get("COLAB_RELEASE_TAG") or env.get("COLAB_GPU") is not None:
        return "colab"
    if env.get("KAGGLE_KERNEL_RUN_TYPE") or env.get("KAGGLE_URL_BASE"):
        return "kaggle"
    return None


def find_root(start: Path | None = None) -> Path:
    """Return the course's top folder: the nearest parent holding ``pyproject.toml``.

    Used by :func:`helpers.config.load_profile` (notebook 00, section 1).

    Falls back to ``start`` (default: the working directory) when none is found.

    Example:
        >>> (find_root() / "pyproject.toml").exists()
        True
    """
    start = (start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / "pyproject.toml").exists() and (folder / "helpers").is_dir():
            return folder
    return start


def course_notebooks(root: Path, only: list[str] | None = None) -> list[Path]:
    """The lesson notebooks in order, then the solution notebooks in order (``only``: file-name prefixes).

    Not used in a lesson; the maintainers' commands in ``tools/`` and the tests walk it.

    The one list every command walks (``make run``, ``make slides``, ``make reference``, the course book).

    Example:
        >>> [p.name for p in course_notebooks(find_root(), only=["00"])]
        ['00_setup_and_data.ipynb', '00_setup_and_data_solutions.ipynb']
    """
    folder = Path(root) / "notebooks"
    found = sorted(folder.glob("[0-9][0-9]_*.ipynb")) + sorted((folder / "solutions").glob("[0-9][0-9]_*.ipynb"))
    return [nb for nb in found if not only or nb.name.startswith(tuple(only))]


def load_profile(
    environ: Mapping[str, str] | None = None, seed: int = DEFAULT_SEED, replicas: int | None = None
) -> Profile:
    """Read the profile from ``environ`` (default: ``os.environ``) without side effects.

    Used by :func:`helpers.config.setup` (notebook 00, section 1).

    ``replicas`` (default: those of the strategy in force, 1 before :func:`setup` picks one) multiplies
    the per-replica batch size into the global ``batch_size``.

    Example:
        >>> load_profile({}).name
        'learner'
        >>> load_profile({"COURSE_DATA_DIR": "/data/food10"}).data_dir
        PosixPath('/data/food10')
    """
    env = os.environ if environ is None else environ
    smoke = env.get(ENV_SMOKE, "").strip().lower() in _TRUE
    data_dir = Path(env[ENV_DATA_DIR]).expanduser().resolve() if env.get(ENV_DATA_DIR) else None
    two_class_dir = Path(env[ENV_TWO_CLASS_DIR]).expanduser().resolve() if env.get(ENV_TWO_CLASS_DIR) else None
    backbone = env.get(ENV_BACKBONE) or None
    if backbone is not None:
        if backbone not in BACKBONES:
            raise ValueError(f"{ENV_BACKBONE}={backbone!r} is not a known backbone; choose one of {sorted(BACKBONES)}.")
    name = "smoke" if smoke else ("local" if data_dir or two_class_dir or backbone else "learner")
    root = find_root()
    # On a notebook service the course is installed, not checked out: its files go where the service keeps them.
    places = SERVICE_PLACES.get(notebook_service(env) or "") if not (root / "pyproject.toml").exists() else None
    work, data = (Path(places["work"]), Path(places["data"])) if places else (root, root / "data")
    replicas = replicas_in_use() if replicas is None else replicas
    return Profile(
        name=name,
        smoke=smoke,
        data_dir=data_dir,
        backbone=backbone,
        image_size=(64, 64) if smoke else (224, 224),
        batch_size=PER_REPLICA_BATCH["smoke" if smoke else "full"] * replicas,
        epochs=1 if smoke else 5,
        fine_tune_epochs=1 if smoke else 5,
        steps_per_epoch=2 if smoke else None,
        seed=seed,
        root=root,
        runs_dir=Path(env.get(ENV_RUN_DIR) or work / "runs").resolve(),
        images_dir=Path(env.get(ENV_IMAGES_DIR) or work / "images").resolve(),
        data_root=Path(env.get(ENV_DATA_ROOT) or data).resolve(),
        replicas=replicas,
        two_class_dir=two_class_dir,
    )


def set_seeds(seed: int = DEFAULT_SEED) -> None:
    """Seed Python, NumPy and TensorFlow in one call (``keras.utils.set_random_seed``).

    Used by :func:`helpers.config.setup` (notebook 00, section 1).

    Example:
        >>> set_seeds(0)
    """
    import keras

    keras.utils.set_random_seed(seed)


def versions() -> dict[str, str]:
    """Versions of Python, TensorFlow, Keras and TensorFlow Hub.

    Used by :func:`helpers.config.setup` (notebook 00, section 1).

    Example:
        >>> sorted(versions())
        ['keras', 'python', 'tensorflow', 'tensorflow_hub']
    """
    import platform

    import keras
    import tensorflow as tf
    import tensorflow_hub as hub

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "tensorflow_hub": hub.__version__,
    }


def machine() -> str:
    """The processor model and the number of CPU cores this process may use, in one line.

    Used by :func:`helpers.results.record` (notebook 02, section 8).

    Example:
        >>> "cores" in machine()
        True
    """
    import platform

    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        model = next((line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                      if line.startswith("model name")), "")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{model or platform.processor() or platform.machine()}, {cores} cores"


def _major_minor(version: str) -> tuple[int, int]:
    """``"2.21.0rc1"`` -> ``(2, 21)``."""
    parts = [int("".join(ch for ch in part if ch.isdigit()) or 0) for part in version.split(".")[:2]]
    return (parts + [0])[0], (parts + [0, 0])[1]


def check_versions(found: Mapping[str, str]) -> None:
    """Stop early, in one sentence that says what to install, on a Python, TensorFlow or Keras the course can't use.

    Used by :func:`helpers.config.setup` (notebook 00, section 1).

    Example (``ELLIPSIS`` hides the versions found):
        >>> check_versions({"python": "3.13.0", "tensorflow": "2.21.0", "keras": "3.15.1"})
        >>> check_versions({"python": "3.11.7", "tensorflow": "2.15.0", "keras": "2.15.0"})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        RuntimeError: This course needs TensorFlow >= 2.16 with Keras 3, ... pip install "tensorflow>=2.16" "keras>=3".
        >>> check_versions({"python": "3.14.0", "tensorflow": "2.21.0", "keras": "3.15.1"})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        RuntimeError: This course needs Python 3.11 to 3.13 (TensorFlow has no wheels for others), ...
    """
    (old, new) = SUPPORTED_PYTHON
    python = found.get("python")
    if python is not None and not old <= _major_minor(python) <= new:
        raise RuntimeError(
            f"This course needs Python {old[0]}.{old[1]} to {new[0]}.{new[1]} (TensorFlow has no wheels for others), "
            f"but this is Python {python}: install Python {new[0]}.{new[1]} from python.org and make the course's "
            "venv with it (README, 'Start here')."
        )
    if any(_major_minor(found[name]) < MINIMUM[name] for name in MINIMUM):
        raise RuntimeError(
            f"This course needs TensorFlow >= 2.16 with Keras 3, but found TensorFlow {found['tensorflow']} and "
            f"Keras {found['keras']}: run pip install \"tensorflow>=2.16\" \"keras>=3\"."
        )


def device() -> str:
    """A one-line description of what TensorFlow will compute on.

    Taught in notebook 01, section 9 ("Train the EfficientNetB0 feature extractor").

    Example:
        >>> device().startswith(("GPU", "CPU"))
        True
    """
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        return f"GPU: {', '.join(g.name for g in gpus)} (epochs take seconds)"
    return "CPU only: no GPU found (fine for this course; epochs take tens of seconds to minutes)"


def mixed_precision(gpus: list | None = None) -> bool:
    """Compute in float16 (weights stay float32) where a GPU with tensor cores is present; nothing on a CPU.

    Used by :func:`helpers.config.setup` (notebook 00, section 1).

    Sets Keras's global policy to ``"mixed_float16"`` when a GPU of compute capability 7.0 or later is
    found (older GPUs and CPUs gain nothing from float16). ``COURSE_MIXED_PRECISION=0`` keeps float32
    everywhere; ``COURSE_MIXED_PRECISION=1`` turns it on whatever the device (slow on a CPU: for checks
    only). Build models after it: the course's output layers keep ``dtype="float32"``, so softmax and the
    loss stay in float32, and ``compile`` adds loss scaling by itself.

    Returns:
        Whether the policy is now ``mixed_float16``.

    Example:
        >>> mixed_precision(gpus=[])  # a CPU
        False
    """
    import keras
    import tensorflow as tf

    choice = os.environ.get("COURSE_MIXED_PRECISION", "").strip().lower()
    if choice in {"0", "false", "no", "off"}:
        keras.mixed_precision.set_global_policy("float32")
        return False
    if choice in {"1", "true", "yes", "on"}:
        capable = True
    else:
        gpus = tf.config.list_physical_devices("GPU") if gpus is None else gpus
        details = tf.config.experimental.get_device_details
        capable = any(tuple(details(gpu).get("compute_capability") or (0, 0)) >= (7, 0) for gpu in gpus)
    keras.mixed_precision.set_global_policy("mixed_float16" if capable else "float32")
    return capable


def distribution() -> Any:
    """Pick the distribution strategy (``helpers._internal.device.strategy``); make it the global one if distributed.

    Used by :func:`helpers.config.setup` (notebook 00, section 1).

    Splits the processor first when ``COURSE_CPU_DEVICES`` asks for it: that has to happen before
    TensorFlow starts its devices, which is why :func:`setup` calls this before anything else touches
    them. A distributed strategy becomes TensorFlow's global default (:func:`helpers._internal.device.use`), so the
    models every later cell builds and compiles are distributed without a ``with strategy.scope():``.

    Example:
        >>> type(distribution()).__name__  # one CPU, no COURSE_STRATEGY
        '_DefaultDistributionStrategy'
    """
    from helpers._internal import device as course_device

    cpus = course_device.cpu_devices_wanted()
    if cpus:
        course_device.split_cpu(cpus)
    course_device.use(None)  # choose afresh from the default, also when setup() runs a second time
    chosen = course_device.strategy()
    course_device.use(chosen)
    return chosen


def setup(seed: int = DEFAULT_SEED, verbose: bool = True) -> Profile:
    """Check versions, pick the strategy, seed everything, create the output folders and print what is on.

    Taught in notebook 00, section 1 ("Check the environment").

    Prints the versions, the device, mixed precision, the distribution strategy with its replicas and
    batch sizes, and the profile. The profile's ``batch_size`` is the global batch of the strategy.

    Example:
        >>> profile = setup()  # doctest: +SKIP
        TensorFlow 2.21.0 | Keras 3.15.1 | TF Hub 0.16.1 | Python 3.11.7
        CPU only: no GPU found (...)
        mixed precision: off (...)
        strategy: default (one device, no distribution), 1 replica | batch size 32
        profile=learner | data=download | backbone=notebook default | ...
    """
    found = versions()
    check_versions(found)
    chosen = distribution()
    profile = load_profile(seed=seed, replicas=chosen.num_replicas_in_sync)
    set_seeds(seed)
    for folder in (profile.runs_dir, profile.images_dir, profile.data_root):
        folder.mkdir(parents=True, exist_ok=True)
    mixed = mixed_precision()
    if verbose:
        print(
            f"TensorFlow {found['tensorflow']} | Keras {found['keras']} | TF Hub {found['tensorflow_hub']} | "
            f"Python {found['python']}"
        )
        print(device())
        print(
            "mixed precision: on (float16 compute, float32 weights and output layers)" if mixed
            else "mixed precision: off (float32 throughout; it speeds up GPUs with tensor cores only)"
        )
        from helpers._internal.device import describe

        batch = f"batch size {profile.batch_size}"
        if profile.replicas > 1:
            batch += f" = {profile.per_replica_batch_size} per replica × {profile.replicas} replicas"
        print(f"{describe(chosen)} | {batch}")
        print(profile.describe())
        service = notebook_service()
        if service is not None:
            print(service_note(service, profile))
    return profile


def service_note(service: str, profile: Profile) -> str:
    """What a notebook service keeps and for how long, in one line (printed by :func:`setup` there).

    Used by :func:`helpers.config.setup` (notebook 00, section 1).

    Example:
        >>> service_note("colab", load_profile({}, replicas=1)).startswith("Colab: downloads")
        True
    """
    if service == "colab":
        return (
            f"Colab: downloads in {profile.data_root}, runs in {profile.runs_dir}; they last as long as this runtime, "
            "so a new runtime downloads again (set COURSE_RUN_DIR to a folder on your mounted Drive to keep runs)."
        )
    return (
        f"Kaggle: downloads in {profile.data_root} (not saved with the notebook), runs in {profile.runs_dir} "
        "(saved with it; turn on Settings > Persistence > Files to keep them between sessions)."
    )
