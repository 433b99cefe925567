import hashlib

import numpy as np
import pytest

from helpers import models
from tests.conftest import needs_shared_weights
from tools import hub_cache


def test_module_dir_is_where_tensorflow_hub_looks(tiny_hub_handle):
    import tensorflow_hub as hub

    assert hub.resolve(tiny_hub_handle) == str(hub_cache.module_dir(tiny_hub_handle))
    assert hub_cache.module_dir("h", "/c").name == hashlib.sha1(b"h").hexdigest()


def test_place_keeps_an_existing_module(tmp_path, tiny_inner_model):
    first = hub_cache.save_feature_vector(tiny_inner_model, tmp_path / "a", None)
    target = hub_cache.place(first, "https://tfhub.dev/x/1", tmp_path / "cache")
    second = hub_cache.save_feature_vector(tiny_inner_model, tmp_path / "b", None)
    assert hub_cache.place(second, "https://tfhub.dev/x/1", tmp_path / "cache") == target
    assert (tmp_path / "b").exists()  # not moved over the existing module
    assert "https://tfhub.dev/x/1" in (tmp_path / "cache" / f"{target.name}.descriptor.txt").read_text()


def test_cli_where_prints_the_folder(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path))
    assert hub_cache.main(["where", "https://tfhub.dev/x/1"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / hashlib.sha1(b"https://tfhub.dev/x/1").hexdigest())


@needs_shared_weights
def test_seed_builds_the_real_mobilenet_twin(tmp_path):
    import keras
    import tensorflow_hub as hub

    target = hub_cache.seed("mobilenet_v2_035", tmp_path)
    assert target == hub_cache.module_dir(models.BACKBONES["mobilenet_v2_035"].hub_handle, tmp_path)
    module = hub.load(str(target))
    x = np.random.default_rng(0).uniform(0, 1, (2, 64, 64, 3)).astype("float32")
    features = np.asarray(module(x))
    base = keras.applications.MobileNetV2(
        alpha=0.35, include_top=False, weights="imagenet", input_shape=(64, 64, 3), pooling="avg"
    )
    expected = np.asarray(base(keras.applications.mobilenet_v2.preprocess_input(x * 255.0), training=False))
    assert features.shape == (2, 1280)
    np.testing.assert_allclose(features, expected, atol=1e-4)
    assert hub_cache.seed("mobilenet_v2_035", tmp_path) == target  # second call reuses it


def test_seed_of_unknown_backbone_fails():
    with pytest.raises(KeyError):
        hub_cache.seed("nope")


def test_fill_keras_cache_copies_but_never_overwrites(tmp_path, monkeypatch):
    src = tmp_path / "src" / "models"
    src.mkdir(parents=True)
    (src / "a.h5").write_bytes(b"new")
    (src / "b.json").write_bytes(b"{}")
    (src / "notes.txt").write_bytes(b"skip me")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    (tmp_path / "home" / "models").mkdir(parents=True)
    (tmp_path / "home" / "models" / "a.h5").write_bytes(b"mine")
    assert hub_cache.fill_keras_cache(tmp_path / "src") == [tmp_path / "home" / "models" / "b.json"]
    assert (tmp_path / "home" / "models" / "a.h5").read_bytes() == b"mine"
    with pytest.raises(FileNotFoundError, match="not a folder"):
        hub_cache.fill_keras_cache(tmp_path / "nope")


def test_unreachable_handle_says_how_to_work_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path))
    with pytest.raises(ConnectionError, match="tools.hub_cache seed"):
        models.HubFeatureExtractor("https://tfhub.dev/course-tests/not-cached/feature_vector/1")
