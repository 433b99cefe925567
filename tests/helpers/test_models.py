import keras
import numpy as np
import pytest

from helpers import models
from tests.conftest import TINY_HANDLE, needs_shared_weights


def _unfreeze_probe() -> keras.Model:
    """A small base with BatchNorm layers in its tail, standing in for a pretrained backbone."""
    inputs = keras.Input((16, 16, 3))
    x = inputs
    for i in range(4):
        x = keras.layers.Conv2D(4, 3, padding="same", name=f"conv_{i}")(x)
        x = keras.layers.BatchNormalization(name=f"bn_{i}")(x)
        x = keras.layers.ReLU(name=f"relu_{i}")(x)
    return keras.Model(inputs, x, name="base")


@pytest.mark.parametrize("n", [0, 3, 5, 12])
def test_unfreeze_last_keeps_batchnorm_frozen(n):
    base = _unfreeze_probe()
    names = models.unfreeze_last(base, n)
    tail = base.layers[len(base.layers) - n :] if n else []
    assert names == [
        layer.name for layer in tail if layer.weights and not isinstance(layer, keras.layers.BatchNormalization)
    ]
    assert names == models.expected_trainable(base, n)
    assert not any(layer.trainable for layer in base.layers if isinstance(layer, keras.layers.BatchNormalization))
    assert all(not layer.trainable for layer in base.layers[: len(base.layers) - n])


def test_unfreeze_last_refuses_negative():
    with pytest.raises(ValueError):
        models.unfreeze_last(_unfreeze_probe(), -1)


def test_rescaling_matches_preprocess_input():
    pixels = np.linspace(0, 255, 12, dtype="float32").reshape(1, 2, 2, 3)
    ours = np.asarray(models.rescaling_layer("mobilenet_v2_035")(pixels))
    theirs = keras.applications.mobilenet_v2.preprocess_input(pixels.copy())
    np.testing.assert_allclose(ours, theirs, atol=1e-6)
    ours = np.asarray(models.rescaling_layer("efficientnet_b0")(pixels))
    np.testing.assert_allclose(ours, keras.applications.efficientnet.preprocess_input(pixels.copy()))
    np.testing.assert_allclose(
        np.asarray(models.rescaling_layer("resnet50_v2")(pixels)),
        keras.applications.resnet_v2.preprocess_input(pixels.copy()),
        atol=1e-6,
    )


def test_feature_extractor_structure_without_downloads():
    model = models.build_feature_extractor("mobilenet_v2_035", (64, 64, 3), 5, dropout=0.2, weights=None)
    assert [layer.name for layer in model.layers] == ["image", "rescaling", "base", "pooling", "dropout", "classifier"]
    assert model.output_shape == (None, 5)
    assert models.trainable_layer_names(model) == ["classifier"]
    counts = models.count_params(model)
    assert counts["trainable"] == 1280 * 5 + 5 and counts["non_trainable"] > 100_000


def test_batchnorm_stays_in_inference_mode_after_unfreeze_last():
    """The base's BatchNorm uses its moving statistics even when the model trains (it stays frozen)."""
    model = models.build_feature_extractor("mobilenet_v2_035", (32, 32, 3), 2, weights=None)
    models.unfreeze_last(model.get_layer("base"), 20)
    x = np.random.default_rng(0).uniform(0, 255, (4, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(model(x, training=True)), np.asarray(model(x, training=False)), atol=1e-5)
    bn = next(layer for layer in model.get_layer("base").layers if isinstance(layer, keras.layers.BatchNormalization))
    before = np.asarray(bn.moving_mean).copy()
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    model.fit(x, np.eye(2)[[0, 1, 0, 1]], epochs=1, verbose=0)
    np.testing.assert_array_equal(before, np.asarray(bn.moving_mean))


def test_checkpoint_round_trip_between_two_builds(tmp_path):
    augmentation = lambda: keras.Sequential([keras.layers.RandomFlip("horizontal")])  # noqa: E731
    first = models.build_feature_extractor("mobilenet_v2_035", (32, 32, 3), 3, augmentation(), weights=None)
    first.get_layer("classifier").set_weights([np.ones((1280, 3)), np.arange(3.0)])
    first.save_weights(tmp_path / "m.weights.h5")
    second = models.build_feature_extractor("mobilenet_v2_035", (32, 32, 3), 3, augmentation(), weights=None)
    second.load_weights(tmp_path / "m.weights.h5")
    x = np.random.default_rng(1).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(first(x)), np.asarray(second(x)), atol=1e-6)


