"""Kernel gradient descent: the spectral path equals the explicit iteration; wide networks follow it."""
import numpy as np
import pytest

from convexscore.kernel import compare_network_and_kernel, kernel_gd_path, relu_ntk


def _data(n=12, seed=0):
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-2, 2, n))
    return x, np.sin(2 * x) + 0.3 * rng.standard_normal(n)


def test_spectral_path_equals_explicit_iteration():
    x, y = _data()
    xs = np.linspace(-2.5, 2.5, 9)
    K, Ks = relu_ntk(x), relu_ntk(xs, x)
    eta = 0.7 / np.linalg.eigvalsh(K).max()
    path = kernel_gd_path(K, y, eta)
    f, fs, steps = np.zeros_like(y), np.zeros_like(xs), [0, 1, 5, 37, 120]
    got_train, got_test = path.train_predictions(steps), path.predictions(steps, Ks)
    for t in range(max(steps) + 1):
        if t in steps:
            k = steps.index(t)
            assert np.allclose(got_train[k], f, atol=1e-10)
            assert np.allclose(got_test[k], fs, atol=1e-10)
        r = f - y
        f, fs = f - eta * K @ r, fs - eta * Ks @ r


def test_long_run_interpolates_and_default_step():
    x, y = _data()
    path = kernel_gd_path(relu_ntk(x), y)
    assert path.step * path.eigvals.max() == pytest.approx(1.0)
    assert np.allclose(path.train_predictions([1e13])[0], y, atol=1e-6)


def test_bad_kernels_and_steps_raise():
    x, y = _data()
    K = relu_ntk(x)
    with pytest.raises(ValueError, match="too large"):
        kernel_gd_path(K, y, 2.5 / np.linalg.eigvalsh(K).max())
    with pytest.raises(ValueError, match="positive semidefinite"):
        kernel_gd_path(K - 2 * np.abs(K).max() * np.eye(len(y)), y)
    with pytest.raises(ValueError, match="symmetric"):
        kernel_gd_path(K + np.triu(np.ones_like(K), 1), y)


def test_wide_networks_follow_kernel_gd():
    x, y = _data(10, seed=1)
    cmp = compare_network_and_kernel(x, y, np.linspace(-2, 2, 15), widths=[64, 1024, 16384], n_steps=150, seed=2)
    assert cmp.distance[0] > cmp.distance[1] > cmp.distance[2]
    assert cmp.distance[2] < 0.05
    assert cmp.relative_change[0] > cmp.relative_change[1] > cmp.relative_change[2]
    # lazy training: the relative weight change shrinks like m^{-1/2}
    slope = np.polyfit(np.log(cmp.widths), np.log(cmp.relative_change), 1)[0]
    assert -0.6 < slope < -0.4


def test_non_finite_labels_raise():
    x, y = _data()
    y[3] = np.nan
    with pytest.raises(ValueError, match="finite"):
        kernel_gd_path(relu_ntk(x), y)
