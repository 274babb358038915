"""Cells of notebooks/12-kernel-view.ipynb. Run ``.venv/bin/python tools/notebook_sources/build_12_kernel_view.py``,
then ``make execute NB=notebooks/12-kernel-view.ipynb`` to store the outputs (see nbbuild.py)."""
from nbbuild import Builder

b = Builder()
md, code = b.md, b.code

md(r"""
# Lab: the kernel view of denoising score matching

This lab runs the statements of [Chapter 12](../book/12-kernel-view.md). Denoising score matching (DSM) is
treated as regression with noisy labels, a wide two-layer ReLU network trained by gradient descent is compared
with kernel gradient descent under its neural tangent kernel (NTK), and gradient descent is stopped early by a rule
computed from the kernel's spectrum. On the same data we also fit the globally optimal weight-decay network of the
convex view (Chapters 3 to 10) and compare the errors.

Everything runs in float64 with fixed seeds. Errors are measured against the **exact** noised score, which the toy
law (a two-component Gaussian mixture) makes available.
""")

code(r"""
%matplotlib inline
import io
from pathlib import Path

import numpy as np
import torch
import matplotlib.pyplot as plt
from myst_nb import glue

import convexscore as cs
from convexscore import kernel as kv
from convexscore.plotting import PALETTE, apply_style

torch.set_num_threads(1)
torch.manual_seed(0)
apply_style()
BLUE, RED, GREEN, ORANGE, PURPLE, GREY = (PALETTE[k] for k in ("blue", "vermillion", "green", "orange", "purple", "grey"))

LAW = kv.GaussianMixture1D(weights=[0.5, 0.5], means=[-2.0, 2.0], stds=[0.5, 0.5])
SIGMA = 0.5                     # DSM noise level
NOISED = LAW.noised(SIGMA)      # law of the inputs y = x + sigma z
GRID = np.linspace(-6.0, 6.0, 601)
WEIGHTS = np.exp(NOISED.logpdf(GRID))
WEIGHTS /= WEIGHTS.sum()        # quadrature weights for the error in L2(p_sigma)
TRUE_GRID = NOISED.score(GRID)


def score_error(values_on_grid):
    # squared L2(p_sigma) distance to the exact noised score; values_on_grid has shape (..., len(GRID))
    return np.sum(WEIGHTS * (values_on_grid - TRUE_GRID) ** 2, axis=-1)


print(f"label noise: 1/sigma = {1 / SIGMA:.1f}; E|s_sigma|^2 = {score_error(0 * GRID):.3f}")

FIGDIR = Path("12-figures")     # the book's Chapter 12 page shows these files
FIGDIR.mkdir(exist_ok=True)


def save(fig, name):
    # Write the PNG the prose page shows. Differences at solver/float precision between runs can move a few
    # anti-aliased pixels; such a file is left as it is, so that re-running does not churn the repository.
    path = FIGDIR / f"{name}.png"
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=130, metadata={"Software": None})
    if path.exists():
        old, new = plt.imread(path), plt.imread(io.BytesIO(buf.getvalue()))
        if old.shape == new.shape and np.mean(np.any(old != new, axis=-1)) < 0.005:
            return
    path.write_bytes(buf.getvalue())
""")

md(r"""
## 1. DSM is regression with noisy labels

The input is $y=x+\sigma z$ and the label is $-z/\sigma$. Tweedie's formula says the label's conditional mean is the
noised score $s_\sigma(y)$ and its conditional variance is $1/\sigma^2 + s_\sigma'(y)$
({prf:ref}`kv-prop-tweedie`). The check uses test functions $h$: $\E[(\text{label}-s_\sigma(y))\,h(y)]=0$ for
every $h$, and the average squared residual equals the average conditional variance.
""")

code(r"""
big = kv.dsm_regression_data(LAW, 200_000, SIGMA, rng=1)
resid = big.labels - big.target
for name, h in [("1", np.ones_like), ("tanh(y)", np.tanh), ("exp(-y^2)", lambda y: np.exp(-y**2))]:
    v = resid * h(big.inputs)
    print(f"E[(label - s) h], h = {name:9s}: {v.mean():+.4f}  (Monte Carlo s.e. {v.std() / np.sqrt(v.size):.4f})")
var_formula = kv.label_noise_variance(LAW, SIGMA, big.inputs).mean()
print(f"mean squared residual {np.mean(resid**2):.3f}, mean of 1/sigma^2 + s'(y): {var_formula:.3f}")
z_worst = max(abs(np.mean(resid * h(big.inputs))) / (np.std(resid * h(big.inputs)) / np.sqrt(resid.size))
              for h in (np.ones_like, np.tanh, lambda y: np.exp(-y**2)))
glue("kv_resid2", round(float(np.mean(resid**2)), 2), display=False)
glue("kv_var_formula", round(float(var_formula), 2), display=False)
glue("kv_tweedie_z", round(float(z_worst), 1), display=False)
""")

