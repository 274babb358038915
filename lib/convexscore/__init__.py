"""convexscore: exact convex training of two-layer score networks, and the labs of the book *Convex score matching*.

The public surface is re-exported here and loaded lazily: ``import convexscore`` loads only numpy and the network
class; each name below imports its module (and torch, cvxpy or matplotlib where that module needs them) on first
access.
"""
from __future__ import annotations

import importlib
from typing import Any

from .errors import SolverError as SolverError
from .network import TwoLayerNet as TwoLayerNet
from .network import activation_fn as activation_fn
from .network import denoising_score_matching_loss as denoising_score_matching_loss
from .network import score_matching_loss as score_matching_loss
from .results import Fit as Fit

__version__ = "0.1.0"

_LAZY: dict[str, tuple[str, ...]] = {
    # network, results and Langevin sampling
    ".sampling": ("AnnealedLangevinRun", "LangevinRun", "UnstableStepWarning", "annealed_langevin",
                  "as_piecewise_linear", "check_step", "default_step", "gaussian_ula_stationary_variance", "langevin",
                  "lipschitz_constant"),
    ".piecewise": ("PiecewiseLinearScore",),
    ".density": ("PiecewiseGaussianDensity", "kl_divergence_on_grid"),
    # univariate convex programs
    ".univariate": ("Certificate", "ConvexFit", "fit_denoising_score_matching", "fit_path", "fit_score_matching",
                    "gaussian_skip_network", "gaussian_skip_threshold", "gaussian_skip_value", "piecewise_linear",
                    "two_neuron_network", "two_neuron_score", "two_neuron_threshold", "two_neuron_value",
                    "unboundedness_threshold", "zero_network_threshold"),
    ".univariate.fast": ("FastResult", "solve_fast"),
    # multivariate programs
    ".multivariate": ("Arrangement", "ConeFit", "MultivariateFit", "arrangement_patterns", "cell_count_bound",
                      "cone_constrained_fit", "convex_denoising_score_matching", "convex_score_matching",
                      "finite_pattern_subset", "reconstruct_network"),
    # lab bench: Adam baselines, metrics, data
    ".baselines": ("AdamRun", "AdamSweep", "sweep_adam", "train_adam"),
    ".metrics": ("compare_to_target", "ks_distance", "mmd2", "noise_floor", "wasserstein1", "wasserstein2"),
    ".torch_net": ("TorchTwoLayerNet", "torch_dsm_loss", "torch_sm_loss", "trace_term_gradients"),
    ".datasets": ("GaussianMixture",),
    # kernel view
    ".kernel": ("compare_network_and_kernel", "dsm_regression_data", "empirical_ntk", "kernel_gd_path", "ou_dsm_data",
                "relu_ntk", "rwy_stopping_rule"),
}
_SUBMODULES = ("datasets", "density", "kernel", "metrics", "multivariate", "plotting", "sampling", "univariate")
_WHERE = {name: module for module, names in _LAZY.items() for name in names}

__all__ = sorted(["Fit", "SolverError", "TwoLayerNet", "activation_fn", "denoising_score_matching_loss",
                  "score_matching_loss", *_WHERE, *_SUBMODULES])


def __getattr__(name: str) -> Any:
    """Import the module of a public name on first access (PEP 562)."""
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name], __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module("." + name, __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
