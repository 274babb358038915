"""Continuous piecewise-linear 1-D scores: the exact form of a fitted univariate two-layer network.

One class, :class:`PiecewiseLinearScore`, used by the univariate solver (``ConvexFit.piecewise``,
:func:`convexscore.piecewise_linear`), by the density code, and by the fast 1-D Langevin kernel in
:mod:`convexscore.sampling`.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


class PiecewiseLinearScore:
    """A continuous piecewise-linear 1-D score ``s(x) = slopes[k] x + intercepts[k]`` on segment ``k``.

    ``knots``: shape (K,), strictly increasing; ``slopes`` and ``intercepts``: shape (K + 1,), segment ``k`` being
    ``knots[k-1] <= x < knots[k]`` (segment 0 left of the first knot, segment K right of the last). A fitted 1-D
    ``TwoLayerNet`` with ReLU or absolute-value activation is exactly of this form: :meth:`from_network`.
    """

    def __init__(self, knots, slopes, intercepts):
        knots = np.asarray(knots, dtype=np.float64).reshape(-1)
        slopes = np.asarray(slopes, dtype=np.float64).reshape(-1)
        intercepts = np.asarray(intercepts, dtype=np.float64).reshape(-1)
        K = knots.size
        if slopes.shape != (K + 1,) or intercepts.shape != (K + 1,):
            raise ValueError(f"need K + 1 = {K + 1} slopes and intercepts for {K} knots; "
                             f"got {slopes.size} and {intercepts.size}")
        for name, arr in (("knots", knots), ("slopes", slopes), ("intercepts", intercepts)):
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{name} contains NaN or inf")
        if K > 1 and np.any(np.diff(knots) <= 0):
            raise ValueError("knots must be strictly increasing; merge or sort them first")
        self.knots, self.slopes, self.intercepts = knots, slopes, intercepts

    # ----- construction -------------------------------------------------------------------------------------------
    @classmethod
    def from_network(cls, net, merge_tol: float = 0.0) -> "PiecewiseLinearScore":
        """Exact conversion of a 1-D ``TwoLayerNet`` (ReLU or abs, with or without skip).

        Knots are the kinks ``-b1/w1`` of the neurons that can bend the function (``w1 != 0`` and ``w2 != 0``);
        kinks closer than ``merge_tol`` are merged. Neurons with ``w1 = 0`` are constants. The slopes and intercepts
        are the left-tail ones plus the cumulative jumps at the kinks (no evaluation of the network).
        """
        if net.dim != 1:
            raise ValueError(f"only 1-D networks are piecewise linear in one variable; this one has d = {net.dim}")
        w, b, alpha = net.W1[:, 0], net.b1, net.W2[:, 0]
        v = 0.0 if net.V is None else float(net.V[0, 0])
        live = (w != 0) & (alpha != 0)
        flat = w == 0
        const = float(net.b2[0]) + float(np.sum(alpha[flat] * (np.maximum(b[flat], 0) if net.activation == "relu"
                                                                else np.abs(b[flat]))))
        kink = -b[live] / w[live]
        wl, bl, al = w[live], b[live], alpha[live]
        # ReLU: the neuron contributes alpha (w x + b) right of its kink when w > 0, left of it when w < 0; crossing
        # the kink rightwards changes the slope by alpha |w| and the intercept by alpha b sign(w). |.|: twice that.
        mult = 1.0 if net.activation == "relu" else 2.0
        left = (wl < 0) if net.activation == "relu" else np.ones(wl.size, bool)  # neurons live on the left tail
        slope0 = v - float(np.sum(al[left] * np.abs(wl[left])))
        icpt0 = const - float(np.sum(al[left] * bl[left] * np.sign(wl[left])))
        knots, where = np.unique(kink, return_inverse=True)
        if merge_tol > 0 and knots.size > 1:
            group = np.cumsum(np.concatenate([[0], np.diff(knots) > merge_tol]))
            knots, where = knots[np.concatenate([[True], np.diff(knots) > merge_tol])], group[where]
        dslope = np.zeros(knots.size)
        dicpt = np.zeros(knots.size)
        np.add.at(dslope, where, mult * al * np.abs(wl))
        np.add.at(dicpt, where, mult * al * bl * np.sign(wl))
        slopes = slope0 + np.concatenate([[0.0], np.cumsum(dslope)])
        intercepts = icpt0 + np.concatenate([[0.0], np.cumsum(dicpt)])
        return cls(knots, slopes, intercepts)

    # ----- evaluation ---------------------------------------------------------------------------------------------
    @property
    def lipschitz(self) -> float:
        """Exact Lipschitz constant ``max_k |slopes[k]|``."""
        return float(np.max(np.abs(self.slopes)))

    def segment(self, x: ArrayLike) -> np.ndarray:
        """Segment index of each point (``searchsorted``, right side: a point on a knot belongs to the right)."""
        return np.searchsorted(self.knots, np.asarray(x, dtype=np.float64), side="right")

    piece = segment  # the name the univariate chapters use

    def __call__(self, x) -> np.ndarray:
        """Scores at ``x`` (any shape), exact, by binary search over the knots."""
        x = np.asarray(x, dtype=np.float64)
        k = self.segment(x)
        return self.slopes[k] * x + self.intercepts[k]

    def derivative(self, x: ArrayLike) -> np.ndarray:
        """``s'(x)`` (the right derivative at a knot)."""
        return self.slopes[self.segment(x)]

    # ----- the learned log-density ----------------------------------------------------------------------------------
    def log_density(self, x: ArrayLike) -> np.ndarray:
        """The learned unnormalised log-density ``int_0^x s(t) dt`` (continuous, 0 at ``x = 0``)."""
        x = np.asarray(x, dtype=np.float64)
        return self._integral(x) - self._integral(np.zeros(1))[0]

    def log_density_coefficients(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per segment ``k``, ``log_density(x) = quad[k] x^2 + lin[k] x + const[k]``; each array has shape (K+1,).

        A segment with ``quad < 0`` is a Gaussian piece of variance ``-1 / (2 quad)``; ``quad = 0`` an exponential one.
        """
        k = self.knots
        quad, lin = 0.5 * self.slopes, self.intercepts.copy()
        zero = self._integral(np.zeros(1))[0]
        if k.size == 0:
            return quad, lin, np.zeros(1)
        # evaluate at one point inside every segment and solve for the constant
        probes = np.concatenate([[k[0] - 1.0], 0.5 * (k[:-1] + k[1:]), [k[-1] + 1.0]])
        const = self._integral(probes) - zero - quad * probes**2 - lin * probes
        return quad, lin, const

    def _integral(self, t: np.ndarray) -> np.ndarray:
        """``int_{k_0}^t s`` with ``k_0`` the first knot (or 0 when there is none)."""
        def F(j, s):  # antiderivative on segment j
            return 0.5 * self.slopes[j] * s**2 + self.intercepts[j] * s

        k = self.knots
        if k.size == 0:
            return F(0, t) - F(0, 0.0)
        pieces = np.arange(1, k.size)
        at_knot = np.concatenate([[0.0], np.cumsum(F(pieces, k[1:]) - F(pieces, k[:-1]))])
        j = self.segment(t)
        start = k[np.maximum(j - 1, 0)]
        return np.where(j == 0, F(0, t) - F(0, k[0]), at_knot[np.maximum(j - 1, 0)] + F(j, t) - F(j, start))

    def density(self, slope_tol: float = 1e-10):
        """The normalised density ``exp(log_density) / Z`` as a :class:`~convexscore.density.PiecewiseGaussianDensity`
        (ValueError when the tails make it non-integrable)."""
        from .density import PiecewiseGaussianDensity

        return PiecewiseGaussianDensity.from_piecewise(self, slope_tol=slope_tol)

    def __repr__(self) -> str:
        return f"PiecewiseLinearScore(K={self.knots.size} knots, lipschitz={self.lipschitz:.4g})"
