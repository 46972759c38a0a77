"""pyneuron/testing.py, the conformance kit, beyond tests/test_engines_kit.py (issue 15 item
10: the mutation run of testing.py): the report's text and fields, each branch of one
comparison (which tolerance, which outputs, each way a result can be wrong), how the
candidate is named, which kernels, dtypes and edge cases a run covers, the strictness
options and the training runs. Small calls (one kernel, a few examples) so the file runs
in seconds. Expected values are built by hand: the differences are planted in known
places, the ulp distances counted with ``np.nextafter``."""
from __future__ import annotations

import math

import numpy as np
import pytest

from pyneuron import backends
from pyneuron import testing as kit
from pyneuron.backends.numpy_backend import NumpyBackend
from pyneuron.testing import ConformanceReport, KernelResult, check_backend, compare_call

NP = NumpyBackend()


# ---------------------------------------------------------------- the report
def failure(**kw):
    base = {"message": "differs from the reference", "output": 1, "index": (0, 2), "expected": 1.5,
            "actual": 2.5, "ulps": 7, "input": "(array)"}
    return {**base, **kw}


def sample_report(settings=None):
    results = [KernelResult("softmax", "", "float64", True, 5), KernelResult("softmax", "", "float32", True, 4),
               KernelResult("matmul", "trans_a=True", "float32", False, 3, failure()),
               KernelResult("matmul", "", "float64", False, 2, failure(ulps=None)),
               KernelResult("penalty", "edge: x", "float64", False, 1, {"message": "raised ValueError: no",
                                                                         "input": "(1,)"}),
               KernelResult("penalty", "", "float64", True, 6)]
    return ConformanceReport("mine", "numpy", results, settings or {})


def test_the_report_lists_failures_and_their_kernels():
    report = sample_report()
    assert not report.passed
    assert [(r.kernel, r.dtype) for r in report.failures] == [("matmul", "float32"), ("matmul", "float64"),
                                                             ("penalty", "float64")]
    assert report.failed_kernels == ["matmul", "penalty"]
    good = ConformanceReport("mine", "numpy", [KernelResult("softmax", "", "float64", True, 5)])
    assert good.passed and good.failures == [] and good.failed_kernels == []
    assert ConformanceReport("mine", "numpy").passed          # nothing checked, nothing failed
    good.raise_if_failed()                                    # no error
    with pytest.raises(AssertionError, match=r"(?s)conformance of 'mine' against 'numpy'.*FAIL  matmul"):
        report.raise_if_failed()


def test_the_reports_rows_carry_the_failure():
    rows = sample_report().as_dicts()
    assert rows[0] == {"kernel": "softmax", "variant": "", "dtype": "float64", "passed": True, "examples": 5}
    assert rows[2] == {"kernel": "matmul", "variant": "trans_a=True", "dtype": "float32", "passed": False,
                       "examples": 3, **failure()}


def test_the_reports_text():
    text = str(sample_report())
    assert text.split("\n") == [
        "conformance of 'mine' against 'numpy': 1 of 3 kernels pass",
        "  ok    softmax  (9 cases)",
        "  FAIL  matmul",
        "        [trans_a=True, float32] differs from the reference",
        "        output 1 at index (0, 2): expected 1.5, got 2.5 (7 ulps)",
        "        smallest input: (array)",
        "        [generated, float64] differs from the reference",
        "        output 1 at index (0, 2): expected 1.5, got 2.5 (no finite ulps)",
        "        smallest input: (array)",
        "  FAIL  penalty",
        "        [edge: x, float64] raised ValueError: no",
        "        smallest input: (1,)",
    ]
    settings = {"rtol": {"float64": 1e-9}, "max_dim": 12}
    assert str(sample_report(settings)).split("\n")[0] == (
        "conformance of 'mine' against 'numpy': 1 of 3 kernels pass (rtol {'float64': 1e-09}, sizes up to 12)")


# ---------------------------------------------------------------- one comparison
class Off(NumpyBackend):
    """The numpy kernels with one planted change, given per test."""

    def __init__(self, **changes):
        self.changes = changes

    def __getattribute__(self, name):
        changes = object.__getattribute__(self, "changes")
        if name in changes:
            return changes[name]
        return object.__getattribute__(self, name)


