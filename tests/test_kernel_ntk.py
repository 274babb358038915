"""Arc-cosine kernels and the ReLU NTK: closed forms against Monte Carlo, PSD, and the finite-width limit."""
import numpy as np
import pytest

from convexscore.kernel import arccos_kernel, empirical_ntk, init_ntk_net, relu_ntk, relu_ntk_parts


@pytest.mark.parametrize("order", [0, 1])
def test_arccos_closed_form_matches_monte_carlo(order):
    rng = np.random.default_rng(11)
    X = np.array([[1.0, 0.3, -0.2], [-0.5, 2.0, 0.1], [0.2, -0.1, 1.5], [1.0, 0.31, -0.19]])
    U = rng.standard_normal((400_000, 3))
    F = U @ X.T
    feat = (F >= 0).astype(float) if order == 0 else np.maximum(F, 0.0)
    exact = arccos_kernel(X, order=order)
    for i in range(4):
        for j in range(4):
            prod = feat[:, i] * feat[:, j]
            se = prod.std() / np.sqrt(len(prod))
            assert abs(prod.mean() - exact[i, j]) < 5 * se + 1e-12, (order, i, j)


def test_arccos_known_values():
    e1, e2 = np.array([[1.0, 0.0]]), np.array([[0.0, 2.0]])
    assert arccos_kernel(e1, e1, order=0)[0, 0] == pytest.approx(0.5)
    assert arccos_kernel(e1, -e1, order=0)[0, 0] == pytest.approx(0.0, abs=1e-15)
    assert arccos_kernel(e1, e2, order=0)[0, 0] == pytest.approx(0.25)
    assert arccos_kernel(e1, e1, order=1)[0, 0] == pytest.approx(0.5)  # E[relu(u)^2] = 1/2
    assert arccos_kernel(e1, e2, order=1)[0, 0] == pytest.approx(2 / (2 * np.pi))


def test_ntk_is_symmetric_psd_with_diagonal_norm_squared():
    x = np.random.default_rng(0).normal(size=60) * 3
    for bias in (True, False):
        X = np.random.default_rng(1).normal(size=(40, 2))
        for pts in (x, X):
            K = relu_ntk(pts, bias=bias)
            assert np.allclose(K, K.T, atol=0)
            assert np.linalg.eigvalsh(K).min() > -1e-10 * np.abs(K).max()
            P = np.atleast_2d(pts.T).T if pts.ndim == 2 else pts[:, None]
            sq = np.sum(P**2, axis=1) + (1.0 if bias else 0.0)
            assert np.allclose(np.diag(K), sq, rtol=1e-13)
    k1, k0 = relu_ntk_parts(x)
    assert np.allclose(k1 + k0, relu_ntk(x), rtol=1e-14)


def test_ntk_without_bias_is_positively_homogeneous():
    X = np.random.default_rng(2).normal(size=(5, 3))
    Y = np.random.default_rng(3).normal(size=(4, 3))
    assert np.allclose(relu_ntk(2.5 * X, Y, bias=False), 2.5 * relu_ntk(X, Y, bias=False), rtol=1e-12)


def test_empirical_ntk_equals_finite_width_formula():
    net = init_ntk_net(7, input_dim=1, bias=True, seed=4)
    x = np.array([-1.3, 0.2, 0.9, 2.0])
    W, a = net.W.detach().numpy(), net.a.detach().numpy()
    Xa = np.column_stack([x, np.ones_like(x)])
    pre = Xa @ W.T
    relu, step = np.maximum(pre, 0), (pre >= 0).astype(float)
    expected = (relu @ relu.T + ((step * a**2) @ step.T) * (Xa @ Xa.T)) / 7
    assert np.allclose(empirical_ntk(net, x), expected, rtol=1e-12)


def test_empirical_ntk_converges_to_analytic_ntk():
    x = np.linspace(-3, 3, 25)
    K = relu_ntk(x)
    errors = []
    for m in (100, 1000, 10000):
        E = empirical_ntk(init_ntk_net(m, seed=5), x)
        errors.append(np.linalg.norm(E - K) / np.linalg.norm(K))
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 0.03
    assert errors[0] / errors[2] > 3  # about sqrt(100) = 10 in expectation


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="order"):
        arccos_kernel(np.ones((2, 2)), order=2)
    with pytest.raises(ValueError, match="dimension"):
        relu_ntk(np.ones((2, 2)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        relu_ntk([0.0, np.nan])
    with pytest.raises(ValueError, match="even"):
        init_ntk_net(5, symmetric=True)
