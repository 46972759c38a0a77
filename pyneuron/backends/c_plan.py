"""The ``c`` backend's training plan: a whole step, or a whole epoch, in one C call.

:class:`CTrainPlan` is what :meth:`CBackend.train_plan` returns for every configuration
of ``fit`` it can describe to C (``kernels/typed_fit.c``): the optimizers SGD (with
momentum and Nesterov), Momentum, RMSprop, Adam and AdamW; L1/L2; inverted dropout;
batch norm; clipping by value and by norm; per-step learning rates; float32 and
float64. Anything else (an optimizer subclass with its own update, say) gets the
per-operation plan of :mod:`pyneuron.training_plan`, which composes the C kernels.

Buffers are checked once, when the plan binds them (dtype, shape, C-contiguity,
alignment, writability, no two sharing memory), and C keeps raw pointers to them.
Before every C call, :meth:`CTrainPlan._ensure_bound` compares the model's current
arrays with the bound ones -- identity, shape, dtype, writability, contiguity -- and
binds again (checking again) if anything changed, so a weight made read-only, reshaped
or replaced after the plan was made is noticed before C touches it (issue 15, item 5).
Randomness stays in Python: the dropout masks come from ``model.rng.random`` in the
order the per-operation path draws them (batch by batch, layer by layer).
"""
from __future__ import annotations

import math

import numpy as np

from .. import optimizers as opt
from ..training_plan import EpochResult, TrainPlan
from .c_backend import _ACT_CODES, _LOSS_CODES, _MAX_LAYERS, _TYPED, ffi, lib

__all__ = ["CTrainPlan", "describe_optimizer"]


def describe_optimizer(optimizer):
    """The optimizer's update rule as the C step knows it (a dict of ``pyn_net``
    fields), or ``None`` if its class computes its update its own way."""
    cls = type(optimizer)
    if cls.step is not opt.Optimizer.step:
        return None
    update = cls._update
    if update is opt.SGD._update:
        return {"rule": lib.PYN_RULE_SGD, "momentum": optimizer.momentum, "dampening": 0.0,
                "nesterov": int(optimizer.nesterov)}
    if update is opt.Momentum._update:  # the tutorials' form: dampening = beta
        return {"rule": lib.PYN_RULE_SGD, "momentum": optimizer.beta,
                "dampening": optimizer.beta, "nesterov": 0}
    if update is opt.RMSprop._update:
        return {"rule": lib.PYN_RULE_RMSPROP, "rho": optimizer.rho, "eps": optimizer.eps}
    if update is opt.Adam._update:
        return {"rule": lib.PYN_RULE_ADAM, "beta1": optimizer.beta1, "beta2": optimizer.beta2,
                "eps": optimizer.eps, "weight_decay": optimizer.decoupled_weight_decay}
    return None


def supports(model, optimizer):
    """Can the C plan run this model with this optimizer?"""
    return (np.dtype(model.dtype) in _TYPED and 1 <= len(model.layers) <= _MAX_LAYERS
            and describe_optimizer(optimizer) is not None)


