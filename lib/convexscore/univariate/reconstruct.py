"""From a convex solution back to a two-layer network, and the piecewise-linear form of a 1-D score network.

Reconstruction (paper (13) and its variants): one neuron per nonzero ``z_k``, with ``r = sqrt|z_k|``,
first-layer weight ``w = s r`` (``s = +1`` right ramp or abs, ``-1`` left ramp), second-layer weight
``alpha = sign(z_k) r`` and the kink at ``u_k + shift_k * eps``, strictly off the data for score matching so that
the loss does not depend on the activation's derivative at 0. Then ``b0`` and ``v`` are the closed forms of
:func:`programs.output_layer`.
"""
from __future__ import annotations

import numpy as np

from ..network import TwoLayerNet
from ..piecewise import PiecewiseLinearScore
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


def piecewise_linear(net: TwoLayerNet, merge_tol: float = 0.0) -> PiecewiseLinearScore:
    """Exact piecewise-linear form of a 1-D :class:`TwoLayerNet` (ReLU or abs, with or without skip).

    Same as :meth:`PiecewiseLinearScore.from_network`: breakpoints are the kinks ``-b/w`` of the neurons that bend
    the function; kinks closer than ``merge_tol`` are merged.
    """
    return PiecewiseLinearScore.from_network(net, merge_tol=merge_tol)
