"""First-order solvers (ADMM, FISTA) for the nuclear-norm programs: agreement with CVXPY, an honest certificate,
honest non-convergence, certified unboundedness."""
import numpy as np
import pytest

from convexscore.errors import SolverError
from convexscore.multivariate import (
    arrangement_patterns,
    convex_denoising_score_matching,
    convex_score_matching,
    finite_pattern_subset,
    pattern_features,
    program_value,
)
from convexscore.multivariate.first_order import GramProblem

# stated tolerance: stop at a certified relative gap of 1e-8; CVXPY/Clarabel is accurate to about 1e-8 relative
TOL, AGREE = 1e-8, 1e-6


def _dsm_case(n=60, d=3, gates=12, bias=True, seed=0):
    rng = np.random.default_rng(seed)
    X, Z, sigma = rng.standard_normal((n, d)), rng.standard_normal((n, d)), 0.5
    arr = arrangement_patterns(X + sigma * Z, "sampled", n_gates=gates, bias=bias, rng=seed + 1)
    return X, Z, sigma, arr


@pytest.mark.parametrize("solver", ["admm", "fista"])
@pytest.mark.parametrize("bias,activation", [(True, "relu"), (False, "relu"), (True, "abs")])
def test_dsm_first_order_agrees_with_cvxpy(solver, bias, activation):
    X, Z, sigma, arr = _dsm_case(bias=bias)
    ref = convex_denoising_score_matching(X, Z, sigma, arr, 1.0, activation=activation, solver="cvxpy")
    fit = convex_denoising_score_matching(X, Z, sigma, arr, 1.0, activation=activation, solver=solver, tol=TOL)
    assert fit.status == "converged" and fit.gap <= TOL
    assert fit.value == pytest.approx(ref.value, rel=AGREE)
    # the returned W really has the returned value, and the certificate bounds its suboptimality
    Y = -Z / sigma
    assert program_value(fit, fit.inputs, fit.pattern_set, "dsm", activation, 1.0, Y=Y) == pytest.approx(fit.value,
                                                                                                          rel=1e-10)
    assert fit.value - ref.value <= fit.gap * abs(fit.value) + 1e-8 * abs(ref.value)
    np.testing.assert_allclose(fit.W, ref.W, atol=1e-3 * np.abs(ref.W).max())


@pytest.mark.parametrize("solver", ["admm", "fista"])
def test_sm_first_order_agrees_with_cvxpy(solver):
    X = np.random.default_rng(1).standard_normal((80, 2))
    arr = arrangement_patterns(X, "sampled", n_gates=40, bias=True, rng=2)
    pset = finite_pattern_subset(X, arr, max_patterns=10)
    ref = convex_score_matching(X, pset, 2.0, solver="cvxpy")
    fit = convex_score_matching(X, pset, 2.0, solver=solver, tol=TOL)
    assert fit.status == "converged" and fit.gap <= TOL
    assert fit.value == pytest.approx(ref.value, rel=AGREE)
    # the full bias-free arrangement with beta = 8 (no anchor-free shortcut: G is not in the range of A^T there)
    Xg = np.random.default_rng(0).standard_normal((30, 2))
    cells = arrangement_patterns(Xg)
    ref2 = convex_score_matching(Xg, cells, 8.0, solver="cvxpy")
    fit2 = convex_score_matching(Xg, cells, 8.0, solver=solver, tol=TOL, max_iter=50000)
    assert fit2.value == pytest.approx(ref2.value, rel=AGREE)
    assert fit2.status == "converged" or (fit2.status == "max_iter" and not np.isfinite(fit2.gap))


def test_certificate_bounds_the_suboptimality_of_any_point():
    X, Z, sigma, arr = _dsm_case(seed=3)
    ref = convex_denoising_score_matching(X, Z, sigma, arr, 1.0, solver="cvxpy")
    A, _ = pattern_features(ref.inputs, ref.pattern_set)
    # the same scaled problem the library solves (bias row times R, beta / sqrt 2)
    n, P, k = A.shape
    d = X.shape[1]
    R = float(np.linalg.norm(ref.inputs, axis=1).max())
    A[:, :, d] *= R
    Y = ref.targets - ref.targets.mean(axis=0)
    prob = GramProblem(A.reshape(n, P * k), None, Y, 1.0 / np.sqrt(2.0), P, k, d)
    Wopt = ref.W.copy()
    Wopt[:, d, :] /= R
    rng = np.random.default_rng(0)
    import torch

    for scale in (1e-4, 1e-2, 1.0):
        W = torch.as_tensor((Wopt + scale * rng.standard_normal(Wopt.shape)).reshape(P * k, d))
        primal, dual, rel = prob.certificate(W, prob.hmv(W))
        assert dual <= ref.value + 1e-7 * abs(ref.value)  # weak duality
        assert primal - ref.value <= rel * max(abs(primal), abs(dual)) + 1e-7 * abs(ref.value)
        assert primal == pytest.approx(program_value((W.numpy().reshape(P, k, d) * np.r_[np.ones(d), R][:, None]),
                                                     ref.inputs, ref.pattern_set, "dsm", "relu", 1.0,
                                                     Y=ref.targets), rel=1e-10)


@pytest.mark.parametrize("solver", ["admm", "fista"])
def test_non_convergence_is_reported(solver):
    X, Z, sigma, arr = _dsm_case(n=200, d=4, gates=30)
    with pytest.raises(SolverError, match="max_iter") as err:
        convex_denoising_score_matching(X, Z, sigma, arr, 1.0, solver=solver, tol=1e-12, max_iter=10)
    assert err.value.status == "max_iter" and np.isfinite(err.value.gap) and err.value.gap > 1e-12
    fit = convex_denoising_score_matching(X, Z, sigma, arr, 1.0, solver=solver, tol=1e-12, max_iter=10,
                                          require_certificate=False)
    assert fit.status == "max_iter" and fit.iterations == 10 and not fit.certified
    assert np.isfinite(fit.gap) and fit.gap > 1e-12


@pytest.mark.parametrize("solver", ["admm", "fista"])
def test_unbounded_program_gives_a_certified_ray(solver):
    X = np.random.default_rng(0).standard_normal((30, 2))
    cells = arrangement_patterns(X)
    assert not convex_score_matching(X, cells, 0.5, solver="cvxpy").finite
    fit = convex_score_matching(X, cells, 0.5, solver=solver)
    assert not fit.finite and fit.value == -np.inf
    assert fit.status.startswith("unbounded")
    A, _ = pattern_features(X, fit.pattern_set)
    D = fit.direction
    assert np.abs(np.einsum("npk,pkd->nd", A, D)).max() <= 1e-6 * np.abs(D).max() * np.abs(A).max()
    vals = [program_value(t * D, X, fit.pattern_set, "sm", "relu", 0.5) for t in (0.0, 10.0, 100.0)]
    assert vals[1] == pytest.approx(-10.0, rel=1e-6) and vals[2] == pytest.approx(-100.0, rel=1e-6)
    assert vals[0] == 0.0


def test_auto_uses_admm_for_large_programs():
    X, Z, sigma, arr = _dsm_case(n=200, d=4, gates=40)
    assert arr.n_patterns * 5 * 4 > 600
    fit = convex_denoising_score_matching(X, Z, sigma, arr, 1.0)
    assert fit.solver == "admm" and fit.status == "converged" and fit.gap <= 1e-6
