"""``make book``: the course book's pure parts, then the built book in a real browser.

The browser tests execute a few notebooks in the smoke profile into a temporary run folder, write the
results summary, build the book and open it in headless Debian Chromium driven by Playwright: the home
page, then every page through the navigation sidebar. Each page must show its notebook's sections, every
image loaded, no Python traceback, and the Results page the results table. A screenshot of each page
goes to ``<run>/book/screenshots/``.
"""

from __future__ import annotations

import json
import os
import re
import threading
import types
from pathlib import Path

import pytest

from helpers import results
from helpers.config import find_root
from tests.conftest import SHARED
from tools import book, runner
from tools.runner import course_notebooks

ROOT = find_root()
COURSE = [p.name for p in course_notebooks(ROOT)]
#: Debian's Chromium (`apt-get install chromium`; `.ci/run` installs it). Playwright never downloads a browser here.
CHROMIUM = Path(os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: The notebooks the browser test executes: quick in the smoke profile; 02 records a result, 07 trains nothing.
BOOK_NOTEBOOKS = ("00_", "02_", "07_")
TRACEBACK = "Traceback (most recent call last)"


# ---------------------------------------------------------------- the pure parts, no browser


def test_course_order_is_the_runners():
    assert book.course_names(ROOT) == COURSE


def test_readme_links_point_at_the_books_pages():
    readme = (ROOT / "README.md").read_text()
    page = book.rewrite_links(readme, book.readme_pages(COURSE))
    assert "](notebooks/" not in page, "every link to a notebook points at its page"
    for name in COURSE:
        assert f"]({name})" in page, f"the README's link to {name} is not rewritten to its page"


def test_readme_links_to_notebooks_not_in_the_run_keep_their_text():
    readme = (ROOT / "README.md").read_text()
    home = book.home_page(readme, ["00_setup_and_data.ipynb"], [], "20261125-101500")
    assert "[`00_setup_and_data.ipynb`](00_setup_and_data.ipynb)" in home
    assert "04_fine_tuning.ipynb" in home and "(04_fine_tuning.ipynb)" not in home
    assert not re.search(r"\]\(notebooks/", home), "no link points into notebooks/"


def test_the_guides_links_point_at_the_books_pages():
    """docs/*.md and CONTRIBUTING.md link to each other, the README and the notebooks: in the book too."""
    guides = [g for g in book.GUIDES if (ROOT / g).exists()]
    assert "docs/maintainers.md" in guides and "CONTRIBUTING.md" in guides
    pages = book.book_pages(COURSE, guides)
    for guide in guides:
        page = book.guide_page((ROOT / guide).read_text(), guide, pages)
        assert not re.search(r"\]\((\.\./)?(README\.md|notebooks/)", page), f"{guide} still links into the repository"
    maintainers = book.guide_page((ROOT / "docs/maintainers.md").read_text(), "docs/maintainers.md", pages)
    assert "](../index.md#results)" in maintainers and "](../CONTRIBUTING.md)" in maintainers
    assert "](offline-and-scale.md#performance)" in maintainers
    home = book.home_page((ROOT / "README.md").read_text(), COURSE, [], "run", guides=guides)
    for guide in guides:
        assert f"]({guide}" in home, f"the README's link to {guide} is kept"
    assert re.findall(r":caption: (\w+)", home)[-1] == "Guides"


def test_navigation_is_lessons_then_solutions_in_course_order():
    shuffled = sorted(COURSE, key=lambda name: name[::-1])
    lessons, solutions = book.course_order(shuffled, COURSE)
    assert lessons + solutions == COURSE
    assert lessons[0] == "00_setup_and_data.ipynb" and all(book.is_solution(n) for n in solutions)
    home = book.home_page("# Course\n", lessons, solutions, "run")
    captions = re.findall(r":caption: (\w+)", home)
    assert captions == ["Lessons", "Solutions", "Results"]
    listed = re.findall(r"^(\d\d_\w+)$", home, flags=re.M)
    assert listed == [Path(n).stem for n in COURSE]


def _record(path: Path, experiment: str, notebook: str, accuracy: float) -> None:
    history = types.SimpleNamespace(epoch=[0, 1], history={"val_accuracy": [0.5, 0.6], "val_loss": [1.0, 0.9]})
    model = types.SimpleNamespace(name="mobilenet_v2_035")
    results.record(
        experiment,
        model,
        history,
        {"accuracy": accuracy, "loss": 1.1},
        notebook=notebook,
        train_images=75,
        seconds=3.2,
        path=path,
    )


def test_results_page_has_the_table_and_chart(tmp_path):
    csv = tmp_path / "results.csv"
    _record(csv, "model_1|aug", "03", 0.41)
    _record(csv, "model_0", "02", 0.5)
    _record(csv, "model_0", "02", 0.65)  # a rerun: the latest row counts
    rows = sorted(results.load_results(csv), key=lambda r: r["notebook"])
    page = book.results_page(rows, "results.png", "20261125-101500")
    table = [line for line in page.splitlines() if line.startswith("|")]
    assert table[0] == "| " + " | ".join(results.TABLE_COLUMNS) + " |", "the columns a learner compares"
    assert len(table) == 2 + 2, "header, rule and one row per experiment"
    assert table[2].startswith("| model_0 | 02 |") and "| 0.65 |" in table[2]
    assert "model_1\\|aug" in table[3], "a | in a cell is escaped"
    assert "![Test accuracy of every experiment](results.png)" in page
    assert "[`results.csv`](results.csv)" in page, "every column is a download away"


def _tiny_run(folder: Path) -> Path:
    import nbformat

    run = folder / "20261125-101500"
    run.mkdir(parents=True)
    for name in ("02_functional_api_model_0.ipynb", "00_setup_and_data_solutions.ipynb", "00_setup_and_data.ipynb"):
        cells = [nbformat.v4.new_markdown_cell(f"# {name}"), nbformat.v4.new_markdown_cell("## Part one")]
        nbformat.write(nbformat.v4.new_notebook(cells=cells), run / name)
    _record(run / "results.csv", "model_0", "02", 0.5)
    return run


def test_stage_writes_home_notebooks_results_and_a_no_execution_conf(tmp_path):
    run = _tiny_run(tmp_path / "runs")
    source = tmp_path / "source"
    pages = book.stage(run, source, ROOT)
    assert pages == [
        "index",
        "00_setup_and_data",
        "02_functional_api_model_0",
        "00_setup_and_data_solutions",
        "results",
        *(guide.removesuffix(".md") for guide in book.GUIDES),
    ]
    for page in pages:
        assert any(source.glob(f"{page}.*")), page
    assert (source / "results.png").exists(), "the chart is drawn from results.csv when the run has none"
    conf: dict = {}
    exec((source / "conf.py").read_text(), conf)  # noqa: S102 (our own generated file)
    assert conf["nb_execution_mode"] == "off", "the book never executes a notebook"
    assert conf["project"] == "Transfer learning with TensorFlow and Keras 3"


def test_build_writes_a_site_with_pages_search_and_the_readmes_files(tmp_path):
    root = tmp_path / "course"
    (root / "results").mkdir(parents=True)
    (root / "results" / "reference.csv").write_text("experiment,test_accuracy\nmodel_0,0.65\n")
    (root / "README.md").write_text(
        "# A course\n\n## Notebooks\n\n- [00](notebooks/00_setup_and_data.ipynb)\n"
        "- [02](notebooks/02_functional_api_model_0.ipynb#part-one)\n- [04](notebooks/04_fine_tuning.ipynb)\n"
        "- [the reference table](results/reference.csv)\n- [Profiles](#notebooks)\n"
        "- [maintainers](docs/maintainers.md#tests)\n"
    )
    (root / "docs").mkdir()
    (root / "docs" / "maintainers.md").write_text(
        "# Maintainers\n\n## Tests\n\nSee [home](../README.md#notebooks), [00](../notebooks/00_setup_and_data.ipynb),"
        " [the table](../results/reference.csv), [contributing](../CONTRIBUTING.md#rules) and [up](#tests).\n"
    )
    (root / "CONTRIBUTING.md").write_text("# Contributing\n\n## Rules\n\n[Tests](docs/maintainers.md#tests).\n")
    run = _tiny_run(tmp_path / "runs")
    index = book.build(run, root=root)
    assert index == run / "book" / "index.html"
    home = index.read_text()
    assert 'href="00_setup_and_data.html"' in home and 'href="02_functional_api_model_0.html#part-one"' in home
    assert "04_fine_tuning" not in home, "a notebook the run lacks is not linked"
    download = re.search(r'href="(_downloads/[^"]+/reference.csv)"', home)
    assert download and (index.parent / download[1]).read_text().startswith("experiment"), (
        "the README's CSV comes along"
    )
    assert re.search(r'<table class="[^"]*course-results', (index.parent / "results.html").read_text())
    for page in ("00_setup_and_data_solutions.html", "search.html", "searchindex.js"):
        assert (index.parent / page).exists(), page
    assert 'href="docs/maintainers.html#tests"' in home
    guide = (index.parent / "docs" / "maintainers.html").read_text()
    for href in ("../index.html#notebooks", "../00_setup_and_data.html", "../CONTRIBUTING.html#rules", "#tests"):
        assert f'href="{href}"' in guide, f"the guide's link {href}"
    assert re.search(r'href="\.\./_downloads/[^"]+/reference.csv"', guide), "the guide's CSV comes along"
    assert 'href="docs/maintainers.html#tests"' in (index.parent / "CONTRIBUTING.html").read_text()
    assert not (index.parent / "_warnings.txt").exists(), (index.parent / "_warnings.txt").read_text()


def test_latest_run_is_the_newest_folder_with_notebooks(tmp_path):
    with pytest.raises(FileNotFoundError, match="make run"):
        book.latest_run(tmp_path)
    older = _tiny_run(tmp_path)
    (tmp_path / "20261126-090000").mkdir()  # newer, but no notebooks (make slides makes such folders)
    (tmp_path / "tensorboard").mkdir()
    assert book.latest_run(tmp_path) == older
    newer = tmp_path / "20261125-101500-1"
    newer.mkdir()
    (newer / "00_setup_and_data.ipynb").write_text((older / "00_setup_and_data.ipynb").read_text())
    assert book.latest_run(tmp_path) == newer


def test_cli_without_a_run_says_to_run_make_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_RUN_DIR", str(tmp_path / "no-runs"))
    assert book.main(["build"]) == 2
    assert "make run" in capsys.readouterr().err


# ---------------------------------------------------------------- the built book in a real browser


@pytest.fixture(scope="session")
def executed_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run folder made fast and offline: 00, 02 and 07 executed in the smoke profile, its summary, its book.

    ``COURSE_BOOK_RUN=runs/<timestamp>`` tests the book of that run instead (rebuilt into its ``book/``).
    """
    if os.environ.get("COURSE_BOOK_RUN"):
        run = Path(os.environ["COURSE_BOOK_RUN"]).resolve()
        book.build(run)
        return run
    if not (SHARED / "weights" / "keras" / "models").is_dir() and os.environ.get("COURSE_ALLOW_DOWNLOADS") != "1":
        pytest.skip("executing notebooks needs ../shared/weights (offline) or COURSE_ALLOW_DOWNLOADS=1")
    run = tmp_path_factory.mktemp("runs") / "20261125-101500"
    run.mkdir()
    with pytest.MonkeyPatch.context() as env:  # what `make run` gives each kernel; restored for the other tests
        env.setenv("COURSE_SMOKE", "1")
        env.setenv("COURSE_RUN_DIR", str(run))
        env.setenv("COURSE_IMAGES_DIR", str(run / "images"))
        for notebook in course_notebooks(ROOT):
            if notebook.name.startswith(BOOK_NOTEBOOKS) and not book.is_solution(notebook.name):
                runner.execute(notebook, run)
    assert results.main(["summary", str(run)]) == 0
    book.build(run)
    return run


@pytest.fixture(scope="session")
def book_url(executed_run: Path):
    """The built book served on 127.0.0.1 by a thread."""
    server = book.make_server(executed_run / book.BOOK_DIR, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")  # closed after this file: one sync Playwright at a time (test_slides.py has its own)
def browser():
    """Headless Debian Chromium, driven by Playwright."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is missing: make installs it")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, book_url: str):
    """A browser tab that may load only the served book; whatever else it asks for is listed in ``page.problems``."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    tab.problems = []

    def route(request_route):
        url = request_route.request.url
        if url.startswith(book_url) or url.startswith("data:"):
            request_route.continue_()
        else:
            tab.problems.append(f"the book loads something from elsewhere: {url}")
            request_route.abort()

    context.route("**/*", route)
    tab.on("pageerror", lambda error: tab.problems.append(f"JavaScript error on {tab.url}: {error}"))

    def response(answer):
        if answer.status >= 400 and not answer.url.endswith("favicon.ico"):
            tab.problems.append(f"{answer.status} for {answer.url} (from {tab.url})")

    tab.on("response", response)
    yield tab
    context.close()


def _plain(markdown: str) -> str:
    """A Markdown heading's text as a browser shows it: no backticks, emphasis or link targets."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    text = re.sub(r"`([^`]*)`", r"\1", text)
    text = re.sub(r"(\*\*|__|\*)(.+?)\1", r"\2", text)
    return " ".join(text.split())


