"""The book's figure style, and the figures every chapter reuses.

One style for the whole book (:func:`book_style`, :data:`PALETTE`): the Okabe-Ito colour-blind-safe palette,
opaque white backgrounds (figures then read the same in the light and the dark theme of the HTML book), light
grids, no top/right spines. The convex solution is always blue (dashed when it is a level), Adam runs warm
colours, data grey, the true law black.

Every public function returns ``(fig, alt)``: the matplotlib figure and an alt-text string describing what it
shows, with the key numbers (for the book's ``:alt:`` fields and screen readers). Functions that draw one panel
accept ``ax=`` to draw into an existing axis (then ``fig`` is that axis' figure).
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

__all__ = ["PALETTE", "book_style", "apply_style", "style", "show", "show_table", "glue", "figure_png", "plot_losses",
           "plot_scores", "plot_samples", "three_panel", "score_field_2d"]

#: Okabe & Ito (2008) colour-blind-safe palette.
PALETTE = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "sky": "#56B4E9",
    "yellow": "#F0E442",
    "black": "#000000",
    "grey": "#7A7A7A",
}
CONVEX = PALETTE["blue"]
TRUE = PALETTE["black"]
DATA = PALETTE["grey"]
#: colours for groups of Adam runs (one per learning rate), in order
ADAM = (PALETTE["vermillion"], PALETTE["orange"], PALETTE["purple"], PALETTE["green"], PALETTE["sky"])


def book_style() -> dict:
    """The rcParams of the book's figures."""
    cycle = [PALETTE[k] for k in ("blue", "vermillion", "green", "orange", "purple", "sky", "black")]
    return {
        "figure.facecolor": "white",
        "axes.facecolor": "white",
        "savefig.facecolor": "white",
        "savefig.transparent": False,
        "savefig.bbox": "tight",
        "figure.dpi": 110,
        "axes.prop_cycle": mpl.cycler(color=cycle),
        "axes.grid": True,
        "grid.color": "#DDDDDD",
        "grid.linewidth": 0.6,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.edgecolor": "#333333",
        "axes.labelcolor": "black",
        "xtick.color": "#333333",
        "ytick.color": "#333333",
        "text.color": "black",
        "font.size": 10,
        "axes.titlesize": 10,
        "legend.fontsize": 8.5,
        "legend.frameon": True,
        "legend.framealpha": 1.0,
        "legend.facecolor": "white",
        "legend.edgecolor": "#CCCCCC",
        "lines.linewidth": 1.6,
    }


def apply_style() -> None:
    """Make the book style the default for the rest of the session (notebooks call this once)."""
    mpl.rcParams.update(book_style())


#: resolution of every stored figure (lab outputs and the chapter figures made from them)
FIGURE_DPI = 130


