"""The public API: one result protocol for every fitter, one error discipline, a fast import, public names only."""
from __future__ import annotations

import ast
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import convexscore as cs
from convexscore import Fit, SolverError, TwoLayerNet
from convexscore.multivariate import arrangement_patterns, finite_pattern_subset
from convexscore.piecewise import PiecewiseLinearScore

ROOT = Path(__file__).resolve().parents[1]
rng = np.random.default_rng(0)
X1 = np.sort(rng.standard_normal(30))
Z1 = np.random.default_rng(1).standard_normal(30)
X2 = np.random.default_rng(2).standard_normal((12, 2))
Z2 = np.random.default_rng(3).standard_normal((12, 2))


def _mv_dsm(solver):
    arr = arrangement_patterns(X2 + 0.5 * Z2)
    return cs.convex_denoising_score_matching(X2, Z2, 0.5, arr, 0.5, solver=solver)


FITTERS = {
    "sm-relu": lambda: cs.fit_score_matching(X1, 2.0),
    "sm-relu-skip": lambda: cs.fit_score_matching(X1, 2.0, "relu", skip=True),
    "sm-abs": lambda: cs.fit_score_matching(X1, 3.0, "abs"),
    "sm-abs-skip": lambda: cs.fit_score_matching(X1, 3.0, "abs", skip=True),
    "sm-cvxpy": lambda: cs.fit_score_matching(X1, 2.0, solver="cvxpy"),
    "sm-cvxpy-dense": lambda: cs.fit_score_matching(X1, 2.0, solver="cvxpy-dense"),
    "dsm-relu": lambda: cs.fit_denoising_score_matching(X1, Z1, 0.5, 1.0),
    "dsm-relu-skip": lambda: cs.fit_denoising_score_matching(X1, Z1, 0.5, 1.0, "relu", skip=True),
    "dsm-abs": lambda: cs.fit_denoising_score_matching(X1, Z1, 0.5, 1.0, "abs"),
    "dsm-abs-skip-cvxpy": lambda: cs.fit_denoising_score_matching(X1, Z1, 0.5, 1.0, "abs", True, solver="cvxpy"),
    "path-sm": lambda: cs.fit_path(X1, [4.0, 2.0, 1.5], skip=True)[1],
    "path-dsm": lambda: cs.fit_path(X1, [0.5, 2.0], objective="dsm", noise=Z1, sigma=0.5, activation="abs")[0],
    "mv-sm-closed": lambda: cs.convex_score_matching(X2, finite_pattern_subset(X2, arrangement_patterns(X2)), 0.0),
    "mv-sm-cvxpy": lambda: cs.convex_score_matching(X2, arrangement_patterns(X2), 3.0, solver="cvxpy"),
    "mv-dsm-closed": lambda: cs.convex_denoising_score_matching(X2, Z2, 0.5, arrangement_patterns(X2 + 0.5 * Z2)),
    "mv-dsm-cvxpy": lambda: _mv_dsm("cvxpy"),
    "mv-dsm-admm": lambda: _mv_dsm("admm"),
    "mv-dsm-fista": lambda: _mv_dsm("fista"),
    "cone-sm": lambda: cs.cone_constrained_fit(X2, arrangement_patterns(X2), 3.0),
    "cone-dsm": lambda: cs.cone_constrained_fit(X2, arrangement_patterns(X2 + 0.5 * Z2), 0.5, objective="dsm",
                                                noise=Z2, sigma=0.5),
}


@pytest.mark.parametrize("name", sorted(FITTERS))
def test_every_fit_follows_the_protocol(name):
    fit = FITTERS[name]()
    assert isinstance(fit, Fit)
    assert isinstance(fit.value, float) and math.isfinite(fit.value)
    assert isinstance(fit.status, str) and fit.status.split()[0] in ("optimal", "converged")
    assert isinstance(fit.gap, float) and (math.isnan(fit.gap) or fit.gap <= 1e-6) and fit.certified
    assert fit.objective in ("sm", "dsm") and fit.beta >= 0 and isinstance(fit.solver, str)
    assert isinstance(fit.net, TwoLayerNet) and fit.width == fit.net.width
    x = X1 if fit.net.dim == 1 else X2
    probe = np.linspace(-3, 3, 101) if fit.net.dim == 1 else rng.standard_normal((50, 2))
    for pts in (x, probe):
        assert np.array_equal(fit.score(pts), fit.net(pts))  # the score is the network's output
    pw = fit.piecewise()
    if fit.net.dim == 1:
        assert isinstance(pw, PiecewiseLinearScore)
        np.testing.assert_allclose(pw(probe), fit.score(probe), rtol=1e-9, atol=1e-9)
    else:
        assert pw is None
    text = repr(fit)
    assert "\n" not in text and len(text) < 220, text
    for part in (fit.solver, fit.objective, "beta=", "value=", "status=", f"width={fit.width}"):
        assert part in text


