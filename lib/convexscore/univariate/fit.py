"""Exact convex training of a two-layer 1-D score network: the public entry points.

``fit_score_matching(x, beta)`` and ``fit_denoising_score_matching(x, beta, sigma, noise)`` solve the convex
program, rebuild a :class:`TwoLayerNet` that attains its value, and certify optimality over all widths with a
feasible dual point. Solvers are picked by name: ``"fast"`` (the specialised O(n)-per-iteration interior-point
solver with exact crossover, :mod:`.fast`, the default :data:`DEFAULT_SOLVER`), ``"cvxpy"`` (the O(n)-sparse
formulation, Clarabel, the readable reference) and ``"cvxpy-dense"`` (the dense dictionary, small n only).

Solver interface (for adding solvers to :func:`_run_solver`): a function ``ConvexProgram -> SolverOutput``.
The program gives ``loss`` ("sm"/"dsm"), ``activation``, ``skip``, ``beta``, ``inputs`` (n,) (data, or noisy
inputs for DSM), ``labels`` (n,) (DSM targets ``-z/sigma``), ``knots`` (sorted unique ``u``, ``counts``, ``index``
with ``inputs = u[index]``), ``layout`` and ``d`` (SM counts). The output's ``z`` must follow the column layout
of :mod:`dictionaries`; its ``status`` is ``"optimal"`` or ``"optimal_inaccurate"``. Everything after the solve
(zeroing entries below :data:`ZERO_TOL`, objective value, network, certificate) is done here, the same way for
every solver.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validation import as_samples, check_activation, check_positive
from ..network import TwoLayerNet
from .certificate import Certificate, certify
from .dictionaries import unboundedness_threshold
from .programs import SOLVERS, ConvexProgram, SolverError, SolverOutput, build_program, objective, polish
from .reconstruct import PiecewiseLinearScore, network_from_solution, piecewise_linear

DEFAULT_SOLVER = "fast"
"""The solver used when none is named: the specialised solver of :mod:`.fast`. It certifies its own duality gap
(below 1e-8) and agrees with the CVXPY programs to 1e-8 where Clarabel reports ``optimal``
(``tests/test_fast_solver.py``); when it cannot certify (fewer than 3 distinct inputs, or no certified gap within
its iteration budget) it solves the sparse CVXPY program instead and says so in ``status``.

Where the optimum is not unique the two solvers return different members of the optimal set, with the same value
and the same function on the data. The fast solver returns a vertex (each kink carried by one neuron; for ReLU with
skip the right and left ramps at a knot differ by a line, and Clarabel's interior point splits the kink between
them, doubling the width), except for the absolute-value family without skip, where it returns the minimum-norm
member that Clarabel also finds (:func:`.fast.minimum_norm_ends`). ``solver="cvxpy"`` gives Clarabel's
analytic-centre solutions, which Chapters 6-8 discuss."""


CERTIFIED_GAP = 1e-6
"""A solver status ``optimal_inaccurate`` is accepted only if the certificate's relative gap is below this."""

ZERO_TOL = 1e-9
"""Entries of ``z`` below ``ZERO_TOL * max(1, max|z|)`` are set to zero (interior-point solutions are not sparse)."""


def _run_solver(prog: ConvexProgram, solver: str) -> SolverOutput:
    """Dispatch by solver name (other solvers register here)."""
    if solver in SOLVERS:
        return SOLVERS[solver](prog)
    if solver == "fast":  # the specialised O(n)-per-iteration interior-point solver (falls back to "cvxpy")
        from .fast import solve

        return solve(prog)
    raise ValueError(f"unknown solver {solver!r}: use one of {sorted(SOLVERS) + ['fast']}")


@dataclass(frozen=True)
class ConvexFit:
    """The result of a convex fit.

    ``value``: the optimal objective (over all widths); ``net``: a :class:`TwoLayerNet` attaining it; ``z`` (p,):
    the convex solution in the dictionary layout; ``knots`` (K,): the sorted unique inputs where kinks may sit;
    ``certificate``: dual point, lower bound and duality gap; ``status``: the solver's status (``"optimal"``, or
    ``"optimal_inaccurate"`` accepted only when the certificate proves a relative gap below
    :data:`CERTIFIED_GAP`); ``program``: the paper's equation number; ``objective``: ``"score_matching"`` or
    ``"denoising_score_matching"``; ``problem``: the :class:`ConvexProgram` that was solved.
    """

    value: float
    net: TwoLayerNet
    z: np.ndarray
    certificate: Certificate
    status: str
    knots: np.ndarray
    activation: str
    skip: bool
    beta: float
    objective: str
    program: str
    solver: str
    problem: ConvexProgram = field(repr=False)

    @property
    def width(self) -> int:
        """Number of neurons of the reconstructed network (nonzeros of ``z``)."""
        return self.net.width

    def score(self, x) -> np.ndarray:
        """The fitted score at ``x`` (n,)."""
        return self.net(x)

    def piecewise(self) -> PiecewiseLinearScore:
        """The fitted score as knots, slopes and intercepts (and its exact log-density)."""
        return piecewise_linear(self.net)


