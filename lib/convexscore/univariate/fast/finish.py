"""The exact finish: the primal read-off, the crossover on a guessed support, active-set rounds, the certificate."""
from __future__ import annotations

import numpy as np
from scipy.linalg import solveh_banded

from ..dictionaries import apply_transpose
from ..programs import ConvexProgram, objective
from .structure import ACTIVE, CROSSOVER_ROUNDS, Problem


def _z_from_multipliers(P: Problem, zl: list[np.ndarray], zh: list[np.ndarray]) -> np.ndarray:
    K = P.K
    nblocks = P.prog.layout.size // K
    z = np.zeros((nblocks, K))
    for f, a, b, m in zip(P.fams, zl, zh, P.masks):
        z[f.lower_block] += np.where(m, a, 0.0)
        z[f.upper_block] -= np.where(m, b, 0.0)
    return z.reshape(-1)


def _polish(P: Problem, S: np.ndarray, sl, sh, zl, zh) -> np.ndarray:
    """Primal ``z`` read off the dual iterate, O(n).

    The multipliers of an interior-point iterate carry the (slowly vanishing) dual residual, which the l1 term
    feels fully. Instead: take the active set (constraints with multiplier larger than slack) as the kink
    positions, fit the dual's scores ``psi`` at the knots (weights ``c``) by a piecewise-linear function with kinks
    only there (parameters: its values at the kinks and the two end slopes; the normal equations are tridiagonal),
    and put each kink into the block of its active constraint. Near the optimum this is exact up to second order.
    """
    K = P.K
    active = np.zeros(K, dtype=bool)
    owner = np.full(K, -1)
    side = np.zeros(K)
    best_mult = np.zeros(K)
    for i, (f, a, b, za, zb, m) in enumerate(zip(P.fams, sl, sh, zl, zh, P.masks)):
        width = f.hi - f.lo
        lo_act = m & (a < ACTIVE * width)
        hi_act = m & (b < ACTIVE * width) & ~lo_act
        # closeness to the bound (relative slack): the tighter box owns the kink
        mult = np.where(lo_act, 1.0 - a / width, 0.0) + np.where(hi_act, 1.0 - b / width, 0.0)
        take = (lo_act | hi_act) & (mult > best_mult)
        owner[take] = i
        side[take] = np.where(lo_act, 1.0, -1.0)[take]
        best_mult[take] = mult[take]
        active |= take
    nblocks = P.prog.layout.size // K
    z = np.zeros((nblocks, K))
    knots = np.flatnonzero(active)
    if knots.size == 0:
        return z.reshape(-1)
    Lam = P.Lam_of_S(S)
    psi = Lam / P.c + P.ybar
    t, c = P.t, P.c
    sk = t[knots]
    m = knots.size
    # parameter vector (sigma_L, a_1..a_m, sigma_R): f(t) is a combination of at most two of them
    j = np.searchsorted(sk, t, side="right") - 1  # interval index: -1 left of s_1, m-1 right of s_m
    i0 = np.empty(K, dtype=np.int64)
    i1 = np.empty(K, dtype=np.int64)
    w0 = np.empty(K)
    w1 = np.empty(K)
    left = j < 0
    right = j >= m - 1
    mid = ~left & ~right
    i0[left], i1[left] = 1, 0  # a_1 + sigma_L (t - s_1)
    w0[left], w1[left] = 1.0, t[left] - sk[0]
    i0[right], i1[right] = m, m + 1  # a_m + sigma_R (t - s_m)
    w0[right], w1[right] = 1.0, t[right] - sk[-1]
    jm = j[mid]
    theta = (t[mid] - sk[jm]) / (sk[jm + 1] - sk[jm])
    i0[mid], i1[mid] = jm + 1, jm + 2
    w0[mid], w1[mid] = 1.0 - theta, theta
    npar = m + 2
    # tridiagonal normal equations (i1 - i0 = +-1)
    diag = np.bincount(i0, c * w0 * w0, npar) + np.bincount(i1, c * w1 * w1, npar)
    off = np.bincount(np.minimum(i0, i1), c * w0 * w1, npar)[:-1]
    rhs = np.bincount(i0, c * w0 * psi, npar) + np.bincount(i1, c * w1 * psi, npar)
    diag = np.where(diag > 0, diag, 1.0)  # an unobserved end slope (no data beyond a kink) is irrelevant: set 0
    ab = np.zeros((2, npar))
    ab[0] = diag
    ab[1, :-1] = off
    try:
        par = solveh_banded(ab, rhs, lower=True)
        if not P.skip:
            # the end slopes are sums of the ramp weights: one linear constraint e^T par = 0
            # (ReLU: right-end slope = sum of right-ramp kinks; abs: left-end slope = -right-end slope)
            e = np.zeros(npar)
            if P.fams[0].alpha == 2.0:
                e[0], e[-1] = 1.0, 1.0
            else:
                gaps = np.diff(sk)
                slope_fun = np.zeros((m + 1, npar))  # slope_i as a functional of par, i = 0..m
                slope_fun[0, 0] = 1.0
                slope_fun[m, m + 1] = 1.0
                q = np.arange(m - 1)
                slope_fun[q + 1, q + 2] = 1.0 / gaps
                slope_fun[q + 1, q + 1] = -1.0 / gaps
                right_kinks = np.flatnonzero(owner[knots] == 0)
                e[m + 1] = 1.0
                e -= (slope_fun[right_kinks + 1] - slope_fun[right_kinks]).sum(axis=0)
            y = solveh_banded(ab, e, lower=True)
            par = par - y * (e @ par) / (e @ y)
    except np.linalg.LinAlgError:
        return _z_from_multipliers(P, zl, zh)
    a = par[1:-1]
    slopes = np.concatenate([[par[0]], np.diff(a) / np.diff(sk), [par[-1]]])
    kinks = np.diff(slopes)
    for i, f in enumerate(P.fams):
        sel = owner[knots] == i
        if not np.any(sel):
            continue
        kk, kv, sd = knots[sel], kinks[sel], side[knots][sel]
        val = kv / f.alpha  # |x - t| changes slope by 2
        lower = sd > 0
        z[f.lower_block, kk[lower]] += val[lower]
        z[f.upper_block, kk[~lower]] += val[~lower]
    return z.reshape(-1)


