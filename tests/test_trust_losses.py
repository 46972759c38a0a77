"""BCE and cross-entropy are computed from the logits (issue 15, item 1).

A loss computed from clipped probabilities caps every term at −log(1e-12) = 27.63.
From the output layer's pre-activation ``Z`` it is exact at saturation:
softplus(z) − y·z for sigmoid + bce, logsumexp(z) − Σ y·z for softmax + cce.
The expected values come from mpmath at 50 digits (and PyTorch's
``BCEWithLogitsLoss`` / ``CrossEntropyLoss`` where installed), never from pyneuron.
"""
from __future__ import annotations

import mpmath
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pyneuron as pn
from pyneuron import backends

from helpers import require_backend

DTYPES = [np.float64, np.float32]
SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
mpmath.mp.dps = 50


def bce_oracle(Z, Y):
    """Mean of log(1 + e^z) − y z over every element, in 50-digit arithmetic."""
    terms = [mpmath.log(1 + mpmath.exp(mpmath.mpf(float(z)))) - mpmath.mpf(float(y)) * mpmath.mpf(float(z))
             for z, y in zip(np.ravel(Z), np.ravel(Y))]
    return float(mpmath.fsum(terms) / len(terms))


def cce_oracle(Z, Y):
    """Mean over rows of −Σ y log softmax(z), in 50-digit arithmetic."""
    rows = []
    for z, y in zip(Z.tolist(), Y.tolist()):
        z = [mpmath.mpf(float(v)) for v in z]
        log_total = mpmath.log(mpmath.fsum(mpmath.exp(v) for v in z))
        rows.append(mpmath.fsum(-mpmath.mpf(float(yk)) * (zk - log_total) for zk, yk in zip(z, y)))
    return float(mpmath.fsum(rows) / len(rows))


def one_unit_model(backend, dtype, w=1.0, b=0.0):
    model = pn.MLP([1, 1], output="sigmoid", backend=backend, dtype=np.dtype(dtype).name)
    model.set_weights([[[w]], [b]])
    return model


def two_class_softmax(backend, dtype):
    """Logits (0, x) for input x: W = [[0], [1]], b = 0."""
    model = pn.MLP([1, 2], output="softmax", backend=backend, dtype=np.dtype(dtype).name)
    model.set_weights([[[0.0], [1.0]], [0.0, 0.0]])
    return model


