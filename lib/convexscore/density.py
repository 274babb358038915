"""Exact densities of learned one-dimensional scores.

A trained univariate two-layer network (ReLU or absolute value, with or without skip) has a continuous,
piecewise-linear score ``f``. Its density ``pi ∝ exp(∫ f)`` is piecewise Gaussian: on each piece the log-density
is a quadratic. This module normalises it exactly (closed-form masses with ``scipy.special`` erf/Dawson functions,
added in log-space) and gives the log-density, CDF, quantiles, exact samples and moments.

Pieces: knots ``k_1 < ... < k_K`` split the line into ``(-inf, k_1], [k_1, k_2], ..., [k_K, inf)``. On each piece the
score is affine, ``f(x) = f(a) + s (x - a)`` with ``a`` the piece's finite left end (``k_1`` for the left tail).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from ._validation import check_positive
from .piecewise import PiecewiseLinearScore

__all__ = ["PiecewiseGaussianDensity", "kl_divergence_on_grid"]

_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(64)


def _log1mexp(x):
    """``log(1 - exp(x))`` for ``x <= 0``, accurate for all x (``-inf`` at 0)."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.where(x > -np.log(2.0), np.log(-np.expm1(np.minimum(x, 0.0))), np.log1p(-np.exp(np.minimum(x, 0.0))))


def _log_ndtr_diff(a, b):
    """``log(Phi(b) - Phi(a))`` for ``a <= b``, stable in both tails."""
    a, b = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float))
    right = a > 0  # both in the right tail: use Phi(-a) - Phi(-b)
    hi = np.where(right, special.log_ndtr(-a), special.log_ndtr(b))
    lo = np.where(right, special.log_ndtr(-b), special.log_ndtr(a))
    with np.errstate(invalid="ignore"):
        return hi + _log1mexp(lo - hi)


