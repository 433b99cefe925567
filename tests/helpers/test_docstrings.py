"""Every public helper's docstring says where the course teaches it, and that place exists.

Like d2l's "Defined in section ...", each public function and class of the nine public modules names one of:

- ``Taught in notebook NN, section N ("Heading").``: the first lesson that uses it (notebook 07 or a solutions
  notebook, ``Taught in notebook NN solutions, exercise N ("Heading").``, where only they do);
- ``Used by :func:`helpers.X.y` (notebook NN, section N).``: the public helper that calls it, and where that one
  is taught;
- ``Not used in a lesson; ...``: what it is for instead.

A "Taught in" line must name a notebook that exists and a markdown cell of it whose first line is exactly
``## N. Heading`` (``## Exercise N. Heading`` in a solutions notebook), in a section that mentions the helper:
renaming, renumbering or moving a section makes this test fail until the docstring follows. The ``#:`` comments
of the public constants the notebooks use follow the same rule. ``helpers/__init__.py``'s index must list exactly
the top-level modules of ``helpers/``.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HELPERS = ROOT / "helpers"
NOTEBOOKS = ROOT / "notebooks"
MODULES = ("config", "backbones", "data", "models", "training", "callbacks", "plotting", "results", "exercises")

_PLACE = r"notebook (?P<nb>\d\d)(?P<sol> solutions)?, (?P<kind>section|exercise) (?P<num>\d+)"
TAUGHT = re.compile(r"Taught in " + _PLACE + r' \("(?P<heading>[^"]+)"\)')
USED_BY = re.compile(r"Used by :(?:func|class|data):`(?P<target>helpers\.[\w.]+)` \(" + _PLACE + r"\)")
NOT_USED = "Not used in a lesson"


# --------------------------------------------------------------------------- reading notebooks and docstrings


def normalise(text: str | None) -> str:
    """``text`` with every run of whitespace made one space (docstrings wrap long headings)."""
    return " ".join((text or "").split())


def notebook_path(folder: Path, number: str, solutions: bool) -> Path | None:
    """Lesson notebook ``NN_*.ipynb`` of ``folder`` (or its ``solutions/NN_*_solutions.ipynb``); ``None`` if none."""
    if solutions:
        found = sorted((folder / "solutions").glob(f"{number}_*_solutions.ipynb"))
    else:
        found = sorted(p for p in folder.glob(f"{number}_*.ipynb") if not p.stem.endswith("_solutions"))
    return found[0] if len(found) == 1 else None


def sections(path: Path) -> dict[str, str]:
    """Each ``## `` heading of a notebook (the first line of a markdown cell) and the text of its section's cells."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        first = source.split("\n", 1)[0].rstrip()
        if cell["cell_type"] == "markdown" and first.startswith("## "):
            current = found.setdefault(first, [])
        if current is not None and cell["cell_type"] in ("markdown", "code"):
            current.append(source)
    return {heading: "\n".join(texts) for heading, texts in found.items()}


def heading_line(kind: str, number: str, heading: str) -> str:
    """The markdown line a "Taught in" reference stands for."""
    return f"## {number}. {heading}" if kind == "section" else f"## Exercise {number}. {heading}"


def _notebook(folder: Path, match: re.Match) -> tuple[Path | None, str]:
    solutions = bool(match["sol"])
    where = f"notebook {match['nb']}{' solutions' if solutions else ''}"
    return notebook_path(folder, match["nb"], solutions), where


def taught_problems(text: str, folder: Path = NOTEBOOKS, name: str | None = None) -> list[str]:
    """Every "Taught in" reference of ``text`` whose notebook, heading or mention of ``name`` is missing."""
    problems = []
    for match in TAUGHT.finditer(normalise(text)):
        path, where = _notebook(folder, match)
        if path is None:
            problems.append(f"{match[0]!r}: there is no (single) {where} in {folder}")
            continue
        if match["kind"] == "exercise" and not match["sol"]:
            problems.append(f"{match[0]!r}: only a solutions notebook has exercises")
            continue
        wanted = heading_line(match["kind"], match["num"], match["heading"])
        found = sections(path)
        if wanted not in found:
            numbered = [h for h in found if h.startswith(wanted.split(". ", 1)[0] + ". ")]
            problems.append(f"{match[0]!r}: {path.name} has no markdown cell starting {wanted!r} (found {numbered})")
        elif name and not re.search(rf"\b{re.escape(name)}\b", found[wanted], re.IGNORECASE):
            problems.append(f"{match[0]!r}: {path.name}'s section {wanted!r} never mentions {name}")
    return problems


def location(text: str) -> tuple[str, bool, str, str] | None:
    """Where a docstring says its helper is taught or used: ``(notebook, solutions, kind, number)``."""
    match = TAUGHT.search(normalise(text)) or USED_BY.search(normalise(text))
    return (match["nb"], bool(match["sol"]), match["kind"], match["num"]) if match else None


