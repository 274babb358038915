"""Solve time against n: dense CVXPY, sparse CVXPY and the specialised interior-point solver (``solver="fast"``).

One run, one process, single-threaded BLAS. Data x ~ N(0, 1) (seed 0). Programs: score matching with ReLU and skip
(program (18), beta = 10) and denoising score matching with ReLU and skip (program (34), sigma = 0.3, beta = 1,
noise seed 1). Each timing covers building the program from the data and solving it (no reconstruction, no
certificate: the fast solver certifies its own gap, the CVXPY solvers are checked by Clarabel's status). The
reference time ``np.sort`` is measured on the same data. A failure (no certified gap, solver status not optimal) is
recorded with its message and the time spent, never dropped.

The fast solver also runs score matching at beta = 10^4 (program "sm_b1e4"); for each fast row the JSON has the
iterations, the time per point per iteration and the certified relative gap. More measurements in the same run: a
50-value ``beta`` path at n = 10^4 with ``fit_path`` (warm starts) against the median single solve of the same betas;
the fast solver's peak memory per data point at two sizes (numpy buffers by ``tracemalloc``, and the process's peak
resident set); and the compile time of the numba kernels, cold (empty cache directory) and warm (cache filled), each
in a fresh process.

Usage: ``python benchmarks/bench_solvers.py`` (writes ``benchmarks/results/solvers.json`` and ``solvers.png``);
``--quick`` runs tiny sizes into a temporary directory (the smoke test); ``--no-cvxpy`` measures the fast solver only.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from convexscore.univariate.fast import solve_fast  # noqa: E402
from convexscore.univariate.programs import SolverError, build_program, objective, solve_dense, solve_sparse  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timelimit import call_with_time_limit  # noqa: E402

# Dense CVXPY at n = 1000 takes minutes, so it runs for score matching only. Sparse CVXPY at n = 10^5 runs for score
# matching only, in a child process stopped after SPARSE_TIMEOUT seconds: if it has not finished, the row records
# the time limit and the ratio to the fast solver is a lower bound.
FULL = {
    "dense": {"sm": (100, 300, 1000), "dsm": (100, 300)},
    "sparse": {"sm": (1000, 10_000, 100_000), "dsm": (1000, 10_000)},
    "fast": (1000, 10_000, 100_000, 1_000_000),
}
QUICK = {"dense": (40,), "sparse": (40, 200), "fast": (40, 200)}
FAST_PROGRAMS = ("sm", "sm_b1e4", "dsm")  # program name -> loss and beta in _program
SPARSE_TIMEOUT = 600.0
PATH_N, PATH_BETAS = {False: 10_000, True: 200}, {"sm": (5.0, 500.0), "dsm": (0.01, 10.0)}
MEMORY_N = {False: (10_000, 100_000), True: (200, 2000)}
SIGMA, BETA_SM, BETA_SM_LARGE, BETA_DSM = 0.3, 10.0, 1e4, 1.0


def _program(loss: str, n: int):
    """``loss`` is a program name: "sm" (beta = 10), "sm_b1e4" (beta = 10^4) or "dsm"."""
    x = np.random.default_rng(0).standard_normal(n)
    if loss in ("sm", "sm_b1e4"):
        return build_program("sm", x, BETA_SM if loss == "sm" else BETA_SM_LARGE, "relu", True)
    z = np.random.default_rng(1).standard_normal(n)
    return build_program("dsm", x + SIGMA * z, BETA_DSM, "relu", True, labels=-z / SIGMA)


def _run(loss: str, n: int, solver: str) -> dict:
    start = time.perf_counter()
    try:
        prog = _program(loss, n)
        if solver == "fast":
            res = solve_fast(prog)
            out = {"value": res.value, "relative_gap": res.relative_gap, "iterations": res.iterations}
            out["seconds_per_point_iteration"] = (time.perf_counter() - start) / (n * max(res.iterations, 1))
        else:
            sol = (solve_dense if solver == "dense" else solve_sparse)(prog)
            out = {"value": objective(prog, sol.z), "status": sol.status}
        out["seconds"] = time.perf_counter() - start
    except (SolverError, MemoryError) as err:
        out = {"failed": str(err), "seconds": time.perf_counter() - start}
    return out


def _run_limited(loss: str, n: int, solver: str, limit: float) -> dict:
    """:func:`_run` in a child process, stopped after ``limit`` seconds (the row then says so)."""
    status, out, seconds = call_with_time_limit(lambda: _run(loss, n, solver), limit)
    if status == "timeout":
        return {"failed": f"did not finish within {limit:g} s (stopped)", "seconds": seconds, "timed_out": True}
    if status == "failed":
        return {"failed": f"the child process died (exit code {out})", "seconds": seconds}
    return out


def _path_rows(quick: bool) -> list[dict]:
    """A 50-value ``beta`` path at n = 10^4 (warm-started ``fit_path``) against cold single solves of the same betas."""
    from convexscore import fit_path

    n = PATH_N[quick]
    x = np.random.default_rng(0).standard_normal(n)
    noise = np.random.default_rng(1).standard_normal(n)
    rows = []
    for loss in ("sm", "dsm"):
        betas = np.geomspace(*PATH_BETAS[loss], 50)
        kw = {"objective": loss, "activation": "relu", "skip": True}
        if loss == "dsm":
            kw.update(sigma=SIGMA, noise=noise)
        start = time.perf_counter()
        warm = fit_path(x, betas, **kw)
        warm_seconds = time.perf_counter() - start
        singles = []
        for b in betas:
            start = time.perf_counter()
            fit_path(x, [b], **kw)
            singles.append(time.perf_counter() - start)
        rows.append({
            "loss": loss, "n": n, "betas": len(betas), "beta_range": list(PATH_BETAS[loss]),
            "path_seconds": warm_seconds, "median_single_seconds": float(np.median(singles)),
            "cold_path_seconds": float(np.sum(singles)),
            "path_over_single": warm_seconds / float(np.median(singles)),
            "betas_without_interior_point_iterations": int(sum(r.iterations == 0 for r in warm)),
            "max_relative_gap": max(r.relative_gap for r in warm),
        })
        r = rows[-1]
        print(f"path {loss:3s}  n={n}  50 betas: {r['path_seconds']:.2f} s = {r['path_over_single']:.1f} x the median "
              f"single solve ({r['betas_without_interior_point_iterations']} betas without interior-point iterations)", flush=True)
    return rows


def _memory_rows(quick: bool) -> list[dict]:
    """Peak memory allocated by the fast solver (tracemalloc sees numpy's buffers), per data point."""
    import tracemalloc

    rows = []
    for n in MEMORY_N[quick]:
        prog = _program("sm", n)
        tracemalloc.start()
        solve_fast(prog)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rows.append({"n": n, "peak_bytes": peak, "bytes_per_point": peak / n})
        print(f"memory  n={n:7d}  peak {peak / 1e6:8.1f} MB = {peak / n:6.0f} bytes per point (numpy buffers)", flush=True)
    return rows


def _ratios(rows, sort) -> dict:
    """Per program: each CVXPY program's time over the fast solver's at the largest n where both gave an optimal
    answer, lower bounds where sparse CVXPY gave none (:func:`_lower_bounds`), and the fast solver's time over
    ``np.sort`` (measured next to it) at every n it certified."""
    ratios = {}
    for loss in FAST_PROGRAMS:
        ok = {(r["solver"], r["n"]): r for r in rows if r["loss"] == loss and "failed" not in r}
        out = {}
        for other in ("dense", "sparse"):
            common = [n for (s, n) in ok if s == other and ("fast", n) in ok]
            if common:
                n = max(common)
                out[f"{other}_over_fast_n{n}"] = ok[(other, n)]["seconds"] / ok[("fast", n)]["seconds"]
        out.update(_lower_bounds(rows, loss))
        for n in sorted(n for (s, n) in ok if s == "fast"):
            r = ok[("fast", n)]
            out[f"fast_over_sort_n{n}"] = r["seconds"] / r.get("sort_seconds", sort.get(n, np.nan))
        ratios[loss] = out
    return ratios


def _lower_bounds(rows, loss) -> dict:
    """Where sparse CVXPY gave no optimal answer (stopped by the time limit or by Clarabel's own limits), the time it
    spent over the fast solver's time is a lower bound on the speed-up."""
    out = {}
    for r in rows:
        if r["loss"] == loss and r["solver"] == "sparse" and "failed" in r:
            fast = next((f for f in rows if f["loss"] == loss and f["solver"] == "fast" and f["n"] == r["n"] and "failed" not in f), None)
            if fast is not None:
                out[f"sparse_over_fast_n{r['n']}_at_least"] = r["seconds"] / fast["seconds"]
    return out


def _sort_seconds(n: int, repeats: int = 5) -> float:
    x = np.random.default_rng(0).standard_normal(n)
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        np.sort(x)
        best = min(best, time.perf_counter() - t)
    return best


def _compile_rows(quick: bool) -> dict:
    """First-call time of the numba kernels (solver and Langevin) in a fresh process: cold (empty cache directory,
    so numba compiles) and warm (the same directory again, so numba loads the cache). Each is the first solve of a
    tiny program minus the second, plus the Langevin kernel's load."""
    import subprocess
    import tempfile

    code = (
        "import json, time, numpy as np\n"
        "from convexscore.univariate.programs import build_program\n"
        "from convexscore.univariate.fast import solve_fast\n"
        "from convexscore import ula_kernel\n"
        "p = build_program('sm', np.random.default_rng(0).standard_normal(50), 10.0, 'relu', True)\n"
        "t0 = time.perf_counter(); solve_fast(p); t1 = time.perf_counter(); solve_fast(p); t2 = time.perf_counter()\n"
        "ula_kernel.load(); t3 = time.perf_counter()\n"
        "print(json.dumps({'solver': (t1 - t0) - (t2 - t1), 'langevin': t3 - t2}))\n"
    )
    out = {}
    if quick:  # the smoke test: compiling in a fresh cache takes tens of seconds
        return out
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        for label in ("cold", "warm"):
            done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=900, check=False)
            if done.returncode != 0:
                out[label] = {"failed": done.stderr[-300:]}
                continue
            out[label] = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"compile {label}: solver kernels {out[label]['solver']:.2f} s, Langevin kernel "
                  f"{out[label]['langevin']:.2f} s (first call minus a warm call)", flush=True)
    return out


