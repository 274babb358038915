"""A specialised exact solver for the eight 1-D convex programs: O(n) work per iteration, certified by a duality gap.

Why a hand-written solver. The programs are lasso problems over a dense ramp dictionary, but in one dimension
their dual is banded (see ``notes/fast-1d-dual.md``). Group the data into sorted unique values ``t_1 < ... < t_K``
with multiplicities ``c_k``; let ``Lam_k`` be the dual variable summed over the points at ``t_k``,
``S_j = sum_{k > j} Lam_k`` and ``U_k = sum_j Lam_j (t_j - t_k)_+``. Then ``U_K = 0``,
``U_k - U_{k+1} = h_k S_k`` (``h_k = t_{k+1} - t_k``), ``Lam_k = S_{k-1} - S_k`` and ``sum_k Lam_k = 0`` holds by
construction. Every dual constraint is a box on one of three functions of ``U``:

* right ramp ``(x - t_k)_+``: ``U_k``;   left ramp ``(t_k - x)_+``: ``U_k - U_1``;   ``|x - t_k|``: ``2 U_k - U_1``,

with bounds ``[-beta - d_lower, beta - d_upper]`` from the two kink conventions (SM) or ``[-beta, beta]`` (DSM).
The skip connection pins ``U_1`` (``x^T lam = -n`` for SM, ``0`` for DSM). The dual objective is
``-sum_k (Lam_k^2 / (2 c_k) + Lam_k ybar_k)`` (``ybar = 0`` for SM, group means of the labels for DSM).

We solve this box-constrained dual with Mehrotra's primal-dual interior-point method (as Kim, Koh, Boyd and
Gorinevsky 2009 do for l1 trend filtering). The multipliers of the boxes are the primal ``z``. Two choices matter:

* The iterate is stored as ``S`` (not ``U``): adjacent data can be 1e-12 apart, and ``S = (U_k - U_{k+1}) / h``
  would lose every digit. ``U`` is always recomputed from ``S`` by a cumulative sum.
* The Newton system is solved in the saddle-point form with unknowns ``(dS, dU, omega)`` (``omega`` the
  multiplier of ``dU_k - dU_{k+1} = h_k dS_k``). Interleaved, it is a banded matrix with 3 sub- and 3
  super-diagonals and entries ``1/c``, ``h``, ``+-1`` and the barrier curvature, never ``1/h``. It is factored by
  LAPACK's banded LU with partial pivoting (``dgbtrf``) in O(n). ``U_1`` couples to every constraint of the
  left-ramp and abs families (an "arrow"); it is kept out of the band and eliminated by a scalar Schur complement.

No maintained library solves this structure (generic conic solvers see a dense or a sparse but unstructured
problem; see ``benchmarks/bench_solvers.py`` for the comparison), hence this module.

Exact finish. Once the barrier is small, the support (kink positions and signs) is guessed from the iterate and the
program restricted to it is solved exactly (:func:`_crossover`: a tridiagonal system in O(n)); a few active-set
rounds correct the guess (:func:`active_set_rounds`). When the guess is right the primal is exactly optimal and
sparse, and its scores give an exactly optimal dual point, so the certified gap is zero up to rounding.

Known limits (measured, one run on this 2-core machine): each iteration costs one banded LU with partial pivoting
(LAPACK ``dgbtrf``, unblocked for this bandwidth), a few triangular solves and numpy passes, about 0.15 s at
n = 10^5; 16-36 iterations were needed at n = 10^4 and 23-29 at 10^5 (3-5 s), far above the cost of a sort. Just
above the score-matching threshold (beta <= 2 tau at n = 10^4) the iterates still stall: :func:`solve_fast` then
raises and :func:`solve` falls back to the sparse CVXPY program. Score matching at n = 3 * 10^5 and 10^6 (beta =
10, benchmark settings) is not certified: in the last iterations ``U = cumsum(h S)`` violates its boxes by ~1e-8
through rounding, the step length collapses, and the exact finish's active-set rounds do not recover the support
(measured gap 2e-5 at 3 * 10^5, 1e-2 at 10^6). Denoising at 10^6 certifies (28 iterations, 65 s).

The solver stops when the certified relative gap ``(P(z) - D(lam)) / max(1, |P(z)|)`` is below ``tol``, with
``P`` the primal objective of the program at the recovered ``z`` and ``D`` the dual objective at a feasible dual
point (the interior iterate, or the one implied by the crossover's scores), both computed in O(n).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import lapack, solveh_banded

from .dictionaries import apply_transpose
from .programs import ConvexProgram, SolverError, SolverOutput, objective

ACTIVE = 1e-7
"""A constraint counts as active for the primal read-off when its slack is below this fraction of its box."""

SIGMA_MIN = 1e-3
"""Lower bound on the centring parameter: slower but steadier descent of the barrier near the optimum."""

KL = KU = 3
"""Half-bandwidths of the interleaved saddle-point matrix."""

TOL = 1e-8

INITIAL_MULTIPLIER = 1e3
"""Initial box multipliers are ``INITIAL_MULTIPLIER * max(1, beta) / slack``. Score-matching kinks are large (the
objective scales with n), and a start far below them costs 30-70 short steps: at n = 10^5 this choice took the
iteration count from 68 to 29 (``benchmarks/bench_solvers.py`` settings); denoising is insensitive to it."""

CROSSOVER = 1e-4
"""Try the exact crossover once the barrier's duality measure is below this fraction of the dual objective."""

