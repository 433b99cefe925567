"""The course book: a static site of one run's executed notebooks (``make book``, ``make book-serve``).

The notebooks are stored without outputs, so a learner browsing ahead or an instructor sharing a
link sees neither figures nor numbers. The book shows a run's executed notebooks instead:

- the README as the home page (its links to ``notebooks/....ipynb`` point at the book's pages);
- every notebook of the run in course order, lessons then solutions, with its stored outputs and figures;
- a "Results" page: the run's ``results.csv`` as a table and its ``results.png`` chart;
- the guides (:data:`GUIDES`: ``docs/*.md`` and ``CONTRIBUTING.md``), their links to each other, to the README
  and to the notebooks pointing at the book's pages;
- a navigation sidebar, previous / next links and full-text search.

It is built with Sphinx, MyST-NB (notebooks and Markdown) and the Furo theme, with notebook execution
switched off: the outputs are the run's, nothing is executed when the book is built. Only TensorFlow's C++
start-up logging (:func:`is_tf_log`) is left out of the outputs shown.

Command line::

    python -m tools.book build [RUN_DIR]            # writes RUN_DIR/book/index.html
    python -m tools.book serve [RUN_DIR] [--port 8000]

``RUN_DIR`` defaults to the newest run folder (``runs/<timestamp>/`` made by ``make run``) under the
profile's runs folder (``COURSE_RUN_DIR``, default ``runs/``).
"""

from __future__ import annotations

import argparse
import json
import posixpath
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from helpers import config

#: The book's folder inside a run folder.
BOOK_DIR = "book"
#: The page (and file name without suffix) of the results table and chart.
RESULTS_PAGE = "results"
#: An executed course notebook in a run folder (lessons and solutions lie side by side there).
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
#: The guides the book carries after the results, in this order (those the project has), at the same paths.
GUIDES = (
    "docs/your-own-photos.md",
    "docs/instructors.md",
    "docs/offline-and-scale.md",
    "docs/maintainers.md",
    "CONTRIBUTING.md",
)

_RUN_NAME = re.compile(r"(\d{8}-\d{6})(?:-(\d+))?")
# TensorFlow's C++ logging: "I0000 00:00:1795635790.721231   13056 port.cc:153] ..." (info and warnings).
_TF_LOG = re.compile(r"[IW]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\] ")
_TF_LOG_LINES = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "To enable the following instructions:",
)
# A Markdown link or image: [text](target "optional title"); text may hold `code` but no brackets.
_LINK = re.compile(r"(?P<bang>!?)\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)(?P<title>\s+\"[^\"]*\")?\)")

#: Sphinx settings of the book (written to the staged ``conf.py``).
SPHINX_CONF: dict[str, Any] = {
    "extensions": ["myst_nb"],
    "root_doc": "index",
    "html_theme": "furo",
    "language": "en",
    # Render the outputs stored in the run; never execute a notebook while building.
    "nb_execution_mode": "off",
    "nb_output_stderr": "show",
    "nb_ipywidgets_js": {},  # no widget outputs in the course: no require.js from a CDN
    "myst_heading_anchors": 3,  # the README's #section links keep working
    "smartquotes": False,  # text and code names as written
    "html_copy_source": False,
    "html_show_sourcelink": False,
    "suppress_warnings": ["myst.header"],
    "html_show_copyright": False,
    "html_static_path": ["_static"],
    "html_css_files": ["book.css"],
}
#: The book's own style: wide tables (the README's index, the results) in a smaller type, cells aligned at the top.
CSS = """\
article table.docutils { font-size: 0.75em; }
article table.docutils th, article table.docutils td { padding: 0.25em 0.5em; vertical-align: top; }
article table.docutils td p, article table.docutils th p { margin: 0; }
table.course-results td, table.course-results th { white-space: nowrap; }
"""


