"""Cells of notebooks/10-annealed.ipynb. Run ``.venv/bin/python tools/notebook_sources/build_10_annealed.py``,
then ``make execute NB=notebooks/10-annealed.ipynb`` to store the outputs (see nbbuild.py)."""
from nbbuild import Builder

b = Builder()
md, code = b.md, b.code

md(r"""
# Lab: annealed Langevin with convex denoisers

This lab runs Algorithm 3 of {cite:t}`zhang2024convex` as described in [Chapter 10](../book/10-annealed.md): one
convex DSM fit per noise level, then annealed Langevin sampling. It reproduces (in our own, downsized settings) the
sampling panels of Figure 5 and Figures 11 to 13, measures W1 and KS distances against the noise floor over three
seeds, and runs a two-dimensional example with the multivariate program (11).

**Our settings (downsized to run in about a minute on one core).** Data: $n=40$ points from $\Normal(0,1)$, each
paired with ten noise draws (400 pairs per level). Noise levels: $L=5$ on a uniform grid from $\sigma_1=1$ to
$\sigma_5=0.1$. Weight decay $\beta_i=10/\sigma_i$ at level $i$ (the chapter explains the scaling). Adam: width 20,
100 full-batch epochs, learning rates $10^{-3},10^{-2},10^{-1}$, seed 0, on the same noise draws and the same
objective. Sampling: 2,000 chains from Uniform$[-4,4]$, $T=100$ steps per level, $\epsilon=0.01$ (so
$\alpha_i=\epsilon\sigma_i^2/\sigma_L^2$ runs from $1$ down to $0.01$), no final denoising step.
""")

code(r"""
%matplotlib inline
from pathlib import Path
import numpy as np
import torch
import matplotlib.pyplot as plt
from myst_nb import glue

import convexscore as cs
from convexscore.datasets import GaussianMixture
from convexscore.metrics import ks_distance, mmd2, noise_floor, wasserstein1
from convexscore.multivariate import arrangement_patterns, convex_denoising_score_matching, reconstruct_network
from convexscore.network import denoising_score_matching_loss
from convexscore.plotting import ADAM, PALETTE, apply_style

torch.set_num_threads(1)
# Pinned solver: certified values agree across solvers to 1e-6, but neuron counts at small beta depend on how a
# solver rounds near-zero weights, so the printed counts are those of the CVXPY (Clarabel) reference solver.
SOLVER = "cvxpy"
apply_style()
BLUE, GREY = PALETTE["blue"], PALETTE["grey"]
FIGDIR = Path("10-figures")      # the book's Chapter 10 page shows these files
FIGDIR.mkdir(exist_ok=True)

def save(fig, name):
    fig.savefig(FIGDIR / f"{name}.png", dpi=130, metadata={"Software": None})

SIGMAS = np.linspace(1.0, 0.1, 5)
N, K, C_BETA = 40, 10, 10.0
EPS, T, CHAINS = 0.01, 100, 2000
LRS, WIDTH, EPOCHS = (1e-3, 1e-2, 1e-1), 20, 100
ARCHS = [("relu", False), ("abs", False), ("relu", True), ("abs", True)]
arch_name = lambda a, s: a + ("+skip" if s else "")
print("noise levels:", np.round(SIGMAS, 3), " betas:", np.round(C_BETA / SIGMAS, 1))
print("step per level:", np.round(EPS * SIGMAS**2 / SIGMAS[-1] ** 2, 4))
""")

md(r"""
## Algorithm 3 with convex denoisers

`problem(seed)` draws the data and one set of noise draws per level; `convex_levels` solves one convex program per
level (each certified, and each reconstructed network attains its value); `sample` runs the annealed chains and
reports a diverged run instead of failing.
""")

