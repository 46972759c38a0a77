"""pyneuron.sklearn._params beyond test_sklearn*.py (issue 15 item 10: the mutation run of
pyneuron/sklearn/_params.py): each parameter check on both sides of its bound, the messages
that name the wrapper's parameter, and one training step of every solver on every backend
against scikit-learn's objective written out in NumPy (the scale c of ``objective_scale``:
SGD-family steps use lr / c, RMSprop, Adam and AdamW ε·c), the schedules on "momentum" only
besides "sgd", and the options ``build_model`` passes on."""
import dataclasses
import math
import warnings

import numpy as np
import pytest

import pyneuron as pn

pytest.importorskip("sklearn")

from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.neural_network import _base as sk_losses  # noqa: E402

from pyneuron.sklearn import MLPClassifier, MLPRegressor, _params  # noqa: E402


# ---------------------------------------------------------------- the small checks
@pytest.mark.parametrize("value, expected", [(True, True), (False, False), (1, True), (0, False),
                                             (np.int64(1), True)])
def test_a_bool_option_takes_true_false_1_and_0(value, expected):
    assert _params._check_bool(value, "shuffle") is expected


@pytest.mark.parametrize("value", [2, -1, "yes", 1.0, None])
def test_a_bool_option_refuses_anything_else(value):
    with pytest.raises(ValueError, match=rf"^shuffle: expected True or False, got {value!r}$"):
        _params._check_bool(value, "shuffle")


@pytest.mark.parametrize("value, prints", [(False, False), (0, False), (True, True), (1, True), (3, True)])
def test_verbose_prints_for_any_positive_integer(value, prints):
    assert _params._check_verbose(value) is prints


@pytest.mark.parametrize("value", [-1, 0.5, "loud", None])
def test_verbose_refuses_what_is_not_an_integer_at_least_zero(value):
    with pytest.raises(ValueError, match=r"^verbose: expected True, False or an integer >= 0, got "):
        _params._check_verbose(value)


@pytest.mark.parametrize("value", [0, 7, 2**32 - 1, np.uint32(2**32 - 1)])
def test_random_state_takes_numpys_seed_range(value):
    out = _params._check_random_state(value)
    assert out == int(value) and type(out) is int


def test_random_state_takes_none_and_a_random_state_as_they_are():
    rs = np.random.RandomState(3)
    assert _params._check_random_state(rs) is rs and _params._check_random_state(None) is None


@pytest.mark.parametrize("value", [2**32, -1, True, 1.0, "seed", np.random.default_rng(0)])
def test_random_state_refuses_the_rest(value):
    with pytest.raises(ValueError, match=r"^random_state: expected None, an int in \[0, 2\*\*32\) or a "
                                         r"numpy.random.RandomState, got "):
        _params._check_random_state(value)


@pytest.mark.parametrize("value, expected", [(3, [3]), (np.int64(2), [2]), ((1,), [1]), ([1, 4], [1, 4]),
                                             (np.array([2, 3]), [2, 3]), ((), [])])
def test_hidden_layer_sizes(value, expected):
    out = _params.hidden_sizes(value)
    assert out == expected and all(type(n) is int for n in out)


@pytest.mark.parametrize("value", [0, (4, 0), (-1,), True, (True,), 2.0, (2.0,), "ab", None])
def test_hidden_layer_sizes_refuses_what_is_not_positive_ints(value):
    with pytest.raises(ValueError, match=r"^hidden_layer_sizes: expected an int or a tuple of positive ints "
                                         r"\(one width per hidden layer\), got "):
        _params.hidden_sizes(value)


@pytest.mark.parametrize("name, expected", [("identity", "linear"), ("logistic", "sigmoid"), ("tanh", "tanh"),
                                            ("relu", "relu"), ("sigmoid", "sigmoid"), ("linear", "linear"),
                                            ("leaky_relu", "leaky_relu")])