def is_tf_log(line: str) -> bool:
    """Whether a line of stderr is TensorFlow's C++ start-up logging (info, warnings, no GPU on a CPU machine).

    Such lines say nothing about the course; the book leaves them out of the outputs it shows. Errors stay.

    Example:
        >>> is_tf_log("I0000 00:00:1795635790.72 13056 port.cc:153] oneDNN custom operations are on.")
        True
        >>> is_tf_log("E0000 00:00:1795635792.95 13056 cuda_platform.cc:52] failed call to cuInit: INTERNAL")
        True
        >>> is_tf_log("E0000 00:00:1795635792.95 13056 bfc_allocator.cc:1] Out of memory"), is_tf_log("UserWarning: x")
        (False, False)
    """
    return bool(_TF_LOG.match(line)) or line.startswith(_TF_LOG_LINES) or "failed call to cuInit" in line


def exercise_stops_shown_short(notebook: dict[str, Any]) -> dict[str, Any]:
    """``notebook`` with each exercise cell's stop at its blanks shown as one line instead of a traceback.

    A lesson's exercise cell (tagged ``raises-exception``, with blanks ``____``) stops with ``FillIn`` when it
    runs as stored; the page shows what the learner reads in Jupyter, without the stack of frames.

    Example:
        >>> cell = {"cell_type": "code", "source": "x = ____ + 1", "metadata": {"tags": ["raises-exception"]},
        ...         "outputs": [{"output_type": "error", "ename": "FillIn", "evalue": "Fill in", "traceback": ["..."]}]}
        >>> exercise_stops_shown_short({"cells": [cell]})["cells"][0]["outputs"]
        [{'output_type': 'stream', 'name': 'stdout', 'text': 'FillIn: Fill in\\n'}]
    """
    for cell in notebook.get("cells", []):
        source = cell.get("source", "")
        source = source if isinstance(source, str) else "".join(source)
        if "raises-exception" not in cell.get("metadata", {}).get("tags", []) or "____" not in source:
            continue
        cell["outputs"] = [
            {"output_type": "stream", "name": "stdout", "text": f"{output['ename']}: {output['evalue']}\n"}
            if output.get("output_type") == "error" and output.get("ename") == "FillIn"
            else output
            for output in cell.get("outputs", [])
        ]
    return notebook


def without_tf_logs(notebook: dict[str, Any]) -> dict[str, Any]:
    """``notebook`` (its JSON) with TensorFlow's C++ logging lines taken out of stderr; emptied outputs go too.

    Example:
        >>> nb = {"cells": [{"cell_type": "code", "outputs": [
        ...     {"output_type": "stream", "name": "stderr", "text": ["I0000 00:00:1.0 1 port.cc:1] on\\n"]},
        ...     {"output_type": "stream", "name": "stderr", "text": "UserWarning: look\\n"}]}]}
        >>> without_tf_logs(nb)["cells"][0]["outputs"]
        [{'output_type': 'stream', 'name': 'stderr', 'text': 'UserWarning: look\\n'}]
    """
    for cell in notebook.get("cells", []):
        kept = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                text = output["text"] if isinstance(output["text"], str) else "".join(output["text"])
                text = "".join(line for line in text.splitlines(keepends=True) if not is_tf_log(line))
                if not text.strip():
                    continue
                output = {**output, "text": text}
            kept.append(output)
        if "outputs" in cell:
            cell["outputs"] = kept
    return notebook


def is_solution(name: str) -> bool:
    """Whether a notebook file name is a solutions notebook.

    Example:
        >>> is_solution("02_functional_api_model_0_solutions.ipynb"), is_solution("02_functional_api_model_0.ipynb")
        (True, False)
    """
    return Path(name).stem.endswith("_solutions")


