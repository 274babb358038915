"""Multivariate convex score matching over activation patterns: programs (5)/(6) (SM) and (11) (DSM).

Notation (shapes): data ``X`` (n, d); patterns ``D_i`` as a bool matrix (n, P); ``S_i = D_i`` (ReLU) or
``2 D_i - I`` (absolute value); ``Xt = X`` or ``[X, 1]`` with a first-layer bias (k = d or d + 1 columns);
block variables ``W_i`` (k, d), stored as ``W`` (P, k, d). The model's output on the data is
``F = sum_i S_i Xt W_i (+ 1 b2^T)`` and its Jacobian-trace sum is ``sum_i tr(S_i) tr(W_i[:d])``.

* SM, program (5)/(6):  ``min 0.5 |F|_F^2 + sum_i tr(S_i) tr(W_i[:d]) (+ beta sum_i |W_i[:d]|_*)``
* DSM, program (11):    ``min 0.5 |F - Y|_F^2 (+ beta sum_i |W_i[:d]|_*)`` at noisy inputs, labels ``Y = -Z / sigma``

With a bias the output bias ``b2`` is free too, which centres ``F`` (and ``Y``). With ``beta = 0`` these are exactly
the network objectives over networks whose neurons have patterns in the given set (Theorem 3.2 / 4.2, reconstructed
with zero weight decay; see the book). With ``beta > 0`` the nuclear norm comes from
``beta/2 (|w|^2 + |alpha|^2) >= beta |w alpha^T|_*`` and the cone constraints are dropped, so the value is a lower
bound on the weight-decayed network objective, not necessarily attained.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from .._validation import as_samples, check_activation, check_nonnegative, check_positive
from ..errors import SolverError
from ..network import TwoLayerNet
from ..results import Fit
from .arrangements import Arrangement

__all__ = ["MultivariateFit", "PatternSet", "SOLVERS", "as_pattern_set", "check_data", "convex_denoising_score_matching",
           "convex_score_matching", "deficient_patterns", "finite_pattern_subset", "pattern_features", "program_value",
           "trace_matrix"]

MultivariateSolver = Literal["auto", "closed", "cvxpy", "admm", "fista"]

_FINITE_RTOL = 1e-8


@dataclass(frozen=True)
class PatternSet:
    """Patterns (n, P) bool, whether gates carry a bias, optional gate vectors (P, k)."""

    patterns: np.ndarray
    bias: bool
    gates: np.ndarray | None = None


def as_pattern_set(patterns, bias: bool | None = None) -> PatternSet:
    """Accept an :class:`Arrangement`, a :class:`PatternSet` or a bool array (n, P) (then ``bias`` is required)."""
    if isinstance(patterns, (Arrangement, PatternSet)):
        if bias is not None and bool(bias) != patterns.bias:
            raise ValueError(f"bias={bias} contradicts the pattern set (computed with bias={patterns.bias})")
        return PatternSet(np.asarray(patterns.patterns, bool), patterns.bias, patterns.gates)
    arr = np.asarray(patterns)
    if arr.ndim != 2 or arr.dtype != bool:
        raise ValueError(
            f"patterns must be an Arrangement or a bool matrix of shape (n, P); got dtype {arr.dtype}, shape {arr.shape}"
        )
    if bias is None:
        raise ValueError("with a raw pattern matrix pass bias=True/False (were the gates affine?)")
    return PatternSet(arr, bool(bias), None)


@dataclass(frozen=True, repr=False)
class MultivariateFit(Fit):
    """Solution of a multivariate convex program (the :class:`~convexscore.results.Fit` protocol).

    ``W`` (P, k, d) block solution (None if the program is unbounded); ``b2`` (d,) output bias; ``value`` optimal
    value (``-inf`` if unbounded); ``direction`` (P, k, d): when unbounded, a ray with zero output on the data along
    which the objective falls at rate 1; ``deficient``: indices of patterns that alone make the SM program unbounded
    (fewer active points than the dimension needs). ``inputs``: the network inputs (X for SM, X + sigma Z for DSM);
    ``targets``: Y for DSM, else None. ``gap``: the certified relative duality gap (an upper bound on
    ``(value - optimum) / |value|``): 0 for the closed forms, the first-order solvers' certificate for
    ``"admm"``/``"fista"``, nan for ``"cvxpy"`` (Clarabel's own ``optimal`` status certifies it).
    ``net``: a :class:`TwoLayerNet` built by :func:`~convexscore.multivariate.reconstruct_network` (computed on first
    access): with beta = 0 its loss equals ``value``; with beta > 0 ``value`` is a lower bound on the best network's
    weight-decayed loss.
    """

    W: np.ndarray | None
    b2: np.ndarray
    value: float
    finite: bool
    objective: str
    beta: float
    activation: str
    pattern_set: PatternSet
    inputs: np.ndarray
    targets: np.ndarray | None
    solver: str
    status: str
    direction: np.ndarray | None = None
    deficient: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    iterations: int = 0
    gap: float = float("nan")

    @property
    def n_patterns(self) -> int:
        """Number of patterns P."""
        return self.pattern_set.patterns.shape[1]

    @cached_property
    def net(self) -> TwoLayerNet:
        """The reconstructed network (ValueError when the program is unbounded)."""
        from .cones import reconstruct_network

        return reconstruct_network(self)

    @property
    def width(self) -> int:
        """Neurons of :attr:`net` (0 when the program is unbounded and there is no network)."""
        return self.net.width if self.finite else 0

    def _summary(self) -> str:
        return f"patterns={self.n_patterns}"


# ---------------------------------------------------------------------------------------------------------------
# building blocks
# ---------------------------------------------------------------------------------------------------------------

def check_data(X, pset: PatternSet, name: str = "X") -> np.ndarray:
    X, _ = as_samples(X, name=name)
    n, d = X.shape
    need = d + 1 if pset.bias else d
    if n < need:
        raise ValueError(
            f"{name} has n={n} points in d={d} dimensions; at least {need} are needed "
            f"({'d + 1 with a bias' if pset.bias else 'd'}) for the second-moment matrix to be invertible; add data"
        )
    if pset.patterns.shape[0] != n:
        raise ValueError(
            f"the patterns are for {pset.patterns.shape[0]} points but {name} has {n}; compute them on the same data "
            "(for DSM: on the noisy inputs X + sigma Z)"
        )
    if pset.patterns.shape[1] == 0:
        raise ValueError("the pattern set is empty; pass at least one pattern")
    return X


def pattern_features(X: np.ndarray, pset: PatternSet, activation: str = "relu") -> tuple[np.ndarray, np.ndarray]:
    """``(A, c)``: A (n, P, k) with ``A[:, i] = S_i Xt`` (centred over the points when there is a bias), and the
    trace weights ``c_i = tr(S_i)`` (P,)."""
    check_activation(activation)
    X = np.asarray(X, float)
    Xt = np.hstack([X, np.ones((X.shape[0], 1))]) if pset.bias else X
    D = pset.patterns.astype(float)
    S = D if activation == "relu" else 2.0 * D - 1.0
    A = S[:, :, None] * Xt[:, None, :]
    if pset.bias:
        A = A - A.mean(axis=0, keepdims=True)
    return A, S.sum(axis=0)


def trace_matrix(c: np.ndarray, k: int, d: int) -> np.ndarray:
    """G (P, k, d): block i is ``c_i [I_d; 0]``, so that ``<G, W> = sum_i c_i tr(W_i[:d])``."""
    G = np.zeros((c.size, k, d))
    G[:, np.arange(d), np.arange(d)] = c[:, None]
    return G


def deficient_patterns(pset: PatternSet, d: int, activation: str = "relu") -> np.ndarray:
    """Indices of patterns that make SM with beta = 0 unbounded on their own (exact, by counting points).

    ReLU without bias: ``0 < |active| < d``; with bias: ``0 < |active| <= d`` and not all points. Such an active set
    has a gate ``v`` with ``v . x = 0`` (``v . x + b = 0``) on all active points and ``v[:d] != 0``: the block
    ``v e_j^T`` outputs zero on the data but adds ``tr(D_i) v_j`` to the trace term.
    """
    if activation != "relu":
        return np.zeros(0, int)
    cnt = pset.patterns.sum(axis=0)
    n = pset.patterns.shape[0]
    bad = (cnt > 0) & (cnt <= d) & (cnt < n) if pset.bias else (cnt > 0) & (cnt < d)
    return np.flatnonzero(bad)


def program_value(fit_or_W, X, pset: PatternSet, objective: str, activation: str, beta: float, Y=None) -> float:
    """Value of the SM / DSM program at ``W`` (P, k, d), nuclear norms of the ``[:d]`` blocks included."""
    W = fit_or_W.W if isinstance(fit_or_W, MultivariateFit) else np.asarray(fit_or_W, float)
    A, c = pattern_features(X, pset, activation)
    n, P, k = A.shape
    d = W.shape[2]
    F = A.reshape(n, P * k) @ W.reshape(P * k, d)
    if beta > 0 and pset.bias:
        radius = float(np.linalg.norm(np.asarray(X, float), axis=1).max()) or 1.0
        M = np.r_[np.ones(d), 1.0 / radius]
        nuc = sum(np.linalg.svd(M[:, None] * W[i], compute_uv=False).sum() for i in range(P)) / np.sqrt(2.0)
    else:
        nuc = sum(np.linalg.svd(W[i], compute_uv=False).sum() for i in range(P)) if beta > 0 else 0.0
    if objective == "sm":
        return float(0.5 * np.sum(F**2) + np.sum(trace_matrix(c, k, d) * W) + beta * nuc)
    R = F - (Y - Y.mean(axis=0) if pset.bias else Y)
    return float(0.5 * np.sum(R**2) + beta * nuc)


# ---------------------------------------------------------------------------------------------------------------
# zero weight decay: closed forms
# ---------------------------------------------------------------------------------------------------------------

def _svd_rank(A: np.ndarray):
    U, S, Vt = np.linalg.svd(A, full_matrices=False)
    tol = S[0] * max(A.shape) * np.finfo(float).eps if S.size and S[0] > 0 else 0.0
    r = int(np.sum(S > tol))
    return U[:, :r], S[:r], Vt[:r]


def _sm_closed_form(A2: np.ndarray, G2: np.ndarray):
    """min 0.5 |A2 W|^2 + <G2, W>: finite iff every column of G2 is orthogonal to null(A2)."""
    _, S, Vt = _svd_rank(A2)
    proj = Vt.T @ (Vt @ G2)
    resid = G2 - proj  # component of G in null(A2)
    gnorm = np.linalg.norm(G2)
    if np.linalg.norm(resid) > _FINITE_RTOL * max(gnorm, 1e-300):
        direction = -resid / np.sum(resid**2)  # <G, direction> = -1, A2 @ direction = 0
        return None, -np.inf, direction
    W = -Vt.T @ ((Vt @ G2) / S[:, None] ** 2)
    return W, float(0.5 * np.sum((A2 @ W) ** 2) + np.sum(G2 * W)), None


# ---------------------------------------------------------------------------------------------------------------
# beta > 0: CVXPY (Clarabel), ADMM and FISTA (PyTorch)
# ---------------------------------------------------------------------------------------------------------------

def _solve_cvxpy(A2, G2, Y2, beta, P, k, d, **_):
    """Clarabel on the nuclear-norm program: ``(W2, value, status, iterations, gap, direction)``."""
    import cvxpy as cp

    Wv = cp.Variable((P * k, d))
    F = A2 @ Wv
    nuc = sum(cp.normNuc(Wv[i * k : (i + 1) * k, :]) for i in range(P))
    if Y2 is None:
        obj = 0.5 * cp.sum_squares(F) + cp.sum(cp.multiply(G2, Wv)) + beta * nuc
    else:
        obj = 0.5 * cp.sum_squares(F - Y2) + beta * nuc
    prob = cp.Problem(cp.Minimize(obj))
    try:
        prob.solve(solver=cp.CLARABEL)
    except cp.error.SolverError as exc:  # pragma: no cover - reported to the caller
        raise SolverError(f"Clarabel failed on the nuclear-norm program: {exc}; try solver='admm' or rescale the data",
                          status=str(prob.status)) from exc
    if prob.status in (cp.UNBOUNDED, cp.UNBOUNDED_INACCURATE):
        return None, -np.inf, "unbounded", 0, np.nan, None
    if prob.status != cp.OPTIMAL:
        raise SolverError(
            f"CVXPY/Clarabel returned status {prob.status!r} for the nuclear-norm program; try solver='admm' "
            "or rescale the data", status=str(prob.status),
        )
    iters = int(prob.solver_stats.num_iters or 0)
    return np.asarray(Wv.value), float(prob.value), prob.status, iters, np.nan, None


def _solve_first_order(method, A2, G2, Y2, beta, P, k, d, device=None, **kw):
    """ADMM or FISTA in PyTorch (see :mod:`.first_order`): ``(W2, value, status, iterations, gap, direction)``."""
    from .first_order import GramProblem, solve_admm, solve_fista

    if not np.any(A2):
        raise ValueError("all pattern features are zero (every pattern is empty); nothing to fit")
    prob = GramProblem(A2, G2, Y2, beta, P, k, d, device=device)
    r = (solve_admm if method == "admm" else solve_fista)(prob, **kw)
    return r.W, r.value, r.status, r.iterations, r.gap, r.direction


def _solve_closed(A2, G2, Y2, beta, P, k, d, **_):
    """beta = 0: the pseudo-inverse solution (SM: with an exact finiteness test and a ray when unbounded)."""
    if beta != 0:
        raise ValueError("the closed form exists only for beta = 0; use solver='cvxpy', 'admm' or 'fista' for beta > 0")
    if Y2 is None:
        W2, value, dir2 = _sm_closed_form(A2, G2)
        direction = None if dir2 is None else dir2.reshape(P, k, d)
        return W2, value, "optimal" if W2 is not None else "unbounded", 0, 0.0, direction
    W2 = np.linalg.lstsq(A2, Y2, rcond=None)[0]
    return W2, float(0.5 * np.sum((A2 @ W2 - Y2) ** 2)), "optimal", 0, 0.0, None


SOLVERS = {
    "closed": _solve_closed,
    "cvxpy": _solve_cvxpy,
    "admm": lambda *a, **kw: _solve_first_order("admm", *a, **kw),
    "fista": lambda *a, **kw: _solve_first_order("fista", *a, **kw),
}
"""The multivariate solvers by name; ``"auto"`` picks ``"closed"`` for beta = 0, ``"cvxpy"`` for small programs
(P k d <= 600) and ``"admm"`` otherwise. Each returns ``(W2, value, status, iterations, gap, direction)``."""


def _pick_solver(solver: str, beta: float, size: int) -> str:
    if solver == "auto":
        return "closed" if beta == 0 else ("cvxpy" if size <= 600 else "admm")
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}: use 'auto', 'closed' (beta = 0), 'cvxpy', 'admm' or 'fista'")
    return solver


# ---------------------------------------------------------------------------------------------------------------
# public solvers
# ---------------------------------------------------------------------------------------------------------------

def _solve(Xin, Y, pset, objective, beta, activation, solver, require_certificate=True, **solver_kw) -> MultivariateFit:
    n, d = Xin.shape
    A, c = pattern_features(Xin, pset, activation)
    P, k = A.shape[1], A.shape[2]
    # beta > 0 with a bias: a neuron that splits the data has |b| <= R |w| (R = max |x|, its hyperplane meets the
    # convex hull), so beta/2 (|w|^2 + |a|^2) >= (beta / sqrt 2) |(w, b / R)| |a|: penalise V_i = M W_i with
    # M = diag(1, ..., 1, 1 / R) at weight beta / sqrt 2 (a valid, non-vacuous lower bound; see the book).
    radius = float(np.linalg.norm(Xin, axis=1).max()) if pset.bias else 1.0
    radius = radius if radius > 0 else 1.0
    if pset.bias:
        A = A.copy()
        A[:, :, d] *= radius
    beta_eff = beta / np.sqrt(2.0) if pset.bias else beta
    A2 = A.reshape(n, P * k)
    G2 = trace_matrix(c, k, d).reshape(P * k, d)
    Yc = None if Y is None else (Y - Y.mean(axis=0) if pset.bias else Y)
    deficient = deficient_patterns(pset, d, activation) if objective == "sm" else np.zeros(0, int)
    solver = _pick_solver(solver, beta, P * k * d)
    W2, value, status, iters, gap, direction = SOLVERS[solver](
        A2, G2, None if objective == "sm" else Yc, beta_eff, P, k, d, **solver_kw
    )
    if status == "max_iter" and require_certificate:
        raise SolverError(
            f"{solver} stopped after {iters} iterations (status max_iter) at a certified relative gap {gap:.2e}, above "
            "its tolerance; "
            "pass a larger max_iter or tol, use solver='cvxpy', or pass require_certificate=False to accept the point",
            status=status, gap=gap,
        )
    if status.startswith("diverged"):
        raise SolverError(f"{solver}: {status}; use solver='cvxpy' or a larger beta", status="diverged", gap=gap)
    finite = W2 is not None
    W = None if W2 is None else W2.reshape(P, k, d).copy()
    if W is not None and pset.bias:
        W[:, d, :] *= radius  # back from V = M W to W
    if direction is not None and pset.bias:
        direction = direction.copy()
        direction[:, d, :] *= radius
    b2 = np.zeros(d)
    if finite and pset.bias:
        Xt = np.hstack([Xin, np.ones((n, 1))])
        Dm = pset.patterns.astype(float) if activation == "relu" else 2.0 * pset.patterns - 1.0
        F_raw = np.einsum("np,nk,pkd->nd", Dm, Xt, W)
        b2 = -F_raw.mean(axis=0) if objective == "sm" else (Y - F_raw).mean(axis=0)
    return MultivariateFit(
        W=W, b2=b2, value=value, finite=finite, objective=objective, beta=float(beta), activation=activation,
        pattern_set=pset, inputs=Xin, targets=Y, solver=solver, status=str(status), direction=direction,
        deficient=deficient, iterations=iters, gap=gap,
    )


def convex_score_matching(
    X: ArrayLike, patterns, beta: float = 0.0, *, activation: Literal["relu", "abs"] = "relu",
    bias: bool | None = None, solver: MultivariateSolver = "auto", require_certificate: bool = True, **solver_kw,
) -> MultivariateFit:
    """Multivariate convex SM (programs (5)/(6)) on data ``X`` (n, d); beta > 0 adds ``beta sum_i |W_i|_*``.

    ``patterns``: an :class:`Arrangement` of ``X`` or a bool (n, P) matrix with ``bias``. ``solver``: 'closed'
    (beta = 0: pseudo-inverse, with exact finiteness test), 'cvxpy' (Clarabel), 'admm' or 'fista' (PyTorch, stop on
    a certified relative duality gap ``tol``, default 1e-6; keywords ``tol``, ``max_iter``, ``device``; see
    :mod:`convexscore.multivariate.first_order`); 'auto' picks the closed form, CVXPY for small and ADMM for large
    programs. A first-order solver that stops at ``max_iter`` without the certified gap raises
    :class:`~convexscore.SolverError` (with ``status`` and ``gap``) unless ``require_certificate=False``. An
    unbounded program is returned with ``finite=False``, ``value=-inf`` and a certified ray ``direction``.
    """
    beta = check_nonnegative(beta, "beta")
    check_activation(activation)
    pset = as_pattern_set(patterns, bias)
    X = check_data(X, pset)
    return _solve(X, None, pset, "sm", beta, activation, solver, require_certificate, **solver_kw)


def convex_denoising_score_matching(
    X: ArrayLike, noise: ArrayLike, sigma: float, patterns, beta: float = 0.0, *,
    activation: Literal["relu", "abs"] = "relu", bias: bool | None = None, solver: MultivariateSolver = "auto",
    require_certificate: bool = True, **solver_kw,
) -> MultivariateFit:
    """Multivariate convex DSM (program (11)) at inputs ``X + sigma * noise`` (n, d) with labels ``-noise / sigma``.

    ``patterns`` must be computed on the noisy inputs ``X + sigma * noise``. With beta = 0 the minimum-norm least
    squares solution is returned (always finite). ``solver`` and errors as in :func:`convex_score_matching`.
    """
    beta = check_nonnegative(beta, "beta")
    sigma = check_positive(sigma, "sigma")
    check_activation(activation)
    pset = as_pattern_set(patterns, bias)
    X = check_data(X, pset)
    Z, _ = as_samples(noise, name="noise")
    if Z.shape != X.shape:
        raise ValueError(f"noise has shape {Z.shape} but X has shape {X.shape}; pass one N(0, 1) draw per coordinate")
    return _solve(X + sigma * Z, -Z / sigma, pset, "dsm", beta, activation, solver, require_certificate, **solver_kw)


def finite_pattern_subset(
    X, patterns, *, activation: str = "relu", bias: bool | None = None, max_patterns: int | None = None,
    max_condition: float = 1e3,
) -> PatternSet:
    """Greedily keep patterns (in the given order) while SM with beta = 0 stays finite and well conditioned.

    A pattern is kept when the features of the kept patterns (zero columns aside) keep full column rank with
    condition number at most ``max_condition``; then ``X_hat^T X_hat`` is invertible on the relevant coordinates
    and program (6) has the closed-form solution. (Exact finiteness alone admits near-dependent patterns whose
    optimum is finite but astronomically negative.)
    """
    check_activation(activation)
    pset = as_pattern_set(patterns, bias)
    X = check_data(X, pset)
    n, d = X.shape
    A, c = pattern_features(X, pset, activation)
    k = A.shape[2]
    kept: list[int] = []
    for i in range(A.shape[1]):
        if max_patterns is not None and len(kept) >= max_patterns:
            break
        if c[i] == 0 and activation == "relu":
            continue
        trial = kept + [i]
        A2 = A[:, trial, :].reshape(n, len(trial) * k)
        G2 = trace_matrix(c[trial], k, d).reshape(len(trial) * k, d)
        cols = np.linalg.norm(A2, axis=0) > 0
        sv = np.linalg.svd(A2[:, cols], compute_uv=False)
        if sv.size == cols.sum() and sv[-1] * max_condition >= sv[0] and _sm_closed_form(A2, G2)[0] is not None:
            kept.append(i)
    gates = None if pset.gates is None else pset.gates[kept]
    return PatternSet(pset.patterns[:, kept], pset.bias, gates)
