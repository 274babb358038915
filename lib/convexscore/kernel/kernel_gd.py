"""Kernel gradient descent in function space, and its comparison with gradient descent on a wide network.

With the sum-of-squares loss ``L(f) = 0.5 * sum_i (f(x_i) - y_i)^2`` and a fixed kernel K, gradient descent in
function space with step ``eta`` and ``f_0 = 0`` is

    f_{t+1}(.) = f_t(.) - eta * sum_i K(., x_i) (f_t(x_i) - y_i).

On the training points this is ``f_t = (I - (I - eta K)^t) y``; with ``K = V diag(lam) V^T`` the path is diagonal:
``f_t(X) = V diag(phi_t(lam)) V^T y`` with the spectral filter ``phi_t(lam) = 1 - (1 - eta lam)^t``, and at new points
``f_t(x) = K(x, X) V diag(phi_t(lam) / lam) V^T y``. Every iteration count, however large, costs one matrix product.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .._validation import check_positive
from .ntk import relu_ntk
from .wide_net import init_ntk_net, train_network_gd


def _filter_over_lambda(lam: np.ndarray, step: float, t: np.ndarray) -> np.ndarray:
    """``(1 - (1 - step lam)^t) / lam`` of shape (len(t), len(lam)), with its limit ``step * t`` at lam = 0."""
    t = t[:, None].astype(np.float64)
    base = 1.0 - step * lam[None, :]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        accurate = -np.expm1(t * np.log1p(-step * np.minimum(lam, 0.5 / step))[None, :])  # valid where base >= 0.5
        direct = 1.0 - np.sign(base) ** t * np.abs(base) ** t
    phi = np.where(base >= 0.5, accurate, direct)
    safe = np.where(lam > 0, lam, 1.0)
    return np.where(lam[None, :] > 0, phi / safe[None, :], step * t)


@dataclass(frozen=True)
class KernelGDPath:
    """The whole kernel-GD path for one data set. ``eigvals`` (n,) and ``eigvecs`` (n, n) of K; ``coef = V^T y``."""

    eigvals: np.ndarray
    eigvecs: np.ndarray
    coef: np.ndarray
    step: float

    def train_predictions(self, iterations: ArrayLike) -> np.ndarray:
        """``f_t(x_i)`` for every t in ``iterations``: shape (len(iterations), n)."""
        t = _iterations(iterations)
        g = _filter_over_lambda(self.eigvals, self.step, t) * self.eigvals[None]
        return (g * self.coef[None]) @ self.eigvecs.T

    def predictions(self, iterations: ArrayLike, K_new: np.ndarray) -> np.ndarray:
        """``f_t`` at new points given ``K_new = K(x_new, X)`` of shape (n_new, n): shape (len(iterations), n_new)."""
        K_new = np.asarray(K_new, dtype=np.float64)
        if K_new.ndim != 2 or K_new.shape[1] != self.eigvecs.shape[0]:
            raise ValueError(f"K_new must have shape (n_new, {self.eigvecs.shape[0]}); got {K_new.shape}")
        t = _iterations(iterations)
        g = _filter_over_lambda(self.eigvals, self.step, t)
        return (g * self.coef[None]) @ (K_new @ self.eigvecs).T


def _iterations(iterations) -> np.ndarray:
    t = np.atleast_1d(np.asarray(iterations, dtype=np.float64))
    if np.any(t < 0) or not np.all(np.isfinite(t)):
        raise ValueError("iteration counts must be finite and >= 0")
    return t


def kernel_gd_path(K: ArrayLike, y: ArrayLike, step: float | None = None) -> KernelGDPath:
    """Diagonalise the Gram matrix ``K`` (n, n) once; ``step`` defaults to ``1 / lambda_max(K)``.

    Raises ValueError if K is not symmetric positive semidefinite (up to round-off) or if ``step * lambda_max >= 2``
    (gradient descent would diverge).
    """
    K = np.asarray(K, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if K.ndim != 2 or K.shape[0] != K.shape[1] or K.shape[0] != y.shape[0]:
        raise ValueError(f"K must be (n, n) with n = len(y) = {y.shape[0]}; got K of shape {K.shape}")
    if not (np.all(np.isfinite(K)) and np.all(np.isfinite(y))):
        raise ValueError("K and y must be finite; remove NaN or inf entries from the data first")
    if not np.allclose(K, K.T, atol=1e-10 * max(1.0, np.abs(K).max())):
        raise ValueError("K is not symmetric; pass a Gram matrix K[i, j] = k(x_i, x_j)")
    lam, V = np.linalg.eigh(0.5 * (K + K.T))
    if lam.min() < -1e-8 * max(1.0, lam.max()):
        raise ValueError(f"K is not positive semidefinite (smallest eigenvalue {lam.min():.3g}); check the kernel")
    lam = np.clip(lam, 0.0, None)
    step = 1.0 / lam.max() if step is None else check_positive(step, "step")
    if step * lam.max() >= 2:
        raise ValueError(f"step {step:.3g} is too large: step * lambda_max = {step * lam.max():.3g} >= 2; use step <= 1/lambda_max")
    return KernelGDPath(lam, V, V.T @ y, step)


@dataclass(frozen=True)
class LazyComparison:
    """Network GD versus kernel GD with the analytic NTK, one entry per width.

    ``widths`` (w,); ``distance`` (w,): max over recorded steps of the RMS gap between the two on the test points;
    ``relative_change`` (w,): ``|theta_T - theta_0| / |theta_0|`` at the last step; ``steps`` (r,) recorded steps;
    ``network_test`` list of (r, n_test) arrays; ``kernel_test`` (r, n_test).
    """

    widths: np.ndarray
    distance: np.ndarray
    relative_change: np.ndarray
    steps: np.ndarray
    network_test: list
    kernel_test: np.ndarray


def compare_network_and_kernel(
    x: ArrayLike, y: ArrayLike, x_test, widths: ArrayLike, n_steps: int, bias: bool = True, seed: int = 0, n_records: int = 20
) -> LazyComparison:
    """Train symmetric-initialised NTK networks of each width by full-batch GD and compare with kernel GD.

    Both use the same step ``1 / lambda_max`` of the analytic NTK Gram matrix and start from the zero function.
    """
    K = relu_ntk(x, bias=bias)
    path = kernel_gd_path(K, y)
    record = np.unique(np.linspace(0, n_steps, n_records + 1).round().astype(int))
    kernel_test = path.predictions(record, relu_ntk(x_test, x, bias=bias))
    dist, rel, nets = [], [], []
    input_dim = np.atleast_2d(np.asarray(x, dtype=np.float64).T).shape[0]
    for m in widths:
        net = init_ntk_net(int(m), input_dim=input_dim, bias=bias, symmetric=True, seed=seed)
        run = train_network_gd(net, x, y, x_test, path.step, n_steps, record=record)
        nets.append(run.test_pred)
        dist.append(float(np.sqrt(np.mean((run.test_pred - kernel_test) ** 2, axis=1)).max()))
        rel.append(float(run.relative_change[-1]))
    return LazyComparison(np.asarray(widths), np.array(dist), np.array(rel), record, nets, kernel_test)