code(r"""
demo = kv.dsm_regression_data(LAW, 400, SIGMA, rng=2)
sd = np.sqrt(np.maximum(kv.label_noise_variance(LAW, SIGMA, GRID), 0))
fig, ax = plt.subplots(figsize=(6.4, 3.4))
ax.scatter(demo.inputs, demo.labels, s=6, color=GREY, alpha=0.6, label="DSM labels $-z_i/\\sigma$")
ax.plot(GRID, TRUE_GRID, color="black", label="noised score $s_\\sigma$ (regression function)")
ax.fill_between(GRID, TRUE_GRID - sd, TRUE_GRID + sd, color=BLUE, alpha=0.15, label="$\\pm$ conditional s.d.")
ax.set(xlim=(-5, 5), ylim=(-9, 9), xlabel="input $y = x + \\sigma z$", ylabel="label")
ax.legend(loc="upper right")
ax.set_title("Denoising score matching as regression (n = 400, $\\sigma$ = 0.5)")
save(fig, "kv-fig-regression")
""")

md(r"""
## 2. The NTK of a two-layer ReLU network

The analytic kernel is $\Theta(x,y)=k_1(\tilde x,\tilde y)+(\tilde x\cdot\tilde y)\,k_0(\tilde x,\tilde y)$ with the
arc-cosine kernels $k_0, k_1$ ({prf:ref}`kv-thm-ntk`). First the closed forms against Monte Carlo, then the empirical
NTK of finite networks (computed with torch autograd) against the analytic one.
""")

code(r"""
rng = np.random.default_rng(3)
pts = kv.augment(np.array([-2.0, -0.3, 0.4, 1.7, 3.0]))          # (x, 1) for five inputs
U = rng.standard_normal((200_000, 2))
F = U @ pts.T
worst = 0.0
for order, feat in [(0, (F >= 0).astype(float)), (1, np.maximum(F, 0))]:
    exact = kv.arccos_kernel(pts, order=order)
    for i in range(5):
        for j in range(5):
            prod = feat[:, i] * feat[:, j]
            worst = max(worst, abs(prod.mean() - exact[i, j]) / (prod.std() / np.sqrt(prod.size)))
print(f"closed form vs Monte Carlo: largest deviation {worst:.2f} standard errors (50 entries)")
glue("kv_arccos_z", round(float(worst), 2), display=False)
K_demo = kv.relu_ntk(rng.normal(size=200) * 2)
print(f"NTK Gram matrix of 200 points: smallest eigenvalue / largest = {np.linalg.eigvalsh(K_demo)[0] / np.linalg.eigvalsh(K_demo)[-1]:.1e}")
""")

code(r"""
x_ntk = np.linspace(-3, 3, 25)
K_ntk = kv.relu_ntk(x_ntk)
WIDTHS = np.array([64, 256, 1024, 4096, 16384])
ntk_err = np.array([[np.linalg.norm(kv.empirical_ntk(kv.init_ntk_net(m, seed=s), x_ntk) - K_ntk) / np.linalg.norm(K_ntk)
                     for s in range(3)] for m in WIDTHS])
slope_ntk = np.polyfit(np.log(WIDTHS), np.log(ntk_err.mean(axis=1)), 1)[0]
for m, e in zip(WIDTHS, ntk_err.mean(axis=1)):
    print(f"width {m:6d}: relative error of the empirical NTK {e:.4f}")
print(f"fitted slope on log-log axes: {slope_ntk:.2f} (theory: -0.5)")
""")

md(r"""
## 3. Lazy training: wide networks follow kernel gradient descent

Networks of growing width, initialised symmetrically (so $f_0=0$), are trained by full-batch gradient descent on the
DSM sum of squares of 24 points. Next to them runs kernel gradient descent with the analytic NTK, same step, same
start ({prf:ref}`kv-thm-lazy`). We record how far the weights move and how far the two trajectories are apart.
""")

