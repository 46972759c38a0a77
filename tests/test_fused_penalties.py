"""Every penalty runs fused: ``penalty="sum"`` and per-parameter strengths (biases, batch
norm's gamma and beta, one layer left out) on the c plan (one C call per epoch or per
step) and the numpy plan give the per-operation path's run to rounding -- losses, the
penalties fit records, weights -- and the update each adds is the penalty's gradient,
checked by hand on one SGD step: with and without the penalty, the same batch moves a
parameter p by −lr·(λ₂/d·p + λ₁/d·sign p) more (d = m for "mean", and λ₂ doubled with d = 1
for "sum", pyneuron.penalties)."""
from __future__ import annotations

import numpy as np
import pytest

import pyneuron as pn
from pyneuron import optimizers as O

from helpers import require_backend
from test_fused_training import BatchHook, per_operation, tolerance

RNG = np.random.default_rng(21)
X = RNG.standard_normal((19, 4))
LABELS = RNG.integers(0, 3, 19)

PENALTIES = {
    "sum": dict(l2=0.05, l1=0.01, penalty="sum"),
    "per-parameter": dict(l2={"W": 0.1, "layer0/W": 0.0, "b": 0.2, "layer1": 0.3},
                          l1={"layer2/W": 0.02, "gamma": 0.01}),
    "per-parameter, sum": dict(l2={"layer0": 0.05}, l1={"b": 0.01}, penalty="sum"),
}
OPTIMIZERS = {"momentum": lambda: O.SGD(0.05, momentum=0.9), "adam": lambda: O.Adam(0.01)}


def _run(backend, path, penalty, optimizer, dtype):
    model = pn.MLP([4, 6, 5, 3], activation="tanh", output="softmax", seed=4, backend=backend,
                   dtype=dtype, batch_norm=True)   # no bias before batch norm (the default)
    model.freeze("layer1/beta")
    kw = dict(epochs=3, batch_size=5, optimizer=OPTIMIZERS[optimizer](), **PENALTIES[penalty])
    if path == "per-op":
        with per_operation(backend):
            history = model.fit(X, LABELS, **kw)
    else:
        history = model.fit(X, LABELS, callbacks=[BatchHook()] if path == "step" else None, **kw)
    return model, history


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("penalty", sorted(PENALTIES))
@pytest.mark.parametrize("backend, path", [("c", "epoch"), ("c", "step"), ("numpy", "epoch")])
def test_fused_penalties_agree_with_the_per_operation_path(backend, path, penalty, optimizer, dtype):
    require_backend(backend)
    model, history = _run(backend, path, penalty, optimizer, dtype)
    plan_path = model.kernels.train_plan(model, O.SGD(0.1), penalty=pn.penalties.Penalty(
        model, **{k: v for k, v in PENALTIES[penalty].items() if k != "penalty"},
        scaling=PENALTIES[penalty].get("penalty", "mean"))).path
    assert plan_path != "per-operation"
    ref, ref_history = _run("numpy", "per-op", penalty, optimizer, dtype)
    rtol = tolerance(dtype)
    for key in ("loss", "penalty", "data_loss"):
        np.testing.assert_allclose(history[key], ref_history[key], rtol=rtol, atol=rtol, err_msg=key)
    for (name, got), (_, want) in zip(model.named_parameters(), ref.named_parameters()):
        np.testing.assert_allclose(got, want, rtol=rtol * 10, atol=rtol * 10, err_msg=name)


@pytest.mark.parametrize("scaling", ["mean", "sum"])
@pytest.mark.parametrize("backend", ["c", "numpy", "scalar"])
def test_one_step_adds_the_penalty_gradient_written_out(backend, scaling):
    require_backend(backend)
    l2 = {"layer0/W": 0.3, "layer1/b": 0.2}
    l1 = {"layer1/W": 0.1}
    lr, m = 0.1, 7
    Xs, ys = X[:m], (LABELS[:m] > 0).astype(int)
    after = []
    for pen in ({}, {"l2": l2, "l1": l1, "penalty": scaling}):
        model = pn.MLP([4, 3, 1], seed=9, backend=backend, bias=True)
        before = {n: p.copy() for n, p in model.named_parameters()}
        model.fit(Xs, ys, epochs=1, batch_size=None, shuffle=False, optimizer=O.SGD(lr), **pen)
        after.append(dict(model.named_parameters()))
    d, k2 = (m, 1.0) if scaling == "mean" else (1, 2.0)
    for name, p0 in before.items():
        g = k2 * l2.get(name, 0.0) / d * p0 + l1.get(name, 0.0) / d * np.sign(p0)
        np.testing.assert_allclose(after[1][name] - after[0][name], -lr * g, rtol=1e-9, atol=1e-15,
                                   err_msg=name)
