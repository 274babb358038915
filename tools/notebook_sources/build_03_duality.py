"""Cells of notebooks/03-duality.ipynb. Run ``.venv/bin/python tools/notebook_sources/build_03_duality.py``,
then ``make execute NB=notebooks/03-duality.ipynb`` to store the outputs (see nbbuild.py)."""
from nbbuild import Builder

b = Builder()
md, code = b.md, b.code

md(r"""
# Lab: the convex dual of score matching

This lab runs Chapter 3 ({ref}`ch-duality`). Each section checks one statement of the chapter numerically, next to
its label:

* the ReLU dictionary $(A,d)$ of {eq}`eq-relu-dictionary`, built from its definition and compared with the library;
* the rescaling lemma ({prf:ref}`lem-rescaling`);
* Theorem 3.1 ({prf:ref}`thm-convex-sm`): the convex optimum equals the loss of the reconstructed network;
* weak duality and the certificate ({prf:ref}`thm-weak-duality`), with the dual constraint function drawn over
  all kink positions against the band $\pm\beta$ ({prf:ref}`lem-kinks`, {eq}`eq-kkt`);
* strict feasibility ({prf:ref}`lem-slater-relu`) and the zero network ({ref}`ex-dual-zero`);
* repeated data points ({prf:ref}`prop-repeated-thresholds`) on the Old Faithful waiting times.

Sizes are small (12 points for the pictures, the 272 Old Faithful records for the thresholds) so that the whole
notebook runs in a few seconds.
""")
code(r"""
%matplotlib inline
import numpy as np
import matplotlib.pyplot as plt
import io
from pathlib import Path

import convexscore as cs
from convexscore.datasets import load_old_faithful
from convexscore.univariate.dictionaries import dense_dictionary

plt.rcParams.update({"figure.dpi": 100, "axes.grid": True, "grid.alpha": 0.3})
FIGDIR = Path("../book/figures")  # the prose pages show these files
FIGDIR.mkdir(exist_ok=True)

def save(fig, name):
    # Write the PNG the prose page shows. Solver-precision differences between runs can move a few
    # anti-aliased pixels; such a file is left as it is, so that re-running does not churn the repository.
    path = FIGDIR / f"{name}.png"
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
    if path.exists():
        old, new = plt.imread(path), plt.imread(io.BytesIO(buf.getvalue()))
        if old.shape == new.shape and np.mean(np.any(old != new, axis=-1)) < 0.005:
            return
    path.write_bytes(buf.getvalue())
rng = np.random.default_rng(3)
x = np.sort(rng.normal(size=12))
n, beta = x.size, 3.0
print("n =", n, " beta =", beta, " smallest gap =", round(float(np.diff(x).min()), 4))
""")

md(r"""
## The dictionary $(A, d)$

We build the four blocks of {eq}`eq-relu-dictionary` straight from their definitions: right ramps twice (kink
counted active, then inactive), left ramps twice. The library builds the same matrix from its own layout; the two
must agree entry by entry.
""")
code(r"""
def relu_dictionary(x):
    # A (n, 4n) and d (4n,) of program (4), column j of each block at the data point x_j
    right = np.maximum(x[:, None] - x[None, :], 0.0)     # (x_i - x_j)_+
    left = np.maximum(x[None, :] - x[:, None], 0.0)      # (x_j - x_i)_+
    ge = (x[:, None] >= x[None, :]).sum(axis=0)          # #{i: x_i >= x_j}
    gt = (x[:, None] > x[None, :]).sum(axis=0)
    le = (x[:, None] <= x[None, :]).sum(axis=0)
    lt = (x[:, None] < x[None, :]).sum(axis=0)
    A = np.hstack([right, right, left, left])
    d = np.concatenate([ge, gt, -le, -lt]).astype(float)
    return A, d

A, d = relu_dictionary(x)
P1 = np.eye(n) - np.ones((n, n)) / n
fit = cs.fit_score_matching(x, beta, activation="relu")
prog = fit.problem
A_lib = dense_dictionary(prog.inputs, prog.knots, prog.layout)
print("A shape", A.shape, "| same as library:", np.array_equal(A, A_lib), "| same d:", np.array_equal(d, prog.d))
""")

