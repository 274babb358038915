"""Cells of notebooks/09-denoising.ipynb. Run ``.venv/bin/python tools/notebook_sources/build_09_denoising.py``,
then ``make execute NB=notebooks/09-denoising.ipynb`` to store the outputs (see nbbuild.py)."""
from nbbuild import Builder

b = Builder()
md, code = b.md, b.code

md(r"""
# Lab: denoising score matching as convex programs

This lab runs every statement of [Chapter 9](../book/09-denoising.md): Vincent's identity by Monte Carlo, Theorem 4.1
(program (10)) and its three variants (32), (34), (36) against the reconstructed networks and their dual certificates,
an independent implementation of (10), the convex optimum against Adam (our version of the upper-left panel of
Figure 5 of {cite:t}`zhang2024convex`), the learned denoiser against the exact posterior mean, the effect of $\sigma$
and $\beta$, and the multivariate program (11). Everything is seeded and takes well under a minute.

**Downsized settings.** $n=40$ points, ten Adam trials of 200 full-batch epochs at width 20; the figures use ten noise
draws per data point.
""")

code(r"""
%matplotlib inline
from pathlib import Path
import numpy as np
import cvxpy as cp
import torch
import matplotlib.pyplot as plt
from myst_nb import glue

import convexscore as cs
from convexscore.plotting import PALETTE, apply_style, plot_losses
from convexscore.network import denoising_score_matching_loss
from convexscore.multivariate import arrangement_patterns, convex_denoising_score_matching, reconstruct_network

torch.set_num_threads(1)
# Pinned solver: certified values agree across solvers to 1e-6, but neuron counts at small beta depend on how a
# solver rounds near-zero weights, so the printed counts are those of the CVXPY (Clarabel) reference solver.
SOLVER = "cvxpy"
apply_style()
BLUE, ORANGE, GREEN, RED, PURPLE, GREY = (PALETTE[k] for k in ("blue", "orange", "green", "vermillion", "purple", "grey"))
FIGDIR = Path("09-figures")      # the book's Chapter 9 page shows these files
FIGDIR.mkdir(exist_ok=True)

def save(fig, name):
    fig.savefig(FIGDIR / f"{name}.png", dpi=130, metadata={"Software": None})

x = np.random.default_rng(0).normal(size=40)        # data from N(0, 1)
z = np.random.default_rng(1).standard_normal(40)    # one fixed noise draw per point
sigma, beta = 0.5, 1.0
print(f"n = {x.size}, sigma = {sigma}, beta = {beta}")
""")

md(r"""
## Vincent's identity

For $p=\Normal(0,1)$ the noised law is $p_\sigma=\Normal(0,1+\sigma^2)$ with score $s_\sigma(y)=-y/(1+\sigma^2)$. The
identity says that the denoising loss $\frac12\E(f(x+\sigma z)+z/\sigma)^2$ and the explicit loss
$\frac12\E(f(y)-s_\sigma(y))^2$ differ by a constant that does not depend on $f$, here
$C=\frac1{2\sigma^2}-\frac1{2(1+\sigma^2)}$. We estimate both losses for three very different functions $f$ from
$2\times10^6$ draws; the differences agree with $C$ to Monte Carlo accuracy.
""")

code(r"""
rng = np.random.default_rng(2)
xs, zs = rng.standard_normal(2_000_000), rng.standard_normal(2_000_000)
ys = xs + sigma * zs
s_true = lambda y: -y / (1 + sigma**2)
C = 0.5 / sigma**2 - 0.5 / (1 + sigma**2)
tests = {"f = 0": lambda y: 0 * y, "f = true score": s_true, "f = sin(3y) - y": lambda y: np.sin(3 * y) - y}
for name, f in tests.items():
    terms = 0.5 * (f(ys) + zs / sigma) ** 2 - 0.5 * (f(ys) - s_true(ys)) ** 2
    se = terms.std() / np.sqrt(terms.size)
    print(f"{name:16s}: DSM - ESM = {terms.mean():.4f} +- {se:.4f}   (C = {C:.4f})")
    assert abs(terms.mean() - C) < 5 * se
""")

md(r"""
## Theorem 4.1: program (10), and an independent implementation

The library builds program (10) at the noisy inputs $\hat x_i=x_i+\sigma z_i$ with labels $y_i=-z_i/\sigma$, solves it,
rebuilds a network, and certifies the value with a feasible dual point. We check the three claims: the network
attains the convex value (its DSM loss computed by `denoising_score_matching_loss`, independently of the program),
the dual lower bound meets it, and a from-scratch CVXPY implementation of (10) with the dense dictionary gives the same
value.
""")

