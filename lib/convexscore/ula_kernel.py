"""Optional compiled inner loop for the fast 1-D ULA path (used by ``convexscore.sampling``), compiled with numba.

The numpy kernel needs about ten passes over the chains per step (cast, gathers, adds). This loop does the cell
lookup and the update in one pass, so a step costs little more than drawing its Gaussian noise, which numpy
still does (the random stream is the same). It is compiled by numba (``cache=True``: once per machine, into
numba's cache next to this file or ``$NUMBA_CACHE_DIR``), the same mechanism as the fast 1-D solver's kernels;
numba is imported on the first call of :func:`load`, not with the library. When numba is unavailable, or
``CONVEXSCORE_NO_COMPILED=1`` (or the older ``CONVEXSCORE_NO_C=1``) is set, :func:`load` returns None and the numpy
kernel is used; results agree to rounding (the arithmetic order is the same, and numba does not contract
``b * y + k`` into a fused multiply-add without ``fastmath``).
"""
from __future__ import annotations

import os

_cached = None
_tried = False


def _build():
    import numpy as np
    from numba import njit

    @njit(cache=True, error_model="numpy")
    def ula_step(y, z, T, ty, Bseg, Cseg, ns, limit):
        """One ULA step on the chains ``y`` (m,) in grid units, noise ``z`` (m,), in place.

        ``T`` (ncell, 4) is the table ``[E, B, C, S]``. Cell ``c = floor(y)`` clipped to ``[0, ncell - 1]``.
        ``S[c] < 0``: the cell holds at most one knot; ``j = floor(y + E[c])`` (clipped) is ``c`` left of the knot
        and ``c + 1`` right of it, and ``(B[j], C[j])`` is the line there. ``S[c] >= 0``: the cell holds several
        knots; ``S[c]`` is the number of knots ``<= c`` and a short forward scan over the knots ``ty`` finds the
        segment. Update ``y <- B y + C + ns z``. Returns True when a new state is NaN or not below ``limit`` in
        absolute value (divergence)."""
        ncell = T.shape[0]
        K = ty.shape[0]
        top = float(ncell - 1)
        bad = False
        for i in range(y.shape[0]):
            yi = y[i]
            c = 0 if not (yi >= 0.0) else (ncell - 1 if yi >= top else int(yi))
            if T[c, 3] < 0.0:
                u = yi + T[c, 0]
                j = 0 if not (u >= 0.0) else (ncell - 1 if u >= top else int(u))
                b = T[j, 1]
                k = T[j, 2]
            else:
                s = int(T[c, 3])
                while s < K and ty[s] <= yi:
                    s += 1
                b = Bseg[s]
                k = Cseg[s]
            out = (b * yi + k) + z[i] * ns
            if not (abs(out) < limit):
                bad = True
            y[i] = out
        return bad

    # compile (or load from the cache) now, for the one signature used
    f8 = np.zeros(1)
    ula_step(f8.copy(), f8, np.zeros((1, 4)), f8, f8, f8, 0.0, 1.0)
    return ula_step


def disabled() -> bool:
    """True when the compiled kernel is switched off by the environment."""
    return any(os.environ.get(v, "").strip() not in ("", "0") for v in ("CONVEXSCORE_NO_COMPILED", "CONVEXSCORE_NO_C"))


def load():
    """The compiled ``ula_step(y, z, T, ty, Bseg, Cseg, ns, limit) -> bool`` (see :func:`_build`), or None (numba
    unavailable, or switched off by ``CONVEXSCORE_NO_COMPILED=1`` / ``CONVEXSCORE_NO_C=1``)."""
    global _cached, _tried
    if disabled():
        return None
    if _tried:
        return _cached
    _tried = True
    try:
        _cached = _build()
    except ImportError:
        _cached = None
    return _cached
