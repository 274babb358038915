"""The 1-D solver registry: every solver by name, with its fallback, in one place.

A solver maps a :class:`~.programs.ConvexProgram` to a :class:`Solution`: ``z`` (p,) in the column layout of
:mod:`.dictionaries`, the solver's ``status``, and either its own certificate (``certificate``, a verified dual point:
then the caller neither polishes nor re-certifies) or None (the caller polishes ``z`` and certifies it with
:func:`.certificate.certify`).

* ``"fast"`` (the default): the specialised interior-point solver with exact crossover
  (:func:`convexscore.univariate.fast.solve_fast`); it certifies its own relative gap (below ``fast.TOL``). With
  fewer than 3 distinct inputs, at ``beta`` equal to the unboundedness threshold, or when it cannot certify within
  its iteration budget, the answer of ``"cvxpy"`` is returned instead and the status says so
  (``"optimal (cvxpy fallback: ...)"``).
* ``"cvxpy"``: the sparse CVXPY program (Clarabel), O(n) nonzeros. The reference for any n.
* ``"cvxpy-dense"``: the program with the dense dictionary as written in the paper (small n only).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal

import numpy as np

from ..errors import SolverError
from .certificate import Certificate, certify_dual
from .dictionaries import unboundedness_threshold
from .programs import ConvexProgram, solve_dense, solve_sparse

__all__ = ["DEFAULT_SOLVER", "at_threshold", "SOLVERS", "Solution", "SolverName", "certificate_from_fast", "run_solver"]

SolverName = Literal["fast", "cvxpy", "cvxpy-dense"]

DEFAULT_SOLVER: SolverName = "fast"
"""The solver used when none is named. Where the optimum is not unique, ``"fast"`` returns a vertex of the optimal
set (each kink carried by one neuron; for the absolute-value family without skip the minimum-norm member) and the
CVXPY solvers Clarabel's analytic-centre solution: same value, same function on the data."""


@dataclass(frozen=True)
class Solution:
    """A solver's answer: ``z`` (p,), ``status``, its own ``certificate`` (or None), interior-point ``iterations``
    and the registry name of the solver that produced it."""

    z: np.ndarray
    status: str
    certificate: Certificate | None
    iterations: int
    solver: str


def certificate_from_fast(prog: ConvexProgram, res) -> Certificate:
    """The :class:`Certificate` of a fast-solver result (``FastResult``): its own dual point and value, only made
    exactly feasible against rounding (:func:`.certificate.certify_dual`, O(n); no polish, no other candidates)."""
    return certify_dual(prog, res.dual, float(res.value))


def at_threshold(prog: ConvexProgram) -> bool:
    """Whether an SM program sits exactly at the unboundedness threshold (finite, but no strictly feasible dual)."""
    return prog.loss == "sm" and prog.beta <= unboundedness_threshold(prog.inputs, prog.activation, prog.skip)


def _cvxpy(solve: Callable, name: str) -> Callable[[ConvexProgram], Solution]:
    def run(prog: ConvexProgram) -> Solution:
        out = solve(prog)
        return Solution(out.z, out.status, None, 0, name)

    return run


def _fast(prog: ConvexProgram) -> Solution:
    from .fast import solve_fast  # numba and the solver load on first use

    if prog.knots.K < 3:
        return _fallback(prog, "fewer than 3 distinct inputs")
    if at_threshold(prog):  # no strictly feasible dual point: the interior-point method cannot start
        return _fallback(prog, "beta at the unboundedness threshold")
    try:
        res = solve_fast(prog)
    except SolverError as err:
        return _fallback(prog, f"fast solver not certified: {err}")
    return Solution(res.z, "optimal", certificate_from_fast(prog, res), int(res.iterations), "fast")


def _fallback(prog: ConvexProgram, reason: str) -> Solution:
    out = SOLVERS["cvxpy"](prog)
    return Solution(out.z, f"{out.status} (cvxpy fallback: {reason})", None, 0, "cvxpy")


SOLVERS: dict[str, Callable[[ConvexProgram], Solution]] = {
    "fast": _fast,
    "cvxpy": _cvxpy(solve_sparse, "cvxpy"),
    "cvxpy-dense": _cvxpy(solve_dense, "cvxpy-dense"),
}
"""Every 1-D solver by name (see the module docstring)."""


def run_solver(prog: ConvexProgram, solver: str | None = None) -> Solution:
    """Solve ``prog`` with the named solver (None: :data:`DEFAULT_SOLVER`)."""
    name = DEFAULT_SOLVER if solver is None else solver
    if name not in SOLVERS:
        raise ValueError(f"unknown solver {name!r}: use one of {sorted(SOLVERS)}")
    return SOLVERS[name](prog)
