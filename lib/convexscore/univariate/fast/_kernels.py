"""Compiled kernels of the interior-point method (numba, ``cache=True``); imported on the first solve only.

Layouts (all float64 unless stated, ``nf`` families, ``K`` knots, ``N = 3K - 4`` band unknowns):

* family arrays ``lo``, ``hi``, ``sl``, ``sh``, ``zl``, ``zh``, ``rl``, ``rh`` (nf, K); ``mask`` (nf, K) bool:
  the constraints that depend on the variables (elsewhere slacks are 1, multipliers 0 and residuals 0);
* the band matrix ``lu`` (N, 10): column ``j`` of the matrix in row ``j``, ``A[i, j] = lu[j, KV + i - j]`` with
  ``KV = KL + KU = 6`` (LAPACK's ``dgbtrf`` storage, transposed so that a column is contiguous); rows
  ``j - 6 .. j + 3`` of column ``j`` are stored, the top three for the fill-in of partial pivoting;
* the interleaved unknowns ``S_0, omega_0, U_1, S_1, omega_1, U_2, ..., U_{K-2}, S_{K-2}, omega_{K-2}``.
"""
from __future__ import annotations

import numpy as np
from numba import njit

KL = KU = 3
KV = KL + KU
WIDTH = 2 * KL + KU + 1


@njit(cache=True, error_model="numpy")
def band_factor(lu: np.ndarray, piv: np.ndarray, dinv: np.ndarray) -> int:
    """LU with partial pivoting of the band matrix in ``lu`` (N, 10), in place (LAPACK ``dgbtf2``'s algorithm and
    storage); ``dinv`` (N,) receives the reciprocals of the pivots (so that the solves multiply). Returns 0, or
    ``j + 1`` when the pivot of column ``j`` is exactly zero."""
    n = lu.shape[0]
    ju = 0
    info = 0
    for j in range(n):
        km = min(KL, n - 1 - j)
        p = 0
        best = abs(lu[j, KV])
        for i in range(1, km + 1):
            v = abs(lu[j, KV + i])
            if v > best:
                best, p = v, i
        piv[j] = j + p
        if best == 0.0:
            dinv[j] = 0.0
            if info == 0:
                info = j + 1
            continue
        ju = max(ju, min(j + KU + p, n - 1))
        if p != 0:
            for c in range(j, ju + 1):
                a = lu[c, KV + j - c]
                lu[c, KV + j - c] = lu[c, KV + j + p - c]
                lu[c, KV + j + p - c] = a
        inv = 1.0 / lu[j, KV]
        dinv[j] = inv
        if km == KL:  # interior column: fixed trip counts, unrolled by the compiler
            l1 = lu[j, KV + 1] * inv
            l2 = lu[j, KV + 2] * inv
            l3 = lu[j, KV + 3] * inv
            lu[j, KV + 1] = l1
            lu[j, KV + 2] = l2
            lu[j, KV + 3] = l3
            for c in range(j + 1, ju + 1):
                o = KV + j - c
                a = lu[c, o]
                if a != 0.0:
                    lu[c, o + 1] -= l1 * a
                    lu[c, o + 2] -= l2 * a
                    lu[c, o + 3] -= l3 * a
        else:
            for i in range(1, km + 1):
                lu[j, KV + i] *= inv
            for c in range(j + 1, ju + 1):
                a = lu[c, KV + j - c]
                if a != 0.0:
                    for i in range(1, km + 1):
                        lu[c, KV + j + i - c] -= lu[j, KV + i] * a
    return info


