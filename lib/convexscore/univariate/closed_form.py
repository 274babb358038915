"""Closed-form solutions of the score-matching programs for large weight decay (paper section 3.3, A.5-A.7).

With ``n`` points, mean ``xbar``, biased variance ``s2`` and ``t = (n - beta) / (n s2)``:

* zero network: ``z = 0`` is optimal without skip iff ``beta >= n`` (both activations);
* two-neuron regime, ``max(beta_tilde, tau) <= beta < n``: only the neurons with kinks at the two extreme points
  are active, with weights ``-alpha t`` and ``(1 - alpha) t`` for any ``alpha`` in [0, 1]; the value is
  ``-(n - beta)^2 / (2 n s2)`` and the score is (7) (ReLU) or (24) (abs);
* skip connection: ``z = 0`` is optimal iff ``beta >= ||d - A^T xt / s2||_inf`` and the network is then the score
  of ``N(xbar, s2)``, ``f(x) = -(x - xbar) / s2``, with value ``-n / (2 s2)``.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .._validation import as_univariate, check_activation
from ..network import TwoLayerNet
from .dictionaries import apply_transpose
from .programs import build_program
from .reconstruct import network_from_solution


def _stats(x) -> tuple[np.ndarray, int, float, float]:
    x = as_univariate(x, distinct=2)
    xbar = float(x.mean())
    return x, x.size, xbar, float(np.mean((x - xbar) ** 2))


def zero_network_threshold(x: ArrayLike, activation: str = "relu") -> float:
    """Smallest ``beta`` at which the zero network is optimal (no skip): ``||d||_inf``, which equals ``n``."""
    check_activation(activation)
    prog = build_program("sm", as_univariate(x, distinct=2), 1.0, activation, False)
    return float(np.max(np.abs(prog.d)))


def _columns_against_xt(x, activation: str):
    prog = build_program("sm", x, 1.0, activation, False)
    xt = x - x.mean()
    return prog, apply_transpose(xt, prog.knots, prog.layout)


def two_neuron_threshold(x: ArrayLike, activation: str = "relu") -> float:
    """``beta_tilde``: the two-neuron solution is optimal for ``max(beta_tilde, tau) <= beta < n``.

    From the optimality condition ``|d_k - (n - beta) c_k| <= beta`` for every other column, with
    ``c_k = A_k^T xt / (n s2)`` in [-1, 1]; each condition is linear in ``beta``.
    """
    check_activation(activation)
    x, n, _, s2 = _stats(x)
    prog, Axt = _columns_against_xt(x, activation)
    c = Axt / (n * s2)
    d = prog.d
    K = prog.knots.K
    active = {0, 3 * K - 1} if activation == "relu" else {0, 2 * K - 1}
    bound = 0.0
    for k in range(d.size):
        if k in active:
            continue
        for coef, rhs in ((1 - c[k], d[k] - n * c[k]), (1 + c[k], n * c[k] - d[k])):
            if coef > 1e-12:
                bound = max(bound, rhs / coef)
            elif rhs > 1e-9 * n:
                return float("inf")
    return float(bound)


def two_neuron_value(x: ArrayLike, beta: float) -> float:
    """Optimal value ``-(n - beta)^2 / (2 n s2)`` in the two-neuron regime (both activations, no skip)."""
    _, n, _, s2 = _stats(x)
    return -((n - beta) ** 2) / (2 * n * s2)


def two_neuron_network(x: ArrayLike, beta: float, activation: str = "relu", alpha: float = 0.5) -> TwoLayerNet:
    """The two-neuron network of the regime ``max(beta_tilde, tau) <= beta < n``, for ``alpha`` in [0, 1]."""
    check_activation(activation)
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1]; got {alpha}")
    x, n, _, s2 = _stats(x)
    t = (n - beta) / (n * s2)
    prog = build_program("sm", x, beta, activation, False)
    z = np.zeros(prog.layout.size)
    z[0] = -alpha * t
    z[-1 if activation == "abs" else 3 * prog.knots.K - 1] = (1 - alpha) * t
    return network_from_solution(prog, z)


def two_neuron_score(points, x: ArrayLike, beta: float, activation: str = "relu", alpha: float = 0.5) -> np.ndarray:
    """The predicted score (7) (ReLU) or (24) (abs) at ``points``: ``-t (x - xbar)`` inside the data range,
    continued linearly with the tail slopes ``-(1 - alpha) t`` / ``-alpha t`` (ReLU) or ``-+(1 - 2 alpha) t`` (abs)."""
    check_activation(activation)
    x, n, xbar, s2 = _stats(x)
    p = np.asarray(points, dtype=np.float64)
    t = (n - beta) / (n * s2)
    lo, hi = float(x.min()), float(x.max())
    if activation == "relu":
        left = -t * ((1 - alpha) * (p - lo) + (lo - xbar))
        right = -t * (alpha * (p - hi) + (hi - xbar))
    else:
        left = -(1 - 2 * alpha) * t * (p - xbar) - 2 * alpha * t * (lo - xbar)
        right = (1 - 2 * alpha) * t * (p - xbar) - 2 * (1 - alpha) * t * (hi - xbar)
    return np.where(p < lo, left, np.where(p > hi, right, -t * (p - xbar)))


def gaussian_skip_threshold(x: ArrayLike, activation: str = "relu") -> float:
    """With a skip connection, ``z = 0`` (the Gaussian network) is optimal iff ``beta >=`` this value,
    ``||d - A^T xt / s2||_inf`` over the activation's dictionary (ReLU: 4K columns, not the abs reduction)."""
    check_activation(activation)
    x, _, _, s2 = _stats(x)
    prog, Axt = _columns_against_xt(x, activation)
    return float(np.max(np.abs(prog.d - Axt / s2)))


def gaussian_skip_network(x: ArrayLike, activation: str = "relu") -> TwoLayerNet:
    """The optimal skip network above :func:`gaussian_skip_threshold`: no neurons, ``v = -1/s2``, ``b0 = xbar/s2``,
    i.e. the score of ``N(xbar, s2)`` with the biased sample variance; its loss is ``-n / (2 s2)``."""
    check_activation(activation)
    _, _, xbar, s2 = _stats(x)
    return TwoLayerNet(W1=np.zeros((0, 1)), b1=np.zeros(0), W2=np.zeros((0, 1)), b2=np.array([xbar / s2]),
                       V=np.array([[-1.0 / s2]]), activation=activation)


def gaussian_skip_value(x: ArrayLike) -> float:
    """``-n / (2 s2)``, the value of the Gaussian skip network."""
    _, n, _, s2 = _stats(x)
    return -n / (2 * s2)
