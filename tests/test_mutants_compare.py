"""pyneuron.compare on its own parts (issue 15 item 10: the mutation run of pyneuron/compare.py):
the report's text, the tolerance of ``_differs`` (the term scale, the floor of the absolute
tolerance, NaN = NaN), the search through nested records (a kernel that changed, one that
raised, where a composed kernel's parts end), the narrower dtype, ``compare_backends``'
defaults (steps, lr, l2, the per-operation path, a float32 model kept float32), the growth
table against an offset planted by hand, and ``pyneuron compare``'s options and how it builds
its model.

Oracles: hand-written reports and records, hand-computed tolerances, the planted offset."""
from __future__ import annotations

import argparse
import math

import numpy as np
import pytest

import pyneuron as pn
from pyneuron import backends, compare
from pyneuron.backends.numpy_backend import NumpyBackend
from pyneuron.compare import Comparison, Divergence, _differs, _first_difference, _narrower, _term_scale
from pyneuron.compare import compare_backends

from helpers import require_backend


def _data(m=8):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(m, 3))
    return X, (X[:, 0] > 0).astype(int)


def _is_mismatch(out, output=0):
    """``out`` is the 'not comparable' answer (output, (), nan, nan, None)."""
    return (out[0] == output and out[1] == () and math.isnan(out[2]) and math.isnan(out[3])
            and out[4] is None)


# ------------------------------------------------------------------ the report
def test_report_text_of_a_divergence_without_finite_ulps_and_its_growth():
    d = Divergence("b", "a", 2, 1, "W", "linear_backward", 1, (0, 2), 1.5, 2.5, None, True, 7,
                   error="ValueError: x")
    c = Comparison("a", ["a", "b"], 3, 1e-10, divergences={"b": d},
                   growth={"b": [(0, 0.5, 0.25, None), (1, 1.0, 0.5, 12)]})
    assert str(c).splitlines() == [
        "compare_backends: 3 steps, reference 'a', rtol 1e-10",
        "  b: first differs at step 2, layer 1 (W), kernel linear_backward, output 1, index (0, 2): "
        "a 1.5, b 2.5 (no finite ulps)  [its inputs already differed]  [raised ValueError: x]",
        "      after step 0: max |difference| 0.5, relative 0.25, no finite ulps",
        "      after step 1: max |difference| 1, relative 0.5, 12 ulps"]


def test_report_text_of_a_plain_divergence_and_of_agreement():
    d = Divergence("b", "a", 0, 0, None, "loss", 0, (), 1.0, 2.0, 3, False, 4)
    c = Comparison("a", ["a", "b", "c"], 1, 1e-4, divergences={"b": d, "c": None},
                   growth={"b": [], "c": [(0, 0.0, 0.0, 0)]})
    assert str(c).splitlines() == [
        "compare_backends: 1 steps, reference 'a', rtol 0.0001",
        "  b: first differs at step 0, layer 0, kernel loss, output 0, index (): a 1.0, b 2.0 (3 ulps)",
        "  c: agrees with a at every kernel call",
        "      after step 0: max |difference| 0, relative 0, 0 ulps"]


def test_report_text_of_a_divergence_outside_any_layer():
    d = Divergence("b", "a", 0, None, None, "loss", 0, (), 1.0, 2.0, 3, False, 4)
    c = Comparison("a", ["a", "b"], 1, 1e-4, divergences={"b": d}, growth={"b": []})
    assert str(c).splitlines()[1] == "  b: first differs at step 0, kernel loss, output 0, index (): a 1.0, b 2.0 (3 ulps)"


def test_first_is_the_earliest_by_step_then_call():
    def div(name, step, record):
        return Divergence(name, "a", step, 0, None, "k", 0, (), 0.0, 1.0, 1, False, record)
    late, early_step, early_call = div("b", 2, 0), div("c", 1, 9), div("d", 1, 3)
    c = Comparison("a", ["a", "b", "c", "d"], 3, 1e-10,
                   divergences={"b": late, "c": early_step, "d": early_call})
    assert c.first is early_call
    assert Comparison("a", ["a", "b"], 1, 1e-10, divergences={"b": None}).first is None


