"""Run notebook 00 in a Python that has no ``helpers``: its first cell must install the course and keep TF as is.

What a learner meets on Colab or Kaggle, rebuilt here: a Python with the service's TensorFlow, Keras and
protobuf (``requirements-colab.txt``) and no course. The repository address is pointed at a local clone
(``COURSE_REPO=file://...``), the notebook is run outside any checkout in the smoke profile, and afterwards

- ``helpers`` and ``tensorflow_hub`` import (whatever setuptools that Python has),
- TensorFlow, Keras and protobuf are at exactly the versions they had before.

Usage: ``python -m tools.fresh_install --python /path/to/venv/bin/python`` (exit status 1 on any failure).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from helpers.config import find_root

KEPT = ("tensorflow", "keras", "protobuf")
_VERSIONS = f"import importlib.metadata as m, json; print(json.dumps({{n: m.version(n) for n in {KEPT!r}}}))"


def versions(python: str) -> dict[str, str]:
    """The versions of TensorFlow, Keras and protobuf installed for ``python``."""
    return json.loads(subprocess.run([python, "-c", _VERSIONS], check=True, capture_output=True, text=True).stdout)


def run(python: str, notebook: str = "notebooks/00_setup_and_data.ipynb") -> list[str]:
    """Clone the course, run ``notebook`` with ``python`` outside the clone; the problems found (empty: all good)."""
    root = find_root()
    python = os.path.abspath(python)  # the commands below run in another folder (abspath: a venv's python is a link)
    work = Path(tempfile.mkdtemp(prefix="course-fresh-"))
    clone = work / "course"
    subprocess.run(["git", "clone", "--quiet", str(root), str(clone)], check=True)
    found = subprocess.run([python, "-c", "import helpers"], capture_output=True, cwd=work)
    if found.returncode == 0:
        return [f"{python} can already import helpers: the install cell would not run. Use a fresh venv."]
    before = versions(python)
    shutil.copy(root / notebook, work / Path(notebook).name)
    env = {
        **os.environ, "COURSE_REPO": clone.as_uri(), "COURSE_SMOKE": "1", "MPLBACKEND": "Agg",
        "COURSE_RUN_DIR": str(work / "runs"), "COURSE_IMAGES_DIR": str(work / "images"),
        "COURSE_DATA_ROOT": str(work / "data"), "PYTHONPATH": "",
    }
    test = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax", Path(notebook).name]
    done = subprocess.run(test, cwd=work, env=env)
    problems = [f"{notebook} failed in a fresh environment (pytest exit {done.returncode})"] if done.returncode else []
    after = versions(python)
    problems += [f"{name} changed from {before[name]} to {after[name]}" for name in KEPT if before[name] != after[name]]
    check = subprocess.run([python, "-c", "import helpers, tensorflow_hub"], capture_output=True, text=True, cwd=work)
    if check.returncode != 0:
        problems.append(f"after the install cell, import helpers / tensorflow_hub fails:\n{check.stderr[-800:]}")
    if not problems:
        print(f"fresh install: {notebook} passed; {', '.join(f'{k} {v}' for k, v in after.items())} unchanged")
        shutil.rmtree(work, ignore_errors=True)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--python", required=True, help="a Python with the service's packages and no helpers")
    args = parser.parse_args(argv)
    problems = run(args.python)
    for problem in problems:
        print("fresh install:", problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
