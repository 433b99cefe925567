"""Distribution strategies: what ``helpers._internal.device`` picks, and training on two replicas (two logical CPUs).

Splitting the processor into logical devices must happen before TensorFlow starts its devices, so every test
that trains on two replicas runs in a fresh Python process with ``COURSE_CPU_DEVICES=2``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import tensorflow as tf

from helpers import config
from helpers._internal import device

ROOT = Path(__file__).resolve().parents[2]
TPU_VARIABLES = ("TPU_NAME", "COLAB_TPU_ADDR", "TPU_ACCELERATOR_TYPE")
MOBILENET = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5"
TWO_REPLICAS = {"COURSE_CPU_DEVICES": "2", "COURSE_STRATEGY": "mirrored"}

#: Run in a fresh process: setup(), then a softmax head trained on fixed, noisy, separable features.
TRAIN_A_HEAD = r"""
import json, os
import numpy as np
import keras
import tensorflow as tf
from helpers._internal import device
from helpers.config import setup

rng = np.random.default_rng(0)
labels = np.arange(1200) % 4
features = (rng.normal(size=(4, 16))[labels] * 0.6 + rng.normal(size=(1200, 16))).astype("float32")
onehot = keras.utils.to_categorical(labels, 4)

keras_bug = None
if device.cpu_devices_wanted() > 1:  # before setup() works around it: does this Keras still trip on uneven batches?
    device.split_cpu(device.cpu_devices_wanted())
    with tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]).scope():
        probe = keras.Sequential([keras.Input((16,)), keras.layers.Dense(4)])
        probe.compile(loss="mse")
    try:
        probe.evaluate(features[:3], onehot[:3], batch_size=16, verbose=0)
        keras_bug = False
    except tf.errors.InvalidArgumentError:
        keras_bug = True

profile = setup()
strategy = tf.distribute.get_strategy()
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(4, activation="softmax", name="classifier")])
model.compile(optimizer=keras.optimizers.Adam(0.01), loss="categorical_crossentropy", metrics=["accuracy"])
batches = lambda lo, hi: tf.data.Dataset.from_tensor_slices((features[lo:hi], onehot[lo:hi])).batch(profile.batch_size)
model.fit(batches(0, 800), validation_data=batches(800, 803), epochs=10, verbose=0)  # 3 images: an uneven batch
# A SavedModel (as TF Hub modules and keras.layers.TFSMLayer load) made and loaded under the strategy in force
module = tf.Module()
module.weights = tf.Variable(tf.ones((16, 2)))
module.project = tf.function(lambda x: tf.matmul(x, module.weights), input_signature=[tf.TensorSpec((None, 16))])
tf.saved_model.save(module, os.environ["SAVED_MODEL_DIR"])
loaded = tf.saved_model.load(os.environ["SAVED_MODEL_DIR"])
try:
    loaded.project(features[:3])
    direct_call = "ok"
except tf.errors.InvalidArgumentError:
    direct_call = "fails"
projected = device.on_one_replica(loaded.project, features[:3])
print("RESULT " + json.dumps({
    "direct_call": direct_call,
    "on_one_replica": bool(np.allclose(projected, features[:3] @ np.ones((16, 2)), atol=1e-4)),
    "strategy": type(strategy).__name__,
    "replicas": strategy.num_replicas_in_sync,
    "batch_size": profile.batch_size,
    "per_replica": profile.per_replica_batch_size,
    "model_variables": sorted({type(v.value).__name__ for v in model.weights}),
    "optimizer_variables": sorted({type(v.value).__name__ for v in model.optimizer.variables}),
    "accuracy": model.evaluate(batches(800, 1200), verbose=0, return_dict=True)["accuracy"],
    "keras_bug": keras_bug,
}))
"""


def run_python(code: str, env: dict[str, str], timeout: int = 180) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh Python process at the project's root with ``env`` added to this environment."""
    full = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **env}
    for name in (*TPU_VARIABLES, "TF_CONFIG", *TWO_REPLICAS):
        if name not in env:
            full.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=full, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def train_a_head(env: dict[str, str], saved_model_dir: Path) -> dict:
    """The ``RESULT`` line of :data:`TRAIN_A_HEAD` run with ``env``, saving its SavedModel in ``saved_model_dir``."""
    out = run_python(TRAIN_A_HEAD, {"COURSE_SMOKE": "1", "SAVED_MODEL_DIR": str(saved_model_dir), **env}).stdout
    return json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[len("RESULT ") :])


