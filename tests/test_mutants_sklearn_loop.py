"""pyneuron.sklearn._loop beyond test_sklearn*.py (issue 15 item 10: the mutation run of
pyneuron/sklearn/_loop.py).

Most cases use a *frozen* estimator (SGD without momentum at lr 1e-300: every update
leaves the weights as drawn), so each epoch's loss and validation score are those of one
fixed network. Then ``loss_`` has an independent value -- scikit-learn's loss functions on
the network's predictions, batch by batch, weighted by batch size -- and the stopping rule
(tol, n_iter_no_change, ties, early stopping) must stop after exactly the epoch
scikit-learn's own MLP stops after on the same settings, whatever its weights."""
import contextlib
import io
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn import neural_network  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import _base as sk_losses  # noqa: E402
from sklearn.utils import check_random_state  # noqa: E402

from pyneuron.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

_rng = np.random.default_rng(5)
X = _rng.normal(size=(45, 3))       # 45 samples: batches of 10 leave a last batch of 5
SW = _rng.uniform(0.2, 3.0, size=45)
TARGETS = {
    "one target": (MLPRegressor, neural_network.MLPRegressor, X @ [1.0, -2.0, 0.5]),
    "two targets": (MLPRegressor, neural_network.MLPRegressor, np.column_stack([X @ [1.0, -2.0, 0.5], X[:, 1]])),
    "binary": (MLPClassifier, neural_network.MLPClassifier, (X[:, 0] > 0).astype(int)),
    "multiclass": (MLPClassifier, neural_network.MLPClassifier, np.argmax(X, axis=1)),
    "multilabel": (MLPClassifier, neural_network.MLPClassifier, (X > 0).astype(int)),
}
FROZEN = dict(solver="sgd", momentum=0.0, learning_rate_init=1e-300, shuffle=False, random_state=0,
              hidden_layer_sizes=(4,), activation="tanh")


def fit_quietly(est, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kw)


def sk_batch_loss(kind, Y, P, sw):
    """scikit-learn's data loss of one batch (``sklearn.neural_network._base``)."""
    if kind in ("one target", "two targets"):
        return sk_losses.squared_loss(Y, P, sw)
    if kind == "multiclass":
        return sk_losses.log_loss(np.eye(3)[Y], P, sw)
    return sk_losses.binary_log_loss(Y.reshape(len(Y), -1), P, sw)


def sk_epoch_loss(kind, est, y, batch, alpha, sw=None):
    """scikit-learn's ``loss_`` for a frozen network: per batch, the data loss plus
    alpha/2 · ΣW² / (the batch's weight sum, or its size), times the batch's size; over n."""
    P = est.predict_proba(X)[:, 1:] if kind == "binary" else (
        est.predict_proba(X) if est.__class__ is MLPClassifier else est.predict(X))
    sum_sq = sum(float(np.sum(W * W)) for W in est.coefs_)
    total = 0.0
    for start in range(0, len(X), batch):
        part = slice(start, start + batch)
        w = None if sw is None else sw[part]
        m = len(X[part]) if w is None else w.sum()
        total += (sk_batch_loss(kind, y[part], P[part], w) + 0.5 * alpha * sum_sq / m) * len(X[part])
    return total / len(X)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("alpha", [0.0, 0.7])
@pytest.mark.parametrize("batch", [10, 11, 15, 45], ids=["uneven batches", "a last batch of 1", "even batches",
                                                       "one batch"])
@pytest.mark.parametrize("kind", list(TARGETS))
def test_loss_is_scikit_learns_batch_weighted_loss(kind, batch, alpha, weighted):
    Ours, _, y = TARGETS[kind]
    sw = SW if weighted else None
    est = fit_quietly(Ours(max_iter=2, batch_size=batch, alpha=alpha, backend="numpy", **FROZEN), X, y,
                      sample_weight=sw)
    expected = sk_epoch_loss(kind, est, y, batch, alpha, sw)
    assert est.loss_curve_ == pytest.approx([expected, expected], rel=1e-10)
    assert est.loss_ == est.loss_curve_[-1] and est.t_ == 90 and est.n_iter_ == 2


def test_loss_of_several_targets_on_every_backend(backend):
    _, _, y = TARGETS["two targets"]
    for alpha, batch in [(0.0, 15), (0.7, 15), (0.7, 10)]:
        est = fit_quietly(MLPRegressor(max_iter=1, batch_size=batch, alpha=alpha, backend=backend, **FROZEN), X, y)
        assert est.loss_ == pytest.approx(sk_epoch_loss("two targets", est, y, batch, alpha), rel=1e-10)


