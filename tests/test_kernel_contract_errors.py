"""Bad input at the kernel interface gets the same clear error on every backend.

The kernels are a public, documented interface (learners call them directly and register
backends against them), so a bad argument must raise a ``ValueError``/``TypeError`` that
names the argument and what was given -- the same message whether ``scalar``, ``numpy`` or
``c`` runs -- never a crash deep inside NumPy, a ``ZeroDivisionError`` or a silent inf/NaN.
The checks live once in :mod:`pyneuron.backends.kernel_checks`; every backend calls them,
and so do the interface's default fused kernels, so a learner's registered backend gets
those too.

Every message is matched whole (``^...$``); the good edge cases' values are worked out by
hand in the comments (softmax of one column is 1, dropout by a power of two is exact)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pyneuron as pn
from pyneuron import backends

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "softmax", "linear")


@pytest.fixture(autouse=True)
def _forget_registered():
    yield
    for name in list(backends._registered):
        backends.unregister_backend(name)


def dtypes_of(kernels):
    return [np.dtype(d) for d in kernels.dtypes]


# ---------------------------------------------------------------- softmax
def test_a_softmax_layer_of_no_output_is_refused(kernels):
    for dtype in dtypes_of(kernels):
        X, W, b = np.ones((2, 3), dtype), np.ones((0, 3), dtype), np.ones(0, dtype)
        with pytest.raises(ValueError, match=r"^W: softmax needs at least one output, got 0 rows$"):
            kernels.dense_forward(X, W, b, "softmax")


def test_other_layers_of_no_output_still_run(kernels):
    # a linear layer of 0 units is an empty product, not an error: Z and A are (2, 0)
    Z, A = kernels.dense_forward(np.ones((2, 3)), np.ones((0, 3)), np.ones(0), "linear")
    assert Z.shape == A.shape == (2, 0)


@pytest.mark.parametrize("call", ["softmax", "activation_forward"])
def test_a_softmax_over_no_column_is_refused(kernels, call):
    Z = np.ones((2, 0))
    with pytest.raises(ValueError, match=r"^Z: softmax needs at least one column, got shape \(2, 0\)$"):
        kernels.softmax(Z) if call == "softmax" else kernels.activation_forward("softmax", Z)


@pytest.mark.parametrize("shape", [(3,), (1, 2, 3), ()])
@pytest.mark.parametrize("call", ["softmax", "activation_forward"])
def test_a_softmax_of_anything_but_rows_is_refused(kernels, call, shape):
    Z = np.ones(shape)
    with pytest.raises(ValueError, match=rf"^Z: expected a 2-D array, got shape {re_shape(shape)}$"):
        kernels.softmax(Z) if call == "softmax" else kernels.activation_forward("softmax", Z)


def re_shape(shape):
    return str(tuple(shape)).replace("(", r"\(").replace(")", r"\)")


def test_one_output_softmax_is_allowed_and_is_one(kernels):
    for dtype in dtypes_of(kernels):
        X = np.array([[1.0, 2.0], [-3.0, 0.5]], dtype)
        W, b = np.array([[0.5, -1.0]], dtype), np.array([0.25], dtype)
        Z, A = kernels.dense_forward(X, W, b, "softmax")
        # z = 0.5 x1 - x2 + 0.25: 0.5 - 2 + 0.25 = -1.25 and -1.5 - 0.5 + 0.25 = -1.75 (exact)
        np.testing.assert_array_equal(Z, np.array([[-1.25], [-1.75]], dtype))
        np.testing.assert_array_equal(A, np.ones((2, 1), dtype))       # e^0 / e^0
        # its backward: dz = a (da - da a) = 1 (da - da) = 0
        dZ = kernels.activation_backward("softmax", np.array([[3.0], [-2.0]], dtype), Z, A)
        np.testing.assert_array_equal(dZ, np.zeros((2, 1), dtype))


# ---------------------------------------------------------------- activation_backward
@pytest.mark.parametrize("shape", [(3,), (1, 2, 3)])
def test_softmax_backward_of_anything_but_rows_is_refused(kernels, shape):
    a = np.full(shape, 0.5)
    with pytest.raises(ValueError, match=rf"^dA: expected a 2-D array, got shape {re_shape(shape)}$"):
        kernels.activation_backward("softmax", a, a, a)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("which", ["Z", "A"])
def test_backward_refuses_z_or_a_of_another_shape(kernels, activation, which):
    dA, good, bad = np.ones((2, 3)), np.full((2, 3), 0.5), np.full((2, 2), 0.5)
    Z, A = (bad, good) if which == "Z" else (good, bad)
    with pytest.raises(ValueError, match=rf"^{which}: expected shape \(2, 3\), got \(2, 2\)$"):
        kernels.activation_backward(activation, dA, Z, A)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "leaky_relu", "linear"])
def test_element_wise_backward_still_takes_any_shape(kernels, activation):
    # element-wise activations have no rows: a 1-D dA is fine. Z = 2 > 0, A = 0.5:
    # sigmoid 0.5 * 0.5 = 0.25, tanh 1 - 0.25 = 0.75, relu / leaky / linear 1
    slope = {"sigmoid": 0.25, "tanh": 0.75}.get(activation, 1.0)
    dA = np.array([4.0, -8.0])
    dZ = kernels.activation_backward(activation, dA, np.full(2, 2.0), np.full(2, 0.5))
    np.testing.assert_array_equal(dZ, dA * slope)


# ---------------------------------------------------------------- dropout
BAD_KEEP = [
    (0.0, ValueError, r"^keep_prob: expected a probability in \(0, 1\], got 0\.0$"),
    (-0.5, ValueError, r"^keep_prob: expected a probability in \(0, 1\], got -0\.5$"),
    (1.5, ValueError, r"^keep_prob: expected a probability in \(0, 1\], got 1\.5$"),
    (1.0000001, ValueError, r"^keep_prob: expected a probability in \(0, 1\], got 1\.0000001$"),
    (float("nan"), ValueError, r"^keep_prob: expected a finite number, got nan$"),
    (float("inf"), ValueError, r"^keep_prob: expected a finite number, got inf$"),
    (True, TypeError, r"^keep_prob: expected a real number, got bool$"),
    ("0.5", TypeError, r"^keep_prob: expected a real number, got str$"),
    (None, TypeError, r"^keep_prob: expected a real number, got NoneType$"),
]


@pytest.mark.parametrize("keep_prob, exc, message", BAD_KEEP, ids=[repr(k[0]) for k in BAD_KEEP])
@pytest.mark.parametrize("kernel", ["dropout_forward", "dropout_backward"])
def test_dropout_refuses_a_keep_probability_outside_0_to_1(kernels, kernel, keep_prob, exc, message):
    A, mask = np.ones((2, 2)), np.array([[1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(exc, match=message):
        getattr(kernels, kernel)(A, mask, keep_prob)


@pytest.mark.parametrize("kernel", ["dropout_forward", "dropout_backward"])
def test_dropout_refuses_a_mask_of_another_shape(kernels, kernel):
    with pytest.raises(ValueError, match=r"^mask: expected shape \(2, 2\), got \(2, 3\)$"):
        getattr(kernels, kernel)(np.ones((2, 2)), np.ones((2, 3)), 0.5)


@pytest.mark.parametrize("keep_prob", [1.0, 2.0 ** -20, np.float32(0.5), np.float64(0.25)])
@pytest.mark.parametrize("kernel", ["dropout_forward", "dropout_backward"])
def test_dropout_takes_keep_probabilities_at_the_edges(kernels, kernel, keep_prob):
    A, mask = np.array([[3.0, -1.5], [0.75, 6.0]]), np.array([[1.0, 0.0], [1.0, 1.0]])
    # dividing by a power of two only moves the exponent: a * k * 2^e exactly
    scale = {1.0: 1.0, 2.0 ** -20: 2.0 ** 20, 0.5: 2.0, 0.25: 4.0}[float(keep_prob)]
    np.testing.assert_array_equal(getattr(kernels, kernel)(A, mask, keep_prob),
                                  np.array([[3.0, 0.0], [0.75, 6.0]]) * scale)


@settings(max_examples=40, deadline=None)
@given(p=st.floats(allow_nan=True, allow_infinity=True))
def test_dropout_accepts_exactly_the_finite_probabilities_in_0_to_1(p):
    # the oracle is the definition: 0 < p <= 1 and finite
    A, mask = np.array([[2.0, 1.0]]), np.array([[1.0, 0.0]])
    for name in pn.available_backends():
        kernels = backends.get(name)
        if math.isfinite(p) and 0.0 < p <= 1.0:
            with np.errstate(over="ignore"):            # 2 / 5e-324 is inf, a right answer
                got = kernels.dropout_forward(A, mask, p)
            assert got[0, 1] == 0.0 and got[0, 0] == 2.0 / p
        else:
            with pytest.raises(ValueError, match=r"^keep_prob: expected a (finite number|probability in)"):
                kernels.dropout_forward(A, mask, p)


# ---------------------------------------------------------------- a training step's X and Y
def one_layer(dtype):
    return [np.array([[1.0, -2.0]], dtype)], [np.array([0.5], dtype)]


@pytest.mark.parametrize("which", ["X", "Y"])
def test_a_training_step_names_x_or_y_when_their_dtype_is_not_the_weights(kernels, which):
    for model, data in ((np.float64, np.float32), (np.float32, np.float64)):
        if np.dtype(model) not in dtypes_of(kernels):
            continue
        weights, biases = one_layer(model)
        X, Y = np.array([[1.0, 2.0], [0.5, -1.0]], model), np.array([[1.0], [0.0]], model)
        if which == "X":
            X = X.astype(data)
        else:
            Y = Y.astype(data)
        message = rf"^{which}: expected dtype {np.dtype(model)} like the weights, got {np.dtype(data)}$"
        with pytest.raises(TypeError, match=message):
            kernels.sgd_train_step(X, Y, weights, biases, ["linear"], "mse", 0.1)
        np.testing.assert_array_equal(weights[0], [[1.0, -2.0]])     # nothing updated
        np.testing.assert_array_equal(biases[0], [0.5])


def test_a_training_step_of_matching_dtypes_still_runs(kernels):
    for dtype in dtypes_of(kernels):
        weights, biases = one_layer(dtype)
        X, Y = np.array([[1.0, 2.0]], dtype), np.array([[0.0]], dtype)
        # z = 1 - 4 + 0.5 = -2.5 against y = 0: mse 6.25
        assert kernels.sgd_train_step(X, Y, weights, biases, ["linear"], "mse", 0.0) == 6.25


# ---------------------------------------------------------------- a learner's backend
class OnlyLinear:
    """A learner's backend with one kernel; the rest borrowed from numpy."""

    def __init__(self):
        self.calls = 0

    def linear_forward(self, X, W, b):
        self.calls += 1
        return X @ W.T + b


