"""``make slides``: a run's executed notebooks as reveal.js decks that work without internet.

Every ``##`` section of a notebook becomes a slide, long stretches become sub-slides. The browser test builds
the deck of a tiny executed notebook (a title, a section, a code cell with a printed line and a matplotlib
figure, a long training log) and opens it from ``file://`` in headless Debian Chromium driven by Playwright, with
every request that is not a local file refused: reveal.js must start, show slides (not one long page) and the
figure on its slide. A screenshot of that slide is left next to the deck (``02_tiny_lesson.slides.png``).
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from helpers.config import find_root
from tools import slides

NOTEBOOK = find_root() / "notebooks" / "02_functional_api_model_0.ipynb"
#: Debian's Chromium (`apt-get install chromium`; `.ci/run` installs it). Playwright never downloads a browser here.
CHROMIUM = Path(os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
CHROMIUM_FLAGS += ["--disable-background-networking", "--disable-component-update", "--disable-sync"]
RUN_NAME = "20261125-101500"
PRINTED = "test accuracy: 0.650"
#: Lines of the training log in the tiny notebook: more than a slide holds.
EPOCHS = 60


class _Sections(HTMLParser):
    """Counts reveal.js slides (top-level <section>) and sub-slides (<section> inside one) and their headings."""

    def __init__(self) -> None:
        super().__init__()
        self.depth, self.slides, self.subslides, self.headings, self._in_h2 = 0, 0, 0, [], False

    def handle_starttag(self, tag, attrs):
        if tag == "section":
            self.depth += 1
            if self.depth == 1:
                self.slides += 1
            elif self.depth == 2:
                self.subslides += 1
        self._in_h2 = tag in ("h1", "h2")

    def handle_endtag(self, tag):
        if tag == "section":
            self.depth -= 1
        if tag in ("h1", "h2"):
            self._in_h2 = False

    def handle_data(self, data):
        if self._in_h2 and data.strip():
            self.headings.append(data.strip())


def test_every_section_becomes_a_slide(tmp_path):
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    sections = [
        "".join(c["source"]).splitlines()[0].lstrip("# ").strip()
        for c in cells
        if c["cell_type"] == "markdown" and "".join(c["source"]).lstrip().startswith(("# ", "## "))
    ]
    html = slides.build_slides(NOTEBOOK, tmp_path).read_text()
    parsed = _Sections()
    parsed.feed(html)
    assert parsed.slides == len(sections) >= 5
    assert parsed.subslides > parsed.slides, "long sections are split into sub-slides"
    for title in sections:
        start = title.split("`")[0][:20].strip()
        assert any(start in heading for heading in parsed.headings), f"no slide for {title!r}"
    stored = json.loads(NOTEBOOK.read_text())["cells"]
    assert all("slideshow" not in c.get("metadata", {}) for c in stored), "the stored notebook is never tagged"


def test_slide_types_split_long_stretches():
    long_cell = {"cell_type": "code", "source": "x = 1\n" * 15}
    section = {"cell_type": "markdown", "source": "## A"}
    cells = [section, long_cell, long_cell, {**section, "source": "## B"}]
    assert slides.slide_types(cells) == ["slide", "-", "subslide", "slide"]


def test_outputs_take_room_on_a_slide():
    section = {"cell_type": "markdown", "source": "## A"}
    short = {"cell_type": "code", "source": "fit()"}
    log = {"output_type": "stream", "name": "stdout", "text": "epoch\n" * 15}
    assert slides.slide_types([section, short, short]) == ["slide", "-", "-"]
    training = {**short, "outputs": [log]}
    assert slides.slide_types([section, training, training]) == ["slide", "-", "subslide"]


# ---------------------------------------------------------------- a tiny executed run


def _figure_png() -> str:
    """A real matplotlib figure as a notebook stores it (base64 PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(4, 3), dpi=80)
    axes.plot([1, 2, 3], [0.4, 0.55, 0.65])
    axes.set_title("Validation accuracy")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode()


