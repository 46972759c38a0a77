"""pyneuron.plot._models on its own (issue 15 item 10: the mutation run of pyneuron/plot/_models.py):
which objects are models (an MLP, a fitted wrapper's ``model_``; an unfitted estimator and
anything else refused, naming the argument), the labels and names a classifier view takes
from an MLP (codes, ``class_names``, sorted strings) or from an estimator's ``classes_``,
``codes`` for labels, a column, a one-hot matrix, and every refusal with its message.

Oracles: the labels and predictions written out by hand (fake estimators with fixed answers)."""
from __future__ import annotations

import numpy as np
import pytest

import pyneuron as pn
from pyneuron.plot._models import ClassifierView, classifier_view, network_of


def _sigmoid_net():
    return pn.MLP([2, 1], output="sigmoid", seed=0)


def _softmax_net(k=3):
    return pn.MLP([2, k], output="softmax", seed=0)


class _Fitted:
    """A fitted wrapper with fixed answers: its ``predict`` says ``answer`` for every row."""

    def __init__(self, classes, answer, proba=None):
        self.model_ = _sigmoid_net() if len(np.asarray(classes).reshape(-1)) == 2 else _softmax_net()
        self.classes_ = np.array(classes)
        self.answer, self.proba = answer, proba

    def get_params(self):
        return {}

    def fit(self, X, y):
        return self

    def predict(self, X):
        return np.array([self.answer] * len(X))

    def predict_proba(self, X):
        return np.tile(self.proba, (len(X), 1))


class _Unfitted:
    model_ = None

    def get_params(self):
        return {}

    def fit(self, X, y):
        return self


class _FitOnly:
    def fit(self, X, y):
        return self


# ------------------------------------------------------------------ network_of
def test_network_of_an_mlp_and_of_a_fitted_wrapper():
    net = _sigmoid_net()
    assert network_of(net) is net
    wrapper = _Fitted(["a", "b"], "a")
    assert network_of(wrapper) is wrapper.model_


def test_network_of_refuses_an_unfitted_estimator_and_other_objects():
    with pytest.raises(ValueError, match=r"^est: _Unfitted is not fitted yet; call fit\(X, y\) first$"):
        network_of(_Unfitted(), argument="est")
    with pytest.raises(TypeError, match=r"^model: expected a pyneuron MLP or a fitted pyneuron.sklearn "
                                        r"estimator, got _FitOnly$"):
        network_of(_FitOnly())
    with pytest.raises(TypeError, match=r"got object$"):
        network_of(object())


# ------------------------------------------------------------------ codes
def _view(labels=("a", "b")):
    return ClassifierView(labels, labels, predict_codes=None)


def test_codes_of_labels_a_column_and_a_one_hot_matrix():
    v = _view(["a", "b", "c"])
    assert v.codes(["c", "a", "b"], 3).tolist() == [2, 0, 1]
    assert v.codes(np.array([["b"], ["c"]]), 2).tolist() == [1, 2]                 # a column
    assert v.codes(np.array([[0, 0, 1], [1, 0, 0]]), 2).tolist() == [2, 0]         # one-hot
    assert v.codes(["a"], 1).dtype == np.int64


def test_a_one_class_column_is_labels_not_one_hot():
    v = ClassifierView([5], ["five"], None)
    assert v.codes(np.array([[5], [5]]), 2).tolist() == [0, 0]
    with pytest.raises(ValueError, match=r"^y: expected labels among the model's classes \[5\], got 7$"):
        v.codes(np.array([[5], [7]]), 2)                    # read as labels: 7 is not one


def test_codes_refusals():
    v = _view(["a", "b"])
    with pytest.raises(ValueError, match=r"^y: expected one label per sample \(or a one-hot matrix with 2 columns\), "
                                         r"got shape \(2, 3\)$"):
        v.codes(np.zeros((2, 3)), 2)
    with pytest.raises(ValueError, match=r"got shape \(1, 1, 2\)$"):
        v.codes(np.zeros((1, 1, 2)), 1)
    with pytest.raises(ValueError, match=r"^y: expected labels among the model's classes \['a', 'b'\], "
                                         r"got 'c', 'd', 'e', 'f', 'g'$"):
        v.codes(["a", "h", "g", "f", "e", "d", "c"], 7)                            # the first 5, sorted
    with pytest.raises(ValueError, match=r"got \[1\]$"):
        v.codes(np.array(["a", [1]], dtype=object), 2)                             # an unhashable label
    with pytest.raises(ValueError, match=r"^y: expected 3 labels \(one per row of X\), got 2$"):
        v.codes(["a", "b"], 3)
    with pytest.raises(ValueError, match=r"^y: expected 3 labels \(one per row of X\), got 2$"):
        v.codes(np.array([[1, 0], [0, 1]]), 3)


