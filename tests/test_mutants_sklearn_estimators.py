"""pyneuron.sklearn._base and ._estimators beyond test_sklearn*.py (issue 15 item 10: the
mutation runs of pyneuron/sklearn/_base.py and _estimators.py): the defaults against
scikit-learn's MLP, the seed, the batch size "auto", warnings and where they point, the
held-out part of early stopping (stratified, its weights, too small), warm_start and
partial_fit's refusals, and the label kinds. Validation scores are checked on a *frozen*
network (SGD at lr 1e-300 leaves the weights as drawn), whose score has an independent
value: scikit-learn's accuracy_score / r2_score on the replayed split."""
import warnings

import numpy as np
import pytest

import pyneuron as pn

pytest.importorskip("sklearn")

sparse = pytest.importorskip("scipy.sparse")    # comes with scikit-learn
from sklearn import neural_network  # noqa: E402
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning  # noqa: E402
from sklearn.metrics import accuracy_score, r2_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import _base as sk_losses  # noqa: E402
from sklearn.utils import check_random_state  # noqa: E402

from pyneuron.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

_rng = np.random.default_rng(8)
X = _rng.normal(size=(60, 3))
Y_BIN = (X[:, 0] + 0.3 * X[:, 1] > 0).astype(int)
Y_MULTILABEL = (X[:, :2] > 0).astype(int)
Y_REG = X @ [1.0, -1.0, 0.5]
FROZEN = dict(solver="sgd", momentum=0.0, learning_rate_init=1e-300, shuffle=False, random_state=4,
              hidden_layer_sizes=(5,), batch_size=20, backend="numpy")


def fit_quietly(est, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kw)


# ---------------------------------------------------------------- defaults and the seed
@pytest.mark.parametrize("Ours, Theirs", [(MLPClassifier, neural_network.MLPClassifier),
                                          (MLPRegressor, neural_network.MLPRegressor)])
def test_the_defaults_are_scikit_learns(Ours, Theirs):
    ours, theirs = Ours().get_params(), Theirs().get_params()
    theirs.pop("max_fun")                                      # lbfgs only
    theirs.pop("loss", None)             # MLPRegressor's "squared_error" (or "poisson"): ours is squared error
    assert {k: ours[k] for k in theirs} == theirs
    assert {k: ours[k] for k in set(ours) - set(theirs)} == dict(negative_slope=0.01, dropout=0.0, batch_norm=False,
                                                                 backend=None)


@pytest.mark.parametrize("random_state", [0, 5, np.int64(9)])
def test_an_int_random_state_is_the_models_seed(random_state):
    est = MLPRegressor(hidden_layer_sizes=(3,), max_iter=1, random_state=random_state, learning_rate_init=1e-300,
                       solver="sgd", momentum=0.0)
    fit_quietly(est, X, Y_REG)
    twin = pn.MLP([3, 3, 1], activation="relu", output="linear", seed=int(random_state))
    for a, b in zip(est.model_.get_weights(), twin.get_weights()):    # biases moved by ~1e-300 only
        np.testing.assert_allclose(a, b, rtol=1e-15, atol=1e-290)


def test_a_random_state_object_draws_the_seed():
    est = MLPRegressor(hidden_layer_sizes=(3,), max_iter=1, random_state=np.random.RandomState(7),
                       learning_rate_init=1e-300, solver="sgd", momentum=0.0)
    fit_quietly(est, X, Y_REG)
    seed = np.random.RandomState(7).randint(np.iinfo(np.int32).max)
    twin = pn.MLP([3, 3, 1], activation="relu", output="linear", seed=int(seed))
    for a, b in zip(est.model_.get_weights(), twin.get_weights()):    # biases moved by ~1e-300 only
        np.testing.assert_allclose(a, b, rtol=1e-15, atol=1e-290)


