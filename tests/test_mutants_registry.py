"""pyneuron.backends.registry beyond tests/test_engines_registry.py: what the mutation run
(issue 15 item 10) showed untested. The report's text, the repr, the dtypes a learner's
backend declares, a kernel without a signature (taken on trust), a method marked abstract
(borrowed), near misses only among public callables, the argument checks of ``make`` with
their messages."""
from __future__ import annotations

import numpy as np
import pytest

import pyneuron as pn
from pyneuron import backends
from pyneuron.backends import registry
from pyneuron.backends.numpy_backend import NumpyBackend
from pyneuron.backends.registry import FUSED, KERNELS


@pytest.fixture(autouse=True)
def _forget_registered():
    yield
    for name in list(backends._registered):
        backends.unregister_backend(name)


class OneKernel:
    def softmax(self, Z):
        E = np.exp(Z - Z.max(axis=1, keepdims=True))
        return E / E.sum(axis=1, keepdims=True)


def test_report_text_of_a_learners_backend():
    pn.register_backend("mine", OneKernel())
    report = pn.backend_report("mine")
    text = str(report)
    lines = text.split("\n")
    n = len(KERNELS)
    assert lines[0] == f"backend 'mine': 1 of {n} kernels its own, {n - 1} borrowed from 'numpy'"
    width = max(len(k) for k in KERNELS + FUSED)
    assert lines[1] == f"  {'matmul':<{width}}  borrowed from numpy"
    assert f"  {'softmax':<{width}}  own" in lines
    assert f"  {'dense_forward':<{width}}  default (composes the kernels above)" in lines
    assert len(lines) == 1 + len(KERNELS) + len(FUSED)
    assert repr(report) == text
    assert report.as_dict() == {"backend": "mine", "own": ["softmax"], "borrowed": [k for k in KERNELS if k != "softmax"],
                                "reference": "numpy"}


def test_report_text_of_a_builtin_backend_has_no_borrowed_clause():
    lines = str(pn.backend_report("scalar")).split("\n")
    assert lines[0] == f"backend 'scalar': {len(KERNELS)} of {len(KERNELS)} kernels its own"


def test_a_fused_kernel_of_ones_own_counts_in_the_rows_not_the_primitive_count():
    class Fused:
        def dense_forward(self, X, W, b, activation, negative_slope=0.01):
            Z = X @ W.T + b
            return Z, Z

    pn.register_backend("mine", Fused())
    report = pn.backend_report("mine")
    assert report.own == ["dense_forward"]
    assert str(report).split("\n")[0] == (f"backend 'mine': 0 of {len(KERNELS)} kernels its own, "
                                          f"{len(KERNELS)} borrowed from 'numpy'")
    assert ("dense_forward", "own") in report.rows


def test_repr_of_a_registered_backend():
    made = pn.register_backend("mine", OneKernel(), reference="scalar")
    assert repr(made) == f"<pyneuron backend 'mine': 1 kernels of its own, {len(KERNELS) - 1} from 'scalar'>"
    assert made.reference.name == "scalar" and made.name == "mine"


def test_dtypes_are_the_learners_if_declared_else_the_references():
    class Declares(OneKernel):
        dtypes = (np.float32,)

    assert pn.register_backend("mine", OneKernel(), reference="scalar").dtypes == (np.float64,)
    assert pn.register_backend("mine", OneKernel(), reference="numpy").dtypes == (np.float64, np.float32)
    assert pn.register_backend("mine", Declares(), reference="scalar").dtypes == (np.float32,)


def test_a_builtin_without_a_signature_is_taken_on_trust():
    class Trusting:
        matmul = min               # inspect.signature(min) raises: no check, still the learner's

    made = pn.register_backend("mine", Trusting())
    assert made.own == ["matmul"]
    registry.check_signature("matmul", min)            # returns quietly


def test_check_signature_lists_the_interfaces_parameters():
    def wrong(A):
        return A

    with pytest.raises(TypeError, match=r"^kernel 'matmul': expected the signature \(A, B, trans_a=False, "
                                        r"trans_b=False\), got \(A\) \(too many positional arguments\)$"):
        registry.check_signature("matmul", wrong)
    registry.check_signature("matmul", lambda A, B, trans_a=False, trans_b=False: A)
    # the built-ins' keyword-only alias alpha is not part of what pyneuron passes
    assert [p.name for p in registry._expected_parameters("dense_forward")] == \
        ["X", "W", "b", "activation", "negative_slope"]


