"""Distance between floating-point numbers in *units in the last place* (ulps).

Two floats of one format are ``d`` ulps apart when ``d - 1`` representable numbers lie
strictly between them: 1.0 and ``np.nextafter(1.0, 2.0)`` are 1 ulp apart, 0.0 and -0.0
are 0 apart. The distance is read from the bit patterns (IEEE 754 orders finite floats
of one sign like their integer patterns), as in Goldberg, "What every computer scientist
should know about floating-point arithmetic" (1991), and Bruce Dawson's comparison notes.
"""
from __future__ import annotations

import numpy as np

_INTS = {np.dtype(np.float64): np.int64, np.dtype(np.float32): np.int32}


def _ordered(a, dtype):
    """Map floats to integers whose order and differences are those of the floats."""
    ints = np.ascontiguousarray(a, dtype=dtype).view(_INTS[dtype]).astype(object)
    top = 1 << (8 * dtype.itemsize - 1)
    flat = [(i if i >= 0 else -(i + top)) for i in np.ravel(ints)]
    return np.array(flat, dtype=object).reshape(np.shape(a))


def ulp_distance(a, b, dtype=None):
    """Element-wise ulp distance between ``a`` and ``b`` in ``dtype`` (float32 or
    float64; default: ``a``'s dtype if it is one of those, else float64).

    Returns an array of Python ints (object dtype, as distances can exceed 2**63) of the
    broadcast shape; ``None`` where either side is NaN (no count). An infinity counts as
    the number one past the largest finite one (its bit pattern), so an overflow shows as
    1 ulp beyond ``finfo.max``. Raises ``ValueError`` for another dtype."""
    a, b = np.asarray(a), np.asarray(b)
    dt = np.dtype(dtype) if dtype is not None else (a.dtype if a.dtype in _INTS else np.dtype(np.float64))
    if dt not in _INTS:
        raise ValueError(f"dtype: expected float32 or float64, got {dt}")
    a, b = np.broadcast_arrays(a.astype(dt), b.astype(dt))
    dist = np.asarray(np.abs(_ordered(a, dt) - _ordered(b, dt)), dtype=object)
    bad = np.isnan(a) | np.isnan(b)
    if np.any(bad):
        dist[bad] = None
    return dist


def max_ulp_distance(a, b, dtype=None):
    """The largest :func:`ulp_distance` over the elements (``None`` if any is ``None``, 0 if empty)."""
    d = ulp_distance(a, b, dtype).ravel().tolist()
    if any(x is None for x in d):
        return None
    return max(d, default=0)
