"""Cells of notebooks/01-langevin.ipynb. Run ``.venv/bin/python tools/notebook_sources/build_01_langevin.py``,
then ``make execute NB=notebooks/01-langevin.ipynb`` to store the outputs (see nbbuild.py)."""
from nbbuild import Builder

b = Builder()
md, code = b.md, b.code

md(r"""
# Lab: Langevin sampling from exact scores

This lab runs the unadjusted Langevin algorithm (ULA) of [Chapter 1](../book/01-langevin.md),

$$
x \leftarrow x + \tfrac{\epsilon}{2}\, s(x) + \sqrt{\epsilon}\, z, \qquad z \sim \mathcal N(0, 1),
$$

with the **exact** score $s = \nabla \log p$ of two targets: a Gaussian and a two-component Gaussian mixture.
No network is trained yet; the question is what the sampler does when the score is perfect. We look at

1. histograms of the chains against the target density,
2. the distance to the target against the number of steps, for several step sizes,
3. the stationary variance on the Gaussian against the exact formula of the chapter's theorem,
4. the effect of the step size, with a slider (in Jupyter) and a static panel of snapshots (in the book).

The sampler is `convexscore.langevin`; its conventions are on the [notation page](../book/notation.md).
""")

code(r"""
# On Colab (or any Python without the book's library) install it from the repository first.
import importlib.util

if importlib.util.find_spec("convexscore") is None:
    REPO = "https://github.com/convex-score-matching/convex-score-matching"  # as in _config.yml
    %pip install --quiet "convexscore @ git+{REPO}"
""", tags=["remove-cell"])

code(r"""
%matplotlib inline
import numpy as np
import matplotlib.pyplot as plt
import ipywidgets as widgets
from IPython.display import display
from scipy.special import logsumexp, softmax
from scipy.stats import norm, wasserstein_distance

import convexscore as cs

SEED = 20240203  # every random draw below derives from this seed
plt.rcParams.update({"figure.dpi": 100, "axes.grid": True, "grid.alpha": 0.3})
""")

md(r"""
## Two targets and their scores

The Gaussian $\mathcal N(\mu, s^2)$ with $\mu = 1$, $s = 0.7$ has the linear score $-(x-\mu)/s^2$.
The mixture $p = 0.3\,\mathcal N(-1.5, 0.6^2) + 0.7\,\mathcal N(1.5, 0.6^2)$ has the score
$\sum_k r_k(x)\,\big(-(x-\mu_k)/s_k^2\big)$, an average of the component scores weighted by the posterior
responsibilities $r_k(x)$ (Exercise 1.1 of the chapter). We evaluate the responsibilities with a softmax of
log-weights, which never overflows. A finite-difference check confirms both scores are the derivatives of the
log-densities.
""")

code(r"""
GAUSS_MEAN, GAUSS_SD = 1.0, 0.7
MIX_WEIGHTS = np.array([0.3, 0.7])
MIX_MEANS = np.array([-1.5, 1.5])
MIX_SDS = np.array([0.6, 0.6])


def gauss_logpdf(x):
    return norm.logpdf(x, GAUSS_MEAN, GAUSS_SD)


def gauss_score(x):
    return -(np.asarray(x) - GAUSS_MEAN) / GAUSS_SD**2


def gauss_sample(n, rng):
    return GAUSS_MEAN + GAUSS_SD * rng.standard_normal(n)


def _mix_component_logpdf(x):
    # shape (n, 2): log(w_k) + log N(x; mu_k, s_k^2), written out (faster than norm.logpdf)
    u = (np.asarray(x)[..., None] - MIX_MEANS) / MIX_SDS
    return np.log(MIX_WEIGHTS / (MIX_SDS * np.sqrt(2 * np.pi))) - 0.5 * u**2


def mix_logpdf(x):
    return logsumexp(_mix_component_logpdf(x), axis=-1)


def mix_score(x):
    resp = softmax(_mix_component_logpdf(x), axis=-1)  # responsibilities r_k(x)
    comp_scores = -(np.asarray(x)[..., None] - MIX_MEANS) / MIX_SDS**2
    return np.sum(resp * comp_scores, axis=-1)


def mix_sample(n, rng):
    k = rng.choice(len(MIX_WEIGHTS), size=n, p=MIX_WEIGHTS)
    return MIX_MEANS[k] + MIX_SDS[k] * rng.standard_normal(n)


TARGETS = {
    "Gaussian": dict(logpdf=gauss_logpdf, score=gauss_score, sample=gauss_sample),
    "mixture": dict(logpdf=mix_logpdf, score=mix_score, sample=mix_sample),
}

grid = np.linspace(-4, 4, 801)
h = 1e-5
for name, t in TARGETS.items():
    fd = (t["logpdf"](grid + h) - t["logpdf"](grid - h)) / (2 * h)
    err = np.max(np.abs(fd - t["score"](grid)))
    assert err < 1e-5, (name, err)
    print(f"{name:8s}: max |score - finite difference of log p| = {err:.1e}")
""")

