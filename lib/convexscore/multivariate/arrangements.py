"""Activation patterns of a ReLU layer on a data set: the cells of a hyperplane arrangement.

A gate ``u`` (and, with ``bias=True``, an offset ``b``) assigns to the data ``X`` (n, d) the pattern
``1{X u + b >= 0}`` in ``{0,1}^n``. The patterns that hold on an open set of gates are the *cells* (chambers) of the
arrangement of the n hyperplanes ``{(u, b): x_i . u + b = 0}``; these are the patterns whose cone
``K = {(u, b): (2D - I)(X u + b) >= 0}`` has an interior, which is what Assumption A.8 of the paper asks for.

Conventions: a pattern matrix has shape (n, P); column ``i`` is the diagonal of ``D_i``. With ``bias=True`` the data
are lifted to ``[X, 1]`` (the gate is ``(u, b)`` in R^{d+1}, bias last). A data point at the origin (no bias) is
active for every gate (``relu'(0) = 1``, the ``>=`` convention).

Counting (Schlafli, Cover): a central arrangement of n hyperplanes whose normals span R^r has at most
``C(n, r) = 2 * sum_{k<r} binom(n-1, k)`` cells, with equality when every r of the normals are linearly independent
(general position). With a bias, the normals are the lifted points ``(x_i, 1)``, r = rank([X, 1]) = d + 1 for
generic data, and the count is ``2 * sum_{k<=d} binom(n-1, k)``.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from math import comb, e

import numpy as np
from numpy.typing import ArrayLike

from .._validation import as_samples

_TOL = 1e-9  # relative tolerance for "this point lies on the hyperplane"


@dataclass(frozen=True)
class Arrangement:
    """Activation patterns of data ``X`` (n, d).

    ``patterns``: bool (n, P), column i = diag(D_i). ``bound``: the cell count ``2 sum_{k<r} binom(n-1, k)``
    (attained by exact enumeration on data in general position). ``rank``: r, the rank of X (or of [X, 1] with
    bias). ``gates``: (P, d) or (P, d + 1) gate vectors that produce each pattern (sampled method), else None.
    """

    patterns: np.ndarray
    bound: int
    rank: int
    method: str
    bias: bool
    gates: np.ndarray | None = None

    @property
    def n_patterns(self) -> int:
        return self.patterns.shape[1]

    @property
    def n_points(self) -> int:
        return self.patterns.shape[0]

    @property
    def active_counts(self) -> np.ndarray:
        """Number of active points of each pattern, shape (P,)."""
        return self.patterns.sum(axis=0)


def cell_count_bound(n: int, r: int) -> int:
    """``2 * sum_{k=0}^{r-1} binom(n-1, k)``: the number of cells of n central hyperplanes in general position in R^r."""
    if n < 0 or r < 0:
        raise ValueError(f"n and r must be non-negative; got n={n}, r={r}")
    if n == 0 or r == 0:
        return 1
    return 2 * sum(comb(n - 1, k) for k in range(r))


def paper_count_bound(n: int, r: int) -> float:
    """The looser closed-form bound ``2 r (e (n-1) / r)^r`` quoted in the paper (valid for n - 1 >= r >= 1)."""
    if r < 1 or n - 1 < r:
        raise ValueError(f"the closed-form bound needs 1 <= r <= n - 1; got n={n}, r={r}")
    return 2.0 * r * (e * (n - 1) / r) ** r


def lift(X: np.ndarray, bias: bool) -> np.ndarray:
    """The gate inputs ``Xt`` (n, k): ``X`` (n, d), with a column of ones appended when the gates carry a bias."""
    return np.hstack([X, np.ones((X.shape[0], 1))]) if bias else X


def _unique_columns(P: np.ndarray, gates: np.ndarray | None = None):
    """De-duplicate the columns of a bool matrix (sorted order); keep the first gate of each."""
    if P.shape[1] == 0:
        return P, gates
    packed = np.packbits(P, axis=0)  # (ceil(n/8), E)
    _, idx = np.unique(packed.T, axis=0, return_index=True)
    idx = np.sort(idx)
    keys = packed.T[idx]
    order = np.lexsort(keys.T[::-1])
    idx = idx[order]
    return P[:, idx], (None if gates is None else gates[idx])


# ---------------------------------------------------------------------------------------------------------------
# exact enumeration
# ---------------------------------------------------------------------------------------------------------------

def _sweep_2d_central(X: np.ndarray) -> np.ndarray:
    """Cells of the central arrangement of 2-D points: one pattern per event of a rotating gate. O(n) per cell.

    The gate ``u(t) = (cos t, sin t)`` crosses point i's line at ``t = phi_i +- pi/2``. Just after an event the
    pattern is ``{x . u > 0}`` plus the points on the line that rotate into the positive side (derivative > 0).
    """
    norms = np.linalg.norm(X, axis=1)
    scale = norms.max() if norms.size else 0.0
    nonzero = norms > _TOL * max(scale, 1e-300)
    if not nonzero.any():
        return np.ones((X.shape[0], 1), dtype=bool)
    phi = np.arctan2(X[nonzero, 1], X[nonzero, 0])
    theta = np.concatenate([phi + np.pi / 2, phi - np.pi / 2])
    U = np.stack([np.cos(theta), np.sin(theta)])  # (2, E)
    Ud = np.stack([-np.sin(theta), np.cos(theta)])
    proj, deriv = X @ U, X @ Ud  # (n, E)
    tie = np.abs(proj) <= _TOL * scale
    pats = (proj > 0) & ~tie | tie & (deriv >= -_TOL * scale)
    return _unique_columns(pats)[0]


def _sweep_2d_affine(X: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """Cells of the affine arrangement (gates with bias) of 2-D points.

    The gate direction ``u(t)`` rotates; the order of the projections ``x_i . u`` changes only when ``u`` is
    orthogonal to ``x_i - x_j`` (n(n-1) events over a full turn). Every threshold set ``{x . u > c}`` other than the
    empty and the full set is created at such an event; just after the event for the pair (i, j) it is the set of
    points strictly above ``c = x_i . u`` plus the tied points (on the line through x_i, x_j) whose projection grows
    at least as fast as the faster of i and j. Work: O(n) per event, i.e. O(n P), the size of the output.
    """
    n = X.shape[0]
    i, j = np.triu_indices(n, k=1)
    delta = X[i] - X[j]
    scale = max(np.abs(X).max(), 1e-300)
    keep = np.linalg.norm(delta, axis=1) > _TOL * scale  # identical points never swap
    i, j, delta = i[keep], j[keep], delta[keep]
    base = np.arctan2(delta[:, 1], delta[:, 0])
    theta = np.concatenate([base + np.pi / 2, base - np.pi / 2])
    ii, jj = np.concatenate([i, i]), np.concatenate([j, j])
    cols = [np.zeros((n, 1), bool), np.ones((n, 1), bool)]
    for s in range(0, theta.size, chunk):
        t = theta[s : s + chunk]
        U = np.stack([np.cos(t), np.sin(t)])
        Ud = np.stack([-np.sin(t), np.cos(t)])
        proj, deriv = X @ U, X @ Ud  # (n, e)
        ar = np.arange(t.size)
        c = proj[ii[s : s + chunk], ar]
        d_ahead = np.maximum(deriv[ii[s : s + chunk], ar], deriv[jj[s : s + chunk], ar])
        rel = proj - c
        tie = np.abs(rel) <= _TOL * scale
        pats = (rel > 0) & ~tie | tie & (deriv >= d_ahead - _TOL * scale)
        cols.append(_unique_columns(pats)[0])
    return _unique_columns(np.hstack(cols))[0]


def _all_signs(k: int) -> np.ndarray:
    """All 2^k sign patterns as a bool matrix (k, 2^k)."""
    if k == 0:
        return np.ones((0, 1), dtype=bool)
    return np.array(list(itertools.product([False, True], repeat=k)), dtype=bool).T


def central_cells(Y: np.ndarray, max_candidates: int) -> np.ndarray:
    """Cells of the central arrangement with normals = rows of Y, any dimension (recursive, for small n).

    Every cell of a central arrangement whose normals span R^r (r >= 2) is a pointed cone with an extreme ray; a ray
    lies on the hyperplanes of a set Z spanning r - 1 dimensions, and the cells around it are the sign pattern of
    the other points on the ray combined with the cells of the (lower-rank) arrangement of Z. So: loop over the
    (r-1)-subsets of points, take the ray orthogonal to them, and recurse on the points on the ray.
    """
    n = Y.shape[0]
    norms = np.linalg.norm(Y, axis=1)
    scale = norms.max() if n else 0.0
    nonzero = norms > _TOL * max(scale, 1e-300)
    out = np.ones((n, 1), dtype=bool)
    if not nonzero.any():
        return out
    Yn = Y[nonzero]
    U, S, Vt = np.linalg.svd(Yn, full_matrices=False)
    r = int(np.sum(S > _TOL * S[0] * max(Yn.shape)))
    Z = Yn @ Vt[:r].T  # coordinates in the row space, (n', r)
    if r == 1:
        sub = np.stack([Z[:, 0] > 0, Z[:, 0] < 0], axis=1)
    elif np.linalg.matrix_rank(Z) == Z.shape[0]:  # linearly independent normals: every sign vector is a cell
        sub = _all_signs(Z.shape[0])
    else:
        n_sub = comb(Z.shape[0], r - 1)
        if n_sub * 2 ** r > max_candidates:
            raise ValueError(
                f"exact enumeration would examine about {n_sub * 2 ** r} candidate patterns (n={Z.shape[0]}, rank {r}); "
                "use method='sampled' or raise max_candidates"
            )
        zscale = np.linalg.norm(Z, axis=1)
        found = []
        for S_idx in itertools.combinations(range(Z.shape[0]), r - 1):
            ZS = Z[list(S_idx)]
            _, sv, vt = np.linalg.svd(ZS, full_matrices=True)
            if sv.size and sv[-1] <= _TOL * max(sv[0], 1e-300):
                continue  # the subset does not span r - 1 dimensions: no ray
            ray = vt[-1]
            for sgn in (1.0, -1.0):
                p = sgn * (Z @ ray)
                on = np.abs(p) <= _TOL * zscale
                local = central_cells(Z[on], max_candidates)
                block = np.repeat((p > 0)[:, None], local.shape[1], axis=1)
                block[on] = local
                found.append(block)
        sub = _unique_columns(np.hstack(found))[0]
    out = np.ones((n, sub.shape[1]), dtype=bool)
    out[nonzero] = sub
    return out


# ---------------------------------------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------------------------------------

def _rank(M: np.ndarray) -> int:
    if M.size == 0:
        return 0
    S = np.linalg.svd(M, compute_uv=False)
    return int(np.sum(S > _TOL * S[0] * max(M.shape))) if S[0] > 0 else 0


def arrangement_patterns(
    X: ArrayLike,
    method: str = "exact",
    *,
    bias: bool = False,
    n_gates: int = 1000,
    rng: np.random.Generator | int | None = 0,
    max_candidates: int = 2_000_000,
) -> Arrangement:
    """Activation patterns ``1{X u + b >= 0}`` of the data ``X`` (n, d); ``b = 0`` unless ``bias=True``.

    ``method="exact"``: every cell of the arrangement. In 2-D a rotating-gate sweep (O(n) work per cell, i.e. linear
    in the size n P of the output: O(n^2) without bias, O(n^3) with bias since P = n^2 - n + 2), followed by a
    sort that removes duplicate columns (O(P log P) comparisons of n-bit keys: O(n^3 log n) in the worst case;
    measured n = 50 -> 100 -> 200 with bias, the time grows 5-7x per doubling in three runs; n^3 alone would give
    8x). With bias no method that
    returns the boolean matrix can beat n^3: the matrix has n (n^2 - n + 2) entries, and each must be written.
    O(n^2 log n) is possible only for an implicit output (sort the n(n-1) swap events of the rotating order; the
    pattern created at an event is a prefix of the current order, recoverable in O(n) on demand), which this
    function does not return. In higher d a recursive extreme-ray enumeration that examines ``binom(n, r-1) 2^r``
    candidates (small n only).

    ``method="sampled"``: ``n_gates`` Gaussian gates ``u ~ N(0, I_d)``; with ``bias=True`` the hyperplane passes
    through a random data point moved by Gaussian noise of 0.1 times the data scale, ``b = -u . (x_k + noise)``.
    Duplicate and empty patterns are dropped (an empty pattern gives a dead neuron); ``gates`` keeps the first gate
    of each pattern. Seeded by ``rng``.
    """
    X, _ = as_samples(X, name="X")
    n, d = X.shape
    if method not in ("exact", "sampled"):
        raise ValueError(f"unknown method {method!r}: use 'exact' (all cells) or 'sampled' (random Gaussian gates)")
    L = lift(X, bias)
    r = _rank(L)
    bound = cell_count_bound(n, r)
    if method == "exact":
        if d == 2 and not bias:
            pats = _sweep_2d_central(X)
        elif d == 2 and bias:
            pats = _sweep_2d_affine(X)
        elif d == 1 and not bias:
            pats = central_cells(X, max_candidates)
        else:
            pats = central_cells(L, max_candidates)
        return Arrangement(patterns=pats, bound=bound, rank=r, method="exact", bias=bias)
    if int(n_gates) != n_gates or n_gates < 1:
        raise ValueError(f"n_gates must be a positive integer; got {n_gates}")
    gen = np.random.default_rng(rng)
    G = gen.standard_normal((int(n_gates), d))
    if bias:
        spread = float(np.std(X, axis=0).mean()) or 1.0
        centres = X[gen.integers(0, n, size=int(n_gates))] + 0.1 * spread * gen.standard_normal((int(n_gates), d))
        b = -np.einsum("gd,gd->g", G, centres)
        G = np.hstack([G, b[:, None]])
    pats = (L @ G.T) >= 0
    nonempty = pats.any(axis=0)
    pats, G = _unique_columns(pats[:, nonempty], G[nonempty])
    return Arrangement(patterns=pats, bound=bound, rank=r, method="sampled", bias=bias, gates=G)
