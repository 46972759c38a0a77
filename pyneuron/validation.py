"""Checks at the public API's door. Every message names the argument, what was
expected and what was given, so a learner can fix the call without a debugger."""
from __future__ import annotations

import math
import numbers
import os
from collections.abc import Callable

import numpy as np


def as_float_matrix(X: np.typing.ArrayLike, name: str = "X", dtype: np.typing.DTypeLike = np.float64, n_features: int | None = None) -> np.ndarray:
    """``X`` as a C-contiguous 2-D float array of ``dtype``, finite and non-empty."""
    if isinstance(X, (str, bytes)):
        raise TypeError(f"{name}: expected a 2-D array of numbers, got a {type(X).__name__}")
    try:
        arr = np.asarray(X)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name}: expected a 2-D array of numbers, got {type(X).__name__} ({exc})") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name}: expected numeric data, got an array of dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name}: expected real numbers, got complex dtype {arr.dtype}")
    if arr.ndim == 1 and n_features is not None and arr.shape[0] == n_features:
        raise ValueError(f"{name}: expected a 2-D array of shape (n_samples, {n_features}), "
                         f"got a 1-D array of shape {arr.shape}; use {name}.reshape(1, -1) for one sample")
    if arr.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array of shape (n_samples, n_features), got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name}: expected at least one sample, got shape {arr.shape}")
    if n_features is not None and arr.shape[1] != n_features:
        raise ValueError(f"{name}: expected {n_features} features (columns), got {arr.shape[1]}")
    arr = np.ascontiguousarray(arr, dtype=dtype)
    if not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(f"{name}: expected finite values, got {arr[tuple(bad)]} at index {tuple(int(i) for i in bad)}")
    return arr


def as_vector(v: np.typing.ArrayLike, name: str, length: int | None = None, dtype: np.typing.DTypeLike = np.float64) -> np.ndarray:
    """A 1-D finite float array (optionally of a given length). Complex, text and
    object values are a ``TypeError`` (casting complex to float would drop the
    imaginary part)."""
    try:
        raw = np.asarray(v)
        if np.iscomplexobj(raw) or not (np.issubdtype(raw.dtype, np.number) or raw.dtype == bool):
            raise TypeError
        arr = raw.astype(dtype)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected a 1-D array of real numbers, got {v!r}") from None
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array, got shape {arr.shape}")
    if length is not None and arr.shape[0] != length:
        raise ValueError(f"{name}: expected length {length}, got {arr.shape[0]}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name}: expected finite values, got {arr}")
    return arr


def check_positive_int(value: object, name: str, minimum: int = 1, allow_none: bool = False) -> int:
    """``value`` as an ``int`` if it is an integer ``>= minimum`` (not a bool; ``None``
    passes with ``allow_none``); else a ``ValueError`` naming ``name``."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


def check_number(value: object, name: str, low: float | None = None, high: float | None = None, low_open: bool = False, high_open: bool = False) -> float:
    """A real, finite number inside [low, high] (ends open if asked), as a ``float``.
    Any ``numbers.Real`` but a bool is taken (``Fraction(1, 3)``, NumPy scalars); an
    integer beyond the floats' range (``10**400``) is not finite."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name}: expected a finite number, got {value!r}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise ValueError(f"{name}: expected a finite number, got {value!r}")
    value = number
    if low is not None and (value < low or (low_open and value == low)):
        raise ValueError(f"{name}: expected a number {'>' if low_open else '>='} {low}, got {value!r}")
    if high is not None and (value > high or (high_open and value == high)):
        raise ValueError(f"{name}: expected a number {'<' if high_open else '<='} {high}, got {value!r}")
    return value


