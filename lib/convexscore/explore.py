"""Explorations that play without a kernel: frames precomputed over a parameter grid, shown with a slider.

:func:`slider_figure` draws one figure per parameter value with a user function ``draw(fig, value)`` and shows
them as matplotlib's JavaScript animation (its ``HTMLWriter``, what ``FuncAnimation.to_jshtml`` uses): a
self-contained HTML block with the frames embedded as PNG data and a slider,
which plays in the static HTML book, offline, and in Jupyter. The same display bundle carries one frame as
``image/png`` (what the PDF build and plain-text front ends use) and a short ``text/plain``.

The HTML is made reproducible and offline: the random element id matplotlib draws is replaced by one derived from
``name``, the frames carry no software metadata, the Font Awesome stylesheet matplotlib links from a CDN is dropped
(the buttons get plain-text symbols instead), and the image starts on the static frame (so it shows even where
scripts do not run). Re-running a cell therefore stores the same bytes.

Solve first, then draw: ``draw`` should only plot precomputed results (it runs once per frame and once more for
the static image). Keep the axis limits fixed across values so that the frames are comparable.
"""
from __future__ import annotations

import base64
import html
import io
import re
import tempfile
from collections.abc import Callable, Sequence
from numbers import Real
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.animation import HTMLWriter
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["MAX_FRAMES", "MAX_HTML_BYTES", "slider_bundle", "slider_figure"]

#: at most this many frames (page weight: each frame is one embedded PNG)
MAX_FRAMES = 40
#: the HTML of one exploration may not exceed this many bytes (the book keeps each lab page under about 5 MB)
MAX_HTML_BYTES = 2_500_000
#: resolution of the static ``image/png`` frame (the book's figure resolution)
STATIC_DPI = 130

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,40}")
# matplotlib's Font Awesome icons -> plain-text symbols (U+FE0E asks for the text, not the emoji, glyph)
_ICONS = {
    "fa fa-minus": "\u2212",
    "fa fa-fast-backward": "\u21e4",
    "fa fa-step-backward": "\u2039",
    "fa fa-play fa-flip-horizontal": "\u25c0\ufe0e",
    "fa fa-pause": "\u275a\u275a",
    "fa fa-play": "\u25b6\ufe0e",
    "fa fa-step-forward": "\u203a",
    "fa fa-fast-forward": "\u21e5",
    "fa fa-plus": "+",
}
_CDN_LINK = re.compile(r'<link rel="stylesheet"\s+href="https://[^"]*font-awesome[^"]*">\s*')


def _format(value: Any, fmt: str | Callable[[Any], str]) -> str:
    if callable(fmt):
        return str(fmt(value))
    if isinstance(value, Real) and not isinstance(value, bool):
        return fmt.format(value)
    return str(value)


def _check(draw, values, name, label, figsize, dpi, static, fps) -> list:
    if not callable(draw):
        raise ValueError(f"draw must be a function draw(fig, value); got {type(draw).__name__}")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"name {name!r}: use a short identifier (a letter, then letters, digits or _), unique on "
                         "the page; it becomes the animation's element id")
    if not isinstance(label, str) or not label.strip():
        raise ValueError("label: give the parameter's name as the reader should see it, e.g. label='β'")
    if isinstance(values, (str, bytes)):
        raise ValueError("values: pass a sequence of parameter values (a list or 1-D array), not a string")
    values = list(np.asarray(values).tolist()) if isinstance(values, np.ndarray) else list(values)
    if isinstance(values, list) and values and isinstance(values[0], list):
        raise ValueError("values: pass a 1-D sequence of parameter values (one per frame)")
    if len(values) < 2:
        raise ValueError(f"values: a slider needs at least two parameter values, got {len(values)}")
    if len(values) > MAX_FRAMES:
        raise ValueError(f"values: {len(values)} frames make a heavy page; use at most {MAX_FRAMES} "
                         "(a coarser grid)")
    for v in values:
        if isinstance(v, Real) and not np.isfinite(v):
            raise ValueError(f"values: {v!r} is not finite; pass finite parameter values")
    w, h = figsize
    if not (0 < w <= 12 and 0 < h <= 8):
        raise ValueError(f"figsize {figsize!r}: use a width in (0, 12] and a height in (0, 8] inches")
    if not 40 <= dpi <= 150:
        raise ValueError(f"dpi {dpi!r}: use a resolution between 40 and 150 (the frames are embedded in the page)")
    if static is not None and not (isinstance(static, int) and -len(values) <= static < len(values)):
        raise ValueError(f"static {static!r}: give the index (an int in [0, {len(values)})) of the frame to show "
                         "in static output, or None for the middle one")
    if not 0 < fps <= 30:
        raise ValueError(f"fps {fps!r}: use a playback rate in (0, 30] frames per second")
    return values


