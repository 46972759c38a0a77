"""The loss kernels refuse targets Y of another shape than the outputs they are compared
with, on every backend, naming both shapes: the scalar backend paired rows with zip and
silently dropped the extra ones; numpy and c failed inside NumPy's broadcasting."""
import numpy as np
import pytest

from pyneuron.backends import get as get_backend

from helpers import backend_names, require_backend

A = np.full((2, 3), 0.25)


@pytest.mark.parametrize("backend", backend_names)
@pytest.mark.parametrize("Y", [np.zeros((3, 3)), np.zeros((2, 2)), np.zeros((1, 3)), np.zeros(6), np.zeros((2, 3, 1))])
def test_every_loss_kernel_refuses_targets_of_another_shape(backend, Y):
    require_backend(backend)
    k = get_backend(backend)
    shapes = rf"expected (the )?shape (of [AZ], )?\(2, 3\), got \({', '.join(map(str, Y.shape))},?\)"
    for loss in ("mse", "bce", "cce"):
        with pytest.raises(ValueError, match="Y: " + shapes):
            k.loss_value(loss, A, Y)
    for loss in ("bce", "cce"):
        with pytest.raises(ValueError, match=r"Y: expected the shape of Z, \(2, 3\)"):
            k.loss_from_logits(loss, A, Y)
    for activation, loss in (("sigmoid", "bce"), ("softmax", "cce"), ("linear", "mse")):
        with pytest.raises(ValueError, match="Y: " + shapes):
            k.data_loss(loss, activation, A, Y, A)
        with pytest.raises(ValueError, match="Y: " + shapes):
            k.sample_losses(loss, activation, A, Y, A)


@pytest.mark.parametrize("backend", backend_names)
def test_targets_of_the_right_shape_give_the_loss(backend):
    require_backend(backend)
    k = get_backend(backend)
    Y = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    assert k.loss_value("mse", A, Y) == pytest.approx(np.mean((A - Y) ** 2), rel=1e-15)
    assert k.loss_value("cce", A, Y) == pytest.approx(-np.log(0.25), rel=1e-15)
    Z = np.zeros((2, 3))
    assert k.loss_from_logits("cce", Z, Y) == pytest.approx(np.log(3.0), rel=1e-15)
    assert k.loss_from_logits("bce", Z, Y) == pytest.approx(np.log(2.0), rel=1e-15)
