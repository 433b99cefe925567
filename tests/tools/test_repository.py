"""Checks on the course as a whole: notebooks stored clean, indexed, and starting with the setup cell."""

import json
import re

import pytest

from helpers.config import find_root
from tools.runner import course_notebooks

ROOT = find_root()
NOTEBOOKS = course_notebooks(ROOT)


def test_there_are_notebooks():
    assert NOTEBOOKS and NOTEBOOKS[0].name == "00_setup_and_data.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_clean_and_starts_with_setup(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), "strip outputs (make strip)"
    assert nb["cells"][0]["cell_type"] == "markdown" and "".join(nb["cells"][0]["source"]).startswith("# ")
    assert "course-install" in code[0]["metadata"].get("tags", []), "the first code cell installs the course"
    first = "".join(code[1]["source"])
    for needed in ("setup(",):
        assert needed in first, f"the second code cell must contain {needed!r} (it prints the versions and the profile)"
    text = "".join("".join(c["source"]) for c in nb["cells"])
    assert "wget" not in text and "helper_functions.py" not in text, "helpers come from the local package"
    assert "ImageDataGenerator" not in "".join("".join(c["source"]) for c in code)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_figure_is_titled(path):
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] == "code" and re.search(r"plt\.(subplots|figure)\(", src):
            assert re.search(r"set_title|title\(|suptitle|set\(.*title", src), f"untitled figure in:\n{src}"


def test_readme_indexes_every_notebook():
    readme = (ROOT / "README.md").read_text()
    for path in NOTEBOOKS:
        assert path.name in readme, f"README.md's 'What you will learn' does not list {path.name}"


def test_the_maintainers_page_gives_the_test_commands_ci_runs():
    page = (ROOT / "docs" / "maintainers.md").read_text()
    for command in ("make test", "make quick", "make test-service", "make run"):
        assert f"`{command}`" in page, f"docs/maintainers.md does not say what {command} does"
    assert "make test" in (ROOT / ".ci" / "run").read_text()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_has_a_summary(path):
    nb = json.loads(path.read_text())
    headings = ["".join(c["source"]).lstrip().split("\n")[0] for c in nb["cells"] if c["cell_type"] == "markdown"]
    assert "## Summary" in headings, "end each notebook with a short '## Summary' (what you did, measured, keep)"


def test_every_lesson_with_exercises_has_a_solutions_notebook():
    for path in NOTEBOOKS:
        if path.parent.name != "notebooks":
            continue
        text = "".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"])
        if "## Exercises" in text:
            solutions = path.parent / "solutions" / f"{path.stem}_solutions.ipynb"
            assert solutions.exists(), f"{path.name} has exercises but no {solutions.name}"
