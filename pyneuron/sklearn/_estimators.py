"""The two estimators: :class:`MLPClassifier` and :class:`MLPRegressor`."""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.metrics import r2_score
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import column_or_1d

from ._base import BaseMLP, validate_data

_PARAMETERS = """
    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int, default=(100,)
        Width of each hidden layer.
    activation : {"relu", "tanh", "logistic", "identity", "leaky_relu"}, default="relu"
        Hidden activation (pyneuron's names ``"sigmoid"`` and ``"linear"`` are accepted too).
    solver : {"adam", "sgd", "adamw", "rmsprop", "momentum"}, default="adam"
        ``"adam"`` and ``"sgd"`` as in scikit-learn (``"sgd"`` with ``momentum`` and
        ``nesterovs_momentum``); pyneuron's ``"adamw"`` (Adam's settings, weight decay 0.01),
        ``"rmsprop"`` (with ``epsilon``) and
        ``"momentum"`` (the tutorials' v ← βv + (1−β)g with β = ``momentum``). No ``"lbfgs"``.
    alpha : float, default=1e-4
        L2 penalty, as scikit-learn's: ``alpha / (2·m) · ΣW²`` added to the loss of each batch of
        m samples (weights, not biases). Mapped onto pyneuron's ``fit(l2=...)`` in ``_params``.
    batch_size : int or "auto", default="auto"
        ``"auto"`` = ``min(200, n_samples)``; larger than the data warns and uses all of it.
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        The step-size schedule, used with ``solver="sgd"`` (and ``"momentum"``) only, as in
        scikit-learn: ``"invscaling"``: ``learning_rate_init / (t_ + 1) ** power_t`` after each
        epoch; ``"adaptive"``: divided by 5 whenever ``n_iter_no_change`` epochs in a row fail to
        improve by ``tol``.
    learning_rate_init : float, default=0.001
    power_t : float, default=0.5
    max_iter : int, default=200
        Epochs at most; reaching it warns with a ``ConvergenceWarning``.
    shuffle : bool, default=True
    random_state : int, RandomState or None
        An int ≥ 0 is the MLP's ``seed`` (initial weights, order, dropout masks).
    tol : float, default=1e-4
    verbose : bool, default=False
        Prints ``Iteration k, loss = ...`` per epoch.
    warm_start : bool, default=False
        Continue from the fitted network (with a fresh optimizer) instead of starting over.
    momentum : float in [0, 1), default=0.9
    nesterovs_momentum : bool, default=True
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` (stratified for classes) and stop when the validation
        *score* (accuracy, or R²) has not improved by ``tol`` for more than ``n_iter_no_change``
        epochs; the weights of the best score are kept.
    validation_fraction : float in (0, 1), default=0.1
    beta_1, beta_2, epsilon : float
        Adam's (and AdamW's) β₁, β₂, ε.
    n_iter_no_change : int, default=10
    negative_slope : float, default=0.01
        Slope of ``"leaky_relu"`` for negative inputs (PyTorch's name).
    dropout : float or list of float, default=0.0
        pyneuron's inverted dropout after each hidden layer.
    batch_norm : bool, default=False
        pyneuron's batch normalization in every hidden layer.
    backend : {"scalar", "numpy", "c"} or None
        ``None`` follows pyneuron's global flag.

    Attributes
    ----------
    model_ : pyneuron.MLP
        The trained network (to inspect, ``explain``, ``save`` or ``to_torch``).
    coefs_, intercepts_ : list of ndarray
        Weights ``(n_in, n_out)`` and biases per layer, as scikit-learn lays them out.
    loss_, loss_curve_ : float, list of float
        The loss (data loss + penalty) per epoch as scikit-learn computes it: each batch's
        loss before its update, weighted by the batch's size.
    best_loss_, validation_scores_, best_validation_score_ : as scikit-learn sets them.
    n_iter_ : int
        Epochs run by the last call to ``fit`` (1 for ``partial_fit``).
    t_ : int
        Training samples seen by the solver, over all calls.
    n_layers_, n_outputs_, out_activation_, n_features_in_, history_ (pyneuron's History).

    Sample weights: ``fit``, ``partial_fit`` and ``score`` take ``sample_weight`` (one weight
    >= 0 per sample), as scikit-learn's MLP: each batch's loss is the weighted mean
    ``Σ w·loss / Σ w`` and the ``alpha`` penalty is divided by the batch's weight sum (see
    :mod:`pyneuron.sample_weights`); with ``early_stopping`` the held-out samples' weights
    weight the validation score.
"""