code(r"""
lazy_data = kv.dsm_regression_data(LAW, 24, SIGMA, rng=4)
x_lazy_test = np.linspace(-4, 4, 41)
runs = [kv.compare_network_and_kernel(lazy_data.inputs, lazy_data.labels, x_lazy_test, WIDTHS, n_steps=100, seed=s)
        for s in range(2)]
rel_change = np.mean([r.relative_change for r in runs], axis=0)
distance = np.mean([r.distance for r in runs], axis=0)
slope_rel = np.polyfit(np.log(WIDTHS), np.log(rel_change), 1)[0]
slope_dist = np.polyfit(np.log(WIDTHS[2:]), np.log(distance[2:]), 1)[0]   # widths >= 1024, where training is lazy
for m, r, d in zip(WIDTHS, rel_change, distance):
    print(f"width {m:6d}: |theta_T - theta_0| / |theta_0| = {r:.4f}, max RMS gap to kernel GD = {d:.4f}")
print(f"slopes: weight change {slope_rel:.2f} (all widths), trajectory gap {slope_dist:.2f} (widths >= 1024)")
glue("kv_slope_rel", round(float(slope_rel), 2), display=False)
glue("kv_slope_dist", round(float(slope_dist), 2), display=False)
glue("kv_slope_ntk", round(float(slope_ntk), 2), display=False)
glue("kv_rel_small", int(round(100 * rel_change[0])), display=False)      # per cent, width 64
glue("kv_rel_large", int(round(100 * rel_change[-1])), display=False)     # per cent, width 16384
""")

code(r"""
fig, axes = plt.subplots(1, 3, figsize=(11, 3.3))
guide = lambda y_last: y_last * (WIDTHS / WIDTHS[-1]) ** -0.5   # slope -1/2 through the widest network
for ax, y, title, color in [(axes[0], ntk_err.mean(axis=1), "empirical NTK vs analytic NTK", BLUE),
                            (axes[1], rel_change, "relative weight change after training", RED),
                            (axes[2], distance, "gap between network GD and kernel GD", GREEN)]:
    ax.loglog(WIDTHS, y, "o-", color=color, label="measured")
    ax.loglog(WIDTHS, guide(y[-1]), ":", color="black", label="slope $-1/2$")
    ax.set(xlabel="width m", title=title)
    ax.legend()
axes[0].set_ylabel("relative Frobenius error")
fig.tight_layout()
save(fig, "kv-fig-lazy")
""")

code(r"""
fig, ax = plt.subplots(figsize=(6.4, 3.3))
r0 = runs[0]
k_show = -1
ax.plot(x_lazy_test, r0.kernel_test[k_show], color="black", lw=2.5, label="kernel GD (analytic NTK)")
for m, pred, c in zip(WIDTHS[[0, 2, 4]], [r0.network_test[i] for i in (0, 2, 4)], (ORANGE, PURPLE, BLUE)):
    ax.plot(x_lazy_test, pred[k_show], "--", color=c, label=f"network GD, m = {m}")
ax.scatter(lazy_data.inputs, lazy_data.labels, s=10, color=GREY, label="labels")
ax.set(xlabel="input y", ylabel="f after 100 steps", title="After 100 steps of gradient descent")
ax.legend(fontsize=7.5)
save(fig, "kv-fig-functions")
""")

md(r"""
The first gradient step, exactly ({ref}`Exercise <kv-ex-one-step>`): $\|\theta_1-\theta_0\|^2=\eta^2 y^\top\Theta_m(\theta_0)y$,
so the relative size of the first step shrinks like $m^{-1/2}$.
""")

code(r"""
x_ex = np.linspace(-2, 2, 10)
y_ex = np.sin(x_ex)
eta_ex = 1 / np.linalg.eigvalsh(kv.relu_ntk(x_ex))[-1]
first_step = {}
for m in (100, 10_000):
    net = kv.init_ntk_net(m, symmetric=True, seed=0)
    predicted = eta_ex * np.sqrt(y_ex @ kv.empirical_ntk(net, x_ex) @ y_ex)
    theta0 = torch.cat([p.detach().reshape(-1).clone() for p in net.parameters()])
    kv.train_network_gd(net, x_ex, y_ex, x_ex, eta_ex, 1)                       # one real gradient step
    theta1 = torch.cat([p.detach().reshape(-1) for p in net.parameters()])
    moved = float(torch.linalg.norm(theta1 - theta0))
    first_step[m] = moved / float(torch.linalg.norm(theta0))
    print(f"width {m:6d}: step length {moved:.4f}, formula {predicted:.4f}, relative {first_step[m]:.4f}")
glue("kv_ex_rel100", round(first_step[100], 4), display=False)
glue("kv_ex_rel10000", round(first_step[10_000], 4), display=False)
""")

