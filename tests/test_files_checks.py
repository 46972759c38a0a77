"""The checks set_weights, from_torch and load share (pyneuron._checks): each
kind of bad array is refused with the argument named, and good arrays pass
unchanged (issue 15 item 3e)."""
import numpy as np
import pytest

import pyneuron as pn
from pyneuron import _checks


@pytest.mark.parametrize("bad, error, message", [
    (np.array([[1 + 2j, 0.0]]), TypeError, "expected real numbers, got complex"),
    ([[1.0, 2.0], [3.0]], TypeError, "expected an array of real numbers, got list"),
    ("1.5", TypeError, "got str"),
    (np.array([["a", "b"]]), TypeError, "dtype <U1"),
    (np.array([[object(), 1.0]]), TypeError, "dtype object"),
    (np.zeros((2, 1)), ValueError, r"expected shape \(1, 2\), got \(2, 1\)"),
    (np.zeros(2), ValueError, r"expected shape \(1, 2\), got \(2,\)"),
    (np.array([[0.0, np.nan]]), ValueError, r"expected finite values, got nan at index \(0, 1\)"),
    (np.array([[-np.inf, 0.0]]), ValueError, r"got -inf at index \(0, 0\)"),
])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_set_weights_refuses_each_kind_of_bad_array(bad, error, message, dtype):
    model = pn.MLP([2, 1], dtype=dtype)
    before = model.get_weights()
    with pytest.raises(error, match=r"weights\[0\] \(W1\): .*" + message):
        model.set_weights([bad, np.zeros(1)])
    for a, b in zip(model.get_weights(), before):            # nothing changed
        assert np.array_equal(a, b)


def test_a_weight_beyond_float32_is_refused_in_a_float32_model():
    pn.MLP([2, 1]).set_weights([[[1e300, 0.0]], [0.0]])
    with pytest.raises(ValueError, match=r"W1\): expected finite values, got inf at index \(0, 0\)"):
        pn.MLP([2, 1], dtype="float32").set_weights([[[1e300, 0.0]], [0.0]])


def test_set_weights_accepts_lists_ints_and_bools_as_numbers():
    model = pn.MLP([2, 1])
    model.set_weights([[[1, True]], [0.5]])
    assert model.layers[0].W.tolist() == [[1.0, 1.0]] and model.layers[0].W.dtype == np.float64
    assert model.layers[0].b.tolist() == [0.5]


def test_check_parameter_returns_a_fresh_contiguous_copy():
    source = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    out = _checks.check_parameter(source, "x", (2, 3), np.float32)
    assert out.flags.c_contiguous and out.dtype == np.float32 and not np.shares_memory(out, source)
    assert out.tolist() == source.tolist()


def test_nonnegative_is_checked_only_when_asked():
    assert _checks.check_parameter([-1.0, 0.0], "mean", (2,), np.float64).tolist() == [-1.0, 0.0]
    with pytest.raises(ValueError, match=r"var: expected values >= 0 \(a variance\), got -1.0 at index \(0,\)"):
        _checks.check_parameter([-1.0, 0.0], "var", (2,), np.float64, nonnegative=True)
    assert _checks.check_parameter([0.0, 2.0], "var", (2,), np.float64, nonnegative=True).tolist() == [0.0, 2.0]
    with pytest.raises(ValueError, match=r"got -1.0 at index \(2,\)"):         # the first negative one
        _checks.check_parameter([0.0, 0.5, -1.0], "var", (3,), np.float64, nonnegative=True)


@pytest.mark.parametrize("eps, momentum, message", [
    (True, 0.1, "eps: expected a finite number"), (1e-5, "0.1", "momentum: expected a finite number"),
    (float("inf"), 0.1, "eps: expected a finite number"), (0, 0.1, "eps: expected a number > 0"),
    (1e-5, 1.0000001, r"momentum: expected a number in \[0, 1\]")])
def test_batchnorm_settings(eps, momentum, message):
    with pytest.raises(ValueError, match="layer 0 " + message):
        _checks.check_batchnorm_settings(eps, momentum, "layer 0")


def test_batchnorm_settings_pass_at_the_edges():
    assert _checks.check_batchnorm_settings(np.float32(1e-3), 0, "x") == (pytest.approx(1e-3), 0.0)
    assert _checks.check_batchnorm_settings(5, 1, "x") == (5.0, 1.0)