def _notebook_facts(path: Path) -> dict:
    """What the page of an executed notebook must show: its title, its ## sections, its figures."""
    nb = json.loads(path.read_text())
    lines = [line for c in nb["cells"] if c["cell_type"] == "markdown" for line in "".join(c["source"]).splitlines()]
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    return {
        "title": _plain(next(line[2:] for line in lines if line.startswith("# "))),
        "sections": [_plain(line[3:]) for line in lines if line.startswith("## ")],
        "figures": sum(1 for o in outputs if {"image/png", "image/jpeg", "image/svg+xml"} & set(o.get("data", {}))),
        "outputs": len(outputs),
    }


_BROKEN_IMAGES = """async () => {
    const images = Array.from(document.images);
    await Promise.all(images.map(i => { i.loading = "eager"; return i.decode().catch(() => null); }));
    return images.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.getAttribute("src"));
}"""


def _shot(name: str) -> str:
    """A page's screenshot name: ``docs/maintainers`` -> ``docs-maintainers``."""
    return name.replace("/", "-")


def _guide_facts(path: Path) -> dict:
    """What the page of a guide must show: its title and its ## sections."""
    lines = re.sub(r"^```.*?^```", "", path.read_text(), flags=re.M | re.S).splitlines()
    return {
        "title": _plain(next(line[2:] for line in lines if line.startswith("# "))),
        "sections": [_plain(line[3:]) for line in lines if line.startswith("## ")],
    }


