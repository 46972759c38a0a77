"""The conformance kit (issue 12, item 2): pyneuron's own backends pass it; each planted
mistake of a learner's kind is caught in its kernel and nowhere else, with the smallest
failing input, both values and their ulp distance.

Oracles: the planted mistakes are known by construction (tests/engines_planted.py); the
ulp distances are checked against numpy.nextafter and the float formats' bit layouts."""
from __future__ import annotations

import math

import numpy as np
import pytest

from pyneuron.backends.registry import KERNELS
from pyneuron.testing import check_backend, compare_call
from pyneuron.ulps import max_ulp_distance, ulp_distance

from engines_planted import KIT_FAILS, PLANTED
from helpers import require_backend


# numpy and c against scalar at the project's strict settings: tests/test_differential.py
@pytest.mark.parametrize("name, reference", [("scalar", "numpy"), ("c", "numpy")])
def test_pyneurons_backends_pass(name, reference):
    require_backend(name)
    report = check_backend(name, reference=reference, max_examples=5)
    report.raise_if_failed()
    kernels = {r.kernel for r in report.results}
    own_fused = {"scalar": {"scale_rows"}, "c": {"dense_forward", "sample_losses"}}[name]
    assert kernels == set(KERNELS) | {"training"} | own_fused      # a default composition is checked by its parts
    assert all(r.examples >= 1 for r in report.results)


@pytest.mark.parametrize("bug", sorted(PLANTED))
def test_each_planted_mistake_is_caught_in_its_kernel_only(bug):
    backend, _, _ = PLANTED[bug]
    report = check_backend(backend, max_examples=3, training=False, dtypes=["float64"])
    assert not report.passed
    assert set(report.failed_kernels) == KIT_FAILS[bug]
    assert report.backend == type(backend).__name__
    text = str(report)
    for kernel in KIT_FAILS[bug]:
        assert f"FAIL  {kernel}" in text


def test_sign_mistake_report_shows_both_values_and_the_smallest_input():
    report = check_backend(PLANTED["sign"][0], max_examples=5, training=False, kernels=["activation_backward"])
    f = next(r.failure for r in report.failures if r.dtype == "float64")
    assert f["actual"] == -f["expected"] != 0.0        # only the sign differs
    assert f["shapes"] == [(1, 1), (1, 1), (1, 1)]     # shrunk to one sample, one unit
    a, g = np.float64(f["expected"]), np.float64(f["actual"])
    assert f["ulps"] == ulp_distance(a, g).item() > 2 ** 62


def test_off_by_one_is_shrunk_to_the_smallest_batch():
    report = check_backend(PLANTED["off_by_one"][0], max_examples=5, training=False, kernels=["linear_backward"])
    f = next(r.failure for r in report.failures if r.dtype == "float64")
    assert f["output"] == 2 and f["actual"] == 0.0    # db of a one-row batch: the loop never ran
    assert f["shapes"][0][0] == 1


def test_training_runs_catch_a_mistake_too():
    report = check_backend(PLANTED["sign"][0], max_examples=2, kernels=[])
    assert report.failed_kernels == ["training"]


def test_a_kernel_that_writes_to_its_input_fails():
    from pyneuron.backends.numpy_backend import NumpyBackend

    class InPlace(NumpyBackend):
        def activation_forward(self, name, Z, negative_slope=0.01):
            if name == "relu":
                np.maximum(Z, 0, out=Z)
                return Z
            return super().activation_forward(name, Z, negative_slope)

    ref = NumpyBackend()
    Z = np.array([[-1.0, 2.0]])
    failure = compare_call("activation_forward", InPlace(), ref, ("relu", Z), {})
    assert "changed its input argument 1" in failure["message"]
    assert Z[0, 0] == -1.0                             # the caller's array was not touched


def test_a_kernel_that_raises_is_reported_not_crashed():
    class Broken:
        def softmax(self, Z):
            raise IndexError("list index out of range")

    report = check_backend(Broken(), max_examples=2, training=False)
    assert report.failed_kernels == ["softmax"]
    assert "raised IndexError: list index out of range" in str(report)


