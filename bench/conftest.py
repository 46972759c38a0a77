"""Helpers for the pytest-benchmark suites.

Run for figures with ``pytest bench --benchmark-enable --benchmark-only`` (one table per
``benchmark.group``, so ratios read off one table). In the default suite run
(``--benchmark-disable``) each benchmark runs once as a plain test, on small sizes.
"""
import os

import pytest

REQUIRE_C = os.environ.get("PYNEURON_REQUIRE_C", "") not in ("", "0")


def require_c():
    """The C backend module, or skip (fail under PYNEURON_REQUIRE_C)."""
    try:
        from pyneuron.backends import c_backend
    except ImportError as exc:
        if REQUIRE_C:
            pytest.fail(f"PYNEURON_REQUIRE_C is set but the C backend is missing: {exc}")
        pytest.skip(f"C backend not built: {exc}")
    return c_backend


@pytest.fixture
def c_backend():
    return require_c()