def resolve(target: str):
    """The object ``helpers.X.y`` names (``None`` if there is none)."""
    module_name, _, name = target.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), name, None)
    except ImportError:
        return None


def used_by_problems(
    text: str, name: str, folder: Path = NOTEBOOKS, comments: dict[str, str] | None = None
) -> list[str]:
    """What is wrong with every "Used by" reference of ``text`` (the docstring of ``name``)."""
    problems = []
    for match in USED_BY.finditer(normalise(text)):
        path, where = _notebook(folder, match)
        if path is None:
            problems.append(f"{match[0]!r}: there is no (single) {where} in {folder}")
            continue
        prefix = heading_line(match["kind"], match["num"], "")
        if not any(heading.startswith(prefix) for heading in sections(path)):
            problems.append(f"{match[0]!r}: {path.name} has no section starting {prefix!r}")
        target = resolve(match["target"])
        if target is None:
            problems.append(f"{match[0]!r}: {match['target']} does not exist")
            continue
        if inspect.isfunction(target) or inspect.isclass(target):
            if not re.search(rf"\b{re.escape(name)}\b", inspect.getsource(target)):
                problems.append(f"{match[0]!r}: {match['target']} never mentions {name}")
            said = inspect.getdoc(target)
        else:
            said = (comments or {}).get(match["target"])
        here = (match["nb"], bool(match["sol"]), match["kind"], match["num"])
        if location(said) != here:
            problems.append(f"{match[0]!r}: {match['target']}'s own documentation places it at {location(said)}")
    return problems


def names_its_lesson(text: str) -> bool:
    """Whether a docstring says where it is taught, who uses it, or that no lesson does."""
    text = normalise(text)
    return bool(TAUGHT.search(text) or USED_BY.search(text) or NOT_USED in text)


def constant_comments(source: str, module: str) -> dict[str, str]:
    """The ``#:`` comment above each module-level constant of ``source``, by ``helpers.<module>.<NAME>``."""
    found, block = {}, []
    for line in source.splitlines():
        if line.startswith("#:"):
            block.append(line[2:])
            continue
        assigned = re.match(r"([A-Za-z_]\w*)\s*[:=]", line)
        if block and assigned:
            found[f"helpers.{module}.{assigned[1]}"] = normalise(" ".join(block))
        block = []
    return found


def index_problems(doc: str, package: Path = HELPERS) -> list[str]:
    """What is wrong with the package docstring's index of ``package``'s modules."""
    listed = re.findall(r":mod:`helpers\.(\w+)`", doc or "")
    public = sorted(p.stem for p in package.glob("*.py") if not p.stem.startswith("_"))
    problems = []
    if sorted(m for m in listed if not m.startswith("_")) != public:
        problems.append(f"the index lists {listed}; the top-level modules are {public}")
    if len(listed) != len(set(listed)):
        problems.append(f"the index lists a module twice: {listed}")
    if "_internal" not in listed or not (package / "_internal" / "__init__.py").is_file():
        problems.append("the index must name helpers._internal, the private package, and it must exist")
    if "``tools/``" not in (doc or ""):
        problems.append("the index must say that the maintainers' tooling lives in ``tools/``")
    return problems


def public_objects() -> list[tuple[str, str, object]]:
    """``(module, name, object)`` of every public function and class defined in the nine public modules."""
    found = []
    for short in MODULES:
        module = importlib.import_module(f"helpers.{short}")
        for name, obj in vars(module).items():
            if name.startswith("_") or not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if obj.__module__ == module.__name__:
                found.append((short, name, obj))
    return found


PUBLIC = public_objects()
COMMENTS = {
    key: text
    for short in MODULES
    for key, text in constant_comments((HELPERS / f"{short}.py").read_text(encoding="utf-8"), short).items()
}


# --------------------------------------------------------------------------- the course's helpers


def test_the_nine_modules_have_public_helpers():
    assert {short for short, _, _ in PUBLIC} == set(MODULES)
    assert len(PUBLIC) > 80, "check: the collector finds the helpers (did a module stop defining its own?)"


@pytest.mark.parametrize(("module", "name", "obj"), PUBLIC, ids=[f"{m}.{n}" for m, n, _ in PUBLIC])
def test_every_public_helper_says_where_it_is_taught(module, name, obj):
    doc = inspect.getdoc(obj)
    assert doc, f"helpers.{module}.{name} has no docstring"
    assert names_its_lesson(doc), (
        f"helpers.{module}.{name}'s docstring needs 'Taught in notebook NN, section N (\"Heading\").', "
        "'Used by :func:`helpers.X.y` (notebook NN, section N).' or 'Not used in a lesson; ...'"
    )
    assert taught_problems(doc, NOTEBOOKS, name) == []
    assert used_by_problems(doc, name, NOTEBOOKS, COMMENTS) == []


