"""pyneuron.backends.c_bind (how the C plan hands a model to C) beyond the fused tests (issue 15
item 10: what the mutation run showed untested). Each refusal of the binding on its own: a
weight of another dtype or not an array at all (before C reads it as the model's dtype), an
optimizer whose update C does not know, optimizer state with an entry missing; the 64-byte
aligned buffers; the restore point's buffer, one copy of the model (not of the optimizer
state). Expected values are written out here, never computed by pyneuron."""
from __future__ import annotations

import numpy as np
import pytest

import pyneuron as pn
from pyneuron import optimizers as O

from helpers import c_backend_module

c_backend_module()  # skip the file, or fail under PYNEURON_REQUIRE_C

from pyneuron.backends import get as get_backend  # noqa: E402
from pyneuron.backends.c_bind import _aligned_empty, describe_optimizer  # noqa: E402
from pyneuron.backends.c_plan import CTrainPlan  # noqa: E402

X = np.random.default_rng(0).standard_normal((6, 3))
Y = np.eye(2)[np.arange(6) % 2]


def model(**options):
    return pn.MLP([3, 4, 2], output="softmax", seed=0, backend="c", **options)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bad", ["other dtype", "list"])
def test_a_weight_c_cannot_read_as_the_models_dtype_is_refused(dtype, bad):
    net = model(dtype=dtype)
    W = net.layers[1].W
    other = np.float32 if dtype == np.float64 else np.float64
    net.layers[1].W = W.astype(other) if bad == "other dtype" else W.tolist()
    got = np.dtype(other).name if bad == "other dtype" else "list"
    with pytest.raises(TypeError, match=rf"^W2: expected a numpy array of {np.dtype(dtype).name}, got {got}$"):
        get_backend("c").train_plan(net, O.SGD(0.1)).epoch(X.astype(dtype), Y.astype(dtype), None, 3)


def test_an_optimizer_with_its_own_update_is_refused_by_the_fused_plan():
    class OwnUpdate(O.SGD):
        def step(self, kernels, params, grads):
            return super().step(kernels, params, grads)

    assert describe_optimizer(OwnUpdate(0.1)) is None
    with pytest.raises(TypeError, match=r"^optimizer: the fused C plan cannot run OwnUpdate's update; "
                                        r"fit gives such optimizers the per-operation plan$"):
        CTrainPlan(get_backend("c"), model(), OwnUpdate(0.1))


def test_optimizer_state_without_an_entry_per_parameter_is_refused():
    class KeepsItsState(O.Adam):
        """Adam's update, but its state is never refreshed to fit the parameters."""

        def _ensure_state(self, params, names):
            pass

    with pytest.raises(ValueError, match=r"^optimizer\.state: expected one entry per trainable parameter "
                                         r"\(4\), got 0$"):
        get_backend("c").train_plan(model(), KeepsItsState(0.1))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", [1, 7, 8, 9, 100])
def test_aligned_empty_starts_on_a_64_byte_boundary(n, dtype):
    for _ in range(5):                       # several allocations: at different addresses
        a = _aligned_empty(n, dtype)
        assert a.shape == (n,) and a.dtype == dtype and a.flags.c_contiguous and a.flags.writeable
        assert a.__array_interface__["data"][0] % 64 == 0
        a[:] = 1.0                           # all n elements are there to write


@pytest.mark.parametrize("options, optimizer", [({}, O.Adam), ({"batch_norm": True, "bias": True}, O.Adam),
                                                ({}, lambda lr: O.SGD(lr, momentum=0.9))])
def test_the_restore_point_buffer_holds_the_model_not_the_optimizer_state(options, optimizer):
    net = model(**options)
    plan = get_backend("c").train_plan(net, optimizer(0.1))
    # [3, 4, 2]: W 4x3 + b 4 + W 2x4 + b 2 = 26; batch norm (on the hidden layer) adds gamma,
    # beta, running mean and variance per hidden unit: 4 x 4 = 16
    expected = 26 + (16 if options else 0)
    assert plan._point.size == expected
    assert sum(a.size for layer in net.layers for a in layer.parameters()
               + ([layer.running_mean, layer.running_var] if layer.batch_norm else [])) == expected