md(r"""
## 4. Early stopping on noisy labels

From now on we run kernel gradient descent itself: its whole path costs one eigendecomposition
({prf:ref}`kv-prop-path`). On $n=400$ DSM points the test error first falls and then rises again as gradient descent
starts fitting the label noise. The stopping rule of {prf:ref}`kv-thm-rwy` needs the noise level, known in DSM
($1/\sigma$ bounds the label noise), and a bound on the RKHS norm of the target. With the theory's default (norm 1
after rescaling the kernel) it stops far too early; with the norm of the exact score, estimated once on a separate
large sample, it stops near the oracle.
""")

code(r"""
small = kv.dsm_regression_data(LAW, 30, SIGMA, rng=9)                      # the closed-form path, checked
K_small = kv.relu_ntk(small.inputs)
p_small = kv.kernel_gd_path(K_small, small.labels)
f = np.zeros(30)
for _ in range(50):
    f = f - p_small.step * K_small @ (f - small.labels)
gap_path = np.abs(p_small.train_predictions([50])[0] - f).max()
print(f"closed-form path vs 50 explicit steps agree to 1e-10: {bool(gap_path < 1e-10)}")

# the bias-variance identity (kv-bias-variance), with homoscedastic Gaussian noise of s.d. 2 and 4000 replications
f_star, s_noise, t_bv = small.target, 2.0, np.array([10, 1000, 100_000])
lam, V = p_small.eigvals, p_small.eigvecs
c = V.T @ f_star
phi = 1 - np.clip(1 - p_small.step * lam, 0, 1)[None, :] ** t_bv[:, None]     # the spectral filter
formula = np.mean((1 - phi) ** 2 * c**2, axis=1) + s_noise**2 * np.mean(phi**2, axis=1)
noise = np.random.default_rng(10).normal(scale=s_noise, size=(30, 4000))
fits = [V @ (phi[k][:, None] * (V.T @ (f_star[:, None] + noise))) for k in range(3)]
mc = [np.mean((F - f_star[:, None]) ** 2) for F in fits]
for t, a, b in zip(t_bv, formula, mc):
    print(f"t = {t:6d}: expected in-sample error {a:.3f} (formula), {b:.3f} (Monte Carlo)")

ref = kv.dsm_regression_data(LAW, 1500, SIGMA, rng=5)
R_NORM = kv.interpolant_norm(kv.relu_ntk(ref.inputs), ref.target)
print(f"NTK norm of the minimum-norm interpolant of the exact score at 1500 points: R = {R_NORM:.1f}")
glue("kv_R", round(float(R_NORM), 1), display=False)

T_GRID = np.unique(np.round(np.logspace(0, 7, 85)))
data = kv.dsm_regression_data(LAW, 400, SIGMA, rng=6)
K = kv.relu_ntk(data.inputs)
rule_default = kv.rwy_stopping_rule(K, 1 / SIGMA)
rule_norm = kv.rwy_stopping_rule(K, 1 / SIGMA, norm_bound=R_NORM)
path = kv.kernel_gd_path(K, data.labels, rule_norm.eta)
K_grid = kv.relu_ntk(GRID, data.inputs)
test_err = score_error(path.predictions(T_GRID, K_grid))
train_mse = np.mean((path.train_predictions(T_GRID) - data.labels) ** 2, axis=1)
t_oracle, e_oracle = kv.oracle_stop(T_GRID, test_err)
err_at = lambda t: float(score_error(path.predictions([t], K_grid))[0])
print(f"oracle: t = {t_oracle:.0f}, error {e_oracle:.3f}")
print(f"rule, default norm: t = {rule_default.step}, error {err_at(rule_default.step):.3f}")
print(f"rule, norm R: t = {rule_norm.step}, error {err_at(rule_norm.step):.3f}")
print(f"after 10^7 steps: error {test_err[-1]:.3f}; error of the zero function {score_error(0 * GRID):.3f}")
""")

