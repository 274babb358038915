"""Cost of one Langevin step as a multiple of drawing that step's Gaussian noise (10^6 chains, 1-D).

The floor is ``rng.standard_normal(out=buffer)`` for 10^6 float64 values (numpy's PCG64 generator), the least work
any ULA step must do. For piecewise-linear scores with K knots (a continuous, confining score with random slopes)
we time one step of ``convexscore.langevin`` with the compiled one-pass kernel (``fast="numba"``, when numba is
available), with the numpy kernel (``fast="numpy"``), and with the generic loop where the score is evaluated by
binary search (``searchsorted``, ``fast=False``). Times are CPU seconds of this process (``time.process_time``),
so other jobs on a shared machine inflate them less than wall time; a step's cost is (time of a 20-step run -
time of a 0-step run) / 20, which removes the one-off set-up (tables, conversions). Each figure is the median of
repeated measurements interleaved with floor measurements in the same run, so the ratios are comparable.
Prints a table and writes ``benchmarks/results/langevin.json``. Usage: ``python benchmarks/bench_langevin.py``.
"""
from __future__ import annotations

import datetime
import json
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from convexscore import ula_kernel  # noqa: E402
from convexscore.sampling import PiecewiseLinearScore, langevin  # noqa: E402

N = 10**6
STEPS = 20
REPEATS = 7
KNOTS = (10, 100, 1000, 2000)


def confining_score(K: int, rng: np.random.Generator) -> PiecewiseLinearScore:
    t = np.sort(rng.standard_normal(K) * 1.5)
    a = -np.abs(rng.standard_normal(K + 1)) - 0.3
    c = np.zeros(K + 1)
    for i in range(K):  # continuity at every knot
        c[i + 1] = c[i] + (a[i] - a[i + 1]) * t[i]
    return PiecewiseLinearScore(t, a, c)


def cpu_time(fn) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def step_cost(score, x0, step, fast, seed) -> float:
    """CPU seconds per step, set-up excluded."""
    setup = cpu_time(lambda: langevin(score, x0, step, 0, rng=seed, fast=fast))
    full = cpu_time(lambda: langevin(score, x0, step, STEPS, rng=seed, fast=fast))
    return (full - setup) / STEPS


def main() -> None:
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal(N)
    buf = np.empty(N)
    gen = np.random.default_rng(1)

    def floor():
        for _ in range(STEPS):
            gen.standard_normal(out=buf)

    def floor_cost():
        return cpu_time(floor) / STEPS

    has_c = ula_kernel.load() is not None
    rows = []
    for K in KNOTS:
        score = confining_score(K, rng)
        step = 0.1 / score.lipschitz
        times = {"noise": [], "numba": [], "numpy": [], "searchsorted": []}
        for r in range(REPEATS):
            times["noise"].append(floor_cost())
            if has_c:
                times["numba"].append(step_cost(score, x0, step, "numba", r))
            times["numpy"].append(step_cost(score, x0, step, "numpy", r))
            if r < 2:
                times["searchsorted"].append(step_cost(score, x0, step, False, r))
        med = {k: float(np.median(v)) if v else float("nan") for k, v in times.items()}
        rows.append({"knots": K, **{f"{k}_ms": 1e3 * v for k, v in med.items()},
                     **{f"{k}_over_noise": med[k] / med["noise"] for k in ("numba", "numpy", "searchsorted")}})
    print(f"Langevin step cost, {N:.0e} chains, float64, one thread; ratio = CPU time of a step / of drawing its noise")
    print(f"{'knots':>6} {'noise ms':>9} {'numba':>9} {'numpy kernel':>13} {'searchsorted':>13}")
    for r in rows:
        print(f"{r['knots']:>6} {r['noise_ms']:>9.2f} {r['numba_over_noise']:>8.2f}x {r['numpy_over_noise']:>12.2f}x "
              f"{r['searchsorted_over_noise']:>12.2f}x")
    if not has_c:
        print("(numba unavailable: the compiled kernel was not measured)")
    out = Path(__file__).resolve().parent / "results" / "langevin.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"date": datetime.date.today().isoformat(), "chains": N, "machine": platform.processor() or platform.machine(),
                               "numpy": np.__version__, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
