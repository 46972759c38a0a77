"""Dropout masks handed in (``fit(dropout_masks=...)``) run fused: the c plan (one C call
per epoch or per step) and the numpy plan ask the callable for the same masks, in the same
order (batch by batch, layer by layer, with each layer's index and shape), and give the
per-operation path's run to rounding; the model's own generator is left alone."""
from __future__ import annotations

import numpy as np
import pytest

import pyneuron as pn
from pyneuron import optimizers as O

from helpers import require_backend
from test_fused_training import BatchHook, per_operation, tolerance

RNG = np.random.default_rng(8)
X = RNG.standard_normal((17, 3))
LABELS = RNG.integers(0, 2, 17)


def _masks(calls):
    """A mask source with its own seeded generator (a course's global one, say), keeping
    every request; masks alternate between 0/1 ints and booleans."""
    rng = np.random.default_rng(0)

    def source(index, shape):
        calls.append((index, shape))
        mask = rng.random(shape) < 0.6
        return mask if len(calls) % 2 else mask.astype(int)
    return source


def _run(backend, path, dtype, batch_size):
    model = pn.MLP([3, 6, 5, 1], dropout=[0.4, 0.3], seed=2, backend=backend, dtype=dtype)
    calls = []
    kw = dict(epochs=3, batch_size=batch_size, optimizer=O.Adam(0.02), dropout_masks=_masks(calls))
    if path == "per-op":
        with per_operation(backend):
            history = model.fit(X, LABELS, **kw)
    else:
        history = model.fit(X, LABELS, callbacks=[BatchHook()] if path == "step" else None, **kw)
    return model, history, calls, model.rng.bit_generator.state


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("batch_size", [5, 1], ids=["partial-last", "batch1"])
@pytest.mark.parametrize("backend, path", [("c", "epoch"), ("c", "step"), ("numpy", "epoch")])
def test_handed_in_masks_run_fused_as_the_per_operation_path(backend, path, dtype, batch_size):
    require_backend(backend)
    model, history, calls, state = _run(backend, path, dtype, batch_size)
    ref, ref_history, ref_calls, ref_state = _run("numpy", "per-op", dtype, batch_size)
    assert calls == ref_calls
    # the model's generator gave the shuffles alone, on both paths: no dropout draws
    assert state == ref_state
    sizes = [min(batch_size, 17 - s) for s in range(0, 17, batch_size)] * 3
    assert ref_calls == [(i, (m, w)) for m in sizes for i, w in ((0, 6), (1, 5))]
    rtol = tolerance(dtype)
    np.testing.assert_allclose(history["loss"], ref_history["loss"], rtol=rtol, atol=rtol)
    for got, want in zip(model.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(got, want, rtol=rtol * 10, atol=rtol * 10)


def test_the_fused_plans_take_handed_in_masks():
    for backend in ("c", "numpy"):
        require_backend(backend)
        model = pn.MLP([3, 4, 1], dropout=0.5, backend=backend)
        model.layers[0].mask_source = lambda shape: np.ones(shape)
        assert model.kernels.train_plan(model, O.SGD(0.1)).path != "per-operation"


def test_all_zero_masks_drop_every_unit_on_the_c_epoch():
    """A mask of zeros drops the whole hidden layer: the output is its bias alone, so the
    first batch's loss is the bias's BCE, written out: softplus(b) - y b averaged."""
    require_backend("c")
    model = pn.MLP([3, 4, 1], dropout=0.5, seed=1, backend="c")
    model.layers[1].b[...] = 0.3
    h = model.fit(X, LABELS, epochs=1, batch_size=None, shuffle=False, lr=1e-9,
                  dropout_masks=lambda i, s: np.zeros(s))
    y = LABELS.astype(float)
    want = np.mean(np.log1p(np.exp(0.3)) - y * 0.3)
    assert h["loss"][0] == pytest.approx(want, rel=1e-12)
