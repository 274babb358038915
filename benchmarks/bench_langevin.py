"""Cost of one Langevin step as a multiple of drawing that step's Gaussian noise (10^6 chains, 1-D).

The floor is ``rng.standard_normal(out=buffer)`` for 10^6 float64 values (numpy's PCG64 generator), the least work
any ULA step must do. For piecewise-linear scores with K knots (a continuous, confining score with random slopes)
we time one step of ``convexscore.langevin`` with the fused fast path, and with the generic loop where the score is
evaluated by binary search (``searchsorted``). Each figure is the median over repeated blocks of 10 steps,
interleaved with floor measurements in the same run, so the ratios are robust to background load.
Prints a table and writes ``benchmarks/results/langevin.json``. Usage: ``python benchmarks/bench_langevin.py``.
"""
from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from convexscore.sampling import PiecewiseLinearScore, langevin  # noqa: E402

N = 10**6
STEPS = 10
REPEATS = 7
KNOTS = (10, 100, 1000, 2000)


def confining_score(K: int, rng: np.random.Generator) -> PiecewiseLinearScore:
    t = np.sort(rng.standard_normal(K) * 1.5)
    a = -np.abs(rng.standard_normal(K + 1)) - 0.3
    c = np.zeros(K + 1)
    for i in range(K):  # continuity at every knot
        c[i + 1] = c[i] + (a[i] - a[i + 1]) * t[i]
    return PiecewiseLinearScore(t, a, c)


def per_step(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) / STEPS


def main() -> None:
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal(N)
    buf = np.empty(N)
    gen = np.random.default_rng(1)

    def floor():
        for _ in range(STEPS):
            gen.standard_normal(out=buf)

    rows = []
    for K in KNOTS:
        score = confining_score(K, rng)
        step = 0.1 / score.lipschitz
        fast, slow, noise = [], [], []
        for r in range(REPEATS):
            noise.append(per_step(floor))
            fast.append(per_step(lambda: langevin(score, x0, step, STEPS, rng=r)))
            if r < 3:
                slow.append(per_step(lambda: langevin(score, x0, step, STEPS, rng=r, fast=False)))
        nf, fs, sl = np.median(noise), np.median(fast), np.median(slow)
        rows.append({"knots": K, "noise_ms": 1e3 * nf, "fast_ms": 1e3 * fs, "searchsorted_ms": 1e3 * sl,
                     "fast_over_noise": fs / nf, "searchsorted_over_noise": sl / nf})
    print(f"Langevin step cost, {N:.0e} chains, float64, one thread")
    print(f"{'knots':>6} {'noise ms':>9} {'fast ms':>8} {'fast/noise':>10} {'search ms':>10} {'search/noise':>12}")
    for r in rows:
        print(f"{r['knots']:>6} {r['noise_ms']:>9.2f} {r['fast_ms']:>8.2f} {r['fast_over_noise']:>10.2f} "
              f"{r['searchsorted_ms']:>10.2f} {r['searchsorted_over_noise']:>12.2f}")
    out = Path(__file__).resolve().parent / "results" / "langevin.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"chains": N, "machine": platform.processor() or platform.machine(),
                               "numpy": np.__version__, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