md(r"""
## Samples against the density

We run 10,000 independent chains for 2,000 steps of size $\epsilon = 0.05$, started from the uniform law on
$[-4, 4]$ (as the paper's experiments do), and compare the histogram of the final states with the target
density.
""")

code(r"""
N_CHAINS = 10_000
rng = np.random.default_rng(SEED)
x_init = rng.uniform(-4, 4, N_CHAINS)

final = {}
for i, (name, t) in enumerate(TARGETS.items()):
    run = cs.langevin(t["score"], x_init, step=0.05, n_steps=2_000,
                      rng=SEED + 1 + i)
    final[name] = run.samples

fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), constrained_layout=True)
for ax, (name, t) in zip(axes, TARGETS.items()):
    ax.hist(final[name], bins=80, range=(-4, 4), density=True,
            color="tab:blue", alpha=0.55, label="ULA, 2000 steps")
    ax.plot(grid, np.exp(t["logpdf"](grid)), color="k", lw=1.6,
            label="target density")
    ax.set_title(f"{name} target, $\\epsilon = 0.05$")
    ax.set_xlabel("$x$")
    ax.legend(loc="upper left", fontsize=8)
axes[0].set_ylabel("density")
plt.show()

x = final["Gaussian"]
v_ula = cs.gaussian_ula_stationary_variance(GAUSS_SD**2, 0.05)
print(f"Gaussian: sample mean {x.mean():.3f} (target {GAUSS_MEAN:.3f})")
print(f"          sample variance {x.var():.4f} (target {GAUSS_SD**2:.4f}, "
      f"ULA formula {v_ula:.4f})")
x = final["mixture"]
right_mass = np.sum(MIX_WEIGHTS * norm.sf(0, MIX_MEANS, MIX_SDS))
print(f"mixture : fraction of chains right of 0 = {np.mean(x > 0):.3f} "
      f"(target {right_mass:.3f})")
""")

md(r"""
## Distance to the target against the number of steps

We measure the 1-Wasserstein distance $W_1$ between the chains and an independent exact sample of the target
of the same size (`scipy.stats.wasserstein_distance`). Even a perfect sampler does not reach zero: two
independent exact samples of 5,000 points are themselves at a distance of a few hundredths, the **noise
floor** (grey band: mean $\pm$ 2 standard deviations over 20 pairs of exact samples).

To make the transient visible all chains start far to the left, from $\mathcal N(-3, 0.5^2)$. On the Gaussian
the chain's law at every step is known exactly (the chapter's theorem), so the dashed lines show the exact
$W_1$ between that law and the target. Between two Gaussians $W_1 = \mathbb E\,|\Delta m + \Delta s\, Z|$ with
$Z \sim \mathcal N(0,1)$ (the two quantile functions differ by $\Delta m + \Delta s\, \Phi^{-1}(u)$), a folded
normal mean.
""")