@njit(cache=True, error_model="numpy")
def band_solve(lu: np.ndarray, piv: np.ndarray, dinv: np.ndarray, b: np.ndarray) -> None:
    """Solve ``A x = b`` in place with the factor of :func:`band_factor`."""
    n = lu.shape[0]
    for j in range(n - 1):
        p = piv[j]
        bj = b[p]
        if p != j:
            b[p] = b[j]
            b[j] = bj
        if j < n - KL:
            b[j + 1] -= lu[j, KV + 1] * bj
            b[j + 2] -= lu[j, KV + 2] * bj
            b[j + 3] -= lu[j, KV + 3] * bj
        else:
            for i in range(1, n - j):
                b[j + i] -= lu[j, KV + i] * bj
    for j in range(n - 1, -1, -1):
        bj = b[j] * dinv[j]
        b[j] = bj
        if j >= KV:
            b[j - 6] -= lu[j, 0] * bj
            b[j - 5] -= lu[j, 1] * bj
            b[j - 4] -= lu[j, 2] * bj
            b[j - 3] -= lu[j, 3] * bj
            b[j - 2] -= lu[j, 4] * bj
            b[j - 1] -= lu[j, 5] * bj
        else:
            for i in range(j):
                b[i] -= lu[j, KV + i - j] * bj


@njit(cache=True, error_model="numpy")
def _put(lu, i, j, v):
    lu[j, KV + i - j] = v
    lu[i, KV + j - i] = v


@njit(cache=True, error_model="numpy")
def assemble(lu: np.ndarray, c: np.ndarray, h: np.ndarray, Bd: np.ndarray) -> None:
    """The saddle-point matrix for the counts ``c`` (K,), gaps ``h`` (K-1,) and barrier curvature ``Bd`` (K,)
    (entries 1..K-2 used) into ``lu`` (N, 10)."""
    K = c.shape[0]
    lu[:, :] = 0.0
    for j in range(K - 1):
        s = 0 if j == 0 else 3 * j
        w = s + 1
        lu[s, KV] = 1.0 / c[j] + 1.0 / c[j + 1]
        if j < K - 2:
            _put(lu, s, 3 * (j + 1), -1.0 / c[j + 1])
        _put(lu, s, w, -h[j])
    for k in range(1, K - 1):
        u = 3 * k - 1
        lu[u, KV] = Bd[k]
        _put(lu, u, 3 * k + 1, 1.0)
        _put(lu, u, 1 if k == 1 else 3 * k - 2, -1.0)


@njit(cache=True, error_model="numpy")
def newton_factor(lu, piv, dinv, cvec, y2, rho, c, h, alpha, gamma, mask, W, skip) -> tuple:
    """Factor the Newton system for the barrier weights ``W`` (nf, K). Fills ``rho`` (K,), the border ``cvec`` (N,)
    and ``y2 = A^{-1} cvec``; returns ``(info, schur)`` (``schur`` is the scalar Schur complement of ``dU_0``,
    unused with skip). See :mod:`.newton` for the elimination."""
    nf, K = W.shape
    Bd = np.zeros(K)
    cross = np.zeros(K)
    for f in range(nf):
        for k in range(K):
            if mask[f, k]:
                Bd[k] += alpha[f] * alpha[f] * W[f, k]
                cross[k] += alpha[f] * gamma[f] * W[f, k]
    assemble(lu, c, h, Bd)
    info = band_factor(lu, piv, dinv)
    cvec[:] = 0.0
    cvec[1] = 1.0
    rho[:] = 0.0
    schur = 0.0
    if info != 0 or skip:
        return info, schur
    for k in range(1, K - 1):
        rho[k] = cross[k] / Bd[k]
    corner = 0.0
    for f in range(nf):
        for k in range(K):
            if mask[f, k]:
                if k == 0:
                    coef = alpha[f] - gamma[f]
                elif k == K - 1:
                    coef = -gamma[f]
                else:
                    coef = alpha[f] * rho[k] - gamma[f]
                corner += W[f, k] * coef * coef
    for j in range(K - 1):
        cvec[1 if j == 0 else 3 * j + 1] = rho[j] - rho[j + 1]
    cvec[1] = 1.0 - rho[1]
    y2[:] = cvec
    band_solve(lu, piv, dinv, y2)
    schur = corner - np.dot(cvec, y2)
    return info, schur