# ---------------------------------------------------------------- batches, warnings, output
def test_batch_size_auto_is_200_at_most():
    """201 samples: batches of 200 and 1, so the frozen network's loss_ has two penalty terms
    alpha/2·ΣW²/m, each weighted by m/n (scikit-learn's loss_)."""
    Xb = np.random.default_rng(1).normal(size=(201, 3))
    y = Xb[:, 0]
    est = fit_quietly(MLPRegressor(max_iter=1, alpha=5.0, **dict(FROZEN, batch_size="auto")), Xb, y)
    sum_sq = sum(float(np.sum(W * W)) for W in est.coefs_)
    P = est.predict(Xb)
    expected = sum(len(y[s]) * (sk_losses.squared_loss(y[s], P[s]) + 2.5 * sum_sq / len(y[s]))
                   for s in (slice(0, 200), slice(200, 201))) / 201
    assert est.loss_ == pytest.approx(expected, rel=1e-10)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_batch_larger_than_the_data_warns_where_fit_was_called():
    with pytest.warns(UserWarning, match=r"^batch_size: 61 is larger than the 60 training samples; "
                                         r"using batches of 60$") as record:
        MLPRegressor(max_iter=1, **dict(FROZEN, batch_size=61)).fit(X, Y_REG)      # this line is reported
    assert [w.filename for w in record if w.category is UserWarning] == [__file__]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)        # as large as the data: no warning
        fit_quietly(MLPRegressor(max_iter=1, **dict(FROZEN, batch_size=60)), X, Y_REG)


def test_the_convergence_warning_points_at_the_callers_line():
    with pytest.warns(ConvergenceWarning, match=r"^Stochastic Optimizer: Maximum iterations \(2\) reached") as rec:
        MLPRegressor(max_iter=2, **FROZEN).fit(X, Y_REG)
    assert [w.filename for w in rec] == [__file__]


def test_partial_fit_never_warns_about_max_iter():
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = MLPRegressor(max_iter=1, **FROZEN)
        est.partial_fit(X, Y_REG).partial_fit(X, Y_REG)
    assert est.n_iter_ == 1 and est.t_ == 120


def test_fit_prints_nothing_unless_verbose(capfd):
    fit_quietly(MLPClassifier(max_iter=2, **FROZEN), X, Y_BIN)
    assert capfd.readouterr() == ("", "")


def test_sparse_input_is_declared_and_trains_as_the_dense_array():
    est = MLPClassifier(max_iter=2, hidden_layer_sizes=(4,), random_state=0, backend="numpy")
    assert est.__sklearn_tags__().input_tags.sparse is True
    dense = fit_quietly(est, X, Y_BIN).predict_proba(X)
    for matrix in (sparse.csr_matrix, sparse.csc_matrix, sparse.coo_matrix):
        np.testing.assert_array_equal(fit_quietly(MLPClassifier(**est.get_params()), matrix(X), Y_BIN)
                                      .predict_proba(matrix(X)), dense)


def test_wrong_length_sample_weights_are_refused_by_scikit_learns_check():
    with pytest.raises(ValueError, match=r"sample_weight.shape == \(59,\), expected \(60,\)"):
        MLPRegressor(max_iter=1, **FROZEN).fit(X, Y_REG, sample_weight=np.ones(59))


def test_uniform_sample_weights_train_as_none():
    plain = fit_quietly(MLPRegressor(max_iter=2, **dict(FROZEN, learning_rate_init=0.01)), X, Y_REG)
    ones = fit_quietly(MLPRegressor(max_iter=2, **dict(FROZEN, learning_rate_init=0.01)), X, Y_REG,
                       sample_weight=[1.0] * 60)
    for a, b in zip(plain.coefs_, ones.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-13)


# ---------------------------------------------------------------- early stopping's held-out part
def held_out(y, seed, fraction, stratify=True, weights=None):
    parts = [X, y] + ([weights] if weights is not None else [])
    return train_test_split(*parts, random_state=check_random_state(seed), test_size=fraction,
                            stratify=y if stratify else None)


@pytest.mark.parametrize("kind", ["binary", "multilabel", "regression"])
@pytest.mark.parametrize("weighted", [False, True])
def test_the_validation_score_is_scikit_learns_score_on_the_held_out_part(kind, weighted):
    """Classes are split stratified (a multilabel matrix not), and the held-out samples'
    weights weight the score: accuracy (subset accuracy for multilabel) or R²."""
    Est, y = {"binary": (MLPClassifier, Y_BIN), "multilabel": (MLPClassifier, Y_MULTILABEL),
              "regression": (MLPRegressor, Y_REG)}[kind]
    w = np.linspace(0.05, 1.0, 60) if weighted else None     # all in (0, 1]: any positive weight counts
    est = fit_quietly(Est(max_iter=2, early_stopping=True, validation_fraction=0.3, **FROZEN), X, y,
                      sample_weight=w)
    parts = held_out(y, 4, 0.3, stratify=kind == "binary", weights=w)
    X_val, y_val, w_val = parts[1], parts[3], (parts[5] if weighted else None)
    score = r2_score if kind == "regression" else accuracy_score
    expected = score(y_val, est.predict(X_val), sample_weight=w_val)
    assert est.validation_scores_ == pytest.approx([expected, expected], rel=1e-12)
    other = score(y_val, est.predict(X_val), sample_weight=None if weighted else np.linspace(0.05, 1.0, 18))
    assert other != pytest.approx(expected, rel=1e-6)       # the weights (or their absence) decide it


