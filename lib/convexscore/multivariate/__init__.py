"""Multivariate convex score matching: arrangement patterns, programs (5)/(6)/(11), cone decompositions."""
from .arrangements import Arrangement, arrangement_patterns, cell_count_bound, central_cells, lift, paper_count_bound
from .cones import ConeFit, cone_constrained_fit, cone_interior_point, optimal_split, reconstruct_network, split_in_cone
from .programs import (
    SOLVERS,
    MultivariateFit,
    PatternSet,
    as_pattern_set,
    convex_denoising_score_matching,
    convex_score_matching,
    deficient_patterns,
    finite_pattern_subset,
    pattern_features,
    program_value,
    trace_matrix,
)

__all__ = [
    "Arrangement", "arrangement_patterns", "cell_count_bound", "central_cells", "lift", "paper_count_bound",
    "ConeFit", "cone_constrained_fit", "cone_interior_point", "optimal_split", "reconstruct_network", "split_in_cone",
    "SOLVERS", "MultivariateFit", "PatternSet", "as_pattern_set", "convex_denoising_score_matching",
    "convex_score_matching", "deficient_patterns", "finite_pattern_subset", "pattern_features", "program_value",
    "trace_matrix",
]