# ---------------------------------------------------------------- the issue's cases, kernel and model
@pytest.mark.parametrize("dtype", DTYPES)
def test_kernel_issue_cases(kernels, dtype):
    value = kernels.loss_from_logits("bce", np.array([[30.0]], dtype), np.array([[0.0]], dtype))
    assert isinstance(value, float)
    assert value == pytest.approx(30.0000000000000936, rel=1e-15, abs=0)
    value = kernels.loss_from_logits("cce", np.array([[0.0, 40.0]], dtype), np.array([[1.0, 0.0]], dtype))
    assert value == pytest.approx(40.0, rel=1e-15, abs=0)
    # float32 z = 17 is exactly 17; softplus(17) = 17.0000000414, in float32 17.0
    value = kernels.loss_from_logits("bce", np.array([[17.0]], dtype), np.array([[0.0]], dtype))
    assert np.float32(value) == np.float32(17.0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_kernel_confident_right_answers_keep_their_digits(kernels, dtype):
    """A right answer at z = 40 costs log(1 + e^-40) = 4.25e-18, not 0 (nor 1e-12 clipped)."""
    Z, Y = np.array([[40.0, -40.0]], dtype), np.array([[1.0, 0.0]], dtype)
    assert kernels.loss_from_logits("bce", Z, Y) == pytest.approx(bce_oracle(Z, Y), rel=1e-14, abs=0)
    Z, Y = np.array([[12.0, 0.0, 0.0]], dtype), np.array([[1.0, 0.0, 0.0]], dtype)
    assert kernels.loss_from_logits("cce", Z, Y) == pytest.approx(cce_oracle(Z, Y), rel=1e-14, abs=0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_model_loss_and_evaluate_issue_cases(backend, dtype):
    model = one_unit_model(backend, dtype)
    assert model.loss([[30.0]], [0]) == pytest.approx(30.0000000000000936, rel=1e-15, abs=0)
    assert model.evaluate([[30.0]], [0])["loss"] == pytest.approx(30.0000000000000936, rel=1e-15, abs=0)
    assert np.float32(model.loss([[17.0]], [0])) == np.float32(17.0)
    # label 1 at z = −30 is the mirror image
    assert model.loss([[-30.0]], [1]) == pytest.approx(30.0000000000000936, rel=1e-15, abs=0)
    softmax = two_class_softmax(backend, dtype)
    assert softmax.loss([[40.0]], [0]) == pytest.approx(40.0, rel=1e-15, abs=0)
    assert softmax.evaluate([[40.0]], [0])["loss"] == pytest.approx(40.0, rel=1e-15, abs=0)


def test_history_and_val_loss_use_logits(backend):
    """fit's per-batch loss (before the update) and val_loss (after it) are exact at saturation.
    Plain SGD takes the fused step on every backend; Momentum the generic one."""
    for optimizer in (pn.optimizers.SGD(lr=1e-9), pn.optimizers.Momentum(lr=1e-9)):
        model = one_unit_model(backend, np.float64)
        history = model.fit([[30.0]], [0], epochs=1, batch_size=None, optimizer=optimizer, shuffle=False,
                            validation_data=([[30.0]], [0]))
        assert history["loss"][0] == pytest.approx(30.0000000000000936, rel=1e-15, abs=0)
        w, b = float(model.layers[0].W[0, 0]), float(model.layers[0].b[0])
        assert w < 1.0                                   # the step was taken
        assert history["val_loss"][0] == pytest.approx(bce_oracle(np.array([30.0 * w + b]), [0]),
                                                        rel=1e-14, abs=0)


@pytest.mark.parametrize("loss, activation, X, Y, expected", [
    ("bce", "sigmoid", [[30.0]], [[0.0]], 30.0000000000000936),
    ("cce", "softmax", [[40.0]], [[1.0, 0.0]], 40.0)])
def test_sgd_train_step_returns_logits_loss(kernels, loss, activation, X, Y, expected):
    """The fused step's returned loss (before its update) is the logits' loss too."""
    W = np.array([[1.0]]) if activation == "sigmoid" else np.array([[0.0], [1.0]])
    value = kernels.sgd_train_step(np.array(X), np.array(Y), [W], [np.zeros(W.shape[0])], [activation], loss, 1e-9)
    assert value == pytest.approx(expected, rel=1e-15, abs=0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_history_keeps_the_digits_of_a_confident_right_answer(backend, dtype):
    """z = 20, y = 1 costs log(1 + e^-20) = 2.06e-9; summed as softplus(z) − z it would be
    (20 + 2.06e-9) − 20, off by ~1e-6 relative."""
    model = one_unit_model(backend, dtype)
    history = model.fit([[20.0]], [1], epochs=1, batch_size=None, optimizer=pn.optimizers.SGD(lr=1e-9),
                        shuffle=False)
    assert history["loss"][0] == pytest.approx(bce_oracle(np.array([20.0]), [1]), rel=1e-14, abs=0)


def test_early_stopping_sees_logits_loss(backend):
    """Both epochs' val_loss are above the 27.63 cap: with the clipped loss they tied and
    patience=1 stopped at epoch 2 although the model got better."""
    model = one_unit_model(backend, np.float64, w=-2.0)    # z = −2 x; label 1 at x = 20: z = −40
    stop = pn.EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=False)
    history = model.fit([[20.0]], [1], epochs=3, batch_size=None, optimizer=pn.optimizers.Momentum(lr=1e-4),
                        shuffle=False, validation_data=([[20.0]], [1]), early_stopping=stop)
    losses = history["val_loss"]
    assert len(losses) == 3 and min(losses) > 30
    assert losses[0] > losses[1] > losses[2]


def test_gradient_check_and_explain_see_logits_loss(backend):
    model = one_unit_model(backend, np.float64)
    explanation = pn.explain(model, [[30.0]], [0])
    assert explanation.loss == pytest.approx(30.0000000000000936, rel=1e-15, abs=0)
    text = str(explanation)
    assert "−log(0.0000) = 30.0000" in text and "27.63" not in text     # the term, from z
    softmax = pn.explain(two_class_softmax(backend, np.float64), [[40.0]], [0])
    assert softmax.loss == pytest.approx(40.0, rel=1e-15, abs=0)
    assert "true class 0: −log(0.0000) = 40.0000" in str(softmax)
    # dL/db = σ(30) ≈ 1: the clipped loss is flat at saturation (numeric gradient 0)
    result = pn.gradient_check(model, [[30.0]], [0])
    assert result.passed


# ---------------------------------------------------------------- generated families against mpmath
logit = st.one_of(st.floats(-60, 60), st.floats(-1e4, 1e4), st.sampled_from([0.0, 17.0, -17.0, 36.7, 709.0, -745.0]))


@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(DTYPES), m=st.integers(1, 4), k=st.integers(1, 3))
def test_bce_from_logits_matches_mpmath(kernels, data, dtype, m, k):
    Z = np.array(data.draw(st.lists(logit, min_size=m * k, max_size=m * k)), dtype=dtype).reshape(m, k)
    Y = np.array(data.draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=m * k, max_size=m * k)),
                 dtype=dtype).reshape(m, k)
    expected = bce_oracle(Z, Y)   # of the float32-rounded Z when dtype is float32
    got = kernels.loss_from_logits("bce", Z, Y)
    assert got == pytest.approx(expected, rel=1e-13, abs=1e-300)


