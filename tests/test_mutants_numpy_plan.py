"""pyneuron/backends/numpy_plan.py's fused step on its own (issue 15 item 10: the mutation
run of numpy_plan.py): one step of :class:`NumpyTrainPlan` against one step of the
per-operation :class:`~pyneuron.training_plan.TrainPlan` on an identical model (the
reference: its kernels are tested against hand-worked values and torch elsewhere), and
the options the grid of tests/test_numpy_plan.py leaves on one side: accuracy counting
off, weighted samples with their weights not all equal."""
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
