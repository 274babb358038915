"""Display math fits its column on a 1280-pixel-wide page.

Each chapter and lab page is loaded at 1280 px inside an iframe of a harness page served from the same local
server. After MathJax has typeset the page, the harness measures every display equation (``mjx-container`` with
``display="true"``): the typeset formula must be no wider than the block that holds it (the text column, or the
theorem or proof box around it). A wider one would be cut off or need a horizontal scroll bar. Run after
`make book`; see conftest.py for when these tests skip.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from .conftest import HTML, harness_page, run_harness

PAGES = sorted(str(p.relative_to(HTML)) for sub in ("book", "notebooks") for p in (HTML / sub).glob("*.html"))
WIDTH = 1280
SLACK_PX = 1.0  # sub-pixel rounding of the layout

RUN_SCRIPT = """function measure() {
  const win = document.getElementById('page').contentWindow, doc = win.document, out = [];
  for (const c of doc.querySelectorAll('mjx-container[display="true"]')) {
    const math = c.querySelector('mjx-math'), column = c.parentElement;
    const holder = c.closest('[id]');
    out.push({width: math.getBoundingClientRect().width, column: column.clientWidth,
              where: holder ? holder.id : '', text: (c.textContent || '').slice(0, 80)});
  }
  document.getElementById('result').textContent = JSON.stringify({
    typeset: !!(win.MathJax && win.MathJax.startup), equations: out,
    mathjax_errors: doc.querySelectorAll('mjx-merror').length});
}
function run() {
  const win = document.getElementById('page').contentWindow;
  if (win.MathJax && win.MathJax.startup && win.MathJax.startup.promise) {
    win.MathJax.startup.promise.then(() => setTimeout(measure, 200));
  } else {
    measure();
  }
}"""

_results: dict[str, dict] = {}


def _measure(page: str, executable: str) -> dict:
    return run_harness(harness_page(f"/{page}", RUN_SCRIPT, width=WIDTH, height=2000), page, executable)[0]


def measured(page: str, browser) -> dict:
    if page not in _results:
        todo = [p for p in PAGES if p not in _results]
        with ThreadPoolExecutor(max_workers=3) as pool:
            for p, r in zip(todo, pool.map(lambda p: _measure(p, browser.executable), todo)):
                _results[p] = r
    return _results[page]


@pytest.mark.browser
@pytest.mark.parametrize("page", PAGES or ["<no built book>"])
def test_display_math_fits_its_column(page, built_book, browser):
    if not (built_book / page).exists():
        pytest.skip(f"{page} is not in the build")
    data = measured(page, browser)
    raw = (built_book / page).read_text(encoding="utf-8")
    if '<div class="math notranslate nohighlight"' in raw:
        assert data["typeset"] and data["equations"], f"{page}: display math on the page, none typeset"
    assert data["mathjax_errors"] == 0, f"{page}: {data['mathjax_errors']} MathJax errors"
    wide = [e for e in data["equations"] if e["width"] > e["column"] + SLACK_PX]
    assert not wide, f"{page}: display math wider than its column at {WIDTH} px: " + "; ".join(
        f"{e['width']:.0f} px in {e['column']} px (#{e['where']}: {e['text'][:50]!r})" for e in wide)