def test_activation_names_of_scikit_learn_and_of_pyneuron(name, expected):
    assert _params.hidden_activation(name) == expected


@pytest.mark.parametrize("name", ["softplus", None, 1])
def test_an_unknown_activation_lists_the_choices(name):
    with pytest.raises(ValueError, match=r"^activation: expected one of 'identity', 'logistic', 'tanh', 'relu', "
                                         rf"'leaky_relu', got {name!r}$"):
        _params.hidden_activation(name)


# ---------------------------------------------------------------- check_params
def test_every_parameter_is_checked_and_translated():
    est = MLPClassifier(hidden_layer_sizes=4, activation="logistic", solver="rmsprop", alpha=0.0, batch_size=7,
                        learning_rate="adaptive", learning_rate_init=0.5, power_t=0.0, max_iter=3, shuffle=0,
                        tol=0.0, verbose=2, warm_start=1, momentum=0.0, nesterovs_momentum=False,
                        early_stopping=False, validation_fraction=0.0, beta_1=0.0, beta_2=0.0, epsilon=0.25,
                        n_iter_no_change=1, negative_slope=0.0, dropout=0.3, batch_norm=True, backend="numpy")
    s = _params.check_params(est)
    assert s == _params.Settings(hidden=[4], activation="sigmoid", solver="rmsprop", alpha=0.0, batch_size=7,
                                 learning_rate="adaptive", learning_rate_init=0.5, power_t=0.0, max_iter=3,
                                 shuffle=False, tol=0.0, verbose=True, warm_start=True, momentum=0.0,
                                 nesterovs_momentum=False, early_stopping=False, validation_fraction=0.0,
                                 beta_1=0.0, beta_2=0.0, epsilon=0.25, n_iter_no_change=1, negative_slope=0.0,
                                 dropout=0.3, batch_norm=True, backend="numpy")
    assert _params.check_params(MLPRegressor()).batch_size == "auto"
    assert _params.check_params(MLPRegressor(backend=None)).backend is None
    with pytest.raises(dataclasses.FrozenInstanceError):     # read-only: one translation per fit
        s.alpha = 1.0


@pytest.mark.parametrize("params, message", [
    (dict(solver="lbfgs"), r"solver: 'lbfgs' is not available in pyneuron \(it trains with mini-batch gradient "
                           r"steps\); use one of 'sgd', 'adam', 'adamw', 'rmsprop', 'momentum'$"),
    (dict(solver=3), r"solver: expected one of 'sgd', 'adam', 'adamw', 'rmsprop', 'momentum', got 3$"),
    (dict(learning_rate=None), r"learning_rate: expected a schedule name, one of 'constant', 'invscaling', "
                               r"'adaptive' \(the initial step size is learning_rate_init\), got None$"),
    (dict(batch_size="big"), r"batch_size: expected an integer >= 1, got 'big'$"),
    (dict(batch_size=True), r"batch_size: expected an integer >= 1, got True$"),
    (dict(backend="gpu"), r"backend: expected one of "),
    (dict(random_state=2**32), r"random_state: "),
    (dict(momentum=1.0), r"momentum: expected a number < 1.0, got 1.0$"),
    (dict(beta_2=1.0), r"beta_2: expected a number < 1.0, got 1.0$"),
    (dict(beta_1=-0.1), r"beta_1: expected a number >= 0.0, got -0.1$"),
    (dict(beta_2=-0.1), r"beta_2: expected a number >= 0.0, got -0.1$"),
    (dict(validation_fraction=1.0), r"validation_fraction: expected a number < 1.0, got 1.0$"),
    (dict(validation_fraction=0.0, early_stopping=True), r"validation_fraction: expected a number > 0.0, got 0.0$"),
    (dict(validation_fraction=-0.1), r"validation_fraction: expected a number >= 0.0, got -0.1$"),
    (dict(learning_rate_init=0.0), r"learning_rate_init: expected a number > 0.0, got 0.0$"),
    (dict(epsilon=0.0), r"epsilon: expected a number > 0.0, got 0.0$"),
    (dict(power_t=-1.0), r"power_t: expected a number >= 0.0, got -1.0$"),
    (dict(alpha=-1.0), r"alpha: expected a number >= 0.0, got -1.0$"),
    (dict(tol=-1.0), r"tol: expected a number >= 0.0, got -1.0$"),
    (dict(negative_slope=-1.0), r"negative_slope: expected a number >= 0.0, got -1.0$"),
    (dict(max_iter=0), r"max_iter: expected an integer >= 1, got 0$"),
    (dict(n_iter_no_change=0), r"n_iter_no_change: expected an integer >= 1, got 0$"),
    (dict(shuffle=2), r"shuffle: expected True or False, got 2$"),
    (dict(warm_start="no"), r"warm_start: expected True or False, got 'no'$"),
    (dict(nesterovs_momentum=2), r"nesterovs_momentum: expected True or False, got 2$"),
    (dict(early_stopping="yes"), r"early_stopping: expected True or False, got 'yes'$"),
    (dict(batch_norm="no"), r"batch_norm: expected True or False, got 'no'$"),
    (dict(verbose=-1), r"verbose: "),
    (dict(hidden_layer_sizes=(3, 0)), r"hidden_layer_sizes: "),
    (dict(activation="swish"), r"activation: "),
])
def test_check_params_refuses_with_the_wrappers_name(params, message):
    with pytest.raises(ValueError, match="^" + message):
        _params.check_params(MLPClassifier(**params))


