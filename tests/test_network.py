"""The network and its exact objectives: shapes, conventions, derivative, and input errors."""
import numpy as np
import pytest

import convexscore as cs


def random_net(m=7, d=1, activation="relu", skip=False, seed=0):
    rng = np.random.default_rng(seed)
    V = rng.normal(size=(d, d)) if skip else None
    return cs.TwoLayerNet(rng.normal(size=(m, d)), rng.normal(size=m), rng.normal(size=(m, d)),
                          rng.normal(size=d), V=V, activation=activation)


@pytest.mark.parametrize("activation", ["relu", "abs"])
@pytest.mark.parametrize("skip", [False, True])
@pytest.mark.parametrize("d", [1, 3])
def test_jacobian_trace_matches_central_differences(activation, skip, d):
    net = random_net(d=d, activation=activation, skip=skip)
    X = np.random.default_rng(1).normal(size=(20, d))
    h = 1e-6
    fd = np.zeros(len(X))
    for k in range(d):
        e = np.zeros(d)
        e[k] = h
        fd += (net(X + e)[:, k] - net(X - e)[:, k]) / (2 * h)
    np.testing.assert_allclose(net.jacobian_trace(X), fd, atol=1e-6)


def test_univariate_shapes_and_explicit_formula():
    net = random_net(m=5, d=1, activation="relu", skip=True)
    x = np.linspace(-2, 2, 11)
    out = net(x)
    assert out.shape == (11,)
    w, b, a = net.W1[:, 0], net.b1, net.W2[:, 0]
    expected = np.maximum(np.outer(x, w) + b, 0) @ a + net.b2[0] + net.V[0, 0] * x
    np.testing.assert_allclose(out, expected, rtol=1e-13)


def test_losses_follow_the_book_normalisation():
    """SM and DSM are sums over samples with beta/2 on both weight layers, biases unpenalised."""
    net = random_net(m=4, d=1, activation="abs")
    x = np.array([-1.0, 0.3, 2.0])
    beta = 0.7
    f, fp = net(x), net.jacobian_trace(x)
    pen = 0.5 * beta * (np.sum(net.W1**2) + np.sum(net.W2**2))
    assert cs.score_matching_loss(net, x, beta) == pytest.approx(np.sum(0.5 * f**2 + fp) + pen, rel=1e-14)
    z = np.array([0.5, -1.0, 0.2])
    sigma = 0.3
    r = net(x + sigma * z) + z / sigma
    assert cs.denoising_score_matching_loss(net, x, z, sigma, beta) == pytest.approx(0.5 * np.sum(r**2) + pen, rel=1e-14)
    # changing the biases does not change the penalty
    shifted = cs.TwoLayerNet(net.W1, net.b1 + 5, net.W2, net.b2 - 3, activation="abs")
    assert shifted.penalty() == net.penalty()


def test_activation_derivative_conventions_at_zero():
    relu = cs.TwoLayerNet([[1.0]], [0.0], [[1.0]], [0.0], activation="relu")
    ab = cs.TwoLayerNet([[1.0]], [0.0], [[1.0]], [0.0], activation="abs")
    assert relu.jacobian_trace(np.array([0.0]))[0] == 1.0  # relu'(0) = 1
    assert ab.jacobian_trace(np.array([0.0]))[0] == 1.0  # sign(0) = +1


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda n: cs.score_matching_loss(n, [0.0, np.nan], 1.0), "NaN or inf"),
        (lambda n: cs.score_matching_loss(n, [0.0, 1.0], -1.0), "beta"),
        (lambda n: cs.denoising_score_matching_loss(n, [0.0, 1.0], [0.0, 1.0], 0.0, 1.0), "sigma"),
        (lambda n: cs.denoising_score_matching_loss(n, [0.0, 1.0], [0.0], 0.5, 1.0), "noise has shape"),
        (lambda n: n(np.zeros((3, 2))), "dimension"),
    ],
)
def test_bad_input_raises_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call(random_net())


def test_bad_parameters_raise():
    with pytest.raises(ValueError, match="unknown activation"):
        cs.TwoLayerNet([[1.0]], [0.0], [[1.0]], [0.0], activation="tanh")
    with pytest.raises(ValueError, match="inconsistent shapes"):
        cs.TwoLayerNet(np.ones((3, 1)), np.ones(2), np.ones((3, 1)), [0.0])
    with pytest.raises(ValueError, match="NaN or inf"):
        cs.TwoLayerNet([[np.inf]], [0.0], [[1.0]], [0.0])


def test_gaussian_ula_variance_formula_and_instability():
    assert cs.gaussian_ula_stationary_variance(2.0, 0.4) == pytest.approx(2.0 / (1 - 0.4 / 8))
    with pytest.raises(ValueError, match="unstable"):
        cs.gaussian_ula_stationary_variance(1.0, 4.0)