CROSSOVER_ROUNDS = 4
"""Sign corrections per crossover attempt (each one tridiagonal solve and a few O(n) passes)."""

FINISH_ROUNDS = 30
"""Active-set rounds after the interior-point method has certified the gap, to return the exact sparse optimum."""
"""Default target for the certified relative duality gap (the issue asks for at most 1e-8)."""


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
        # static part of the banded saddle-point matrix
        self.N = 3 * K - 4
        j = np.arange(K - 1)
        self.posS = np.where(j == 0, 0, 3 * j)
        self.posW = np.where(j == 0, 1, 3 * j + 1)
        self.posU = 3 * np.arange(1, K - 1) - 1  # U_1..U_{K-2} (0-based), U_0 is the border, U_{K-1} = 0
        ab = np.zeros((2 * KL + KU + 1, self.N))
        ic = 1.0 / self.c

        def put(i, jj, v):
            ab[KL + KU + i - jj, jj] = v
            ab[KL + KU + jj - i, i] = v

        ab[KL + KU, self.posS] = ic[:-1] + ic[1:]
        put(self.posS[:-1], self.posS[1:], -ic[1:-1])
        put(self.posS, self.posW, -self.h)
        put(self.posU, self.posW[1:], 1.0)
        put(self.posU, self.posW[:-1], -1.0)
        self.ab_static = ab
        self.border = np.zeros(self.N)
        self.border[self.posW[0]] = 1.0

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
        return max(float(np.max(np.maximum(f.lo[m] - gi[m], gi[m] - f.hi[m]), initial=-np.inf)) for f, gi, m in zip(self.fams, g, self.masks))

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
        Adjacent points with a tiny gap give a large ``S_k = (U_k - U_{k+1}) / h_k``; the first Newton steps remove it.
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
        return (U[:-1] - U[1:]) / self.h


