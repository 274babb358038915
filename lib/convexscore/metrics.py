"""Distances between samples, and the noise floor that every reported distance needs beside it.

A distance between a finite sample and its target law is never zero, even for a perfect sampler: two
independent samples of the *same* law already differ. :func:`noise_floor` measures that baseline (the same
metric between two independent samples of the target, of the sizes you compare), so a reported number can be
read as "k times the noise floor".

1-D metrics take arrays of shape (n,); :func:`mmd2` also takes (n, d).
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats
from scipy.spatial.distance import cdist, pdist

from ._validation import as_samples, as_univariate, check_positive

__all__ = ["wasserstein1", "wasserstein2", "ks_distance", "mmd2", "median_bandwidth", "noise_floor", "compare_to_target"]


def wasserstein1(x: ArrayLike, y: ArrayLike) -> float:
    """1-D Wasserstein-1 distance between the empirical laws of ``x`` and ``y`` (``scipy.stats.wasserstein_distance``)."""
    return float(stats.wasserstein_distance(as_univariate(x, "x", min_points=1), as_univariate(y, "y", min_points=1)))


def ks_distance(x: ArrayLike, y: ArrayLike) -> float:
    """Two-sample Kolmogorov-Smirnov statistic ``sup_t |F_x(t) - F_y(t)|`` (``scipy.stats.ks_2samp``)."""
    return float(stats.ks_2samp(as_univariate(x, "x", min_points=1), as_univariate(y, "y", min_points=1)).statistic)


def wasserstein2(x: ArrayLike, y: ArrayLike) -> float:
    """1-D Wasserstein-2 distance through quantile functions: ``(int_0^1 |F_x^-1(u) - F_y^-1(u)|^2 du)^(1/2)``.

    Exact for empirical laws of any two sizes: both quantile functions are step functions, constant between the
    merged breakpoints ``{i/n} U {j/m}``.
    """
    xs, ys = np.sort(as_univariate(x, "x", min_points=1)), np.sort(as_univariate(y, "y", min_points=1))
    n, m = xs.size, ys.size
    u = np.union1d(np.arange(1, n + 1) / n, np.arange(1, m + 1) / m)
    widths = np.diff(np.concatenate([[0.0], u]))
    mid = u - 0.5 * widths  # a point strictly inside each interval, where both quantiles are constant
    qx = xs[np.minimum(np.floor(mid * n).astype(int), n - 1)]
    qy = ys[np.minimum(np.floor(mid * m).astype(int), m - 1)]
    return float(np.sqrt(np.sum(widths * (qx - qy) ** 2)))


def median_bandwidth(x: ArrayLike, y: ArrayLike | None = None, max_points: int = 2000) -> float:
    """Median heuristic: the median pairwise Euclidean distance in the pooled sample.

    For more than ``max_points`` pooled points an evenly strided (deterministic) subsample is used.
    """
    X, _ = as_samples(x)
    Z = X if y is None else np.vstack([X, as_samples(y, name="y")[0]])
    if Z.shape[0] > max_points:
        Z = Z[np.linspace(0, Z.shape[0] - 1, max_points).astype(int)]
    d = pdist(Z)
    d = d[d > 0]
    if d.size == 0:
        raise ValueError("all points coincide, so the median heuristic is undefined; pass bandwidth explicitly")
    return float(np.median(d))


def mmd2(x: ArrayLike, y: ArrayLike, bandwidth: float | None = None, unbiased: bool = True) -> float:
    """Squared maximum mean discrepancy with the Gaussian kernel ``exp(-|a - b|^2 / (2 h^2))``.

    ``h`` defaults to :func:`median_bandwidth` of the pooled sample. ``unbiased=True`` gives the U-statistic
    (diagonal terms left out; it can be slightly negative), ``False`` the V-statistic (always >= 0).
    Cost O((n + m)^2) memory; keep samples to a few thousand points.
    """
    X, _ = as_samples(x, min_points=2)
    Y, _ = as_samples(y, name="y", min_points=2)
    if X.shape[1] != Y.shape[1]:
        raise ValueError(f"x and y have different dimensions ({X.shape[1]} and {Y.shape[1]})")
    h = median_bandwidth(X, Y) if bandwidth is None else check_positive(bandwidth, "bandwidth")
    g = -0.5 / h**2
    Kxx, Kyy, Kxy = (np.exp(g * cdist(A, B, "sqeuclidean")) for A, B in ((X, X), (Y, Y), (X, Y)))
    n, m = X.shape[0], Y.shape[0]
    if unbiased:
        sxx = (Kxx.sum() - np.trace(Kxx)) / (n * (n - 1))
        syy = (Kyy.sum() - np.trace(Kyy)) / (m * (m - 1))
    else:
        sxx, syy = Kxx.mean(), Kyy.mean()
    return float(sxx + syy - 2 * Kxy.mean())


_METRICS: dict[str, Callable] = {"w1": wasserstein1, "w2": wasserstein2, "ks": ks_distance, "mmd2": mmd2}


def _metric(metric) -> Callable:
    if callable(metric):
        return metric
    if metric not in _METRICS:
        raise ValueError(f"unknown metric {metric!r}: use one of {sorted(_METRICS)} or a callable metric(x, y)")
    return _METRICS[metric]


def noise_floor(metric, sampler: Callable, n: int, m: int | None = None, repeats: int = 1, rng=None) -> float:
    """The metric between two independent samples of the target: what a perfect sampler would score.

    ``metric``: a callable ``metric(x, y)`` or one of ``"w1", "w2", "ks", "mmd2"``; ``sampler(k, rng)`` returns
    ``k`` i.i.d. target draws (e.g. ``law.sample`` from :mod:`convexscore.datasets`); ``n`` and ``m`` (default
    ``n``) are the two sample sizes, which should be the sizes of the comparison being judged. Returns the mean
    over ``repeats`` independent pairs.
    """
    f = _metric(metric)
    if int(n) != n or n < 2 or (m is not None and (int(m) != m or m < 2)):
        raise ValueError(f"sample sizes must be integers >= 2; got n={n}, m={m}")
    if int(repeats) != repeats or repeats < 1:
        raise ValueError(f"repeats must be a positive integer; got {repeats}")
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    m = n if m is None else m
    return float(np.mean([f(sampler(int(n), rng), sampler(int(m), rng)) for _ in range(int(repeats))]))


def compare_to_target(samples: ArrayLike, sampler: Callable, metrics=("w1", "ks"), reference_size: int | None = None,
                      repeats: int = 5, rng=None) -> dict[str, tuple[float, float]]:
    """Each metric between ``samples`` and a fresh target sample, beside its noise floor.

    Returns ``{name: (value, floor)}`` where ``value`` compares ``samples`` with ``reference_size`` (default:
    as many) new target draws and ``floor`` is :func:`noise_floor` at the same sizes (mean of ``repeats``).
    """
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    n = len(samples)
    k = n if reference_size is None else int(reference_size)
    out = {}
    for name in metrics:
        f = _metric(name)
        label = name if isinstance(name, str) else getattr(name, "__name__", "metric")
        out[label] = (f(samples, sampler(k, rng)), noise_floor(f, sampler, n, k, repeats=repeats, rng=rng))
    return out
