"""fit with ``sample_weight`` runs fused (issue 10: every configuration of fit is fused):
the numpy backend's vectorized step and the C backend's step and epoch give the run the
per-operation path gives -- the weighted mean loss of :mod:`pyneuron.sample_weights`,
its gradient, the penalty over the batch's weight sum -- to rounding, for every optimizer
configuration and dtype, with zero weights and a batch whose weights are all zero.

The reference is the per-operation numpy path (``TrainPlan.step`` with the kernels'
``weighted_data_loss`` and ``weighted_output_gradient``, which tests/test_sklearn_weights.py
checks against scikit-learn's MLP)."""
from __future__ import annotations

import contextlib

import numpy as np
import pytest

import pyneuron as pn
from pyneuron import optimizers as O
from pyneuron.training_plan import TrainPlan

from helpers import require_backend
from test_fused_training import CONFIGS, X, BatchHook, compare, per_operation, targets

W = np.random.default_rng(5).random(X.shape[0]) * 2.0
W[5:10] = 0.0     # in order, batches of 5: the second batch weighs nothing
W[17] = 0.0


def train(backend, path, config, dtype, batch_size, shuffle):
    make_opt, output, model_kw, fit_kw = CONFIGS[config]
    model_kw = dict(model_kw)
    freeze = model_kw.pop("freeze", None)
    model = pn.MLP([4, 6, 5, 3 if output == "softmax" else 1], activation="tanh", output=output,
                   seed=3, backend=backend, dtype=dtype, **model_kw)
    if freeze:
        model.freeze(*freeze)
    ctx = per_operation(backend) if path == "per-op" else contextlib.nullcontext()
    with ctx:
        history = model.fit(X, targets(output), epochs=2, batch_size=batch_size, shuffle=shuffle,
                            optimizer=make_opt(), sample_weight=W,
                            callbacks=[BatchHook()] if path == "step" else None, **fit_kw)
    return model, history


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("batch_size,shuffle", [(5, True), (5, False), (None, True)],
                         ids=["shuffled", "in-order", "full"])
@pytest.mark.parametrize("config", sorted(CONFIGS))
@pytest.mark.parametrize("path", ["step", "epoch"])
def test_weighted_runs_agree_with_the_per_operation_path(path, config, batch_size, shuffle, dtype):
    ref_model, ref_history = train("numpy", "per-op", config, dtype, batch_size, shuffle)
    for backend in ("numpy", "c"):
        if backend == "c":
            require_backend("c")
        model, history = train(backend, path, config, dtype, batch_size, shuffle)
        compare(model, history, ref_model, ref_history, dtype, config)


@pytest.mark.parametrize("backend", ["numpy", "c"])
def test_weighted_samples_keep_the_backends_own_plan(backend):
    require_backend(backend)
    model = pn.MLP([3, 4, 1], seed=2, backend=backend)
    w = np.ones(10)
    plan = model.kernels.train_plan(model, O.SGD(0.1), sample_weight=w)
    assert type(plan) is not TrainPlan and plan.path != "per-operation"
    assert plan.sample_weight is w


@pytest.mark.parametrize("path", ["per-op", "step", "epoch"])
@pytest.mark.parametrize("backend", ["numpy", "c"])
def test_a_batch_that_weighs_nothing_moves_only_by_its_penalty(backend, path):
    # y = W x + b (mse), l2 = 0.5 ("mean"), SGD lr 0.1, batches of 2 in order. By hand:
    # batch 1 (rows 0, 1) weighs 0: data loss and gradient 0; the penalty divides by the
    # 2 rows (the weight sum is 0): P = 0.5/4 (2² + 1²) = 0.625, W <- W (1 - 0.1 · 0.25)
    # = [1.95, -0.975], b stays 0.5. Batch 2 (rows 2, 3, weights 1, 1 = the plain mean):
    # errors 0.425 and 1.375, data loss (0.425² + 1.375²)/2 = 1.035625, P = 0.125 (1.95² +
    # 0.975²) = 0.594140625; dW = 0.425 [4, 5] + 1.375 [6, 7] + 0.25 W = [10.4375, 11.50625],
    # db = 1.8, so W = [0.90625, -2.125625], b = 0.32; the epoch's loss is the mean of
    # 0.625 and 1.629765625.
    require_backend(backend)
    model = pn.MLP([2, 1], output="linear", backend=backend)
    model.set_weights([np.array([[2.0, -1.0]]), np.array([0.5])])
    Xs, ys = np.arange(8.0).reshape(4, 2), np.array([1.0, 2.0, 3.0, 4.0])
    ctx = per_operation(backend) if path == "per-op" else contextlib.nullcontext()
    with ctx:
        history = model.fit(Xs, ys, epochs=1, batch_size=2, lr=0.1, l2=0.5, shuffle=False,
                            sample_weight=[0.0, 0.0, 1.0, 1.0],
                            callbacks=[BatchHook()] if path == "step" else None)
    np.testing.assert_allclose(model.layers[0].W, [[0.90625, -2.125625]], rtol=1e-13)
    np.testing.assert_allclose(model.layers[0].b, [0.32], rtol=1e-13)
    np.testing.assert_allclose(history["loss"], [(0.625 + 1.629765625) / 2], rtol=1e-13)