# ----------------------------------------------------------------------------- exact crossover
def active_set_of_iterate(P: Problem, sl, sh, zl, zh):
    """Guess the optimal support from an interior iterate: a box side is active where its multiplier exceeds its
    slack (the usual interior-point indicator). Returns ``knots`` (sorted), ``owner`` (family index) and ``side``
    (+1: lower bound, the multiplier goes to ``lower_block`` with a positive sign; -1: upper bound, negative) and
    ``act`` (families, m): which families are active at each of these knots."""
    K = P.K
    owner = np.full(K, -1)
    side = np.zeros(K)
    best = np.zeros(K)
    for i, (a, b, za, zb, m) in enumerate(zip(sl, sh, zl, zh, P.masks)):
        ra = np.where(m, za / a, 0.0)
        rb = np.where(m, zb / b, 0.0)
        ratio = np.maximum(ra, rb)
        take = (ratio > 1.0) & (ratio > best)
        owner[take] = i
        side[take] = np.where(ra >= rb, 1.0, -1.0)[take]
        best[take] = ratio[take]
    knots = np.flatnonzero(owner >= 0)
    act = np.array([(np.where(m, np.maximum(za / a, zb / b), 0.0) > 1.0)[knots] for a, b, za, zb, m in zip(sl, sh, zl, zh, P.masks)])
    return knots, owner[knots], side[knots], act