def test_a_registered_backend_gets_the_checks_of_the_default_fused_kernels():
    learner = OnlyLinear()
    mine = pn.register_backend("mine", learner)
    with pytest.raises(ValueError, match=r"^W: softmax needs at least one output, got 0 rows$"):
        mine.dense_forward(np.ones((2, 3)), np.ones((0, 3)), np.ones(0), "softmax")
    assert learner.calls == 0              # refused before the learner's kernel is called
    weights, biases = one_layer(np.float64)
    with pytest.raises(TypeError, match=r"^X: expected dtype float64 like the weights, got float32$"):
        mine.sgd_train_step(np.ones((1, 2), np.float32), np.ones((1, 1)), weights, biases,
                            ["linear"], "mse", 0.1)
    assert learner.calls == 0



# ---------------------------------------------------------------- every other kernel
def shaped(*shape):
    return np.full(shape, 0.5)


# (kernel, arguments, exception, whole message): one bad argument each, the rest right
BAD_CALLS = {
    "matmul inner sizes": ("matmul", (shaped(2, 3), shaped(2, 3)), ValueError,
                           r"B: expected 3 rows to match op\(A\) of shape \(2, 3\), got shape \(2, 3\)"),
    "matmul transposed": ("matmul", (shaped(2, 3), shaped(4, 2), False, True), ValueError,
                          r"B: expected 3 columns to match op\(A\) of shape \(2, 3\), got shape \(4, 2\)"),
    "matmul 1-D": ("matmul", (shaped(3), shaped(3, 2)), ValueError, r"A: expected a 2-D array, got shape \(3,\)"),
    "linear_forward X 1-D": ("linear_forward", (shaped(3), shaped(4, 3), shaped(4)), ValueError,
                             r"X: expected a 2-D array, got shape \(3,\)"),
    "linear_forward W width": ("linear_forward", (shaped(2, 3), shaped(4, 2), shaped(4)), ValueError,
                               r"W: expected shape \(4, 3\), got \(4, 2\)"),
    "linear_forward b length": ("linear_forward", (shaped(2, 3), shaped(4, 3), shaped(3)), ValueError,
                                r"b: expected shape \(4,\), got \(3,\)"),
    "linear_forward b 2-D": ("linear_forward", (shaped(2, 3), shaped(4, 3), shaped(1, 4)), ValueError,
                             r"b: expected a 1-D array, got shape \(1, 4\)"),
    "linear_backward X rows": ("linear_backward", (shaped(2, 4), shaped(3, 3), shaped(4, 3)), ValueError,
                               r"X: expected shape \(2, 3\), got \(3, 3\)"),
    "linear_backward W": ("linear_backward", (shaped(2, 4), shaped(2, 3), shaped(4, 2)), ValueError,
                          r"W: expected shape \(4, 3\), got \(4, 2\)"),
    "linear_backward dZ 1-D": ("linear_backward", (shaped(4), shaped(2, 3), shaped(4, 3)), ValueError,
                               r"dZ: expected a 2-D array, got shape \(4,\)"),
    "activation_forward name": ("activation_forward", ("swish", shaped(2, 2)), ValueError,
                                r"activation: expected one of sigmoid, tanh, relu, leaky_relu, softmax, "
                                r"linear, got 'swish'"),
    "activation_backward name, no rows": ("activation_backward", ("Sigmoid", shaped(0, 2), shaped(0, 2),
                                                                  shaped(0, 2)), ValueError,
                                          r"activation: expected one of .*, got 'Sigmoid'"),
    "output_delta Y": ("output_delta", (shaped(2, 2), shaped(2, 3), 4), ValueError,
                       r"Y: expected the shape of A, \(2, 2\), got \(2, 3\)"),
    "output_delta no terms": ("output_delta", (shaped(2, 2), shaped(2, 2), 0), ValueError,
                              r"n_terms: expected a positive number of loss terms, got 0"),
    "output_delta terms str": ("output_delta", (shaped(2, 2), shaped(2, 2), "4"), TypeError,
                               r"n_terms: expected a real number, got str"),
    "loss_gradient Y": ("loss_gradient", ("mse", shaped(2, 2), shaped(2, 3)), ValueError,
                        r"Y: expected the shape of A, \(2, 2\), got \(2, 3\)"),
    "penalty m 0": ("penalty", (shaped(2, 2), 0.1, 0.1, 0), ValueError,
                    r"m: expected a positive number of samples, got 0\.0"),
    "penalty l2 NaN": ("penalty", (shaped(2, 2), 0.1, float("nan"), 2), ValueError,
                       r"l2: expected a finite number, got nan"),
    "penalty_gradient m -1": ("penalty_gradient", (shaped(2, 2), 0.1, 0.1, -1), ValueError,
                              r"m: expected a positive number of samples, got -1\.0"),
    "penalty_gradient l1 bool": ("penalty_gradient", (shaped(2, 2), True, 0.1, 2), TypeError,
                                 r"l1: expected a real number, got bool"),
    "batchnorm_forward gamma": ("batchnorm_forward", (shaped(3, 2), shaped(3), shaped(2), 1e-5), ValueError,
                                r"gamma: expected shape \(2,\), got \(3,\)"),
    "batchnorm_forward Z 1-D": ("batchnorm_forward", (shaped(3), shaped(3), shaped(3), 1e-5), ValueError,
                                r"Z: expected a 2-D array, got shape \(3,\)"),
    "batchnorm_forward eps NaN": ("batchnorm_forward", (shaped(3, 2), shaped(2), shaped(2), float("nan")),
                                  ValueError, r"eps: expected a finite number, got nan"),
    "batchnorm_inference running_var": ("batchnorm_inference", (shaped(3, 2), shaped(2), shaped(2), shaped(2),
                                                                shaped(3), 1e-5), ValueError,
                                        r"running_var: expected shape \(2,\), got \(3,\)"),
    "batchnorm_backward Zhat": ("batchnorm_backward", (shaped(3, 2), shaped(2, 2), shaped(2), shaped(2), 1e-5),
                                ValueError, r"Zhat: expected shape \(3, 2\), got \(2, 2\)"),
    "batchnorm_backward var": ("batchnorm_backward", (shaped(3, 2), shaped(3, 2), shaped(2), shaped(3), 1e-5),
                               ValueError, r"var: expected shape \(2,\), got \(3,\)"),
    "sgd_step param shape": ("sgd_step", (shaped(2, 2), shaped(2, 3), 0.1), ValueError,
                             r"param: expected shape \(2, 3\), got \(2, 2\)"),
    "sgd_step lr NaN": ("sgd_step", (shaped(2, 2), shaped(2, 2), float("nan")), ValueError,
                        r"lr: expected a finite number, got nan"),
    "sgd_step param dtype": ("sgd_step", (np.ones(2, np.float32), np.ones(2), 0.1), TypeError,
                             r"param: expected dtype float64 like grad, got float32"),
    "momentum_step velocity": ("momentum_step", (shaped(2, 2), shaped(2, 2), shaped(2, 3), 0.1, 0.9, 0.0, False),
                               ValueError, r"velocity: expected shape \(2, 2\), got \(2, 3\)"),
    "momentum_step dampening inf": ("momentum_step", (shaped(2), shaped(2), shaped(2), 0.1, 0.9,
                                                      float("inf"), False), ValueError,
                                    r"dampening: expected a finite number, got inf"),
    "rmsprop_step square_avg": ("rmsprop_step", (shaped(2, 2), shaped(2, 2), shaped(3), 0.1, 0.9, 1e-8),
                                ValueError, r"square_avg: expected shape \(2, 2\), got \(3,\)"),
    "rmsprop_step rho str": ("rmsprop_step", (shaped(2), shaped(2), shaped(2), 0.1, "0.9", 1e-8), TypeError,
                             r"rho: expected a real number, got str"),
    "adam_step m": ("adam_step", (shaped(2, 2), shaped(2, 2), shaped(2, 3), shaped(2, 2), 0.1, 0.9, 0.999,
                                  1e-8, 1), ValueError, r"m: expected shape \(2, 2\), got \(2, 3\)"),
    "adam_step t 0": ("adam_step", (shaped(2), shaped(2), shaped(2), shaped(2), 0.1, 0.9, 0.999, 1e-8, 0),
                      ValueError, r"t: expected a step count >= 1, got 0"),
    "adam_step t 1.5": ("adam_step", (shaped(2), shaped(2), shaped(2), shaped(2), 0.1, 0.9, 0.999, 1e-8, 1.5),
                        TypeError, r"t: expected an integer step count, got float"),
    "adam_step weight_decay NaN": ("adam_step", (shaped(2), shaped(2), shaped(2), shaped(2), 0.1, 0.9, 0.999,
                                                 1e-8, 1, float("nan")), ValueError,
                                   r"weight_decay: expected a finite number, got nan"),
    "momentum_course_step mu NaN": ("momentum_course_step", (shaped(2), shaped(2), shaped(2), 0.1,
                                                             float("nan")), ValueError,
                                    r"mu: expected a finite number, got nan"),
    "adagrad_step square_sum": ("adagrad_step", (shaped(2), shaped(2), shaped(3), 0.1, 1e-10), ValueError,
                                r"square_sum: expected shape \(2,\), got \(3,\)"),
}