code(r"""
def problem(seed):
    x = np.random.default_rng(seed).normal(size=N)
    X = np.repeat(x, K)
    noises = [np.random.default_rng([seed, i]).standard_normal(X.size) for i in range(SIGMAS.size)]
    return x, X, noises

def convex_levels(X, noises, act, skip):
    fits = []
    for s, Z in zip(SIGMAS, noises):
        f = cs.fit_denoising_score_matching(X, C_BETA / s, s, Z, activation=act, skip=skip, solver=SOLVER)
        assert f.certificate.max_violation <= 0 and f.certificate.gap <= 1e-6 * abs(f.value)
        assert abs(denoising_score_matching_loss(f.net, X, C_BETA / s, s, Z) - f.value) <= 1e-7 * abs(f.value)
        fits.append(f)
    return fits

def sample(nets, seed):
    x0 = np.random.default_rng([seed, 99]).uniform(-4, 4, CHAINS)
    try:
        return cs.annealed_langevin(nets, SIGMAS, EPS, T, x0=x0, rng=[seed, 100], on_unstable="ignore").samples
    except FloatingPointError:
        return None   # some chains left every reasonable range

x, X, noises = problem(0)
fits = convex_levels(X, noises, "relu", False)
samples = sample([f.net for f in fits], 0)
print("neurons per level:", [f.width for f in fits])
print(f"samples: mean {samples.mean():.3f}, std {samples.std():.3f}")
glue("ch10_levels_std", round(float(samples.std()), 2), display=False)
""")

code(r"""
grid = np.linspace(-4, 4, 400)
fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), layout="constrained")
cols = plt.cm.viridis(np.linspace(0, 0.9, SIGMAS.size))
for f, s, c in zip(fits, SIGMAS, cols):
    axes[0].plot(grid, f.score(grid), color=c, lw=1.5, label=f"sigma={s:.3g}")
    axes[0].plot(grid, -grid / (1 + s**2), color=c, ls=":", lw=1.2)
axes[0].set_ylim(-6, 6); axes[0].set_xlabel("y"); axes[0].set_ylabel("s(y)"); axes[0].legend(fontsize=7)
axes[0].set_title("convex ReLU fits per level (dotted: noised scores)")
axes[1].hist(samples, bins=60, density=True, color=PALETTE["sky"], edgecolor="white", lw=0.3, label="annealed samples")
axes[1].plot(grid, np.exp(-grid**2 / 2) / np.sqrt(2 * np.pi), color="black", lw=1.8, label="N(0,1)")
axes[1].set_xlabel("x"); axes[1].legend(fontsize=7); axes[1].set_title("2,000 chains after 5 levels")
save(fig, "levels"); plt.show()
""")

md(r"""
## Figures 5 and 11 to 13: convex against Adam, for each architecture

For each architecture: the DSM objective at the last level ($\sigma_5=0.1$), Adam's curves against the convex optimum,
and the samples of Algorithm 3 with the convex denoisers and with the Adam denoisers at each learning rate (every
level trained separately with the same settings). A missing histogram means that the chains diverged.
""")

