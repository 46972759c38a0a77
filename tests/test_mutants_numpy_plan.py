"""pyneuron/backends/numpy_plan.py's fused step on its own (issue 15 item 10: the mutation
run of numpy_plan.py): one step of :class:`NumpyTrainPlan` against one step of the
per-operation :class:`~pyneuron.training_plan.TrainPlan` on an identical model (the
reference: its kernels are tested against hand-worked values and torch elsewhere), and
the options the grid of tests/test_numpy_plan.py leaves on one side: accuracy counting
off, weighted samples with their weights not all equal."""
import math

import numpy as np
import pytest

import pyneuron as pn
from pyneuron import optimizers as O
from pyneuron.backends.numpy_plan import NumpyTrainPlan
from pyneuron.training_plan import TrainPlan

RNG = np.random.default_rng(11)
XB = RNG.standard_normal((6, 3))
Y_LINEAR = RNG.standard_normal((6, 1))
Y_ONEHOT = np.eye(3)[[0, 1, 2, 2, 1, 0]]
WEIGHTS = np.array([1.0, 3.0, 0.5, 2.0, 0.0, 1.5])


def model(output="linear"):
    n_out = 3 if output == "softmax" else 1
    return pn.MLP([3, 4, n_out], activation="tanh", output=output, seed=5, backend="numpy")


def one_step(cls, output, y, **kw):
    m = model(output)
    p = cls(m.kernels, m, O.SGD(0.1), **kw)
    value, correct = p.step(XB, y)
    return m, value, correct


