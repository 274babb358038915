"""Adam on the non-convex network: the practitioner's baseline the convex programs are compared with.

:func:`train_adam` runs full-batch Adam on the book's exact objective (SM or DSM, sums over samples, weight decay
``beta/2`` on both weight layers) and records the objective at every epoch. :func:`sweep_adam` runs a grid of
seeds x learning rates x widths in parallel with joblib.

Parallel backends. ``sweep_adam(..., n_jobs=k)`` uses joblib's default (loky processes). To run on a cluster,
wrap the call in a joblib backend context; nothing else changes::

    from dask.distributed import Client        # Dask
    client = Client("tcp://scheduler:8786")
    with joblib.parallel_config(backend="dask"):
        sweep = sweep_adam(x, beta, widths, lrs, seeds, epochs=500, n_jobs=-1)

    from ray.util.joblib import register_ray   # Ray
    register_ray()
    with joblib.parallel_config(backend="ray"):
        sweep = sweep_adam(...)

Progress bar. ``progress=None`` (default) shows a tqdm bar only in an interactive terminal: stderr is a TTY and
neither ``CI`` nor ``CONVEXSCORE_PROGRESS=0`` is set. Inside Jupyter (including nbval and ``make execute``)
stderr is not a TTY, so notebooks stay silent and their stored outputs stay reproducible; pass
``progress=True`` (or set ``CONVEXSCORE_PROGRESS=1``) to see a bar in JupyterLab.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
from numpy.typing import ArrayLike

from ._validation import as_samples, check_activation, check_nonnegative, check_positive
from .network import TwoLayerNet, denoising_score_matching_loss, score_matching_loss
from .torch_net import TorchTwoLayerNet, torch_dsm_loss, torch_sm_loss

__all__ = ["AdamRun", "AdamSweep", "train_adam", "sweep_adam", "exact_objective", "progress_enabled"]


@dataclass(frozen=True)
class AdamRun:
    """One Adam run.

    ``losses``: shape (epochs + 1,), ``losses[k]`` the full-batch objective after ``k`` epochs (``losses[0]`` at
    the initialisation, ``losses[-1]`` equal to the objective of ``net``). ``net``: the final network as a
    :class:`convexscore.TwoLayerNet`. ``status`` is ``"ok"`` or ``"diverged"`` (training stopped at the first
    non-finite objective; ``net`` and ``losses`` then end at the last finite iterate). ``noise``: the DSM draws used
    (None for SM).
    """

    losses: np.ndarray
    net: TwoLayerNet
    objective: str
    lr: float
    width: int
    seed: int
    status: str = "ok"
    noise: np.ndarray | None = field(default=None, repr=False)

    @property
    def final_loss(self) -> float:
        return float(self.losses[-1])


def train_adam(x: ArrayLike, beta: float, width: int, lr: float, epochs: int, seed: int = 0, objective: str = "sm",
               activation: str = "relu", skip: bool = False, sigma: float | None = None, noise: ArrayLike | None = None,
               trace: str = "analytic", dtype=torch.float64) -> AdamRun:
    """Full-batch Adam (``torch.optim.Adam``, default betas) on the exact SM or DSM objective.

    ``x``: data, shape (n,) or (n, d). One epoch is one full-batch step. The initialisation is
    :meth:`TorchTwoLayerNet.init` with ``seed`` (PyTorch's ``nn.Linear`` default: uniform with fan-in bounds, skip
    at 0). Weight decay is part of the loss (``beta/2`` on ``W1`` and ``W2``), not Adam's ``weight_decay``.
    For ``objective="dsm"``, ``sigma`` is required and ``noise`` (standard normal, shape of ``x``) fixes the
    objective; if it is None it is drawn from ``numpy.random.default_rng(seed)`` and returned in the run. Pass the
    same ``noise`` to every run (and to the convex solver) to compare objectives.
    """
    if objective not in ("sm", "dsm"):
        raise ValueError(f"objective must be 'sm' or 'dsm'; got {objective!r}")
    check_activation(activation)
    beta, lr = check_nonnegative(beta, "beta"), check_positive(lr, "lr")
    for name, v in (("width", width), ("epochs", epochs)):
        if int(v) != v or v < (1 if name == "width" else 0):
            raise ValueError(f"{name} must be a {'positive' if name == 'width' else 'non-negative'} integer; got {v}")
    X, univariate = as_samples(x)
    Z = None
    if objective == "dsm":
        if sigma is None:
            raise ValueError("objective='dsm' needs the noise level sigma (e.g. sigma=0.5)")
        sigma = check_positive(sigma, "sigma")
        if noise is None:
            noise = np.random.default_rng(seed).standard_normal(np.shape(x))
        Z, _ = as_samples(noise, name="noise")
        if Z.shape != X.shape:
            raise ValueError(f"noise has shape {np.shape(noise)} but x has shape {np.shape(x)}")
    model = TorchTwoLayerNet.init(X.shape[1], int(width), activation, skip, seed, dtype=dtype)
    Xt = torch.as_tensor(X, dtype=dtype)
    Zt = None if Z is None else torch.as_tensor(Z, dtype=dtype)

    def loss_fn():
        if objective == "sm":
            return torch_sm_loss(model, Xt, beta, trace=trace)
        return torch_dsm_loss(model, Xt, Zt, sigma, beta)

    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses, status = [], "ok"
    last_good = {k: v.detach().clone() for k, v in model.state_dict().items()}
    for _ in range(int(epochs) + 1):
        opt.zero_grad()
        loss = loss_fn()
        value = float(loss.detach())
        if not np.isfinite(value):
            status = "diverged"
            model.load_state_dict(last_good)
            break
        losses.append(value)
        last_good = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if len(losses) == int(epochs) + 1:
            break  # the last evaluation is the objective of the returned network: no step after it
        loss.backward()
        opt.step()
    net = model.to_numpy()
    return AdamRun(losses=np.asarray(losses), net=net, objective=objective, lr=float(lr), width=int(width),
                   seed=int(seed), status=status, noise=None if Z is None else np.asarray(noise, dtype=np.float64))


def exact_objective(run: AdamRun, x: ArrayLike, beta: float, sigma: float | None = None) -> float:
    """The numpy (float64) objective of ``run.net``: equals ``run.final_loss`` up to rounding."""
    if run.objective == "sm":
        return score_matching_loss(run.net, x, beta)
    return denoising_score_matching_loss(run.net, x, run.noise, sigma, beta)


def progress_enabled(progress: bool | None = None) -> bool:
    """Resolve the ``progress`` option: explicit True/False wins; else ``CONVEXSCORE_PROGRESS`` (1/0); else on
    only when stderr is a TTY and ``CI`` is unset (so never in notebooks, nbval or CI logs)."""
    if progress is not None:
        return bool(progress)
    env = os.environ.get("CONVEXSCORE_PROGRESS")
    if env is not None:
        return env.strip().lower() not in ("", "0", "false", "no", "off")
    if os.environ.get("CI"):
        return False
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):
        return False


@dataclass(frozen=True)
class AdamSweep:
    """Runs of :func:`sweep_adam`, in the order widths x lrs x seeds (seeds fastest)."""

    runs: list
    widths: tuple
    lrs: tuple
    seeds: tuple

    def final_losses(self) -> np.ndarray:
        """Final objectives, shape (len(widths), len(lrs), len(seeds)); NaN marks a diverged run."""
        vals = [r.final_loss if r.status == "ok" else np.nan for r in self.runs]
        return np.asarray(vals).reshape(len(self.widths), len(self.lrs), len(self.seeds))

    def select(self, width=None, lr=None) -> list:
        """The runs with the given width and/or learning rate."""
        return [r for r in self.runs if (width is None or r.width == width) and (lr is None or r.lr == lr)]


def _one(kw):
    torch.set_num_threads(1)
    return train_adam(**kw)


def sweep_adam(x: ArrayLike, beta: float, widths: ArrayLike, lrs: ArrayLike, seeds: ArrayLike, epochs: int,
               objective: Literal["sm", "dsm"] = "sm", activation: Literal["relu", "abs"] = "relu", skip: bool = False,
               sigma: float | None = None, noise: ArrayLike | None = None, noise_seed: int = 0, n_jobs: int = 1,
               progress: bool | None = None) -> AdamSweep:
    """Adam runs over every (width, lr, seed); the paper used 10 seeds, 500 epochs (SM) or 200 (DSM).

    For DSM one noise draw is shared by all runs (``noise``, or ``default_rng(noise_seed)`` when None), so all runs
    minimise the same objective. ``n_jobs`` as in joblib (1: sequential, -1: all cores); see the module docstring
    for Dask/Ray backends and for when the progress bar shows.
    """
    from joblib import Parallel, delayed
    from tqdm.auto import tqdm

    widths, lrs, seeds = tuple(int(w) for w in np.atleast_1d(widths)), tuple(float(v) for v in np.atleast_1d(lrs)), \
        tuple(int(s) for s in np.atleast_1d(seeds))
    if objective == "dsm" and noise is None:
        noise = np.random.default_rng(noise_seed).standard_normal(np.shape(x))
    jobs = [dict(x=x, beta=beta, width=w, lr=lr, epochs=epochs, seed=s, objective=objective, activation=activation,
                 skip=skip, sigma=sigma, noise=noise) for w in widths for lr in lrs for s in seeds]
    if n_jobs == 1:
        it = tqdm(jobs, desc="Adam runs", disable=not progress_enabled(progress))
        runs = [train_adam(**kw) for kw in it]
    else:
        gen = Parallel(n_jobs=n_jobs, return_as="generator")(delayed(_one)(kw) for kw in jobs)
        runs = list(tqdm(gen, total=len(jobs), desc="Adam runs", disable=not progress_enabled(progress)))
    return AdamSweep(runs=runs, widths=widths, lrs=lrs, seeds=seeds)