def test_a_method_marked_abstract_is_borrowed():
    class Marked:
        def softmax(self, Z):
            raise AssertionError("never called")
        softmax.__isabstractmethod__ = True

    made = pn.register_backend("mine", Marked())
    assert "softmax" in made.borrowed and "softmax" not in made.own
    Z = np.array([[0.0, np.log(3.0)]])
    np.testing.assert_allclose(made.softmax(Z), [[0.25, 0.75]], rtol=1e-15)


def test_inherited_pyneuron_kernels_are_not_the_learners():
    class Sub(NumpyBackend):
        def softmax(self, Z):
            return NumpyBackend.softmax(self, Z)

    made = pn.register_backend("mine", Sub())
    assert made.own == ["softmax"]
    assert registry._own_kernel(Sub(), "matmul") is None
    assert registry._own_kernel(Sub(), "no_such_kernel") is None


def test_near_misses_only_among_public_callables():
    class Helpers(OneKernel):
        linear_foward = 3.0                 # close to a kernel name but not callable: ignored

        def _linear_foward(self):           # private: ignored
            return None

        def normalise(self, Z):             # a public helper far from every kernel name
            return Z

    made = pn.register_backend("mine", Helpers())
    assert made.own == ["softmax"]
    assert registry._near_misses(Helpers()) == []

    class Two(OneKernel):
        def sofmax(self, Z):
            return Z

        def adam_stepp(self, *a):
            return None

    assert sorted(registry._near_misses(Two())) == [("adam_stepp", "adam_step"), ("sofmax", "softmax")]
    with pytest.raises(ValueError, match=r"^backend 'mine': method 'adam_stepp' \(did you mean 'adam_step'\?\), "
                                         r"'sofmax' \(did you mean 'softmax'\?\) is not a kernel name"):
        pn.register_backend("mine", Two())


@pytest.mark.parametrize("bad", [None, 3, 2.5, "numpy", b"x", [1], (1,), {"softmax": 1}])
def test_make_refuses_values_that_are_not_kernel_objects(bad):
    with pytest.raises(TypeError, match=rf"^backend: expected an object with kernels \(e\.g\. a subclass of "
                                        rf"pyneuron\.backends\.Backend\), got {type(bad).__name__}$"):
        registry.make("mine", bad, backends.get("numpy"))


@pytest.mark.parametrize("bad", [3, None, "my engine", "1st", ""])
def test_check_new_name_wants_an_identifier(bad):
    with pytest.raises(ValueError, match=rf"^name: expected a backend name made of letters, digits and '_' "
                                         rf"\(e\.g\. 'mine'\), got {bad!r}$"):
        registry.check_new_name(bad)
    assert registry.check_new_name("mine_2") == "mine_2"


def test_reserved_names():
    assert registry.RESERVED == ("scalar", "numpy", "c", "all")
    with pytest.raises(ValueError, match=r"^name: 'all' is a built-in backend of pyneuron \(or the CLI's 'all'\); "
                                         r"choose another name for yours \(e\.g\. 'mine'\)$"):
        registry.check_new_name("all")


def test_an_old_slope_name_warns_at_the_callers_line():
    class Old(OneKernel):
        def activation_forward(self, name, Z, alpha=0.01):
            return NumpyBackend().activation_forward(name, Z, alpha)

        def output_gradient(self, loss, activation, A, Y, Z, alpha=0.01):
            return NumpyBackend().output_gradient(loss, activation, A, Y, Z, alpha)

    with pytest.warns(DeprecationWarning, match=r"^backend 'mine': the leaky-ReLU slope .* in "
                                                r"activation_forward, output_gradient\. ") as rec:
        made = registry.make("mine", Old(), backends.get("numpy")); line = _line()  # noqa: E702
    assert made.old_slope_name == ["activation_forward", "output_gradient"]
    assert rec[0].filename != __file__            # stacklevel 3 counts make, register_backend, the caller
    with pytest.warns(DeprecationWarning) as rec:
        pn.register_backend("mine", Old()); line = _line()  # noqa: E702
    assert rec[0].filename == __file__ and rec[0].lineno == line


def _line():
    import sys
    return sys._getframe(1).f_lineno
