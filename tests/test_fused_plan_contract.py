"""The train_plan contract: ``train_plan(model, optimizer, l1, l2, clip_value, clip_norm,
track_accuracy, **extras)`` with ``penalty=`` and ``sample_weight=`` is the one place a
plan is chosen. A backend's own (fused) plan that cannot run a non-None extra returns the
per-operation :class:`TrainPlan` carrying it; a uniform ``Penalty`` runs fused, and gives
the run the plain ``l1``/``l2`` floats give. Oracles: the per-operation plan built
directly (its kernels are tested against hand-worked values and torch elsewhere)."""
from __future__ import annotations

import numpy as np
import pytest

import pyneuron as pn
from pyneuron import optimizers as O
from pyneuron.penalties import Penalty
from pyneuron.training_plan import TrainPlan, plan_extras

RNG = np.random.default_rng(11)
X = RNG.standard_normal((10, 3))
Y = (X[:, :1] > 0).astype(np.float64)


def _model(backend, **kw):
    return pn.MLP([3, 4, 1], seed=2, backend=backend, **kw)


def test_weighted_samples_keep_the_backends_own_plan_and_reach_it(backend):
    model = _model(backend)
    w = np.ones(10)
    default = model.kernels.train_plan(model, O.SGD(0.1))
    plan = model.kernels.train_plan(model, O.SGD(0.1), sample_weight=w)
    assert type(plan) is type(default)
    assert plan.sample_weight is w


@pytest.mark.parametrize("kind", ["sum", "per-parameter"])
def test_every_penalty_keeps_the_backends_own_plan_and_reaches_it(backend, kind):
    model = _model(backend)
    pen = (Penalty(model, l2=0.1, scaling="sum") if kind == "sum"
           else Penalty(model, l2={"layer0/W": 0.1, "b": 0.2}))
    default = model.kernels.train_plan(model, O.SGD(0.1))
    plan = model.kernels.train_plan(model, O.SGD(0.1), penalty=pen)
    assert type(plan) is type(default)
    assert plan.penalty is pen and plan.sample_weight is None
    assert (backend == "scalar") == (plan.path == "per-operation")


def test_none_extras_and_a_uniform_penalty_keep_the_backends_own_plan(backend):
    model = _model(backend)
    default = model.kernels.train_plan(model, O.SGD(0.1), l2=0.1)
    for extras in ({"penalty": None, "sample_weight": None},
                   {"penalty": Penalty(model, l2=0.1)}):
        plan = model.kernels.train_plan(model, O.SGD(0.1), **extras)
        assert type(plan) is type(default)
        assert plan.penalty.uniform() == ((0.0, 0.1) if extras["penalty"] else (0.0, 0.0))


def test_an_unknown_extra_is_a_type_error_naming_it(backend):
    model = _model(backend)
    with pytest.raises(TypeError, match="weights"):
        model.kernels.train_plan(model, O.SGD(0.1), weights=np.ones(10))


def test_plan_extras():
    pen, w = object(), np.ones(3)
    assert plan_extras() == (None, None)
    assert plan_extras(penalty=pen, sample_weight=w) == (pen, w)
    with pytest.raises(TypeError, match="weights"):
        plan_extras(weights=w)


@pytest.mark.parametrize("optimizer", [lambda: O.SGD(0.1, momentum=0.9), lambda: O.Adam(0.01)])
def test_a_uniform_penalty_extra_runs_as_the_per_operation_path(backend, optimizer):
    """Two epochs through the backend's chosen plan (a uniform Penalty as the extra)
    against the per-operation TrainPlan with the same Penalty: same losses and weights."""
    runs = []
    for chosen in (True, False):
        model = _model(backend, dropout=0.0)
        o = optimizer()
        pen = Penalty(model, l1=0.01, l2=0.1)
        plan = (model.kernels.train_plan(model, o, track_accuracy=True, penalty=pen) if chosen
                else TrainPlan(model.kernels, model, o, track_accuracy=True, penalty=pen))
        losses = []
        for epoch in range(2):
            order = np.random.default_rng(epoch).permutation(10)
            run = plan.epoch(X, Y, order, 4)
            assert run.diverged_batch is None
            losses += run.losses
        runs.append((losses, [w.copy() for w in model.get_weights()]))
    np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=1e-10)
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("expand", [False, True])
def test_the_trace_wrapper_passes_the_extras_on(backend, expand):
    from pyneuron.trace import TracedBackend
    model = _model(backend)
    pen, w = Penalty(model, l2=0.1, scaling="sum"), np.full(10, 2.0)
    with pn.trace(expand=expand):
        traced = model.kernels
        assert isinstance(traced, TracedBackend)
        got = traced.train_plan(model, O.SGD(0.1), penalty=pen, sample_weight=w)
    assert got.penalty is pen and got.sample_weight is w