code(r"""
BETAS = [0.3, 1.0, 3.0, 10.0, 30.0]


def convex_errors(d):
    # error of the globally optimal weight-decay ReLU network (Chapter 9's program) for each beta
    out = []
    for beta in BETAS:
        fit = cs.fit_denoising_score_matching(d.x, beta, SIGMA, d.z)
        assert fit.status == "optimal", fit.status
        out.append(float(score_error(fit.net(GRID))))
    return np.array(out)


cvx400 = convex_errors(data)
for beta, e in zip(BETAS, cvx400):
    print(f"convex weight decay, beta = {beta:4.1f}: error {e:.3f}")
""")

code(r"""
fig, ax = plt.subplots(figsize=(6.8, 3.6))
ax.semilogx(T_GRID, test_err, color=BLUE, label="test error $\\|f_t - s_\\sigma\\|^2_{L^2(p_\\sigma)}$")
ax.semilogx(T_GRID, train_mse, color=GREY, ls="--", label="mean squared training residual")
ax.axvline(t_oracle, color="black", ls=":", label=f"oracle stop (t = {t_oracle:.0f})")
ax.axvline(max(rule_norm.step, 1), color=GREEN, label=f"rule with norm R (t = {rule_norm.step})")
ax.axvline(max(rule_default.step, 1), color=RED, label=f"rule with norm 1 (t = {rule_default.step})")
ax.axhline(cvx400.min(), color=BLUE, ls="--", lw=1, label=f"convex weight decay, best beta ({cvx400.min():.3f})")
ax.set(xlabel="gradient descent iterations t", ylabel="squared error", ylim=(0, 4.5),
       title="Kernel gradient descent on DSM labels (n = 400)")
ax.legend(fontsize=7.5, loc="upper right")
save(fig, "kv-fig-ushape")
glue("kv_t_oracle", int(t_oracle), display=False)
glue("kv_t_rule", int(rule_norm.step), display=False)
glue("kv_t_rule1", int(rule_default.step), display=False)
""")

md(r"""
## 5. Error at the stopping time against n

For each sample size we draw five data sets, run the rule (with the norm $R$) and find the oracle stopping time,
and fit the convex weight-decay network for each $\beta$ on the same data. The theory's rate comes from the
spectrum ({prf:ref}`kv-prop-rate`): eigenvalues decaying like $j^{-2}$ give a critical radius
$\varepsilon_n^2\asymp n^{-2/3}$.
""")

code(r"""
NS = np.array([50, 100, 200, 400, 800, 1600])
rows = []
for n in NS:
    for seed in range(5):
        d = kv.dsm_regression_data(LAW, int(n), SIGMA, rng=1000 * int(n) + seed)
        Kn = kv.relu_ntk(d.inputs)
        rule = kv.rwy_stopping_rule(Kn, 1 / SIGMA, norm_bound=R_NORM)
        p = kv.kernel_gd_path(Kn, d.labels, rule.eta)
        Kg = kv.relu_ntk(GRID, d.inputs)
        errs = score_error(p.predictions(np.append(T_GRID, rule.step), Kg))   # the grid, then the rule's stop
        t_o, e_o = kv.oracle_stop(T_GRID, errs[:-1])
        e_rule = float(errs[-1])
        insample = float(np.mean((p.train_predictions([rule.step])[0] - d.target) ** 2))
        bound = 12 * (np.sqrt(rule.scale) * R_NORM * rule.radius) ** 2   # theorem's bound, rescaled to the labels
        rows.append((n, seed, rule.step, t_o, e_rule, e_o, insample, bound, rule.radius**2, convex_errors(d).min()))
rows = np.array(rows)
mean = lambda col: np.array([rows[rows[:, 0] == n, col].mean() for n in NS])
T_RULE, T_OR, E_RULE, E_OR, E_IN, BOUND, EPS2, E_CVX = (mean(c) for c in range(2, 10))
print("    n   t_rule  t_oracle  err_rule  err_oracle  err_convex")
for row in zip(NS, T_RULE, T_OR, E_RULE, E_OR, E_CVX):
    print("{:5d} {:8.0f} {:9.0f} {:9.4f} {:11.4f} {:11.4f}".format(*row))
print(f"runs where the in-sample error at the rule's stop is below the theorem's bound: "
      f"{int(np.sum(rows[:, 6] <= rows[:, 7]))} of {len(rows)}; median bound / error = {np.median(rows[:, 7] / rows[:, 6]):.0f}")
""")

