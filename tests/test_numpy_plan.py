"""The numpy backend's fused plan (pyneuron/backends/numpy_plan.py) runs the run the
per-operation path runs, and the C plan too.

The reference is the per-operation numpy path (one kernel call per operation), whose
kernels are tested against hand-worked values, torch and the scalar loops elsewhere. The
grid and the comparison are those of tests/test_fused_training.py: every optimizer, L1/L2,
dropout, batch norm, clipping, per-step lr, layers without bias, frozen parameters,
float32/float64, a last partial batch and batch 1; a run must give the same losses,
accuracies and parameters to rounding, and diverge at the same batch with the same
weights restored.
"""
from __future__ import annotations

import contextlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pyneuron as pn
from pyneuron import optimizers as O
from pyneuron.backends import get as get_backend
from pyneuron.backends.numpy_plan import NumpyTrainPlan
from pyneuron.training_plan import TrainPlan

from helpers import require_backend
from test_fused_training import CONFIGS, LABELS, X, compare, per_operation, train


@contextlib.contextmanager
def counting_fused_steps(monkeypatch):
    """Count the fused plan's steps (to prove a run took it)."""
    calls = []
    original = NumpyTrainPlan._step
    monkeypatch.setattr(NumpyTrainPlan, "_step",
                        lambda self, *a: calls.append(1) or original(self, *a))
    yield calls
    monkeypatch.undo()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("batch_size", [5, 1, None], ids=["partial-last", "batch1", "full"])
@pytest.mark.parametrize("config", sorted(CONFIGS))
@pytest.mark.parametrize("path", ["step", "epoch"])
def test_numpy_fused_plan_agrees_with_the_per_operation_path(monkeypatch, path, config, batch_size, dtype):
    if batch_size == 1 and CONFIGS[config][2].get("batch_norm"):
        pytest.skip("batch norm needs batches of at least 2")
    ref_model, ref_history = train("numpy", "per-op", config, dtype, batch_size)
    with counting_fused_steps(monkeypatch) as calls:
        model, history = train("numpy", path, config, dtype, batch_size)
    steps = 2 * -(-23 // (batch_size or 23))        # 2 epochs of 23 rows
    assert len(calls) == steps
    compare(model, history, ref_model, ref_history, dtype, config)


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_numpy_fused_plan_agrees_with_the_c_plan(config):
    require_backend("c")
    ref_model, ref_history = train("c", "epoch", config, "float64", 5)
    model, history = train("numpy", "epoch", config, "float64", 5)
    compare(model, history, ref_model, ref_history, "float64", config)


def _diverging_run(backend, per_op):
    # mse on a linear unit with W = 1, b = 0 and lr 0.2 on x = 1, 2, 4, 8, 16 (batch 1,
    # in order): each step multiplies the error by (1 − 0.4 x²)-ish factors that grow
    # until the loss overflows mid-epoch.
    model = pn.MLP([1, 1], output="linear", backend=backend)
    model.set_weights([np.ones((1, 1)), np.zeros(1)])
    ctx = per_operation(backend) if per_op else contextlib.nullcontext()
    with ctx, pytest.raises(pn.TrainingDivergedError) as info:
        model.fit(np.array([[1.0], [2.0], [4.0], [8.0], [16.0]]), np.zeros(5), epochs=400,
                  batch_size=1, lr=0.2, shuffle=False)
    return info.value, model


def test_divergence_stops_at_the_same_batch_as_the_per_operation_path():
    want, ref = _diverging_run("numpy", per_op=True)
    assert 1 < want.batch <= 5, "the run was meant to diverge mid-epoch"
    runs = [_diverging_run("numpy", per_op=False)]
    if "c" in pn.backends.available():
        runs.append(_diverging_run("c", per_op=False))
    for err, model in runs:
        assert (err.epoch, err.batch) == (want.epoch, want.batch)
        for got, expected in zip(model.get_weights(), ref.get_weights()):
            np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert all(np.all(np.isfinite(w)) for w in ref.get_weights())


def test_the_numpy_backend_hands_fit_its_fused_plan_and_others_keep_theirs():
    model = pn.MLP([4, 3, 1], backend="numpy")
    assert isinstance(get_backend("numpy").train_plan(model, O.Adam()), NumpyTrainPlan)
    # a subclass with kernels of its own gets the per-operation plan over them
    from engines_planted import SignBug
    plan = SignBug().train_plan(model, O.Adam())
    assert type(plan) is TrainPlan
    # dropout masks handed in (fit(dropout_masks=...) sets each layer's mask_source):
    # the fused plan takes them from the layer too (tests/test_fused_masks.py)
    masked = pn.MLP([4, 3, 1], backend="numpy", dropout=0.5)
    masked.layers[0].mask_source = lambda shape: np.ones(shape)
    assert type(get_backend("numpy").train_plan(masked, O.SGD(0.1))) is NumpyTrainPlan
    # weighted samples: the vectorized plan too (tests/test_fused_sample_weight.py)
    assert type(get_backend("numpy").train_plan(model, O.SGD(0.1), sample_weight=np.ones(4))) is NumpyTrainPlan
    if "c" in pn.backends.available():
        c_model = pn.MLP([4, 3, 1], backend="c")
        assert get_backend("c").train_plan(c_model, O.Adam()).path == "fused"

        class Halved(O.SGD):
            def _update(self, kernels, p, g, s):
                kernels.sgd_step(p, g, self.lr / 2)

        assert type(get_backend("c").train_plan(c_model, Halved(0.1))) is TrainPlan


def test_buffers_are_reused_and_the_first_layer_gets_no_input_gradient():
    model = pn.MLP([4, 6, 3], output="softmax", backend="numpy", seed=0)
    plan = get_backend("numpy").train_plan(model, O.Adam(0.01))
    Y = np.eye(3)[LABELS]
    plan.epoch(X, Y, np.arange(23), 5)
    bufs = {m: (b, list(b.Z), list(b.dA)) for m, b in plan._bufs.items()}
    assert sorted(bufs) == [3, 5]                   # 4 batches of 5 and a last one of 3
    plan.epoch(X, Y, np.arange(23)[::-1].copy(), 5)
    for m, (b, Z, dA) in bufs.items():
        assert plan._bufs[m] is b and all(z is w for z, w in zip(b.Z, Z))
        assert b.dA[0] is None                      # dX of the first layer: never computed
    assert model.layers[0].grads["dW"].shape == (6, 4)


def test_an_optimizer_with_its_own_step_runs_through_the_fused_plan():
    class Halved(O.SGD):
        def _update(self, kernels, p, g, s):
            kernels.sgd_step(p, g, self.lr / 2)

    a = pn.MLP([4, 3, 1], seed=0, backend="numpy")
    b = pn.MLP([4, 3, 1], seed=0, backend="numpy")
    a.fit(X, (LABELS == 1).astype(float), epochs=2, optimizer=Halved(0.2))
    b.fit(X, (LABELS == 1).astype(float), epochs=2, optimizer=O.SGD(0.1))
    for got, want in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-12)


