"""The backend flag: which engine runs the kernels when a model does not say.

Read once at import from ``PYNEURON_BACKEND`` (default ``numpy``); changed with
:func:`set_backend` or, for a block of code, :func:`use_backend`.
"""
from __future__ import annotations

import contextlib
import os

from . import backends

DEFAULT_BACKEND = "numpy"
_current = DEFAULT_BACKEND


def set_backend(name: str) -> None:
    """Make ``name`` (``"scalar"``, ``"numpy"`` or ``"c"``) the backend for every
    model that has no ``backend=`` of its own. Raises ``ValueError`` for an
    unknown name and :class:`~pyneuron.backends.BackendUnavailableError` for a
    known one that cannot run here."""
    global _current
    backends.get(name)  # validates, and loads the C module if asked for
    _current = name


def get_backend() -> str:
    """The name of the current global backend."""
    return _current


@contextlib.contextmanager
def use_backend(name: str):
    """``with pyneuron.use_backend("scalar"): ...`` — switch for one block, then
    restore the previous backend, even if the block raises."""
    previous = _current
    set_backend(name)
    try:
        yield backends.get(name)
    finally:
        set_backend(previous)


def available_backends() -> list[str]:
    """The backends that can run on this machine, e.g. ``['scalar', 'numpy', 'c']``."""
    return backends.available()


def resolve(name: str | None):
    """The backend object for a model: its own ``name`` or, if ``None``, the global one."""
    return backends.get(_current if name is None else name)


def _init_from_environment() -> None:
    name = os.environ.get("PYNEURON_BACKEND")
    if name:
        backends.check_name(name)  # a typo in the variable is an error, not a silent default
        set_backend(name)


_init_from_environment()
