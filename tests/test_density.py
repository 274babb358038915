"""Exact densities of piecewise-linear scores (lib/convexscore/density.py), checked against quadrature and scipy."""
import numpy as np
import pytest
from scipy import integrate, stats

from convexscore import TwoLayerNet
from convexscore.density import PiecewiseGaussianDensity, kl_divergence_on_grid


def quad_reference(dens, g=lambda x: 1.0):
    """∫ g(x) pdf(x) dx by adaptive quadrature, piece by piece (pdf from the tabulated log-density formula)."""
    edges = np.concatenate([[-np.inf], dens.knots, [np.inf]])
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        val, _ = integrate.quad(lambda x: g(x) * np.exp(dens.logpdf(np.array(x))), lo, hi,
                                epsabs=0, epsrel=1e-12, limit=200)
        total += val
    return total


def random_density(seed):
    """A random normalisable piecewise-linear score with several pieces, some with positive slope."""
    rng = np.random.default_rng(seed)
    knots = np.sort(rng.uniform(-3, 3, size=rng.integers(2, 7)))
    values = rng.normal(0, 2, size=knots.size)
    values[0], values[-1] = abs(values[0]) + 0.1, -abs(values[-1]) - 0.1
    left, right = -rng.uniform(0, 2), -rng.uniform(0, 2)
    if seed % 3 == 0:
        left = right = 0.0  # Laplace tails
    return PiecewiseGaussianDensity(knots, values, left, right)


def test_gaussian_score_gives_the_gaussian():
    mu, s, k = 0.7, 1.3, -0.4
    dens = PiecewiseGaussianDensity([k], [-(k - mu) / s**2], -1 / s**2, -1 / s**2)
    assert dens.log_normaliser == pytest.approx(np.log(np.sqrt(2 * np.pi) * s) + (k - mu) ** 2 / (2 * s**2), abs=1e-12)
    x = np.linspace(-4, 5, 13)
    np.testing.assert_allclose(dens.logpdf(x), stats.norm.logpdf(x, mu, s), atol=1e-12)
    np.testing.assert_allclose(dens.cdf(x), stats.norm.cdf(x, mu, s), atol=1e-13)
    q = np.array([1e-10, 0.01, 0.3, 0.5, 0.9, 1 - 1e-9])
    np.testing.assert_allclose(dens.ppf(q), stats.norm.ppf(q, mu, s), atol=1e-8)
    mean, var = dens.moments()
    assert mean == pytest.approx(mu, abs=1e-12) and var == pytest.approx(s**2, abs=1e-12)
    assert dens.lipschitz == pytest.approx(1 / s**2) and dens.is_log_concave


@pytest.mark.parametrize("seed", range(9))
def test_mass_cdf_and_moments_match_quadrature(seed):
    dens = random_density(seed)
    assert quad_reference(dens) == pytest.approx(1.0, abs=1e-9)
    mean, var = dens.moments()
    assert mean == pytest.approx(quad_reference(dens, lambda x: x), abs=1e-8)
    assert var + mean**2 == pytest.approx(quad_reference(dens, lambda x: x * x), rel=1e-8)
    for x in np.concatenate([dens.knots, dens.knots + 0.37, [-6.0, 6.0]]):
        edges = np.concatenate([[-np.inf], dens.knots[dens.knots < x], [x]])
        ref = sum(integrate.quad(lambda y: np.exp(dens.logpdf(np.array(y))), lo, hi, epsabs=1e-14, limit=200)[0]
                  for lo, hi in zip(edges[:-1], edges[1:]))
        assert float(dens.cdf(x)) == pytest.approx(ref, abs=1e-8)


@pytest.mark.parametrize("seed", range(6))
def test_ppf_inverts_cdf_and_samples_follow_the_law(seed):
    dens = random_density(seed)
    q = np.linspace(0.001, 0.999, 101)
    np.testing.assert_allclose(dens.cdf(dens.ppf(q)), q, atol=1e-9)
    x = dens.sample(4000, rng=seed)
    assert stats.kstest(x, dens.cdf).pvalue > 1e-3