# ---------------------------------------------------------------- when training stops
def n_iter_both(kind, **settings):
    """``n_iter_`` of ours and of scikit-learn's MLP, trained with the same settings."""
    Ours, Theirs, y = TARGETS[kind]
    ours = fit_quietly(Ours(backend="numpy", **settings), X, y)
    theirs = fit_quietly(Theirs(**settings), X, y)
    return ours, theirs


@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("kind", ["one target", "multiclass"])
def test_a_tie_with_the_best_counts_as_an_improvement_at_tol_zero(kind, early_stopping):
    """A frozen network repeats its loss (and score) exactly: with tol = 0 each repeat
    equals the best, which scikit-learn does not count as a failure: it runs max_iter."""
    ours, theirs = n_iter_both(kind, **FROZEN, max_iter=8, tol=0.0, n_iter_no_change=2,
                               early_stopping=early_stopping, batch_size=15)
    assert ours.n_iter_ == theirs.n_iter_ == 8
    assert len(set(ours.loss_curve_)) == 1                   # the case: every epoch the same loss


@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("kind", ["one target", "multiclass"])
def test_with_tol_above_zero_a_repeat_is_a_failure(kind, early_stopping):
    """Epoch 1 sets the best; epochs 2, 3, 4 fail by tol; the count 3 > 2 stops at epoch 4."""
    ours, theirs = n_iter_both(kind, **FROZEN, max_iter=20, tol=0.05, n_iter_no_change=2,
                               early_stopping=early_stopping, batch_size=15)
    assert ours.n_iter_ == theirs.n_iter_ == 4
    if early_stopping:
        assert ours.best_validation_score_ == ours.validation_scores_[0] and ours.best_loss_ is None
    else:
        assert ours.best_loss_ == ours.loss_curve_[0] and ours.validation_scores_ is None