code(r"""
N_W1 = 5_000
STEPS = [0.01, 0.05, 0.2, 0.8]
N_STEPS, THIN = 3_000, 20
START_MEAN, START_SD = -3.0, 0.5


def w1_gaussians(m1, s1, m2, s2):
    # W1(N(m1, s1^2), N(m2, s2^2)) = E|dm + ds Z|, the mean of a folded normal
    dm, ds = np.asarray(m1 - m2, dtype=float), np.abs(np.asarray(s1 - s2, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        folded = (ds * np.sqrt(2 / np.pi) * np.exp(-0.5 * (dm / ds) ** 2)
                  + dm * (1 - 2 * norm.cdf(-dm / ds)))
    return np.where(ds > 0, folded, np.abs(dm))


def exact_gaussian_ula_law(t, step, mean, var, m0, v0):
    # law of the ULA chain after t steps on N(mean, var), started from N(m0, v0): N(m_t, v_t)
    a = 1 - step / (2 * var)
    v_inf = cs.gaussian_ula_stationary_variance(var, step)
    m_t = mean + a**t * (m0 - mean)
    v_t = a ** (2 * t) * v0 + (1 - a ** (2 * t)) * v_inf
    return m_t, v_t


rng = np.random.default_rng(SEED + 10)
x_start = START_MEAN + START_SD * rng.standard_normal(N_W1)
w1 = {}
floor = {}
for name, t in TARGETS.items():
    ref = t["sample"](N_W1, rng)
    pairs = [wasserstein_distance(t["sample"](N_W1, rng), t["sample"](N_W1, rng))
             for _ in range(20)]
    floor[name] = (np.mean(pairs), np.std(pairs))
    for j, step in enumerate(STEPS):
        run = cs.langevin(t["score"], x_start, step=step, n_steps=N_STEPS,
                          rng=SEED + 100 + j, thin=THIN)
        w1[name, step] = np.array([wasserstein_distance(xs, ref)
                                   for xs in run.trajectory])
kept_steps = run.steps

fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), constrained_layout=True,
                         sharey=True)
colors = plt.cm.viridis(np.linspace(0, 0.85, len(STEPS)))
for ax, name in zip(axes, TARGETS):
    m, sdv = floor[name]
    ax.axhspan(max(m - 2 * sdv, 1e-3), m + 2 * sdv, color="0.8", label="noise floor")
    for c, step in zip(colors, STEPS):
        ax.plot(kept_steps[1:], w1[name, step][1:], color=c, lw=1.3,
                label=f"$\\epsilon$ = {step}")
        if name == "Gaussian":
            m_t, v_t = exact_gaussian_ula_law(kept_steps[1:], step, GAUSS_MEAN,
                                              GAUSS_SD**2, START_MEAN, START_SD**2)
            exact = w1_gaussians(m_t, np.sqrt(v_t), GAUSS_MEAN, GAUSS_SD)
            ax.plot(kept_steps[1:], exact, "--", color=c, lw=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("number of steps")
    extra = " (dashed: exact law)" if name == "Gaussian" else ""
    ax.set_title(f"{name} target{extra}")
axes[0].set_ylabel("$W_1$(chains, target sample)")
axes[1].legend(fontsize=8, loc="upper right")
plt.show()

for name in TARGETS:
    m, sdv = floor[name]
    ends = ", ".join(f"eps={s}: {w1[name, s][-1]:.3f}" for s in STEPS)
    print(f"{name:8s} noise floor {m:.3f} +- {sdv:.3f}")
    print(f"         W1 after {N_STEPS} steps: {ends}")
""")

md(r"""
Three regimes are visible. A **small** step ($\epsilon = 0.01$) is accurate but slow: the number of steps
needed grows like $1/\epsilon$. A **moderate** step reaches the noise floor quickly. A **large** step
($\epsilon = 0.8$) is fast but settles at a distance *above* the floor: this is the bias of the unadjusted
algorithm, which no number of steps removes. On the mixture the chains must also cross the low-density valley
at $0$ to put 70% of the mass in the right-hand mode; that crossing is what keeps the small-step curves high
for longest.

## The stationary variance on a Gaussian

The chapter proves that on $\mathcal N(\mu, s^2)$ ULA is an AR(1) process whose stationary law is
$\mathcal N\big(\mu,\ s^2 / (1 - \epsilon/(4s^2))\big)$ for $0 < \epsilon < 4s^2$. We estimate the variance from
20,000 chains after 400 steps (enough: the memory of the start decays like $|1-\epsilon/(2s^2)|^t$) for
steps up to $1.8 < 4s^2 = 1.96$, with a $\pm 2$ standard-error bar
($\operatorname{se} = v\sqrt{2/(n-1)}$ for Gaussian samples), and compare with the formula.
""")