def test_agreeing_kernels_give_no_failure():
    X = np.array([[1.0, -2.0]])
    assert compare_call("softmax", NP, NP, (X,), {}) is None
    assert compare_call("sgd_step", NP, NP, (X.copy(), X.copy(), 0.1), {}, mutated=(0,)) is None


def test_a_difference_is_located_with_both_values_and_its_ulps():
    Z = np.array([[1.0, 2.0], [3.0, 4.0]])
    bump = np.nextafter(np.nextafter(np.tanh(4.0), 2.0), 2.0)          # two ulps above tanh(4)

    def tanh_off(name, Z, slope=0.01):
        A = np.tanh(Z)
        A[1, 1] = bump
        return A
    f = compare_call("activation_forward", Off(activation_forward=tanh_off), NP, ("tanh", Z, 0.01), {}, rtol=0.0)
    assert f["message"] == "differs from the reference"
    assert (f["output"], f["index"], f["expected"], f["actual"]) == (0, (1, 1), float(np.tanh(4.0)), float(bump))
    assert f["ulps"] == 2 and f["max_ulps"] == 2
    assert f["shapes"] == [(2, 2)]
    assert f["input"] == "('tanh', [[1., 2.],\n [3., 4.]], negative_slope=0.01)"
    assert compare_call("activation_forward", Off(activation_forward=tanh_off), NP, ("tanh", Z, 0.01), {},
                        rtol=1e-14) is None                        # two ulps are within 1e-14


def test_a_scalar_result_has_no_index_and_the_second_output_is_named():
    f = compare_call("penalty", Off(penalty=lambda W, l1, l2, m: 2.0), NP, (np.ones((1, 1)), 0.0, 2.0, 1), {})
    assert (f["output"], f["index"], f["expected"], f["actual"]) == (0, (), 1.0, 2.0)

    def backward_off(dZ, X, W):
        dX, dW, db = NP.linear_backward(dZ, X, W)
        return dX, dW, db + 1.0
    args = (np.ones((2, 1)), np.ones((2, 3)), np.ones((1, 3)))
    f = compare_call("linear_backward", Off(linear_backward=backward_off), NP, args, {})
    assert f["output"] == 2 and f["index"] == (0,) and (f["expected"], f["actual"]) == (2.0, 3.0)
    assert f["shapes"] == [(2, 1), (2, 3), (1, 3)]


def test_the_updated_arguments_are_the_outputs_of_a_step():
    p, g = np.array([[1.0, 2.0]]), np.array([[0.5, -0.5]])

    def sgd_off(param, grad, lr):
        param -= lr * grad
        param[0, 1] += 1.0
        return None
    f = compare_call("sgd_step", Off(sgd_step=sgd_off), NP, (p, g, 0.1), {}, mutated=(0,))
    assert (f["output"], f["index"], f["expected"], f["actual"]) == (0, (0, 1), 2.05, 3.05)
    assert p.tolist() == [[1.0, 2.0]]                            # the caller's arrays are copied
    # a step that writes its gradient, which is not among its outputs
    f = compare_call("sgd_step", Off(sgd_step=lambda param, grad, lr: grad.fill(0)), NP, (p, g, 0.1), {},
                     mutated=(0,))
    assert f["message"] == "changed its input argument 1 (a kernel must not write to its inputs)"


def test_a_kernel_returning_too_few_values_or_another_shape_or_dtype_fails():
    args = (np.ones((2, 1)), np.ones((2, 3)), np.ones((1, 3)))
    f = compare_call("linear_backward", Off(linear_backward=lambda dZ, X, W: NP.linear_backward(dZ, X, W)[:2]),
                     NP, args, {})
    assert f["message"] == "returned 2 values, expected 3"
    f = compare_call("softmax", Off(softmax=lambda Z: NP.softmax(Z).T), NP, (np.ones((2, 3)),), {})
    assert f["message"] == "output 0 has shape (3, 2), expected (2, 3)"
    f = compare_call("softmax", Off(softmax=lambda Z: NP.softmax(Z).astype(np.float64)), NP,
                     (np.ones((1, 3), np.float32),), {})
    assert f["message"] == "output 0 is float64, expected float32 (the input's dtype)"
    f = compare_call("softmax", Off(softmax=lambda Z: 1 / 0), NP, (np.ones((1, 3)),), {})
    assert f == {"message": "raised ZeroDivisionError: division by zero", "input": "([[1., 1., 1.]])",
                 "shapes": [(1, 3)]}