@pytest.mark.parametrize("params", [dict(momentum=0.0), dict(beta_1=0.0, beta_2=0.0), dict(power_t=0.0),
                                    dict(alpha=0.0), dict(tol=0.0), dict(negative_slope=0.0),
                                    dict(validation_fraction=0.0), dict(validation_fraction=0.99, early_stopping=True),
                                    dict(momentum=0.99, beta_1=0.99, beta_2=0.99), dict(batch_size=1)])
def test_check_params_takes_the_ends_that_are_allowed(params):
    s = _params.check_params(MLPClassifier(**params))
    for name, value in params.items():
        assert getattr(s, name) == value


# ---------------------------------------------------------------- the scale c, from scikit-learn's losses
@pytest.mark.parametrize("k", [1, 3])
def test_objective_scale_is_the_ratio_of_pyneurons_loss_to_scikit_learns(k):
    rng = np.random.default_rng(k)
    Y01 = (rng.random((8, k)) < 0.5).astype(float)
    P = rng.uniform(0.05, 0.95, size=(8, k))
    bce = -np.mean(Y01 * np.log(P) + (1 - Y01) * np.log(1 - P))          # pyneuron: mean over all m·k
    assert _params.objective_scale("bce", k) == pytest.approx(bce / sk_losses.binary_log_loss(Y01, P), rel=1e-12)
    T = rng.normal(size=(8, k))
    mse = np.mean((P - T) ** 2)                                          # pyneuron: no ½, mean over m·k
    # scikit-learn descends ½·Σ over targets, mean over samples (its output gradient is (A − Y)/m);
    # its reported squared_loss averages over the targets instead, which is the same for k = 1
    descended = 0.5 * np.sum((P - T) ** 2) / len(T)
    assert _params.objective_scale("mse", k) == pytest.approx(mse / descended, rel=1e-12)
    if k == 1:
        assert descended == pytest.approx(sk_losses.squared_loss(T, P), rel=1e-12)
    S = rng.dirichlet(np.ones(k + 1), size=8)
    onehot = np.eye(k + 1)[rng.integers(0, k + 1, size=8)]
    cce = -np.mean(np.sum(onehot * np.log(S), axis=1))
    assert _params.objective_scale("cce", k + 1) == pytest.approx(cce / sk_losses.log_loss(onehot, S), rel=1e-12)


