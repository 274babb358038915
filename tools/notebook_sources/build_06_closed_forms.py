"""Cells of notebooks/06-closed-forms.ipynb. Run ``.venv/bin/python tools/notebook_sources/build_06_closed_forms.py``,
then ``make execute NB=notebooks/06-closed-forms.ipynb`` to store the outputs (see nbbuild.py)."""
from nbbuild import Builder

b = Builder()
md, code = b.md, b.code

md(r"""
# Lab: closed-form scores in the large weight-decay regime

This lab checks every closed form of [Chapter 6](../book/06-closed-forms.md) against the convex solver of
`convexscore`, reproduces Figures 1, 2 and 6 of {cite:t}`zhang2024convex`, and draws the phase diagram over the
weight decay $\beta$ for the four architectures. Everything is deterministic (fixed seeds) and runs in seconds.

The closed forms are computed twice where it matters: once with the library's `convexscore` functions and once
*independently* here, from the dense dictionary of the chapter's table, so that a mistake in one does not hide a
mistake in the other.
""")

code(r"""
%matplotlib inline
import numpy as np
import matplotlib.pyplot as plt
import ipywidgets as widgets
from IPython.display import display
from myst_nb import glue

import convexscore as cs
from convexscore.density import PiecewiseGaussianDensity

plt.rcParams.update({"figure.dpi": 110, "figure.facecolor": "white", "axes.facecolor": "white",
                     "axes.grid": True, "grid.alpha": 0.3, "font.size": 9})
# Okabe-Ito colours (colour-blind safe)
BLUE, ORANGE, GREEN, RED, PURPLE, GREY = "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#777777"

rng = np.random.default_rng(0)
x = np.sort(rng.normal(size=30))
n, xbar, s2 = x.size, x.mean(), x.var()          # biased variance, as in the book
print(f"n = {n}, mean = {xbar:.4f}, biased variance = {s2:.4f}")

from pathlib import Path
FIGDIR = Path("06-figures")      # the book's Chapter 6 page shows these files
FIGDIR.mkdir(exist_ok=True)

def save(fig, name):
    fig.savefig(FIGDIR / f"{name}.png", dpi=130, metadata={"Software": None})
    glue(name, fig, display=False)

def neurons(fit, tol=1e-6):
    # number of neurons = entries of z above 1e-6 (the default solver returns exact zeros; solver="cvxpy", an
    # interior-point method, leaves entries ~1e-7 where z should be 0)
    return int(np.sum(np.abs(fit.z) > tol))
""")

md(r"""
## An independent dictionary

The columns and counts of the chapter's table, built densely. Rows are data points, columns are kinks.
""")

code(r"""
def dictionary(x, activation):
    D = x[:, None] - x[None, :]                       # D[i, j] = x_i - x_j
    if activation == "relu":
        R, L = np.maximum(D, 0), np.maximum(-D, 0)
        A = np.hstack([R, R, L, L])
        d = np.concatenate([(D >= 0).sum(0), (D > 0).sum(0), -(D <= 0).sum(0), -(D < 0).sum(0)])
        active = (0, 3 * x.size - 1)                  # (x - x_1)_+ and (x_n - x)_+
    else:
        B = np.abs(D)
        A = np.hstack([B, B])
        d = np.concatenate([np.where(D >= 0, 1, -1).sum(0), np.where(D > 0, 1, -1).sum(0)])
        active = (0, 2 * x.size - 1)                  # |x - x_1| (count n) and |x - x_n| (count -n)
    return A, d.astype(float), active

def beta_tilde_by_hand(x, activation):
    A, d, active = dictionary(x, activation)
    n, xt = x.size, x - x.mean()
    c = A.T @ xt / (xt @ xt)
    bounds = [0.0]
    for k in range(d.size):
        if k in active:
            continue
        if c[k] < 1:
            bounds.append((d[k] - n * c[k]) / (1 - c[k]))
        if c[k] > -1:
            bounds.append((n * c[k] - d[k]) / (1 + c[k]))
    return max(bounds)

for act in ("relu", "abs"):
    A, d, _ = dictionary(x, act)
    c = A.T @ (x - xbar) / (n * s2)
    print(f"{act:4s}: ||d||_inf = {np.abs(d).max():.0f} (n = {n}),  c_k in [{c.min():.3f}, {c.max():.3f}],  "
          f"beta_tilde: by hand {beta_tilde_by_hand(x, act):.6f}, library {cs.two_neuron_threshold(x, act):.6f}")
""")

