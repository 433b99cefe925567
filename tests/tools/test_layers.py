"""The layout's rule: ``helpers`` never imports ``tools``; notebooks never import ``helpers._internal`` or ``tools``.

The first half is import-linter's contract in ``pyproject.toml`` (``[tool.importlinter]``); notebooks are not
Python modules, so their imports are read from their code cells here.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").rglob("*.ipynb"))
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(root: Path) -> subprocess.CompletedProcess:
    """import-linter on the packages under ``root``, with ``root``'s ``pyproject.toml`` contracts."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _copy_layout(tmp_path: Path) -> Path:
    """The two packages and the contracts, copied so that a test can break them."""
    for package in ("helpers", "tools"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_contract_is_kept():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "helpers never imports tools KEPT" in result.stdout


def test_the_contract_breaks_when_helpers_imports_tools(tmp_path):
    root = _copy_layout(tmp_path)
    plotting = root / "helpers" / "plotting.py"
    plotting.write_text(plotting.read_text() + "\n\ndef _later():\n    from tools import runner  # noqa: F401\n")
    result = _lint_imports(root)
    assert result.returncode != 0, "a lazy import of tools inside helpers must break the contract"
    assert "helpers never imports tools BROKEN" in result.stdout
    assert "helpers.plotting -> tools.runner" in result.stdout, "the report names the offending import"


def notebook_imports(path: Path) -> list[str]:
    """Every module a notebook's code cells import (``import x.y`` and ``from x.y import z``)."""
    found = []
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.Import):
                found += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.append(node.module)
                found += [f"{node.module}.{alias.name}" for alias in node.names]
    return found


def forbidden(modules: list[str]) -> list[str]:
    """The imports a notebook may not make: the private helpers and the course's tooling."""
    return sorted({m for m in modules if m.startswith(("helpers._internal", "tools.")) or m == "tools"})


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_notebook_imports_the_private_helpers_or_the_tooling(path):
    assert forbidden(notebook_imports(path)) == []


def test_the_notebook_check_catches_each_forbidden_import(tmp_path):
    cells = [
        "from helpers._internal.device import on_one_replica",
        "import tools.runner",
        "from helpers import _internal",
        "from helpers.models import on_one_replica\n%load_ext tensorboard",
    ]
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"cells": [{"cell_type": "code", "source": c} for c in cells]}))
    assert forbidden(notebook_imports(path)) == [
        "helpers._internal",
        "helpers._internal.device",
        "helpers._internal.device.on_one_replica",
        "tools.runner",
    ]