def _check_beta(beta, x: np.ndarray, activation: str, skip: bool) -> float:
    beta = check_positive(beta, "beta")
    tau = unboundedness_threshold(x, activation, skip)
    if beta <= tau:
        raise ValueError(
            f"beta = {beta:g} is at or below {tau:g}, where the score-matching objective is unbounded below "
            f"({activation}{' with skip' if skip else ''}): a neuron can make the derivative term -infinity "
            "faster than weight decay grows. Repeated data points raise this threshold (to the multiplicity of "
            f"the most repeated value, halved for interior values with ReLU). Use beta > {tau:g}."
        )
    return beta


def _univariate(x, name: str = "x", distinct: bool = True) -> np.ndarray:
    X, univariate = as_samples(x, name=name, min_points=2)
    if not univariate and X.shape[1] != 1:
        raise ValueError(f"{name} must be 1-D data of shape (n,); got shape {np.shape(x)} (use the multivariate module)")
    x = X[:, 0]
    if distinct and np.unique(x).size < 2:
        raise ValueError(f"{name} needs at least two distinct values; all {x.size} points are equal")
    return x


def _fit(prog: ConvexProgram, solver: str, objective_name: str) -> ConvexFit:
    out = _run_solver(prog, solver)
    z = np.asarray(out.z, dtype=np.float64).reshape(-1)
    if z.shape != (prog.layout.size,) or not np.all(np.isfinite(z)):
        raise RuntimeError(f"solver {solver!r} returned z of shape {z.shape} (expected ({prog.layout.size},)) or non-finite entries")
    raw_z = z
    z = np.where(np.abs(z) > ZERO_TOL * max(1.0, float(np.max(np.abs(z)))), z, 0.0)
    value = objective(prog, z)
    polished = polish(prog, z)
    if polished is not None:
        polished_value = objective(prog, polished)
        if polished_value <= value + 1e-12 * max(1.0, abs(value)):
            z, value, polished = polished, polished_value, z
    duals = () if out.dual is None else (out.dual,)
    cert = certify(prog, z, value, extra=(raw_z,) if polished is None else (raw_z, polished), duals=duals)
    if out.status != "optimal" and not (cert.feasible and cert.relative_gap <= CERTIFIED_GAP):
        raise SolverError(
            f"solver {solver!r} returned status {out.status!r} and the dual certificate does not confirm optimality "
            f"(relative gap {cert.relative_gap:.2e} > {CERTIFIED_GAP:g}); try a larger beta or rescale the data"
        )
    return ConvexFit(
        value=value,
        net=network_from_solution(prog, z),
        z=z,
        certificate=cert,
        status=out.status,
        knots=prog.knots.u.copy(),
        activation=prog.activation,
        skip=prog.skip,
        beta=prog.beta,
        objective=objective_name,
        program=prog.number,
        solver=solver,
        problem=prog,
    )


def score_matching_program(x, beta: float, activation: str = "relu", skip: bool = False) -> ConvexProgram:
    """Validate the inputs and build the SM program (4), (14), (18) or (20)."""
    check_activation(activation)
    x = _univariate(x)
    beta = _check_beta(beta, x, activation, skip)
    return build_program("sm", x, beta, activation, skip)


def denoising_program(x, beta: float, sigma: float, noise, activation: str = "relu", skip: bool = False) -> ConvexProgram:
    """Validate the inputs and build the DSM program (10), (32), (34) or (36)."""
    check_activation(activation)
    sigma = check_positive(sigma, "sigma")
    beta = check_positive(beta, "beta")
    x = _univariate(x, distinct=False)
    z = np.asarray(noise, dtype=np.float64)
    if z.shape not in ((x.size,), (x.size, 1)):
        raise ValueError(f"noise has shape {z.shape} but x has {x.size} points; pass one standard normal draw per point")
    z = z.reshape(-1)
    if not np.all(np.isfinite(z)):
        raise ValueError("noise contains NaN or inf; pass finite standard normal draws")
    xh = x + sigma * z
    if np.unique(xh).size < 2:
        raise ValueError("the noisy inputs x + sigma * noise need at least two distinct values")
    return build_program("dsm", xh, beta, activation, skip, labels=-z / sigma)


def fit_score_matching(x, beta: float, activation: str = "relu", skip: bool = False, solver: str | None = None) -> ConvexFit:
    """Globally optimal two-layer score network for score matching on 1-D data ``x`` (n,), any width.

    Minimises ``sum_i [0.5 f(x_i)^2 + f'(x_i)] + beta/2 (||W1||^2 + ||W2||^2)``; needs ``beta`` above
    :func:`unboundedness_threshold`. ``solver``: ``"fast"``, ``"cvxpy"`` (sparse), ``"cvxpy-dense"``, or None for
    :data:`DEFAULT_SOLVER`.
    """
    prog = score_matching_program(x, beta, activation, skip)
    return _fit(prog, solver or DEFAULT_SOLVER, "score_matching")


def fit_denoising_score_matching(
    x, beta: float, sigma: float, noise, activation: str = "relu", skip: bool = False, solver: str | None = None
) -> ConvexFit:
    """Globally optimal two-layer network for denoising score matching, any width.

    Minimises ``sum_i 0.5 (f(x_i + sigma z_i) + z_i / sigma)^2 + beta/2 (||W1||^2 + ||W2||^2)`` with ``noise`` the
    fixed standard normal draws ``z_i`` (n,). Any ``beta > 0`` is allowed.
    """
    prog = denoising_program(x, beta, sigma, noise, activation, skip)
    return _fit(prog, solver or DEFAULT_SOLVER, "denoising_score_matching")