@njit(cache=True, error_model="numpy")
def newton_solve(lu, piv, dinv, cvec, y2, rho, schur, skip, gS, bU, b1, theta_fixed, r, dS, dU) -> None:
    """``dS`` (K-1,) and ``dU`` (K,) of the Newton system with S-gradient ``gS`` (K-1,), U-gradient ``bU`` (K,) and
    total ``U_0`` gradient ``b1``; with skip ``dU_0`` is pinned to ``theta_fixed``. ``r`` (N,) is workspace.

    ``dU`` is the system's own solution, not ``cumsum(h dS)``: the two agree in exact arithmetic, but near the
    optimum barrier weights of ~1e18 turn the rounding of a cumulative sum over n terms into multiplier steps far
    larger than the step itself, which blocked the step length of score matching at n >= 3 * 10^5 (measured)."""
    K = bU.shape[0]
    r[:] = 0.0
    for j in range(K - 1):
        r[0 if j == 0 else 3 * j] = -gS[j]
    for k in range(1, K - 1):
        r[3 * k - 1] = -bU[k]
    if skip:
        for i in range(r.shape[0]):
            r[i] -= theta_fixed * cvec[i]
        band_solve(lu, piv, dinv, r)
    else:
        band_solve(lu, piv, dinv, r)
        btheta = b1
        for k in range(1, K - 1):
            btheta += rho[k] * bU[k]
        theta = (-btheta - np.dot(cvec, r)) / schur
        for i in range(r.shape[0]):
            r[i] -= theta * y2[i]
    for j in range(K - 1):
        dS[j] = r[0 if j == 0 else 3 * j]
    t0 = theta_fixed if skip else theta
    dU[0] = t0
    dU[K - 1] = 0.0
    for k in range(1, K - 1):
        dU[k] = r[3 * k - 1] + rho[k] * t0


@njit(cache=True, error_model="numpy")
def measures(S, h, c, ybar, alpha, gamma, lo, hi, mask, skip, u1fix, sl, sh, zl, zh, U, rl, rh, gS) -> tuple:
    """At the iterate: ``U`` (K,), the residuals ``rl = g - lo - sl``, ``rh = hi - g - sh`` and the S-gradient
    ``gS`` (K-1,) in place; returns ``(mu, e, violation, dual value without the constant)``, ``mu`` the mean
    complementarity, ``e`` the skip equality's residual, ``violation`` the largest box violation of ``g``."""
    nf, K = lo.shape
    acc = 0.0
    U[K - 1] = 0.0
    for j in range(K - 2, -1, -1):
        acc += h[j] * S[j]
        U[j] = acc
    u1 = u1fix if skip else U[0]
    e = acc - u1fix if skip else 0.0
    viol = -np.inf
    comp = 0.0
    m = 0
    for f in range(nf):
        for k in range(K):
            if mask[f, k]:
                if skip and k == 0:
                    g = (alpha[f] - gamma[f]) * u1
                else:
                    g = alpha[f] * U[k] - gamma[f] * u1
                rl[f, k] = g - lo[f, k] - sl[f, k]
                rh[f, k] = hi[f, k] - g - sh[f, k]
                viol = max(viol, lo[f, k] - g, g - hi[f, k])
                comp += sl[f, k] * zl[f, k] + sh[f, k] * zh[f, k]
                m += 1
            else:
                rl[f, k] = 0.0
                rh[f, k] = 0.0
    dual = 0.0
    prev_psi = 0.0
    for k in range(K):
        if k == 0:
            lam = -S[0]
        elif k == K - 1:
            lam = S[K - 2]
        else:
            lam = S[k - 1] - S[k]
        dual -= 0.5 * lam * lam / c[k] + lam * ybar[k]
        psi = lam / c[k] + ybar[k]
        if k > 0:
            gS[k - 1] = psi - prev_psi
        prev_psi = psi
    return comp / (2 * max(m, 1)), e, viol, dual


