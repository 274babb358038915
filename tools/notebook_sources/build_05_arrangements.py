"""Cells of notebooks/05-arrangements.ipynb. Run ``.venv/bin/python tools/notebook_sources/build_05_arrangements.py``,
then ``make execute NB=notebooks/05-arrangements.ipynb`` to store the outputs (see nbbuild.py)."""
from nbbuild import Builder

b = Builder()
md, code = b.md, b.code

md(r"""
# Lab: arrangement patterns and multivariate score matching

This lab accompanies [Chapter 5](../book/05-arrangements.md). It

1. draws the cells of a hyperplane arrangement for a small planar data set and checks the cell count theorem,
2. compares exact enumeration with random gates,
3. checks Theorem 3.2 (a network attains the program), the finiteness proposition (with an unbounded ray built into
   a real network), and Remark 3.3 (one pattern gives the empirical precision),
4. measures the gap between the nuclear-norm lower bound and the best network when there is weight decay,
5. fits four planar laws (a Gaussian, an anisotropic Gaussian, a mixture of three Gaussians and a ring) by convex
   denoising score matching, compares the loss with Adam, the learned score fields with the truth, and samples
   with Langevin dynamics.

Everything is seeded; all objectives are sums over the samples, as on the notation page.
""")

code(r"""
%matplotlib inline
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from convexscore.network import TwoLayerNet, denoising_score_matching_loss, score_matching_loss
from convexscore.sampling import langevin
from convexscore.multivariate import (
    arrangement_patterns, cell_count_bound, cone_constrained_fit, convex_denoising_score_matching,
    convex_score_matching, finite_pattern_subset, pattern_features, reconstruct_network,
)
from convexscore.baselines import train_adam
from convexscore.datasets import Gaussian, GaussianMixture, Ring
from convexscore.metrics import mmd2
from convexscore.plotting import ADAM, CONVEX, DATA, PALETTE, TRUE, apply_style

torch.set_num_threads(1)
apply_style()
FIGDIR = Path("05-figures")
FIGDIR.mkdir(exist_ok=True)


def save(fig, name):
    fig.savefig(FIGDIR / f"{name}.png", dpi=120, metadata={"Software": None})
""")

md(r"""
## 1. The cells of a planar data set

Twelve points in the plane. Without bias, a gate $u$ sees point $l$ as active when $x_l^\top u\ge0$, so the gate
plane is cut by the twelve lines $x_l^\top u=0$ into sectors. With a bias, a pattern is a split of the points by a
line. The theorem predicts $2n=24$ and $n^2-n+2=134$ cells.
""")

code(r"""
rng = np.random.default_rng(3)
X12 = rng.standard_normal((12, 2))
cells0 = arrangement_patterns(X12)              # no bias: central arrangement
cells1 = arrangement_patterns(X12, bias=True)   # with bias: lifted points (x, 1)
print("without bias:", cells0.n_patterns, "cells, bound", cells0.bound)
print("with bias:   ", cells1.n_patterns, "cells, bound", cells1.bound)
assert cells0.n_patterns == cells0.bound == 24 and cells1.n_patterns == cells1.bound == 134
""")

