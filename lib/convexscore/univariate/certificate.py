"""Dual certificates: a lower bound on the loss of EVERY network, of any width, and the duality gap.

The dual of each program is a maximisation over ``lam`` (n,):

* SM:  ``max -0.5 ||lam||^2``            s.t. ``||A^T lam + d||_inf <= beta``, ``1^T lam = 0`` (skip: ``x^T lam = -n``);
* DSM: ``max -lam^T y - 0.5 ||lam||^2``  s.t. ``||A^T lam||_inf <= beta``,     ``1^T lam = 0`` (skip: ``xh^T lam = 0``).

Weak duality makes the dual value of any feasible ``lam`` a lower bound on the non-convex loss for every width.
The constraint ``||A^T lam + d||_inf <= beta`` stands for the semi-infinite constraint over all neurons
``(s x + b)_+`` (or ``|x + b|``): as a function of the kink position it is piecewise affine with breakpoints at the
data, and constant beyond them, so its extremes are the values at the data with both one-sided derivative
conventions, which are exactly the 4K (ReLU) or 2K (abs) columns.

Making the primal's ``lam`` exactly feasible. ``lam`` is the vector of predicted scores at the data (for DSM,
minus the labels); solver tolerances leave it slightly infeasible. Scaling it towards 0 does not help for SM,
because ``lam = 0`` violates the constraints when ``beta < n`` (the counts ``d`` are as large as ``n``). Three
steps, each keeping what the previous one achieved:

1. project ``lam`` onto the equality constraints (an explicit affine projection);
2. :func:`repair`: in the variables ``R_j = sum_i lam_i (x_i - u_j)_+`` every constraint is an interval for
   ``R_j`` (given ``R_1 = lam^T x``), so clip ``R`` into the intervals and change ``lam`` by the second difference
   of the clipping amounts: a local, usually tiny, correction;
3. if rounding still leaves a violation (or an interval is empty), move towards an explicit strictly feasible
   *anchor* ``lam0`` (:func:`anchor`, whose constraint values are bounded by the unboundedness threshold
   ``tau <= beta``; a Slater point when ``tau < beta``): along ``(1 - theta) lam + theta lam0`` the constraint values are affine, so the
   smallest feasible ``theta`` is exact, and the concave dual objective is then maximised over
   ``theta in [theta_min, 1]`` in closed form. For DSM the anchor is ``lam0 = 0`` (a scaling).

The bound is the dual objective at the final point, whose feasibility is re-checked from scratch and reported
as ``max_violation`` (a safety margin ``tol`` makes it negative in practice).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .dictionaries import apply_transpose, left_ramps, unboundedness_threshold
from .programs import ConvexProgram, scores_at_data


@dataclass(frozen=True)
class Certificate:
    """A verified dual point and what it proves.

    ``dual`` (n,): the feasible dual point; ``lower_bound``: its dual objective, a lower bound on the loss of every
    network of any width; ``value``: the certified primal value; ``gap = value - lower_bound`` (>= 0 up to
    rounding); ``max_violation``: ``max_k |(A^T lam + d)_k| - beta`` at ``dual`` (<= 0 means feasible);
    ``equality_residual``: the largest violation of the equality constraints; ``raw_violation``: the same
    inequality violation before the correction; ``theta``: the anchor's weight in the correction.
    """

    dual: np.ndarray
    lower_bound: float
    value: float
    gap: float
    max_violation: float
    equality_residual: float
    raw_violation: float
    theta: float

    @property
    def relative_gap(self) -> float:
        """``gap / max(1, |value|)``."""
        return self.gap / max(1.0, abs(self.value))

    @property
    def feasible(self) -> bool:
        """Whether the dual point satisfies every constraint (inequalities exactly, equalities to 1e-9)."""
        scale = max(1.0, float(np.max(np.abs(self.dual), initial=0.0)) * self.dual.size)
        return self.max_violation <= 0.0 and self.equality_residual <= 1e-9 * scale


def constraint_values(prog: ConvexProgram, lam: np.ndarray) -> np.ndarray:
    """``A^T lam + d`` (SM) or ``A^T lam`` (DSM), shape (p,): feasibility is ``max |.| <= beta``. O(n)."""
    vals = apply_transpose(lam, prog.knots, prog.layout)
    return vals + prog.d if prog.loss == "sm" else vals


def _equality_targets(prog: ConvexProgram) -> float:
    return -float(prog.n) if prog.loss == "sm" else 0.0


def equality_residual(prog: ConvexProgram, lam: np.ndarray) -> float:
    """Largest violation of ``1^T lam = 0`` and, with skip, ``x^T lam = -n`` (SM) or ``xh^T lam = 0`` (DSM)."""
    res = abs(float(lam.sum()))
    if prog.skip:
        res = max(res, abs(float(prog.inputs @ lam) - _equality_targets(prog)))
    return res


def project_equalities(prog: ConvexProgram, lam: np.ndarray) -> np.ndarray:
    """Euclidean projection onto the affine set of the equality constraints."""
    out = lam - lam.mean()
    if prog.skip:
        xt = prog.centred_inputs
        out = out - (xt @ out - _equality_targets(prog)) / (xt @ xt) * xt
    return out


def dual_objective(prog: ConvexProgram, lam: np.ndarray) -> float:
    val = -0.5 * float(lam @ lam)
    return val - float(lam @ prog.labels) if prog.loss == "dsm" else val


def anchor(prog: ConvexProgram) -> np.ndarray:
    """A strictly feasible dual point with ``max |constraint| = `` the unboundedness threshold (SM), or 0 (DSM).

    SM construction, in the variables ``R_j = sum_i lam_i (x_i - u_j)_+`` (the right-ramp constraint values minus
    their counts): ``R_1 = lam^T x = delta - n``, ``R_K = 0`` and, at interior knots, ``R_j`` halfway between the
    two counts of the knot, so each constraint equals ``+-c_j / 2`` (ReLU) or ``+-c_j`` (abs). ``delta = 0`` except
    for abs without skip, where ``delta = max(c_1, c_K)`` balances the two ends. ``lam`` is then the second
    difference of ``R``, shared equally among repeated points.
    """
    if prog.loss == "dsm":
        return np.zeros(prog.n)
    knots = prog.knots
    K, n, c = knots.K, prog.n, knots.counts
    n_ge = n - (np.cumsum(c) - c)
    n_gt = n_ge - c
    delta = max(c[0], c[-1]) if (prog.activation == "abs" and not prog.skip) else 0.0
    shift = delta if prog.activation == "abs" else 0.0
    R = (shift - n_ge - n_gt) / 2.0
    R[0], R[-1] = delta - n, 0.0
    S = (R[:-1] - R[1:]) / knots.gaps  # S_j = sum_{k > j} Lam_k
    Lam = np.concatenate([[-S[0]], S[:-1] - S[1:], [S[-1]]]) if K > 2 else np.array([-S[0], S[0]])
    return project_equalities(prog, (Lam / c)[knots.index])


def _smallest_feasible_theta(p: np.ndarray, q: np.ndarray, bound: float) -> float:
    """Smallest ``theta`` in [0, 1] with ``|p + theta (q - p)| <= bound`` for every entry, given ``|q| < bound``."""
    theta = 0.0
    hi = p > bound
    if np.any(hi):
        theta = max(theta, float(np.max((p[hi] - bound) / (p[hi] - q[hi]))))
    lo = p < -bound
    if np.any(lo):
        theta = max(theta, float(np.max((-bound - p[lo]) / (q[lo] - p[lo]))))
    return min(theta, 1.0)


def _column_coefficients(prog: ConvexProgram) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each constraint value as ``coef_R * R_j + coef_R1 * R_1 + offset`` with ``R_j = sum_i lam_i (x_i - u_j)_+``.

    Right ramps give ``R_j``; left ramps ``R_j - R_1`` (because ``sum_i lam_i = 0`` and ``R_1 = lam^T x``);
    abs columns the sum, ``2 R_j - R_1``.
    """
    side = prog.layout.side
    coef_r = np.where(side == 0, 2.0, 1.0)
    coef_r1 = np.where(side == +1, 0.0, -1.0)
    offset = prog.d if prog.loss == "sm" else np.zeros(side.size)
    return coef_r, coef_r1, offset


