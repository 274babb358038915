"""An early-stopping rule computed from the kernel's spectrum (Raskutti, Wainwright & Yu, 2014), and the oracle.

Their setting, translated to the book's sum-of-squares loss: the Gram matrix K (n, n) is rescaled so that its
diagonal is at most 1, ``K_bar = K / B`` with ``B = max_i K(x_i, x_i)``; ``lam_hat`` are the eigenvalues of
``K_bar / n``. Kernel GD with step ``eta`` on the sum loss is their iteration with step ``alpha = eta * n * B`` on the
mean loss with kernel ``K_bar``, and after t steps the "time" is ``eta_t = alpha * t``. With the local empirical
Rademacher complexity

    R(eps) = sqrt( (1/n) sum_i min(lam_hat_i, eps^2) ),

the rule stops at ``T_hat = min{t : R(1/sqrt(eta_t)) > 1 / (2 e s eta_t)} - 1``, where ``s`` is the standard
deviation of the label noise. The critical radius ``eps_n`` is the smallest ``eps > 0`` with
``R(eps) <= eps^2 / (2 e s)``; the theorem bounds the in-sample error at ``T_hat`` by a constant times ``eps_n^2``.

The theory assumes the regression function has norm at most 1 in the RKHS of ``K_bar``. For a target of norm ``R``
in the RKHS of ``K`` (norm ``sqrt(B) R`` for ``K_bar``), GD is linear in the labels, so dividing the labels by
``sqrt(B) R`` reduces to that case: the rule runs with noise level ``s / (sqrt(B) R)`` (argument ``norm_bound``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .._validation import check_positive


def local_rademacher(eigvals: ArrayLike, eps: ArrayLike) -> np.ndarray:
    """``R(eps) = sqrt(mean_i min(lam_i, eps^2))`` for normalised eigenvalues ``lam`` (n,); eps scalar or array."""
    lam = _eigvals(eigvals)
    eps = np.asarray(eps, dtype=np.float64)
    return np.sqrt(np.mean(np.minimum(lam[None, :], eps.reshape(-1, 1) ** 2), axis=1)).reshape(eps.shape)


def _eigvals(eigvals) -> np.ndarray:
    lam = np.asarray(eigvals, dtype=np.float64).reshape(-1)
    if lam.size == 0 or not np.all(np.isfinite(lam)):
        raise ValueError("eigenvalues must be a non-empty finite array")
    if lam.min() < -1e-10 * max(1.0, lam.max()):
        raise ValueError(f"eigenvalues must be >= 0 (got {lam.min():.3g}); the kernel must be positive semidefinite")
    return np.clip(lam, 0.0, None)


def critical_radius(eigvals: ArrayLike, noise_std: float) -> float:
    """Smallest ``eps > 0`` with ``R(eps) <= eps^2 / (2 e noise_std)`` (bisection; R(eps)/eps is non-increasing)."""
    lam = _eigvals(eigvals)
    s = check_positive(noise_std, "noise_std")

    def ok(e):
        return local_rademacher(lam, e) <= e**2 / (2 * np.e * s)

    lo, hi = 1e-12, 1.0
    while not ok(hi):
        hi *= 2.0
    for _ in range(200):
        mid = np.sqrt(lo * hi)
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    return float(hi)


def rwy_stopping_step(eigvals: ArrayLike, noise_std: float, alpha: float = 1.0, max_steps: int = 10**12) -> int:
    """The rule's stopping iteration ``T_hat`` for normalised eigenvalues ``lam_hat`` and per-step time ``alpha``.

    ``alpha`` must satisfy ``alpha <= min(1, 1/max(lam_hat))``. Returns ``max_steps`` if the rule never fires.
    """
    lam = _eigvals(eigvals)
    s = check_positive(noise_std, "noise_std")
    alpha = check_positive(alpha, "alpha")
    if alpha > min(1.0, 1.0 / lam.max()) * (1 + 1e-12):
        raise ValueError(f"alpha = {alpha:.3g} is too large; the rule needs alpha <= min(1, 1/lambda_max) = {min(1, 1 / lam.max()):.3g}")

    def fired(t):  # R(1/sqrt(eta)) * eta increases with eta, so the first firing is found by bisection
        eta = alpha * t
        return local_rademacher(lam, 1 / np.sqrt(eta)) > 1 / (2 * np.e * s * eta)

    if not fired(max_steps):
        return int(max_steps)
    lo, hi = 0, 1  # invariant: not fired(lo) (t = 0 never fires), fired(hi)
    while not fired(hi):
        lo, hi = hi, 2 * hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if fired(mid) else (mid, hi)
    return hi - 1


@dataclass(frozen=True)
class StoppingRule:
    """The rule applied to one Gram matrix: ``step`` (iterations of GD with ``eta``), ``radius`` (critical eps_n),
    ``scale`` B (max diagonal), ``eigvals`` (n,) of ``K / (n B)`` (descending), ``eta`` the GD step on the sum loss,
    ``alpha = eta n B`` the step in the rule's normalisation."""

    step: int
    radius: float
    scale: float
    eigvals: np.ndarray
    eta: float
    alpha: float


