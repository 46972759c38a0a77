"""Lesson 12 (pyneuron.lessons.own_engine) beyond test_examples' key results: what the
mutation run (.ci/mutation.py pyneuron/lessons/own_engine.py, issue 15 item 10) needs — the
learner's two kernels against NumPy formulas written out here (every activation, both
dtypes, the planted tanh mistake and its fix), the timing loop's count of runs, and one run
of ``main`` (its slow timing step replaced by fixed times) whose printed lines and calls
are checked: the data, the training settings, the kit and the localizer's arguments."""
from __future__ import annotations

import re

import numpy as np
import pytest

import pyneuron as pn
from pyneuron.lessons import own_engine

ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "linear", "softmax"]


def case(dtype, n=5, k=3, seed=0):
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, k)).astype(dtype)
    Z[0, 0] = 0.0                                     # a unit exactly at the kink
    dA = rng.normal(size=(n, k)).astype(dtype)
    return dA, Z


def forward(name, Z):
    if name == "sigmoid":
        return 1 / (1 + np.exp(-Z))
    if name == "tanh":
        return np.tanh(Z)
    if name == "relu":
        return np.maximum(Z, 0)
    if name == "leaky_relu":
        return np.where(Z > 0, Z, 0.01 * Z)
    if name == "linear":
        return Z.copy()
    e = np.exp(Z - Z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def derivative_oracle(name, dA, Z, A, slope=0.01, tanh_sign=-1):
    """dZ written out: f'(Z) from A where the textbook does, softmax's Jacobian row by row."""
    if name == "sigmoid":
        return dA * A * (1 - A)
    if name == "tanh":
        return dA * (1 + tanh_sign * A ** 2)
    if name == "relu":
        return dA * (Z > 0)
    if name == "leaky_relu":
        return dA * np.where(Z > 0, 1, slope)
    if name == "linear":
        return dA
    out = np.empty_like(dA)
    for s in range(len(dA)):                          # J = diag(a) - a aᵀ, dz = J dA
        a = A[s]
        out[s] = (np.diag(a) - np.outer(a, a)) @ dA[s]
    return out


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_linear_forward_is_x_w_transposed_plus_b(dtype):
    rng = np.random.default_rng(1)
    X, W, b = rng.normal(size=(4, 3)).astype(dtype), rng.normal(size=(2, 3)).astype(dtype), rng.normal(size=2)
    Z = own_engine.MyKernels().linear_forward(X, W, b.astype(dtype))
    assert Z.shape == (4, 2) and Z.dtype == dtype
    expected = [[sum(float(W[j, i]) * float(X[s, i]) for i in range(3)) + float(b[j]) for j in range(2)]
                for s in range(4)]
    np.testing.assert_allclose(Z, expected, rtol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_backward_and_the_planted_mistake(name, dtype):
    dA, Z = case(dtype)
    A = forward(name, Z).astype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    mine = own_engine.MyKernels().activation_backward(name, dA, Z, A)
    assert mine.dtype == dtype and mine.shape == dA.shape
    np.testing.assert_allclose(mine, derivative_oracle(name, dA, Z, A, tanh_sign=+1), rtol=tol, atol=tol)
    fixed = own_engine.MyFixedKernels().activation_backward(name, dA, Z, A)
    assert fixed.dtype == dtype
    np.testing.assert_allclose(fixed, derivative_oracle(name, dA, Z, A), rtol=tol, atol=tol)
    if name == "tanh":                                # the mistake is visible: 1 + a² vs 1 - a²
        assert not np.allclose(mine, fixed)


@pytest.mark.parametrize("kernels", [own_engine.MyKernels(), own_engine.MyFixedKernels()])
def test_leaky_relu_slope_is_passed_through(kernels):
    dA, Z = case(np.float64)
    A = forward("leaky_relu", Z)
    np.testing.assert_allclose(kernels.activation_backward("leaky_relu", dA, Z, A, negative_slope=0.3),
                               derivative_oracle("leaky_relu", dA, Z, A, slope=0.3), rtol=1e-14)


def test_linear_backward_is_a_copy():
    dA, Z = case(np.float64)
    out = own_engine.MyKernels().activation_backward("linear", dA, Z, Z)
    assert out is not dA and np.array_equal(out, dA)


# ---------------------------------------------------------------------------- cpu_seconds
class Clock:
    def __init__(self, per_run):
        self.now, self.per_run, self.calls = 0.0, per_run, 0

    def __call__(self):                               # called at the start and end of each run
        self.calls += 1
        if self.calls % 2 == 0:
            self.now += self.per_run
        return self.now


@pytest.fixture
def fake_training(monkeypatch):
    built = []

    class FakeMLP:
        def __init__(self, sizes, **kwargs):
            self.score_value = 0.5 + 0.125 * len(built)
            built.append((sizes, kwargs, []))

        def fit(self, X, y, **kwargs):
            built[-1][2].append(kwargs)

        def score(self, X, y):
            return self.score_value

    monkeypatch.setattr(own_engine.pn, "MLP", FakeMLP)
    monkeypatch.setattr(own_engine, "progress", lambda model, epochs, name: ("bar", epochs, name))
    return built


@pytest.mark.parametrize("per_run, at_least, runs", [
    (1.0, 0.2, 3),                  # three runs at least
    (0.0625, 0.25, 4),              # then until at_least: 3 x 0.0625 < 0.25 <= 4 x 0.0625
    (0.0625, None, 4),              # the default at_least is 0.2
    (0.125, 0.25, 3)])              # 3 x 0.125 = 0.375: no fourth run
def test_cpu_seconds_runs_until_it_has_enough(monkeypatch, fake_training, per_run, at_least, runs):
    monkeypatch.setattr(own_engine.time, "process_time", Clock(per_run))
    X, y = np.zeros((4, 2)), np.zeros(4)
    kwargs = {} if at_least is None else {"at_least": at_least}
    seconds, accuracy = own_engine.cpu_seconds("c", X, y, 7, **kwargs)
    assert seconds == per_run and len(fake_training) == runs
    assert accuracy == 0.5 + 0.125 * (runs - 1)           # the last model's score
    for sizes, kw, fits in fake_training:
        assert sizes == [2, 16, 1] and kw == {"activation": "tanh", "seed": 0, "backend": "c"}
        assert fits == [{"epochs": 7, "batch_size": 32, "lr": 0.1, "callbacks": ("bar", 7, "c")}]


# ---------------------------------------------------------------------------- main
TIMES = {"scalar": 1.2, "numpy": 0.1, "c": 0.05, "mine": 0.3}


@pytest.fixture
def spied(monkeypatch):
    """main's calls recorded: the data, every fit, the kit and the localizer (run for real),
    and the timing step (fixed times)."""
    calls = {"moons": [], "fit": [], "kit": [], "compare": [], "cpu": [], "fit_models": [], "compare_models": [],
             "progress": []}
    real_moons, real_fit = pn.datasets.make_moons, pn.MLP.fit
    real_kit, real_compare = own_engine.check_backend, own_engine.compare_backends

    def moons(*args, **kwargs):
        calls["moons"].append((args, kwargs))
        return real_moons(*args, **kwargs)

    def fit(self, X, y, **kwargs):
        initial = [w.copy() for w in self.get_weights()]
        history = real_fit(self, X, y, **kwargs)
        calls["fit"].append((self.backend, len(X), {k: v for k, v in kwargs.items() if k != "callbacks"},
                             history.history["loss"]))
        calls["fit_models"].append(initial)
        return history

    def kit(name, **kwargs):
        report = real_kit(name, **kwargs)
        calls["kit"].append((name, kwargs, report))
        return report

    def compare(model, X, y, **kwargs):
        calls["compare_models"].append([w.copy() for w in model.get_weights()])
        result = real_compare(model, X, y, **kwargs)
        calls["compare"].append((len(X), kwargs, result))
        return result

    def cpu(name, X, y, epochs):
        calls["cpu"].append((name, len(X), epochs))
        return TIMES.get(name, 0.02), 0.875

    monkeypatch.setattr(pn.datasets, "make_moons", moons)
    monkeypatch.setattr(pn.MLP, "fit", fit)
    monkeypatch.setattr(own_engine, "check_backend", kit)
    monkeypatch.setattr(own_engine, "compare_backends", compare)
    monkeypatch.setattr(own_engine, "cpu_seconds", cpu)
    real_progress = own_engine.progress
    monkeypatch.setattr(own_engine, "progress", lambda model, epochs, name: calls["progress"].append(
        (epochs, name)) or real_progress(model, epochs, name))
    return calls


class Kit:
    def __init__(self, passed):
        self.passed, self.failed_kernels = passed, [] if passed else ["activation_backward"]
        self.failures = [type("R", (), {"dtype": d, "failure": {"actual": x, "expected": 1.0}})()
                         for d, x in (("float32", 3.0), ("float64", 2.0))]

    def __str__(self):
        return "  ok    matmul\n  FAIL  activation_backward"


class Comparison:
    def __init__(self, first):
        self.first = first
        self.divergences = {"mine": type("D", (), {"step": 1, "layer": 0, "kernel": "k"})()}

    def __str__(self):
        return f"comparison, first {self.first}"


@pytest.mark.parametrize("kit_passes, first, fixed", [(True, None, True), (True, "step 0", False),
                                                     (False, None, False)])
def test_main_full_setting_and_what_fixed_means(monkeypatch, spied, capsys, kit_passes, first, fixed):
    kits = iter([Kit(False), Kit(kit_passes)])
    comparisons = iter([Comparison("step 0"), Comparison(first)])
    kit_calls = []
    monkeypatch.setattr(own_engine, "check_backend",
                        lambda name, **kw: kit_calls.append(kw) or next(kits))
    monkeypatch.setattr(own_engine, "compare_backends", lambda *a, **kw: next(comparisons))
    pn.set_backend("numpy")
    results = own_engine.main([])
    out = capsys.readouterr().out
    assert results["fixed_passes"] is fixed and results["divergence"] == (1, 0, "k")
    assert spied["moons"] == [((400,), {"noise": 0.2, "seed": 0})]
    assert kit_calls == [{"reference": "numpy", "max_examples": 25, "training": False},
                         {"reference": "numpy", "max_examples": 25, "training": True}]
    assert "  borrowed from numpy: 21 kernels" in out
    assert "  FAIL  activation_backward\n" in out and "  ok    matmul" not in out
    assert "actual / expected = 2.0000," in out                    # the float64 failure's ratio
    assert ("  conformance kit: every kernel passes\n" in out) is kit_passes
    assert ("  conformance kit: ['activation_backward']\n" in out) is not kit_passes
    assert all((n, e) == (400, 30) for _, n, e in spied["cpu"]) and spied["cpu"]
    assert "ms CPU for 30 epochs" in out


def test_main_prints_and_calls_what_the_lesson_says(spied, capsys):
    pn.set_backend("numpy")
    try:
        results = own_engine.main(["--fast", "--backend", "c"])
    finally:
        pn.set_backend("numpy")
    out = capsys.readouterr().out
    assert results["own"] == ["linear_forward", "activation_backward"]
    assert results["kit_failed"] == ["activation_backward"] and results["divergence"] == (0, 0, "activation_backward")
    assert results["fixed_passes"] is True
    assert "mine" not in pn.available_backends()

    assert spied["moons"] == [((120,), {"noise": 0.2, "seed": 0})]
    mine_fits = [f for f in spied["fit"] if f[0] == "mine"]
    assert [(n, kw) for _, n, kw, _ in mine_fits] == [(120, {"epochs": 3, "batch_size": 32, "lr": 0.1}),
                                                       (32, {"epochs": 1, "batch_size": 32, "lr": 0.1})]
    network = pn.MLP([2, 8, 1], activation="tanh", seed=0).get_weights()     # the 2-8-1 tanh net, seed 0
    started = [w for f, w in zip(spied["fit"], spied["fit_models"]) if f[0] == "mine"] + spied["compare_models"]
    assert len(started) == 4
    for weights in started:                           # steps 1 and 4 train it; steps 3 and 5 compare it
        assert len(weights) == len(network) and all(np.array_equal(a, b) for a, b in zip(weights, network))
    assert spied["progress"] == [(3, "mine")]                # step 1's bar counts its 3 epochs
    loss = mine_fits[0][3]
    assert f"  it trains without an error: loss {loss[0]:.4f} -> {loss[-1]:.4f} -- but is it right?" in out
    assert loss[0] != loss[-1]
    assert "  ours: linear_forward, activation_backward\n" in out
    assert "  borrowed from c: 21 kernels (matmul, linear_backward, activation_forward, softmax, ...)\n" in out

    (name1, kw1, kit1), (name2, kw2, kit2) = spied["kit"]
    assert (name1, kw1) == ("mine", {"reference": "c", "max_examples": 5, "training": False})
    assert (name2, kw2) == ("mine", {"reference": "c", "max_examples": 5, "training": False})
    assert kit2.passed and not kit1.passed
    for line in str(kit1).splitlines():                        # the kit's report without its ok lines
        assert (line in out.splitlines()) is (not line.startswith("  ok"))
    failure = next(r.failure for r in kit1.failures if r.dtype == "float64")
    ratio = failure["actual"] / failure["expected"]
    a = float(re.findall(r"\[\[([-0-9.e]+)\]\]", failure["input"])[2])     # the input's A
    assert ratio == pytest.approx((1 + a * a) / (1 - a * a), rel=1e-3)
    assert f"actual / expected = {ratio:.4f}, which is (1 + a²)/(1 − a²)" in out

    assert [(n, kw) for n, kw, _ in spied["compare"]] == [
        (120, {"backends": ("c", "mine"), "steps": 3, "batch_size": 32})] * 2
    assert str(spied["compare"][0][2]) in out and str(spied["compare"][1][2]) in out
    step4 = out.split("Step 4")[1].split("Step 5")[0]
    assert re.search(r"trace: [1-9]\d* kernel calls", step4) and " step 0 " in step4 and " step 1 " not in step4
    assert "  conformance kit: every kernel passes\n" in out

    names = [name for name, _, _ in spied["cpu"]]
    assert "mine" in names and "numpy" in names and "scalar" in names
    assert all((n, e) == (120, 5) for _, n, e in spied["cpu"])
    assert "  mine       300.0 ms CPU for 5 epochs, training accuracy 0.875\n" in out
    assert "  numpy      100.0 ms CPU for 5 epochs, training accuracy 0.875\n" in out
    assert "  ours takes 3.0× the numpy engine's time and 0.25× the scalar engine's" in out
    assert results["times"] == {name: TIMES.get(name, 0.02) for name in names}