def _slope_gradient(wslope: np.ndarray, gaps: np.ndarray, npar: int) -> np.ndarray:
    """Gradient in the hat parameters ``(sigma_L, a_1..a_m, sigma_R)`` of ``sum_i wslope_i slope_i`` (i = 0..m),
    where ``slope_0 = sigma_L``, ``slope_i = (a_{i+1} - a_i) / gaps_i`` and ``slope_m = sigma_R``."""
    m = npar - 2
    g = np.zeros(npar)
    g[0] += wslope[0]
    g[-1] += wslope[m]
    if m > 1:
        inner = wslope[1:m] / gaps
        g[2 : m + 1] += inner
        g[1:m] -= inner
    return g


def _crossover(P: Problem, knots: np.ndarray, owner: np.ndarray, side: np.ndarray, act: np.ndarray | None = None):
    """The exact minimiser of the program restricted to the guessed support (kink positions ``knots``, families
    ``owner``, signs ``side``), in O(n).

    With the support and the signs fixed, ``beta ||z||_1`` is linear and the program is a least-squares problem
    over piecewise-linear functions with kinks at ``knots``. In the hat parametrisation (the values ``a_i`` at the
    kinks and the two end slopes) every data point touches two parameters, so the normal equations are tridiagonal
    (solved by LAPACK ``ptsv`` through :func:`scipy.linalg.solveh_banded`). The linear terms (the counts ``d``,
    ``beta`` times the signs, ``n v`` for score matching with skip) are slope changes, i.e. banded functionals of the
    parameters. Without skip one linear equality ties the end slopes to the ramps (a Schur complement). An end slope
    that no data point sees is substituted (by the adjacent slope, or through that equality).

    ReLU without skip: a kink at ``t_k`` can be a right ramp, a left ramp or both, and a left ramp is a right ramp
    minus a line, so the left slope is ``sigma_L = -sum_k b_k`` (``b_k`` the left-ramp part of the change at
    ``t_k``). For score matching the left ramp's linear coefficient is the right ramp's minus ``n`` at every knot
    (``n_le + n_gt = n_lt + n_ge = n``), so the objective is that of the skip program with ``v = sigma_L``; for
    denoising the two coincide. We therefore solve the skip version and then split each change between the two
    families (``b_k`` of the sign of the change, only where the left family is active) to meet
    ``sum_k b_k = -sigma_L``.

    Returns ``(z, kinks)`` (``z`` (p,), ``kinks`` (m,) the slope changes over ``alpha``) or None when the
    restricted problem is singular or the split is impossible. If the guess is right, ``z`` is optimal to
    rounding; :func:`certify_iterate` checks it with a dual point built from its scores.
    """
    K, t, c = P.K, P.t, P.c
    m = knots.size
    if m == 0:
        return None
    prog, fams = P.prog, P.fams
    alpha = fams[0].alpha
    split = len(fams) == 2  # ReLU without skip: solve as with skip, split the changes afterwards
    skip_like = P.skip or split
    if split:
        owner = np.zeros_like(owner)
        if act is None:
            return None
    sk = t[knots]
    npar = m + 2
    j = np.searchsorted(sk, t, side="right") - 1
    left, right = j < 0, j >= m - 1
    mid = ~left & ~right
    i0 = np.empty(K, dtype=np.int64)
    i1 = np.empty(K, dtype=np.int64)
    w0 = np.empty(K)
    w1 = np.empty(K)
    i0[left], i1[left], w0[left], w1[left] = 1, 0, 1.0, t[left] - sk[0]
    i0[right], i1[right], w0[right], w1[right] = m, m + 1, 1.0, t[right] - sk[-1]
    jm = j[mid]
    theta = (t[mid] - sk[jm]) / (sk[jm + 1] - sk[jm])
    i0[mid], i1[mid], w0[mid], w1[mid] = jm + 1, jm + 2, 1.0 - theta, theta
    diag = np.bincount(i0, c * w0 * w0, npar) + np.bincount(i1, c * w1 * w1, npar)
    off = np.bincount(np.minimum(i0, i1), c * w0 * w1, npar)[:-1]
    r = np.bincount(i0, c * w0 * P.ybar, npar) + np.bincount(i1, c * w1 * P.ybar, npar)
    gaps = np.diff(sk)
    # linear term: sum_j q_j z_j with z_j = (slope_j - slope_{j-1}) / alpha, plus n v (SM with skip)
    blocks = np.where(side > 0, [fams[o].lower_block for o in owner], [fams[o].upper_block for o in owner])
    q = prog.beta * side
    if prog.loss == "sm":
        q = q + prog.d[blocks * K + knots]
    kc = np.zeros(m + 2)
    kc[1 : m + 1] = q / alpha
    wslope = kc[: m + 1] - kc[1:]  # coefficient of slope_i (i = 0..m): kc_i - kc_{i+1}
    if prog.loss == "sm" and skip_like:
        if alpha == 1.0:
            wslope[0] += P.n  # ReLU: v is the slope left of every kink
        else:
            wslope[0] += 0.5 * P.n  # abs: v = (sigma_L + sigma_R) / 2
            wslope[m] += 0.5 * P.n
    g = _slope_gradient(wslope, gaps, npar)
    e = None
    if not skip_like:  # abs without skip: sigma_L = -sum z = -sigma_R
        e = np.zeros(npar)
        e[0] = e[-1] = 1.0
    # end slopes that no data point sees: eliminate through the equality, else substitute the adjacent slope
    subs = []
    elim = None
    for p in (0, npar - 1):
        if diag[p] > 0:
            continue
        if e is not None and elim is None and e[p] != 0.0:
            elim = p
            continue
        w = np.zeros(npar)
        if m == 1:
            w[npar - 1 - p] = 1.0
        elif p == 0:
            w[1], w[2] = -1.0 / gaps[0], 1.0 / gaps[0]
        else:
            w[m - 1], w[m] = -1.0 / gaps[-1], 1.0 / gaps[-1]
        g = g + g[p] * w
        g[p] = 0.0
        if e is not None:
            e = e + e[p] * w
            e[p] = 0.0
        subs.append((p, w))
    if elim is not None:
        ep = e[elim]
        erest = e.copy()
        erest[elim] = 0.0
        g = g - g[elim] * erest / ep
        g[elim] = 0.0
    drop = [p for p, _ in subs] + ([elim] if elim is not None else [])
    keep = np.ones(npar, dtype=bool)
    keep[drop] = False
    if np.any(diag[keep] <= 0):
        return None
    idx = np.flatnonzero(keep)
    ab = np.zeros((2, idx.size))
    ab[0] = diag[idx]
    offk = off[idx[:-1]] * (np.diff(idx) == 1)
    ab[1, :-1] = offk
    rhs = (r - g)[idx]
    par = np.zeros(npar)
    try:
        x = solveh_banded(ab, rhs, lower=True, check_finite=False)
        if e is not None and elim is None:
            ek = e[idx]
            y = solveh_banded(ab, ek, lower=True, check_finite=False)
            den = float(ek @ y)
            if den == 0.0:
                return None
            x = x - y * (float(ek @ x) / den)
    except np.linalg.LinAlgError:
        return None
    par[idx] = x
    for p, w in subs:
        par[p] = float(w @ par)
    if elim is not None:
        par[elim] = -float(erest @ par) / ep
    if not np.all(np.isfinite(par)):
        return None
    a = par[1:-1]
    slopes = np.concatenate([[par[0]], np.diff(a) / gaps, [par[-1]]])
    kinks = np.diff(slopes) / alpha
    nblocks = prog.layout.size // K
    z = np.zeros((nblocks, K))
    if split:
        # b_k in [lo_k, hi_k]: 0 where only the right family is active, the whole change where only the left one is
        right, left = act[0], act[1]
        lo = np.where(left & ~right, kinks, np.where(left, np.minimum(kinks, 0.0), 0.0))
        hi = np.where(left & ~right, kinks, np.where(left, np.maximum(kinks, 0.0), 0.0))
        target = -par[0]
        slo, shi = float(lo.sum()), float(hi.sum())
        tol = 1e-9 * max(1.0, float(np.abs(kinks).sum()))
        if not (slo - tol <= target <= shi + tol):
            return None
        theta = 0.0 if shi == slo else min(1.0, max(0.0, (target - slo) / (shi - slo)))
        b = lo + theta * (hi - lo)
        lblocks = np.where(side > 0, fams[1].lower_block, fams[1].upper_block)
        np.add.at(z, (blocks, knots), kinks - b)
        np.add.at(z, (lblocks, knots), b)
        return z.reshape(-1), kinks
    np.add.at(z, (blocks, knots), kinks)
    return z.reshape(-1), kinks


