"""Cells of notebooks/08-convergence.ipynb. Run ``.venv/bin/python tools/notebook_sources/build_08_convergence.py``,
then ``make execute NB=notebooks/08-convergence.ipynb`` to store the outputs (see nbbuild.py)."""
from nbbuild import Builder

b = Builder()
md, code = b.md, b.code

md(r"""
# Lab: convergence of Langevin sampling with the learned score

This lab checks [Chapter 8](../book/08-convergence.md) numerically. The learned density is normalised exactly
(it is piecewise Gaussian), the law of every Langevin iterate is propagated on a fine grid, and the
Kullback–Leibler divergence of the averaged law is compared with the bound
$\KL(\bar\mu_N\|\pi)\le W_2^2(\mu_0,\pi)/(2Nh)+Lh$ of the chapter's Langevin theorem ($d=1$) for the step sizes that Theorems 3.4 and A.7
prescribe. A Monte Carlo run of `convexscore.langevin` checks the grid propagation. The last sections show what
happens when the theorem does not apply.
""")

code(r"""
%matplotlib inline
from pathlib import Path
import numpy as np
import matplotlib.pyplot as plt
from myst_nb import glue

import convexscore as cs
from convexscore.density import PiecewiseGaussianDensity

plt.rcParams.update({"figure.dpi": 110, "figure.facecolor": "white", "axes.facecolor": "white",
                     "axes.grid": True, "grid.alpha": 0.3, "font.size": 9})
BLUE, ORANGE, GREEN, RED, PURPLE, GREY = "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#777777"
FIGDIR = Path("08-figures")      # the book's Chapter 8 page shows these files
FIGDIR.mkdir(exist_ok=True)

def save(fig, name):
    fig.savefig(FIGDIR / f"{name}.png", dpi=130, metadata={"Software": None})
    glue(name, fig, display=False)

x = np.sort(np.random.default_rng(0).normal(size=30))       # the data of Chapter 6
n, xbar, s2 = x.size, x.mean(), x.var()
""")

md(r"""
## The learned densities and their smoothness

Both networks are trained by the convex solver in the two-neuron regime. For the ReLU network we use the
solver's own $\alpha$; for the absolute-value network the solver returns the minimum-norm member $\alpha=\frac12$
(see Chapter 6), and we use the exact network at $\alpha=\frac12$ (Theorem A.7 is about that network).
""")

code(r"""
targets = {}
for act in ("relu", "abs"):
    beta = 0.5 * (cs.two_neuron_threshold(x, act) + n)
    t = (n - beta) / (n * s2)
    fit = cs.fit_score_matching(x, beta, activation=act)
    alpha = -fit.z[0] / t
    net = fit.net if act == "relu" else cs.two_neuron_network(x, beta, "abs", alpha=0.5)
    dens = PiecewiseGaussianDensity.from_network(net)
    mean, var = dens.moments()
    targets[act] = dict(beta=beta, t=t, net=net, dens=dens, mean=mean, var=var)
    print(f"{act:4s}: beta = {beta:.3f}, solver alpha = {alpha:.6f}; slopes of the score "
          f"{np.round(dens.slopes, 4).tolist()}; L = {dens.lipschitz:.4f} = t = {t:.4f}; "
          f"log-concave {dens.is_log_concave}; mean {mean:.4f}, variance {var:.4f}")
""")

md(r"""
## Propagating the law of the chain

One step $x'=x+hf(x)+\sqrt{2h}\,\xi$ maps the law $\mu_k$ to $\mu_{k+1}(y)=\int\mu_k(x)\,\varphi_{2h}(y-x-hf(x))\,dx$.
On a grid of spacing $\Delta$ much smaller than $\sqrt{2h}$ this is a matrix–vector product. The start is a point
mass at $x_0=\bar x+8$, far in the right tail, so $W_2^2(\mu_0,\pi)=\operatorname{Var}_\pi+(\E_\pi X-x_0)^2$
(see the exercises); $\mu_1$ is the Gaussian $\Normal(x_0+hf(x_0),2h)$, tabulated exactly.
""")

