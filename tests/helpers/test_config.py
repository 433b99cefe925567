from pathlib import Path

import pytest

from helpers import config


def test_learner_profile_is_the_default():
    p = config.load_profile({})
    assert (p.name, p.smoke, p.data_dir, p.backbone) == ("learner", False, None, None)
    assert p.image_size == (224, 224) and p.epochs == 5 and p.steps_per_epoch is None


def test_smoke_changes_sizes_only():
    full, smoke = config.load_profile({}), config.load_profile({"COURSE_SMOKE": "1"})
    assert smoke.name == "smoke"
    assert smoke.image_size == (64, 64) and smoke.epochs == 1 and smoke.steps_per_epoch == 2
    assert (smoke.runs_dir, smoke.images_dir, smoke.seed) == (full.runs_dir, full.images_dir, full.seed)


def test_local_profile_reads_data_dir_and_backbone(tmp_path):
    p = config.load_profile({"COURSE_DATA_DIR": str(tmp_path), "COURSE_BACKBONE": "mobilenet_v2_035"})
    assert p.name == "local" and p.data_dir == tmp_path.resolve() and p.backbone == "mobilenet_v2_035"


def test_unknown_backbone_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="mobilenet_v2_035"):
        config.load_profile({"COURSE_BACKBONE": "resnet9000"})


def test_folders_follow_the_environment(tmp_path):
    p = config.load_profile({"COURSE_RUN_DIR": str(tmp_path / "r"), "COURSE_IMAGES_DIR": str(tmp_path / "i")})
    assert p.runs_dir == tmp_path / "r" and p.images_dir == tmp_path / "i"


def test_describe_is_one_line_naming_the_profile():
    line = config.load_profile({"COURSE_SMOKE": "1"}).describe()
    assert "\n" not in line and line.startswith("profile=smoke") and "64x64" in line


def test_find_root_finds_the_course(tmp_path):
    root = config.find_root(Path(__file__).parent)
    assert (root / "pyproject.toml").exists() and (root / "helpers").is_dir()
    assert config.find_root(tmp_path) == tmp_path.resolve()


def test_setup_seeds_and_creates_folders(monkeypatch, tmp_path, capsys):
    import numpy as np

    monkeypatch.setenv("COURSE_RUN_DIR", str(tmp_path / "runs"))
    profile = config.setup(seed=7)
    first = np.random.rand()
    config.set_seeds(7)
    assert np.random.rand() == first
    out = capsys.readouterr().out.splitlines()
    assert profile.runs_dir.is_dir() and out[0].startswith("TensorFlow ")
    assert any(line.startswith("profile=") for line in out) and any("mixed precision" in line for line in out)


def test_old_versions_fail_early_saying_what_to_do():
    config.check_versions({"tensorflow": "2.21.0", "keras": "3.0.0"})
    config.check_versions({"python": "3.13.0", "tensorflow": "2.20.0", "keras": "3.13.2"})  # Colab's set
    with pytest.raises(RuntimeError, match=r'pip install "tensorflow>=2.16" "keras>=3"\.$'):
        config.check_versions({"tensorflow": "2.15.1", "keras": "2.15.0"})


@pytest.mark.parametrize("python", ["3.10.13", "3.14.0"])
def test_an_unsupported_python_stops_with_one_sentence(python):
    with pytest.raises(RuntimeError, match=r"needs Python 3\.11 to 3\.13 .* install Python 3\.13") as err:
        config.check_versions({"python": python, "tensorflow": "2.21.0", "keras": "3.15.1"})
    assert str(err.value).count(". ") == 0, "one sentence"


def test_supported_pythons_agree_with_pyproject():
    import tomllib

    project = tomllib.loads((config.find_root() / "pyproject.toml").read_text())["project"]
    (old, new) = config.SUPPORTED_PYTHON
    assert project["requires-python"] == f">={old[0]}.{old[1]},<{new[0]}.{new[1] + 1}"


def test_notebook_services_keep_downloads_where_the_service_keeps_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a notebook service: the course is installed, not checked out here
    colab = config.load_profile({"COLAB_RELEASE_TAG": "release-colab-20260801"}, replicas=1)
    assert colab.data_root == Path("/content/course/data") and colab.runs_dir == Path("/content/course/runs")
    kaggle = config.load_profile({"KAGGLE_KERNEL_RUN_TYPE": "Interactive"}, replicas=1)
    assert kaggle.data_root == Path("/kaggle/temp/course/data") and kaggle.runs_dir == Path("/kaggle/working/runs")
    assert config.load_profile({}, replicas=1).data_root == tmp_path.resolve() / "data"
    moved = config.load_profile({"KAGGLE_URL_BASE": "x", "COURSE_DATA_ROOT": str(tmp_path / "d")}, replicas=1)
    assert moved.data_root == (tmp_path / "d").resolve(), "an explicit place wins"


def test_a_course_checkout_keeps_its_own_places_on_a_service(monkeypatch):
    profile = config.load_profile({"COLAB_RELEASE_TAG": "x"}, replicas=1)
    assert profile.data_root == config.find_root() / "data"