def check_choice(value: object, name: str, choices: tuple[str, ...] | list[str]) -> str:
    """``value`` if it is one of the strings ``choices``; else a ``ValueError`` naming
    ``name``, the choices and what was given."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name}: expected one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def check_dtype(dtype: object, name: str = "dtype") -> np.dtype[np.floating]:
    """``dtype`` as ``np.dtype('float64')`` or ``np.dtype('float32')``; anything that is
    not a dtype is a ``TypeError``, another dtype a ``ValueError``, each naming ``name``."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{name}: expected 'float64' or 'float32', got {dtype!r}") from None
    if dt not in (np.float64, np.float32):
        raise ValueError(f"{name}: expected 'float64' or 'float32', got {dt}")
    return dt


def _physical_memory_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):   # not a POSIX system
        return 64 * 2**30


def _available_memory_bytes() -> int:
    """The memory a new allocation can get now: Linux's ``MemAvailable`` (free memory
    plus caches it can drop), else the physical memory."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return _physical_memory_bytes()


#: A fixed limit in bytes for :func:`check_array_fits` / :func:`check_bytes_fit`, or
#: ``None`` (the default): the memory available when the check runs. Beyond it NumPy
#: fails deep inside with a bare MemoryError, or the system kills the process.
MAX_ARRAY_BYTES = None


#: Requests up to this many bytes pass :func:`check_array_fits` / :func:`check_bytes_fit`
#: without reading the available memory when no limit is set: reading ``/proc/meminfo``
#: costs about 0.1 ms, more than building a small model, and 16 MiB is free on any
#: machine that runs Python and NumPy.
ALWAYS_FITS_BYTES = 16 * 2**20


def memory_limit() -> int:
    """The limit the size checks apply now, in bytes (see :data:`MAX_ARRAY_BYTES`)."""
    return _available_memory_bytes() if MAX_ARRAY_BYTES is None else MAX_ARRAY_BYTES


def check_array_fits(shape: tuple[int, ...], dtype: np.typing.DTypeLike, name: str, max_bytes: int | None = None) -> int:
    """Refuse, before allocating, an array of ``shape`` and ``dtype`` whose size
    exceeds ``max_bytes`` (default :func:`memory_limit`, the memory available now).

    ``name`` is the argument that decides the size; the ``ValueError`` says how
    many bytes the array would need and what the limit is. Returns the size in bytes.
    """
    n_bytes = np.dtype(dtype).itemsize
    for dim in shape:
        n_bytes *= int(dim)          # Python ints: no overflow
    if _small_enough(n_bytes, max_bytes):
        return n_bytes
    what = f"an array of shape {tuple(int(d) for d in shape)} ({np.dtype(dtype)})"
    return check_bytes_fit(n_bytes, name, what, max_bytes)


def check_bytes_fit(n_bytes: int, name: str, what: str | Callable[[], str], max_bytes: int | None = None) -> int:
    """Refuse, before allocating, ``n_bytes`` of memory (several arrays together, e.g.
    all of a model's parameters) beyond ``max_bytes`` (default :func:`memory_limit`).

    ``name`` is the argument that decides the size, ``what`` says what would be
    allocated (or is a function returning that text: called only for the error, as a
    model's constructor passes it); raises ``ValueError``. Returns ``n_bytes``.
    """
    if _small_enough(n_bytes, max_bytes):
        return n_bytes
    limit = memory_limit() if max_bytes is None else max_bytes
    if n_bytes > limit:
        what = what() if callable(what) else what
        raise ValueError(f"{name}: {what} would need {n_bytes / 2**30:.3g} GiB, more than the "
                         f"{limit / 2**30:.3g} GiB this machine has available; use smaller sizes")
    return n_bytes


def _small_enough(n_bytes: int, max_bytes: int | None) -> bool:
    """Whether ``n_bytes`` passes without a look at the machine (no limit given or set)."""
    return max_bytes is None and MAX_ARRAY_BYTES is None and n_bytes <= ALWAYS_FITS_BYTES


def check_bool(value: object, name: str) -> bool:
    """``value`` if it is ``True`` or ``False`` (a Python or NumPy bool), else ``TypeError``.

    Any other object is refused, not judged by its truth: ``batch_norm="no"`` is a
    non-empty string, so ``bool("no")`` would switch batch norm *on*."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected True or False, got {value!r} ({type(value).__name__})")
    return bool(value)