def misaligned(a):
    """A C-contiguous copy of ``a`` at an odd byte offset."""
    raw = np.zeros(a.nbytes + 1, np.uint8)[1:]
    out = np.frombuffer(raw.data, a.dtype, a.size).reshape(a.shape)
    out[...] = a
    assert not out.flags.aligned and out.flags.c_contiguous and out.flags.writeable
    return out


@pytest.mark.parametrize("layout", ["Fortran-ordered", "strided", "misaligned"])
def test_a_weight_c_cannot_walk_row_by_row_is_refused(layout):
    net = model()
    W = net.layers[0].W                        # (4, 3)
    net.layers[0].W = {"Fortran-ordered": lambda: np.asfortranarray(W),
                       "strided": lambda: np.repeat(W, 2, axis=1)[:, ::2],
                       "misaligned": lambda: misaligned(W)}[layout]()
    with pytest.raises(ValueError, match=r"^W1: expected a C-contiguous, aligned array$"):
        get_backend("c").train_plan(net, O.SGD(0.1))


def test_an_unchanged_model_is_not_bound_again_and_a_changed_one_is():
    net = model(batch_norm=True, bias=True)
    optimizer = O.Adam(0.01)
    plan = get_backend("c").train_plan(net, optimizer)
    bound = plan._net
    for _ in range(2):
        plan.epoch(X, Y, None, 3)
        assert plan._net is bound              # the same arrays and settings: the same pyn_net
    net.layers[1].W = net.layers[1].W.copy()
    plan.epoch(X, Y, None, 3)
    assert plan._net is not bound              # a replaced weight: bound again
    bound = plan._net
    optimizer.beta1 = 0.5
    plan.epoch(X, Y, None, 3)
    assert plan._net is not bound              # a setting C reads: bound again


@pytest.mark.parametrize("kind", ["running_mean", "running_var"])
def test_a_running_statistic_of_the_wrong_shape_is_refused_by_name(kind):
    net = pn.MLP([3, 4, 5, 2], output="softmax", seed=0, backend="c", batch_norm=True, bias=True)
    setattr(net.layers[1], kind, np.ones(4))          # layer 2 has 5 units
    with pytest.raises(ValueError, match=rf"^{kind}2: expected shape \(5,\), got \(4,\)$"):
        get_backend("c").train_plan(net, O.SGD(0.1))


def test_overlapping_views_are_refused_when_every_array_is_a_view():
    """The quick path (no search for shared memory) is only for arrays owning their memory."""
    net = pn.MLP([3, 4, 4, 1], seed=0, backend="c", bias=True)
    for layer in net.layers:
        layer.W = layer.W.copy()[:]                    # a view of its own copy
        assert layer.W.base is not None
    buf = np.zeros(6)
    net.layers[0].b, net.layers[1].b = buf[:4], buf[2:]
    net.layers[2].b = np.zeros(3)[:1]
    with pytest.raises(ValueError, match=r"^parameters and optimizer state: expected separate arrays, "
                                         r"got two that share memory$"):
        get_backend("c").train_plan(net, O.SGD(0.1))
    net.layers[1].b = np.zeros(8)[4:]                  # views of separate buffers are taken
    assert get_backend("c").train_plan(net, O.SGD(0.1))._net is not None


def test_the_first_weight_as_a_list_is_refused():
    net = model()
    net.layers[0].W = net.layers[0].W.tolist()
    with pytest.raises(TypeError, match=r"^W1: expected a numpy array of float64, got list$"):
        get_backend("c").train_plan(net, O.SGD(0.1))


def test_every_array_cast_to_float32_in_a_float64_model_is_refused():
    net = model()
    for layer in net.layers:
        layer.W, layer.b = layer.W.astype(np.float32), layer.b.astype(np.float32)
    with pytest.raises(TypeError, match=r"^W1: expected a numpy array of float64, got float32$"):
        get_backend("c").train_plan(net, O.SGD(0.1))
