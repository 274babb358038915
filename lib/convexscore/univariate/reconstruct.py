"""From a convex solution back to a two-layer network, and the piecewise-linear form of a 1-D score network.

Reconstruction (paper (13) and its variants): one neuron per nonzero ``z_k``, with ``r = sqrt|z_k|``,
first-layer weight ``w = s r`` (``s = +1`` right ramp or abs, ``-1`` left ramp), second-layer weight
``alpha = sign(z_k) r`` and the kink at ``u_k + shift_k * eps``, strictly off the data for score matching so that
the loss does not depend on the activation's derivative at 0. Then ``b0`` and ``v`` are the closed forms of
:func:`programs.output_layer`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..network import TwoLayerNet
from .programs import ConvexProgram, output_layer


def kink_shift(prog: ConvexProgram) -> float:
    """The epsilon by which score-matching kinks are moved off the data.

    Far below the smallest gap between distinct values (a quarter of it at most), 1e-12 of the data range, but
    well above the float spacing at the data so that ``w x + b`` has the intended sign.
    """
    u = prog.knots.u
    gap = float(np.min(np.diff(u))) if u.size > 1 else 1.0
    scale = max(float(u[-1] - u[0]), 1e-300)
    floor = 64 * float(np.spacing(np.max(np.abs(u))))
    return min(0.25 * gap, max(1e-12 * scale, floor))


def network_from_solution(prog: ConvexProgram, z: np.ndarray, eps: float | None = None) -> TwoLayerNet:
    """A :class:`TwoLayerNet` whose loss equals the convex objective at ``z`` (up to O(eps) for SM)."""
    z = np.asarray(z, dtype=np.float64)
    lay = prog.layout
    if eps is None:
        eps = kink_shift(prog) if prog.loss == "sm" else 0.0
    keep = np.flatnonzero(z)
    r = np.sqrt(np.abs(z[keep]))
    side = np.where(lay.side[keep] == 0, 1.0, lay.side[keep])
    kink = prog.knots.u[lay.knot[keep]] + lay.shift[keep] * eps
    w = side * r
    b0, v = output_layer(prog, z)
    return TwoLayerNet(
        W1=w.reshape(-1, 1),
        b1=-w * kink,
        W2=(np.sign(z[keep]) * r).reshape(-1, 1),
        b2=np.array([b0]),
        V=np.array([[v]]) if prog.skip else None,
        activation=prog.activation,
    )


@dataclass(frozen=True)
class PiecewiseLinearScore:
    """A continuous piecewise-linear 1-D score ``f``.

    ``knots`` (m,) sorted breakpoints; ``slopes`` and ``intercepts`` (m+1,): on piece ``j`` (``j = 0`` left of the
    first knot, ``j = m`` right of the last) ``f(x) = slopes[j] * x + intercepts[j]``.
    """

    knots: np.ndarray
    slopes: np.ndarray
    intercepts: np.ndarray

    def piece(self, x) -> np.ndarray:
        return np.searchsorted(self.knots, np.asarray(x, dtype=np.float64), side="right")

    def __call__(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        j = self.piece(x)
        return self.slopes[j] * x + self.intercepts[j]

    def log_density(self, x) -> np.ndarray:
        """The learned unnormalised log-density ``int_0^x f(t) dt`` (continuous, 0 at ``x = 0``)."""
        x = np.asarray(x, dtype=np.float64)
        return self._integral(x) - self._integral(np.zeros(1))[0]

    def log_density_coefficients(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per piece ``j``, ``log_density(x) = quad[j] x^2 + lin[j] x + const[j]``; each array has shape (m+1,).

        A piece with ``quad < 0`` is a Gaussian piece of variance ``-1 / (2 quad)``; ``quad = 0`` an exponential one.
        """
        k = self.knots
        quad, lin = 0.5 * self.slopes, self.intercepts.copy()
        zero = self._integral(np.zeros(1))[0]
        if k.size == 0:
            return quad, lin, np.zeros(1)
        # evaluate at one point inside every piece and solve for the constant
        probes = np.concatenate([[k[0] - 1.0], 0.5 * (k[:-1] + k[1:]), [k[-1] + 1.0]])
        const = self._integral(probes) - zero - quad * probes**2 - lin * probes
        return quad, lin, const

    def _integral(self, t: np.ndarray) -> np.ndarray:
        """``int_{k_0}^t f`` with ``k_0`` the first knot (or 0 when there is none)."""
        def F(j, s):  # antiderivative of piece j
            return 0.5 * self.slopes[j] * s**2 + self.intercepts[j] * s

        k = self.knots
        if k.size == 0:
            return F(0, t) - F(0, 0.0)
        pieces = np.arange(1, k.size)
        at_knot = np.concatenate([[0.0], np.cumsum(F(pieces, k[1:]) - F(pieces, k[:-1]))])
        j = self.piece(t)
        start = k[np.maximum(j - 1, 0)]
        return np.where(j == 0, F(0, t) - F(0, k[0]), at_knot[np.maximum(j - 1, 0)] + F(j, t) - F(j, start))

    @property
    def lipschitz(self) -> float:
        """The Lipschitz constant of the score, ``max |slope|``."""
        return float(np.max(np.abs(self.slopes)))


def piecewise_linear(net: TwoLayerNet, merge_tol: float = 0.0) -> PiecewiseLinearScore:
    """Exact piecewise-linear form of a 1-D :class:`TwoLayerNet` (ReLU or abs, with or without skip).

    Breakpoints are the neurons' kinks ``-b/w`` (neurons with ``w = 0`` are constants); kinks closer than
    ``merge_tol`` are merged.
    """
    if net.dim != 1:
        raise ValueError(f"piecewise_linear needs a 1-D network; this one has d = {net.dim}")
    w, b, a = net.W1[:, 0], net.b1, net.W2[:, 0]
    active = w != 0
    const = float(net.b2[0]) + float(np.sum(a[~active] * (np.maximum(b[~active], 0) if net.activation == "relu" else np.abs(b[~active]))))
    kinks = np.sort(np.unique(-b[active] / w[active]))
    if merge_tol > 0 and kinks.size > 1:
        kinks = kinks[np.concatenate([[True], np.diff(kinks) > merge_tol])]
    # evaluate slope and intercept on every piece at an interior test point
    if kinks.size:
        inner = 0.5 * (kinks[:-1] + kinks[1:])
        span = max(1.0, float(kinks[-1] - kinks[0]))
        probes = np.concatenate([[kinks[0] - span], inner, [kinks[-1] + span]])
    else:
        probes = np.array([0.0])
    pre = np.outer(probes, w[active]) + b[active]
    if net.activation == "relu":
        gate = (pre > 0).astype(np.float64)
    else:
        gate = np.sign(pre)
    slopes = gate @ (w[active] * a[active])
    offsets = gate @ (b[active] * a[active])
    v = 0.0 if net.V is None else float(net.V[0, 0])
    return PiecewiseLinearScore(knots=kinks, slopes=slopes + v, intercepts=offsets + const)