code(r"""
fig = plt.figure(figsize=(10.5, 4.4))
gs = fig.add_gridspec(2, 5, width_ratios=[2.2, 0.15, 1, 1, 1])
ax0 = fig.add_subplot(gs[:, 0])
# left: gate space; sector boundaries are the directions orthogonal to each point
phi = np.arctan2(X12[:, 1], X12[:, 0])
edges = np.sort(np.mod(np.concatenate([phi + np.pi / 2, phi - np.pi / 2]), 2 * np.pi))
mids = (edges + np.diff(np.r_[edges, edges[0] + 2 * np.pi]) / 2) % (2 * np.pi)
counts = [int(np.sum(X12 @ np.array([np.cos(t), np.sin(t)]) >= 0)) for t in mids]
cmap = plt.get_cmap("Blues")
for k, (a, t) in enumerate(zip(edges, mids)):
    b = edges[(k + 1) % len(edges)] + (2 * np.pi if k == len(edges) - 1 else 0)
    ts = np.linspace(a, b, 20)
    ax0.fill(np.r_[0, np.cos(ts)], np.r_[0, np.sin(ts)], color=cmap(0.15 + 0.6 * counts[k] / 12), lw=0)
    ax0.text(0.85 * np.cos(t), 0.85 * np.sin(t), str(counts[k]), ha="center", va="center", fontsize=7)
for a in edges:
    ax0.plot([0, np.cos(a)], [0, np.sin(a)], color="#555555", lw=0.7)
ax0.set_aspect("equal"); ax0.set_xlim(-1.05, 1.05); ax0.set_ylim(-1.05, 1.05); ax0.grid(False)
ax0.set_title(f"gate space, no bias: {cells0.n_patterns} sectors\n(label = number of active points)")
ax0.set_xlabel("$u_1$"); ax0.set_ylabel("$u_2$")
# right: six affine splits of the data, one per panel
A12 = np.c_[X12, np.ones(12)]
sizes = cells1.active_counts
chosen = [int(np.flatnonzero(sizes == k)[j]) for k, j in [(1, 0), (2, 3), (3, 5), (4, 2), (5, 7), (6, 1)]]
for q, j in enumerate(chosen):
    ax = fig.add_subplot(gs[q // 3, 2 + q % 3])
    pat = cells1.patterns[:, j]
    g = np.linalg.lstsq(A12, np.where(pat, 1.0, -1.0), rcond=None)[0]
    if not np.all((A12 @ g >= 0) == pat):  # least squares may fail to separate: use an LP interior point
        from convexscore.multivariate import cone_interior_point
        g = cone_interior_point(A12, pat)
    xs = np.linspace(-3, 3, 2)
    ax.plot(xs, -(g[0] * xs + g[2]) / g[1], color=PALETTE["vermillion"], lw=1.2)
    ax.scatter(*X12[~pat].T, s=14, color=DATA)
    ax.scatter(*X12[pat].T, s=18, color=CONVEX)
    ax.set_xlim(-3, 3); ax.set_ylim(-3, 3); ax.set_aspect("equal"); ax.set_xticks([]); ax.set_yticks([])
    ax.set_title(f"{int(pat.sum())} active", fontsize=8)
fig.suptitle(f"right: 6 of the {cells1.n_patterns} splits with bias (blue = active side)", x=0.72, y=0.99, fontsize=9)
save(fig, "cells")
plt.show()
""", alt="Left: the gate plane cut by 24 rays into shaded sectors labelled with their number of active points. "
         "Right: six small panels, each showing the 12 data points split by a red line into blue active points "
         "(1 to 6 of them) and grey inactive points.")

md(r"""
## 2. The counting theorem, exactly

Exact enumeration on random (general position) data meets the bound $2\sum_{k<r}\binom{n-1}{k}$ with equality,
with $r=d$ without bias and $r=d+1$ with a bias. Degenerate data (three collinear points and a repeated point)
fall strictly below. In 2-D the library uses a rotating sweep; in higher dimension an extreme-ray recursion,
and the two must agree on planar data.
""")

code(r"""
from convexscore.multivariate.arrangements import _central_cells, _lift

rows = []
for d, n in [(2, 40), (3, 12), (4, 10), (5, 9)]:
    X = np.random.default_rng(d).standard_normal((n, d))
    for bias in (False, True):
        arr = arrangement_patterns(X, bias=bias)
        rows.append((d, n, bias, arr.n_patterns, arr.bound))
        assert arr.n_patterns == arr.bound == cell_count_bound(n, d + bias)
print(" d   n  bias   cells   bound")
for r in rows:
    print(f"{r[0]:2d} {r[1]:3d}  {str(r[2]):5s} {r[3]:6d}  {r[4]:6d}")

# the planar sweep agrees with the general recursion
X = np.random.default_rng(9).standard_normal((15, 2))
as_set = lambda P: {bytes(c) for c in np.packbits(P, axis=0).T}
for bias in (False, True):
    assert as_set(arrangement_patterns(X, bias=bias).patterns) == as_set(_central_cells(_lift(X, bias), 10**7))

# degenerate data: strictly fewer cells than the bound
Xdeg = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [1.0, -1.0], [-2.0, 0.5], [-2.0, 0.5]])
deg = arrangement_patterns(Xdeg, bias=True)
print(f"degenerate data: {deg.n_patterns} cells < bound {deg.bound}")
assert deg.n_patterns < deg.bound
""")

