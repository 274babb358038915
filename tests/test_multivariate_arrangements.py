"""Arrangement patterns: exact enumeration meets the cell-count bound on generic data, sampling is a subset."""
import numpy as np
import pytest

from convexscore.multivariate import arrangement_patterns, cell_count_bound, paper_count_bound
from convexscore.multivariate.arrangements import central_cells, lift


def _as_set(P):
    return {bytes(col) for col in np.packbits(P, axis=0).T}


def test_bound_formula_small_cases():
    # 1-D with bias: 2n threshold patterns; 2-D without bias: 2n half-planes; 2-D with bias: n^2 - n + 2
    assert cell_count_bound(7, 2) == 14
    assert cell_count_bound(7, 3) == 7 * 7 - 7 + 2
    assert cell_count_bound(5, 1) == 2
    assert paper_count_bound(50, 3) >= cell_count_bound(50, 3)


@pytest.mark.parametrize("n", [3, 17, 60])
@pytest.mark.parametrize("bias", [False, True])
def test_exact_2d_meets_bound_on_generic_data(n, bias):
    X = np.random.default_rng(n).standard_normal((n, 2))
    arr = arrangement_patterns(X, bias=bias)
    expected = 2 * n if not bias else n * n - n + 2
    assert arr.bound == expected
    assert arr.n_patterns == expected
    # the patterns are distinct and each column is realised by a gate (check a few by LP-free sampling below)
    assert len(_as_set(arr.patterns)) == arr.n_patterns


@pytest.mark.parametrize("d,n", [(3, 11), (4, 9), (5, 8)])
@pytest.mark.parametrize("bias", [False, True])
def test_exact_higher_d_meets_bound(d, n, bias):
    X = np.random.default_rng(10 * d + n).standard_normal((n, d))
    arr = arrangement_patterns(X, bias=bias)
    assert arr.rank == d + bias
    assert arr.n_patterns == arr.bound == cell_count_bound(n, d + bias)


@pytest.mark.parametrize("bias", [False, True])
def test_sweep_agrees_with_general_enumeration(bias):
    X = np.random.default_rng(5).standard_normal((14, 2))
    sweep = arrangement_patterns(X, bias=bias).patterns
    general = central_cells(lift(X, bias), 10**7)
    assert _as_set(sweep) == _as_set(general)


@pytest.mark.parametrize("bias", [False, True])
def test_sampled_patterns_are_cells_and_dense_sampling_finds_them_all(bias):
    X = np.random.default_rng(2).standard_normal((7, 2))
    exact = _as_set(arrangement_patterns(X, bias=bias).patterns)
    samp = arrangement_patterns(X, "sampled", n_gates=20000, bias=bias, rng=0)
    got = _as_set(samp.patterns)
    assert got <= exact
    # sampling drops only the empty pattern (dead neuron)
    empty = bytes(np.packbits(np.zeros((7, 1), bool), axis=0).T[0])
    assert got == exact - {empty}
    # the stored gates reproduce their patterns
    Xt = np.hstack([X, np.ones((7, 1))]) if bias else X
    assert np.array_equal((Xt @ samp.gates.T) >= 0, samp.patterns)


def test_degenerate_data_falls_below_bound_and_methods_agree():
    # three collinear points and a duplicate: not in general position
    X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [1.0, -1.0], [-2.0, 0.5], [-2.0, 0.5]])
    arr = arrangement_patterns(X, bias=True)
    assert arr.n_patterns < arr.bound
    dense = arrangement_patterns(X, "sampled", n_gates=50000, bias=True, rng=1)
    assert _as_set(dense.patterns) <= _as_set(arr.patterns)
    assert len(_as_set(arr.patterns)) - len(_as_set(dense.patterns)) <= 1  # only the empty pattern may be missed
    assert _as_set(arr.patterns) == _as_set(central_cells(lift(X, True), 10**7))


def test_sampled_scale_d10_n2000_is_seeded():
    X = np.random.default_rng(0).standard_normal((2000, 10))
    a = arrangement_patterns(X, "sampled", n_gates=300, bias=True, rng=4)
    b = arrangement_patterns(X, "sampled", n_gates=300, bias=True, rng=4)
    assert a.patterns.shape[0] == 2000 and a.n_patterns == 300
    assert np.array_equal(a.patterns, b.patterns)


def test_bad_input_raises():
    with pytest.raises(ValueError, match="NaN"):
        arrangement_patterns(np.array([[0.0, np.nan], [1.0, 2.0]]))
    with pytest.raises(ValueError, match="shape"):
        arrangement_patterns(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="method"):
        arrangement_patterns(np.ones((3, 2)), method="magic")
    with pytest.raises(ValueError, match="sampled"):
        arrangement_patterns(np.random.default_rng(0).standard_normal((60, 6)), max_candidates=1000)