md(r"""
## The zero network iff $\beta\ge n$

At $\beta=n$ and above, the solver returns $z=0$ and value $0$; just below, it does not.
""")

code(r"""
for act in ("relu", "abs"):
    for beta in (n - 0.5, n, n + 2.0):
        fit = cs.fit_score_matching(x, beta, activation=act)
        assert fit.status == "optimal"
        print(f"{act:4s} beta = {beta:5.1f}: value {fit.value:+.6f}, neurons {neurons(fit)}, "
              f"max|z| = {np.abs(fit.z).max():.1e}")
""")

md(r"""
## Two neurons for $\tilde\beta\le\beta<n$

Just above $\tilde\beta$ the solver's solution has exactly the two nonzeros of $z(\alpha)$ and the value
$-(n-\beta)^2/(2n\sigma^2)$; just below, a third neuron appears and the value drops below the closed form.
We also check the optimality conditions of the chapter's lemma for $z(\alpha)$ directly, with the independent dictionary.
""")

code(r"""
for act in ("relu", "abs"):
    bt = cs.two_neuron_threshold(x, act)
    A, d, active = dictionary(x, act)
    for beta in (bt + 0.05, 0.5 * (bt + n), bt - 0.5):
        fit = cs.fit_score_matching(x, beta, activation=act)
        t = (n - beta) / (n * s2)
        closed = -(n - beta) ** 2 / (2 * n * s2)
        support = np.flatnonzero(np.abs(fit.z) > 1e-6 * t)
        lam = -t * (x - xbar)                          # predicted scores at the data for z(alpha)
        g = A.T @ lam + d
        others = np.delete(np.abs(g), active).max()    # must be <= beta for z(alpha) to be optimal
        print(f"{act:4s} beta = {beta:6.3f} ({'above' if beta >= bt else 'below'} beta_tilde = {bt:.3f}): "
              f"support {support.tolist()}, value {fit.value:.6f}, closed form {closed:.6f}, "
              f"max_k |g_k| off the support {others:.3f} {'<=' if others <= beta else '>'} beta")
""")

md(r"""
## The ReLU score (7)

The solver picks one member of the family $z(\alpha)$; we read $\alpha=-z_1/t$ off its solution and compare the
trained network with formula (7), written out here from the chapter, at 2001 points inside and outside the data
range. Every $\alpha\in[0,1]$ attains the same loss: we rebuild the network for several $\alpha$ and evaluate the
non-convex objective on it.
""")

code(r"""
def score7(p, x, beta, alpha):
    n, xbar, s2 = x.size, x.mean(), x.var()
    t = (n - beta) / (n * s2)
    x1, xn = x[0], x[-1]
    return np.where(p < x1, -t * ((1 - alpha) * (p - x1) + (x1 - xbar)),
           np.where(p > xn, -t * (alpha * (p - xn) + (xn - xbar)), -t * (p - xbar)))

def score24(p, x, beta, alpha):
    n, xbar, s2 = x.size, x.mean(), x.var()
    t = (n - beta) / (n * s2)
    x1, xn = x[0], x[-1]
    return np.where(p < x1, -(1 - 2 * alpha) * t * (p - xbar) - 2 * alpha * t * (x1 - xbar),
           np.where(p > xn, (1 - 2 * alpha) * t * (p - xbar) - 2 * (1 - alpha) * t * (xn - xbar), -t * (p - xbar)))

beta = 0.5 * (cs.two_neuron_threshold(x, "relu") + n)
t = (n - beta) / (n * s2)
grid = np.linspace(x[0] - 3, x[-1] + 3, 2001)
fit = cs.fit_score_matching(x, beta, activation="relu")
alpha_solver = -fit.z[0] / t
print(f"beta = {beta:.3f}, t = {t:.4f}; the solver chose alpha = {alpha_solver:.4f}")
print(f"max |network - (7)| on the grid: {np.abs(fit.net(grid) - score7(grid, x, beta, alpha_solver)).max():.1e}")
for alpha in (0.0, 0.25, 0.5, 1.0):
    net = cs.two_neuron_network(x, beta, "relu", alpha=alpha)
    loss = cs.score_matching_loss(net, x, beta)
    err = np.abs(net(grid) - score7(grid, x, beta, alpha)).max()
    print(f"alpha = {alpha:4.2f}: loss {loss:.6f} (optimum {fit.value:.6f}), max |net - (7)| = {err:.1e}")
""")