def _refined_crossover(P: Problem, knots, owner, side, act, rounds: int = CROSSOVER_ROUNDS):
    """Crossover with a few active-set corrections, each O(n).

    An interior iterate flags some constraints as active whose multipliers are in fact zero; fixing their signs
    then forces kinks of the wrong sign. Each round drops the kinks whose sign contradicts their side and solves
    again (adding the knots where the dual point is violated instead makes the support oscillate: measured).
    Returns a ``z`` whose kinks all have their side's sign, or None.
    """
    act = act if act is not None else np.ones((len(P.fams), knots.size), dtype=bool)
    for _ in range(rounds):
        out = _crossover(P, knots, owner, side, act)
        if out is None:
            return None
        z, kinks = out
        wrong = kinks * side < -1e-12 * max(1.0, float(np.max(np.abs(kinks), initial=0.0)))
        if not np.any(wrong):
            return z
        keep = ~wrong
        knots, owner, side, act = knots[keep], owner[keep], side[keep], act[:, keep]
        if knots.size == 0:
            return None
    return None


def active_set_rounds(P: Problem, own: np.ndarray, sd: np.ndarray, ac: np.ndarray, rounds: int):
    """Primal-dual active-set rounds from a support guess given per knot (``own`` (K,) family or -1, ``sd`` (K,)
    side, ``ac`` (families, K) activity). Each round solves the crossover, then drops the kinks whose sign
    contradicts their side and adds the knots whose boxes the implied dual point violates. Returns
    ``(z, S)`` with sign-consistent kinks and a feasible implied dual point ``S``, or None. (From an interior
    iterate's guess this can oscillate; from a near-exact support, e.g. a neighbouring ``beta``, it converges in a
    few rounds.)"""
    own, sd, ac = own.copy(), sd.copy(), ac.copy()

    knots = np.flatnonzero(own >= 0)
    for _ in range(rounds):
        if knots.size == 0:  # the empty support: z = 0 (optimal for large beta, e.g. the Gaussian fit with skip)
            z, wrong = np.zeros(P.prog.layout.size), np.zeros(0, dtype=bool)
        else:
            out = _crossover(P, knots, own[knots], sd[knots], ac[:, knots])
            if out is None:
                return None
            z, kinks = out
            wrong = kinks * sd[knots] < -1e-12 * max(1.0, float(np.max(np.abs(kinks), initial=0.0)))
        S, viol, e = _dual_from_scores(P, z)
        if not np.any(wrong) and viol <= P.feas_tol and abs(e) <= P.eq_tol:
            return z, S
        bad = knots[wrong]
        own[bad], sd[bad], ac[:, bad] = -1, 0.0, False
        g = P.g_all(P.U_of_S(S))
        for i, (f, gi, m) in enumerate(zip(P.fams, g, P.masks)):
            for amount, sgn in ((np.where(m, f.lo - gi, 0.0), 1.0), (np.where(m, gi - f.hi, 0.0), -1.0)):
                mask = _run_maxima(amount, P.feas_tol)
                new = mask & (own < 0)
                own[new], sd[new] = i, sgn
                ac[i, mask & (sd == sgn)] = True
        knots = np.flatnonzero(own >= 0)
    return None


