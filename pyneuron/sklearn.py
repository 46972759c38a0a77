"""scikit-learn estimators around a pyneuron MLP: ``MLPClassifier`` and ``MLPRegressor``.

They follow scikit-learn's estimator conventions, so a pyneuron network can sit
in a ``Pipeline``, be cross-validated with ``cross_val_score`` or tuned with
``GridSearchCV``::

    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from pyneuron.sklearn import MLPClassifier

    clf = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(32,), epochs=50))
    clf.fit(X_train, y_train).score(X_test, y_test)

What scikit-learn's conventions mean here:

* ``__init__`` only stores its arguments; they are checked when ``fit`` runs.
* ``fit`` builds a new pyneuron :class:`~pyneuron.MLP` every time and returns
  ``self``. What it learned ends in an underscore: ``model_`` (the MLP itself,
  to inspect, ``explain`` or ``to_torch``), ``history_`` (its
  :class:`~pyneuron.History`), ``n_features_in_``, and for the classifier
  ``classes_``.
* Class labels may be anything ``numpy.unique`` can sort (strings,
  non-contiguous integers); they are mapped to ``0..k-1`` through ``classes_``.
  Two classes train one sigmoid unit (binary cross-entropy), more train a
  softmax layer (categorical cross-entropy).
* Inputs are validated by scikit-learn and copied to float64 where needed, so
  float32, integer, read-only and memory-mapped arrays all work.
* ``random_state``: an integer is used as the MLP's ``seed`` (so
  ``MLP(..., seed=random_state)`` reproduces the network); ``None`` or a
  ``RandomState`` draws a seed from it.
"""
from __future__ import annotations

import copy
import numbers

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.preprocessing import LabelEncoder
    from sklearn.utils import check_random_state
    from sklearn.utils.multiclass import check_classification_targets, type_of_target
    from sklearn.utils.validation import check_is_fitted
except ImportError as exc:  # pragma: no cover - exercised only without scikit-learn
    raise ImportError(f"pyneuron.sklearn needs scikit-learn, which could not be imported ({exc}). "
                      "Install it with: pip install \"pyneuron[sklearn]\"") from None

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _sk_validate_data
except ImportError:  # pragma: no cover - older scikit-learn
    _sk_validate_data = None

from . import optimizers as _optimizers
from .network import MLP
from .training import EarlyStopping

__all__ = ["MLPClassifier", "MLPRegressor"]


def _validate_data(estimator, X, y="no_validation", reset=True, **options):
    """scikit-learn's input validation, whichever way the installed version spells it."""
    if _sk_validate_data is not None:
        return _sk_validate_data(estimator, X, y, reset=reset, **options)
    return estimator._validate_data(X, y, reset=reset, **options)  # pragma: no cover


