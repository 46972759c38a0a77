"""Assertions and backend guards shared by the test modules.

Imported as ``from helpers import assert_close, require_backend`` (pytest puts
``tests/`` on ``sys.path``); ``conftest.py`` turns them into fixtures. They live
here rather than in ``conftest.py`` because ``bench/`` has a ``conftest.py`` too,
and two modules named ``conftest`` cannot both be imported by name.
"""
from __future__ import annotations

import os

import numpy as np
import pytest

import pyneuron

#: Whether this run must have the C backend: ``PYNEURON_REQUIRE_C`` set to anything
#: but "" or "0" — the same rule build_kernels.py applies to the build itself.
C_REQUIRED = os.environ.get("PYNEURON_REQUIRE_C", "") not in ("", "0")

#: Every backend name, available here or not.
backend_names = ["scalar", "numpy", "c"]


def require_backend(name):
    """Skip the calling test if ``name`` cannot run here; fail instead when
    ``c`` is required (``PYNEURON_REQUIRE_C`` set) and missing."""
    if name in pyneuron.available_backends():
        return name
    from pyneuron.backends import unavailable_reason
    reason = f"backend {name!r} unavailable: {unavailable_reason(name)}"
    if name == "c" and C_REQUIRED:
        pytest.fail(f"PYNEURON_REQUIRE_C is set but {reason}", pytrace=False)
    pytest.skip(reason)



def assert_close(actual, expected, rtol=1e-12, atol=0.0, what="value"):
    """``actual`` ≈ ``expected`` element-wise; on failure print both sides."""
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if a.shape != e.shape:
        raise AssertionError(f"{what}: shape {a.shape} != expected {e.shape}\n"
                             f"actual:\n{a}\nexpected:\n{e}")
    if np.allclose(a, e, rtol=rtol, atol=atol, equal_nan=False):
        return
    err = np.abs(a - e)
    tol = atol + rtol * np.abs(e)
    worst = np.unravel_index(np.argmax(err - tol), err.shape) if err.ndim else ()
    with np.printoptions(precision=17, threshold=50, linewidth=120):
        raise AssertionError(
            f"{what}: not close (rtol={rtol}, atol={atol}); worst at index {worst}: "
            f"actual {a[worst]!r} vs expected {e[worst]!r} (|diff| {err[worst]:.3e})\n"
            f"actual:\n{a}\nexpected:\n{e}")


def c_backend_module():
    """The C backend's module, for test files that are about C alone.

    Skips the whole file when the compiled kernels are missing, unless
    ``PYNEURON_REQUIRE_C`` is set (as in CI): then the import error propagates
    and the file fails to collect, so a missing C backend is never a skip.
    """
    if not C_REQUIRED:
        return pytest.importorskip("pyneuron.backends.c_backend",
                                   reason="C kernels not built (python build_kernels.py)",
                                   exc_type=ImportError)
    from pyneuron.backends import c_backend
    return c_backend


class CpuWith:
    """The compiled module as ``c_backend`` sees it, on a CPU whose best SIMD level is
    ``level``: ``monkeypatch.setattr(cb, "lib", CpuWith(level))`` shows the wrappers a
    smaller CPU (every other name is the real module's)."""

    def __init__(self, level):
        from pyneuron.backends.c_backend import lib
        self.level, self.real = level, lib

    def pyn_simd_available(self):
        return self.level

    def __getattr__(self, name):
        return getattr(self.real, name)