code(r"""
ref = np.random.default_rng(12345).normal(size=CHAINS)
def metrics(s):
    if s is None:
        return dict(w1=np.nan, ks=np.nan, out=np.nan)
    return dict(w1=wasserstein1(s, ref), ks=ks_distance(s, ref), out=float(np.mean(np.abs(s) > 6)))

results = {}            # (arch, method, seed) -> metrics
adam_last = {}
fig, axes = plt.subplots(4, 5, figsize=(15, 10.5), layout="constrained")
for r, (act, skip) in enumerate(ARCHS):
    name = arch_name(act, skip)
    cfits = convex_levels(X, noises, act, skip)
    runs = {lr: [cs.train_adam(X, C_BETA / s, WIDTH, lr, EPOCHS, seed=0, objective="dsm", activation=act, skip=skip,
                               sigma=s, noise=Z) for s, Z in zip(SIGMAS, noises)] for lr in LRS}
    for lr in LRS:   # weak duality at every level
        assert all(run.final_loss >= f.certificate.lower_bound - 1e-9 for run, f in zip(runs[lr], cfits))
    adam_last[name] = (cfits[-1].value, {lr: runs[lr][-1].final_loss for lr in LRS})
    ax = axes[r, 0]
    for lr, c in zip(LRS, ADAM):
        ax.plot(runs[lr][-1].losses, color=c, lw=1.2, label=f"Adam lr={lr:g}")
    ax.axhline(cfits[-1].value, color=BLUE, ls="--", lw=2, label="convex optimum")
    ax.set_ylim(cfits[-1].value - 20, cfits[-1].value + 400)
    ax.set_title(f"{name}: objective at sigma=0.1", fontsize=9); ax.set_xlabel("epoch"); ax.legend(fontsize=6.5)
    sets = [("convex", [f.net for f in cfits])] + [(f"Adam lr={lr:g}", [run.net for run in runs[lr]]) for lr in LRS]
    for c_, (label, nets) in enumerate(sets, start=1):
        s = sample(nets, 0)
        results[(name, label, 0)] = metrics(s)
        ax = axes[r, c_]
        if s is not None:
            ax.hist(np.clip(s, -5, 5), bins=np.linspace(-5, 5, 61), density=True,
                    color=BLUE if label == "convex" else PALETTE["orange"], edgecolor="white", lw=0.3)
        else:
            ax.text(0, 0.2, "chains diverged", ha="center")
        ax.plot(grid, np.exp(-grid**2 / 2) / np.sqrt(2 * np.pi), color="black", lw=1.5)
        m = results[(name, label, 0)]
        ax.set_title(f"{name}, {label}\nW1={m['w1']:.2f}, KS={m['ks']:.2f}", fontsize=8.5)
        ax.set_xlim(-5, 5); ax.set_ylim(0, 0.75)
save(fig, "fig5-11-13"); plt.show()
for name, (cv, ad) in adam_last.items():
    print(f"{name:10s} objective at sigma=0.1: convex {cv:9.1f}; Adam " + ", ".join(f"lr {lr:g}: {v:9.1f}" for lr, v in ad.items()))
""")

md(r"""
## Stability over seeds: W1 and KS against the noise floor

Three seeds (data, noise draws and chains all change with the seed). Convex denoisers for all four architectures; Adam
for the ReLU network without skip at the three learning rates (the other architectures are in the figure above, seed
0 only: Adam is the expensive part of this lab). Two reference levels: the **noise floor**, the distance between two
independent samples of 2,000 draws from $\Normal(0,1)$ (what a perfect sampler would score), and the **data floor**,
the distance between the 40 training points and $\Normal(0,1)$ (what a sampler that reproduces the training set
would score). "Escaped" is the fraction of chains with $|x|>6$; a diverged run counts as a failure and is left out of
the means.
""")

