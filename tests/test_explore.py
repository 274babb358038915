"""Kernel-free explorations (convexscore.explore): one reproducible, offline display bundle per slider."""
import base64
import re

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest

from convexscore import explore

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
X = np.linspace(-2, 2, 50)


def draw(fig, a):
    ax = fig.subplots()
    ax.plot(X, np.tanh(a * X))
    ax.set_ylim(-1.1, 1.1)
    return f"slope {a:.2f}"


def small(values=(0.5, 1.0, 2.0), **kw):
    return explore.slider_bundle(draw, values, name="t1", label="a", alt="tanh(a x) for three slopes",
                                 figsize=(2.4, 1.6), dpi=50, **kw)


def frames(html: str) -> list[bytes]:
    found = re.findall(r'frames\[\d+\] = "data:image/png;base64,([^"]*)"', html)
    return [base64.b64decode(f.replace("\\\n", "")) for f in found]


def test_bundle_is_deterministic_and_offline():
    a, b = small(), small()
    assert a == b  # same bytes on every run: nbval compares text/html exactly
    assert set(a) == {"text/html", "image/png", "text/plain"}
    html = a["text/html"]
    assert 'id="_anim_imgcsm_t1"' in html and 'id="_anim_slidercsm_t1"' in html
    markup = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=\\\n]*", "", html)
    assert not re.search(r"[0-9a-f]{32}", markup), "matplotlib's random element id is still there"
    assert "http://" not in html and "https://" not in html and "font-awesome" not in html
    assert 'alt="tanh(a x) for three slopes"' in html and 'aria-label="a"' in html
    assert "animcsm_t1.set_frame(1);" in html  # starts on the middle frame
    fs = frames(html)
    assert len(fs) == 3 and all(f.startswith(PNG_MAGIC) for f in fs)
    assert len(set(fs)) == 3, "the frames should differ"
    assert all(b"Software" not in f and b"tIME" not in f for f in fs)
    static = base64.b64decode(a["image/png"])
    assert static.startswith(PNG_MAGIC) and b"Software" not in static
    assert a["text/plain"] == "Slider over a: 3 frames, 0.5 to 2; static frame a = 1 (slope 1.00)"


def test_static_frame_choice_and_labels():
    b = explore.slider_bundle(draw, [0.5, 1.0], name="t2", label="a", fmt=lambda v: f"{v:.1f}", static=0,
                              figsize=(2.4, 1.6), dpi=50)
    assert "animcsm_t2.set_frame(0);" in b["text/html"]
    assert b["text/plain"].startswith("Slider over a: 2 frames, 0.5 to 1.0; static frame a = 0.5")
    c = explore.slider_bundle(lambda fig, v: None, ["linear", "geometric"], name="t3", label="schedule",
                              figsize=(2.4, 1.6), dpi=50)
    assert "linear to geometric" in c["text/plain"]


@pytest.mark.parametrize("kwargs, message", [
    (dict(values=[1.0]), "at least two"),
    (dict(values=list(range(explore.MAX_FRAMES + 1))), "at most"),
    (dict(values=[1.0, np.nan]), "not finite"),
    (dict(values="abc"), "not a string"),
    (dict(name="has space"), "identifier"),
    (dict(name="1abc"), "identifier"),
    (dict(label=""), "label"),
    (dict(draw="not callable"), "draw must be a function"),
    (dict(dpi=400), "dpi"),
    (dict(figsize=(30, 2)), "figsize"),
    (dict(static=5), "static"),
    (dict(draw=lambda fig, v: 3.0), "return None or a short string"),
])
def test_bad_input_raises_value_error_naming_the_fix(kwargs, message):
    args = dict(draw=draw, values=[0.5, 1.0], name="ok", label="a", figsize=(2.4, 1.6), dpi=50)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        explore.slider_bundle(args.pop("draw"), args.pop("values"), **args)


def test_too_heavy_raises(monkeypatch):
    monkeypatch.setattr(explore, "MAX_HTML_BYTES", 10_000)
    with pytest.raises(ValueError, match="fewer values, a smaller figsize or a lower dpi"):
        small()


def test_slider_figure_outside_ipython_shows_nothing():
    assert explore.slider_figure(draw, [0.5, 1.0], name="t4", label="a", figsize=(2.4, 1.6), dpi=50) is None
