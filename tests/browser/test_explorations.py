"""The labs' kernel-free explorations (convexscore.explore) in the built book: each slider moves the picture.

Each lab page is loaded inside an iframe of a small harness page served from the same local server; the harness
moves every exploration's slider (as a reader's drag does: set the value, fire ``input``) and clicks its
"Next frame" button, records the displayed image's source before and after, and lists every resource the lab
page fetched. Chromium runs with every host name except 127.0.0.1 unresolvable, so a page that needed the
network would also show failed requests. Run after `make book`; see conftest.py for when these tests skip.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from .conftest import HTML, ROOT, harness_page, run_harness

LABS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))

RUN_SCRIPT = """function run() {
  const win = document.getElementById('page').contentWindow, doc = win.document, out = [];
  for (const div of doc.querySelectorAll('div.csm-explore')) {
    const name = div.id.replace('csm-explore-', ''), anim = win['animcsm_' + name];
    const slider = div.querySelector('input[type=range].anim-slider'), img = div.querySelector('img');
    const r = {name: name, has_anim: !!anim, has_slider: !!slider, n: slider ? Number(slider.max) + 1 : 0};
    if (anim && slider) {
      r.start = Number(slider.value);
      r.src0 = img.src;
      const target = r.start == 0 ? r.n - 1 : 0;
      slider.value = String(target);
      slider.dispatchEvent(new Event('input', {bubbles: true}));
      r.target = target;
      r.src1 = img.src;
      r.shows_target = img.src === anim.frames[target].src;
      r.step = target == r.n - 1 ? -1 : 1;  // on the last frame "Next frame" cannot move: step back instead
      const step = div.querySelector(r.step < 0 ? 'button[title="Previous frame"]' : 'button[title="Next frame"]');
      step.click();
      r.after_next = Number(slider.value);
      r.src2 = img.src;
      r.alt = img.alt;
    }
    out.push(r);
  }
  const res = win.performance.getEntriesByType('resource').map(e => e.name);
  document.getElementById('result').textContent = JSON.stringify({explorations: out, resources: res,
                                                                   origin: win.location.origin});
}"""


_results: dict[str, tuple[dict, list]] = {}


def _run(page: str, executable: str) -> tuple[dict, list]:
    return run_harness(harness_page(f"/notebooks/{page}", RUN_SCRIPT, delay_ms=2000), page, executable)


def result(lab: str, browser) -> tuple[dict, list]:
    if lab not in _results:
        todo = [x for x in LABS if (HTML / "notebooks" / f"{x}.html").exists() and x not in _results] or [lab]
        with ThreadPoolExecutor(max_workers=3) as pool:
            for x, r in zip(todo, pool.map(lambda x: _run(f"{x}.html", browser.executable), todo)):
                _results[x] = r
    return _results[lab]


@pytest.mark.browser
@pytest.mark.parametrize("lab", LABS)
def test_exploration_slider_changes_the_picture_offline(lab, built_book, browser):
    page = built_book / "notebooks" / f"{lab}.html"
    if not page.exists():
        pytest.skip(f"{lab} is not in the build")
    raw = page.read_text(encoding="utf-8")
    n_static = raw.count('class="csm-explore"')
    assert n_static >= 1, f"{lab}: no exploration (convexscore.explore.slider_figure) on the page"
    data, requests = result(lab, browser)
    found = data["explorations"]
    assert len(found) == n_static, f"{lab}: {n_static} explorations in the HTML, {len(found)} in the DOM"
    for r in found:
        assert r["has_anim"] and r["has_slider"], f"{lab}/{r['name']}: the animation did not start: {r}"
        assert r["n"] >= 2, f"{lab}/{r['name']}: fewer than two frames"
        assert r["src0"].startswith("data:image/png;base64,"), f"{lab}/{r['name']}: no frame shown"
        assert r["src1"] != r["src0"], f"{lab}/{r['name']}: moving the slider did not change the picture"
        assert r["shows_target"], f"{lab}/{r['name']}: the picture is not the frame the slider points at"
        assert r["after_next"] == r["target"] + r["step"] and r["src2"] != r["src1"], (
            f"{lab}/{r['name']}: the Next/Previous frame button did not move the slider and picture")
        assert r["alt"].strip(), f"{lab}/{r['name']}: the image has no alt text"
    # nothing from the network: every resource the page fetched is local, and every request succeeded
    origin = data["origin"]
    external = [u for u in data["resources"] if not u.startswith((origin, "data:", "blob:"))]
    assert not external, f"{lab}: fetched from the network: {external}"
    failed = [(p, code) for p, code in requests if code >= 400 and p != "/favicon.ico"]
    assert not failed, f"{lab}: requests failed: {failed}"