md(r"""
The log-density of (7) is normalised exactly (`PiecewiseGaussianDensity`, closed-form Gaussian and exponential
masses); it is concave for every $\alpha$, and its smoothness constant is $t$.
""")

code(r"""
alphas = (0.0, 0.5, 1.0)
colours = (BLUE, ORANGE, GREEN)
dens_relu = {a: PiecewiseGaussianDensity.from_network(cs.two_neuron_network(x, beta, "relu", alpha=a)) for a in alphas}
for a, dens in dens_relu.items():
    mean, var = dens.moments()
    print(f"alpha = {a:3.1f}: log-concave {dens.is_log_concave}, L = {dens.lipschitz:.4f} (t = {t:.4f}), "
          f"log Z = {dens.log_normaliser:.4f}, mean {mean:+.4f}, variance {var:.4f}")
print(f"inside the data range the density is N(mean {xbar:.4f}, variance n s2/(n - beta) = {n * s2 / (n - beta):.4f})")

fig, axes = plt.subplots(1, 2, figsize=(9, 3.3))
for a, col in zip(alphas, colours):
    axes[0].plot(grid, score7(grid, x, beta, a), color=col, label=fr"$\alpha$ = {a}")
    axes[1].plot(grid, dens_relu[a].logpdf(grid), color=col, label=fr"$\alpha$ = {a}")
for ax in axes:
    ax.axvspan(x[0], x[-1], color=GREY, alpha=0.12, lw=0)
    ax.plot(x, np.full(n, ax.get_ylim()[0]), "|", color="black", ms=8)
    ax.set_xlabel("x")
axes[0].set(ylabel="score f(x)", title="ReLU score (7)")
axes[1].set(ylabel="log density", title="its integral, normalised: always concave")
axes[0].legend(fontsize=8)
fig.tight_layout()
save(fig, "cf-fig-relu")
""")

md(r"""
## The absolute-value score (24): only the minimum-norm solution is a density

The solver returns the minimum-norm member $\alpha=\frac12$: the library's default solver picks it among the
equally good solutions on purpose, and CVXPY's interior-point iterates (`solver="cvxpy"`) converge to it. The other members
have the same loss, but their tail slopes $\mp(1-2\alpha)t$ make $e^{\int f}$ non-integrable, and the density
constructor refuses them.
""")

code(r"""
beta_a = 0.5 * (cs.two_neuron_threshold(x, "abs") + n)
t_a = (n - beta_a) / (n * s2)
fit_a = cs.fit_score_matching(x, beta_a, activation="abs")
alpha_a = -fit_a.z[0] / t_a
print(f"beta = {beta_a:.3f}: solver alpha = {alpha_a:.6f} (|alpha - 1/2| = {abs(alpha_a - 0.5):.1e}), "
      f"||z||_2 = {np.linalg.norm(fit_a.z):.6f}, minimum-norm ||z(1/2)||_2 = {t_a / np.sqrt(2):.6f}")
print(f"max |network - (24) at alpha = 1/2| = {np.abs(fit_a.net(grid) - score24(grid, x, beta_a, 0.5)).max():.1e}")
for alpha in (0.25, 0.5, 0.75):
    net = cs.two_neuron_network(x, beta_a, "abs", alpha=alpha)
    loss = cs.score_matching_loss(net, x, beta_a)
    try:
        dens = PiecewiseGaussianDensity.from_network(net)
        verdict = f"a density: log-concave {dens.is_log_concave}, L = {dens.lipschitz:.4f}"
    except ValueError as err:
        verdict = "no density (" + str(err).split(":")[0] + ")"
    print(f"alpha = {alpha:4.2f}: ||z|| = {t_a * np.hypot(alpha, 1 - alpha):.4f}, loss {loss:.6f}; {verdict}")
""")

