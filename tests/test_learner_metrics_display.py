"""The metrics report: ``model.evaluate`` returns a dict that a notebook shows as a
table saying what each number measures. The HTML must parse (every tag closed and
properly nested) and carry the same numbers, computed here by hand."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

import pyneuron as pn
from pyneuron.metrics import MetricsReport

from test_learner_display import parse, table_rows


def _fixed_binary_model(backend):
    """A 1-1 sigmoid unit z = 2x − 1, whose labels on the points below are known."""
    model = pn.MLP([1, 1], output="sigmoid", seed=0, backend=backend)
    model.set_weights([np.array([[2.0]]), np.array([-1.0])])
    return model


def test_binary_report_values_and_table(backend):
    model = _fixed_binary_model(backend)
    X = np.array([[0.0], [1.0], [2.0], [0.2], [0.9]])
    y = np.array([0, 1, 1, 1, 0])
    # by hand: p = σ(2x − 1) → predicted 1 where x ≥ 0.5: [0, 1, 1, 0, 1]
    # TP = 2 (x = 1, 2), FP = 1 (x = 0.9), FN = 1 (x = 0.2), TN = 1
    p = 1 / (1 + np.exp(-(2 * X[:, 0] - 1)))
    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    report = model.evaluate(X, y)
    assert isinstance(report, MetricsReport) and isinstance(report, dict)
    assert list(report) == ["loss", "accuracy", "precision", "recall", "f1"]
    assert report["loss"] == pytest.approx(loss, rel=1e-12)
    assert report["accuracy"] == pytest.approx(3 / 5)
    assert report["precision"] == pytest.approx(2 / 3)
    assert report["recall"] == pytest.approx(2 / 3)
    assert report["f1"] == pytest.approx(2 / 3)
    assert (report.kind, report.loss_name, report.n_samples, report.n_classes) == ("binary", "bce", 5, 2)

    markup = report._repr_html_()
    parsed = parse(markup)
    rows = table_rows(markup)
    assert [r[0] for r in rows] == ["loss", "accuracy", "precision", "recall", "f1"]
    assert [float(r[1]) for r in rows] == [round(loss, 4), 0.6, 0.6667, 0.6667, 0.6667]
    text = "".join(parsed.text)
    assert "Metrics on 5 samples" in text and "of class 1" in text
    assert "binary cross-entropy" in text and "TP / (TP + FP)" in text and "TP / (TP + FN)" in text


def test_multiclass_report_names_the_macro_average():
    model = pn.MLP([2, 3], output="softmax", seed=0, backend="numpy")
    model.set_weights([np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]), np.zeros(3)])
    X = np.array([[3.0, 0.0], [0.0, 3.0], [-3.0, -3.0], [3.0, 0.1]])
    y = np.array([0, 1, 2, 1])            # predicted 0, 1, 2, 0 → class 1 has recall 1/2
    report = model.evaluate(X, y)
    assert report.kind == "multiclass" and report.n_classes == 3
    # by hand: precision per class (1/2, 1, 1), recall (1, 1/2, 1) → macro means
    assert report["precision"] == pytest.approx((0.5 + 1 + 1) / 3)
    assert report["recall"] == pytest.approx((1 + 0.5 + 1) / 3)
    text = "".join(parse(report._repr_html_()).text)
    assert "3 classes" in text and "macro averages" in text and "categorical cross-entropy" in text


def test_regression_report():
    model = pn.MLP([1, 1], output="linear", seed=0, backend="numpy")
    model.set_weights([np.array([[1.0]]), np.array([0.0])])
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0.0, 1.0, 2.0, 5.0])       # ŷ = x: residuals 0, 0, 0, 2
    report = model.evaluate(X, y)
    assert report.kind == "regression" and report.n_classes is None
    assert report["mse"] == pytest.approx(4 / 4)
    assert report["mae"] == pytest.approx(2 / 4)
    # by hand: ȳ = 2, Σ(y − ȳ)² = 4 + 1 + 0 + 9 = 14 → R² = 1 − 4/14
    assert report["r2"] == pytest.approx(1 - 4 / 14)
    rows = table_rows(report._repr_html_())
    assert [r[0] for r in rows] == ["loss", "mse", "mae", "r2"]
    assert float(rows[3][1]) == round(1 - 4 / 14, 4)
    assert "no better than predicting the mean" in rows[3][2]


def test_report_is_still_a_plain_dict_to_its_users():
    model = _fixed_binary_model("numpy")
    report = model.evaluate(np.array([[0.0], [1.0]]), np.array([0, 1]))
    plain = dict(report)
    assert report == plain and plain == report
    again = pickle.loads(pickle.dumps(report))
    assert again == report and again.kind == "binary" and again._repr_html_() == report._repr_html_()
    import json
    assert json.loads(json.dumps(report)) == plain


def test_unknown_entries_and_odd_text_are_escaped():
    report = MetricsReport({"<b>odd</b>": 1.0}, "regression", "<mse>", 1)
    markup = report._repr_html_()
    parse(markup)
    assert "<b>odd</b>" not in markup and "&lt;b&gt;odd&lt;/b&gt;" in markup
    assert "Metrics on 1 sample:" in "".join(parse(markup).text)