# ------------------------------------------------------------------ views of an MLP
def test_a_sigmoid_mlp_is_two_classes_with_a_probability():
    net = _sigmoid_net()
    got, view = classifier_view(net, [0, 1, 1])
    assert got is net and view.labels == [0, 1] and view.names == ["0", "1"]
    X = np.array([[0.5, -1.0], [2.0, 0.0]])
    np.testing.assert_array_equal(view.probability(X), net.predict_proba(X))
    codes = view.predict_codes(X)
    assert codes.dtype == np.int64 and codes.tolist() == np.asarray(net.predict(X)).tolist()


def test_a_softmax_mlp_has_its_outputs_as_classes_and_no_probability():
    view = classifier_view(_softmax_net(3), [2, 0, 1])[1]
    assert view.labels == [0, 1, 2] and view.probability is None
    assert classifier_view(_softmax_net(3), np.eye(3))[1].labels == [0, 1, 2]       # one-hot y


def test_string_labels_of_an_mlp():
    assert classifier_view(_softmax_net(3), ["dog", "cat", "emu"])[1].labels == ["cat", "dog", "emu"]
    view = classifier_view(_softmax_net(3), ["dog", "cat"], class_names=["x", "y", "z"])[1]
    assert view.labels == view.names == ["x", "y", "z"]
    assert classifier_view(_sigmoid_net(), np.array([["no"], ["yes"]]))[1].labels == ["no", "yes"]
    with pytest.raises(ValueError, match=r"^y: 2 distinct labels for a network with 3 classes; pass class_names="):
        classifier_view(_softmax_net(3), ["dog", "cat"])


def test_numeric_labels_keep_the_codes_and_take_the_names():
    view = classifier_view(_sigmoid_net(), [0.0, 1.0], class_names=["neg", "pos"])[1]
    assert view.labels == [0, 1] and view.names == ["neg", "pos"]


def test_mlps_that_are_not_single_label_classifiers_are_refused():
    with pytest.raises(ValueError, match=r"^model: a decision boundary shows one class per point; this network has "
                                         r"2 independent sigmoid outputs \(multilabel\)$"):
        classifier_view(pn.MLP([2, 2], output="sigmoid", seed=0), np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"^model: a decision boundary needs a classifier; this network's loss is "
                                         r"'mse' \(regression\)$"):
        classifier_view(pn.MLP([2, 1], output="linear", seed=0), [0.5, 1.5])


def test_class_names_must_be_one_per_class():
    with pytest.raises(ValueError, match=r"^class_names: expected 2 names \(one per class\), got \['a'\]$"):
        classifier_view(_sigmoid_net(), [0, 1], class_names=["a"])
    with pytest.raises(ValueError, match=r"^class_names: expected 2 names \(one per class\), got 'ab'$"):
        classifier_view(_sigmoid_net(), [0, 1], class_names="ab")


# ------------------------------------------------------------------ views of an estimator
def test_an_estimators_classes_predictions_and_probability():
    est = _Fitted(["wolf", "tiger"], "tiger", proba=[0.2, 0.8])
    net, view = classifier_view(est, ["wolf"], class_names=["W", "T"])
    assert net is est.model_ and view.labels == ["wolf", "tiger"] and view.names == ["W", "T"]
    X = np.zeros((3, 2))
    assert view.predict_codes(X).tolist() == [1, 1, 1] and view.predict_codes(X).dtype == np.int64
    np.testing.assert_array_equal(view.probability(X), [0.8, 0.8, 0.8])          # column 1: P(tiger)


def test_an_estimator_with_three_classes_has_no_probability():
    view = classifier_view(_Fitted([3, 1, 2], 2, proba=[0.1, 0.2, 0.7]), [1])[1]
    assert view.labels == [3, 1, 2] and view.names == ["3", "1", "2"] and view.probability is None
    assert view.predict_codes(np.zeros((1, 2))).tolist() == [2]


def test_estimators_that_are_not_single_label_classifiers_are_refused():
    no_classes = _Fitted(["a", "b"], "a")
    no_classes.classes_ = None
    with pytest.raises(ValueError, match=r"^model: a decision boundary needs a classifier, got _Fitted$"):
        classifier_view(no_classes, [0])

    class NoProba(_Unfitted):                     # classes_ and a network, but no predict_proba
        model_, classes_ = _sigmoid_net(), np.array(["a", "b"])

    no_proba = NoProba()
    with pytest.raises(ValueError, match=r"^model: a decision boundary needs a classifier, got NoProba$"):
        classifier_view(no_proba, [0])
    multilabel = _Fitted(["a", "b"], "a")
    multilabel.classes_ = np.array([[0, 1], [0, 1]])
    with pytest.raises(ValueError, match=r"^model: a decision boundary shows one class per point; this estimator "
                                         r"was fitted on multilabel targets$"):
        classifier_view(multilabel, [0])


def test_a_matrix_of_several_columns_is_one_hot_rows_whatever_it_holds():
    # only a 1-D y or a single column is read as labels; k columns are k classes' indicators
    view = classifier_view(_softmax_net(3), np.array([["a", "b", "c"], ["c", "b", "a"]]))[1]
    assert view.labels == [0, 1, 2]
