"""The interior-point loop (Mehrotra predictor-corrector on the box-constrained dual) and the registry entry point."""
from __future__ import annotations

import numpy as np

from ..programs import ConvexProgram, SolverError, objective
from .finish import (
    active_set_of_iterate,
    active_set_rounds,
    certify_iterate,
    max_violation,
    minimum_norm_ends,
    support_arrays,
)
from .newton import kernels
from .structure import (
    CERTIFY_EVERY,
    CORRECTORS,
    CROSSOVER,
    DUST,
    FINISH_ROUNDS,
    FINISH_ROUNDS_CERTIFIED,
    FINISH_SHORT_ABOVE,
    INITIAL_MULTIPLIER,
    SIGMA_MIN,
    TOL,
    FastResult,
    Problem,
)


def solve_fast(
    prog: ConvexProgram, tol: float = TOL, max_iter: int = 200, S0: np.ndarray | None = None, verbose: bool = False
) -> FastResult:
    """Solve ``prog`` (any of the eight programs) to certified relative duality gap ``tol``.

    ``S0`` (K-1,): optional warm start for the dual state (e.g. from a neighbouring ``beta``); ``verbose`` prints
    one line per iteration. Raises :class:`SolverError` if the gap is not certified within ``max_iter`` iterations.
    """
    P = Problem(prog)
    # Near the optimum some slacks underflow relative to their multipliers; a non-finite or vanishing step is
    # detected below and ends the run (with an error unless the gap is already certified).
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _ipm(P, prog, tol, max_iter, S0, verbose)


