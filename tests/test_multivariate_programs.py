"""Multivariate convex SM / DSM: Remark 3.3, finiteness detection, network reconstruction, beta > 0 bounds."""
import numpy as np
import pytest

from convexscore.multivariate import (
    arrangement_patterns,
    cone_constrained_fit,
    convex_denoising_score_matching,
    convex_score_matching,
    finite_pattern_subset,
    pattern_features,
    program_value,
    reconstruct_network,
)
from convexscore.network import denoising_score_matching_loss, score_matching_loss


@pytest.fixture(scope="module")
def data():
    return np.random.default_rng(0).standard_normal((30, 2)) @ np.array([[1.0, 0.0], [0.6, 0.5]])


def test_remark_3_3_single_all_ones_pattern_is_empirical_precision(data):
    n, d = data.shape
    fit = convex_score_matching(data, np.ones((n, 1), bool), bias=False)
    assert fit.finite
    np.testing.assert_allclose(fit.W[0], -np.linalg.inv(data.T @ data / n), atol=1e-10)
    # with a bias the same pattern gives the centred precision: the Gaussian fit with sample mean and covariance
    fitb = convex_score_matching(data, np.ones((n, 1), bool), bias=True)
    cov = np.cov(data.T, bias=True)
    np.testing.assert_allclose(fitb.W[0][:d], -np.linalg.inv(cov), atol=1e-10)
    # optimal value -(n / 2) tr(Sigma^-1)
    assert fitb.value == pytest.approx(-0.5 * n * np.trace(np.linalg.inv(cov)))


def test_full_pattern_set_is_unbounded_and_the_ray_is_a_real_network(data):
    arr = arrangement_patterns(data)
    fit = convex_score_matching(data, arr)
    assert not fit.finite and fit.value == -np.inf
    # along the certificate the network's own loss decreases linearly without bound
    losses = [score_matching_loss(reconstruct_network(fit, W=t * fit.direction), data, 0.0) for t in (10.0, 1000.0)]
    assert losses[0] == pytest.approx(-10.0, abs=1e-6)
    assert losses[1] == pytest.approx(-1000.0, abs=1e-4)


def test_deficient_pattern_is_detected_exactly():
    X = np.random.default_rng(3).standard_normal((12, 3))
    one_active = np.zeros((12, 1), bool)
    one_active[int(np.argmax(X[:, 0])), 0] = True
    pats = np.hstack([np.ones((12, 1), bool), one_active])
    fit = convex_score_matching(X, pats, bias=False)
    assert list(fit.deficient) == [1] and not fit.finite


@pytest.mark.parametrize("activation", ["relu", "abs"])
@pytest.mark.parametrize("bias", [False, True])
def test_beta0_reconstruction_attains_the_program_value(activation, bias):
    X = np.random.default_rng(1).standard_normal((80, 2))
    arr = arrangement_patterns(X, "sampled", n_gates=60, bias=bias, rng=2)
    pset = finite_pattern_subset(X, arr, activation=activation)
    assert pset.patterns.shape[1] >= 3
    fit = convex_score_matching(X, pset, activation=activation)
    assert fit.finite
    net = reconstruct_network(fit)
    assert net.width <= 2 * 2 * pset.patterns.shape[1]
    assert score_matching_loss(net, X, 0.0) == pytest.approx(fit.value, rel=1e-7)


def test_beta0_optimum_is_stationary_and_beats_perturbations(data):
    arr = arrangement_patterns(data, "sampled", n_gates=40, rng=5)
    pset = finite_pattern_subset(data, arr)
    fit = convex_score_matching(data, pset)
    rng = np.random.default_rng(0)
    for _ in range(5):
        W = fit.W + 1e-3 * rng.standard_normal(fit.W.shape)
        assert program_value(W, data, pset, "sm", "relu", 0.0) > fit.value


@pytest.mark.parametrize("bias", [False, True])
def test_dsm_beta0_closed_form_matches_network(bias):
    rng = np.random.default_rng(4)
    X, Z, sigma = rng.standard_normal((40, 2)), rng.standard_normal((40, 2)), 0.5
    arr = arrangement_patterns(X + sigma * Z, "sampled", n_gates=8, bias=bias, rng=1)
    fit = convex_denoising_score_matching(X, Z, sigma, arr)
    net = reconstruct_network(fit)
    assert denoising_score_matching_loss(net, X, Z, sigma, 0.0) == pytest.approx(fit.value, rel=1e-8)
    assert fit.value < 0.5 * np.sum((Z / sigma) ** 2)


def test_beta_positive_sandwich_lower_network_upper(data):
    beta = 8.0
    arr = arrangement_patterns(data)
    lower = convex_score_matching(data, arr, beta, solver="cvxpy")
    assert lower.finite and lower.status == "optimal"
    cone = cone_constrained_fit(data, arr, beta)
    net_up, upper = cone.net, cone.value
    assert lower.value <= upper + 1e-6
    assert score_matching_loss(net_up, data, beta) == pytest.approx(upper, rel=1e-5, abs=1e-5)
    # the network built from the relaxation reproduces its output and trace exactly; only the penalty is larger
    net_lo = reconstruct_network(lower)
    assert score_matching_loss(net_lo, data, beta) >= lower.value
    A, _ = pattern_features(data, lower.pattern_set)
    np.testing.assert_allclose(net_lo(data), np.einsum("npk,pkd->nd", A, lower.W), atol=1e-6)


def test_fista_matches_cvxpy_on_dsm_and_sm(data):
    rng = np.random.default_rng(7)
    Z, sigma = rng.standard_normal(data.shape), 0.3
    arr = arrangement_patterns(data + sigma * Z, "sampled", n_gates=30, bias=True, rng=3)
    a = convex_denoising_score_matching(data, Z, sigma, arr, 1.0, solver="cvxpy")
    b = convex_denoising_score_matching(data, Z, sigma, arr, 1.0, solver="fista")
    assert b.status == "converged"
    assert b.value == pytest.approx(a.value, rel=1e-5)
    arr2 = arrangement_patterns(data)
    c = convex_score_matching(data, arr2, 8.0, solver="cvxpy")
    e = convex_score_matching(data, arr2, 8.0, solver="fista")
    assert e.value == pytest.approx(c.value, rel=1e-5)


def test_unbounded_beta_detected_by_both_solvers(data):
    arr = arrangement_patterns(data)
    assert not convex_score_matching(data, arr, 0.5, solver="cvxpy").finite
    assert not convex_score_matching(data, arr, 0.5, solver="fista").finite


def test_bad_input_raises(data):
    pats = np.ones((30, 1), bool)
    with pytest.raises(ValueError, match="at least 3"):
        convex_score_matching(data[:2], np.ones((2, 1), bool), bias=True)
    with pytest.raises(ValueError, match="NaN"):
        convex_score_matching(np.where(data > 2, np.nan, data), pats, bias=False)
    with pytest.raises(ValueError, match="bias"):
        convex_score_matching(data, pats)
    with pytest.raises(ValueError, match="patterns are for"):
        convex_score_matching(data[:10], pats, bias=False)
    with pytest.raises(ValueError, match="closed form"):
        convex_score_matching(data, pats, 1.0, bias=False, solver="closed")
    with pytest.raises(ValueError, match="noise"):
        convex_denoising_score_matching(data, data[:5], 0.1, pats, bias=False)
    with pytest.raises(ValueError, match="sigma"):
        convex_denoising_score_matching(data, data, 0.0, pats, bias=False)
