"""The interior-point loop (Mehrotra predictor-corrector on the box-constrained dual) and the registry entry point."""
from __future__ import annotations

import numpy as np

from ..programs import ConvexProgram, SolverError, SolverOutput, objective
from .finish import (
    _active_set,
    _certify,
    _support_arrays,
    active_set_rounds,
    max_violation,
    minimum_norm_ends,
)
from .newton import _Newton
from .structure import (
    CROSSOVER,
    FINISH_ROUNDS,
    INITIAL_MULTIPLIER,
    SIGMA_MIN,
    TOL,
    FastResult,
    Problem,
)


def _max_step(v: np.ndarray, dv: np.ndarray) -> float:
    neg = dv < 0
    if not np.any(neg):
        return 1.0
    return float(min(1.0, np.min(-v[neg] / dv[neg])))




def solve_fast(prog: ConvexProgram, tol: float = TOL, max_iter: int = 200, S0: np.ndarray | None = None, verbose: bool = False) -> FastResult:
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
    K = P.K
    S = P.initial_S() if S0 is None else np.asarray(S0, dtype=np.float64).copy()
    if S.shape != (K - 1,):
        raise ValueError(f"S0 must have shape ({K - 1},); got {S.shape}")
    U = P.U_of_S(S)
    g = P.g_all(U)
    # slacks and multipliers; a warm start may be infeasible (residuals r = g - lo - s_lo and hi - g - s_hi)
    scale = INITIAL_MULTIPLIER * max(1.0, prog.beta)
    sl, sh, zl, zh = [], [], [], []
    for f, gi, m in zip(P.fams, g, P.masks):
        floor = 1e-3 * (f.hi - f.lo)
        a = np.maximum(gi - f.lo, floor)
        b = np.maximum(f.hi - gi, floor)
        sl.append(np.where(m, a, 1.0))
        sh.append(np.where(m, b, 1.0))
        zl.append(np.where(m, scale / a, 0.0))
        zh.append(np.where(m, scale / b, 0.0))
    m_tot = max(P.m, 1)
    rel, stalls, best = float("nan"), 0, None
    for it in range(1, max_iter + 1):
        Lam = P.Lam_of_S(S)
        psi = Lam / P.c + P.ybar
        gS = psi[1:] - psi[:-1]
        rl = [np.where(m, gi - f.lo - a, 0.0) for f, gi, a, m in zip(P.fams, g, sl, P.masks)]
        rh = [np.where(m, f.hi - gi - b, 0.0) for f, gi, b, m in zip(P.fams, g, sh, P.masks)]
        mu = sum(float(np.sum(np.where(m, a * za + b * zb, 0.0))) for a, za, b, zb, m in zip(sl, zl, sh, zh, P.masks)) / (2 * m_tot)
        e = (float(np.sum(P.h * S)) - P.u1fix) if P.skip else 0.0
        # certificate check (cheap, O(n)) once the barrier is small
        if mu * 2 * m_tot <= CROSSOVER * max(1.0, abs(P.dual_value(S))):
            ok = abs(e) <= P.eq_tol and P.violation(g) <= P.feas_tol
            cert = _certify(P, S, zl, zh, sl, sh, ok)
            rel = cert[4]
            if best is None or rel < best[4]:
                best = cert
            if rel <= tol:
                break
        W = [np.where(m, za / a + zb / b, 0.0) for a, za, b, zb, m in zip(sl, zl, sh, zh, P.masks)]
        NS = _Newton(P, W)

        def direction(tau_l, tau_h):
            vs = [
                np.where(m, (th - b * zb - zb * rhh) / b - (tl - a * za - za * rll) / a, 0.0)
                for a, za, b, zb, rll, rhh, tl, th, m in zip(sl, zl, sh, zh, rl, rh, tau_l, tau_h, P.masks)
            ]
            phi = [zb - za + v for za, zb, v in zip(zl, zh, vs)]
            bU = np.zeros(K)
            b1 = 0.0
            for f, ph, m in zip(P.fams, phi, P.masks):
                ph = np.where(m, ph, 0.0)
                bU += f.alpha * ph
                if not P.skip:
                    b1 += float((f.alpha - f.gamma) * ph[0] - f.gamma * np.sum(ph[1:]))
            dS = NS.solve(gS, bU, b1, -e)
            dU = P.U_of_S(dS)
            dg = [f.alpha * dU - f.gamma * (0.0 if P.skip else dU[0]) for f in P.fams]
            if P.skip:
                for f, x in zip(P.fams, dg):
                    x[0] = 0.0
            dsl = [x + r for x, r in zip(dg, rl)]
            dsh = [-x + r for x, r in zip(dg, rh)]
            dzl = [(tl - a * za - za * d) / a for tl, a, za, d in zip(tau_l, sl, zl, dsl)]
            dzh = [(th - b * zb - zb * d) / b for th, b, zb, d in zip(tau_h, sh, zh, dsh)]
            return dS, dsl, dsh, dzl, dzh

        def step_length(dsl, dsh, dzl, dzh):
            alpha = 1.0
            for v, dv, m in zip(sl + sh + zl + zh, dsl + dsh + dzl + dzh, P.masks * 4):
                alpha = min(alpha, _max_step(v[m], dv[m]))
            return alpha

        zeros = [np.zeros(K) for _ in P.fams]
        dS, dsl, dsh, dzl, dzh = direction(zeros, zeros)
        a_aff = step_length(dsl, dsh, dzl, dzh)
        mu_aff = sum(
            float(np.sum(np.where(m, (a + a_aff * da) * (za + a_aff * dza) + (b + a_aff * db) * (zb + a_aff * dzb), 0.0)))
            for a, da, za, dza, b, db, zb, dzb, m in zip(sl, dsl, zl, dzl, sh, dsh, zh, dzh, P.masks)
        ) / (2 * m_tot)
        sigma = min(1.0, max(SIGMA_MIN, (mu_aff / mu) ** 3)) if mu > 0 else SIGMA_MIN
        tau_l = [sigma * mu - da * dza for da, dza in zip(dsl, dzl)]
        tau_h = [sigma * mu - db * dzb for db, dzb in zip(dsh, dzh)]
        dS, dsl, dsh, dzl, dzh = direction(tau_l, tau_h)
        alpha = min(1.0, 0.995 * step_length(dsl, dsh, dzl, dzh))
        if verbose:
            viol = P.violation(g)
            print(f"it {it:3d}  mu {mu:.3e}  sigma {sigma:.2e}  alpha {alpha:.3e}  rel {rel:.2e} viol {viol:.2e}  e {e:.2e}")
        if not (np.isfinite(alpha) and np.all(np.isfinite(dS))) or alpha < 1e-10:
            stalls += 1
            if stalls >= 3 or not np.all(np.isfinite(dS)):
                break
            continue
        S = S + alpha * dS
        sl = [np.where(m, a + alpha * d, 1.0) for a, d, m in zip(sl, dsl, P.masks)]
        sh = [np.where(m, a + alpha * d, 1.0) for a, d, m in zip(sh, dsh, P.masks)]
        zl = [np.where(m, a + alpha * d, 0.0) for a, d, m in zip(zl, dzl, P.masks)]
        zh = [np.where(m, a + alpha * d, 0.0) for a, d, m in zip(zh, dzh, P.masks)]
        U = P.U_of_S(S)
        g = P.g_all(U)
    if best is None or best[4] > 1e-12:
        # exact finish: active-set rounds from the last iterate's support guess give a sparse, exactly optimal z
        # (and rescue runs whose interior-point iterates stalled near the optimum, e.g. just above the threshold)
        guess = _support_arrays(P, *_active_set(P, sl, sh, zl, zh))
        fin = active_set_rounds(P, *guess, rounds=FINISH_ROUNDS)
        if fin is not None:
            zf, Sf = fin
            vf, lf = objective(prog, zf), P.dual_value(Sf)
            if best is None or vf - lf <= best[3]:
                best = (zf, vf, lf, vf - lf, (vf - lf) / max(1.0, abs(vf)), Sf)
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



def solve(prog: ConvexProgram) -> SolverOutput:
    """The solver-registry entry point (``solver="fast"``).

    With fewer than 3 distinct inputs, or if the interior-point method cannot certify the gap within its iteration
    budget, the sparse CVXPY program is solved instead and the status says so.
    """
    from ..programs import solve_sparse

    if prog.knots.K < 3:
        out = solve_sparse(prog)
        return SolverOutput(out.z, f"{out.status} (fewer than 3 distinct inputs; cvxpy fallback)", out.solver_value)
    try:
        res = solve_fast(prog)
    except SolverError:
        out = solve_sparse(prog)
        return SolverOutput(out.z, f"{out.status} (fast solver not certified; cvxpy fallback)", out.solver_value)
    return SolverOutput(res.z, "optimal", res.value, dual=res.dual)