def figure_png(fig) -> bytes:
    """The PNG bytes of ``fig`` as the book stores it: :data:`FIGURE_DPI`, tight bounding box, no timestamp or
    software metadata (so the same figure gives the same bytes on every run)."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=FIGURE_DPI, bbox_inches="tight", metadata={"Software": None})
    return buf.getvalue()


def _glue_metadata(name: str | None) -> dict:
    # MyST-NB's glue format (myst_nb.glue with display=True), written without importing myst_nb, which Binder
    # and Colab do not have. tools/lab_figures.py collects these outputs for the chapters.
    if name is None:
        return {}
    if not name or any(c in name for c in "/\\ :"):
        raise ValueError(f"figure name {name!r}: use a non-empty name without spaces, colons or slashes")
    return {"scrapbook": {"name": name, "mime_prefix": ""}}


def show(fig, name: str | None = None) -> None:
    """Show ``fig`` as this notebook cell's PNG output and close it (the one way the labs output a figure).

    With ``name`` the output is tagged so that a chapter can show the same image, stored once (in the executed
    notebook): the book build writes it to ``_build/lab-figures/<name>.png`` and the chapter uses
    ``{figure} /_build/lab-figures/<name>.png``. Names are unique across the book. Outside IPython the figure is
    just closed.
    """
    import base64

    metadata = _glue_metadata(name)
    png = figure_png(fig)
    text = repr(fig)
    plt.close(fig)
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # plain Python: nothing to display
        return
    if get_ipython() is None:
        return
    display({"image/png": base64.b64encode(png).decode("ascii"), "text/plain": text}, raw=True, metadata=metadata)


def glue(name: str, value, display: bool = False) -> None:
    """Store ``value``'s display under ``name`` for the chapters' ``{glue:text}`` roles (MyST-NB's glue format,
    without needing myst_nb, which Binder and Colab do not have). With ``display=True`` it is shown too."""
    from IPython.core.formatters import format_display_data
    from IPython.display import display as ipy_display

    prefix = "" if display else "application/papermill.record/"
    bundle, metadata = format_display_data(value)
    metadata["scrapbook"] = {"name": _glue_metadata(name)["scrapbook"]["name"], "mime_prefix": prefix}
    ipy_display({prefix + k: v for k, v in bundle.items()}, raw=True, metadata=metadata)


def show_table(markdown: str, name: str | None = None) -> None:
    """Show a Markdown table as this cell's output; with ``name`` a chapter can include it from
    ``_build/lab-figures/<name>.md`` (see :func:`show`)."""
    metadata = _glue_metadata(name)
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return
    if get_ipython() is None:
        return
    display({"text/markdown": markdown, "text/plain": markdown}, raw=True, metadata=metadata)


@contextmanager
def style():
    """Context manager: the book style for the figures drawn inside it."""
    with mpl.rc_context(book_style()):
        yield


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def _new_axes(ax, figsize):
    if ax is not None:
        return ax.figure, ax
    with style():
        fig, ax = plt.subplots(figsize=figsize)
    return fig, ax


def _curves(runs) -> tuple[list[np.ndarray], list]:
    curves, groups = [], []
    for r in runs:
        if hasattr(r, "losses"):
            curves.append(np.asarray(r.losses, dtype=float))
            groups.append(getattr(r, "lr", None))
        else:
            curves.append(np.asarray(r, dtype=float))
            groups.append(None)
    if not curves:
        raise ValueError("no loss curves given: pass AdamRun objects or arrays of losses")
    return curves, groups


def plot_losses(runs, convex_value: float | None = None, ax=None, title: str | None = "training objective"):
    """Training objective per epoch of each Adam run (``AdamRun`` or array), the convex optimum dashed.

    Runs are coloured by learning rate. The y-range starts at the lowest value shown and is cut above at the
    largest value after the first 5 % of epochs, so the large initial objectives do not flatten the picture.
    """
    curves, groups = _curves(runs)
    with style():
        fig, ax = _new_axes(ax, (4.2, 3.2))
        lrs = [g for g in dict.fromkeys(groups) if g is not None]
        colour = {g: ADAM[i % len(ADAM)] for i, g in enumerate(lrs)}
        labelled = set()
        for c, g in zip(curves, groups):
            lab = None
            if g not in labelled:
                lab = f"Adam, lr={g:g}" if g is not None else "Adam"
                labelled.add(g)
            ax.plot(np.arange(c.size), c, color=colour.get(g, ADAM[0]), lw=1.0, alpha=0.85, label=lab)
        if convex_value is not None:
            ax.axhline(convex_value, color=CONVEX, ls="--", lw=2.0, label=f"convex optimum {_fmt(convex_value)}")
        tails = np.concatenate([c[max(1, c.size // 20):] for c in curves if c.size > 1] or [np.concatenate(curves)])
        lo = min(np.min(np.concatenate(curves)), convex_value if convex_value is not None else np.inf)
        hi = np.max(tails)
        if hi > lo:
            pad = 0.05 * (hi - lo)
            ax.set_ylim(lo - pad, hi + pad)
        ax.set_xlabel("epoch")
        ax.set_ylabel("objective (sum over samples)")
        if title:
            ax.set_title(title)
        ax.legend(loc="best")
    finals = np.array([c[-1] for c in curves])
    alt = (f"Line plot of the training objective against the epoch for {len(curves)} Adam run(s) over "
           f"{max(c.size for c in curves) - 1} epochs; final objectives range from {_fmt(finals.min())} to "
           f"{_fmt(finals.max())}.")
    if convex_value is not None:
        alt += (f" A dashed blue horizontal line marks the convex optimum {_fmt(convex_value)}; the best Adam run "
                f"ends {_fmt(finals.min() - convex_value)} above it.")
    return fig, alt


def _evaluate(f, grid):
    return np.asarray(f(grid) if callable(f) else f, dtype=float)


def plot_scores(grid, scores: dict, data=None, ax=None, title: str | None = "score"):
    """Score curves on ``grid`` (shape (k,)): ``scores`` maps a label to a callable or an array of values.

    Labels containing "true" are drawn black, "convex" blue, others from the Adam colours. ``data`` adds a rug.
    """
    grid = np.asarray(grid, dtype=float)
    with style():
        fig, ax = _new_axes(ax, (4.2, 3.2))
        k = 0
        desc = []
        for label, f in scores.items():
            v = _evaluate(f, grid)
            low = label.lower()
            if "true" in low:
                kw = dict(color=TRUE, ls=":", lw=2.0)
            elif "convex" in low:
                kw = dict(color=CONVEX, lw=2.0)
            else:
                kw = dict(color=ADAM[k % len(ADAM)], lw=1.2)
                k += 1
            ax.plot(grid, v, label=label, **kw)
            desc.append(f"{label} (from {_fmt(v[0])} at the left to {_fmt(v[-1])} at the right)")
        if data is not None:
            d = np.asarray(data, dtype=float)
            ax.plot(d, np.full(d.size, ax.get_ylim()[0]), "|", color=DATA, ms=6, alpha=0.6, label="data")
        ax.set_xlabel("x")
        ax.set_ylabel("s(x)")
        if title:
            ax.set_title(title)
        ax.legend(loc="best")
    alt = (f"Score functions on [{_fmt(grid[0])}, {_fmt(grid[-1])}]: " + "; ".join(desc) + "."
           + (" Tick marks along the bottom show the data points." if data is not None else ""))
    return fig, alt


def plot_samples(samples, density: Callable | None = None, data=None, bins: int = 60, ax=None,
                 label: str = "Langevin samples", title: str | None = "samples"):
    """Histogram (density-normalised) of 1-D samples against a density curve and, optionally, the data."""
    s = np.asarray(samples, dtype=float).reshape(-1)
    with style():
        fig, ax = _new_axes(ax, (4.2, 3.2))
        lo, hi = np.quantile(s, [0.001, 0.999])
        if data is not None:
            d = np.asarray(data, dtype=float)
            lo, hi = min(lo, d.min()), max(hi, d.max())
        pad = 0.1 * (hi - lo)
        edges = np.linspace(lo - pad, hi + pad, bins + 1)
        ax.hist(s, bins=edges, density=True, color=PALETTE["sky"], edgecolor="white", lw=0.3, label=label)
        if data is not None:
            ax.hist(d, bins=edges, density=True, histtype="step", color=DATA, lw=1.2, label="data")
        if density is not None:
            g = np.linspace(edges[0], edges[-1], 400)
            ax.plot(g, _evaluate(density, g), color=TRUE, lw=1.8, label="density")
        ax.set_xlabel("x")
        ax.set_ylabel("density")
        if title:
            ax.set_title(title)
        ax.legend(loc="upper left", fontsize=7.5)
    alt = (f"Histogram of {s.size} {label.lower()} with mean {_fmt(s.mean())} and standard deviation "
           f"{_fmt(s.std())}" + (", with the target density drawn as a black curve" if density is not None else "")
           + (" and the data as a grey outline histogram" if data is not None else "") + ".")
    return fig, alt


def three_panel(runs, convex_value: float, grid, predicted_score, true_score, samples, density=None, data=None,
                suptitle: str | None = None):
    """The paper-style figure: (left) Adam objectives with the convex optimum dashed, (middle) predicted against
    true score, (right) sample histogram against the density. Returns ``(fig, alt)``."""
    with style():
        fig, axes = plt.subplots(1, 3, figsize=(12, 3.4), layout="constrained")
        _, a1 = plot_losses(runs, convex_value, ax=axes[0])
        _, a2 = plot_scores(grid, {"convex (predicted)": predicted_score, "true score": true_score}, data=data,
                            ax=axes[1])
        _, a3 = plot_samples(samples, density, data=None, ax=axes[2])
        if suptitle:
            fig.suptitle(suptitle)
    alt = f"Three panels{': ' + suptitle if suptitle else ''}. Left: {a1} Middle: {a2} Right: {a3}"
    return fig, alt


def score_field_2d(score: Callable, density: Callable | None = None, xlim=(-3, 3), ylim=(-3, 3), n_arrows: int = 21,
                   samples=None, ax=None, title: str | None = "score field"):
    """Arrows of a 2-D score ``score(X) -> (k, 2)`` on a grid, over density contours, optionally with samples.

    Arrows point along the score; their lengths are proportional to its norm up to the 90th percentile of the
    norms on the grid and capped there, so both the weak and the strong parts of the field stay readable.
    """
    xs, ys = np.linspace(*xlim, n_arrows), np.linspace(*ylim, n_arrows)
    XX, YY = np.meshgrid(xs, ys)
    P = np.column_stack([XX.ravel(), YY.ravel()])
    S = np.asarray(score(P), dtype=float)
    if S.shape != P.shape:
        raise ValueError(f"score must map (k, 2) points to (k, 2) scores; got shape {S.shape}")
    norms = np.linalg.norm(S, axis=1)
    cap = np.quantile(norms, 0.9)
    cap = cap if cap > 0 else 1.0
    lengths = np.minimum(norms / cap, 1.0)  # arrows longer than the 90th percentile are drawn at full length
    U = np.divide(S, norms[:, None], out=np.zeros_like(S), where=norms[:, None] > 0) * lengths[:, None]
    with style():
        fig, ax = _new_axes(ax, (4.4, 4.2))
        if density is not None:
            fx, fy = np.linspace(*xlim, 120), np.linspace(*ylim, 120)
            FX, FY = np.meshgrid(fx, fy)
            D = np.asarray(density(np.column_stack([FX.ravel(), FY.ravel()])), dtype=float).reshape(FX.shape)
            ax.contour(FX, FY, D, levels=4, colors=TRUE, linewidths=0.8)
        ax.grid(False)
        if samples is not None:
            s = np.asarray(samples, dtype=float)
            ax.plot(s[:, 0], s[:, 1], ".", color=PALETTE["orange"], ms=3, alpha=0.7, label="samples", zorder=3)
        ax.quiver(P[:, 0], P[:, 1], U[:, 0], U[:, 1], color=CONVEX, angles="xy", scale_units="xy",
                  scale=(n_arrows - 1) / (xlim[1] - xlim[0]) / 0.9, width=0.004, zorder=4)
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
        ax.set_aspect("equal")
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
        if title:
            ax.set_title(title)
    i = int(np.argmax(norms))
    alt = (f"Vector field of a 2-D score on [{_fmt(xlim[0])}, {_fmt(xlim[1])}] x [{_fmt(ylim[0])}, {_fmt(ylim[1])}] "
           f"drawn as {P.shape[0]} blue arrows (lengths capped at the 90th percentile norm; the largest score, "
           f"{_fmt(norms[i])}, is at ({_fmt(P[i, 0])}, {_fmt(P[i, 1])}))"
           + (", over black contour lines of the density" if density is not None else "")
           + (f", with {len(samples)} samples as orange dots" if samples is not None else "") + ".")
    return fig, alt


# Kernel-free explorations (a slider over precomputed frames) live in convexscore.explore; the labs may import them
# from here too. Imported last: explore uses book_style above.
from .explore import slider_bundle, slider_figure  # noqa: E402

__all__ += ["slider_bundle", "slider_figure"]