code(r"""
dens_abs = PiecewiseGaussianDensity.from_network(cs.two_neuron_network(x, beta_a, "abs", alpha=0.5))
x1, xn = x[0], x[-1]
# Laplace tails: decay rates t (xbar - x1) on the left and t (xn - xbar) on the right (exercise 'Laplace tails by hand')
left_rate, right_rate = dens_abs.score(np.array([x1 - 1.0]))[0], -dens_abs.score(np.array([xn + 1.0]))[0]
print(f"left tail rate {left_rate:.4f} = t (xbar - x1) = {t_a * (xbar - x1):.4f}; "
      f"right tail rate {right_rate:.4f} = t (xn - xbar) = {t_a * (xn - xbar):.4f}")

fig, axes = plt.subplots(1, 2, figsize=(9, 3.3))
anti = lambda f, p: np.concatenate([[0.0], np.cumsum(0.5 * (f[1:] + f[:-1]) * np.diff(p))])  # trapezoid integral
for a, col in zip((0.25, 0.5, 0.75), (BLUE, ORANGE, GREEN)):
    f = score24(grid, x, beta_a, a)
    axes[0].plot(grid, f, color=col, label=fr"$\alpha$ = {a}")
    F = anti(f, grid)
    axes[1].plot(grid, F - F[np.searchsorted(grid, xbar)], color=col, ls="-" if a == 0.5 else "--",
                 label=fr"$\alpha$ = {a}" + (" (normalisable)" if a == 0.5 else " (not a density)"))
for ax in axes:
    ax.axvspan(x1, xn, color=GREY, alpha=0.12, lw=0)
    ax.set_xlabel("x")
axes[0].set(ylabel="score f(x)", title="absolute-value score (24)")
axes[1].set(ylabel=r"$\int f$ (0 at the mean)", title="its integral: concave only for α = 1/2")
axes[1].legend(fontsize=7.5)
fig.tight_layout()
save(fig, "cf-fig-abs")
""")

md(r"""
## A skip connection learns the maximum-likelihood Gaussian

Above $\beta_{\rm skip}=\max_k|d_k-nc_k|$ the skip network has no neurons, $v=-1/\sigma^2$ and $b_0=\bar x/\sigma^2$
with the *biased* variance; below it neurons appear and the value drops below $-n/(2\sigma^2)$.
""")

code(r"""
for act in ("relu", "abs"):
    A, d, _ = dictionary(x, act)
    c = A.T @ (x - xbar) / (n * s2)
    b_skip = cs.gaussian_skip_threshold(x, act)
    print(f"{act}+skip: beta_skip by hand {np.abs(d - n * c).max():.6f}, library {b_skip:.6f}")
    for beta in (b_skip + 0.5, b_skip - 0.5):
        fit = cs.fit_score_matching(x, beta, activation=act, skip=True)
        v, b0 = float(fit.net.V[0, 0]), float(fit.net.b2[0])
        print(f"   beta = {beta:6.3f}: neurons {neurons(fit)}, v = {v:.5f} (-1/s2 = {-1 / s2:.5f}), "
              f"b0 = {b0:.5f} (xbar/s2 = {xbar / s2:.5f}), value {fit.value:.5f} (-n/(2 s2) = {-n / (2 * s2):.5f})")
""")

md(r"""
## Figure 6: the score of a Gaussian and of a separated mixture

The exact scores, next to what the convex program learns from 60 samples of each law at a large weight decay
($\beta=54$, in the two-neuron regime) and a small one ($\beta=8$). Two neurons give a Gaussian-like score for both
laws, which is right for the first and useless for the second; the mixture needs the small $\beta$ and its kinks.
""")

