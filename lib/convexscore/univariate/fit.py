"""Exact convex training of a two-layer 1-D score network: the public entry points.

``fit_score_matching(x, beta)`` and ``fit_denoising_score_matching(x, noise, sigma, beta)`` build the convex program
(:mod:`.programs`), solve it with a solver of the registry (:mod:`.solvers`), rebuild a :class:`TwoLayerNet` that
attains its value and return a :class:`ConvexFit` whose optimality over all widths is certified by a feasible dual
point. A solver that certifies its own answer (``"fast"``) is taken as it is; the answers of the CVXPY solvers are
polished on their support (:func:`.programs.polish`) and certified here (:func:`.certificate.certify`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from .._validation import as_univariate, check_activation, check_positive, dsm_order
from ..errors import SolverError
from ..network import TwoLayerNet
from ..piecewise import PiecewiseLinearScore
from ..results import CERTIFIED_GAP, Fit
from .certificate import Certificate, certify, certify_dual
from .dictionaries import unboundedness_threshold
from .programs import ConvexProgram, build_program, objective, polish
from .reconstruct import network_from_solution
from .solvers import Solution, SolverName, at_threshold, run_solver

__all__ = ["ConvexFit", "ZERO_TOL", "denoising_program", "fit_denoising_score_matching", "fit_from_solution",
           "fit_score_matching", "score_matching_program"]

Activation = Literal["relu", "abs"]

ZERO_TOL = 1e-9
"""Entries of ``z`` below ``ZERO_TOL * max(1, max|z|)`` are set to zero (interior-point solutions are not sparse)."""


@dataclass(frozen=True, repr=False)
class ConvexFit(Fit):
    """A certified 1-D convex fit (the :class:`~convexscore.results.Fit` protocol).

    ``value``: the optimal objective over all widths; ``net``: a :class:`TwoLayerNet` attaining it; ``z`` (p,): the
    convex solution in the dictionary layout; ``knots`` (K,): the sorted unique inputs where kinks may sit;
    ``certificate``: the feasible dual point, lower bound and duality gap; ``gap``: its relative gap;
    ``status``: the solver's status; ``objective``: ``"sm"`` or ``"dsm"``; ``program``: the paper's equation
    number; ``solver``: the registry name of the solver that produced ``z``; ``iterations``: its interior-point
    iterations (0 for a path step continued without any); ``problem``: the :class:`ConvexProgram` solved.
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
    iterations: int = 0

    @property
    def gap(self) -> float:
        """The certified relative duality gap ``(value - lower_bound) / max(1, |value|)``."""
        return self.certificate.relative_gap

    relative_gap = gap

    @property
    def lower_bound(self) -> float:
        """The certified lower bound on the loss of every network of any width."""
        return self.certificate.lower_bound

    @property
    def dual(self) -> np.ndarray:
        """The certified dual point (n,): the fitted scores at the data (for DSM minus the labels)."""
        return self.certificate.dual

    @property
    def max_violation(self) -> float:
        """``max_k |(A^T dual + d)_k| - beta`` (<= 0: the dual point is feasible)."""
        return self.certificate.max_violation

    def piecewise(self) -> PiecewiseLinearScore:
        """The fitted score as knots, slopes and intercepts (exact; its log-density and density follow)."""
        return PiecewiseLinearScore.from_network(self.net)

    def _summary(self) -> str:
        return f"program={self.program!r}"


def _check_beta(beta: float, x: np.ndarray, activation: str, skip: bool) -> float:
    beta = check_positive(beta, "beta")
    tau = unboundedness_threshold(x, activation, skip)
    if beta < tau:
        raise ValueError(
            f"beta = {beta:g} is below {tau:g}, where the score-matching objective is unbounded below "
            f"({activation}{' with skip' if skip else ''}): a neuron can make the derivative term -infinity "
            "faster than weight decay grows. Repeated data points raise this threshold (to the multiplicity of "
            f"the most repeated value, halved for interior values with ReLU). Use beta >= {tau:g}."
        )
    return beta