code(r"""
fit = cs.fit_denoising_score_matching(x, beta, sigma, z, activation="relu", solver=SOLVER)
loss_net = denoising_score_matching_loss(fit.net, x, beta, sigma, z)
print(f"program {fit.program}: value {fit.value:.3f}, network loss {loss_net:.3f}, width {fit.width}")
print(f"dual lower bound {fit.certificate.lower_bound:.3f}, relative gap below 1e-6: {fit.certificate.gap <= 1e-6 * abs(fit.value)}")
assert fit.status in ("optimal", "optimal_inaccurate")
assert abs(loss_net - fit.value) <= 1e-7 * abs(fit.value)
assert fit.certificate.max_violation <= 0 and fit.certificate.gap <= 1e-6 * abs(fit.value)

def program10(xh, y, beta):
    # independent dense (10): A = [(xh_i - xh_j)_+, (xh_j - xh_i)_+], centred; lasso with weight beta
    D = xh[:, None] - xh[None, :]
    A = np.hstack([np.maximum(D, 0), np.maximum(-D, 0)])
    Ab, yb = A - A.mean(0), y - y.mean()
    u = cp.Variable(A.shape[1])
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(Ab @ u - yb) + beta * cp.norm1(u)))
    prob.solve(solver=cp.CLARABEL)
    assert prob.status == cp.OPTIMAL
    return prob.value

xh, y = x + sigma * z, -z / sigma
p10 = program10(xh, y, beta)
print(f"independent (10): {p10:.3f}")
assert abs(p10 - fit.value) <= 1e-5 * abs(fit.value)
glue("ch09_value", round(fit.value, 3), display=False)
glue("ch09_width", fit.width, display=False)
""")

md(r"""
**No threshold on $\beta$.** The objective is a sum of squares plus a penalty, so it is bounded below by $0$ for every
$\beta\ge0$; the library accepts any $\beta>0$, and the lasso stays finite as $\beta\to0$, where it tends to the best
least-squares fit of the labels by ramps at the noisy inputs (an interpolation of very noisy labels).
""")

code(r"""
for b in (1e-3, 1e-1, 10.0, 100.0):
    f_b = cs.fit_denoising_score_matching(x, b, sigma, z, solver=SOLVER)
    print(f"beta = {b:7g}: value {f_b.value:9.3f}, neurons {f_b.width:3d}")
    assert np.isfinite(f_b.value) and f_b.value >= 0
""")

md(r"""
## The variants (32), (34), (36) and the shortcut

Each architecture has its own program; each is checked the same way. Then the shortcut of the chapter: ReLU with skip
at weight decay $\beta$ has the same optimal value as absolute value with skip at $2\beta$, at every $\beta$ tried.
""")

code(r"""
print(f"{'architecture':14s} {'program':7s} {'value':>9s} {'network':>9s} {'neurons':>7s}  gap <= 1e-6")
fits = {}
for act, skip in [("relu", False), ("abs", False), ("relu", True), ("abs", True)]:
    f = cs.fit_denoising_score_matching(x, beta, sigma, z, activation=act, skip=skip, solver=SOLVER)
    L = denoising_score_matching_loss(f.net, x, beta, sigma, z)
    ok = f.certificate.gap <= 1e-6 * abs(f.value) and f.certificate.max_violation <= 0
    name = act + ("+skip" if skip else "")
    fits[name] = f
    print(f"{name:14s} {f.program:7s} {f.value:9.3f} {L:9.3f} {f.width:7d}  {ok}")
    assert abs(L - f.value) <= 1e-7 * abs(f.value) and ok

for b in (0.1, 1.0, 5.0, 20.0):
    v_relu = cs.fit_denoising_score_matching(x, b, sigma, z, "relu", skip=True, solver=SOLVER).value
    v_abs = cs.fit_denoising_score_matching(x, 2 * b, sigma, z, "abs", skip=True, solver=SOLVER).value
    print(f"beta = {b:5g}: relu+skip {v_relu:.3f}   abs+skip at 2 beta {v_abs:.3f}")
    assert abs(v_relu - v_abs) <= 1e-6 * max(1.0, abs(v_relu))
""")

md(r"""
Skip connections can only lower the optimum (they add an unpenalised linear term), so the values are ordered; we
check that too.
""")

code(r"""
assert fits["relu+skip"].value <= fits["relu"].value + 1e-7 and fits["abs+skip"].value <= fits["abs"].value + 1e-7
print("skip values do not exceed the no-skip values")
""")

md(r"""
## The convex optimum against Adam (Figure 5, upper left)

Ten Adam runs (width 20, learning rate $10^{-2}$, 200 full-batch epochs, seeds 0 to 9) on the same objective with the
same noise draws. By weak duality no run can end below the certified lower bound.
""")