def test_one_dimensional_fits_attain_their_value():
    for name in ("sm-relu", "sm-abs-skip", "dsm-relu", "path-sm"):
        fit = FITTERS[name]()
        loss = (cs.score_matching_loss(fit.net, X1, fit.beta) if fit.objective == "sm" else
                cs.denoising_score_matching_loss(fit.net, X1, Z1, 0.5, fit.beta))
        assert abs(loss - fit.value) <= 1e-8 * max(1.0, abs(fit.value)), name


def test_path_fits_carry_the_fast_solvers_certificate_and_agree_with_single_fits():
    betas = [1.5, 2.0, 4.0]
    path = cs.fit_path(X1, betas, skip=True)
    assert [f.beta for f in path] == betas
    for f in path:
        single = cs.fit_score_matching(X1, f.beta, skip=True)
        assert abs(f.value - single.value) <= 1e-8 * max(1.0, abs(single.value))
        assert f.solver == "fast-path" and f.gap <= 1e-8 and hasattr(f, "iterations") and f.z.ndim == 1
    legacy = cs.fit_path(X1, betas, loss="sm", skip=True)  # the former keyword still works
    assert [f.value for f in legacy] == [f.value for f in path]


# ----------------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("call, message", [
    (lambda: cs.fit_score_matching(X1, 0.5), "unbounded"),
    (lambda: cs.fit_score_matching(X1, 2.0, activation="tanh"), "unknown activation"),
    (lambda: cs.fit_score_matching(X1, 2.0, solver="nope"), "unknown solver"),
    (lambda: cs.fit_score_matching(np.c_[X1, X1], 2.0), "multivariate"),
    (lambda: cs.fit_denoising_score_matching(X1, Z1[:5], 0.5, 1.0), "noise has shape"),
    (lambda: cs.fit_denoising_score_matching(X1, Z1, -0.5, 1.0), "sigma"),
    (lambda: cs.fit_path(X1, [], objective="sm"), "betas is empty"),
    (lambda: cs.fit_path(X1, [1.0], objective="kl"), "unknown objective"),
    (lambda: cs.fit_path(X1, [1.0], objective="dsm"), "noise"),
    (lambda: cs.convex_score_matching(X2, arrangement_patterns(X2), -1.0), "beta"),
    (lambda: cs.convex_score_matching(X2, arrangement_patterns(X2), 1.0, solver="nope"), "unknown solver"),
    (lambda: cs.convex_score_matching(X2, arrangement_patterns(X2), 1.0, solver="closed"), "closed form"),
    (lambda: cs.cone_constrained_fit(X2, arrangement_patterns(X2), 1.0, objective="kl"), "unknown objective"),
])
def test_invalid_input_raises_value_error_naming_the_fix(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_admm_that_stops_at_max_iter_raises_with_status_and_gap():
    """A solve that stops at max_iter: 14 points in 2-D, DSM over the 28 cells, beta = 0.5, ADMM's default 5000 iterations."""
    r = np.random.default_rng(26)
    X, Z, sigma = r.standard_normal((14, 2)), r.standard_normal((14, 2)), 0.5
    arr = arrangement_patterns(X + sigma * Z)
    assert arr.n_patterns == 28
    with pytest.raises(SolverError, match="max_iter") as err:
        cs.convex_denoising_score_matching(X, Z, sigma, arr, 0.5, solver="admm")
    assert err.value.status == "max_iter" and 1e-6 < err.value.gap < 1e-3
    fit = cs.convex_denoising_score_matching(X, Z, sigma, arr, 0.5, solver="admm", require_certificate=False)
    assert fit.status == "max_iter" and not fit.certified and fit.gap == err.value.gap
    certified = cs.convex_denoising_score_matching(X, Z, sigma, arr, 0.5, solver="cvxpy")
    assert certified.certified and abs(certified.value - fit.value) <= 1e-6 * abs(fit.value)


def test_uncertifiable_one_dimensional_answer_raises_solver_error(monkeypatch):
    from convexscore.univariate import fit as fit_module
    from convexscore.univariate import solvers

    exact = cs.fit_score_matching(X1, 2.0)
    monkeypatch.setitem(solvers.SOLVERS, "unsure", lambda prog: solvers.Solution(exact.z * 1.05, "optimal_inaccurate",
                                                                                 None, 0, "unsure"))
    monkeypatch.setattr(fit_module, "polish", lambda prog, z: None)
    with pytest.raises(SolverError) as err:
        cs.fit_score_matching(X1, 2.0, solver="unsure")
    assert err.value.status == "optimal_inaccurate" and err.value.gap > 1e-6
    fit = cs.fit_score_matching(X1, 2.0, solver="unsure", require_certificate=False)
    assert not fit.certified


@pytest.mark.parametrize("activation, skip", [("relu", False), ("relu", True), ("abs", False), ("abs", True)])
@pytest.mark.parametrize("x", [np.array([0.0, 1.0, 2.0, 3.0, 4.0]), np.array([0.0, 0.0, 1.0, 2.0, 3.0, 3.0, 3.0])],
                         ids=["distinct", "repeated"])
def test_fit_at_the_unboundedness_threshold_is_certified(x, activation, skip):
    """At beta = threshold the objective is finite (the anchor is a feasible dual point): a certified optimum."""
    tau = cs.unboundedness_threshold(x, activation, skip)
    for solver in ("fast", "cvxpy"):
        fit = cs.fit_score_matching(x, tau, activation, skip, solver=solver)
        assert math.isfinite(fit.value) and fit.certificate.feasible and fit.gap <= 1e-6
        assert abs(cs.score_matching_loss(fit.net, x, tau) - fit.value) <= 1e-6 * max(1.0, abs(fit.value))
    with pytest.raises(ValueError, match="unbounded"):
        cs.fit_score_matching(x, 0.99 * tau, activation, skip)


def test_threshold_fit_never_claims_unboundedness():
    x = np.random.default_rng(0).standard_normal(40)
    for activation, skip in [("relu", False), ("abs", True)]:
        try:
            fit = cs.fit_score_matching(x, cs.unboundedness_threshold(x, activation, skip), activation, skip)
            assert fit.certified
        except SolverError as err:
            assert "threshold" in str(err) and "unbounded below" not in str(err) and err.status.startswith("optimal")


# ----------------------------------------------------------------------------------------------- import, names
def test_import_is_fast_and_loads_no_heavy_dependency():
    code = ("import sys, time; t = time.perf_counter(); import convexscore; dt = time.perf_counter() - t; "
            "print(dt, [m for m in ('torch', 'cvxpy', 'matplotlib', 'numba', 'scipy.stats') if m in sys.modules])")
    times = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split(" ", 1)
        times.append(float(out[0]))
        assert out[1].strip() == "[]", out[1]
    assert min(times) < 1.0, times


def test_every_public_name_resolves_and_is_documented():
    for name in cs.__all__:
        obj = getattr(cs, name)
        if callable(obj):
            assert obj.__doc__, name
    for pkg in (cs, cs.univariate, cs.multivariate, cs.kernel):
        assert pkg.__all__ and all(hasattr(pkg, n) for n in pkg.__all__), pkg.__name__


def _private_imports(source: str, outside: bool) -> list[str]:
    """Imports of underscore names (``from x import _y``, ``import x._y``); ``outside`` (labs, benchmarks) also
    counts the package's private modules (``convexscore._x``), which only the package itself may use."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            names = [a.name for a in node.names]
            if any(n.startswith("_") and not n.startswith("__") for n in names) and not (not outside and node.level
                                                                                       and mod == ""):
                found.append(f"from {'.' * node.level}{mod} import {', '.join(names)}")
            elif outside and any(part.startswith("_") and not part.startswith("__") for part in mod.split(".")):
                found.append(f"from {mod} import ...")
        elif isinstance(node, ast.Import) and outside:
            found += [a.name for a in node.names if any(p.startswith("_") for p in a.name.split(".")[1:])]
    return found


def _code_cells(markdown: str) -> list[str]:
    """The code of each MyST code cell, without its front matter, options and IPython magics."""
    cells = []
    for cell in re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", markdown, flags=re.DOTALL):
        if cell.startswith("---"):
            cell = cell.split("---", 2)[2]
        cells.append("\n".join(ln for ln in cell.splitlines() if not ln.lstrip().startswith(("%", "!", ":"))))
    return cells




def test_no_module_lab_or_benchmark_imports_a_private_name():
    offenders = []
    for path in ROOT.glob("lib/convexscore/**/*.py"):
        offenders += [f"{path.relative_to(ROOT)}: {imp}" for imp in _private_imports(path.read_text(), outside=False)]
    for path in [*ROOT.glob("notebooks/*.md"), *ROOT.glob("notebooks/assignments/*.md"), *ROOT.glob("benchmarks/*.py")]:
        rel = str(path.relative_to(ROOT))
        text = path.read_text()
        for source in _code_cells(text) if path.suffix == ".md" else [text]:
            offenders += [f"{rel}: {imp}" for imp in _private_imports(source, outside=True)]
    assert not offenders, offenders


def test_former_dsm_argument_order_still_works_with_a_deprecation_warning():
    new = cs.fit_denoising_score_matching(X1, Z1, 0.5, 1.0)
    with pytest.warns(DeprecationWarning, match="former argument order"):
        old = cs.fit_denoising_score_matching(X1, 1.0, 0.5, Z1)
    assert old.value == new.value
    with pytest.warns(DeprecationWarning, match="former argument order"):
        loss = cs.denoising_score_matching_loss(new.net, X1, 1.0, 0.5, Z1)
    assert loss == cs.denoising_score_matching_loss(new.net, X1, Z1, 0.5, 1.0)
