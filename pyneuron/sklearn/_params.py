"""The one place where the wrappers' scikit-learn parameters become pyneuron's.

scikit-learn's ``MLPClassifier`` / ``MLPRegressor`` and pyneuron's ``fit`` state
the same training problem in different units. scikit-learn's stochastic solvers
descend (``sklearn/neural_network/_multilayer_perceptron.py``, ``_backprop``)

    J_sk = D_sk + alpha / (2 m) · Σ W²          (weights only, m = samples in the batch)

where ``D_sk`` has output gradient ``(A − Y) / m``: for softmax it is the mean
cross-entropy, for sigmoid outputs the binary cross-entropy *summed over the
labels* and averaged over samples, for regression half the squared error summed
over the targets and averaged over samples. pyneuron's ``fit(l2=λ)`` descends

    J_pn = D_pn + λ / (2 m) · Σ W²

with ``D_pn`` averaged over *all* m·k output elements, and the squared error
without the ½ (:mod:`pyneuron.losses`). So ``D_pn = c · D_sk`` with

    c = 1 (softmax + cce),   1/k (k sigmoid outputs + bce),   2/k (k linear outputs + mse)

and ``J_pn = c · J_sk`` exactly when ``λ = c · alpha``. The gradients then differ
by the factor c, which the optimizers absorb: SGD (and pyneuron's momentum) run
with ``lr = learning_rate_init / c``; Adam and RMSprop, whose steps do not depend
on the gradient's scale except through ε, run with ``eps = epsilon · c``. With
these three rules every update equals scikit-learn's (for SGD exactly; for Adam up
to where scikit-learn's folded bias correction puts ε). Reported losses are
``J_pn / c`` (see :func:`objective_scale`).
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from .. import backends
from .. import optimizers as _optimizers
from ..activations import HIDDEN_ACTIVATIONS
from ..network import MLP
from ..validation import check_number, check_positive_int

#: scikit-learn's activation names and pyneuron's for the same function.
SKLEARN_ACTIVATIONS = {"identity": "linear", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}
#: pyneuron's output activation as scikit-learn names it in ``out_activation_``.
OUT_ACTIVATION_NAMES = {"linear": "identity", "sigmoid": "logistic", "softmax": "softmax"}
#: ``"sgd"`` and ``"adam"`` as in scikit-learn, then pyneuron's other optimizers.
SOLVERS = ("sgd", "adam", "adamw", "rmsprop", "momentum")
LEARNING_RATES = ("constant", "invscaling", "adaptive")


@dataclass(frozen=True)
class Settings:
    """The estimator's parameters, checked and in pyneuron's terms where they differ."""

    hidden: list
    activation: str          # pyneuron's name
    solver: str
    alpha: float
    batch_size: object       # "auto" or an int >= 1
    learning_rate: str
    learning_rate_init: float
    power_t: float
    max_iter: int
    shuffle: bool
    tol: float
    verbose: bool
    warm_start: bool
    momentum: float
    nesterovs_momentum: bool
    early_stopping: bool
    validation_fraction: float
    beta_1: float
    beta_2: float
    epsilon: float
    n_iter_no_change: int
    negative_slope: float
    dropout: object
    batch_norm: bool
    backend: object


def _check_bool(value, name):
    if not isinstance(value, (bool, numbers.Integral)) or value not in (0, 1):
        raise ValueError(f"{name}: expected True or False, got {value!r}")
    return bool(value)


def _check_verbose(value):
    """scikit-learn's ``verbose``: a bool or an int >= 0 (any positive value prints)."""
    if not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"verbose: expected True, False or an integer >= 0, got {value!r}")
    return value > 0


def _check_random_state(value):
    """None, an int in [0, 2**32) (NumPy's seed range) or a ``numpy.random.RandomState``."""
    if value is None or isinstance(value, np.random.RandomState):
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 0 <= value < 2**32:
        raise ValueError(f"random_state: expected None, an int in [0, 2**32) or a numpy.random.RandomState, "
                         f"got {value!r}")
    return int(value)


def hidden_sizes(value):
    """``hidden_layer_sizes`` as a list of positive ints (an int means one layer)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = [value]
    try:
        sizes = list(value)
    except TypeError:
        sizes = None
    if sizes is None or any(isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1 for n in sizes):
        raise ValueError(f"hidden_layer_sizes: expected an int or a tuple of positive ints "
                         f"(one width per hidden layer), got {value!r}")
    return [int(n) for n in sizes]


def hidden_activation(name):
    """pyneuron's name for a hidden activation given by scikit-learn's or pyneuron's name."""
    if isinstance(name, str) and name in SKLEARN_ACTIVATIONS:
        return SKLEARN_ACTIVATIONS[name]
    if isinstance(name, str) and name in HIDDEN_ACTIVATIONS:
        return name
    choices = list(SKLEARN_ACTIVATIONS) + [a for a in HIDDEN_ACTIVATIONS if a not in SKLEARN_ACTIVATIONS.values()]
    raise ValueError(f"activation: expected one of {', '.join(map(repr, choices))}, got {name!r}")