md(r"""
## 3. Enumeration against sampling

How many Gaussian gates does it take to find the cells? For 30 planar points with bias there are
$30^2-30+2=872$ splits. We also check the coverage formula of the exercise for gates without bias: the
expected number of sectors found by $N$ uniform gate angles is $\sum_c[1-(1-\theta_c/2\pi)^N]$.
""")

code(r"""
X30 = np.random.default_rng(1).standard_normal((30, 2))
exact30 = arrangement_patterns(X30, bias=True)
exact_set = as_set(exact30.patterns)
gate_counts = [10, 30, 100, 300, 1000, 3000, 10000, 30000]
found = []
for N in gate_counts:
    s = as_set(arrangement_patterns(X30, "sampled", n_gates=N, bias=True, rng=0).patterns)
    assert s <= exact_set  # a sampled pattern is always a cell
    found.append(len(s))
# without bias: sector angles and the expected coverage against simulation
phi = np.arctan2(X30[:, 1], X30[:, 0])
e = np.sort(np.mod(np.r_[phi + np.pi / 2, phi - np.pi / 2], 2 * np.pi))
theta = np.diff(np.r_[e, e[0] + 2 * np.pi])
expected = [float(np.sum(1 - (1 - theta / (2 * np.pi)) ** N)) for N in gate_counts]
simulated = [np.mean([arrangement_patterns(X30, "sampled", n_gates=N, rng=s).n_patterns for s in range(20)])
             for N in gate_counts]
print("   N  found(bias, of 872)  sectors(no bias, of 60): formula  simulated")
for N, f, a, b in zip(gate_counts, found, expected, simulated):
    print(f"{N:6d}  {f:5d}                      {a:6.2f}     {b:6.2f}")
assert np.allclose(expected, simulated, atol=1.0)
""")

code(r"""
fig, ax = plt.subplots(figsize=(5.6, 3.4))
ax.semilogx(gate_counts, np.array(found) / exact30.n_patterns, "o-", color=CONVEX, label="with bias (872 cells)")
ax.semilogx(gate_counts, np.array(expected) / 60, "s--", color=PALETTE["vermillion"], label="no bias (60 sectors), formula")
ax.axhline(1.0, color=TRUE, lw=0.8)
ax.set_xlabel("number of Gaussian gates $N$"); ax.set_ylabel("fraction of cells found")
ax.legend(loc="lower right"); ax.set_title("sampling finds wide cells fast, thin cells late")
fig.tight_layout(); save(fig, "coverage"); plt.show()
""", alt="Fraction of cells found against the number of Gaussian gates on a log axis: the no-bias curve reaches "
         "one by a few thousand gates; the with-bias curve rises more slowly and is still below one at 30,000 gates.")

md(r"""
## 4. Theorem 3.2, finiteness and Remark 3.3 on four laws

The four laws of the experiments, 200 samples each. The anisotropic Gaussian has covariance
$\Sigma=\begin{pmatrix}2&1.2\\1.2&1\end{pmatrix}$; the mixture has three components of standard deviation 0.5; the
ring has radius 2 and width 0.25.
""")

code(r"""
class AnisotropicGaussian:
    # N(0, Sigma) with its exact score and density
    def __init__(self, cov):
        self.cov = np.asarray(cov, float)
        self.prec = np.linalg.inv(self.cov)
        self.chol = np.linalg.cholesky(self.cov)
    def sample(self, n, rng=None):
        return np.random.default_rng(rng).standard_normal((n, 2)) @ self.chol.T
    def score(self, x):
        return -np.asarray(x, float) @ self.prec
    def density(self, x):
        q = np.einsum("ni,ij,nj->n", x, self.prec, x)
        return np.exp(-q / 2) / (2 * np.pi * np.sqrt(np.linalg.det(self.cov)))

laws = {
    "Gaussian": Gaussian(np.zeros(2), 1.0),
    "anisotropic": AnisotropicGaussian([[2.0, 1.2], [1.2, 1.0]]),
    "three Gaussians": GaussianMixture([[-2.0, -1.0], [2.0, -1.0], [0.0, 2.0]], 0.5),
    "ring": Ring(radius=2.0, width=0.25),
}
data = {name: law.sample(200, rng=k) for k, (name, law) in enumerate(laws.items())}
""")

