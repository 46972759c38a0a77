"""pyneuron.backends (the package: get, names, check_name, available, register_backend,
unregister_backend, backend_report, unavailable_reason, the lazy ``c``) beyond
tests/test_engines_registry.py and tests/test_backend_flag.py: what the mutation run (issue 15
item 10) showed untested. The path where the compiled module is missing is simulated by
hiding ``pyneuron.backends.c_backend`` (every change is undone by monkeypatch)."""
from __future__ import annotations

import sys

import pytest

import pyneuron as pn
from pyneuron import backends

from helpers import require_backend


from test_mutants_registry import OneKernel, _forget_registered  # noqa: F401  (an autouse fixture)


def test_names_lists_the_builtins_then_the_registered():
    assert backends.BACKEND_NAMES == ("scalar", "numpy", "c")
    assert backends.names() == ["scalar", "numpy", "c"]
    pn.register_backend("mine", OneKernel())
    assert backends.names() == ["scalar", "numpy", "c", "mine"]


@pytest.mark.parametrize("bad", ["gpu", 3, None, "Numpy"])
def test_check_name_lists_the_valid_names(bad):
    with pytest.raises(ValueError, match=rf"^backend: expected one of 'scalar', 'numpy', 'c', got {bad!r}$"):
        backends.check_name(bad)
    for name in ("scalar", "numpy", "c"):
        assert backends.check_name(name) == name


def test_get_returns_one_object_per_backend():
    assert backends.get("numpy") is backends.get("numpy")
    assert backends.get("scalar").name == "scalar" and backends.get("numpy").name == "numpy"
    made = pn.register_backend("mine", OneKernel())
    assert backends.get("mine") is made


def test_the_c_backend_is_loaded_once():
    require_backend("c")
    assert backends.get("c") is backends.get("c")
    assert backends.get("c").name == "c"
    assert backends.unavailable_reason("c") is None
    assert backends.available()[:3] == ["scalar", "numpy", "c"]


@pytest.fixture
def no_compiled_module(monkeypatch):
    """The state of a fresh process whose compiled kernels cannot be imported."""
    monkeypatch.setitem(sys.modules, "pyneuron.backends.c_backend", None)   # import raises ImportError
    monkeypatch.delitem(backends._instances, "c", raising=False)
    monkeypatch.setattr(backends, "_c_error", None)


def test_without_the_compiled_module_c_is_unavailable_and_says_why(no_compiled_module):
    with pytest.raises(backends.BackendUnavailableError,
                       match=r"^the 'c' backend is not available: its compiled kernels could not be loaded "
                             r"\(.*\)\. Install a C compiler and reinstall with `pip install \.`, or run "
                             r"`python build_kernels\.py` in a source checkout\.$"):
        backends.get("c")
    reason = backends.unavailable_reason("c")
    assert reason.startswith("the 'c' backend is not available")
    assert backends.available() == ["scalar", "numpy"]
    pn.register_backend("mine", OneKernel())
    assert backends.available() == ["scalar", "numpy", "mine"]
    assert "c" not in backends._instances
    with pytest.raises(backends.BackendUnavailableError):
        pn.backend_report("c")
    assert backends.get("numpy").name == "numpy"          # the others still work


def test_the_load_is_tried_once(no_compiled_module, monkeypatch):
    backends._load_c()
    first = backends._c_error
    assert first is not None
    monkeypatch.delitem(sys.modules, "pyneuron.backends.c_backend")        # now it could import ...
    backends._load_c()
    assert backends._c_error is first and "c" not in backends._instances   # ... but is not retried


def test_unavailable_reason_of_the_others_is_none():
    assert backends.unavailable_reason("scalar") is None
    assert backends.unavailable_reason("numpy") is None
    with pytest.raises(ValueError, match="backend: expected one of"):
        backends.unavailable_reason("gpu")


@pytest.mark.parametrize("reference", [3, None, "mine"])
def test_register_backend_wants_another_backends_name_as_reference(reference):
    with pytest.raises(ValueError, match=rf"^reference: expected the name of another backend to borrow kernels "
                                         rf"from, e\.g\. 'numpy', got {reference!r}$"):
        pn.register_backend("mine", OneKernel(), reference=reference)
    assert "mine" not in backends.names()


def test_registering_again_replaces_and_a_registered_backend_can_be_the_reference():
    first = pn.register_backend("mine", OneKernel())
    second = pn.register_backend("mine", OneKernel(), reference="scalar")
    assert backends.get("mine") is second is not first
    third = pn.register_backend("theirs", OneKernel(), reference="mine")
    assert third.reference is second


def test_unregister_says_what_is_registered():
    with pytest.raises(ValueError, match=r"^name: no backend registered as 'mine' \(registered: none\)$"):
        backends.unregister_backend("mine")
    pn.register_backend("a", OneKernel())
    pn.register_backend("b", OneKernel())
    with pytest.raises(ValueError, match=r"^name: no backend registered as 'mine' \(registered: 'a', 'b'\)$"):
        backends.unregister_backend("mine")
    backends.unregister_backend("a")
    assert backends.names() == ["scalar", "numpy", "c", "b"]


def test_backend_report_of_a_builtin_and_of_a_registered_one():
    report = backends.backend_report("numpy")
    assert report.name == "numpy" and report.reference == "numpy" and report.borrowed == []
    pn.register_backend("mine", OneKernel(), reference="scalar")
    report = backends.backend_report("mine")
    assert report.own == ["softmax"] and report.reference == "scalar" and "matmul" in report.borrowed
    with pytest.raises(ValueError, match="backend: expected one of"):
        backends.backend_report("gpu")


def test_get_wraps_while_a_trace_records(monkeypatch):
    seen = []

    def wrap(kernels):
        seen.append(kernels)
        return ("wrapped", kernels)

    monkeypatch.setattr(backends, "_wrap", wrap)
    assert backends.get("numpy") == ("wrapped", backends._instances["numpy"])
    assert seen == [backends._instances["numpy"]]


def test_the_c_module_attribute_and_unknown_attributes():
    require_backend("c")
    from pyneuron.backends import c_backend
    assert backends.c is c_backend
    with pytest.raises(AttributeError, match=r"^module 'pyneuron\.backends' has no attribute 'gpu'$"):
        backends.gpu  # noqa: B018
