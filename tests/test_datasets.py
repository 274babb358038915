"""Toy laws: densities integrate to one, scores are gradients of log-densities, samplers draw from the law."""
import numpy as np
import pytest
from scipy import integrate

from convexscore import datasets as D

LAWS_1D = [D.Gaussian(0.5, 1.5), D.two_mode_mixture(), D.GaussianMixture([-1, 0, 3], [0.3, 1, 0.5], [1, 2, 1]),
           D.SmoothedUniform(-1, 2, 0.2)]


@pytest.mark.parametrize("law", LAWS_1D, ids=repr)
def test_1d_density_integrates_to_one_and_score_is_gradient(law):
    total = integrate.quad(lambda t: law.density(np.array([t]))[0], -30, 30, limit=200)[0]
    assert total == pytest.approx(1.0, abs=1e-8)
    x = np.linspace(-4, 5, 37)
    e = 1e-5
    fd = (law.log_density(x + e) - law.log_density(x - e)) / (2 * e)
    np.testing.assert_allclose(law.score(x), fd, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("law", LAWS_1D, ids=repr)
def test_1d_sampler_moments(law):
    s = law.sample(200_000, rng=0)
    g = np.linspace(-30, 30, 600_001)
    p = law.density(g)
    mean = np.trapezoid(g * p, g)
    var = np.trapezoid((g - mean) ** 2 * p, g)
    assert s.shape == (200_000,)
    assert abs(s.mean() - mean) < 5 * np.sqrt(var / s.size)
    assert s.var() == pytest.approx(var, rel=0.02)


@pytest.mark.parametrize("law", [D.Ring(2.0, 0.25), D.Ring(0.3, 0.5), D.GaussianMixture([[-1, 0], [1.5, 1]], [0.5, 0.8])],
                         ids=repr)
def test_2d_density_score_and_sampler(law):
    g = np.linspace(-6, 6, 801)
    XX, YY = np.meshgrid(g, g)
    P = law.density(np.column_stack([XX.ravel(), YY.ravel()])).reshape(XX.shape)
    assert np.trapezoid(np.trapezoid(P, g, axis=1), g) == pytest.approx(1.0, abs=1e-6)
    pts = np.random.default_rng(1).uniform(-2.5, 2.5, (40, 2))
    e = 1e-6
    fd = np.column_stack([(law.log_density(pts + e * u) - law.log_density(pts - e * u)) / (2 * e)
                          for u in np.eye(2)])
    np.testing.assert_allclose(law.score(pts), fd, rtol=1e-5, atol=1e-5)
    s = law.sample(100_000, rng=2)
    assert s.shape == (100_000, 2)
    mean_sq = np.trapezoid(np.trapezoid(P * (XX**2 + YY**2), g, axis=1), g)
    assert np.mean(np.sum(s**2, 1)) == pytest.approx(mean_sq, rel=0.02)


def test_smoothed_uniform_tails_stay_finite():
    law = D.SmoothedUniform(-1, 1, 0.1)
    s = law.score(np.array([-60.0, 60.0]))
    u = -59.0 / 0.1  # far left, the score is phi(u) / (sigma Phi(u)) = (-u - 1/u + O(u^-3)) / sigma
    np.testing.assert_allclose(s, [(-u - 1 / u) / 0.1, (u + 1 / u) / 0.1], rtol=1e-9)


def test_uniform_score_only_inside_support():
    u = D.Uniform(0, 2)
    np.testing.assert_array_equal(u.score(np.array([0.0, 1.0, 2.0])), 0.0)
    with pytest.raises(ValueError, match="SmoothedUniform"):
        u.score(np.array([3.0]))
    assert u.smoothed(0.1) == D.SmoothedUniform(0, 2, 0.1)


def test_old_faithful():
    data = D.load_old_faithful()
    assert data.shape == (272, 2)
    np.testing.assert_allclose(data[0], [3.6, 79.0])
    np.testing.assert_array_equal(D.load_old_faithful("waiting"), data[:, 1])
    assert 1.5 < data[:, 0].min() < data[:, 0].max() < 5.2
    with pytest.raises(ValueError, match="unknown column"):
        D.load_old_faithful("duration")


def test_bad_parameters():
    with pytest.raises(ValueError, match="stds"):
        D.GaussianMixture([0, 1], stds=[1, -1])
    with pytest.raises(ValueError, match="weights"):
        D.GaussianMixture([0, 1], weights=[1, 2, 3])
    with pytest.raises(ValueError, match="a < b"):
        D.Uniform(1, 0)
    with pytest.raises(ValueError, match="2-D"):
        D.Ring().score(np.zeros(3))
    with pytest.raises(ValueError, match="positive integer"):
        D.Gaussian().sample(0)
