"""The weighted loss kernels (``Backend.weighted_data_loss`` / ``weighted_output_gradient``)
depend only on the ratios of the weights: any common scale, a subnormal one included, gives
the unweighted mean and gradient when the weights are equal, and the same numbers bit for
bit when the scale is a power of two.

Oracles: the plain mean of the rows' losses and the unweighted ``output_gradient`` (equal
weights), by definition of the weighted mean :math:`\\sum w\\ell / \\sum w`."""
import numpy as np
import pytest

A = np.array([[0.2, 0.9], [0.6, 0.1], [0.5, 0.5]])
Y = np.array([[0.0, 1.0], [1.0, 0.0], [0.3, 0.8]])
Z = np.array([[-1.0, 2.0], [0.5, -2.0], [0.0, 0.1]])


@pytest.mark.parametrize("weight", [5e-324, 1e-310, 1.0, 1e300, 1.7e308])
def test_equal_weights_of_any_size_are_the_unweighted_mean(kernels, weight):
    w = np.full(3, weight)
    mean = float(np.mean(kernels.sample_losses("mse", "linear", A, Y, Z)))
    assert kernels.weighted_data_loss("mse", "linear", A, Y, Z, w) == pytest.approx(mean, rel=1e-15)
    np.testing.assert_allclose(kernels.weighted_output_gradient("mse", "linear", A, Y, Z, w),
                               kernels.output_gradient("mse", "linear", A, Y, Z), rtol=1e-15)


def test_one_subnormal_weight_among_zeros_is_that_rows_loss(kernels):
    w = np.array([0.0, 5e-324, 0.0])
    row = kernels.sample_losses("mse", "linear", A, Y, Z)[1]
    assert kernels.weighted_data_loss("mse", "linear", A, Y, Z, w) == pytest.approx(row, rel=1e-15)
    g = kernels.weighted_output_gradient("mse", "linear", A, Y, Z, w)
    assert np.all(np.isfinite(g)) and not g[0].any() and not g[2].any()
    np.testing.assert_allclose(g[1], 3 * kernels.output_gradient("mse", "linear", A, Y, Z)[1], rtol=1e-15)


def test_a_power_of_two_scale_changes_no_bit(kernels):
    w = np.array([0.3, 1.7, 0.05])
    for k in (-1000, -40, 40, 1000):          # the scaled weights stay normal numbers
        s = np.ldexp(w, k)
        assert kernels.weighted_data_loss("bce", "sigmoid", A, Y, Z, s) == \
            kernels.weighted_data_loss("bce", "sigmoid", A, Y, Z, w)
        assert np.array_equal(kernels.weighted_output_gradient("mse", "tanh", A, Y, Z, s),
                              kernels.weighted_output_gradient("mse", "tanh", A, Y, Z, w))