def test_the_default_tolerance_is_the_inputs_dtypes():
    def scaled(factor):
        return Off(softmax=lambda Z: NP.softmax(Z) * Z.dtype.type(factor))
    Z64, Z32 = np.array([[0.0, 1.0]]), np.array([[0.0, 1.0]], np.float32)
    assert compare_call("softmax", scaled(1 + 1e-10), NP, (Z64,), {}) is None          # within 1e-9
    assert compare_call("softmax", scaled(1 + 1e-8), NP, (Z64,), {}) is not None
    assert compare_call("softmax", scaled(1 + 1e-4), NP, (Z32,), {}) is None           # within 2e-4
    assert compare_call("softmax", scaled(1 + 1e-3), NP, (Z32,), {}) is not None
    assert kit.RTOL == {np.dtype(np.float64): 1e-9, np.dtype(np.float32): 2e-4}
    # no array among the arguments (W a Python float): float64's tolerance
    def penalty_times(factor):
        return Off(penalty=lambda W, l1, l2, m: NP.penalty(W, l1, l2, m) * factor)
    assert compare_call("penalty", penalty_times(1 + 1e-10), NP, (3.0, 0.0, 1.0, 1), {}) is None
    f = compare_call("penalty", penalty_times(1 + 1e-8), NP, (3.0, 0.0, 1.0, 1), {})
    assert f is not None and f["expected"] == 4.5                    # 1/(2·1) · 3²


def test_term_sizes_add_an_absolute_tolerance_per_output():
    X, W, b = np.array([[1e6, -1e6]]), np.array([[1.0, 1.0]]), np.array([0.0])     # the sum cancels to 0

    def off_by(delta):
        return Off(linear_forward=lambda X, W, b: NP.linear_forward(X, W, b) + delta)
    terms = lambda args, kwargs: [2e6]                   # noqa: E731  (Σ|x w| = 2e6)
    assert compare_call("linear_forward", off_by(1e-4), NP, (X, W, b), {}, terms=terms) is None   # < 1e-9 · 2e6
    assert compare_call("linear_forward", off_by(1e-2), NP, (X, W, b), {}, terms=terms) is not None
    assert compare_call("linear_forward", off_by(1e-4), NP, (X, W, b), {}) is not None              # no terms
    assert compare_call("linear_forward", off_by(1e-4), NP, (X, W, b), {},
                        terms=lambda a, k: [None]) is not None
    assert compare_call("linear_forward", off_by(1e-4), NP, (X, W, b), {},
                        terms=lambda a, k: []) is not None                          # a missing size: none


def test_nan_in_both_agrees_and_nan_in_one_does_not():
    nan_soft = Off(softmax=lambda Z: np.full(Z.shape, np.nan))
    assert compare_call("softmax", nan_soft, nan_soft, (np.ones((1, 2)),), {}) is None
    f = compare_call("softmax", nan_soft, NP, (np.ones((1, 2)),), {})
    assert f["ulps"] is None and f["actual"] != f["actual"]


def test_the_slope_is_shown_by_name_only_where_it_is_a_kernels_slope():
    Z = np.array([[0.5]])
    assert kit._show(("leaky_relu", Z, 0.2), {}, "activation_forward") == "('leaky_relu', [[0.5]], negative_slope=0.2)"
    assert kit._show(("leaky_relu", Z), {}, "activation_forward") == "('leaky_relu', [[0.5]])"   # not given
    assert kit._show((Z, 0.2), {"trans_a": True}, "matmul") == "([[0.5]], 0.2, trans_a=True)"
    # 17 digits after the point: 0.0012345678901234567 keeps 15 of its 17 significant digits
    assert kit._show((np.array([[0.0012345678901234567]]),), {}) == "([[0.00123456789012346]])"


def test_outputs():
    a, b = np.ones(2), np.zeros(2)
    assert [x.tolist() for x in kit._outputs((a, b), [a, b, 3], ())] == [[1.0, 1.0], [0.0, 0.0]]
    assert [x.tolist() for x in kit._outputs(None, [a, b, 3], (1,))] == [[0.0, 0.0]]
    assert [x.tolist() for x in kit._outputs(2.5, [], ())] == [2.5]


