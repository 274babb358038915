"""Run every benchmark in this folder, one after the other (``make benchmarks``).

Each script prints its table and writes its machine-readable result into ``benchmarks/results/``. Benchmarks report
ratios measured within one run, because the machines they run on are shared and noisy. They are not part of
``make test`` (``tests/test_fast_solver.py`` smoke-tests the solver benchmark on tiny sizes).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(names: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if names:
        scripts = [s for s in scripts if s.stem in names or s.stem.removeprefix("bench_") in names]
        if not scripts:
            raise SystemExit(f"no benchmark matches {names}; available: {[s.stem for s in HERE.glob('bench_*.py')]}")
    failed = []
    for script in scripts:
        print(f"\n=== {script.name}", flush=True)
        if subprocess.call([sys.executable, str(script)], cwd=HERE.parent) != 0:
            failed.append(script.name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
