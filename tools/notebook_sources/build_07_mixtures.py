"""Cells of notebooks/07-mixtures.ipynb. Run ``.venv/bin/python tools/notebook_sources/build_07_mixtures.py``,
then ``make execute NB=notebooks/07-mixtures.ipynb`` to store the outputs (see nbbuild.py)."""
from nbbuild import Builder

b = Builder()
md, code = b.md, b.code

md(r"""
# Lab: mixtures, uniform data and small weight decay

This lab runs the statements of [Chapter 7](../book/07-mixtures.md): the learned score is piecewise linear with
kinks at data points and its log-density piecewise quadratic; repeated data raise the threshold; and along the
regularisation path the network goes from a single Gaussian to memorising the sample. It reproduces the
experiments behind Figures 4 (separated Gaussian mixture) and 7 (uniform data) of {cite:t}`zhang2024convex` and
adds the Old Faithful waiting times. Distances between laws are computed **exactly** from CDFs, since the learned
density is normalised in closed form.
""")

code(r"""
%matplotlib inline
from pathlib import Path
import numpy as np
import matplotlib.pyplot as plt
from scipy import stats
from myst_nb import glue

import convexscore as cs
from convexscore.datasets import GaussianMixture, Uniform, load_old_faithful
from convexscore.density import PiecewiseGaussianDensity

plt.rcParams.update({"figure.dpi": 110, "figure.facecolor": "white", "axes.facecolor": "white",
                     "axes.grid": True, "grid.alpha": 0.3, "font.size": 9})
BLUE, ORANGE, GREEN, RED, PURPLE, GREY = "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#777777"
FIGDIR = Path("07-figures")      # the book's Chapter 7 page shows these files
FIGDIR.mkdir(exist_ok=True)

def save(fig, name):
    fig.savefig(FIGDIR / f"{name}.png", dpi=130, metadata={"Software": None})
    glue(name, fig, display=False)

def neurons(fit, tol=1e-6):
    return int(np.sum(np.abs(fit.z) > tol))

def mixture_cdf(law, p):
    return sum(w * stats.norm.cdf(p, m, s) for w, m, s in zip(law.weights, law.means[:, 0], law.stds))

def w1_cdf(F, G, grid):
    # W1 = integral |F - G| (exact CDFs, trapezoid rule on a fine grid)
    return float(np.trapezoid(np.abs(F - G), grid))

LAW = GaussianMixture([-2.0, 2.0], 0.5)           # two well-separated modes
x = np.sort(LAW.sample(100, rng=0))
n = x.size
print(f"n = {n}, mean {x.mean():.3f}, biased variance {x.var():.3f}")
""")

md(r"""
## The shape of every learned score: kinks at data points, slope changes $a_j+b_j$

We fit the ReLU network at a small weight decay and compare the slope changes of the trained network, measured
by finite differences between data points, with $a_j+b_j=z_j+z_{n+j}+z_{2n+j}+z_{3n+j}$ read off the convex
solution. Then we compare the chapter's piecewise-quadratic log-density formula with the exact normalised density, up to a constant.
""")

code(r"""
beta = 4.0
fit = cs.fit_score_matching(x, beta)
assert fit.status == "optimal"
K = fit.knots.size                                    # unique data values (here all distinct)
a = fit.z[:K] + fit.z[K:2 * K]
b = fit.z[2 * K:3 * K] + fit.z[3 * K:]
mid = 0.5 * (x[1:] + x[:-1])
h = 1e-6
slope_mid = (fit.net(mid + h) - fit.net(mid - h)) / (2 * h)
slope_left = (fit.net(np.array([x[0] - 1.0])) - fit.net(np.array([x[0] - 2.0])))[0]
slope_right = (fit.net(np.array([x[-1] + 2.0])) - fit.net(np.array([x[-1] + 1.0])))[0]
slopes = np.concatenate([[slope_left], slope_mid, [slope_right]])
change = np.diff(slopes)                              # slope change at each data point
print(f"beta = {beta}: {neurons(fit)} neurons, kinks used at {np.sum(np.abs(a + b) > 1e-6)} of {n} data points")
print(f"max |measured slope change - (a_j + b_j)| = {np.abs(change - (a + b)).max():.1e}")
print(f"tail slopes: left {slope_left:.4f} = -sum b = {-b.sum():.4f}; right {slope_right:.4f} = sum a = {a.sum():.4f}")

dens = PiecewiseGaussianDensity.from_network(fit.net)
p = np.linspace(-5, 5, 1001)
b0 = float(fit.net.b2[0])
logpi = (0.5 * (a[None, :] * np.maximum(p[:, None] - x, 0) ** 2).sum(1)
         - 0.5 * (b[None, :] * np.maximum(x - p[:, None], 0) ** 2).sum(1) + b0 * p)
diff = logpi - dens.logpdf(p)
print(f"piecewise-quadratic formula minus exact log-density: constant up to {np.ptp(diff):.1e} (the constant is log Z)")
print(f"learned density: log-concave {dens.is_log_concave}, largest slope magnitude L = {dens.lipschitz:.3f}")
""")