# ---------------------------------------------------------------- generated configurations
@settings(max_examples=25, deadline=None)
@given(hidden=st.lists(st.integers(1, 6), min_size=0, max_size=2),
       activation=st.sampled_from(["relu", "tanh", "sigmoid", "leaky_relu", "linear"]),
       output=st.sampled_from(["sigmoid", "softmax", "linear"]),
       opt=st.sampled_from(["sgd", "momentum", "rmsprop", "adam", "adamw", "adagrad"]),
       dropout=st.sampled_from([0.0, 0.5]), batch_norm=st.booleans(),
       l1=st.sampled_from([0.0, 0.03]), l2=st.sampled_from([0.0, 0.1]),
       clip=st.sampled_from([{}, {"clip_value": 0.1}, {"clip_norm": 0.2}]),
       batch=st.integers(2, 23), shuffle=st.booleans(), dtype=st.sampled_from(["float64", "float32"]))
def test_generated_runs_agree_between_numpy_fused_and_per_operation(
        hidden, activation, output, opt, dropout, batch_norm, l1, l2, clip, batch, shuffle, dtype):
    n_out = 3 if output == "softmax" else 2
    make = {"sgd": lambda: O.SGD(0.05), "momentum": lambda: O.Momentum(0.1),
            "rmsprop": lambda: O.RMSprop(0.005), "adam": lambda: O.Adam(0.01),
            "adamw": lambda: O.AdamW(0.01), "adagrad": lambda: O.Adagrad(0.05)}[opt]
    y = {"softmax": LABELS, "sigmoid": np.stack([LABELS == 1, LABELS == 2], 1).astype(float),
         "linear": X[:, :2]}[output]
    runs = []
    for per_op in (True, False):
        model = pn.MLP([4, *hidden, n_out], activation=activation, output=output, seed=5,
                       backend="numpy", dtype=dtype, dropout=dropout if hidden else 0.0,
                       batch_norm=batch_norm and bool(hidden))
        with per_operation("numpy") if per_op else contextlib.nullcontext():
            history = model.fit(X, y, epochs=2, batch_size=batch, optimizer=make(), l1=l1, l2=l2,
                                shuffle=shuffle, **clip)
        runs.append((model, history))
    (ref, ref_h), (got, got_h) = runs
    # float64: the same arithmetic, operation for operation (bit for bit but for the
    # order of a few sums); float32 rounds at each step, and adaptive optimizers behind
    # batch norm turn rounding into steps of size lr, so only float64 is held tightly.
    rtol = 1e-9 if dtype == "float64" else 1e-3
    if dtype == "float32" and batch_norm and hidden and opt in ("rmsprop", "adam", "adamw", "adagrad"):
        return
    np.testing.assert_allclose(got_h["loss"], ref_h["loss"], rtol=rtol, atol=rtol)
    np.testing.assert_allclose(got.predict(X) if output == "linear" else got.predict_proba(X),
                               ref.predict(X) if output == "linear" else ref.predict_proba(X),
                               rtol=rtol * 100, atol=rtol * 100)


