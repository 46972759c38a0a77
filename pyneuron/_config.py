"""The backend flag: which engine runs the kernels when a model does not say.

Two levels, looked up in this order by every model without a ``backend=`` of its own:

1. :func:`use_backend` — a ``with`` block's choice. It lives in a
   :class:`contextvars.ContextVar`, so it belongs to the thread or asyncio task
   that opened the block: two threads (or tasks) in their own blocks each see
   their own backend, whatever order their blocks end in.
2. The process default — whatever :func:`set_backend` set last, else
   ``PYNEURON_BACKEND``, else ``numpy``. Every thread and task that is not inside a
   ``use_backend`` block sees it (a new thread starts outside any block).

``PYNEURON_BACKEND`` is read **lazily**, the first time the default is needed (the
first model without ``backend=``, or :func:`get_backend`), not at import: so a script
run with ``PYNEURON_BACKEND=mine`` can ``register_backend("mine", ...)`` after
``import pyneuron`` and before its first model. The variable may also be a plugin spec,
``MODULE:ATTR`` or ``MODULE:ATTR=NAME`` (as ``pyneuron --plugin``): the module is
imported, ``ATTR`` (an object with kernels, or a class to instantiate) is registered as
``NAME`` (default ``ATTR`` in lower case) and becomes the default.

A value that names no backend when the default is first needed (say ``gpu``), or a
plugin that cannot be loaded, raises :class:`BackendEnvironmentError` naming the
variable and the valid names; nothing is remembered, so registering the name and asking
again works. A known backend that cannot run here (``c`` without its compiled module)
raises when a model needs it, naming the variable; code that names its backend
(``backend="numpy"``) or runs inside ``use_backend`` never reads the variable.
"""
from __future__ import annotations

import contextlib
import contextvars
import os
import threading

from . import backends

#: The environment variable read when the default backend is first needed.
ENVIRONMENT_VARIABLE = "PYNEURON_BACKEND"
DEFAULT_BACKEND = "numpy"

_default: str | None = None            # the process default; None until set or first needed
_default_from_environment = False     # True while _default is PYNEURON_BACKEND's value
_resolving = threading.Lock()         # one thread reads the variable (and loads its plugin)
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
    block of this thread or task, else the process default (reading
    ``PYNEURON_BACKEND`` the first time, see the module doc; raises
    :class:`BackendEnvironmentError` for a value that names no backend)."""
    name = _block.get()
    if name is not None:
        return name
    return _default if _default is not None else _default_from_the_environment()


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


def _default_from_the_environment() -> str:
    """Settle the process default from ``PYNEURON_BACKEND`` (or ``numpy``); raise
    :class:`BackendEnvironmentError` (remembering nothing) if it names no backend."""
    global _default, _default_from_environment
    with _resolving:
        if _default is not None:                   # another thread settled it first
            return _default
        value = os.environ.get(ENVIRONMENT_VARIABLE)
        if not value:
            _default = DEFAULT_BACKEND
            return _default
        name = _plugin(value) if _is_plugin_spec(value) else value
        if name not in backends.names():
            raise _unknown(value)
        _default, _default_from_environment = name, True
        return name


def _is_plugin_spec(value: str) -> bool:
    return ":" in value


def _plugin(value: str) -> str:
    """Load the plugin ``MODULE:ATTR[=NAME]`` the variable names; return the registered name."""
    from .compare import load_plugin
    try:
        return load_plugin(value, option=ENVIRONMENT_VARIABLE)
    except (ValueError, TypeError, ImportError) as exc:
        raise BackendEnvironmentError(
            f"{ENVIRONMENT_VARIABLE}={value!r} could not be loaded as a plugin backend "
            f"(MODULE:ATTR or MODULE:ATTR=NAME): {exc}") from exc


def _unknown(value: str) -> BackendEnvironmentError:
    valid = ", ".join(repr(n) for n in backends.names())
    return BackendEnvironmentError(
        f"{ENVIRONMENT_VARIABLE}={value!r} is not a backend: expected one of {valid}, a backend "
        f"registered with pyneuron.register_backend before the first model, or a plugin "
        f"MODULE:ATTR[=NAME] (or leave it unset for the default, {DEFAULT_BACKEND})")


def environment_error(value: str | None = None) -> BackendEnvironmentError | None:
    """The error for a ``PYNEURON_BACKEND`` value that names no backend, or ``None`` if it
    is unset, empty, a backend's name (built-in or registered so far) or a well-formed
    plugin spec. With ``value=None`` the environment's value is checked as the default
    would read it: a plugin spec is loaded and registered now (so the command line
    reports its failure as one line before running), and a good value becomes the default
    unless :func:`set_backend` chose one."""
    if value is None:
        try:
            _default_from_the_environment()        # nothing is read once a default is set
        except BackendEnvironmentError as exc:
            return exc
        return None
    if not value or value in backends.names():
        return None
    if _is_plugin_spec(value):
        target, _, name = value.partition("=")
        module, _, attr = target.partition(":")
        if module and attr and (not name or name.isidentifier()):
            return None
        return BackendEnvironmentError(
            f"{ENVIRONMENT_VARIABLE}={value!r} is not a plugin spec: expected MODULE:ATTR or MODULE:ATTR=NAME")
    return _unknown(value)
