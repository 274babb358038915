"""The torch network is the numpy network: same parameters, same objectives, exact Jacobian traces."""
import numpy as np
import pytest
import torch

import convexscore as cs
from convexscore.torch_net import TorchTwoLayerNet, torch_dsm_loss, torch_sm_loss, trace_term_gradients

torch.set_num_threads(1)
CASES = [(d, act, skip) for d in (1, 2, 3) for act in ("relu", "abs") for skip in (False, True)]


def make(d, act, skip, m=9, n=60, seed=0):
    rng = np.random.default_rng(seed)
    net = cs.TwoLayerNet(rng.standard_normal((m, d)), rng.standard_normal(m), rng.standard_normal((m, d)),
                         rng.standard_normal(d), V=rng.standard_normal((d, d)) if skip else None, activation=act)
    x = rng.standard_normal(n) if d == 1 else rng.standard_normal((n, d))
    return net, x, rng.standard_normal(np.shape(x))


@pytest.mark.parametrize("d,act,skip", CASES)
def test_round_trip(d, act, skip):
    net, _, _ = make(d, act, skip)
    back = TorchTwoLayerNet.from_numpy(net).to_numpy()
    for k, v in net.parameters().items():
        if v is None:
            assert back.parameters()[k] is None
        else:
            np.testing.assert_array_equal(back.parameters()[k], v)
    assert back.activation == act
    assert TorchTwoLayerNet.from_numpy(net).W1.dtype == torch.float64


@pytest.mark.parametrize("d,act,skip", CASES)
def test_losses_equal_numpy(d, act, skip):
    net, x, z = make(d, act, skip)
    model = TorchTwoLayerNet.from_numpy(net)
    with torch.no_grad():
        sm = float(torch_sm_loss(model, x, 0.7))
        dsm = float(torch_dsm_loss(model, x, z, 0.3, 0.7))
    assert sm == pytest.approx(cs.score_matching_loss(net, x, 0.7), rel=1e-10, abs=1e-10)
    assert dsm == pytest.approx(cs.denoising_score_matching_loss(net, x, z, 0.3, 0.7), rel=1e-10, abs=1e-10)
    X = torch.as_tensor(x.reshape(len(x), d))
    with torch.no_grad():
        np.testing.assert_allclose(model(X).numpy().reshape(np.shape(x) if d > 1 else (-1,)), net(x), rtol=1e-13,
                                   atol=1e-13)  # outputs are O(1); a cancelled entry keeps only absolute accuracy


@pytest.mark.parametrize("d,act,skip", CASES)
def test_autograd_trace_equals_analytic_trace(d, act, skip):
    net, x, _ = make(d, act, skip)
    model = TorchTwoLayerNet.from_numpy(net)
    X = torch.as_tensor(x.reshape(len(x), d))
    auto = model.jacobian_trace(X, "autograd").detach().numpy()
    np.testing.assert_allclose(auto, model.jacobian_trace(X).detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(auto, net.jacobian_trace(x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("act", ["relu", "abs"])
@pytest.mark.parametrize("trace", ["analytic", "autograd"])
def test_trace_term_has_zero_bias_gradient(act, trace):
    """Why ReLU SM training stalls: the derivative term gives the first-layer biases no gradient at all."""
    net, x, _ = make(1, act, False, m=20, n=200)
    g = trace_term_gradients(net, x, trace)
    assert np.all(g["b1"] == 0.0) and np.all(g["b2"] == 0.0)
    assert np.abs(g["W1"]).max() > 0.1 and np.abs(g["W2"]).max() > 0.1
    # the same fact without autograd: shifting every bias by a small amount leaves the term unchanged ...
    shifted = cs.TwoLayerNet(net.W1, net.b1 + 1e-7, net.W2, net.b2, activation=act)
    assert shifted.jacobian_trace(x).sum() == net.jacobian_trace(x).sum()
    # ... while the full SM objective does move (through 0.5 |f|^2)
    assert cs.score_matching_loss(shifted, x, 1.0) != cs.score_matching_loss(net, x, 1.0)


def test_init_is_seeded_and_bounded():
    a, b = TorchTwoLayerNet.init(2, 50, seed=3), TorchTwoLayerNet.init(2, 50, seed=3)
    c = TorchTwoLayerNet.init(2, 50, seed=4)
    assert torch.equal(a.W1, b.W1) and not torch.equal(a.W1, c.W1)
    assert a.W1.abs().max() <= 2**-0.5 and a.W2.abs().max() <= 50**-0.5
    assert a.V is None and torch.equal(TorchTwoLayerNet.init(2, 5, skip=True).V, torch.zeros(2, 2, dtype=torch.float64))


def test_bad_input():
    net, x, z = make(1, "relu", False)
    model = TorchTwoLayerNet.from_numpy(net)
    with pytest.raises(ValueError, match="noise has shape"):
        torch_dsm_loss(model, x, z[:-1], 0.5, 1.0)
    with pytest.raises(ValueError, match="trace must be"):
        model.jacobian_trace(torch.zeros(3, 1), "hutchinson")
    with pytest.raises(ValueError, match="activation"):
        TorchTwoLayerNet.init(1, 3, activation="tanh")