@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(DTYPES), m=st.integers(1, 4), k=st.integers(2, 4))
def test_cce_from_logits_matches_mpmath(kernels, data, dtype, m, k):
    Z = np.array(data.draw(st.lists(logit, min_size=m * k, max_size=m * k)), dtype=dtype).reshape(m, k)
    classes = data.draw(st.lists(st.integers(0, k - 1), min_size=m, max_size=m))
    Y = np.eye(k, dtype=dtype)[classes]
    expected = cce_oracle(Z, Y)
    got = kernels.loss_from_logits("cce", Z, Y)
    assert got == pytest.approx(expected, rel=1e-13, abs=1e-300)


@SETTINGS
@given(z=st.floats(-80, 80), label=st.sampled_from([0, 1]), dtype=st.sampled_from(DTYPES))
def test_model_loss_one_unit_family(backend, z, label, dtype):
    """model.loss on a 1→1 sigmoid unit (W = 1, b = 0) is softplus(z) − y z of the input."""
    model = one_unit_model(backend, dtype)
    x = float(np.asarray(z, dtype=dtype))
    assert model.loss([[x]], [label]) == pytest.approx(bce_oracle(np.array([x]), [label]), rel=1e-13, abs=1e-300)


def test_backends_agree_on_saturated_float32_batch():
    """float32, every backend: the same value (the scalar backend gave 16.64 where numpy gave 27.63)."""
    rng = np.random.default_rng(5)
    Z = (rng.standard_normal((7, 3)) * 40).astype(np.float32)
    Y = (rng.random((7, 3)) < 0.5).astype(np.float32)
    values = {name: backends.get(name).loss_from_logits("bce", Z, Y) for name in pn.available_backends()}
    expected = bce_oracle(Z, Y)
    for name, value in values.items():
        assert value == pytest.approx(expected, rel=1e-13), name


# ---------------------------------------------------------------- PyTorch as a second oracle
@pytest.mark.parametrize("dtype", DTYPES)
def test_against_torch(kernels, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    Z = (rng.standard_normal((6, 3)) * 50).astype(dtype)
    Y = (rng.random((6, 3)) < 0.5).astype(dtype)
    expected = torch.nn.BCEWithLogitsLoss()(torch.tensor(Z, dtype=torch.float64),
                                            torch.tensor(Y, dtype=torch.float64)).item()
    assert kernels.loss_from_logits("bce", Z, Y) == pytest.approx(expected, rel=1e-13)
    classes = rng.integers(0, 3, 6)
    expected = torch.nn.CrossEntropyLoss()(torch.tensor(Z, dtype=torch.float64), torch.tensor(classes)).item()
    assert kernels.loss_from_logits("cce", Z, np.eye(3, dtype=dtype)[classes]) == pytest.approx(expected, rel=1e-13)


# ---------------------------------------------------------------- what stays as it was
def test_other_pairs_keep_their_formula(backend):
    """mse is the plain mean of squares; softmax + bce keeps the probability formula."""
    model = pn.MLP([1, 1], output="linear", backend=backend)
    model.set_weights([[[2.0]], [1.0]])
    assert model.loss([[3.0], [0.0]], [1.0, 1.0]) == pytest.approx((6.0 ** 2 + 0.0) / 2, rel=1e-15)
    model = pn.MLP([1, 2], output="softmax", loss="bce", backend=backend)
    model.set_weights([[[0.0], [1.0]], [0.0, 0.0]])
    p = 1.0 / (1.0 + np.exp(-1.0))        # softmax of (0, 1): (1 − p, p)
    expected = -(np.log(1 - p) + np.log(1 - p)) / 2   # targets (1, 0): −[log(1−p) + log(1−p)] / 2
    assert model.loss([[1.0]], [[1, 0]]) == pytest.approx(expected, rel=1e-12)


def test_unknown_loss_refused(kernels):
    with pytest.raises(ValueError, match="loss"):
        kernels.loss_from_logits("mse", np.zeros((1, 1)), np.zeros((1, 1)))


def test_data_loss_needs_the_last_forward(backend):
    model = one_unit_model(backend, np.float64)
    with pytest.raises(ValueError, match="last forward"):
        model._data_loss(np.array([[0.5]]), np.array([[1.0]]))