def score_matching_program(x: ArrayLike, beta: float, activation: Activation = "relu",
                           skip: bool = False) -> ConvexProgram:
    """Validate the inputs and build the SM program (4), (14), (18) or (20) for data ``x`` (n,)."""
    check_activation(activation)
    x = as_univariate(x, distinct=2)
    beta = _check_beta(beta, x, activation, skip)
    return build_program("sm", x, beta, activation, skip)


def denoising_program(x: ArrayLike, beta: float, sigma: float, noise: ArrayLike, activation: Activation = "relu",
                      skip: bool = False) -> ConvexProgram:
    """Validate the inputs and build the DSM program (10), (32), (34) or (36) (inputs ``x + sigma * noise``).

    A low-level builder; :func:`fit_denoising_score_matching` takes its arguments in the order data, noise, sigma,
    beta.
    """
    check_activation(activation)
    sigma = check_positive(sigma, "sigma")
    beta = check_positive(beta, "beta")
    x = as_univariate(x)
    z = np.asarray(noise, dtype=np.float64)
    if z.shape not in ((x.size,), (x.size, 1)):
        raise ValueError(f"noise has shape {z.shape} but x has {x.size} points; pass one standard normal draw per point")
    z = z.reshape(-1)
    if not np.all(np.isfinite(z)):
        raise ValueError("noise contains NaN or inf; pass finite standard normal draws")
    xh = x + sigma * z
    if np.unique(xh).size < 2:
        raise ValueError("the noisy inputs x + sigma * noise need at least two distinct values; use a larger sigma")
    return build_program("dsm", xh, beta, activation, skip, labels=-z / sigma)


def _zero_small(z: np.ndarray) -> np.ndarray:
    """``z`` with the entries below :data:`ZERO_TOL` ``* max(1, max|z|)`` set to zero."""
    return np.where(np.abs(z) > ZERO_TOL * max(1.0, float(np.max(np.abs(z), initial=0.0))), z, 0.0)


def _polish_and_certify(prog: ConvexProgram, z: np.ndarray) -> tuple[np.ndarray, float, Certificate]:
    """Zero tiny entries, try an exact re-solve on the support, and certify whichever point is better."""
    raw_z = z
    z = _zero_small(z)
    value = objective(prog, z)
    polished = polish(prog, z)
    if polished is not None:
        polished_value = objective(prog, polished)
        if polished_value <= value + 1e-12 * max(1.0, abs(value)):
            z, value, polished = polished, polished_value, z
    cert = certify(prog, z, value, extra=(raw_z,) if polished is None else (raw_z, polished))
    return z, value, cert