def _interval(coef: np.ndarray, rest: np.ndarray, bound: float) -> tuple[float, float]:
    """The set of ``r`` with ``|coef * r + rest| <= bound`` for every entry (``coef != 0``)."""
    lo = np.where(coef > 0, -bound - rest, bound - rest) / coef
    hi = np.where(coef > 0, bound - rest, -bound - rest) / coef
    return float(np.max(lo, initial=-np.inf)), float(np.min(hi, initial=np.inf))


def repair(prog: ConvexProgram, lam: np.ndarray, bound: float) -> np.ndarray | None:
    """Move ``lam`` (already on the equality constraints) to a point with every ``|constraint| <= bound``.

    In the variables ``R_j`` each constraint involves only ``R_j`` and ``R_1`` (see :func:`_column_coefficients`),
    and ``R_K = 0``. So clip ``R_1`` into the interval allowed by the constraints at the two end knots (with skip
    it is pinned by ``x^T lam``), then clip each interior ``R_j`` into its interval. ``lam`` changes by the
    second difference of the (small, local) clipping amounts. Returns None when an interval is empty.
    """
    knots, lay = prog.knots, prog.layout
    K = knots.K
    Lam = np.bincount(knots.index, weights=lam, minlength=K)
    R = left_ramps(knots.u, Lam)
    coef_r, coef_r1, offset = _column_coefficients(prog)
    j = lay.knot
    at_first = j == 0
    at_last = j == K - 1
    coef = np.concatenate([(coef_r + coef_r1)[at_first], coef_r1[at_last]])
    rest = np.concatenate([offset[at_first], offset[at_last]])
    if np.any(np.abs(rest[coef == 0]) > bound):
        return None
    lo, hi = _interval(coef[coef != 0], rest[coef != 0], bound)
    new_r1 = _equality_targets(prog) if prog.skip else min(max(R[0], lo), hi)
    if not lo <= new_r1 <= hi:
        return None
    inner = ~(at_first | at_last)
    rest_inner = offset[inner] + coef_r1[inner] * new_r1
    lo_j = np.full(K, -np.inf)
    hi_j = np.full(K, np.inf)
    np.maximum.at(lo_j, j[inner], np.where(coef_r[inner] > 0, -bound - rest_inner, bound - rest_inner) / coef_r[inner])
    np.minimum.at(hi_j, j[inner], np.where(coef_r[inner] > 0, bound - rest_inner, -bound - rest_inner) / coef_r[inner])
    if np.any(lo_j[1:-1] > hi_j[1:-1]):
        return None
    dR = np.zeros(K)
    dR[1:-1] = np.clip(R[1:-1], lo_j[1:-1], hi_j[1:-1]) - R[1:-1]
    dR[0] = new_r1 - R[0]
    dS = (dR[:-1] - dR[1:]) / knots.gaps
    dLam = np.concatenate([[-dS[0]], dS[:-1] - dS[1:], [dS[-1]]]) if K > 2 else np.array([-dS[0], dS[0]])
    return lam + (dLam / knots.counts)[knots.index]


