"""Turn a run's executed notebooks into reveal.js slides for instructors (``make slides``).

The slides show what a notebook printed and drew: like the course book (:mod:`tools.book`) they are built
from a run folder (``runs/<timestamp>/``, made by ``make run`` or ``make smoke``), never from the stored
notebooks, which carry no outputs. Nothing is executed to build them.

Nobody tags cells by hand: the slide structure is derived from the notebook itself when it is
converted, and the notebooks stay untouched.

- the title cell and every ``## `` section start a new **slide**;
- inside a slide, a cell that would push it past :data:`MAX_LINES` lines (its source and its outputs, a
  figure counting :data:`FIGURE_LINES`) starts a **sub-slide** (reveal.js shows it below; the arrow keys
  walk down, then on to the next section);
- everything else continues the slide it is in.

The decks need no internet: reveal.js (:data:`REVEAL_VERSION`, vendored in ``tools/reveal/``) is copied next
to them and loaded with a relative path, and the template (``tools/slides.html.j2``) loads nothing from a
CDN. They open from ``file://`` or from any static server.

Command line::

    python -m tools.slides [RUN_DIR]                # every notebook of the run, into RUN_DIR/slides/
    python -m tools.slides RUN_DIR --only 02 --out /tmp/slides

``RUN_DIR`` defaults to the newest run folder with executed notebooks under the profile's runs folder
(``COURSE_RUN_DIR``, default ``runs/``), as for the book.

To present live inside JupyterLab instead, use the RISE extension (``jupyterlab-rise``, in the
requirements): open a notebook and press ``Alt+R``.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from helpers import config
from tools import book

#: Lines of source and output a slide may hold before the next long cell moves to a sub-slide.
MAX_LINES = 22
#: Lines a figure (an image output) takes on a slide.
FIGURE_LINES = 16
#: The slides' folder inside a run folder.
SLIDES_DIR = "slides"
#: The reveal.js version vendored in ``tools/reveal/``: the one nbconvert's reveal template is written for.
REVEAL_VERSION = "4.0.2"
#: The vendored reveal.js files (see ``tools/reveal/README.md``).
REVEAL_SOURCE = Path(__file__).with_name("reveal")
#: The folder next to the decks that holds reveal.js, and the decks' relative prefix for it.
REVEAL_DIR = "reveal.js"
#: nbconvert's reveal template with nothing loaded from the network.
TEMPLATE = Path(__file__).with_name("slides.html.j2")

_IMAGES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")
# A stylesheet's @import of a remote file (the `simple` theme's Google Fonts).
_REMOTE_IMPORT = re.compile(r"^@import url\((?:https?:)?//[^)]*\);?[ \t]*\n?", re.M)


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else (value or "")


def _output_lines(output: dict[str, Any]) -> int:
    """The lines one output takes on a slide: a figure :data:`FIGURE_LINES`, text its lines."""
    data = output.get("data", {})
    if any(kind in data for kind in _IMAGES):
        return FIGURE_LINES
    if output.get("output_type") == "stream":
        text = _text(output.get("text"))
    elif output.get("output_type") == "error":
        text = "\n".join(output.get("traceback", []))
    else:
        text = _text(data.get("text/plain"))
    return text.rstrip("\n").count("\n") + 1 if text.strip() else 0


def _lines(cell: dict[str, Any]) -> int:
    lines = max(1, _text(cell.get("source", "")).count("\n") + 1)
    return lines + sum(_output_lines(output) for output in cell.get("outputs", []))


def _is_section(cell: dict[str, Any]) -> bool:
    text = _text(cell.get("source", "")).lstrip()
    return cell.get("cell_type") == "markdown" and (text.startswith("## ") or text.startswith("# "))


def slide_types(cells: list[dict[str, Any]], max_lines: int = MAX_LINES) -> list[str]:
    """The reveal.js ``slide_type`` of every cell: ``slide``, ``subslide`` or ``-`` (continue).

    Example:
        >>> cells = [{"cell_type": "markdown", "source": "# Title"}, {"cell_type": "code", "source": "x = 1"},
        ...          {"cell_type": "markdown", "source": "## Data"}, {"cell_type": "code", "source": "y\\n" * 30}]
        >>> slide_types(cells)
        ['slide', '-', 'slide', 'subslide']
        >>> figure = {"output_type": "display_data", "data": {"image/png": "iVBOR...", "text/plain": "<Figure>"}}
        >>> plot = {"cell_type": "code", "source": "plt.plot(x)\\n" * 3, "outputs": [figure]}
        >>> slide_types([cells[2], plot, plot])  # a figure takes room too
        ['slide', '-', 'subslide']
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


def offline_css(css: str) -> str:
    """``css`` without its ``@import`` of remote files (web fonts), which would hold the slides up offline.

    Example:
        >>> offline_css("@import url(https://fonts.googleapis.com/css?family=Lato);\\nh1 { color: red; }\\n")
        'h1 { color: red; }\\n'
    """
    return _REMOTE_IMPORT.sub("", css)


