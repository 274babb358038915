"""The eight 1-D convex programs of the paper, as data and as CVXPY problems.

A :class:`ConvexProgram` holds one instance: score matching (SM) programs (4), (14), (18) corrected, (20), or
denoising (DSM) programs (10), (32), (34), (36). Objectives are sums over the samples, weight decay ``beta``.

* SM, no skip:  ``min_z 0.5 ||P1 A z||^2 + d^T z + beta ||z||_1``.
* SM, skip:     ``min_z 0.5 ||P_xt P1 A z||^2 + (d - A^T xt / s2)^T z + beta ||z||_1 - n / (2 s2)``, the same as
  minimising ``0.5 ||A z + b0 1 + v x||^2 + d^T z + n v + beta ||z||_1`` over ``z, b0, v``.
  For ReLU the ReLU dictionary (4K columns) is kept. Its value equals program (20) at ``2 beta`` (tested): with a
  skip, a left ramp is a right ramp minus a line, and each ReLU kink convention maps to one of the two ``sign(0)``
  conventions of the abs dictionary.
* DSM:          ``min_u 0.5 ||P (A u - y)||^2 + beta ||u||_1`` with ``P`` the projection off ``span{1}``
  (no skip) or ``span{1, xh}`` (skip), inputs ``xh = x + sigma z`` and labels ``y = -z / sigma``. For ReLU with
  skip the 2K ReLU columns are kept; this is equivalent to program (34) (abs with ``2 beta``).

Two CVXPY formulations, solved by Clarabel: :func:`solve_dense`, the readable reference on the dense
dictionary, and :func:`solve_sparse`, which writes the network's values at the sorted knots through its slopes
(cumulative sums as sparse difference constraints), so the problem has O(n) nonzeros.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..errors import SolverError
from .dictionaries import (
    Knots,
    Layout,
    apply_dictionary,
    dense_dictionary,
    derivative_counts,
    layout,
    unique_knots,
)

PROGRAM_NUMBERS = {
    ("sm", "relu", False): "(4)",
    ("sm", "abs", False): "(14)",
    ("sm", "relu", True): "(18)",
    ("sm", "abs", True): "(20)",
    ("dsm", "relu", False): "(10)",
    ("dsm", "abs", False): "(32)",
    ("dsm", "relu", True): "(34)",
    ("dsm", "abs", True): "(36)",
}


@dataclass(frozen=True)
class ConvexProgram:
    """One convex program. ``inputs`` (n,) are the data (SM) or noisy inputs ``xh`` (DSM); ``labels`` (n,) the DSM
    targets ``y = -z / sigma`` (None for SM); ``d`` the SM count vector (None for DSM)."""

    loss: str
    activation: str
    skip: bool
    beta: float
    inputs: np.ndarray
    labels: np.ndarray | None
    knots: Knots
    layout: Layout
    d: np.ndarray | None

    @property
    def n(self) -> int:
        return self.inputs.size

    @property
    def number(self) -> str:
        """The paper's equation number of this program."""
        return PROGRAM_NUMBERS[(self.loss, self.activation, self.skip)]

    @property
    def centred_inputs(self) -> np.ndarray:
        return self.inputs - self.inputs.mean()


def build_program(loss: str, inputs, beta: float, activation: str, skip: bool, labels=None) -> ConvexProgram:
    """Assemble a program (no input validation here: :mod:`fit` does it)."""
    x = np.asarray(inputs, dtype=np.float64).reshape(-1)
    knots = unique_knots(x)
    lay = layout(knots.K, loss, activation)
    d = derivative_counts(knots, activation) if loss == "sm" else None
    y = None if labels is None else np.asarray(labels, dtype=np.float64).reshape(-1)
    return ConvexProgram(loss, activation, bool(skip), float(beta), x, y, knots, lay, d)


# ----------------------------------------------------------------------------- evaluation in numpy, O(n)
def output_layer(prog: ConvexProgram, z: np.ndarray) -> tuple[float, float]:
    """The optimal unpenalised ``(b0, v)`` for the neurons encoded by ``z`` (``v = 0`` without skip)."""
    F = apply_dictionary(z, prog.knots, prog.layout)[prog.knots.index]  # A z at the data
    x, xt = prog.inputs, prog.centred_inputs
    target = -F if prog.loss == "sm" else prog.labels - F
    v = 0.0
    if prog.skip:
        extra = -prog.n if prog.loss == "sm" else 0.0  # SM: the skip adds n v to the trace term
        v = float((xt @ target + extra) / (xt @ xt))
    b0 = float(np.mean(target - v * x))
    return b0, v


