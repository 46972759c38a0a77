"""The backend flag: which engine runs the kernels when a model does not say.

Two levels, looked up in this order by every model without a ``backend=`` of its own:

1. :func:`use_backend` — a ``with`` block's choice. It lives in a
   :class:`contextvars.ContextVar`, so it belongs to the thread or asyncio task
   that opened the block: two threads (or tasks) in their own blocks each see
   their own backend, whatever order their blocks end in.
2. The process default — ``numpy``, or ``PYNEURON_BACKEND`` read once at import,
   or whatever :func:`set_backend` set last. Every thread and task that is not
   inside a ``use_backend`` block sees it (a new thread starts outside any block).

An unknown name in ``PYNEURON_BACKEND`` (say ``gpu``) makes ``import pyneuron``
raise :class:`BackendEnvironmentError` naming the variable and the valid names.
A known backend that cannot run here (``c`` without its compiled module) is not
an import error: it becomes one when a model actually needs the default, so
code that names its backend (``backend="numpy"``) still runs.
"""
from __future__ import annotations

import contextlib
import contextvars
import os
import sys

from . import backends

#: The environment variable read at import.
ENVIRONMENT_VARIABLE = "PYNEURON_BACKEND"
DEFAULT_BACKEND = "numpy"

_default = DEFAULT_BACKEND            # the process default (set_backend)
_default_from_environment = False     # True while _default is PYNEURON_BACKEND's value
_block: contextvars.ContextVar[str | None] = contextvars.ContextVar("pyneuron_backend", default=None)


class BackendEnvironmentError(ValueError):
    """``PYNEURON_BACKEND`` names no backend pyneuron knows."""


def set_backend(name: str) -> None:
    """Make ``name`` (``"scalar"``, ``"numpy"`` or ``"c"``) the **process default**:
    the backend of every model that has no ``backend=`` of its own, in every thread
    and task that is not inside a :func:`use_backend` block (inside one, the block's
    backend still wins until the block ends).

    Raises ``ValueError`` for an unknown name and
    :class:`~pyneuron.backends.BackendUnavailableError` for a known one that cannot
    run here; either way the default is unchanged."""
    global _default, _default_from_environment
    backends.get(name)  # validates, and loads the C module if asked for
    _default, _default_from_environment = name, False


def get_backend() -> str:
    """The name of the backend in force here: the innermost :func:`use_backend`
    block of this thread or task, else the process default."""
    name = _block.get()
    return _default if name is None else name


@contextlib.contextmanager
def use_backend(name: str):
    """``with pyneuron.use_backend("scalar"): ...`` — switch for one block of this
    thread or asyncio task only (other threads and tasks keep theirs), then restore
    what was in force before, even if the block raises. Yields the backend object.
    Raises as :func:`set_backend` does, before the block starts."""
    kernels = backends.get(name)
    token = _block.set(name)
    try:
        yield kernels
    finally:
        _block.reset(token)


def available_backends() -> list[str]:
    """The backends that can run on this machine, e.g. ``['scalar', 'numpy', 'c']``."""
    return backends.available()


def resolve(name: str | None):
    """The backend object for a model: its own ``name`` or, if ``None``, the one in
    force (:func:`get_backend`). A default taken from ``PYNEURON_BACKEND`` that
    cannot run here raises ``BackendUnavailableError`` naming the variable."""
    if name is not None:
        return backends.get(name)
    current = get_backend()
    try:
        return backends.get(current)
    except backends.BackendUnavailableError as exc:
        if _default_from_environment and _block.get() is None:
            raise backends.BackendUnavailableError(
                f"{ENVIRONMENT_VARIABLE}={current} asks for a backend that cannot run here: {exc} "
                f"(or unset {ENVIRONMENT_VARIABLE}, or pass backend='numpy')") from None
        raise


def environment_error(value: str | None = None) -> BackendEnvironmentError | None:
    """The error for a ``PYNEURON_BACKEND`` value (the environment's if ``value`` is
    ``None``) that names no backend, or ``None`` if it is unset, empty or valid."""
    value = os.environ.get(ENVIRONMENT_VARIABLE) if value is None else value
    if not value or value in backends.BACKEND_NAMES:
        return None
    valid = ", ".join(repr(n) for n in backends.BACKEND_NAMES)
    return BackendEnvironmentError(
        f"{ENVIRONMENT_VARIABLE}={value!r} is not a backend: expected one of {valid} "
        f"(or leave it unset for the default, {DEFAULT_BACKEND})")


def _launched_as_command() -> bool:
    """Whether this process is the ``pyneuron`` command (its console script or
    ``python -m pyneuron.cli``), which reports a bad variable as one line itself."""
    argv = list(getattr(sys, "orig_argv", sys.argv))
    if "-m" in argv[:-1] and argv[argv.index("-m") + 1] in ("pyneuron.cli", "pyneuron"):
        return True
    scripts = [a for a in argv[1:2] if not a.startswith("-")] or argv[:1]
    return os.path.basename(scripts[0]).removesuffix(".exe") == "pyneuron" if scripts else False


def _init_from_environment() -> None:
    global _default, _default_from_environment
    error = environment_error()
    if error is not None:
        if _launched_as_command():
            return      # pyneuron.cli.main prints it as one line, without a traceback
        raise error
    name = os.environ.get(ENVIRONMENT_VARIABLE)
    if name:
        _default, _default_from_environment = name, True


_init_from_environment()
