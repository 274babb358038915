"""Langevin samplers: ULA's exact Gaussian stationary law, the piecewise-linear fast path, step checks, annealing."""
import warnings

import numpy as np
import pytest

import convexscore as cs
from convexscore import datasets as D
from convexscore import metrics as M
from convexscore import ula_kernel
from convexscore.sampling import (
    PiecewiseLinearScore,
    UnstableStepWarning,
    annealed_langevin,
    check_step,
    default_step,
    gaussian_ula_stationary_variance,
    langevin,
    lipschitz_constant,
)


def random_net(rng, m=40, activation="relu", skip=False):
    return cs.TwoLayerNet(rng.standard_normal((m, 1)), rng.standard_normal(m), 0.3 * rng.standard_normal((m, 1)),
                          rng.standard_normal(1), V=np.array([[-1.5]]) if skip else None, activation=activation)


def confining_score(rng, K=300, spread=1.5):
    """A continuous piecewise-linear score with negative slopes everywhere (a log-concave target)."""
    t = np.sort(rng.standard_normal(K) * spread)
    a = -np.abs(rng.standard_normal(K + 1)) - 0.3
    c = np.zeros(K + 1)
    for i in range(K):
        c[i + 1] = c[i] + (a[i] - a[i + 1]) * t[i]
    return PiecewiseLinearScore(t, a, c)


@pytest.mark.parametrize("activation", ["relu", "abs"])
@pytest.mark.parametrize("skip", [False, True])
def test_piecewise_linear_equals_network(activation, skip):
    rng = np.random.default_rng(0)
    net = random_net(rng, activation=activation, skip=skip)
    pl = PiecewiseLinearScore.from_network(net)
    x = np.concatenate([rng.standard_normal(2000) * 5, pl.knots, pl.knots + 1e-9])
    np.testing.assert_allclose(pl(x), net(x), rtol=1e-12, atol=1e-11)
    np.testing.assert_allclose(pl.derivative(x[:2000]), net.jacobian_trace(x[:2000]), rtol=1e-12, atol=1e-12)
    assert lipschitz_constant(net) == pytest.approx(pl.lipschitz)
    assert pl.lipschitz == pytest.approx(np.max(np.abs(net.jacobian_trace(np.linspace(-50, 50, 200_001)))))


def test_ula_gaussian_stationary_mean_and_variance():
    """On N(m, v) the ULA chain is AR(1) with stationary law N(m, v / (1 - step/(4v))): check both moments."""
    m, v, step, n = 1.5, 2.0, 1.6, 40_000
    rng = np.random.default_rng(0)
    x0 = m + np.sqrt(v) * rng.standard_normal(n)
    for score in (lambda x: -(x - m) / v, PiecewiseLinearScore([], [-1 / v], [m / v])):
        run = langevin(score, x0, step, 200, rng=1)
        exact = gaussian_ula_stationary_variance(v, step)
        assert exact == pytest.approx(v / 0.8)
        se_mean, se_var = np.sqrt(exact / n), exact * np.sqrt(2 / n)
        assert abs(run.samples.mean() - m) < 4 * se_mean
        assert abs(run.samples.var() - exact) < 4 * se_var
        assert abs(run.samples.var() - v) > 10 * se_var  # the discretisation bias is real, and visible


def test_fast_path_matches_generic_loop():
    rng = np.random.default_rng(2)
    x0 = rng.uniform(-4, 4, 30_000)
    pl = confining_score(rng)
    # add two knots closer than any grid cell, so that the multi-knot fallback is exercised
    t = np.sort(np.concatenate([pl.knots, [0.123456, 0.123456 + 1e-12]]))
    a = -np.abs(rng.standard_normal(t.size + 1)) - 0.3
    c = np.zeros(t.size + 1)
    for i in range(t.size):
        c[i + 1] = c[i] + (a[i] - a[i + 1]) * t[i]
    backends = ["numpy"] + (["numba", "c"] if ula_kernel.load() is not None else [])
    for score in (pl, PiecewiseLinearScore(t, a, c)):
        step = default_step(score)
        slow = langevin(score, x0, step, 60, rng=3, thin=20, fast=False)
        for backend in backends:
            fast = langevin(score, x0, step, 60, rng=3, thin=20, fast=backend)
            np.testing.assert_allclose(fast.samples, slow.samples, rtol=0, atol=1e-10)
            np.testing.assert_allclose(fast.trajectory, slow.trajectory, rtol=0, atol=1e-10)
            np.testing.assert_array_equal(fast.steps, [0, 20, 40, 60])


