"""Issue 11's last debt: the kernel interface names the leaky-ReLU slope ``negative_slope``
(as pn.MLP, the layers, the C kernels and torch's ``LeakyReLU`` do), not ``alpha``.

* Every built-in backend takes ``negative_slope=`` by keyword with the values it gives by
  position; the old ``alpha=`` warns (naming ``negative_slope``, at the caller's line) and
  gives the same values; both names at once is a ``TypeError``.
* A learner's backend whose methods still say ``alpha`` works (pyneuron passes the slope
  by position) and ``register_backend`` warns once, naming the methods to rename.
* No public signature of pyneuron has a parameter ``alpha`` meaning the slope, except the
  keyword-only deprecated aliases; the scikit-learn wrappers' ``alpha`` is the L2 strength.

Oracles: leaky ReLU and its derivative by hand (``z`` if ``z > 0`` else ``s·z``), a dense
layer and the mean squared error's gradient in plain NumPy, a whole SGD step composed in
plain NumPy (torch's ``LeakyReLU(negative_slope)`` formulas), and the numpy backend for a
learner's engine trained end to end.
"""
import importlib
import inspect
import pkgutil
import warnings

import numpy as np
import pytest

import pyneuron as pn
from pyneuron import backends
from pyneuron.backends.base import Backend
from pyneuron.backends.registry import FUSED, KERNELS
from pyneuron.backends.slope_name import SLOPE_KERNELS

SLOPE = 0.2
X = np.array([[1.0, -2.0], [-3.0, 0.5], [0.25, 4.0]])
W = np.array([[0.5, 1.0], [-1.0, 0.25], [2.0, -0.5]])        # (n_out, n_in)
b = np.array([0.1, -0.2, 0.3])
Z = X @ W.T + b                                               # has entries of both signs
A = np.where(Z > 0, Z, SLOPE * Z)
Y = np.array([[1.0, 0.0, -1.0], [0.5, 0.5, 0.5], [-2.0, 1.0, 0.0]])
dA = np.array([[1.0, -2.0, 0.5], [3.0, 1.0, -1.0], [0.25, 0.5, 2.0]])
WEIGHTS = np.array([1.0, 2.0, 0.5])


def leaky(z, s):
    return np.where(z > 0, z, s * z)


def leaky_prime(z, s):
    return np.where(z > 0, 1.0, s)


def _mse_grad(a):                          # d/dA of mean((A - Y)²) over all m·k elements
    return 2.0 * (a - Y) / a.size


def _sgd_expected(s, lr=0.1):
    """One SGD step of a 2-3-3 leaky-ReLU net on the MSE, in plain NumPy: (loss, W1, b1, W2, b2)."""
    W1, b1, W2, b2 = W.copy(), b.copy(), (W @ W.T) * 0.3, b.copy()
    Z1 = X @ W1.T + b1
    A1 = leaky(Z1, s)
    Z2 = A1 @ W2.T + b2
    A2 = leaky(Z2, s)
    loss = np.mean((A2 - Y) ** 2)
    dZ2 = _mse_grad(A2) * leaky_prime(Z2, s)
    dW2, db2 = dZ2.T @ A1, dZ2.sum(axis=0)
    dZ1 = (dZ2 @ W2) * leaky_prime(Z1, s)
    dW1, db1 = dZ1.T @ X, dZ1.sum(axis=0)
    return loss, W1 - lr * dW1, b1 - lr * db1, W2 - lr * dW2, b2 - lr * db2


def _sgd_args():
    """Fresh parameter lists for sgd_train_step (it updates them in place)."""
    return (X, Y, [W.copy(), (W @ W.T) * 0.3], [b.copy(), b.copy()], ["leaky_relu", "leaky_relu"], "mse", 0.1)