md(r"""
## The rescaling lemma

{prf:ref}`lem-rescaling`: rescaling each neuron by $(w,b,\alpha)\mapsto(cw,cb,\alpha/c)$ with
$c=\sqrt{|\alpha|/|w|}$ leaves the function and its derivative unchanged and turns the penalty
$\frac\beta2(w^2+\alpha^2)$ into $\beta|w\alpha|$, which is never larger. We check it on a random network of width 7.
""")
code(r"""
m = 7
net = cs.TwoLayerNet(W1=rng.normal(size=(m, 1)) * 2, b1=rng.normal(size=m), W2=rng.normal(size=(m, 1)) * 0.3,
                     b2=np.array([0.1]))
c = np.sqrt(np.abs(net.W2[:, 0]) / np.abs(net.W1[:, 0]))
scaled = cs.TwoLayerNet(W1=net.W1 * c[:, None], b1=net.b1 * c, W2=net.W2 / c[:, None], b2=net.b2)
grid = np.linspace(-3, 3, 7)
reduced = (0.5 * np.sum(net(x) ** 2) + np.sum(net.jacobian_trace(x))
           + beta * np.sum(np.abs(net.W1[:, 0] * net.W2[:, 0])))
print("same outputs:", np.allclose(net(grid), scaled(grid)),
      "| same derivatives:", np.allclose(net.jacobian_trace(grid), scaled.jacobian_trace(grid)))
print("J before:", round(cs.score_matching_loss(net, x, beta), 6), " J after:",
      round(cs.score_matching_loss(scaled, x, beta), 6), " reduced objective (eq-rescaled):", round(reduced, 6))
""")

md(r"""
## Theorem 3.1: the convex optimum is attained by a network

{prf:ref}`thm-convex-sm`. We solve program (4) with the library, evaluate its objective at the returned $z^*$ with
our own $(A,d)$, evaluate the **non-convex** loss {eq}`eq-sm-1d` of the reconstructed network, and compare with the
dense reference solver. The predicted scores at the data are $\lambda^*=P_\one Az^*$ (item 2) and sum to zero
({ref}`ex-dual-mean-zero`).
""")
code(r"""
z = fit.z
program_value = 0.5 * np.sum((P1 @ A @ z) ** 2) + d @ z + beta * np.abs(z).sum()
net_loss = cs.score_matching_loss(fit.net, x, beta)
dense = cs.fit_score_matching(x, beta, activation="relu", solver="cvxpy-dense")
lam_star = P1 @ A @ z
print("solver status:", fit.status, "| program", fit.program)
print(f"optimum of (4):                {fit.value:.6f}")
print(f"(4) at z* with our (A, d):     {program_value:.6f}")
print(f"loss of reconstructed network: {net_loss:.6f}   (width {fit.width} = ||z*||_0 = {np.count_nonzero(z)})")
print(f"dense reference solver:        {dense.value:.6f}")
print("scores at the data = P1 A z*:", np.allclose(fit.net(x), lam_star, atol=1e-5),
      "| scores sum to zero:", abs(float(lam_star.sum())) < 1e-9)
""")

