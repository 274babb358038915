"""Denoising score matching as regression with noisy labels, on toy laws whose noised score is exact.

DSM draws ``x ~ p``, ``z ~ N(0, 1)`` and regresses the label ``-z / sigma`` on the input ``y = x + sigma z``
(book objective: ``sum_i 0.5 (f(y_i) + z_i / sigma)^2``). By Tweedie's formula the conditional mean of the label is
the score of the noised law, ``E[-z/sigma | y] = (log p_sigma)'(y)`` with ``p_sigma = p * N(0, sigma^2)``, and its
conditional variance is ``1/sigma^2 + (log p_sigma)''(y)``. Gaussian mixtures stay Gaussian mixtures under noise and
under the Ornstein-Uhlenbeck (OU) forward process ``dX = -X dt + sqrt(2) dW``, so the regression function is known
exactly and an estimator's error can be measured against the truth.

Everything here is one-dimensional in x; arrays of points have shape (n,).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .._validation import as_univariate, check_positive
from ..datasets import GaussianMixture


def _mixture_terms(y: np.ndarray, w: np.ndarray, M: np.ndarray, S: np.ndarray):
    """Responsibilities r (n, K), per-component g = -(y - mu)/s^2 and log density (n,); M, S broadcast to (n, K)."""
    y = y[:, None]
    log_comp = np.log(w) - 0.5 * ((y - M) / S) ** 2 - np.log(S) - 0.5 * np.log(2 * np.pi)
    top = log_comp.max(axis=1, keepdims=True)
    log_p = top[:, 0] + np.log(np.exp(log_comp - top).sum(axis=1))
    r = np.exp(log_comp - log_p[:, None])
    g = -(y - M) / S**2
    return r, g, log_p


def label_noise_variance(law: GaussianMixture, sigma: float, y: ArrayLike) -> np.ndarray:
    """``Var(-z/sigma | y) = 1/sigma^2 + (log p_sigma)''(y)`` for DSM on ``law`` (second-order Tweedie), shape (n,)."""
    sigma = check_positive(sigma, "sigma")
    return 1.0 / sigma**2 + law.noised(sigma).score_derivative(y)


@dataclass(frozen=True)
class DSMRegressionData:
    """One DSM sample seen as regression: inputs ``y = x + sigma z`` (n,), labels ``-z/sigma`` (n,).

    ``target`` (n,) is the regression function at the inputs, the exact noised score ``(log p_sigma)'(y)``.
    """

    x: np.ndarray
    z: np.ndarray
    sigma: float
    inputs: np.ndarray
    labels: np.ndarray
    target: np.ndarray


def dsm_regression_data(law: GaussianMixture, n: int, sigma: float, rng) -> DSMRegressionData:
    """Draw ``x_i ~ law``, ``z_i ~ N(0, 1)`` and return the DSM regression problem with its exact target."""
    sigma = check_positive(sigma, "sigma")
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer; got {n!r}")
    rng = np.random.default_rng(rng)
    x = law.sample(int(n), rng)
    z = rng.standard_normal(int(n))
    y = x + sigma * z
    return DSMRegressionData(x, z, sigma, y, -z / sigma, law.noised(sigma).score(y))


def ou_sigma(t: ArrayLike) -> np.ndarray:
    """Noise scale of the OU forward process at time t: ``sqrt(1 - exp(-2 t))``."""
    t = np.asarray(t, dtype=np.float64)
    if np.any(t <= 0) or not np.all(np.isfinite(t)):
        raise ValueError("times must be finite and > 0 (at t = 0 the OU process has no noise)")
    return np.sqrt(-np.expm1(-2 * t))


def ou_score(law: GaussianMixture, x: ArrayLike, t: ArrayLike) -> np.ndarray:
    """Exact score ``d/dx log p_t(x)`` of the OU marginal at the pairs ``(x_i, t_i)``, shape (n,)."""
    x, t = as_univariate(x, "x", min_points=1), as_univariate(t, "t", min_points=1)
    if x.shape != t.shape:
        raise ValueError(f"x and t must pair up point by point; got shapes {x.shape} and {t.shape}")
    w, mu, s = law.weights, law.means[:, 0], law.stds
    decay = np.exp(-t)[:, None]
    M = decay * mu[None]
    S = np.sqrt(decay**2 * s[None] ** 2 + ou_sigma(t)[:, None] ** 2)
    r, g, _ = _mixture_terms(x, w, M, S)
    return np.sum(r * g, axis=1)


@dataclass(frozen=True)
class OUDSMData:
    """DSM over a range of times: ``x_t = e^{-t} x_0 + sigma_t z`` with ``sigma_t = sqrt(1 - e^{-2t})``.

    ``inputs`` (n, 2) holds ``(x_t, t)``; ``labels`` (n,) are ``-z/sigma_t``; ``target`` (n,) the exact score there.
    """

    x0: np.ndarray
    t: np.ndarray
    z: np.ndarray
    xt: np.ndarray
    sigma_t: np.ndarray
    labels: np.ndarray
    target: np.ndarray

    @property
    def inputs(self) -> np.ndarray:
        return np.column_stack([self.xt, self.t])


def ou_dsm_data(law: GaussianMixture, n: int, t_min: float, t_max: float, rng) -> OUDSMData:
    """Draw ``x_0 ~ law``, ``t ~ Uniform[t_min, t_max]``, ``z ~ N(0, 1)``: a time-conditional DSM sample."""
    t_min, t_max = check_positive(t_min, "t_min"), check_positive(t_max, "t_max")
    if t_max <= t_min:
        raise ValueError(f"need t_min < t_max; got t_min={t_min}, t_max={t_max}")
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer; got {n!r}")
    rng = np.random.default_rng(rng)
    x0 = law.sample(int(n), rng)
    t = rng.uniform(t_min, t_max, int(n))
    z = rng.standard_normal(int(n))
    sig = ou_sigma(t)
    xt = np.exp(-t) * x0 + sig * z
    return OUDSMData(x0, t, z, xt, sig, -z / sig, ou_score(law, xt, t))