def _executed_run(folder: Path) -> Path:
    """A run folder as ``make run`` leaves it, with one executed notebook: a title, a figure, a long log."""
    import nbformat

    v4 = nbformat.v4
    code = v4.new_code_cell("print(f'test accuracy: {0.65:.3f}')\nplt.plot(history)", execution_count=3)
    code.outputs = [
        v4.new_output("stream", name="stdout", text=PRINTED + "\n"),
        v4.new_output("stream", name="stderr", text="I0000 00:00:1.0 1 port.cc:153] oneDNN custom operations\n"),
        v4.new_output("display_data", data={"image/png": _figure_png(), "text/plain": "<Figure with 1 Axes>"}),
    ]
    log = "".join(f"Epoch {i}/{EPOCHS} - accuracy: 0.{i:02d}\n" for i in range(1, EPOCHS + 1))
    training = v4.new_code_cell("model.fit(train, epochs=EPOCHS)", execution_count=4)
    training.outputs = [v4.new_output("stream", name="stdout", text=log)]
    cells = [v4.new_markdown_cell("# 02 · A tiny lesson\n\nWhat it is about."), v4.new_markdown_cell("## Results")]
    cells += [code, v4.new_markdown_cell("## Training"), training]
    run = folder / RUN_NAME
    run.mkdir(parents=True)
    nbformat.write(v4.new_notebook(cells=cells), run / "02_tiny_lesson.ipynb")
    return run