#: kernel -> (the arguments before the slope, a function of the slope giving the expected result)
CALLS = {
    "activation_forward": (lambda: ("leaky_relu", Z), lambda s: leaky(Z, s)),
    "activation_backward": (lambda: ("leaky_relu", dA, Z, leaky(Z, SLOPE)), lambda s: dA * leaky_prime(Z, s)),
    "dense_forward": (lambda: (X, W, b, "leaky_relu"), lambda s: (Z, leaky(Z, s))),
    "dense_backward": (lambda: (dA, X, W, Z, A, "leaky_relu"),
                       lambda s: ((dA * leaky_prime(Z, s)) @ W, (dA * leaky_prime(Z, s)).T @ X,
                                  (dA * leaky_prime(Z, s)).sum(axis=0))),
    "output_gradient": (lambda: ("mse", "leaky_relu", A, Y, Z), lambda s: _mse_grad(A) * leaky_prime(Z, s)),
    "weighted_output_gradient": (lambda: ("mse", "leaky_relu", A, Y, Z, WEIGHTS),
                                 lambda s: _mse_grad(A) * leaky_prime(Z, s)
                                 * (WEIGHTS * 3 / WEIGHTS.sum())[:, None]),
    "sgd_train_step": (_sgd_args, _sgd_expected),
}


def _call(kernels, kernel, *slope, **by_name):
    """Run ``kernel`` with the slope as given; the values to compare (an in-place step's
    parameters after the update with its returned loss)."""
    args = CALLS[kernel][0]()
    out = getattr(kernels, kernel)(*args, *slope, **by_name)
    if kernel == "sgd_train_step":
        return (out, args[2][0], args[3][0], args[2][1], args[3][1])
    return out


def _same(got, expected, what):
    got = got if isinstance(got, tuple) else (got,)
    expected = expected if isinstance(expected, tuple) else (expected,)
    assert len(got) == len(expected), what
    for g, e in zip(got, expected):
        np.testing.assert_allclose(np.asarray(g, dtype=np.float64), e, rtol=1e-13, atol=1e-15, err_msg=what)


def test_the_cases_cover_every_kernel_that_takes_the_slope():
    assert set(CALLS) == set(SLOPE_KERNELS)
    for kernel in SLOPE_KERNELS:
        params = [p for p in inspect.signature(getattr(Backend, kernel)).parameters.values()
                  if p.kind is p.POSITIONAL_OR_KEYWORD]
        assert params[-1].name == "negative_slope" and params[-1].default == 0.01, kernel


@pytest.mark.parametrize("kernel", sorted(CALLS))
def test_negative_slope_by_keyword_is_the_slope_by_position(kernels, kernel):
    expected = CALLS[kernel][1](SLOPE)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                      # the new name never warns
        by_position = _call(kernels, kernel, SLOPE)
        by_keyword = _call(kernels, kernel, negative_slope=SLOPE)
        by_default = _call(kernels, kernel)
    _same(by_position, expected, f"{kernel}, slope by position")
    _same(by_keyword, expected, f"{kernel}, negative_slope=")
    _same(by_default, CALLS[kernel][1](0.01), f"{kernel}, default slope 0.01")


@pytest.mark.parametrize("kernel", sorted(CALLS))
def test_the_old_alpha_keyword_warns_and_gives_the_same_values(kernels, kernel):
    with pytest.warns(DeprecationWarning, match=rf"{kernel}\(alpha=\.\.\.\) is deprecated.*negative_slope") as rec:
        old = _call(kernels, kernel, alpha=SLOPE)
    assert [w.filename for w in rec if w.category is DeprecationWarning] == [__file__]   # _call's line
    _same(old, CALLS[kernel][1](SLOPE), f"{kernel}, alpha=")


@pytest.mark.parametrize("kernel", sorted(CALLS))
def test_both_names_at_once_are_a_type_error(kernels, kernel):
    with pytest.raises(TypeError, match=rf"{kernel}\(\) got the leaky-ReLU slope twice, as "
                                        r"negative_slope=0\.3 and as alpha=0\.2.*give only negative_slope"):
        _call(kernels, kernel, negative_slope=0.3, alpha=0.2)
    with pytest.raises(TypeError, match="give only negative_slope"):
        _call(kernels, kernel, 0.3, alpha=0.2)               # by position and by the old name
    with pytest.raises(TypeError, match="give only negative_slope"):
        _call(kernels, kernel, 0.01, alpha=0.2)              # even the default's value, given


