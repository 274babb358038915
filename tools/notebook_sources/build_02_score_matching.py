"""Cells of notebooks/02-score-matching.ipynb. Run ``.venv/bin/python tools/notebook_sources/build_02_score_matching.py``,
then ``make execute NB=notebooks/02-score-matching.ipynb`` to store the outputs (see nbbuild.py)."""
from nbbuild import Builder

b = Builder()
md, code = b.md, b.code

md(r"""
# Lab: score matching

This lab runs Chapter 2 ({ref}`ch-score-matching`):

* Hyvärinen's identity ({prf:ref}`thm-hyvarinen`) by quadrature, for a ReLU network and a Gaussian density, and the
  failure of its boundary condition for uniform data ({ref}`ex-sm-uniform`);
* the Gaussian fit of a linear score model ({ref}`ex-sm-gaussian`);
* the unbounded ray for small weight decay ({prf:ref}`prop-sm-unbounded`), with both derivative conventions;
* the zero bias gradient of the derivative term ({prf:ref}`prop-zero-bias-gradient`), and what it does to Adam.

The Adam experiment uses $n=40$ points, width 20 and 500 steps, ten seeds, so that the notebook runs in well under a
minute; Chapter 4 repeats it for all four architectures.
""")
code(r"""
%matplotlib inline
import numpy as np
import matplotlib.pyplot as plt
import torch
from scipy import integrate
import io
from pathlib import Path

import convexscore as cs
from convexscore.baselines import train_adam
from convexscore.torch_net import TorchTwoLayerNet, torch_sm_loss, trace_term_gradients

torch.set_num_threads(1)
torch.manual_seed(0)
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
rng = np.random.default_rng(0)
""")

md(r"""
## Hyvärinen's identity

Take $p=\mathcal N(0,1)$ (score $s_p(x)=-x$) and a ReLU network $f$ with five random neurons. We compute both sides of
{eq}`eq-hyvarinen` by adaptive quadrature, splitting the integrals at the kinks. The value of $f'$ at the kinks is
irrelevant here (a set of measure zero, {prf:ref}`rem-kinks-population`).
""")
code(r"""
net = cs.TwoLayerNet(W1=rng.normal(size=(5, 1)), b1=rng.normal(size=5), W2=rng.normal(size=(5, 1)), b2=np.array([0.3]))
pdf = lambda t: np.exp(-t * t / 2) / np.sqrt(2 * np.pi)
kinks = np.sort(-net.b1 / net.W1[:, 0])
f = lambda t: float(net(np.array([t]))[0])
fprime = lambda t: float(net.jacobian_trace(np.array([t]))[0])

def expect(g):
    pts = np.concatenate([[-np.inf], kinks, [np.inf]])
    return sum(integrate.quad(lambda t: g(t) * pdf(t), lo, hi, epsabs=1e-12, epsrel=1e-12)[0]
               for lo, hi in zip(pts[:-1], pts[1:]))

fisher = 0.5 * expect(lambda t: (f(t) + t) ** 2)
rhs = expect(lambda t: 0.5 * f(t) ** 2 + fprime(t)) + 0.5 * expect(lambda t: t * t)
print(f"Fisher divergence F(f)                  {fisher:.10f}")
print(f"E[f^2/2 + f'] + E[s^2]/2               {rhs:.10f}")
""")
md(r"""
For the uniform density on $[0,1]$ and $f(x)=x$ the boundary term $[fp]_0^1=1$ survives, and the two sides differ by
exactly one ({ref}`ex-sm-uniform`).
""")
code(r"""
fisher_u = integrate.quad(lambda t: 0.5 * t * t, 0, 1)[0]          # the score is 0 inside (0, 1)
rhs_u = integrate.quad(lambda t: 0.5 * t * t + 1.0, 0, 1)[0]
print(f"uniform: F(f) = {fisher_u:.6f},  E[f^2/2 + f'] + E[s^2]/2 = {rhs_u:.6f},  difference {rhs_u - fisher_u:.6f}")
""")