@pytest.fixture(scope="module")
def deck(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The slides of the tiny run, built by the command line from the newest run folder."""
    runs = tmp_path_factory.mktemp("runs")
    run = _executed_run(runs)
    (runs / "20261126-090000").mkdir()  # newer, but nothing executed in it
    with pytest.MonkeyPatch.context() as env:
        env.setenv("COURSE_RUN_DIR", str(runs))
        assert slides.main([]) == 0
    return run / slides.SLIDES_DIR / "02_tiny_lesson.slides.html"


def test_the_deck_shows_the_runs_outputs_and_loads_nothing_remote(deck: Path):
    html = deck.read_text()
    assert PRINTED in html and "In\u00a0[3]:" in html, "the run's outputs and execution counts are on the slides"
    assert re.search(r'<img[^>]+src="data:image/png;base64,', html), "the figure is in the deck"
    assert "port.cc" not in html, "TensorFlow's start-up logging is left out"
    loaded = re.findall(r'<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)="([^"]*)"', html)
    loaded += re.findall(r"\bimport\b[^;\n]*\bfrom\s+['\"]([^'\"]+)", html)
    loaded += re.findall(r"@import\s+(?:url\()?['\"]?([^'\")\s;]+)", html)
    remote = [url for url in loaded if re.match(r"(https?:)?//", url)]
    assert not remote, f"the deck loads files from the network: {remote}"
    local = {url for url in loaded if not url.startswith(("data:", "#"))}
    assert local == {
        "reveal.js/dist/reveal.css",
        "reveal.js/dist/theme/simple.css",
        "reveal.js/dist/reveal.js",
        "reveal.js/plugin/notes/notes.js",
    }
    for url in local:
        file = deck.parent / url
        assert file.is_file(), f"{url} is not next to the deck"
        if file.suffix == ".css":
            assert not re.search(r"@import\s+url\((https?:)?//", file.read_text()), f"{url} imports a remote file"
    assert (deck.parent / slides.REVEAL_DIR / "LICENSE").read_text().startswith("Copyright")


def test_the_vendored_reveal_is_the_version_nbconvert_expects():
    from nbconvert import SlidesExporter

    assert SlidesExporter().reveal_url_prefix.endswith(f"reveal.js@{slides.REVEAL_VERSION}")
    assert f"reveal.js {slides.REVEAL_VERSION}" in (slides.REVEAL_SOURCE / "README.md").read_text()
    assert f"reveal.js {slides.REVEAL_VERSION}" in (slides.REVEAL_SOURCE / "dist" / "reveal.js").read_text()[:300]
    size = sum(p.stat().st_size for p in slides.REVEAL_SOURCE.rglob("*") if p.is_file())
    assert size < 400_000, f"only the files the decks load are vendored ({size} bytes)"


def test_without_an_executed_run_it_says_to_run_make_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_RUN_DIR", str(tmp_path / "runs"))
    (tmp_path / "runs" / "20261126-090000").mkdir(parents=True)  # a run folder, nothing executed in it
    assert slides.main([]) == 2
    error = capsys.readouterr().err
    assert "make run" in error and "make smoke" in error
    with pytest.raises(FileNotFoundError, match="make run"):
        slides.find_run(tmp_path / "runs" / "20261126-090000")
    assert not any((tmp_path / "runs").rglob("*.slides.html")), "no deck of stored notebooks instead"


def test_only_and_out_pick_the_notebooks_and_the_folder(deck: Path, tmp_path):
    run = deck.parent.parent
    assert slides.main([str(run), "--only", "02", "--out", str(tmp_path / "out")]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["02_tiny_lesson.slides.html", "reveal.js"]
    assert slides.main([str(run), "--only", "05"]) == 2, "no executed notebook 05 in the run"


# ---------------------------------------------------------------- the deck in a real browser, offline

#: Whether an <img> of the deck is on screen: loaded, in the window, opaque, and on top (on the current slide).
_FIGURE_SHOWN = """() => Array.from(document.querySelectorAll('.reveal .slides img')).some(img => {
    const box = img.getBoundingClientRect();
    if (!img.complete || img.naturalWidth === 0 || box.width < 50 || box.height < 50) return false;
    const x = box.left + box.width / 2, y = box.top + box.height / 2;
    if (x < 0 || y < 0 || x > innerWidth || y > innerHeight) return false;
    for (let e = img; e; e = e.parentElement) {
        const style = getComputedStyle(e);
        if (style.opacity !== '1' || style.visibility === 'hidden' || style.display === 'none') return false;
    }
    return document.elementFromPoint(x, y) === img && img.closest('section.present') !== null;
})"""


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium, driven by Playwright (as in test_book.py)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is missing: make installs it")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
        yield browser
        browser.close()


def test_the_deck_works_offline_in_a_browser(browser, deck: Path):
    """From file://, with the network cut off: reveal.js starts, shows slides, the figure on its slide, and a
    slide taller than the deck scrolls (its end is not cut off)."""
    from playwright.sync_api import TimeoutError as NotYet

    context = browser.new_context(viewport={"width": 1280, "height": 800})
    problems: list[str] = []

    def route(request_route):
        url = request_route.request.url
        if url.startswith(("file:", "data:")):
            request_route.continue_()
        else:
            problems.append(f"the deck asks the network for {url}")
            request_route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
    page.on("requestfailed", lambda request: problems.append(f"could not load {request.url}"))
    try:
        page.goto(deck.as_uri())
        page.wait_for_selector(".reveal.ready")
        state = page.evaluate(
            """() => ({ready: Reveal.isReady(), slides: Reveal.getTotalSlides(),
                       sections: document.querySelectorAll('.reveal .slides section').length,
                       page: document.documentElement.scrollHeight, window: innerHeight,
                       title: document.querySelector('section.present h1').textContent})"""
        )
        assert state["ready"] and state["slides"] >= 2 and state["sections"] >= 2, state
        assert state["page"] <= state["window"] + 1, f"the deck scrolls as one long page: {state}"
        assert state["title"].startswith("02 · A tiny lesson"), "it opens on the title slide"
        assert not page.evaluate(_FIGURE_SHOWN), "the figure is on a later slide, not on the title slide"

        for _ in range(state["slides"]):  # walk the deck as a presenter does until the figure is on screen
            page.keyboard.press("ArrowRight")
            try:
                page.wait_for_function(_FIGURE_SHOWN, timeout=3_000)
                break
            except NotYet:  # not on this slide
                continue
        assert page.evaluate(_FIGURE_SHOWN), "the figure is never shown on a slide"
        assert PRINTED in page.locator("section.present section.present").inner_text(), (
            "the printed output is on the slide too"
        )
        page.screenshot(path=str(deck.with_suffix(".png")))

        # A slide taller than the deck (the long training log) scrolls inside itself: its last line is reachable.
        where = page.evaluate(
            """last => { const pre = Array.from(document.querySelectorAll('.reveal .slides pre'))
                                     .find(p => p.textContent.includes(last));
                        const at = Reveal.getIndices(pre.closest('section'));
                        Reveal.slide(at.h, at.v);
                        return at; }""",
            f"Epoch {EPOCHS}/{EPOCHS}",
        )
        page.wait_for_function(  # the transition is over: the slide stands still under the mouse
            """() => { const s = Reveal.getCurrentSlide();
                       return getComputedStyle(s).transform === 'none'
                           && s.contains(document.elementFromPoint(640, 400)); }"""
        )
        assert page.evaluate("() => Reveal.getCurrentSlide().scrollHeight > Reveal.getCurrentSlide().clientHeight")
        page.mouse.move(640, 400)
        page.mouse.wheel(0, 5_000)
        page.wait_for_function("() => Reveal.getCurrentSlide().scrollTop > 0")
        now = page.evaluate("() => Reveal.getIndices()")
        assert (now["h"], now["v"]) == (where["h"], where["v"]), "scrolling stays on the slide"
    finally:
        context.close()
    assert not problems, "\n".join(problems)
