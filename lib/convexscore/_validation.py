"""Input checks shared by the whole package: every public function turns bad input into a clear ValueError."""
from __future__ import annotations

import warnings

import numpy as np

ACTIVATIONS = ("relu", "abs")


def check_activation(activation: str) -> str:
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"unknown activation {activation!r}: use one of {ACTIVATIONS} "
            "('relu' for max(0, u), 'abs' for |u|)"
        )
    return activation


def as_samples(x, name: str = "x", min_points: int = 1) -> tuple[np.ndarray, bool]:
    """Return ``(X, univariate)``: ``X`` of shape (n, d) in float64, and whether ``x`` was given as shape (n,).

    Raises ValueError for NaN or inf, wrong dimensionality, or fewer than ``min_points`` points.
    """
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1:
        X, univariate = arr[:, None], True
    elif arr.ndim == 2:
        X, univariate = arr, False
    else:
        raise ValueError(f"{name} must have shape (n,) for 1-D data or (n, d); got shape {arr.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} contains NaN or inf; remove or impute those entries first")
    if X.shape[0] < min_points:
        raise ValueError(f"{name} has {X.shape[0]} point(s); at least {min_points} are needed")
    return X, univariate


def check_positive(value: float, name: str) -> float:
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0; got {value}")
    return value


def check_nonnegative(value: float, name: str) -> float:
    value = float(value)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0; got {value}")
    return value


def as_univariate(x, name: str = "x", min_points: int = 2, distinct: int = 0) -> np.ndarray:
    """1-D data as float64 shape (n,): accepts a scalar, (n,) or (n, 1); ``distinct`` is the number of distinct values
    needed.

    The one 1-D validator of the package: raises ValueError for NaN or inf, multivariate shapes, too few points or
    too few distinct values.
    """
    arr = np.asarray(x, dtype=np.float64)
    X, univariate = as_samples(arr.reshape(1) if arr.ndim == 0 else arr, name=name, min_points=min_points)
    if not univariate and X.shape[1] != 1:
        raise ValueError(f"{name} must be a 1-D sample of shape (n,); got shape {np.shape(x)} (for d > 1 use the "
                         "multivariate functions)")
    out = X[:, 0]
    if distinct and np.unique(out).size < distinct:
        raise ValueError(f"{name} needs at least {distinct} distinct values; got {np.unique(out).size} among {out.size} "
                         "points")
    return out


def check_choice(value: str, name: str, choices: tuple[str, ...]) -> str:
    """``value`` if it is one of ``choices``, else ValueError listing them."""
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}: use one of {', '.join(repr(c) for c in choices)}")
    return value


def dsm_order(noise, beta, function: str):
    """``(noise, beta)`` for a DSM function whose arguments are data, noise, sigma, beta: calls in the former order
    (data, beta, sigma, noise) are recognised (a scalar in place of ``noise``, an array in place of ``beta``) and
    swapped, with a DeprecationWarning."""
    if np.ndim(noise) == 0 and np.ndim(beta) >= 1:
        warnings.warn(f"{function}(..., beta, sigma, noise) is the former argument order; pass (..., noise, sigma, "
                      "beta)", DeprecationWarning, stacklevel=3)
        return beta, noise
    return noise, beta
