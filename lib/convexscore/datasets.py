"""Toy laws with exact densities, scores and samplers, and the Old Faithful data.

Every law has the same small interface:

* ``density(x)`` and ``log_density(x)``: shape (n,) for points ``x`` of shape (n,) (1-D) or (n, d);
* ``score(x)``: the exact score ``grad log p``, shaped like ``x``;
* ``sample(n, rng)``: ``n`` i.i.d. draws, shape (n,) in 1-D and (n, d) otherwise;
* ``dim``: the dimension d.

All computations are in float64; log-densities use ``logsumexp`` so that far tails give finite scores.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from ._validation import as_samples, check_positive

__all__ = [
    "GaussianMixture",
    "Gaussian",
    "Uniform",
    "SmoothedUniform",
    "Ring",
    "two_mode_mixture",
    "load_old_faithful",
]


def _rng(rng) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _check_n(n) -> int:
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer; got {n}")
    return int(n)


class GaussianMixture:
    """Mixture of isotropic Gaussians ``sum_k w_k N(mu_k, s_k^2 I)``.

    ``means``: shape (K,) for a 1-D mixture or (K, d); ``stds``: shape (K,) or a scalar; ``weights``: shape (K,)
    (normalised here; default equal). ``dim`` is 1 when ``means`` is one-dimensional.
    """

    def __init__(self, means, stds=1.0, weights=None):
        means = np.asarray(means, dtype=np.float64)
        if means.ndim == 0:
            means = means.reshape(1)
        self._univariate = means.ndim == 1
        self.means = means.reshape(-1, 1) if self._univariate else means
        if self.means.ndim != 2 or not np.all(np.isfinite(self.means)):
            raise ValueError(f"means must be finite with shape (K,) or (K, d); got shape {np.shape(means)}")
        K = self.means.shape[0]
        self.stds = np.broadcast_to(np.asarray(stds, dtype=np.float64), (K,)).copy()
        if not np.all(np.isfinite(self.stds) & (self.stds > 0)):
            raise ValueError(f"stds must be finite and > 0; got {self.stds}")
        w = np.full(K, 1.0 / K) if weights is None else np.asarray(weights, dtype=np.float64).reshape(-1)
        if w.shape != (K,) or np.any(w < 0) or not np.all(np.isfinite(w)) or w.sum() <= 0:
            raise ValueError(f"weights must be {K} finite non-negative numbers with a positive sum; got {weights}")
        self.weights = w / w.sum()

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    def _points(self, x) -> tuple[np.ndarray, bool]:
        X, univariate = as_samples(x)
        if X.shape[1] != self.dim:
            raise ValueError(f"x has dimension {X.shape[1]} but the law has dimension {self.dim}")
        return X, univariate

    def _component_logpdf(self, X: np.ndarray) -> np.ndarray:
        d = self.dim
        sq = ((X[:, None, :] - self.means[None, :, :]) ** 2).sum(-1)  # (n, K)
        var = self.stds**2
        return -0.5 * sq / var - 0.5 * d * np.log(2 * np.pi * var) + np.log(np.maximum(self.weights, 1e-300))

    def log_density(self, x: ArrayLike) -> np.ndarray:
        """The log-density at ``x``: shape (n,) for (n,) or (n, d) input."""
        X, _ = self._points(x)
        return special.logsumexp(self._component_logpdf(X), axis=1)

    def density(self, x: ArrayLike) -> np.ndarray:
        """The density at ``x``: shape (n,) for (n,) or (n, d) input."""
        return np.exp(self.log_density(x))

    def score(self, x: ArrayLike) -> np.ndarray:
        """``sum_k r_k(x) (mu_k - x) / s_k^2`` with responsibilities ``r_k``; shaped like ``x``."""
        X, univariate = self._points(x)
        L = self._component_logpdf(X)
        R = np.exp(L - special.logsumexp(L, axis=1, keepdims=True))  # (n, K)
        S = (R / self.stds**2) @ self.means - X * (R / self.stds**2).sum(1, keepdims=True)
        return S[:, 0] if univariate else S

    def sample(self, n: int, rng=None) -> np.ndarray:
        """``n`` independent draws: shape (n,) for a 1-D law, (n, d) otherwise; ``rng`` a Generator or a seed."""
        n, rng = _check_n(n), _rng(rng)
        k = rng.choice(len(self.weights), size=n, p=self.weights)
        X = self.means[k] + self.stds[k, None] * rng.standard_normal((n, self.dim))
        return X[:, 0] if self._univariate else X

    def mean(self) -> np.ndarray | float:
        """The mixture mean: a float for a 1-D mixture, shape (d,) otherwise."""
        m = self.weights @ self.means
        return float(m[0]) if self._univariate else m

    def _univariate_only(self, what: str) -> None:
        if self.dim != 1:
            raise ValueError(f"{what} is implemented for 1-D mixtures; this one has dimension {self.dim}")

    def score_derivative(self, x: ArrayLike) -> np.ndarray:
        """``(log p)''(x) = p''/p - (p'/p)^2`` of a 1-D mixture, shape (n,)."""
        self._univariate_only("score_derivative")
        X, _ = self._points(x)
        L = self._component_logpdf(X)
        R = np.exp(L - special.logsumexp(L, axis=1, keepdims=True))  # (n, K)
        var = self.stds**2
        G = (self.means[:, 0][None, :] - X) / var  # per-component score (n, K)
        first = np.sum(R * G, axis=1)
        return np.sum(R * (G**2 - 1.0 / var), axis=1) - first**2

    def noised(self, sigma: float) -> "GaussianMixture":
        """The law of ``x + sigma z`` with ``z ~ N(0, I)``: every variance grows by ``sigma^2``."""
        sigma = check_positive(sigma, "sigma")
        means = self.means[:, 0] if self._univariate else self.means
        return GaussianMixture(means, np.sqrt(self.stds**2 + sigma**2), self.weights)

    def ou_marginal(self, t: float) -> "GaussianMixture":
        """The law at time ``t`` of the OU process ``dX = -X dt + sqrt(2) dW`` started from this mixture."""
        t = check_positive(t, "t")
        means = self.means[:, 0] if self._univariate else self.means
        return GaussianMixture(np.exp(-t) * means, np.sqrt(np.exp(-2 * t) * self.stds**2 + -np.expm1(-2 * t)),
                               self.weights)

    def __repr__(self) -> str:
        return f"GaussianMixture(K={len(self.weights)}, dim={self.dim})"


class Gaussian(GaussianMixture):
    """``N(mean, std^2 I)``; ``mean`` a scalar (1-D law) or a vector of length d."""

    def __init__(self, mean=0.0, std=1.0):
        mean = np.asarray(mean, dtype=np.float64)
        super().__init__(mean.reshape(1) if mean.ndim == 0 else mean.reshape(1, -1), stds=std)
        self.mean_, self.std = mean, float(std)

    def __repr__(self) -> str:
        return f"Gaussian(mean={self.mean_.tolist()}, std={self.std})"


def two_mode_mixture(separation: float = 4.0, std: float = 0.5) -> GaussianMixture:
    """The book's 1-D two-mode test law: equal weights at ``+-separation/2`` with standard deviation ``std``."""
    return GaussianMixture([-separation / 2, separation / 2], stds=std)


def _check_interval(a: float, b: float) -> None:
    if not (np.isfinite(a) and np.isfinite(b) and a < b):
        raise ValueError(f"need finite a < b; got a={a}, b={b}")


@dataclass(frozen=True)
class Uniform:
    """Uniform law on ``[a, b]`` (1-D). Its score is 0 inside; outside the support it does not exist.

    For Langevin sampling use :class:`SmoothedUniform`, the law of ``U + sigma Z``, whose score is smooth everywhere.
    """

    a: float = -1.0
    b: float = 1.0
    dim: int = 1

    def __post_init__(self):
        _check_interval(self.a, self.b)

    def density(self, x: ArrayLike) -> np.ndarray:
        """The density at ``x``: shape (n,) for (n,) or (n, d) input."""
        X, _ = as_samples(x)
        inside = (X[:, 0] >= self.a) & (X[:, 0] <= self.b)
        return np.where(inside, 1.0 / (self.b - self.a), 0.0)

    def log_density(self, x: ArrayLike) -> np.ndarray:
        """The log-density at ``x``: shape (n,) for (n,) or (n, d) input."""
        with np.errstate(divide="ignore"):
            return np.log(self.density(x))

    def score(self, x: ArrayLike) -> np.ndarray:
        """The score ``grad log p`` at ``x``, shaped like ``x``."""
        X, _ = as_samples(x)
        if np.any((X[:, 0] < self.a) | (X[:, 0] > self.b)):
            raise ValueError(
                f"the score of Uniform({self.a}, {self.b}) does not exist outside [a, b]; "
                "use SmoothedUniform(a, b, sigma) for a score defined everywhere"
            )
        return np.zeros(X.shape[0])

    def sample(self, n: int, rng=None) -> np.ndarray:
        """``n`` independent draws: shape (n,) for a 1-D law, (n, d) otherwise; ``rng`` a Generator or a seed."""
        return _rng(rng).uniform(self.a, self.b, size=_check_n(n))

    def smoothed(self, sigma: float) -> "SmoothedUniform":
        """The law of ``x + sigma z`` with ``z ~ N(0, 1)`` (a :class:`SmoothedUniform`)."""
        return SmoothedUniform(self.a, self.b, sigma)


@dataclass(frozen=True)
class SmoothedUniform:
    """Law of ``U + sigma Z`` with ``U ~ Uniform[a, b]``, ``Z ~ N(0, 1)`` (1-D).

    Density ``p(x) = (Phi((x-a)/sigma) - Phi((x-b)/sigma)) / (b - a)``; the score is computed in log space
    (``scipy.special.log_ndtr``) so it stays finite far in the tails, where it tends to ``-(x - a)/sigma^2`` or
    ``-(x - b)/sigma^2``.
    """

    a: float = -1.0
    b: float = 1.0
    sigma: float = 0.1
    dim: int = 1

    def __post_init__(self):
        _check_interval(self.a, self.b)
        check_positive(self.sigma, "sigma")

    def _log_mass(self, x: np.ndarray) -> np.ndarray:
        # log(Phi(u) - Phi(v)) with u = (x-a)/s > v = (x-b)/s, computed stably on both sides
        u, v = (x - self.a) / self.sigma, (x - self.b) / self.sigma
        left = x < 0.5 * (self.a + self.b)
        # on the left tail use Phi(u) - Phi(v); on the right use Phi(-v) - Phi(-u)
        hi = np.where(left, special.log_ndtr(u), special.log_ndtr(-v))
        lo = np.where(left, special.log_ndtr(v), special.log_ndtr(-u))
        return hi + np.log1p(-np.exp(lo - hi))

    def log_density(self, x: ArrayLike) -> np.ndarray:
        """The log-density at ``x``: shape (n,) for (n,) or (n, d) input."""
        X, _ = as_samples(x)
        return self._log_mass(X[:, 0]) - np.log(self.b - self.a)

    def density(self, x: ArrayLike) -> np.ndarray:
        """The density at ``x``: shape (n,) for (n,) or (n, d) input."""
        return np.exp(self.log_density(x))

    def score(self, x: ArrayLike) -> np.ndarray:
        """The score ``grad log p`` at ``x``, shaped like ``x``."""
        X, _ = as_samples(x)
        x = X[:, 0]
        u, v = (x - self.a) / self.sigma, (x - self.b) / self.sigma
        logm = self._log_mass(x)
        log_phi_u = -0.5 * u**2 - 0.5 * np.log(2 * np.pi)
        log_phi_v = -0.5 * v**2 - 0.5 * np.log(2 * np.pi)
        return (np.exp(log_phi_u - logm) - np.exp(log_phi_v - logm)) / self.sigma

    def sample(self, n: int, rng=None) -> np.ndarray:
        """``n`` independent draws: shape (n,) for a 1-D law, (n, d) otherwise; ``rng`` a Generator or a seed."""
        n, rng = _check_n(n), _rng(rng)
        return rng.uniform(self.a, self.b, size=n) + self.sigma * rng.standard_normal(n)


@dataclass(frozen=True)
class Ring:
    """2-D ring: density proportional to ``exp(-(|x| - radius)^2 / (2 width^2))``.

    Normalising constant ``Z = 2 pi [width^2 exp(-radius^2 / (2 width^2)) + radius width sqrt(2 pi) Phi(radius/width)]``.
    Score ``-(|x| - radius) / width^2 * x / |x|``; at the origin, where the gradient does not exist, we return 0.
    Sampling is exact: uniform angle, and the radius by rejection from a two-part mixture proposal.
    """

    radius: float = 2.0
    width: float = 0.25
    dim: int = 2

    def __post_init__(self):
        check_positive(self.radius, "radius")
        check_positive(self.width, "width")

    def _points(self, x) -> np.ndarray:
        X, _ = as_samples(x)
        if X.shape[1] != 2:
            raise ValueError(f"the ring is a 2-D law; x must have shape (n, 2), got {np.shape(x)}")
        return X

    def log_normaliser(self) -> float:
        """The log of the normalising constant."""
        r, w = self.radius, self.width
        return float(np.log(2 * np.pi) + np.log(w**2 * np.exp(-(r**2) / (2 * w**2)) + r * w * np.sqrt(2 * np.pi) * special.ndtr(r / w)))

    def log_density(self, x: ArrayLike) -> np.ndarray:
        """The log-density at ``x``: shape (n,) for (n,) or (n, d) input."""
        rho = np.linalg.norm(self._points(x), axis=1)
        return -((rho - self.radius) ** 2) / (2 * self.width**2) - self.log_normaliser()

    def density(self, x: ArrayLike) -> np.ndarray:
        """The density at ``x``: shape (n,) for (n,) or (n, d) input."""
        return np.exp(self.log_density(x))

    def score(self, x: ArrayLike) -> np.ndarray:
        """The score ``grad log p`` at ``x``, shaped like ``x``."""
        X = self._points(x)
        rho = np.linalg.norm(X, axis=1, keepdims=True)
        unit = np.divide(X, rho, out=np.zeros_like(X), where=rho > 0)
        return -(rho - self.radius) / self.width**2 * unit

    def sample(self, n: int, rng=None) -> np.ndarray:
        """``n`` independent draws: shape (n,) for a 1-D law, (n, d) otherwise; ``rng`` a Generator or a seed."""
        n, rng = _check_n(n), _rng(rng)
        r, w = self.radius, self.width
        # radius rho = r + w t with t-density proportional to (r + w t)_+ phi(t). Proposal proportional to
        # (r + w |t|) phi(t): a mixture of N(0, 1) (weight r) and a signed Rayleigh (weight w sqrt(2/pi)).
        out = np.empty(0)
        p_normal = r / (r + w * np.sqrt(2 / np.pi))
        while out.size < n:
            k = 2 * (n - out.size) + 16
            normal = rng.random(k) < p_normal
            t = np.where(normal, rng.standard_normal(k), rng.rayleigh(1.0, k) * rng.choice([-1.0, 1.0], k))
            accept = rng.random(k) * (r + w * np.abs(t)) < np.maximum(r + w * t, 0.0)
            out = np.concatenate([out, r + w * t[accept]])
        rho = out[:n]
        theta = rng.uniform(0, 2 * np.pi, n)
        return np.column_stack([rho * np.cos(theta), rho * np.sin(theta)])


def load_old_faithful(column: str | None = None) -> np.ndarray:
    """The Old Faithful geyser data: 272 eruptions of the geyser in Yellowstone National Park.

    Columns: ``eruptions`` (eruption length, minutes) and ``waiting`` (time to the next eruption, minutes).
    Returns shape (272, 2) in that column order, or shape (272,) when ``column`` names one of them.
    Sources: Härdle (1991), *Smoothing Techniques with Implementation in S*, Springer; Azzalini & Bowman (1990),
    "A look at some data on the Old Faithful geyser", *Applied Statistics* 39, 357-365
    (book keys ``haerdle1991smoothing``, ``azzalini1990look``).
    """
    names = ("eruptions", "waiting")
    if column is not None and column not in names:
        raise ValueError(f"unknown column {column!r}; use one of {names} or None for both")
    text = resources.files("convexscore").joinpath("data/old_faithful.csv").read_text()
    data = np.loadtxt(text.splitlines(), delimiter=",", skiprows=1)
    return data if column is None else data[:, names.index(column)]