code(r"""
from convexscore.datasets import GaussianMixture
laws = {"single Gaussian N(0, 1)": GaussianMixture([0.0], 1.0),
        "mixture ½N(-3, 0.5²) + ½N(3, 0.5²)": GaussianMixture([-3.0, 3.0], 0.5)}
fig, axes = plt.subplots(1, 2, figsize=(9, 3.3))
for ax, (name, law) in zip(axes, laws.items()):
    xs = np.sort(law.sample(60, rng=1))
    p = np.linspace(-5, 5, 801)
    ax.plot(p, law.score(p), color="black", lw=2, label="true score")
    for beta, col, ls in ((54.0, BLUE, "--"), (8.0, RED, "-")):
        fit = cs.fit_score_matching(xs, beta)
        ax.plot(p, fit.net(p), color=col, ls=ls, label=fr"convex fit, $\beta$ = {beta:g} ({neurons(fit)} neurons)")
        print(f"{name}: beta = {beta:4.1f}, neurons {neurons(fit)}, value {fit.value:.3f}")
    ax.plot(xs, np.full(xs.size, -9.5), "|", color=GREY, ms=8)
    ax.set(title=name, xlabel="x", ylim=(-10, 10))
    ax.legend(fontsize=7)
axes[0].set_ylabel("score")
fig.tight_layout()
save(fig, "cf-fig-six")
""")

md(r"""
## The phase diagram

For each architecture we solve on a grid of $\beta$ from just above the unboundedness threshold to beyond $n$, and
record the number of neurons and the optimal value. The regime predicted by the chapter's thresholds is compared
with what the solver returns: zero network (0 neurons) for $\beta\ge n$; two neurons for $\tilde\beta\le\beta<n$;
the Gaussian (0 neurons) for skip networks above $\beta_{\rm skip}$.
""")

code(r"""
ARCHS = (("relu", False), ("abs", False), ("relu", True), ("abs", True))
def arch_name(act, skip):
    return ("ReLU" if act == "relu" else "abs") + (" + skip" if skip else "")

betas = {}
phase = {}
plot_grid = np.linspace(x[0] - 2, x[-1] + 2, 301)
for act, skip in ARCHS:
    lo = cs.unboundedness_threshold(x, act, skip)
    bs = np.unique(np.concatenate([lo + np.geomspace(0.05, n + 6 - lo, 36), [n - 1e-3, n]]))
    rows = []
    for b in bs:
        fit = cs.fit_score_matching(x, b, activation=act, skip=skip)
        assert fit.status == "optimal", fit.status
        rows.append((b, neurons(fit), fit.value, fit.net(plot_grid)))
    phase[(act, skip)] = rows
    betas[(act, skip)] = bs

agree = 0
total = 0
for act, skip in ARCHS:
    for b, width, value, _ in phase[(act, skip)]:
        if skip:
            predicted = 0 if b >= cs.gaussian_skip_threshold(x, act) else None
        else:
            predicted = 0 if b >= n else (2 if b >= cs.two_neuron_threshold(x, act) else None)
        if predicted is not None:
            total += 1
            agree += int(width == predicted)
print(f"solver width agrees with the predicted regime at {agree} of {total} grid points where the chapter predicts it")
""")

code(r"""
fig, axes = plt.subplots(2, 4, figsize=(12, 5), sharex="col")
for j, (act, skip) in enumerate(ARCHS):
    rows = phase[(act, skip)]
    b = np.array([r[0] for r in rows]); w = np.array([r[1] for r in rows]); v = np.array([r[2] for r in rows])
    lo = cs.unboundedness_threshold(x, act, skip)
    ax_v, ax_w = axes[0, j], axes[1, j]
    ax_v.plot(b, v, "o-", ms=3, color=BLUE, label="solver")
    if skip:
        edges = [(lo, cs.gaussian_skip_threshold(x, act), "neurons", ORANGE),
                 (cs.gaussian_skip_threshold(x, act), b.max(), "Gaussian", GREEN)]
        ax_v.axhline(-n / (2 * s2), color=RED, ls="--", label=r"$-n/(2\sigma^2)$")
    else:
        bt = cs.two_neuron_threshold(x, act)
        edges = [(lo, bt, "other", ORANGE), (bt, n, "two", GREEN), (n, b.max(), "zero", PURPLE)]
        bb = np.linspace(bt, n, 50)
        ax_v.plot(bb, -(n - bb) ** 2 / (2 * n * s2), color=RED, ls="--", label="closed form")
    for a, e, label, col in edges:
        for ax in (ax_v, ax_w):
            ax.axvspan(a, e, color=col, alpha=0.15, lw=0)
        ax_w.text(0.5 * (a + e), 0.92, label, transform=ax_w.get_xaxis_transform(), ha="center", fontsize=7)
    ax_w.step(b, w, where="mid", color="black")
    ax_v.set(title=arch_name(act, skip), ylim=(max(v.min(), -60), 2))
    ax_w.set(xlabel=r"weight decay $\beta$", ylim=(-0.5, max(w.max(), 4) + 1.5))
    ax_v.axvline(lo, color=GREY, lw=1)
axes[0, 0].set_ylabel("optimal value")
axes[1, 0].set_ylabel("number of neurons")
axes[0, 0].legend(fontsize=7)
fig.tight_layout()
save(fig, "cf-fig-phase")
""")