_RELATIVE_LINKS = """() => Array.from(document.querySelectorAll("article a[href]"))
    .map(a => a.getAttribute("href")).filter(h => !/^[a-z][a-z0-9+.-]*:/i.test(h) && !h.startsWith("#"))
    .map(h => new URL(h, document.baseURI).href)"""


def _check_links(tab, problems: list[str], name: str) -> None:
    """Every relative link of a page's text answers, and an #anchor names an element of the page it opens."""
    for url in sorted(set(tab.evaluate(_RELATIVE_LINKS))):
        target, _, anchor = url.partition("#")
        answer = tab.request.get(target)
        if not answer.ok:
            problems.append(f"{name}: link to {url} answers {answer.status}")
        elif anchor and f'id="{anchor}"' not in answer.text():
            problems.append(f"{name}: link to {url}: no #{anchor} there")


def _check_page(tab, problems: list[str], name: str, screenshots: Path) -> None:
    """The checks every page gets: images loaded, no traceback; then a screenshot."""
    tab.wait_for_load_state("load")
    broken = tab.evaluate(_BROKEN_IMAGES)
    problems += [f"{name}: broken image {src}" for src in broken]
    text = tab.locator("article").inner_text()
    if TRACEBACK in text or tab.locator("article .output.traceback").count():
        problems.append(f"{name}: a Python traceback in an output")
    screenshots.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(screenshots / f"{_shot(name)}.png"))


