"""The scikit-learn wrappers' sample_weight: fit, partial_fit and score, against scikit-learn's
own loss functions and metrics (the estimator checks in test_sklearn.py cover shapes, lists,
pandas, all-zero weights and the weight-2-is-a-duplicate equivalence)."""
import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.metrics import accuracy_score, r2_score  # noqa: E402
from sklearn.neural_network import _base as sk_losses  # noqa: E402

from pyneuron.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

RNG = np.random.default_rng(0)
X = RNG.normal(size=(30, 4))
Y_BIN = (X[:, 0] + 0.3 * RNG.normal(size=30) > 0).astype(int)
Y_REG = np.c_[X[:, 0] - X[:, 1], X[:, 2]]
W = RNG.uniform(0.0, 3.0, size=30)


def frozen(cls, **kw):
    """An estimator whose single epoch leaves the weights as drawn (lr 1e-300), so its
    ``loss_`` is the loss of the weights it ends with."""
    return cls(hidden_layer_sizes=(5,), solver="sgd", momentum=0.0, learning_rate_init=1e-300,
               max_iter=1, batch_size=30, random_state=1, backend="numpy", **kw)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_classifier_loss_is_sklearns_weighted_log_loss():
    est = frozen(MLPClassifier, alpha=0.5).fit(X, Y_BIN, sample_weight=W)
    p = est.predict_proba(X)[:, 1:]
    penalty = 0.5 * 0.5 * sum(float(np.sum(c * c)) for c in est.coefs_) / W.sum()
    expected = sk_losses.binary_log_loss(Y_BIN[:, None], p, sample_weight=W) + penalty
    assert est.loss_ == pytest.approx(expected, rel=1e-9)
    unweighted = frozen(MLPClassifier, alpha=0.5).fit(X, Y_BIN)
    assert unweighted.loss_ != pytest.approx(expected, rel=1e-3)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_regressor_loss_is_sklearns_weighted_squared_loss():
    est = frozen(MLPRegressor, alpha=0.3).fit(X, Y_REG, sample_weight=W)
    penalty = 0.5 * 0.3 * sum(float(np.sum(c * c)) for c in est.coefs_) / W.sum()
    expected = sk_losses.squared_loss(Y_REG, est.predict(X), sample_weight=W) + penalty
    assert est.loss_ == pytest.approx(expected, rel=1e-9)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("cls, y", [(MLPClassifier, Y_BIN), (MLPRegressor, Y_REG)])
def test_partial_fit_weight_two_is_the_row_twice(cls, y):
    w = np.tile([1, 2, 0], 10)
    kw = dict(hidden_layer_sizes=(5,), solver="sgd", learning_rate_init=0.05, batch_size=30,
              shuffle=False, random_state=1, backend="numpy")
    weighted, repeated = cls(**kw), cls(**kw)
    extra = {"classes": [0, 1]} if cls is MLPClassifier else {}
    for _ in range(3):
        weighted.partial_fit(X, y, sample_weight=w, **extra)
        repeated.partial_fit(np.repeat(X, w, axis=0), np.repeat(y, w, axis=0), **extra)
    for a, b in zip(weighted.coefs_ + weighted.intercepts_, repeated.coefs_ + repeated.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_score_takes_sample_weight():
    clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=0, backend="numpy").fit(X, Y_BIN)
    assert clf.score(X, Y_BIN, sample_weight=W) == pytest.approx(
        accuracy_score(Y_BIN, clf.predict(X), sample_weight=W))
    reg = MLPRegressor(hidden_layer_sizes=(5,), max_iter=5, random_state=0, backend="numpy").fit(X, Y_REG)
    assert reg.score(X, Y_REG, sample_weight=W) == pytest.approx(
        r2_score(Y_REG, reg.predict(X), sample_weight=W))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_early_stopping_weights_the_validation_score():
    w = np.where(Y_BIN == 1, 5.0, 0.2)
    est = MLPClassifier(hidden_layer_sizes=(5,), max_iter=3, early_stopping=True, validation_fraction=0.3,
                        random_state=0, backend="numpy", n_iter_no_change=50).fit(X, Y_BIN, sample_weight=w)
    from sklearn.model_selection import train_test_split
    from sklearn.utils import check_random_state
    _, X_val, _, y_val, _, w_val = train_test_split(X, Y_BIN, w, random_state=check_random_state(0),
                                                    test_size=0.3, stratify=Y_BIN)
    assert len(est.validation_scores_) == 3
    # the last score is that of the final weights unless an earlier one was better (restored)
    if est.validation_scores_[-1] >= max(est.validation_scores_):
        assert est.validation_scores_[-1] == pytest.approx(
            accuracy_score(y_val, est.predict(X_val), sample_weight=w_val))


def test_weighted_sklearn_and_pyneuron_reach_comparable_scores():
    """Side by side with scikit-learn's MLP, same settings, class 1 weighted up: both move
    the decision the same way (more of class 1 predicted than without weights)."""
    from sklearn.neural_network import MLPClassifier as SkMLP
    rng = np.random.default_rng(3)
    Xi = rng.normal(size=(200, 2))
    yi = (Xi[:, 0] + 0.8 * rng.normal(size=200) > 0.9).astype(int)        # ~20 % positives
    w = np.where(yi == 1, 4.0, 1.0)
    settings = dict(hidden_layer_sizes=(8,), solver="adam", learning_rate_init=0.01, max_iter=200,
                    batch_size=50, random_state=0, alpha=1e-4)
    ours = MLPClassifier(backend="numpy", **settings)
    theirs = SkMLP(**settings)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain_ours = ours.fit(Xi, yi).predict(Xi).mean()
        weighted_ours = ours.fit(Xi, yi, sample_weight=w).predict(Xi).mean()
        plain_theirs = theirs.fit(Xi, yi).predict(Xi).mean()
        weighted_theirs = theirs.fit(Xi, yi, sample_weight=w).predict(Xi).mean()
    assert weighted_ours > plain_ours and weighted_theirs > plain_theirs
    assert abs(weighted_ours - weighted_theirs) < 0.1
    assert abs(ours.score(Xi, yi, sample_weight=w) - theirs.score(Xi, yi, sample_weight=w)) < 0.06
