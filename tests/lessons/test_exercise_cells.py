"""Every checked lesson's exercises end with a check cell, and its solutions notebook passes the same checks.

What a learner meets: under ``## Exercises`` one ``### Exercise N. Title`` section per exercise, with one code
cell that holds blanks (``____``), is tagged ``raises-exception`` (run as stored, it stops at a blank: the root
``conftest.py`` makes sure that what it raises is ``FillIn``) and ends with ``ex.eN.check(...)``. The solutions
notebook has the same titles as ``## Exercise N. Title`` and calls the same ``ex.eN.check``; CI runs it, so every
check passes on a right answer.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from helpers.exercises import exercises, lessons_with_checks

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def _cells(path: Path) -> list[tuple[str, str, list[str]]]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [(c["cell_type"], "".join(c["source"]), c.get("metadata", {}).get("tags", [])) for c in nb["cells"]]


def _sections(cells, level: str) -> dict[str, list[tuple[str, str, list[str]]]]:
    """The cells under each ``<level> Exercise N. Title`` heading, up to the next heading of that level or above."""
    found, current = {}, None
    for kind, source, tags in cells:
        first = source.split("\n", 1)[0]
        if kind == "markdown" and re.match(r"#{2,3} ", first):
            current = found.setdefault(first, []) if first.startswith(f"{level} Exercise ") else None
        elif current is not None:
            current.append((kind, source, tags))
    return found


def _lesson(number: str) -> Path:
    return next(p for p in NOTEBOOKS.glob(f"{number}_*.ipynb"))


@pytest.mark.parametrize("number", lessons_with_checks())
def test_each_lesson_exercise_ends_with_a_check_cell_with_blanks(number):
    checks = vars(exercises(number))
    sections = _sections(_cells(_lesson(number)), "###")
    assert list(sections) == [f"### Exercise {i}. {e.title}" for i, e in enumerate(checks.values(), start=1)]
    for i, cells in enumerate(sections.values(), start=1):
        code = [(source, tags) for kind, source, tags in cells if kind == "code"]
        assert len(code) == 1, f"exercise {i}: one code cell"
        source, tags = code[0]
        assert "____" in source and "raises-exception" in tags, f"exercise {i}: blanks, tagged raises-exception"
        assert source.rstrip().splitlines()[-1].startswith(f"ex.e{i}.check("), f"exercise {i}: ends with its check"


@pytest.mark.parametrize("number", lessons_with_checks())
def test_the_solutions_fill_the_blanks_and_call_every_check(number):
    checks = vars(exercises(number))
    path = NOTEBOOKS / "solutions" / next(iter(checks.values())).solution_notebook
    sections = _sections(_cells(path), "##")
    assert list(sections) == [f"## Exercise {i}. {e.title}" for i, e in enumerate(checks.values(), start=1)]
    for i, cells in enumerate(sections.values(), start=1):
        code = "\n".join(source for kind, source, _ in cells if kind == "code")
        assert f"ex.e{i}.check(" in code, f"{path.name}, exercise {i}: calls the lesson's check"
        assert "____" not in code, f"{path.name}, exercise {i}: every blank filled in"
    assert not any("raises-exception" in tags for _, _, tags in _cells(path)), "a solution raises nothing"


def test_the_section_reader_finds_what_it_is_for():
    cells = [
        ("markdown", "## Exercises", []),
        ("markdown", "### Exercise 1. A", []),
        ("code", "x = ____\nex.e1.check(x)", ["raises-exception"]),
        ("markdown", "## Next", []),
        ("code", "y = 1", []),
    ]
    assert _sections(cells, "###") == {"### Exercise 1. A": [cells[2]]}
