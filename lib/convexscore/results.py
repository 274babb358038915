"""The result protocol shared by every fit (1-D and multivariate, single solve and path).

Every fitter returns a subclass of :class:`Fit`. Whatever the program, a fit has

* ``value``: the optimal objective; ``status``: the solver's status; ``gap``: the certified relative duality gap
  (``0.0`` for exact closed forms; ``nan`` when the answer rests on the solver's own optimality status);
* ``solver``, ``objective`` (``"sm"`` or ``"dsm"``), ``beta``;
* ``net``: a :class:`~convexscore.network.TwoLayerNet` attaining the value (or bounding it, as documented by the
  subclass); ``width``: its number of neurons; ``score(x)``: the network's output at ``x``;
* ``piecewise()``: the exact :class:`~convexscore.piecewise.PiecewiseLinearScore` for 1-D networks, else None;
* a one-line ``repr``.
"""
from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from .network import TwoLayerNet

__all__ = ["CERTIFIED_GAP", "Fit"]

CERTIFIED_GAP = 1e-6
"""A relative duality gap at or below this counts as a certificate of optimality."""


class Fit:
    """Base class of every fit result (see the module docstring for the protocol).

    Subclasses provide the attributes ``value``, ``status``, ``gap``, ``solver``, ``objective``, ``beta`` and the
    property ``net``.
    """

    value: float
    status: str
    gap: float
    solver: str
    objective: str
    beta: float
    net: TwoLayerNet  # a field or a property of the subclass

    @property
    def width(self) -> int:
        """Number of neurons of :attr:`net`."""
        return self.net.width

    @property
    def certified(self) -> bool:
        """Whether optimality is certified: a relative gap at most :data:`CERTIFIED_GAP`, or (``gap`` nan) the
        solver's own ``"optimal"`` status."""
        if math.isnan(self.gap):
            return self.status.startswith("optimal")
        return self.gap <= CERTIFIED_GAP

    def score(self, x: ArrayLike) -> np.ndarray:
        """The fitted score at ``x``: shape (n,) for 1-D input (n,), (n, d) for (n, d)."""
        return self.net(x)

    def piecewise(self):
        """The exact piecewise-linear form of a 1-D network (:class:`~convexscore.piecewise.PiecewiseLinearScore`),
        None for multivariate networks."""
        from .piecewise import PiecewiseLinearScore

        return PiecewiseLinearScore.from_network(self.net) if self.net.dim == 1 else None

    def _summary(self) -> str:
        return ""

    def __repr__(self) -> str:
        extra = self._summary()
        return (f"{type(self).__name__}(solver={self.solver!r}, objective={self.objective!r}, beta={self.beta:.6g}, "
                f"value={self.value:.10g}, status={self.status!r}, gap={self.gap:.2g}, width={self.width}"
                f"{', ' + extra if extra else ''})")
