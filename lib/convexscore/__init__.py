"""convexscore: exact convex training of two-layer score networks, and the labs of the book *Convex score matching*.

The public surface is re-exported here. Each block below belongs to one part of the library.
"""
# --- network and objectives (foundation) ---
from .network import TwoLayerNet, activation_fn, denoising_score_matching_loss, score_matching_loss
from .sampling import LangevinRun, gaussian_ula_stationary_variance, langevin

# --- univariate convex programs (issue 3) ---
from .univariate import (
    Certificate,
    ConvexFit,
    PiecewiseLinearScore,
    SolverError,
    fit_denoising_score_matching,
    fit_score_matching,
    gaussian_skip_network,
    gaussian_skip_threshold,
    gaussian_skip_value,
    piecewise_linear,
    two_neuron_network,
    two_neuron_score,
    two_neuron_threshold,
    two_neuron_value,
    unboundedness_threshold,
    zero_network_threshold,
)

# --- lab bench: Adam baselines, samplers, metrics, figures (issue 4) ---
from . import datasets, metrics, plotting
from .baselines import AdamRun, AdamSweep, sweep_adam, train_adam
from .metrics import compare_to_target, ks_distance, mmd2, noise_floor, wasserstein1, wasserstein2
from .sampling import (AnnealedLangevinRun, UnstableStepWarning, annealed_langevin, as_piecewise_linear, check_step,
                       default_step, lipschitz_constant)
from .torch_net import TorchTwoLayerNet, torch_dsm_loss, torch_sm_loss, trace_term_gradients

# --- multivariate: arrangements and programs (issue 5) ---
from . import multivariate
from .multivariate import (Arrangement, arrangement_patterns, cell_count_bound, cone_constrained_fit,
                           convex_denoising_score_matching, convex_score_matching, finite_pattern_subset,
                           reconstruct_network)  # the multivariate result class stays convexscore.multivariate.ConvexFit

# --- fast 1-D solver and paths (issue 10) ---
from .univariate.fast import FastResult, solve_fast
from .univariate.fast_path import fit_path

# --- kernel view (issue 11) ---
from . import kernel
from .kernel import (compare_network_and_kernel, dsm_regression_data, empirical_ntk, kernel_gd_path, ou_dsm_data,
                     relu_ntk, rwy_stopping_rule)

# --- learned densities (issue 7) ---
from .density import PiecewiseGaussianDensity, kl_divergence_on_grid

__version__ = "0.1.0"