class MLPClassifier(ClassifierMixin, BaseMLP):
    __doc__ = """A pyneuron MLP as a scikit-learn classifier, with scikit-learn's parameters.

    Two classes train one sigmoid unit, more a softmax layer, and a 0/1 indicator
    matrix ``y`` (multilabel) one sigmoid unit per label. Labels may be anything
    ``numpy.unique`` sorts; ``classes_`` lists them in ``predict_proba``'s column order.
    ``predict`` answers what ``model_.predict`` answers, so the two agree at a tie: at
    p = 0.5 exactly both say ``classes_[1]`` (scikit-learn's own MLP says ``classes_[0]``).
""" + _PARAMETERS

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    def _more_tags(self):  # scikit-learn < 1.6
        return {"multilabel": True}

    def _encode(self, X, y, reset, classes=None):
        X, y = validate_data(self, X, y, reset=reset, dtype=np.float64, multi_output=True)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        kind = type_of_target(y)
        if kind == "multilabel-indicator":
            found = np.arange(y.shape[1])
            Y, n_outputs, output = np.asarray(y, dtype=np.float64), y.shape[1], "sigmoid"
        elif kind in ("binary", "multiclass"):
            found = np.unique(y) if classes is None else np.asarray(classes)
            unknown = np.setdiff1d(np.unique(y), found)
            if len(unknown):
                raise ValueError(f"y: labels {unknown.tolist()} are not in classes {found.tolist()}")
            if len(found) < 2:
                raise ValueError(f"y: a classifier needs at least 2 classes, got 1 class ({found.tolist()[0]!r})")
            Y = LabelEncoder().fit(found).transform(y)
            n_outputs, output = (1, "sigmoid") if len(found) == 2 else (len(found), "softmax")
        else:
            raise ValueError(f"y: expected class labels (binary, multiclass) or a 0/1 multilabel "
                             f"indicator matrix, got {kind!r} targets")
        return X, Y, found, n_outputs, output, kind

    def fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> MLPClassifier:
        """Train on ``(X, y)`` (a new network unless ``warm_start``), each sample weighted by
        ``sample_weight`` (default: 1); returns ``self``."""
        reset = not (self.warm_start and hasattr(self, "model_"))
        X, Y, found, n_outputs, output, kind = self._encode(X, y, reset)
        if not reset and not np.array_equal(found, self.classes_):
            raise ValueError(f"y: warm_start continues a network fitted on classes {self.classes_.tolist()}, "
                             f"but y has classes {found.tolist()}")
        self.classes_ = found
        stratify = Y if kind != "multilabel-indicator" else None
        return self._fit(X, Y, n_outputs, output, incremental=False, stratify=stratify,
                         sample_weight=sample_weight)

    def partial_fit(self, X: ArrayLike, y: ArrayLike, classes: ArrayLike | None = None,
                    sample_weight: ArrayLike | None = None) -> MLPClassifier:
        """One epoch on ``(X, y)``, continuing the optimizer's state. The first call needs
        ``classes`` (all labels that will ever appear), unless ``y`` is a multilabel matrix."""
        first = not hasattr(self, "model_")
        if first and classes is None and type_of_target(y) != "multilabel-indicator":
            raise ValueError("classes: the first call to partial_fit needs every class label "
                             "(classes=np.unique(all_y)), got None")
        if not first and classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(f"classes: {np.unique(classes).tolist()} differs from the classes of the "
                             f"first call, {self.classes_.tolist()}")
        X, Y, found, n_outputs, output, _ = self._encode(
            X, y, reset=first, classes=self.classes_ if not first else
            (None if classes is None else np.unique(classes)))
        self.classes_ = found
        return self._fit(X, Y, n_outputs, output, incremental=True, sample_weight=sample_weight)

    def _validation_score(self, X_val, Y_val, sample_weight=None):
        codes = self.model_.predict(X_val)
        right = np.all(codes == Y_val, axis=1) if Y_val.ndim == 2 else codes == Y_val
        return float(np.average(right, weights=sample_weight))

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities ``(n_samples, n_classes)``, columns in the order of ``classes_``
        (for multilabel, each label's probability)."""
        P = self._forward(X)
        if self.out_activation_ == "logistic" and self.n_outputs_ == 1:
            return np.hstack([1.0 - P, P])
        return P

    def predict_log_proba(self, X: ArrayLike) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Labels from ``classes_`` (multilabel: a 0/1 indicator matrix), by ``model_.predict``'s rule."""
        X = self._check_X(X)            # first: unfitted raises NotFittedError
        codes = self.model_.predict(X)
        if codes.ndim == 2:
            return codes
        return self.classes_[codes]


class MLPRegressor(RegressorMixin, BaseMLP):
    __doc__ = """A pyneuron MLP as a scikit-learn regressor: a linear output trained on squared error.

    ``y`` may be 1-D (``predict`` returns 1-D) or ``(n_samples, n_targets)``; ``score`` is R².
""" + _PARAMETERS

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _more_tags(self):  # scikit-learn < 1.6
        return {"multioutput": True}

    def _encode(self, X, y, reset):
        X, y = validate_data(self, X, y, reset=reset, dtype=np.float64, y_numeric=True, multi_output=True)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        Y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        return X, Y

    def fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> MLPRegressor:
        """Train on ``(X, y)`` (a new network unless ``warm_start``), each sample weighted by
        ``sample_weight`` (default: 1); returns ``self``."""
        X, Y = self._encode(X, y, reset=not (self.warm_start and hasattr(self, "model_")))
        return self._fit(X, Y, Y.shape[1], "linear", incremental=False, sample_weight=sample_weight)

    def partial_fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> MLPRegressor:
        """One epoch on ``(X, y)``, continuing the optimizer's state; returns ``self``."""
        X, Y = self._encode(X, y, reset=not hasattr(self, "model_"))
        return self._fit(X, Y, Y.shape[1], "linear", incremental=True, sample_weight=sample_weight)

    def _validation_score(self, X_val, Y_val, sample_weight=None):
        return float(r2_score(Y_val, self.model_.predict_proba(X_val).reshape(len(X_val), -1),
                              sample_weight=sample_weight))

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predicted targets: 1-D for one target, else ``(n_samples, n_targets)``."""
        out = self._forward(X)
        return out[:, 0].copy() if out.shape[1] == 1 else out