@pytest.fixture
def no_tpu_or_cluster(monkeypatch):
    """No TPU variable, no TF_CONFIG, no COURSE_STRATEGY and an empty strategy cache."""
    for name in (*TPU_VARIABLES, "TF_CONFIG", device.ENV_STRATEGY, device.ENV_CPU_DEVICES):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(device, "_MADE", {})


def test_the_choice_follows_the_table():
    assert device.choose({}, gpus=0) == "default"
    assert device.choose({}, gpus=1) == "default"
    assert device.choose({}, gpus=4) == "mirrored"
    assert device.choose({}, gpus=4, tpu="local") == "tpu"
    assert device.choose({"COURSE_STRATEGY": "mirrored"}, gpus=0) == "mirrored"
    assert device.choose({"COURSE_STRATEGY": "default"}, gpus=4, tpu="local") == "default"
    with pytest.raises(ValueError, match="auto, default, mirrored"):
        device.choose({"COURSE_STRATEGY": "horovod"})
    with pytest.raises(ValueError, match="whole number"):
        device.cpu_devices_wanted({"COURSE_CPU_DEVICES": "two"})


def test_tf_config_with_several_workers_picks_multi_worker():
    two = {"cluster": {"worker": ["10.0.0.1:12345", "10.0.0.2:12345"]}, "task": {"type": "worker", "index": 1}}
    one = {"cluster": {"worker": ["localhost:12345"]}, "task": {"type": "worker", "index": 0}}
    chief = {"cluster": {"chief": ["a:1"], "worker": ["b:1"]}, "task": {"type": "chief", "index": 0}}
    assert device.choose({"TF_CONFIG": json.dumps(two)}, gpus=1, tpu="local") == "multi_worker"
    assert device.choose({"TF_CONFIG": json.dumps(chief)}) == "multi_worker"
    assert device.choose({"TF_CONFIG": json.dumps(one)}, gpus=2) == "mirrored"
    assert device.choose({"TF_CONFIG": json.dumps(two), "COURSE_STRATEGY": "default"}) == "default"
    with pytest.raises(ValueError, match="TF_CONFIG"):
        device.tf_config_workers({"TF_CONFIG": "workers: 2"})


def test_strategy_makes_multi_worker_from_tf_config_without_looking_for_a_tpu(monkeypatch, no_tpu_or_cluster):
    made = []

    class FakeMultiWorker:
        num_replicas_in_sync = 4

        def __init__(self):
            made.append(self)

    cluster = {"cluster": {"worker": ["a:2222", "b:2222"]}, "task": {"type": "worker", "index": 0}}
    monkeypatch.setenv("TF_CONFIG", json.dumps(cluster))
    monkeypatch.setattr(tf.distribute, "MultiWorkerMirroredStrategy", FakeMultiWorker)
    monkeypatch.setattr(device, "tpu_address", lambda *a, **k: pytest.fail("no TPU lookup with a cluster"))
    chosen = device.strategy()
    assert isinstance(chosen, FakeMultiWorker) and made == [chosen]
    assert device.strategy() is chosen, "check: made once per process"
    assert device.describe(chosen) == "strategy: FakeMultiWorker, 4 replicas"


