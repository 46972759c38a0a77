"""pyneuron.sample_weights (issue 15 item 10: the mutation run of pyneuron/sample_weights.py):
the checks' messages in full, class tables by hand, the product of the two kinds of weight,
and a weight so small that its batch's sum is subnormal."""
import numpy as np
import pytest

import pyneuron as pn
from pyneuron.sample_weights import check_sample_weight, class_weight_rows, row_classes, training_weights

X3, y3 = np.array([[1.0], [2.0], [3.0]]), np.array([1, 0, 1])


def test_one_row_batches_ignore_any_positive_weight(backend):
    """With batches of one row, Σ w ℓ / Σ w = ℓ for any w > 0: the unweighted fit. A
    subnormal weight (5e-324) once made the loss lose its digits and the gradient's scale
    m / Σ w overflow to inf (hypothesis found it in test_keras_weights)."""
    a, b = pn.MLP([1, 1], backend=backend, seed=0), pn.MLP([1, 1], backend=backend, seed=0)
    ha = a.fit(X3, y3, epochs=1, batch_size=1, shuffle=False, lr=0.1)
    hb = b.fit(X3, y3, epochs=1, batch_size=1, shuffle=False, lr=0.1, sample_weight=[1.0, 5e-324, 1.0])
    assert hb["loss"] == pytest.approx(ha["loss"], rel=1e-12)


class NoArray:
    def __array__(self, *args, **kwargs):
        raise RuntimeError("no")


@pytest.mark.parametrize("bad, error, message", [
    (NoArray(), TypeError, r"^w: expected an array of 3 numbers, got NoArray$"),
    (np.array([1, "a", 2], dtype=object), TypeError, r"^w: expected real numbers, got an array of dtype object$"),
    (np.array(["1", "2", "3"]), TypeError, r"^w: expected real numbers, got an array of dtype <U1$"),
    (np.ones(2), ValueError, r"^w: expected one weight per training row, shape \(3,\), got shape \(2,\)$"),
    (np.ones((3, 1)), ValueError, r"^w: expected one weight per training row, shape \(3,\), got shape \(3, 1\)$"),
    (np.ones((1, 3)), ValueError, r"shape \(3,\), got shape \(1, 3\)$"),
    (np.array([1.0, np.inf, np.nan]), ValueError, r"^w: expected finite weights, got NaN or inf at rows \[1, 2\]$"),
    (np.array([-1.0, 2.0, -3.0]), ValueError, r"^w: expected weights >= 0, got \[-1.0, -3.0\] at rows \[0, 2\]$"),
    (np.zeros(3), ValueError, r"^w: expected at least one weight > 0, got all 3 zero$"),
])
def test_bad_weights_are_named(bad, error, message):
    with pytest.raises(error, match=message):
        check_sample_weight(bad, 3, "w")


def test_the_lists_in_the_messages_are_cut():
    w = -np.arange(1.0, 9.0)
    with pytest.raises(ValueError, match=r"got \[-1.0, -2.0, -3.0\] at rows \[0, 1, 2, 3, 4\]$"):
        check_sample_weight(w, 8)
    with pytest.raises(ValueError, match=r"at rows \[0, 1, 2, 3, 4\]$"):
        check_sample_weight(np.full(8, np.nan), 8)


def test_good_weights_become_float64():
    for given in ([True, False, True], np.array([1, 0, 2], dtype=np.uint8), [0.0, 0.0, 0.5]):
        w = check_sample_weight(given, 3)
        assert w.dtype == np.float64 and w.shape == (3,)
        np.testing.assert_array_equal(w, np.asarray(given, dtype=float))


