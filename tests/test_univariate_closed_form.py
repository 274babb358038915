"""Closed forms of section 3.3 / A.5-A.7 against the solver, and the piecewise-linear form of a fitted score."""
import numpy as np
import pytest

from convexscore import (
    denoising_score_matching_loss,
    fit_denoising_score_matching,
    fit_score_matching,
    gaussian_skip_network,
    gaussian_skip_threshold,
    gaussian_skip_value,
    piecewise_linear,
    score_matching_loss,
    two_neuron_network,
    two_neuron_score,
    two_neuron_threshold,
    two_neuron_value,
    unboundedness_threshold,
    zero_network_threshold,
)


def samples(seed, n=15):
    return np.random.default_rng(seed).standard_normal(n)


@pytest.mark.parametrize("activation", ["relu", "abs"])
def test_zero_network_from_beta_n(activation):
    x = samples(1, 12)
    n = x.size
    assert zero_network_threshold(x, activation) == n
    for beta in (n, 1.001 * n, 1.5 * n):
        fit = fit_score_matching(x, beta, activation)
        assert abs(fit.value) < 1e-9 and fit.certificate.lower_bound > -1e-8
        np.testing.assert_allclose(fit.net(x), 0.0, atol=1e-6)
        if beta > n:  # at beta = n exactly the solver may leave a neuron of size ~1e-7 (degenerate optimum)
            assert fit.width == 0
    assert fit_score_matching(x, 0.97 * n, activation).value < -1e-6  # just below n something is learned


@pytest.mark.parametrize("activation", ["relu", "abs"])
def test_two_neuron_regime_value_score_and_threshold(activation):
    lo = "relu" if activation == "relu" else "abs"
    for seed in (3, 4):
        x = samples(seed)
        n = x.size
        bt = max(two_neuron_threshold(x, activation), unboundedness_threshold(x, activation))
        assert bt < n
        probe = np.linspace(x.min() - 2, x.max() + 2, 81)
        for beta in (bt + 0.02 * (n - bt), 0.5 * (bt + n)):
            fit = fit_score_matching(x, beta, activation)
            scale = abs(fit.value)
            assert abs(fit.value - two_neuron_value(x, beta)) <= 1e-7 * scale
            # at most the two extreme neurons: the first column and the left ramp / abs at the largest point (the
            # optimum is not unique, see below: a solver may return either end of the family, alpha = 0 or 1)
            K = fit.knots.size
            last = 3 * K - 1 if lo == "relu" else 2 * K - 1
            support = set(np.flatnonzero(np.abs(fit.z) > 1e-7 * np.abs(fit.z).max()).tolist())
            assert support and support <= {0, last}
            # the score is (7) / (24) with the solver's alpha read off the first weight
            t = (n - beta) / (n * x.var())
            alpha = -fit.z[0] / t
            assert -1e-6 <= alpha <= 1 + 1e-6 and abs(fit.z[last] - (1 - alpha) * t) <= 1e-6 * t
            np.testing.assert_allclose(fit.net(probe), two_neuron_score(probe, x, beta, activation, alpha), atol=1e-6)
            # every alpha in [0, 1] is optimal
            for a in (0.0, 0.3, 1.0):
                net = two_neuron_network(x, beta, activation, a)
                assert abs(score_matching_loss(net, x, beta) - fit.value) <= 1e-7 * scale
                np.testing.assert_allclose(net(probe), two_neuron_score(probe, x, beta, activation, a), atol=1e-8)
        # just below the threshold an interior neuron appears and the value drops below the closed form
        if two_neuron_threshold(x, activation) > unboundedness_threshold(x, activation) + 0.5:
            beta = two_neuron_threshold(x, activation) - 0.3
            fit = fit_score_matching(x, beta, activation)
            assert fit.value < two_neuron_value(x, beta) - 1e-6
            K = fit.knots.size
            last = 3 * K - 1 if lo == "relu" else 2 * K - 1
            support = set(np.flatnonzero(np.abs(fit.z) > 1e-7 * np.abs(fit.z).max()).tolist())
            assert support - {0, last}


def test_two_neuron_abs_tails():
    """(24): tail slopes -+(1 - 2 alpha) t; concave log-density (flat tails) exactly at alpha = 1/2."""
    x = samples(6)
    n, beta = x.size, x.size - 1.0
    t = (n - beta) / (n * x.var())
    for a in (0.0, 0.5, 1.0):
        s = two_neuron_score(np.array([x.max() + 1, x.max() + 2, x.min() - 2, x.min() - 1]), x, beta, "abs", a)
        assert np.isclose(s[1] - s[0], (1 - 2 * a) * t) and np.isclose(s[3] - s[2], -(1 - 2 * a) * t)