code(r"""
runs = [cs.train_adam(x, beta, 20, 1e-2, 200, seed=s, objective="dsm", sigma=sigma, noise=z) for s in range(10)]
finals = np.array([r.final_loss for r in runs])
assert all(r.status == "ok" for r in runs)
assert np.all(finals >= fit.certificate.lower_bound - 1e-9)
print(f"convex optimum {fit.value:.3f}; Adam final losses from {finals.min():.3f} to {finals.max():.3f}")
print(f"best gap {finals.min() - fit.value:.3f}, median gap {np.median(finals) - fit.value:.3f}")
glue("ch09_adam_best_gap", round(float(finals.min() - fit.value), 3), display=False)
glue("ch09_adam_median_gap", round(float(np.median(finals) - fit.value), 3), display=False)
fig, ax = plt.subplots(figsize=(5, 3.4))
plot_losses(runs, fit.value, ax=ax, title="DSM objective, ReLU, no skip")
ax.set_ylim(fit.value - 2, fit.value + 25)
save(fig, "loss"); plt.show()
""")

md(r"""
## The learned denoiser against the posterior mean

Tweedie's formula turns a score $s$ of the noised law into a denoiser $D(y)=y+\sigma^2 s(y)$. For $\Normal(0,1)$ data
the exact posterior mean is $\E[x\mid y]=y/(1+\sigma^2)$. The empirical optimum, the posterior mean under the
*empirical* law of the 40 points, is the weighted average $\sum_i w_i(y)x_i$ with Gaussian weights; DSM with
unlimited capacity and infinitely many noise draws would learn it and reproduce the training points. Here we use ten
noise draws per point (400 pairs) at $\sigma=0.5$ and three weight decays.
""")

code(r"""
K = 10
X10 = np.repeat(x, K)
Z10 = np.random.default_rng(3).standard_normal(X10.size)
grid = np.linspace(-3.5, 3.5, 600)
def empirical_denoiser(y, s):
    logw = -(y[:, None] - x[None, :]) ** 2 / (2 * s**2)
    w = np.exp(logw - logw.max(axis=1, keepdims=True))
    return (w * x).sum(1) / w.sum(1)

fig, ax = plt.subplots(figsize=(5.4, 3.6))
ax.plot(grid, grid / (1 + sigma**2), color="black", ls=":", lw=2, label="posterior mean, N(0,1) law")
ax.plot(grid, empirical_denoiser(grid, sigma), color=GREY, lw=1.2, label="posterior mean, empirical law")
for b, c in zip((1.0, 10.0, 100.0), (RED, ORANGE, BLUE)):
    fb = cs.fit_denoising_score_matching(X10, b, sigma, Z10, solver=SOLVER)
    D = grid + sigma**2 * fb.score(grid)
    inside = np.abs(grid) <= 2
    err = np.sqrt(np.mean((D[inside] - grid[inside] / (1 + sigma**2)) ** 2))
    print(f"beta = {b:5g}: {fb.width:2d} neurons, RMS distance to the posterior mean on [-2, 2]: {err:.3f}")
    ax.plot(grid, D, color=c, lw=1.5, label=f"convex, beta={b:g} ({fb.width} neurons)")
ax.plot(x, np.full(x.size, -3.2), "|", color=GREY, ms=7)
ax.set_xlabel("noisy input y"); ax.set_ylabel("denoised output D(y)"); ax.legend(fontsize=7.5)
ax.set_title(f"denoisers, sigma = {sigma}")
save(fig, "denoiser"); plt.show()
""")

md(r"""
## How the solution changes with $\sigma$ and $\beta$

Left: the learned score at $\sigma=0.5$ for three weight decays, against the noised score $-y/(1+\sigma^2)$. Middle: at
$\beta=10$ for three noise levels, each against its own noised score. Right: the number of neurons along a path of
weight decays for each noise level (ten draws per point throughout). A larger $\sigma$ spreads the inputs and shrinks
the labels ($|y_i|\approx1/\sigma$), so the same $\beta$ removes more neurons.
""")