def main(quick: bool = False, out_dir: Path | None = None, cvxpy: bool = True) -> dict:
    sizes = QUICK if quick else FULL
    compile_times = _compile_rows(quick)
    solve_fast(_program("sm", 50))  # load the compiled kernels (their first-call time is measured above)
    rows = []
    for loss in FAST_PROGRAMS:
        for solver in ("dense", "sparse", "fast"):
            if solver != "fast" and (not cvxpy or loss == "sm_b1e4"):
                continue
            ns = sizes[solver][loss] if isinstance(sizes[solver], dict) else sizes[solver]
            for n in ns:
                limited = solver == "sparse" and n >= 100_000
                sort_before = _sort_seconds(n) if solver == "fast" else None
                out = _run_limited(loss, n, solver, SPARSE_TIMEOUT) if limited else _run(loss, n, solver)
                row = {"loss": loss, "solver": solver, "n": n, **out}
                if sort_before is not None:  # np.sort of the same data, next to the solve (the machine is shared)
                    row["sort_seconds"] = min(sort_before, _sort_seconds(n))
                    row["over_sort"] = row["seconds"] / row["sort_seconds"]
                rows.append(row)
                msg = f"FAILED ({row['failed'][:70]})" if "failed" in row else f"value {row['value']:.10g}"
                extra = f"  gap {row['relative_gap']:.1e}  iters {row['iterations']}" if "relative_gap" in row else ""
                if "over_sort" in row:
                    extra += f"  = {row['over_sort']:.0f} x np.sort"
                print(f"{loss:7s}  {solver:6s}  n={n:7d}  {row['seconds']:9.3f} s  {msg}{extra}", flush=True)
    all_n = sorted({r["n"] for r in rows})
    sort = {n: _sort_seconds(n) for n in all_n}
    # agreement between solvers at the same n
    for r in rows:
        r.setdefault("sort_seconds", sort[r["n"]])
        others = [o for o in rows if o["loss"] == r["loss"] and o["n"] == r["n"] and o is not r and "value" in o]
        if "value" in r and others:
            r["max_value_difference"] = max(abs(r["value"] - o["value"]) / max(1.0, abs(o["value"])) for o in others)
    ratios = _ratios(rows, sort)
    paths = _path_rows(quick)
    memory = _memory_rows(quick)
    result = {
        "description": __doc__.splitlines()[0],
        "machine": {"python": platform.python_version(), "processor": platform.processor() or platform.machine(),
                    "cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())},
        "settings": {"beta_sm": BETA_SM, "beta_dsm": BETA_DSM, "sigma": SIGMA, "quick": quick},
        "rows": rows,
        "ratios": ratios,
        "paths": paths,
        "memory": memory,
        "compile_seconds": compile_times,
    }
    print("\nratios (one run):")
    for loss, rr in ratios.items():
        for k, v in rr.items():
            print(f"  {loss:7s}  {k:34s}  {v:10.1f}")
    out_dir = Path(out_dir) if out_dir is not None else Path(__file__).resolve().parent / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "solvers.json").write_text(json.dumps(result, indent=2))
    _plot(rows, sort, out_dir / "solvers.png", result["machine"])
    return result


