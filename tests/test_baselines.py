"""Adam baselines: the recorded losses are the exact objectives, runs are reproducible, sweeps and progress bars."""
import joblib
import numpy as np
import pytest
import torch

import convexscore as cs
from convexscore import baselines as B
from convexscore.torch_net import TorchTwoLayerNet

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def data():
    return np.random.default_rng(0).standard_normal(150)


def test_losses_are_the_exact_objective_sm(data):
    run = B.train_adam(data, 3.0, 20, 1e-2, 40, seed=1)
    assert run.status == "ok" and run.losses.shape == (41,)
    assert run.final_loss == pytest.approx(cs.score_matching_loss(run.net, data, 3.0), rel=1e-10, abs=1e-10)
    init = TorchTwoLayerNet.init(1, 20, seed=1).to_numpy()
    assert run.losses[0] == pytest.approx(cs.score_matching_loss(init, data, 3.0), rel=1e-10)
    assert run.losses[-1] < run.losses[0]


def test_losses_are_the_exact_objective_dsm(data):
    z = np.random.default_rng(5).standard_normal(data.shape)
    run = B.train_adam(data, 1.0, 20, 1e-2, 30, seed=2, objective="dsm", sigma=0.4, noise=z, skip=True,
                       activation="abs")
    assert run.final_loss == pytest.approx(cs.denoising_score_matching_loss(run.net, data, z, 0.4, 1.0), rel=1e-10)
    assert B.exact_objective(run, data, 1.0, sigma=0.4) == pytest.approx(run.final_loss, rel=1e-10)
    assert run.net.skip and run.net.activation == "abs"
    drawn = B.train_adam(data, 1.0, 5, 1e-2, 3, seed=2, objective="dsm", sigma=0.4)
    np.testing.assert_array_equal(drawn.noise, np.random.default_rng(2).standard_normal(data.shape))


def test_two_dimensional_run(data):
    x = data[:100].reshape(50, 2)
    run = B.train_adam(x, 1.0, 10, 1e-2, 10, seed=0)
    assert run.net.dim == 2
    assert run.final_loss == pytest.approx(cs.score_matching_loss(run.net, x, 1.0), rel=1e-10)


def test_reproducible(data):
    a, b = (B.train_adam(data, 3.0, 10, 1e-2, 15, seed=7) for _ in range(2))
    np.testing.assert_array_equal(a.losses, b.losses)


def test_divergence_is_reported_not_silent(data):
    # an absurd learning rate throws the weights to ~1e200 in one step, where the objective overflows to inf
    run = B.train_adam(data, 1.0, 20, 1e200, 10, seed=0)
    assert run.status == "diverged"
    assert np.all(np.isfinite(run.losses)) and run.losses.size == 1
    assert run.final_loss == pytest.approx(cs.score_matching_loss(run.net, data, 1.0), rel=1e-10)
    assert B.AdamSweep([run], (20,), (1e200,), (0,)).final_losses().ravel()[0] != run.final_loss  # NaN marks it


def test_sweep_sequential_and_parallel_agree(data):
    kw = dict(x=data[:60], beta=3.0, widths=[5, 8], lrs=[1e-2, 1e-3], seeds=[0, 1], epochs=5)
    seq = B.sweep_adam(**kw)
    assert seq.final_losses().shape == (2, 2, 2)
    assert len(seq.select(width=5, lr=1e-3)) == 2
    with joblib.parallel_config(backend="threading"):  # the joblib path, without process start-up costs
        par = B.sweep_adam(**kw, n_jobs=2)
    np.testing.assert_array_equal(seq.final_losses(), par.final_losses())


def test_dsm_sweep_shares_the_noise(data):
    sw = B.sweep_adam(data[:40], 1.0, [4], [1e-2], [0, 1, 2], epochs=2, objective="dsm", sigma=0.5, noise_seed=9)
    for r in sw.runs:
        np.testing.assert_array_equal(r.noise, np.random.default_rng(9).standard_normal(40))


def test_progress_switch(monkeypatch):
    monkeypatch.delenv("CONVEXSCORE_PROGRESS", raising=False)
    monkeypatch.setenv("CI", "true")
    assert B.progress_enabled() is False
    assert B.progress_enabled(True) is True
    monkeypatch.setenv("CONVEXSCORE_PROGRESS", "1")
    assert B.progress_enabled() is True
    monkeypatch.setenv("CONVEXSCORE_PROGRESS", "0")
    assert B.progress_enabled() is False
    monkeypatch.delenv("CONVEXSCORE_PROGRESS")
    monkeypatch.delenv("CI")
    assert B.progress_enabled() is False  # pytest captures stderr: not a TTY


def test_sweep_writes_nothing_to_stderr_when_not_interactive(data, capfd, monkeypatch):
    monkeypatch.delenv("CONVEXSCORE_PROGRESS", raising=False)
    B.sweep_adam(data[:30], 3.0, [4], [1e-2], [0, 1], epochs=3)
    assert capfd.readouterr().err == ""


def test_bad_input(data):
    with pytest.raises(ValueError, match="sigma"):
        B.train_adam(data, 1.0, 5, 1e-2, 3, objective="dsm")
    with pytest.raises(ValueError, match="objective"):
        B.train_adam(data, 1.0, 5, 1e-2, 3, objective="ssm")
    with pytest.raises(ValueError, match="noise has shape"):
        B.train_adam(data, 1.0, 5, 1e-2, 3, objective="dsm", sigma=0.5, noise=np.zeros(3))
    with pytest.raises(ValueError, match="width"):
        B.train_adam(data, 1.0, 0, 1e-2, 3)


def _convex():
    try:
        from convexscore import fit_denoising_score_matching, fit_score_matching
    except ImportError:
        return None
    return fit_score_matching, fit_denoising_score_matching


@pytest.mark.skipif(_convex() is None, reason="convexscore.fit_score_matching (the univariate convex solver) is "
                                              "not available in this checkout")
def test_no_adam_run_goes_below_the_convex_optimum():
    fit_sm, fit_dsm = _convex()
    x = np.random.default_rng(11).standard_normal(100)
    beta = 5.0
    best = fit_sm(x, beta).value
    sw = B.sweep_adam(x, beta, [30], [1e-1, 1e-2, 1e-3], [0, 1], epochs=500)
    finals = sw.final_losses()
    assert np.all(np.isfinite(finals))
    assert np.all(finals >= best - 1e-6 * abs(best))
    assert np.all([np.min(r.losses) >= best - 1e-6 * abs(best) for r in sw.runs])
    z = np.random.default_rng(12).standard_normal(100)
    best = fit_dsm(x, z, 0.5, beta).value
    sw = B.sweep_adam(x, beta, [30], [1e-1, 1e-2, 1e-3], [0, 1], epochs=200, objective="dsm", sigma=0.5, noise=z)
    assert np.all([np.min(r.losses) >= best - 1e-6 * abs(best) for r in sw.runs])