@pytest.mark.parametrize("case", list(BAD_CALLS))
def test_every_kernel_refuses_a_bad_argument_with_the_same_message(kernels, case):
    kernel, args, exc, message = BAD_CALLS[case]
    with pytest.raises(exc, match=f"^{message}$"):
        getattr(kernels, kernel)(*args)


def test_a_read_only_parameter_is_refused_before_it_is_written(kernels):
    param = np.array([1.0, 2.0])
    param.setflags(write=False)
    with pytest.raises(ValueError, match=r"^param: expected a writable array \(updated in place\), "
                                         r"got a read-only one$"):
        kernels.sgd_step(param, np.ones(2), 0.5)


def test_the_right_arguments_still_compute(kernels):
    # hand-worked: [[1, 2]] @ [[3], [4]] = 11; sgd 1 - 0.5 * 2 = 0; penalty 0.5/(2*2) * (1 + 4) = 0.625;
    # output_delta of an empty batch with 0 terms divides nothing
    np.testing.assert_array_equal(kernels.matmul(np.array([[1.0, 2.0]]), np.array([[3.0], [4.0]])), [[11.0]])
    np.testing.assert_array_equal(kernels.matmul(np.array([[1.0], [2.0]]), np.array([[3.0, 4.0]]), True, True),
                                  [[11.0]])
    param = np.array([1.0, 3.0])
    kernels.sgd_step(param, np.array([2.0, 4.0]), 0.5)
    np.testing.assert_array_equal(param, [0.0, 1.0])
    assert kernels.penalty(np.array([[1.0, -2.0]]), 0.0, 0.5, 2) == 0.625
    # the smallest batch, m = 1: 0.5/2 * 5 = 1.25, and its gradient 0.5 * W
    assert kernels.penalty(np.array([[1.0, -2.0]]), 0.0, 0.5, 1) == 1.25
    np.testing.assert_array_equal(kernels.penalty_gradient(np.array([[1.0, -2.0]]), 0.0, 0.5, 1), [[0.5, -1.0]])
    assert kernels.output_delta(np.zeros((0, 2)), np.zeros((0, 2)), 0).shape == (0, 2)
    # one term (n_terms = 1) and half a term's weight (0.5) are positive: (A - Y) / n
    A, Y = np.array([[0.75, 0.25]]), np.array([[1.0, 0.0]])
    np.testing.assert_array_equal(kernels.output_delta(A, Y, 1), [[-0.25, 0.25]])
    np.testing.assert_array_equal(kernels.output_delta(A, Y, 0.5), [[-0.5, 0.5]])
    m, v, p = np.zeros(1), np.zeros(1), np.array([1.0])
    kernels.adam_step(p, np.array([3.0]), m, v, 0.1, 0.9, 0.999, 0.0, np.int64(1))
    # t = 1: m_hat = g, v_hat = g^2, step lr * g / |g| = 0.1
    assert p[0] == pytest.approx(0.9, abs=1e-15)