def scores_at_data(prog: ConvexProgram, z: np.ndarray) -> np.ndarray:
    """The network's scores ``f(x_i)`` (n,) at the program inputs (the kink shift taken to zero)."""
    b0, v = output_layer(prog, z)
    return apply_dictionary(z, prog.knots, prog.layout)[prog.knots.index] + b0 + v * prog.inputs


def objective(prog: ConvexProgram, z: np.ndarray) -> float:
    """The convex objective at ``z``, which equals the network loss of the reconstructed network."""
    f = scores_at_data(prog, z)
    l1 = prog.beta * float(np.abs(z).sum())
    if prog.loss == "dsm":
        r = f - prog.labels
        return 0.5 * float(r @ r) + l1
    _, v = output_layer(prog, z)
    return 0.5 * float(f @ f) + float(prog.d @ z) + prog.n * v + l1


# ----------------------------------------------------------------------------- CVXPY formulations
@dataclass(frozen=True)
class SolverOutput:
    """A solver's answer: ``z`` (p,) in the dictionary layout, its status and its own objective value; ``dual``
    (n,), optional: a dual point proposed by the solver (the certificate checks it like its own)."""

    z: np.ndarray
    status: str
    solver_value: float
    dual: np.ndarray | None = None


ACCEPTED = ("optimal", "optimal_inaccurate")
"""Statuses passed on to the caller; ``fit`` accepts ``optimal_inaccurate`` only if the certificate proves it."""


def _finish(problem, z, name: str) -> SolverOutput:
    if problem.status not in ACCEPTED or z.value is None:
        raise SolverError(
            f"{name} returned status {problem.status!r} (not optimal); try a larger beta, rescale the data, "
            "or solver='cvxpy-dense'", status=str(problem.status),
        )
    return SolverOutput(np.asarray(z.value, dtype=np.float64), problem.status, float(problem.value))


TIGHT = dict(tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12, tol_ktratio=1e-10)
"""Clarabel tolerances tried first (the certificate needs a nearly exact dual); the defaults are the fallback."""


def _solve(problem, z, name: str) -> SolverOutput:
    import cvxpy as cp

    for options in (TIGHT, {}):
        try:
            with warnings.catch_warnings():  # CVXPY warns on inaccurate solutions; the status is checked below
                warnings.simplefilter("ignore")
                problem.solve(solver=cp.CLARABEL, **options)
        except cp.error.SolverError as err:
            if options:
                continue
            raise SolverError(f"{name}: Clarabel failed ({err}); status {problem.status!r}; try a larger beta or "
                              "rescale the data", status=str(problem.status)) from err
        if problem.status == cp.OPTIMAL:
            break
    return _finish(problem, z, name)


def solve_dense(prog: ConvexProgram) -> SolverOutput:
    """The readable reference: the program exactly as written in the paper, dense ``A`` (n, p)."""
    import cvxpy as cp

    n = prog.n
    A = dense_dictionary(prog.inputs, prog.knots, prog.layout)
    P = np.eye(n) - np.ones((n, n)) / n
    if prog.skip:
        xt = prog.centred_inputs
        P = P - np.outer(xt, xt) / (xt @ xt)
    z = cp.Variable(prog.layout.size)
    if prog.loss == "sm":
        lin, const = prog.d, 0.0
        if prog.skip:
            s2 = float(xt @ xt) / n
            lin, const = prog.d - A.T @ xt / s2, -n / (2 * s2)
        fit = 0.5 * cp.sum_squares((P @ A) @ z) + lin @ z + const
    else:
        fit = 0.5 * cp.sum_squares((P @ A) @ z - P @ prog.labels)
    problem = cp.Problem(cp.Minimize(fit + prog.beta * cp.norm1(z)))
    return _solve(problem, z, f"dense program {prog.number}")