def test_row_classes_and_class_tables():
    cce = pn.MLP([1, 3], output="softmax", seed=0)
    Y = cce.encode_y(np.array([2, 0, 2, 1]), 4)
    classes, k = row_classes(cce, Y)
    assert k == 3 and classes.tolist() == [2, 0, 2, 1]
    bce = pn.MLP([1, 1], seed=0)
    classes, k = row_classes(bce, bce.encode_y(np.array([1, 0, 1]), 3))
    assert k == 2 and classes.tolist() == [1, 0, 1] and classes.dtype == np.int64
    with pytest.raises(ValueError, match=r"^class_weight: weights per class need one class per row \(softmax, "
                                         r"or one sigmoid output\), got regression; give sample_weight instead$"):
        row_classes(pn.MLP([1, 1], output="linear"), np.zeros((2, 1)))
    with pytest.raises(ValueError, match=r"got multi-label targets \(one sigmoid per label\)"):
        row_classes(pn.MLP([1, 2], output="sigmoid"), np.zeros((2, 2)))
    # balanced, 4 rows over the 3 classes present: 4 / (3 · count)
    np.testing.assert_allclose(class_weight_rows("balanced", cce, Y), [4 / 6, 4 / 3, 4 / 6, 4 / 3], rtol=1e-15)
    np.testing.assert_array_equal(class_weight_rows({np.int64(2): 0.0, 1: 3}, cce, Y), [0.0, 1.0, 0.0, 3.0])
    np.testing.assert_array_equal(class_weight_rows({}, cce, Y), np.ones(4))


@pytest.mark.parametrize("table, error, message", [
    ("Balanced", ValueError, r"^class_weight: expected a mapping \{class: weight\} or 'balanced', got 'Balanced'$"),
    ([1.0, 2.0, 3.0], TypeError, r"^class_weight: expected a mapping \{class: weight\} or 'balanced', got list$"),
    ({True: 1.0}, ValueError, r"^class_weight: expected classes 0..2 as keys, got True$"),
    ({1.0: 1.0}, ValueError, r"^class_weight: expected classes 0..2 as keys, got 1.0$"),
    ({3: 1.0}, ValueError, r"^class_weight: expected classes 0..2 as keys, got 3$"),
    ({-1: 1.0}, ValueError, r"^class_weight: expected classes 0..2 as keys, got -1$"),
    ({0: True}, ValueError, r"^class_weight: expected a finite weight >= 0 for class 0, got True$"),
    ({1: "2"}, ValueError, r"^class_weight: expected a finite weight >= 0 for class 1, got '2'$"),
    ({2: np.inf}, ValueError, r"^class_weight: expected a finite weight >= 0 for class 2, got inf$"),
    ({2: -0.5}, ValueError, r"^class_weight: expected a finite weight >= 0 for class 2, got -0.5$"),
])
def test_bad_class_tables_are_named(table, error, message):
    cce = pn.MLP([1, 3], output="softmax", seed=0)
    with pytest.raises(error, match=message):
        class_weight_rows(table, cce, cce.encode_y(np.array([2, 0, 1]), 3))


def test_training_weights_multiplies_the_two():
    cce = pn.MLP([1, 3], output="softmax", seed=0)
    Y = cce.encode_y(np.array([2, 0, 1]), 3)
    assert training_weights(cce, Y, None, None) is None
    np.testing.assert_array_equal(training_weights(cce, Y, [1.0, 2.0, 3.0], None), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(training_weights(cce, Y, None, {0: 5.0}), [1.0, 5.0, 1.0])
    np.testing.assert_array_equal(training_weights(cce, Y, [1.0, 2.0, 3.0], {0: 5.0, 1: 0.5}), [1.0, 10.0, 1.5])
    np.testing.assert_array_equal(training_weights(cce, Y, [1.0, 0.0, 3.0], {0: 5.0, 1: 0.0, 2: 0.25}),
                                  [0.25, 0.0, 0.0])
    with pytest.raises(ValueError, match=r"^class_weight: with these weights every training row weighs 0$"):
        training_weights(cce, Y, [1.0, 0.0, 3.0], {1: 0.0, 2: 0.0})
    with pytest.raises(ValueError, match=r"^sample_weight: expected one weight per training row"):
        training_weights(cce, Y, [1.0], None)


def test_only_the_negative_weights_are_listed():
    with pytest.raises(ValueError, match=r"^w: expected weights >= 0, got \[-1.0, -3.0\] at rows \[0, 3\]$"):
        check_sample_weight(np.array([-1.0, 0.0, 0.5, -3.0]), 4, "w")