md(r"""
**Remark 3.3.** With the single all-ones pattern the program is the linear model: without bias its solution is
minus the uncentred empirical precision $-(X^\top X/n)^{-1}$; with a bias it is $-\hat\Sigma^{-1}$, the Gaussian
fit, with value $-\frac n2\operatorname{tr}\hat\Sigma^{-1}$.
""")

code(r"""
for name, X in data.items():
    n = len(X)
    one = np.ones((n, 1), bool)
    f0 = convex_score_matching(X, one, bias=False)
    f1 = convex_score_matching(X, one, bias=True)
    S = np.cov(X.T, bias=True)
    err0 = np.abs(f0.W[0] + np.linalg.inv(X.T @ X / n)).max()
    err1 = np.abs(f1.W[0][:2] + np.linalg.inv(S)).max()
    gap = abs(f1.value + 0.5 * n * np.trace(np.linalg.inv(S)))
    print(f"{name:16s} |W + (X'X/n)^-1| = {err0:.1e}   |W + Sigma^-1| = {err1:.1e}   value gap {gap:.1e}")
    assert err0 < 1e-9 and err1 < 1e-9 and gap < 1e-8
""")

md(r"""
**Finiteness.** With the full set of cells (no bias: $2n=400$ patterns) the program is unbounded on every law.
The certificate $H$ has $\hat XH=0$ and trace term $-1$; turned into a network by cone decomposition, the
network's own loss along $tH$ is exactly $-t$. We also count the patterns with fewer than $d$ active points,
which alone force unboundedness (the corollary), and those with at most $d$ active points for gates with a bias.
""")

code(r"""
for name, X in data.items():
    full = arrangement_patterns(X)
    fit = convex_score_matching(X, full)
    losses = [score_matching_loss(reconstruct_network(fit, W=t * fit.direction), X, 0.0) for t in (10.0, 1000.0)]
    few = np.sum((full.active_counts > 0) & (full.active_counts < 2))
    fullb = arrangement_patterns(X, bias=True)
    fewb = np.sum((fullb.active_counts > 0) & (fullb.active_counts <= 2))
    print(f"{name:16s} P = {full.n_patterns}: finite = {fit.finite}; ray losses {losses[0]:.4f}, {losses[1]:.2f};"
          f" deficient: {few} (no bias), {fewb} of {fullb.n_patterns} (bias)")
    assert not fit.finite and abs(losses[0] + 10) < 1e-6 and abs(losses[1] + 1000) < 1e-3
""")

md(r"""
**Theorem 3.2 (attainment).** On a pattern subset that keeps $\hat X$ of full column rank (greedy, condition
number at most $10^3$), the program is finite, its closed form is the optimum, and the network built by cone
decomposition has exactly that loss under the independent numpy evaluation. Also: the closed form is a minimum
(random perturbations only increase the objective).
""")

code(r"""
fits_sm = {}
for name, X in data.items():
    arr = arrangement_patterns(X, "sampled", n_gates=60, bias=True, rng=1)
    pset = finite_pattern_subset(X, arr, max_patterns=8)
    fit = convex_score_matching(X, pset)
    net = reconstruct_network(fit)
    loss = score_matching_loss(net, X, 0.0)
    A, c = pattern_features(X, pset)
    rngp = np.random.default_rng(0)
    q = lambda W: 0.5 * np.sum(np.einsum("npk,pkd->nd", A, W) ** 2) + np.sum(c * np.trace(W[:, :2, :], axis1=1, axis2=2))
    worse = all(q(fit.W + 1e-3 * rngp.standard_normal(fit.W.shape)) > fit.value for _ in range(10))
    fits_sm[name] = (fit, net)
    print(f"{name:16s} patterns kept {pset.patterns.shape[1]:2d} of {arr.n_patterns}: program {fit.value:10.3f}, "
          f"network {loss:10.3f} (width {net.width}), perturbations worse: {worse}")
    assert abs(loss - fit.value) <= 1e-7 * abs(fit.value) and worse
""")