def test_resolve_backbone_and_hub_handle(monkeypatch):
    monkeypatch.delenv("COURSE_BACKBONE", raising=False)
    assert models.resolve_backbone("efficientnet_b0") == "efficientnet_b0"
    assert models.hub_handle("resnet50_v2") == models.BACKBONES["resnet50_v2"].hub_handle
    assert models.hub_handle("https://example/x") == "https://example/x"
    monkeypatch.setenv("COURSE_BACKBONE", "mobilenet_v2_035")
    assert models.resolve_backbone("efficientnet_b0") == "mobilenet_v2_035"
    assert models.hub_handle("resnet50_v2").endswith("mobilenet_v2_035_224/feature_vector/5")


def test_top_losses_ranks_by_cross_entropy_loss():
    probs = [[0.9, 0.1], [0.3, 0.7], [0.6, 0.4], [0.2, 0.8]]
    # losses: -log(0.1), -log(0.7), -log(0.4), -log(0.2)
    assert models.top_losses([1, 1, 1, 0], probs, k=3) == [0, 3, 2]
    # a confident mistake between two wrong classes can lose less than a hesitant one: rank by the true class
    three = [[0.05, 0.90, 0.05], [0.02, 0.49, 0.49]]
    assert models.top_losses([0, 0], three, k=2) == [1, 0]


# ------------------------------------------------------------------ TF Hub layer under Keras 3


def test_hub_layer_output_equals_the_savedmodel(tiny_hub_handle, tiny_inner_model):
    import tensorflow_hub as hub

    x = np.random.default_rng(2).uniform(0, 1, (3, 24, 24, 3)).astype("float32")
    layer = models.HubFeatureExtractor(tiny_hub_handle)
    np.testing.assert_allclose(np.asarray(layer(x)), np.asarray(hub.load(tiny_hub_handle)(x)), atol=1e-6)
    # the module sees [0, 1] pixels and the inner model [0, 255]: the hub convention
    np.testing.assert_allclose(np.asarray(layer(x)), np.asarray(tiny_inner_model(x * 255.0)), atol=1e-4)
    assert layer.module_params == sum(int(np.prod(w.shape)) for w in tiny_inner_model.weights)


def test_hub_keraslayer_is_refused_by_keras3_but_ours_is_not(tiny_hub_handle):
    import tensorflow_hub as hub

    with pytest.raises((ValueError, TypeError), match="keras.Layer|Layer"):
        keras.Sequential([keras.Input((24, 24, 3)), hub.KerasLayer(tiny_hub_handle)])
    keras.Sequential([keras.Input((24, 24, 3)), models.HubFeatureExtractor(tiny_hub_handle)])


def _train(model, x, y):
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="categorical_crossentropy", metrics=["accuracy"])
    return model.fit(x, y, epochs=15, verbose=0)


def test_hub_layer_trains_a_head_in_sequential_and_functional(tiny_hub_handle, tiny_data):
    from helpers.data import image_folders

    train, _, _, names = image_folders(tiny_data / "train", tiny_data / "test", tiny_data / "test", (32, 32), 64)
    x, y = next(iter(train))
    x = x / 255.0
    sequential = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            models.HubFeatureExtractor(tiny_hub_handle),
            keras.layers.Dense(len(names), activation="softmax"),
        ]
    )
    inputs = keras.Input((32, 32, 3))
    outputs = keras.layers.Dense(len(names), activation="softmax")(models.HubFeatureExtractor(tiny_hub_handle)(inputs))
    functional = keras.Model(inputs, outputs)
    for model in (sequential, functional):
        hub_layer = next(layer for layer in model.layers if isinstance(layer, models.HubFeatureExtractor))
        frozen = np.asarray(hub_layer._module.variables[0]).copy()
        history = _train(model, x, y)
        assert history.history["loss"][-1] < history.history["loss"][0]
        assert models.trainable_layer_names(model) == [model.layers[-1].name]
        np.testing.assert_array_equal(frozen, np.asarray(hub_layer._module.variables[0]))


def test_hub_layer_refuses_trainable(tiny_hub_handle):
    with pytest.raises(ValueError, match="frozen"):
        models.HubFeatureExtractor(tiny_hub_handle, trainable=True)