md(r"""
## Repeated values raise the threshold

The Old Faithful waiting times are whole minutes; one value occurs $k=15$ times, so ReLU needs $\beta>7.5$ and the
absolute value $\beta>15$. Along the direction of the proof the convex objective decreases linearly at rate
$k-2\beta$, which we evaluate with a dense dictionary built here.
""")

code(r"""
wait = load_old_faithful("waiting")
vals, counts = np.unique(wait, return_counts=True)
k, u = counts.max(), vals[counts.argmax()]
print(f"n = {wait.size}, {vals.size} distinct values; {u:.0f} minutes occurs k = {k} times")
print(f"library thresholds: ReLU {cs.unboundedness_threshold(wait, 'relu'):.1f} (= k/2), "
      f"abs {cs.unboundedness_threshold(wait, 'abs'):.1f} (= k)")

def objective(z, A, d, beta):
    r = A @ z
    r = r - r.mean()
    return 0.5 * r @ r + d @ z + beta * np.abs(z).sum()

A1 = np.maximum(wait[:, None] - u, 0.0)              # the ramp (x - u)_+ on the data
d_ge, d_gt = float(np.sum(wait >= u)), float(np.sum(wait > u))
A = np.hstack([A1, A1])
d = np.array([d_ge, d_gt])
for beta_try in (7.0, 8.0):
    vals_s = [objective(np.array([-s, s]), A, d, beta_try) for s in (0.0, 10.0, 20.0)]
    print(f"beta = {beta_try}: objective along z = (-s, +s) at s = 0, 10, 20: "
          + ", ".join(f"{v:.1f}" for v in vals_s) + f"  (slope 2 beta - k = {2 * beta_try - k:.0f})")
try:
    cs.fit_score_matching(wait, 7.0)
except ValueError as err:
    print("fit at beta = 7:", str(err)[:120], "...")
""")

md(r"""
## Figure 4: a separated Gaussian mixture

At a small weight decay the learned score follows the two decreasing branches of the true score and rises
across the gap; the learned density (normalised exactly) has two modes. Langevin sampling with the learned score
(Algorithm 2, step $\epsilon=1/L$) reproduces the learned density.
""")

code(r"""
betas_fig = (60.0, 4.0)
fits = {b: cs.fit_score_matching(x, b) for b in betas_fig}
dens_fig = {b: PiecewiseGaussianDensity.from_network(f.net) for b, f in fits.items()}
p = np.linspace(-4.5, 4.5, 901)
L = dens_fig[4.0].lipschitz
run = cs.langevin(fits[4.0].net, np.random.default_rng(1).uniform(-4, 4, 20000), step=1.0 / L, n_steps=3000, rng=2)
grid = np.linspace(-10, 10, 40001)
w1_langevin = w1_cdf(np.searchsorted(np.sort(run.samples), grid) / run.samples.size, dens_fig[4.0].cdf(grid), grid)
for b, f in fits.items():
    print(f"beta = {b:4.1f}: {neurons(f)} neurons, value {f.value:.3f}, log-concave {dens_fig[b].is_log_concave}, "
          f"W1(learned, truth) = {w1_cdf(dens_fig[b].cdf(grid), mixture_cdf(LAW, grid), grid):.3f}")
print(f"Langevin, 20000 chains x 3000 steps of 1/L = {1 / L:.4f}: W1(samples, learned density) = {w1_langevin:.3f}")

fig, axes = plt.subplots(1, 3, figsize=(12, 3.3))
axes[0].plot(p, LAW.score(p), color="black", lw=2, label="true score")
for (b, f), col, ls in zip(fits.items(), (BLUE, RED), ("--", "-")):
    axes[0].plot(p, f.net(p), color=col, ls=ls, label=fr"convex, $\beta$ = {b:g} ({neurons(f)} neurons)")
    axes[1].plot(p, dens_fig[b].pdf(p), color=col, ls=ls, label=fr"learned, $\beta$ = {b:g}")
axes[0].set(ylim=(-10, 10), title="score", xlabel="x")
axes[1].plot(p, LAW.density(p), color="black", lw=2, label="true density")
axes[1].hist(x, bins=30, density=True, color=GREY, alpha=0.4, label="training data")
axes[1].set(title="density (exactly normalised)", xlabel="x")
axes[2].hist(run.samples, bins=80, range=(-4.5, 4.5), density=True, color=RED, alpha=0.5, label="Langevin samples")
axes[2].plot(p, dens_fig[4.0].pdf(p), color=RED, label=r"learned, $\beta$ = 4")
axes[2].plot(p, LAW.density(p), color="black", lw=1.5, ls=":", label="true density")
axes[2].set(title="Langevin with the learned score", xlabel="x")
for ax in axes:
    ax.legend(fontsize=7)
fig.tight_layout()
save(fig, "mix-fig-four")
""")

