"""CVXPY (Clarabel) against FISTA (PyTorch) on the multivariate nuclear-norm programs, and the cost of the patterns.

One run, one process, single thread (BLAS and torch). Data: standard Gaussian in d dimensions (seed 0), DSM with
sigma = 0.5 (always finite, so both solvers solve the same program), sampled patterns with bias, beta = 1.
For each (n, d, P): wall-clock seconds of each solver, their ratio, and the relative difference of the optimal
values. CVXPY is skipped above a size where one solve takes minutes. Also times exact 2-D enumeration with bias
(P = n^2 - n + 2) and sampling of 2,000 gates for n = 2,000, d = 10.
Prints a table and writes ``benchmarks/results/multivariate.json``. Usage: ``python benchmarks/bench_multivariate.py``.
"""
from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from convexscore.multivariate import arrangement_patterns, convex_denoising_score_matching  # noqa: E402

torch.set_num_threads(1)
SIGMA, BETA = 0.5, 1.0
# (n, d, gates); CVXPY only where it finishes in reasonable time
CASES = [(100, 2, 10), (200, 2, 40), (500, 5, 20), (500, 5, 60), (1000, 10, 30), (2000, 10, 100), (2000, 10, 300)]
CVXPY_MAX_VARS = 7000
FISTA = {"tol": 1e-8, "max_iter": 5000}


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main() -> None:
    rows = []
    for n, d, gates in CASES:
        rng = np.random.default_rng(0)
        X, Z = rng.standard_normal((n, d)), rng.standard_normal((n, d))
        arr = arrangement_patterns(X + SIGMA * Z, "sampled", n_gates=gates, bias=True, rng=1)
        P = arr.n_patterns
        n_vars = P * (d + 1) * d
        t_f, fista = timed(lambda: convex_denoising_score_matching(X, Z, SIGMA, arr, BETA, solver="fista", **FISTA))
        row = {"n": n, "d": d, "P": P, "variables": n_vars, "fista_s": t_f, "fista_status": fista.status,
               "fista_iters": fista.iterations, "fista_value": fista.value}
        if n_vars <= CVXPY_MAX_VARS:
            t_c, cvx = timed(lambda: convex_denoising_score_matching(X, Z, SIGMA, arr, BETA, solver="cvxpy"))
            row.update(cvxpy_s=t_c, cvxpy_value=cvx.value, ratio_cvxpy_over_fista=t_c / t_f,
                       rel_value_gap=(fista.value - cvx.value) / abs(cvx.value))
        rows.append(row)
        print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}, flush=True)
    enum = []
    for n in (50, 100, 200):
        X = np.random.default_rng(0).standard_normal((n, 2))
        t, arr = timed(lambda: arrangement_patterns(X, bias=True))
        enum.append({"n": n, "P": arr.n_patterns, "bound": arr.bound, "seconds": t})
        print(enum[-1], flush=True)
    X = np.random.default_rng(0).standard_normal((2000, 10))
    t, arr = timed(lambda: arrangement_patterns(X, "sampled", n_gates=2000, bias=True, rng=0))
    enum.append({"n": 2000, "d": 10, "gates": 2000, "P": arr.n_patterns, "seconds": t})
    print(enum[-1], flush=True)
    out = Path(__file__).resolve().parent / "results" / "multivariate.json"
    out.parent.mkdir(exist_ok=True)
    meta = {"python": platform.python_version(), "torch": torch.__version__, "machine": platform.machine()}
    out.write_text(json.dumps({"meta": meta, "solvers": rows, "patterns": enum}, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
