"""The pages, by reader: ``README.md`` for learners; ``docs/*.md`` and ``CONTRIBUTING.md`` for everyone else.

The README stays short; every relative link of every page leads to a file (and an ``#anchor`` to a heading
there); every ``make`` target a page names is one of the Makefile's; no page names a module by its old place;
and the course book carries every page.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from helpers.config import find_root
from tools import book

ROOT = find_root()
README = ROOT / "README.md"
GUIDES = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "CONTRIBUTING.md"]
PAGES = [README, *GUIDES]
#: The most words ``wc -w README.md`` may count (code blocks and tables included).
README_WORDS = 1500
#: Modules that moved out of ``helpers`` (to ``tools`` or ``helpers._internal``).
MOVED_TOOLS = ("runner", "reference", "book", "slides", "pins", "hub_cache", "notebook_links", "fresh_install")
MOVED = rf"helpers\.({'|'.join((*MOVED_TOOLS, 'device', 'network', 'downloads', 'image_check'))})\b"

_FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.M | re.S)
_CODE = re.compile(r"(`+)(.+?)\1", re.S)
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_MAKE = re.compile(r"(?:^|[\s;&|(])make\s+([a-z][\w-]*)", re.M)


def _id(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _prose(markdown: str) -> str:
    """The Markdown without fenced code blocks and with inline code emptied (links stay)."""
    return _CODE.sub("code", _FENCE.sub("", markdown))


def _code(markdown: str) -> list[str]:
    """Every fenced code block and inline code span of the Markdown."""
    blocks = [m[0] for m in _FENCE.finditer(markdown)]
    return blocks + [m[2] for m in _CODE.finditer(_FENCE.sub("", markdown))]


def slug(heading: str) -> str:
    """A heading's anchor, as GitHub and the course book (MyST, ``myst_heading_anchors``) write it.

    Example:
        >>> slug("Several GPUs, a TPU, or several machines"), slug("The `tools/` folder")
        ('several-gpus-a-tpu-or-several-machines', 'the-tools-folder')
    """
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip())
    text = text.replace("`", "").replace("**", "").replace("*", "")
    return re.sub(r"[^\w\- ]", "", text.lower().replace(" ", "-"))


def anchors(markdown: str, deepest: int = 3) -> set[str]:
    """The anchors of a Markdown text's headings down to level ``deepest`` (the book anchors levels 1-3)."""
    found: set[str] = set()
    for match in re.finditer(r"^(#{1,6})\s+(.+?)\s*#*\s*$", _FENCE.sub("", markdown), re.M):
        if len(match[1]) > deepest:
            continue
        base = anchor = slug(match[2])
        n = 0
        while anchor in found:  # a repeated heading gets -1, -2, ...
            n += 1
            anchor = f"{base}-{n}"
        found.add(anchor)
    return found


def _anchors_of(path: Path) -> set[str]:
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        return anchors("\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown"))
    return anchors(path.read_text(encoding="utf-8"))


def make_targets(makefile: Path = ROOT / "Makefile") -> set[str]:
    """The Makefile's rule names (``name:`` at the start of a line; not variables, not ``.PHONY``)."""
    return set(re.findall(r"^([A-Za-z][\w.-]*)\s*:(?!=)", makefile.read_text(), re.M))


def test_the_readme_is_short():
    words = len(README.read_text(encoding="utf-8").split())  # what `wc -w` counts
    assert words <= README_WORDS, f"README.md has {words} words (at most {README_WORDS}): move detail to docs/"


def test_the_readme_links_to_every_guide():
    links = set(_LINK.findall(README.read_text(encoding="utf-8")))
    for guide in GUIDES:
        assert _id(guide) in links, f"README.md does not link to {_id(guide)}"


@pytest.mark.parametrize("page", PAGES, ids=_id)
def test_every_relative_link_leads_to_a_file_and_heading(page):
    problems = []
    for target in _LINK.findall(_prose(page.read_text(encoding="utf-8"))):
        if re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:", target):  # https:, mailto:
            continue
        path, _, fragment = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            problems.append(f"{target}: no such file")
        elif fragment and file.suffix in {".md", ".ipynb"} and fragment not in _anchors_of(file):
            problems.append(f"{target}: no heading (levels 1-3) with that anchor in {_id(file)}")
    assert not problems, f"{_id(page)}:\n" + "\n".join(problems)


@pytest.mark.parametrize("page", PAGES, ids=_id)
def test_every_make_target_named_exists(page):
    targets = make_targets()
    named = {name for code in _code(page.read_text(encoding="utf-8")) for name in _MAKE.findall(code)}
    assert named <= targets, f"{_id(page)} names make targets the Makefile lacks: {sorted(named - targets)}"


@pytest.mark.parametrize("page", [*PAGES, *ROOT.glob("tools/*.md"), *ROOT.glob("tests/*/README.md")], ids=_id)
def test_no_page_names_a_module_by_its_old_place(page):
    old = sorted({m[0] for m in re.finditer(MOVED, page.read_text(encoding="utf-8"))})
    assert not old, f"{_id(page)} names {old}: now tools.* or helpers._internal.*"


def test_no_sentence_is_copied_between_pages():
    """Each fact lives on one page; the others link to it."""
    seen: dict[str, str] = {}
    copies = []
    for page in PAGES:
        text = " ".join(_prose(page.read_text(encoding="utf-8")).split())
        for sentence in {s.strip() for s in re.split(r"(?<=[.:;])\s+|\|", text) if len(s.strip()) >= 60}:
            if sentence in seen and seen[sentence] != _id(page):
                copies.append(f"{seen[sentence]} and {_id(page)}: {sentence!r}")
            seen.setdefault(sentence, _id(page))
    assert not copies, "\n".join(copies)


def test_the_book_carries_every_guide():
    assert sorted(book.GUIDES) == sorted(_id(guide) for guide in GUIDES)


def test_the_helpers_own_checks():
    assert make_targets(ROOT / "Makefile") >= {"test", "run", "lint", "strip", "book"}
    text = "```bash\nmake lab\n```\n`make book RUN_DIR=x`, `X=1 make smoke`, make sure of `make`"
    assert {n for code in _code(text) for n in _MAKE.findall(code)} == {"lab", "book", "smoke"}
    assert anchors("# A\n## The `x` part\n```\n# not a heading\n```\n## A\n#### Deep\n") == {"a", "the-x-part", "a-1"}
    assert _LINK.findall(_prose("[a](x.md#b) `[c](not.md)` ![i](img.png) [w](https://x.org)")) == [
        "x.md#b",
        "img.png",
        "https://x.org",
    ]
