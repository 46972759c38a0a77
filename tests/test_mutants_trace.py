"""pyneuron.trace on its edges (issue 15 item 10: the mutation run of pyneuron/trace.py): what
each ``detail`` keeps of an array (shapes only, a summary of non-empty float arrays), a layer
driven by an object that is not its model, the baseline lookup without the hook, and the
documented workload of ``overhead`` (MLP([8, 32, 1]), 256 rows, batches of 32, 300 epochs,
15 interleaved runs per side).

Oracles: the arrays given, min/max/mean written out, counts of the calls made."""
from __future__ import annotations

import numpy as np
import pytest

import pyneuron as pn
from pyneuron import backends
from pyneuron.trace import overhead
from pyneuron.trace import _keep, get_without_hook


# ------------------------------------------------------------------ what a record keeps
def test_shapes_keeps_only_the_shape():
    a = np.array([[1.0, -2.0, 4.0]])
    assert _keep(a, "shapes") == {"shape": (1, 3)}
    assert _keep(np.arange(3), "shapes") == {"shape": (3,)}


def test_summary_of_a_float_array_and_only_the_shape_of_others():
    a = np.array([[1.0, -2.0, 4.0]])
    assert _keep(a, "summary") == {"shape": (1, 3), "min": -2.0, "max": 4.0, "mean": 1.0}
    assert _keep(np.arange(3), "summary") == {"shape": (3,)}              # integers: no summary
    assert _keep(np.empty((0, 2)), "summary") == {"shape": (0, 2)}        # empty: nothing to sum up
    full = _keep(a, "full")
    assert full is not a and np.array_equal(full, a)
    assert _keep(0.5, "shapes") == 0.5 and _keep(backends, "summary") == repr(backends)


def test_a_shapes_trace_records_no_values():
    X = np.array([[0.5, -1.0], [2.0, 0.25]])
    with pn.trace(detail="shapes") as t:
        pn.MLP([2, 3, 1], seed=0, backend="numpy").predict(X)
    first = t.filter(kernel="linear_forward")[0]
    assert first["inputs"][0] == {"shape": (2, 2)} and first["output"] == {"shape": (2, 3)}


# ------------------------------------------------------------------ where a call comes from
class _Holder:
    """Not a model of the layer it drives: its own ``layers`` list is empty."""

    def __init__(self):
        self.layers = []

    def run(self, layer, kernels, X):
        return layer.forward(kernels, X)


def test_a_layer_driven_by_an_object_that_is_not_its_model_has_no_layer_index():
    model = pn.MLP([2, 3, 1], seed=0, backend="numpy")
    X = np.array([[0.5, -1.0]])
    with pn.trace() as t:
        A = _Holder().run(model.layers[0], backends.get("numpy"), X)
    np.testing.assert_array_equal(A, model.layers[0].forward(backends.get("numpy"), X))   # untraced
    assert len(t) > 0 and {r["layer"] for r in t} == {None}


# ------------------------------------------------------------------ the overhead baseline
def test_the_baseline_lookup_loads_the_c_module_only_for_c(monkeypatch):
    calls = []
    load = backends._load_c
    monkeypatch.setattr(backends, "_load_c", lambda: (calls.append(1), load())[1])
    assert get_without_hook("numpy") is backends._instances["numpy"]
    assert calls == []
    try:
        get_without_hook("c")
    except backends.BackendUnavailableError:
        pass
    assert calls == [1]


def test_overhead_runs_the_documented_workload_interleaved(monkeypatch):
    fits = []

    class FakeMLP:
        def __init__(self, sizes, seed, backend):
            self.sizes, self.seed, self.backend = sizes, seed, backend

        def fit(self, X, y, epochs, batch_size, lr):
            fits.append((self.sizes, self.seed, self.backend, X.shape, y.shape, epochs, batch_size, lr, backends.get, X, y))

    import time
    ticks = iter([t for i in range(15) for t in (100 * i, 100 * i + 1, 100 * i + 50, 100 * i + 52)])
    monkeypatch.setattr(time, "process_time", lambda: next(ticks))     # bare runs take 1 s, hooked 2 s
    monkeypatch.setattr(pn, "MLP", FakeMLP)
    hooked = backends.get
    with_hook, without = overhead()
    assert len(fits) == 2 * 15
    assert all(f[:8] == ([8, 32, 1], 0, "c", (256, 8), (256,), 300, 32, 0.1) for f in fits)
    assert [f[8] for f in fits] == [get_without_hook, hooked] * 15        # bare, hooked, bare, ...
    X = np.random.default_rng(0).standard_normal((256, 8))                # the same data every run
    assert all(np.array_equal(f[9], X) and np.array_equal(f[10], X[:, 0] > 0) for f in fits)
    assert (with_hook, without) == (2, 1) and backends.get is hooked