def fit_from_solution(prog: ConvexProgram, sol: Solution, require_certificate: bool = True) -> ConvexFit:
    """Turn a registry :class:`~.solvers.Solution` of ``prog`` into a :class:`ConvexFit`.

    A solution carrying its own certificate is used as it is (entries below :data:`ZERO_TOL` are zeroed and, if
    that changes the value, the solver's dual point is checked against the new value). Otherwise ``z`` is polished and certified here; the
    answer is accepted when the solver reports ``optimal`` or the certificate proves a relative gap at most
    :data:`~convexscore.results.CERTIFIED_GAP`. Raises :class:`SolverError` (with the status and gap) otherwise,
    unless ``require_certificate=False``.
    """
    z = np.asarray(sol.z, dtype=np.float64).reshape(-1)
    if z.shape != (prog.layout.size,) or not np.all(np.isfinite(z)):
        raise SolverError(f"solver {sol.solver!r} returned z of shape {z.shape} (expected ({prog.layout.size},)) or "
                          "non-finite entries", status=sol.status)
    if sol.certificate is not None:  # the solver's own certificate: only the interior-point dust is swept
        z = _zero_small(z)
        value = objective(prog, z)
        cert = sol.certificate if value == sol.certificate.value else certify_dual(prog, sol.certificate.dual, value)
        certified = cert.relative_gap <= CERTIFIED_GAP and cert.max_violation <= 1e-9 * max(1.0, prog.beta)
    else:
        z, value, cert = _polish_and_certify(prog, z)
        proved = cert.feasible and cert.relative_gap <= CERTIFIED_GAP
        edge = at_threshold(prog)  # Clarabel's status is not trusted at the edge of dual feasibility
        certified = proved or (sol.status.split()[0] == "optimal" and not edge)
        if require_certificate and not certified and edge:
            raise SolverError(
                f"beta = {prog.beta:g} equals the unboundedness threshold: the objective is finite there, but solver "
                f"{sol.solver!r} (status {sol.status!r}) cannot certify its optimum so close to the edge of dual "
                f"feasibility (relative gap {cert.relative_gap:.2e}, dual point feasible: {cert.feasible}); use a beta "
                "slightly above the threshold, or pass require_certificate=False to accept the point",
                status=sol.status, gap=cert.relative_gap,
            )
    if require_certificate and not certified:
        raise SolverError(
            f"solver {sol.solver!r} returned status {sol.status!r} and the dual certificate does not confirm "
            f"optimality (relative gap {cert.relative_gap:.2e} > {CERTIFIED_GAP:g}); try solver='cvxpy', a larger "
            "beta or rescaled data, or pass require_certificate=False to accept the point",
            status=sol.status, gap=cert.relative_gap,
        )
    return ConvexFit(
        value=float(value), net=network_from_solution(prog, z), z=z, certificate=cert, status=sol.status,
        knots=prog.knots.u.copy(), activation=prog.activation, skip=prog.skip, beta=prog.beta, objective=prog.loss,
        program=prog.number, solver=sol.solver, problem=prog, iterations=sol.iterations,
    )


def fit_score_matching(x: ArrayLike, beta: float, activation: Activation = "relu", skip: bool = False,
                       solver: SolverName | None = None, *, require_certificate: bool = True) -> ConvexFit:
    """Globally optimal two-layer score network for score matching on 1-D data ``x`` (n,), any width.

    Minimises ``sum_i [0.5 f(x_i)^2 + f'(x_i)] + beta/2 (||W1||^2 + ||W2||^2)``. ``beta`` must be at least
    :func:`unboundedness_threshold` (below it the objective is unbounded: ValueError; at it the objective is finite,
    and the answer is returned only with a feasible dual certificate, else SolverError). ``solver``: ``"fast"``
    (default; falls back to ``"cvxpy"`` when it cannot certify, see :mod:`.solvers`), ``"cvxpy"`` or
    ``"cvxpy-dense"``. Raises :class:`SolverError` when optimality cannot be certified (unless
    ``require_certificate=False``).
    """
    prog = score_matching_program(x, beta, activation, skip)
    return fit_from_solution(prog, run_solver(prog, solver), require_certificate)


def fit_denoising_score_matching(
    x: ArrayLike, noise: ArrayLike, sigma: float, beta: float, activation: Activation = "relu", skip: bool = False,
    solver: SolverName | None = None, *, require_certificate: bool = True,
) -> ConvexFit:
    """Globally optimal two-layer network for denoising score matching on 1-D data ``x`` (n,), any width.

    Minimises ``sum_i 0.5 (f(x_i + sigma z_i) + z_i / sigma)^2 + beta/2 (||W1||^2 + ||W2||^2)`` with ``noise`` the
    fixed standard normal draws ``z_i`` (n,). Any ``beta > 0`` is allowed. ``solver`` and errors as in
    :func:`fit_score_matching`. The former order ``(x, beta, sigma, noise)`` is recognised (a scalar in place of
    ``noise`` and an array in place of ``beta``) and still works, with a DeprecationWarning.
    """
    noise, beta = dsm_order(noise, beta, "fit_denoising_score_matching")
    prog = denoising_program(x, beta, sigma, noise, activation, skip)
    return fit_from_solution(prog, run_solver(prog, solver), require_certificate)
