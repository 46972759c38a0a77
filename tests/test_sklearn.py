"""pyneuron.sklearn: scikit-learn's own estimator checks (the same set its MLP runs,
sample weights included), model selection, label handling, input kinds, and
agreement across backends."""
import pickle
import subprocess
import sys
from functools import partial

import numpy as np
import pytest

import pyneuron as pn

pytest.importorskip("sklearn")

from sklearn import neural_network  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import estimator_checks_generator, parametrize_with_checks  # noqa: E402

from pyneuron.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

BACKENDS = pn.available_backends()
#: Enough training for scikit-learn's accuracy checks, little enough for Python loops.
SMALL = dict(hidden_layer_sizes=(8,), max_iter=10, batch_size=32, learning_rate_init=0.01)


def _estimators_under_check():
    # max_iter=100: the budget scikit-learn's own test suite gives its MLP for these checks
    estimators = [MLPClassifier(backend="numpy", max_iter=100), MLPRegressor(backend="numpy", max_iter=100)]
    for backend in BACKENDS:
        if backend != "numpy":
            estimators += [MLPClassifier(backend=backend, **SMALL), MLPRegressor(backend=backend, **SMALL)]
    return estimators


#: Checks that cannot hold, with the reason. None do today: every check passes on
#: every backend (with the small budget on scalar and c). Add entries here, never
#: silence a check by loosening the estimator.
EXPECTED_FAILED_CHECKS: dict[str, str] = {}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")   # max_iter is kept small
@parametrize_with_checks(_estimators_under_check(), expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def _check_names(estimator):
    return {(chk.func if isinstance(chk, partial) else chk).__name__
            for _, chk in estimator_checks_generator(estimator, legacy=True)}


@pytest.mark.parametrize("ours, theirs", [(MLPClassifier(), neural_network.MLPClassifier()),
                                          (MLPRegressor(), neural_network.MLPRegressor())])
def test_the_checks_are_those_scikit_learns_own_mlp_runs(ours, theirs):
    """scikit-learn picks checks from an estimator's tags and methods: the same set as for its
    MLP (multilabel, partial_fit, multi-output, sample weights …) shows the wrappers declare the
    same abilities; the regressor runs one check more, for several targets, which it declares
    (scikit-learn's MLPRegressor does not)."""
    mine, reference = _check_names(ours), _check_names(theirs)
    assert reference - mine == set()
    assert any("sample_weight" in name for name in mine)
    assert mine - reference <= {"check_regressor_multioutput"}


# ---------------------------------------------------------------- model selection
def test_digits_cross_validation_and_grid_search():
    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    pipe = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(64,), max_iter=30, batch_size=32,
                                                         random_state=0, backend="numpy"))
    scores = cross_val_score(pipe, X_tr, y_tr, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.9

    grid = {"mlpclassifier__hidden_layer_sizes": [(32,), (64,)], "mlpclassifier__alpha": [1e-4, 1.0]}
    search = GridSearchCV(pipe, grid, cv=3).fit(X_tr, y_tr)
    assert len(search.cv_results_["params"]) == 4
    best = search.best_estimator_
    assert best[-1].model_.output == "softmax" and best[-1].out_activation_ == "softmax"
    assert search.score(X_te, y_te) >= 0.96


def test_a_grid_search_over_alpha_changes_the_fitted_weights():
    """alpha is the L2 strength: a larger alpha gives smaller weights and other scores
    (issue 11: the slope it used to be gave four identical scores)."""
    X, y = pn.datasets.make_moons(160, noise=0.25, seed=0)
    alphas = [1e-4, 1e-2, 1.0, 10.0]
    search = GridSearchCV(MLPClassifier(hidden_layer_sizes=(16,), max_iter=60, batch_size=32,
                                        learning_rate_init=0.01, random_state=0),
                          {"alpha": alphas}, cv=2, return_train_score=True).fit(X, y)
    assert len(set(np.round(search.cv_results_["mean_train_score"], 6))) > 1
    norms = []
    for alpha in alphas:
        fitted = clone(search.best_estimator_).set_params(alpha=alpha).fit(X, y)
        norms.append(sum(float(np.sum(W ** 2)) for W in fitted.coefs_))
    assert all(a > b for a, b in zip(norms, norms[1:])), norms


# ---------------------------------------------------------------- labels
@pytest.mark.parametrize("labels", [np.array(["cat", "dog"]), np.array([-3, 10]), np.array([True, False])])
def test_binary_labels_of_any_kind_train_one_sigmoid_unit(labels):
    X, y01 = pn.datasets.make_moons(120, noise=0.1, seed=0)
    y = labels[y01.astype(int)]
    clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=60, batch_size=32, learning_rate_init=0.01,
                        random_state=0).fit(X, y)
    assert clf.model_.layer_sizes[-1] == 1 and clf.model_.output == "sigmoid"
    assert clf.out_activation_ == "logistic" and clf.n_outputs_ == 1 and clf.n_layers_ == 3
    assert list(clf.classes_) == sorted(labels.tolist())
    P = clf.predict_proba(X)
    assert P.shape == (120, 2)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    np.testing.assert_allclose(P[:, 1], clf.model_.predict_proba(X))
    assert set(clf.predict(X)) <= set(labels.tolist())
    assert clf.score(X, y) > 0.9


