"""Exact convex training of two-layer score networks in one dimension (Zhang & Pilanci, programs (4)-(36))."""
from .certificate import Certificate, certify
from .closed_form import (
    gaussian_skip_network,
    gaussian_skip_threshold,
    gaussian_skip_value,
    two_neuron_network,
    two_neuron_score,
    two_neuron_threshold,
    two_neuron_value,
    zero_network_threshold,
)
from .dictionaries import unboundedness_threshold
from .fit import ConvexFit, fit_denoising_score_matching, fit_score_matching
from .path import fit_path
from .programs import ConvexProgram, SolverError
from .reconstruct import PiecewiseLinearScore, network_from_solution, piecewise_linear
from .solvers import DEFAULT_SOLVER, SOLVERS

__all__ = [
    "Certificate", "certify", "gaussian_skip_network", "gaussian_skip_threshold", "gaussian_skip_value",
    "two_neuron_network", "two_neuron_score", "two_neuron_threshold", "two_neuron_value", "zero_network_threshold",
    "unboundedness_threshold", "ConvexFit", "fit_denoising_score_matching", "fit_score_matching", "fit_path",
    "ConvexProgram", "SolverError", "PiecewiseLinearScore", "network_from_solution", "piecewise_linear",
    "DEFAULT_SOLVER", "SOLVERS",
]
