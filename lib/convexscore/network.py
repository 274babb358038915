"""The two-layer score network of the book and its exact (non-convex) training objectives.

Conventions (the book's notation page states them once):

* network ``f(x) = sum_j W2[j] * act(W1[j] . x + b1[j]) + b2 + V x`` with ``act`` ReLU or absolute value;
* derivative of the activation at 0: ``relu'(0) = 1`` and ``sign(0) = +1``;
* score matching (SM): ``J = sum_i [0.5 |f(x_i)|^2 + tr grad f(x_i)] + beta/2 (|W1|^2 + |W2|^2)``;
* denoising SM (DSM): ``J = sum_i 0.5 |f(x_i + sigma z_i) + z_i / sigma|^2 + beta/2 (|W1|^2 + |W2|^2)``;
* biases ``b1``, ``b2`` and the skip matrix ``V`` are not penalised.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ._validation import as_samples, check_activation, check_nonnegative, check_positive, dsm_order


def activation_fn(activation: str):
    """Return ``(act, act_prime)`` as numpy functions, with ``relu'(0) = 1`` and ``sign(0) = +1``."""
    check_activation(activation)
    if activation == "relu":
        return (lambda u: np.maximum(u, 0.0)), (lambda u: (u >= 0).astype(np.float64))
    return np.abs, (lambda u: np.where(u >= 0, 1.0, -1.0))


@dataclass(frozen=True)
class TwoLayerNet:
    """Two-layer score network ``R^d -> R^d``.

    Shapes: ``W1`` (m, d), ``b1`` (m,), ``W2`` (m, d), ``b2`` (d,), ``V`` (d, d) or None (no skip connection).
    Calling the network on ``x`` of shape (n,) (only when d = 1) returns shape (n,); on (n, d) it returns (n, d).
    """

    W1: np.ndarray
    b1: np.ndarray
    W2: np.ndarray
    b2: np.ndarray
    V: np.ndarray | None = None
    activation: str = "relu"

    def __post_init__(self):
        check_activation(self.activation)
        W1 = np.atleast_2d(np.asarray(self.W1, dtype=np.float64))
        m, d = W1.shape
        if np.asarray(self.W1).ndim == 1:  # (m,) is accepted for d = 1
            W1 = W1.reshape(-1, 1)
            m, d = W1.shape
        b1 = np.asarray(self.b1, dtype=np.float64).reshape(-1)
        W2 = np.asarray(self.W2, dtype=np.float64).reshape(m, -1) if m else np.zeros((0, d))
        b2 = np.asarray(self.b2, dtype=np.float64).reshape(-1)
        if b2.size == 1 and d > 1:
            raise ValueError(f"b2 must have shape ({d},); got a scalar")
        if b1.shape != (m,) or W2.shape != (m, d) or b2.shape != (d,):
            raise ValueError(
                f"inconsistent shapes: W1 {W1.shape}, b1 {b1.shape}, W2 {W2.shape}, b2 {b2.shape}; "
                "expected W1 (m, d), b1 (m,), W2 (m, d), b2 (d,)"
            )
        V = self.V
        if V is not None:
            V = np.asarray(V, dtype=np.float64).reshape(d, d)
        for name, arr in (("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2), ("V", V)):
            if arr is not None and not np.all(np.isfinite(arr)):
                raise ValueError(f"{name} contains NaN or inf")
        object.__setattr__(self, "W1", W1)
        object.__setattr__(self, "b1", b1)
        object.__setattr__(self, "W2", W2)
        object.__setattr__(self, "b2", b2)
        object.__setattr__(self, "V", V)

    @property
    def width(self) -> int:
        """Number of hidden neurons m."""
        return self.W1.shape[0]

    @property
    def dim(self) -> int:
        """Input and output dimension d."""
        return self.W1.shape[1]

    @property
    def skip(self) -> bool:
        return self.V is not None

    def _inputs(self, x) -> tuple[np.ndarray, bool]:
        X, univariate = as_samples(x)
        if X.shape[1] != self.dim:
            raise ValueError(f"x has dimension {X.shape[1]} but the network has d = {self.dim}")
        return X, univariate

    def __call__(self, x) -> np.ndarray:
        """Scores at ``x``: shape (n,) for x of shape (n,) (d = 1), else (n, d)."""
        X, univariate = self._inputs(x)
        act, _ = activation_fn(self.activation)
        out = act(X @ self.W1.T + self.b1) @ self.W2 + self.b2
        if self.V is not None:
            out = out + X @ self.V.T
        return out[:, 0] if univariate else out

    def jacobian_trace(self, x) -> np.ndarray:
        """``tr grad_x f(x)`` for every point, shape (n,); in 1-D this is ``f'(x)``."""
        X, _ = self._inputs(x)
        _, act_prime = activation_fn(self.activation)
        gates = act_prime(X @ self.W1.T + self.b1)  # (n, m)
        out = gates @ np.einsum("jd,jd->j", self.W1, self.W2)
        if self.V is not None:
            out = out + np.trace(self.V)
        return out

    def penalty(self) -> float:
        """``0.5 * (|W1|_F^2 + |W2|_F^2)``, the weight-decay term divided by beta."""
        return 0.5 * float(np.sum(self.W1**2) + np.sum(self.W2**2))

    def parameters(self) -> dict:
        """The parameters as a dict of arrays (copies)."""
        out = {"W1": self.W1.copy(), "b1": self.b1.copy(), "W2": self.W2.copy(), "b2": self.b2.copy()}
        out["V"] = None if self.V is None else self.V.copy()
        return out


def score_matching_loss(net: TwoLayerNet, x: ArrayLike, beta: float) -> float:
    """Exact SM objective ``sum_i [0.5 |f(x_i)|^2 + tr grad f(x_i)] + beta/2 (|W1|^2 + |W2|^2)`` in float64."""
    beta = check_nonnegative(beta, "beta")
    X, _ = as_samples(x)
    F = np.asarray(net(X))
    return float(0.5 * np.sum(F**2) + np.sum(net.jacobian_trace(X)) + beta * net.penalty())


def denoising_score_matching_loss(net: TwoLayerNet, x: ArrayLike, noise: ArrayLike, sigma: float, beta: float) -> float:
    """Exact DSM objective ``sum_i 0.5 |f(x_i + sigma z_i) + z_i/sigma|^2 + beta/2 (|W1|^2 + |W2|^2)``.

    ``noise`` holds the standard normal draws ``z_i`` and must have the shape of ``x``. (The former order
    ``(net, x, beta, sigma, noise)`` still works, with a DeprecationWarning.)
    """
    noise, beta = dsm_order(noise, beta, "denoising_score_matching_loss")
    beta = check_nonnegative(beta, "beta")
    sigma = check_positive(sigma, "sigma")
    X, _ = as_samples(x)
    Z, _ = as_samples(noise, name="noise")
    if Z.shape != X.shape:
        raise ValueError(
            f"noise has shape {np.shape(noise)} but x has shape {np.shape(x)}; pass one standard normal draw per coordinate"
        )
    R = np.asarray(net(X + sigma * Z)) + Z / sigma
    return float(0.5 * np.sum(R**2) + beta * net.penalty())
