"""pyneuron.trace (issue 12, item 3): the tape of kernel calls.

Oracles: the order of operations of backpropagation written out by hand for a 2-3-1
network (forward per layer, loss, output delta, backward per layer, one update per
parameter); values recomputed with NumPy from the recorded inputs; untraced runs."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import pyneuron as pn
from pyneuron import backends
from pyneuron.backends.numpy_backend import NumpyBackend
from pyneuron.trace import TracedBackend

from helpers import require_backend


def _data(n=8):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n, 2))
    return X, (X[:, 0] > 0).astype(int)


CONFIGS = [dict(optimizer="sgd", lr=0.1),
           dict(optimizer="adam", lr=0.01),
           dict(optimizer="momentum", lr=0.1, l2=0.1)]


@pytest.mark.parametrize("fit", CONFIGS)
@pytest.mark.parametrize("detail, expand", [("summary", False), ("full", True)])
def test_tracing_never_changes_a_result(backend, fit, detail, expand):
    X, y = _data()
    kw = dict(seed=3, backend=backend, dropout=0.2, batch_norm=True)
    plain, traced = pn.MLP([2, 5, 1], **kw), pn.MLP([2, 5, 1], **kw)
    h1 = plain.fit(X, y, epochs=2, batch_size=4, **fit)
    with pn.trace(detail=detail, expand=expand) as t:
        h2 = traced.fit(X, y, epochs=2, batch_size=4, **fit)
    assert len(t) > 0
    if not expand:
        for a, b in zip(plain.get_weights(), traced.get_weights()):
            np.testing.assert_array_equal(a, b)
        assert h1.history["loss"] == h2.history["loss"]
    else:
        # expand=True asks for the per-operation path instead of the fused plan: the same
        # equations, rounded in their own order (c's fused Adam folds lr/(1 - beta1^t))
        for a, b in zip(plain.get_weights(), traced.get_weights()):
            np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(h2.history["loss"], h1.history["loss"], rtol=1e-12)


def test_one_step_of_the_per_operation_path_in_order():
    X, y = _data(4)
    model = pn.MLP([2, 3, 1], activation="relu", output="sigmoid", seed=0, backend="numpy")
    # expand=True: the numpy backend's own (fused) training plan runs as the per-operation path
    with pn.trace(expand=True) as t:
        model.fit(X, y, epochs=1, batch_size=4, lr=0.1)
    step0 = [(r["kernel"], r["layer"], r["param"], r["depth"]) for r in t.filter(step=0)]
    assert step0 == [
        ("dense_forward", 0, None, 0), ("linear_forward", 0, None, 1), ("activation_forward", 0, None, 1),
        ("dense_forward", 1, None, 0), ("linear_forward", 1, None, 1), ("activation_forward", 1, None, 1),
        ("loss_from_logits", 1, None, 0),
        ("output_delta", 1, None, 0), ("linear_backward", 1, None, 0),
        ("activation_backward", 0, None, 0), ("linear_backward", 0, None, 0),
        ("sgd_step", 0, "W", 0), ("sgd_step", 0, "b", 0), ("sgd_step", 1, "W", 0), ("sgd_step", 1, "b", 0)]
    assert {r["backend"] for r in t} == {"numpy"}
    assert [r["phase"] for r in t.filter(step=0, layer=1)] == [
        "forward", "forward", "forward", "loss", "backward", "backward", "update", "update"]
    # then the check after the epoch: one more forward pass and its loss
    assert [r["kernel"] for r in t.filter(step=1) if r["depth"] == 0] == [
        "dense_forward", "dense_forward", "loss_from_logits"]
    assert t.kernels()["sgd_step"] == 4


def test_full_copies_hold_the_values_of_the_call():
    X, y = _data(4)
    model = pn.MLP([2, 3, 1], seed=0, backend="scalar")
    with pn.trace(detail="full") as t:
        model.fit(X, y, epochs=1, batch_size=4, lr=0.1)
    lin = t.filter(kernel="linear_forward", layer=0)[0]
    Xr, W, b = lin["inputs"]
    np.testing.assert_allclose(lin["output"], Xr @ W.T + b, rtol=1e-14)
    first_update = t.filter(kernel="sgd_step")[0]
    p_after, grad = first_update["output"], first_update["inputs"][1]
    np.testing.assert_allclose(p_after, first_update["inputs"][0] - 0.1 * grad, rtol=1e-14)
    assert first_update["output"] is not model.layers[0].W        # a copy, not the live array


def test_the_fused_c_epoch_is_one_record():
    require_backend("c")
    X, y = _data()
    model = pn.MLP([2, 4, 1], seed=0, backend="c")
    with pn.trace() as t:
        model.fit(X, y, epochs=3, batch_size=4, lr=0.1)
    epochs = t.filter(kernel="train_plan.epoch")
    assert len(epochs) == 3 and all(r["fused"] and r["backend"] == "c" for r in epochs)
    assert epochs[0]["output"]["batches"] == 2
    assert epochs[-1]["output"]["mean_loss"] == pytest.approx(model.history.history["loss"][-1], rel=1e-12)
    with pn.trace(expand=True) as inside:
        model.fit(X, y, epochs=1, batch_size=4, lr=0.1)
    assert "train_plan.epoch" not in inside.kernels() and inside.kernels()["sgd_step"] == 8


def test_off_outside_the_block_and_in_other_threads():
    model = pn.MLP([2, 3, 1], seed=0, backend="numpy")
    X, _ = _data(4)
    seen = []
    with pn.trace() as t:
        assert isinstance(model.kernels, TracedBackend)
        worker = threading.Thread(target=lambda: seen.append(type(model.kernels)))
        worker.start()
        worker.join()
        model.predict(X)
    assert seen == [type(backends.get("numpy"))]                  # the other thread is not traced
    assert backends._wrap is None and not isinstance(model.kernels, TracedBackend)
    n = len(t)
    model.predict(X)
    assert len(t) == n


def test_filter_export_and_step():
    X, y = _data(4)
    model = pn.MLP([2, 3, 1], seed=0, backend="numpy")
    with pn.trace(expand=True) as t:      # the per-operation path: one record per kernel call
        model.fit(X, y, epochs=1, batch_size=4, lr=0.1)
    rows = t.to_list()
    assert all(isinstance(r, dict) for r in rows) and rows[0]["index"] == 0
    assert {r["layer"] for r in t.filter(layer=1)} == {1}
    assert {r["kernel"] for r in t.filter(kernel="sgd_step")} == {"sgd_step"}
    text = str(t)
    assert text.splitlines()[0] == f"trace: {len(t)} kernel calls"
    assert "numpy.linear_forward(4x2 3x2 3)" in text
    assert t.step(show=False) is rows[0] and t.step(show=False) is rows[1]
    t.rewind()
    assert t.step(show=False) is rows[0]
    for _ in range(len(t) - 1):
        t.step(show=False)
    assert t.step(show=False) is None
    pd = pytest.importorskip("pandas")
    assert pd.DataFrame(rows).shape[0] == len(t)


def test_a_registered_backends_own_fused_kernel_is_one_record():
    class Mine:
        def dense_forward(self, X, W, b, activation, negative_slope=0.01):
            Z = X @ W.T + b
            return Z, NumpyBackend().activation_forward(activation, Z, negative_slope)

    pn.register_backend("mine", Mine())
    try:
        model = pn.MLP([2, 3, 1], seed=0, backend="mine")
        with pn.trace(expand=True) as t:
            model.predict(_data(4)[0])
        assert [(r["kernel"], r["fused"], r["backend"]) for r in t] == [
            ("dense_forward", True, "mine"), ("dense_forward", True, "mine")]
    finally:
        backends.unregister_backend("mine")


def test_bad_detail():
    with pytest.raises(ValueError, match="detail: expected one of 'shapes', 'summary', 'full', got 'all'"):
        pn.trace(detail="all")


def test_a_default_left_on_the_instance_is_still_the_default(monkeypatch):
    # monkeypatch's undo leaves the bound default method as an instance attribute
    kernels = backends.get("numpy")
    monkeypatch.setattr(kernels, "dense_forward", kernels.dense_forward)
    with pn.trace() as t:
        pn.MLP([2, 3, 1], seed=0, backend="numpy").predict(_data(4)[0])
    assert [r["kernel"] for r in t][:3] == ["dense_forward", "linear_forward", "activation_forward"]


def test_the_overhead_benchmark_runs_and_restores_the_lookup():
    require_backend("c")
    from pyneuron.trace import overhead
    before = backends.get
    with_hook, without = overhead(repeats=1, epochs=1)
    assert with_hook >= 0 and without >= 0 and backends.get is before


def test_two_threads_each_record_their_own_calls():
    X, _ = _data(4)
    barrier = threading.Barrier(2)
    tapes = {}

    def work(name):
        model = pn.MLP([2, 3, 1], seed=0, backend=name)
        with pn.trace() as t:
            barrier.wait()                 # both traces are open at once
            model.predict(X)
            barrier.wait()
        tapes[name] = t

    threads = [threading.Thread(target=work, args=(n,)) for n in ("scalar", "numpy")]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert {r["backend"] for r in tapes["scalar"]} == {"scalar"}
    assert {r["backend"] for r in tapes["numpy"]} == {"numpy"}
    assert len(tapes["scalar"]) == len(tapes["numpy"]) == 6
    assert backends._wrap is None
