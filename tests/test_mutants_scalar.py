"""pyneuron.backends.scalar's one-number functions and loops beyond tests/test_kernels.py and
tests/test_mutants_numpy_backend.py (which run on it through the ``kernels`` fixture): what
the mutation run (issue 15 item 10) showed untested. Expected values by hand or with
``math``; the scalar backend is the textbook, so nothing here asks another backend."""
from __future__ import annotations

import math

import numpy as np
import pytest

from helpers import assert_close
from pyneuron.backends import scalar
from pyneuron.backends.scalar import ScalarBackend

S = ScalarBackend()


def arr(x):
    return np.array(x, dtype=np.float64)


def test_sigmoid_both_forms():
    assert scalar.sigmoid(0.0) == 0.5
    assert scalar.sigmoid(2.0) == pytest.approx(1 / (1 + math.exp(-2.0)), rel=1e-15)
    assert scalar.sigmoid(-2.0) == pytest.approx(math.exp(-2.0) / (1 + math.exp(-2.0)), rel=1e-15)
    assert scalar.sigmoid(-1000.0) == 0.0 and scalar.sigmoid(1000.0) == 1.0      # no OverflowError
    assert 0.0 < scalar.sigmoid(-700.0) == pytest.approx(math.exp(-700.0), rel=1e-12)


@pytest.mark.parametrize("name,z,s,value,slope", [
    ("relu", 2.0, 0.3, 2.0, 1.0), ("relu", -2.0, 0.3, 0.0, 0.0), ("relu", 0.0, 0.3, 0.0, 0.0),
    ("leaky_relu", 2.0, 0.3, 2.0, 1.0), ("leaky_relu", -2.0, 0.3, -0.6, 0.3),
    ("leaky_relu", 0.0, 0.3, 0.0, 0.3), ("linear", -2.5, 0.3, -2.5, 1.0),
])
def test_activate_and_derivative_by_hand(name, z, s, value, slope):
    a = scalar.activate(name, z, s)
    assert a == pytest.approx(value, rel=1e-15)
    assert scalar.derivative(name, z, a, s) == slope


def test_derivative_uses_the_output_for_sigmoid_and_tanh():
    assert scalar.derivative("sigmoid", 123.0, 0.25, 0.0) == 0.25 * 0.75
    assert scalar.derivative("tanh", 123.0, 0.5, 0.0) == 0.75


@pytest.mark.parametrize("fn", ["activate", "derivative"])
def test_unknown_names(fn):
    args = ("swish", 1.0, 0.5, 0.01) if fn == "derivative" else ("swish", 1.0, 0.01)
    with pytest.raises(ValueError, match=r"^activation: unknown name 'swish'$"):
        getattr(scalar, fn)(*args)


def test_clip_probability():
    assert scalar.clip_probability(0.0) == 1e-12
    assert scalar.clip_probability(-3.0) == 1e-12
    assert scalar.clip_probability(1.0) == 1.0 - 1e-12
    assert scalar.clip_probability(0.3) == 0.3


def test_scalar_computes_in_float64_only():
    assert S.dtypes == (np.float64,) and S.name == "scalar"


def test_loss_value_counts_rows_for_cce_and_elements_otherwise():
    A = arr([[0.5, 0.5], [0.25, 0.75]])
    Y = arr([[1.0, 0.0], [0.0, 1.0]])
    assert S.loss_value("cce", A, Y) == pytest.approx(-(math.log(0.5) + math.log(0.75)) / 2, rel=1e-15)
    bce = -(math.log(0.5) + math.log(0.5) + math.log(0.75) + math.log(0.75)) / 4
    assert S.loss_value("bce", A, Y) == pytest.approx(bce, rel=1e-15)
    assert S.loss_value("mse", A, Y) == pytest.approx((0.25 + 0.25 + 0.0625 + 0.0625) / 4, rel=1e-15)


def test_loss_from_logits_rows_and_ties():
    # two equal maxima: logsumexp([1, 1, 0]) = 1 + log(2 + e^-1)
    Z, Y = arr([[1.0, 1.0, 0.0]]), arr([[0.0, 1.0, 0.0]])
    assert S.loss_from_logits("cce", Z, Y) == pytest.approx(math.log(2 + math.exp(-1.0)), rel=1e-15)
    # bce over m*k = 4 terms
    Z, Y = arr([[0.0, 1.0], [-1.0, 2.0]]), arr([[1.0, 0.0], [0.0, 1.0]])
    sp = lambda z: math.log1p(math.exp(z))  # noqa: E731  (small z: no overflow)
    expected = (sp(0.0) + sp(1.0) + sp(-1.0) + sp(2.0) - 2.0) / 4
    assert S.loss_from_logits("bce", Z, Y) == pytest.approx(expected, rel=1e-15)