def _plot(rows, sort, path: Path, machine: dict) -> None:
    """Left: the fast solver's time over ``np.sort`` against n (targets 150x and 300x); right: seconds against n
    for every solver (score matching beta = 10 solid, denoising dashed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 4.2))
    names = {"sm": "score matching, beta = 10", "sm_b1e4": "score matching, beta = 1e4", "dsm": "denoising, beta = 1"}
    for i, loss in enumerate(FAST_PROGRAMS):
        ok = [(r["n"], r["over_sort"]) for r in rows if r["loss"] == loss and r["solver"] == "fast" and "failed" not in r]
        bad = [(r["n"], r["over_sort"]) for r in rows if r["loss"] == loss and r["solver"] == "fast" and "failed" in r]
        if ok:
            ax0.loglog(*zip(*ok), marker="^", color=f"C{i + 2}", label=names[loss])
        if bad:
            ax0.loglog(*zip(*bad), marker="x", linestyle="none", color=f"C{i + 2}", markersize=10,
                       label=f"{names[loss]}: not certified")
    for level, style in ((300, "k--"), (150, "k:")):
        ax0.axhline(level, color="k", linestyle=style[1:], linewidth=1, label=f"target {level} x np.sort")
    ax0.set_xlabel("n (data points)")
    ax0.set_ylabel("fast solver time / np.sort time")
    ax0.set_title("fast solver (build + solve) over np.sort of the same data")
    ax0.grid(True, which="both", alpha=0.3)
    ax0.legend(fontsize=7)
    styles = {"dense": ("C0", "o", "dense CVXPY"), "sparse": ("C1", "s", "sparse CVXPY"), "fast": ("C2", "^", "fast")}
    for loss, ls in (("sm", "-"), ("dsm", "--")):
        for solver, (color, marker, label) in styles.items():
            ok = [(r["n"], r["seconds"]) for r in rows if r["loss"] == loss and r["solver"] == solver and "failed" not in r]
            bad = [(r["n"], r["seconds"]) for r in rows if r["loss"] == loss and r["solver"] == solver and "failed" in r]
            if ok:
                ax1.loglog(*zip(*ok), marker=marker, color=color, linestyle=ls, label=f"{label} ({loss})")
            if bad:
                ax1.loglog(*zip(*bad), marker="x", linestyle="none", color=color, markersize=10,
                           label=f"{label} ({loss}): failed")
    ns = sorted(sort)
    ax1.loglog(ns, [300 * sort[n] for n in ns], "k:", label="300 x np.sort")
    ax1.set_xlabel("n (data points)")
    ax1.set_ylabel("seconds (build + solve)")
    ax1.set_title("ReLU + skip: SM (18) solid, DSM (34) dashed")
    ax1.grid(True, which="both", alpha=0.3)
    ax1.legend(fontsize=6)
    fig.suptitle(f"one run, one thread, {machine.get('date', '')}, {machine.get('processor', '')}, "
                 f"{machine.get('cpus', '?')} cpus (shared)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    parser.add_argument("--no-cvxpy", action="store_true", help="measure the fast solver only (no CVXPY rows)")
    parser.add_argument("--out", type=Path, default=None, help="output directory (default benchmarks/results)")
    parser.add_argument("--from-saved", action="store_true",
                        help="recompute the ratios and redraw the plot from the rows of the saved solvers.json (no new measurement)")
    args = parser.parse_args()
    if args.from_saved:
        path = (args.out or Path(__file__).resolve().parent / "results") / "solvers.json"
        saved = json.loads(path.read_text())
        sort = {r["n"]: r["sort_seconds"] for r in saved["rows"]}
        saved["ratios"] = _ratios(saved["rows"], sort)
        path.write_text(json.dumps(saved, indent=2))
        _plot(saved["rows"], sort, path.with_name("solvers.png"), saved["machine"])
        print(json.dumps(saved["ratios"], indent=2))
    else:
        main(quick=args.quick, out_dir=args.out, cvxpy=not args.no_cvxpy)