def test_the_book_in_a_browser(page, book_url: str, executed_run: Path):
    """Home page, then every page through the sidebar in course order: sections, images, no traceback, results.

    The home page and the guides also get every relative link of their text followed.
    """
    screenshots = executed_run / book.BOOK_DIR / "screenshots"
    problems: list[str] = page.problems
    lessons, solutions = book.course_order([p.name for p in executed_run.glob(book.NOTEBOOK_GLOB)], COURSE)
    guides = [guide.removesuffix(".md") for guide in book.GUIDES if (ROOT / guide).exists()]
    expected = [Path(n).stem for n in (*lessons, *solutions)] + [book.RESULTS_PAGE, *guides]

    page.goto(book_url)
    assert page.locator("h1").first.inner_text().startswith("Transfer learning with TensorFlow and Keras 3")
    assert page.locator("h2", has_text="What you will learn").count() == 1, "the README is the home page"
    lesson_link = page.locator("article a[href='00_setup_and_data.html']")
    assert lesson_link.count() >= 1, "the README's link to notebook 00 points at its page"
    _check_links(page, problems, "index")
    _check_page(page, problems, "index", screenshots)

    sidebar = page.locator(".sidebar-tree a.reference")
    hrefs = [href.split("#")[0] for href in sidebar.evaluate_all("links => links.map(a => a.getAttribute('href'))")]
    assert hrefs == [f"{name}.html" for name in expected], "the navigation lists every page in course order"
    captions = page.locator(".sidebar-tree .caption").all_inner_texts()
    want = ["lessons", *(["solutions"] if solutions else []), "results", *(["guides"] if guides else [])]
    assert [c.strip().lower() for c in captions] == want, "the sidebar's sections"

    for name in expected:
        # from a page in docs/ the sidebar's links start with ../
        page.locator(f".sidebar-tree a.reference[href$='{Path(name).name}.html']").first.click()
        page.wait_for_url(f"**/{name}.html")
        headings = [" ".join(h.replace("#", "").split()) for h in page.locator("article h2").all_inner_texts()]
        if name == book.RESULTS_PAGE:
            assert page.locator("h1").first.inner_text().startswith("Results")
            rows = results.load_results(executed_run / "results.csv")
            table = page.locator("article table")
            assert table.count() == 1, "the Results page shows the results table"
            header = [h.strip() for h in table.locator("thead th").all_inner_texts()]
            assert header == book.table_columns(list(rows[0]))
            body = table.locator("tbody tr").all_inner_texts()
            assert len(body) == len(rows) >= 1 and "model_0" in " ".join(body)
            assert page.locator("article img[alt='Test accuracy of every experiment']").count() == 1
            csv_link = page.locator("article a", has_text="results.csv").first.get_attribute("href")
            assert page.request.get(f"{book_url}{csv_link}").text().startswith("experiment,"), "the whole CSV"
        elif name in guides:
            facts = _guide_facts(ROOT / f"{name}.md")
            assert page.locator("h1").first.inner_text().replace("#", "").strip() == facts["title"]
            missing = [s for s in facts["sections"] if s not in headings]
            assert not missing, f"{name}: sections missing from the page: {missing}"
            _check_links(page, problems, name)
        else:
            facts = _notebook_facts(executed_run / f"{name}.ipynb")
            assert page.locator("h1").first.inner_text().replace("#", "").strip() == facts["title"]
            missing = [s for s in facts["sections"] if s not in headings]
            assert not missing, f"{name}: sections missing from the page: {missing}"
            if facts["outputs"]:
                assert page.locator("article .cell_output").count() >= 1, f"{name}: its outputs are not shown"
            images = page.locator("article .cell_output img").count()
            assert images >= facts["figures"], f"{name}: {facts['figures']} figures in the notebook, {images} shown"
        _check_page(page, problems, name, screenshots)

    assert not problems, "\n".join(problems)
    assert sorted(p.stem for p in screenshots.glob("*.png")) == sorted(_shot(n) for n in ["index", *expected])


def test_the_books_search_finds_a_notebook(page, book_url: str):
    page.goto(f"{book_url}search.html?q=Functional")
    results_list = page.locator("#search-results li a")
    results_list.first.wait_for()
    hrefs = results_list.evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert any(href.startswith("02_functional_api_model_0.html") for href in hrefs), hrefs
    assert not page.problems, "\n".join(page.problems)