def test_no_tpu_is_reported_quickly_and_no_resolver_is_made(monkeypatch, tmp_path, no_tpu_or_cluster):
    started = time.perf_counter()
    device.tpu_address()  # this machine's /dev, whatever it holds
    assert time.perf_counter() - started < 1.0, "check: environment variables and device files only"
    resolver = tf.distribute.cluster_resolver
    monkeypatch.setattr(resolver, "TPUClusterResolver", lambda *a, **k: pytest.fail("no resolver without a TPU"))
    monkeypatch.setattr(device, "DEV", tmp_path)  # a machine without TPU device files
    started = time.perf_counter()
    assert device.tpu_address() is None
    chosen = device.strategy()
    assert time.perf_counter() - started < 1.0, "check: no network lookup when there is no TPU"
    assert type(chosen).__name__ == "_DefaultDistributionStrategy" and chosen.num_replicas_in_sync == 1
    assert not device.is_distributed(chosen) and device.use(chosen) is False
    assert not tf.distribute.has_strategy(), "check: one device leaves TensorFlow's default strategy in force"


def test_tpu_signs(tmp_path):
    assert device.tpu_address({"TPU_NAME": "my-tpu"}, dev=tmp_path) == "my-tpu"
    assert device.tpu_address({"TPU_ACCELERATOR_TYPE": "v3-8"}, dev=tmp_path) == "local"
    (tmp_path / "vfio").mkdir()
    (tmp_path / "vfio" / "vfio").touch()  # the VFIO control file alone is no TPU
    assert device.tpu_address({}, dev=tmp_path) is None
    (tmp_path / "accel0").touch()
    assert device.tpu_address({}, dev=tmp_path) == "local"


def test_a_tpu_is_connected_initialised_once_and_falls_back_with_a_warning(monkeypatch, no_tpu_or_cluster):
    calls = []

    class FakeTPUStrategy:
        num_replicas_in_sync = 8

        def __init__(self, resolver):
            calls.append(("strategy", resolver))

    monkeypatch.setenv("TPU_NAME", "my-tpu")
    monkeypatch.setattr(tf.distribute.cluster_resolver, "TPUClusterResolver", lambda tpu: f"resolver:{tpu}")
    monkeypatch.setattr(tf.config, "experimental_connect_to_cluster", lambda r: calls.append(("connect", r)))
    monkeypatch.setattr(tf.tpu.experimental, "initialize_tpu_system", lambda r: calls.append(("initialise", r)))
    monkeypatch.setattr(tf.distribute, "TPUStrategy", FakeTPUStrategy)
    chosen = device.strategy()
    assert device.strategy() is chosen and device.is_distributed(chosen)
    assert [name for name, _ in calls] == ["connect", "initialise", "strategy"], "check: once, in this order"
    assert all(resolver == "resolver:my-tpu" for _, resolver in calls)

    def unreachable(resolver):
        raise tf.errors.NotFoundError(None, None, "no TPU here")

    monkeypatch.setattr(device, "_MADE", {})
    monkeypatch.setattr(tf.tpu.experimental, "initialize_tpu_system", unreachable)
    with pytest.warns(UserWarning, match="could not use it"):
        fallback = device.strategy()
    assert fallback.num_replicas_in_sync == 1


def test_the_global_batch_is_per_replica_times_replicas():
    one, two = config.load_profile({"COURSE_SMOKE": "1"}), config.load_profile({"COURSE_SMOKE": "1"}, replicas=2)
    assert (one.batch_size, one.per_replica_batch_size, one.replicas) == (8, 8, 1)
    assert (two.batch_size, two.per_replica_batch_size, two.replicas) == (16, 8, 2)
    assert config.load_profile({}, replicas=8).batch_size == 256
    assert "batch_size=16 (8 per replica × 2 replicas)" in two.describe() and "per replica" not in one.describe()


def test_setup_prints_the_strategy_and_its_replicas(monkeypatch, tmp_path, capsys, no_tpu_or_cluster):
    monkeypatch.setenv("COURSE_RUN_DIR", str(tmp_path / "runs"))
    profile = config.setup()
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("strategy: "))
    assert line == f"strategy: default (one device, no distribution), 1 replica | batch size {profile.batch_size}"
    assert profile.replicas == 1 and not tf.distribute.has_strategy()


