"""Cone decomposition (Assumption A.8) and the map from a convex solution back to a real :class:`TwoLayerNet`.

For a pattern ``D`` the gates that reproduce it on the data form the cone ``K = {g : s_l (xt_l . g) >= 0}`` with
``s = 2 diag(D) - 1`` and ``xt = x`` or ``(x, 1)``. A pattern is a cell exactly when K has an interior; then every
``u`` splits as ``u = u' - u''`` with ``u', u''`` in the interior of K: take an interior point ``g`` and
``u'' = t g``, ``u' = u + t g`` for t large enough. The two neurons ``(u', a)`` and ``(u'', -a)`` output
``S Xt u a^T`` on the data and contribute ``tr(S) u[:d] . a`` to the trace term, which is how program (5) is attained.
Strict interiority matters: a point with ``xt . g = 0`` would be counted active by ``relu'(0) = 1``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from .._validation import check_choice, check_nonnegative
from ..errors import SolverError
from ..network import TwoLayerNet
from ..results import Fit
from .arrangements import lift
from .programs import MultivariateFit, as_pattern_set, check_data, pattern_features

__all__ = ["ConeFit", "cone_constrained_fit", "cone_interior_point", "optimal_split", "reconstruct_network",
           "split_in_cone"]

_MARGIN = 1e-7


def cone_interior_point(Xt: np.ndarray, pattern: np.ndarray) -> np.ndarray:
    """A gate ``g`` with ``s_l (xt_l . g) >= 1`` for every non-zero row (LP, HiGHS, minimal max-norm).

    Raises ValueError when the cone has an empty interior (the pattern is not a cell: Assumption A.8 fails).
    """
    Xt = np.asarray(Xt, float)
    s = np.where(np.asarray(pattern, bool), 1.0, -1.0)
    rows = np.linalg.norm(Xt, axis=1) > 0
    if np.any(~rows & (s < 0)):
        raise ValueError("a data point at the origin is always active (relu'(0) = 1); this pattern is not realisable")
    M = -(s[rows, None] * Xt[rows])  # M g <= -1
    k = Xt.shape[1]
    # variables (g, tau): minimise tau subject to -tau <= g_j <= tau
    c = np.r_[np.zeros(k), 1.0]
    A_ub = np.vstack([np.c_[M, np.zeros(M.shape[0])], np.c_[np.eye(k), -np.ones(k)], np.c_[-np.eye(k), -np.ones(k)]])
    b_ub = np.r_[-np.ones(M.shape[0]), np.zeros(2 * k)]
    from scipy.optimize import linprog

    res = linprog(c, A_ub=A_ub, b_ub=b_ub, bounds=[(None, None)] * (k + 1), method="highs")
    if res.status == 2:
        raise ValueError(
            "the pattern's cone has an empty interior (it is not a cell of the arrangement), so no neuron "
            "realises it strictly: Assumption A.8 fails for this pattern; drop it from the pattern set"
        )
    if res.status != 0:
        raise SolverError(f"linprog failed to find an interior point: {res.message}", status=str(res.status))
    return res.x[:k]


def split_in_cone(Xt: np.ndarray, pattern: np.ndarray, u: np.ndarray, g: np.ndarray | None = None):
    """Return ``(u_plus, u_minus)`` with ``u = u_plus - u_minus``, each strictly inside the pattern's cone or None.

    Uses ``u`` itself if it is already strictly inside, ``-u`` if that is (then ``u_plus`` is None), else the
    shift ``u + t g``, ``t g`` by the smallest t that leaves a relative margin on every point.
    """
    Xt = np.asarray(Xt, float)
    s = np.where(np.asarray(pattern, bool), 1.0, -1.0)
    rows = np.linalg.norm(Xt, axis=1) > 0
    sx = s[rows, None] * Xt[rows]
    su = sx @ u
    margin = _MARGIN * np.linalg.norm(u) * np.linalg.norm(Xt[rows], axis=1)
    if np.all(su > margin):
        return u, None
    if np.all(-su > margin):
        return None, -u
    if g is None:
        g = cone_interior_point(Xt, pattern)
    sg = sx @ g
    if np.any(sg <= 0):
        raise ValueError("the gate g given for this pattern is not strictly inside its cone")
    t = float(np.max((margin - su) / sg))
    return u + t * g, t * g


def optimal_split(Xt: np.ndarray, pattern: np.ndarray, u: np.ndarray, d: int, g: np.ndarray | None = None):
    """Like :func:`split_in_cone` but with the least weight: minimise ``|u'[:d]| + |u''[:d]|`` over the closed cone
    (an SOCP, Clarabel), then move both by ``delta g`` into the interior (changes the cost by O(delta))."""
    import cvxpy as cp

    Xt = np.asarray(Xt, float)
    s = np.where(np.asarray(pattern, bool), 1.0, -1.0)
    sx = s[:, None] * Xt
    k = Xt.shape[1]
    u1, u2 = cp.Variable(k), cp.Variable(k)
    prob = cp.Problem(cp.Minimize(cp.norm(u1[:d]) + cp.norm(u2[:d])), [u1 - u2 == u, sx @ u1 >= 0, sx @ u2 >= 0])
    prob.solve(solver=cp.CLARABEL)
    if prob.status != cp.OPTIMAL:
        raise SolverError(f"the optimal cone split returned status {prob.status!r}; try split='shift'",
                          status=str(prob.status))
    if g is None:
        g = cone_interior_point(Xt, pattern)
    U = np.stack([np.asarray(u1.value), np.asarray(u2.value)], axis=1)
    delta = _nudge(sx, U, g, np.linalg.norm(u))
    up, um = U[:, 0] + delta * g, U[:, 1] + delta * g
    tiny = 1e-9 * np.linalg.norm(u)
    return (None if np.linalg.norm(up - delta * g) <= tiny else up), (None if np.linalg.norm(um - delta * g) <= tiny else um)


def _nudge(sx: np.ndarray, U: np.ndarray, g: np.ndarray, size: float) -> float:
    """Smallest delta >= 0 with ``sx @ (U + delta g) > margin`` columnwise (solver output can sit a hair outside)."""
    rows = np.linalg.norm(sx, axis=1) > 0
    sg = sx[rows] @ g
    margin = _MARGIN * max(size, 1e-300) * np.linalg.norm(sx[rows], axis=1)
    need = (margin[:, None] - sx[rows] @ U) / sg[:, None]
    return float(max(need.max(), 0.0)) if need.size else 0.0


def _balanced(w: np.ndarray, a: np.ndarray, d: int):
    """Rescale ``(w, a) -> (w / c, a c)`` (ReLU and |.| are positively homogeneous) to minimise |w[:d]|^2 + |a|^2."""
    nw, na = np.linalg.norm(w[:d]), np.linalg.norm(a)
    if nw == 0 or na == 0:
        return w, a
    c = np.sqrt(nw / na)
    return w / c, a * c


def reconstruct_network(
    fit: MultivariateFit, W: ArrayLike | None = None, rtol: float = 1e-10,
    split: Literal["shift", "optimal"] | None = None,
) -> TwoLayerNet:
    """Build a :class:`TwoLayerNet` from a convex solution (or from ``W`` (P, k, d), e.g. a multiple of
    ``fit.direction``) by an SVD of each block and a cone decomposition of each rank-one term.

    Width at most ``2 sum_i rank(W_i) <= 2 d P``. The output bias ``b2`` is refitted (it is free when the gates have
    a bias; without bias it stays 0). On the data the network's output and Jacobian-trace sum equal those of the
    program, so ``score_matching_loss`` / ``denoising_score_matching_loss`` at beta = 0 equal the program value.
    """
    W = fit.W if W is None else np.asarray(W, float)
    split = split or ("optimal" if fit.beta > 0 else "shift")
    if split not in ("shift", "optimal"):
        raise ValueError(f"unknown split {split!r}: use 'shift' (closed form) or 'optimal' (least weight, SOCP)")
    if W is None:
        raise ValueError("the program is unbounded; pass W (for example t * fit.direction) to build a network")
    pset = fit.pattern_set
    Xin = fit.inputs
    n, d = Xin.shape
    Xt = lift(Xin, pset.bias)
    P, k, _ = W.shape
    scale = max(np.abs(W).max(), 1e-300)
    w_rows, a_rows, const = [], [], np.zeros(d)
    for i in range(P):
        if not pset.patterns[:, i].any() and fit.activation == "relu":
            continue  # a dead pattern contributes nothing
        U, S, Vt = np.linalg.svd(W[i], full_matrices=False)
        keep = S > rtol * scale
        if not keep.any():
            continue
        g = None
        if pset.gates is not None:
            cand = pset.gates[i]
            s = np.where(pset.patterns[:, i], 1.0, -1.0)
            if np.all(s * (Xt @ cand) > 0):
                g = cand
        for sv, uvec, avec in zip(S[keep], U[:, keep].T, Vt[keep]):
            u = sv * uvec
            if split == "optimal":
                if g is None:
                    g = cone_interior_point(Xt, pset.patterns[:, i])
                up, um = optimal_split(Xt, pset.patterns[:, i], u, d, g)
            elif g is None:
                up, um = split_in_cone(Xt, pset.patterns[:, i], u)
                if up is not None and um is not None:
                    g = cone_interior_point(Xt, pset.patterns[:, i])
            else:
                up, um = split_in_cone(Xt, pset.patterns[:, i], u, g)
            for w, a in ((up, avec), (um, -avec)):
                if w is None:
                    continue
                if pset.bias and np.linalg.norm(w[:d]) <= rtol * scale:
                    # a constant neuron act(b) a: fold it into the output bias
                    act_b = max(w[d], 0.0) if fit.activation == "relu" else abs(w[d])
                    const += act_b * a
                    continue
                w, a = _balanced(w, a, d)
                w_rows.append(w)
                a_rows.append(a)
    if w_rows:
        Wl = np.array(w_rows)
        W1, b1 = (Wl[:, :d], Wl[:, d]) if pset.bias else (Wl, np.zeros(len(w_rows)))
        W2 = np.array(a_rows)
    else:
        W1, b1, W2 = np.zeros((0, d)), np.zeros(0), np.zeros((0, d))
    net = TwoLayerNet(W1=W1, b1=b1, W2=W2, b2=np.zeros(d), activation=fit.activation)
    b2 = np.zeros(d)
    if pset.bias:
        F = net(Xin) + const
        b2 = -F.mean(axis=0) + const if fit.objective == "sm" else (fit.targets - F).mean(axis=0) + const
    return TwoLayerNet(W1=W1, b1=b1, W2=W2, b2=b2, activation=fit.activation)


@dataclass(frozen=True, repr=False)
class ConeFit(Fit):
    """Result of :func:`cone_constrained_fit` (the :class:`~convexscore.results.Fit` protocol).

    ``net`` attains ``value`` exactly (an upper bound on the best network's loss); ``gap`` is nan: optimality of the
    cone-constrained program rests on Clarabel's ``optimal`` status.
    """

    value: float
    net: TwoLayerNet
    status: str
    objective: str
    beta: float
    activation: str
    solver: str = "cvxpy"
    gap: float = float("nan")


def cone_constrained_fit(
    X: ArrayLike, patterns, beta: float, *, objective: Literal["sm", "dsm"] = "sm", noise: ArrayLike | None = None,
    sigma: float | None = None, activation: Literal["relu", "abs"] = "relu", bias: bool | None = None,
) -> ConeFit:
    """A realisable convex program, hence an UPPER bound on the best network objective (the nuclear-norm program
    is the lower bound). Each pattern i and output coordinate j get two gates ``u'_ij, u''_ij`` constrained to the
    pattern's cone, ``W_i e_j = u'_ij - u''_ij``, penalty ``beta sum (|u'_ij[:d]| + |u''_ij[:d]|)`` (SOCP, Clarabel).
    The neurons ``(u'_ij, e_j)``, ``(u''_ij, -e_j)`` attain it. Returns a :class:`ConeFit` (its ``net`` and
    ``value``). Raises ValueError when the program is unbounded (increase beta) and SolverError when Clarabel does
    not report it optimal.
    """
    import cvxpy as cp

    beta = check_nonnegative(beta, "beta")
    pset = as_pattern_set(patterns, bias)
    X = check_data(X, pset)
    check_choice(objective, "objective", ("sm", "dsm"))
    Y = None
    if objective == "dsm":
        if noise is None or sigma is None:
            raise ValueError("objective='dsm' needs noise (shape of X) and sigma > 0")
        Z = np.asarray(noise, float)
        if Z.shape != X.shape:
            raise ValueError(f"noise has shape {Z.shape} but X has shape {X.shape}")
        X, Y = X + sigma * Z, -Z / sigma
    n, d = X.shape
    A, c = pattern_features(X, pset, activation)
    P, k = A.shape[1], A.shape[2]
    live = [i for i in range(P) if pset.patterns[:, i].any() or activation == "abs"]
    Xt = lift(X, pset.bias)
    s_all = np.where(pset.patterns, 1.0, -1.0)
    U1 = [cp.Variable((k, d)) for _ in live]
    U2 = [cp.Variable((k, d)) for _ in live]
    F = sum(A[:, i, :] @ (U1[q] - U2[q]) for q, i in enumerate(live))
    cons = []
    for q, i in enumerate(live):
        sx = s_all[:, i, None] * Xt
        cons += [sx @ U1[q] >= 0, sx @ U2[q] >= 0]
    pen = sum(cp.sum(cp.norm(U[:d, :], axis=0)) for U in U1 + U2)
    if objective == "sm":
        tr = sum(c[i] * cp.trace(U1[q][:d, :] - U2[q][:d, :]) for q, i in enumerate(live))
        obj = 0.5 * cp.sum_squares(F) + tr + beta * pen
    else:
        Yc = Y - Y.mean(axis=0) if pset.bias else Y
        obj = 0.5 * cp.sum_squares(F - Yc) + beta * pen
    prob = cp.Problem(cp.Minimize(obj), cons)
    prob.solve(solver=cp.CLARABEL)
    if prob.status in (cp.UNBOUNDED, cp.UNBOUNDED_INACCURATE):
        raise ValueError(f"the cone-constrained program is unbounded at beta={beta}: increase beta")
    if prob.status != cp.OPTIMAL:
        raise SolverError(f"Clarabel returned status {prob.status!r} for the cone-constrained program; rescale the "
                          "data or increase beta", status=str(prob.status))
    w_rows, a_rows = [], []
    for q, i in enumerate(live):
        sx = s_all[:, i, None] * Xt
        g = pset.gates[i] if pset.gates is not None and np.all(sx @ pset.gates[i] > 0) else cone_interior_point(Xt, pset.patterns[:, i])
        for U, sign in ((np.asarray(U1[q].value), 1.0), (np.asarray(U2[q].value), -1.0)):
            scale = max(np.abs(U).max(), 1e-300)
            for j in range(d):
                u = U[:, j]
                if np.linalg.norm(u) <= 1e-9 * scale:
                    continue
                u = u + _nudge(sx, u[:, None], g, np.linalg.norm(u)) * g
                a = np.zeros(d)
                a[j] = sign
                w, a = _balanced(u, a, d)
                w_rows.append(w)
                a_rows.append(a)
    Wl = np.array(w_rows) if w_rows else np.zeros((0, k))
    W1, b1 = (Wl[:, :d], Wl[:, d]) if pset.bias else (Wl, np.zeros(len(w_rows)))
    W2 = np.array(a_rows) if a_rows else np.zeros((0, d))
    net = TwoLayerNet(W1=W1, b1=b1, W2=W2, b2=np.zeros(d), activation=activation)
    b2 = np.zeros(d)
    if pset.bias:
        out = net(X)
        b2 = -out.mean(axis=0) if objective == "sm" else (Y - out).mean(axis=0)
    net = TwoLayerNet(W1=W1, b1=b1, W2=W2, b2=b2, activation=activation)
    return ConeFit(value=float(prob.value), net=net, status=str(prob.status), objective=objective, beta=float(beta),
                   activation=activation)
