"""Write (or check) every notebook's "Open in Colab / Kaggle" links and its install cell from ``pyproject.toml``.

The course's public address lives in one place, ``[project.urls] Repository``. Each lesson and solutions notebook
gets, from it:

- a line of links under its title: Colab and Kaggle open the notebook straight from the repository;
- a first code cell (tagged ``course-install``) that, only where ``helpers`` can't be imported (Colab, Kaggle, a
  fresh Jupyter), installs the course with pip, asking for the TensorFlow, Keras and protobuf already installed
  so that pip keeps them as they are (or stops, saying why, rather than replace them).

Run ``python -m tools.notebook_links`` after changing the address; ``--check`` only lists what disagrees.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path

from helpers.config import course_notebooks, find_root

#: The tag of the install cell, so it is found (and rewritten) again.
INSTALL_TAG = "course-install"
#: The branch the links open.
BRANCH = "main"
#: The packages the install cell never lets pip change on a notebook service.
KEPT = ("tensorflow", "keras", "protobuf")
LINKS_START = "[Open in Colab]("
#: Said after the links: what the first code cell does there.
LINKS_NOTE = " (there, the first code cell installs the course's `helpers`; on a laptop see the README, *Start here*)"

INSTALL_CELL = '''\
# Colab, Kaggle or a fresh Jupyter: install the course's helpers once
# (your TensorFlow, Keras and protobuf stay as they are).
import importlib.metadata
import importlib.util
import os
import pathlib
import subprocess
import sys
import warnings

COURSE_REPO = os.environ.get(
    "COURSE_REPO",
    "{repo}",
)
KEPT = {kept}  # installed already: they stay as they are
if importlib.util.find_spec("helpers") is None:
    here = pathlib.Path.cwd()
    tops = (here, *here.parents)
    checkout = next((p for p in tops if (p / "helpers/__init__.py").is_file()), None)
    dists = importlib.metadata.distributions()
    found = {{d.metadata["Name"].lower(): d.version for d in dists}}
    keep = [f"{{name}}=={{found[name]}}" for name in KEPT if name in found]
    remote = f"course-helpers @ git+{{COURSE_REPO}}"
    source = ["-e", str(checkout)] if checkout else [remote]
    pip = [sys.executable, "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, *source, *keep], check=True)
    importlib.invalidate_caches()
# tensorflow-hub 0.16.1 imports pkg_resources, which warns that it is deprecated
warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
'''


def repository(root: Path) -> str:
    """The course's public address: ``[project.urls] Repository`` in ``pyproject.toml``, without a trailing slash."""
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    return project["urls"]["Repository"].rstrip("/")


def links(repo: str, relative: str) -> str:
    """The markdown line of links that open ``relative`` (a notebook's path in the repository) on Colab and Kaggle.

    Example:
        >>> links("https://github.com/o/r", "notebooks/00.ipynb")  # doctest: +NORMALIZE_WHITESPACE
        '[Open in Colab](https://colab.research.google.com/github/o/r/blob/main/notebooks/00.ipynb) ·
        [Open in Kaggle](https://kaggle.com/kernels/welcome?src=https://github.com/o/r/blob/main/notebooks/00.ipynb)'
    """
    path = repo.removeprefix("https://github.com/")
    colab = f"https://colab.research.google.com/github/{path}/blob/{BRANCH}/{relative}"
    kaggle = f"https://kaggle.com/kernels/welcome?src={repo}/blob/{BRANCH}/{relative}"
    return f"[Open in Colab]({colab}) · [Open in Kaggle]({kaggle})"


def install_cell(repo: str) -> str:
    """The source of every notebook's first code cell for the repository ``repo``."""
    return INSTALL_CELL.format(repo=repo, kept="(" + ", ".join(f'"{name}"' for name in KEPT) + ")")


def _source(text: str) -> list[str]:
    lines = text.splitlines(keepends=True)
    if lines and lines[-1].endswith("\n"):
        lines[-1] = lines[-1][:-1]
    return lines


def update(notebook: dict, repo: str, relative: str) -> dict:
    """``notebook`` with its links line (second line of the title cell) and install cell (second cell) in place."""
    cells = notebook["cells"]
    title = "".join(cells[0]["source"]).split("\n")
    body = [line for line in title[1:] if not line.startswith(LINKS_START)]
    while body and not body[0].strip():
        body.pop(0)
    cells[0]["source"] = _source("\n".join([title[0], "", links(repo, relative) + LINKS_NOTE, "", *body]))
    cell = {
        "cell_type": "code",
        "id": INSTALL_TAG,
        "execution_count": None,
        "metadata": {"tags": [INSTALL_TAG]},
        "outputs": [],
        "source": _source(install_cell(repo)),
    }
    existing = [i for i, c in enumerate(cells) if INSTALL_TAG in c.get("metadata", {}).get("tags", [])]
    if existing:
        cells[existing[0]] = cell
    else:
        cells.insert(1, cell)
    return notebook


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only list the notebooks that disagree; exit 1 if any")
    args = parser.parse_args(argv)
    root = find_root()
    repo = repository(root)
    stale = []
    for path in course_notebooks(root):
        before = path.read_text()
        notebook = update(json.loads(before), repo, path.relative_to(root).as_posix())
        after = json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
        if after != before:
            stale.append(path)
            if not args.check:
                path.write_text(after)
    verb = "disagree with" if args.check else "rewritten from"
    for path in stale:
        print(f"{path.relative_to(root)}: {verb} {repo}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
