"""The restore point of fit (issue 15, item 2a) as each training plan keeps it.

A diverged epoch puts back the weights it started from: every parameter *and* batch
norm's running statistics, also on the C plan, which copies them inside its epoch call
(``pyn_fit_epoch``'s ``restore_point``) instead of from Python. The expected weights come
from a second, identical run stopped one epoch earlier on the per-operation numpy path.
"""
from __future__ import annotations

import contextlib

import numpy as np
import pytest

import pyneuron as pn
from pyneuron import optimizers as O

from helpers import require_backend
from test_fused_training import BatchHook, per_operation

RNG = np.random.default_rng(11)
X = RNG.standard_normal((12, 3))
Y = X @ np.array([1.0, -2.0, 0.5]) * 40.0


def _model(backend):
    # batch norm (running statistics to restore), a layer without bias and one with
    return pn.MLP([3, 6, 4, 1], output="linear", seed=3, backend=backend, batch_norm=True,
                  bias=[False, True, True])


def _fit(backend, path, epochs):
    require_backend(backend)
    model = _model(backend)
    ctx = per_operation(backend) if path == "per-op" else contextlib.nullcontext()
    with ctx:
        model.fit(X, Y, epochs=epochs, batch_size=5, optimizer=O.SGD(0.4),
                  callbacks=[BatchHook()] if path == "step" else None)
    return model


def _state(model):
    return [a.copy() for layer in model.layers for a in layer.parameters()
            + ([layer.running_mean, layer.running_var] if layer.batch_norm else [])]


@pytest.mark.parametrize("path", ["per-op", "step", "epoch"])
@pytest.mark.parametrize("backend", ["numpy", "c"])
def test_a_diverged_epoch_puts_back_every_weight_and_running_statistic(backend, path):
    require_backend(backend)
    diverged = _model(backend)
    ctx = per_operation(backend) if path == "per-op" else contextlib.nullcontext()
    with ctx, pytest.raises(pn.TrainingDivergedError) as info:
        diverged.fit(X, Y, epochs=60, batch_size=5, optimizer=O.SGD(0.4),
                     callbacks=[BatchHook()] if path == "step" else None)
    epoch = info.value.epoch
    assert epoch > 1 and info.value.batch > 1, "the run was meant to diverge mid-epoch, after a finite epoch"
    reference = _fit(backend, path, epoch - 1)
    got, want = _state(diverged), _state(reference)
    # W, gamma, beta, running mean and variance; W, b, gamma, beta, the two statistics; W, b
    assert len(got) == len(want) == 5 + 6 + 2
    for g, w in zip(got, want):
        assert np.all(np.isfinite(g))
        np.testing.assert_array_equal(g, w)
