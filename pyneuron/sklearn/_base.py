"""What :class:`MLPClassifier` and :class:`MLPRegressor` share: parameters, training, fitted attributes."""
from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _sk_validate_data
except ImportError:  # pragma: no cover - older scikit-learn
    _sk_validate_data = None

from ..training import TrainingDivergedError
from . import _params
from ._loop import PerBatchLoop, SklearnLoop


def validate_data(estimator, X, y="no_validation", reset=True, **options):
    """scikit-learn's input validation, whichever way the installed version spells it.

    Sparse ``X`` (CSR, CSC, COO) is accepted, as scikit-learn's MLP accepts it, and made
    dense: pyneuron's kernels compute on dense arrays (the memory is the dense array's)."""
    options.setdefault("accept_sparse", ("csr", "csc", "coo"))
    if _sk_validate_data is not None:
        out = _sk_validate_data(estimator, X, y, reset=reset, **options)
    else:  # pragma: no cover
        out = estimator._validate_data(X, y, reset=reset, **options)
    if isinstance(out, tuple):
        return (_dense(out[0]),) + tuple(out[1:])
    return _dense(out)


def _dense(X):
    return X.toarray() if hasattr(X, "toarray") else X


class BaseMLP(BaseEstimator):
    """Parameters and the stochastic training loop of both wrappers (see :class:`MLPClassifier`)."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True       # accepted, made dense (see validate_data)
        return tags

    def __init__(self, hidden_layer_sizes: int | Sequence[int] = (100,), activation: str = "relu", *,
                 solver: str = "adam", alpha: float = 0.0001, batch_size: int | str = "auto",
                 learning_rate: str = "constant", learning_rate_init: float = 0.001, power_t: float = 0.5,
                 max_iter: int = 200, shuffle: bool = True,
                 random_state: int | np.random.RandomState | None = None, tol: float = 1e-4,
                 verbose: bool = False, warm_start: bool = False, momentum: float = 0.9,
                 nesterovs_momentum: bool = True, early_stopping: bool = False,
                 validation_fraction: float = 0.1, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-8, n_iter_no_change: int = 10, negative_slope: float = 0.01,
                 dropout: float | Sequence[float] = 0.0, batch_norm: bool = False,
                 backend: str | None = None) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.negative_slope = negative_slope
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.backend = backend

    # ---------------------------------------------------------------- fitted weights
    @property
    def coefs_(self) -> list[np.ndarray]:
        """Weight matrices in scikit-learn's layout: ``coefs_[i]`` has shape ``(n_in, n_out)``.
        They are views of ``model_``'s weights (pyneuron stores ``(n_out, n_in)``, as PyTorch)."""
        check_is_fitted(self, "model_")
        return [layer.W.T for layer in self.model_.layers]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Bias vectors, ``intercepts_[i]`` of shape ``(n_out,)`` (views of ``model_``'s)."""
        check_is_fitted(self, "model_")
        return [layer.b for layer in self.model_.layers]

    # ---------------------------------------------------------------- training
    def _seed(self):
        rs = self.random_state
        if isinstance(rs, numbers.Integral) and not isinstance(rs, bool) and rs >= 0:
            return int(rs)
        return int(check_random_state(rs).randint(np.iinfo(np.int32).max))

    def _start(self, settings, n_features, n_outputs, output):
        """A new network and fresh training records, as scikit-learn's ``_initialize``."""
        self.model_ = _params.build_model(settings, n_features, n_outputs, output, self._seed())
        self.n_outputs_ = n_outputs
        self.n_layers_ = len(settings.hidden) + 2
        self.out_activation_ = _params.OUT_ACTIVATION_NAMES[output]
        self.t_ = 0
        self.n_iter_ = 0
        self.loss_curve_ = []
        self._no_improvement_count = 0
        if settings.early_stopping:
            self.validation_scores_, self.best_validation_score_, self.best_loss_ = [], -np.inf, None
        else:
            self.validation_scores_, self.best_validation_score_, self.best_loss_ = None, None, np.inf
        self._optimizer = None

    def _fit(self, X, Y, n_outputs, output, incremental, stratify=None, sample_weight=None):
        """Train on validated ``X`` and encoded targets ``Y`` (what pyneuron's ``fit`` takes),
        with ``sample_weight`` (see :mod:`pyneuron.sample_weights`: scikit-learn's weighted mean)."""
        s = _params.check_params(self)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        if incremental and s.early_stopping:
            raise ValueError("early_stopping: partial_fit does not support early_stopping=True")
        first_pass = not hasattr(self, "model_") or (not s.warm_start and not incremental)
        if first_pass:
            self._start(s, X.shape[1], n_outputs, output)
        else:
            expected = [X.shape[1]] + s.hidden + [n_outputs]
            if self.model_.layer_sizes != expected:
                raise ValueError(f"hidden_layer_sizes: warm_start and partial_fit continue the fitted network "
                                 f"{self.model_.layer_sizes}, but the parameters now ask for {expected}")
            if s.early_stopping and self.validation_scores_ is None:    # switched on since the last fit
                self.validation_scores_, self.best_validation_score_ = [], -np.inf
            if not s.early_stopping and self.best_loss_ is None:        # switched off since the last fit
                self.best_loss_ = np.inf
        scale = _params.objective_scale(self.model_.loss_name, n_outputs)
        if self._optimizer is None or not incremental:
            self._optimizer = _params.make_optimizer(s, scale)
        self.n_iter_ = 0

        validation = None
        if s.early_stopping:
            parts = [X, Y] + ([sample_weight] if sample_weight is not None else [])
            parts = train_test_split(*parts, random_state=check_random_state(self._seed()),
                                     test_size=s.validation_fraction, stratify=stratify)
            X, X_val, Y, Y_val = parts[:4]
            sw_val = None
            if sample_weight is not None:
                sample_weight, sw_val = parts[4:]
                if not np.any(sw_val > 0):
                    sw_val = None
            if X_val.shape[0] < 2:
                raise ValueError(f"validation_fraction: {s.validation_fraction} of the data leaves "
                                 f"{X_val.shape[0]} sample for validation; early stopping needs at least 2")
            validation = (X_val, Y_val, sw_val)
        n = X.shape[0]
        if s.batch_size == "auto":
            batch = min(200, n)
        else:
            if s.batch_size > n:
                warnings.warn(f"batch_size: {s.batch_size} is larger than the {n} training samples; "
                              f"using batches of {n}", UserWarning, stacklevel=3)
            batch = min(s.batch_size, n)
        schedule = s.learning_rate if _params.schedules_apply(s) else None
        Loop = PerBatchLoop if PerBatchLoop.needed(self.model_, n, batch, s.alpha) else SklearnLoop
        loop = Loop(self, s, n, batch, scale, schedule, validation, incremental)
        shuffle = s.shuffle
        if isinstance(loop, PerBatchLoop) and sample_weight is not None:
            shuffle = loop.watch_weights(sample_weight, s.shuffle)   # the batches' weight sums
        try:
            self.history_ = self.model_.fit(X, Y, epochs=1 if incremental else s.max_iter, batch_size=batch,
                                            optimizer=self._optimizer, shuffle=shuffle, l2=s.alpha * scale,
                                            verbose=0, callbacks=[loop], metrics=(), sample_weight=sample_weight)
        except TrainingDivergedError as exc:
            raise TrainingDivergedError(
                f"training diverged: the loss became non-finite at epoch {exc.epoch}, batch {exc.batch}. "
                f"Try a smaller learning_rate_init (it is {s.learning_rate_init}) or scaled inputs "
                f"(e.g. a StandardScaler in a Pipeline).", exc.epoch, exc.batch, exc.history) from None
        if not incremental and not loop.stopped and self.n_iter_ == s.max_iter:
            warnings.warn(f"Stochastic Optimizer: Maximum iterations ({s.max_iter}) reached and the "
                          "optimization hasn't converged yet.", ConvergenceWarning, stacklevel=3)
        return self

    def _check_X(self, X):
        """``X`` validated against what ``fit`` saw (features, names), as float64."""
        check_is_fitted(self, "model_")
        return validate_data(self, X, reset=False, dtype=np.float64)

    def _forward(self, X):
        """The network's output for ``X``, always ``(n_samples, n_outputs)``."""
        X = self._check_X(X)            # first: unfitted raises NotFittedError
        out = self.model_.predict_proba(X)
        return out.reshape(len(out), -1)
