"""pyneuron.sklearn means what scikit-learn means: the same updates, schedules and
stopping as ``sklearn.neural_network`` (used here as the oracle), errors that name
the wrappers' parameters, partial_fit / warm_start, early stopping on the score."""
import contextlib
import copy
import io
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pyneuron as pn

pytest.importorskip("sklearn")

from sklearn import neural_network  # noqa: E402
from sklearn.datasets import load_digits, make_friedman1  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils import check_random_state  # noqa: E402

from pyneuron.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

BACKENDS = pn.available_backends()
_rng = np.random.default_rng(0)
X45 = _rng.normal(size=(45, 3))      # 45 samples: batches of 10 leave a last batch of 5
TARGETS = {
    "one target": (MLPRegressor, neural_network.MLPRegressor, X45 @ [1.0, -2.0, 0.5]),
    "two targets": (MLPRegressor, neural_network.MLPRegressor,
                    np.column_stack([X45 @ [1.0, -2.0, 0.5], np.sin(X45[:, 0])])),
    "binary": (MLPClassifier, neural_network.MLPClassifier, (X45[:, 0] > 0).astype(int)),
    "multiclass": (MLPClassifier, neural_network.MLPClassifier, np.argmax(X45, axis=1)),
    "multilabel": (MLPClassifier, neural_network.MLPClassifier, (X45 > 0).astype(int)),
}


def _side_by_side(kind, backend="numpy", epochs=20, **settings):
    """Ours and scikit-learn's MLP trained from the same initial weights, in the same order.

    Both fit one epoch (to exist), scikit-learn's weights are overwritten with ours and its
    no-improvement state with ours, then both continue with ``warm_start`` (a new optimizer
    in both, as scikit-learn's ``fit`` makes)."""
    ours, theirs, y = _same_start(kind, backend, **settings)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours.set_params(warm_start=True, max_iter=epochs).fit(X45, y)
        theirs.set_params(warm_start=True, max_iter=epochs).fit(X45, y)
    return ours, theirs


def _same_start(kind, backend="numpy", **settings):
    """Ours and scikit-learn's, fitted one epoch, then given our weights and stopping state."""
    Ours, Theirs, y = TARGETS[kind]
    kw = dict(hidden_layer_sizes=(5,), activation="tanh", batch_size=10, shuffle=False, random_state=0)
    kw.update(settings)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = Ours(max_iter=1, backend=backend, **kw).fit(X45, y)
        theirs = Theirs(max_iter=1, **kw).fit(X45, y)
    for mine, other in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        other[...] = mine
    theirs.best_loss_, theirs._no_improvement_count = ours.best_loss_, ours._no_improvement_count
    return ours, theirs, y


SGD_SETTINGS = {
    "plain": dict(solver="sgd", momentum=0.0, learning_rate_init=0.05, alpha=0.3),
    "nesterov + invscaling": dict(solver="sgd", learning_rate="invscaling", power_t=0.3,
                                  learning_rate_init=0.05, alpha=0.3),
    "even batches": dict(solver="sgd", batch_size=15, learning_rate_init=0.05, alpha=0.3),   # no per-batch hooks
    "momentum + adaptive": dict(solver="sgd", learning_rate="adaptive", nesterovs_momentum=False,
                                learning_rate_init=0.05, alpha=0.01, tol=1e-3, n_iter_no_change=2),
}


@pytest.mark.parametrize("kind", list(TARGETS))
@pytest.mark.parametrize("name", list(SGD_SETTINGS))
def test_sgd_makes_scikit_learns_updates_and_reports_its_losses(kind, name):
    """alpha ↔ l2, learning_rate_init ↔ lr, momentum and the schedules map exactly:
    the weights and loss_curve_ equal scikit-learn's to rounding."""
    ours, theirs = _side_by_side(kind, **SGD_SETTINGS[name])
    for mine, other in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(mine, other, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.loss_curve_[1:], theirs.loss_curve_[1:], rtol=1e-9)
    assert ours.t_ == theirs.t_ == 21 * 45
    assert ours.n_iter_ == theirs.n_iter_


