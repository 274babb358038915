"""The spectral early-stopping rule: a case with a closed-form answer, brute force, and monotonicity."""
import numpy as np
import pytest

from convexscore.kernel import (
    critical_radius,
    interpolant_norm,
    local_rademacher,
    oracle_stop,
    relu_ntk,
    rwy_stopping_rule,
    rwy_stopping_step,
)


def test_rank_r_kernel_has_closed_form_stopping_time_and_radius():
    """lam = (1 x r, 0 x (n-r)): the rule stops at floor(n / (4 e^2 s^2 r)), and eps_n = 2 e s sqrt(r / n)."""
    n, r, s = 1000, 3, 0.37
    lam = np.r_[np.ones(r), np.zeros(n - r)]
    expected = int(np.floor(n / (4 * np.e**2 * s**2 * r)))
    assert expected == 82
    assert rwy_stopping_step(lam, s, alpha=1.0) == expected
    assert critical_radius(lam, s) == pytest.approx(2 * np.e * s * np.sqrt(r / n), rel=1e-9)
    # with half the step size the rule waits twice as many iterations (it only sees eta_t = alpha t)
    assert rwy_stopping_step(lam, s, alpha=0.5) in (2 * expected, 2 * expected + 1)


def test_rule_agrees_with_brute_force_scan():
    lam = 1.0 / np.arange(1, 301) ** 2
    s, alpha = 0.8, 0.9
    t = np.arange(1, 200_000)
    eta = alpha * t
    fired = local_rademacher(lam, 1 / np.sqrt(eta)) > 1 / (2 * np.e * s * eta)
    assert rwy_stopping_step(lam, s, alpha) == int(t[np.argmax(fired)]) - 1


def test_local_rademacher_hand_value_and_monotone_in_noise():
    lam = np.array([0.5, 0.1, 0.01, 0.0])
    assert local_rademacher(lam, 0.2) == pytest.approx(np.sqrt((0.04 + 0.04 + 0.01 + 0.0) / 4))
    K = relu_ntk(np.random.default_rng(0).normal(size=80))
    steps = [rwy_stopping_rule(K, s).step for s in (0.1, 0.5, 2.0)]
    assert steps[0] > steps[1] > steps[2]  # more label noise: stop earlier
    radii = [rwy_stopping_rule(K, s).radius for s in (0.1, 0.5, 2.0)]
    assert radii[0] < radii[1] < radii[2]


def test_oracle_and_errors():
    assert oracle_stop([1, 10, 100], [3.0, 1.0, 2.0]) == (10.0, 1.0)
    with pytest.raises(ValueError, match="too large"):
        rwy_stopping_step([0.5, 0.1], 1.0, alpha=1.5)
    with pytest.raises(ValueError, match=">= 0"):
        rwy_stopping_step([0.5, -0.1], 1.0)
    with pytest.raises(ValueError, match="noise_std"):
        critical_radius([0.5], 0.0)


def test_interpolant_norm_recovers_a_kernel_expansion_and_norm_bound_rescales_noise():
    x = np.linspace(-2, 2, 30)
    K = relu_ntk(x)
    c = np.zeros(30)
    c[[3, 11, 20]] = [1.0, -2.0, 0.5]
    f = K @ c  # f = sum_j c_j K(., x_j): its RKHS norm is sqrt(c^T K c), attained by the interpolant
    assert interpolant_norm(K, f) == pytest.approx(np.sqrt(c @ K @ c), rel=1e-6)
    B = K.diagonal().max()
    a = rwy_stopping_rule(K, 0.6, norm_bound=3.0)
    b = rwy_stopping_rule(K, 0.6 / (np.sqrt(B) * 3.0))
    assert (a.step, a.radius) == (b.step, b.radius)


def test_non_finite_gram_raises():
    K = relu_ntk(np.linspace(-1, 1, 5))
    K[0, 1] = np.inf
    with pytest.raises(ValueError, match="NaN or inf"):
        rwy_stopping_rule(K, 1.0)
    with pytest.raises(ValueError, match="finite"):
        interpolant_norm(relu_ntk(np.linspace(-1, 1, 5)), [0, 1, np.nan, 0, 0])