def test_a_bad_old_alpha_is_refused_naming_alpha(kernels):
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match=r"^alpha: expected a finite number"):
        kernels.activation_forward("leaky_relu", Z, alpha=float("nan"))


@pytest.mark.parametrize("kernel", ["activation_forward", "activation_backward", "dense_forward", "sgd_train_step"])
def test_the_c_kernels_name_negative_slope_in_their_type_errors(kernel):
    from helpers import require_backend
    c = backends.get(require_backend("c"))
    with pytest.raises(TypeError, match=r"^negative_slope: expected a real number, got str$"):
        _call(c, kernel, "0.2")


# ------------------------------------------------------------------ a learner's backend
class OldNames:
    """A learner's engine written before the rename: its slope parameters say ``alpha``."""

    def __init__(self):
        self.slopes = []

    def activation_forward(self, name, Z, alpha=0.01):
        self.slopes.append(alpha)
        if name == "leaky_relu":
            return np.where(Z > 0, Z, alpha * Z)
        return backends.get("numpy").activation_forward(name, Z)

    def activation_backward(self, name, dA, Z, A, alpha=0.01):
        self.slopes.append(alpha)
        if name == "leaky_relu":
            return dA * np.where(Z > 0, 1.0, alpha)
        return backends.get("numpy").activation_backward(name, dA, Z, A)

    def linear_forward(self, X, W, b):                   # no slope: nothing to rename
        return X @ W.T + b


class NewNames(OldNames):
    def activation_forward(self, name, Z, negative_slope=0.01):
        return super().activation_forward(name, Z, negative_slope)

    def activation_backward(self, name, dA, Z, A, negative_slope=0.01):
        return super().activation_backward(name, dA, Z, A, negative_slope)


@pytest.fixture
def unregister():
    yield
    for name in ("old_names", "new_names"):
        if name in backends.names():
            backends.unregister_backend(name)


def _train(backend):
    X2, y2 = pn.datasets.make_moons(40, noise=0.2, seed=1)
    model = pn.MLP([2, 5, 1], activation="leaky_relu", negative_slope=0.3, seed=4, backend=backend)
    model.fit(X2, y2, epochs=3, batch_size=8, lr=0.2)
    return model


def test_a_learner_backend_with_the_old_name_works_and_register_backend_warns_once(unregister):
    engine = OldNames()
    with pytest.warns(DeprecationWarning) as rec:
        pn.register_backend("old_names", engine)
    warned = [w for w in rec if w.category is DeprecationWarning]
    assert len(warned) == 1
    message = str(warned[0].message)
    assert warned[0].filename == __file__
    assert "'old_names'" in message and "rename the parameter alpha to negative_slope" in message
    assert "activation_forward, activation_backward" in message and "linear_forward" not in message
    with warnings.catch_warnings():
        warnings.simplefilter("error")                     # training with it warns no more
        model = _train("old_names")
    assert engine.slopes and set(engine.slopes) == {0.3}   # the model's slope reached the learner's kernels
    reference = _train("numpy")
    for mine, ref in zip(model.parameters(), reference.parameters()):
        np.testing.assert_allclose(mine, ref, rtol=1e-12, atol=1e-14)


def test_a_learner_backend_with_the_new_name_registers_silently(unregister):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pn.register_backend("new_names", NewNames())
        _train("new_names")


def test_the_kit_passes_the_slope_by_position_and_shows_it_as_negative_slope():
    pytest.importorskip("hypothesis")
    from pyneuron.testing import check_backend

    class SlopeIgnored(NewNames):
        def activation_forward(self, name, Z, negative_slope=0.01):
            return super().activation_forward(name, Z, 0.01)       # the slope written in

    with pytest.warns(DeprecationWarning, match="activation_forward, activation_backward"):
        old = check_backend(OldNames(), max_examples=5, training=False, dtypes=("float64",),
                            kernels=["activation_forward", "activation_backward"])
    assert old.passed, str(old)
    wrong = check_backend(SlopeIgnored(), max_examples=10, training=False, dtypes=("float64",),
                          kernels=["activation_forward"])
    assert wrong.failed_kernels == ["activation_forward"]
    shown = wrong.failures[0].failure["input"]
    assert "negative_slope=0.2)" in shown and "alpha" not in shown


