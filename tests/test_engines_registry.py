"""Bring your own backend (issue 12, item 1): register_backend, fallback, report, errors.

Oracles: a hand-written kernel that counts its calls (so "the learner's kernel ran" is
observed, not assumed) and the numpy backend's run from the same seed (a learner kernel
that computes the same formula must give the same run to rounding)."""
from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import pyneuron as pn
from pyneuron import backends
from pyneuron.backends.numpy_backend import NumpyBackend
from pyneuron.backends.registry import FUSED, KERNELS


class CountingLinear:
    """A learner's backend with one kernel: Z = X Wᵀ + b by an explicit sum over j."""

    def __init__(self):
        self.calls = 0

    def linear_forward(self, X, W, b):
        self.calls += 1
        Z = np.zeros((X.shape[0], W.shape[0]), dtype=X.dtype)
        for j in range(X.shape[1]):
            Z += np.outer(X[:, j], W[:, j])
        return Z + b


@pytest.fixture(autouse=True)
def _forget_registered():
    yield
    for name in list(backends._registered):
        backends.unregister_backend(name)


def _data():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(30, 3))
    return X, (X[:, 0] + X[:, 1] > 0).astype(int)


def test_a_partial_backend_trains_with_its_own_kernel_and_borrows_the_rest():
    learner = CountingLinear()
    pn.register_backend("mine", learner)
    X, y = _data()
    mine = pn.MLP([3, 5, 1], seed=2, backend="mine")
    ref = pn.MLP([3, 5, 1], seed=2, backend="numpy")
    mine.fit(X, y, epochs=3, batch_size=10, lr=0.5)
    ref.fit(X, y, epochs=3, batch_size=10, lr=0.5)
    # 3 epochs x 3 batches x 2 layers of forward passes, plus the after-epoch checks
    assert learner.calls >= 18
    for a, b in zip(mine.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_report_lists_own_and_borrowed_kernels():
    pn.register_backend("mine", CountingLinear())
    report = pn.backend_report("mine")
    assert report.own == ["linear_forward"]
    assert report.borrowed == [k for k in KERNELS if k != "linear_forward"]
    assert report.reference == "numpy"
    text = str(report)
    assert "1 of 23 kernels its own" in text
    assert re.search(r"\n  linear_backward +borrowed from numpy\n", text)


def test_a_named_reference_lends_its_kernels():
    made = pn.register_backend("mine", CountingLinear(), reference="scalar")
    assert made._table["softmax"].__self__ is backends.get("scalar")
    assert pn.backend_report("mine").reference == "scalar"


def test_a_subclass_of_a_pyneuron_backend_owns_only_what_it_overrides():
    class Sigmoidless(NumpyBackend):
        def activation_forward(self, name, Z, negative_slope=0.01):
            return super().activation_forward(name, Z, negative_slope)

        def dense_forward(self, X, W, b, activation, negative_slope=0.01):
            Z = self.linear_forward(X, W, b)
            return Z, self.activation_forward(activation, Z, negative_slope)

    pn.register_backend("sub", Sigmoidless())
    report = pn.backend_report("sub")
    assert report.own == ["activation_forward", "dense_forward"]
    assert "dense_forward" in dict(report.rows) and dict(report.rows)["dense_forward"] == "own"
    assert dict(report.rows)["train_plan"].startswith("default")


def test_builtin_report_is_all_own():
    report = pn.backend_report("numpy")
    assert report.borrowed == [] and set(report.own) == set(KERNELS) | set(FUSED)


def test_usable_by_name_everywhere_a_backend_name_is():
    pn.register_backend("mine", CountingLinear())
    assert "mine" in pn.available_backends()
    with pn.use_backend("mine") as k:
        assert k.name == "mine"
        assert pn.MLP([2, 1], seed=0).kernels.name == "mine"
    pn.set_backend("mine")
    try:
        assert pn.get_backend() == "mine"
    finally:
        pn.set_backend("numpy")
    assert backends.check_name("mine") == "mine"
    backends.unregister_backend("mine")
    with pytest.raises(ValueError, match="backend: expected one of .*got 'mine'"):
        pn.MLP([2, 1], backend="mine")


@pytest.mark.parametrize("name", ["numpy", "scalar", "c", "all"])
def test_a_builtin_name_is_refused(name):
    with pytest.raises(ValueError, match=f"name: '{name}' is a built-in backend"):
        pn.register_backend(name, CountingLinear())


def test_bad_kernels_are_refused_with_their_name():
    class NotCallable:
        softmax = 3.0

    class WrongSignature:
        def activation_backward(self, name, dA, Z):
            return dA

    class Misspelt:
        def activation_fowrard(self, name, Z, negative_slope=0.01):
            return Z

    with pytest.raises(TypeError, match="kernel 'softmax': expected a function or method, got float"):
        pn.register_backend("mine", NotCallable())
    with pytest.raises(TypeError, match=r"kernel 'activation_backward': expected the signature "
                                        r"\(name, dA, Z, A, negative_slope=0.01\)"):
        pn.register_backend("mine", WrongSignature())
    with pytest.raises(ValueError, match="'activation_fowrard' \\(did you mean 'activation_forward'"):
        pn.register_backend("mine", Misspelt())
    with pytest.raises(TypeError, match="got the class CountingLinear"):
        pn.register_backend("mine", CountingLinear)
    with pytest.raises(ValueError, match="name: expected a backend name"):
        pn.register_backend("my engine", CountingLinear())
    with pytest.raises(ValueError, match="backend: expected one of"):
        pn.register_backend("mine", CountingLinear(), reference="gpu")
    assert "mine" not in backends.names()       # nothing half-registered


def test_a_kernel_taking_args_loosely_is_accepted():
    class Loose:
        def softmax(self, *args, **kwargs):
            return NumpyBackend().softmax(*args)

    pn.register_backend("mine", Loose())
    assert pn.backend_report("mine").own == ["softmax"]


def test_saved_with_a_registered_backend_loads_without_it(tmp_path):
    learner = CountingLinear()
    pn.register_backend("mine", learner)
    model = pn.MLP([2, 3, 1], seed=1, backend="mine")
    path = tmp_path / "m.npz"
    model.save(path)
    back = pn.load(path)
    assert back.backend == "mine"
    before = learner.calls
    X1 = np.array([[0.5, -1.0], [2.0, 0.25]])
    np.testing.assert_array_equal(back.predict_proba(X1), model.predict_proba(X1))
    assert learner.calls - before == 4                # the loaded model runs the learner's kernel (2 layers x 2)
    backends.unregister_backend("mine")
    with pytest.warns(UserWarning, match="saved with backend 'mine', which is not registered here"):
        loaded = pn.load(path)
    assert loaded.backend is None
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    X = np.array([[0.5, -1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(loaded.predict_proba(X), pn.MLP([2, 3, 1], seed=1).predict_proba(X))


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_works_with_the_sklearn_wrappers():
    pytest.importorskip("sklearn")
    from pyneuron.sklearn import MLPClassifier
    learner = CountingLinear()
    pn.register_backend("mine", learner)
    X, y = _data()
    clf = MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0, backend="mine").fit(X, y)
    ref = MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0, backend="numpy").fit(X, y)
    assert learner.calls > 0
    np.testing.assert_allclose(clf.predict_proba(X), ref.predict_proba(X), rtol=1e-10)
    from sklearn.base import clone
    assert clone(clf).get_params()["backend"] == "mine"
    import pickle
    again = pickle.loads(pickle.dumps(clf))
    calls = learner.calls
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    assert learner.calls > calls                     # the unpickled wrapper still runs the learner's kernel


def test_every_kernel_of_the_interface_is_delegated_and_checked():
    # a kernel added to base.py must be added here too, or a registered backend lacks it
    from pyneuron.backends.base import Backend
    from pyneuron.kernel_cases import kernel_cases
    public = {n for n in dir(Backend) if not n.startswith("_") and callable(getattr(Backend, n))}
    assert public == set(KERNELS) | set(FUSED)
    assert set(kernel_cases()) == set(KERNELS)              # and the conformance kit exercises each
    from pyneuron.kernel_cases import fused_cases           # and each fused one but the whole-step two
    assert set(fused_cases()) == set(FUSED) - {"sgd_train_step", "train_plan"}