def course_order(names: Iterable[str], course: Sequence[str] = ()) -> tuple[list[str], list[str]]:
    """Split notebook file names into (lessons, solutions), each in course order.

    ``course`` is the course's order of file names (:func:`tools.runner.course_notebooks`); names it
    does not hold come after the known ones, by name.

    Example:
        >>> course_order(["02_b.ipynb", "00_a_solutions.ipynb", "00_a.ipynb", "09_new.ipynb"],
        ...              ["00_a.ipynb", "02_b.ipynb", "00_a_solutions.ipynb"])
        (['00_a.ipynb', '02_b.ipynb', '09_new.ipynb'], ['00_a_solutions.ipynb'])
    """
    rank = {name: i for i, name in enumerate(course)}
    ordered = sorted(set(names), key=lambda name: (rank.get(name, len(rank)), name))
    return [n for n in ordered if not is_solution(n)], [n for n in ordered if is_solution(n)]


def course_names(root: str | Path) -> list[str]:
    """The course's notebook file names in order, lessons then solutions (:func:`helpers.config.course_notebooks`).

    Example:
        >>> course_names(config.find_root())[0]
        '00_setup_and_data.ipynb'
    """
    return [p.name for p in config.course_notebooks(Path(root))]


def readme_pages(names: Iterable[str]) -> dict[str, str]:
    """Where the README's links to notebooks go in the book: ``notebooks/...`` path -> the page's source file.

    Example:
        >>> readme_pages(["00_a.ipynb", "00_a_solutions.ipynb"])
        {'notebooks/00_a.ipynb': '00_a.ipynb', 'notebooks/solutions/00_a_solutions.ipynb': '00_a_solutions.ipynb'}
    """
    return {f"notebooks/{'solutions/' if is_solution(n) else ''}{n}": n for n in names}


def readme_files(markdown: str, root: str | Path, folder: str = "") -> dict[str, str]:
    """The links of a page to files of the project that the book carries along (a CSV, a chart): link -> path.

    ``folder`` is the page's folder in the project (``""`` for the README, ``"docs"`` for a guide); each link
    maps to the file's path from ``root``. Only files inside ``root`` count, and no notebooks or pages (``.ipynb``,
    ``.md``, ``.rst``): the book copies them to the same paths, so the links keep working.

    Example:
        >>> readme_files("[csv](pyproject.toml), [no](missing.csv), [nb](notebooks/00_setup_and_data.ipynb)",
        ...              config.find_root())
        {'pyproject.toml': 'pyproject.toml'}
        >>> readme_files("[toml](../pyproject.toml)", config.find_root(), "docs")
        {'../pyproject.toml': 'pyproject.toml'}
    """
    root = Path(root).resolve()
    found = {}
    for match in _LINK.finditer(markdown):
        path = match["target"].partition("#")[0]
        if not path or re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:", path):
            continue
        file = (root / folder / path).resolve()
        if file.is_file() and file.is_relative_to(root) and file.suffix not in {".ipynb", ".md", ".rst"}:
            found[path] = file.relative_to(root).as_posix()
    return found


def book_pages(names: Iterable[str], guides: Iterable[str] = ()) -> dict[str, str]:
    """Every page of the book by its path in the project: the README, the notebooks, the guides -> source file.

    Example:
        >>> book_pages(["00_a.ipynb"], ["docs/maintainers.md"])
        {'README.md': 'index.md', 'notebooks/00_a.ipynb': '00_a.ipynb', 'docs/maintainers.md': 'docs/maintainers.md'}
    """
    return {"README.md": "index.md", **readme_pages(names), **{guide: guide for guide in guides}}


def links_from(folder: str, pages: Mapping[str, str]) -> dict[str, str]:
    """``pages`` (project path -> book path) as a page in ``folder`` links to them: link -> link in the book.

    Example:
        >>> links_from("docs", {"README.md": "index.md", "notebooks/00_a.ipynb": "00_a.ipynb"})
        {'../README.md': '../index.md', '../notebooks/00_a.ipynb': '../00_a.ipynb'}
    """
    start = folder or "."
    return {posixpath.relpath(path, start): posixpath.relpath(page, start) for path, page in pages.items()}


