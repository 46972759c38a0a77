"""A mean loss over no values is 0/0: every backend refuses it by name (issue 15: never a silent
NaN or a bare ZeroDivisionError), for loss_value and loss_from_logits, float64 and float32."""
import numpy as np
import pytest

from pyneuron.backends import available, get as get_backend

BACKENDS = [b for b in ("scalar", "numpy", "c") if b in available()]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("loss, shape", [("mse", (0, 2)), ("bce", (0, 1)), ("cce", (0, 3))])
def test_a_loss_over_no_values_is_refused(backend, dtype, loss, shape):
    kernels = get_backend(backend)
    A, Y = np.zeros(shape, dtype), np.zeros(shape, dtype)
    with pytest.raises(ValueError, match=rf"^A: expected at least one value to take the mean loss over, "
                                         rf"got shape \(0, {shape[1]}\)$"):
        kernels.loss_value(loss, A, Y)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("loss, shape", [("bce", (0, 1)), ("cce", (0, 3))])
def test_a_loss_from_no_logits_is_refused(backend, loss, shape):
    Z, Y = np.zeros(shape), np.zeros(shape)
    with pytest.raises(ValueError, match=rf"^Z: expected at least one value to take the mean loss over, "
                                         rf"got shape \(0, {shape[1]}\)$"):
        get_backend(backend).loss_from_logits(loss, Z, Y)


@pytest.mark.parametrize("backend", BACKENDS)
def test_one_value_is_enough(backend):
    """The smallest loss still computed: one row of one output (the 0-d case is tested elsewhere)."""
    kernels = get_backend(backend)
    assert kernels.loss_value("mse", np.array([[3.0]]), np.array([[1.0]])) == pytest.approx(4.0)