def _run_maxima(amount: np.ndarray, tol: float) -> np.ndarray:
    """Mask of the largest entry of each run of consecutive entries with ``amount > tol``: one new kink per
    violated stretch of the dual (adding every violated knot makes the support oscillate: measured)."""
    bad = amount > tol
    out = np.zeros(amount.size, dtype=bool)
    if not np.any(bad):
        return out
    idx = np.flatnonzero(bad)
    run = np.concatenate([[0], np.cumsum(np.diff(idx) > 1)])
    order = np.lexsort((-amount[idx], run))
    first = np.concatenate([[True], run[order][1:] != run[order][:-1]])
    out[idx[order[first]]] = True
    return out


def support_arrays(P: Problem, knots, owner, side, act):
    """Per-knot arrays ``(own, sd, ac)`` from the compact support description of :func:`active_set_of_iterate`."""
    own = np.full(P.K, -1)
    sd = np.zeros(P.K)
    ac = np.zeros((len(P.fams), P.K), dtype=bool)
    own[knots], sd[knots], ac[:, knots] = owner, side, act
    return own, sd, ac


def support_of(P: Problem, z: np.ndarray):
    """Per-knot support arrays ``(own, sd, ac)`` of a primal ``z`` (the layout of :func:`support_arrays`)."""
    K = P.K
    zb = z.reshape(-1, K)
    own = np.full(K, -1)
    sd = np.zeros(K)
    ac = np.zeros((len(P.fams), K), dtype=bool)
    for i, (f, m) in enumerate(zip(P.fams, P.masks)):
        for mask, sgn in ((m & (zb[f.lower_block] > 0), 1.0), (m & (zb[f.upper_block] < 0), -1.0)):
            new = mask & (own < 0)
            own[new], sd[new] = i, sgn
            ac[i, mask & (sd == sgn)] = True
    return own, sd, ac