md(r"""
## A linear score model fits the sample mean and the biased variance

{ref}`ex-sm-gaussian`: minimising $\sum_i\frac12(ax_i+c)^2+na$ gives $a=-1/\sigma^2$, $c=\bar x/\sigma^2$ and the value
$-n/(2\sigma^2)$. We represent $ax+c$ as a network with one switched-off neuron and a skip connection, and check that
nudging $a$ or $c$ in any direction only increases the exact loss.
""")
code(r"""
x = np.sort(rng.normal(loc=1.0, scale=2.0, size=40))
n, xbar, s2 = x.size, x.mean(), x.var()

def linear(a, c):
    return cs.TwoLayerNet(W1=np.zeros((1, 1)), b1=np.zeros(1), W2=np.zeros((1, 1)), b2=np.array([c]), V=np.array([[a]]))

J0 = cs.score_matching_loss(linear(-1 / s2, xbar / s2), x, 0.0)
nudges = [cs.score_matching_loss(linear(-1 / s2 + da, xbar / s2 + dc), x, 0.0) - J0
          for da in (-1e-3, 0, 1e-3) for dc in (-1e-3, 0, 1e-3) if (da, dc) != (0, 0)]
print(f"loss at a = -1/s2, c = xbar/s2: {J0:.6f}   -n/(2 s2) = {-n / (2 * s2):.6f}")
print("every nudge increases the loss:", min(nudges) > 0)
""")

md(r"""
## Small weight decay: the unbounded ray

{prf:ref}`prop-sm-unbounded`. We add to the zero network the neuron $-a^2(x-x_{\max})_+$ ($w=a$, $b=-ax_{\max}$,
$\alpha=-a$). It vanishes on the data, has slope $-a^2$ at $x_{\max}$ and costs $\beta a^2$, so
$J(a)=(\beta-1)a^2$ exactly. With PyTorch's autograd, which uses $\operatorname{relu}'(0)=0$, the same neuron gains
nothing, $J(a)=\beta a^2$; moving the kink to $x_{\max}-a^{-3}$ makes the gain independent of the convention
({ref}`ex-sm-ray-code`).
""")
code(r"""
xs = np.sort(rng.normal(size=20))

def ray(a, shift=0.0):
    return cs.TwoLayerNet(W1=np.array([[a]]), b1=np.array([-a * (xs.max() - shift)]), W2=np.array([[-a]]), b2=np.zeros(1))

a_grid = np.linspace(0, 3, 61)
fig, ax = plt.subplots(figsize=(6.4, 3.8), layout="constrained")
for beta_r, color in ((0.5, "tab:red"), (1.0, "tab:gray"), (2.0, "tab:blue")):
    J = np.array([cs.score_matching_loss(ray(a), xs, beta_r) for a in a_grid])
    assert np.allclose(J, (beta_r - 1) * a_grid ** 2)
    ax.plot(a_grid, J, color=color, lw=2, label=rf"$\beta={beta_r}$")
    ax.plot(a_grid[::6], (beta_r - 1) * a_grid[::6] ** 2, "o", color=color, ms=4)
ax.set_xlabel("size $a$ of the added neuron"); ax.set_ylabel("score-matching loss $J$")
ax.set_title(r"loss along the ray (lines) and $(\beta-1)a^2$ (dots)")
ax.legend()
save(fig, "ch02-ray")
plt.show()
""")
code(r"""
beta_r = 0.5
print("  a   | J, relu'(0)=1 | J, autograd relu'(0)=0 | J, kink at x_max - a^-3 | (beta-1) a^2")
for a in (3.0, 10.0, 30.0):
    exact = cs.score_matching_loss(ray(a), xs, beta_r)
    auto = float(torch_sm_loss(TorchTwoLayerNet.from_numpy(ray(a)), xs, beta_r, trace="autograd").detach())
    shifted = cs.score_matching_loss(ray(a, shift=a ** -3), xs, beta_r)
    print(f"{a:5.1f} | {exact:13.4f} | {auto:22.4f} | {shifted:23.4f} | {(beta_r - 1) * a * a:11.4f}")
""")

md(r"""
## The derivative term gives the biases no gradient

{prf:ref}`prop-zero-bias-gradient`. For random ReLU and absolute-value networks (no kink on a data point, which holds
with probability one) the gradient of $\sum_if'(x_i)$ with respect to the biases $b_j$ is exactly zero, while its
gradients in $w_j$ and $\alpha_j$ are the active counts times the other weight.
""")
code(r"""
for act in ("relu", "abs"):
    worst_b, worst_w = 0.0, 0.0
    for k in range(200):
        m = int(rng.integers(1, 50))
        r = cs.TwoLayerNet(W1=rng.normal(size=(m, 1)), b1=rng.normal(size=m), W2=rng.normal(size=(m, 1)),
                           b2=rng.normal(size=1), activation=act)
        g = trace_term_gradients(r, xs)
        u = xs[:, None] * r.W1[:, 0] + r.b1
        slope = (u >= 0).sum(0) if act == "relu" else np.where(u >= 0, 1, -1).sum(0)
        worst_b = max(worst_b, np.abs(g["b1"]).max())
        worst_w = max(worst_w, np.abs(g["W1"][:, 0] - r.W2[:, 0] * slope).max())
    print(f"{act:4s}: largest |d(derivative term)/d b_j| over 200 networks = {worst_b:.1e}; "
          f"largest error of the formula for d/d w_j = {worst_w:.1e}")
""")

