"""The eight 1-D convex programs: dictionaries, sparse vs dense, attainment, certificates, thresholds, errors."""
import itertools

import numpy as np
import pytest
import torch

from convexscore import (
    denoising_score_matching_loss,
    fit_denoising_score_matching,
    fit_score_matching,
    score_matching_loss,
    unboundedness_threshold,
)
from convexscore.univariate import SolverError
from convexscore.univariate.certificate import anchor, constraint_values
from convexscore.univariate.dictionaries import (
    apply_dictionary,
    apply_transpose,
    dense_dictionary,
    derivative_counts,
    layout,
    unique_knots,
)
from convexscore.univariate.programs import _finish, build_program, objective

ARCHS = list(itertools.product(("relu", "abs"), (False, True)))


def datasets():
    """Small data sets from several distributions, one with repeated values (including at an end)."""
    rng = np.random.default_rng(12)
    return {
        "normal": rng.standard_normal(14),
        "mixture": np.concatenate([rng.normal(-3, 0.4, 7), rng.normal(2, 0.7, 8)]),
        "exponential": rng.exponential(2.0, 13) + 10.0,
        "uniform-repeats": np.round(rng.uniform(0, 5, 16) * 2) / 2,  # values on a 0.5 grid: many ties
    }


def beta_grid(x, activation, skip):
    """One beta per regime: just above the unboundedness threshold, small, middle, two-neuron, zero/Gaussian."""
    n, tau = x.size, unboundedness_threshold(x, activation, skip)
    return sorted({round(max(1.05 * tau, tau + 0.05), 6), max(tau + 0.5, 0.25 * n), 0.6 * n, 0.95 * n, 1.3 * n})


# ------------------------------------------------------------------ independent evaluation with torch autograd
def torch_sm_loss(net, x, beta):
    """SM loss with torch autograd in float64 (relu'(0) = 0 in torch: the kinks must be off the data)."""
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    W1, b1, W2 = (torch.tensor(a, dtype=torch.float64) for a in (net.W1[:, 0], net.b1, net.W2[:, 0]))
    act = torch.relu if net.activation == "relu" else torch.abs
    f = act(t[:, None] * W1 + b1) @ W2 + float(net.b2[0])
    if net.V is not None:
        f = f + float(net.V[0, 0]) * t
    (fprime,) = torch.autograd.grad(f.sum(), t)
    pen = 0.5 * beta * (W1 @ W1 + W2 @ W2)
    return float((0.5 * (f @ f) + fprime.sum() + pen).detach())


def torch_dsm_loss(net, x, z, sigma, beta):
    t = torch.tensor(x + sigma * z, dtype=torch.float64)
    W1, b1, W2 = (torch.tensor(a, dtype=torch.float64) for a in (net.W1[:, 0], net.b1, net.W2[:, 0]))
    act = torch.relu if net.activation == "relu" else torch.abs
    f = act(t[:, None] * W1 + b1) @ W2 + float(net.b2[0])
    if net.V is not None:
        f = f + float(net.V[0, 0]) * t
    r = f + torch.tensor(z / sigma)
    return float(0.5 * (r @ r) + 0.5 * beta * (W1 @ W1 + W2 @ W2))


def semi_infinite_violation(fit, x, labels=None):
    """max over ALL kinks t (a fine grid plus every data point and its one-sided neighbours) of the dual constraint
    |sum_i lam_i phi(s(x_i - t)) + sum_i d/dx phi| - beta, computed from the definition (no dictionary code)."""
    lam, beta = fit.certificate.dual, fit.beta
    span = x.max() - x.min()
    u = np.unique(x)
    tiny = 1e-9 * span
    grid = np.concatenate([np.linspace(x.min() - span, x.max() + span, 2001), u, u - tiny, u + tiny])
    D = x[None, :] - grid[:, None]  # (kinks, n): x_i - t
    sm = labels is None
    worst = -np.inf
    if fit.activation == "relu":
        for s in (1.0, -1.0):
            val = np.maximum(s * D, 0) @ lam
            if sm:  # count active points, and for kinks exactly on a data point both conventions
                val_ge = val + s * np.sum(s * D >= 0, axis=1)
                val_gt = val + s * np.sum(s * D > 0, axis=1)
                worst = max(worst, np.max(np.abs(val_ge)), np.max(np.abs(val_gt)))
            else:
                worst = max(worst, np.max(np.abs(val)))
    else:
        val = np.abs(D) @ lam
        if sm:
            worst = max(worst, np.max(np.abs(val + np.where(D >= 0, 1, -1).sum(1))), np.max(np.abs(val + np.where(D > 0, 1, -1).sum(1))))
        else:
            worst = np.max(np.abs(val))
    return worst - beta