def _aligned_empty(n, dtype):
    """An array of ``n`` elements whose data starts on a 64-byte boundary."""
    dtype = np.dtype(dtype)
    raw = np.empty(n + 64 // dtype.itemsize, dtype)
    skip = (-raw.ctypes.data % 64) // dtype.itemsize
    return raw[skip:skip + n]


def _aligned_input(name, a, dtype):
    """``a`` as a C-contiguous, aligned array of ``dtype``: a misaligned but contiguous
    buffer (``np.frombuffer`` at an odd offset) is copied rather than refused."""
    if not isinstance(a, np.ndarray) or a.dtype != dtype or a.ndim != 2:
        raise TypeError(f"{name}: expected a 2-D numpy array of {dtype}, got "
                        f"{getattr(a, 'dtype', type(a).__name__)} of shape {getattr(a, 'shape', None)}")
    return np.require(a, requirements=("C", "A"))


def _state(a):
    """What must not change between binding a buffer and C writing to it."""
    return (a, a.shape, a.dtype, a.flags.writeable, a.flags.c_contiguous, a.flags.aligned)


class CTrainPlan(TrainPlan):
    """One C call per step (per-batch callbacks) or per epoch (none)."""

    path = "fused"

    def __init__(self, kernels, model, optimizer, l1=0.0, l2=0.0, clip_value=None,
                 clip_norm=None, track_accuracy=False):
        super().__init__(kernels, model, optimizer, l1, l2, clip_value, clip_norm, track_accuracy)
        self.typed = _TYPED[np.dtype(model.dtype)]
        self._bound = None
        self._m_cap, self._work = 0, None
        self._ensure_bound()

    # ------------------------------------------------------------ binding the buffers
    def _current(self):
        """The arrays the C step reads and writes, in the order they are bound."""
        model, optimizer = self.model, self.optimizer
        params = model.parameters()
        optimizer._ensure_state(params, optimizer.state_names)
        arrays = []
        for layer in model.layers:
            arrays += layer.parameters()
            if layer.batch_norm:
                arrays += [layer.running_mean, layer.running_var]
        for s in optimizer.state:
            arrays += [s[n] for n in optimizer.state_names]
        return arrays

    def _ensure_bound(self):
        arrays = self._current()
        bound = self._bound
        if bound is not None and len(bound) == len(arrays) and all(
                a is b[0] and _state(a) == b for a, b in zip(arrays, bound)):
            return
        self._bind()

    def _bind(self):
        """Check every buffer and build the ``pyn_net`` C reads (raises ValueError or
        TypeError naming the array)."""
        model, optimizer, t = self.model, self.optimizer, self.typed
        rule = describe_optimizer(optimizer)
        arrays = self._current()
        names = []
        for i, layer in enumerate(model.layers, 1):
            names += [f"W{i}", f"b{i}"] + ([f"gamma{i}", f"beta{i}"] if layer.batch_norm else [])
            names += [f"running_mean{i}", f"running_var{i}"] if layer.batch_norm else []
        names += [f"optimizer.state[{i}][{n!r}]" for i in range(len(optimizer.state))
                  for n in optimizer.state_names]
        for name, a in zip(names, arrays):
            if not isinstance(a, np.ndarray) or a.dtype != t.dtype:
                raise TypeError(f"{name}: expected a numpy array of {t.dtype}, got "
                                f"{getattr(a, 'dtype', type(a).__name__)}")
            if not (a.flags.c_contiguous and a.flags.aligned):
                raise ValueError(f"{name}: expected a C-contiguous, aligned array")
            if not a.flags.writeable:
                raise ValueError(f"{name}: expected a writable array (training updates it in "
                                 "place), got a read-only one")
        sizes = [int(n) for n in model.layer_sizes]  # the architecture every array must fit
        for i, layer in enumerate(model.layers, 1):
            n = sizes[i]
            expect = {"W": (n, sizes[i - 1]), "b": (n,)}
            if layer.batch_norm:
                expect.update(gamma=(n,), beta=(n,), running_mean=(n,), running_var=(n,))
            for attr, shape in expect.items():
                if getattr(layer, attr).shape != shape:
                    raise ValueError(f"{attr}{i}: expected shape {shape}, got {getattr(layer, attr).shape}")
        order = sorted(arrays, key=lambda a: a.ctypes.data)
        for a, b in zip(order, order[1:]):
            if np.shares_memory(a, b):
                raise ValueError("parameters and optimizer state: expected separate arrays, "
                                 "got two that share memory")

        L = len(model.layers)
        keep = [1.0 - layer.dropout for layer in model.layers]
        param, stats = [ffi.NULL] * (4 * L), [ffi.NULL] * (2 * L)
        state1, state2 = [ffi.NULL] * (4 * L), [ffi.NULL] * (4 * L)
        names_state = optimizer.state_names
        slots = []
        for l, layer in enumerate(model.layers):
            slots += [4 * l + q for q in range(len(layer.parameters()))]
            if layer.batch_norm:
                stats[2 * l] = t.ptr(layer.running_mean)
                stats[2 * l + 1] = t.ptr(layer.running_var)
        for slot, p, s in zip(slots, model.parameters(), optimizer.state):
            param[slot] = t.ptr(p)
            if len(names_state) > 0:
                state1[slot] = t.ptr(s[names_state[0]])
            if len(names_state) > 1:
                state2[slot] = t.ptr(s[names_state[1]])
        keepalive = [ffi.new("int64_t[]", sizes), ffi.new("int[]", [_ACT_CODES[a] for a in model.activations]),
                     ffi.new("double[]", keep),
                     ffi.new("double[]", [getattr(layer, "bn_eps", 1e-5) for layer in model.layers]),
                     ffi.new("double[]", [getattr(layer, "bn_momentum", 0.1) for layer in model.layers])]
        pointers = [ffi.new("void *[]", [ffi.cast("void *", p) for p in lst])
                    for lst in (param, state1, state2, stats)]
        net = ffi.new("pyn_net *")
        net.L = L
        net.sizes, net.acts, net.keep, net.bn_eps, net.bn_momentum = keepalive
        net.param, net.state1, net.state2, net.stats = pointers
        net.loss = _LOSS_CODES[model.loss_name]
        net.alpha = float(model.alpha)
        net.l1, net.l2 = float(self.l1), float(self.l2)
        net.clip_value = float(self.clip_value or 0.0)
        net.clip_norm = float(self.clip_norm or 0.0)
        for key, value in rule.items():
            setattr(net, key, value)
        self._net, self._keepalive = net, (keepalive, pointers, param, stats, state1, state2)
        self._bound = [_state(a) for a in arrays]
        self._sizes, self._keep = sizes, keep
        self._m_cap = 0  # the layout depends on the net: size the workspace again

    def _workspace(self, m):
        if m > self._m_cap:
            n = self.typed_workspace(m)
            self._work_array = _aligned_empty(n, self.typed.dtype)
            self._work = self.typed.ptr(self._work_array)
            self._work_len, self._m_cap = n, m
        return self._work, self._work_len

    def typed_workspace(self, m):
        fn = lib.pyn_fit_workspace_f64 if self.typed.dtype == np.float64 else lib.pyn_fit_workspace_f32
        return fn(self._net, m)

    def _uniforms(self, rows):
        """The uniform numbers behind the dropout masks of batches of ``rows`` rows,
        drawn from the model's generator in the per-operation path's order."""
        per_row = sum(n for n, k in zip(self._sizes[1:], self._keep) if k < 1.0)
        if not per_row:
            return ffi.NULL, None
        u = self.model.rng.random(per_row * sum(rows))
        return ffi.from_buffer("double[]", u), u

    # ------------------------------------------------------------ running an epoch
    def epoch(self, X, Y, order, batch, lr_for_step=None, callbacks=()):
        """As :meth:`TrainPlan.epoch`; one C call for the epoch when there are no
        ``callbacks``, else one C call per step with the callbacks in between."""
        t = self.typed
        X = _aligned_input("X", X, t.dtype)
        Y = _aligned_input("Y", Y, t.dtype)
        n = X.shape[0]
        if X.shape[1] != self._sizes[0] or Y.shape != (n, self._sizes[-1]):
            raise ValueError(f"X, Y: expected shapes (m, {self._sizes[0]}) and (m, {self._sizes[-1]}), "
                             f"got {X.shape} and {Y.shape}")
        if order is not None:
            order = np.ascontiguousarray(order, dtype=np.int64)
            if order.shape != (n,) or (n and (order.min() < 0 or order.max() >= n)):
                raise ValueError(f"order: expected a permutation of range({n}), got shape {order.shape}")
        if callbacks:
            return self._epoch_by_steps(X, Y, order, batch, lr_for_step, callbacks)
        self._ensure_bound()
        return self._run(X, Y, order, 0, n, batch, lr_for_step, check_after=True)

    def _epoch_by_steps(self, X, Y, order, batch, lr_for_step, callbacks):
        model = self.model
        result = EpochResult()
        n = X.shape[0]
        for b, start in enumerate(range(0, n, batch)):
            for cb in callbacks:
                cb.on_batch_begin(model, b)
            self._ensure_bound()  # a callback may have changed any array
            last = start + batch >= n
            part = self._run(X, Y, order, start, min(n, start + batch), batch, lr_for_step,
                             check_after=last)
            result.losses += part.losses
            result.correct += part.correct
            result.counted += part.counted
            if part.diverged_batch is not None:
                result.diverged_batch = b + 1
                return result
            result.after_loss = part.after_loss
            for cb in callbacks:
                cb.on_batch_end(model, b, {"loss": part.losses[-1]})
        return result

    def _run(self, X, Y, order, start, stop, batch, lr_for_step, check_after):
        """Batches of rows ``start:stop`` (of ``order``) in one C call."""
        t, optimizer, model = self.typed, self.optimizer, self.model
        rows = [min(batch, stop - s) for s in range(start, stop, batch)]
        nb = len(rows)
        t0 = optimizer.t
        lrs = [float(lr_for_step(t0 + k)) if lr_for_step is not None else float(optimizer.lr)
               for k in range(nb)]
        if not all(math.isfinite(v) and v > 0 for v in lrs):
            raise ValueError(f"lr: expected positive finite learning rates, got {lrs}")
        u_ptr, _u = self._uniforms(rows)
        work, work_len = self._workspace(min(batch, stop - start))
        losses = np.empty(nb)
        correct = np.zeros(nb, np.int64)
        done = ffi.new("int64_t *")
        after = ffi.new("double *")
        if order is None:
            Xs, Ys, order_ptr = X[start:stop], Y[start:stop], ffi.NULL
        else:
            Xs, Ys, order_ptr = X, Y, ffi.from_buffer("int64_t[]", order) + start
        fn = lib.pyn_fit_epoch_f64 if t.dtype == np.float64 else lib.pyn_fit_epoch_f32
        err = fn(self._net, stop - start, t.ptr(Xs), t.ptr(Ys), order_ptr, batch, u_ptr,
                 ffi.new("double[]", lrs), t0, work, work_len, ffi.from_buffer("double[]", losses),
                 ffi.from_buffer("int64_t[]", correct) if self.track_accuracy else ffi.NULL,
                 done, after if check_after else ffi.NULL)
        if err:
            raise RuntimeError(f"pyneuron._kernels: internal error code {err} in the fit epoch")
        k = done[0]
        optimizer.t = t0 + k
        optimizer.lr = lrs[min(k, nb - 1)]
        result = EpochResult(losses=losses[:min(k + 1, nb)].tolist())
        result.correct = int(correct[:k].sum())
        per_row = 1 if model.loss_name == "cce" else self._sizes[-1]
        result.counted = per_row * sum(rows[:k])
        if k < nb:
            result.diverged_batch = k + 1
        elif check_after:
            result.after_loss = after[0]
        return result