code(r"""
N_VAR = 20_000
var = GAUSS_SD**2
eps_grid = np.array([0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8])
rng = np.random.default_rng(SEED + 20)
x_start = gauss_sample(N_VAR, rng)
measured, formula = [], []
for k, step in enumerate(eps_grid):
    x = cs.langevin(gauss_score, x_start, step=step, n_steps=400,
                    rng=SEED + 200 + k).samples
    measured.append(x.var())
    formula.append(cs.gaussian_ula_stationary_variance(var, step))
measured, formula = np.array(measured), np.array(formula)
se = formula * np.sqrt(2 / (N_VAR - 1))
z = (measured - formula) / se

print(" eps   formula  measured  z-score")
for row in zip(eps_grid, formula, measured, z):
    print("{:4.2f}  {:7.4f}  {:8.4f}  {:+6.2f}".format(*row))
assert np.all(np.abs(z) < 4), "a stationary variance disagrees with the formula"
print(f"all {len(eps_grid)} measured variances within 4 standard errors "
      "of s^2 / (1 - eps / (4 s^2))")

fine = np.linspace(0.01, 1.86, 300)
fig, ax = plt.subplots(figsize=(6.4, 3.8), constrained_layout=True)
ax.plot(fine, var / (1 - fine / (4 * var)), color="k", lw=1.5,
        label=r"formula $s^2/(1-\epsilon/(4s^2))$")
ax.errorbar(eps_grid, measured, yerr=2 * se, fmt="o", color="tab:red", ms=4,
            capsize=3, label="ULA, 20,000 chains")
ax.axhline(var, color="tab:blue", ls=":", label=r"target variance $s^2$")
ax.axvline(4 * var, color="0.5", ls="--", lw=1)
ax.set_yscale("log")
ax.text(4 * var - 0.03, 0.6, r"$\epsilon = 4s^2$: no stationary law", ha="right",
        fontsize=8, color="0.3")
ax.set_xlabel(r"step size $\epsilon$")
ax.set_ylabel("stationary variance")
ax.set_title(r"ULA on $\mathcal{N}(1, 0.7^2)$")
ax.legend(fontsize=8, loc="upper left")
plt.show()
""")

md(r"""
The theorem also gives the law at **every** step, not only the limit. Starting from $\mathcal N(-3, 0.5^2)$,
the chain after $t$ steps is $\mathcal N(m_t, v_t)$; the next cell compares the predicted and the measured mean
and variance after a few steps, and shows what happens at and beyond $\epsilon = 4s^2$, where the theorem says
there is no stationary law: the variance grows linearly in $t$ at $\epsilon = 4s^2$ and geometrically beyond.
""")

code(r"""
rng = np.random.default_rng(SEED + 30)
x_start = START_MEAN + START_SD * rng.standard_normal(N_VAR)
step = 0.3
run = cs.langevin(gauss_score, x_start, step=step, n_steps=20, rng=SEED + 31, thin=5)
print(f"eps = {step}:  t   mean: exact  measured   variance: exact  measured")
for t_, xs in zip(run.steps, run.trajectory):
    m_t, v_t = exact_gaussian_ula_law(t_, step, GAUSS_MEAN, var, START_MEAN, START_SD**2)
    assert abs(xs.mean() - m_t) < 4 * np.sqrt(v_t / N_VAR)
    assert abs(xs.var() - v_t) < 4 * v_t * np.sqrt(2 / N_VAR)
    print(f"{t_:13d}        {m_t:+.3f}    {xs.mean():+.3f}"
          f"             {v_t:.4f}    {xs.var():.4f}")

for step in (4 * var, 4.5 * var):
    run = cs.langevin(gauss_score, gauss_sample(N_VAR, rng), step=step, n_steps=40,
                      rng=SEED + 32, thin=10)
    growth = ", ".join(f"t={t_}: {xs.var():.3g}"
                       for t_, xs in zip(run.steps, run.trajectory))
    print(f"eps = {step / var:.1f} s^2, sample variance {growth}")
""")

