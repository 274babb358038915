"""A finite two-layer ReLU network in NTK parametrisation (torch, float64), its empirical NTK and full-batch GD.

``f(x) = m^{-1/2} sum_j a_j relu(w_j . x~)`` with ``x~ = (x, 1)`` (bias) or ``x~ = x``; the conventions are those of
:mod:`convexscore.kernel.ntk`. With ``symmetric=True`` the neurons come in pairs with equal ``w`` and opposite ``a``
(the "doubling trick"), so the network is exactly zero at initialisation while its tangent kernel is unchanged in
law; kernel gradient descent then starts from the zero function as well.

Losses are sums over samples, as everywhere in the book: ``L = 0.5 * sum_i (f(x_i) - y_i)^2``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import ArrayLike

from .._validation import as_samples, check_positive


class NTKNet(torch.nn.Module):
    """Two-layer ReLU network in NTK parametrisation. ``W``: (m, k) first layer (bias as last column), ``a``: (m,)."""

    def __init__(self, W: torch.Tensor, a: torch.Tensor, bias: bool):
        super().__init__()
        self.W = torch.nn.Parameter(W.clone())
        self.a = torch.nn.Parameter(a.clone())
        self.bias = bias

    @property
    def width(self) -> int:
        return self.W.shape[0]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """``x~`` of shape (n, k) from x of shape (n, d)."""
        if self.bias:
            return torch.cat([x, torch.ones(x.shape[0], 1, dtype=x.dtype)], dim=1)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Outputs of shape (n,) for inputs of shape (n, d)."""
        return torch.relu(self.features(x) @ self.W.T) @ self.a / np.sqrt(self.width)


def init_ntk_net(width: int, input_dim: int = 1, bias: bool = True, symmetric: bool = False, seed: int = 0) -> NTKNet:
    """Standard normal initialisation of an :class:`NTKNet` (float64); ``symmetric`` needs an even width."""
    if int(width) != width or width < 1:
        raise ValueError(f"width must be a positive integer; got {width!r}")
    if symmetric and width % 2:
        raise ValueError(f"symmetric initialisation pairs neurons, so width must be even; got {width}")
    gen = torch.Generator().manual_seed(int(seed))
    k = input_dim + (1 if bias else 0)
    if symmetric:
        half_W = torch.randn(width // 2, k, generator=gen, dtype=torch.float64)
        half_a = torch.randn(width // 2, generator=gen, dtype=torch.float64)
        W, a = torch.cat([half_W, half_W]), torch.cat([half_a, -half_a])
    else:
        W = torch.randn(width, k, generator=gen, dtype=torch.float64)
        a = torch.randn(width, generator=gen, dtype=torch.float64)
    return NTKNet(W, a, bias)


def _as_tensor(x) -> torch.Tensor:
    X, _ = as_samples(x)
    return torch.as_tensor(X, dtype=torch.float64)


def empirical_ntk(net: NTKNet, x: ArrayLike, y: ArrayLike | None = None) -> np.ndarray:
    """Empirical tangent kernel ``J(x) J(y)^T`` of a finite network (J: Jacobian in all parameters), shape (n_x, n_y).

    Computed with torch autograd (``torch.func.jacrev``); this is the finite-width counterpart of
    :func:`convexscore.kernel.relu_ntk`.
    """
    params = {name: p.detach() for name, p in net.named_parameters()}

    def out(p, X):
        return torch.func.functional_call(net, p, (X,))

    def jac(X):
        J = torch.func.jacrev(out)(params, X)
        return torch.cat([J[name].reshape(X.shape[0], -1) for name in params], dim=1)

    Jx = jac(_as_tensor(x))
    Jy = Jx if y is None else jac(_as_tensor(y))
    return (Jx @ Jy.T).numpy()


@dataclass(frozen=True)
class NetworkGDRun:
    """Full-batch GD on ``0.5 * sum_i (f(x_i) - y_i)^2``.

    ``steps`` (r,): recorded iteration counts; ``train_pred`` (r, n) and ``test_pred`` (r, n_test): outputs there;
    ``relative_change`` (r,): ``|theta_t - theta_0| / |theta_0|`` over all weights; ``width``: m.
    """

    steps: np.ndarray
    train_pred: np.ndarray
    test_pred: np.ndarray
    relative_change: np.ndarray
    width: int


def train_network_gd(
    net: NTKNet, x: ArrayLike, y: ArrayLike, x_test, step: float, n_steps: int, record=None
) -> NetworkGDRun:
    """Run ``n_steps`` of full-batch gradient descent with step ``step`` on the sum-of-squares loss (in place).

    ``record``: iteration counts at which to store outputs (default every step, 0..n_steps).
    """
    step = check_positive(step, "step")
    if int(n_steps) != n_steps or n_steps < 0:
        raise ValueError(f"n_steps must be a non-negative integer; got {n_steps!r}")
    X, Xt = _as_tensor(x), _as_tensor(x_test)
    Y = torch.as_tensor(np.asarray(y, dtype=np.float64).reshape(-1))
    if not torch.all(torch.isfinite(Y)):
        raise ValueError("y contains NaN or inf; remove those labels first")
    if Y.shape[0] != X.shape[0]:
        raise ValueError(f"y has {Y.shape[0]} labels but x has {X.shape[0]} points; pass one label per point")
    record = np.arange(n_steps + 1) if record is None else np.unique(np.asarray(record, dtype=int))
    if record.size and (record.min() < 0 or record.max() > n_steps):
        raise ValueError(f"record must lie in [0, n_steps={n_steps}]")
    theta0 = torch.cat([p.detach().reshape(-1).clone() for p in net.parameters()])
    norm0 = float(torch.linalg.norm(theta0))
    want = set(record.tolist())
    steps, tr, te, rel = [], [], [], []
    for t in range(n_steps + 1):
        if t in want:
            with torch.no_grad():
                theta = torch.cat([p.reshape(-1) for p in net.parameters()])
                steps.append(t)
                tr.append(net(X).numpy().copy())
                te.append(net(Xt).numpy().copy())
                rel.append(float(torch.linalg.norm(theta - theta0)) / norm0)
        if t == n_steps:
            break
        net.zero_grad()
        loss = 0.5 * torch.sum((net(X) - Y) ** 2)
        loss.backward()
        with torch.no_grad():
            for p in net.parameters():
                p -= step * p.grad
        if not torch.isfinite(loss):
            raise ValueError(f"gradient descent diverged at step {t}; use a smaller step (1/lambda_max of the NTK)")
    return NetworkGDRun(np.array(steps), np.array(tr), np.array(te), np.array(rel), net.width)