@pytest.mark.parametrize("trial", range(12))
def test_fast_kernels_exact_on_awkward_knots(trial):
    """Knots on a regular grid (they fall on cell edges), clusters 1e-13..1e-3 apart, steep slopes, and chains
    started exactly on and next to the knots: both kernels agree with binary search to rounding."""
    rng = np.random.default_rng(trial)
    K = int(rng.integers(1, 200))
    base = np.round(rng.uniform(-3, 3, K) * 4) / 4 if trial % 2 == 0 else rng.standard_normal(K) * rng.uniform(0.1, 3)
    extra = base[rng.integers(0, K, 10)] + rng.choice([1e-13, 1e-9, 1e-6, 1e-3]) * rng.standard_normal(10)
    t = np.unique(np.concatenate([base, extra]))
    a = -np.abs(rng.standard_normal(t.size + 1)) * rng.choice([1.0, 100.0]) - 0.1
    c = np.zeros(t.size + 1)
    for i in range(t.size):
        c[i + 1] = c[i] + (a[i] - a[i + 1]) * t[i]
    pl = PiecewiseLinearScore(t, a, c)
    x0 = np.concatenate([rng.uniform(t[0] - 2, t[-1] + 2, 500), t, np.nextafter(t, -np.inf), np.nextafter(t, np.inf)])
    step = 0.5 / pl.lipschitz
    ref = langevin(pl, x0, step, 4, rng=1, fast=False).samples
    for backend in ["numpy"] + (["numba"] if ula_kernel.load() is not None else []):
        out = langevin(pl, x0, step, 4, rng=1, fast=backend).samples
        np.testing.assert_allclose(out, ref, rtol=0, atol=1e-13 * (1 + np.max(np.abs(ref))))


@pytest.mark.parametrize("var", ["CONVEXSCORE_NO_COMPILED", "CONVEXSCORE_NO_C"])
def test_compiled_kernel_switch(monkeypatch, var):
    monkeypatch.setenv(var, "1")
    assert ula_kernel.load() is None
    pl = PiecewiseLinearScore([0.0], [-1.0, -2.0], [0.0, 0.0])
    for name in ("numba", "c"):
        with pytest.raises(ValueError, match="compiled Langevin kernel is unavailable"):
            langevin(pl, np.zeros(4), 0.1, 1, rng=0, fast=name)
    with pytest.raises(ValueError, match="fast must be"):
        langevin(pl, np.zeros(4), 0.1, 1, rng=0, fast="gpu")
    assert langevin(pl, np.zeros(4), 0.1, 3, rng=0).samples.shape == (4,)  # falls back to the numpy kernel


def test_numba_and_numpy_kernels_agree_to_rounding():
    """The compiled kernel and its numpy fallback give the same chains (same random stream) up to rounding,
    including a multi-knot cell and chains far outside the knots."""
    if ula_kernel.load() is None:
        pytest.skip("numba unavailable")
    rng = np.random.default_rng(5)
    t = np.sort(np.concatenate([rng.uniform(-2, 2, 40), [0.5, 0.5 + 1e-11]]))
    a = -np.abs(rng.standard_normal(t.size + 1)) - 0.2
    c = np.zeros(t.size + 1)
    for i in range(t.size):
        c[i + 1] = c[i] + (a[i] - a[i + 1]) * t[i]
    pl = PiecewiseLinearScore(t, a, c)
    x0 = np.concatenate([rng.uniform(-6, 6, 70_000), t])
    step = default_step(pl)
    ref = langevin(pl, x0, step, 25, rng=9, thin=5, fast="numpy")
    out = langevin(pl, x0, step, 25, rng=9, thin=5, fast="numba")
    scale = 1 + np.max(np.abs(ref.trajectory))
    np.testing.assert_allclose(out.trajectory, ref.trajectory, rtol=0, atol=1e-12 * scale)
    np.testing.assert_array_equal(out.steps, ref.steps)


def test_network_score_uses_exact_conversion():
    rng = np.random.default_rng(4)
    net = cs.TwoLayerNet(np.ones(30), -np.linspace(-2, 2, 30), -np.full(30, 0.2), np.array([3.0]), V=np.array([[-0.5]]))
    x0 = rng.standard_normal(5000)
    a = langevin(net, x0, 0.05, 30, rng=5)
    b = langevin(lambda x: net(x), x0, 0.05, 30, rng=5)
    np.testing.assert_allclose(a.samples, b.samples, atol=1e-10)


def test_default_step_and_stability_check():
    pl = PiecewiseLinearScore([0.0], [-2.0, -8.0], [0.0, 0.0])
    assert pl.lipschitz == 8.0
    assert default_step(pl) == pytest.approx(0.1 / 8)
    assert check_step(0.49, 8.0)
    with pytest.warns(UnstableStepWarning, match="need step < 4 / L = 0.5"):
        assert not check_step(0.5, 8.0)
    with pytest.raises(ValueError, match="unstable"):
        langevin(pl, np.zeros(10), 0.6, 1, rng=0, on_unstable="raise")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = langevin(pl, np.zeros(10), None, 5, rng=0)  # default step: no warning
    assert run.samples.shape == (10,)
    with pytest.raises(ValueError, match="Lipschitz constant is unknown"):
        langevin(lambda x: -x, np.zeros(3), None, 5)
    with pytest.raises(ValueError, match="pass step explicitly"):
        default_step(PiecewiseLinearScore([], [0.0], [1.0]))


