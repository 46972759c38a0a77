"""fit's trust guarantees on every path: divergence is caught (also in an epoch's last
update) at the same batch everywhere with the weights restored; the clipping norm does
not overflow in float32; a buffer changed after the C plan bound it is noticed before C
writes into it; a misaligned X is copied, not refused."""
from __future__ import annotations

import contextlib

import numpy as np
import pytest

import pyneuron as pn
from pyneuron import optimizers as O
from pyneuron.backends import get as get_backend
from pyneuron.training import Callback

from helpers import backend_names, require_backend
from test_fused_training import BatchHook, per_operation

PATHS = ["per-op", "step", "epoch"]


def fit_on(backend, path, model, X, y, **kw):
    require_backend(backend)
    ctx = per_operation(backend) if path == "per-op" else contextlib.nullcontext()
    with ctx:
        return model.fit(X, y, callbacks=[BatchHook()] if path == "step" else None, **kw)


# ---------------------------------------------------------------- issue 15, item 2(a)
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("backend", backend_names)
def test_an_explosion_in_the_last_update_is_caught(backend, path):
    # e = 10 W + b is multiplied by -201 by every full-batch step at lr 1 (by hand:
    # W -= 2·10·e, b -= 2·e), so after 67 steps e ≈ 10·201^67 ≈ 2e155, whose square
    # overflows: the loss of the updated model is inf, though every weight is finite.
    def model():
        m = pn.MLP([1, 1], output="linear", backend=backend)
        m.set_weights([np.ones((1, 1)), np.zeros(1)])
        return m

    X, y = np.array([[10.0]]), np.array([0.0])
    ok = model()
    fit_on(backend, path, ok, X, y, epochs=66, batch_size=None, lr=1.0)
    assert np.isfinite(ok.loss(X, y))
    bad = model()
    with pytest.raises(pn.TrainingDivergedError) as info:
        fit_on(backend, path, bad, X, y, epochs=67, batch_size=None, lr=1.0)
    assert (info.value.epoch, info.value.batch) == (67, 1)
    # the weights from the start of epoch 67 are those after 66 epochs
    np.testing.assert_array_equal(bad.layers[0].W, ok.layers[0].W)
    np.testing.assert_array_equal(bad.layers[0].b, ok.layers[0].b)


def _diverging_run(backend, path):
    # a linear unit fed growing inputs one at a time: the loss overflows in the middle
    # of an epoch, not at its start
    X = np.array([[1.0], [2.0], [4.0], [8.0], [16.0]])
    y = np.zeros(5)
    model = pn.MLP([1, 1], output="linear", backend=backend)
    model.set_weights([np.ones((1, 1)), np.zeros(1)])
    with pytest.raises(pn.TrainingDivergedError) as info:
        fit_on(backend, path, model, X, y, epochs=50, batch_size=1, lr=0.2, shuffle=False)
    return info.value, model


def test_divergence_mid_epoch_stops_at_the_same_batch_on_every_path():
    seen = {}
    for backend in backend_names:
        for path in PATHS:
            try:
                err, model = _diverging_run(backend, path)
            except pytest.skip.Exception:
                continue
            seen[backend, path] = (err.epoch, err.batch, model.get_weights())
    epoch, batch, weights = seen["numpy", "per-op"]
    assert 1 < batch <= 5, "the run was meant to diverge mid-epoch"
    for key, (e, b, ws) in seen.items():
        assert (e, b) == (epoch, batch), key
        for got, want in zip(ws, weights):
            np.testing.assert_allclose(got, want, rtol=1e-12, err_msg=str(key))
    # restored: the weights from the start of the diverging epoch, i.e. after epoch - 1
    ref = pn.MLP([1, 1], output="linear", backend="numpy")
    ref.set_weights([np.ones((1, 1)), np.zeros(1)])
    ref.fit(np.array([[1.0], [2.0], [4.0], [8.0], [16.0]]), np.zeros(5), epochs=epoch - 1,
            batch_size=1, lr=0.2, shuffle=False)
    for got, want in zip(weights, ref.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-12)


