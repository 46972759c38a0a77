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
#: Backends registered at run time (:func:`register_backend`), by name.
_registered: dict = {}
#: Set by :mod:`pyneuron.trace` while a trace records: wraps the backend object ``get`` returns.
_wrap = None


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


def names() -> list[str]:
    """Every backend name: the built-ins, then those registered with :func:`register_backend`."""
    return [*BACKEND_NAMES, *_registered]


def check_name(name) -> str:
    """Return ``name`` if it names a backend, else raise ``ValueError`` listing the valid ones."""
    if not isinstance(name, str) or (name not in BACKEND_NAMES and name not in _registered):
        raise ValueError(
            f"backend: expected one of {', '.join(repr(n) for n in names())}, got {name!r}")
    return name


def get(name: str) -> Backend:
    """The backend object for ``name`` (raises if unknown or not available here)."""
    check_name(name)
    if name == "c":
        _load_c()
        if "c" not in _instances:
            raise BackendUnavailableError(_c_error)
    kernels = _instances[name] if name in _instances else _registered[name]
    return kernels if _wrap is None else _wrap(kernels)


def available() -> list[str]:
    """Names of the backends that can run on this machine (registered ones last)."""
    _load_c()
    return [n for n in BACKEND_NAMES if n in _instances] + list(_registered)


def register_backend(name: str, backend, reference: str = "numpy"):
    """Make ``backend`` (an object with some or all of the kernels of :class:`Backend`)
    a backend named ``name``, usable wherever a backend name is (``MLP(backend=name)``,
    ``use_backend``, ``set_backend``, the scikit-learn wrappers).

    A kernel ``backend`` does not define is borrowed from ``reference`` (a built-in or an
    already registered name); :func:`backend_report` lists which. Registering a name
    again replaces the earlier backend. Returns the registered backend object.

    Raises ``ValueError`` for a name that is a built-in (``scalar``, ``numpy``, ``c``) or
    not an identifier, or a method named like a misspelt kernel; ``TypeError`` for a
    kernel that is not callable or whose signature cannot take the interface's arguments
    (see :mod:`pyneuron.backends.registry`)."""
    from . import registry
    registry.check_new_name(name)
    if not isinstance(reference, str) or reference == name:
        raise ValueError(f"reference: expected the name of another backend to borrow kernels "
                         f"from, e.g. 'numpy', got {reference!r}")
    ref = get(reference)
    _registered[name] = made = registry.make(name, backend, getattr(ref, "__wrapped__", ref))
    return made


def unregister_backend(name: str) -> None:
    """Forget the registered backend ``name`` (``ValueError`` if none was registered by it)."""
    if name not in _registered:
        raise ValueError(f"name: no backend registered as {name!r} "
                         f"(registered: {', '.join(map(repr, _registered)) or 'none'})")
    del _registered[name]


def backend_report(name: str):
    """Which kernels of backend ``name`` are its own and which are borrowed: a
    :class:`~pyneuron.backends.registry.BackendReport` (prints as a table; ``as_dict()``)."""
    from . import registry
    check_name(name)
    if name in _registered:
        b = _registered[name]
        return registry.BackendReport(name, b.own, b.borrowed, b.reference.name)
    get(name)
    return registry.BackendReport(name, list(registry.KERNELS) + list(registry.FUSED), [], name)


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
           "available", "get", "check_name", "unavailable_reason", "names", "register_backend",
           "unregister_backend", "backend_report"]