md(r"""
## 5. Weight decay: how far is the best network from the nuclear-norm bound?

Forty standard Gaussian points, no biases (the setting of Theorem 3.2), all $2n=80$ cells, $\beta=8$. We compare

* the nuclear-norm **lower bound** (valid for every bias-free network, CVXPY/Clarabel, and FISTA for agreement),
* the network obtained by cone decomposition of its solution (exact output and trace, larger penalty),
* the cone-constrained program, whose solution **is** a network (an upper bound on the best network),
* Adam on a bias-free network of width 100 (the same class), three seeds.
""")

code(r"""
Xg = np.random.default_rng(0).standard_normal((40, 2))
beta = 8.0
cells_g = arrangement_patterns(Xg)
lower = convex_score_matching(Xg, cells_g, beta, solver="cvxpy")
lower_f = convex_score_matching(Xg, cells_g, beta, solver="fista")
net_dec = reconstruct_network(lower)
net_up, upper = cone_constrained_fit(Xg, cells_g, beta)


def adam_no_bias(X, beta, width, lr, steps, seed):
    # full-batch Adam on the exact SM objective of f(x) = sum_j a_j relu(w_j . x) (no biases)
    g = torch.Generator().manual_seed(seed)
    W1 = (torch.randn(width, 2, generator=g, dtype=torch.float64) / np.sqrt(2)).requires_grad_()
    W2 = (torch.randn(width, 2, generator=g, dtype=torch.float64) / np.sqrt(width)).requires_grad_()
    Xt = torch.as_tensor(X)
    opt = torch.optim.Adam([W1, W2], lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        pre = Xt @ W1.T
        F = torch.relu(pre) @ W2
        tr = ((pre >= 0).double() * (W1 * W2).sum(1)).sum()
        loss = 0.5 * (F ** 2).sum() + tr + 0.5 * beta * ((W1 ** 2).sum() + (W2 ** 2).sum())
        loss.backward()
        opt.step()
    return TwoLayerNet(W1=W1.detach().numpy(), b1=np.zeros(width), W2=W2.detach().numpy(), b2=np.zeros(2))

adam_losses = [score_matching_loss(adam_no_bias(Xg, beta, 100, 1e-2, 3000, s), Xg, beta) for s in range(3)]
print(f"nuclear-norm lower bound     {lower.value:9.4f}  (CVXPY: {lower.status}; FISTA {lower_f.value:.4f}, {lower_f.status})")
print(f"network from decomposition   {score_matching_loss(net_dec, Xg, beta):9.4f}")
print(f"cone-constrained network     {score_matching_loss(net_up, Xg, beta):9.4f}  (program {upper:.4f}, width {net_up.width})")
print("Adam, bias-free, 3 seeds     " + ", ".join(f"{v:.4f}" for v in adam_losses))
best = min([upper] + adam_losses)
print(f"best network found: {best:.4f}; distance to the lower bound {best - lower.value:.4f} "
      f"({(best - lower.value) / abs(lower.value):.1%} of |bound|)")
assert lower.value <= best + 1e-9 and abs(lower_f.value - lower.value) < 1e-4 * abs(lower.value)
""")

md(r"""
**With biases.** The same comparison for networks with (unpenalised) first-layer biases, on 20 Gaussian points
with all $n^2-n+2=382$ affine cells, at $\beta=8$ and $\beta=24$. The lower bound now uses the step
$|b|\le R\|w\|$ and loses a factor $\sqrt2$ in the penalty. Adam trains a network of width 100 with biases
(learning rate $10^{-2}$, 3,000 full-batch steps, three seeds); we report its final objective and the lowest
objective it passed through.
""")

