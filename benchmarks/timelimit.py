"""Run a function in a forked child process with a wall-clock limit (the benchmarks that time CVXPY use it: a
generic conic solver can run for many minutes at the sizes where the specialised solvers are measured)."""
from __future__ import annotations

import multiprocessing as mp
import time
from typing import Any, Callable


def call_with_time_limit(fn: Callable[[], Any], limit: float) -> tuple[str, Any, float]:
    """``fn()`` in a child process, stopped after ``limit`` seconds.

    Returns ``(status, value, seconds)``: ``("ok", fn(), seconds)``, ``("timeout", None, limit reached)`` or
    ``("failed", exit code, seconds)`` when the child died without a result. ``seconds`` is the wall time seen by
    the parent (process start included)."""
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=lambda: queue.put(fn()))
    start = time.perf_counter()
    proc.start()
    proc.join(limit)
    if proc.is_alive():
        proc.terminate()
        proc.join()
        return "timeout", None, time.perf_counter() - start
    if proc.exitcode != 0 or queue.empty():
        return "failed", proc.exitcode, time.perf_counter() - start
    return "ok", queue.get(), time.perf_counter() - start
