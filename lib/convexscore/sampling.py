"""Langevin samplers (numpy, vectorised over chains).

Algorithm 2 of the paper (unadjusted Langevin algorithm, ULA) in its form
``x <- x + (step/2) s(x) + sqrt(step) z`` with ``z ~ N(0, I)``; Algorithm 3 (annealed Langevin) on top of it;
step sizes from the score's Lipschitz constant with a stability check; and a fused fast path for the
piecewise-linear 1-D scores of fitted networks (:class:`PiecewiseLinearScore`).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import ula_kernel
from ._validation import as_samples, check_positive
from .piecewise import PiecewiseLinearScore


@dataclass(frozen=True)
class LangevinRun:
    """Result of :func:`langevin`.

    ``samples``: final states, shape (n_chains,) or (n_chains, d) like ``x0``.
    ``trajectory``: kept states, shape (n_kept, *samples.shape), or None; ``steps`` holds the step index of each.
    """

    samples: np.ndarray
    trajectory: np.ndarray | None
    steps: np.ndarray | None


def langevin(
    score: Callable[[np.ndarray], np.ndarray],
    x0,
    step: float | None,
    n_steps: int,
    rng: np.random.Generator | int | None = None,
    thin: int | None = None,
    lipschitz: float | None = None,
    on_unstable: str = "warn",
    fast: bool | str = True,
) -> LangevinRun:
    """Run ULA chains ``x <- x + (step/2) score(x) + sqrt(step) z`` in parallel (Algorithm 2).

    ``score`` maps an array shaped like ``x0`` to an array of the same shape; ``x0`` is (n_chains,) or
    (n_chains, d). With ``thin=k`` the state after every k-th step (and the initial state) is kept.

    ``step=None`` takes :func:`default_step` (``0.1 / L``). When the Lipschitz constant ``L`` is known (a
    :class:`PiecewiseLinearScore`, a 1-D ``TwoLayerNet``, or ``lipschitz=`` given) a step ``>= 4 / L`` triggers
    ``on_unstable``: ``"warn"`` (an :class:`UnstableStepWarning`), ``"raise"`` or ``"ignore"``.
    1-D piecewise-linear scores (see :func:`as_piecewise_linear`) with a stable step use a fused kernel:
    ``fast=True`` picks the compiled one-pass loop (numba, see :mod:`convexscore.ula_kernel`) when it is
    available and the numpy kernel otherwise; ``"numba"`` (alias ``"c"``) or ``"numpy"`` force one;
    ``False`` forces the generic loop. All consume the random stream identically, so the same seed gives the same
    chains up to rounding.
    """
    if int(n_steps) != n_steps or n_steps < 0:
        raise ValueError(f"n_steps must be a non-negative integer; got {n_steps}")
    if thin is not None and (int(thin) != thin or thin < 1):
        raise ValueError(f"thin must be a positive integer or None; got {thin}")
    X, univariate = as_samples(x0, name="x0")
    pl = as_piecewise_linear(score) if univariate else None
    score = score if pl is None else pl
    L = lipschitz_constant(score) if lipschitz is None else float(lipschitz)
    step = default_step(score, L) if step is None else check_positive(step, "step")
    stable = check_step(step, L, on_unstable)
    x = X[:, 0].copy() if univariate else X.copy()
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    n_steps = int(n_steps)
    if fast not in (True, False, "numpy", "numba", "c"):
        raise ValueError(f"fast must be True, False, 'numpy' or 'numba' ('c' is an alias); got {fast!r}")
    if fast and stable and univariate and isinstance(score, PiecewiseLinearScore):
        backend = "auto" if fast is True else fast
        x, kept, kept_steps = _FastULA(score, step, backend).run(x, n_steps, rng, thin)
    else:
        sqrt_step = np.sqrt(step)
        kept, kept_steps = ([x.copy()], [0]) if thin else (None, None)
        for t in range(1, n_steps + 1):
            s = np.asarray(score(x), dtype=np.float64)
            if s.shape != x.shape:
                raise ValueError(f"score returned shape {s.shape} for states of shape {x.shape}; it must return the same shape")
            with np.errstate(over="ignore", invalid="ignore"):
                x = x + 0.5 * step * s + sqrt_step * rng.standard_normal(x.shape)
            if (t % 8 == 0 or t == n_steps) and not np.all(np.isfinite(x)):
                break  # reported below
            if thin and t % thin == 0:
                kept.append(x.copy())
                kept_steps.append(t)
    if not np.all(np.isfinite(x)):
        raise FloatingPointError(
            f"Langevin chains diverged (non-finite states) with step={step}: the step is too large for this score; "
            "reduce it below 4 / L where L is the Lipschitz constant of the score"
        )
    traj = np.stack(kept) if thin else None
    return LangevinRun(samples=x, trajectory=traj, steps=np.asarray(kept_steps) if thin else None)


@dataclass(frozen=True)
class AnnealedLangevinRun:
    """Result of :func:`annealed_langevin`.

    ``samples``: final states (after the optional denoising step), shaped like ``x0``; ``levels``: the states at the
    end of each noise level, shape (L, *samples.shape) (before denoising); ``alphas``: the step used at each level.
    """

    samples: np.ndarray
    levels: np.ndarray
    alphas: np.ndarray


def annealed_langevin(
    scores,
    sigmas,
    step: float,
    n_steps_each: int,
    *,
    x0,
    rng: np.random.Generator | int | None = None,
    denoise: bool = False,
    on_unstable: str = "warn",
) -> AnnealedLangevinRun:
    """Annealed Langevin dynamics (Algorithm 3, after Song & Ermon 2019).

    ``sigmas``: noise levels ``sigma_1 > ... > sigma_L > 0``. ``scores``: a sequence of L callables (the score
    model of each level, e.g. DSM fits at each ``sigma_i``) or one callable ``score(x, sigma)``. At level ``i``
    the chains run ``n_steps_each`` ULA steps with ``alpha_i = step * sigma_i^2 / sigma_L^2`` starting where level
    ``i - 1`` stopped. ``denoise=True`` adds the final denoising step ``x + sigma_L^2 s_L(x)`` (Tweedie's formula),
    which removes the ``sigma_L`` noise that the last level's score describes. ``x0``: initial states
    (n_chains,) or (n_chains, d), e.g. uniform draws.
    """
    sig = np.asarray(sigmas, dtype=np.float64).reshape(-1)
    if sig.size == 0 or not np.all(np.isfinite(sig)) or np.any(sig <= 0):
        raise ValueError(f"sigmas must be a non-empty sequence of finite positive numbers; got {sigmas}")
    if np.any(np.diff(sig) > 0):
        raise ValueError("sigmas must be non-increasing (largest noise first): sigma_1 >= ... >= sigma_L")
    step = check_positive(step, "step")
    if callable(scores) and not isinstance(scores, (list, tuple)):
        per_level = [(lambda x, s=s: scores(x, s)) for s in sig]
    else:
        per_level = list(scores)
        if len(per_level) != sig.size:
            raise ValueError(f"got {len(per_level)} score models for {sig.size} noise levels; pass one per level")
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    alphas = step * sig**2 / sig[-1] ** 2
    x = np.asarray(x0, dtype=np.float64)
    levels = []
    for s_i, a_i in zip(per_level, alphas):
        x = langevin(s_i, x, a_i, n_steps_each, rng=rng, on_unstable=on_unstable).samples
        levels.append(x.copy())
    if denoise:
        x = x + sig[-1] ** 2 * np.asarray(per_level[-1](x), dtype=np.float64)
    return AnnealedLangevinRun(samples=x, levels=np.stack(levels), alphas=alphas)


def gaussian_ula_stationary_variance(var: float, step: float) -> float:
    """Exact stationary variance of ULA (step ``eps``) on N(mu, var): ``var / (1 - eps / (4 var))``.

    The chain is ``x' = (1 - eps/(2 var)) x + sqrt(eps) z`` (centred), an AR(1) process; it is stable iff
    ``eps < 4 var``.
    """
    var, step = check_positive(var, "var"), check_positive(step, "step")
    if step >= 4 * var:
        raise ValueError(f"ULA is unstable for step >= 4 * var (step={step}, var={var}); no stationary law exists")
    return var / (1.0 - step / (4.0 * var))


# ---------------------------------------------------------------------------------------------------------------
# Step sizes and stability
# ---------------------------------------------------------------------------------------------------------------


class UnstableStepWarning(UserWarning):
    """The Langevin step is at or above the stability limit ``4 / L`` of the score's Lipschitz constant ``L``."""


def lipschitz_constant(score) -> float | None:
    """Exact Lipschitz constant of a piecewise-linear 1-D score, or None when it is not known.

    Accepts a :class:`PiecewiseLinearScore`, a 1-D ``TwoLayerNet`` (converted exactly), or any object with a
    ``lipschitz`` attribute. For other callables it returns None.
    """
    pl = as_piecewise_linear(score)
    if pl is not None:
        return pl.lipschitz
    value = getattr(score, "lipschitz", None)
    return None if value is None else float(value)


def as_piecewise_linear(score) -> "PiecewiseLinearScore | None":
    """``score`` as a :class:`PiecewiseLinearScore` when it is one exactly, else None.

    Accepted: a :class:`PiecewiseLinearScore`, a 1-D ``TwoLayerNet``, or any object with ``knots``, ``slopes`` and
    ``intercepts`` arrays in the same layout (e.g. the univariate solver's piecewise form).
    """
    from .network import TwoLayerNet

    if isinstance(score, PiecewiseLinearScore):
        return score
    if isinstance(score, TwoLayerNet):
        return PiecewiseLinearScore.from_network(score) if score.dim == 1 else None
    if all(hasattr(score, k) for k in ("knots", "slopes", "intercepts")):
        return PiecewiseLinearScore(score.knots, score.slopes, score.intercepts)
    return None


def default_step(score, lipschitz: float | None = None, fraction: float = 0.1) -> float:
    """Default Langevin step ``fraction / L`` from the score's Lipschitz constant ``L`` (exact when piecewise linear).

    With ``fraction = 0.1`` the stationary variance on a Gaussian target ``N(m, s^2)`` (where ``L = 1/s^2``) is
    ``s^2 / (1 - 0.025)``, a 2.6 % bias; the stability limit is ``step < 4 / L``.
    """
    L = lipschitz_constant(score) if lipschitz is None else float(lipschitz)
    if L is None:
        raise ValueError("the score's Lipschitz constant is unknown; pass lipschitz=... or choose step explicitly")
    if not np.isfinite(L) or L <= 0:
        raise ValueError(f"the score's Lipschitz constant is {L}; a default step needs L > 0, so pass step explicitly")
    return check_positive(fraction, "fraction") / L


def check_step(step: float, lipschitz: float | None, on_unstable: str = "warn") -> bool:
    """Return True when ``step < 4 / L``. Otherwise warn (``UnstableStepWarning``), raise, or ignore.

    Why ``4 / L``: on a segment where the score has slope ``-L`` one step multiplies deviations by
    ``1 - step L / 2``, whose modulus exceeds 1 exactly when ``step > 4 / L`` (on a Gaussian, ``step >= 4 var``
    has no stationary law; see :func:`gaussian_ula_stationary_variance`).
    """
    if on_unstable not in ("warn", "raise", "ignore"):
        raise ValueError(f"on_unstable must be 'warn', 'raise' or 'ignore'; got {on_unstable!r}")
    if lipschitz is None or lipschitz <= 0 or step * lipschitz < 4.0:
        return True
    msg = (f"Langevin step {step:.4g} is unstable for a score with Lipschitz constant {lipschitz:.4g} "
           f"(need step < 4 / L = {4 / lipschitz:.4g}); chains will oscillate with growing amplitude. "
           f"Use convexscore.default_step(score) = {0.1 / lipschitz:.4g} or smaller")
    if on_unstable == "raise":
        raise ValueError(msg)
    if on_unstable == "warn":
        warnings.warn(msg, UnstableStepWarning, stacklevel=3)
    return False


# ---------------------------------------------------------------------------------------------------------------
# The fast 1-D Langevin kernel for piecewise-linear scores (the class is in convexscore.piecewise)
# ---------------------------------------------------------------------------------------------------------------

_CHUNK = 8192  # chains processed per inner pass: 64 KB per float64 buffer, so the working set stays in cache
_CHUNK_C = 65536  # chains per call of the compiled kernel (amortises the call overhead)
_MAX_CELLS = 1 << 16
_MAX_CELLS_C = 1 << 14
_DIVERGED = ("Langevin chains diverged: states left every reasonable range; reduce the step "
             "or check that the score points inwards far from the data (negative outer slopes)")


class _FastULA:
    """Fused ULA steps for a :class:`PiecewiseLinearScore` (1-D), exact up to rounding.

    State ``y = (x - x0) / h`` on a uniform grid of cells of width ``h`` covering the knots; cell ``c`` is
    ``[c, c + 1)`` and owns the knots in it (a knot exactly on the edge ``c`` included). Table entry ``j`` holds the
    segment left of all the knots of cell ``j`` (index ``#{knots < j}``). A cell with one knot at
    ``t`` stores ``E[c] = c + 1 - t`` (0 for a cell without knots), so that ``j = floor(y + E[floor(y)])`` is
    ``c`` left of the knot and ``c + 1`` right of it: one cast, one gather, one add, one cast. The update is then
    ``y <- B[j] y + C[j] + (sqrt(step)/h) z`` with ``B = 1 + step a / 2`` and ``C = step (a x0 + c) / (2 h)``.
    Cells holding two or more knots (knots closer than ``h``) get ``E = 0``; the numpy kernel flags them and resolves
    their chains by binary search, the compiled kernel (:mod:`convexscore.ula_kernel`, one pass, coarser grid)
    by a short scan over the knots of the cell. The numpy kernel requires a stable step (``step < 4 / L``) so that
    states stay far inside the integer range between its divergence checks (every 8 steps); the compiled kernel
    checks every state.
    """

    def __init__(self, score: PiecewiseLinearScore, step: float, backend: str = "auto"):
        self.kernel = None if backend == "numpy" else ula_kernel.load()
        if backend in ("numba", "c") and self.kernel is None:
            raise ValueError("the compiled Langevin kernel is unavailable (numba missing, or CONVEXSCORE_NO_COMPILED=1); "
                             "use fast=True or fast='numpy'")
        compiled = self.kernel is not None
        t = score.knots
        a, c = score.slopes, score.intercepts
        if t.size == 0:  # a linear score: add a dummy knot with the same line on both sides
            t, a, c = np.zeros(1), np.repeat(a, 2), np.repeat(c, 2)
        lo, hi = t[0], t[-1]
        K = t.size
        if hi > lo:
            if compiled:  # multi-knot cells cost a short scan only: keep the table small (cache-resident)
                G = int(min(_MAX_CELLS_C - 3, max(16 * K, 64)))
            else:  # the numpy kernel pays for every multi-knot cell: make the cells finer than the closest knots
                min_gap = float(np.min(np.diff(t))) if K > 1 else hi - lo
                G = int(min(_MAX_CELLS - 3, max(8 * K, 64, np.ceil((hi - lo) / min_gap))))
            h = (hi - lo) / G
        else:
            G, h = 1, 1.0
        self.x0, self.h = lo - h, h
        ty = (t - self.x0) / h
        ncell = G + 3
        cell = np.floor(ty).astype(np.intp)
        count = np.bincount(cell, minlength=ncell)[:ncell]
        one = count[cell] == 1
        self.E = np.zeros(ncell)
        self.E[cell[one]] = cell[one] + 1.0 - ty[one]
        # knots with ty < c: a knot exactly on the edge c belongs to cell c (floor), so it must not count here
        seg_left = np.searchsorted(ty, np.arange(ncell, dtype=np.float64), side="left")
        B_seg = 1.0 + 0.5 * step * a
        C_seg = 0.5 * step * (a * self.x0 + c) / h
        self.B, self.C = B_seg[seg_left], C_seg[seg_left]
        self.B_seg, self.C_seg = B_seg, C_seg
        multi = np.flatnonzero(count >= 2)
        self.flag = None
        if multi.size:  # their chains get j = c (E = 0), as do chains right of the knot in cell c - 1: both exact
            self.flag = np.zeros(ncell, dtype=bool)
            self.flag[multi] = True
        self.ty = ty
        self.ncell = ncell
        self.scan_start = np.where(count >= 2, seg_left, -1).astype(np.float64)  # for the compiled kernel
        self.noise_scale = np.sqrt(step) / h

    def run(self, x: np.ndarray, n_steps: int, rng: np.random.Generator, thin: int | None):
        """Advance the chains ``x`` (n,) by ``n_steps``; returns ``(x, kept, kept_steps)`` as in :func:`langevin`."""
        if self.kernel is not None:
            return self._run_compiled(self.kernel, x, n_steps, rng, thin)
        y = (x - self.x0) / self.h
        n = y.size
        C = min(_CHUNK, max(n, 1))
        ci = np.empty(C, dtype=np.intp)
        e, u, gb, gc, z = (np.empty(C) for _ in range(5))
        kept, kept_steps = ([x.copy()], [0]) if thin else (None, None)
        limit = 2.0**48
        with np.errstate(invalid="ignore", over="ignore"):
            for t in range(1, n_steps + 1):
                for s0 in range(0, n, C):
                    yc = y[s0:s0 + C]
                    m = yc.size
                    c_, e_, u_, b_, k_, z_ = ci[:m], e[:m], u[:m], gb[:m], gc[:m], z[:m]
                    rng.standard_normal(out=z_)
                    np.copyto(c_, yc, casting="unsafe")  # floor for y >= 0; y < 0 gives c <= 0, clipped to cell 0
                    np.take(self.E, c_, out=e_, mode="clip")
                    np.add(yc, e_, out=u_)
                    np.copyto(c_, u_, casting="unsafe")
                    np.take(self.B, c_, out=b_, mode="clip")
                    np.take(self.C, c_, out=k_, mode="clip")
                    if self.flag is not None:
                        hit = np.flatnonzero(np.take(self.flag, c_, mode="clip"))
                        if hit.size:
                            seg = np.searchsorted(self.ty, yc[hit], side="right")
                            b_[hit], k_[hit] = self.B_seg[seg], self.C_seg[seg]
                    yc *= b_
                    yc += k_
                    z_ *= self.noise_scale
                    yc += z_
                if t % 8 == 0 or t == n_steps:
                    if not np.all(np.abs(y) < limit):  # also catches NaN
                        raise FloatingPointError(_DIVERGED)
                if thin and t % thin == 0:
                    kept.append(self.x0 + self.h * y)
                    kept_steps.append(t)
        return self.x0 + self.h * y, kept, kept_steps

    def _run_compiled(self, kernel, x: np.ndarray, n_steps: int, rng: np.random.Generator, thin: int | None):
        y = np.ascontiguousarray((x - self.x0) / self.h, dtype=np.float64)
        n = y.size
        C = min(_CHUNK_C, max(n, 1))
        z = np.empty(C)
        table = np.ascontiguousarray(np.column_stack([self.E, self.B, self.C, self.scan_start]))
        ty = np.ascontiguousarray(self.ty)
        B_seg, C_seg = np.ascontiguousarray(self.B_seg), np.ascontiguousarray(self.C_seg)
        kept, kept_steps = ([x.copy()], [0]) if thin else (None, None)
        for t in range(1, n_steps + 1):
            bad = False
            for s0 in range(0, n, C):
                m = min(C, n - s0)
                rng.standard_normal(out=z[:m])
                bad |= kernel(y[s0:s0 + m], z[:m], table, ty, B_seg, C_seg, self.noise_scale, 2.0**48)
            if bad:
                raise FloatingPointError(_DIVERGED)
            if thin and t % thin == 0:
                kept.append(self.x0 + self.h * y)
                kept_steps.append(t)
        return self.x0 + self.h * y, kept, kept_steps