# ------------------------------------------------------------------ the tolerance
def test_term_scale_is_the_first_two_float_arrays_largest_elements_multiplied():
    A, B, C = np.array([[1.0, -3.0]]), np.array([0.5, -0.25]), np.array([100.0])
    assert _term_scale([A, B, C]) == 1.5                          # 3 * 0.5; the third is not a factor
    assert _term_scale(["relu", A, 0.01, B]) == 1.5               # non-arrays are passed over
    assert _term_scale([np.array([7, 9]), np.empty(0), B]) == 0.5  # integer and empty arrays too
    assert _term_scale([A]) == 3.0
    assert _term_scale([]) == 0.0 and _term_scale(None) == 0.0
    assert _term_scale([np.array([np.nan, -5.0, np.inf])]) == 5.0  # the finite elements only
    assert _term_scale([np.array([np.nan, np.inf])]) == 0.0


def test_outputs_that_cannot_be_compared():
    a, b = np.ones(3), np.zeros((2, 2))
    assert _is_mismatch(_differs([a, b], [a], 1e-10), output=0)        # another number of outputs
    assert _is_mismatch(_differs([a, b], [a, b[:1]], 1e-10), output=1)  # output 1 has another shape


def test_nan_where_the_reference_has_nan_agrees():
    e = np.array([np.nan, 1.0])
    assert _differs(e, e.copy(), 1e-10) is None
    assert _differs(e, np.array([0.0, 1.0]), 1e-10)[:2] == (0, (0,))


def test_the_absolute_tolerance_is_rtol_times_the_largest_reference_element():
    e = np.array([1e3, 0.0])
    assert _differs(e, np.array([1e3, 0.9e-7]), 1e-10) is None          # |1e-7| <= 1e-10 * 1e3
    out = _differs(e, np.array([1e3, 1.1e-7]), 1e-10)
    assert out[:4] == (0, (1,), 0.0, 1.1e-7)


def test_an_all_zero_reference_has_a_tiny_absolute_floor():
    out = _differs(np.zeros(2), np.array([0.0, 1e-12]), 1e-10)        # floor rtol * 1e-300, not rtol
    assert out[:4] == (0, (1,), 0.0, 1e-12)


def test_the_size_of_the_summed_terms_widens_the_tolerance():
    e, g = np.array([1e-12]), np.array([1.5e-10])                      # a sum that cancelled to ~0
    terms = [np.full(2, 4.0), np.full(3, 0.5)]                          # terms of size 4 * 0.5 = 2
    assert _differs(e, g, 1e-10, terms) is None                         # |g - e| < 1e-10 * 2
    assert _differs(e, g, 1e-10)[:2] == (0, (0,))


def test_a_zero_dimensional_output():
    out = _differs(np.array(1.0), np.array(2.0), 1e-10)
    assert out == (0, (), 1.0, 2.0, 2 ** 52)                           # 1 and 2 are 2**52 float64 apart


# ------------------------------------------------------------------ the search
def _rec(kernel, output, depth=0, inputs=(), **extra):
    return {"kernel": kernel, "output": output, "depth": depth, "inputs": list(inputs), **extra}


Z, Z2 = np.array([1.0, 2.0]), np.array([3.0, 4.0])


def test_a_kernel_that_changed_name_differs_even_with_the_same_output():
    found = _first_difference([_rec("linear_forward", Z)], [_rec("matmul", Z)], 1e-10)
    assert found is not None and found[0]["kernel"] == "matmul"
    assert _is_mismatch(found[1], output=0) and found[2] is False


def test_a_kernel_that_raised_differs_even_with_the_same_output():
    same = [_rec("linear_forward", Z)]
    assert _first_difference(same, [_rec("linear_forward", Z)], 1e-10) is None
    raised = [_rec("linear_forward", Z, error="IndexError: 3")]
    found = _first_difference(same, raised, 1e-10)
    assert found[0] is raised[0] and _is_mismatch(found[1], output=0)


def test_whether_the_inputs_already_differed():
    ref = [_rec("k", Z, inputs=[Z, "relu"])]
    assert _first_difference(ref, [_rec("k", Z2, inputs=[Z, "relu"])], 1e-10)[2] is False
    assert _first_difference(ref, [_rec("k", Z2, inputs=[Z2, "relu"])], 1e-10)[2] is True


def test_the_parts_of_a_different_kernel_are_not_searched():
    ref = [_rec("dense_forward", Z), _rec("linear_forward", Z, 1)]
    mine = [_rec("my_dense", Z), _rec("linear_forward", Z2, 1)]
    found = _first_difference(ref, mine, 1e-10)
    assert found[0] is mine[0]