md(r"""
## Weak duality, the certificate, and the dual constraint function

The library's certificate is a dual point $\lambda$ that satisfies the $4n$ constraints of {eq}`eq-finite-dual`
exactly. Its objective $-\frac12\|\lambda\|^2$ is a lower bound on the loss of **every** network of every width
({prf:ref}`thm-weak-duality`). We do not take the finite reduction ({prf:ref}`lem-kinks`) on trust: below, the dual
constraint function {eq}`eq-dual-constraint-function` is evaluated on a grid of 8,000 kink positions plus both
sides of every data point, for both directions $s=\pm1$.
""")
code(r"""
cert = fit.certificate
lam = cert.dual

def G(lam, s, t):
    # dual constraint function G_lambda(s, t) for kink positions t (T,), ReLU with relu'(0) = 1
    u = s * (x[None, :] - np.asarray(t)[:, None])
    return np.maximum(u, 0.0) @ lam + s * (u >= 0).sum(axis=1)

eps = 1e-9
t_grid = np.sort(np.concatenate([np.linspace(x[0] - 1, x[-1] + 1, 8000), x - eps, x, x + eps]))
worst = max(np.abs(G(lam, s, t_grid)).max() for s in (+1, -1))
print(f"certificate feasible: {cert.feasible} | lower bound {cert.lower_bound:.6f} | gap below 1e-6: {cert.gap < 1e-6}")
print(f"max over the grid of |G| = {worst:.6f}  <=  beta = {beta}")
""")
md(r"""
Complementary slackness {eq}`eq-kkt` says where the neurons go: each neuron of the optimal network has its kink
where $G$ touches the band, at $-\beta$ for a positive output weight $a=\alpha|w|$ and at $+\beta$ for a negative one.
The reconstructed kinks sit $\varepsilon$ away from the data, on the side of the column's counting convention, so
evaluating $G$ at the kink itself gives the one-sided value.
""")
code(r"""
w1, b1, w2 = fit.net.W1[:, 0], fit.net.b1, fit.net.W2[:, 0]
kinks, s_neuron, a_neuron = -b1 / w1, np.sign(w1), w2 * np.abs(w1)
G_at_kinks = np.array([G(cert.dual, s, [t])[0] for s, t in zip(s_neuron, kinks)])
for t, s, a, g in zip(kinks, s_neuron, a_neuron, G_at_kinks):
    print(f"kink {t:+.4f}  direction {int(s):+d}  output weight a = {a:+.4f}   G = {g:+.4f}   -beta*sign(a) = {-beta*np.sign(a):+.1f}")
""")
code(r"""
fig, axes = plt.subplots(1, 2, figsize=(10, 4.0), sharey=True, layout="constrained")
t_plot = np.sort(np.concatenate([np.linspace(x[0] - 0.8, x[-1] + 0.8, 3000), x - 1e-6, x + 1e-6]))
for ax, s, name in zip(axes, (+1, -1), ("right ramps $(x-t)_+$, $s=+1$", "left ramps $(t-x)_+$, $s=-1$")):
    ax.axhspan(-beta, beta, color="tab:green", alpha=0.12, label=r"band $\pm\beta$")
    ax.axhline(beta, color="tab:green", lw=1); ax.axhline(-beta, color="tab:green", lw=1)
    ax.plot(t_plot, G(cert.dual, s, t_plot), color="tab:blue", lw=1.2, label=r"$G_\lambda(s,t)$")
    ax.plot(x, np.full(n, -beta - 0.35), "|", color="k", ms=10, label="data")
    sel = s_neuron == s
    ax.plot(kinks[sel], G_at_kinks[sel], "o", color="tab:red", ms=7, label="kinks of the optimal network")
    ax.set_title(name); ax.set_xlabel("kink position $t$")
axes[0].set_ylabel("dual constraint function")
fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=4, fontsize=9)
save(fig, "ch03-dual-function")
plt.show()
""")
md(r"""
The blue curve jumps at every data point (the counting term) and is linear in between, so its extremes are one-sided
limits at the data, as {prf:ref}`lem-kinks` says. It never leaves the green band, which proves the lower bound for
every width, and the red dots, the neurons of the optimal network, sit exactly on the edge of the band.

The lower bound holds for networks that have nothing to do with the convex solution. We draw 2,000 random networks
of widths 1 to 200, perturb the optimal network 2,000 times, and train one network with Adam; none goes below the
certificate.
""")
code(r"""
from convexscore.baselines import train_adam
import torch
torch.set_num_threads(1)
torch.manual_seed(0)

losses = []
for k in range(2000):
    m = int(rng.integers(1, 201))
    scale = 10.0 ** rng.uniform(-1, 1)
    rnd = cs.TwoLayerNet(W1=rng.normal(size=(m, 1)) * scale, b1=rng.normal(size=m) * scale,
                         W2=rng.normal(size=(m, 1)) / scale, b2=rng.normal(size=1))
    losses.append(cs.score_matching_loss(rnd, x, beta))
p = fit.net.parameters()
perturbed = []
for k in range(2000):
    q = {key: (None if val is None else val + 1e-2 * rng.normal(size=np.shape(val))) for key, val in p.items()}
    perturbed.append(cs.score_matching_loss(cs.TwoLayerNet(q["W1"], q["b1"], q["W2"], q["b2"]), x, beta))
adam = train_adam(x, beta, width=30, lr=1e-2, epochs=400, seed=0)
print(f"lower bound                        {cert.lower_bound:10.4f}")
print(f"smallest loss, random networks     {min(losses):10.4f}")
print(f"smallest loss, perturbed optimum   {min(perturbed):10.4f}")
print(f"Adam (width 30, 400 steps)         {adam.final_loss:10.4f}")
""")

