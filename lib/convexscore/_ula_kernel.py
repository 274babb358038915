"""Optional compiled inner loop for the fast 1-D ULA path (used by ``convexscore.sampling``).

The numpy kernel needs about ten passes over the chains per step (cast, gathers, adds). This C loop does the cell
lookup and the update in one pass, so a step costs little more than drawing its Gaussian noise, which numpy
still does (the random stream is the same). The C source below is compiled once per machine with the system C
compiler into a cache directory (``$CONVEXSCORE_CACHE`` or ``~/.cache/convexscore``, else the temp directory)
and loaded with ``ctypes``. When no compiler is available, or ``CONVEXSCORE_NO_C=1`` is set, :func:`load`
returns None and the numpy kernel is used; results agree to rounding (the arithmetic order is the same and
floating-point contraction is disabled).
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

SOURCE = r"""
#include <math.h>
#include <stddef.h>

/* One ULA step on n chains in grid units y (see convexscore.sampling._FastULA).
   T is the (ncell, 4) row-major table [E, B, C, S]. Cell c = floor(y) clipped to [0, ncell - 1].
   S[c] < 0: the cell holds at most one knot; the table index j = floor(y + E[c]) (clipped) is c left of the knot
   and c + 1 right of it, and (B[j], C[j]) is the line there. S[c] >= 0: the cell holds several knots; S[c] is the
   number of knots <= c, and a short forward scan over the knots ty (K of them) finds the segment of y.
   Update: y <- B y + C + ns z. Returns nonzero when a new state is NaN or not below `limit` in absolute value
   (divergence). */
ptrdiff_t ula_step(double *y, const double *z, ptrdiff_t n, const double *T, ptrdiff_t ncell, const double *ty,
                   ptrdiff_t K, const double *Bseg, const double *Cseg, double ns, double limit)
{
    const double top = (double)(ncell - 1);
    ptrdiff_t bad = 0;
    for (ptrdiff_t i = 0; i < n; i++) {
        const double yi = y[i];
        const ptrdiff_t c = !(yi >= 0.0) ? 0 : (yi >= top ? ncell - 1 : (ptrdiff_t)yi);
        const double *row = T + 4 * c;
        double b, k;
        if (row[3] < 0.0) {
            const double u = yi + row[0];
            const ptrdiff_t j = !(u >= 0.0) ? 0 : (u >= top ? ncell - 1 : (ptrdiff_t)u);
            b = T[4 * j + 1];
            k = T[4 * j + 2];
        } else {
            ptrdiff_t s = (ptrdiff_t)row[3];
            while (s < K && ty[s] <= yi) s++;
            b = Bseg[s];
            k = Cseg[s];
        }
        const double out = (b * yi + k) + z[i] * ns;
        bad |= !(fabs(out) < limit);
        y[i] = out;
    }
    return bad;
}
"""

_P = ctypes.c_void_p  # raw pointers: the caller passes ``array.ctypes.data`` (+ byte offsets) of C-contiguous arrays
_N = ctypes.c_ssize_t
_cached = None
_tried = False


def _cache_dirs():
    env = os.environ.get("CONVEXSCORE_CACHE")
    if env:
        yield Path(env)
    yield Path.home() / ".cache" / "convexscore"
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    yield Path(tempfile.gettempdir()) / f"convexscore-cache-{uid}"  # per user: never load another user's library


def _compile(target: Path) -> bool:
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        return False
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        src, out = Path(tmp) / "ula.c", Path(tmp) / "ula.so"
        src.write_text(SOURCE)
        cmd = [cc, "-O2", "-fPIC", "-shared", "-ffp-contract=off", "-fno-fast-math", "-o", str(out), str(src)]
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=120)
        except (OSError, subprocess.SubprocessError):
            return False
        if done.returncode != 0 or not out.exists():
            return False
        os.replace(out, target)  # atomic: concurrent compilations cannot leave a half-written library
    return True


def load():
    """The compiled ``ula_step`` function (raw-pointer arguments, see ``SOURCE``), or None (no compiler, ``CONVEXSCORE_NO_C=1``, or a failed build)."""
    global _cached, _tried
    if os.environ.get("CONVEXSCORE_NO_C", "").strip() not in ("", "0"):
        return None
    if _tried:
        return _cached
    _tried = True
    name = f"ula_{hashlib.sha256(SOURCE.encode()).hexdigest()[:16]}.so"
    for d in _cache_dirs():
        path = d / name
        try:
            if path.exists() and hasattr(os, "getuid") and path.stat().st_uid != os.getuid():
                continue  # not ours: do not load it
            if not path.exists() and not _compile(path):
                continue
            lib = ctypes.CDLL(str(path))
        except OSError:
            continue
        fn = lib.ula_step
        fn.restype = _N
        fn.argtypes = [_P, _P, _N, _P, _N, _P, _N, _P, _P, ctypes.c_double, ctypes.c_double]
        _cached = fn
        return fn
    return None