def two_layers():
    return [np.full((3, 2), 0.5), np.full((1, 3), 0.5)], [np.zeros(3), np.zeros(1)]


# (what is bad, (X, Y, weights, biases, activations, loss), exception, whole message)
BAD_STEPS = {
    "a bias missing": (lambda W, b: (np.ones((4, 2)), np.ones((4, 1)), W, b[:1], ["tanh", "linear"], "mse"),
                       ValueError, r"weights, biases, activations: expected one of each per layer and 1 or more "
                                   r"layers, got 2, 1, 2"),
    "an activation too many": (lambda W, b: (np.ones((4, 2)), np.ones((4, 1)), W, b, ["tanh", "tanh", "linear"],
                                             "mse"), ValueError, r"weights, biases, activations: .*got 2, 2, 3"),
    "no layer": (lambda W, b: (np.ones((4, 2)), np.ones((4, 1)), [], [], [], "mse"), ValueError,
                 r"weights, biases, activations: .*got 0, 0, 0"),
    "weights an array": (lambda W, b: (np.ones((4, 2)), np.ones((4, 1)), W[0], b, ["linear"], "mse"), TypeError,
                         r"weights, biases: expected lists of arrays, got ndarray, list"),
    "an unknown loss": (lambda W, b: (np.ones((4, 2)), np.ones((4, 1)), W, b, ["tanh", "linear"], "hinge"),
                        ValueError, r"loss: expected one of mse, bce, cce, got 'hinge'"),
    "X too wide": (lambda W, b: (np.ones((4, 3)), np.ones((4, 1)), W, b, ["tanh", "linear"], "mse"), ValueError,
                   r"X: expected shape \(4, 2\), got \(4, 3\)"),
    "X 1-D": (lambda W, b: (np.ones(2), np.ones((1, 1)), W, b, ["tanh", "linear"], "mse"), ValueError,
              r"X: expected a 2-D array, got shape \(2,\)"),
    "Y rows": (lambda W, b: (np.ones((4, 2)), np.ones((3, 1)), W, b, ["tanh", "linear"], "mse"), ValueError,
               r"Y: expected shape \(4, 1\), got \(3, 1\)"),
    "Y columns": (lambda W, b: (np.ones((4, 2)), np.ones((4, 2)), W, b, ["tanh", "linear"], "mse"), ValueError,
                  r"Y: expected shape \(4, 1\), got \(4, 2\)"),
}