@pytest.mark.parametrize("key", sorted(k for k, text in COMMENTS.items() if "Taught in" in text))
def test_constant_comments_name_real_sections(key):
    assert taught_problems(COMMENTS[key], NOTEBOOKS, key.rsplit(".", 1)[1]) == []


def test_the_notebooks_constants_say_where_they_are_taught():
    for key in ("helpers.backbones.BACKBONES", "helpers.backbones.PUBLISHED", "helpers.data.CATS_VS_DOGS_SPLITS"):
        assert TAUGHT.search(COMMENTS.get(key, "")), f"{key}'s #: comment needs its 'Taught in' line"


def test_the_package_index_names_exactly_the_top_level_modules():
    import helpers

    assert index_problems(helpers.__doc__) == []


# --------------------------------------------------------------------------- the checks themselves can fail


def _notebook_file(path: Path, cells: list[tuple[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = [{"cell_type": kind, "metadata": {}, "source": source.splitlines(keepends=True)} for kind, source in cells]
    path.write_text(json.dumps({"cells": body, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A two-notebook stand-in for ``notebooks/``: lesson 03 and the solutions of 01."""
    _notebook_file(
        tmp_path / "03_data_size_experiments.ipynb",
        [
            ("markdown", "# 03 · How much data do you need?"),
            ("markdown", "## 4. Model 1: 1% of the data, with augmentation\n\nCompile it."),
            ("code", "from helpers.training import compile_classifier\n\ncompile_classifier(model_1)"),
            ("markdown", "## 5. Model 2: 10% of the data"),
            ("code", "print(2)"),
        ],
    )
    _notebook_file(
        tmp_path / "solutions" / "01_feature_extraction_with_tf_hub_solutions.ipynb",
        [("markdown", "## Exercise 3. Your own photos"), ("code", "train, val, names = photo_folder('mine')")],
    )
    return tmp_path


def test_a_true_reference_passes(course):
    line = 'Taught in notebook 03, section 4 ("Model 1: 1% of the data, with augmentation").'
    assert taught_problems(line, course, "compile_classifier") == []
    wrapped = 'Taught in notebook 03, section 4 ("Model 1: 1% of the data,\n    with augmentation").'
    assert taught_problems(wrapped, course, "compile_classifier") == []
    solution = 'Taught in notebook 01 solutions, exercise 3 ("Your own photos").'
    assert taught_problems(solution, course, "photo_folder") == []


@pytest.mark.parametrize(
    "line",
    [
        'Taught in notebook 03, section 5 ("Model 1: 1% of the data, with augmentation").',  # wrong number
        'Taught in notebook 03, section 4 ("Model 1: 1% of the data with augmentation").',  # renamed heading
        'Taught in notebook 03, section 4 ("Model 1").',  # a shortened heading
        'Taught in notebook 09, section 4 ("Model 1: 1% of the data, with augmentation").',  # no such notebook
        'Taught in notebook 01, section 3 ("Your own photos").',  # the lesson, not its solutions
        'Taught in notebook 03, exercise 4 ("Model 1: 1% of the data, with augmentation").',  # lessons have none
    ],
)
def test_a_wrong_section_is_rejected(course, line):
    assert taught_problems(line, course, "compile_classifier")


def test_a_section_that_never_mentions_the_helper_is_rejected(course):
    line = 'Taught in notebook 03, section 4 ("Model 1: 1% of the data, with augmentation").'
    assert taught_problems(line, course, "fit_and_record")


def test_a_docstring_that_names_no_lesson_is_rejected():
    assert not names_its_lesson("Load a folder.\n\nExample:\n    >>> load()")
    assert not names_its_lesson("Taught in notebook 3.")  # no section: not the form the course uses
    assert names_its_lesson("Load a folder.\n\nNot used in a lesson; the tests call it.")


def test_a_wrong_used_by_is_rejected(course):
    setup = "Used by :func:`helpers.config.setup` (notebook 00, section 1)."
    assert used_by_problems(setup, "set_seeds") == []  # against the real notebooks
    assert used_by_problems(setup, "set_seeds", course)  # the stand-in has no notebook 00
    assert used_by_problems("Used by :func:`helpers.config.setup` (notebook 00, section 99).", "set_seeds")
    assert used_by_problems("Used by :func:`helpers.config.setup` (notebook 01, section 1).", "set_seeds")
    assert used_by_problems("Used by :func:`helpers.config.setup` (notebook 00, section 1).", "photo_folder")
    assert used_by_problems("Used by :func:`helpers.config.no_such` (notebook 00, section 1).", "set_seeds")


def test_a_wrong_index_is_rejected():
    import helpers

    assert index_problems(helpers.__doc__.replace(":mod:`helpers.results`", "the results module"))
    assert index_problems(helpers.__doc__ + "\n- :mod:`helpers.pins` -- moved to tools/.")
    assert index_problems(helpers.__doc__.replace(":mod:`helpers._internal`", "the private package"))
