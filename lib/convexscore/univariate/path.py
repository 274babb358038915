"""Regularisation paths: one certified :class:`~.fit.ConvexFit` per ``beta``, solved by the fast path solver.

The programs are built here and solved from the largest ``beta`` down by
:func:`convexscore.univariate.fast_path.solve_path` (warm-started by support continuation); each result's
certificate is the one the fast solver computed, not recomputed.
"""
from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from .._validation import check_choice
from ..errors import SolverError
from .fit import Activation, ConvexFit, denoising_program, fit_from_solution, score_matching_program
from .solvers import Solution, certificate_from_fast

__all__ = ["fit_path"]

PATH_TOL = 1e-8
"""Relative gap each path step is solved to (the fast solver's default tolerance)."""


def fit_path(
    x: ArrayLike,
    betas: ArrayLike,
    objective: Literal["sm", "dsm"] = "sm",
    activation: Activation = "relu",
    skip: bool = False,
    noise: ArrayLike | None = None,
    sigma: float | None = None,
    tol: float = PATH_TOL,
    warm_start: bool = True,
    *,
    require_certificate: bool = True,
    loss: Literal["sm", "dsm"] | None = None,
) -> list[ConvexFit]:
    """Certified fits for every ``beta`` in ``betas`` (any order; the fits come back in that order).

    ``objective="sm"`` (score matching; every ``beta`` at least the unboundedness threshold) or ``"dsm"`` (denoising;
    needs the standard normal draws ``noise`` (n,), fixed along the path, and ``sigma``). The betas are solved from
    the largest down; with ``warm_start`` each first continues the previous solution's support (``iterations == 0``
    on a fit marks a step that needed no interior-point iteration). Each fit's certificate comes from the fast
    solver (relative gap at most ``tol``); a step that cannot be certified raises :class:`SolverError` unless
    ``require_certificate=False``. ``loss=`` is a deprecated alias of ``objective=``.
    """
    from .fast_path import solve_path  # the fast solver loads on first use

    objective = check_choice(loss if loss is not None else objective, "objective", ("sm", "dsm"))
    betas = np.asarray(betas, dtype=np.float64).reshape(-1)
    if betas.size == 0:
        raise ValueError("betas is empty: pass at least one weight decay value")
    if objective == "dsm" and (sigma is None or noise is None):
        raise ValueError("denoising paths need noise (one standard normal draw per data point) and sigma")
    order = np.argsort(-betas, kind="stable")
    if objective == "sm":
        programs = [score_matching_program(x, float(betas[i]), activation, skip) for i in order]
    else:
        programs = [denoising_program(x, float(betas[i]), sigma, noise, activation, skip) for i in order]
    solved = solve_path(programs, tol=tol, warm_start=warm_start)
    out: list[ConvexFit | None] = [None] * betas.size
    for i, prog, res in zip(order, programs, solved):
        cert = certificate_from_fast(prog, res)
        if require_certificate and not cert.relative_gap <= max(tol, 1e-12):
            raise SolverError(f"path step beta = {prog.beta:g} not certified (relative gap {cert.relative_gap:.2e} > "
                              f"{tol:g}); pass require_certificate=False to accept it", status="not certified",
                              gap=cert.relative_gap)
        sol = Solution(res.z, "optimal", cert, int(res.iterations), "fast-path")
        out[i] = fit_from_solution(prog, sol, require_certificate=False)
    return out  # type: ignore[return-value]
