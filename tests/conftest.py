"""Shared fixtures for the whole suite.

* ``backend_names`` — every backend pyneuron knows (``scalar``, ``numpy``, ``c``).
* ``backend`` — a fixture parametrized over those names. A backend that cannot
  run here is *skipped*, unless the environment variable ``PYNEURON_REQUIRE_C``
  is set (CI sets it), in which case an unavailable ``c`` backend *fails* the
  test instead of hiding behind a skip.
* ``assert_close(actual, expected, rtol, atol, what)`` — ``np.allclose`` that
  prints both sides (and the worst element) when it fails.
* ``require_backend(name)`` — the same skip/fail rule, callable from a test.
"""
from __future__ import annotations


import os

import pytest
from hypothesis import settings

import pyneuron

from helpers import assert_close, backend_names, require_backend  # noqa: F401 (re-exported)

# In CI (CI=true) hypothesis draws the same examples every run, so a red build is
# reproducible and never a roll of the dice; locally it keeps exploring new ones.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(params=backend_names)
def backend(request):
    """The name of a backend that can run here (one test per backend)."""
    return require_backend(request.param)


@pytest.fixture
def kernels(backend):
    """The backend object (its kernels) for ``backend``."""
    from pyneuron import backends
    return backends.get(backend)


@pytest.fixture(name="assert_close")
def _assert_close_fixture():
    return assert_close


@pytest.fixture(autouse=True)
def _restore_global_backend():
    """Tests may switch the global backend; put it back afterwards."""
    before = pyneuron.get_backend()
    yield
    if pyneuron.get_backend() != before:
        pyneuron.set_backend(before)