def test_score_and_slopes_agree_with_the_input():
    dens = random_density(4)
    np.testing.assert_allclose(dens.score(dens.knots), dens.values, atol=1e-12)
    h = 1e-6
    x = np.linspace(-5, 5, 41) + 1e-3
    np.testing.assert_allclose((dens.logpdf(x + h) - dens.logpdf(x - h)) / (2 * h), dens.score(x), atol=1e-5)


def test_extreme_tail_pieces_stay_finite():
    # A narrow Gaussian far to the left of a knot interval [30, 31]: masses of order exp(-450).
    dens = PiecewiseGaussianDensity([0.0, 30.0, 31.0], [0.0, -30.0, -31.0], -1.0, -1.0)
    assert np.isfinite(dens.log_normaliser)
    assert np.all(np.isfinite(dens.cdf(np.array([29.0, 30.5, 40.0]))))
    assert float(dens.cdf(30.5)) == pytest.approx(stats.norm.cdf(30.5), abs=1e-15)


def test_two_neuron_relu_network_density():
    # Score (7) with alpha = 1/2 built as a network: two ramps with kinks at x1 and xn.
    x1, xn, xbar, t, a = -1.0, 2.0, 0.3, 0.8, 0.5
    b0 = a * t * (xbar - x1) - (1 - a) * t * (xn - xbar)
    net = TwoLayerNet(W1=[[np.sqrt(a * t)], [-np.sqrt((1 - a) * t)]],
                      b1=[-np.sqrt(a * t) * x1, np.sqrt((1 - a) * t) * xn],
                      W2=[[-np.sqrt(a * t)], [np.sqrt((1 - a) * t)]], b2=[b0])
    dens = PiecewiseGaussianDensity.from_network(net)
    np.testing.assert_allclose(dens.knots, [x1, xn])
    np.testing.assert_allclose(dens.slopes, [-(1 - a) * t, -t, -a * t], atol=1e-12)
    assert dens.lipschitz == pytest.approx(t) and dens.is_log_concave
    np.testing.assert_allclose(dens.score(np.array([0.0, 1.0])), -t * (np.array([0.0, 1.0]) - xbar), atol=1e-12)


def test_non_normalisable_scores_raise():
    with pytest.raises(ValueError, match="right"):
        PiecewiseGaussianDensity([0.0, 1.0], [1.0, 0.0], -1.0, 0.5)   # increasing right tail
    with pytest.raises(ValueError, match="right"):
        PiecewiseGaussianDensity([0.0, 1.0], [1.0, 0.2], -1.0, 0.0)   # flat right tail with positive score
    with pytest.raises(ValueError, match="left"):
        PiecewiseGaussianDensity([0.0, 1.0], [-0.5, -1.0], 0.0, -1.0)  # flat left tail with negative score
    with pytest.raises(ValueError, match="strictly increasing"):
        PiecewiseGaussianDensity([1.0, 0.0], [0.0, 0.0], -1.0, -1.0)
    with pytest.raises(ValueError, match="finite"):
        PiecewiseGaussianDensity([0.0], [np.nan], -1.0, -1.0)


def test_kl_on_grid_matches_gaussian_formula():
    x = np.linspace(-12, 12, 24001)
    dx = x[1] - x[0]
    p = stats.norm.pdf(x, 0.5, 1.2)
    kl = kl_divergence_on_grid(p, stats.norm.logpdf(x, 0.0, 1.0), dx)
    exact = np.log(1 / 1.2) + (1.2**2 + 0.5**2) / 2 - 0.5
    assert kl == pytest.approx(exact, abs=1e-8)
    with pytest.raises(ValueError):
        kl_divergence_on_grid(-p, stats.norm.logpdf(x), dx)