md(r"""
## Strict feasibility (Lemma A.1)

{prf:ref}`lem-slater-relu`. Necessity: block 1 at $j=n$ is the zero column with count $1$, so that constraint value is
$1$ for every $\lambda$. Sufficiency: the back-substitution of the proof gives a $\lambda$ with
$\one^\top\lambda=0$ and all $4n$ constraint values in $[-1,1]$ ({ref}`ex-dual-slater-code`).
""")
code(r"""
target = -(n - np.arange(1, n + 1) + 0.5)            # g_j = -(n - j + 1/2), j = 1..n-1
lam_s = np.zeros(n)
for j in range(n - 2, -1, -1):                         # g_j = sum_{i>j} lam_i (x_i - x_j)
    rest = sum(lam_s[i] * (x[i] - x[j]) for i in range(j + 2, n))
    lam_s[j + 1] = (target[j] - rest) / (x[j + 1] - x[j])
lam_s[0] = -lam_s[1:].sum()
vals = A.T @ lam_s + d
print("sum of lambda is zero:", abs(float(lam_s.sum())) < 1e-9, "| max |A^T lam + d| =", round(float(np.abs(vals).max()), 10))
for k in range(4):
    inner = np.unique(np.round(vals[k * n:(k + 1) * n - 1], 8) + 0.0)
    print(f"block {k + 1}: values at j < n {inner.tolist()}, at j = n {round(float(vals[k * n + n - 1]), 8) + 0.0}")
lam_r = rng.normal(size=(5, n)); lam_r -= lam_r.mean(axis=1, keepdims=True)
print("block 1, j = n, for five random feasible-direction lambdas:", np.round((lam_r @ A + d)[:, n - 1], 8))
""")

md(r"""
## Heavy weight decay switches the network off

{ref}`ex-dual-zero`: $z^*=0$ is optimal iff $\beta\ge\|d\|_\infty=n$.
""")
code(r"""
print("||d||_inf =", np.abs(d).max(), "| library zero-network threshold:", cs.zero_network_threshold(x))
for bb in (n - 0.5, n + 0.5, n + 3.0):
    f = cs.fit_score_matching(x, bb)
    print(f"beta = {bb:5.1f}: value {round(f.value, 5) + 0.0:9.5f}, nonzeros in z* = {np.count_nonzero(f.z)}")
""")

