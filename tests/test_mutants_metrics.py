"""pyneuron.metrics beyond test_metrics_sklearn / test_toolkit_io_metrics: what the
mutation run (.ci/mutation.py) showed untested — each branch on both sides: explicit
``labels`` (order, absent classes, unknown ones), classes never predicted or never
present, every argument check of ``log_loss`` and its tolerance on row sums, and what
``evaluate`` reports for each kind of model. Values by hand; scikit-learn as an oracle
where it is installed."""
from __future__ import annotations

import math

import numpy as np
import pytest

import pyneuron as pn
from pyneuron import metrics

EPS64 = np.finfo(np.float64).eps


def test_confusion_matrix_follows_the_labels_given():
    t, p = [0, 1, 2, 2], [0, 2, 2, 1]
    # rows/columns in the order asked: 2, 0, 1
    assert metrics.confusion_matrix(t, p, labels=[2, 0, 1]).tolist() == [[1, 0, 1], [0, 1, 0], [1, 0, 0]]
    # a label absent from the data gets an empty row and column
    assert metrics.confusion_matrix([0, 1], [0, 0], labels=[0, 1, 5]).tolist() == [[1, 0, 0], [1, 0, 0], [0, 0, 0]]


def test_unknown_labels_are_listed_ten_at_most():
    y = list(range(12))
    with pytest.raises(ValueError, match=r"labels: expected every label of y_true and y_pred among \[0\], "
                                         r"got also \[1, 2, 3, 4, 5, 6, 7, 8, 9, 10\]$"):
        metrics.confusion_matrix(y, y, labels=[0])


def test_classes_never_predicted_or_never_present_score_zero():
    # class 0: TP 2 of 3 predicted, 2 true; class 1: never predicted (P = 0); class 2: predicted,
    # never true (R = 0);
    # class 3: neither (P = R = F1 = 0)
    t, p = [0, 1, 1, 0], [0, 0, 2, 0]
    prf = metrics.precision_recall_f1(t, p, labels=[0, 1, 2, 3])
    assert prf["precision"].tolist() == [2 / 3, 0.0, 0.0, 0.0]
    assert prf["recall"].tolist() == [1.0, 0.0, 0.0, 0.0]
    assert prf["f1"].tolist() == pytest.approx([2 * (2 / 3) / (5 / 3), 0.0, 0.0, 0.0])
    assert prf["support"].tolist() == [2, 2, 0, 0]
    assert prf["labels"].tolist() == [0, 1, 2, 3]
    assert prf["macro_precision"] == pytest.approx(1 / 6)
    assert prf["macro_recall"] == pytest.approx(1 / 4)
    assert prf["macro_f1"] == pytest.approx(0.8 / 4)


def test_a_class_predicted_once_and_right_has_precision_one():
    prf = metrics.precision_recall_f1([0, 1, 1], [0, 1, 0])
    assert prf["precision"].tolist() == [0.5, 1.0]             # class 1: 1 of 1 predicted is right
    assert prf["recall"].tolist() == [1.0, 0.5]                # class 0: its 1 sample found


def test_a_three_dimensional_array_is_refused():
    with pytest.raises(ValueError, match=r"^y_true: expected a 1-D or 2-D array, got shape \(2, 1, 1\)$"):
        metrics.accuracy(np.zeros((2, 1, 1)), [0, 0])


def test_integer_labels_are_not_checked_for_finiteness_and_one_column_is_a_vector():
    assert metrics.accuracy(np.array([[0], [1], [2]]), [0, 1, 1]) == pytest.approx(2 / 3)
    assert metrics.accuracy([True, False], [1, 0]) == 1.0


@pytest.mark.parametrize("labels, message", [
    ([0, -1], r"y_true: expected class labels in 0\.\.1 for 2 probability columns, got values \[-1, 0\]"),
    ([0, 2], r"got values \[0, 2\]"),
    ([0.0, 0.5], r"got values \[0\.0, 0\.5\]"),
])
def test_log_loss_wants_labels_that_index_the_columns(labels, message):
    with pytest.raises(ValueError, match=message):
        metrics.log_loss(labels, [[0.5, 0.5], [0.2, 0.8]])


def test_log_loss_takes_the_top_label_and_a_column_of_labels():
    P = [[0.5, 0.5], [0.2, 0.8]]
    expected = -(math.log(0.5) + math.log(0.8)) / 2
    assert metrics.log_loss([0, 1], P) == pytest.approx(expected, rel=1e-14)
    assert metrics.log_loss([[0], [1]], P) == pytest.approx(expected, rel=1e-14)
    assert metrics.log_loss([1, 1], P) == pytest.approx(expected, rel=1e-14)