code(r"""
X0 = xbar + 8.0
GRID = np.linspace(xbar - 24.0, xbar + 24.0, 801)
DX = GRID[1] - GRID[0]

def propagate(dens, h, N, x0=X0, grid=GRID):
    # Returns KL(avg of mu_1..mu_k || pi) and KL(mu_k || pi) for k = 1..N, and mu_N (probability masses).
    f = dens.score(grid)
    T = np.exp(-(grid[None, :] - (grid + h * f)[:, None]) ** 2 / (4 * h))
    T /= T.sum(axis=1, keepdims=True)                   # row i: where mass at grid[i] goes
    logpi = dens.logpdf(grid) + np.log(grid[1] - grid[0])   # log of pi's mass per cell
    m1 = x0 + h * float(dens.score(np.array([x0]))[0])
    q = np.exp(-(grid - m1) ** 2 / (4 * h)); q /= q.sum()
    acc = np.zeros_like(q)
    kl_avg, kl_last = np.empty(N), np.empty(N)
    def kl(p):
        pos = p > 1e-300
        return float(np.sum(p[pos] * (np.log(p[pos]) - logpi[pos])))
    for k in range(N):
        acc += q
        kl_avg[k], kl_last[k] = kl(acc / (k + 1)), kl(q)
        q = q @ T
    return kl_avg, kl_last, q

for act, tg in targets.items():
    tg["W2sq"] = tg["var"] + (tg["mean"] - X0) ** 2
    print(f"{act}: W2^2(delta_x0, pi) = {tg['W2sq']:.3f}")
""")

md(r"""
### A Monte Carlo check of the propagation

20 000 chains of the library's sampler (Algorithm 2 with step $\epsilon=2h$) against the grid law after 100 steps.
""")

code(r"""
tg = targets["relu"]
h = 0.5 / tg["t"] * 0.5 ** 2                         # delta = 0.5: h = delta^2 / (2 L)
_, _, q100 = propagate(tg["dens"], h, 100)            # q100 is the law of x_100
run = cs.langevin(tg["net"], np.full(20000, X0), step=2 * h, n_steps=100, rng=5)
grid_mean = float(GRID @ q100)
grid_var = float(GRID ** 2 @ q100 - grid_mean ** 2)
se = np.sqrt(run.samples.var() / run.samples.size)
print(f"after 100 steps: grid mean {grid_mean:.3f}, Monte Carlo mean {run.samples.mean():.3f} (+- {se:.3f}); "
      f"grid variance {grid_var:.3f}, Monte Carlo {run.samples.var():.3f}")
""")

md(r"""
## Theorems 3.4 and A.7: divergence of the averaged law against the bound

For accuracies $\delta\in\{1,0.7,0.5\}$ the theorems prescribe $h=\delta^2/(2L)$ (Algorithm 2 step
$\epsilon=\delta^2/L$) and guarantee $\KL(\bar\mu_N\|\pi)\le\delta^2$ after $N^\star=2LW_2^2/\delta^4$ iterations.
""")

code(r"""
DELTAS = (1.0, 0.7, 0.5)
NMAX = 1000
results = {}
for act, tg in targets.items():
    L = tg["t"]
    for delta in DELTAS:
        h = delta ** 2 / (2 * L)
        kl_avg, kl_last, q_end = propagate(tg["dens"], h, NMAX)
        N = np.arange(1, NMAX + 1)
        bound = tg["W2sq"] / (2 * N * h) + L * h
        n_star = int(np.ceil(2 * L * tg["W2sq"] / delta ** 4))
        results[(act, delta)] = (kl_avg, kl_last, bound, n_star)
        k = min(n_star, NMAX) - 1
        first = int(np.argmax(kl_avg <= delta ** 2)) + 1 if np.any(kl_avg <= delta ** 2) else None
        print(f"{act:4s} delta = {delta}: h = {h:.3f}, N* = {n_star:4d}; at N*: KL(avg) = {kl_avg[k]:.2e} "
              f"<= bound {bound[k]:.3f} (bound / KL = {bound[k] / kl_avg[k]:.0f}); KL(avg) first <= delta^2 at N = {first}; "
              f"holds for all N <= {NMAX}: {bool(np.all(kl_avg <= bound))}")
""")

code(r"""
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
for ax, act in zip(axes, ("relu", "abs")):
    for delta, col in zip(DELTAS, (BLUE, ORANGE, GREEN)):
        kl_avg, kl_last, bound, n_star = results[(act, delta)]
        N = np.arange(1, NMAX + 1)
        ax.loglog(N, kl_avg, color=col, label=fr"KL of the average, $\delta$ = {delta}")
        ax.loglog(N, kl_last, color=col, ls=":", lw=1)
        ax.loglog(N, bound, color=col, ls="--", lw=1)
        ax.plot([n_star], [delta ** 2], "o", color=col, ms=5)
    ax.set(xlabel="iterations N", title=("ReLU network (Theorem 3.4)" if act == "relu" else
                                          "absolute-value network, α = 1/2 (Theorem A.7)"), ylim=(3e-4, 1e2))
axes[0].set_ylabel(r"KL$(\cdot\,\|\,\pi)$")
axes[0].legend(fontsize=7, title="solid: average; dotted: last iterate;\ndashed: bound; dot: (N*, δ²)", title_fontsize=7)
fig.tight_layout()
save(fig, "conv-fig-kl")
""")

md(r"""
### Where the bound is loose

The bias term $Lh$ of the bound against the divergence of the chain's (nearly) stationary law: the last-iterate
divergence after $1000$ steps, by which time the chain has forgotten its start.
""")