md(r"""
## What Adam does

We train ReLU networks without skip connection with Adam from ten seeds on $n=40$ standard normal points with
$\beta=4$ (width 20, learning rate $10^{-2}$, 500 full-batch steps), the same loop as `convexscore.train_adam`, but
recording at every step the bias gradient of the two data terms separately, and the number of **alive** neurons (those
active on at least one data point). The dashed line is the convex optimum of Chapter 3, a lower bound for every network.
""")
code(r"""
xa = np.sort(np.random.default_rng(0).normal(size=40))
beta, width, lr, steps = 4.0, 20, 1e-2, 500
X = torch.as_tensor(xa[:, None])
optimum = cs.fit_score_matching(xa, beta).value

def instrumented(seed):
    model = TorchTwoLayerNet.init(1, width, "relu", False, seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    hist = {"loss": [], "quad": [], "deriv": [], "alive": []}
    for step in range(steps + 1):
        quad = 0.5 * (model(X) ** 2).sum()
        deriv = model.jacobian_trace(X).sum()
        g_quad = torch.autograd.grad(quad, model.b1, retain_graph=True)[0]
        g_deriv = torch.autograd.grad(deriv, model.b1, retain_graph=True, allow_unused=True)[0]
        loss = quad + deriv + beta * model.penalty()
        with torch.no_grad():
            active = (X @ model.W1.T + model.b1 >= 0).any(0) & (model.W1[:, 0] * model.W2[:, 0] != 0)
        hist["loss"].append(float(loss.detach()))
        hist["quad"].append(float(g_quad.norm()))
        hist["deriv"].append(0.0 if g_deriv is None else float(g_deriv.norm()))
        hist["alive"].append(int(active.sum()))
        if step == steps:
            break
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {k: np.array(v) for k, v in hist.items()}

hists = [instrumented(s) for s in range(10)]
reference = [train_adam(xa, beta, width=width, lr=lr, epochs=steps, seed=s).final_loss for s in range(10)]
print("same final losses as convexscore.train_adam:",
      np.allclose([h["loss"][-1] for h in hists], reference, atol=1e-8))
print(f"convex optimum {optimum:.4f} | Adam final losses: min {min(reference):.4f}, max {max(reference):.4f}")
print("largest bias gradient of the derivative term over all steps and seeds:", max(h["deriv"].max() for h in hists))
print("alive neurons at the end:", [int(h["alive"][-1]) for h in hists])
""")
code(r"""
fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), layout="constrained")
steps_axis = np.arange(steps + 1)
for h in hists:
    axes[0].plot(steps_axis, h["loss"], color="tab:blue", alpha=0.5, lw=1)
    axes[1].plot(steps_axis, h["quad"], color="tab:blue", alpha=0.5, lw=1)
    axes[2].plot(steps_axis, h["alive"], color="tab:blue", alpha=0.5, lw=1)
axes[0].axhline(optimum, color="k", ls="--", lw=1.5, label="convex optimum")
axes[0].set_yscale("symlog", linthresh=1.0); axes[0].legend()
axes[0].set_title("training loss (symlog)")
axes[1].set_yscale("log")
axes[1].set_title("norm of the bias gradient of $\\frac{1}{2}\\sum_i f(x_i)^2$")
axes[1].text(0.03, 0.05, "bias gradient of $\\sum f'(x_i)$:\nexactly 0 at every step", transform=axes[1].transAxes)
axes[2].set_title("alive neurons (active on some data point)")
for ax in axes:
    ax.set_xlabel("Adam step")
save(fig, "ch02-adam")
plt.show()
""")
md(r"""
The loss drops quickly towards the optimum and then, for every seed, climbs back to about zero. The right panel
shows why: the neurons die one after the other. Only the quadratic term moves the biases (its bias gradient is the
only one, middle panel), and it moves them to shrink the outputs, eventually pushing the kinks off the data; once a
neuron is inactive on every point, only weight decay acts on it and it shrinks to zero. The derivative term, which is what rewards
negative slopes at the data, never contributes a bias gradient. The convex program sees it through the counts $d$.
""")

b.write("02-score-matching.ipynb")