def test_a_trace_shows_each_numpy_epoch_as_one_fused_record_and_expands_to_kernels():
    model = pn.MLP([4, 3, 1], seed=0, backend="numpy")
    with pn.trace() as t:
        model.fit(X, (LABELS == 1).astype(float), epochs=2, batch_size=8, lr=0.1)
    assert [r["kernel"] for r in t if r["depth"] == 0].count("train_plan.epoch") == 2
    with pn.trace(expand=True) as t:
        model.fit(X, (LABELS == 1).astype(float), epochs=2, batch_size=8, lr=0.1)
    assert len(t.filter(kernel="sgd_step")) == 2 * 3 * 4     # 2 epochs × 3 batches × 4 arrays


@pytest.mark.parametrize("output", ["sigmoid", "softmax", "linear"])
def test_the_end_of_epoch_check_is_the_last_batchs_loss_after_the_update(output):
    """Without batch norm or dropout the check reruns the step's own forward in the plan's
    buffers; its value is the last batch's data loss with the updated weights, written out
    here in NumPy (relu hidden layers; softplus(z) − y·z, log-sum-exp − Σ y·z, or the mean
    squared error), and the batch's rows are those of the order's tail."""
    rng = np.random.default_rng(5)
    Xd, labels = rng.standard_normal((11, 3)), rng.integers(0, 2, 11)
    model = pn.MLP([3, 5, 4, 2 if output == "softmax" else 1], output=output, seed=1, backend="numpy")
    Y = model.encode_y(labels, 11) if output != "linear" else labels.reshape(-1, 1).astype(float)
    plan = model.kernels.train_plan(model, O.SGD(0.1))
    order = rng.permutation(11)
    run = plan.epoch(Xd, Y, order, 4)
    idx = order[8:]
    A = Xd[idx]
    for layer in model.layers[:-1]:
        A = np.maximum(A @ layer.W.T + layer.b, 0.0)
    Z, Yb = A @ model.layers[-1].W.T + model.layers[-1].b, Y[idx]
    if output == "sigmoid":
        want = np.mean(np.maximum(Z, 0) + np.log1p(np.exp(-np.abs(Z))) - Yb * Z)
    elif output == "softmax":
        top = Z.max(axis=1)
        want = np.mean(top + np.log(np.exp(Z - top[:, None]).sum(axis=1)) - (Yb * Z).sum(axis=1))
    else:
        want = np.mean((Z - Yb) ** 2)
    assert run.diverged_batch is None and len(run.losses) == 3
    assert run.after_loss == pytest.approx(want, rel=1e-12)


def test_the_end_of_epoch_check_catches_a_last_update_that_overflows_on_shuffled_batches():
    # e = 10 W + b is multiplied by -201 by each step (lr 1, one row of x = 10, mse, as in
    # test_fused_safety): after 67 steps e² overflows though every weight is finite. Two
    # equal rows in batches of 2, shuffled (the gathered buffers), one step an epoch.
    def model():
        m = pn.MLP([1, 1], output="linear", backend="numpy")
        m.set_weights([np.ones((1, 1)), np.zeros(1)])
        return m
    X2, y2 = np.array([[10.0], [10.0]]), np.zeros(2)
    ok = model()
    ok.fit(X2, y2, epochs=66, batch_size=2, lr=1.0)
    assert np.isfinite(ok.loss(X2, y2))
    bad = model()
    with pytest.raises(pn.TrainingDivergedError) as info:
        bad.fit(X2, y2, epochs=67, batch_size=2, lr=1.0)
    assert (info.value.epoch, info.value.batch) == (67, 1)
    np.testing.assert_array_equal(bad.layers[0].W, ok.layers[0].W)
