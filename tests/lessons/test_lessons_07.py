"""Notebook 07 (review questions): its structure, and that every citation names a section that exists.

Each answer cites where the course shows it, as ``notebook NN, section "Title"`` (or ``sections "A" and "B"``,
``part "Subsection"``). Headings move while the course is revised; these checks fail as soon as a cited
title no longer matches a ``##`` / ``###`` heading of that notebook (the "N. " number prefix is ignored).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from helpers.config import find_root

NOTEBOOKS = find_root() / "notebooks"
REVIEW = NOTEBOOKS / "07_review_questions.ipynb"
QUESTION = re.compile(r"^### Q(\d+)\. (.+)$", re.MULTILINE)
CITATION = re.compile(r"[Nn]otebook (\d\d), sections? (.*?)(?=;|\.\s|\.$|</details>|[Nn]otebook \d\d|$)", re.DOTALL)


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def _source(cell: dict) -> str:
    return "".join(cell["source"])


def _questions() -> list[tuple[int, str, str, bool]]:
    """(number, question, markdown of its cell, whether a code cell follows it) for every question."""
    cells = _cells(REVIEW)
    found = []
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        for match in QUESTION.finditer(_source(cell)):
            follows = index + 1 < len(cells) and cells[index + 1]["cell_type"] == "code"
            found.append((int(match.group(1)), match.group(2), _source(cell), follows))
    return found


def _headings(number: str) -> set[str]:
    """The ``##`` and ``###`` headings of lesson notebook ``number``, without their "N. " prefix."""
    (path,) = NOTEBOOKS.glob(f"{number}_*.ipynb")
    titles = set()
    for cell in _cells(path):
        if cell["cell_type"] == "markdown":
            for match in re.finditer(r"^#{2,3} (?:\d+\. )?(.+?)\s*$", _source(cell), re.MULTILINE):
                titles.add(match.group(1))
    return titles


def _citations(markdown: str) -> list[tuple[str, str]]:
    """(notebook number, cited title) for every ``notebook NN, section(s) "..."`` in ``markdown``."""
    text = re.sub(r"\s+", " ", markdown)
    # code spans holding quotes (`monitor="val_loss"`) are no titles; spans inside titles stay
    text = re.sub(r"`[^`]*`", lambda span: "" if '"' in span.group() else span.group(), text)
    cited = []
    for match in CITATION.finditer(text):
        cited += [(match.group(1), title) for title in re.findall(r'"([^"]+)"', match.group(2))]
    return cited


def test_at_least_15_questions_numbered_in_order():
    numbers = [number for number, *_ in _questions()]
    assert len(numbers) >= 15
    assert numbers == list(range(1, len(numbers) + 1))


def test_every_answer_is_folded_and_renders_as_markdown():
    for number, _, markdown, _ in _questions():
        block = markdown[markdown.index(f"### Q{number}.") :]
        assert "<details><summary>Answer</summary>\n\n" in block, f"Q{number}: blank line after <summary>"
        assert block.count("<details>") == block.count("</details>") == 1, f"Q{number}: one folded answer"


def test_every_answer_cites_a_notebook_section_and_several_have_a_check():
    questions = _questions()
    for number, _, markdown, _ in questions:
        assert _citations(markdown), f"Q{number} cites no notebook section"
    assert sum(follows for *_, follows in questions) >= 6, "at least 6 questions come with a code cell"


@pytest.mark.parametrize("number", sorted({n for _, _, md, _ in _questions() for n, _ in _citations(md)}))
def test_every_cited_section_exists(number):
    headings = _headings(number)
    cited = {title for _, _, md, _ in _questions() for n, title in _citations(md) if n == number}
    missing = sorted(title for title in cited if title not in headings)
    assert not missing, f"notebook {number} has no section {missing}; its headings: {sorted(headings)}"


def test_the_citation_parser_reads_every_form():
    markdown = (
        'notebook 02, section "Sequential or Functional?" (parts "Branches that merge", "One layer"); '
        'notebook 04, sections "A: b" (head first), "C, d" and "E". '
        'Notebook 03, section "Model 2" (`monitor="val_loss"`).'
    )
    assert _citations(markdown) == [
        ("02", "Sequential or Functional?"),
        ("02", "Branches that merge"),
        ("02", "One layer"),
        ("04", "A: b"),
        ("04", "C, d"),
        ("04", "E"),
        ("03", "Model 2"),
    ]
