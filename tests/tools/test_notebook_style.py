"""The notebooks' page rules: short cells, lines that fit, honest comparisons and a questionnaire whose links work.

- every code cell at most :data:`MAX_CELL_LINES` lines (the generated install cell aside) and every code line at
  most :data:`MAX_LINE` characters (what fits the course book's page and Colab without scrolling sideways);
- no comparison helper is handed test figures: models are compared, and their mistakes studied, on the
  validation set (the test set is shown once per model, by ``fit_and_record``);
- an accuracy a notebook prints comes with its 95% interval (``with_interval``), unless the line says why not
  (``# no interval: ...``, e.g. a true value of a simulation rather than a measurement);
- every lesson (00-06) ends with a five-question ``## Questionnaire`` before its exercises, each question linking
  to an anchor (``<a id="..."></a>``) that exists in the notebook it points to.

Each rule has a self-test on a made-up notebook, so a checker that cannot fail would show here.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from helpers.config import course_notebooks, find_root
from tools.notebook_links import INSTALL_TAG

ROOT = find_root()
NOTEBOOKS = course_notebooks(ROOT)
LESSONS = [nb for nb in NOTEBOOKS if nb.parent.name == "notebooks" and nb.name[:2] <= "06"]
MAX_CELL_LINES = 25
MAX_LINE = 88
#: Helpers that compare models or study their mistakes: the course hands them validation figures only.
COMPARISONS = (
    "compare_accuracies",
    "compare_histories",
    "plot_accuracy_vs_latency",
    "plot_accuracy_vs_size",
    "plot_top_losses",
    "top_losses",
    "plot_confusion_matrix",
    "plot_predictions",
)
_PERCENT_OF_ACCURACY = re.compile(r"\{[^{}]*acc[^{}]*:\.\d%\}")
_ANCHOR = re.compile(r'<a id="([a-z0-9-]+)"></a>')
_LINK = re.compile(r"\]\(((?:[\w./-]+\.ipynb)?)#([^)\s]+)\)")


def _code_cells(nb: dict) -> list[str]:
    return ["".join(cell["source"]) for cell in nb["cells"] if cell["cell_type"] == "code"]


def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _lesson_cells(nb: dict) -> list[str]:
    """The code cells but the generated install cell (tagged ``course-install``: machinery, not a lesson step)."""
    return [
        "".join(cell["source"])
        for cell in nb["cells"]
        if cell["cell_type"] == "code" and INSTALL_TAG not in cell.get("metadata", {}).get("tags", [])
    ]


def long_cells(nb: dict) -> list[str]:
    """The first line of every lesson code cell longer than :data:`MAX_CELL_LINES` lines."""
    return [source.splitlines()[0] for source in _lesson_cells(nb) if len(source.splitlines()) > MAX_CELL_LINES]


def long_lines(nb: dict) -> list[str]:
    """Every code line longer than :data:`MAX_LINE` characters."""
    return [line for source in _code_cells(nb) for line in source.splitlines() if len(line) > MAX_LINE]


def _mentions_test(node: ast.AST) -> bool:
    return "test" in ast.unparse(node).lower()


def comparisons_on_test(nb: dict) -> list[str]:
    """Calls of a :data:`COMPARISONS` helper with an argument whose code mentions ``test``."""
    found = []
    for source in _code_cells(nb):
        lines = [line for line in source.splitlines() if not line.lstrip().startswith(("!", "%"))]
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                arguments = [*node.args, *(keyword.value for keyword in node.keywords)]
                if name in COMPARISONS and any(_mentions_test(argument) for argument in arguments):
                    found.append(ast.unparse(node))
    return found


def bare_accuracies(nb: dict) -> list[str]:
    """Code lines that format an accuracy as a bare percentage (no interval, no ``# no interval:`` reason)."""
    return [
        line.strip()
        for source in _code_cells(nb)
        for line in source.splitlines()
        if _PERCENT_OF_ACCURACY.search(line) and "# no interval:" not in line
    ]


def anchors(nb: dict) -> set[str]:
    """The ids of the ``<a id="..."></a>`` anchors in a notebook's markdown cells."""
    return {
        anchor
        for cell in nb["cells"]
        if cell["cell_type"] == "markdown"
        for anchor in _ANCHOR.findall("".join(cell["source"]))
    }


def questionnaire_problems(path: Path, nb: dict) -> list[str]:
    """What is wrong with a lesson's questionnaire: missing, misplaced, not five questions, or a broken link."""
    markdown = ["".join(cell["source"]) for cell in nb["cells"] if cell["cell_type"] == "markdown"]
    firsts = [text.splitlines()[0] if text else "" for text in markdown]
    if "## Questionnaire" not in firsts:
        return ["no markdown cell starts with '## Questionnaire'"]
    at = firsts.index("## Questionnaire")
    problems = []
    if at + 1 >= len(firsts) or not firsts[at + 1].startswith("## Exercises"):
        problems.append("the questionnaire is not directly before '## Exercises'")
    questions = [line for line in markdown[at].splitlines() if re.match(r"\d+\. ", line)]
    if [line.split(".")[0] for line in questions] != ["1", "2", "3", "4", "5"]:
        problems.append(f"{len(questions)} numbered questions, not 1. to 5.")
    for line in questions:
        links = _LINK.findall(line)
        if not links:
            problems.append(f"no link to its answer: {line}")
        for target, anchor in links:
            other = path.with_name(target) if target else path
            if target and not other.exists():
                problems.append(f"{target} does not exist")
            elif anchor not in anchors(_read(other) if target else nb):
                problems.append(f'{other.name} has no <a id="{anchor}"></a>')
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_cells_are_short_and_lines_fit_the_page(path):
    nb = _read(path)
    assert not long_cells(nb), f"cells over {MAX_CELL_LINES} lines: split them, one idea per cell"
    assert not long_lines(nb), f"lines over {MAX_LINE} characters (run nbqa ruff format --line-length {MAX_LINE})"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_comparison_is_made_on_test_figures(path):
    assert not comparisons_on_test(_read(path)), "compare models and study mistakes on the validation data"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_printed_accuracy_has_its_interval(path):
    assert not bare_accuracies(_read(path)), "use helpers.results.with_interval(accuracy, images)"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_every_lesson_has_a_questionnaire_whose_links_resolve(path):
    assert questionnaire_problems(path, _read(path)) == []


def _notebook(*cells: tuple[str, str]) -> dict:
    return {"cells": [{"cell_type": kind, "source": source} for kind, source in cells]}


def test_the_checks_catch_what_they_are_for(tmp_path):
    bad = _notebook(
        ("code", "\n".join(f"x{i} = {i}" for i in range(MAX_CELL_LINES + 1))),
        ("code", "y = '" + "a" * MAX_LINE + "'"),
        ("code", "compare_accuracies({'a': (test_accuracy, 50)})\nplot_top_losses(model, val_data)"),
        ("code", "print(f\"{row['test_accuracy']:.1%}\")\nprint(f'{true_acc:.0%}')  # no interval: exact"),
    )
    assert long_cells(bad) == ["x0 = 0"] and len(long_lines(bad)) == 1
    install = {"cell_type": "code", "metadata": {"tags": [INSTALL_TAG]}, "source": "\n".join(["import os"] * 30)}
    assert long_cells({"cells": [install]}) == [], "the generated install cell is not a lesson step"
    assert comparisons_on_test(bad) == ["compare_accuracies({'a': (test_accuracy, 50)})"]
    assert bare_accuracies(bad) == ["print(f\"{row['test_accuracy']:.1%}\")"]
    good = _notebook(
        ("markdown", '## 3. A section\n<a id="recompile"></a>\ntext'),
        ("markdown", "## Questionnaire\n\n" + "\n".join(f"{i}. Why? [section 3](#recompile)" for i in range(1, 6))),
        ("markdown", "## Exercises"),
    )
    path = tmp_path / "03_x.ipynb"
    assert questionnaire_problems(path, good) == []
    broken = json.loads(json.dumps(good))
    broken["cells"][1]["source"] = broken["cells"][1]["source"].replace("(#recompile)", "(07_review.ipynb#q1)", 1)
    broken["cells"][0]["source"] = "## 3. A section\ntext"
    problems = questionnaire_problems(path, broken)
    assert "07_review.ipynb does not exist" in problems and '03_x.ipynb has no <a id="recompile"></a>' in problems
    assert questionnaire_problems(path, _notebook(("markdown", "## Exercises"))) != []