def test_multiclass_string_labels_train_a_softmax_layer():
    X, y_int = pn.datasets.make_blobs(150, centers=3, seed=1)
    names = np.array(["zebra", "ant", "moose"])
    y = names[np.asarray(y_int, dtype=int)]
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=50, batch_size=32, learning_rate_init=0.01,
                        random_state=0).fit(X, y)
    assert list(clf.classes_) == ["ant", "moose", "zebra"]
    assert clf.model_.layer_sizes[-1] == 3 and clf.model_.output == "softmax" and clf.n_outputs_ == 3
    P = clf.predict_proba(X)
    assert np.array_equal(clf.predict(X), clf.classes_[P.argmax(axis=1)])
    assert clf.score(X, y) > 0.9


def test_non_contiguous_integer_labels_are_mapped_through_classes():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(90, 3))
    y = np.array([7, 100, -2])[np.argmax(X, axis=1)]
    clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=80, batch_size=32, learning_rate_init=0.01,
                        random_state=0).fit(X, y)
    assert list(clf.classes_) == [-2, 7, 100]
    assert clf.predict(X).dtype == y.dtype
    assert clf.score(X, y) > 0.85


def test_a_multilabel_indicator_matrix_trains_one_sigmoid_unit_per_label():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 4))
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] + X[:, 2] > 0, X[:, 3] < 0.5]).astype(int)
    clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=100, batch_size=32, learning_rate_init=0.01,
                        random_state=0).fit(X, Y)
    assert clf.model_.output == "sigmoid" and clf.model_.layer_sizes[-1] == 3
    assert clf.out_activation_ == "logistic" and clf.n_outputs_ == 3 and list(clf.classes_) == [0, 1, 2]
    P = clf.predict_proba(X)
    assert P.shape == (200, 3)
    pred = clf.predict(X)
    assert pred.shape == (200, 3) and set(np.unique(pred)) <= {0, 1}
    np.testing.assert_array_equal(pred, clf.model_.predict(X))
    subset_accuracy = np.mean(np.all(pred == Y, axis=1))     # what scikit-learn's score means here
    assert clf.score(X, Y) == pytest.approx(subset_accuracy) and subset_accuracy > 0.8


def test_at_probability_one_half_the_wrapper_answers_as_the_mlp():
    X, y = pn.datasets.make_moons(40, noise=0.1, seed=4)
    clf = MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0).fit(X, np.array(["no", "yes"])[y])
    for W, b in zip(clf.coefs_, clf.intercepts_):   # views: zero weights give sigmoid(0) = 0.5 exactly
        W[...] = 0.0
        b[...] = 0.0
    np.testing.assert_array_equal(clf.predict_proba(X), 0.5)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[clf.model_.predict(X)])
    assert set(clf.predict(X)) == {"yes"}       # p >= 0.5 is the positive class, as the docstring says


# ---------------------------------------------------------------- inputs
def test_float32_int_read_only_and_memory_mapped_inputs(tmp_path):
    X, y = pn.datasets.make_moons(80, noise=0.1, seed=3)
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    expected = clf.fit(X, y).predict_proba(X)

    read_only = X.copy()
    read_only.flags.writeable = False
    path = tmp_path / "X.npy"
    np.save(path, X)
    mapped = np.load(path, mmap_mode="r")
    for variant in (read_only, mapped, np.asfortranarray(X)):
        np.testing.assert_array_equal(clone(clf).fit(variant, y).predict_proba(variant), expected)
    X32 = X.astype(np.float32)
    P32 = clone(clf).fit(X32, y).predict_proba(X32)
    np.testing.assert_allclose(P32, expected, atol=1e-5)
    assert clone(clf).fit((X * 10).astype(np.int64), y).predict(X.astype(np.int64)).shape == (80,)