def test_log_loss_binary_checks_and_clips():
    # P(class 1) of exactly 0 and 1: clipped to [ε, 1 − ε]
    assert metrics.log_loss([1, 0], [1.0, 0.0]) == pytest.approx(-math.log1p(-EPS64), abs=1e-30)
    assert metrics.log_loss([0, 1], [1.0, 0.0]) == pytest.approx(-math.log(EPS64), rel=1e-14)
    assert metrics.log_loss([[1], [0]], [0.8, 0.4]) == pytest.approx(-(math.log(0.8) + math.log(0.6)) / 2)
    with pytest.raises(ValueError, match=r"y_true: expected 0/1 labels for a vector of P\(class 1\)"):
        metrics.log_loss([[1, 0], [0, 1]], [0.8, 0.4])
    with pytest.raises(ValueError, match=r"y_true: expected 0/1 labels .* got values \[-1\.0, 0\.0\]"):
        metrics.log_loss([0, -1], [0.8, 0.4])


def test_log_loss_probabilities_at_the_edges_of_zero_one():
    assert metrics.log_loss([0, 1], [0.0, 1.0]) == pytest.approx(-math.log1p(-EPS64), abs=1e-30)
    with pytest.raises(ValueError, match=r"proba: expected probabilities in \[0, 1\], got values from -0\.1 to 0\.5"):
        metrics.log_loss([0, 1], [-0.1, 0.5])
    with pytest.raises(ValueError, match=r"got values from 0\.5 to 1\.1"):
        metrics.log_loss([0, 1], [0.5, 1.1])


def test_a_certain_right_row_costs_minus_log_of_one_minus_epsilon():
    # clipped to 1 − ε as scikit-learn does: not 0, but −log(1 − ε) ≈ 2.2e-16
    assert metrics.log_loss([0], [[1.0, 0.0]]) == pytest.approx(-math.log1p(-EPS64), rel=1e-12, abs=0)
    assert metrics.log_loss([[0.0, 1.0]], [[0.0, 1.0]]) == pytest.approx(-math.log1p(-EPS64), rel=1e-12, abs=0)


def test_bad_labels_are_listed_ten_at_most():
    bad = list(range(2, 14))                         # twelve distinct labels
    with pytest.raises(ValueError, match=r"got values \[2, 3, 4, 5, 6, 7, 8, 9, 10, 11\]$"):
        metrics.log_loss(bad, [[0.5, 0.5]] * 12)
    with pytest.raises(ValueError, match=r"got values \[2\.0, 3\.0, 4\.0, 5\.0, 6\.0, 7\.0, 8\.0, 9\.0, 10\.0, 11\.0\] of"):
        metrics.log_loss(bad, [0.5] * 12)


def test_integer_probabilities_are_read_as_float64():
    # rows [1, 0] and [0, 1] for true class 0: −log(1 − ε) and −log ε
    got = metrics.log_loss([0, 0], np.array([[1, 0], [0, 1]]))
    assert got == pytest.approx((-math.log1p(-EPS64) - math.log(EPS64)) / 2, rel=1e-14)


def test_row_sums_are_one_to_within_the_square_root_of_epsilon():
    close = 1e-9                                     # well inside √ε ≈ 1.5e-8
    assert metrics.log_loss([0], [[0.5 + close, 0.5]]) == pytest.approx(-math.log(0.5 + close), rel=1e-14)
    with pytest.raises(ValueError, match=r"row 0 sums to 1\.00000009"):
        metrics.log_loss([0], [[0.5 + 1e-7, 0.5]])
    with pytest.raises(ValueError, match=r"row 0 sums to 0\.99999989"):
        metrics.log_loss([0], [[0.5 - 1e-7, 0.5]])


def test_r2_needs_two_samples_and_takes_exactly_two():
    with pytest.raises(ValueError, match=r"^y_true: R² needs at least 2 samples, got 1$"):
        metrics.r2_score([[1.0, 2.0, 3.0]], [[1.0, 2.0, 3.0]])          # one sample of three outputs
    assert metrics.r2_score([1.0, 2.0], [1.0, 2.0]) == 1.0
    assert metrics.r2_score([1.0, 3.0], [2.0, 2.0]) == 0.0          # the mean predicted: R² = 0