def _down(n, kernels, X, W, b):
    """``n`` nested calls, then the kernel call: the call site is ``n + 1`` frames below the caller."""
    return kernels.linear_forward(X, W, b) if n == 0 else _down(n - 1, kernels, X, W, b)


class _Owner:
    """Holds the model's layers, as a model does, and calls a kernel ``depth`` frames down."""

    def __init__(self, model):
        self.layers = model.layers

    def run(self, depth, kernels, X):
        layer = self.layers[0]
        return _down(depth, kernels, X, layer.W, layer.b)


@pytest.mark.parametrize("depth, found", [(10, (0, "W")), (11, (None, None))])
def test_the_model_is_looked_for_twelve_frames_up(depth, found):
    # frames looked at: the call site and the eleven above it (_down at depth 0 .. depth, then run)
    model = pn.MLP([2, 3, 1], seed=0, backend="numpy")
    with pn.trace() as t:
        _Owner(model).run(depth, backends.get("numpy"), np.array([[0.5, -1.0]]))
    assert [(r["kernel"], r["layer"], r["param"]) for r in t] == [("linear_forward", *found)]


class _OwnLoss(pn.backends.numpy_backend.NumpyBackend):
    """numpy with a data_loss of its own, so the trace records it as one fused call."""

    def data_loss(self, *args, **kwargs):
        return super().data_loss(*args, **kwargs)


def test_a_kernel_the_model_calls_itself_is_tied_to_the_layer_whose_arrays_it_takes():
    pn.register_backend("ownloss", _OwnLoss())
    try:
        model = pn.MLP([2, 3, 1], seed=0, backend="ownloss")
        X, Y = np.array([[0.5, -1.0]]), np.array([[1.0]])
        with pn.trace() as t:
            A = model._forward(X)
            model._data_loss(A, Y)              # called by the model's own method, not by a layer's
        loss = t.filter(kernel="data_loss")
        assert len(loss) == 1 and loss[0]["fused"] and (loss[0]["layer"], loss[0]["param"]) == (1, None)
    finally:
        backends.unregister_backend("ownloss")


def test_a_trace_made_directly_summarizes_and_keeps_fused_plans_fused():
    from pyneuron.trace import Trace
    X = np.array([[0.5, -1.0], [2.0, 0.25], [-1.0, 1.0], [0.0, 0.5]])
    y = np.array([0, 1, 0, 1])
    with Trace() as t:
        pn.MLP([2, 3, 1], seed=0, backend="numpy").fit(X, y, epochs=1, batch_size=2, lr=0.1)
    assert t.detail == "summary" and t.expand is False
    assert "train_plan.epoch" in t.kernels()                  # numpy's own plan, one record an epoch
    assert set(t[0]["inputs"][0]) == {"shape", "min", "max", "mean"}


def test_a_trace_cannot_be_entered_twice():
    with pn.trace() as t:
        with pytest.raises(RuntimeError, match=r"trace: this trace is already recording \(open a new "
                                               r"pyneuron.trace\(\)\)"):
            t.__enter__()
    assert backends._wrap is None


def test_an_exception_in_the_block_propagates_and_the_hook_is_removed():
    with pytest.raises(ZeroDivisionError):
        with pn.trace():
            1 / 0
    assert backends._wrap is None


def test_step_prints_the_call_its_inputs_and_its_output_by_default(capsys):
    X = np.array([[0.5, -1.0]])
    model = pn.MLP([2, 1], seed=0, backend="scalar")
    with pn.trace(detail="full") as t:
        model.predict_proba(X)
    capsys.readouterr()
    first = t.step()
    lines = capsys.readouterr().out.splitlines()
    assert first is t[0] and lines[0] == t._line(first)
    assert [line.split(" = ")[0] for line in lines[1:]] == [f"    in[{i}]" for i in range(len(first["inputs"]))] + [
        "    out  "]
    assert lines[1] == "    in[0] = [[ 0.5 -1. ]]"