code(r"""
SEEDS = (0, 1, 2)
floors = {m: noise_floor(m, lambda k, g: g.standard_normal(k), CHAINS, repeats=5, rng=7) for m in ("w1", "ks")}
data_floor = {"w1": [], "ks": []}
for seed in SEEDS:
    xs, Xs, Zs = problem(seed)
    data_floor["w1"].append(wasserstein1(xs, ref)); data_floor["ks"].append(ks_distance(xs, ref))
    for act, skip in ARCHS:
        name = arch_name(act, skip)
        if (name, "convex", seed) not in results:
            results[(name, "convex", seed)] = metrics(sample([f.net for f in convex_levels(Xs, Zs, act, skip)], seed))
    for lr in LRS:
        if ("relu", f"Adam lr={lr:g}", seed) not in results:
            nets = [cs.train_adam(Xs, C_BETA / s, WIDTH, lr, EPOCHS, seed=seed, objective="dsm", sigma=s, noise=Z).net
                    for s, Z in zip(SIGMAS, Zs)]
            results[("relu", f"Adam lr={lr:g}", seed)] = metrics(sample(nets, seed))

rows = [(arch_name(a, s), "convex") for a, s in ARCHS] + [("relu", f"Adam lr={lr:g}") for lr in LRS]
print(f"{'network':10s} {'denoisers':13s} {'W1 mean (sd)':>14s} {'KS mean (sd)':>14s} {'escaped':>8s} {'diverged':>8s}")
table = {}
for name, method in rows:
    ms = [results[(name, method, s)] for s in SEEDS]
    ok = [m for m in ms if np.isfinite(m["w1"])]
    w1 = np.array([m["w1"] for m in ok]); ks = np.array([m["ks"] for m in ok])
    esc = np.mean([m["out"] for m in ok]) if ok else np.nan
    table[(name, method)] = (w1, ks, len(ms) - len(ok))
    fmt = lambda v: f"{v.mean():6.3f} ({v.std():.3f})" if v.size else "   -   "
    print(f"{name:10s} {method:13s} {fmt(w1):>14s} {fmt(ks):>14s} {esc:8.3f} {len(ms) - len(ok):5d}/{len(ms)}")
print(f"noise floor (2,000 vs 2,000): W1 {floors['w1']:.3f}, KS {floors['ks']:.3f}")
# the same table as Markdown, included by the book's Chapter 10 page
pretty = {"relu": "ReLU", "abs": "absolute value", "relu+skip": "ReLU + skip", "abs+skip": "absolute value + skip"}
lines = ["| network | denoisers | W1 mean (sd) | KS mean (sd) | escaped | diverged runs |", "|---|---|---|---|---|---|"]
for (name, method), (w1, ks, nd) in table.items():
    esc = np.mean([results[(name, method, s)]["out"] for s in SEEDS if np.isfinite(results[(name, method, s)]["w1"])])
    w1s = (f"{w1.mean():.3f} ({w1.std():.3f})" if w1.mean() < 10 else f"{w1.mean():.0f} ({w1.std():.0f})") if w1.size else "-"
    kss = f"{ks.mean():.3f} ({ks.std():.3f})" if ks.size else "-"
    lines.append(f"| {pretty[name]} | {method} | {w1s} | {kss} | {esc:.3f} | {nd} of {len(SEEDS)} |")
lines.append(f"| noise floor | two samples of {CHAINS} | {floors['w1']:.3f} | {floors['ks']:.3f} | | |")
lines.append(f"| data floor | {N} points | {np.mean(data_floor['w1']):.3f} | {np.mean(data_floor['ks']):.3f} | | |")
(FIGDIR / "seed-table.md").write_text("\n".join(lines) + "\n")
print(f"data floor (40 points vs N(0,1)): W1 {np.mean(data_floor['w1']):.3f}, KS {np.mean(data_floor['ks']):.3f}")
""")

code(r"""
relu_convex_w1 = table[("relu", "convex")][0]
glue("ch10_relu_convex_w1", round(float(relu_convex_w1.mean()), 2), display=False)
glue("ch10_floor_w1", round(floors["w1"], 3), display=False)
glue("ch10_data_floor_w1", round(float(np.mean(data_floor["w1"])), 2), display=False)
""")

md(r"""
**Checks of the chapter's exercises.** The tails of every absolute-value fit without skip have slopes $-S$ and $+S$
({ref}`ann-ex-abs-tails`), so one tail always repels unless $S=0$; with a skip connection both outer slopes can be
negative. The step bound of {ref}`ann-ex-step` for our grid is $\epsilon<0.08$.
""")