def _log_G(y):
    """``log(e^{y^2} D(y))`` for ``y >= 0``, where ``D`` is Dawson's function (so ``G(y) = ∫_0^y e^{w^2} dw``)."""
    y = np.asarray(y, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return y * y + np.log(special.dawsn(y))


def _log_mass(c: float, m: float, s: float, lo, hi):
    """``log ∫_lo^hi exp(c + m u + s u^2 / 2) du`` (vectorised over ``hi``; ``lo``/``hi`` may be infinite).

    ``s < 0``: Gaussian piece; ``s == 0``: exponential; ``s > 0``: only for finite ends (Dawson function).
    """
    lo, hi = np.broadcast_arrays(np.asarray(lo, float), np.asarray(hi, float))
    out = np.full(lo.shape, -np.inf)
    ok = hi > lo
    if not np.any(ok):
        return out
    lo_, hi_ = lo[ok], hi[ok]
    if s < 0:
        tau = 1.0 / np.sqrt(-s)
        mu = m / (-s)
        peak = c + m * m / (2.0 * (-s))
        val = peak + _LOG_SQRT_2PI + np.log(tau) + _log_ndtr_diff((lo_ - mu) / tau, (hi_ - mu) / tau)
    elif s > 0:
        if not (np.all(np.isfinite(lo_)) and np.all(np.isfinite(hi_))):
            raise ValueError("a piece with positive score slope is unbounded: the density is not normalisable")
        mu = -m / s
        base = c - m * m / (2.0 * s) + 0.5 * np.log(2.0 / s)
        A = np.sqrt(s / 2.0) * (lo_ - mu)
        B = np.sqrt(s / 2.0) * (hi_ - mu)
        gA, gB = _log_G(np.abs(A)), _log_G(np.abs(B))
        with np.errstate(invalid="ignore"):
            val = np.where(
                A >= 0, gB + _log1mexp(gA - gB),
                np.where(B <= 0, gA + _log1mexp(gB - gA), np.logaddexp(gA, gB)),
            )
        val = base + val
    else:
        if m == 0:
            if not (np.all(np.isfinite(lo_)) and np.all(np.isfinite(hi_))):
                raise ValueError("a flat tail with zero score has infinite mass: the density is not normalisable")
            val = c + np.log(hi_ - lo_)
        elif m > 0:
            if not np.all(np.isfinite(hi_)):
                raise ValueError("an increasing exponential tail has infinite mass: the density is not normalisable")
            val = c + m * hi_ + _log1mexp(m * (lo_ - hi_)) - np.log(m)
        else:
            if not np.all(np.isfinite(lo_)):
                raise ValueError("a decreasing exponential on the left tail has infinite mass: not normalisable")
            val = c + m * lo_ + _log1mexp(m * (hi_ - lo_)) - np.log(-m)
    out[ok] = val
    return out


@dataclass(frozen=True)
class _Piece:
    lo: float          # left end (may be -inf)
    hi: float          # right end (may be +inf)
    anchor: float      # finite reference point a of the quadratic
    c: float           # log-density (unnormalised) at the anchor
    m: float           # score at the anchor
    s: float           # score slope on the piece


class PiecewiseGaussianDensity:
    """The probability density ``pi ∝ exp(∫ f)`` of a continuous piecewise-linear score ``f`` on the real line.

    ``knots`` (K,) sorted strictly increasing (K >= 1), ``values`` (K,) the score at the knots, ``left_slope`` and
    ``right_slope`` the slopes of the two affine tails. Slopes with magnitude below ``slope_tol * max(1, max|slope|)``
    are set to exactly 0 (floating-point noise in "flat" Laplace tails). Raises ValueError when ``exp(∫ f)`` is not
    integrable (see the tail conditions in Chapter 7 of the book).
    """

    def __init__(self, knots, values, left_slope: float, right_slope: float, slope_tol: float = 1e-10,
                 inner_slopes=None):
        knots = np.asarray(knots, dtype=np.float64).reshape(-1)
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        if knots.size < 1 or knots.shape != values.shape:
            raise ValueError(f"knots and values must be non-empty arrays of the same shape; got {knots.shape}, {values.shape}")
        if not (np.all(np.isfinite(knots)) and np.all(np.isfinite(values))
                and np.isfinite(left_slope) and np.isfinite(right_slope)):
            raise ValueError("knots, values and tail slopes must be finite")
        if np.any(np.diff(knots) <= 0):
            raise ValueError("knots must be strictly increasing; merge duplicate knots first")
        if inner_slopes is None:
            inner = np.diff(values) / np.diff(knots)
        else:  # exact slopes given (values must then be continuous: values[i+1] = values[i] + slope * gap)
            inner = np.asarray(inner_slopes, dtype=np.float64).reshape(-1)
            if inner.shape != (knots.size - 1,):
                raise ValueError(f"inner_slopes must have shape ({knots.size - 1},); got {inner.shape}")
        slopes = np.concatenate([[float(left_slope)], inner, [float(right_slope)]])
        scale = max(1.0, float(np.max(np.abs(slopes))))
        slopes = np.where(np.abs(slopes) <= slope_tol * scale, 0.0, slopes)
        self.knots, self.values, self.slopes = knots, values, slopes
        # Tail conditions (exact criterion: Proposition "When the learned score defines a density").
        sR, sL = slopes[-1], slopes[0]
        if not (sR < 0 or (sR == 0 and values[-1] < 0)):
            raise ValueError(
                f"the score does not decrease to the right (right tail slope {sR:.3g}, f(last knot) = {values[-1]:.3g}): "
                "exp(∫ f) is not integrable, so there is no density to normalise"
            )
        if not (sL < 0 or (sL == 0 and values[0] > 0)):
            raise ValueError(
                f"the score does not increase to the left (left tail slope {sL:.3g}, f(first knot) = {values[0]:.3g}): "
                "exp(∫ f) is not integrable, so there is no density to normalise"
            )
        # Log-density (unnormalised, 0 at the first knot) at every knot.
        dk = np.diff(knots)
        logk = np.concatenate([[0.0], np.cumsum(values[:-1] * dk + 0.5 * inner * dk**2)])
        pieces = [_Piece(-np.inf, knots[0], knots[0], 0.0, values[0], slopes[0])]
        for i in range(knots.size - 1):
            pieces.append(_Piece(knots[i], knots[i + 1], knots[i], logk[i], values[i], slopes[i + 1]))
        pieces.append(_Piece(knots[-1], np.inf, knots[-1], logk[-1], values[-1], slopes[-1]))
        self._pieces = pieces
        self._log_knots = logk
        logm = np.array([float(_log_mass(p.c, p.m, p.s, p.lo - p.anchor, p.hi - p.anchor)) for p in pieces])
        self.log_normaliser = float(special.logsumexp(logm))
        self.piece_probs = np.exp(logm - self.log_normaliser)
        self._cum = np.concatenate([[0.0], np.cumsum(self.piece_probs)])

    # ----- constructors -------------------------------------------------------------------------------------
    @classmethod
    def from_network(cls, net, slope_tol: float = 1e-10) -> "PiecewiseGaussianDensity":
        """Exact density of a univariate ``TwoLayerNet`` (kinks ``-b1/W1``, exact slopes on every piece)."""
        if net.dim != 1:
            raise ValueError(f"from_network needs a univariate network (d = 1); got d = {net.dim}")
        return cls.from_piecewise(PiecewiseLinearScore.from_network(net), slope_tol=slope_tol)

    @classmethod
    def from_piecewise(cls, pls: PiecewiseLinearScore, slope_tol: float = 1e-10) -> "PiecewiseGaussianDensity":
        """Exact density of a :class:`~convexscore.piecewise.PiecewiseLinearScore` (its knots and slopes as given)."""
        return cls.from_slopes(pls.knots, pls.slopes, float(pls(pls.knots[:1])[0]) if pls.knots.size else None,
                               intercept=float(pls.intercepts[0]), slope_tol=slope_tol)

    @classmethod
    def from_slopes(cls, knots: ArrayLike, slopes: ArrayLike, first_value: float | None, intercept: float = 0.0,
                    slope_tol: float = 1e-10) -> "PiecewiseGaussianDensity":
        """Density from knots (K,) and the slopes (K+1,) of the K+1 pieces; ``first_value`` is ``f(knots[0])``.

        With no knots (an affine score ``slopes[0] x + intercept``) a single knot is placed at 0.
        """
        knots = np.asarray(knots, dtype=np.float64).reshape(-1)
        slopes = np.asarray(slopes, dtype=np.float64).reshape(-1)
        if slopes.shape != (knots.size + 1,):
            raise ValueError(f"slopes must have shape ({knots.size + 1},) for {knots.size} knots; got {slopes.shape}")
        if knots.size == 0:
            return cls([0.0], [intercept], slopes[0], slopes[0], slope_tol=slope_tol)
        values = float(first_value) + np.concatenate([[0.0], np.cumsum(slopes[1:-1] * np.diff(knots))])
        return cls(knots, values, slopes[0], slopes[-1], slope_tol=slope_tol, inner_slopes=slopes[1:-1])

    @classmethod
    def from_score(cls, score, knots: ArrayLike, slope_tol: float = 1e-10, merge_tol: float = 1e-9) -> "PiecewiseGaussianDensity":
        """Density of a callable piecewise-linear ``score`` whose kinks are all among ``knots``.

        Knots closer than ``merge_tol`` times the knot span are merged.
        """
        knots = np.sort(np.asarray(knots, dtype=np.float64).reshape(-1))
        if knots.size == 0:
            knots = np.array([0.0])
        span = max(1.0, float(knots[-1] - knots[0]))
        keep = np.concatenate([[True], np.diff(knots) > merge_tol * span])
        knots = knots[keep]
        values = np.asarray(score(knots), dtype=np.float64).reshape(-1)
        probe = np.array([knots[0] - span, knots[-1] + span])
        tails = np.asarray(score(probe), dtype=np.float64).reshape(-1)
        left = (values[0] - tails[0]) / span
        right = (tails[1] - values[-1]) / span
        return cls(knots, values, left, right, slope_tol=slope_tol)

    # ----- evaluation ---------------------------------------------------------------------------------------
    @property
    def lipschitz(self) -> float:
        """Exact Lipschitz constant of the score: the largest slope magnitude."""
        return float(np.max(np.abs(self.slopes)))

    @property
    def is_log_concave(self) -> bool:
        """True iff every slope of the score is <= 0."""
        return bool(np.all(self.slopes <= 0))

    def _piece_index(self, x):
        return np.searchsorted(self.knots, x, side="right")  # 0 = left tail, K = right tail

    def score(self, x: ArrayLike) -> np.ndarray:
        """The piecewise-linear score ``f(x)``."""
        x = np.asarray(x, dtype=np.float64)
        idx = self._piece_index(x)
        anchor = np.where(idx == 0, self.knots[0], self.knots[np.maximum(idx - 1, 0)])
        m = np.where(idx == 0, self.values[0], self.values[np.maximum(idx - 1, 0)])
        return m + self.slopes[idx] * (x - anchor)

    def logpdf(self, x: ArrayLike) -> np.ndarray:
        """Normalised log-density."""
        x = np.asarray(x, dtype=np.float64)
        idx = self._piece_index(x)
        j = np.maximum(idx - 1, 0)
        anchor, c, m = self.knots[j], self._log_knots[j], self.values[j]
        u = x - anchor
        return c + m * u + 0.5 * self.slopes[idx] * u * u - self.log_normaliser

    def pdf(self, x: ArrayLike) -> np.ndarray:
        """The normalised density at ``x`` (any shape)."""
        return np.exp(self.logpdf(x))

    def cdf(self, x: ArrayLike) -> np.ndarray:
        """Exact CDF (closed-form partial masses)."""
        x = np.asarray(x, dtype=np.float64)
        flat = x.reshape(-1)
        out = np.empty_like(flat)
        idx = self._piece_index(flat)
        for i in np.unique(idx):
            p = self._pieces[i]
            sel = idx == i
            part = _log_mass(p.c, p.m, p.s, p.lo - p.anchor, flat[sel] - p.anchor)
            out[sel] = self._cum[i] + np.exp(part - self.log_normaliser)
        return np.clip(out, 0.0, 1.0).reshape(x.shape)

    def ppf(self, q: ArrayLike) -> np.ndarray:
        """Quantile function: exact inverses on Gaussian and exponential pieces, bisection on the others."""
        q = np.asarray(q, dtype=np.float64)
        if np.any((q < 0) | (q > 1)) or not np.all(np.isfinite(q)):
            raise ValueError("quantile levels must lie in [0, 1]")
        flat = q.reshape(-1)
        idx = np.clip(np.searchsorted(self._cum, flat, side="right") - 1, 0, len(self._pieces) - 1)
        out = np.empty_like(flat)
        for i in np.unique(idx):
            sel = idx == i
            w = np.clip((flat[sel] - self._cum[i]) / max(self.piece_probs[i], 1e-300), 0.0, 1.0)
            out[sel] = self._piece_ppf(self._pieces[i], w)
        return out.reshape(q.shape)

    def _piece_ppf(self, p: _Piece, w: np.ndarray) -> np.ndarray:
        lo, hi = p.lo - p.anchor, p.hi - p.anchor
        if p.s < 0:
            from scipy.stats import truncnorm  # scipy.stats is slow to import: load it only here

            tau, mu = 1.0 / np.sqrt(-p.s), p.m / (-p.s)
            a, b = (lo - mu) / tau, (hi - mu) / tau
            return p.anchor + mu + tau * truncnorm.ppf(w, a, b)
        if p.s == 0:
            m = p.m
            if m == 0:
                return p.anchor + lo + w * (hi - lo)
            if np.isinf(lo):  # left tail, m > 0: fraction below u is exp(m (u - hi))
                with np.errstate(divide="ignore"):
                    return p.anchor + hi + np.log(w) / m
            if np.isinf(hi):  # right tail, m < 0
                return p.anchor + lo + np.log1p(-w) / m
            return p.anchor + lo + np.log1p(w * np.expm1(m * (hi - lo))) / m
        # convex bounded piece: bisection on the exact partial mass
        total = float(_log_mass(p.c, p.m, p.s, lo, hi))
        a, b = np.full(w.shape, lo), np.full(w.shape, hi)
        with np.errstate(divide="ignore"):
            target = np.log(w) + total
        for _ in range(80):
            mid = 0.5 * (a + b)
            below = _log_mass(p.c, p.m, p.s, lo, mid) < target
            a, b = np.where(below, mid, a), np.where(below, b, mid)
        return p.anchor + 0.5 * (a + b)

    def sample(self, size: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """Exact samples by inverting the CDF, shape (size,)."""
        rng = np.random.default_rng(rng)
        return self.ppf(rng.uniform(size=int(size)))

    def moments(self) -> tuple[float, float]:
        """``(mean, variance)``: exact identities on the tails, 64-point Gauss-Legendre on bounded pieces."""
        m0 = m1 = m2 = 0.0
        for p, prob in zip(self._pieces, self.piece_probs):
            if prob == 0:
                continue
            if np.isfinite(p.lo) and np.isfinite(p.hi):
                half = 0.5 * (p.hi - p.lo)
                x = p.lo + half * (_GL_NODES + 1.0)
                wts = half * _GL_WEIGHTS * np.exp(self.logpdf(x))
                m0 += wts.sum()
                m1 += (wts * x).sum()
                m2 += (wts * x * x).sum()
                continue
            # Tail: integrate l'(x) e^l, (x-a) l'(x) e^l, (x-a)^2 l'(x) e^l by parts; l' = m + s u, u = x - a.
            a = p.anchor
            e_end = float(np.exp(self.logpdf(np.array(a))))  # density at the finite end
            sgn = 1.0 if np.isinf(p.hi) else -1.0          # boundary term [.]_a^inf = -value(a); [.]_-inf^a = +value(a)
            M0 = prob
            b0, b1, b2 = -sgn * e_end, 0.0, 0.0            # boundary terms of e^l, u e^l, u^2 e^l
            if p.s != 0:
                M1 = (b0 - p.m * M0) / p.s
                M2 = (b1 - M0 - p.m * M1) / p.s
            else:
                M1 = (b1 - M0) / p.m
                M2 = (b2 - 2.0 * M1) / p.m
            m0 += M0
            m1 += M1 + a * M0
            m2 += M2 + 2 * a * M1 + a * a * M0
        mean = m1 / m0
        return float(mean), float(m2 / m0 - mean * mean)

    def w2_squared_from_point(self, x0: float) -> float:
        """``W_2^2(delta_{x0}, pi) = Var + (mean - x0)^2``."""
        mean, var = self.moments()
        return var + (mean - float(x0)) ** 2


def kl_divergence_on_grid(p: np.ndarray, logq: np.ndarray, dx: float) -> float:
    """``KL(p || q) ≈ sum p log(p/q) dx`` for a density ``p`` tabulated on a uniform grid and ``log q`` there.

    ``p`` is renormalised to integrate to 1 on the grid; cells with ``p = 0`` contribute 0.
    """
    dx = check_positive(dx, "dx")
    p = np.asarray(p, dtype=np.float64)
    logq = np.asarray(logq, dtype=np.float64)
    if p.shape != logq.shape or np.any(p < 0):
        raise ValueError("p must be non-negative and have the same shape as logq")
    p = p / (p.sum() * dx)
    pos = p > 0
    return float(np.sum(p[pos] * (np.log(p[pos]) - logq[pos])) * dx)