@pytest.mark.parametrize("batch_size", [10, 15], ids=["uneven batches", "even batches"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_every_backend_makes_scikit_learns_sgd_updates(backend, batch_size):
    settings = dict(SGD_SETTINGS["nesterov + invscaling"], batch_size=batch_size)
    ours, theirs = _side_by_side("binary", backend=backend, epochs=5, **settings)
    for mine, other in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(mine, other, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("kind", list(TARGETS))
def test_adam_makes_scikit_learns_updates(kind):
    """scikit-learn folds Adam's bias correction into the step size, which moves ε; with a
    negligible ε the two agree to rounding, with its default to ~1e-4."""
    ours, theirs = _side_by_side(kind, solver="adam", learning_rate_init=0.05, alpha=0.3, epsilon=1e-15)
    for mine, other in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(mine, other, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(ours.loss_curve_[1:], theirs.loss_curve_[1:], rtol=1e-9)


@pytest.mark.parametrize("settings", [dict(solver="sgd", learning_rate="constant"),
                                      dict(solver="sgd", learning_rate="adaptive"),
                                      dict(solver="adam", learning_rate_init=0.01, epsilon=1e-15)],
                         ids=["sgd constant", "sgd adaptive", "adam"])
def test_training_stops_after_the_same_epoch_as_scikit_learns(settings):
    """tol and n_iter_no_change: stop once more than n_iter_no_change epochs failed to lower
    the loss by tol; "adaptive" divides the learning rate by 5 instead, down to 1e-6."""
    kw = dict(activation="relu", alpha=0.3, learning_rate_init=0.01, tol=1e-3, n_iter_no_change=3)
    kw.update(settings)
    ours, theirs = _side_by_side("one target", epochs=3000, **kw)
    assert ours.n_iter_ == theirs.n_iter_ < 3000
    assert ours.best_loss_ == pytest.approx(theirs.best_loss_, rel=1e-9)


# ---------------------------------------------------------------- side by side, default initialization
def test_the_classifier_scores_as_scikit_learns_on_the_same_settings():
    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    scaler = StandardScaler().fit(X_tr)
    X_tr, X_te = scaler.transform(X_tr), scaler.transform(X_te)
    settings = dict(hidden_layer_sizes=(32,), solver="sgd", learning_rate_init=0.05, alpha=1e-3,
                    batch_size=64, max_iter=25, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = MLPClassifier(**settings).fit(X_tr, y_tr).score(X_te, y_te)
        theirs = neural_network.MLPClassifier(**settings).fit(X_tr, y_tr).score(X_te, y_te)
    assert theirs > 0.93 and abs(ours - theirs) < 0.03, (ours, theirs)


def test_the_regressor_scores_as_scikit_learns_on_the_same_settings():
    X, y = make_friedman1(n_samples=400, noise=0.5, random_state=0)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=0)
    scaler = StandardScaler().fit(X_tr)
    X_tr, X_te = scaler.transform(X_tr), scaler.transform(X_te)
    settings = dict(hidden_layer_sizes=(32,), solver="adam", learning_rate_init=0.01, alpha=1e-2,
                    batch_size=32, max_iter=100, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = MLPRegressor(**settings).fit(X_tr, y_tr).score(X_te, y_te)
        theirs = neural_network.MLPRegressor(**settings).fit(X_tr, y_tr).score(X_te, y_te)
    assert theirs > 0.7 and abs(ours - theirs) < 0.06, (ours, theirs)


# ---------------------------------------------------------------- the wrapper's own names in errors
@pytest.mark.parametrize("params, name", [
    (dict(learning_rate="fast"), "learning_rate"),
    (dict(learning_rate=0.01), "learning_rate"),
    (dict(learning_rate_init=-1.0), "learning_rate_init"),
    (dict(learning_rate_init=0.0, solver="sgd"), "learning_rate_init"),
    (dict(solver="lbfgs"), "solver"),
    (dict(solver="newton"), "solver"),
    (dict(alpha=-1.0), "alpha"),
    (dict(momentum=1.5, solver="sgd"), "momentum"),
    (dict(negative_slope=-0.1), "negative_slope"),
    (dict(batch_size=0), "batch_size"),
    (dict(hidden_layer_sizes=(4, 0)), "hidden_layer_sizes"),
    (dict(max_iter=0), "max_iter"),
    (dict(tol=-1.0), "tol"),
    (dict(power_t=-0.5), "power_t"),
    (dict(beta_1=1.0), "beta_1"),
    (dict(epsilon=0.0), "epsilon"),
    (dict(n_iter_no_change=0), "n_iter_no_change"),
    (dict(validation_fraction=1.0, early_stopping=True), "validation_fraction"),
    (dict(activation="softplus"), "activation"),
    (dict(random_state=-1), "random_state"),
    (dict(random_state="seed"), "random_state"),
    (dict(verbose=-1), "verbose"),
])
def test_errors_name_the_wrappers_parameters_never_pyneurons(params, name):
    X, y = pn.datasets.make_moons(40, noise=0.1, seed=0)
    for Estimator in (MLPClassifier, MLPRegressor):
        with pytest.raises(ValueError) as info:
            Estimator(**{"max_iter": 2, **params}).fit(X, y)
        message = str(info.value)
        assert message.startswith(f"{name}:"), message
        assert not re.search(r"\blr\b", message), message


def test_a_learning_rate_given_as_a_number_points_to_learning_rate_init():
    X, y = pn.datasets.make_moons(40, noise=0.1, seed=0)
    with pytest.raises(ValueError, match="learning_rate_init"):
        MLPClassifier(learning_rate=0.01).fit(X, y)


def test_divergence_is_reported_with_the_wrappers_parameter():
    X = np.array([[1e3], [-1e3], [2e3]])
    y = np.array([1e3, -1e3, 5e2])
    with pytest.raises(pn.TrainingDivergedError) as info:
        MLPRegressor(hidden_layer_sizes=(3,), solver="sgd", momentum=0.0, learning_rate_init=10.0,
                     max_iter=50, random_state=0).fit(X, y)
    assert "learning_rate_init" in str(info.value) and " lr " not in str(info.value)


# ---------------------------------------------------------------- negative_slope
def test_negative_slope_is_the_leaky_relu_slope():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(25, 2))
    y = X[:, 0] - X[:, 1]
    reg = MLPRegressor(hidden_layer_sizes=(6,), activation="leaky_relu", negative_slope=0.2, max_iter=3,
                       tol=1e6, n_iter_no_change=1, random_state=0).fit(X, y)
    Z = X @ reg.coefs_[0] + reg.intercepts_[0]
    assert (Z < 0).any()
    hidden = np.where(Z > 0, Z, 0.2 * Z)                   # leaky ReLU with slope 0.2, by hand
    np.testing.assert_allclose(reg.predict(X), (hidden @ reg.coefs_[1] + reg.intercepts_[1])[:, 0], rtol=1e-12)


# ---------------------------------------------------------------- iterations, warnings, verbose
def test_reaching_max_iter_warns_and_stopping_on_tol_does_not():
    X, y = pn.datasets.make_moons(60, noise=0.1, seed=2)
    with pytest.warns(ConvergenceWarning, match="Maximum iterations \\(3\\)"):
        clf = MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(X, y)
    assert clf.n_iter_ == 3 and len(clf.loss_curve_) == 3 and clf.loss_ == clf.loss_curve_[-1]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        stopped = MLPClassifier(hidden_layer_sizes=(4,), max_iter=500, tol=10.0, n_iter_no_change=2,
                                random_state=0).fit(X, y)
    # epoch 1 sets best_loss_; epochs 2, 3, 4 fail to beat it by tol; the count 3 > n_iter_no_change stops
    assert stopped.n_iter_ == 4
    assert stopped.best_loss_ == min(stopped.loss_curve_)      # the best, improved by tol or not


def test_verbose_prints_scikit_learns_lines():
    X, y = pn.datasets.make_moons(30, noise=0.1, seed=2)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, verbose=True, random_state=0).fit(X, y)
    lines = out.getvalue().splitlines()
    assert lines == [f"Iteration {i}, loss = {loss:.8f}" for i, loss in enumerate(clf.loss_curve_, 1)]


# ---------------------------------------------------------------- partial_fit and warm_start
def test_partial_fit_continues_the_optimizer_as_one_fit_would():
    X, y = pn.datasets.make_moons(50, noise=0.2, seed=3)
    settings = dict(hidden_layer_sizes=(5,), solver="sgd", learning_rate="invscaling", learning_rate_init=0.1,
                    batch_size=16, shuffle=False, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        whole = MLPClassifier(max_iter=3, **settings).fit(X, y)
    parts = MLPClassifier(**settings)
    for _ in range(3):
        parts.partial_fit(X, y, classes=[0, 1])
    for a, b in zip(parts.coefs_ + parts.intercepts_, whole.coefs_ + whole.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    assert parts.t_ == whole.t_ == 150 and parts.n_iter_ == 1
    np.testing.assert_allclose(parts.loss_curve_, whole.loss_curve_, rtol=1e-12)


def test_partial_fit_needs_classes_first_and_refuses_early_stopping():
    X, y = pn.datasets.make_moons(30, noise=0.2, seed=3)
    with pytest.raises(ValueError, match="^classes:"):
        MLPClassifier().partial_fit(X, y)
    with pytest.raises(ValueError, match="^early_stopping:"):
        MLPRegressor(early_stopping=True).partial_fit(X, y.astype(float))
    clf = MLPClassifier(hidden_layer_sizes=(3,)).partial_fit(X[:10], y[:10], classes=[0, 1, 2])
    assert list(clf.classes_) == [0, 1, 2] and clf.n_outputs_ == 3     # a class not seen yet still gets its unit
    with pytest.raises(ValueError, match="^y:"):
        clf.partial_fit(X, y + 5)


def test_warm_start_continues_from_the_fitted_weights():
    X, y = pn.datasets.make_moons(50, noise=0.2, seed=4)
    settings = dict(hidden_layer_sizes=(5,), solver="sgd", momentum=0.0, learning_rate_init=0.1, batch_size=16,
                    shuffle=False, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        two = MLPClassifier(max_iter=2, **settings).fit(X, y)
        warm = MLPClassifier(max_iter=1, warm_start=True, **settings).fit(X, y).fit(X, y)
        cold = MLPClassifier(max_iter=1, **settings).fit(X, y).fit(X, y)
        one = MLPClassifier(max_iter=1, **settings).fit(X, y)
    for a, b in zip(warm.coefs_, two.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    for a, b in zip(cold.coefs_, one.coefs_):
        np.testing.assert_array_equal(a, b)
    assert warm.t_ == 100 and warm.n_iter_ == 1 and len(warm.loss_curve_) == 2
    with pytest.raises(ValueError, match="^y:"):
        warm.fit(X, np.where(y == 1, "b", "a"))


# ---------------------------------------------------------------- early stopping on the score
@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_early_stopping_watches_the_validation_score_and_keeps_the_best_weights(Estimator):
    X, y = pn.datasets.make_moons(200, noise=0.35, seed=7)
    est = Estimator(hidden_layer_sizes=(32,), max_iter=300, learning_rate_init=0.05, batch_size=16,
                    early_stopping=True, validation_fraction=0.2, n_iter_no_change=4, tol=0.0, random_state=0)
    est.fit(X, y if Estimator is MLPClassifier else y.astype(float))
    scores = est.validation_scores_
    assert est.best_loss_ is None and len(scores) == est.n_iter_ == len(est.loss_curve_) < 300
    assert est.best_validation_score_ == max(scores)
    # scikit-learn's rule, replayed: stop once more than n_iter_no_change epochs fail to beat the best
    best, count, stop = -np.inf, 0, None
    for epoch, score in enumerate(scores, 1):
        count = count + 1 if score < best + 0.0 else 0
        best = max(best, score)
        if count > 4:
            stop = epoch
            break
    assert stop == est.n_iter_
    # the weights kept are the best epoch's: scoring the held-out part again gives the best score
    labels = y if Estimator is MLPClassifier else y.astype(float)
    _, X_val, _, y_val = train_test_split(X, labels, random_state=check_random_state(0), test_size=0.2,
                                          stratify=y if Estimator is MLPClassifier else None)
    assert est.score(X_val, y_val) == pytest.approx(est.best_validation_score_, rel=1e-12)


def test_warm_start_may_switch_early_stopping_on_and_off():
    X, y = pn.datasets.make_moons(80, noise=0.2, seed=5)
    clf = MLPClassifier(hidden_layer_sizes=(6,), max_iter=3, warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
        assert clf.validation_scores_ is None and np.isfinite(clf.best_loss_)
        clf.set_params(early_stopping=True).fit(X, y)
        assert len(clf.validation_scores_) == 3 and clf.best_validation_score_ == max(clf.validation_scores_)
        clf.set_params(early_stopping=False).fit(X, y)
    assert clf.best_loss_ == min(clf.loss_curve_[-3:]) and len(clf.loss_curve_) == 9


@settings(max_examples=25, deadline=None)
@given(kind=st.sampled_from(sorted(TARGETS)),
       alpha=st.sampled_from([0.0, 1e-4, 0.1, 3.0]),
       lr=st.floats(0.001, 0.1),
       momentum=st.sampled_from([0.0, 0.5, 0.9]),
       nesterov=st.booleans(),
       schedule=st.sampled_from(["constant", "invscaling", "adaptive"]),
       batch_size=st.integers(1, 50),
       hidden=st.lists(st.integers(1, 4), min_size=0, max_size=2),
       activation=st.sampled_from(["relu", "tanh", "logistic", "identity"]))
def test_any_sgd_setting_makes_scikit_learns_updates(kind, alpha, lr, momentum, nesterov, schedule, batch_size,
                                                     hidden, activation):
    """A generated family over the settings that decide an SGD update (batch sizes larger
    than the data, and no hidden layer at all, included). Where the run diverges, both
    must refuse it: pyneuron with TrainingDivergedError, scikit-learn with its ValueError."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)      # both warn for batch_size > n_samples
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)   # scikit-learn's overflow on the way to its error
        ours, theirs, y = _same_start(kind, solver="sgd", alpha=alpha, learning_rate_init=lr, momentum=momentum,
                                      nesterovs_momentum=nesterov, learning_rate=schedule, batch_size=batch_size,
                                      hidden_layer_sizes=tuple(hidden), activation=activation,
                                      n_iter_no_change=1, tol=1e-3)
        try:
            ours.set_params(warm_start=True, max_iter=4).fit(X45, y)
        except pn.TrainingDivergedError:
            with pytest.raises(ValueError, match="non-finite"):
                theirs.set_params(warm_start=True, max_iter=4).fit(X45, y)
            return
        nudged = copy.deepcopy(theirs)
        theirs.set_params(warm_start=True, max_iter=4).fit(X45, y)
        # Some settings amplify rounding (batch 1, Nesterov 0.9, one-unit tanh layers): a
        # one-ulp change of scikit-learn's own starting weights moves its result by up to
        # 1e-7. The two libraries must agree to 1e-8, or to what rounding alone moves.
        for w in nudged.coefs_:
            w *= 1 + np.finfo(np.float64).eps
        nudged.set_params(warm_start=True, max_iter=4).fit(X45, y)
    spread = max(float(np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-12)))
                 for a, b in zip(theirs.coefs_ + theirs.intercepts_, nudged.coefs_ + nudged.intercepts_))
    rtol = max(1e-8, 10 * spread)
    for mine, other in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(mine, other, rtol=rtol, atol=1e-11)
    np.testing.assert_allclose(ours.loss_curve_[1:], theirs.loss_curve_[1:], rtol=rtol, atol=1e-12)
    assert ours.n_iter_ == theirs.n_iter_
