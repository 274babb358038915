"""Solve time against n: dense CVXPY, sparse CVXPY and the specialised interior-point solver (``solver="fast"``).

One run, one process, single-threaded BLAS. Data x ~ N(0, 1) (seed 0). Programs: score matching with ReLU and skip
(program (18), beta = 10) and denoising score matching with ReLU and skip (program (34), sigma = 0.3, beta = 1,
noise seed 1). Each timing covers building the program from the data and solving it (no reconstruction, no
certificate: the fast solver certifies its own gap, the CVXPY solvers are checked by Clarabel's status). The
reference time ``np.sort`` is measured on the same data. A failure (no certified gap, solver status not optimal) is
recorded with its message and the time spent, never dropped.

Usage: ``python benchmarks/bench_solvers.py`` (writes ``benchmarks/results/solvers.json`` and ``solvers.png``);
``--quick`` runs tiny sizes into a temporary directory (the smoke test).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from convexscore.univariate.fast import solve_fast  # noqa: E402
from convexscore.univariate.programs import SolverError, build_program, objective, solve_dense, solve_sparse  # noqa: E402

# Dense CVXPY at n = 1000 takes minutes, so it runs for score matching only. Sparse CVXPY at n = 10^5 did not finish
# in 10 minutes on this machine (interrupted), so its largest size is 10^4 and its ratio to the fast solver is
# reported at 10^4.
FULL = {"dense": {"sm": (100, 300, 1000), "dsm": (100, 300)}, "sparse": (1000, 10_000), "fast": (1000, 10_000, 100_000)}
QUICK = {"dense": (40,), "sparse": (40, 200), "fast": (40, 200)}
SIGMA, BETA_SM, BETA_DSM = 0.3, 10.0, 1.0


def _program(loss: str, n: int):
    x = np.random.default_rng(0).standard_normal(n)
    if loss == "sm":
        return build_program("sm", x, BETA_SM, "relu", True)
    z = np.random.default_rng(1).standard_normal(n)
    return build_program("dsm", x + SIGMA * z, BETA_DSM, "relu", True, labels=-z / SIGMA)


def _run(loss: str, n: int, solver: str) -> dict:
    start = time.perf_counter()
    try:
        prog = _program(loss, n)
        if solver == "fast":
            res = solve_fast(prog)
            out = {"value": res.value, "relative_gap": res.relative_gap, "iterations": res.iterations}
        else:
            sol = (solve_dense if solver == "dense" else solve_sparse)(prog)
            out = {"value": objective(prog, sol.z), "status": sol.status}
        out["seconds"] = time.perf_counter() - start
    except (SolverError, MemoryError) as err:
        out = {"failed": str(err), "seconds": time.perf_counter() - start}
    return out


def _sort_seconds(n: int, repeats: int = 5) -> float:
    x = np.random.default_rng(0).standard_normal(n)
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        np.sort(x)
        best = min(best, time.perf_counter() - t)
    return best


def _ratio(rows, loss, num, den, n):
    a = next((r for r in rows if r["loss"] == loss and r["solver"] == num and r["n"] == n and "failed" not in r), None)
    b = next((r for r in rows if r["loss"] == loss and r["solver"] == den and r["n"] == n and "failed" not in r), None)
    return None if a is None or b is None else a["seconds"] / b["seconds"]


def main(quick: bool = False, out_dir: Path | None = None) -> dict:
    sizes = QUICK if quick else FULL
    rows = []
    for loss in ("sm", "dsm"):
        for solver in ("dense", "sparse", "fast"):
            ns = sizes[solver][loss] if isinstance(sizes[solver], dict) else sizes[solver]
            for n in ns:
                row = {"loss": loss, "solver": solver, "n": n, **_run(loss, n, solver)}
                rows.append(row)
                msg = f"FAILED ({row['failed'][:70]})" if "failed" in row else f"value {row['value']:.10g}"
                extra = f"  gap {row['relative_gap']:.1e}  iters {row['iterations']}" if "relative_gap" in row else ""
                print(f"{loss:3s}  {solver:6s}  n={n:7d}  {row['seconds']:9.3f} s  {msg}{extra}", flush=True)
    all_n = sorted({r["n"] for r in rows})
    sort = {n: _sort_seconds(n) for n in all_n}
    # agreement between solvers at the same n
    for r in rows:
        r["sort_seconds"] = sort[r["n"]]
        others = [o for o in rows if o["loss"] == r["loss"] and o["n"] == r["n"] and o is not r and "value" in o]
        if "value" in r and others:
            r["max_value_difference"] = max(abs(r["value"] - o["value"]) / max(1.0, abs(o["value"])) for o in others)
    n_big, n_sparse = max(sizes["fast"]), max(sizes["sparse"])
    ratios = {}
    for loss in ("sm", "dsm"):
        n_dense = max(sizes["dense"][loss] if isinstance(sizes["dense"], dict) else sizes["dense"])
        fast_big = next((r for r in rows if r["loss"] == loss and r["solver"] == "fast" and r["n"] == n_big and "failed" not in r), None)
        ratios[loss] = {
            f"dense_over_fast_n{n_dense}": _ratio(rows, loss, "dense", "fast", n_dense),
            f"sparse_over_fast_n{n_sparse}": _ratio(rows, loss, "sparse", "fast", n_sparse),
            f"fast_over_sort_n{n_big}": None if fast_big is None else fast_big["seconds"] / sort[n_big],
        }
    result = {
        "description": __doc__.splitlines()[0],
        "machine": {"python": platform.python_version(), "processor": platform.processor() or platform.machine(),
                    "cpus": os.cpu_count()},
        "settings": {"beta_sm": BETA_SM, "beta_dsm": BETA_DSM, "sigma": SIGMA, "quick": quick},
        "rows": rows,
        "ratios": ratios,
    }
    print("\nratios (one run):")
    for loss, rr in ratios.items():
        for k, v in rr.items():
            print(f"  {loss:3s}  {k:28s}  {'n/a (a solver failed)' if v is None else f'{v:10.1f}'}")
    out_dir = Path(out_dir) if out_dir is not None else Path(__file__).resolve().parent / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "solvers.json").write_text(json.dumps(result, indent=2))
    _plot(rows, sort, out_dir / "solvers.png")
    return result


def _plot(rows, sort, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    styles = {"dense": ("C0", "o", "dense CVXPY"), "sparse": ("C1", "s", "sparse CVXPY"), "fast": ("C2", "^", "fast (interior point)")}
    for ax, loss in zip(axes, ("sm", "dsm")):
        for solver, (color, marker, label) in styles.items():
            ok = [(r["n"], r["seconds"]) for r in rows if r["loss"] == loss and r["solver"] == solver and "failed" not in r]
            bad = [(r["n"], r["seconds"]) for r in rows if r["loss"] == loss and r["solver"] == solver and "failed" in r]
            if ok:
                ax.loglog(*zip(*ok), marker=marker, color=color, label=label)
            if bad:
                ax.loglog(*zip(*bad), marker="x", linestyle="none", color=color, markersize=10, label=f"{label}: not certified")
        ns = sorted(sort)
        ax.loglog(ns, [50 * sort[n] for n in ns], "k--", label="50 x np.sort")
        ax.set_xlabel("n (data points)")
        ax.set_title("score matching, ReLU + skip (18)" if loss == "sm" else "denoising, ReLU + skip (34)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("seconds (build + solve)")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    parser.add_argument("--out", type=Path, default=None, help="output directory (default benchmarks/results)")
    args = parser.parse_args()
    main(quick=args.quick, out_dir=args.out)