def test_the_baseline_lookup_refuses_an_unavailable_c(monkeypatch):
    monkeypatch.setattr(backends, "_instances", {k: v for k, v in backends._instances.items() if k != "c"})
    monkeypatch.setattr(backends, "_c_error", "the 'c' backend is not available: test")
    with pytest.raises(backends.BackendUnavailableError, match="the 'c' backend is not available: test"):
        get_without_hook("c")


def _record(**kw):
    r = {"index": 3, "step": 1, "phase": "forward", "layer": None, "param": None, "kernel": "k",
         "backend": "numpy", "depth": 0, "fused": False, "shapes": [(2, 3), ()]}
    r.update(kw)
    return r


def test_a_tape_line_for_each_kind_of_output():
    from pyneuron.trace import Trace
    line = Trace._line
    assert line(_record(output={"shape": (2,), "min": -1.0, "max": 2.5, "mean": 0.123456})) == (
        "    3 step 1   forward          numpy.k(2x3 ()) -> mean 0.1235 [-1, 2.5]")
    assert line(_record(output=0.5, layer=1, param="W", depth=1, fused=True)) == (
        "    3 step 1   forward  L1.W      numpy.k (fused)(2x3 ()) -> 0.5")
    assert line(_record(output={"mean_loss": 0.25, "batches": 4}, layer=0)) == (
        "    3 step 1   forward  L0      numpy.k(2x3 ()) -> 4 batches, mean loss 0.25")
    assert line(_record(output={"shape": (2,)})) == "    3 step 1   forward          numpy.k(2x3 ())"


class _Runner:
    """Not a model, but holds one (as a training plan does) and calls a kernel itself."""

    def __init__(self, model):
        self.model = model

    def run(self, kernels, X):
        layer = self.model.layers[1]
        return kernels.linear_forward(X, layer.W, layer.b)


def test_an_object_holding_the_model_ties_a_call_to_the_parameter_it_takes():
    model = pn.MLP([2, 3, 1], seed=0, backend="numpy")
    with pn.trace() as t:
        _Runner(model).run(backends.get("numpy"), np.ones((1, 3)))
    assert [(r["layer"], r["param"]) for r in t] == [(1, "W")]


def test_keyword_arguments_are_kept_as_text_unless_they_are_arrays():
    X, W, b = np.ones((1, 2)), np.ones((3, 2)), np.zeros(3)
    p, g = np.array([1.0, 2.0]), np.array([0.5, 0.5])
    with pn.trace(detail="full") as t:
        k = backends.get("numpy")
        k.linear_forward(X, W, b=b)
        k.sgd_step(p, grad=g, lr=0.5)
    lin, step = t
    assert len(lin["inputs"]) == 2                              # b=array is not written as text
    assert len(step["inputs"]) == 2 and step["inputs"][1:] == ["lr=0.5"]
    assert np.array_equal(step["output"], [0.75, 1.75])          # an in-place step: the parameter after


def test_a_kernel_that_raises_is_recorded_and_the_error_propagates():
    with pn.trace() as t:
        with pytest.raises(ValueError):
            backends.get("numpy").linear_forward(np.ones((1, 2)), np.ones((3, 4)), np.zeros(3))
    assert t[0]["output"] is None and t[0]["error"].startswith("ValueError: ")


def test_step_prints_six_digits_no_exponents_and_summarizes_past_sixty_elements(capsys):
    from pyneuron.trace import Trace
    r = {"index": 0, "step": 0, "phase": "forward", "layer": None, "param": None, "kernel": "k",
         "backend": "numpy", "depth": 0, "fused": False, "shapes": [],
         "inputs": [np.array([1.23456789, 1e-10]), np.arange(60.0), np.arange(61.0)], "output": None}
    Trace(records=[r]).step()
    text = capsys.readouterr().out
    first, sixty, sixty_one = (part.split(" = ", 1)[1] for part in text.split("    out   =")[0].split("    in[")[1:])
    assert first.startswith("[1.234568 0.      ]")
    assert "..." not in sixty and "59." in sixty
    assert "..." in sixty_one
    assert text.endswith("    out   = None\n")


def _second_argument_named_self(kernels, self, X):
    """A function, not a method: its first argument is not ``self``."""
    layer = self.layers[0]
    return kernels.linear_forward(X, layer.W, layer.b)


def test_only_a_first_argument_named_self_makes_a_frame_a_method():
    model = pn.MLP([2, 3, 1], seed=0, backend="numpy")
    with pn.trace() as t:
        _second_argument_named_self(backends.get("numpy"), model, np.ones((1, 2)))
    assert [(r["layer"], r["param"]) for r in t] == [(None, None)]