md(r"""
## Repeated data points: Old Faithful

{prf:ref}`prop-repeated-thresholds`. The waiting times are whole minutes; the value 78 occurs 15 times, and the
smallest and largest values occur once. The thresholds are therefore $\max(1,1,15/2)=7.5$ for ReLU, $15$ for the
absolute value, and $\max(2,2,15)=15$ for the absolute value with skip, far above the values $1$ and $2$ for distinct
data. The library refuses $\beta$ at or below them, and solves just above them with a verified certificate.
""")
code(r"""
wait = load_old_faithful("waiting")
u, counts = np.unique(wait, return_counts=True)
print(f"n = {wait.size}, distinct values {u.size}, most repeated: {u[counts.argmax()]:.0f} ({counts.max()} times); "
      f"multiplicities of the smallest and largest: {counts[0]}, {counts[-1]}")
for act, skip, above in (("relu", False, 8.0), ("relu", True, 8.0), ("abs", False, 16.0), ("abs", True, 16.0)):
    tau = cs.unboundedness_threshold(wait, act, skip)
    try:
        cs.fit_score_matching(wait, tau, activation=act, skip=skip)
        refused = "no"
    except ValueError:
        refused = "yes"
    f = cs.fit_score_matching(wait, above, activation=act, skip=skip)
    print(f"{act:4s} skip={skip!s:5s}: threshold {tau:5.1f}  refused at threshold: {refused:3s} | beta {above}: "
          f"{f.status}, value {f.value:8.4f}, certified gap below 1e-6: {f.certificate.gap < 1e-6}")
""")
md(r"""
Below the threshold the proof's ray is explicit. For ReLU at $\beta=7$ we add the pair
$-t\,(x-78)_+ + t\,(x-78-t^{-2})_+$ to the zero network. Its derivative sum is $-15t$, it costs $2\beta t=14t$, and it
moves the outputs by at most $1/t$, so the loss falls like $-t$. We evaluate it with the library's exact loss.
""")
code(r"""
def pair(t, u0=78.0):
    e = t ** -2.0
    return cs.TwoLayerNet(W1=np.array([[np.sqrt(t)], [np.sqrt(t)]]),
                          b1=np.array([-np.sqrt(t) * u0, -np.sqrt(t) * (u0 + e)]),
                          W2=np.array([[-np.sqrt(t)], [np.sqrt(t)]]), b2=np.zeros(1))
for t in (10.0, 100.0, 1000.0):
    print(f"t = {t:6.0f}:  J = {cs.score_matching_loss(pair(t), wait, 7.0):12.4f}   (2 beta - 15) t = {(14 - 15) * t:9.1f}")
""")
md(r"""
The end values matter too. In $x=(0,0,1,2.5,4)$ the *smallest* value repeats, and the ReLU threshold is $2$, not
$1$ ({ref}`ex-dual-repeated`): at $\beta=1.5$ the single neuron $a^2(0-x)_+$ gives $J=(1.5-2)a^2$.
""")
code(r"""
xe = np.array([0.0, 0.0, 1.0, 2.5, 4.0])
print("threshold (ReLU):", cs.unboundedness_threshold(xe, "relu"), "| (abs + skip):", cs.unboundedness_threshold(xe, "abs", True))
for a in (1.0, 10.0, 100.0):
    end = cs.TwoLayerNet(W1=np.array([[-a]]), b1=np.array([0.0]), W2=np.array([[a]]), b2=np.zeros(1))
    print(f"a = {a:5.0f}:  J = {cs.score_matching_loss(end, xe, 1.5):12.2f}   (1.5 - 2) a^2 = {-0.5 * a * a:12.2f}")
""")
md(r"""
## What to take away

* The convex program (4) is small and exact: its optimum equals the loss of a network read off its solution, and a
  dual point certifies that no network of any width does better. The picture of the dual constraint function
  makes the proof visible: the constraint stays inside $\pm\beta$ for every kink position, and the neurons sit where
  it touches.
* The thresholds of the theory move with the data: repeated values raise them, by half the multiplicity for an
  interior ReLU kink and by the full multiplicity at an end.
""")

b.write("03-duality.ipynb")