def test_a_composed_kernels_differing_part_is_found():
    ref = [_rec("dense_forward", Z), _rec("linear_forward", Z, 1), _rec("activation_forward", Z, 1)]
    other = [_rec("dense_forward", Z2), _rec("linear_forward", Z, 1), _rec("activation_forward", Z2, 1)]
    assert _first_difference(ref, other, 1e-10)[0] is other[2]


def test_a_composed_kernels_parts_end_at_the_next_call_of_the_reference():
    # the reference's first dense_forward has one part, the other run's two: the other's extra
    # part is past the reference's parts, so only the dense_forward itself is reported
    ref = [_rec("dense_forward", Z), _rec("linear_forward", Z, 1),
           _rec("dense_forward", Z2), _rec("linear_forward", Z2, 1), _rec("activation_forward", Z2, 1)]
    other = [_rec("dense_forward", Z2), _rec("linear_forward", Z, 1), _rec("activation_forward", Z, 1),
             _rec("dense_forward", Z2), _rec("linear_forward", Z2, 1)]
    assert _first_difference(ref, other, 1e-10)[0] is other[0]


def test_a_composed_kernels_parts_end_at_the_next_call_of_the_other_run():
    ref = [_rec("dense_forward", Z), _rec("linear_forward", Z, 1), _rec("activation_forward", Z, 1),
           _rec("dense_forward", Z2), _rec("linear_forward", Z2, 1)]
    other = [_rec("dense_forward", Z2), _rec("linear_forward", Z, 1),
             _rec("dense_forward", Z2), _rec("linear_forward", Z2, 1), _rec("activation_forward", Z2, 1)]
    assert _first_difference(ref, other, 1e-10)[0] is other[0]


# ------------------------------------------------------------------ the narrower dtype
@pytest.mark.parametrize("a, b, expected", [
    (np.float32, np.float64, np.float32), (np.float64, np.float32, np.float32),
    (np.float64, np.float64, np.float64), (np.int64, np.float32, np.float32),
    (np.int32, np.float64, np.float64), (np.float32, np.int64, np.float32),
    (np.float64, np.int32, np.float64), (np.int64, np.int64, None)])
def test_narrower(a, b, expected):
    got = _narrower(np.zeros(1, a), np.zeros(1, b))
    assert got == (None if expected is None else np.dtype(expected))


# ------------------------------------------------------------------ compare_backends
def test_a_backend_entry_that_is_not_a_string_is_refused():
    X, y = _data()
    with pytest.raises(ValueError, match=r"backends: expected names such as 'numpy' or 'numpy:float32', got 3"):
        compare_backends(pn.MLP([3, 2, 1], seed=0), X, y, backends=("numpy", 3))


def _kernels(steps):
    return [r["kernel"] for step in steps for r in step]


def test_defaults_three_steps_of_sgd_at_lr_0_1_without_a_penalty():
    X, y = _data()
    result = compare_backends(pn.MLP([3, 2, 1], seed=0), X, y, backends=("numpy", "scalar"))
    assert result.steps == 3 and len(result.traces["scalar"]) == 3 and len(result.growth["scalar"]) == 3
    updates = [r for step in result.traces["scalar"] for r in step if r["kernel"] == "sgd_step"]
    assert len(updates) == 3 * 4 and {r["inputs"][2] for r in updates} == {0.1}
    assert "penalty" not in _kernels(result.traces["scalar"])
    with_l2 = compare_backends(pn.MLP([3, 2, 1], seed=0), X, y, backends=("numpy", "scalar"), steps=1, l2=0.1)
    assert "penalty" in _kernels(with_l2.traces["scalar"])


def test_a_float32_model_stays_float32_unless_an_entry_asks_for_another_dtype():
    X, y = _data()
    model = pn.MLP([3, 2, 1], seed=0, dtype="float32")
    result = compare_backends(model, X, y, backends=("numpy", "scalar", "numpy:float64"), steps=1)
    assert {r["dtype"] for r in result.traces["scalar"][0] if r["dtype"]} == {"float32"}
    assert {r["dtype"] for r in result.traces["numpy:float64"][0] if r["dtype"]} == {"float64"}