# ------------------------------------------------------------------ no alpha meaning the slope
def _public_callables():
    """(qualified name, callable) of every public function, class and method pyneuron defines:
    whose code is in pyneuron's files (not, e.g., the ``set`` matplotlib gives each subclass
    of its ``Figure``, pyneuron's rich-display ``Figure`` included)."""
    import os

    import pyneuron
    home = os.path.dirname(pyneuron.__file__) + os.sep

    def ours(fn):
        return getattr(getattr(fn, "__code__", None), "co_filename", "").startswith(home)
    for info in pkgutil.walk_packages(pyneuron.__path__, "pyneuron."):
        if info.name.endswith("__main__"):
            continue
        try:
            module = importlib.import_module(info.name)
        except ImportError:                                # an optional dependency is missing
            continue
        for name, obj in list(vars(module).items()):      # a later import may add to the dict
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if inspect.isfunction(obj) and ours(obj):
                yield f"{module.__name__}.{name}", obj
            elif inspect.isclass(obj):
                for attr, value in list(vars(obj).items()):
                    if inspect.isfunction(value) and ours(value) and (attr == "__init__" or not attr.startswith("_")):
                        yield f"{module.__name__}.{name}" + ("" if attr == "__init__" else f".{attr}"), value


#: The two helpers whose job is the old name: they receive what a caller gave as ``alpha``.
ALIAS_HELPERS = ("pyneuron._slope.slope_argument", "pyneuron.backends.slope_name.old_slope_keyword")


def test_no_public_signature_has_an_alpha_meaning_the_slope():
    seen, aliases = 0, []
    for qualname, fn in _public_callables():
        try:
            params = inspect.signature(fn).parameters
        except (TypeError, ValueError):
            continue
        seen += 1
        if "alpha" not in params or qualname in ALIAS_HELPERS or qualname.startswith("pyneuron.sklearn."):
            continue
        alpha = params["alpha"]
        # the only alpha left is the slope's deprecated alias: keyword-only, None, beside negative_slope
        assert alpha.kind is alpha.KEYWORD_ONLY and alpha.default is None, qualname
        assert "negative_slope" in params, qualname
        aliases.append(qualname)
    assert seen > 300                                       # the walk did reach the package
    for expected in ("pyneuron.network.MLP", "pyneuron.neuron.Neuron", "pyneuron.activations.apply",
                     "pyneuron.backends.numpy_backend.NumpyBackend.activation_forward"):
        assert expected in aliases


@pytest.mark.parametrize("owner", [Backend, *[type(backends.get(n)) for n in ("scalar", "numpy")]])
def test_the_kernel_interface_says_negative_slope(owner):
    for kernel in KERNELS + FUSED:
        params = inspect.signature(getattr(owner, kernel)).parameters
        positional = [p.name for p in params.values() if p.kind is not p.KEYWORD_ONLY]
        assert "alpha" not in positional, (owner, kernel)
        assert ("negative_slope" in positional) == (kernel in SLOPE_KERNELS), (owner, kernel)
    for kernel in ("activation_forward", "activation_backward"):    # the contract a learner implements
        assert "alpha" not in inspect.signature(getattr(Backend, kernel)).parameters


def test_the_sklearn_wrappers_alpha_is_the_l2_strength():
    sk = pytest.importorskip("sklearn.neural_network")
    from pyneuron.sklearn import MLPClassifier, MLPRegressor
    for ours, theirs in ((MLPClassifier, sk.MLPClassifier), (MLPRegressor, sk.MLPRegressor)):
        params = ours().get_params()
        assert params["alpha"] == theirs().alpha == 0.0001      # scikit-learn's L2 default
        assert params["negative_slope"] == 0.01                 # the slope has its own name
