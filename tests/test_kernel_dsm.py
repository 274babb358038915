"""DSM as regression: exact mixture scores, Tweedie's formula, and the OU forward process."""
import numpy as np
import pytest

from convexscore.datasets import GaussianMixture
from convexscore.kernel import (
    dsm_regression_data,
    label_noise_variance,
    ou_dsm_data,
    ou_score,
    ou_sigma,
)

LAW = GaussianMixture([-2.0, 1.5], [0.5, 0.8], [0.3, 0.7])


def test_score_and_its_derivative_match_finite_differences():
    x, h = np.linspace(-5, 5, 41), 1e-5
    fd_score = (LAW.log_density(x + h) - LAW.log_density(x - h)) / (2 * h)
    assert np.allclose(LAW.score(x), fd_score, atol=1e-6)
    fd_deriv = (LAW.score(x + h) - LAW.score(x - h)) / (2 * h)
    assert np.allclose(LAW.score_derivative(x), fd_deriv, atol=1e-5)
    grid = np.linspace(-12, 12, 20001)
    assert np.trapezoid(np.exp(LAW.log_density(grid)), grid) == pytest.approx(1.0, abs=1e-8)


def test_tweedie_label_mean_and_variance():
    """E[label h(y)] = E[s_sigma(y) h(y)] for test functions h, and E[(label - s)^2] = E[Var(label | y)]."""
    d = dsm_regression_data(LAW, 400_000, 0.6, rng=3)
    for h in (np.ones_like, np.tanh, lambda y: np.exp(-(y**2))):
        diff = (d.labels - d.target) * h(d.inputs)
        assert abs(diff.mean()) < 5 * diff.std() / np.sqrt(diff.size)
    resid2 = (d.labels - d.target) ** 2
    var = label_noise_variance(LAW, 0.6, d.inputs)
    assert abs(resid2.mean() - var.mean()) < 5 * resid2.std() / np.sqrt(resid2.size)


def test_ou_marginals_and_scores():
    assert np.allclose(ou_sigma([0.1, 1.0]), np.sqrt(1 - np.exp([-0.2, -2.0])))
    x = np.linspace(-3, 3, 7)
    for t in (0.05, 0.7, 3.0):
        assert np.allclose(ou_score(LAW, x, np.full_like(x, t)), LAW.ou_marginal(t).score(x), rtol=1e-12)
    far = LAW.ou_marginal(30.0)  # the OU process forgets its start: the marginal tends to N(0, 1)
    assert np.allclose(far.score(x), -x, atol=1e-10)
    d = ou_dsm_data(LAW, 200_000, 0.1, 2.0, rng=1)
    assert d.inputs.shape == (200_000, 2)
    diff = d.labels - d.target
    w = d.sigma_t**2 * diff  # the labels' noise is 1/sigma_t; weight it away before averaging
    assert abs(w.mean()) < 5 * w.std() / np.sqrt(w.size)


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="weights must be"):
        GaussianMixture([0, 1], [1, 1], [0.3, -0.3])
    with pytest.raises(ValueError, match="sigma"):
        dsm_regression_data(LAW, 10, 0.0, rng=0)
    with pytest.raises(ValueError, match="t_min < t_max"):
        ou_dsm_data(LAW, 10, 1.0, 0.5, rng=0)
    with pytest.raises(ValueError, match="> 0"):
        ou_sigma(0.0)
