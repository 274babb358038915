"""Solve time against n for the dense reference and the sparse cumulative-sum formulation (1-D score matching).

One run, one process, single-threaded BLAS. For each n: x ~ N(0, 1) (seed 0), ReLU without skip (program (4)),
beta = 10; times are wall-clock seconds of the whole fit (build, Clarabel solve, reconstruction, certificate).
Prints a table and writes ``benchmarks/results/univariate.json``. Usage: ``python benchmarks/bench_univariate.py``.
"""
from __future__ import annotations

import datetime
import json
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from convexscore import fit_score_matching  # noqa: E402
from convexscore.univariate import SolverError  # noqa: E402

DENSE_SIZES = (50, 100, 200, 500, 1000)
SPARSE_SIZES = DENSE_SIZES + (2000, 5000, 10000)
BETA = 10.0


def timed_fit(x: np.ndarray, solver: str):
    """Wall-clock seconds (and, in ``last_cpu``, CPU seconds of this process: robust on a shared machine)."""
    global last_cpu
    start, cpu = time.perf_counter(), time.process_time()
    fit = fit_score_matching(x, BETA, "relu", skip=False, solver=solver)
    last_cpu = time.process_time() - cpu
    return time.perf_counter() - start, fit


last_cpu = 0.0


def main() -> None:
    rows = []
    for n in SPARSE_SIZES:
        x = np.random.default_rng(0).standard_normal(n)
        try:
            t_sparse, sparse = timed_fit(x, "cvxpy")
        except SolverError as err:  # reported, not hidden: the certificate could not confirm the solution
            rows.append({"n": n, "sparse_failed": str(err)})
            print(f"n={n:6d}  sparse FAILED: {err}", flush=True)
            continue
        row = {"n": n, "sparse_seconds": t_sparse, "sparse_cpu_seconds": last_cpu, "value": sparse.value, "width": sparse.width,
               "status": sparse.status, "relative_gap": sparse.certificate.relative_gap}
        if n in DENSE_SIZES:
            t_dense, dense = timed_fit(x, "cvxpy-dense")
            row.update(dense_seconds=t_dense, dense_cpu_seconds=last_cpu, speedup=t_dense / t_sparse,
                       cpu_speedup=last_cpu / row["sparse_cpu_seconds"],
                       value_difference=abs(dense.value - sparse.value) / max(1.0, abs(dense.value)))
        rows.append(row)
        print(f"n={n:6d}  sparse {t_sparse:8.3f} s" + (f"  dense {row['dense_seconds']:8.3f} s  ratio {row['speedup']:7.1f}x (cpu {row['cpu_speedup']:7.1f}x)"
              f"  |value diff| {row['value_difference']:.1e}" if "dense_seconds" in row else "")
              + f"  width {sparse.width:4d}  rel. gap {sparse.certificate.relative_gap:.1e}", flush=True)
    out = {
        "benchmark": "1-D score matching, ReLU, no skip, beta=10, x ~ N(0,1); whole fit incl. certificate",
        "date": datetime.date.today().isoformat(),
        "machine": {"python": platform.python_version(), "processor": platform.processor() or platform.machine(),
                    "cpus": os.cpu_count()},
        "rows": rows,
    }
    path = Path(__file__).resolve().parent / "results" / "univariate.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
