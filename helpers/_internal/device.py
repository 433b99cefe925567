"""Which devices train the model: one, several GPUs, a TPU or several machines (``tf.distribute``).

:func:`helpers.config.setup` calls :func:`strategy` once, makes a strategy that spreads over more than one
replica TensorFlow's global default (:func:`use`), and prints :func:`describe`'s line. From then on every
model the notebook builds, compiles and fits, by hand or through a helper, lives under that strategy, as if
each cell ran inside ``with strategy.scope():``.

What :func:`strategy` picks (``COURSE_STRATEGY`` unset or ``auto``), first match wins:

=======================================  ==================================================================
``TF_CONFIG`` names two or more workers  ``tf.distribute.MultiWorkerMirroredStrategy`` (several machines)
a TPU is attached                        ``tf.distribute.TPUStrategy`` (``TPU_NAME``, ``COLAB_TPU_ADDR``,
                                         ``TPU_ACCELERATOR_TYPE`` or ``/dev/accel*``, ``/dev/vfio/<n>``)
two or more GPUs                         ``tf.distribute.MirroredStrategy`` over all of them
otherwise                                the default strategy: one device, nothing changes
=======================================  ==================================================================

``COURSE_STRATEGY=mirrored`` asks for ``MirroredStrategy`` even without GPUs: over the logical CPUs that
``COURSE_CPU_DEVICES=N`` splits the processor into (for tests and teaching; it is not faster).
``COURSE_STRATEGY=default`` never distributes.

Two things differ from one device, and this module handles them: Keras 3 cannot start ``fit`` on a data
set smaller than one global batch that splits unevenly (:func:`fix_first_batch`), and a SavedModel (TF Hub,
``TFSMLayer``) loaded under the strategy cannot be called directly in a cell (:func:`on_one_replica`).

No TensorFlow import at module level: the module is read before TensorFlow starts its devices.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

ENV_STRATEGY = "COURSE_STRATEGY"
ENV_CPU_DEVICES = "COURSE_CPU_DEVICES"
#: The values ``COURSE_STRATEGY`` accepts.
CHOICES = ("auto", "default", "mirrored")
#: Where :func:`tpu_address` looks for TPU device files.
DEV = Path("/dev")

#: Strategies made in this process, by kind: a TPU is initialised once, and a second ``setup()`` gets the
#: strategy the first one made (models built under it keep working).
_MADE: dict[str, Any] = {}


def requested(environ: Mapping[str, str] | None = None) -> str:
    """The strategy ``COURSE_STRATEGY`` asks for: ``auto`` (the default), ``default`` or ``mirrored``.

    Example:
        >>> requested({}), requested({"COURSE_STRATEGY": " Mirrored "})
        ('auto', 'mirrored')
    """
    env = os.environ if environ is None else environ
    wanted = env.get(ENV_STRATEGY, "").strip().lower() or "auto"
    if wanted not in CHOICES:
        raise ValueError(f"{ENV_STRATEGY}={wanted!r} is not known; choose one of {', '.join(CHOICES)}.")
    return wanted


def cpu_devices_wanted(environ: Mapping[str, str] | None = None) -> int:
    """How many logical CPU devices ``COURSE_CPU_DEVICES`` asks for (0: leave the processor as one device).

    Example:
        >>> cpu_devices_wanted({}), cpu_devices_wanted({"COURSE_CPU_DEVICES": "2"})
        (0, 2)
    """
    env = os.environ if environ is None else environ
    value = env.get(ENV_CPU_DEVICES, "").strip()
    if not value:
        return 0
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{ENV_CPU_DEVICES}={value!r} must be a whole number of devices, 1 or more.")
    return int(value)


def split_cpu(n: int) -> int:
    """Split the processor into ``n`` logical CPU devices, so a strategy can mirror a model over them.

    Must run before TensorFlow starts its devices (before the first op, model or device listing):
    :func:`helpers.config.setup` calls it first, for ``COURSE_CPU_DEVICES``. Asking again for the split
    already made is fine. When it is too late for another split, it warns and keeps the devices as they
    are (restart the kernel to change it).

    A batch with fewer images than replicas leaves some replica an empty share. TensorFlow's oneDNN
    convolution on CPUs (TF 2.21) mishandles an empty batch (``Incompatible shapes: [0,64,64,3] vs. [16]``);
    set ``TF_ENABLE_ONEDNN_OPTS=0`` before starting Python when you mirror over logical CPUs.

    Returns:
        The number of logical CPU devices now.

    Example:
        >>> split_cpu(2)  # doctest: +SKIP
        2
    """
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(n)])
    except RuntimeError:
        have = len(tf.config.list_logical_devices("CPU"))
        if have != n:
            warnings.warn(
                f"{ENV_CPU_DEVICES}={n} came too late: TensorFlow already started with {have} CPU device(s). "
                "Restart the kernel (or the process) with the variable set before anything uses TensorFlow.",
                stacklevel=2,
            )
        return have
    return n


def tf_config_workers(environ: Mapping[str, str] | None = None) -> int:
    """How many machines (``chief`` and ``worker`` tasks) the ``TF_CONFIG`` variable names (0 if unset).

    Example:
        >>> tf_config_workers({"TF_CONFIG": '{"cluster": {"worker": ["a:2222", "b:2222"]}, '
        ...                                 '"task": {"type": "worker", "index": 0}}'})
        2
        >>> tf_config_workers({})
        0
    """
    env = os.environ if environ is None else environ
    raw = env.get("TF_CONFIG", "").strip()
    if not raw:
        return 0
    try:
        cluster = json.loads(raw).get("cluster", {})
    except (json.JSONDecodeError, AttributeError) as err:
        raise ValueError(f"TF_CONFIG is not a JSON object with a 'cluster' entry: {raw[:80]!r}") from err
    return sum(len(cluster.get(kind, [])) for kind in ("chief", "worker"))


def tpu_address(environ: Mapping[str, str] | None = None, dev: Path | None = None) -> str | None:
    """Where a TPU is, judged from environment variables and device files only: fast, no network.

    ``TPU_NAME`` (a Cloud TPU's name, or ``local``), ``COLAB_TPU_ADDR`` (an older Colab TPU runtime),
    ``TPU_ACCELERATOR_TYPE`` (a Cloud TPU VM) or device files ``/dev/accel*`` (TPU v2 to v4 VMs) and
    ``/dev/vfio/<n>`` (TPU v5e and later) say a TPU is attached. Nothing there: ``None``, and no
    ``TPUClusterResolver`` is created (left to guess, it asks a cloud metadata server, which hangs
    where there is none).

    Returns:
        The ``tpu`` argument for ``TPUClusterResolver``: a name, ``grpc://host:port`` or ``local``;
        ``None`` when there is no sign of a TPU.

    Example:
        >>> tpu_address({}, dev=Path("/nonexistent")) is None
        True
        >>> tpu_address({"COLAB_TPU_ADDR": "10.0.0.2:8470"}, dev=Path("/nonexistent"))
        'grpc://10.0.0.2:8470'
    """
    env = os.environ if environ is None else environ
    dev = DEV if dev is None else dev
    if env.get("TPU_NAME", "").strip():
        return env["TPU_NAME"].strip()
    if env.get("COLAB_TPU_ADDR", "").strip():
        return f"grpc://{env['COLAB_TPU_ADDR'].strip()}"
    if env.get("TPU_ACCELERATOR_TYPE", "").strip():
        return "local"
    try:
        accel = any(dev.glob("accel[0-9]*"))
        vfio = any(re.fullmatch(r"\d+", p.name) for p in (dev / "vfio").iterdir()) if (dev / "vfio").is_dir() else False
    except OSError:
        return None
    return "local" if accel or vfio else None


def choose(environ: Mapping[str, str] | None = None, gpus: int = 0, tpu: str | None = None) -> str:
    """The kind of strategy to make: ``multi_worker``, ``tpu``, ``mirrored`` or ``default``.

    The decision alone, from the environment, the number of GPUs and :func:`tpu_address`'s answer;
    :func:`strategy` gathers those and makes the strategy.

    Example:
        >>> choose({}, gpus=0), choose({}, gpus=2), choose({}, gpus=1, tpu="local")
        ('default', 'mirrored', 'tpu')
        >>> choose({"TF_CONFIG": '{"cluster": {"worker": ["a:1", "b:1"]}}'}, gpus=1)
        'multi_worker'
        >>> choose({"COURSE_STRATEGY": "mirrored"}), choose({"COURSE_STRATEGY": "default"}, gpus=8)
        ('mirrored', 'default')
    """
    env = os.environ if environ is None else environ
    wanted = requested(env)
    if wanted != "auto":
        return wanted
    if tf_config_workers(env) > 1:
        return "multi_worker"
    if tpu is not None:
        return "tpu"
    return "mirrored" if gpus > 1 else "default"


def _make(kind: str, tpu: str | None) -> Any:
    """Make (once per process) the strategy of ``kind``."""
    import tensorflow as tf

    if kind not in _MADE:
        if kind == "multi_worker":
            _MADE[kind] = tf.distribute.MultiWorkerMirroredStrategy()
        elif kind == "tpu":
            resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
            if tpu != "local":
                tf.config.experimental_connect_to_cluster(resolver)
            tf.tpu.experimental.initialize_tpu_system(resolver)
            _MADE[kind] = tf.distribute.TPUStrategy(resolver)
        elif kind == "mirrored":
            gpus = tf.config.list_physical_devices("GPU")
            cpus = [d.name for d in tf.config.list_logical_devices("CPU")]
            _MADE[kind] = tf.distribute.MirroredStrategy(None if gpus else cpus)
        else:
            raise ValueError(f"unknown strategy kind {kind!r}")
    return _MADE[kind]


def strategy(environ: Mapping[str, str] | None = None) -> Any:
    """The ``tf.distribute.Strategy`` to train with, chosen as the module's table says.

    With one device it is TensorFlow's default strategy (``tf.distribute.get_strategy()`` outside any
    scope), so nothing changes. A TPU that is found but cannot be used (for instance TensorFlow without
    TPU support) gives a warning and the next choice. Call :func:`split_cpu` first for logical CPUs.

    Example:
        >>> type(strategy({})).__name__  # a machine with no GPU and no TPU
        '_DefaultDistributionStrategy'
    """
    import tensorflow as tf

    env = os.environ if environ is None else environ
    gpus = len(tf.config.list_physical_devices("GPU"))
    tpu = tpu_address(env) if requested(env) == "auto" and tf_config_workers(env) <= 1 else None
    kind = choose(env, gpus=gpus, tpu=tpu)
    if kind == "tpu":
        try:
            return _make(kind, tpu)
        except Exception as err:  # noqa: BLE001 (any failure to reach the TPU: fall back, say why)
            warnings.warn(f"A TPU seemed attached ({tpu}) but TensorFlow could not use it: {err}", stacklevel=2)
            kind = choose(env, gpus=gpus, tpu=None)
    if kind == "default":
        return tf.distribute.get_strategy()
    return _make(kind, tpu)


def is_distributed(chosen: Any) -> bool:
    """Whether ``chosen`` spreads training over more than one replica, or runs on a TPU.

    Example:
        >>> import tensorflow as tf
        >>> is_distributed(tf.distribute.get_strategy())
        False
    """
    return chosen.num_replicas_in_sync > 1 or "TPU" in type(chosen).__name__


def use(chosen: Any | None) -> bool:
    """Make ``chosen`` TensorFlow's global strategy when it is distributed; otherwise restore the default.

    ``tf.distribute.experimental_set_strategy`` is ``with chosen.scope():`` for everything that follows:
    Keras 3 then creates every variable (model, optimizer, metrics) as a distributed variable and ``fit``,
    ``evaluate`` and ``predict`` split each batch over the replicas. Call it outside any ``scope()``.
    A distributed strategy also gets :func:`fix_first_batch`, and TensorFlow's ``INFO`` lines (one per
    all-reduce it sets up) are hidden: the ``strategy:`` line of ``setup()`` already says what runs where.

    Returns:
        Whether a distributed strategy is now the global one.

    Example:
        >>> import tensorflow as tf
        >>> use(tf.distribute.get_strategy())  # one device: the default stays
        False
    """
    import tensorflow as tf

    distributed = chosen is not None and is_distributed(chosen)
    if distributed:
        fix_first_batch()
        if tf.get_logger().getEffectiveLevel() < logging.WARNING:
            tf.get_logger().setLevel(logging.WARNING)
    tf.distribute.experimental_set_strategy(chosen if distributed else None)
    return distributed


def fix_first_batch() -> bool:
    """Work around a Keras 3 bug: ``fit``/``evaluate`` fail when a data set's first batch splits unevenly.

    Before the first step, Keras 3 (3.15 included, keras-team/keras#19246) averages the first batch over
    the replicas to learn its shapes. A batch that does not split evenly (3 images over 2 replicas: parts
    of 2 and 1) cannot be averaged, and ``fit`` stops with ``InvalidArgumentError: Inputs to operation
    AddN ... must have the same size and shape``. That happens whenever a data set is smaller than one
    global batch: a small validation set, the 1% subset on a TPU. This takes the first replica's part
    instead, which has the same shapes. It changes Keras's ``TensorFlowTrainer`` for this process, only
    while the installed Keras still averages there, and only once; :func:`use` applies it.

    Returns:
        Whether the workaround is in place (``False``: this Keras no longer needs it).

    Example (it changes Keras for the whole process, so the docs do not run it; ``tests/robustness/test_device.py``
    runs notebook 02 under two replicas, whose 3-image validation set needs it):
        >>> fix_first_batch()  # doctest: +SKIP
        True
    """
    import inspect

    from keras.src import tree
    from keras.src.backend.tensorflow.trainer import TensorFlowTrainer

    original = TensorFlowTrainer._maybe_symbolic_build
    if getattr(original, "course_fix", False):
        return True
    if '"MEAN"' not in inspect.getsource(original):
        return False

    def _maybe_symbolic_build(self: Any, iterator: Any = None, data_batch: Any = None) -> Any:
        if self._distribute_strategy is not None and iterator is not None:
            import tensorflow as tf

            local = self.distribute_strategy.experimental_local_results
            for _, _, it in iterator:
                data_batch = tree.map_structure(
                    lambda x: local(x)[0] if isinstance(x, tf.distribute.DistributedValues) else x, next(it)
                )
                break
            iterator = None
        return original(self, iterator=iterator, data_batch=data_batch)

    _maybe_symbolic_build.course_fix = True  # type: ignore[attr-defined]
    TensorFlowTrainer._maybe_symbolic_build = _maybe_symbolic_build
    return True


def on_one_replica(fn: Callable[..., Any], *args: Any) -> Any:
    """Call ``fn(*args)`` as one replica would and return its result; with no distributed strategy, just call it.

    Under the global strategy :func:`use` sets, every cell runs in the strategy's cross-replica context.
    Keras models are fine there, but a SavedModel loaded under the strategy (a TF Hub module,
    ``keras.layers.TFSMLayer``) runs only inside a replica: called directly it fails with
    ``InvalidArgumentError: ... Trying to access a placeholder that is not supposed to be executed``.
    This runs ``fn`` on every replica (``strategy.run``, in a ``tf.function`` as TPUs require) and keeps
    the first replica's answer. Inside ``fit``, ``evaluate``, ``predict`` and any ``tf.function`` it
    simply calls ``fn``.

    Example:
        >>> on_one_replica(lambda x: x * 2, 21)  # no distributed strategy: a plain call
        42
    """
    import tensorflow as tf

    if not (tf.executing_eagerly() and tf.distribute.has_strategy() and tf.distribute.in_cross_replica_context()):
        return fn(*args)
    chosen = tf.distribute.get_strategy()
    outputs = chosen.run(tf.function(fn), args=args)
    return tf.nest.map_structure(lambda value: chosen.experimental_local_results(value)[0], outputs)


def replicas_in_use() -> int:
    """The replicas the strategy now in force trains on (1 before TensorFlow is imported, or with one device).

    Example:
        >>> replicas_in_use()
        1
    """
    tf = sys.modules.get("tensorflow")
    if tf is None or not hasattr(tf, "distribute"):
        return 1
    return int(tf.distribute.get_strategy().num_replicas_in_sync)


def describe(chosen: Any) -> str:
    """One line naming the strategy, its number of replicas and, for a mirrored one, their devices.

    Example:
        >>> import tensorflow as tf
        >>> describe(tf.distribute.get_strategy())
        'strategy: default (one device, no distribution), 1 replica'
    """
    n = chosen.num_replicas_in_sync
    name = type(chosen).__name__
    if name == "_DefaultDistributionStrategy":
        return f"strategy: default (one device, no distribution), {n} replica"
    where = ""
    if "Mirrored" in name and "MultiWorker" not in name:
        where = " on " + ", ".join(d.rsplit("device:", 1)[-1] for d in chosen.extended.worker_devices)
    plural = "replica" if n == 1 else "replicas"
    return f"strategy: {name}, {n} {plural}{where}"
