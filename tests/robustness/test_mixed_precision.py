"""Mixed precision: on for GPUs with tensor cores (faked here on a CPU), off otherwise; heads stay float32."""

import ast
import json
import re
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from helpers import config
from helpers.models import build_feature_extractor, hub_classifier
from helpers.training import compile_classifier

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def restore_policy(monkeypatch):
    """Every test leaves Keras's global policy as it found it."""
    monkeypatch.delenv("COURSE_MIXED_PRECISION", raising=False)
    before = keras.mixed_precision.global_policy().name
    yield
    keras.mixed_precision.set_global_policy(before)


def fake_gpus(monkeypatch, capability):
    """Make TensorFlow report one GPU of the given compute capability (``None``: no capability known)."""
    gpu = tf.config.PhysicalDevice(name="/physical_device:GPU:0", device_type="GPU")
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: [gpu] if kind == "GPU" else [])
    details = {} if capability is None else {"compute_capability": capability, "device_name": "Fake GPU"}
    monkeypatch.setattr(tf.config.experimental, "get_device_details", lambda device: details)


@pytest.mark.parametrize(
    ("capability", "expected"), [((8, 0), True), ((7, 0), True), ((6, 1), False), (None, False)]
)
def test_on_only_for_gpus_with_tensor_cores(monkeypatch, restore_policy, capability, expected):
    fake_gpus(monkeypatch, capability)
    assert config.mixed_precision() is expected
    assert keras.mixed_precision.global_policy().name == ("mixed_float16" if expected else "float32")


def test_off_on_a_cpu_and_when_switched_off(monkeypatch, restore_policy):
    assert config.mixed_precision(gpus=[]) is False
    assert keras.mixed_precision.global_policy().name == "float32"
    fake_gpus(monkeypatch, (9, 0))
    monkeypatch.setenv("COURSE_MIXED_PRECISION", "0")
    assert config.mixed_precision() is False
    assert keras.mixed_precision.global_policy().name == "float32"


def test_setup_says_whether_it_is_on(monkeypatch, restore_policy, capsys, tmp_path):
    monkeypatch.setenv("COURSE_RUN_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("COURSE_IMAGES_DIR", str(tmp_path / "images"))
    monkeypatch.setenv("COURSE_DATA_ROOT", str(tmp_path / "data"))
    fake_gpus(monkeypatch, (8, 6))
    config.setup()
    assert "mixed precision: on" in capsys.readouterr().out
    fake_gpus(monkeypatch, (6, 0))
    config.setup()
    assert "mixed precision: off" in capsys.readouterr().out


def _one_step(model, num_classes: int, size: int) -> float:
    images = np.random.default_rng(0).uniform(0, 255, (4, size, size, 3)).astype("float32")
    labels = keras.utils.to_categorical(np.arange(4) % num_classes, num_classes)
    return float(compile_classifier(model).fit(images, labels, epochs=1, verbose=0).history["loss"][0])


def test_course_models_train_under_mixed_precision_with_float32_outputs(restore_policy, tiny_hub_handle):
    keras.mixed_precision.set_global_policy("mixed_float16")
    models = {
        "keras.applications": build_feature_extractor("mobilenet_v2_035", (32, 32, 3), 3, weights=None),
        "hub": hub_classifier(tiny_hub_handle, 3, (32, 32, 3)),
    }
    for kind, model in models.items():
        assert model.get_layer("classifier").dtype_policy.name == "float32", kind
        assert keras.ops.convert_to_numpy(model(np.zeros((1, 32, 32, 3), "float32"))).dtype == np.float32, kind
        assert any(layer.compute_dtype == "float16" for layer in model.layers if layer.name != "classifier") or (
            kind == "hub"  # the hub layer itself runs in float32: the SavedModel was saved that way
        ), kind
        assert np.isfinite(_one_step(model, 3, 32)), kind
    assert models["keras.applications"].get_layer("pooling").compute_dtype == "float16"


def _dense_calls(source: str):
    """``(keyword names, unit expression)`` of every ``Dense(...)``/``TFSMLayer(...)`` call in ``source``."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in {"Dense", "TFSMLayer"}:
                keywords = {k.arg: ast.unparse(k.value) for k in node.keywords}
                yield name, keywords, ast.unparse(node.args[0]) if node.args else ""


def _code_sources():
    for path in sorted([*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("notebooks/solutions/*.ipynb")]):
        cells = json.loads(path.read_text())["cells"]
        code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
        # IPython magics and shell lines are not Python
        yield path.name, "\n".join(line for line in "\n".join(code).splitlines() if not re.match(r"\s*[!%]", line))
    for path in sorted(ROOT.glob("helpers/*.py")):
        yield path.name, path.read_text()


def heads_without_float32(sources) -> tuple[int, list[str]]:
    """How many heads and ``TFSMLayer`` calls ``sources`` hold, and which of them lack ``dtype="float32"``.

    Heads are ``Dense`` layers named ``classifier`` over the class count (``num_classes``, ``len(class_names)``
    or one sigmoid unit): under mixed precision a float16 softmax loses the range the loss needs, and a
    SavedModel's signature takes float32. The two-unit toy classifier of notebook 02 is not an image head.
    """
    missing, seen = [], 0
    for name, source in sources:
        for call, keywords, units in _dense_calls(source):
            head = call == "Dense" and keywords.get("name") == "'classifier'" and units != "2"
            if head or call == "TFSMLayer":
                seen += 1
                if keywords.get("dtype") != "'float32'":
                    missing.append(f"{name}: {call}({units}, ...)")
    return seen, missing


def test_every_image_model_head_and_saved_model_layer_is_float32():
    seen, missing = heads_without_float32(_code_sources())
    assert seen >= 12, f"expected the course's heads to be found, found {seen}"
    assert not missing, f"add dtype='float32' to: {missing}"


def test_the_check_catches_a_head_without_float32():
    sources = [
        ("bad.ipynb", 'x = keras.layers.Dense(num_classes, activation="softmax", name="classifier")(x)'),
        ("bad2.ipynb", 'layer = keras.layers.TFSMLayer(folder, call_endpoint="serving_default")'),
        ("good.ipynb", 'x = keras.layers.Dense(num_classes, name="classifier", dtype="float32")(x)'),
    ]
    expected = ["bad.ipynb: Dense(num_classes, ...)", "bad2.ipynb: TFSMLayer(folder, ...)"]
    assert heads_without_float32(sources) == (3, expected)
