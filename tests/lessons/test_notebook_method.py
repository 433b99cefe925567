"""The course's method, checked in the notebooks' source: the test set never steers training or a choice.

Every notebook validates on the fixed validation set (curves, checkpoints, "which is better") and
evaluates the full test set once per model, at the end. These checks read each code cell as Python
and look at the calls that could break that rule.
"""

from __future__ import annotations

import ast
import json
import re

import pytest

from helpers.config import find_root
from tools.runner import course_notebooks

NOTEBOOKS = course_notebooks(find_root())
SELECTORS = {"max", "min", "sorted"}


def _code_cells(path):
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "code":
            source = "".join(cell["source"])
            # IPython magics and shell lines are not Python
            yield "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _calls(path):
    for source in _code_cells(path):
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call):
                yield source, node


def _name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _mentions_test(node: ast.AST | None) -> bool:
    return node is not None and re.search(r"test", ast.unparse(node), re.IGNORECASE) is not None


def _tuples(path) -> dict[str, ast.Tuple]:
    """The names a notebook binds to a tuple written out (``splits = (train_data, val_data, test_data)``)."""
    bound = {}
    for source in _code_cells(path):
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Tuple):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        bound[target.id] = node.value
    return bound


def problems(path) -> list[str]:
    """Every call in ``path`` that lets the test set into training or a decision."""
    found = []
    tuples = _tuples(path)
    for _, call in _calls(path):
        name, keywords = _name(call), {k.arg: k.value for k in call.keywords}
        text = ast.unparse(call)
        if name == "fit":
            if _mentions_test(keywords.get("validation_data")) or (call.args and _mentions_test(call.args[0])):
                found.append(f"fit on or validated with the test set: {text}")
        elif name == "fit_and_record":
            splits = call.args[1] if len(call.args) == 2 else None
            if isinstance(splits, ast.Name):  # a tuple the notebook wrote out under a name
                splits = tuples.get(splits.id)
            if not isinstance(splits, ast.Tuple) or len(splits.elts) != 3:
                found.append(f"fit_and_record needs (model, (train, val, test)): {text}")
            elif any(_mentions_test(arg) for arg in splits.elts[:2]) or not _mentions_test(splits.elts[2]):
                found.append(f"fit_and_record trains or validates on the test set: {text}")
        elif name == "ModelCheckpoint" and _mentions_test(keywords.get("monitor")):
            found.append(f"checkpoint chosen on the test set: {text}")
        elif name in SELECTORS and "key" in keywords and _mentions_test(keywords["key"]):
            found.append(f"a choice made on the test set: {text}")
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_notebook_trains_validates_or_chooses_on_the_test_set(path):
    assert problems(path) == []


def test_the_check_catches_each_mistake(tmp_path):
    cells = [
        "model.fit(train_data, validation_data=test_data, epochs=5)",
        "fit_and_record(model, (train_data, test_data, test_data), experiment='x')",
        "best = max(models, key=lambda m: results[m]['test_accuracy'])",
        "keras.callbacks.ModelCheckpoint('a.weights.h5', monitor='test_loss')",
        "%tensorboard --logdir runs\nmodel.fit(train_data, validation_data=val_data)",
        "fit_and_record(model, (train_data, val_data, test_data), experiment='ok')",
        "best = max(models, key=lambda m: results[m]['val_accuracy'])",
        "splits = (train_data, val_data, test_data)\nfit_and_record(model, splits, experiment='named')",
        "wrong = (test_data, val_data, test_data)\nfit_and_record(model, wrong, experiment='x')",
    ]
    notebook = {"cells": [{"cell_type": "code", "source": c} for c in cells]}
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(notebook))
    found = problems(path)
    assert len(found) == 5 and all(cells[i].split("\n")[-1][:12] in "".join(found) for i in range(2))
    assert "fit_and_record(model, wrong" in found[-1], "a named tuple is checked like one written out"
