"""The kernel view of score estimation: NTK, DSM as noisy regression, kernel GD and early stopping (Chapter 12)."""
from .dsm_regression import (
    DSMRegressionData,
    OUDSMData,
    dsm_regression_data,
    label_noise_variance,
    ou_dsm_data,
    ou_score,
    ou_sigma,
)
from .early_stopping import (
    StoppingRule,
    critical_radius,
    interpolant_norm,
    local_rademacher,
    oracle_stop,
    rwy_stopping_rule,
    rwy_stopping_step,
)
from .kernel_gd import KernelGDPath, LazyComparison, compare_network_and_kernel, kernel_gd_path
from .ntk import arccos_kernel, augment, relu_ntk, relu_ntk_parts
from .wide_net import NetworkGDRun, NTKNet, empirical_ntk, init_ntk_net, train_network_gd

__all__ = [
    "DSMRegressionData", "OUDSMData", "dsm_regression_data", "label_noise_variance",
    "ou_dsm_data", "ou_score", "ou_sigma", "StoppingRule", "critical_radius", "interpolant_norm", "local_rademacher", "oracle_stop",
    "rwy_stopping_rule", "rwy_stopping_step", "KernelGDPath", "LazyComparison", "compare_network_and_kernel",
    "kernel_gd_path", "arccos_kernel", "augment", "relu_ntk", "relu_ntk_parts", "NetworkGDRun", "NTKNet",
    "empirical_ntk", "init_ntk_net", "train_network_gd",
]
