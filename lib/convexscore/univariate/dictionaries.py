"""The 1-D dictionaries of the convex programs: ramp or absolute-value columns with kinks at the data.

Layout (shared with the fast solver, see the module ``fast``): let ``u_1 < ... < u_K`` be the sorted unique data
values and ``c_k`` their multiplicities. Rows of ``A`` are the ``n`` data points in the caller's order (duplicates
included); columns are knots at unique values, in blocks:

* score matching, ReLU (programs (4) and (18)), 4K columns:
  block 1 ``(x - u_k)_+`` with count ``#{x_i >= u_k}``; block 2 the same ramp with ``#{x_i > u_k}``;
  block 3 ``(u_k - x)_+`` with ``-#{x_i <= u_k}``; block 4 the same ramp with ``-#{x_i < u_k}``;
* score matching, abs (programs (14) and (20)), 2K columns ``|x - u_k|`` with
  ``sum_i sign(x_i - u_k)`` for ``sign(0) = +1`` (block 1) and ``sign(0) = -1`` (block 2);
* denoising (programs (10), (32), (34), (36)): ReLU 2K columns ``[(x - u_k)_+ ; (u_k - x)_+]``, abs K columns.

The count vector ``d`` is the sum over the data of the derivative of each column, with the kink convention of its
block. Everything here is O(n) except :func:`dense_dictionary`, the readable reference.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

LOSSES = ("sm", "dsm")


@dataclass(frozen=True)
class Knots:
    """Sorted unique values ``u`` (K,), multiplicities ``counts`` (K,), and ``index`` (n,) with ``x = u[index]``."""

    u: np.ndarray
    counts: np.ndarray
    index: np.ndarray

    @property
    def K(self) -> int:
        return self.u.size

    @property
    def n(self) -> int:
        return self.index.size

    @property
    def gaps(self) -> np.ndarray:
        """``u_{k+1} - u_k``, shape (K-1,)."""
        return np.diff(self.u)


def unique_knots(x: np.ndarray) -> Knots:
    """Group the 1-D data ``x`` (n,) into sorted unique values with multiplicities."""
    u, index, counts = np.unique(np.asarray(x, dtype=np.float64), return_inverse=True, return_counts=True)
    return Knots(u=u, counts=counts.astype(np.float64), index=index.reshape(-1))


@dataclass(frozen=True)
class Layout:
    """What each column of a dictionary is.

    ``knot`` (p,) index into ``Knots.u``; ``side`` (p,) +1 for ``(x - u)_+``, -1 for ``(u - x)_+``, 0 for ``|x - u|``;
    ``shift`` (p,) in {-1, 0, +1}: the reconstructed neuron puts its kink at ``u + shift * eps`` (off the data).
    """

    knot: np.ndarray
    side: np.ndarray
    shift: np.ndarray

    @property
    def size(self) -> int:
        return self.knot.size


def layout(K: int, loss: str, activation: str) -> Layout:
    """Column layout for ``K`` knots (see the module docstring for the block order)."""
    k = np.arange(K)
    if loss == "sm" and activation == "relu":
        blocks = ((+1, -1), (+1, +1), (-1, +1), (-1, -1))  # (side, shift): kink active at the data -> shifted out
    elif loss == "sm":
        blocks = ((0, -1), (0, +1))  # sign(0) = +1 -> kink just left of the data point, -1 -> just right
    elif activation == "relu":
        blocks = ((+1, 0), (-1, 0))  # no derivative term: the kink may sit on the data
    else:
        blocks = ((0, 0),)
    return Layout(
        knot=np.tile(k, len(blocks)),
        side=np.repeat([b[0] for b in blocks], K),
        shift=np.repeat([b[1] for b in blocks], K),
    )


def derivative_counts(knots: Knots, activation: str) -> np.ndarray:
    """The count vector ``d`` of the score-matching dictionary (4K entries for ReLU, 2K for abs)."""
    c = knots.counts
    n_le = np.cumsum(c)
    n_lt = n_le - c
    n_ge = knots.n - n_lt
    n_gt = n_ge - c
    if activation == "relu":
        return np.concatenate([n_ge, n_gt, -n_le, -n_lt])
    return np.concatenate([n_ge - n_lt, n_gt - n_le])


def dense_dictionary(x: np.ndarray, knots: Knots, lay: Layout) -> np.ndarray:
    """The dense matrix ``A`` (n, p): column ``j`` evaluated at every data point (readable reference, O(n p))."""
    diff = np.asarray(x, dtype=np.float64)[:, None] - knots.u[lay.knot][None, :]  # x_i - u_k
    return np.where(lay.side == 0, np.abs(diff), np.maximum(lay.side * diff, 0.0))


def ramp_coefficients(z: np.ndarray, knots: Knots, lay: Layout) -> tuple[np.ndarray, np.ndarray]:
    """Collapse ``z`` (p,) into right-ramp weights ``a`` (K,) and left-ramp weights ``b`` (K,).

    Uses ``|x - u| = (x - u)_+ + (u - x)_+``, so ``A z = sum_k a_k (x - u_k)_+ + b_k (u_k - x)_+``.
    """
    a = np.bincount(lay.knot, weights=z * (lay.side >= 0), minlength=knots.K)
    b = np.bincount(lay.knot, weights=z * (lay.side <= 0), minlength=knots.K)
    return a, b


def right_ramps(u: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``r_j = sum_k w_k (u_j - u_k)_+`` for sorted ``u`` (K,), in O(K) by cumulative sums."""
    G = np.cumsum(w)
    return np.concatenate([[0.0], np.cumsum(np.diff(u) * G[:-1])])