def _dual_from_scores(P: Problem, z: np.ndarray):
    """The dual point that the primal ``z`` implies (SM: its scores; DSM: its residuals), as the internal state
    ``S`` (K-1,), with its feasibility: ``(S, violation, skip equality residual)``.

    Rounding in ``U = cumsum(h S)`` can leave the boxes violated by ~1e-13 of ``|U|``; the point is then moved
    towards the strictly feasible starting point (:meth:`Problem.initial_S`) by the smallest step that restores
    feasibility (the constraints are affine in ``S``, so the step is exact)."""
    S, viol, e = _raw_dual_from_scores(P, z)
    if viol <= P.feas_tol:
        return S, viol, e
    if not hasattr(P, "_anchor"):
        P._anchor = P.initial_S()
    A = P._anchor
    gS, gA = P.g_all(P.U_of_S(S)), P.g_all(P.U_of_S(A))
    theta = 0.0
    for f, x, y, m in zip(P.fams, gS, gA, P.masks):
        for vx, vy in ((x[m] - f.hi[m], y[m] - f.hi[m]), (f.lo[m] - x[m], f.lo[m] - y[m])):
            bad = vx > 0
            if np.any(bad):
                theta = max(theta, float(np.max(vx[bad] / (vx[bad] - vy[bad]))))
    if theta > 1e-6:  # not a rounding issue: the guess is wrong
        return S, viol, e
    S = (1.0 - theta) * S + theta * A
    return S, P.violation(P.g_all(P.U_of_S(S))), e


def _raw_dual_from_scores(P: Problem, z: np.ndarray):
    from ..programs import scores_at_data

    f = scores_at_data(P.prog, z)
    kn = P.prog.knots
    Lam = np.bincount(kn.index, weights=f, minlength=P.K)
    if P.prog.loss == "dsm":
        Lam = Lam - P.c * P.ybar
    S = np.cumsum(Lam[::-1])[::-1][1:]
    U = P.U_of_S(S)
    e = (float(np.sum(P.h * S)) - P.u1fix) if P.skip else 0.0
    return S, P.violation(P.g_all(U)), e