def test_held_out_samples_that_all_weigh_zero_are_scored_unweighted():
    index = np.arange(60)
    _, val_index = train_test_split(index, random_state=check_random_state(4), test_size=0.3, stratify=Y_BIN)
    w = np.ones(60)
    w[val_index] = 0.0
    est = fit_quietly(MLPClassifier(max_iter=1, early_stopping=True, validation_fraction=0.3, **FROZEN), X, Y_BIN,
                      sample_weight=w)
    assert est.validation_scores_ == [accuracy_score(Y_BIN[val_index], est.predict(X[val_index]))]


def test_early_stopping_needs_two_held_out_samples():
    est = fit_quietly(MLPRegressor(max_iter=1, early_stopping=True, validation_fraction=2 / 60, **FROZEN), X, Y_REG)
    assert len(est.validation_scores_) == 1
    with pytest.raises(ValueError, match=r"^validation_fraction: 0.01 of the data leaves 1 sample for validation; "
                                         r"early stopping needs at least 2$"):
        MLPRegressor(max_iter=1, early_stopping=True, validation_fraction=0.01, **FROZEN).fit(X, Y_REG)


@pytest.mark.parametrize("Est, y", [(MLPClassifier, Y_BIN), (MLPRegressor, Y_REG)])
def test_fit_forgets_the_features_of_the_last_fit_and_predict_remembers_them(Est, y):
    est = fit_quietly(Est(max_iter=1, **FROZEN), X, y)
    fit_quietly(est, X[:, :2], y)                   # a new fit: two features now
    assert est.n_features_in_ == 2 and est.model_.layer_sizes[0] == 2
    with pytest.raises(ValueError, match=r"X has 3 features, but \w+ is expecting 2 features as input"):
        est.predict(X)
    with pytest.raises(ValueError, match=r"X has 3 features, but \w+ is expecting 2 features as input"):
        est.partial_fit(X, y, **({"classes": [0, 1]} if Est is MLPClassifier else {}))


# ---------------------------------------------------------------- warm_start and partial_fit
def test_warm_start_refuses_other_layer_sizes():
    est = fit_quietly(MLPRegressor(max_iter=1, warm_start=True, **FROZEN), X, Y_REG)
    with pytest.raises(ValueError, match=r"^hidden_layer_sizes: warm_start and partial_fit continue the fitted "
                                         r"network \[3, 5, 1\], but the parameters now ask for \[3, 6, 1\]$"):
        est.set_params(hidden_layer_sizes=(6,)).fit(X, Y_REG)
    with pytest.raises(ValueError, match=r"^hidden_layer_sizes: .* now ask for \[3, 5, 2\]$"):
        est.set_params(hidden_layer_sizes=(5,)).partial_fit(X, np.c_[Y_REG, Y_REG])


def test_warm_start_may_begin_with_early_stopping_and_switch_it_off():
    """Early stopping keeps no best_loss_ (None, as scikit-learn); switched off in a warm
    fit, the training loss is watched from then on."""
    est = fit_quietly(MLPRegressor(max_iter=2, warm_start=True, early_stopping=True, **FROZEN), X, Y_REG)
    assert est.best_loss_ is None and len(est.validation_scores_) == 2
    fit_quietly(est, X, Y_REG)                      # still early stopping: still no best_loss_
    assert est.best_loss_ is None and len(est.validation_scores_) == 4
    fit_quietly(est.set_params(early_stopping=False), X, Y_REG)
    assert est.best_loss_ == min(est.loss_curve_[-2:]) and len(est.validation_scores_) == 4


def test_without_warm_start_fit_starts_over():
    est = fit_quietly(MLPRegressor(max_iter=1, **dict(FROZEN, learning_rate_init=0.01)), X, Y_REG)
    first = [W.copy() for W in est.coefs_]
    fit_quietly(est, X, Y_REG)
    assert est.t_ == 60 and len(est.loss_curve_) == 1
    for a, b in zip(first, est.coefs_):
        np.testing.assert_array_equal(a, b)
    fit_quietly(est.set_params(hidden_layer_sizes=(2,)), X, Y_REG)     # a new network may have other sizes
    assert est.model_.layer_sizes == [3, 2, 1]