def _png(fig: Figure, dpi: float) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def slider_bundle(draw: Callable[[Figure, Any], str | None], values: Sequence, *, name: str, label: str,
                  alt: str = "", fmt: str | Callable[[Any], str] = "{:.3g}", figsize: tuple[float, float] = (7.0, 3.0),
                  dpi: float = 90, static: int | None = None, fps: float = 2) -> dict[str, str]:
    """The display bundle of a kernel-free exploration: ``{"text/html", "image/png", "text/plain"}``.

    ``draw(fig, value)`` draws one frame into the cleared figure ``fig`` (book style, constrained layout); it may
    return a short string (key numbers of that frame) shown after ``"<label> = <value>"`` in the frame's title.
    ``values`` (2 to :data:`MAX_FRAMES` entries; numbers or labels) are the slider's positions, formatted with
    ``fmt`` (a format string for numbers, or a function). ``name`` (an identifier, unique on the page) makes the
    HTML element ids, so the output is the same bytes on every run. ``alt`` describes the figure for screen
    readers. ``static`` is the index of the frame the slider starts on and the ``image/png`` shows (default: the
    middle one). Frames are ``figsize`` inches at ``dpi``; the static PNG is at the book's figure resolution.

    Raises ValueError on bad arguments, and when the HTML would exceed :data:`MAX_HTML_BYTES` (fewer frames, a
    smaller ``figsize`` or a lower ``dpi`` fix that).
    """
    values = _check(draw, values, name, label, figsize, dpi, static, fps)
    n = len(values)
    start = (n // 2 if static is None else static) % n
    shown = [_format(v, fmt) for v in values]
    notes: list[str | None] = [None] * n

    from .plotting import book_style  # plotting re-exports this module's functions: import it when used

    with mpl.rc_context({**book_style(), "savefig.bbox": None}):  # every frame the same size
        fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
        FigureCanvasAgg(fig)

        def frame(i: int):
            fig.clear()
            note = draw(fig, values[i])
            if note is not None and not isinstance(note, str):
                raise ValueError(f"draw returned {type(note).__name__}; return None or a short string")
            notes[i] = note
            fig.suptitle(f"{label} = {shown[i]}" + (f"    {note}" if note else ""), fontsize=10)

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp, "frames.html")
            writer = HTMLWriter(fps=fps, embed_frames=True, default_mode="once", embed_limit=100.0)
            with writer.saving(fig, str(path), dpi):
                for i in range(n):
                    frame(i)
                    writer.grab_frame(metadata={"Software": None})
            page = path.read_text(encoding="utf-8")
        frame(start)
        static_png = _png(fig, STATIC_DPI)
        start_png = _png(fig, dpi)

    m = re.search(r'<img id="_anim_img([0-9a-f]{32})">', page)
    if m is None or page.count(f"frames[{n - 1}] = ") != 1 or f"frames[{n}] = " in page:
        raise RuntimeError("matplotlib's HTMLWriter output has an unexpected form (is matplotlib the pinned "
                           "version?)")
    uid, eid = m.group(1), f"csm_{name}"
    page = page.replace(uid, eid)
    page, k = _CDN_LINK.subn("", page)
    if k != 1:
        raise RuntimeError("matplotlib's HTMLWriter no longer links Font Awesome as expected")
    for cls, symbol in _ICONS.items():
        tag = f'<i class="{cls}"></i>'
        if tag not in page:
            raise RuntimeError(f"matplotlib's HTMLWriter has no button icon {cls!r}")
        page = page.replace(tag, symbol)
    first = base64.b64encode(start_png).decode("ascii")
    page = page.replace(f'<img id="_anim_img{eid}">',
                        f'<img id="_anim_img{eid}" alt="{html.escape(alt)}" src="data:image/png;base64,{first}">')
    page = page.replace('name="points"', f'name="points" aria-label="{html.escape(label)}"')
    init = "loop_select_id);\n    }, 0);"
    if page.count(init) != 1:
        raise RuntimeError("matplotlib's HTMLWriter no longer instantiates the animation as expected")
    page = page.replace(init, f"loop_select_id);\n        anim{eid}.set_frame({start});\n    }}, 0);")
    if "http://" in page or "https://" in page or "//cdn" in page:
        raise RuntimeError("the animation HTML still refers to the network")
    page = f'<div class="csm-explore" id="csm-explore-{name}">\n{page.strip()}\n</div>\n'
    if len(page.encode()) > MAX_HTML_BYTES:
        raise ValueError(f"{name}: the animation is {len(page.encode()) / 1e6:.1f} MB (limit "
                         f"{MAX_HTML_BYTES / 1e6:.1f} MB); use fewer values, a smaller figsize or a lower dpi")
    plain = f"Slider over {label}: {n} frames, {shown[0]} to {shown[-1]}; static frame {label} = {shown[start]}"
    if notes[start]:
        plain += f" ({notes[start]})"
    return {"text/html": page, "image/png": base64.b64encode(static_png).decode("ascii"), "text/plain": plain}


def slider_figure(draw: Callable[[Figure, Any], str | None], values: Sequence, *, name: str, label: str,
                  alt: str = "", **kwargs) -> None:
    """Show a kernel-free exploration as this cell's output (see :func:`slider_bundle` for the arguments).

    One display output: the animation with its slider (``text/html``, what the HTML book and Jupyter show), one
    frame (``image/png``, for the PDF) and a one-line ``text/plain``. Outside IPython nothing is shown.
    """
    bundle = slider_bundle(draw, values, name=name, label=label, alt=alt, **kwargs)
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return
    if get_ipython() is None:
        return
    display(bundle, raw=True)
