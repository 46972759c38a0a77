"""Metrics and the Standardizer agree with scikit-learn (issue 15 item 7):
inconsistent sample counts refused, R² averaged uniformly over outputs with 1.0
for a perfectly predicted constant target, NaN refused, near-constant columns
scaled by 1; labels given as 1-D classes, one-hot rows or probability rows."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pyneuron as pn
from pyneuron import metrics
from pyneuron.datasets import Standardizer

from helpers import assert_close

REGRESSION = [metrics.mean_squared_error, metrics.mean_absolute_error, metrics.r2_score]
CLASSIFICATION = [metrics.accuracy, metrics.confusion_matrix, metrics.precision_recall_f1]


# ---------------------------------------------------------------- by hand
@pytest.mark.parametrize("metric", REGRESSION, ids=lambda f: f.__name__)
def test_inconsistent_sample_counts_are_refused(metric):
    Y = np.arange(6.0).reshape(3, 2)
    with pytest.raises(ValueError, match="inconsistent numbers of samples: y_true has 3, y_pred has 2"):
        metric(Y, Y.T)
    with pytest.raises(ValueError, match="y_true has 6, y_pred has 3"):
        metric(Y.reshape(-1), Y)
    with pytest.raises(ValueError, match="expected 2 outputs per sample to match y_true, got 1"):
        metric(Y, Y[:, 0])
    assert metric(Y[:, :1], Y[:, 0]) == metric(Y[:, 0], Y[:, 0])   # (n,) and (n, 1) are one output


def test_regression_metrics_by_hand_over_two_outputs():
    t = np.array([[1.0, 2.0], [1.0, 3.0], [1.0, 5.0]])
    p = np.array([[1.0, 2.0], [1.0, 3.0], [1.0, 4.0]])
    # output 0: constant and predicted exactly -> R² 1; output 1: residual 1, total 42/9
    assert metrics.r2_score(t, p) == pytest.approx((1.0 + (1 - 9 / 42)) / 2, rel=1e-15)
    assert metrics.mean_squared_error(t, p) == pytest.approx((0 + 1 / 3) / 2, rel=1e-15)
    assert metrics.mean_absolute_error(t, p) == pytest.approx((0 + 1 / 3) / 2, rel=1e-15)
    # outputs weigh the same whatever their variance (sklearn's uniform_average)
    wide = t * [1.0, 1000.0]
    assert metrics.r2_score(wide, p * [1.0, 1000.0]) == pytest.approx(metrics.r2_score(t, p), rel=1e-12)


def test_r2_of_a_constant_target():
    assert metrics.r2_score([2.0, 2.0, 2.0], [2.0, 2.0, 2.0]) == 1.0
    assert metrics.r2_score([2.0, 2.0, 2.0], [2.0, 2.0, 2.5]) == 0.0
    assert metrics.r2_score([1.0, 3.0], [3.0, 1.0]) == -3.0
    with pytest.raises(ValueError, match="y_true: R² needs at least 2 samples, got 1"):
        metrics.r2_score([1.0], [1.0])


ALL_METRICS = REGRESSION + CLASSIFICATION + [metrics.log_loss]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("position", [0, 1])
@pytest.mark.parametrize("metric", ALL_METRICS, ids=lambda f: f.__name__)
def test_nan_and_inf_are_refused_naming_the_argument(metric, position, bad):
    args = [np.array([0.0, 1.0, 1.0]), np.array([0.0, 1.0, 0.0])]
    if metric is metrics.log_loss:
        args[1] = np.array([0.2, 0.9, 0.4])
    args[position][1] = bad
    name = ["y_true", "proba" if metric is metrics.log_loss else "y_pred"][position]
    with pytest.raises(ValueError, match=rf"{name}: expected finite values, got {bad} at index \(1,\)"):
        metric(*args)


@pytest.mark.parametrize("metric", ALL_METRICS, ids=lambda f: f.__name__)
def test_complex_ragged_and_empty_inputs_are_refused(metric):
    good = [0.0, 1.0]
    with pytest.raises(TypeError, match="y_true: expected real numbers, got complex"):
        metric(np.array([0j, 1.0]), good)
    with pytest.raises(TypeError, match="y_true: expected a 1-D or 2-D array"):
        metric([[0.0, 1.0], [1.0]], good)
    with pytest.raises(ValueError, match="y_true: expected at least one sample"):
        metric([], good)
    with pytest.raises(ValueError, match=r"y_true: expected a 1-D or 2-D array, got shape \(\)"):
        metric(1.0, good)


def test_classification_metrics_take_one_hot_and_probability_rows():
    labels = np.array([0, 2, 1, 1, 0, 2])
    predicted = np.array([0, 1, 1, 2, 0, 2])
    onehot = np.eye(3)[labels]
    rng = np.random.default_rng(0)
    proba = rng.dirichlet([1, 1, 1], size=6) * 0.5 + np.eye(3)[predicted] * 0.5   # argmax = predicted
    for t in (labels, onehot, labels.reshape(-1, 1)):
        for p in (predicted, proba, np.eye(3)[predicted]):
            assert metrics.accuracy(t, p) == pytest.approx(4 / 6)
            assert metrics.confusion_matrix(t, p).tolist() == [[2, 0, 0], [0, 1, 1], [0, 1, 1]]
            assert metrics.precision_recall_f1(t, p)["macro_f1"] == pytest.approx((1 + 0.5 + 0.5) / 3)


def test_continuous_labels_in_one_column_are_refused():
    with pytest.raises(ValueError, match=r"y_pred: expected class labels, got continuous values such as 0\.7"):
        metrics.accuracy([0, 1], [0.0, 0.7])
    assert metrics.accuracy([0, 1], [0.0, 1.0]) == 1.0        # whole numbers in floats are labels
    with pytest.raises(ValueError, match="y_pred: expected 2 samples to match y_true, got 3"):
        metrics.accuracy([0, 1], [0, 1, 1])


def test_log_loss_checks_its_probabilities():
    with pytest.raises(ValueError, match="proba: expected probabilities in"):
        metrics.log_loss([0, 1], [1.2, 0.3])
    with pytest.raises(ValueError, match="proba: expected probabilities in"):
        metrics.log_loss([0, 1], [[1.1, -0.1], [0.5, 0.5]])
    with pytest.raises(ValueError, match="row 1 sums to 1.1"):
        metrics.log_loss([0, 1], [[0.3, 0.7], [0.5, 0.6]])
    with pytest.raises(ValueError, match="row 1 sums to 0.8"):      # the row furthest from 1
        metrics.log_loss([0, 1, 0], [[0.3, 0.7], [0.4, 0.4], [0.5, 0.55]])
    with pytest.raises(ValueError, match="y_true: expected 0/1 labels"):
        metrics.log_loss([0, 2], [0.3, 0.7])
    with pytest.raises(ValueError, match="proba: expected 2 rows to match y_true, got 3"):
        metrics.log_loss([0, 1], [0.3, 0.7, 0.5])
    with pytest.raises(ValueError, match="y_true: expected one-hot rows of shape"):
        metrics.log_loss(np.eye(3)[[0, 1]], [[0.3, 0.7], [0.5, 0.5]])
    # one-hot rows and class indices give the same value; a confident mistake costs −log ε
    P = np.array([[0.3, 0.7], [1.0, 0.0]])
    assert metrics.log_loss(np.eye(2)[[1, 1]], P) == metrics.log_loss([1, 1], P)
    eps = np.finfo(np.float64).eps
    assert metrics.log_loss([1, 1], P) == pytest.approx((-math.log(0.7) - math.log(eps)) / 2, rel=1e-14)
    assert metrics.log_loss([0], np.array([1.0], np.float32)) == pytest.approx(
        -math.log(np.finfo(np.float32).eps), rel=1e-6)


# ---------------------------------------------------------------- against scikit-learn
def regression_pairs():
    n = st.integers(2, 25)
    k = st.integers(1, 3)
    return st.tuples(n, k, st.integers(0, 2**32 - 1), st.lists(st.booleans(), min_size=3, max_size=3))


@settings(max_examples=60, deadline=None)
@given(regression_pairs())
def test_regression_metrics_agree_with_scikit_learn(case):
    skm = pytest.importorskip("sklearn.metrics")
    n, k, seed, constant = case
    rng = np.random.default_rng(seed)
    t = rng.normal(size=(n, k)) * rng.uniform(0.1, 100, size=k)
    p = t + rng.normal(size=(n, k))
    for j in range(k):
        if constant[j]:                           # a constant target, predicted exactly or not
            t[:, j] = rng.normal()
            p[:, j] = t[:, j] if rng.random() < 0.5 else p[:, j]
    if k == 1 and rng.random() < 0.5:
        t, p = t[:, 0], p[:, 0]
    assert metrics.mean_squared_error(t, p) == pytest.approx(skm.mean_squared_error(t, p), rel=1e-12)
    assert metrics.mean_absolute_error(t, p) == pytest.approx(skm.mean_absolute_error(t, p), rel=1e-12)
    assert metrics.r2_score(t, p) == pytest.approx(skm.r2_score(t, p), rel=1e-9, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 40), st.integers(2, 5), st.integers(0, 2**32 - 1), st.sampled_from(["labels", "onehot", "proba"]))
def test_classification_metrics_agree_with_scikit_learn(n, k, seed, form):
    skm = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(seed)
    t, p = rng.integers(0, k, n), rng.integers(0, k, n)
    given_p = {"labels": p, "onehot": np.eye(k)[p],
               "proba": rng.dirichlet(np.ones(k), n) * 0.4 + np.eye(k)[p] * 0.6}[form]
    labels = np.arange(k)
    assert metrics.accuracy(t, given_p) == pytest.approx(skm.accuracy_score(t, p))
    assert np.array_equal(metrics.confusion_matrix(t, given_p, labels), skm.confusion_matrix(t, p, labels=labels))
    prf = metrics.precision_recall_f1(t, given_p, labels)
    for key, sk in (("precision", skm.precision_score), ("recall", skm.recall_score), ("f1", skm.f1_score)):
        assert_close(prf[key], sk(t, p, labels=labels, average=None, zero_division=0), rtol=1e-12, what=key)
        assert prf[f"macro_{key}"] == pytest.approx(sk(t, p, labels=labels, average="macro", zero_division=0))
    P = rng.dirichlet(np.ones(k), n)
    P[rng.random(n) < 0.2] = np.eye(k)[rng.integers(0, k)]          # some certain rows: clipping
    assert metrics.log_loss(t, P) == pytest.approx(skm.log_loss(t, P, labels=labels), rel=1e-12)
    if k == 2:
        assert metrics.log_loss(t, P[:, 1]) == pytest.approx(skm.log_loss(t, P, labels=labels), rel=1e-12)


# ---------------------------------------------------------------- the Standardizer
def test_a_near_constant_column_gets_scale_one():
    X = np.full((7, 1), 100000.1)
    scaler = Standardizer().fit(X)
    assert scaler.scale_.tolist() == [1.0]
    assert scaler.transform([[100000.2]])[0, 0] == pytest.approx(0.1, rel=1e-9)
    assert Standardizer().fit([[5.0], [5.0]]).scale_.tolist() == [1.0]
    # a small but real spread keeps its scale
    tiny = Standardizer().fit([[1e-9], [-1e-9]])
    assert tiny.scale_[0] == pytest.approx(1e-9, rel=1e-12)


def test_the_standardizer_refuses_bad_input():
    scaler = Standardizer().fit([[0.0, 1.0], [2.0, 3.0]])
    with pytest.raises(ValueError, match="X: expected finite values"):
        scaler.transform([[np.nan, 0.0]])
    with pytest.raises(ValueError, match="X: expected finite values"):
        scaler.inverse_transform([[np.inf, 0.0]])
    with pytest.raises(ValueError, match="X: expected 2 features"):
        scaler.inverse_transform([[0.0, 1.0, 2.0]])
    with pytest.raises(ValueError, match="call fit"):
        Standardizer().inverse_transform([[0.0]])
    assert_close(scaler.inverse_transform(scaler.transform([[5.0, -1.0]])), [[5.0, -1.0]])


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 30), st.integers(0, 2**32 - 1),
       st.lists(st.sampled_from(["spread", "constant", "offset"]), min_size=1, max_size=4))
def test_the_standardizer_agrees_with_scikit_learn(n, seed, kinds):
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    rng = np.random.default_rng(seed)
    columns = []
    for kind in kinds:
        centre = rng.normal() * 10.0 ** rng.integers(-3, 8)
        if kind == "constant":                     # exactly constant, at any magnitude
            columns.append(np.full(n, centre))
        elif kind == "offset":                     # a real spread far from 0
            columns.append(centre + rng.normal(size=n) * abs(centre) * 1e-4)
        else:
            columns.append(rng.normal(size=n) * 10.0 ** rng.integers(-6, 6))
    X = np.column_stack(columns)
    ours, theirs = Standardizer().fit(X), preprocessing.StandardScaler().fit(X)
    assert_close(ours.mean_, theirs.mean_, rtol=1e-12, what="mean")
    assert_close(ours.scale_, theirs.scale_, rtol=1e-7, what="scale")
    X_new = X + rng.normal(size=X.shape) * np.abs(X).max(axis=0) * 1e-3
    assert_close(ours.transform(X_new), theirs.transform(X_new), rtol=1e-6, atol=1e-6, what="transform")


# ---------------------------------------------------------------- evaluate's loss
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_evaluate_reports_the_loss_exactly_at_saturation(backend, dtype):
    sigmoid = pn.MLP([1, 1], output="sigmoid", backend=backend, dtype=dtype)
    sigmoid.set_weights([np.array([[1.0]]), np.array([0.0])])
    expected = 30 + math.log1p(math.exp(-30))                   # softplus(30) = 30.0000000000000936
    rel = 1e-15 if dtype == "float64" else 1e-6
    assert sigmoid.evaluate(np.array([[30.0]]), [0])["loss"] == pytest.approx(expected, rel=rel)
    softmax = pn.MLP([1, 2], output="softmax", backend=backend, dtype=dtype)
    softmax.set_weights([np.array([[0.0], [1.0]]), np.zeros(2)])
    result = softmax.evaluate(np.array([[40.0]]), [0])           # logits [0, 40], class 0
    assert result["loss"] == pytest.approx(40 + math.log1p(math.exp(-40)), rel=rel)
    assert result["accuracy"] == 0.0


def test_text_and_string_inputs_are_type_errors():
    with pytest.raises(TypeError, match="y_true: expected an array, got a str"):
        metrics.accuracy("0101", [0, 1, 0, 1])
    with pytest.raises(TypeError, match="y_true: expected real numbers, got dtype <U1"):
        metrics.mean_squared_error(["a", "b"], [1.0, 2.0])
    with pytest.raises(TypeError, match="y_pred: expected real numbers, got dtype <U1"):
        metrics.r2_score([1.0, 2.0], ["a", "b"])
    assert metrics.accuracy(["cat", "dog"], ["cat", "cat"]) == 0.5        # string labels are labels


def test_output_accuracy_reads_softmax_by_argmax_and_sigmoid_units_by_threshold():
    A = np.array([[0.4, 0.35, 0.25], [0.2, 0.7, 0.1]])
    Y = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    assert metrics.output_accuracy(A, Y, "cce") == 1.0             # both argmaxes right
    assert metrics.output_accuracy(A, Y, "bce") == pytest.approx(5 / 6)   # 0.4 < 0.5 misses one label
    # exactly 0.5 is class 1, as predict says
    assert metrics.output_accuracy(np.array([[0.5], [0.5]]), np.array([[1.0], [0.0]]), "bce") == 0.5


def test_two_column_rows_are_rows_of_two_classes():
    onehot = np.eye(2)[[0, 1, 1]]
    proba = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]])
    assert metrics.accuracy(onehot, proba) == pytest.approx(2 / 3)
    assert metrics.confusion_matrix(onehot, proba).tolist() == [[1, 0], [1, 1]]


def test_evaluate_on_a_two_class_softmax_agrees_with_scikit_learn():
    skm = pytest.importorskip("sklearn.metrics")
    X, y = pn.datasets.make_moons(40, noise=0.3, seed=0)
    model = pn.MLP([2, 4, 2], output="softmax", seed=0)
    model.fit(X, y, epochs=5, lr=0.1)
    result, predicted = model.evaluate(X, y), model.predict(X)
    assert result["accuracy"] == pytest.approx(skm.accuracy_score(y, predicted))
    for key, sk in (("precision", skm.precision_score), ("recall", skm.recall_score), ("f1", skm.f1_score)):
        assert result[key] == pytest.approx(sk(y, predicted, average="macro", zero_division=0)), key


def test_evaluate_counts_a_probability_of_one_half_as_class_one():
    model = pn.MLP([1, 1], output="sigmoid")
    model.set_weights([np.zeros((1, 1)), np.zeros(1)])          # σ(0) = 0.5 for every input
    result = model.evaluate(np.zeros((4, 1)), [1, 1, 1, 0])
    assert result["accuracy"] == 0.75 and result["recall"] == 1.0 and result["precision"] == 0.75