code(r"""
for act, tg in targets.items():
    L = tg["t"]
    for delta in DELTAS:
        h = delta ** 2 / (2 * L)
        kl_stat = results[(act, delta)][1][-1]
        print(f"{act:4s} delta = {delta}: stationary KL = {kl_stat:.2e}, bias term L h = {L * h:.3f} "
              f"(ratio {L * h / kl_stat:.0f}); Gaussian prediction (Lh)^2/16 = {(L * h) ** 2 / 16:.2e}")
""")

md(r"""
## Outside the theorem

**The other absolute-value networks.** With $\alpha=\frac14$ the absolute-value network has the same training
loss, but its score increases to the right of the data (Chapter 6): there is no target density, and chains
started inside the data range escape. **A non-log-concave learned density.** The mixture of Chapter 7 fitted at
$\beta=4$ is a density but not log-concave; the Langevin theorem says nothing, yet the averaged law still converges, slowly,
because mass has to cross the low-density gap between the modes.
""")

code(r"""
tg = targets["abs"]
L = tg["t"]
eps = 0.5 ** 2 / L                                    # Algorithm 2 step for delta = 0.5
starts = np.random.default_rng(6).uniform(x[0], x[-1], 4000)
escape = {}
for alpha in (0.5, 0.25):
    net = cs.two_neuron_network(x, tg["beta"], "abs", alpha=alpha)
    # Algorithm 2 written out (the library's sampler stops chains that diverge, which is the point here)
    rng = np.random.default_rng(7)
    xs, steps, far, q99 = starts.copy(), [], [], []
    for k in range(1, 601):
        xs = xs + 0.5 * eps * net(xs) + np.sqrt(eps) * rng.standard_normal(xs.size)
        if k % 20 == 0:
            steps.append(k); far.append(np.mean(xs > x[-1] + 10.0)); q99.append(np.quantile(xs, 0.99))
    escape[alpha] = (np.array(steps), np.array(far), np.array(q99))
    print(f"alpha = {alpha}: fraction of chains beyond x_n + 10 after 100, 300, 600 steps: "
          + ", ".join(f"{far[steps.index(s)]:.3f}" for s in (100, 300, 600)))
gamma = (1 - 2 * 0.25) * L
steps, far, q99 = escape[0.25]
late = steps >= 200
measured = np.exp(np.polyfit(steps[late], np.log(q99[late] - x[-1]), 1)[0])
print(f"growth per step of the 99% quantile (steps 200-600): {measured:.4f}; "
      f"predicted (exercise 'Escaping chains'): 1 + eps/2 (1 - 2 alpha) t = {1 + eps / 2 * gamma:.4f}")
""")

code(r"""
from convexscore.datasets import GaussianMixture
xm = np.sort(GaussianMixture([-2.0, 2.0], 0.5).sample(100, rng=0))   # the data of Chapter 7
dm = PiecewiseGaussianDensity.from_network(cs.fit_score_matching(xm, 4.0).net)
hm = 0.5 / dm.lipschitz
mean_m, var_m = dm.moments()
kl_m, kl_m_last, _ = propagate(dm, hm, 1000, x0=3.0, grid=np.linspace(-12, 12, 1601))
W2m = var_m + (mean_m - 3.0) ** 2
print(f"mixture density: log-concave {dm.is_log_concave}, L = {dm.lipschitz:.3f}, h = {hm:.3f}; "
      f"KL(avg) after 10, 100, 1000 steps: {kl_m[9]:.3f}, {kl_m[99]:.3f}, {kl_m[-1]:.4f}; "
      f"the convex-case formula would give {W2m / (2 * 1000 * hm) + dm.lipschitz * hm:.3f} (not a valid bound here)")

fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
for alpha, col in ((0.5, BLUE), (0.25, RED)):
    steps, far, q99 = escape[alpha]
    axes[0].semilogy(steps, np.maximum(q99 - x[-1], 1e-2), color=col,
                     label=fr"$\alpha$ = {alpha}" + (" (density)" if alpha == 0.5 else " (no density)"))
axes[0].set(xlabel="Langevin step", ylabel=r"99% quantile of chains $-\,x_n$", title="absolute-value networks: escape")
axes[0].legend(fontsize=7)
N = np.arange(1, 1001)
axes[1].loglog(N, kl_m, color=PURPLE, label="KL of the average")
axes[1].loglog(N, kl_m_last, color=PURPLE, ls=":", label="KL of the last iterate")
axes[1].set(xlabel="iterations N", ylabel=r"KL$(\cdot\,\|\,\pi)$", title="non-log-concave learned mixture")
axes[1].legend(fontsize=7)
fig.tight_layout()
save(fig, "conv-fig-outside")
""")

b.write("08-convergence.ipynb")
