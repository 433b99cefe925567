"""Every notebook opens on Colab and Kaggle from the one repository address, and its first cell installs the course."""

import json
import subprocess
import sys

import pytest

from helpers.config import course_notebooks, find_root
from tools import notebook_links

ROOT = find_root()
REPO = notebook_links.repository(ROOT)
NOTEBOOKS = course_notebooks(ROOT)


def test_the_address_lives_in_pyproject():
    assert REPO.startswith("https://github.com/") and REPO.count("/") == 4


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_links_to_colab_and_kaggle_from_that_address(path):
    cells = json.loads(path.read_text())["cells"]
    relative = path.relative_to(ROOT).as_posix()
    title = "".join(cells[0]["source"])
    assert notebook_links.links(REPO, relative) in title
    assert f"https://colab.research.google.com/github/{REPO.removeprefix('https://github.com/')}/blob/main/{relative}" \
        in title
    install = [c for c in cells if c["cell_type"] == "code"][0]
    assert "".join(install["source"]) == notebook_links.install_cell(REPO).rstrip("\n")
    assert f'"COURSE_REPO",\n    "{REPO}",\n' in "".join(install["source"])


def test_the_check_passes_and_catches_a_notebook_that_disagrees(tmp_path, monkeypatch):
    assert notebook_links.main(["--check"]) == 0
    nb = json.loads(NOTEBOOKS[0].read_text())
    moved = notebook_links.update(nb, "https://github.com/someone/fork", NOTEBOOKS[0].relative_to(ROOT).as_posix())
    text = json.dumps(moved)
    assert "someone/fork" in text and REPO not in text, "the links and the install cell follow the address"
    again = notebook_links.update(json.loads(json.dumps(moved)), "https://github.com/someone/fork", "x.ipynb")
    assert sum("course-install" in c.get("metadata", {}).get("tags", []) for c in again["cells"]) == 1
    assert "".join(again["cells"][0]["source"]).count("[Open in Colab](") == 1, "rewriting is idempotent"


def test_the_install_cell_does_nothing_where_helpers_is_installed():
    code = notebook_links.install_cell(REPO).replace("subprocess.run(", "raise SystemExit(")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr


def test_the_install_cell_keeps_the_installed_tensorflow_keras_and_protobuf(tmp_path):
    """Where helpers is missing, the pip command asks for the course and exactly the versions already installed."""
    from importlib.metadata import version

    code = notebook_links.install_cell(REPO).replace(
        'importlib.util.find_spec("helpers") is None', "True"
    ).replace("subprocess.run(", "print(").replace(", check=True)", ")")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                          env={"COURSE_REPO": "file:///srv/course", "PATH": ""})
    assert done.returncode == 0, done.stderr
    assert "course-helpers @ git+file:///srv/course" in done.stdout
    for name in ("tensorflow", "keras", "protobuf"):
        assert f"{name}=={version(name)}" in done.stdout