def test_unstable_gaussian_chain_diverges_with_error():
    with pytest.warns(UnstableStepWarning):
        with pytest.raises(FloatingPointError, match="diverged"):
            langevin(PiecewiseLinearScore([], [-1.0], [0.0]), np.ones(100), 5.0, 2000, rng=0)
    # a score that pushes outwards (positive outer slope) diverges on the fast path too
    with pytest.raises(FloatingPointError, match="diverged"):
        langevin(PiecewiseLinearScore([0.0], [-1.0, 1.0], [0.0, 0.0]), np.ones(100), 0.5, 5000, rng=0)


def test_annealed_langevin_recovers_two_mode_mixture():
    law = D.two_mode_mixture(separation=4.0, std=0.5)
    sigmas = np.geomspace(3.0, 0.05, 12)
    # exact scores of the law convolved with N(0, s^2), one per level
    levels = [D.GaussianMixture(law.means[:, 0], np.sqrt(law.stds**2 + s**2)).score for s in sigmas]
    n = 2000
    x0 = np.random.default_rng(0).uniform(-8, 8, n)
    run = annealed_langevin(levels, sigmas, 0.005, 100, x0=x0, rng=1)
    np.testing.assert_allclose(run.alphas, 0.005 * sigmas**2 / sigmas[-1] ** 2)
    assert run.levels.shape == (12, n)
    w1 = M.wasserstein1(run.samples, law.sample(n, rng=2))
    floor = M.noise_floor("w1", law.sample, n, repeats=10, rng=3)
    assert w1 < 2 * floor
    assert 0.45 < np.mean(run.samples > 0) < 0.55
    # without annealing, plain ULA at the smallest noise level started on one side stays there
    one_side = langevin(levels[-1], np.full(n, -2.0), 0.005, 600, rng=4).samples
    assert np.mean(one_side > 0) < 0.01


def test_annealed_score_forms_agree():
    sigmas = [1.0, 0.5, 0.2]
    x0 = np.linspace(-3, 3, 50)
    a = annealed_langevin(lambda x, s: -x / (1 + s**2), sigmas, 0.01, 10, x0=x0, rng=7)
    b = annealed_langevin([lambda x, s=s: -x / (1 + s**2) for s in sigmas], sigmas, 0.01, 10, x0=x0, rng=7)
    np.testing.assert_array_equal(a.samples, b.samples)
    np.testing.assert_array_equal(a.levels, b.levels)


def test_annealed_denoising_step_and_errors():
    x0 = np.linspace(-1, 1, 5)
    run = annealed_langevin(lambda x, s: -x / (1 + s**2), [2.0, 0.5], 0.1, 0, x0=x0, denoise=True)
    np.testing.assert_allclose(run.samples, x0 - 0.25 * x0 / 1.25)
    with pytest.raises(ValueError, match="non-increasing"):
        annealed_langevin(lambda x, s: -x, [0.1, 1.0], 0.1, 1, x0=x0)
    with pytest.raises(ValueError, match="one per level"):
        annealed_langevin([lambda x: -x], [1.0, 0.1], 0.1, 1, x0=x0)
    with pytest.raises(ValueError, match="positive"):
        annealed_langevin(lambda x, s: -x, [1.0, 0.0], 0.1, 1, x0=x0)


def test_piecewise_linear_bad_input():
    with pytest.raises(ValueError, match="K \\+ 1"):
        PiecewiseLinearScore([0.0, 1.0], [1.0, 2.0], [0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="strictly increasing"):
        PiecewiseLinearScore([1.0, 0.0], [1.0, 2.0, 3.0], [0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="d = 2"):
        PiecewiseLinearScore.from_network(cs.TwoLayerNet(np.ones((2, 2)), np.zeros(2), np.ones((2, 2)), np.zeros(2)))


def test_duck_typed_piecewise_scores_take_the_fast_path():
    class Table:  # same layout as PiecewiseLinearScore, e.g. the univariate solver's piecewise form
        knots, slopes, intercepts = np.array([0.0]), np.array([-1.0, -3.0]), np.array([0.0, 0.0])

    assert lipschitz_constant(Table()) == 3.0
    x0 = np.linspace(-2, 2, 101)
    a = langevin(Table(), x0, None, 20, rng=0)
    b = langevin(lambda x: np.where(x >= 0, -3 * x, -x), x0, 0.1 / 3, 20, rng=0)
    np.testing.assert_allclose(a.samples, b.samples, atol=1e-12)