def test_a_float32_result_for_float64_input_fails():
    from pyneuron.backends.numpy_backend import NumpyBackend

    class Narrow(NumpyBackend):
        def output_delta(self, A, Y, n_terms):
            return ((A - Y) / n_terms).astype(np.float32)

    failure = compare_call("output_delta", Narrow(), NumpyBackend(), (np.ones((1, 1)), np.zeros((1, 1)), 1), {})
    assert failure["message"] == "output 0 is float32, expected float64 (the input's dtype)"


def test_bad_arguments():
    with pytest.raises(ValueError, match="max_examples: expected an int >= 1, got 0"):
        check_backend("numpy", max_examples=0)
    with pytest.raises(ValueError, match="backend: expected one of"):
        check_backend("gpu")
    with pytest.raises(ValueError, match="max_dim: expected an int >= 1, got 0"):
        check_backend("numpy", max_dim=0)
    with pytest.raises(ValueError, match="rtol, ulps: expected one of them"):
        check_backend("numpy", rtol=1e-12, ulps=4)
    with pytest.raises(ValueError, match="ulps: expected an int >= 0, got -1"):
        check_backend("numpy", ulps=-1)
    with pytest.raises(ValueError, match="rtol: expected a float >= 0 .*got -1e-12"):
        check_backend("numpy", rtol=-1e-12)
    with pytest.raises(ValueError, match="dtypes: expected float64 or float32, got 'float16'"):
        check_backend("numpy", dtypes=["float16"])
    with pytest.raises(ValueError, match="dtypes: expected float64 or float32, got 'float16'"):
        check_backend("numpy", rtol={"float16": 1e-3})
    with pytest.raises(ValueError, match=r"kernels: expected names among matmul, .*got \['matmull'\]"):
        check_backend("numpy", kernels=["matmull"])


def test_strictness_options_are_applied():
    report = check_backend("numpy", reference="scalar", ulps=4, kernels=["softmax"], training=False,
                           max_examples=3, max_dim=40, dtypes=["float64"])
    assert report.settings["rtol"]["float64"] == 4 * 2.0 ** -52       # 4 × float64's machine epsilon
    assert report.settings["max_dim"] == 40
    assert {r.kernel for r in report.results} == {"softmax"} and {r.dtype for r in report.results} == {"float64"}
    assert "sizes up to 40" in str(report)
    partial = check_backend("numpy", rtol={"float32": 1e-3}, kernels=[], training=False)
    assert partial.settings["rtol"] == {"float64": 1e-9, "float32": 1e-3} and partial.results == []


def test_ulp_distance_against_the_formats():
    one = np.float64(1.0)
    assert ulp_distance(one, np.nextafter(one, 2.0)) == 1
    assert ulp_distance(0.0, -0.0) == 0
    tiny = np.nextafter(0.0, 1.0)                      # the smallest subnormal
    assert ulp_distance(-tiny, tiny) == 2
    assert ulp_distance(np.float32(1.0), np.float32(2.0)) == 2 ** 23     # one binade of float32
    assert ulp_distance(1.0, 2.0) == 2 ** 52
    assert ulp_distance(np.inf, np.finfo(np.float64).max) == 1
    d = ulp_distance([math.nan, 1.0, 1.0], [1.0, math.nan, 1.0])
    assert d.tolist() == [None, None, 0]
    assert max_ulp_distance([1.0, 2.0], [1.0, np.nextafter(2.0, 3.0)]) == 1
    with pytest.raises(ValueError, match="dtype: expected float32 or float64, got int64"):
        ulp_distance(1, 2, dtype=np.int64)


@pytest.mark.parametrize("max_dim, sizes", [(1, {1}), (2, {1, 2}), (7, set(range(1, 8))), (8, set(range(1, 9))),
                                            (9, set(range(1, 10)))])
def test_generated_sizes_reach_every_size_up_to_max_dim(max_dim, sizes):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from pyneuron.testing import _sizes
    seen = set()

    @settings(max_examples=300, derandomize=True, database=None)
    @given(_sizes(st, max_dim))
    def draw(n):
        seen.add(n)

    draw()
    assert seen == sizes


def test_zero_tolerance_is_exact_agreement():
    """rtol=0 or ulps=0 asks for bit-equal results (numpy's dropout against itself: they are)."""
    for kw in (dict(rtol=0.0), dict(ulps=0)):
        report = check_backend("numpy", kernels=["dropout_forward"], training=False, max_examples=3, **kw)
        assert report.passed and report.settings["rtol"] == {"float64": 0.0, "float32": 0.0}