class _BaseMLP(BaseEstimator):
    """What the classifier and the regressor share: parameters, building, training."""

    def __init__(self, hidden_layer_sizes=(32,), activation="relu", optimizer="adam",
                 learning_rate=0.001, epochs=200, batch_size=32, l2=0.0, alpha=0.01,
                 dropout=0.0, batch_norm=False, shuffle=True, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=10, backend=None,
                 random_state=None, verbose=0):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.l2 = l2
        self.alpha = alpha
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.shuffle = shuffle
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.backend = backend
        self.random_state = random_state
        self.verbose = verbose

    # -------------------------------------------------------------- helpers
    def _seed(self):
        if isinstance(self.random_state, numbers.Integral) and not isinstance(self.random_state, bool):
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral) and not isinstance(sizes, bool):
            return [int(sizes)]
        try:
            return list(sizes)
        except TypeError:
            raise ValueError(f"hidden_layer_sizes: expected an int or a tuple of ints, got {sizes!r}") from None

    def _make_optimizer(self):
        if isinstance(self.optimizer, _optimizers.Optimizer):
            fresh = copy.deepcopy(self.optimizer)  # never train with (or change) the parameter itself
            fresh.reset()
            return fresh
        return _optimizers.get(self.optimizer, lr=self.learning_rate)

    def _train(self, X, y, n_outputs, output):
        """Build a new MLP for ``X`` and fit it to the encoded targets ``y``."""
        model = MLP([X.shape[1]] + self._hidden_sizes() + [n_outputs], activation=self.activation,
                    output=output, seed=self._seed(), backend=self.backend, alpha=self.alpha,
                    dropout=self.dropout, batch_norm=self.batch_norm)
        options = {}
        if self.early_stopping:
            options = dict(validation_split=self.validation_fraction,
                           early_stopping=EarlyStopping(monitor="val_loss", patience=self.n_iter_no_change))
        history = model.fit(X, y, epochs=self.epochs, batch_size=self.batch_size,
                            optimizer=self._make_optimizer(), shuffle=self.shuffle, l2=self.l2,
                            verbose=self.verbose, **options)
        self.model_ = model
        self.history_ = history
        self.n_iter_ = len(history.epoch)
        self.loss_curve_ = list(history["loss"])
        return self

    def _forward(self, X):
        """The network's output for validated ``X``, always ``(n_samples, n_outputs)``."""
        check_is_fitted(self, "model_")
        X = _validate_data(self, X, reset=False, dtype=np.float64)
        out = self.model_.predict_proba(X)
        return out.reshape(len(out), -1)


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """A pyneuron MLP as a scikit-learn classifier.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int
        Width of each hidden layer, e.g. ``(32,)`` or ``(64, 32)``.
    activation : str
        Hidden activation: ``"relu"``, ``"leaky_relu"``, ``"tanh"``, ``"sigmoid"``, ``"linear"``.
    optimizer : str or pyneuron Optimizer
        ``"sgd"``, ``"momentum"``, ``"rmsprop"``, ``"adam"``, ``"adamw"`` (built with
        ``learning_rate``), or an optimizer instance (copied at each fit; its own lr is used).
    learning_rate : float
    epochs : int
        Passes over the training data (fewer with ``early_stopping``).
    batch_size : int or None
        Mini-batch size; ``None`` trains on the full batch.
    l2 : float
        L2 penalty on the weights (see :func:`pyneuron.training.fit`).
    alpha : float
        Leaky-ReLU slope (not a penalty, unlike scikit-learn's own MLP).
    dropout : float
        Dropout rate after every hidden layer.
    batch_norm : bool
        Batch normalization in every hidden layer.
    shuffle : bool
        Reshuffle the training data every epoch.
    early_stopping, validation_fraction, n_iter_no_change
        Hold out ``validation_fraction`` and stop when its loss has not improved
        for ``n_iter_no_change`` epochs, keeping the best weights.
    backend : str or None
        ``"scalar"``, ``"numpy"``, ``"c"``; ``None`` follows pyneuron's global flag.
    random_state : int, RandomState or None
    verbose : 0, 1 or 2

    Attributes
    ----------
    classes_ : ndarray — the labels, in the order of ``predict_proba``'s columns.
    model_ : pyneuron.MLP — the trained network.
    history_ : pyneuron.History — loss (and accuracy) per epoch.
    n_features_in_, n_iter_, loss_curve_
    """

    def fit(self, X, y):
        """Train a new network on ``(X, y)``; returns ``self``."""
        X, y = _validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        kind = type_of_target(y)
        if kind not in ("binary", "multiclass"):
            raise ValueError(f"y: MLPClassifier takes one label per sample (binary or multiclass), got {kind!r}")
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError(f"y: a classifier needs at least 2 classes, got 1 class ({self.classes_[0]!r})")
        codes = encoder.transform(y)
        if len(self.classes_) == 2:
            return self._train(X, codes, 1, "sigmoid")
        return self._train(X, codes, len(self.classes_), "softmax")

    def predict_proba(self, X):
        """Class probabilities, one column per entry of ``classes_``."""
        P = self._forward(X)
        if P.shape[1] == 1:
            return np.hstack([1.0 - P, P])
        return P

    def predict_log_proba(self, X):
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """The most probable class of each sample, as a label from ``classes_``."""
        P = self.predict_proba(X)
        return self.classes_[np.argmax(P, axis=1)]


class MLPRegressor(RegressorMixin, _BaseMLP):
    """A pyneuron MLP as a scikit-learn regressor: a linear output trained on mean squared error.

    Takes the same parameters as :class:`MLPClassifier`. ``y`` may be 1-D (one
    target; ``predict`` returns 1-D) or 2-D (several targets, one output unit
    each). ``score`` is R², as for every scikit-learn regressor.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _more_tags(self):  # scikit-learn < 1.6
        return {"multioutput": True}

    def fit(self, X, y):
        """Train a new network on ``(X, y)``; returns ``self``."""
        X, y = _validate_data(self, X, y, dtype=np.float64, y_numeric=True, multi_output=True)
        y = np.asarray(y, dtype=np.float64)
        self._y_1d = y.ndim == 1
        Y = y.reshape(len(y), -1)
        return self._train(X, Y, Y.shape[1], "linear")

    def predict(self, X):
        """Predicted targets: 1-D if ``fit`` saw a 1-D ``y``, else ``(n_samples, n_targets)``."""
        out = self._forward(X)
        return out[:, 0].copy() if self._y_1d else out
