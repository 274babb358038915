"""The built book as a reader sees it: pages loaded in headless Chromium from a local HTTP server.

For every chapter and notebook page: math is typeset by the vendored MathJax (no raw TeX left), every
figure is fetched by the browser and is a real image file, every embedded widget is rendered by the
widget manager, and nothing is loaded from the internet. Run after `make book`; see conftest.py for when
these tests skip.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from .conftest import HTML, ROOT, BookServer

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
_cache: dict[str, tuple[str, list[tuple[str, int]]]] = {}


def book_pages() -> list[str]:
    pages = sorted(str(p.relative_to(HTML)) for sub in ("book", "notebooks") for p in (HTML / sub).glob("*.html"))
    return pages or ["<no built book>"]


class PageScan(HTMLParser):
    """Collects visible text (outside script/style/code), image sources, script sources and class counts."""

    HIDDEN = {"script", "style", "pre", "code", "textarea", "mjx-assistive-mml", "template"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth_hidden = 0
        self.text: list[str] = []
        self.images: list[str] = []
        self.scripts: list[str] = []
        self.stylesheets: list[str] = []
        self.classes: dict[str, int] = {}
        self.tags: dict[str, int] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        for c in (a.get("class") or "").split():
            self.classes[c] = self.classes.get(c, 0) + 1
        if tag == "img" and a.get("src"):
            self.images.append(a["src"])
        if tag == "script" and a.get("src"):
            self.scripts.append(a["src"])
        if tag == "link" and a.get("rel") == "stylesheet" and a.get("href"):
            self.stylesheets.append(a["href"])
        if tag in self.HIDDEN:
            self.depth_hidden += 1

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self.depth_hidden:
            self.depth_hidden -= 1

    def handle_data(self, data):
        if not self.depth_hidden:
            self.text.append(data)


def scan(html: str) -> PageScan:
    p = PageScan()
    p.feed(html)
    return p


def _render_one(page: str, browser) -> tuple[str, list[tuple[str, int]]]:
    with BookServer(HTML) as server:  # one server per page, so its request log belongs to that page alone
        dom = browser.dom(server.url(page))
        return dom, list(server.requests)


def render(page: str, browser) -> tuple[str, list[tuple[str, int]]]:
    """DOM after scripts ran, and the (path, status) of every request the browser made for it.

    The first call loads every page of the book, three browsers at a time, and keeps the results.
    """
    if page not in _cache:
        pages = [p for p in book_pages() if (HTML / p).exists() and p not in _cache] or [page]
        with ThreadPoolExecutor(max_workers=3) as pool:
            for p, result in zip(pages, pool.map(lambda p: _render_one(p, browser), pages)):
                _cache[p] = result
        if page not in _cache:
            _cache[page] = _render_one(page, browser)
    return _cache[page]


def _page_or_skip(page: str, built_book) -> Path:
    path = built_book / page
    if not path.exists():
        pytest.skip(f"{page} is not in the build")
    return path


@pytest.mark.browser
@pytest.mark.parametrize("page", book_pages())
def test_page_renders_offline(page, built_book, browser):
    raw = _page_or_skip(page, built_book).read_text(encoding="utf-8")
    before = scan(raw)
    dom, requests = render(page, browser)
    after = scan(dom)

    # Nothing from the network: every script and stylesheet is served by the book itself.
    external = [u for u in before.scripts + before.stylesheets if u.startswith(("http:", "https:", "//"))]
    assert not external, f"{page} loads assets from the internet: {external}"
    failed = [(p, code) for p, code in requests if code >= 400 and p != "/favicon.ico"]  # the browser asks for it
    assert not failed, f"{page}: the browser's requests failed: {failed}"

    # Math: every math element was typeset by MathJax, and no raw TeX delimiters are left in the text.
    n_math = before.classes.get("math", 0)
    if n_math:
        assert any(p.endswith("/mathjax/tex-mml-chtml.js") for p, _ in requests), f"{page}: MathJax was not loaded"
        n_typeset = after.tags.get("mjx-container", 0)
        assert n_typeset >= n_math, f"{page}: {n_math} math elements but only {n_typeset} typeset by MathJax"
    visible = "".join(after.text)
    for delim in ("\\(", "\\)", "\\[", "\\]"):
        assert delim not in visible, f"{page}: raw TeX delimiter {delim!r} left in the rendered text"

    # Figures: each local <img> is a real image file, and the browser fetched it successfully.
    fetched = {p for p, code in requests if code == 200}
    for src in before.images:
        if src.startswith("data:") or src.startswith(("http:", "https:")):
            continue
        file = (built_book / page).parent / src
        assert file.exists(), f"{page}: image {src} is missing from the build"
        head = file.read_bytes()[:8]
        assert head == PNG_MAGIC or file.suffix in (".svg", ".jpg", ".jpeg", ".gif"), f"{page}: {src} is not a PNG"
        served = "/" + str(file.resolve().relative_to(built_book.resolve())).replace("\\", "/")
        assert served in fetched, f"{page}: the browser did not load the figure {src}"

    # Widgets: each embedded widget view is turned into widget DOM by the html-manager.
    n_views = raw.count(WIDGET_VIEW_MIME)
    if n_views:
        assert before.classes.get("jupyter-widgets", 0) == 0, "widget DOM present before scripts ran?"
        assert any(p.endswith("/widgets/embed-amd.js") for p, _ in requests), f"{page}: widget manager not loaded"
        assert after.classes.get("jupyter-widgets", 0) >= 1, f"{page}: {n_views} widget view(s) embedded, none rendered"


@pytest.mark.browser
def test_chapter1_lab_figures_and_slider(built_book, browser):
    """The Chapter 1 lab: its figures, and the step-size slider with its plot, are there for the reader."""
    page = "notebooks/01-langevin.html"
    raw = _page_or_skip(page, built_book).read_text(encoding="utf-8")
    dom, _ = render(page, browser)
    before, after = scan(raw), scan(dom)
    figures = [s for s in before.images if s.endswith(".png")]
    assert len(figures) >= 4, f"expected the lab's 4 static figures, found {figures}"
    assert after.classes.get("widget-slider", 0) >= 1, "the step-size slider was not rendered"
    assert "step ε" in "".join(after.text), "the slider's label is missing"
    # the interactive plot stored in the Output widget is drawn from the embedded widget state
    assert sum(s.startswith("data:image/png") for s in after.images) >= 1, "the widget's plot was not rendered"


@pytest.mark.browser
def test_chapter1_prose_page(built_book, browser):
    """Chapter 1 shows its theorem, proofs and exercises with typeset math."""
    page = "book/01-langevin.html"
    _page_or_skip(page, built_book)
    dom, _ = render(page, browser)
    after = scan(dom)
    assert after.classes.get("theorem", 0) >= 1, "no theorem block"
    assert after.classes.get("proof", 0) >= 1, "no proof block"
    assert after.classes.get("exercise", 0) >= 3, "fewer than three exercises"
    assert after.classes.get("solution", 0) >= 3, "fewer than three solutions"
    assert after.tags.get("mjx-container", 0) >= 50, "too little typeset math for this chapter"


@pytest.mark.parametrize("page", [p for p in book_pages() if p.startswith("notebooks/")] or ["<no notebook pages>"])
def test_notebook_pages_have_binder_and_colab_buttons(page, built_book):
    """Launch buttons point at this repository (from _config.yml) and at a notebook that exists in it."""
    raw = _page_or_skip(page, built_book).read_text(encoding="utf-8")
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    repo = config["repository"]["url"].rstrip("/").removeprefix("https://github.com/")
    branch = config["repository"].get("branch", "main")
    notebook = page.removesuffix(".html") + ".ipynb"
    assert (ROOT / notebook).exists(), f"{notebook} is not in the repository"
    binder = f"https://mybinder.org/v2/gh/{repo}/{branch}?urlpath=lab/tree/{notebook}"
    colab = f"https://colab.research.google.com/github/{repo}/blob/{branch}/{notebook}"
    assert binder in raw, f"{page}: no Binder button for {notebook}"
    assert colab in raw, f"{page}: no Colab button for {notebook}"