@pytest.mark.parametrize("kind", ["one target", "multiclass"])
def test_stopping_at_the_last_allowed_epoch_is_not_a_convergence_failure(kind):
    """The rule stops at epoch 4 (as above); with max_iter = 4 scikit-learn breaks out of its
    loop before its ConvergenceWarning, and so does the wrapper."""
    settings = dict(**FROZEN, max_iter=4, tol=0.05, n_iter_no_change=2, batch_size=15)
    Ours, Theirs, y = TARGETS[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        ours = Ours(backend="numpy", **settings).fit(X, y)
        theirs = Theirs(**settings).fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_ == 4


@pytest.mark.parametrize("lr", [1e-6, 4e-6, 1e-4])
@pytest.mark.parametrize("kind", ["one target", "multiclass"])
def test_the_adaptive_schedule_divides_by_five_down_to_1e_minus_6(kind, lr):
    """tol = 10: every epoch after the first fails, so every second epoch triggers. At
    lr = 1e-6 exactly the first trigger stops (scikit-learn: lr <= 1e-6 stops); above it
    each trigger divides by 5 until then."""
    settings = dict(solver="sgd", learning_rate="adaptive", learning_rate_init=lr, tol=10.0, n_iter_no_change=1,
                    max_iter=50, shuffle=False, random_state=0, hidden_layer_sizes=(4,), batch_size=15)
    ours, theirs = n_iter_both(kind, **settings)
    triggers = {1e-6: 1, 4e-6: 2, 1e-4: 4}[lr]      # 1e-4 → 2e-5 → 4e-6 → 8e-7: the 4th trigger stops
    assert ours.n_iter_ == theirs.n_iter_ == 1 + 2 * triggers


class FlushedLines(io.StringIO):
    """Captured output that notes how many lines it held at each ``flush``: the wrappers
    flush every line, so progress shows while training runs (counts 1, 2, 3, …)."""

    def __init__(self):
        super().__init__()
        self.counts = []

    def flush(self):
        self.counts.append(len(self.getvalue().splitlines()))
        super().flush()

    def each_line_flushed(self):
        return sorted(set(self.counts) - {0}) == list(range(1, len(self.getvalue().splitlines()) + 1))


def test_verbose_prints_the_schedule_and_the_stop():
    """tol = 10: epochs 3, 5, 7 … trigger; 0.01 is divided by 5 six times, down to 6.4e-7, and
    the 7th trigger (at epoch 15) finds it <= 1e-6 and stops."""
    _, _, y = TARGETS["one target"]
    out = FlushedLines()
    with contextlib.redirect_stdout(out):
        est = MLPRegressor(solver="sgd", learning_rate="adaptive", learning_rate_init=0.01, tol=10.0,
                           n_iter_no_change=1, max_iter=50, shuffle=False, random_state=0, hidden_layer_sizes=(4,),
                           batch_size=15, verbose=True, backend="numpy").fit(X, y)
    losses = [f"Iteration {i}, loss = {loss:.8f}" for i, loss in enumerate(est.loss_curve_, 1)]
    assert est.n_iter_ == 15
    expected = losses[:3]
    for k, lr in enumerate(["0.002000", "0.000400", "0.000080", "0.000016", "0.000003", "0.000001"]):  # as %f
        expected += [f"Setting learning rate to {lr}", *losses[3 + 2 * k:5 + 2 * k]]
    expected.append("Training loss did not improve more than tol=10.000000 for 1 consecutive epochs. Stopping.")
    assert out.getvalue().splitlines() == expected and out.each_line_flushed()


def test_verbose_with_early_stopping_prints_the_validation_scores():
    _, _, y = TARGETS["multiclass"]
    out = FlushedLines()
    with contextlib.redirect_stdout(out):
        est = MLPClassifier(**FROZEN, max_iter=20, tol=0.5, n_iter_no_change=1, early_stopping=True,
                            batch_size=15, verbose=True, backend="numpy").fit(X, y)
    lines = []
    for i, (loss, score) in enumerate(zip(est.loss_curve_, est.validation_scores_), 1):
        lines += [f"Iteration {i}, loss = {loss:.8f}", f"Validation score: {score:f}"]
    lines.append("Validation score did not improve more than tol=0.500000 for 1 consecutive epochs. Stopping.")
    assert est.n_iter_ == 3 and out.getvalue().splitlines() == lines and out.each_line_flushed()


# ---------------------------------------------------------------- the weights kept by early stopping
def test_early_stopping_keeps_the_first_epoch_with_the_best_score_and_its_batch_statistics():
    """Accuracy on a small held-out part ties often. The weights kept are those after the
    *first* epoch with the best score (a later tie is not better, as in scikit-learn): the
    same run stopped by max_iter at that epoch ends with them, batch-norm statistics included."""
    Xs, y = X, (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    settings = dict(hidden_layer_sizes=(6,), solver="sgd", learning_rate_init=0.05, batch_size=8, random_state=3,
                    early_stopping=True, validation_fraction=0.2, tol=0.0, n_iter_no_change=6, batch_norm=True,
                    backend="numpy")
    full = fit_quietly(MLPClassifier(max_iter=200, **settings), Xs, y)
    scores = full.validation_scores_
    first_best = scores.index(max(scores)) + 1
    assert max(scores) in scores[first_best:]                # the case: a later epoch ties with the best
    short = fit_quietly(MLPClassifier(max_iter=first_best, **settings), Xs, y)
    assert short.validation_scores_ == scores[:first_best]
    for a, b in zip(full.model_.get_weights(), short.model_.get_weights()):
        np.testing.assert_array_equal(a, b)
    for mine, other in zip(full.model_.layers, short.model_.layers):
        if mine.batch_norm:
            np.testing.assert_array_equal(mine.running_mean, other.running_mean)
            np.testing.assert_array_equal(mine.running_var, other.running_var)
    _, X_val, _, y_val = train_test_split(Xs, y, random_state=check_random_state(3), test_size=0.2, stratify=y)
    assert full.score(X_val, y_val) == max(scores)


def test_a_warm_fit_that_never_beats_the_earlier_best_score_keeps_its_weights():
    """warm_start carries best_validation_score_ over; a frozen network repeats it, so no
    epoch of the second fit is better and nothing is restored (the weights stay as they are)."""
    _, _, y = TARGETS["multiclass"]
    est = fit_quietly(MLPClassifier(**FROZEN, max_iter=2, tol=0.0, early_stopping=True, warm_start=True,
                                    batch_size=15, backend="numpy"), X, y)
    best, weights = est.best_validation_score_, [W.copy() for W in est.coefs_]
    fit_quietly(est, X, y)
    assert est.validation_scores_ == [best] * 4 and est.best_validation_score_ == best and est.n_iter_ == 2
    for a, b in zip(weights, est.coefs_):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("Est, kind", [(MLPClassifier, "binary"), (MLPRegressor, "one target")])
def test_partial_fit_is_one_epoch_that_the_loop_ends(Est, kind):
    """partial_fit trains one epoch; its history_ says the loop stopped it there."""
    y = TARGETS[kind][2]
    est = Est(**FROZEN, batch_size=15, backend="numpy")
    est.partial_fit(X, y, **({"classes": [0, 1]} if Est is MLPClassifier else {}))
    assert est.history_.epoch == [1] and est.history_.stopped_epoch == 1 and est.n_iter_ == 1
