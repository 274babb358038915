"""Wall time of the Adam baseline against the convex solve, at the paper's sizes.

Setting (paper section 5): x ~ N(0, 1) with n in {100, 300, 1000} (seed 0), ReLU without skip, beta = 10,
full-batch Adam at lr = 1e-2 with width m = 100, 500 epochs for SM and 200 for DSM (sigma = 0.5, fixed noise);
the paper ran 10 trials per setting, so the "10 trials" column is ten times one run (runs are independent).
The convex solve is ``convexscore.fit_score_matching`` / ``fit_denoising_score_matching`` (default solver) when
the univariate solver is installed. Float64, one thread. Times are CPU seconds of this process
(``time.process_time``; everything runs on one thread, so on an idle machine they equal wall time, and on a
shared one they are less inflated by other jobs). Prints a table and writes
``benchmarks/results/adam.json``. Usage: ``python benchmarks/bench_adam.py``.
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
import torch  # noqa: E402

from convexscore import train_adam  # noqa: E402

torch.set_num_threads(1)
SIZES = (100, 300, 1000)
BETA, WIDTH, LR, SIGMA = 10.0, 100, 1e-2, 0.5
EPOCHS = {"sm": 500, "dsm": 200}


def convex_solvers():
    try:
        from convexscore import fit_denoising_score_matching, fit_score_matching
    except ImportError:
        return None
    return {"sm": lambda x, z: fit_score_matching(x, BETA),
            "dsm": lambda x, z: fit_denoising_score_matching(x, z, SIGMA, BETA)}


def timed(fn):
    start = time.process_time()
    out = fn()
    return time.process_time() - start, out


def main() -> None:
    solvers = convex_solvers()
    train_adam(np.zeros(3) + np.arange(3), BETA, WIDTH, LR, 5)  # warm-up: torch's first-call costs
    rows = []
    for n in SIZES:
        x = np.random.default_rng(0).standard_normal(n)
        z = np.random.default_rng(1).standard_normal(n)
        for obj in ("sm", "dsm"):
            kw = dict(objective=obj, sigma=SIGMA if obj == "dsm" else None, noise=z if obj == "dsm" else None)
            t_adam, run = timed(lambda: train_adam(x, BETA, WIDTH, LR, EPOCHS[obj], seed=0, **kw))
            row = {"n": n, "objective": obj, "epochs": EPOCHS[obj], "adam_seconds": t_adam,
                   "adam_final": run.final_loss}
            if solvers is not None:
                solvers[obj](x, z)  # warm-up: imports and CVXPY's first-call caches
                t_cvx, fit = timed(lambda: solvers[obj](x, z))
                row.update(convex_seconds=t_cvx, convex_value=fit.value, adam_over_convex=t_adam / t_cvx)
            rows.append(row)
    print(f"Adam (m={WIDTH}, lr={LR}, one run) vs convex solve, beta={BETA}, float64, one thread")
    head = f"{'n':>5} {'obj':>4} {'epochs':>6} {'Adam s':>7} {'10 trials s':>11} {'Adam final':>11}"
    if solvers is not None:
        head += f" {'convex s':>9} {'optimum':>10} {'Adam/convex':>11}"
    print(head)
    for r in rows:
        line = (f"{r['n']:>5} {r['objective']:>4} {r['epochs']:>6} {r['adam_seconds']:>7.2f} "
                f"{10 * r['adam_seconds']:>11.1f} {r['adam_final']:>11.4g}")
        if solvers is not None:
            line += f" {r['convex_seconds']:>9.3f} {r['convex_value']:>10.4g} {r['adam_over_convex']:>11.1f}"
        print(line)
    if solvers is None:
        print("(convexscore.fit_score_matching is not available: convex times not measured)")
    out = Path(__file__).resolve().parent / "results" / "adam.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"date": datetime.date.today().isoformat(), "machine": platform.processor() or platform.machine(), "torch": torch.__version__,
                               "beta": BETA, "width": WIDTH, "lr": LR, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