code(r"""
import warnings

Xb = np.random.default_rng(0).standard_normal((20, 2))
cells_b = arrangement_patterns(Xb, bias=True)
for beta_b in (8.0, 24.0):
    with warnings.catch_warnings():  # CVXPY's advice to vectorise (compile time only) on these many-block programs
        warnings.simplefilter("ignore", UserWarning)
        lower_b = convex_score_matching(Xb, cells_b, beta_b, solver="cvxpy")
        net_b, upper_b = cone_constrained_fit(Xb, cells_b, beta_b)
    runs_b = [train_adam(Xb, beta_b, 100, 1e-2, 3000, seed=s) for s in range(3)]
    best_b = min([score_matching_loss(net_b, Xb, beta_b)] + [r.final_loss for r in runs_b])
    print(f"beta = {beta_b:g}: nuclear-norm lower bound {lower_b.value:.4f} ({lower_b.status})")
    print(f"  cone-constrained network {score_matching_loss(net_b, Xb, beta_b):.4f} (program {upper_b:.4f})")
    print("  Adam with biases, final  " + ", ".join(f"{r.final_loss:.4f}" for r in runs_b)
          + "; lowest on the way " + ", ".join(f"{min(r.losses):.4f}" for r in runs_b))
    print(f"  best network found {best_b:.4f}; distance to the lower bound {best_b - lower_b.value:.4f}")
    assert lower_b.value <= best_b + 1e-9
""")

md(r"""
## 6. Four laws: convex denoising score matching against Adam

Denoising score matching at noise level $\sigma=0.4$ (program (11), Theorem 4.2): inputs $x_i+\sigma z_i$,
labels $-z_i/\sigma$, with 10 noise draws per data point (2,000 pairs). The convex model uses 20 sampled gates
with bias (patterns of the noisy inputs) and zero weight decay: with no penalty, the number of patterns is what
limits overfitting (with 40 or more gates the fit chases the noise). Its least-squares optimum is computed in
closed form and turned into a network. Adam trains a network of width 64 with biases on the **same** noise
draws. The convex value is the optimum over networks whose neurons have the 20 sampled patterns, not over all
networks, so Adam may end above or below it.
""")

code(r"""
sigma = 0.4
dsm = {}
for k, (name, X0) in enumerate(data.items()):
    X = np.repeat(X0, 10, axis=0)
    Z = np.random.default_rng(100 + k).standard_normal(X.shape)
    arr = arrangement_patterns(X + sigma * Z, "sampled", n_gates=20, bias=True, rng=2)
    fit = convex_denoising_score_matching(X, Z, sigma, arr)
    net = reconstruct_network(fit)
    check = denoising_score_matching_loss(net, X, 0.0, sigma, Z)
    assert abs(check - fit.value) <= 1e-7 * abs(fit.value)
    runs = [train_adam(X, 0.0, 64, lr, 800, seed=0, objective="dsm", sigma=sigma, noise=Z) for lr in (1e-2, 1e-3)]
    dsm[name] = dict(Z=Z, fit=fit, net=net, runs=runs)
    print(f"{name:16s} P = {arr.n_patterns}: convex {fit.value:8.2f} (network {check:8.2f}, width {net.width}); "
          f"Adam lr 1e-2: {runs[0].final_loss:8.2f}, lr 1e-3: {runs[1].final_loss:8.2f}")
""")

code(r"""
fig, axes = plt.subplots(1, 4, figsize=(12, 3.0))
for ax, (name, r) in zip(axes, dsm.items()):
    for run, c in zip(r["runs"], ADAM):
        ax.plot(run.losses, color=c, lw=1.2, label=f"Adam lr {run.lr:g}")
    ax.axhline(r["fit"].value, color=CONVEX, ls="--", label="convex (20 patterns)")
    ax.set_title(name); ax.set_xlabel("epoch")
axes[0].set_ylabel("DSM objective"); axes[0].legend(fontsize=7)
fig.tight_layout(); save(fig, "dsm-loss"); plt.show()
""", alt="Four panels of DSM training curves: the two Adam runs decrease over 800 epochs; the "
         "dashed blue line marks the convex optimum over the 20 sampled patterns.")

md(r"""
**Score fields and Langevin samples.** The reference score is that of the *noised* law $p*\mathcal N(0,\sigma^2I)$,
which DSM targets: exact for the Gaussians and the mixture (variances add); for the ring we use a ring of width
$\sqrt{0.25^2+\sigma^2}$, an approximation that is accurate when the radius is large compared with both widths. Langevin dynamics ($\epsilon=0.01$, 600 steps, 1,000 chains started from
$\mathcal N(0,3^2I)$) runs on the convex network's score. The squared MMD to fresh draws of the noised law is
compared with the MMD between two independent draws of it (the noise floor).
""")