# ---------------------------------------------------------------- one step of every solver, by hand
_rng = np.random.default_rng(11)
X6 = _rng.normal(size=(6, 2))
TARGETS = {   # kind: (estimator, y, output activation of scikit-learn's objective)
    "one target (c = 2)": (MLPRegressor, X6 @ [1.0, -0.5] + 0.3, lambda Z: Z),
    "multilabel (c = 1/3)": (MLPClassifier, (X6 @ [[1.0, -1.0, 0.2], [0.5, 1.0, -1.0]] > 0).astype(int),
                             lambda Z: 1 / (1 + np.exp(-Z))),
    "multiclass (c = 1)": (MLPClassifier, np.array([0, 1, 2, 0, 1, 2]),
                           lambda Z: np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)),
}
ALPHA, LR, EPS, MU, B1, B2 = 0.3, 0.1, 0.5, 0.6, 0.8, 0.7


def sk_gradient(kind, W, b, alpha=ALPHA):
    """Gradient of scikit-learn's objective D + alpha/(2m)·ΣW² for a network without hidden
    layer: for identity + ½ squared error, logistic + summed BCE and softmax + CE alike the
    output gradient is (A − Y)/m (scikit-learn's ``_backprop``)."""
    _, y, out = TARGETS[kind]
    Y = np.eye(3)[y] if y.ndim == 1 and kind.startswith("multiclass") else y.reshape(len(y), -1)
    m = len(X6)
    dZ = (out(X6 @ W + b) - Y) / m
    return X6.T @ dZ + alpha * W / m, dZ.sum(axis=0)


def one_step(kind, backend, **params):
    """The wrapper's weights before and after one full-batch step with a fresh optimizer."""
    Est, y, _ = TARGETS[kind]
    settings = dict(hidden_layer_sizes=(), max_iter=1, batch_size=6, shuffle=False, random_state=0, alpha=ALPHA,
                    learning_rate_init=LR, epsilon=EPS, momentum=MU, beta_1=B1, beta_2=B2, backend=backend)
    est = Est(**{**settings, **params})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X6, y)
        before = est.coefs_[0].copy(), est.intercepts_[0].copy()
        est.set_params(warm_start=True).fit(X6, y)
    return before, (est.coefs_[0], est.intercepts_[0])


def expected_step(solver, theta, g, nesterov=True):
    """One step on scikit-learn's objective (its gradient g), each solver as documented."""
    if solver == "sgd":      # scikit-learn: v = μ·0 − η g; Nesterov moves by μv − η g
        return theta - LR * (1 + MU) * g if nesterov else theta - LR * g
    if solver == "momentum":  # v = β·0 + (1 − β) g; θ ← θ − η v
        return theta - LR * (1 - MU) * g
    if solver == "rmsprop":   # ρ = 0.9: s = 0.1 g²
        return theta - LR * g / (np.sqrt(0.1 * g * g) + EPS)
    # Adam's first step: m̂ = g, v̂ = g²; AdamW first shrinks θ by (1 − η·0.01)
    shrink = 1 - LR * 0.01 if solver == "adamw" else 1.0
    return theta * shrink - LR * g / (np.abs(g) + EPS)


