"""Turn the course's notebooks into reveal.js slides for instructors (``make slides``).

Nobody tags cells by hand: the slide structure is derived from the notebook itself when it is
converted, and the stored notebooks stay untouched.

- the title cell and every ``## `` section start a new **slide**;
- inside a slide, a cell that would push it past :data:`MAX_LINES` lines starts a **sub-slide**
  (reveal.js shows it below; the arrow keys walk down, then on to the next section);
- everything else continues the slide it is in.

Command line::

    python -m helpers.slides                 # every notebook, into runs/<timestamp>/slides/
    python -m helpers.slides --only 02 --out /tmp/slides

To present live inside JupyterLab instead, use the RISE extension (``jupyterlab-rise``, in the
requirements): open a notebook and press ``Alt+R``.
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path
from typing import Any

from helpers import config

#: Lines of source a slide may hold before the next long cell moves to a sub-slide.
MAX_LINES = 22


def _lines(cell: dict[str, Any]) -> int:
    source = cell.get("source", "")
    text = "".join(source) if isinstance(source, list) else source
    return max(1, text.count("\n") + 1)


def _is_section(cell: dict[str, Any]) -> bool:
    source = cell.get("source", "")
    text = ("".join(source) if isinstance(source, list) else source).lstrip()
    return cell.get("cell_type") == "markdown" and (text.startswith("## ") or text.startswith("# "))


def slide_types(cells: list[dict[str, Any]], max_lines: int = MAX_LINES) -> list[str]:
    """The reveal.js ``slide_type`` of every cell: ``slide``, ``subslide`` or ``-`` (continue).

    Example:
        >>> cells = [{"cell_type": "markdown", "source": "# Title"}, {"cell_type": "code", "source": "x = 1"},
        ...          {"cell_type": "markdown", "source": "## Data"}, {"cell_type": "code", "source": "y\\n" * 30}]
        >>> slide_types(cells)
        ['slide', '-', 'slide', 'subslide']
    """
    types, used = [], 0
    for cell in cells:
        lines = _lines(cell)
        if _is_section(cell) or not types:
            types.append("slide")
            used = lines
        elif used + lines > max_lines:
            types.append("subslide")
            used = lines
        else:
            types.append("-")
            used += lines
    return types


def with_slide_metadata(notebook: Any, max_lines: int = MAX_LINES) -> Any:
    """A copy of ``notebook`` (an ``nbformat`` node) with ``metadata.slideshow`` set on every cell.

    Example:
        >>> import nbformat
        >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# T")])
        >>> with_slide_metadata(nb).cells[0].metadata.slideshow.slide_type
        'slide'
    """
    notebook = copy.deepcopy(notebook)
    for cell, kind in zip(notebook.cells, slide_types(notebook.cells, max_lines), strict=True):
        cell.metadata["slideshow"] = {"slide_type": kind}
    return notebook


def build_slides(notebook_path: str | Path, out_dir: str | Path) -> Path:
    """Convert one notebook into ``<out_dir>/<name>.slides.html`` (reveal.js), without executing it.

    Example:
        >>> build_slides("notebooks/02_functional_api_model_0.ipynb", "runs/x/slides")  # doctest: +SKIP
        PosixPath('runs/x/slides/02_functional_api_model_0.slides.html')
    """
    import nbformat
    from nbconvert import SlidesExporter

    notebook_path, out_dir = Path(notebook_path), Path(out_dir)
    notebook = with_slide_metadata(nbformat.read(notebook_path, as_version=4))
    html, _ = SlidesExporter().from_notebook_node(notebook)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{notebook_path.stem}.slides.html"
    target.write_text(html, encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    """Build the slides of every course notebook (or ``--only`` some) and print where they are."""
    from helpers.callbacks import new_run_dir

    parser = argparse.ArgumentParser(prog="python -m helpers.slides", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", default=None, help="notebook number prefixes, e.g. 00 01")
    parser.add_argument("--out", default=None, help="folder for the slides (default: runs/<timestamp>/slides)")
    args = parser.parse_args(argv)
    root = config.find_root()
    out = Path(args.out) if args.out else new_run_dir(config.load_profile().runs_dir, "") / "slides"
    for notebook in config.course_notebooks(root, args.only):
        print(build_slides(notebook, out))
    print(f"Open a .slides.html file in a browser (arrow keys move; needs internet for reveal.js). Slides in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