code(r"""
fig, axes = plt.subplots(1, 3, figsize=(12, 3.4), layout="constrained")
for b, c in zip((1.0, 10.0, 100.0), (RED, ORANGE, BLUE)):
    fb = cs.fit_denoising_score_matching(X10, b, sigma, Z10, solver=SOLVER)
    axes[0].plot(grid, fb.score(grid), color=c, label=f"beta={b:g}")
axes[0].plot(grid, -grid / (1 + sigma**2), color="black", ls=":", lw=2, label="noised score")
axes[0].set_title("sigma = 0.5"); axes[0].set_ylim(-6, 6)
for s, c in zip((0.2, 0.5, 1.0), (RED, ORANGE, BLUE)):
    fs = cs.fit_denoising_score_matching(X10, 10.0, s, Z10, solver=SOLVER)
    axes[1].plot(grid, fs.score(grid), color=c, label=f"sigma={s:g}")
    axes[1].plot(grid, -grid / (1 + s**2), color=c, ls=":", lw=1.5)
axes[1].set_title("beta = 10 (dotted: noised scores)"); axes[1].set_ylim(-6, 6)
for ax in axes[:2]:
    ax.set_xlabel("y"); ax.set_ylabel("s(y)"); ax.legend(fontsize=7.5)
betas = np.geomspace(0.3, 300, 10)
widths = {}
for s, c in zip((0.2, 0.5, 1.0), (RED, ORANGE, BLUE)):
    widths[s] = [cs.fit_denoising_score_matching(X10, b, s, Z10, solver=SOLVER).width for b in betas]
    axes[2].plot(betas, widths[s], "o-", color=c, ms=3, label=f"sigma={s:g}")
axes[2].set_xscale("log"); axes[2].set_xlabel("beta"); axes[2].set_ylabel("neurons"); axes[2].legend(fontsize=7.5)
axes[2].set_title("width of the optimal network")
save(fig, "sigma-beta"); plt.show()
for s in widths:
    print(f"sigma = {s}: neurons along beta = {widths[s]}")
""")

md(r"""
**Where the network becomes zero.** For ReLU without skip the zero network is optimal exactly when
$\beta\ge\|\bar A^\top\bar y\|_\infty$ (the lasso's first-order condition at $u=0$, {ref}`dsm-ex-zero`). We check
the formula on both sides.
""")

code(r"""
D = xh[:, None] - xh[None, :]
A = np.hstack([np.maximum(D, 0), np.maximum(-D, 0)])
beta_max = np.max(np.abs((A - A.mean(0)).T @ (y - y.mean())))
w_above = cs.fit_denoising_score_matching(x, 1.01 * beta_max, sigma, z, solver=SOLVER).width
w_below = cs.fit_denoising_score_matching(x, 0.99 * beta_max, sigma, z, solver=SOLVER).width
print(f"beta_max = {beta_max:.3f}; neurons at 1.01 beta_max: {w_above}, at 0.99 beta_max: {w_below}")
assert w_above == 0 and w_below > 0
""")

md(r"""
## Theorem 4.2: the multivariate program (11)

Two-dimensional data, noisy inputs $\hat X=X+\sigma Z$ and zero weight decay. Program (11) is least squares; its
minimum-norm solution is $[D_1\hat X,\dots,D_P\hat X]^\dagger Y$, and the network rebuilt by the cone decomposition
of [Chapter 5](../book/05-arrangements.md) attains its value. First with **all** patterns of $\hat X$ for gates through
the origin (exact enumeration): there are more features than points, and the optimum interpolates the noisy labels
(value 0). Then with 8 sampled gates with bias, where the value is positive.
""")

code(r"""
rng2 = np.random.default_rng(4)
X2 = rng2.standard_normal((30, 2)); Z2 = rng2.standard_normal((30, 2))
Xh2, Y2 = X2 + sigma * Z2, -Z2 / sigma
arr = arrangement_patterns(Xh2, "exact")
M = np.hstack([arr.patterns[:, [i]] * Xh2 for i in range(arr.n_patterns)])
print(f"all patterns: P = {arr.n_patterns}, feature matrix {M.shape}, rank {np.linalg.matrix_rank(M)}")
for pats in (arr, arrangement_patterns(Xh2, "sampled", n_gates=8, bias=True, rng=5)):
    fit2 = convex_denoising_score_matching(X2, Z2, sigma, pats)
    net2 = reconstruct_network(fit2)
    loss2 = denoising_score_matching_loss(net2, X2, 0.0, sigma, Z2)
    Xt = np.hstack([Xh2, np.ones((30, 1))]) if pats.bias else Xh2
    M = np.hstack([pats.patterns[:, [i]] * Xt for i in range(pats.n_patterns)])
    if pats.bias:  # the free output bias centres features and labels
        M, Yc = M - M.mean(0), Y2 - Y2.mean(0)
    else:
        Yc = Y2
    value_pinv = 0.5 * np.sum((M @ (np.linalg.pinv(M) @ Yc) - Yc) ** 2)
    print(f"P = {pats.n_patterns:3d}, bias = {pats.bias}: program (11) {fit2.value:9.4f}, pseudo-inverse {value_pinv:9.4f}, "
          f"network ({net2.width} neurons) {loss2:9.4f}")
    tol = 1e-7 * max(1.0, abs(value_pinv))
    assert abs(fit2.value - value_pinv) <= tol and abs(loss2 - fit2.value) <= tol
""")

md(r"""
The next chapter uses one such fit per noise level to sample.
""")

b.write("09-denoising.ipynb")