@pytest.mark.parametrize("case", list(BAD_STEPS))
def test_a_training_step_refuses_a_bad_model_or_batch_before_any_update(kernels, case):
    make, exc, message = BAD_STEPS[case]
    weights, biases = two_layers()
    with pytest.raises(exc, match=f"^{message}$"):
        kernels.sgd_train_step(*make(weights, biases), 0.1)
    for W in weights:
        np.testing.assert_array_equal(W, np.full(W.shape, 0.5))


def test_a_two_layer_step_of_the_right_shapes_runs(kernels):
    # X = 0: hidden z = 0, tanh 0 = 0, output 0 against y = 1: mse 1
    weights, biases = two_layers()
    assert kernels.sgd_train_step(np.zeros((4, 2)), np.ones((4, 1)), weights, biases,
                                  ["tanh", "linear"], "mse", 0.0) == 1.0


# ---------------------------------------------------------------- weighted losses
def weighted_args():
    A = np.array([[0.5], [0.25], [1.0]])
    return "mse", "linear", A, np.zeros((3, 1)), A


@pytest.mark.parametrize("kernel", ["weighted_data_loss", "weighted_output_gradient"])
@pytest.mark.parametrize("weights, message", [
    (np.ones(2), r"weights: expected shape \(3,\), got \(2,\)"),
    (np.ones((3, 1)), r"weights: expected shape \(3,\), got \(3, 1\)"),
    (np.array([1.0, -1.0, 1.0]), r"weights: expected finite numbers >= 0, got -1\.0 at row 1"),
    (np.array([1.0, 1.0, np.nan]), r"weights: expected finite numbers >= 0, got nan at row 2"),
    (np.array([np.inf, 1.0, 1.0]), r"weights: expected finite numbers >= 0, got inf at row 0"),
])
def test_weighted_losses_refuse_weights_of_another_shape_or_sign(kernels, kernel, weights, message):
    with pytest.raises(ValueError, match=f"^{message}$"):
        getattr(kernels, kernel)(*weighted_args(), weights)