def left_ramps(u: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``l_j = sum_k w_k (u_k - u_j)_+`` for sorted ``u`` (K,), in O(K) by cumulative sums."""
    H = np.cumsum(w[::-1])[::-1]  # H_j = sum_{k >= j} w_k
    steps = np.diff(u) * H[1:]  # l_j - l_{j+1}
    return np.concatenate([np.cumsum(steps[::-1])[::-1], [0.0]])


def apply_dictionary(z: np.ndarray, knots: Knots, lay: Layout) -> np.ndarray:
    """``A z`` at the unique knots, shape (K,); index with ``knots.index`` for all n rows. O(K)."""
    a, b = ramp_coefficients(z, knots, lay)
    return right_ramps(knots.u, a) + left_ramps(knots.u, b)


def apply_transpose(lam: np.ndarray, knots: Knots, lay: Layout) -> np.ndarray:
    """``A^T lam`` for ``lam`` (n,), shape (p,). O(n)."""
    Lam = np.bincount(knots.index, weights=lam, minlength=knots.K)  # lam summed over repeated points
    right = left_ramps(knots.u, Lam)  # column (x - u_j)_+: sum_k Lam_k (u_k - u_j)_+
    left = right_ramps(knots.u, Lam)  # column (u_j - x)_+: sum_k Lam_k (u_j - u_k)_+
    per_side = {+1: right, -1: left, 0: right + left}
    out = np.empty(lay.size)
    for s, vals in per_side.items():
        mask = lay.side == s
        out[mask] = vals[lay.knot[mask]]
    return out


def unboundedness_threshold(x: ArrayLike, activation: str = "relu", skip: bool = False) -> float:
    """The weight decay at or below which the score-matching objective is unbounded below (any width).

    With ``c_1``, ``c_K`` the multiplicities of the smallest and largest values and ``c_j`` the others':
    ReLU (with or without skip) ``max(c_1, c_K, max_j c_j / 2)``; abs ``max_j c_j``;
    abs with skip ``max(2 c_1, 2 c_K, max_j c_j)``. For distinct points these are 1, 1 and 2 (paper's Lemmas A.1-A.3).
    Repeated points raise the threshold: a neuron whose kink sits on a repeated value can earn the whole
    multiplicity in the derivative term while leaving the scores at the data unchanged.
    For denoising score matching every ``beta > 0`` is finite (threshold 0).
    """
    knots = unique_knots(np.asarray(x, dtype=np.float64).reshape(-1))
    c = knots.counts
    ends = max(c[0], c[-1])
    inner = c[1:-1].max() if knots.K > 2 else 0.0
    if activation == "relu":
        return float(max(ends, inner / 2))
    if not skip:
        return float(c.max())
    return float(max(2 * ends, inner))
