"""The one error class of the package besides ``ValueError``.

Invalid input raises ``ValueError`` with a message naming the fix. A solver that cannot certify its answer raises
:class:`SolverError`, which carries the solver's ``status`` and the certified relative ``gap`` it reached (``inf``
when it has no certificate at all).
"""
from __future__ import annotations

import math

__all__ = ["SolverError"]


class SolverError(RuntimeError):
    """A solver could not certify an optimal solution.

    ``status``: the solver's last status (e.g. ``"max_iter"``, ``"infeasible"``); ``gap``: the certified relative
    duality gap it reached (``inf`` when no dual certificate exists, ``nan`` when the solver reports none).
    """

    def __init__(self, message: str, status: str = "unknown", gap: float = math.inf):
        super().__init__(message)
        self.status = str(status)
        self.gap = float(gap)