def test_regressor_one_and_several_targets():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(100, 3))
    Y = np.column_stack([X @ [1.0, -2.0, 0.5], np.sin(X[:, 0])])
    reg = MLPRegressor(hidden_layer_sizes=(16,), max_iter=100, batch_size=32, learning_rate_init=0.01,
                       random_state=0)
    one = clone(reg).fit(X, Y[:, 0])
    assert one.predict(X).shape == (100,) and one.model_.output == "linear" and one.out_activation_ == "identity"
    assert one.score(X, Y[:, 0]) > 0.9  # R²
    column = clone(reg)
    with pytest.warns(Warning, match="column-vector"):
        column.fit(X, Y[:, :1])
    assert column.predict(X).shape == (100,)     # as scikit-learn: one target is 1-D
    both = clone(reg).fit(X, Y)
    assert both.predict(X).shape == (100, 2) and both.n_outputs_ == 2
    assert both.score(X, Y) > 0.8


def test_coefs_are_scikit_learns_layout_and_give_the_predictions():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(30, 3))
    y = X @ [1.0, 2.0, -1.0]
    reg = MLPRegressor(hidden_layer_sizes=(4, 5), activation="tanh", max_iter=3, random_state=0).fit(X, y)
    assert [W.shape for W in reg.coefs_] == [(3, 4), (4, 5), (5, 1)]
    assert [b.shape for b in reg.intercepts_] == [(4,), (5,), (1,)]
    assert reg.n_layers_ == 4
    A = X
    for W, b in zip(reg.coefs_[:-1], reg.intercepts_[:-1]):   # scikit-learn's forward pass, by hand
        A = np.tanh(A @ W + b)
    np.testing.assert_allclose(reg.predict(X), (A @ reg.coefs_[-1] + reg.intercepts_[-1])[:, 0], rtol=1e-12)


# ---------------------------------------------------------------- parameters and state
def test_random_state_is_the_models_seed_and_fit_is_reproducible():
    X, y = pn.datasets.make_moons(60, noise=0.1, seed=5)
    clf = MLPClassifier(hidden_layer_sizes=(6,), max_iter=3, batch_size=16, solver="sgd", momentum=0.0,
                        alpha=0.0, learning_rate_init=0.1, random_state=42).fit(X, y)
    direct = pn.MLP([2, 6, 1], activation="relu", output="sigmoid", seed=42)
    direct.fit(X, y, epochs=3, batch_size=16, optimizer=pn.optimizers.SGD(lr=0.1))
    for a, b in zip(clf.model_.get_weights(), direct.get_weights()):
        np.testing.assert_array_equal(a, b)
    again = clone(clf).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    assert clf.n_iter_ == 3 and len(clf.loss_curve_) == 3 and clf.t_ == 3 * 60


def test_bad_parameters_are_reported_at_fit_not_init():
    X, y = pn.datasets.make_moons(30, noise=0.1, seed=0)
    clf = MLPClassifier(activation="swish", max_iter=-1)  # stored as given
    assert clf.get_params()["activation"] == "swish"
    with pytest.raises(ValueError, match="activation"):
        clf.fit(X, y)


# ---------------------------------------------------------------- every backend
def test_every_backend_gives_the_same_pipeline():
    X, y = pn.datasets.make_moons(100, noise=0.2, seed=8)
    results = {}
    for backend in BACKENDS:
        pipe = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(6,), max_iter=5, batch_size=20,
                                                             learning_rate_init=0.01, random_state=1,
                                                             backend=backend))
        results[backend] = pipe.fit(X, y).predict_proba(X)
        restored = pickle.loads(pickle.dumps(pipe))
        np.testing.assert_array_equal(restored.predict_proba(X), results[backend])
    for backend, P in results.items():
        np.testing.assert_allclose(P, results["numpy"], rtol=0, atol=1e-10, err_msg=backend)


def test_without_scikit_learn_the_import_says_how_to_install():
    code = ("import sys; sys.modules['sklearn'] = None\n"
            "try:\n    import pyneuron.sklearn\nexcept ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "pip install scikit-learn" in out and "pyneuron[" not in out