def certify(prog: ConvexProgram, z: np.ndarray, value: float, extra: tuple = (), duals: tuple = ()) -> Certificate:
    """Build the certificate for the primal point ``z`` with objective ``value``.

    ``lam`` from the primal is projected onto the equality constraints, repaired locally (:func:`repair`) and, if
    rounding still leaves a violation, moved towards the anchor by the smallest amount that restores
    feasibility (then the dual objective is maximised along that segment). ``extra`` primal points (e.g. the
    solver's raw ``z`` before tiny entries were zeroed) also give dual points, and ``duals`` are dual points
    (n,) proposed directly (e.g. by a primal-dual solver); each goes through the same correction and check, and
    the best lower bound is kept.
    """
    best = _certify_one(prog, _dual_of(prog, z), value)
    cands = [_dual_of(prog, other) for other in extra] + [np.asarray(lam, dtype=np.float64).reshape(-1) for lam in duals]
    for lam in cands:
        if lam.shape != (prog.n,) or not np.all(np.isfinite(lam)):
            continue
        cand = _certify_one(prog, lam, value)
        if cand.lower_bound > best.lower_bound and cand.max_violation <= 0:
            best = cand
    return best


def certify_dual(prog: ConvexProgram, lam: np.ndarray, value: float) -> Certificate:
    """The certificate of one proposed dual point ``lam`` (n,) (e.g. a solver's own), made exactly feasible by the
    O(n) correction of :func:`certify` (projection, :func:`repair`, anchor), for a primal point of value ``value``."""
    return _certify_one(prog, np.asarray(lam, dtype=np.float64).reshape(-1), value)


def _dual_of(prog: ConvexProgram, z: np.ndarray) -> np.ndarray:
    """The dual point a primal ``z`` implies: its scores at the data (DSM: minus the labels)."""
    lam = scores_at_data(prog, z)
    return lam - prog.labels if prog.loss == "dsm" else lam


def _certify_one(prog: ConvexProgram, lam: np.ndarray, value: float) -> Certificate:
    beta = prog.beta
    raw = float(np.max(np.abs(constraint_values(prog, lam)))) - beta
    lam_c = project_equalities(prog, lam)
    lam0 = anchor(prog)
    q = constraint_values(prog, lam0)
    margin = beta - float(np.max(np.abs(q), initial=0.0))
    if margin < -1e-12 * max(1.0, beta):  # only possible below the threshold, which fit() rejects
        tau = unboundedness_threshold(prog.inputs, prog.activation, prog.skip) if prog.loss == "sm" else 0.0
        raise ValueError(f"beta = {beta} is below the unboundedness threshold {tau}: no feasible dual point exists; "
                         f"use beta >= {tau}")
    margin = max(margin, 0.0)  # at the threshold the anchor is feasible but not strictly (tol = 0 below)
    tol = min(1e-10 * max(1.0, beta), 0.5 * margin)
    fixed = repair(prog, lam_c, beta - tol)
    if fixed is not None:
        lam_c = fixed
    p = constraint_values(prog, lam_c)
    theta = 0.0
    if np.max(np.abs(p)) > beta - 0.5 * tol:
        theta_min = _smallest_feasible_theta(p, q, beta - tol)
        # maximise the concave dual objective along the segment, theta in [theta_min, 1]
        dirn = lam0 - lam_c
        lin = -float(lam_c @ dirn) - (float(prog.labels @ dirn) if prog.loss == "dsm" else 0.0)
        quad = float(dirn @ dirn)
        theta = theta_min if quad == 0 else min(1.0, max(theta_min, lin / quad))
        lam_c = lam_c + theta * dirn
    bound = dual_objective(prog, lam_c)
    return Certificate(
        dual=lam_c,
        lower_bound=bound,
        value=float(value),
        gap=float(value) - bound,
        max_violation=float(np.max(np.abs(constraint_values(prog, lam_c)))) - beta,
        equality_residual=equality_residual(prog, lam_c),
        raw_violation=raw,
        theta=theta,
    )