code(r"""
def noised_score(name):
    law = laws[name]
    if name == "Gaussian":
        return lambda x: -x / (1 + sigma**2)
    if name == "anisotropic":
        P = np.linalg.inv(law.cov + sigma**2 * np.eye(2))
        return lambda x: -x @ P
    if name == "three Gaussians":
        return GaussianMixture([[-2.0, -1.0], [2.0, -1.0], [0.0, 2.0]], np.sqrt(0.25 + sigma**2)).score
    return Ring(radius=2.0, width=np.sqrt(0.25**2 + sigma**2)).score

def noised_sample(name, n, seed):
    rng = np.random.default_rng(seed)
    return laws[name].sample(n, rng=rng) + sigma * rng.standard_normal((n, 2))

fig, axes = plt.subplots(3, 4, figsize=(12, 9))
grid = np.stack(np.meshgrid(np.linspace(-3.5, 3.5, 15), np.linspace(-3.5, 3.5, 15)), -1).reshape(-1, 2)
for j, (name, r) in enumerate(dsm.items()):
    net, true = r["net"], noised_score(name)
    cap = np.quantile(np.linalg.norm(true(grid), axis=1), 0.9)  # one arrow scale for both rows
    for i, (f, col, title) in enumerate([(net, CONVEX, "convex network"), (true, TRUE, "noised truth")]):
        S = f(grid)
        nrm = np.linalg.norm(S, axis=1, keepdims=True)
        U = S / np.maximum(nrm, 1e-12) * np.minimum(nrm / cap, 1.0)
        axes[i, j].quiver(grid[:, 0], grid[:, 1], U[:, 0], U[:, 1], color=col, angles="xy", scale_units="xy", scale=2.2, width=0.004)
        axes[i, j].scatter(*data[name].T, s=3, color=DATA, alpha=0.5)
        axes[i, j].set_title(f"{name}: {title}", fontsize=9)
    axes[0, j].set_xlabel("arrows capped at the 90% quantile of the true norm", fontsize=7)
    run = langevin(net, np.random.default_rng(7).normal(0, 3, (1000, 2)), 0.01, 600, rng=8)
    ref, ref2 = noised_sample(name, 1000, 11), noised_sample(name, 1000, 12)
    r["mmd"], r["floor"] = mmd2(run.samples, ref), mmd2(ref2, ref)
    mse = np.mean(np.sum((net(ref) - true(ref)) ** 2, axis=1))
    r["mse"] = mse
    axes[2, j].scatter(*ref.T, s=3, color=DATA, alpha=0.4, label="noised law")
    axes[2, j].scatter(*run.samples.T, s=3, color=PALETTE["orange"], alpha=0.6, label="Langevin")
    axes[2, j].set_title(f"{name}: samples", fontsize=9)
for ax in axes.ravel():
    ax.set_xlim(-4, 4); ax.set_ylim(-4, 4); ax.set_aspect("equal"); ax.grid(False)
axes[2, 0].legend(fontsize=7, loc="lower left", markerscale=3)
fig.tight_layout(); save(fig, "fields"); plt.show()
for name, r in dsm.items():
    print(f"{name:16s} score MSE on the noised law {r['mse']:7.3f};  MMD^2 Langevin {r['mmd']:.4f}  vs noise floor {r['floor']:.4f}")
""", alt="A three-by-four grid. Top row: the convex network's score fields as blue arrows over the data for the "
         "four laws. Middle row: the noised true score fields in black. Bottom row: Langevin samples in orange "
         "over draws of the noised law in grey.")

md(r"""
**Reading the results.** With 20 patterns the convex least-squares model is a piecewise-linear field that follows
the truth where there are data and extrapolates linearly outside; the mixture and the ring need more patterns
than the Gaussians. The MMD values above say how far the Langevin samples are from the noised law, in units of
the sampling noise floor. Adam's final loss depends on the step size, as in the univariate chapters, while the
convex optimum over its pattern class is computed in one shot.
""")

b.write("05-arrangements.ipynb")
