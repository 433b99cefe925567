"""The runner (``make run``, the reference run, the course book): an exercise cell stopping at its blanks is allowed.

Papermill reports every error of an executed notebook, even in a cell tagged ``raises-exception`` (that nbclient
ran past). The runner allows exactly those, and in an exercise cell (one with blanks ``____``) only ``FillIn``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.runner import execute, unexpected_errors


def _cell(source: str, tags=(), ename: str | None = None) -> dict:
    outputs = [{"output_type": "error", "ename": ename, "evalue": "", "traceback": []}] if ename else []
    return {"cell_type": "code", "metadata": {"tags": list(tags)}, "source": source, "outputs": outputs}


def _write(path: Path, *cells: dict) -> Path:
    kernel = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb = {"cells": list(cells), "metadata": {"kernelspec": kernel}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def test_only_errors_no_tag_allows_count(tmp_path):
    executed = _write(
        tmp_path / "nb.ipynb",
        _cell("x = ____ + 1", ["raises-exception"], "FillIn"),  # an exercise cell, as stored
        _cell("x = ____ + 1", ["raises-exception"], "ValueError"),  # a blank that ends in another error
        _cell("1 / 0", ["raises-exception"], "ZeroDivisionError"),  # a cell that shows an error on purpose
        _cell("1 / 0", [], "ZeroDivisionError"),  # a real failure
    )
    assert unexpected_errors(executed) == ["Cell 1: ValueError", "Cell 3: ZeroDivisionError"]


def test_execute_runs_past_an_exercise_cell_and_drops_papermill_banners(tmp_path):
    source = _write(
        tmp_path / "lesson.ipynb",
        _cell("from helpers.exercises import ____\nanswer = ____ * 2", ["raises-exception"]),
        _cell("print('after the exercise')"),
    )
    (tmp_path / "out").mkdir()
    executed = json.loads(execute(source, tmp_path / "out").read_text(encoding="utf-8"))
    assert [cell["cell_type"] for cell in executed["cells"]] == ["code", "code"], "no error banner cells"
    errors = [out["ename"] for out in executed["cells"][0]["outputs"] if out["output_type"] == "error"]
    assert errors == ["FillIn"]
    assert "after the exercise" in "".join(executed["cells"][1]["outputs"][0]["text"])
    broken = _write(tmp_path / "broken.ipynb", _cell("answer = ____", ["raises-exception"]), _cell("1 / 0"))
    with pytest.raises(Exception, match="ZeroDivisionError"):
        execute(broken, tmp_path / "out")