md(r"""
## Figure 7: uniform data

Uniform data on $[-1,1]$. The true score is $0$ inside; the learned score is Gaussian-like at large $\beta$, and at
small $\beta$ flattens in the middle and bends down steeply near the edges.
""")

code(r"""
unif = Uniform(-1.0, 1.0)
xu = np.sort(unif.sample(100, rng=3))
pu = np.linspace(-2.0, 2.0, 801)
fig, axes = plt.subplots(1, 2, figsize=(9, 3.3))
for b, col, ls in ((80.0, BLUE, "--"), (20.0, ORANGE, "-."), (5.0, RED, "-")):
    f = cs.fit_score_matching(xu, b)
    du = PiecewiseGaussianDensity.from_network(f.net)
    inner = np.abs(pu) < 0.5
    print(f"beta = {b:4.1f}: {neurons(f)} neurons, score slope on |x| < 0.5 between {np.diff(f.net(pu))[inner[1:]].min() / (pu[1] - pu[0]):.2f} "
          f"and {np.diff(f.net(pu))[inner[1:]].max() / (pu[1] - pu[0]):.2f}, mass outside [-1, 1] = {1 - du.cdf(1.0) + du.cdf(-1.0):.3f}")
    axes[0].plot(pu, f.net(pu), color=col, ls=ls, label=fr"$\beta$ = {b:g}")
    axes[1].plot(pu, du.pdf(pu), color=col, ls=ls, label=fr"$\beta$ = {b:g}")
axes[0].axhline(0, color="black", lw=2, label="true score (inside)")
axes[0].set(ylim=(-12, 12), title="score", xlabel="x")
axes[1].plot(pu, unif.density(pu), color="black", lw=2, label="uniform density")
axes[1].hist(xu, bins=20, density=True, color=GREY, alpha=0.4)
axes[1].set(title="learned density (exact)", xlabel="x")
for ax in axes:
    ax.legend(fontsize=7)
fig.tight_layout()
save(fig, "mix-fig-seven")
""")

md(r"""
## The regularisation path: memorising and smoothing

For $\beta$ from just above the unboundedness threshold to $n$ we record the number of kinks, the optimal value,
whether the learned score defines a (log-concave) density, and three exact Wasserstein-1 distances: learned
density to the truth, learned density to the training sample, and the **noise floor**, training sample to the
truth. We also report the library's sampling noise floor (two independent samples of size $n$). Finally we look at
where the learned density puts its mass at the smallest $\beta$.
""")

code(r"""
from convexscore.metrics import noise_floor
path_betas = 1.0 + np.geomspace(0.02, 0.95 * n - 1.0, 30)
emp_cdf = lambda pts: np.searchsorted(x, pts, side="right") / n
F_true = mixture_cdf(LAW, grid)
F_emp = emp_cdf(grid)
floor_exact = w1_cdf(F_emp, F_true, grid)
floor_pairs = noise_floor("w1", LAW.sample, n, repeats=50, rng=4)
rows = []
for b in path_betas:
    f = cs.fit_score_matching(x, b)
    assert f.status == "optimal"
    z = f.z
    kinks = int(np.sum(np.abs(z[:K] + z[K:2 * K] + z[2 * K:3 * K] + z[3 * K:]) > 1e-6))
    try:
        dd = PiecewiseGaussianDensity.from_network(f.net)
        Fl = dd.cdf(grid)
        rows.append((b, kinks, f.value, True, dd.is_log_concave, w1_cdf(Fl, F_true, grid), w1_cdf(Fl, F_emp, grid)))
    except ValueError:
        rows.append((b, kinks, f.value, False, False, np.nan, np.nan))
R = np.array(rows, dtype=float)
print(f"noise floor: W1(training sample, truth) = {floor_exact:.3f}; two independent samples of n = {n}: {floor_pairs:.3f}")
print(f"normalisable at {int(R[:, 3].sum())} of {len(R)} values of beta; log-concave at {int(R[:, 4].sum())}")
best = np.nanargmin(R[:, 5])
print(f"best W1(learned, truth) = {R[best, 5]:.3f} at beta = {R[best, 0]:.2f} ({int(R[best, 1])} kinks)")
for i in (0, 5, 10, best, 20, 25, len(R) - 1):
    b, kk, v, ok, lc, w_true, w_emp = R[i]
    print(f"beta = {b:7.3f}: kinks {int(kk):3d}, value {v:10.2f}, W1 to truth {w_true:.3f}, W1 to sample {w_emp:.3f}")
d_small = PiecewiseGaussianDensity.from_network(cs.fit_score_matching(x, path_betas[0]).net)
m_small, v_small = d_small.moments()
print(f"beta = {path_betas[0]:.3f}: learned mean {m_small:.4f}, sd {np.sqrt(v_small):.4f}; largest data point {x[-1]:.4f}; "
      f"score there {float(d_small.score(np.array([x[-1]]))[0]):.1f}")
""")