code(r"""
x, X, noises = problem(0)
for act, skip in (("abs", False), ("abs", True)):
    pls = [f.piecewise() for f in convex_levels(X, noises, act, skip)]
    tails = [(p.slopes[0], p.slopes[-1]) for p in pls]
    print(f"{arch_name(act, skip):9s} outer slopes per level (left, right):",
          ", ".join(f"({a:+.2f}, {b:+.2f})" for a, b in tails))
    if not skip:
        assert all(abs(a + b) <= 1e-8 * max(1.0, abs(a)) for a, b in tails)
eps_max = min(4 * SIGMAS[-1] ** 2 * (1 + 1 / s**2) for s in SIGMAS)
print(f"largest stable epsilon for the exact noised scores of N(0,1): {eps_max:.3f} (we use {EPS})")
assert abs(eps_max - 0.08) < 1e-12
""")

md(r"""
## A two-dimensional example: a mixture of two Gaussians

Data: 100 points from $\frac12\Normal((-2,0),0.5^2I)+\frac12\Normal((2,0),0.5^2I)$, five noise draws each. Levels
$\sigma\in\{1.5,0.8,0.4,0.2\}$. At each level, program (11) with zero weight decay over the patterns of 20 sampled
gates with bias (computed on that level's noisy inputs), solved in closed form and turned into a network by the cone
decomposition; with all patterns it would interpolate the noisy labels (see the Chapter 9 lab). Sampling: 1,000 chains
from Uniform$[-4,4]^2$, 100 steps per level, $\epsilon=0.002$. The squared MMD to fresh draws of the law is compared
with the MMD between two independent samples (the noise floor); the last column is the share of chains in the right
mode.
""")

code(r"""
law = GaussianMixture([[-2.0, 0.0], [2.0, 0.0]], 0.5)
X0 = law.sample(100, rng=np.random.default_rng(0))
X2 = np.repeat(X0, 5, axis=0)
SIG2 = np.array([1.5, 0.8, 0.4, 0.2])
nets2 = []
for i, s in enumerate(SIG2):
    Z = np.random.default_rng([1, i]).standard_normal(X2.shape)
    arr = arrangement_patterns(X2 + s * Z, "sampled", n_gates=20, bias=True, rng=20 + i)
    fit = convex_denoising_score_matching(X2, Z, s, arr)
    net = reconstruct_network(fit)
    assert abs(denoising_score_matching_loss(net, X2, 0.0, s, Z) - fit.value) <= 1e-7 * fit.value
    print(f"sigma = {s}: {arr.n_patterns} patterns, program (11) value {fit.value:.1f}, network width {net.width}")
    nets2.append(net)
x0 = np.random.default_rng(2).uniform(-4, 4, (1000, 2))
s2 = cs.annealed_langevin(nets2, SIG2, 0.002, 100, x0=x0, rng=3).samples
ref2, ref3 = law.sample(1000, rng=np.random.default_rng(4)), law.sample(1000, rng=np.random.default_rng(5))
m2, floor2 = mmd2(s2, ref2), mmd2(ref3, ref2)
print(f"MMD^2 samples vs law {m2:.4f}; noise floor {floor2:.4f}; share in the right mode {np.mean(s2[:, 0] > 0):.2f}")
glue("ch10_mmd", round(float(m2), 4), display=False)
glue("ch10_mmd_floor", round(float(floor2), 4), display=False)
glue("ch10_right_mode", round(float(np.mean(s2[:, 0] > 0)), 2), display=False)

fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), layout="constrained")
axes[0].scatter(*X0.T, s=8, color=GREY, label="data (100 points)")
axes[0].scatter(*x0[:300].T, s=4, color=PALETTE["orange"], alpha=0.5, label="initial chains")
axes[1].scatter(*ref2.T, s=3, color=GREY, alpha=0.4, label="fresh draws of the law")
axes[1].scatter(*s2.T, s=3, color=BLUE, alpha=0.6, label="annealed samples")
for ax, t in zip(axes, ("start", "after 4 levels")):
    ax.set_xlim(-4.5, 4.5); ax.set_ylim(-3.5, 3.5); ax.set_aspect("equal"); ax.legend(fontsize=7, loc="lower left"); ax.set_title(t)
save(fig, "mixture-2d"); plt.show()
""")

b.write("10-annealed.ipynb")