@pytest.mark.parametrize("activation", ["relu", "abs"])
def test_gaussian_skip_solution_and_its_threshold(activation):
    x = samples(7, 14) * 2.0 + 1.0
    n, s2 = x.size, x.var()
    thr = gaussian_skip_threshold(x, activation)
    gauss = gaussian_skip_network(x, activation)
    assert abs(score_matching_loss(gauss, x, 1.0) - gaussian_skip_value(x)) <= 1e-9 * n / s2
    np.testing.assert_allclose(gauss(x), -(x - x.mean()) / s2)
    for beta in (thr, 1.001 * thr, 1.3 * thr):
        fit = fit_score_matching(x, beta, activation, skip=True)
        assert fit.width == 0 or beta == thr  # at the threshold itself a ~1e-7 neuron may survive
        assert abs(fit.value + n / (2 * s2)) <= 1e-8 * n / s2
        np.testing.assert_allclose(fit.net(x), -(x - x.mean()) / s2, atol=1e-6)
    below = fit_score_matching(x, 0.8 * thr, activation, skip=True)
    assert below.value < gaussian_skip_value(x) - 1e-6 and below.width > 0


def test_relu_skip_program_18_matches_abs_skip_at_twice_beta():
    """(18) keeps the 4K-column ReLU dictionary. With a skip connection a left ramp is a right ramp minus a line
    (its 'active at the kink' convention becoming the strict one), and |u| = 2 (u)_+ - u, so (18) at beta must equal
    (20) at 2 beta when (20) keeps BOTH sign(0) conventions; the two programs are solved independently here."""
    rng = np.random.default_rng(9)
    for x in (samples(9, 16), np.round(rng.uniform(0, 4, 24))):
        tau = unboundedness_threshold(x, "relu", skip=True)
        assert unboundedness_threshold(x, "abs", skip=True) == 2 * tau
        assert gaussian_skip_threshold(x, "abs") == pytest.approx(2 * gaussian_skip_threshold(x, "relu"))
        for beta in (1.05 * tau, 1.5 * tau, 3.0 * tau):
            relu_skip = fit_score_matching(x, beta, "relu", skip=True)
            assert relu_skip.value <= fit_score_matching(x, beta, "relu").value + 1e-9 * abs(relu_skip.value)
            abs_skip = fit_score_matching(x, 2 * beta, "abs", skip=True)
            assert abs(relu_skip.value - abs_skip.value) <= 1e-8 * abs(relu_skip.value)


def test_dsm_relu_skip_equals_abs_skip_with_twice_beta():
    """Program (34): for DSM, ReLU with skip is abs with skip and weight decay 2 beta."""
    rng = np.random.default_rng(2)
    x, z = rng.standard_normal(20), rng.standard_normal(20)
    for beta, sigma in ((0.1, 0.5), (1.0, 0.3)):
        relu = fit_denoising_score_matching(x, z, sigma, beta, "relu", skip=True)
        absn = fit_denoising_score_matching(x, z, sigma, 2 * beta, "abs", skip=True)
        # |u| = 2 relu(u) - u and the skip absorbs the linear part: abs weight c at decay 2 beta is ReLU weight 2c at beta
        assert abs(relu.value - absn.value) <= 1e-7 * max(1.0, relu.value)
        np.testing.assert_allclose(relu.net(x + sigma * z), absn.net(x + sigma * z), atol=1e-5)
        assert abs(denoising_score_matching_loss(relu.net, x, z, sigma, beta) - relu.value) <= 1e-9 * relu.value


def test_piecewise_linear_form_and_log_density():
    rng = np.random.default_rng(4)
    x = np.concatenate([rng.normal(-2, 0.5, 10), rng.normal(1.5, 0.6, 10)])
    for activation, skip in (("relu", False), ("abs", True)):
        fit = fit_score_matching(x, 3.0, activation, skip)
        pw = fit.piecewise()
        probe = np.linspace(-5, 5, 1001)
        np.testing.assert_allclose(pw(probe), fit.net(probe), atol=1e-9)
        assert pw.knots.size <= fit.width
        # continuity at the knots, and the log-density's derivative is the score
        np.testing.assert_allclose(pw(pw.knots - 1e-9), pw(pw.knots + 1e-9), atol=1e-6)
        h = 1e-5
        np.testing.assert_allclose((pw.log_density(probe + h) - pw.log_density(probe - h)) / (2 * h), pw(probe), atol=1e-5)
        assert abs(pw.log_density(np.array([0.0]))[0]) < 1e-12
        quad, lin, const = pw.log_density_coefficients()
        j = pw.piece(probe)
        np.testing.assert_allclose(quad[j] * probe**2 + lin[j] * probe + const[j], pw.log_density(probe), atol=1e-8)
        assert pw.lipschitz == pytest.approx(np.max(np.abs(np.diff(pw(probe)) / np.diff(probe))), rel=1e-6)
    with pytest.raises(ValueError, match="1-D"):
        from convexscore import TwoLayerNet

        piecewise_linear(TwoLayerNet(np.ones((1, 2)), np.zeros(1), np.ones((1, 2)), np.zeros(2)))
