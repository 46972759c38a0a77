"""The engines. ``get(name)`` returns a backend object holding every kernel.

This package is the only place that knows which backends exist. The ``c``
backend is loaded lazily: if its compiled module is missing, asking for it
raises :class:`BackendUnavailableError` with the reason and how to build it.
"""
from __future__ import annotations

from .base import ACTIVATIONS, LOSSES, Backend
from .numpy_backend import NumpyBackend
from .scalar import ScalarBackend

#: Every backend pyneuron knows, in the order ``available_backends`` lists them.
BACKEND_NAMES = ("scalar", "numpy", "c")

_instances: dict[str, Backend] = {
    "scalar": ScalarBackend(),
    "numpy": NumpyBackend(),
}
_c_error: str | None = None


class BackendUnavailableError(RuntimeError):
    """A known backend that cannot run on this machine (e.g. ``c`` not compiled)."""


def _load_c():
    global _c_error
    if "c" in _instances or _c_error is not None:
        return
    try:
        from .c_backend import CBackend
        _instances["c"] = CBackend()
    except ImportError as exc:  # the compiled module is absent or broken
        _c_error = (
            f"the 'c' backend is not available: its compiled kernels could not be "
            f"loaded ({exc}). Install a C compiler and reinstall with `pip install .`, "
            f"or run `python build_kernels.py` in a source checkout."
        )


def check_name(name) -> str:
    """Return ``name`` if it names a backend, else raise ``ValueError`` listing the valid ones."""
    if not isinstance(name, str) or name not in BACKEND_NAMES:
        raise ValueError(
            f"backend: expected one of {', '.join(repr(n) for n in BACKEND_NAMES)}, got {name!r}")
    return name


def get(name: str) -> Backend:
    """The backend object for ``name`` (raises if unknown or not available here)."""
    check_name(name)
    if name == "c":
        _load_c()
        if "c" not in _instances:
            raise BackendUnavailableError(_c_error)
    return _instances[name]


def available() -> list[str]:
    """Names of the backends that can run on this machine."""
    _load_c()
    return [n for n in BACKEND_NAMES if n in _instances]


def unavailable_reason(name: str) -> str | None:
    """Why ``name`` cannot run here, or ``None`` if it can."""
    check_name(name)
    if name == "c":
        _load_c()
        return _c_error
    return None


def __getattr__(name):
    # ``pyneuron.backends.c`` is the C backend's module (``matmul(..., variant=...)``,
    # ``simd_available()``), imported only when asked for.
    if name == "c":
        from . import c_backend
        return c_backend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["ACTIVATIONS", "LOSSES", "Backend", "BACKEND_NAMES", "BackendUnavailableError",
           "available", "get", "check_name", "unavailable_reason"]