@pytest.mark.parametrize("output, y", [("linear", Y_LINEAR), ("softmax", Y_ONEHOT)])
@pytest.mark.parametrize("track", [False, True])
def test_one_step_returns_the_per_operation_loss_and_right_answers(output, y, track):
    ref, ref_value, ref_correct = one_step(TrainPlan, output, y, track_accuracy=track)
    got, value, correct = one_step(NumpyTrainPlan, output, y, track_accuracy=track)
    assert value == pytest.approx(ref_value, rel=1e-12)
    assert correct == ref_correct
    if not track:
        assert correct == 0          # nothing counted when accuracy is not tracked
    for a, b in zip(got.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("output, y", [("linear", Y_LINEAR), ("sigmoid", (Y_LINEAR > 0).astype(float))])
def test_a_weighted_step_is_the_per_operation_weighted_step(output, y):
    ref, ref_value, _ = one_step(TrainPlan, output, y, sample_weight=WEIGHTS, l2=0.1)
    got, value, _ = one_step(NumpyTrainPlan, output, y, sample_weight=WEIGHTS, l2=0.1)
    _, plain_value, _ = one_step(NumpyTrainPlan, output, y, l2=0.1)
    assert value == pytest.approx(ref_value, rel=1e-12)
    assert abs(value - plain_value) > 1e-6     # the weights matter on this batch
    for a, b in zip(got.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


class SignSGD(O.SGD):
    """An optimizer with its own ``step`` (p −= lr · sign(g)): the fused plan must call it."""

    def step(self, kernels, params, grads):
        self.t += 1
        for p, g in zip(params, grads):
            p -= self.lr * np.sign(g)


def test_an_optimizer_with_its_own_step_takes_that_step():
    models = []
    for cls in (TrainPlan, NumpyTrainPlan):
        m = model()
        before = [w.copy() for w in m.get_weights()]
        cls(m.kernels, m, SignSGD(0.01)).step(XB, Y_LINEAR)
        models.append(m)
        moved = [np.abs(a - b) for a, b in zip(m.get_weights(), before)]
        # every moved entry moved by exactly lr (a sign step), not by lr · |g|
        for d in moved:
            np.testing.assert_allclose(d[d > 0], 0.01, rtol=1e-9)
    for a, b in zip(models[0].get_weights(), models[1].get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_a_relu_unit_at_exactly_zero_passes_no_gradient():
    # hidden unit 0 has W1[0] = 0, b1[0] = 0: Z = 0 on every row, and ReLU'(0) = 0 (the
    # kernels' Z > 0), so its incoming weights get no gradient and stay 0
    models = []
    for cls in (TrainPlan, NumpyTrainPlan):
        m = pn.MLP([3, 4, 1], activation="relu", output="linear", seed=5, backend="numpy")
        w = m.get_weights()
        w[0][0] = 0.0
        w[1][0] = 0.0
        w[2][:] = 1.0      # every hidden unit feeds the output
        m.set_weights(w)
        cls(m.kernels, m, O.SGD(0.1)).step(XB, Y_LINEAR)
        assert not m.layers[0].W[0].any()
        models.append(m)
    for a, b in zip(models[0].get_weights(), models[1].get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------- lines 1-168: which plan, which output path, the caches

def test_supports_only_float64_and_float32_models_with_known_activations():
    from types import SimpleNamespace

    from pyneuron.backends.numpy_plan import supports
    layer = SimpleNamespace(activation="tanh")
    assert supports(SimpleNamespace(dtype=np.float64, layers=[layer]))
    assert supports(SimpleNamespace(dtype="float32", layers=[layer]))
    assert not supports(SimpleNamespace(dtype=np.float16, layers=[layer]))     # another dtype
    assert not supports(SimpleNamespace(dtype=np.longdouble, layers=[layer]))
    assert not supports(SimpleNamespace(dtype=np.float64, layers=[layer, SimpleNamespace(activation="elu")]))


def test_accuracy_is_not_counted_by_default():
    m = model("softmax")
    plan = NumpyTrainPlan(m.kernels, m, O.SGD(0.1))            # track_accuracy left out
    assert plan.track_accuracy is False
    ref = model("softmax")
    _, ref_correct = TrainPlan(ref.kernels, ref, O.SGD(0.1), track_accuracy=True).step(XB, Y_ONEHOT)
    assert ref_correct > 0                                     # there are right answers to count
    assert plan.step(XB, Y_ONEHOT)[1] == 0


def test_the_plan_records_each_batchs_penalty_itself():
    # fit reads records_penalties: True means epoch() fills EpochResult.penalties, so fit
    # adds no recording callback (which would make the plan run step by step)
    m = model()
    plan = NumpyTrainPlan(m.kernels, m, O.SGD(1e-12), l2=0.5)  # the weights barely move
    assert plan.records_penalties is True
    W1, W2 = m.layers[0].W, m.layers[1].W
    result = plan.epoch(XB, Y_LINEAR, None, 4)                 # batches of 4 and 2 rows
    expected = [0.5 / (2 * rows) * (np.sum(W1 ** 2) + np.sum(W2 ** 2)) for rows in (4, 2)]
    np.testing.assert_allclose(result.penalties, expected, rtol=1e-9)


class KernelSpy:
    """The numpy kernels, recording the name of every kernel the plan calls."""

    def __init__(self, kernels):
        self._kernels, self.calls = kernels, []

    def __getattr__(self, name):
        attr = getattr(self._kernels, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            self.calls.append(name)
            return attr(*args, **kwargs)
        return call


@pytest.mark.parametrize("output, y", [("sigmoid", (Y_LINEAR > 0).astype(float)), ("softmax", Y_ONEHOT)])
def test_a_float64_logit_loss_output_is_computed_in_the_plan_and_float32_goes_to_the_kernels(output, y):
    # the module's promise: in float64 a sigmoid + BCE or softmax + CE output takes its
    # probabilities and loss from the logits in the plan itself (no kernel call for the
    # loss or the output gradient); float32 takes the kernels' float64 loss
    for dtype, through_kernels in (("float64", False), ("float32", True)):
        m = pn.MLP([3, 4, y.shape[1]], activation="tanh", output=output, seed=5, backend="numpy", dtype=dtype)
        spy = KernelSpy(m.kernels)
        NumpyTrainPlan(spy, m, O.SGD(0.1)).step(XB.astype(dtype), y.astype(dtype))
        assert ("data_loss" in spy.calls) is through_kernels
        assert ("output_gradient" in spy.calls) is through_kernels


def test_a_float32_logit_loss_is_the_float64_loss_of_the_float32_logits():
    # exact binary fractions: the float32 logits are exact, so the loss the kernels compute
    # in float64 is the formula's to rounding in float64 (a float32 sum would be off by ~1e-8)
    X = np.array([[1.0, 2.0], [-3.0, 0.5], [4.0, -1.0], [0.25, 0.75]])
    W, b = np.array([[0.5, -0.25]]), np.array([0.125])
    y = np.array([[1.0], [0.0], [1.0], [0.0]])
    z = X @ W.T + b
    expected = math.fsum(max(t, 0.0) - yt * t + math.log1p(math.exp(-abs(t)))
                         for t, yt in zip(z.ravel(), y.ravel())) / 4
    m = pn.MLP([2, 1], output="sigmoid", backend="numpy", dtype="float32")
    m.set_weights([W, b])
    value, _ = NumpyTrainPlan(m.kernels, m, O.SGD(0.1)).step(X.astype(np.float32), y.astype(np.float32))
    assert value == pytest.approx(expected, rel=1e-14, abs=0)
    # softmax + CE: log-sum-exp of each row minus its label's logit
    W3, b3 = np.array([[0.5, -0.25], [0.75, 1.0], [-0.5, 0.125]]), np.array([0.0, 0.25, -0.5])
    Y3 = np.eye(3)[[0, 2, 1, 1]]
    z3 = X @ W3.T + b3
    expected3 = math.fsum(math.log(math.fsum(math.exp(t) for t in row)) - row[k]
                          for row, k in zip(z3, [0, 2, 1, 1])) / 4
    m3 = pn.MLP([2, 3], output="softmax", backend="numpy", dtype="float32")
    m3.set_weights([W3, b3])
    value3, _ = NumpyTrainPlan(m3.kernels, m3, O.SGD(0.1)).step(X.astype(np.float32), Y3.astype(np.float32))
    assert value3 == pytest.approx(expected3, rel=1e-14, abs=0)


def test_dropout_set_by_hand_on_the_output_layer_is_applied_as_on_the_per_operation_path():
    # MLP never puts dropout on its output layer, but a Dense layer may have it; the fused
    # logit-loss output (which draws no mask) must then step aside
    y = (Y_LINEAR > 0).astype(float)
    results = []
    for cls in (TrainPlan, NumpyTrainPlan):
        m = model("sigmoid")
        m.layers[-1].dropout = 0.5
        value, _ = cls(m.kernels, m, O.SGD(0.1)).step(XB, y)
        results.append((value, m.get_weights()))
    plain = model("sigmoid")
    NumpyTrainPlan(plain.kernels, plain, O.SGD(0.1)).step(XB, y)
    assert results[1][0] == pytest.approx(results[0][0], rel=1e-12)
    assert np.abs(results[1][1][-2] - plain.layers[-1].W).max() > 1e-3   # the mask changed the step
    for a, b in zip(results[1][1], results[0][1]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_gradient_and_scratch_buffers_are_kept_while_shape_and_dtype_hold_and_replaced_otherwise():
    from types import SimpleNamespace
    m = model()
    plan = NumpyTrainPlan(m.kernels, m, O.SGD(0.1))
    plan.step(XB, Y_LINEAR)
    grads = [dict(layer.grads) for layer in m.layers]
    scratch = [plan._tmp(p) for p in m.trainable_parameters()]
    plan.step(XB, Y_LINEAR)
    for layer, g in zip(m.layers, grads):
        assert all(layer.grads[k] is g[k] for k in g)             # the same arrays, refilled
    assert all(plan._tmp(p) is s for p, s in zip(m.trainable_parameters(), scratch))
    # a layer (or parameter) whose shape or dtype changed gets new arrays of its own kind
    for W in (np.zeros((5, 3)), np.zeros((4, 3), np.float32)):
        layer = SimpleNamespace(W=W, b=np.zeros(W.shape[0], W.dtype), batch_norm=False)
        plan._grads[id(layer)] = {"dW": np.empty((4, 3)), "db": np.empty(4)}
        g = plan._layer_grads(layer)
        assert g["dW"].shape == W.shape and g["dW"].dtype == W.dtype and g["db"].dtype == W.dtype
        plan._scratch[id(W)] = np.empty((4, 3))
        s = plan._tmp(W)
        assert s.shape == W.shape and s.dtype == W.dtype


# ---------------------------------------------------------------- lines 356-424: the epoch's batches and loss_after

def steps_seen(plan, monkeypatch):
    """Record the ``(Xb, Yb)`` each step of ``plan`` receives."""
    seen = []
    original = NumpyTrainPlan._step
    monkeypatch.setattr(NumpyTrainPlan, "_step", lambda self, Xb, Yb: seen.append((Xb, Yb)) or original(self, Xb, Yb))
    return seen


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_shuffled_batches_of_the_models_dtype_are_gathered_into_the_plans_buffers(monkeypatch, dtype):
    m = pn.MLP([3, 4, 1], activation="tanh", output="linear", seed=5, backend="numpy", dtype=dtype)
    plan = NumpyTrainPlan(m.kernels, m, O.SGD(0.1))
    seen = steps_seen(plan, monkeypatch)
    order = np.array([4, 1, 5, 0, 2, 3])
    X, Y = XB.astype(dtype), Y_LINEAR.astype(dtype)
    plan.epoch(X, Y, order, 4)
    assert len(seen) == 2
    for (Xb, Yb), rows in zip(seen, (order[:4], order[4:])):
        bufs = plan._bufs[len(rows)]
        assert Xb is bufs.X and Yb is bufs.Y                     # no new arrays per batch
        np.testing.assert_array_equal(Xb, X[rows])
        np.testing.assert_array_equal(Yb, Y[rows])


@pytest.mark.parametrize("x_dtype, y_dtype", [("float64", "float32"), ("float32", "float64")])
def test_batches_that_would_need_a_dtype_conversion_are_taken_as_given(monkeypatch, x_dtype, y_dtype):
    # a float32 model handed float64 X (or Y) directly: the rows keep their dtype, as the
    # per-operation plan takes them (fit always hands over the model's dtype)
    m = pn.MLP([3, 4, 1], activation="tanh", output="linear", seed=5, backend="numpy", dtype="float32")
    plan = NumpyTrainPlan(m.kernels, m, O.SGD(0.1))
    seen = steps_seen(plan, monkeypatch)
    order = np.array([4, 1, 5, 0, 2, 3])
    X, Y = XB.astype(x_dtype), Y_LINEAR.astype(y_dtype)
    plan.epoch(X, Y, order, 4)
    for (Xb, Yb), rows in zip(seen, (order[:4], order[4:])):
        assert Xb.dtype == x_dtype and Yb.dtype == y_dtype
        np.testing.assert_array_equal(Xb, X[rows])
        np.testing.assert_array_equal(Yb, Y[rows])


def test_the_last_batch_is_copied_for_loss_after_only_when_the_forward_would_overwrite_it():
    # loss_after of a plain model runs in the plan's own buffers (the batch's X and Y stay
    # as they are); batch norm or dropout runs model._forward, which may reuse them: a copy
    for kw, copied in (({}, False), ({"batch_norm": True}, True), ({"dropout": 0.2}, True)):
        m = pn.MLP([3, 4, 1], activation="tanh", output="linear", seed=5, backend="numpy", **kw)
        plan = NumpyTrainPlan(m.kernels, m, O.SGD(0.1))
        plan.epoch(XB, Y_LINEAR, np.arange(6), 6)
        bufs = plan._bufs[6]
        Xk, Yk = plan._kept(bufs.X, bufs.Y)
        assert (Xk is not bufs.X) is copied and (Yk is not bufs.Y) is copied
        np.testing.assert_array_equal(Xk, bufs.X)
        np.testing.assert_array_equal(Yk, bufs.Y)
        plan._gathering = False                  # batches that are slices or fancy-index copies: kept as they are
        assert plan._kept(XB, Y_LINEAR)[0] is XB
        assert plan._kept(None, None) == (None, None)


@pytest.mark.parametrize("kw", [{"batch_norm": True}, {"dropout": 0.2}])
def test_between_epochs_the_layer_caches_hold_one_consistent_forward_pass(kw):
    # loss_after of a model with batch norm or dropout runs model._forward on the epoch's
    # last batch, which the layers cache; the next epoch gathers its first batch into the
    # same buffer before its first callback, so the cached input must be a copy
    class Check:
        def __init__(self):
            self.checked = 0

        def on_batch_begin(self, model, b):
            cache = model.layers[0].cache
            if b == 0 and cache:
                lin = cache["Z_lin"] if "Z_lin" in cache else cache["Z"]
                np.testing.assert_allclose(lin, cache["X"] @ model.layers[0].W.T + model.layers[0].b,
                                           rtol=1e-12, atol=1e-12)
                self.checked += 1

        def on_batch_end(self, model, b, logs):
            pass

    m = pn.MLP([3, 4, 1], activation="tanh", output="linear", seed=5, backend="numpy", **kw)
    plan = NumpyTrainPlan(m.kernels, m, O.SGD(0.1))
    check = Check()
    for order in ([0, 1, 2, 3, 4, 5], [5, 3, 1, 4, 2, 0], [2, 4, 0, 5, 1, 3]):
        plan.epoch(XB, Y_LINEAR, np.array(order), 3, callbacks=[check])
    assert check.checked == 2