@njit(cache=True, error_model="numpy")
def _direction(tl, th, sl, sh, zl, zh, rl, rh, alpha, gamma, mask, skip, h, gS, e,
               lu, piv, dinv, cvec, y2, rho, schur, bU, dU, r, dS, dsl, dsh, dzl, dzh):
    """One Newton direction for the complementarity targets ``tl``, ``th`` (nf, K) (zero for the predictor), in
    place; returns its step length: the largest step in (0, 1] that keeps the masked slacks and multipliers
    nonnegative."""
    nf, K = sl.shape
    bU[:] = 0.0
    b1 = 0.0
    for f in range(nf):
        for k in range(K):
            if mask[f, k]:
                v = (th[f, k] - sh[f, k] * zh[f, k] - zh[f, k] * rh[f, k]) / sh[f, k] \
                    - (tl[f, k] - sl[f, k] * zl[f, k] - zl[f, k] * rl[f, k]) / sl[f, k]
                phi = zh[f, k] - zl[f, k] + v
                bU[k] += alpha[f] * phi
                if not skip:
                    b1 += (alpha[f] - gamma[f]) * phi if k == 0 else -gamma[f] * phi
    newton_solve(lu, piv, dinv, cvec, y2, rho, schur, skip, gS, bU, b1, -e, r, dS, dU)
    step = 1.0
    for f in range(nf):
        for k in range(K):
            if skip:
                dg = 0.0 if k == 0 else alpha[f] * dU[k]
            else:
                dg = alpha[f] * dU[k] - gamma[f] * dU[0]
            a = dg + rl[f, k]
            b = -dg + rh[f, k]
            da = (tl[f, k] - sl[f, k] * zl[f, k] - zl[f, k] * a) / sl[f, k]
            db = (th[f, k] - sh[f, k] * zh[f, k] - zh[f, k] * b) / sh[f, k]
            dsl[f, k] = a
            dsh[f, k] = b
            dzl[f, k] = da
            dzh[f, k] = db
            if mask[f, k]:  # the step length, fused into this pass
                if a < 0.0:
                    step = min(step, -sl[f, k] / a)
                if b < 0.0:
                    step = min(step, -sh[f, k] / b)
                if da < 0.0:
                    step = min(step, -zl[f, k] / da)
                if db < 0.0:
                    step = min(step, -zh[f, k] / db)
    return step


@njit(cache=True, error_model="numpy")
def _centrality_correctors(count, a, target, tl, th, sl, sh, zl, zh, rl, rh, alpha, gamma, mask, skip, h, gS, e,
                           lu, piv, dinv, cvec, y2, rho, schur, bU, dU, r, dS, dsl, dsh, dzl, dzh) -> float:
    """Gondzio's centrality correctors: at a trial step longer than ``a``, push the complementarity products that
    fall outside ``[0.1, 10] * target`` back to that interval by adding to the targets ``tl``, ``th`` and solving
    again with the same factor; a corrected direction is kept (in place) when its step length grows by 1%.
    Returns the step length of the direction kept."""
    nf, K = sl.shape
    lo_t, hi_t = 0.1 * target, 10.0 * target
    keep = (dS.copy(), dsl.copy(), dsh.copy(), dzl.copy(), dzh.copy())
    for _ in range(count):
        trial = min(1.0, 1.5 * a + 0.3)
        for f in range(nf):
            for k in range(K):
                if mask[f, k]:
                    for side in range(2):
                        if side == 0:
                            v = (sl[f, k] + trial * dsl[f, k]) * (zl[f, k] + trial * dzl[f, k])
                        else:
                            v = (sh[f, k] + trial * dsh[f, k]) * (zh[f, k] + trial * dzh[f, k])
                        corr = 0.0
                        if v < lo_t:
                            corr = lo_t - v
                        elif v > hi_t:
                            corr = max(hi_t - v, -hi_t)
                        if side == 0:
                            tl[f, k] += corr
                        else:
                            th[f, k] += corr
        a_new = _direction(tl, th, sl, sh, zl, zh, rl, rh, alpha, gamma, mask, skip, h, gS, e,
                           lu, piv, dinv, cvec, y2, rho, schur, bU, dU, r, dS, dsl, dsh, dzl, dzh)
        if not (a_new >= 1.01 * a):  # no gain: restore the last direction kept
            dS[:] = keep[0]
            dsl[:, :] = keep[1]
            dsh[:, :] = keep[2]
            dzl[:, :] = keep[3]
            dzh[:, :] = keep[4]
            return a
        a = a_new
        if a >= 0.9:
            break
        keep[0][:] = dS
        keep[1][:, :] = dsl
        keep[2][:, :] = dsh
        keep[3][:, :] = dzl
        keep[4][:, :] = dzh
    return a