def certify_iterate(P: Problem, S, zl, zh, sl, sh, ipm_feasible: bool):
    """Best primal and best dual point available at this iterate, and their certified gap.

    Primal candidates: the exact crossover on the guessed support first; if its implied dual point is infeasible
    (the guess is still wrong), also the least-squares polish and the raw multipliers. Dual candidates: the dual
    point implied by the best primal's scores (if feasible) and the interior iterate ``S`` (if feasible).
    Returns ``(z, value, lower, gap, rel, S_dual)``; ``rel`` is infinite when no dual point is feasible.
    """

    cands = []
    zc = _refined_crossover(P, *active_set_of_iterate(P, sl, sh, zl, zh))
    if zc is not None:
        vc = objective(P.prog, zc)
        Sd, viol, e = _dual_from_scores(P, zc)
        if np.isfinite(vc) and viol <= P.feas_tol and abs(e) <= P.eq_tol:
            lower = P.dual_value(Sd)
            if ipm_feasible:
                lower = max(lower, P.dual_value(S))
            gap = vc - lower
            return zc, vc, lower, gap, gap / max(1.0, abs(vc)), Sd
        if np.isfinite(vc):
            cands.append((vc, zc))
    if not ipm_feasible:
        if not cands:
            return None, np.inf, -np.inf, np.inf, np.inf, S
        vc, zc = cands[0]
        return zc, vc, -np.inf, np.inf, np.inf, S
    for zp in (_polish(P, S, sl, sh, zl, zh), _z_from_multipliers(P, zl, zh)):
        vp = objective(P.prog, zp)
        if np.isfinite(vp):
            cands.append((vp, zp))
    value, z = min(cands, key=lambda vz: vz[0])
    lower = P.dual_value(S)
    gap = value - lower
    return z, value, lower, gap, gap / max(1.0, abs(value)), S



def minimum_norm_ends(P: Problem, z: np.ndarray, value: float) -> tuple[np.ndarray, float]:
    """Among equally good solutions, the one of least Euclidean norm (absolute value without skip).

    On the data ``|x - t_1| + |x - t_K| = t_K - t_1`` is constant, so adding the same amount to the two end kinks
    changes only the output bias: where the optimum has end kinks of opposite signs, a whole segment of optima
    ``(kappa_1 + s, kappa_K + s)`` has the same loss and the same l1 norm (the family z(alpha) of Chapter 6). The
    interior-point iterates of CVXPY/Clarabel converge to its centre, the crossover to an end of it; the centre
    ``s = -(kappa_1 + kappa_K) / 2`` has the least norm, and only it gives an integrable density in the two-neuron
    regime. It is accepted only if the objective, recomputed, is not worse (up to rounding).
    """
    if P.skip or len(P.fams) != 1 or P.fams[0].alpha != 2.0:
        return z, value
    f, K = P.fams[0], P.K
    zb = z.reshape(-1, K)
    k1, kK = float(zb[:, 0].sum()), float(zb[:, -1].sum())
    tiny = 1e-12 * max(1.0, float(np.max(np.abs(z))))
    k1, kK = (0.0 if abs(k1) <= tiny else k1), (0.0 if abs(kK) <= tiny else kK)
    if k1 * kK > 0.0 or k1 == kK:
        return z, value
    s = -0.5 * (k1 + kK)
    cand = zb.copy()
    cand[:, [0, -1]] = 0.0
    for k, v in ((0, k1 + s), (K - 1, kK + s)):
        cand[f.lower_block if v > 0 else f.upper_block, k] = v
    cand = cand.reshape(-1)
    v = objective(P.prog, cand)
    if v <= value + 1e-12 * max(1.0, abs(value)):
        return cand, min(v, value)
    return z, value


def max_violation(prog: ConvexProgram, lam: np.ndarray) -> float:
    """``max_k |(A^T lam + d)_k| - beta`` in O(n)."""
    vals = apply_transpose(lam, prog.knots, prog.layout)
    if prog.d is not None:
        vals = vals + prog.d
    return float(np.max(np.abs(vals))) - prog.beta


