"""The Newton system of the interior-point method: a banded saddle-point matrix with a scalar arrow.

Unknowns ``dS`` (K-1,), ``V_1..V_{K-2}`` and ``omega`` (K-1,) (the multiplier of ``dU_k - dU_{k+1} = h_k dS_k``),
interleaved so that the matrix has 3 sub- and 3 super-diagonals with entries ``1/c``, ``h``, ``+-1`` and the barrier
curvature (never ``1/h``), plus ``theta = dU_0`` eliminated by a scalar Schur complement.

The arrow: constraint ``alpha U_k - gamma U_0`` couples ``U_k`` to ``U_0``. Writing ``dU_k = V_k + rho_k theta``
with ``rho_k = sum_f alpha gamma w / sum_f alpha^2 w`` removes the cross term in the barrier Hessian, so
``theta`` only enters the chain rows ``dU_k - dU_{k+1} - h_k dS_k = 0`` (with coefficients ``rho_k - rho_{k+1}``).
Then the Schur complement is ``corner - c^T M^{-1} c`` with ``c`` supported on constraint rows, where ``M^{-1}``
is negative semidefinite: a sum of nonnegative terms, no cancellation. (Eliminating ``U_k`` first would subtract
two huge, nearly equal numbers: abs has ``w - (2w)^2 / (4w) = 0``.)

The band is factored by LU with partial pivoting, compiled (:mod:`._kernels`, numba): LAPACK's ``dgbtrf`` does the
same arithmetic but at half-bandwidth 3 its per-column BLAS calls cost ~10x the flops. Pivoting is kept: the
barrier curvature spans 1e-18..1e18 near the optimum, where a pivot-free factor of this indefinite matrix has no
stability guarantee. No iterative refinement: its residual, computed through the barrier weights, is dominated by
rounding near the optimum and the correction it adds stalled score matching at large n (measured).
"""
from __future__ import annotations

import numpy as np

from ..programs import SolverError

_KERNELS = None


def kernels():
    """The compiled kernels module (imports numba on first use: ``import convexscore`` stays numba-free)."""
    global _KERNELS
    if _KERNELS is None:
        from . import _kernels

        _KERNELS = _kernels
    return _KERNELS


class NewtonSystem:
    """The Newton matrix of problem ``P`` for barrier weights ``W`` (nf, K), factored once, solved for several
    right-hand sides (a thin wrapper over :func:`._kernels.newton_factor` / :func:`._kernels.newton_solve`)."""

    def __init__(self, P, W: np.ndarray):
        k = kernels()
        self.P = P
        N = 3 * P.K - 4
        self.lu = np.empty((N, k.WIDTH))
        self.piv, self.dinv = np.empty(N, dtype=np.int64), np.empty(N)
        self.cvec, self.y2, self.rho, self.r = np.empty(N), np.empty(N), np.empty(P.K), np.empty(N)
        info, self.schur = k.newton_factor(self.lu, self.piv, self.dinv, self.cvec, self.y2, self.rho, P.c, P.h, P.alpha,
                                           P.gamma, P.mask, np.ascontiguousarray(W, dtype=np.float64), P.skip)
        if info != 0:
            raise SolverError(f"fast solver: singular Newton system (zero pivot in column {info})")

    def solve(self, gS: np.ndarray, bU: np.ndarray, b1: float, theta_fixed: float) -> np.ndarray:
        """``dS`` (K-1,) for the S-gradient ``gS``, U-gradient ``bU`` (K,), total ``U_0`` gradient ``b1``; with skip
        ``dU_0`` is pinned to ``theta_fixed``."""
        dS, dU = np.empty(self.P.K - 1), np.empty(self.P.K)
        kernels().newton_solve(self.lu, self.piv, self.dinv, self.cvec, self.y2, self.rho, self.schur, self.P.skip,
                               np.ascontiguousarray(gS, dtype=np.float64), np.ascontiguousarray(bU, dtype=np.float64),
                               float(b1), float(theta_fixed), self.r, dS, dU)
        return dS