def test_regression_metrics_take_integers_and_bools():
    assert metrics.mean_squared_error([1, 2], [True, False]) == pytest.approx((0 + 4) / 2)
    assert metrics.mean_absolute_error(np.array([1, 2], np.uint8), [0.5, 2.5]) == pytest.approx(0.5)


def test_output_accuracy_of_softmax_counts_rows_not_entries():
    A = np.array([[0.6, 0.4], [0.6, 0.4], [0.1, 0.9]])
    Y = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    assert metrics.output_accuracy(A, Y, "cce") == pytest.approx(2 / 3)
    assert metrics.output_accuracy(np.array([[0.49, 0.51]]), np.array([[0.0, 1.0]]), "bce") == 1.0
    # an output of exactly 0.5 is class 1 (as predict says): right for label 1, wrong for label 0
    assert metrics.output_accuracy(np.array([[0.5], [0.5]]), np.array([[1.0], [1.0]]), "bce") == 1.0
    assert metrics.output_accuracy(np.array([[0.5]]), np.array([[0.0]]), "bce") == 0.0


# ------------------------------------------------------------------ evaluate, each kind
def test_evaluate_a_multilabel_model():
    model = pn.MLP([1, 2], output="sigmoid")
    model.set_weights([np.zeros((2, 1)), np.array([5.0, -5.0])])    # predicts labels [1, 0] always
    X = np.zeros((2, 1))
    Y = np.array([[1, 1], [1, 0]])
    result = model.evaluate(X, Y)
    assert set(result) == {"loss", "accuracy"}
    assert result["accuracy"] == pytest.approx(3 / 4)
    sp5 = math.log1p(math.exp(-5.0))                               # −log σ(5) = −log(1 − σ(−5))
    assert result["loss"] == pytest.approx((sp5 * 3 + (5.0 + sp5)) / 4, rel=1e-12)
    assert (result.kind, result.loss_name, result.n_samples, result.n_classes) == ("multilabel", "bce", 2, 2)


def test_evaluate_report_attributes_for_each_kind():
    X = np.array([[0.0], [1.0], [2.0]])
    binary = pn.MLP([1, 1], output="sigmoid")
    binary.set_weights([np.zeros((1, 1)), np.array([-5.0])])       # predicts 0 for all: precision 0
    r = binary.evaluate(X, [0, 1, 0])
    assert (r.kind, r.loss_name, r.n_samples, r.n_classes) == ("binary", "bce", 3, 2)
    assert r["precision"] == 0.0 and r["recall"] == 0.0 and r["f1"] == 0.0
    assert r["accuracy"] == pytest.approx(2 / 3)
    multi = pn.MLP([1, 3], output="softmax")
    multi.set_weights([np.zeros((3, 1)), np.array([0.0, 1.0, 0.0])])   # predicts class 1 for all
    r = multi.evaluate(X, [0, 1, 2])
    assert (r.kind, r.loss_name, r.n_samples, r.n_classes) == ("multiclass", "cce", 3, 3)
    assert r["accuracy"] == pytest.approx(1 / 3)
    assert r["precision"] == pytest.approx((0 + 1 / 3 + 0) / 3)
    assert r["recall"] == pytest.approx((0 + 1 + 0) / 3)
    reg = pn.MLP([1, 1], output="linear")
    reg.set_weights([np.ones((1, 1)), np.zeros(1)])                 # ŷ = x
    r = reg.evaluate(X, [0.0, 2.0, 2.0])
    assert (r.kind, r.loss_name, r.n_samples, r.n_classes) == ("regression", "mse", 3, None)
    assert r["mse"] == pytest.approx(1 / 3) and r["mae"] == pytest.approx(1 / 3)
    assert r["r2"] == pytest.approx(1 - 1 / (8 / 3))
    assert "<table" in r._repr_html_()


# ------------------------------------------------------------------ scikit-learn (last: slow to import)
def test_precision_recall_f1_agree_with_scikit_learn_on_empty_classes():
    skm = pytest.importorskip("sklearn.metrics")
    t, p = [0, 1, 1, 0, 3], [0, 0, 2, 0, 3]
    prf = metrics.precision_recall_f1(t, p)
    for key, sk in (("precision", skm.precision_score), ("recall", skm.recall_score), ("f1", skm.f1_score)):
        assert prf[key].tolist() == pytest.approx(sk(t, p, average=None, zero_division=0).tolist()), key
        assert prf["macro_" + key] == pytest.approx(sk(t, p, average="macro", zero_division=0)), key
