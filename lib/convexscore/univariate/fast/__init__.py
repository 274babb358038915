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
  super-diagonals and entries ``1/c``, ``h``, ``+-1`` and the barrier curvature, never ``1/h``. It is factored by a
  compiled banded LU with partial pivoting (:mod:`.newton`, kernels in :mod:`._kernels`, numba) in O(n). ``U_1``
  couples to every constraint of the left-ramp and abs families (an "arrow"); it is kept out of the band and
  eliminated by a scalar Schur complement. The step's ``dU`` is the band system's own solution, not
  ``cumsum(h dS)`` (see :func:`._kernels.newton_solve`).

Each iteration (residuals, factor, predictor, corrector, up to two centrality correctors, step length, update) is
one compiled call; numpy is used only for the set-up and the exact finish. The kernels are compiled on the first
solve on a machine and cached by numba (``cache=True``); numba is imported on the first solve, not with the
package.

No maintained library solves this structure (generic conic solvers see a dense or a sparse but unstructured
problem; see ``benchmarks/bench_solvers.py`` for the comparison), hence this module.

Exact finish. Once the barrier is small, the support (kink positions and signs) is guessed from the iterate and the
program restricted to it is solved exactly (:func:`_crossover`: a tridiagonal system in O(n)); a few active-set
rounds correct the guess (:func:`active_set_rounds`). When the guess is right the primal is exactly optimal and
sparse, and its scores give an exactly optimal dual point, so the certified gap is zero up to rounding.

Known limits (measured, one run on a shared 2-core machine, one thread; ``benchmarks/bench_solvers.py``): an
iteration costs 230-450 ns per point at n = 10^4..10^5 and 400-550 ns at 10^6 (memory-bound: the band factor alone
is 240 bytes per point), i.e. 50-90 ``np.sort`` of the same data. The band LU (about 19 ns per band column, three
columns per point) and its 2-4 solves (about 11 ns per column each, a chain of dependent updates) take half of it,
passes over the slacks and multipliers the rest. Score matching at beta = 10 needs 16 iterations at n = 10^4, 21 at
10^5 and 47 at 10^6 (its first iterates are badly centred and take short steps), denoising 17-26, score matching
at beta = 10^4 7-8: 550x (beta = 10^4), 2,100x (denoising) and 3,400x (beta = 10) ``np.sort`` at n = 10^6. Just
above the score-matching threshold (beta <= 2 tau at n = 10^4) the iterates can stall: :func:`solve_fast` then
raises and the solver registry (:mod:`..solvers`) falls back to the sparse CVXPY program.

The solver stops when the certified relative gap ``(P(z) - D(lam)) / max(1, |P(z)|)`` is below ``tol``, with
``P`` the primal objective of the program at the recovered ``z`` and ``D`` the dual objective at a feasible dual
point (the interior iterate, or the one implied by the crossover's scores), both computed in O(n).

Package layout (one layer per module): :mod:`.structure` (the dual structure and precomputed arrays),
:mod:`.newton` (the Newton system), :mod:`.ipm` (the interior-point loop, :func:`solve_fast`), :mod:`.finish`
(primal read-off, crossover, active-set rounds, certificate).
"""
from __future__ import annotations

from .finish import active_set_rounds, max_violation, minimum_norm_ends, support_of
from .ipm import solve_fast
from .structure import TOL, FastResult, Problem

__all__ = ["TOL", "FastResult", "Problem", "active_set_rounds", "max_violation", "minimum_norm_ends",
           "solve_fast", "support_of"]