# ---------------------------------------------------------------- issue 15, item 2(c)
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("backend", ["numpy", "c"])
def test_clip_norm_does_not_overflow_in_float32(backend, path):
    # mse gradient at W = b = 0, x = 1, y = 1.5e19: dW = db = -3e19; the norm is
    # 3e19·√2 (its square, 1.8e39, overflows float32); clipped to norm 1 each is -1/√2,
    # so one SGD step at lr 0.1 gives W = b = 0.1/√2 = 0.0707107.
    model = pn.MLP([1, 1], output="linear", backend=backend, dtype="float32")
    model.set_weights([np.zeros((1, 1)), np.zeros(1)])
    fit_on(backend, path, model, np.array([[1.0]]), np.array([1.5e19]), epochs=1,
           batch_size=None, lr=0.1, clip_norm=1.0)
    expected = np.float32(0.1 / np.sqrt(2.0))
    np.testing.assert_allclose(model.layers[0].W, [[expected]], rtol=1e-6)
    np.testing.assert_allclose(model.layers[0].b, [expected], rtol=1e-6)


@pytest.mark.parametrize("path", PATHS)
def test_clip_norm_leaves_small_gradients_alone(path):
    # below the threshold nothing is scaled (up or down): one step equals plain SGD
    X, y = np.array([[0.5], [-0.25]]), np.array([0.1, 0.2])
    clipped, plain = (pn.MLP([1, 1], output="linear", backend="c", seed=0) for _ in range(2))
    fit_on("c", path, clipped, X, y, epochs=1, batch_size=None, lr=0.1, clip_norm=1e6)
    fit_on("c", path, plain, X, y, epochs=1, batch_size=None, lr=0.1)
    np.testing.assert_array_equal(clipped.layers[0].W, plain.layers[0].W)


# ---------------------------------------------------------------- issue 15, item 5
def _plan_and_data():
    require_backend("c")
    model = pn.MLP([3, 4, 2], output="softmax", seed=0, backend="c", batch_norm=True, bias=True)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((10, 3)), rng.integers(0, 2, 10)
    Y = model.encode_y(y, 10)
    optimizer = O.Adam(0.01)
    plan = get_backend("c").train_plan(model, optimizer)
    plan.epoch(X, Y, None, 4)
    return model, optimizer, plan, X, Y


def test_a_weight_made_read_only_after_the_plan_is_refused_before_c_writes():
    model, _, plan, X, Y = _plan_and_data()
    W = model.layers[1].W
    before = W.copy()
    W.flags.writeable = False
    with pytest.raises(ValueError, match="W2.*read-only"):
        plan.epoch(X, Y, None, 4)
    np.testing.assert_array_equal(W, before)


def test_a_weight_reshaped_in_place_after_the_plan_is_refused():
    model, _, plan, X, Y = _plan_and_data()
    model.layers[0].W.shape = (3, 4)
    with pytest.raises(ValueError, match="W1: expected shape"):
        plan.epoch(X, Y, None, 4)


def test_a_running_statistic_made_read_only_is_refused():
    model, _, plan, X, Y = _plan_and_data()
    model.layers[0].running_var.flags.writeable = False
    with pytest.raises(ValueError, match="running_var1"):
        plan.epoch(X, Y, None, 4)


def test_replaced_weights_and_optimizer_state_are_bound_again():
    model, optimizer, plan, X, Y = _plan_and_data()
    old = model.layers[0].W
    model.layers[0].W = old * 0.5
    kept = old.copy()
    optimizer.reset()
    plan.epoch(X, Y, None, 4)
    np.testing.assert_array_equal(old, kept)           # the old array is not written any more
    assert optimizer.t == 3 and np.any(optimizer.state[0]["m"] != 0)
    # the same as a fresh plan made after the change
    twin, twin_opt, _, _, _ = _plan_and_data()
    twin.layers[0].W = twin.layers[0].W * 0.5
    twin_opt.reset()
    get_backend("c").train_plan(twin, twin_opt).epoch(X, Y, None, 4)
    for a, b in zip(model.parameters(), twin.parameters()):
        np.testing.assert_array_equal(a, b)