def test_too_late_to_split_the_processor_warns_and_keeps_the_devices():
    have = len(tf.config.list_logical_devices("CPU"))  # TensorFlow has started its devices now
    with pytest.warns(UserWarning, match="came too late"):
        assert device.split_cpu(have + 1) == have


def test_two_replicas_train_as_well_as_one_device(tmp_path):
    one = train_a_head({}, tmp_path / "one")
    two = train_a_head(TWO_REPLICAS, tmp_path / "two")
    assert (one["strategy"], one["replicas"], one["batch_size"]) == ("_DefaultDistributionStrategy", 1, 8)
    assert (two["strategy"], two["replicas"], two["batch_size"], two["per_replica"]) == ("MirroredStrategy", 2, 16, 8)
    assert one["model_variables"] == ["ResourceVariable"]
    assert two["model_variables"] == ["MirroredVariable"], "check: setup()'s global strategy mirrors the weights"
    assert two["optimizer_variables"] == ["MirroredVariable"], "check: and the optimizer's state"
    assert min(one["accuracy"], two["accuracy"]) > 0.6, f"check: well above chance (0.25): {one}, {two}"
    assert abs(two["accuracy"] - one["accuracy"]) <= 0.05, f"{one['accuracy']=} {two['accuracy']=}"
    # fit validated on 3 images (an uneven batch) above; whether Keras needed the workaround for it:
    assert isinstance(two["keras_bug"], bool), "check: the probe ran; the fit above passed either way"
    assert one["direct_call"] == "ok" and one["on_one_replica"], "check: on one device a plain call"
    assert two["on_one_replica"], f"check: a SavedModel runs on one replica ({two['direct_call']} when called directly)"


def _keras_cache() -> Path | None:
    """A Keras cache holding MobileNetV2 α0.35's ImageNet weights: the test session's, or the project's."""
    for folder in (os.environ.get("KERAS_HOME"), ROOT / "data" / "keras", ROOT.parent / "shared" / "weights" / "keras"):
        if folder and (Path(folder) / "models" / MOBILENET).is_file():
            return Path(folder)
    return None


@pytest.mark.skipif(_keras_cache() is None, reason="needs MobileNetV2 α0.35 ImageNet weights in a Keras cache")
def test_the_appendix_runs_on_two_replicas(tmp_path):
    """The appendix (08) teaches strategies: on two logical CPUs it shows mirrored weights and a shared batch."""
    from tools import hub_cache

    keras_home = _keras_cache()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KERAS_HOME", str(keras_home))
        hub_cache.seed("mobilenet_v2_035", tmp_path / "tfhub")  # section 2 calls 01's TF Hub model, offline
    notebook = ROOT / "notebooks" / "08_appendix.ipynb"
    code = "from pathlib import Path; from tools.runner import execute; execute(Path({!r}), Path({!r}))"
    env = {
        **TWO_REPLICAS,
        "COURSE_SMOKE": "1",
        "COURSE_BACKBONE": "mobilenet_v2_035",
        "KERAS_HOME": str(keras_home),
        "TFHUB_CACHE_DIR": str(tmp_path / "tfhub"),
        "COURSE_RUN_DIR": str(tmp_path / "runs"),
        "COURSE_IMAGES_DIR": str(tmp_path / "images"),
    }
    started = time.perf_counter()
    run_python(code.format(str(notebook), str(tmp_path)), env, timeout=300)
    cells = json.loads((tmp_path / notebook.name).read_text())["cells"]
    printed = ["".join(o.get("text", "")) for c in cells if c["cell_type"] == "code" for o in c["outputs"]]
    assert any("strategy: MirroredStrategy, 2 replicas on CPU:0, CPU:1" in text for text in printed), printed[:2]
    assert any("on_one_replica: the key" in text for text in printed), "section 2 ran under the strategy"
    assert any("MirroredVariable | built inside strategy.scope(): MirroredVariable" in text for text in printed)
    assert any("a batch of 16 images, 8 for each replica" in text for text in printed)
    assert any("epochs trained after resuming: [2, 3]" in text for text in printed), "section 4 under the strategy"
    assert time.perf_counter() - started < 150
