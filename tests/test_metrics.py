"""Sample metrics against scipy and closed forms, and the noise floor."""
import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import pdist

from convexscore import datasets as D
from convexscore import metrics as M


@pytest.fixture
def xy():
    rng = np.random.default_rng(0)
    return rng.standard_normal(300), rng.standard_normal(200) * 1.3 + 0.4


def test_w1_and_ks_agree_with_scipy(xy):
    x, y = xy
    assert M.wasserstein1(x, y) == stats.wasserstein_distance(x, y)
    assert M.ks_distance(x, y) == stats.ks_2samp(x, y).statistic


def test_known_cases():
    x = np.random.default_rng(1).standard_normal(500)
    assert M.wasserstein1(x, x + 0.7) == pytest.approx(0.7, abs=1e-12)
    assert M.wasserstein2(x, x + 0.7) == pytest.approx(0.7, abs=1e-12)
    assert M.ks_distance(x, x) == 0.0
    assert M.ks_distance(x, x + 100) == 1.0
    # W2 of two point masses at distance 3 (as samples of different sizes)
    assert M.wasserstein2(np.zeros(4), np.full(7, 3.0)) == pytest.approx(3.0)


def test_w2_quantile_formula(xy):
    x, y = xy
    # equal sizes: sorted matching
    a, b = x[:200], y
    assert M.wasserstein2(a, b) == pytest.approx(np.sqrt(np.mean((np.sort(a) - np.sort(b)) ** 2)), rel=1e-12)
    # unequal sizes: replicate both samples to a common size, where sorted matching is exact
    a, b = x[:6], y[:4]
    A, B = np.repeat(np.sort(a), 2), np.repeat(np.sort(b), 3)
    assert M.wasserstein2(a, b) == pytest.approx(np.sqrt(np.mean((A - B) ** 2)), rel=1e-12)
    assert M.wasserstein2(x, y) >= M.wasserstein1(x, y) - 1e-12


def test_mmd_against_direct_formula(xy):
    x, y = xy[0][:40], xy[1][:30]
    h = 0.8

    def k(a, b):
        return np.exp(-((a - b) ** 2) / (2 * h**2))

    kxx = sum(k(a, b) for i, a in enumerate(x) for j, b in enumerate(x) if i != j) / (40 * 39)
    kyy = sum(k(a, b) for i, a in enumerate(y) for j, b in enumerate(y) if i != j) / (30 * 29)
    kxy = sum(k(a, b) for a in x for b in y) / (40 * 30)
    assert M.mmd2(x, y, bandwidth=h) == pytest.approx(kxx + kyy - 2 * kxy, rel=1e-10)
    assert M.mmd2(x, x, unbiased=False) == pytest.approx(0.0, abs=1e-12)
    pooled = np.concatenate([x, y])[:, None]
    assert M.median_bandwidth(x, y) == pytest.approx(np.median(pdist(pooled)))


def test_mmd_2d_detects_a_shift():
    rng = np.random.default_rng(3)
    a, b, c = rng.standard_normal((300, 2)), rng.standard_normal((300, 2)), rng.standard_normal((300, 2)) + [1, 0]
    assert M.mmd2(a, c) > 10 * abs(M.mmd2(a, b))


def test_noise_floor():
    law = D.Gaussian()
    f1 = M.noise_floor("w1", law.sample, 1000, repeats=5, rng=0)
    f2 = M.noise_floor(M.wasserstein1, law.sample, 1000, repeats=5, rng=0)
    assert f1 == f2
    assert 0.02 < f1 < 0.15  # sqrt(n) scaling: about 0.06 for two samples of 1000 standard normals
    assert M.noise_floor("w1", law.sample, 100, repeats=5, rng=0) > f1
    out = M.compare_to_target(law.sample(1000, 1) + 0.5, law.sample, metrics=("w1", "ks"), rng=2)
    assert out["w1"][0] > 3 * out["w1"][1]


def test_bad_input():
    with pytest.raises(ValueError, match="unknown metric"):
        M.noise_floor("tv", D.Gaussian().sample, 10)
    with pytest.raises(ValueError, match="1-D sample"):
        M.wasserstein1(np.zeros((5, 2)), np.zeros(5))
    with pytest.raises(ValueError, match="NaN"):
        M.ks_distance([0.0, np.nan], [1.0, 2.0])
    with pytest.raises(ValueError, match="coincide"):
        M.mmd2(np.zeros(3), np.zeros(3))
