"""The Newton system of the interior-point method: a banded saddle-point matrix with a scalar arrow."""
from __future__ import annotations

import numpy as np
from scipy.linalg import lapack

from ..programs import SolverError
from .structure import KL, KU, Problem


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