def test_a_callback_that_freezes_a_weight_mid_epoch_stops_the_next_step():
    require_backend("c")

    class Freeze(Callback):
        def on_batch_end(self, model, batch, logs=None):
            model.layers[0].W.flags.writeable = False
            self.frozen = model.layers[0].W.copy()

    model = pn.MLP([3, 2, 1], seed=0, backend="c")
    freeze = Freeze()
    with pytest.raises(ValueError, match="W1.*read-only"):
        model.fit(np.random.default_rng(0).standard_normal((8, 3)), np.arange(8) % 2,
                  epochs=1, batch_size=4, callbacks=[freeze])
    np.testing.assert_array_equal(model.layers[0].W, freeze.frozen)


def test_the_sgd_train_step_cache_notices_a_weight_made_read_only():
    require_backend("c")
    c = get_backend("c")
    X, Y = np.ones((2, 3)), np.zeros((2, 1))
    Ws, bs = [np.zeros((1, 3))], [np.zeros(1)]
    c.sgd_train_step(X, Y, Ws, bs, ["linear"], "mse", 0.1)
    Ws[0].flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        c.sgd_train_step(X, Y, Ws, bs, ["linear"], "mse", 0.1)


@pytest.mark.parametrize("path", ["step", "epoch"])
def test_fit_copies_a_misaligned_X(path):
    require_backend("c")
    rng = np.random.default_rng(1)
    X = rng.standard_normal((9, 3))
    raw = np.frombuffer(b"\0" + X.tobytes(), dtype=np.float64, offset=1).reshape(9, 3)
    assert not raw.flags.aligned
    y = np.arange(9) % 2
    a, b = (pn.MLP([3, 4, 1], seed=0, backend="c") for _ in range(2))
    fit_on("c", path, a, raw, y, epochs=2, batch_size=4)
    fit_on("c", path, b, X, y, epochs=2, batch_size=4)
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("path", ["step", "epoch"])
def test_settings_changed_between_epochs_reach_the_fused_plan(path):
    # a callback changes the optimizer's momentum and a dropout rate after epoch 1: the
    # fused paths must train as the per-operation path does, which reads them every step
    class Change(Callback):
        def on_epoch_end(self, model, epoch, logs=None):
            if epoch == 1:
                model.optimizer.momentum = 0.5
                model.layers[0].dropout = 0.4

    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((20, 3)), np.arange(20) % 2
    runs = {}
    for p in ("per-op", path):
        model = pn.MLP([3, 5, 1], seed=1, backend="c", dropout=0.1)
        ctx = per_operation("c") if p == "per-op" else contextlib.nullcontext()
        with ctx:
            model.fit(X, y, epochs=3, batch_size=6, optimizer=O.SGD(0.1, momentum=0.9),
                      callbacks=[Change()] + ([BatchHook()] if p == "step" else []))
        runs[p] = model.get_weights()
    for a, b in zip(runs["per-op"], runs[path]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
@pytest.mark.parametrize("path", PATHS)
def test_logits_that_become_nan_stop_the_epoch_where_the_per_operation_path_stops(output, path):
    """The C step computes the output and its loss in one pass (sharing each e^x); a row
    whose logits are NaN (here ±inf summed inside the product: 1e308 · 10 − 1e308 · 10)
    must still give a NaN loss and stop at the batch the numpy per-operation path stops at,
    with the weights from the epoch's start."""
    X = np.array([[0.1, 0.1], [0.2, -0.1], [10.0, 10.0], [0.3, 0.2]])
    y = np.array([0, 1, 1, 0])
    seen = {}
    for backend in ("numpy", "c"):
        if backend == "numpy" and path != "per-op":
            continue
        require_backend(backend)
        model = pn.MLP([2, 2], output=output, backend=backend) if output == "softmax" else \
            pn.MLP([2, 1], output=output, backend=backend)
        n_out = model.layers[0].W.shape[0]
        W = np.tile([[1e308, -1e308]], (n_out, 1))
        if n_out > 1:   # softmax: one logit stays finite, the other is NaN in row 3
            W[0] = [1e-3, 2e-3]
        model.set_weights([W, np.zeros(n_out)])
        with pytest.raises(pn.TrainingDivergedError) as info:
            fit_on(backend, path if backend == "c" else "per-op", model, X, y, epochs=2,
                   batch_size=2, shuffle=False, lr=1e-6)
        seen[backend] = (info.value.epoch, info.value.batch)
        np.testing.assert_array_equal(model.layers[0].W, W)
    assert seen["c"] == seen.get("numpy", seen["c"]) == (1, 2)