@njit(cache=True, error_model="numpy")
def step(S, sl, sh, zl, zh, rl, rh, gS, mu, e, h, c, alpha, gamma, mask, skip, sigma_min, correctors,
         lu, piv, dinv, cvec, y2, rho, W, tl, th, bU, dU, r, dS, dsl, dsh, dzl, dzh) -> tuple:
    """One Mehrotra predictor-corrector iteration with up to ``correctors`` centrality correctors, in place on
    ``S``, ``sl``, ``sh``, ``zl``, ``zh``.

    Returns ``(status, alpha, sigma)``: status 0 the step was taken, 1 singular Newton system, 2 the step is not
    finite or below 1e-10, 3 the direction is not
    finite (the iterate is unchanged in both cases)."""
    nf, K = sl.shape
    m = 0
    for f in range(nf):
        for k in range(K):
            if mask[f, k]:
                W[f, k] = zl[f, k] / sl[f, k] + zh[f, k] / sh[f, k]
                m += 1
            else:
                W[f, k] = 0.0
            tl[f, k] = 0.0
            th[f, k] = 0.0
    info, schur = newton_factor(lu, piv, dinv, cvec, y2, rho, c, h, alpha, gamma, mask, W, skip)
    if info != 0:
        return 1, 0.0, 0.0
    a_aff = _direction(tl, th, sl, sh, zl, zh, rl, rh, alpha, gamma, mask, skip, h, gS, e,
                       lu, piv, dinv, cvec, y2, rho, schur, bU, dU, r, dS, dsl, dsh, dzl, dzh)
    comp = 0.0
    for f in range(nf):
        for k in range(K):
            if mask[f, k]:
                comp += (sl[f, k] + a_aff * dsl[f, k]) * (zl[f, k] + a_aff * dzl[f, k]) \
                    + (sh[f, k] + a_aff * dsh[f, k]) * (zh[f, k] + a_aff * dzh[f, k])
    mu_aff = comp / (2 * max(m, 1))
    sigma = sigma_min
    if mu > 0.0:
        sigma = min(1.0, max(sigma_min, (mu_aff / mu) ** 3))
    if not np.isfinite(sigma):
        sigma = 1.0
    for f in range(nf):
        for k in range(K):
            tl[f, k] = sigma * mu - dsl[f, k] * dzl[f, k]
            th[f, k] = sigma * mu - dsh[f, k] * dzh[f, k]
    a = _direction(tl, th, sl, sh, zl, zh, rl, rh, alpha, gamma, mask, skip, h, gS, e,
                   lu, piv, dinv, cvec, y2, rho, schur, bU, dU, r, dS, dsl, dsh, dzl, dzh)
    if correctors > 0 and a < 0.9:
        a = _centrality_correctors(correctors, a, sigma * mu, tl, th, sl, sh, zl, zh, rl, rh, alpha, gamma, mask,
                                   skip, h, gS, e, lu, piv, dinv, cvec, y2, rho, schur, bU, dU, r,
                                   dS, dsl, dsh, dzl, dzh)
    a = min(1.0, 0.995 * a)
    for j in range(K - 1):
        if not np.isfinite(dS[j]):
            return 3, a, sigma
    if not np.isfinite(a) or a < 1e-10:
        return 2, a, sigma
    for j in range(K - 1):
        S[j] += a * dS[j]
    for f in range(nf):
        for k in range(K):
            if mask[f, k]:
                sl[f, k] += a * dsl[f, k]
                sh[f, k] += a * dsh[f, k]
                zl[f, k] += a * dzl[f, k]
                zh[f, k] += a * dzh[f, k]
    return 0, a, sigma