@pytest.mark.parametrize("solver", ["sgd", "momentum", "rmsprop", "adam", "adamw"])
@pytest.mark.parametrize("kind", list(TARGETS))
def test_one_step_of_every_solver_on_scikit_learns_objective(backend, kind, solver):
    (W0, b0), (W1, b1) = one_step(kind, backend, solver=solver)
    gW, gb = sk_gradient(kind, W0, b0)
    np.testing.assert_allclose(W1, expected_step(solver, W0, gW), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b1, expected_step(solver, b0, gb), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("params", [dict(nesterovs_momentum=False), dict(momentum=0.0)])
def test_sgd_without_nesterov_or_without_momentum_is_a_plain_step(params):
    """momentum=0 with nesterovs_momentum=True (scikit-learn's default) is plain SGD too."""
    (W0, b0), (W1, b1) = one_step("one target (c = 2)", "numpy", solver="sgd", **params)
    gW, gb = sk_gradient("one target (c = 2)", W0, b0)
    np.testing.assert_allclose(W1, W0 - LR * gW, rtol=1e-12)
    np.testing.assert_allclose(b1, b0 - LR * gb, rtol=1e-12)


# ---------------------------------------------------------------- which solvers follow learning_rate
def two_steps(solver, learning_rate="invscaling"):
    """The weights at the start and after two full-batch epochs (warm_start, a fresh optimizer)."""
    est = MLPRegressor(hidden_layer_sizes=(), max_iter=2, batch_size=6, shuffle=False, random_state=0, alpha=0.0,
                       learning_rate_init=LR, momentum=MU, epsilon=EPS, learning_rate=learning_rate, power_t=0.5,
                       n_iter_no_change=50, solver=solver, backend="numpy", warm_start=True)
    y = TARGETS["one target (c = 2)"][1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X6, y)
        start = est.coefs_[0].copy(), est.intercepts_[0].copy()
        est.fit(X6, y)
    return est, start


def test_invscaling_applies_to_the_momentum_solver():
    """After epoch 1 (t_ = 2·6 samples: the first fit saw 6·2) the step size is
    η / (t_ + 1)^0.5; the average velocity carries no step size, so only the move shrinks."""
    est, (W, b) = two_steps("momentum")
    vW, vb = np.zeros_like(W), np.zeros_like(b)
    for lr in (LR, LR / math.sqrt(18 + 1)):      # epoch 1 of the 2nd fit: t_ = 12 + 6 = 18
        gW, gb = sk_gradient("one target (c = 2)", W, b, alpha=0.0)
        vW, vb = MU * vW + (1 - MU) * gW, MU * vb + (1 - MU) * gb
        W, b = W - lr * vW, b - lr * vb
    np.testing.assert_allclose(est.coefs_[0], W, rtol=1e-12)
    np.testing.assert_allclose(est.intercepts_[0], b, rtol=1e-12)


@pytest.mark.parametrize("solver", ["rmsprop", "adam", "adamw"])
def test_invscaling_is_ignored_by_the_adaptive_solvers(solver):
    """As scikit-learn's Adam ignores learning_rate: every step uses learning_rate_init."""
    est, _ = two_steps(solver, "invscaling")
    constant, _ = two_steps(solver, "constant")
    np.testing.assert_array_equal(est.coefs_[0], constant.coefs_[0])
    moved, _ = two_steps("sgd", "invscaling")            # the control: there the schedule moves the weights
    assert not np.array_equal(moved.coefs_[0], two_steps("sgd", "constant")[0].coefs_[0])


@pytest.mark.parametrize("solver, applies", [("sgd", True), ("momentum", True), ("adam", False),
                                             ("adamw", False), ("rmsprop", False)])
def test_schedules_apply_to_the_sgd_family_only(solver, applies):
    assert _params.schedules_apply(_params.check_params(MLPRegressor(solver=solver))) is applies


# ---------------------------------------------------------------- build_model passes every option on
def test_build_model_passes_every_option_on(backend):
    est = MLPRegressor(hidden_layer_sizes=(3, 2), activation="leaky_relu", negative_slope=0.2, dropout=0.25,
                       batch_norm=True, backend=backend)
    model = _params.build_model(_params.check_params(est), 4, 2, "linear", seed=5)
    assert model.layer_sizes == [4, 3, 2, 2] and model.output == "linear"
    assert model.activations == ["leaky_relu", "leaky_relu", "linear"] and model.negative_slope == 0.2
    assert [layer.batch_norm for layer in model.layers] == [True, True, False]
    assert model.dropout == [0.25, 0.25] and model.backend == backend
    twin = pn.MLP([4, 3, 2, 2], activation="leaky_relu", output="linear", seed=5, dropout=0.25, batch_norm=True,
                  negative_slope=0.2, backend=backend)
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(a, b)
