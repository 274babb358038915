"""Langevin samplers (numpy, vectorised over chains).

Algorithm 2 of the paper (unadjusted Langevin algorithm, ULA) in its form
``x <- x + (step/2) s(x) + sqrt(step) z`` with ``z ~ N(0, I)``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ._validation import as_samples, check_positive


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
    step: float,
    n_steps: int,
    rng: np.random.Generator | int | None = None,
    thin: int | None = None,
) -> LangevinRun:
    """Run ULA chains ``x <- x + (step/2) score(x) + sqrt(step) z`` in parallel.

    ``score`` maps an array shaped like ``x0`` to an array of the same shape; ``x0`` is (n_chains,) or
    (n_chains, d). With ``thin=k`` the state after every k-th step (and the initial state) is kept.
    """
    step = check_positive(step, "step")
    if int(n_steps) != n_steps or n_steps < 0:
        raise ValueError(f"n_steps must be a non-negative integer; got {n_steps}")
    if thin is not None and (int(thin) != thin or thin < 1):
        raise ValueError(f"thin must be a positive integer or None; got {thin}")
    X, univariate = as_samples(x0, name="x0")
    x = X[:, 0].copy() if univariate else X.copy()
    rng = np.random.default_rng(rng)
    sqrt_step = np.sqrt(step)
    kept, kept_steps = ([x.copy()], [0]) if thin else (None, None)
    for t in range(1, int(n_steps) + 1):
        s = np.asarray(score(x), dtype=np.float64)
        if s.shape != x.shape:
            raise ValueError(f"score returned shape {s.shape} for states of shape {x.shape}; it must return the same shape")
        x = x + 0.5 * step * s + sqrt_step * rng.standard_normal(x.shape)
        if thin and t % thin == 0:
            kept.append(x.copy())
            kept_steps.append(t)
    if not np.all(np.isfinite(x)):
        raise FloatingPointError(
            f"Langevin chains diverged (non-finite states) with step={step}: the step is too large for this score; "
            "reduce it below 2 / L where L is the Lipschitz constant of the score"
        )
    traj = np.stack(kept) if thin else None
    return LangevinRun(samples=x, trajectory=traj, steps=np.asarray(kept_steps) if thin else None)


def gaussian_ula_stationary_variance(var: float, step: float) -> float:
    """Exact stationary variance of ULA (step ``eps``) on N(mu, var): ``var / (1 - eps / (4 var))``.

    The chain is ``x' = (1 - eps/(2 var)) x + sqrt(eps) z`` (centred), an AR(1) process; it is stable iff
    ``eps < 4 var``.
    """
    var, step = check_positive(var, "var"), check_positive(step, "step")
    if step >= 4 * var:
        raise ValueError(f"ULA is unstable for step >= 4 * var (step={step}, var={var}); no stationary law exists")
    return var / (1.0 - step / (4.0 * var))