def test_model_with_hub_layer_saves_and_loads(tiny_hub_handle, tmp_path):
    model = keras.Sequential(
        [keras.Input((24, 24, 3)), models.HubFeatureExtractor(tiny_hub_handle), keras.layers.Dense(2)]
    )
    model.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras", safe_mode=False)  # a file this test made
    x = np.random.default_rng(3).uniform(0, 1, (2, 24, 24, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(model(x)), np.asarray(again(x)), atol=1e-6)
    assert TINY_HANDLE == again.layers[0].handle


@needs_shared_weights
def test_real_mobilenet_feature_extractor_loads_cached_weights():
    model = models.build_feature_extractor("mobilenet_v2_035", (64, 64, 3), 10)
    base = model.get_layer("base")
    assert not base.trainable and base.output_shape[-1] == 1280
    names = models.unfreeze_last(base, 10)
    assert names == models.expected_trainable(base, 10) and len(names) > 0


def test_hub_classifier_is_notebook_01s_recipe(tiny_hub_handle):
    model = models.hub_classifier(tiny_hub_handle, 3, (24, 24, 3))
    assert [layer.name for layer in model.layers] == ["rescaling", "feature_extractor", "classifier"]
    assert models.trainable_layer_names(model) == ["classifier"] and model.optimizer is not None
    assert models.count_params(model)["trainable"] == (8 + 1) * 3  # 8 features per image, 3 classes
    bare = models.hub_classifier(tiny_hub_handle, 3, (24, 24, 3), rescale=False)
    assert "rescaling" not in [layer.name for layer in bare.layers]


@pytest.mark.parametrize("mode", ["tf", "caffe", "torch"])
def test_preprocess_input_layer_matches_keras(mode):
    from keras.applications import imagenet_utils

    x = np.random.default_rng(0).uniform(0, 255, (2, 5, 5, 3)).astype("float32")
    expected = imagenet_utils.preprocess_input(x.copy(), mode=mode)
    np.testing.assert_allclose(np.asarray(models.PreprocessInput(mode)(x)), expected, rtol=1e-5, atol=1e-4)


def test_every_backbone_gets_the_layer_of_its_family(tmp_path):
    from keras.applications import imagenet_utils

    x = np.random.default_rng(1).uniform(0, 255, (1, 4, 4, 3)).astype("float32")
    for name, spec in models.BACKBONES.items():
        layer = models.rescaling_layer(name)
        assert layer.name == "rescaling"
        if spec.preprocess is None:
            np.testing.assert_array_equal(np.asarray(layer(x)), x)
        else:
            np.testing.assert_allclose(
                np.asarray(layer(x)), imagenet_utils.preprocess_input(x.copy(), mode=spec.preprocess), atol=1e-4
            )
    model = keras.Sequential([keras.Input((4, 4, 3)), models.PreprocessInput("caffe")])
    model.save(tmp_path / "m.keras")
    np.testing.assert_allclose(np.asarray(keras.models.load_model(tmp_path / "m.keras")(x)), np.asarray(model(x)))


def test_published_table_has_every_figure():
    from helpers.backbones import PUBLISHED

    assert len(PUBLISHED) >= 8
    for name, row in PUBLISHED.items():
        assert hasattr(keras.applications, name)
        assert set(row) == {"size_mb", "top1", "top5", "params_m", "depth", "cpu_ms", "gpu_ms"}
        assert 0.5 < row["top1"] < row["top5"] < 1


def test_backbone_of_reads_the_backbone_from_the_model(tiny_hub_handle):
    built = models.build_feature_extractor("mobilenet_v2_035", (32, 32, 3), 2, weights=None)
    assert models.backbone_of(built) == "mobilenet_v2_035", "a load_backbone base is tagged"
    inputs = keras.Input((32, 32, 3))
    base = keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=(32, 32, 3), alpha=0.35)
    by_hand = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(base(inputs)))
    assert models.backbone_of(by_hand) == "mobilenet_v2_035", "a keras.applications base is known by its name"
    hub = keras.Sequential([keras.Input((24, 24, 3)), models.HubFeatureExtractor(tiny_hub_handle)])
    assert models.backbone_of(hub) == models.short_name(tiny_hub_handle)
    assert models.backbone_of(keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])) == ""