def solve_sparse(prog: ConvexProgram) -> SolverOutput:
    """The same program with O(n) nonzeros.

    Variables: ``z`` (p,), the network's values ``F`` (K,) at the sorted knots (``F_1`` plays the free bias) and its
    slopes ``S`` (K-1,) between knots. Constraints: ``F_{j+1} - F_j = h_j S_j`` and ``S_j - S_{j-1} = a_j + b_j``
    (the kink at an interior knot changes the slope by its right- plus left-ramp weight); without skip the first
    slope is pinned to ``a_1 - sum_{k>1} b_k``, with skip it is free and ``v`` is read off it.
    """
    import cvxpy as cp

    knots, lay = prog.knots, prog.layout
    K, p = knots.K, lay.size
    cols = np.arange(p)
    Ra = sp.csr_matrix((np.ones(p), (lay.knot, cols)), shape=(K, p)).multiply((lay.side >= 0)[None, :]).tocsr()
    Rb = sp.csr_matrix((np.ones(p), (lay.knot, cols)), shape=(K, p)).multiply((lay.side <= 0)[None, :]).tocsr()
    z = cp.Variable(p)
    F = cp.Variable(K)
    S = cp.Variable(K - 1)
    a, b = Ra @ z, Rb @ z
    first_slope = a[0] - cp.sum(b[1:])
    constraints = [F[1:] - F[:-1] == cp.multiply(knots.gaps, S)]
    if K > 2:
        constraints.append(S[1:] - S[:-1] == a[1 : K - 1] + b[1 : K - 1])
    if not prog.skip:
        constraints.append(S[0] == first_slope)
    w = np.sqrt(knots.counts)
    penalty = prog.beta * cp.norm1(z)
    if prog.loss == "sm":
        fit = 0.5 * cp.sum_squares(cp.multiply(w, F)) + prog.d @ z
        if prog.skip:
            fit = fit + prog.n * (S[0] - first_slope)  # trace term n v of the skip connection
    else:
        sums = np.bincount(knots.index, weights=prog.labels, minlength=K)
        ybar = sums / knots.counts
        const = 0.5 * float(prog.labels @ prog.labels - sums @ ybar)
        fit = 0.5 * cp.sum_squares(cp.multiply(w, F - ybar)) + const
    problem = cp.Problem(cp.Minimize(fit + penalty), constraints)
    return _solve(problem, z, f"sparse program {prog.number}")


def polish(prog: ConvexProgram, z: np.ndarray, max_support: int = 400) -> np.ndarray | None:
    """Re-solve exactly on the support and signs of ``z`` (an interior-point answer is only accurate to its tolerance).

    With ``S`` the support and ``s`` the signs, the optimality conditions restricted to ``S`` are linear:
    ``B_S^T B_S z_S = -(q_S + beta s)`` (SM, ``B = P A``, ``q = d`` or ``d - A^T xt / s2``) or
    ``B_S^T B_S z_S = B_S^T P y - beta s`` (DSM). Solved by least squares; returns None when the support is empty or
    too large (``max_support``, or more than 5e6 dense entries) or the signs do not survive. The caller keeps whichever point is better.
    """
    S = np.flatnonzero(z)
    if S.size == 0 or S.size > max_support or S.size * prog.n > 5_000_000:  # keep the dense block under ~40 MB
        return None
    s = np.sign(z[S])
    sub = Layout(prog.layout.knot[S], prog.layout.side[S], prog.layout.shift[S])
    A = dense_dictionary(prog.inputs, prog.knots, sub)  # (n, |S|)
    x = prog.inputs

    def project(M):  # P M: remove the mean (and, with skip, the centred-input direction) from each column
        M = M - M.mean(axis=0)
        if prog.skip:
            xt = prog.centred_inputs
            M = M - np.outer(xt, xt @ M) / (xt @ xt)
        return M

    B = project(A)
    if prog.loss == "sm":
        q = prog.d[S]
        if prog.skip:
            xt = prog.centred_inputs
            q = q - A.T @ xt / (float(xt @ xt) / x.size)
        rhs = -(q + prog.beta * s)
    else:
        rhs = B.T @ project(prog.labels[:, None])[:, 0] - prog.beta * s
    zS, *_ = np.linalg.lstsq(B.T @ B, rhs, rcond=None)
    if not np.all(np.sign(zS) == s):
        return None
    out = np.zeros_like(z)
    out[S] = zS
    return out