code(r"""
fig, axes = plt.subplots(1, 3, figsize=(12, 3.3))
axes[0].semilogx(R[:, 0] - 1, R[:, 1], "o-", ms=3, color="black")
axes[0].set(xlabel=r"$\beta - 1$", ylabel="kinks used", title="number of kinks")
axes[1].semilogx(R[:, 0] - 1, R[:, 2], "o-", ms=3, color=BLUE)
axes[1].set(xlabel=r"$\beta - 1$", ylabel="optimal value", title="optimal value", yscale="symlog")
axes[2].semilogx(R[:, 0] - 1, R[:, 5], "o-", ms=3, color=RED, label="learned vs truth")
axes[2].semilogx(R[:, 0] - 1, R[:, 6], "s-", ms=3, color=GREEN, label="learned vs training sample")
axes[2].axhline(floor_exact, color="black", ls="--", label="noise floor: sample vs truth")
axes[2].set(xlabel=r"$\beta - 1$", ylabel=r"$W_1$", title="collapse (left), fit, over-smooth (right)")
axes[2].legend(fontsize=7)
fig.tight_layout()
save(fig, "mix-fig-path")
""")

md(r"""
## Old Faithful

The waiting times between eruptions have two modes. Even just above the threshold $7.5$ (raised by the repeated
values) the learned density is smooth and bimodal; at large $\beta$ it becomes a single broad bump.
""")

code(r"""
pw = np.linspace(35, 105, 1401)
fig, ax = plt.subplots(figsize=(7, 3.3))
ax.hist(wait, bins=np.arange(40.5, 98.5, 1.0), density=True, color=GREY, alpha=0.45, label="waiting times (1-min bins)")
for b, col, ls in ((7.6, PURPLE, "-"), (20.0, RED, "-"), (100.0, BLUE, "--")):
    f = cs.fit_score_matching(wait, b)
    try:
        dw = PiecewiseGaussianDensity.from_network(f.net)
        mean, var = dw.moments()
        print(f"beta = {b:5.1f}: {neurons(f)} neurons, value {f.value:.1f}, mean {mean:.2f} min, sd {np.sqrt(var):.2f} min, "
              f"log-concave {dw.is_log_concave}")
        ax.plot(pw, dw.pdf(pw), color=col, ls=ls, label=fr"learned, $\beta$ = {b:g}")
    except ValueError as err:
        print(f"beta = {b:5.1f}: {neurons(f)} neurons; no density: {str(err)[:60]}")
print(f"sample: mean {wait.mean():.2f} min, sd {wait.std():.2f} min")
ax.set(xlabel="waiting time (minutes)", ylabel="density", title="Old Faithful: learned densities", ylim=(0, 0.07))
ax.legend(fontsize=7)
fig.tight_layout()
save(fig, "mix-fig-faithful")
""")

md(r"""
## Exercise checks

The exercise on repeated points for the absolute value: on the data $(0,0,1)$ the threshold is $\max(1,k)=2$.
The exercise on bimodality: the slope of the mixture score at $0$ is $m^2-1$.
""")

code(r"""
x3 = np.array([0.0, 0.0, 1.0])
print(f"data (0, 0, 1), abs: threshold {cs.unboundedness_threshold(x3, 'abs'):.1f}; "
      f"value at beta = 2.5: {cs.fit_score_matching(x3, 2.5, activation='abs').value:.4f}")
try:
    cs.fit_score_matching(x3, 1.5, activation="abs")
except ValueError as err:
    print("beta = 1.5:", str(err)[:70], "...")
for m in (0.8, 1.0, 1.5):
    law = GaussianMixture([-m, m], 1.0)
    slope0 = (law.score(np.array([1e-5])) - law.score(np.array([-1e-5])))[0] / 2e-5
    print(f"m = {m}: score slope at 0 = {slope0:.4f}, m^2 - 1 = {m * m - 1:.4f}")
""")

b.write("07-mixtures.ipynb")
