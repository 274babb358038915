"""CVXPY (Clarabel) against the first-order solvers (ADMM and FISTA, PyTorch) on the multivariate nuclear-norm
programs, and the cost of the patterns.

One run, one process per CVXPY solve (so that it can be stopped), single thread (BLAS and torch). Data: standard
Gaussian in d dimensions (seed 0), DSM with sigma = 0.5 (always finite, so all solvers solve the same program),
sampled patterns with bias, beta = 1. For each (n, d, P): wall-clock seconds of each solver, iterations, the
certified relative duality gap of the first-order solvers (they stop at ``TOL``), the relative difference of the
optimal values from CVXPY's, and which solver is fastest. CVXPY gets ``CVXPY_TIMEOUT`` seconds per solve; a solve
that takes longer is stopped and recorded as such. FISTA gets ``FISTA_MAX_ITER`` iterations (fewer at the largest
size, where one iteration costs the most). Also times exact 2-D enumeration with bias (P = n^2 - n + 2) and
sampling of 2,000 gates for n = 2,000, d = 10.
Prints a table and writes ``benchmarks/results/multivariate.json``. Usage: ``python benchmarks/bench_multivariate.py``.
"""
from __future__ import annotations

import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from convexscore.multivariate import arrangement_patterns, convex_denoising_score_matching  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timelimit import call_with_time_limit  # noqa: E402

torch.set_num_threads(1)
SIGMA, BETA, TOL = 0.5, 1.0, 1e-6
# (n, d, gates)
CASES = [(100, 2, 10), (200, 2, 40), (500, 5, 20), (500, 5, 60), (1000, 10, 30), (2000, 10, 100), (2000, 10, 300)]
CVXPY_TIMEOUT = 300.0
FISTA_MAX_ITER = 20000
FISTA_MAX_ITER_LARGEST = 5000  # at P = 300, d = 10 one FISTA iteration costs about 35 ms


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def problem(n, d, gates):
    rng = np.random.default_rng(0)
    X, Z = rng.standard_normal((n, d)), rng.standard_normal((n, d))
    arr = arrangement_patterns(X + SIGMA * Z, "sampled", n_gates=gates, bias=True, rng=1)
    return X, Z, arr


def _cvxpy_case(case):
    torch.set_num_threads(1)
    X, Z, arr = problem(*case)
    t, fit = timed(lambda: convex_denoising_score_matching(X, Z, SIGMA, arr, BETA, solver="cvxpy"))
    return t, fit.value, fit.iterations


def run_cvxpy(case):
    status, out, seconds = call_with_time_limit(lambda: _cvxpy_case(case), CVXPY_TIMEOUT)
    if status == "timeout":
        return {"cvxpy_status": f"stopped after {CVXPY_TIMEOUT:.0f} s (not finished)", "cvxpy_s": seconds}
    if status == "failed":
        return {"cvxpy_status": f"failed (exit code {out})"}
    t, value, iters = out
    return {"cvxpy_status": "optimal", "cvxpy_s": t, "cvxpy_value": value, "cvxpy_iters": iters}


def main() -> None:
    rows = []
    for case in CASES:
        n, d, gates = case
        X, Z, arr = problem(*case)
        P = arr.n_patterns
        row = {"n": n, "d": d, "P": P, "variables": P * (d + 1) * d}
        fista_iter = FISTA_MAX_ITER_LARGEST if case == CASES[-1] else FISTA_MAX_ITER
        for name, kw in (("admm", {}), ("fista", {"max_iter": fista_iter})):
            # require_certificate=False: a run that stops at max_iter is recorded with its status and certified gap
            t, fit = timed(lambda: convex_denoising_score_matching(X, Z, SIGMA, arr, BETA, solver=name, tol=TOL,
                                                                  require_certificate=False, **kw))
            row.update({f"{name}_s": t, f"{name}_status": fit.status, f"{name}_iters": fit.iterations,
                        f"{name}_value": fit.value, f"{name}_certified_rel_gap": fit.gap})
        row.update(run_cvxpy(case))
        if "cvxpy_value" in row:
            for name in ("admm", "fista"):
                diff = row[f"{name}_value"] - row["cvxpy_value"]
                row[f"{name}_rel_diff_from_cvxpy"] = diff / abs(row["cvxpy_value"])
                row[f"ratio_cvxpy_over_{name}"] = row["cvxpy_s"] / row[f"{name}_s"]
        finished = {s: row[f"{s}_s"] for s in ("admm", "fista", "cvxpy")
                    if row.get(f"{s}_status") in ("converged", "optimal")}
        row["fastest"] = min(finished, key=finished.get) if finished else None
        rows.append(row)
        print({k: (float(f"{v:.4g}") if isinstance(v, float) else v) for k, v in row.items()}, flush=True)
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
    meta = {"date": datetime.date.today().isoformat(), "python": platform.python_version(), "torch": torch.__version__, "machine": platform.machine(),
            "cpu_count": os.cpu_count(), "tol": TOL, "cvxpy_timeout_s": CVXPY_TIMEOUT, "sigma": SIGMA, "beta": BETA,
            "note": "one run on a shared 2-core machine; timings are noisy"}
    out.write_text(json.dumps({"meta": meta, "solvers": rows, "patterns": enum}, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