def rewrite_links(markdown: str, pages: Mapping[str, str]) -> str:
    """Point relative links of ``markdown`` at the book's pages; a link to a file the book lacks keeps its text only.

    Web links and in-page anchors stay as they are.

    Example:
        >>> pages = {"notebooks/00_a.ipynb": "00_a.ipynb"}
        >>> rewrite_links("[`00_a.ipynb`](notebooks/00_a.ipynb#data), [07](notebooks/07_b.ipynb), "
        ...               "[site](https://keras.io), [up](#profiles)", pages)
        '[`00_a.ipynb`](00_a.ipynb#data), 07, [site](https://keras.io), [up](#profiles)'
    """

    def replace(match: re.Match[str]) -> str:
        target = match["target"]
        if target.startswith("#") or re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:", target):
            return match[0]
        path, hash_, fragment = target.partition("#")
        if path in pages:
            return f"{match['bang']}[{match['text']}]({pages[path]}{hash_}{fragment}{match['title'] or ''})"
        return match["text"]

    return _LINK.sub(replace, markdown)


def _cell(value: Any) -> str:
    """One Markdown table cell: the text with ``|`` escaped and line breaks removed."""
    return " ".join(str(value).split()).replace("|", "\\|")


def markdown_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """``rows`` as a Markdown table with ``columns``.

    Example:
        >>> print(markdown_table([{"experiment": "model_0", "test_accuracy": "0.65"}], ["experiment", "test_accuracy"]))
        | experiment | test_accuracy |
        |---|---|
        | model_0 | 0.65 |
    """
    lines = ["| " + " | ".join(_cell(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def table_columns(header: Sequence[str]) -> list[str]:
    """The columns the Results page shows: those of the printed results table (what a learner compares) in the CSV.

    Example:
        >>> table_columns(["experiment", "notebook", "test_accuracy", "machine"])
        ['experiment', 'notebook', 'test_accuracy']
    """
    from helpers.results import TABLE_COLUMNS

    return [c for c in TABLE_COLUMNS if c in header] or list(header)


def results_page(
    rows: Sequence[Mapping[str, Any]], chart: str | None, run_name: str, csv: str | None = "results.csv"
) -> str:
    """The Results page (MyST Markdown): the run's table of experiments, a link to its whole CSV, and its chart.

    Example:
        >>> page = results_page([{"experiment": "model_0", "notebook": "02"}], "results.png", "20261125-101500")
        >>> "| model_0 | 02 |" in page, "![Test accuracy of every experiment](results.png)" in page
        (True, True)
        >>> "No experiment" in results_page([], None, "x")
        True
    """
    lines = ["# Results", ""]
    if not rows:
        lines.append(f"No experiment recorded a result in run `{run_name}` (its `results.csv` is missing or empty).")
        return "\n".join(lines) + "\n"
    lines += [
        f"Every experiment recorded in run `{run_name}`, the latest row of each, by notebook: accuracy on the fixed "
        "validation set at the end of training, then accuracy and loss on the full test set, evaluated once.",
        "",
        "```{table}",
        ":class: course-results",
        "",
        markdown_table(rows, table_columns(list(rows[0]))),
        "```",
        "",
    ]
    if csv:
        lines += [f"Every column (validation loss, seconds per epoch, machine, versions): [`results.csv`]({csv}).", ""]
    if chart:
        lines += [f"![Test accuracy of every experiment]({chart})", ""]
    return "\n".join(lines)


def toctree(caption: str, docs: Sequence[str]) -> str:
    """A hidden MyST toctree: one section of the navigation sidebar.

    Example:
        >>> print(toctree("Lessons", ["00_a", "02_b"]))
        ```{toctree}
        :hidden:
        :caption: Lessons
        <BLANKLINE>
        00_a
        02_b
        ```
    """
    return "\n".join(["```{toctree}", ":hidden:", f":caption: {caption}", "", *docs, "```"])


def home_page(
    readme: str,
    lessons: Sequence[str],
    solutions: Sequence[str],
    run_name: str,
    files: Mapping[str, str] | None = None,
    guides: Sequence[str] = (),
) -> str:
    """The home page (MyST Markdown): the README with its links rewritten, a note naming the run, the navigation.

    ``files`` are the README's links to other files that the book carries (:func:`readme_files`); ``guides``
    the guide pages it carries (paths such as ``docs/maintainers.md``), listed last in the navigation.

    Example:
        >>> page = home_page("# Course\\n\\nSee [00](notebooks/00_a.ipynb).\\n", ["00_a.ipynb"], [], "20261125-101500")
        >>> page.splitlines()[:3]
        ['# Course', '', 'See [00](00_a.ipynb).']
        >>> "20261125-101500" in page, ":caption: Lessons" in page, "Solutions" in page
        (True, True, False)
    """
    names = [*lessons, *solutions]
    body = rewrite_links(readme, {**{link: link for link in files or {}}, **links_from("", book_pages(names, guides))})
    body = body.rstrip()
    note = (
        f"```{{note}}\nThis book shows run `{run_name}`: every notebook with the outputs it had when it ran, "
        f"and the [results]({RESULTS_PAGE}.md) of its experiments. Nothing was re-run to build it.\n```"
    )
    parts = [body, "", note, "", toctree("Lessons", [Path(n).stem for n in lessons])]
    if solutions:
        parts += ["", toctree("Solutions", [Path(n).stem for n in solutions])]
    parts += ["", toctree("Results", [RESULTS_PAGE])]
    if guides:
        parts += ["", toctree("Guides", [guide.removesuffix(".md") for guide in guides])]
    return "\n".join([*parts, ""])


def guide_page(markdown: str, path: str, pages: Mapping[str, str], files: Mapping[str, str] | None = None) -> str:
    """A guide (``docs/....md``, ``CONTRIBUTING.md``) for the book: its links pointed at the book's pages.

    ``path`` is the guide's path in the project, ``pages`` every page of the book (:func:`book_pages`) and
    ``files`` the guide's links to files the book carries (:func:`readme_files`).

    Example:
        >>> pages = book_pages(["00_a.ipynb"], ["docs/guide.md", "CONTRIBUTING.md"])
        >>> guide_page("[home](../README.md#start-here), [00](../notebooks/00_a.ipynb), [us](../CONTRIBUTING.md), "
        ...            "[me](#top), [07](../notebooks/07_b.ipynb)", "docs/guide.md", pages)
        '[home](../index.md#start-here), [00](../00_a.ipynb), [us](../CONTRIBUTING.md), [me](#top), 07'
    """
    folder = posixpath.dirname(path)
    return rewrite_links(markdown, {**{link: link for link in files or {}}, **links_from(folder, pages)})


def run_key(name: str) -> tuple[str, int] | None:
    """Sort key of a run folder name ``YYYYmmdd-HHMMSS[-n]``; ``None`` for any other name.

    Example:
        >>> run_key("20261125-101500-2"), run_key("tensorboard")
        (('20261125-101500', 2), None)
    """
    match = _RUN_NAME.fullmatch(name)
    return (match[1], int(match[2] or 0)) if match else None


def latest_run(runs_dir: str | Path) -> Path:
    """The newest run folder under ``runs_dir`` that holds executed notebooks.

    Raises ``FileNotFoundError`` saying to run ``make run`` first when there is none.

    Example:
        >>> latest_run("runs")  # doctest: +SKIP
        PosixPath('runs/20261125-101500')
    """
    runs_dir = Path(runs_dir)
    runs = [
        p
        for p in (runs_dir.iterdir() if runs_dir.is_dir() else [])
        if p.is_dir() and run_key(p.name) and any(p.glob(NOTEBOOK_GLOB))
    ]
    if not runs:
        raise FileNotFoundError(
            f"No run folder with executed notebooks under {runs_dir}. Run `make run` (or `make smoke`) first, "
            "or name the run folder: python -m tools.book build RUN_DIR."
        )
    return max(runs, key=lambda p: run_key(p.name) or ("", 0))


def _readme_title(readme: str) -> str:
    """The first ``#`` heading of the README (the book's title)."""
    return next((line[2:].strip() for line in readme.splitlines() if line.startswith("# ")), "Course book")


def stage(run_dir: str | Path, source: str | Path, root: str | Path | None = None) -> list[str]:
    """Write the book's Sphinx sources for ``run_dir`` into ``source``; return the page names in navigation order.

    Example:
        >>> stage("runs/20261125-101500", "/tmp/book-src")  # doctest: +SKIP
        ['index', '00_setup_and_data', ..., 'results']
    """
    from helpers.results import load_results, plot_results

    run_dir, source = Path(run_dir), Path(source)
    root = Path(root) if root else config.find_root()
    names = [p.name for p in run_dir.glob(NOTEBOOK_GLOB)]
    if not names:
        raise FileNotFoundError(f"No executed notebooks ({NOTEBOOK_GLOB}) in {run_dir}. Run `make run` first.")
    lessons, solutions = course_order(names, course_names(root))
    source.mkdir(parents=True, exist_ok=True)
    for name in (*lessons, *solutions):
        notebook = json.loads((run_dir / name).read_text(encoding="utf-8"))
        shown = exercise_stops_shown_short(without_tf_logs(notebook))
        (source / name).write_text(json.dumps(shown), encoding="utf-8")

    readme = (root / "README.md").read_text(encoding="utf-8")
    guides = [guide for guide in GUIDES if (root / guide).is_file()]
    pages = book_pages([*lessons, *solutions], guides)
    texts = {path: (root / path).read_text(encoding="utf-8") for path in ["README.md", *guides]}
    files = {path: readme_files(text, root, posixpath.dirname(path)) for path, text in texts.items()}
    for path in {file for links in files.values() for file in links.values()}:
        (source / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / path, source / path)
    home = home_page(readme, lessons, solutions, run_dir.name, files["README.md"], guides)
    (source / "index.md").write_text(home, encoding="utf-8")
    for guide in guides:
        (source / guide).parent.mkdir(parents=True, exist_ok=True)
        (source / guide).write_text(guide_page(texts[guide], guide, pages, files[guide]), encoding="utf-8")
    (source / "_static").mkdir(exist_ok=True)
    (source / "_static" / "book.css").write_text(CSS, encoding="utf-8")
    rows = sorted(load_results(run_dir / "results.csv"), key=lambda r: r["notebook"])
    chart = None
    if (run_dir / "results.png").exists():
        chart = "results.png"
        shutil.copyfile(run_dir / "results.png", source / chart)
    elif rows:  # a run folder without its summary: draw the chart from the table (nothing is executed)
        import matplotlib

        matplotlib.use("Agg")
        chart = "results.png"
        plot_results(run_dir / "results.csv").savefig(source / chart, dpi=100, bbox_inches="tight")
    csv = None
    if rows:
        csv = "results.csv"
        shutil.copyfile(run_dir / "results.csv", source / csv)
    (source / f"{RESULTS_PAGE}.md").write_text(results_page(rows, chart, run_dir.name, csv), encoding="utf-8")

    conf = {"project": _readme_title(readme), "html_title": _readme_title(readme), **SPHINX_CONF}
    conf["exclude_patterns"] = ["_build", "_doctrees", "**.ipynb_checkpoints"]
    (source / "conf.py").write_text("".join(f"{k} = {v!r}\n" for k, v in conf.items()), encoding="utf-8")
    return ["index", *(Path(n).stem for n in (*lessons, *solutions)), RESULTS_PAGE, *(g[:-3] for g in guides)]


def build(run_dir: str | Path, out: str | Path | None = None, root: str | Path | None = None) -> Path:
    """Build the book of ``run_dir`` into ``out`` (default ``RUN_DIR/book``, replaced) and return its ``index.html``.

    Sphinx runs in a child process; its warnings are printed and kept in ``OUT/_warnings.txt``.

    Example:
        >>> build("runs/20261125-101500")  # doctest: +SKIP
        PosixPath('runs/20261125-101500/book/index.html')
    """
    run_dir = Path(run_dir).resolve()
    out = Path(out).resolve() if out else run_dir / BOOK_DIR
    with tempfile.TemporaryDirectory(prefix="course-book-") as tmp:
        source = Path(tmp) / "source"
        stage(run_dir, source, root)
        if out.exists():
            shutil.rmtree(out)
        warnings = Path(tmp) / "warnings.txt"
        command = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-d", str(Path(tmp) / "_doctrees")]
        command += ["-w", str(warnings), str(source), str(out)]
        done = subprocess.run(command, check=False)
        if out.is_dir() and warnings.exists() and warnings.read_text().strip():
            shutil.copyfile(warnings, out / "_warnings.txt")
    if done.returncode != 0 or not (out / "index.html").exists():
        raise RuntimeError(f"Sphinx could not build the book of {run_dir} (exit code {done.returncode}).")
    return out / "index.html"


def make_server(directory: str | Path, port: int = 8000) -> Any:
    """An HTTP server for the files of ``directory`` on 127.0.0.1 (``port=0`` picks a free port).

    Call ``serve_forever()`` on it (in a thread for tests); ``server_address[1]`` is the port.

    Example:
        >>> server = make_server(".", 0)
        >>> server.server_address[0]
        '127.0.0.1'
        >>> server.server_close()
    """
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", port), partial(Quiet, directory=str(directory)))


def serve(run_dir: str | Path, port: int = 8000) -> None:
    """Serve ``RUN_DIR/book`` on http://127.0.0.1:PORT/ until Ctrl+C, building it first if it is missing.

    Example:
        >>> serve("runs/20261125-101500", 8000)  # doctest: +SKIP
    """
    book = Path(run_dir) / BOOK_DIR
    if not (book / "index.html").exists():
        print(f"Building the book first: {build(run_dir)}")
    server = make_server(book, port)
    print(f"The course book of {Path(run_dir).name}: http://127.0.0.1:{server.server_address[1]}/ (Ctrl+C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def main(argv: list[str] | None = None) -> int:
    """``build [RUN_DIR]`` or ``serve [RUN_DIR] [--port N]``; RUN_DIR defaults to the newest run folder."""
    parser = argparse.ArgumentParser(prog="python -m tools.book", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (("build", "build RUN_DIR/book"), ("serve", "serve RUN_DIR/book on 127.0.0.1")):
        command = sub.add_parser(name, help=text)
        command.add_argument("run_dir", nargs="?", default=None, help="a run folder (default: the newest one)")
        if name == "serve":
            command.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (default 8000)")
    args = parser.parse_args(argv)
    try:
        run_dir = Path(args.run_dir) if args.run_dir else latest_run(config.load_profile().runs_dir)
    except FileNotFoundError as err:
        print(err, file=sys.stderr)
        return 2
    if not run_dir.is_dir():
        print(f"{run_dir} is not a folder. Run `make run` first, or name a run folder.", file=sys.stderr)
        return 2
    try:
        if args.command == "serve":
            serve(run_dir, args.port)
            return 0
        index = build(run_dir)
    except (FileNotFoundError, RuntimeError) as err:
        print(err, file=sys.stderr)
        return 1
    print(f"The course book of {run_dir.name}: {index}\nServe it with: make book-serve (or open the file).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