# ----------------------------------------------------------------------------- Newton system
class _Newton:
    """Factor the saddle-point system for the barrier weights ``W`` (list per family), solve for several right-hand
    sides. Unknowns: ``dS`` (K-1,), ``V_1..V_{K-2}``, ``omega`` (K-1,), and ``theta = dU_0`` by a Schur complement.

    The arrow: constraint ``alpha U_k - gamma U_0`` couples ``U_k`` to ``U_0``. Writing ``dU_k = V_k + rho_k theta``
    with ``rho_k = sum_f alpha gamma w / sum_f alpha^2 w`` removes the cross term in the barrier Hessian, so
    ``theta`` only enters the chain rows ``dU_k - dU_{k+1} - h_k dS_k = 0`` (with coefficients
    ``rho_k - rho_{k+1}``). Then the Schur complement is ``corner - c^T M^{-1} c`` with ``c`` supported on
    constraint rows, where ``M^{-1}`` is negative semidefinite: a sum of nonnegative terms, no cancellation.
    (Eliminating ``U_k`` first would subtract two huge, nearly equal numbers: abs has ``w - (2w)^2 / (4w) = 0``.)
    """

    def __init__(self, P: Problem, W: list[np.ndarray]):
        self.P = P
        K = P.K
        Bd = np.zeros(K)
        cross = np.zeros(K)
        for f, w, m in zip(P.fams, W, P.masks):
            w = np.where(m, w, 0.0)
            Bd += f.alpha**2 * w
            cross += f.alpha * f.gamma * w
        ab = P.ab_static.copy()
        ab[KL + KU, P.posU] = Bd[1:-1]
        lu, piv, info = lapack.dgbtrf(ab, KL, KU, overwrite_ab=1)
        if info != 0:
            raise SolverError(f"fast solver: singular Newton system (dgbtrf info={info})")
        self.lu, self.piv = lu, piv
        self.W = W
        c = P.border.copy()
        self.rho = np.zeros(K)
        if not P.skip:
            rho = np.zeros(K)
            rho[1:-1] = cross[1:-1] / Bd[1:-1]
            corner = 0.0
            for f, w, m in zip(P.fams, W, P.masks):
                w = np.where(m, w, 0.0)
                coef = f.alpha * rho - f.gamma
                coef[0] = f.alpha - f.gamma
                coef[-1] = -f.gamma
                corner += float(np.sum(w * coef * coef))
            c[P.posW] = rho[:-1] - rho[1:]
            c[P.posW[0]] = 1.0 - rho[1]
            self.rho = rho
            self.corner = corner
            self.y2 = self._solve(c)
            self.schur = corner - float(c @ self.y2)
        self.c = c

    def _solve(self, r: np.ndarray) -> np.ndarray:
        x, info = lapack.dgbtrs(self.lu, KL, KU, r, self.piv)
        if info != 0:
            raise SolverError(f"fast solver: dgbtrs failed (info={info})")
        return x

    def _solve_once(self, gS: np.ndarray, bU: np.ndarray, b1: float, theta_fixed: float) -> np.ndarray:
        P = self.P
        r = np.zeros(P.N)
        r[P.posS] = -gS
        r[P.posU] = -bU[1:-1]
        if P.skip:
            x = self._solve(r - theta_fixed * self.c)
        else:
            y1 = self._solve(r)
            btheta = b1 + float(self.rho[1:-1] @ bU[1:-1])
            theta = (-btheta - float(self.c @ y1)) / self.schur
            x = y1 - theta * self.y2
        return x[P.posS], float(x[P.posW[0]])

    def _TT(self, y: np.ndarray) -> np.ndarray:
        """``T^T y`` for ``y`` (K,) indexed by ``U_0..U_{K-1}``: ``(T^T y)_j = h_j sum_{k <= j} y_k``."""
        return self.P.h * np.cumsum(y)[:-1]

    def _apply(self, dS: np.ndarray) -> np.ndarray:
        """``(L + T^T B T) dS`` in O(K) (with skip ``U_0`` is fixed, so its barrier terms drop out)."""
        P = self.P
        Lam = P.Lam_of_S(dS)
        psi = Lam / P.c
        out = psi[1:] - psi[:-1]
        dU = P.U_of_S(dS)
        y = np.zeros(P.K)
        for f, w, m in zip(P.fams, self.W, P.masks):
            if P.skip:
                dg = f.alpha * dU
                dg[0] = 0.0
            else:
                dg = f.alpha * dU - f.gamma * dU[0]
            wdg = np.where(m, w * dg, 0.0)
            y[1:-1] += f.alpha * wdg[1:-1]
            if not P.skip:
                y[0] += (f.alpha - f.gamma) * wdg[0] - f.gamma * float(np.sum(wdg[1:]))
        return out + self._TT(y)

    def solve(self, gS: np.ndarray, bU: np.ndarray, b1: float, theta_fixed: float, refine: int = 2) -> np.ndarray:
        """Solve the Newton system ``(L + T^T B T) dS = -gS - T^T b`` for ``dS`` (K-1,), given the S-gradient ``gS``,
        the U-gradient ``bU`` (K,) (entries 1..K-2 used) and the total ``U_0`` gradient ``b1``. With skip, ``dU_0``
        is pinned to ``theta_fixed`` (a multiplier absorbs the ``h`` direction).

        The barrier weights span many orders of magnitude near the optimum, so the banded LU alone can leave a
        residual; ``refine`` steps of iterative refinement with the residual computed in O(K) remove it.
        """
        P = self.P
        dS, om = self._solve_once(gS, bU, b1, theta_fixed)
        if refine:
            y = bU.copy()
            y[-1] = 0.0
            y[0] = 0.0 if P.skip else b1
            rhs = -gS - self._TT(y)
            scale = float(np.max(np.abs(rhs))) + 1e-300
            for _ in range(refine):
                res = rhs - self._apply(dS)
                if P.skip:  # the pinned U_0 has a multiplier: the S-equation holds up to h * omega_0
                    res = res + P.h * om
                if float(np.max(np.abs(res))) <= 1e-14 * scale:
                    break
                ddS, dom = self._solve_once(-res, np.zeros(P.K), 0.0, 0.0)
                dS, om = dS + ddS, om + dom
        return dS