code(r"""
lam_hat = kv.rwy_stopping_rule(kv.relu_ntk(ref.inputs), 1.0).eigvals
j = np.arange(1, lam_hat.size + 1)
sel = (j >= 5) & (j <= 300)
decay = np.polyfit(np.log(j[sel]), np.log(lam_hat[sel]), 1)[0]
fit_slope = lambda y: np.polyfit(np.log(NS), np.log(y), 1)[0]
slopes = {"theorem's bound": fit_slope(BOUND), "rule": fit_slope(E_RULE), "oracle": fit_slope(E_OR),
          "convex (best beta)": fit_slope(E_CVX)}
print(f"eigenvalue decay of K/(nB) (j = 5..300, n = 1500): exponent {decay:.2f}; prediction -2")
for k, v in slopes.items():
    print(f"log-log slope against n, {k:24s}: {v:.2f}")
print(f"log-log slope of the rule's stopping iteration against n: {fit_slope(T_RULE):.2f} (prediction 2/3)")
glue("kv_slope_trule", round(float(fit_slope(T_RULE)), 2), display=False)
glue("kv_decay", round(float(decay), 2), display=False)
glue("kv_bound_ratio", int(np.median(rows[:, 7] / rows[:, 6])), display=False)
glue("kv_bound_holds", int(np.sum(rows[:, 6] <= rows[:, 7])), display=False)
glue("kv_runs", int(len(rows)), display=False)
glue("kv_stop_ratio_lo", round(float((T_OR / T_RULE).min()), 1), display=False)
glue("kv_stop_ratio_hi", round(float((T_OR / T_RULE).max()), 1), display=False)
for k, name in [("theorem's bound", "kv_slope_bound"), ("rule", "kv_slope_rule"), ("oracle", "kv_slope_oracle"),
                ("convex (best beta)", "kv_slope_cvx")]:
    glue(name, round(float(slopes[k]), 2), display=False)
""")

code(r"""
fig, axes = plt.subplots(1, 3, figsize=(12, 3.5))
ax = axes[0]
ax.loglog(NS, E_RULE, "o-", color=GREEN, label="kernel GD, rule's stop")
ax.loglog(NS, E_OR, "s-", color="black", label="kernel GD, oracle stop")
ax.loglog(NS, E_CVX, "^-", color=BLUE, label="convex weight decay, best beta")
ax.loglog(NS, E_RULE[0] * (NS / NS[0]) ** (-2 / 3), ":", color=GREEN, label="rate $n^{-2/3}$")
ax.loglog(NS, BOUND, "--", color=GREY, label="theorem's bound, $12 B R^2 \\varepsilon_n^2$")
ax.set(xlabel="n", ylabel="error $\\|f - s_\\sigma\\|^2_{L^2(p_\\sigma)}$", title="error at the stopping time")
ax.legend(fontsize=7.5)
ax = axes[1]
ax.loglog(NS, T_RULE, "o-", color=GREEN, label="rule")
ax.loglog(NS, T_OR, "s-", color="black", label="oracle")
ax.loglog(NS, T_RULE[0] * (NS / NS[0]) ** (2 / 3), ":", color=GREEN, label="$n^{2/3}$")
ax.set(xlabel="n", ylabel="iterations", title="where gradient descent stops")
ax.legend(fontsize=7.5)
ax = axes[2]
ax.loglog(j, lam_hat, color=PURPLE, label="eigenvalues of $K/(nB)$")
ax.loglog(j[sel], lam_hat[sel][0] * (j[sel] / j[sel][0]) ** -2.0, ":", color="black", label="$j^{-2}$")
ax.set(xlabel="index j", ylabel="eigenvalue", title="spectrum of the NTK (n = 1500)", ylim=(1e-12, 1))
ax.legend(fontsize=7.5)
fig.tight_layout()
save(fig, "kv-fig-rates")
""")

md(r"""
## 6. Time as an input: a score network over a range of OU times

The forward process is the Ornstein-Uhlenbeck process $dX=-X\,dt+\sqrt2\,dW$; at time $t$ the input is
$x_t=e^{-t}x_0+\sigma_t z$ with $\sigma_t^2=1-e^{-2t}$. Kernel gradient descent with the NTK on the inputs
$(x_t,t)$ regresses the noise-prediction target $-z$, whose conditional mean is $\sigma_t\,s(x_t,t)$; dividing by
$\sigma_t$ gives the score (this is DSM with the weight $\sigma_t^2$, our choice; see the chapter). The stop is the
oracle on held-out pairs; a width-512 network $s(x,t)$ trained by gradient descent for the same number of steps runs
alongside.
""")