def _ipm(P: Problem, prog: ConvexProgram, tol: float, max_iter: int, S0, verbose: bool) -> FastResult:
    K, nf = P.K, len(P.fams)
    S = P.initial_S() if S0 is None else np.asarray(S0, dtype=np.float64).copy()
    if S.shape != (K - 1,):
        raise ValueError(f"S0 must have shape ({K - 1},); got {S.shape}")
    g = np.array(P.g_all(P.U_of_S(S)))
    # slacks and multipliers (nf, K); a warm start may be infeasible (residuals r = g - lo - s_lo and hi - g - s_hi)
    scale = INITIAL_MULTIPLIER * max(1.0, prog.beta)
    floor = 1e-3 * (P.hi - P.lo)
    a = np.maximum(g - P.lo, floor)
    b = np.maximum(P.hi - g, floor)
    sl, sh = np.where(P.mask, a, 1.0), np.where(P.mask, b, 1.0)
    zl, zh = np.where(P.mask, scale / a, 0.0), np.where(P.mask, scale / b, 0.0)
    del g, a, b, floor
    kern = kernels()
    N = 3 * K - 4
    U, gS, rho, bU, dU = np.empty(K), np.empty(K - 1), np.empty(K), np.empty(K), np.empty(K)
    dS = np.empty(K - 1)
    rl, rh, W, tl, th, dsl, dsh, dzl, dzh = (np.empty((nf, K)) for _ in range(9))
    lu, piv, dinv = np.empty((N, kern.WIDTH)), np.empty(N, dtype=np.int64), np.empty(N)
    cvec, y2, r = np.empty(N), np.empty(N), np.empty(N)
    m_tot = max(P.m, 1)
    rel, best, next_cert = float("nan"), None, np.inf
    u1fix = 0.0 if P.u1fix is None else P.u1fix
    for it in range(1, max_iter + 1):
        mu, e, viol, dual = kern.measures(S, P.h, P.c, P.ybar, P.alpha, P.gamma, P.lo, P.hi, P.mask, P.skip, u1fix,
                                          sl, sh, zl, zh, U, rl, rh, gS)
        # certificate check (O(n), numpy) once the barrier is small
        if it == 1:
            next_cert = 1e-3 * mu  # the first iterates' dual values can be far off: no certificate there
        if mu * 2 * m_tot <= CROSSOVER * max(1.0, abs(dual + P.within)) and mu <= next_cert:
            next_cert = mu / CERTIFY_EVERY
            ok = abs(e) <= P.eq_tol and viol <= P.feas_tol
            cert = certify_iterate(P, S.copy(), zl, zh, sl, sh, ok)  # S changes in place below
            rel = cert[4]
            if best is None or rel < best[4]:
                best = cert
            if rel <= tol:
                break
        status, alpha, sigma = kern.step(S, sl, sh, zl, zh, rl, rh, gS, mu, e, P.h, P.c, P.alpha, P.gamma, P.mask,
                                         P.skip, SIGMA_MIN, CORRECTORS, lu, piv, dinv, cvec, y2, rho, W, tl, th, bU, dU, r, dS,
                                         dsl, dsh, dzl, dzh)
        if verbose:
            cen = min(float(np.min((sl * zl)[P.mask], initial=np.inf)), float(np.min((sh * zh)[P.mask], initial=np.inf)))
            print(f"it {it:3d}  mu {mu:.3e}  sigma {sigma:.2e}  alpha {alpha:.3e}  rel {rel:.2e}  viol {viol:.2e}  "
                  f"e {e:.2e}  min(s z) / mu {cen / mu if mu > 0 else np.nan:.1e}  max|r| {float(np.max(np.abs(rl))):.1e}")
        if status == 1:
            raise SolverError("fast solver: singular Newton system (a zero pivot in the banded LU)")
        if status != 0:  # a vanishing or non-finite step: the next one would be the same, stop here
            break
    if best is None or best[4] > 1e-12:
        # exact finish: active-set rounds from the last iterate's support guess give a sparse, exactly optimal z
        # (and rescue runs whose interior-point iterates stalled near the optimum, e.g. just above the threshold)
        guess = support_arrays(P, *active_set_of_iterate(P, sl, sh, zl, zh))
        short = best is not None and best[4] <= tol and K > FINISH_SHORT_ABOVE
        fin = active_set_rounds(P, *guess, rounds=FINISH_ROUNDS_CERTIFIED if short else FINISH_ROUNDS)
        if fin is not None:
            zf, Sf = fin
            vf, lf = objective(prog, zf), P.dual_value(Sf)
            if best is None or vf - lf <= best[3]:
                best = (zf, vf, lf, vf - lf, (vf - lf) / max(1.0, abs(vf)), Sf)
    if best is not None and best[4] <= tol:
        # Where the optimum is not unique (e.g. the two-neuron family of Chapter 6) the exact finish can fail (the
        # restricted least-squares problem of a vertex guess is singular) and an interior point spreads small
        # weights over a face of the optimal set. Dropping them is kept when the same dual point still certifies
        # the gap, so the returned support does not hinge on rounding.
        zb = best[0]
        big = np.where(np.abs(zb) > DUST * np.max(np.abs(zb), initial=0.0), zb, 0.0)
        if np.count_nonzero(big) < np.count_nonzero(zb):
            vb = objective(prog, big)
            if (vb - best[2]) / max(1.0, abs(vb)) <= tol:
                best = (big, vb, best[2], vb - best[2], (vb - best[2]) / max(1.0, abs(vb)), best[5])
    if best is None or best[4] > tol:
        rel = float("nan") if best is None else best[4]
        raise SolverError(
            f"fast solver: relative duality gap {rel:.3g} not certified below {tol:g} after {it} iterations; "
            "use solver='cvxpy' (the problem may be badly scaled: rescale the data)"
        )
    z, value, lower, gap, rel, S = best
    z, value = minimum_norm_ends(P, z, value)
    gap = value - lower
    rel = gap / max(1.0, abs(value))
    if -1e-12 * max(1.0, abs(value)) <= gap < 0.0:  # exact crossover: a zero gap up to rounding
        gap, rel = 0.0, 0.0
    lam = P.dual_point(S)
    viol = max_violation(prog, lam)
    return FastResult(z, value, lam, lower, gap, rel, viol, it, S)