def test_linear_backward_rectangular():
    dZ = arr([[1.0, 2.0, 3.0]])          # m = 1, n_out = 3
    X = arr([[4.0, 5.0]])                # n_in = 2
    W = arr([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    dX, dW, db = S.linear_backward(dZ, X, W)
    assert dX.tolist() == [[1 + 3, 2 + 3]]
    assert dW.tolist() == [[4.0, 5.0], [8.0, 10.0], [12.0, 15.0]]
    assert db.tolist() == [1.0, 2.0, 3.0]


def test_matmul_shapes_with_transposes():
    A = arr([[1.0, 2.0, 3.0]])           # (1, 3)
    B = arr([[1.0], [0.0], [-1.0]])      # (3, 1)
    assert S.matmul(A, B).tolist() == [[-2.0]]
    assert S.matmul(A, A, trans_a=True).shape == (3, 3)
    assert S.matmul(A, A, trans_b=True).tolist() == [[14.0]]
    assert S.matmul(B, B, trans_a=True).tolist() == [[2.0]]


def test_batchnorm_rectangular():
    Z = arr([[1.0, 0.0, 4.0], [3.0, 0.0, 8.0]])      # m = 2, n = 3
    Yb, Zhat, mean, var = S.batchnorm_forward(Z, arr([1.0, 1.0, 2.0]), arr([0.0, 5.0, 0.0]), 1e-300)
    assert mean.tolist() == [2.0, 0.0, 6.0] and var.tolist() == [1.0, 0.0, 4.0]
    assert Zhat[:, 0].tolist() == [-1.0, 1.0] and Yb[:, 2].tolist() == [-2.0, 2.0]
    assert Yb[:, 1].tolist() == [5.0, 5.0]          # a constant column: beta
    dZ, dg, db = S.batchnorm_backward(arr([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]), Zhat, arr([1.0, 1.0, 2.0]),
                                      var, 1e-300)
    assert db.tolist() == [1.0, 0.0, 1.0]
    assert dg[0] == -1.0 and dg[2] == 1.0
    assert_close(dZ[:, 0], [0.0, 0.0], atol=1e-15)


def test_optimizer_steps_write_into_the_callers_arrays():
    p, v, g = arr([[1.0, 2.0]]), arr([[0.0, 0.0]]), arr([[1.0, -1.0]])
    ids = (id(p), id(v))
    S.momentum_step(p, g, v, 0.5, 0.5, 0.0, False)
    assert (id(p), id(v)) == ids and p.shape == (1, 2)
    assert v.tolist() == [[1.0, -1.0]] and p.tolist() == [[0.5, 2.5]]
    S.momentum_step(p, g, v, 0.5, 0.5, 0.0, True)
    # v = 0.5 v + g = [1.5, -1.5]; u = g + 0.5 v = [1.75, -1.75]
    assert v.tolist() == [[1.5, -1.5]] and p.tolist() == [[0.5 - 0.875, 2.5 + 0.875]]


def test_sigmoid_takes_the_textbook_form_for_every_z_from_0():
    """For z >= 0 the scalar backend computes exactly 1 / (1 + e^-z) (base.py's equation; the
    other form e^z / (1 + e^z) is kept for z < 0): the two differ by an ulp at some z in [0, 1),
    e.g. z = 1/64, and the differential tests compare the other backends to these bits."""
    zs = [i / 64 for i in range(64)] + [1.0, 3.5, 20.0]
    assert [scalar.sigmoid(z) for z in zs] == [1.0 / (1.0 + math.exp(-z)) for z in zs]
    assert any(1.0 / (1.0 + math.exp(-z)) != math.exp(z) / (1.0 + math.exp(z)) for z in zs)
    negative = [-z for z in zs[1:]]
    assert [scalar.sigmoid(z) for z in negative] == [math.exp(z) / (1.0 + math.exp(z)) for z in negative]
