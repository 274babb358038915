"""Figures: one style, opaque white backgrounds, colour-blind-safe palette, and alt text for every figure."""
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from convexscore import datasets as D  # noqa: E402
from convexscore import plotting as P  # noqa: E402


def opaque_white_png(fig) -> bool:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    img = mpimg.imread(io.BytesIO(buf.getvalue()))
    corner = img[2, 2]
    return img.shape[2] == 3 or (np.all(img[..., 3] == 1.0) and np.allclose(corner[:3], 1.0))


@pytest.fixture(autouse=True)
def close_all():
    yield
    plt.close("all")


def fake_runs():
    class Run:
        def __init__(self, losses, lr):
            self.losses, self.lr = losses, lr

    e = np.arange(101)
    return [Run(5 * np.exp(-e / (20 + 5 * s)) - 1 + 0.1 * s, lr) for s in range(3) for lr in (1e-2, 1e-3)]


def test_three_panel_figure_and_alt_text():
    law = D.Gaussian()
    g = np.linspace(-3, 3, 50)
    fig, alt = P.three_panel(fake_runs(), -1.5, g, lambda x: -0.8 * x, law.score, law.sample(2000, 0), law.density,
                             data=law.sample(50, 1), suptitle="test")
    assert len(fig.axes) == 3
    assert "-1.5" in alt and "6 Adam run(s)" in alt and "2000" in alt and "Middle" in alt
    assert opaque_white_png(fig)
    dashed = [ln for ln in fig.axes[0].get_lines() if ln.get_linestyle() == "--"]
    assert len(dashed) == 1 and matplotlib.colors.to_hex(dashed[0].get_color()) == P.PALETTE["blue"].lower()


def test_panel_functions_return_figure_and_alt():
    g = np.linspace(-2, 2, 30)
    for fig, alt in (P.plot_losses([np.linspace(3, 1, 20)]), P.plot_scores(g, {"true": -g, "Adam": -0.5 * g}),
                     P.plot_samples(np.random.default_rng(0).standard_normal(500))):
        assert isinstance(fig, matplotlib.figure.Figure)
        assert isinstance(alt, str) and len(alt) > 40
        assert opaque_white_png(fig)


def test_score_field_2d():
    ring = D.Ring()
    fig, alt = P.score_field_2d(ring.score, ring.density, samples=ring.sample(100, 0), n_arrows=11)
    assert "121 blue arrows" in alt and "100 samples" in alt
    assert opaque_white_png(fig)
    with pytest.raises(ValueError, match=r"\(k, 2\)"):
        P.score_field_2d(lambda X: X[:, 0], n_arrows=5)


def test_style_and_palette():
    rc = P.book_style()
    assert rc["savefig.transparent"] is False and rc["figure.facecolor"] == "white"
    assert len(set(P.PALETTE.values())) == len(P.PALETTE)
    with P.style():
        assert matplotlib.rcParams["axes.facecolor"] == "white"


def test_drawing_into_existing_axes():
    fig, axes = plt.subplots(1, 2)
    f2, _ = P.plot_losses([np.ones(5)], convex_value=0.5, ax=axes[1])
    assert f2 is fig and len(axes[1].get_lines()) == 2
    with pytest.raises(ValueError, match="no loss curves"):
        P.plot_losses([])