# ----------------------------------------------------------------------------- interior-point method
def _max_step(v: np.ndarray, dv: np.ndarray) -> float:
    neg = dv < 0
    if not np.any(neg):
        return 1.0
    return float(min(1.0, np.min(-v[neg] / dv[neg])))


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
def _active_set(P: Problem, sl, sh, zl, zh):
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
    rounding; :func:`_certify` checks it with a dual point built from its scores.
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


def _support_arrays(P: Problem, knots, owner, side, act):
    """Per-knot arrays ``(own, sd, ac)`` from the compact support description of :func:`_active_set`."""
    own = np.full(P.K, -1)
    sd = np.zeros(P.K)
    ac = np.zeros((len(P.fams), P.K), dtype=bool)
    own[knots], sd[knots], ac[:, knots] = owner, side, act
    return own, sd, ac


def support_of(P: Problem, z: np.ndarray):
    """Per-knot support arrays ``(own, sd, ac)`` of a primal ``z`` (the layout of :func:`_support_arrays`)."""
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
    from .programs import scores_at_data

    f = scores_at_data(P.prog, z)
    kn = P.prog.knots
    Lam = np.bincount(kn.index, weights=f, minlength=P.K)
    if P.prog.loss == "dsm":
        Lam = Lam - P.c * P.ybar
    S = np.cumsum(Lam[::-1])[::-1][1:]
    U = P.U_of_S(S)
    e = (float(np.sum(P.h * S)) - P.u1fix) if P.skip else 0.0
    return S, P.violation(P.g_all(U)), e


def _certify(P: Problem, S, zl, zh, sl, sh, ipm_feasible: bool):
    """Best primal and best dual point available at this iterate, and their certified gap.

    Primal candidates: the exact crossover on the guessed support first; if its implied dual point is infeasible
    (the guess is still wrong), also the least-squares polish and the raw multipliers. Dual candidates: the dual
    point implied by the best primal's scores (if feasible) and the interior iterate ``S`` (if feasible).
    Returns ``(z, value, lower, gap, rel, S_dual)``; ``rel`` is infinite when no dual point is feasible.
    """

    cands = []
    zc = _refined_crossover(P, *_active_set(P, sl, sh, zl, zh))
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


def _ipm(P: "Problem", prog: ConvexProgram, tol: float, max_iter: int, S0, verbose: bool) -> FastResult:
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


def solve(prog: ConvexProgram) -> SolverOutput:
    """The solver-registry entry point (``solver="fast"``).

    With fewer than 3 distinct inputs, or if the interior-point method cannot certify the gap within its iteration
    budget, the sparse CVXPY program is solved instead and the status says so.
    """
    from .programs import solve_sparse

    if prog.knots.K < 3:
        out = solve_sparse(prog)
        return SolverOutput(out.z, f"{out.status} (fewer than 3 distinct inputs; cvxpy fallback)", out.solver_value)
    try:
        res = solve_fast(prog)
    except SolverError:
        out = solve_sparse(prog)
        return SolverOutput(out.z, f"{out.status} (fast solver not certified; cvxpy fallback)", out.solver_value)
    return SolverOutput(res.z, "optimal", res.value, dual=res.dual)