# ---------------------------------------------------------------- the candidate's name
def test_the_candidate_is_named_by_its_name_or_its_class():
    name, cand, ref = kit._resolve("numpy", "scalar")
    assert (name, cand, ref.name) == ("numpy", backends.get("numpy"), "scalar")

    class Mine(NumpyBackend):
        name = "mine"

    class Unnamed:
        def softmax(self, Z):
            return NP.softmax(Z)
    for obj, expected in ((Mine(), "mine"), (NumpyBackend(), "NumpyBackend"), (Unnamed(), "Unnamed")):
        name, cand, ref = kit._resolve(obj, "numpy")
        assert name == expected and ref is backends.get("numpy")
        assert cand.name == "candidate"                      # wrapped for the run, under a neutral name
        assert cand.own == (["softmax"] if type(obj) is Unnamed else [])      # inherited kernels are borrowed
    for bad in ("abstract", "all", 3):
        obj = Mine()
        obj.name = bad
        assert kit._resolve(obj, "numpy")[0] == "Mine"
    registered = backends.registry.make("mine2", Unnamed(), backends.get("numpy"))
    name, cand, _ = kit._resolve(registered, "numpy")
    assert name == "mine2" and cand is registered


def test_has_own_kernel():
    class Mine(NumpyBackend):
        def dense_forward(self, *a):
            return NP.dense_forward(*a)
    assert kit.has_own_kernel(Mine(), "dense_forward")
    assert not kit.has_own_kernel(Mine(), "dense_backward")          # the interface's default
    assert kit.has_own_kernel(NumpyBackend(), "softmax")
    registered = backends.registry.make("mine3", Mine(), backends.get("numpy"))
    assert kit.has_own_kernel(registered, "dense_forward")
    assert not kit.has_own_kernel(registered, "softmax")              # inherited from pyneuron: borrowed


# ---------------------------------------------------------------- what a run covers
def test_a_run_checks_each_variant_in_each_common_dtype_with_its_examples():
    report = check_backend("numpy", kernels="matmul", training=False, max_examples=3)
    assert [(r.kernel, r.variant, r.dtype, r.examples) for r in report.results] == [
        ("matmul", v, d, 3) for v in ("trans_a=False, trans_b=False", "trans_a=True, trans_b=False",
                                      "trans_a=False, trans_b=True") for d in ("float64", "float32")]
    assert report.passed and report.backend == "numpy" and report.reference == "numpy"
    assert report.settings == {"rtol": {"float64": 1e-9, "float32": 2e-4}, "max_dim": 7, "max_examples": 3}


def test_edge_cases_run_for_the_checked_kernels_in_float64_only():
    report = check_backend("numpy", kernels=["softmax", "batchnorm_forward"], training=False, max_examples=1)
    assert [r.variant for r in report.results if r.variant.startswith("edge")] == [
        "edge: rows with a huge offset", "edge: one sample"]
    assert all(r.dtype == "float64" and r.examples == 1 and r.passed for r in report.results
               if r.variant.startswith("edge"))
    only32 = check_backend("numpy", kernels=["softmax"], training=False, max_examples=1, dtypes=["float32"])
    assert [r.variant for r in only32.results] == [""] and only32.results[0].dtype == "float32"


def test_every_kernel_is_checked_and_a_fused_one_only_when_the_backend_has_its_own():
    class Plain:
        def dense_forward(self, X, W, b, activation, negative_slope=0.01):
            return NP.dense_forward(X, W, b, activation, negative_slope)
    report = check_backend(Plain(), max_examples=1, training=False, dtypes=["float64"])
    assert {r.kernel for r in report.results} == set(kit.kernel_cases()) | {"dense_forward"}
    assert report.passed


def test_the_generated_values_reach_the_kits_big_per_dtype():
    calls = []

    class Spy(NumpyBackend):
        def softmax(self, Z):
            calls.append((Z.dtype.name, float(np.abs(Z).max())))
            return super().softmax(Z)
    check_backend(Spy(), kernels=["softmax"], training=False, max_examples=20)
    assert calls[-1] == ("float64", 1000.0)                                   # the edge case, last
    for dtype, big in (("float64", 700.0), ("float32", 80.0)):
        assert max(top for d, top in calls[:-1] if d == dtype) == big
    assert kit.BIG == {np.dtype(np.float64): 700.0, np.dtype(np.float32): 80.0}