def test_partial_fit_keeps_the_classes_of_its_first_call():
    clf = MLPClassifier(**FROZEN).partial_fit(X, Y_BIN, classes=[1, 0])
    assert clf.classes_.tolist() == [0, 1]
    clf.partial_fit(X, Y_BIN, classes=np.array([0, 1, 1]))        # the same set again is fine
    clf.partial_fit(X, Y_BIN)
    assert clf.t_ == 180
    with pytest.raises(ValueError, match=r"^classes: \[0, 1, 2\] differs from the classes of the first call, "
                                         r"\[0, 1\]$"):
        clf.partial_fit(X, Y_BIN, classes=[0, 1, 2])


def test_partial_fit_of_a_multilabel_matrix_needs_no_classes():
    clf = MLPClassifier(**FROZEN).partial_fit(X, Y_MULTILABEL)
    assert clf.classes_.tolist() == [0, 1] and clf.n_outputs_ == 2 and clf.out_activation_ == "logistic"
    assert clf.predict(X).shape == (60, 2) and clf.predict_proba(X).shape == (60, 2)


def test_the_regressors_partial_fit_continues_the_network():
    est = MLPRegressor(**dict(FROZEN, learning_rate_init=0.01)).partial_fit(X, Y_REG)
    first = [W.copy() for W in est.coefs_]
    est.partial_fit(X, Y_REG)
    assert est.t_ == 120 and len(est.loss_curve_) == 2
    assert not np.array_equal(first[0], est.coefs_[0])
    assert est.loss_curve_[1] < est.loss_curve_[0]


# ---------------------------------------------------------------- label kinds
def test_a_column_vector_of_labels_warns_and_is_read_as_1d():
    with pytest.warns(DataConversionWarning, match="column-vector"):
        clf = fit_quietly(MLPClassifier(max_iter=1, **FROZEN), X, Y_BIN[:, None])
    assert clf.n_outputs_ == 1 and clf.predict(X).shape == (60,)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataConversionWarning)   # a 2-column indicator matrix: no warning
        fit_quietly(MLPClassifier(max_iter=1, **FROZEN), X, Y_MULTILABEL)


def test_one_class_is_refused():
    one_class = r"^y: a classifier needs at least 2 classes, got 1 class \(3\)$"
    with pytest.raises(ValueError, match=one_class):
        MLPClassifier(max_iter=1, **FROZEN).fit(X, np.full(60, 3))


def test_multiclass_multioutput_targets_are_refused():
    Y = np.c_[np.arange(60) % 3, np.arange(60) % 2]
    with pytest.raises(ValueError, match=r"^y: expected class labels \(binary, multiclass\) or a 0/1 multilabel "
                                         r"indicator matrix, got 'multiclass-multioutput' targets$"):
        MLPClassifier(max_iter=1, **FROZEN).fit(X, Y)


def test_the_legacy_tags_say_multilabel_and_multioutput():
    """scikit-learn < 1.6 reads ``_more_tags``; the new tags say the same."""
    assert MLPClassifier()._more_tags() == {"multilabel": True}
    assert MLPRegressor()._more_tags() == {"multioutput": True}
    assert MLPClassifier().__sklearn_tags__().classifier_tags.multi_label is True
    assert MLPRegressor().__sklearn_tags__().target_tags.multi_output is True


def test_three_classes_train_softmax_and_their_probabilities_sum_to_one():
    y = np.arange(60) % 3
    clf = fit_quietly(MLPClassifier(max_iter=1, **FROZEN), X, y)
    P = clf.predict_proba(X)
    assert clf.out_activation_ == "softmax" and P.shape == (60, 3)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(P), rtol=1e-14)
    np.testing.assert_array_equal(clf.predict(X), P.argmax(axis=1))


def test_binary_probabilities_are_one_minus_p_and_p():
    clf = fit_quietly(MLPClassifier(max_iter=1, **FROZEN), X, np.where(Y_BIN == 1, "yes", "no"))
    P = clf.predict_proba(X)
    p = clf.model_.predict_proba(X).ravel()
    np.testing.assert_array_equal(P, np.c_[1.0 - p, p])


def test_one_class_of_strings_is_named_as_python_writes_it():
    with pytest.raises(ValueError, match=r"^y: a classifier needs at least 2 classes, got 1 class \('cat'\)$"):
        MLPClassifier(max_iter=1, **FROZEN).fit(X, np.array(["cat"] * 60))
