"""Hypothesis property tests for the 1-D convex fits (few, small examples: they run in a few seconds)."""
import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from convexscore import (
    denoising_score_matching_loss,
    fit_denoising_score_matching,
    fit_score_matching,
    score_matching_loss,
    unboundedness_threshold,
)

SETTINGS = settings(max_examples=12, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

# data on a grid of step 0.25 (so repeated values are common), shifted by an arbitrary offset
grid_data = st.lists(st.integers(-12, 12), min_size=3, max_size=12).map(lambda v: np.array(v, dtype=float) * 0.25)


@SETTINGS
@given(
    data=grid_data,
    offset=st.floats(-50, 50),
    factor=st.floats(1.05, 4.0),
    activation=st.sampled_from(["relu", "abs"]),
    skip=st.booleans(),
)
def test_sm_fit_is_attained_certified_and_solver_independent(data, offset, factor, activation, skip):
    assume(np.unique(data).size >= 2)
    x = data + offset
    beta = factor * unboundedness_threshold(x, activation, skip)
    fit = fit_score_matching(x, beta, activation, skip)
    scale = max(1.0, abs(fit.value))
    assert abs(score_matching_loss(fit.net, x, beta) - fit.value) <= 1e-7 * scale
    cert = fit.certificate
    assert cert.feasible
    assert cert.lower_bound <= fit.value + 1e-9 * scale
    assert cert.gap <= 1e-6 * scale
    dense = fit_score_matching(x, beta, activation, skip, solver="cvxpy-dense")
    assert abs(dense.value - fit.value) <= 1e-7 * scale
    # weak duality for ANY network: a random network never beats the certified lower bound
    rng = np.random.default_rng(len(data))
    from convexscore import TwoLayerNet

    for _ in range(3):
        m = 4
        net = TwoLayerNet(rng.normal(size=(m, 1)), rng.normal(size=m) * 2, rng.normal(size=(m, 1)), rng.normal(size=1),
                          V=rng.normal(size=(1, 1)) if skip else None, activation=activation)
        assert score_matching_loss(net, x, beta) >= cert.lower_bound - 1e-9 * scale


@SETTINGS
@given(
    data=grid_data,
    seed=st.integers(0, 2**16),
    sigma=st.floats(0.05, 2.0),
    beta=st.floats(0.01, 20.0),
    activation=st.sampled_from(["relu", "abs"]),
    skip=st.booleans(),
)
def test_dsm_fit_is_attained_and_certified(data, seed, sigma, beta, activation, skip):
    z = np.random.default_rng(seed).standard_normal(data.size)
    fit = fit_denoising_score_matching(data, z, sigma, beta, activation, skip)
    scale = max(1.0, abs(fit.value))
    assert abs(denoising_score_matching_loss(fit.net, data, z, sigma, beta) - fit.value) <= 1e-8 * scale
    assert fit.certificate.feasible and fit.certificate.gap <= 1e-6 * scale