def test_the_seed_chooses_the_generated_values():
    def inputs(seed):
        got = []

        class Spy(NumpyBackend):
            def softmax(self, Z):
                got.append(Z.copy())
                return super().softmax(Z)
        check_backend(Spy(), kernels=["softmax"], training=False, max_examples=4, dtypes=["float64"], seed=seed)
        return got
    a, b, c = inputs(0), inputs(0), inputs(1)
    assert len(a) == 5 and all(np.array_equal(x, y) for x, y in zip(a, b))      # 4 generated, 1 edge
    assert not all(x.shape == y.shape and np.array_equal(x, y) for x, y in zip(a[:4], c[:4]))


def test_a_failing_kernel_reports_its_smallest_case():
    class Bad(NumpyBackend):
        def softmax(self, Z):
            return NP.softmax(Z) + (Z.shape[0] > 2)                            # wrong from 3 rows on
    bad = Bad()
    report = check_backend(bad, kernels=["softmax"], training=False, max_examples=30, dtypes=["float64"])
    f = report.results[0].failure
    assert not report.results[0].passed and f["shapes"] == [(3, 1)]           # shrunk to 3 rows of 1
    # and to the drawn integer 0: the report shows the last, smallest failure
    build = kit.kernel_cases()["softmax"][0][1]
    args, _ = build(np.random.default_rng([0, 0]), (3, 1, 1), np.float64, 700.0)
    assert f["input"] == kit._show(args, {}, "softmax")
    assert report.results[0].examples > 1
    assert report.results[1].passed                                          # the 2-row edge case


def test_the_arguments_and_strictness_are_checked():
    for arg in ("max_examples", "max_dim"):
        for bad in (True, 0, 1.5):
            with pytest.raises(ValueError, match=f"{arg}: expected an int >= 1, got {bad!r}"):
                check_backend("numpy", **{arg: bad})
    assert check_backend("numpy", kernels=[], training=False, max_examples=1, max_dim=1).results == []
    with pytest.raises(ValueError, match=r"ulps: expected an int >= 0, got True"):
        kit._tolerances(None, True)
    with pytest.raises(ValueError, match=r"ulps: expected an int >= 0, got 1.5"):
        kit._tolerances(None, 1.5)
    assert kit._tolerances(None, np.int64(2)) == {np.dtype(np.float64): 2 * 2.0 ** -52,
                                                  np.dtype(np.float32): 2 * 2.0 ** -23}
    assert kit._tolerances(None, None) == kit.RTOL and kit._tolerances(None, None) is not kit.RTOL
    assert kit._tolerances(1, None) == {np.dtype(np.float64): 1.0, np.dtype(np.float32): 1.0}
    assert kit._tolerances(0, None) == {np.dtype(np.float64): 0.0, np.dtype(np.float32): 0.0}
    for bad in (True, "1e-9", math.nan, -1):
        with pytest.raises(ValueError, match="rtol: expected a float >= 0"):
            kit._tolerances(bad, None)
    with pytest.raises(ValueError, match=r"dtypes: expected float64 or float32, got 'float16'"):
        kit._dtypes(["float32", "float16"])
    assert kit._dtypes(["float32", np.float64]) == [np.dtype(np.float32), np.dtype(np.float64)]


# ---------------------------------------------------------------- the training runs
def test_the_training_runs_cover_each_run_and_dtype_and_clean_up():
    before = backends.names()
    results = kit.training_runs("cand", NumpyBackend(), backends.get("numpy"),
                                [np.dtype(np.float64), np.dtype(np.float32)], epochs=1)
    assert [(r.kernel, r.variant, r.dtype, r.passed, r.examples) for r in results] == [
        ("training", title, d, True, 1) for title, _, _ in kit.RUNS for d in ("float64", "float32")]
    assert backends.names() == before and "_conformance_candidate" not in backends._registered


def test_a_training_run_that_ends_elsewhere_names_the_weights():
    class Slower(NumpyBackend):
        def sgd_step(self, param, grad, lr):
            param -= 0.5 * lr * grad
    results = kit.training_runs("slow", Slower(), backends.get("numpy"), [np.dtype(np.float64)], epochs=2)
    first = results[0]                                   # "sgd, sigmoid + bce": SGD steps all its weights
    f = first.failure
    assert not first.passed and f["message"] == "after 2 epochs, weights layer0/W differ"
    assert f["output"] == "layer0/W" and f["input"] == kit.RUNS[0][0]
    assert f["expected"] != f["actual"] and f["ulps"] > 0
    assert len(f["index"]) == 2