def copy_reveal(out_dir: str | Path) -> Path:
    """Copy the vendored reveal.js into ``<out_dir>/reveal.js/`` (stylesheets through :func:`offline_css`).

    Example:
        >>> copy_reveal("runs/x/slides")  # doctest: +SKIP
        PosixPath('runs/x/slides/reveal.js')
    """
    target = Path(out_dir) / REVEAL_DIR
    for source in sorted(p for p in REVEAL_SOURCE.rglob("*") if p.is_file()):
        copied = target / source.relative_to(REVEAL_SOURCE)
        copied.parent.mkdir(parents=True, exist_ok=True)
        if source.suffix == ".css":
            copied.write_text(offline_css(source.read_text(encoding="utf-8")), encoding="utf-8")
        else:
            shutil.copyfile(source, copied)
    return target


def exporter() -> Any:
    """nbconvert's ``SlidesExporter`` with the course's template and reveal.js from the deck's own folder."""
    from nbconvert import SlidesExporter

    return SlidesExporter(template_file=str(TEMPLATE), reveal_url_prefix=REVEAL_DIR)


def build_slides(notebook_path: str | Path, out_dir: str | Path) -> Path:
    """Convert one notebook into ``<out_dir>/<name>.slides.html`` (reveal.js), without executing it.

    The outputs it holds are shown (TensorFlow's start-up logging left out, as in the book), and
    ``<out_dir>/reveal.js/`` gets the reveal.js files the deck loads.

    Example:
        >>> build_slides("runs/20261125-101500/02_functional_api_model_0.ipynb", "runs/x/slides")  # doctest: +SKIP
        PosixPath('runs/x/slides/02_functional_api_model_0.slides.html')
    """
    import nbformat

    notebook_path, out_dir = Path(notebook_path), Path(out_dir)
    stored = book.exercise_stops_shown_short(
        book.without_tf_logs(json.loads(notebook_path.read_text(encoding="utf-8")))
    )
    notebook = with_slide_metadata(nbformat.reads(json.dumps(stored), as_version=4))
    html, _ = exporter().from_notebook_node(notebook, resources={"metadata": {"name": notebook_path.stem}})
    out_dir.mkdir(parents=True, exist_ok=True)
    copy_reveal(out_dir)
    target = out_dir / f"{notebook_path.stem}.slides.html"
    target.write_text(html, encoding="utf-8")
    return target


def find_run(run_dir: str | Path | None = None) -> Path:
    """``run_dir``, or the newest run folder with executed notebooks; ``FileNotFoundError`` when there is none.

    Example:
        >>> find_run()  # doctest: +SKIP
        PosixPath('runs/20261125-101500')
    """
    if run_dir is None:
        runs_dir = config.load_profile().runs_dir
        try:
            return book.latest_run(runs_dir)
        except FileNotFoundError:
            raise FileNotFoundError(
                f"No run folder with executed notebooks under {runs_dir}: the slides show a run's outputs. "
                "Run `make run` (or `make smoke` for a quick one) first, "
                "or name a run folder: python -m tools.slides RUN_DIR."
            ) from None
    run_dir = Path(run_dir)
    if not run_dir.is_dir() or not any(run_dir.glob(book.NOTEBOOK_GLOB)):
        raise FileNotFoundError(
            f"No executed notebooks ({book.NOTEBOOK_GLOB}) in {run_dir}. "
            "Run `make run` (or `make smoke` for a quick one) first, or name another run folder."
        )
    return run_dir


def build_deck(run_dir: str | Path, out: str | Path | None = None, only: Sequence[str] | None = None) -> list[Path]:
    """The slides of every executed notebook of ``run_dir`` (or ``only`` those prefixes), in course order.

    They go to ``out`` (default ``RUN_DIR/slides``), next to a copy of reveal.js.

    Example:
        >>> build_deck("runs/20261125-101500", only=["02"])  # doctest: +SKIP
        [PosixPath('runs/20261125-101500/slides/02_functional_api_model_0.slides.html'), ...]
    """
    run_dir = Path(run_dir)
    out = Path(out) if out else run_dir / SLIDES_DIR
    names = [p.name for p in run_dir.glob(book.NOTEBOOK_GLOB) if not only or p.name.startswith(tuple(only))]
    if not names:
        wanted = f" starting with {' or '.join(only)}" if only else ""
        raise FileNotFoundError(f"No executed notebooks{wanted} in {run_dir}. Run `make run` first.")
    lessons, solutions = book.course_order(names, book.course_names(config.find_root()))
    return [build_slides(run_dir / name, out) for name in (*lessons, *solutions)]


def main(argv: list[str] | None = None) -> int:
    """Build the slides of a run's notebooks (or ``--only`` some) and print where they are."""
    parser = argparse.ArgumentParser(prog="python -m tools.slides", description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", nargs="?", default=None, help="a run folder (default: the newest one)")
    parser.add_argument("--only", nargs="*", default=None, help="notebook number prefixes, e.g. 00 01")
    parser.add_argument("--out", default=None, help="folder for the slides (default: RUN_DIR/slides)")
    args = parser.parse_args(argv)
    try:
        run_dir = find_run(args.run_dir)
        decks = build_deck(run_dir, args.out, args.only)
    except FileNotFoundError as err:
        print(err, file=sys.stderr)
        return 2
    for deck in decks:
        print(deck)
    print(
        f"The slides of run {run_dir.name} are in {decks[0].parent}: open a .slides.html file in a browser "
        "(no internet needed; arrow keys move, S opens the speaker view)."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