md(r"""
## How the step size trades speed for bias

The panel below fixes the budget at 300 steps, starts from the uniform law on $[-4, 4]$, and varies
$\epsilon$ on the mixture. A tiny step has not yet moved the chains far from their start; a moderate step
matches the density; a large step spreads each mode out (for one Gaussian mode of variance $0.36$ the
formula predicts the variance $0.36/(1 - \epsilon/1.44)$, printed below the panel).
""")

code(r"""
BUDGET = 300
N_SNAP = 4_000
x_uniform = np.random.default_rng(SEED + 40).uniform(-4, 4, N_SNAP)


def snapshot(ax, step, seed=SEED + 41):
    with np.errstate(over="ignore", invalid="ignore"):
        try:
            x = cs.langevin(mix_score, x_uniform, step=step, n_steps=BUDGET,
                            rng=seed).samples
        except FloatingPointError:
            x = None
    ax.plot(grid, np.exp(mix_logpdf(grid)), color="k", lw=1.4)
    if x is None:
        ax.set_title(f"$\\epsilon$ = {step:.3g}: the chains diverged", fontsize=10)
        return None
    ax.hist(x, bins=70, range=(-4, 4), density=True, color="tab:orange", alpha=0.6)
    ref = mix_sample(N_SNAP, np.random.default_rng(seed + 1))
    d = wasserstein_distance(x, ref)
    ax.set_title(f"$\\epsilon$ = {step:.3g}:  $W_1$ = {d:.3f}", fontsize=10)
    ax.set_xlim(-4, 4)
    return d


fig, axes = plt.subplots(1, 4, figsize=(12, 3.0), sharey=True,
                         constrained_layout=True)
for ax, step in zip(axes, [0.003, 0.03, 0.3, 1.0]):
    snapshot(ax, step)
    ax.set_xlabel("$x$")
axes[0].set_ylabel("density")
fig.suptitle(f"ULA on the mixture after {BUDGET} steps from Uniform[-4, 4]",
             fontsize=11)
plt.show()
for step in [0.3, 1.0]:
    v = cs.gaussian_ula_stationary_variance(MIX_SDS[1] ** 2, step)
    print(f"eps = {step}: a Gaussian mode of sd 0.6 has stationary sd "
          f"{np.sqrt(v):.3f}, {np.sqrt(v) / MIX_SDS[1]:.2f} x too large")
""")

md(r"""
In Jupyter the slider below recomputes the same snapshot for any step size (it runs 300 steps of 4,000
chains, a fraction of a second). In the static book the slider is drawn, but moving it needs a running kernel:
launch the notebook on Binder or Colab (rocket icon at the top of the page) or run `make lab` locally. Beyond
$\epsilon \approx 1.4$ the outer tails of the mixture are unstable and the chains diverge.
""")

code(r"""
step_slider = widgets.FloatLogSlider(
    value=0.05, base=10, min=-3, max=0.3, step=0.05, description="step ε",
    continuous_update=False, readout_format=".3f")


def show_snapshot(step):
    fig, ax = plt.subplots(figsize=(6, 3.2), constrained_layout=True)
    snapshot(ax, step)
    ax.set_xlabel("$x$")
    ax.set_ylabel("density")
    plt.show()


explorer = widgets.interactive(show_snapshot, step=step_slider)
display(explorer)
""", tags=["nbval-ignore-output"])  # the plot inside the widget is routed by the front end; nbval sees it as a cell output

md(r"""
## What to take away

* With the exact score, ULA samples both targets; what limits it is the step size, not the score.
* The Gaussian case is solvable exactly: the stationary variance is inflated by the factor
  $1/(1-\epsilon/(4s^2))$, and the measured variances agree with it within sampling error at every step size
  tried.
* The mixture adds a second difficulty, the crossing between modes, which is slow for any step size that
  keeps the bias small.

In the rest of the book the exact score is replaced by a two-layer network trained by score matching, and
solved exactly through convex optimisation; Chapter 8 studies Langevin sampling with that learned score.
""")

b.write("01-langevin.ipynb")