def test_a_training_run_that_raises_is_reported():
    class Broken(NumpyBackend):
        def adam_step(self, *args, **kwargs):
            raise RuntimeError("no adam")
    results = kit.training_runs("broken", Broken(), backends.get("numpy"), [np.dtype(np.float64)])
    bad = [r for r in results if not r.passed]
    assert [r.variant for r in bad] == [t for t, _, fit in kit.RUNS if fit["optimizer"] == "adam"]
    assert bad[0].failure == {"message": "raised RuntimeError: no adam", "input": bad[0].variant}
    assert bad[0].examples == 1


def test_the_weights_tolerance_is_a_thousand_times_rtol():
    class Nudged(NumpyBackend):
        def sgd_step(self, param, grad, lr):
            param -= lr * grad
            param *= 1 + 1e-5
    runs = lambda rtol: kit.training_runs("nudged", Nudged(), backends.get("numpy"),      # noqa: E731
                                          [np.dtype(np.float64)], epochs=1, rtol=rtol)
    assert runs({np.dtype(np.float64): 1e-9})[0].passed is False      # ~3 steps of 1e-5 > 1000 · 1e-9
    assert runs({np.dtype(np.float64): 1e-5})[0].passed is True       # < 1000 · 1e-5


def test_an_unknown_dtype_name_is_refused_by_name():
    with pytest.raises(ValueError, match=r"dtypes: expected float64 or float32, got 'no-such-type'"):
        kit._dtypes(["no-such-type"])


def test_a_result_defaults_to_no_examples_and_no_failure():
    r = KernelResult("softmax", "", "float64", True)
    assert r.examples == 0 and r.failure is None


def test_an_unchanged_nan_input_is_not_a_write():
    Z = np.array([[np.nan, 1.0]])
    assert compare_call("softmax", NP, NP, (Z,), {}) is None


def test_a_result_that_should_be_zero_is_held_to_zero_without_term_sizes():
    # no term sizes: the absolute tolerance is rtol × 1e-300, so 1e-12 where 0 belongs fails
    off = Off(output_delta=lambda A, Y, n: (A - Y) / n + 1e-12)
    args = (np.array([[0.5]]), np.array([[0.5]]), 1)
    f = compare_call("output_delta", off, NP, args, {})
    assert f is not None and (f["expected"], f["actual"]) == (0.0, 1e-12)
    assert compare_call("output_delta", off, NP, args, {}, terms=lambda a, k: [0.0]) is not None   # size 0: none
    assert compare_call("output_delta", off, NP, args, {}, terms=lambda a, k: [1e-2]) is None      # 1e-9 · 1e-2


def test_integer_results_are_compared_and_their_distance_counted_as_float64():
    ints = lambda value: Off(penalty=lambda W, l1, l2, m: np.array([value]))      # noqa: E731
    f = compare_call("penalty", ints(5), ints(3), (np.ones((1, 1)), 0.0, 1.0, 1), {})
    assert (f["expected"], f["actual"]) == (3, 5)
    # 3 → 4 in steps of 2^-51, 4 → 5 in steps of 2^-50 (float64)
    assert f["ulps"] == 2 ** 51 + 2 ** 50 == f["max_ulps"]
    assert compare_call("penalty", ints(3), ints(3), (np.ones((1, 1)), 0.0, 1.0, 1), {}) is None


def test_the_dtypes_are_those_both_backends_list():
    class Only32(NumpyBackend):
        dtypes = (np.float32,)

        def softmax(self, Z):
            return super().softmax(Z)

    class With16(Only32):
        dtypes = (np.float16, np.float64)
    r32 = check_backend(Only32(), kernels=["softmax"], training=False, max_examples=1)
    assert [r.dtype for r in r32.results] == ["float32"]
    r16 = check_backend(With16(), kernels=["softmax"], training=False, max_examples=1)
    assert {r.dtype for r in r16.results} == {"float64"}                  # float16: the kit cannot check it
    scalar_ref = check_backend("numpy", reference="scalar", kernels=["softmax"], training=False, max_examples=1)
    assert {r.dtype for r in scalar_ref.results} == {"float64"}           # the scalar reference: float64 only


