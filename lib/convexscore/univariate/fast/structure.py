"""The dual structure: the box families, the precomputed arrays of one program, and the result type.

Conventions (see the package notes): ``K`` distinct sorted inputs ``t`` (K,), counts ``c`` (K,), gaps ``h`` (K-1,);
the dual state is ``S`` (K-1,), ``U`` (K,) is its weighted suffix sum and every constraint is a box on
``alpha U_k - gamma U_1``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..programs import ConvexProgram

ACTIVE = 1e-7
"""A constraint counts as active for the primal read-off when its slack is below this fraction of its box."""

SIGMA_MIN = 1e-3
"""Lower bound on the centring parameter: slower but steadier descent of the barrier near the optimum."""

TOL = 1e-8
"""Default target for the certified relative duality gap."""

CORRECTORS = 2
"""Gondzio centrality correctors per iteration (each one band solve with the iteration's factor)."""

INITIAL_MULTIPLIER = 1e3
"""Initial box multipliers are ``INITIAL_MULTIPLIER * max(1, beta) / slack``. Score-matching kinks are large (the
objective scales with n), and a start far below them costs 30-70 short steps: at n = 10^5 this choice took the
iteration count from 68 to 29 (``benchmarks/bench_solvers.py`` settings); denoising is insensitive to it."""

CROSSOVER = 1e-4
"""Try the exact crossover once the barrier's duality measure is below this fraction of the dual objective."""

CERTIFY_EVERY = 5.0
"""After a failed certificate, the next one is tried once ``mu`` has fallen by this factor: each attempt costs a few
crossovers in numpy (as much as several iterations), and at n = 10^5 (denoising) the attempts at every iteration
failed until the last one (measured: 12 attempts, 1 success)."""

CROSSOVER_ROUNDS = 4
"""Sign corrections per crossover attempt (each one tridiagonal solve and a few O(n) passes)."""

FINISH_ROUNDS = 30
"""Active-set rounds after the interior-point loop when it has not certified the gap (a rescue)."""

DUST = 1e-5
"""When the exact finish fails, entries of the certified interior point below this fraction of its largest entry are
dropped if the same dual point still certifies the gap (where the optimum is not unique, the iterate spreads small
weights over a face of the optimal set)."""

FINISH_ROUNDS_CERTIFIED = 6
FINISH_SHORT_ABOVE = 300_000
"""Active-set rounds when the interior-point method has already certified the gap and ``K`` is above
``FINISH_SHORT_ABOVE``: the exact sparse optimum is a bonus there. Measured (benchmark programs): up to n = 10^5 the
30 rounds reach it (gap ~1e-14; with 6 rounds denoising stopped at the interior gap ~1e-9), at n = 10^6 they
failed and took 7.4 of 23 s."""


@dataclass(frozen=True)
class FastResult:
    """Output of :func:`solve_fast`.

    ``z`` (p,): the primal solution in the dictionary layout; ``value``: the program's objective at ``z``;
    ``dual``: the dual point ``lam`` (n,) in the caller's order (SM: predicted scores; DSM: scores minus labels);
    ``lower_bound``: the dual objective at ``lam``; ``gap = value - lower_bound``; ``relative_gap``:
    ``gap / max(1, |value|)``; ``max_violation``: ``max |(A^T lam + d)_k| - beta`` recomputed from ``lam`` (<= 0
    up to rounding); ``iterations``: interior-point iterations; ``S`` (K-1,): the internal dual state (for warm
    starts).
    """

    z: np.ndarray
    value: float
    dual: np.ndarray
    lower_bound: float
    gap: float
    relative_gap: float
    max_violation: float
    iterations: int
    S: np.ndarray


# ----------------------------------------------------------------------------- problem structure
@dataclass
class _Family:
    """One family of box constraints ``lo_k <= alpha U_k - gamma U_1 <= hi_k`` (k = 0..K-1, 0-based) and where its
    multipliers go in ``z``: ``upper_block`` gets ``-z_hi``, ``lower_block`` gets ``+z_lo`` (block indices)."""

    alpha: float
    gamma: float
    lo: np.ndarray
    hi: np.ndarray
    upper_block: int
    lower_block: int


def _families(prog: ConvexProgram) -> list[_Family]:
    K, beta = prog.knots.K, prog.beta
    ones = np.ones(K)
    if prog.loss == "sm":
        d = prog.d.reshape(-1, K)
        if prog.activation == "relu":
            right = _Family(1.0, 0.0, -beta - d[1], beta - d[0], 0, 1)
            left = _Family(1.0, 1.0, -beta - d[2], beta - d[3], 3, 2)
            # with skip U_1 = -n and the left box coincides with the right one: keep one copy
            return [right] if prog.skip else [right, left]
        return [_Family(2.0, 1.0, -beta - d[1], beta - d[0], 0, 1)]
    if prog.activation == "relu":
        right = _Family(1.0, 0.0, -beta * ones, beta * ones, 0, 0)
        left = _Family(1.0, 1.0, -beta * ones, beta * ones, 1, 1)
        return [right] if prog.skip else [right, left]  # skip: U_1 = 0, left == right
    return [_Family(2.0, 1.0, -beta * ones, beta * ones, 0, 0)]


class Problem:
    """Precomputed arrays for one program (all O(K))."""

    def __init__(self, prog: ConvexProgram):
        kn = prog.knots
        self.prog = prog
        self.K = K = kn.K
        if K < 3:
            raise ValueError(f"the fast solver needs at least 3 distinct input values (got {K}); use solver='cvxpy'")
        self.t = kn.u
        self.c = kn.counts.astype(np.float64)
        self.h = np.diff(self.t)
        self.n = prog.n
        self.skip = prog.skip
        if prog.loss == "dsm":
            sums = np.bincount(kn.index, weights=prog.labels, minlength=K)
            self.ybar = sums / self.c
            self.within = 0.5 * float(prog.labels @ prog.labels - sums @ self.ybar)
        else:
            self.ybar = np.zeros(K)
            self.within = 0.0
        self.u1fix = (-float(self.n) if prog.loss == "sm" else 0.0) if prog.skip else None
        self.fams = _families(prog)
        # which constraints depend on the variables (others are constants, checked once)
        self.masks = []
        for f in self.fams:
            m = np.ones(K, dtype=bool)
            m[K - 1] = (f.gamma != 0.0) and not self.skip  # U_K = 0: only the -gamma U_1 term is left
            m[0] = (f.alpha - f.gamma != 0.0) and not self.skip
            self.masks.append(m)
            const = ~m
            if np.any(const):
                g0 = self._g_const(f)[const]
                if np.any(g0 <= f.lo[const]) or np.any(g0 >= f.hi[const]):
                    raise ValueError(
                        f"beta = {prog.beta:g} leaves no strictly feasible dual point: the objective is unbounded "
                        "below or the optimum is not attained; increase beta above the unboundedness threshold"
                    )
        self.m = int(sum(int(m.sum()) for m in self.masks))
        bound = max(float(np.max(np.abs(np.concatenate([f.lo, f.hi])))) for f in self.fams)
        self.feas_tol = 1e-11 * max(1.0, bound)  # rounding in U = cumsum(h S) at the scale of the bounds
        self.eq_tol = 1e-9 * max(1.0, abs(self.u1fix or 0.0))  # the skip equality sum(h S) = U_1
        # the families stacked for the compiled kernels: (nf,) coefficients, (nf, K) bounds and masks
        self.alpha = np.array([f.alpha for f in self.fams])
        self.gamma = np.array([f.gamma for f in self.fams])
        self.lo = np.array([f.lo for f in self.fams], dtype=np.float64)
        self.hi = np.array([f.hi for f in self.fams], dtype=np.float64)
        self.mask = np.array(self.masks, dtype=np.bool_)

    def _g_const(self, f: _Family) -> np.ndarray:
        """``alpha U_k - gamma U_1`` at the constant entries (U_K = 0; with skip U_1 fixed)."""
        g = np.zeros(self.K)
        if self.skip:
            g[0] = (f.alpha - f.gamma) * self.u1fix
            g[1:] = -f.gamma * self.u1fix  # only used where masked out (k = K-1)
        return g

    # -- maps
    def U_of_S(self, S: np.ndarray) -> np.ndarray:
        """``U`` (K,) from ``S`` (K-1,): ``U_k = sum_{j >= k} h_j S_j``; with skip ``U_1`` is the pinned value."""
        U = np.empty(self.K)
        U[:-1] = np.cumsum((self.h * S)[::-1])[::-1]
        U[-1] = 0.0
        return U

    def Lam_of_S(self, S: np.ndarray) -> np.ndarray:
        Lam = np.empty(self.K)
        Lam[0] = -S[0]
        Lam[1:-1] = S[:-1] - S[1:]
        Lam[-1] = S[-1]
        return Lam

    def g_all(self, U: np.ndarray) -> list[np.ndarray]:
        u1 = self.u1fix if self.skip else U[0]
        out = []
        for f in self.fams:
            g = f.alpha * U - f.gamma * u1
            if self.skip:
                g[0] = (f.alpha - f.gamma) * u1
            out.append(g)
        return out

    def violation(self, g: list[np.ndarray]) -> float:
        """Largest violation of the (non-constant) box constraints at ``g`` (<= 0: feasible)."""
        return max(float(np.max(np.maximum(f.lo[m] - gi[m], gi[m] - f.hi[m]), initial=-np.inf))
                   for f, gi, m in zip(self.fams, g, self.masks))

    def dual_value(self, S: np.ndarray) -> float:
        Lam = self.Lam_of_S(S)
        return float(-np.sum(0.5 * Lam * Lam / self.c + Lam * self.ybar)) + self.within

    def dual_point(self, S: np.ndarray) -> np.ndarray:
        """``lam`` (n,) in the caller's order."""
        Lam = self.Lam_of_S(S)
        kn = self.prog.knots
        lam = (Lam / self.c)[kn.index]
        if self.prog.loss == "dsm":
            lam = lam - (self.prog.labels - self.ybar[kn.index])
        return lam

    def initial_S(self) -> np.ndarray:
        """A strictly feasible dual point: every ``U_k`` at the centre of its feasible interval.

        ``U_1`` is pinned (skip) or set where the intervals of every ``U_k`` are nonempty above the threshold:
        ReLU SM ``-n`` (then the right and left boxes coincide), abs SM ``-n + max(c_1, c_K)``, DSM ``0``.
        The centres follow the staircase of the counts ``d`` (a step at every point), so adjacent points with a tiny
        gap would give a huge ``S_k = (U_k - U_{k+1}) / h_k``; :func:`_smooth_start` replaces them by a function that
        is piecewise linear in ``t`` and stays inside the boxes.
        """
        prog, c = self.prog, self.c
        if self.skip:
            u1 = self.u1fix
        elif prog.loss == "dsm":
            u1 = 0.0
        elif prog.activation == "relu":
            u1 = -float(self.n)
        else:
            u1 = -float(self.n) + max(c[0], c[-1])
        lo = np.full(self.K, -np.inf)
        hi = np.full(self.K, np.inf)
        for f in self.fams:
            lo = np.maximum(lo, (f.lo + f.gamma * u1) / f.alpha)
            hi = np.minimum(hi, (f.hi + f.gamma * u1) / f.alpha)
        if np.any(lo[1:-1] >= hi[1:-1]):
            raise ValueError(
                f"beta = {prog.beta:g} leaves no strictly feasible dual point; increase beta above the unboundedness threshold"
            )
        U = 0.5 * (lo + hi)
        U[0], U[-1] = u1, 0.0
        U = _smooth_start(self.t, U, lo, hi)
        return (U[:-1] - U[1:]) / self.h




SMOOTH_STRIDES = (4096, 1024, 256, 64, 16, 4)
"""Candidate knot strides for the piecewise-linear start (largest first)."""


def _smooth_start(t: np.ndarray, U: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``U`` (K,) replaced by its linear interpolation in ``t`` between every ``m``-th knot, for the largest stride
    ``m`` of :data:`SMOOTH_STRIDES` that keeps all but 0.1% of the interior knots a quarter of their box width inside
    their box (those are clipped there). The box centres jump at every data point while the optimal ``U`` is
    smooth in ``t``. Measured gain is small: score matching (beta = 10, n = 3 * 10^5) 33 -> 31 iterations, where
    the box half-width beta allows a stride of 4 only; its first ~10 (at n = 10^6 ~30) iterates are badly centred
    and take short steps from either start."""
    K = U.size
    inner = slice(1, K - 1)
    margin = 0.25 * (hi[inner] - lo[inner])
    low, high = lo[inner] + margin, hi[inner] - margin
    for m in SMOOTH_STRIDES:
        if 4 * m > K:
            continue
        nodes = np.unique(np.concatenate([np.arange(0, K, m), [K - 1]]))
        V = np.interp(t, t[nodes], U[nodes])
        Vi = V[inner]
        bad = np.count_nonzero((Vi < low) | (Vi > high))
        if bad <= 1e-3 * K:
            V[inner] = np.clip(Vi, low, high)
            V[0], V[-1] = U[0], U[-1]
            return V
    return U