def test_weighted_losses_take_zero_weights(kernels):
    # rows' mse 0.25, 0.0625, 1; weights 0, 2, 0: (2 * 0.0625) / 2 = 0.0625
    assert kernels.weighted_data_loss(*weighted_args(), np.array([0.0, 2.0, 0.0])) == 0.0625
    assert kernels.weighted_data_loss(*weighted_args(), np.zeros(3)) == 0.0


def test_scale_rows_refuses_a_scale_per_other_rows(kernels):
    with pytest.raises(ValueError, match=r"^scale: expected shape \(3,\), got \(2,\)$"):
        kernels.scale_rows(np.ones((3, 2)), np.ones(2))
    # row s times scale[s]: [1, 4] * 2, [2, -8] * 0.5
    np.testing.assert_array_equal(kernels.scale_rows(np.array([[1.0, 4.0], [2.0, -8.0]]), np.array([2.0, 0.5])),
                                  [[2.0, 8.0], [1.0, -4.0]])


# ---------------------------------------------------------------- optimizer state sharing memory
def test_optimizer_state_sharing_memory_is_refused(kernels):
    p, g, v = np.ones(4), np.ones(4), np.zeros(4)
    with pytest.raises(ValueError, match=r"^velocity: must not share memory with param \(both are updated "
                                         r"in place\)$"):
        kernels.momentum_step(p, g, p, 0.1, 0.9, 0.0, False)
    with pytest.raises(ValueError, match=r"^velocity: must not share memory with grad \(it is updated in place\)$"):
        kernels.momentum_step(p, g, g, 0.1, 0.9, 0.0, False)
    m = np.zeros(8)
    with pytest.raises(ValueError, match=r"^v: must not share memory with m \(both are updated in place\)$"):
        kernels.adam_step(p, g, m[:4], m[2:6], 0.1, 0.9, 0.999, 1e-8, 1)
    np.testing.assert_array_equal(p, np.ones(4))
    np.testing.assert_array_equal(v, np.zeros(4))


def test_a_gradient_that_is_the_parameter_is_read_before_it_is_written(kernels):
    # sgd_step(p, p, lr): p - lr * p = 0.75 p, as NumPy's temporaries give
    p = np.array([4.0, -8.0])
    kernels.sgd_step(p, p, 0.25)
    np.testing.assert_array_equal(p, [3.0, -6.0])