md(r"""
### Interactive version

In Jupyter, move the slider: the fitted score for the chosen architecture and weight decay (from the fits above,
so nothing is re-solved). The HTML book shows the static small multiples above instead.
""")

code(r"""
# NBVAL_IGNORE_OUTPUT
arch_box = widgets.Dropdown(options=[(arch_name(*a), a) for a in ARCHS], value=("relu", False), description="network")
idx_box = widgets.IntSlider(value=30, min=0, max=len(betas[("relu", False)]) - 1, description="β index")
out = widgets.Output()

def redraw(*_):
    rows = phase[arch_box.value]
    b, width, value, f = rows[min(idx_box.value, len(rows) - 1)]
    with out:
        out.clear_output(wait=True)
        fig, ax = plt.subplots(figsize=(5, 3))
        ax.plot(plot_grid, f, color=BLUE)
        ax.plot(x, np.zeros(n), "|", color="black", ms=10)
        ax.set(xlabel="x", ylabel="score", ylim=(-8, 8),
               title=f"{arch_name(*arch_box.value)}: β = {b:.2f}, {width} neurons, value {value:.2f}")
        plt.show()

arch_box.observe(redraw, names="value")
idx_box.observe(redraw, names="value")
redraw()
display(widgets.VBox([widgets.HBox([arch_box, idx_box]), out]))
""")

md(r"""
## Exercise checks

The exercise on two data points claims that the two-neuron regime is then all of $(1,2)$, the exercise on affine
invariance that the thresholds are invariant under increasing affine maps, the exercise on the value curve that
$dp^\star/d\beta=\|z^\star\|_1=t$, and the exercise on Laplace tails gives the normalising constant of the
Gaussian–Laplace density by hand.
""")

code(r"""
print(f"two points: beta_tilde = {cs.two_neuron_threshold(np.array([0.0, 1.0]), 'relu'):.3f} (<= 1)")
# The value curve: d p*/d beta = ||z*||_1 = t in the two-neuron regime (central difference of solver values)
b_mid, db = 0.5 * (cs.two_neuron_threshold(x, "relu") + n), 0.01
slope = (cs.fit_score_matching(x, b_mid + db).value - cs.fit_score_matching(x, b_mid - db).value) / (2 * db)
print(f"d p*/d beta at beta = {b_mid:.3f}: {slope:.5f}; t = ||z*||_1 = {(n - b_mid) / (n * s2):.5f}")
# Laplace tails by hand: the normaliser of the Gaussian-Laplace density against the density module
from scipy.stats import norm
tt, x1, xn = (n - beta_a) / (n * s2), x[0], x[-1]
V = lambda p: 0.5 * tt * (p - xbar) ** 2
Z = (np.sqrt(2 * np.pi / tt) * (norm.cdf(np.sqrt(tt) * (xn - xbar)) - norm.cdf(np.sqrt(tt) * (x1 - xbar)))
     + np.exp(-V(xn)) / (tt * (xn - xbar)) + np.exp(-V(x1)) / (tt * (xbar - x1)))
ref = float(dens_abs.logpdf(np.array([xbar]))[0]) + V(xbar)      # log density at the mean, shifted to V's constant
print(f"log Z by hand {np.log(Z):.10f}; from the density module {-ref:.10f}")
y = 3.0 * x - 7.0
for act in ("relu", "abs"):
    print(f"{act}: beta_tilde(x) = {cs.two_neuron_threshold(x, act):.6f}, beta_tilde(3x - 7) = "
          f"{cs.two_neuron_threshold(y, act):.6f}; beta_skip: {cs.gaussian_skip_threshold(x, act):.6f} vs "
          f"{cs.gaussian_skip_threshold(y, act):.6f}")
""")

b.write("06-closed-forms.ipynb")
