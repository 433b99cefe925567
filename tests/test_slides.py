"""``make slides``: every ``##`` section of a notebook becomes a slide, long stretches become sub-slides."""

from __future__ import annotations

import json
from html.parser import HTMLParser

from helpers import slides
from helpers.config import find_root

NOTEBOOK = find_root() / "notebooks" / "02_functional_api_model_0.ipynb"


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