code(r"""
ou = kv.ou_dsm_data(LAW, 800, 0.1, 1.5, rng=7)
ou_test = kv.ou_dsm_data(LAW, 2000, 0.1, 1.5, rng=8)
K_ou = kv.relu_ntk(ou.inputs)
p_ou = kv.kernel_gd_path(K_ou, -ou.z, 1 / np.linalg.eigvalsh(K_ou)[-1])
T_OU = np.unique(np.round(np.logspace(0, 6, 49)))
pred = p_ou.predictions(T_OU, kv.relu_ntk(ou_test.inputs, ou.inputs))
weighted_err = np.mean((pred - ou_test.sigma_t * ou_test.target) ** 2, axis=1)   # error of sigma_t * score
t_ou, e_ou = kv.oracle_stop(T_OU, weighted_err)
print(f"oracle stop t = {t_ou:.0f}: E[(sigma_t (s_hat - s))^2] = {e_ou:.4f} "
      f"(zero function: {np.mean((ou_test.sigma_t * ou_test.target) ** 2):.4f}, end of path: {weighted_err[-1]:.4f})")

# a finite score network s(x, t) trained by gradient descent for the same number of steps
xs = np.linspace(-4, 4, 161)
TIMES = (0.1, 0.5, 1.5)
panel_inputs = np.vstack([np.column_stack([xs, np.full_like(xs, t)]) for t in TIMES])
net_ou = kv.init_ntk_net(512, input_dim=2, symmetric=True, seed=0)
run_ou = kv.train_network_gd(net_ou, ou.inputs, -ou.z, np.vstack([ou_test.inputs, panel_inputs]), p_ou.step,
                             int(t_ou), record=[int(t_ou)])
net_test, net_panels = run_ou.test_pred[-1][:len(ou_test.t)], run_ou.test_pred[-1][len(ou_test.t):]
err_net = np.mean((net_test - ou_test.sigma_t * ou_test.target) ** 2)
print(f"network s(x, t), width 512, {int(t_ou)} GD steps: E[(sigma_t (s_hat - s))^2] = {err_net:.4f}, "
      f"relative weight change {run_ou.relative_change[-1]:.3f}")

fig, axes = plt.subplots(1, 3, figsize=(11, 3.2), sharey=True)
for k, (ax, t) in enumerate(zip(axes, TIMES)):
    inputs = panel_inputs[k * xs.size:(k + 1) * xs.size]
    s_hat = p_ou.predictions([t_ou], kv.relu_ntk(inputs, ou.inputs))[0] / kv.ou_sigma(t)
    ax.plot(xs, kv.ou_score(LAW, xs, np.full_like(xs, t)), color="black", label="exact score")
    ax.plot(xs, s_hat, "--", color=BLUE, label="kernel GD, stopped")
    ax.plot(xs, net_panels[k * xs.size:(k + 1) * xs.size] / kv.ou_sigma(t), ":", color=RED, lw=2,
            label="network GD, m = 512")
    ax.set(title=f"t = {t}", xlabel="x", ylim=(-12, 12))
axes[0].set_ylabel("score s(x, t)")
axes[0].legend(fontsize=7.5)
fig.tight_layout()
save(fig, "kv-fig-ou")
glue("kv_ou_err_kernel", round(float(e_ou), 4), display=False)
glue("kv_ou_err_net", round(float(err_net), 4), display=False)
glue("kv_ou_err_zero", round(float(np.mean((ou_test.sigma_t * ou_test.target) ** 2)), 3), display=False)
""")

md(r"""
## 7. Summary

The numbers that the chapter quotes come from the cells above (through `glue`). In one line each: the NTK of finite
networks converges to the arc-cosine formula; wide networks trained by gradient descent stay close to kernel
gradient descent, with weights that barely move; the kernel path on DSM labels overfits, and a spectral rule
stops it at a sensible time once it is told the noise level and the norm of the target; on the same data the
convex weight-decay network, tuned by the same kind of oracle, reaches errors of the same order.
""")

b.write("12-kernel-view.ipynb")