def rwy_stopping_rule(K: ArrayLike, noise_std: float, eta: float | None = None, norm_bound: float | None = None) -> StoppingRule:
    """Apply the rule to kernel GD with step ``eta`` on the sum loss with Gram ``K``.

    ``norm_bound``: a bound R on the target's norm in the RKHS of ``K`` itself; ``None`` means the theory's default,
    norm 1 for the rescaled kernel ``K / B``.

    The default ``eta = min(1, 1/lam_hat_max) / (n B)`` is the largest step the rule's theory allows; run
    :func:`convexscore.kernel.kernel_gd_path` with the same step (``rule.eta``) so that iteration counts match.
    """
    K = np.asarray(K, dtype=np.float64)
    if K.ndim != 2 or K.shape[0] != K.shape[1]:
        raise ValueError(f"K must be a square Gram matrix; got shape {K.shape}")
    if not np.all(np.isfinite(K)):
        raise ValueError("K contains NaN or inf; compute the Gram matrix from finite inputs")
    n = K.shape[0]
    B = float(np.max(np.diag(K)))
    if B <= 0:
        raise ValueError("K has no positive diagonal entry; the kernel is zero on these points")
    lam = np.linalg.eigvalsh(0.5 * (K + K.T)) / (n * B)
    lam = np.clip(lam, 0.0, None)[::-1]
    eta = min(1.0, 1.0 / lam.max()) / (n * B) if eta is None else check_positive(eta, "eta")
    alpha = eta * n * B
    s = check_positive(noise_std, "noise_std")
    if norm_bound is not None:
        s = s / (np.sqrt(B) * check_positive(norm_bound, "norm_bound"))
    return StoppingRule(rwy_stopping_step(lam, s, alpha), critical_radius(lam, s), B, lam, eta, alpha)


def interpolant_norm(K: ArrayLike, values: ArrayLike, rcond: float = 1e-12) -> float:
    """``sqrt(v^T K^+ v)``: the RKHS norm of the minimum-norm interpolant of ``values`` (n,) on Gram ``K`` (n, n).

    A lower bound on the RKHS norm of any function taking these values; eigenvalues below ``rcond * max`` are cut.
    """
    K = np.asarray(K, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    if K.ndim != 2 or K.shape != (v.size, v.size):
        raise ValueError(f"K must be ({v.size}, {v.size}) to match the values; got {K.shape}")
    if not (np.all(np.isfinite(K)) and np.all(np.isfinite(v))):
        raise ValueError("K and values must be finite; remove NaN or inf entries first")
    lam, V = np.linalg.eigh(0.5 * (K + K.T))
    keep = lam > rcond * lam.max()
    c = V[:, keep].T @ v
    return float(np.sqrt(np.sum(c**2 / lam[keep])))


def oracle_stop(iterations: ArrayLike, errors: ArrayLike) -> tuple[float, float]:
    """The iteration with the smallest test error on a grid, and that error: ``(t_oracle, error_min)``."""
    t = np.asarray(iterations, dtype=np.float64).reshape(-1)
    e = np.asarray(errors, dtype=np.float64).reshape(-1)
    if t.shape != e.shape or t.size == 0:
        raise ValueError(f"iterations and errors must be equal-length non-empty arrays; got {t.shape} and {e.shape}")
    k = int(np.argmin(e))
    return float(t[k]), float(e[k])