def check_params(est):
    """Check every parameter of a wrapper; errors name the wrapper's parameter."""
    solver = est.solver
    if isinstance(solver, str) and solver == "lbfgs":
        raise ValueError("solver: 'lbfgs' is not available in pyneuron (it trains with mini-batch "
                         f"gradient steps); use one of {', '.join(map(repr, SOLVERS))}")
    if not isinstance(solver, str) or solver not in SOLVERS:
        raise ValueError(f"solver: expected one of {', '.join(map(repr, SOLVERS))}, got {solver!r}")
    if not isinstance(est.learning_rate, str) or est.learning_rate not in LEARNING_RATES:
        raise ValueError(f"learning_rate: expected a schedule name, one of {', '.join(map(repr, LEARNING_RATES))} "
                         f"(the initial step size is learning_rate_init), got {est.learning_rate!r}")
    batch_size = est.batch_size
    if not (isinstance(batch_size, str) and batch_size == "auto"):
        batch_size = check_positive_int(batch_size, "batch_size")
    if est.backend is not None:
        backends.check_name(est.backend)
    _check_random_state(est.random_state)
    return Settings(
        hidden=hidden_sizes(est.hidden_layer_sizes),
        activation=hidden_activation(est.activation),
        solver=solver,
        alpha=check_number(est.alpha, "alpha", 0.0),
        batch_size=batch_size,
        learning_rate=est.learning_rate,
        learning_rate_init=check_number(est.learning_rate_init, "learning_rate_init", 0.0, low_open=True),
        power_t=check_number(est.power_t, "power_t", 0.0),
        max_iter=check_positive_int(est.max_iter, "max_iter"),
        shuffle=_check_bool(est.shuffle, "shuffle"),
        tol=check_number(est.tol, "tol", 0.0),
        verbose=_check_verbose(est.verbose),
        warm_start=_check_bool(est.warm_start, "warm_start"),
        momentum=check_number(est.momentum, "momentum", 0.0, 1.0, high_open=True),
        nesterovs_momentum=_check_bool(est.nesterovs_momentum, "nesterovs_momentum"),
        early_stopping=_check_bool(est.early_stopping, "early_stopping"),
        validation_fraction=check_number(est.validation_fraction, "validation_fraction", 0.0, 1.0,
                                         low_open=bool(est.early_stopping), high_open=True),
        beta_1=check_number(est.beta_1, "beta_1", 0.0, 1.0, high_open=True),
        beta_2=check_number(est.beta_2, "beta_2", 0.0, 1.0, high_open=True),
        epsilon=check_number(est.epsilon, "epsilon", 0.0, low_open=True),
        n_iter_no_change=check_positive_int(est.n_iter_no_change, "n_iter_no_change"),
        negative_slope=check_number(est.negative_slope, "negative_slope", 0.0),
        dropout=est.dropout,
        batch_norm=_check_bool(est.batch_norm, "batch_norm"),
        backend=est.backend,
    )


def objective_scale(loss, n_outputs):
    """The factor c with ``J_pyneuron = c · J_scikit-learn`` (see the module's docstring)."""
    return {"cce": 1.0, "bce": 1.0 / n_outputs, "mse": 2.0 / n_outputs}[loss]


def build_model(settings, n_features, n_outputs, output, seed):
    """A new MLP for these settings; the wrapper's ``negative_slope`` is passed on here only."""
    sizes = [n_features] + settings.hidden + [n_outputs]
    return MLP(sizes, activation=settings.activation, output=output, seed=seed, backend=settings.backend,
               dropout=settings.dropout, batch_norm=settings.batch_norm,
               negative_slope=settings.negative_slope)


def make_optimizer(settings, scale):
    """A fresh pyneuron optimizer doing scikit-learn's update for the objective ``c · J`` (c = ``scale``)."""
    s = settings
    lr = s.learning_rate_init
    if s.solver == "sgd":       # scikit-learn's default: Nesterov momentum 0.9
        return _optimizers.SGD(lr=lr / scale, momentum=s.momentum,
                               nesterov=s.nesterovs_momentum and s.momentum > 0)
    if s.solver == "momentum":  # pyneuron's tutorial form: v ← βv + (1−β)g
        return _optimizers.Momentum(lr=lr / scale, beta=s.momentum)
    if s.solver == "rmsprop":
        return _optimizers.RMSprop(lr=lr, eps=s.epsilon * scale)
    if s.solver == "adamw":
        return _optimizers.AdamW(lr=lr, beta1=s.beta_1, beta2=s.beta_2, eps=s.epsilon * scale)
    return _optimizers.Adam(lr=lr, beta1=s.beta_1, beta2=s.beta_2, eps=s.epsilon * scale)


def schedules_apply(settings):
    """scikit-learn uses ``learning_rate`` only with ``solver="sgd"``; so does pyneuron's ``"momentum"``."""
    return settings.solver in ("sgd", "momentum")