def test_the_c_backends_fused_kernels_run_as_their_parts():
    require_backend("c")
    X, y = _data()
    result = compare_backends(pn.MLP([3, 2, 1], seed=0), X, y, backends=("numpy", "c"), steps=1)
    records = result.traces["c"][0]
    assert not any(r["fused"] for r in records)
    assert "linear_forward" in _kernels(result.traces["c"])


OFFSET = 2.0 ** -10


class OffsetBackend(NumpyBackend):
    """numpy, with every SGD update followed by + 2**-10 on the parameter."""

    def sgd_step(self, param, grad, lr):
        super().sgd_step(param, grad, lr)
        param += OFFSET


@pytest.fixture
def offset():
    pn.register_backend("offset", OffsetBackend())
    yield "offset"
    backends.unregister_backend("offset")


def test_growth_is_the_offset_absolute_and_relative_to_the_reference(offset):
    X, y = _data()
    model = pn.MLP([3, 4, 1], activation="tanh", seed=0)
    result = compare_backends(model, X, y, backends=("numpy", offset), steps=1)
    after = [r["output"] for r in result.traces[offset][0] if r["kernel"] == "sgd_step"]
    reference = [a - OFFSET for a in after]                  # the same update, without the offset
    assert min(np.abs(q).min() for q in reference) < 0.5     # so a floor of 1 would change the ratio
    step, worst, rel, ulps = result.growth[offset][0]
    assert step == 0
    assert worst == pytest.approx(OFFSET, rel=1e-9)
    assert rel == pytest.approx(max(float(np.max(OFFSET / np.abs(q))) for q in reference), rel=1e-6)
    assert ulps > 0


# ------------------------------------------------------------------ the command line
def _parser():
    parser = argparse.ArgumentParser()
    compare.add_arguments(parser, ["moons", "blobs"])
    return parser


def test_command_defaults():
    a = _parser().parse_args([])
    assert (a.backends, a.plugin, a.dataset, a.samples, a.hidden, a.activation, a.optimizer) == (
        None, [], "moons", 64, "8", "tanh", "sgd")
    assert (a.lr, a.steps, a.batch_size, a.dtype, a.rtol, a.seed) == (0.1, 3, 16, "float64", None, 0)


class _Result:
    def __init__(self, first):
        self.first = first

    def __str__(self):
        return "REPORT"


@pytest.fixture
def spy(monkeypatch):
    seen = {}

    def fake_compare(model, X, y, **kw):
        seen.update(model=model, X=X, y=y, **kw)
        return _Result(seen.get("first"))

    monkeypatch.setattr(compare, "compare_backends", fake_compare)
    return seen


def _loader(labels, calls):
    def load(name, samples, noise, seed):
        calls.append((name, samples, noise, seed))
        X = np.arange(2.0 * len(labels)).reshape(len(labels), 2)
        return X, np.array(labels), "extra"
    return load


def test_command_builds_a_sigmoid_model_for_two_classes(spy, capsys):
    calls = []
    args = _parser().parse_args(["--samples", "6", "--seed", "4", "--hidden", "5,3", "--lr", "0.5",
                                 "--steps", "2", "--rtol", "1e-6"])
    status = compare.run_command(args, _loader([0, 1, 0, 1], calls), lambda s: [int(x) for x in s.split(",")])
    assert status == 0 and capsys.readouterr().out == "REPORT\n"
    assert calls == [("moons", 6, 0.2, 4)]
    model = spy["model"]
    assert [layer.W.shape for layer in model.layers] == [(5, 2), (3, 5), (1, 3)]
    assert model.output == "sigmoid"
    assert spy["backends"] == [n for n in ("scalar", "numpy", "c") if n in pn.available_backends()]
    assert (spy["steps"], spy["batch_size"], spy["lr"], spy["rtol"], spy["seed"]) == (2, 16, 0.5, 1e-6, 4)


def test_command_builds_a_softmax_model_for_three_classes_and_reports_a_difference(spy):
    spy["first"] = "somewhere"
    args = _parser().parse_args(["--backends", "numpy,scalar", "--batch-size", "0"])
    status = compare.run_command(args, _loader([0, 1, 2, 1], []), lambda s: [int(s)])
    assert status == 1
    assert spy["model"].output == "softmax" and spy["model"].layers[-1].W.shape == (3, 8)
    assert spy["backends"] == ["numpy", "scalar"] and spy["batch_size"] is None