def test_an_error_that_is_not_a_kernels_failure_propagates(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the kit itself broke")
    monkeypatch.setattr(kit, "compare_call", broken)
    with pytest.raises(RuntimeError, match="the kit itself broke"):     # matmul: no edge case after it
        check_backend("numpy", kernels=["matmul"], training=False, max_examples=1)


def fits_seen(monkeypatch):
    """Record each ``MLP.fit`` the training runs make: (model, X, kwargs)."""
    import pyneuron as pn
    seen = []
    original = pn.MLP.fit

    def fit(self, X, y, **kwargs):
        out = original(self, X, y, **kwargs)
        seen.append((self, X, kwargs, y))
        return out
    monkeypatch.setattr(pn.MLP, "fit", fit)
    return seen


def test_each_training_run_is_short_and_learns(monkeypatch):
    # a run that diverged or stalled would compare noise: each must lower its loss
    seen = fits_seen(monkeypatch)
    kit.training_runs("numpy", NP, backends.get("numpy"), [np.dtype(np.float64)])
    assert len(seen) == 2 * len(kit.RUNS)                       # the candidate and the reference
    for (title, arch, fit), pair in zip(kit.RUNS, zip(seen[::2], seen[1::2])):
        for model, X, kwargs, y in pair:
            if arch["output"] == "softmax":                      # every class among the labels
                assert set(np.unique(y)) == set(range(arch["sizes"][-1])), title
            elif arch["output"] == "sigmoid":                    # both labels, about half each
                assert 0.25 < np.mean(y) < 0.75, title
            loss = model.history.history["loss"]
            assert len(loss) == 3 and all(a > b for a, b in zip(loss, loss[1:])), title   # 3 epochs, each lower
            assert X.shape == (24, 3) and model.layer_sizes == arch["sizes"]
    optimizers = {fit["optimizer"] for _, _, fit in kit.RUNS}
    outputs = {arch["output"] for _, arch, _ in kit.RUNS}
    assert optimizers == {"sgd", "momentum", "adam"} and outputs == {"sigmoid", "softmax", "linear"}
    assert any(arch.get("batch_norm") and arch.get("dropout") for _, arch, _ in kit.RUNS)


def test_the_weights_tolerance_is_exactly_a_thousand_times_rtol(monkeypatch):
    class Nudged(NumpyBackend):
        def sgd_step(self, param, grad, lr):
            param -= lr * grad
            param *= 1 + 1e-5
    seen = fits_seen(monkeypatch)
    kit.training_runs("nudged", Nudged(), backends.get("numpy"), [np.dtype(np.float64)])
    got, ref = seen[0][0], seen[1][0]                          # the first run: SGD on every weight
    # np.isclose(a, b, rtol=T, atol=T) holds where |a − b| <= T (1 + |b|): the run passes from T = D on
    D = max(float(np.max(np.abs(a - b) / (1 + np.abs(b)))) for a, b in zip(got.get_weights(), ref.get_weights()))
    assert D > 0
    for factor, passed in ((1 - 1e-6, False), (1 + 1e-6, True)):
        result = kit.training_runs("nudged", Nudged(), backends.get("numpy"), [np.dtype(np.float64)],
                                   rtol={np.dtype(np.float64): D / 1000 * factor})[0]
        assert result.passed is passed


def test_each_generated_case_seeds_its_own_generator_from_the_run_seed_and_a_drawn_integer(monkeypatch):
    seeds = []
    default_rng = np.random.default_rng

    def spy(seed=None):
        if isinstance(seed, list):
            seeds.append(seed)
        return default_rng(seed)
    monkeypatch.setattr(np.random, "default_rng", spy)
    check_backend("numpy", kernels=["softmax"], training=False, max_examples=20, dtypes=["float64"], seed=5)
    assert len(seeds) == 20 and all(len(s) == 2 and s[0] == 5 for s in seeds)
    drawn = [s[1] for s in seeds]
    assert min(drawn) == 0 and max(drawn) > 2 ** 16 and all(0 <= s < 2 ** 32 for s in drawn)


def test_a_registered_name_trains_its_registered_backend_and_another_name_the_object_given():
    class Slower(NumpyBackend):
        def sgd_step(self, param, grad, lr):
            param -= 0.5 * lr * grad
    ref, f64 = backends.get("numpy"), [np.dtype(np.float64)]
    assert kit.training_runs("numpy", Slower(), ref, f64)[0].passed          # "numpy" is the registered one
    assert not kit.training_runs("slower", Slower(), ref, f64)[0].passed     # the object itself


def test_a_training_failure_names_the_first_weight_that_differs(monkeypatch):
    class Slower(NumpyBackend):
        def sgd_step(self, param, grad, lr):
            param -= 0.5 * lr * grad
    seen = fits_seen(monkeypatch)
    f = kit.training_runs("slow", Slower(), backends.get("numpy"), [np.dtype(np.float64)])[0].failure
    got, ref = seen[0][0].layers[0].W, seen[1][0].layers[0].W
    T = 1000 * kit.RTOL[np.dtype(np.float64)]
    first = next(i for i in np.ndindex(got.shape) if abs(got[i] - ref[i]) > T * (1 + abs(ref[i])))
    assert f["index"] == first and (f["expected"], f["actual"]) == (ref[first], got[first])


def test_the_defaults_are_twenty_examples_from_seed_0(monkeypatch):
    seeds = []
    default_rng = np.random.default_rng
    monkeypatch.setattr(np.random, "default_rng",
                        lambda seed=None: (seeds.append(seed) if isinstance(seed, list) else None) or default_rng(seed))
    report = check_backend("numpy", kernels=["softmax"], training=False, dtypes=["float64"])
    assert report.settings["max_examples"] == 20 and report.results[0].examples == 20
    assert len(seeds) == 20 and {s[0] for s in seeds} == {0}


# ---------------------------------------------------------------- the kit's workload
# What a learner's backend is held to is part of the kit's promise: these runs, this data, any 32-bit case
# seed. A change to them is deliberate, so it is made here too (the values are written out, not read back).
WORKLOAD = [
    ([3, 5, 1], dict(activation="tanh", output="sigmoid"), dict(optimizer="sgd", lr=0.5)),
    ([3, 6, 4, 3], dict(activation="relu", output="softmax", batch_norm=True, dropout=0.2),
     dict(optimizer="adam", lr=0.01)),
    ([3, 4, 2], dict(activation="leaky_relu", output="linear", loss="mse"), dict(optimizer="momentum", lr=0.05, l2=0.1)),
    ([3, 5, 2], dict(activation="sigmoid", output="linear", loss="mse"), dict(optimizer="adam", lr=0.01)),
    ([3, 6, 5, 3], dict(activation=["relu", "tanh"], output="softmax"), dict(optimizer="sgd", lr=0.1)),
]


def test_the_training_runs_are_the_documented_workload(monkeypatch):
    import pyneuron
    made, fits = [], []

    class Recording(pyneuron.MLP):
        def __init__(self, sizes, **kw):
            made.append((list(sizes), {k: v for k, v in kw.items() if k not in ("seed", "backend", "dtype")},
                         kw["seed"], kw["dtype"]))
            super().__init__(sizes, **kw)

        def fit(self, X, y, **kw):
            fits.append((np.array(X), np.array(y), kw))
            return super().fit(X, y, **kw)

    monkeypatch.setattr(pyneuron, "MLP", Recording)
    kit.training_runs("numpy", NP, backends.get("numpy"), [np.dtype(np.float64)], epochs=1)
    rng = np.random.default_rng(7)
    X = rng.standard_normal((24, 3))
    assert len(made) == len(fits) == 2 * len(WORKLOAD)
    for i, (sizes, arch, fit) in enumerate(WORKLOAD):
        y = (rng.integers(0, sizes[-1], 24) if arch["output"] == "softmax"
             else (X[:, :sizes[-1]] > 0).astype(int) if arch["output"] == "sigmoid" else X[:, :sizes[-1]] / 2)
        for j in (2 * i, 2 * i + 1):                      # the candidate's model, then the reference's
            assert made[j] == (sizes, arch, 3, "float64")
            np.testing.assert_array_equal(fits[j][0], X)
            np.testing.assert_array_equal(fits[j][1], y)
            assert fits[j][2] == dict(epochs=1, batch_size=8, **fit)


def test_each_case_seed_is_drawn_from_every_32_bit_integer(monkeypatch):
    from hypothesis import strategies as st
    bounds, real = [], st.integers

    def recording(lo=None, hi=None):
        bounds.append((lo, hi))
        return real(lo, hi)

    monkeypatch.setattr(st, "integers", recording)
    check_backend("numpy", kernels="softmax", training=False, max_examples=1, dtypes=["float64"])
    assert (0, 4294967295) in bounds