# ------------------------------------------------------------------ dictionaries
def test_dictionary_counts_and_fast_products_match_definitions():
    rng = np.random.default_rng(0)
    x = np.array([0.5, -1.0, 2.0, 0.5, 0.5, -1.0, 3.0])
    knots = unique_knots(x)
    u, c = knots.u, knots.counts
    np.testing.assert_array_equal(u[knots.index], x)
    D = x[:, None] - u[None, :]
    relu_d = np.concatenate([(D >= 0).sum(0), (D > 0).sum(0), -(D <= 0).sum(0), -(D < 0).sum(0)])
    abs_d = np.concatenate([np.where(D >= 0, 1, -1).sum(0), np.where(D > 0, 1, -1).sum(0)])
    np.testing.assert_array_equal(derivative_counts(knots, "relu"), relu_d)
    np.testing.assert_array_equal(derivative_counts(knots, "abs"), abs_d)
    assert c.tolist() == [2, 3, 1, 1]
    for loss, act in itertools.product(("sm", "dsm"), ("relu", "abs")):
        lay = layout(knots.K, loss, act)
        A = dense_dictionary(x, knots, lay)
        assert A.shape == (x.size, {"sm": 4, "dsm": 2}[loss] * knots.K // (2 if act == "abs" else 1))
        z, lam = rng.standard_normal(lay.size), rng.standard_normal(x.size)
        np.testing.assert_allclose(apply_dictionary(z, knots, lay)[knots.index], A @ z, atol=1e-12)
        np.testing.assert_allclose(apply_transpose(lam, knots, lay), A.T @ lam, atol=1e-12)
    # block layout of the ReLU dictionary: right ramps, right ramps, left ramps, left ramps
    A = dense_dictionary(x, knots, layout(knots.K, "sm", "relu"))
    np.testing.assert_array_equal(A[:, : knots.K], np.maximum(D, 0))
    np.testing.assert_array_equal(A[:, 2 * knots.K : 3 * knots.K], np.maximum(-D, 0))


# ------------------------------------------------------------------ score matching: the four programs
@pytest.mark.parametrize("activation,skip", ARCHS)
def test_sm_value_network_certificate_all_regimes(activation, skip):
    for name, x in datasets().items():
        for beta in beta_grid(x, activation, skip):
            fit = fit_score_matching(x, beta, activation, skip)
            assert fit.status == "optimal"
            scale = max(1.0, abs(fit.value))
            # the reconstructed network attains the value: numpy loss and torch autograd loss
            assert abs(score_matching_loss(fit.net, x, beta) - fit.value) <= 1e-8 * scale, (name, beta)
            assert abs(torch_sm_loss(fit.net, x, beta) - fit.value) <= 1e-8 * scale, (name, beta)
            # kinks strictly off the data
            kinks = -fit.net.b1 / fit.net.W1[:, 0]
            assert np.min(np.abs(kinks[:, None] - x[None, :]), initial=np.inf) > 0
            # certificate: feasible for every kink (checked from the definition), tiny gap
            cert = fit.certificate
            assert cert.feasible and cert.max_violation <= 0
            assert semi_infinite_violation(fit, x) <= 1e-9 * beta, (name, beta)
            assert abs(cert.dual.sum()) <= 1e-8 * scale
            if skip:
                assert abs(cert.dual @ x + x.size) <= 1e-8 * scale
            assert -1e-9 * scale <= cert.gap <= 1e-6 * scale, (name, beta, cert.gap)


@pytest.mark.parametrize("activation,skip", ARCHS)
def test_sparse_and_dense_programs_agree(activation, skip):
    for x in datasets().values():
        for beta in beta_grid(x, activation, skip)[:2]:
            a = fit_score_matching(x, beta, activation, skip, solver="cvxpy")
            b = fit_score_matching(x, beta, activation, skip, solver="cvxpy-dense")
            assert abs(a.value - b.value) <= 1e-8 * max(1.0, abs(a.value))
            np.testing.assert_allclose(a.net(x), b.net(x), atol=1e-5 * max(1.0, np.abs(b.net(x)).max()))


@pytest.mark.parametrize("activation", ["relu", "abs"])
def test_skip_never_worse_and_translation_invariance(activation):
    for i, x in enumerate(datasets().values()):
        for j, beta in enumerate(beta_grid(x, activation, True)[:4]):
            plain = fit_score_matching(x, beta, activation, False)
            skip = fit_score_matching(x, beta, activation, True)
            assert skip.value <= plain.value + 1e-8 * max(1.0, abs(plain.value))
            if (i + j) % 2:  # translation on half of the cases keeps the test fast
                continue
            for fit, sk in ((plain, False), (skip, True)):
                moved = fit_score_matching(x + 7.25, beta, activation, sk)
                scale = max(1.0, abs(fit.value))
                assert abs(moved.value - fit.value) <= 1e-7 * scale
                # scores at the data are unique (the dual optimum is), hence so is the interpolant between them;
                # the tails beyond the data need not be (e.g. the alpha family of the two-neuron regime)
                probe = np.linspace(x.min(), x.max(), 41)
                np.testing.assert_allclose(moved.net(probe + 7.25), fit.net(probe), atol=1e-5 * max(1.0, np.abs(fit.net(probe)).max()))


# ------------------------------------------------------------------ denoising: the four programs
@pytest.mark.parametrize("activation,skip", ARCHS)
def test_dsm_value_network_certificate(activation, skip):
    rng = np.random.default_rng(5)
    for x in list(datasets().values())[1:3]:
        z = rng.standard_normal(x.size)
        for sigma, beta in ((0.3, 0.05), (0.5, 0.5), (1.0, 5.0), (0.5, 200.0)):
            fit = fit_denoising_score_matching(x, z, sigma, beta, activation, skip)
            dense = fit_denoising_score_matching(x, z, sigma, beta, activation, skip, solver="cvxpy-dense")
            scale = max(1.0, abs(fit.value))
            assert abs(fit.value - dense.value) <= 1e-8 * scale
            assert abs(denoising_score_matching_loss(fit.net, x, z, sigma, beta) - fit.value) <= 1e-9 * scale
            assert abs(torch_dsm_loss(fit.net, x, z, sigma, beta) - fit.value) <= 1e-9 * scale
            cert = fit.certificate
            assert cert.feasible
            assert semi_infinite_violation(fit, x + sigma * z, labels=-z / sigma) <= 1e-9 * beta
            assert -1e-9 * scale <= cert.gap <= 1e-6 * scale, (beta, cert.gap)


# ------------------------------------------------------------------ thresholds and repeated points
@pytest.mark.parametrize("activation,skip", ARCHS)
def test_unboundedness_threshold_is_exact_with_repeated_points(activation, skip):
    """Below the threshold an explicit neuron drives the network loss to -infinity; above it the fit is finite."""
    rng = np.random.default_rng(3)
    for x in (rng.standard_normal(9), np.concatenate([np.full(3, -2.0), rng.standard_normal(8)]),  # repeated minimum
              np.concatenate([np.full(4, 0.1), rng.standard_normal(9)])):  # repeated interior value
        tau = unboundedness_threshold(x, activation, skip)
        fit = fit_score_matching(x, 1.02 * tau, activation, skip)
        assert np.isfinite(fit.value) and fit.certificate.feasible
        # below the threshold, one neuron or a pair at one knot is a ray along which the objective decreases forever
        prog = build_program("sm", x, 0.98 * tau, activation, skip)
        best = np.inf
        for k, j in itertools.product(range(prog.layout.size), repeat=2):
            if prog.layout.knot[j] != prog.layout.knot[k]:
                continue
            for sign in (1.0, -1.0):
                z = np.zeros(prog.layout.size)
                z[k] -= sign
                z[j] += sign if j != k else 0.0
                best = min(best, objective(prog, 1e3 * z) - objective(prog, 1e2 * z))
        assert best < -1.0  # the objective keeps decreasing along the ray: unbounded
        with pytest.raises(ValueError, match="unbounded"):
            fit_score_matching(x, 0.99 * tau, activation, skip)
        with pytest.raises(ValueError, match="Repeated data points"):
            fit_score_matching(x, 0.999 * tau, activation, skip)
        try:  # at the threshold the objective is finite: a certified optimum, or a SolverError saying why not
            at = fit_score_matching(x, tau, activation, skip)
            assert np.isfinite(at.value) and at.certificate.feasible and at.gap <= 1e-6
        except SolverError as err:
            assert "threshold" in str(err) and "unbounded below" not in str(err)


def test_anchor_is_strictly_feasible_at_threshold_level():
    rng = np.random.default_rng(8)
    x = np.round(rng.standard_normal(25), 1)
    for activation, skip in ARCHS:
        tau = unboundedness_threshold(x, activation, skip)
        prog = build_program("sm", x, 1.5 * tau, activation, skip)
        lam0 = anchor(prog)
        assert np.max(np.abs(constraint_values(prog, lam0))) <= tau + 1e-9
        assert abs(lam0.sum()) < 1e-8 and (not skip or abs(lam0 @ x + x.size) < 1e-8)


# ------------------------------------------------------------------ bad input
def test_bad_input_raises_value_error_naming_the_problem():
    x = np.array([0.0, 1.0, 2.5, 4.0])
    z = np.zeros(4)
    cases = [
        (lambda: fit_score_matching([0.0, np.nan, 1.0], 2.0), "NaN"),
        (lambda: fit_score_matching([0.0, np.inf, 1.0], 2.0), "NaN or inf"),
        (lambda: fit_score_matching([1.0], 2.0), "at least 2"),
        (lambda: fit_score_matching([1.0, 1.0, 1.0], 5.0), "2 distinct"),
        (lambda: fit_score_matching(x, 2.0, activation="tanh"), "unknown activation"),
        (lambda: fit_score_matching(x, 0.5), "unbounded"),
        (lambda: fit_score_matching(x, -1.0), "beta"),
        (lambda: fit_score_matching(x, 2.0, solver="nope"), "unknown solver"),
        (lambda: fit_denoising_score_matching(x, z, 0.0, 1.0), "sigma"),
        (lambda: fit_denoising_score_matching(x, z, -0.5, 1.0), "sigma"),
        (lambda: fit_denoising_score_matching(x, np.zeros(3), 0.5, 1.0), "noise has shape"),
        (lambda: fit_denoising_score_matching(x, [0, np.nan, 0, 0], 0.5, 1.0), "noise contains NaN"),
        (lambda: fit_denoising_score_matching(x, z, 0.5, 0.0), "beta"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message):
            call()


def test_solver_status_is_checked():
    class FakeProblem:
        status = "infeasible_inaccurate"

    class FakeVar:
        value = np.zeros(3)

    with pytest.raises(SolverError, match="infeasible_inaccurate"):
        _finish(FakeProblem(), FakeVar(), "test program")


def test_inaccurate_status_needs_a_certificate(monkeypatch):
    """A solver reporting 'optimal_inaccurate' is accepted only when the dual certificate proves optimality."""
    from convexscore.univariate import solvers
    from convexscore.univariate.solvers import Solution

    x = datasets()["normal"]
    exact = fit_score_matching(x, 3.0)

    def fake(z, status):
        return lambda prog: Solution(z, status, None, 0, "fake")

    monkeypatch.setitem(solvers.SOLVERS, "exact-but-unsure", fake(exact.z.copy(), "optimal_inaccurate"))
    monkeypatch.setitem(solvers.SOLVERS, "wrong", fake(exact.z * 1.01, "optimal_inaccurate"))
    monkeypatch.setitem(solvers.SOLVERS, "wrong-but-sure", fake(exact.z * 1.01, "optimal"))
    fit = fit_score_matching(x, 3.0, solver="exact-but-unsure")
    assert fit.status == "optimal_inaccurate" and abs(fit.value - exact.value) < 1e-12
    # the polishing step (exact re-solve on the support and signs) repairs a point 1% off ...
    polished = fit_score_matching(x, 3.0, solver="wrong")
    assert abs(polished.value - exact.value) <= 1e-10 * abs(exact.value)
    # ... so switch it off to see the certificate gate itself
    from convexscore.univariate import fit as fit_module

    monkeypatch.setattr(fit_module, "polish", lambda prog, z: None)
    with pytest.raises(SolverError, match="optimal_inaccurate"):
        fit_score_matching(x, 3.0, solver="wrong")
    # a wrong point reported as optimal still gets an honest certificate: the gap shows it
    wrong = fit_score_matching(x, 3.0, solver="wrong-but-sure")
    assert wrong.certificate.feasible and wrong.certificate.gap > 1e-6
    assert wrong.certificate.lower_bound <= exact.value + 1e-9


@pytest.mark.parametrize("activation,skip", ARCHS)
def test_two_distinct_values_and_repeated_noisy_inputs(activation, skip):
    """Edge cases: only two distinct data values (SM), and repeated noisy inputs x + sigma z (DSM)."""
    x = np.array([0.0, 0.0, 0.0, 1.0, 1.0])
    tau = unboundedness_threshold(x, activation, skip)
    assert tau == ((3.0 if activation == "relu" else 6.0) if skip else 3.0)
    fit = fit_score_matching(x, 1.1 * tau, activation, skip)
    assert abs(score_matching_loss(fit.net, x, 1.1 * tau) - fit.value) <= 1e-8 * max(1, abs(fit.value))
    assert fit.certificate.feasible and fit.certificate.gap <= 1e-8 * max(1, abs(fit.value))
    xh, z = np.array([0.0, 0.0, 1.0, 2.0, 2.0]), np.array([0.0, 0.0, 0.5, 0.0, 0.0])
    dsm = fit_denoising_score_matching(xh, z, 0.5, 0.1, activation, skip)
    assert abs(denoising_score_matching_loss(dsm.net, xh, z, 0.5, 0.1) - dsm.value) <= 1e-12
    assert dsm.certificate.feasible and dsm.certificate.gap <= 1e-8
