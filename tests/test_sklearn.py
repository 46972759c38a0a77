"""pyneuron.sklearn: scikit-learn's own estimator checks, model selection on the
digits, label handling, input kinds, and agreement across backends."""
import pickle
import subprocess
import sys

import numpy as np
import pytest

import pyneuron as pn

pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from pyneuron.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

BACKENDS = pn.available_backends()
#: Enough training for scikit-learn's accuracy checks, little enough for Python loops.
SMALL = dict(hidden_layer_sizes=(8,), epochs=10, learning_rate=0.01)


def _estimators_under_check():
    estimators = [MLPClassifier(backend="numpy"), MLPRegressor(backend="numpy")]
    for backend in BACKENDS:
        if backend != "numpy":
            estimators += [MLPClassifier(backend=backend, **SMALL), MLPRegressor(backend=backend, **SMALL)]
    return estimators


#: Checks that cannot hold, with the reason. None do today: every check passes on
#: every backend (with the small budget on scalar and c). Add entries here, never
#: silence a check by loosening the estimator.
EXPECTED_FAILED_CHECKS: dict[str, str] = {}


@parametrize_with_checks(_estimators_under_check(), expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


# ---------------------------------------------------------------- model selection
def test_digits_cross_validation_and_grid_search():
    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    pipe = make_pipeline(StandardScaler(),
                         MLPClassifier(hidden_layer_sizes=(64,), epochs=30, random_state=0, backend="numpy"))
    scores = cross_val_score(pipe, X_tr, y_tr, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.9

    grid = {"mlpclassifier__hidden_layer_sizes": [(32,), (64,)], "mlpclassifier__l2": [0.0, 1.0]}
    search = GridSearchCV(pipe, grid, cv=3).fit(X_tr, y_tr)
    assert len(search.cv_results_["params"]) == 4
    best = search.best_estimator_
    assert best[-1].model_.layer_sizes[0] == 64 and best[-1].model_.output == "softmax"
    assert search.score(X_te, y_te) >= 0.96


# ---------------------------------------------------------------- labels
@pytest.mark.parametrize("labels", [np.array(["cat", "dog"]), np.array([-3, 10]), np.array([True, False])])
def test_binary_labels_of_any_kind_train_one_sigmoid_unit(labels):
    X, y01 = pn.datasets.make_moons(120, noise=0.1, seed=0)
    y = labels[y01.astype(int)]
    clf = MLPClassifier(hidden_layer_sizes=(16,), epochs=60, learning_rate=0.01, random_state=0).fit(X, y)
    assert clf.model_.layer_sizes[-1] == 1 and clf.model_.output == "sigmoid"
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
    clf = MLPClassifier(hidden_layer_sizes=(8,), epochs=50, learning_rate=0.01, random_state=0).fit(X, y)
    assert list(clf.classes_) == ["ant", "moose", "zebra"]
    assert clf.model_.layer_sizes[-1] == 3 and clf.model_.output == "softmax"
    P = clf.predict_proba(X)
    assert np.array_equal(clf.predict(X), clf.classes_[P.argmax(axis=1)])
    assert clf.score(X, y) > 0.9


def test_non_contiguous_integer_labels_are_mapped_through_classes():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(90, 3))
    y = np.array([7, 100, -2])[np.argmax(X, axis=1)]
    clf = MLPClassifier(hidden_layer_sizes=(16,), epochs=80, learning_rate=0.01, random_state=0).fit(X, y)
    assert list(clf.classes_) == [-2, 7, 100]
    assert clf.predict(X).dtype == y.dtype
    assert clf.score(X, y) > 0.85


# ---------------------------------------------------------------- inputs
def test_float32_int_read_only_and_memory_mapped_inputs(tmp_path):
    X, y = pn.datasets.make_moons(80, noise=0.1, seed=3)
    clf = MLPClassifier(hidden_layer_sizes=(8,), epochs=5, random_state=0)
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
    reg = MLPRegressor(hidden_layer_sizes=(16,), epochs=100, learning_rate=0.01, random_state=0)
    one = clone(reg).fit(X, Y[:, 0])
    assert one.predict(X).shape == (100,) and one.model_.output == "linear"
    assert one.score(X, Y[:, 0]) > 0.9  # R²
    both = clone(reg).fit(X, Y)
    assert both.predict(X).shape == (100, 2) and both.model_.layer_sizes[-1] == 2
    assert both.score(X, Y) > 0.8


# ---------------------------------------------------------------- parameters and state
def test_random_state_is_the_models_seed_and_fit_is_reproducible():
    X, y = pn.datasets.make_moons(60, noise=0.1, seed=5)
    clf = MLPClassifier(hidden_layer_sizes=(6,), epochs=3, batch_size=16, optimizer="sgd",
                        learning_rate=0.1, random_state=42).fit(X, y)
    direct = pn.MLP([2, 6, 1], activation="relu", output="sigmoid", seed=42)
    direct.fit(X, y, epochs=3, batch_size=16, optimizer=pn.optimizers.SGD(lr=0.1))
    for a, b in zip(clf.model_.get_weights(), direct.get_weights()):
        np.testing.assert_array_equal(a, b)
    again = clone(clf).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    assert clf.n_iter_ == 3 and len(clf.history_["loss"]) == 3 and clf.loss_curve_ == clf.history_["loss"]


def test_an_optimizer_instance_is_copied_not_trained():
    opt = pn.optimizers.Adam(lr=0.01)
    X, y = pn.datasets.make_moons(40, noise=0.1, seed=6)
    clf = MLPClassifier(optimizer=opt, epochs=2, random_state=0).fit(X, y)
    assert opt.t == 0 and opt.state == []
    assert clf.model_.optimizer is not opt and clf.model_.optimizer.t > 0
    assert clf.get_params()["optimizer"] is opt


def test_early_stopping_holds_out_data_and_stops():
    X, y = pn.datasets.make_moons(200, noise=0.3, seed=7)
    clf = MLPClassifier(hidden_layer_sizes=(32,), epochs=500, learning_rate=0.05, early_stopping=True,
                        n_iter_no_change=5, random_state=0).fit(X, y)
    assert "val_loss" in clf.history_ and clf.n_iter_ < 500


def test_bad_parameters_are_reported_at_fit_not_init():
    X, y = pn.datasets.make_moons(30, noise=0.1, seed=0)
    clf = MLPClassifier(activation="swish", epochs=-1)  # stored as given
    assert clf.get_params()["activation"] == "swish"
    with pytest.raises(ValueError, match="activation"):
        clf.fit(X, y)
    with pytest.raises(ValueError, match="optimizer"):
        MLPClassifier(optimizer="lbfgs").fit(X, y)


# ---------------------------------------------------------------- every backend
def test_every_backend_gives_the_same_pipeline():
    X, y = pn.datasets.make_moons(100, noise=0.2, seed=8)
    results = {}
    for backend in BACKENDS:
        pipe = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(6,), epochs=5, batch_size=20,
                                                             learning_rate=0.01, random_state=1, backend=backend))
        results[backend] = pipe.fit(X, y).predict_proba(X)
        restored = pickle.loads(pickle.dumps(pipe))
        np.testing.assert_array_equal(restored.predict_proba(X), results[backend])
    for backend, P in results.items():
        np.testing.assert_allclose(P, results["numpy"], rtol=0, atol=1e-10, err_msg=backend)


def test_without_scikit_learn_the_import_says_how_to_install():
    code = ("import sys; sys.modules['sklearn'] = None\n"
            "try:\n    import pyneuron.sklearn\nexcept ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert 'pip install "pyneuron[sklearn]"' in out
