"""How the ``c`` backend's training plan hands a model to C: the ``pyn_net`` of
``kernels/pyneuron_kernels.h``, built from checked buffers and kept honest.

Buffers are checked once, when the plan binds them (dtype, shape, C-contiguity,
alignment, writability, no two sharing memory), and C keeps raw pointers to them.
Before every C call, ``NetBinding._ensure_bound`` compares the model's current
arrays with the bound ones -- identity, shape, dtype, writability -- and the settings C
reads (optimizer constants, dropout rates, ...), and binds again (checking again) if
anything changed, so a weight made read-only, reshaped or replaced after the plan was
made is noticed before C touches it (issue 15, item 5). The plan itself (running steps
and epochs) is :mod:`pyneuron.backends.c_plan`.
"""
from __future__ import annotations

import operator

import numpy as np

from .. import optimizers as opt
from .c_backend import _ACT_CODES, _LOSS_CODES, ffi, lib

__all__ = ["NetBinding", "describe_optimizer"]


def describe_optimizer(optimizer):
    """The optimizer's update rule as the C step knows it (a dict of ``pyn_net``
    fields), or ``None`` if its class computes its update its own way."""
    cls = type(optimizer)
    if cls.step is not opt.Optimizer.step:
        return None
    update, form = cls._update, getattr(optimizer, "form", "torch")
    if update is opt.SGD._update:
        if form == "course" and optimizer.momentum:
            return {"rule": lib.PYN_RULE_COURSE, "momentum": optimizer.momentum}
        return {"rule": lib.PYN_RULE_SGD, "momentum": optimizer.momentum, "dampening": 0.0,
                "nesterov": int(optimizer.nesterov)}
    if update is opt.Momentum._update:
        if form == "course":
            return {"rule": lib.PYN_RULE_COURSE, "momentum": optimizer.beta}
        # the tutorials' exponential average: dampening = beta
        return {"rule": lib.PYN_RULE_SGD, "momentum": optimizer.beta,
                "dampening": optimizer.beta, "nesterov": 0}
    if hasattr(opt, "Adagrad") and update is opt.Adagrad._update:
        return {"rule": lib.PYN_RULE_ADAGRAD, "eps": optimizer.eps}
    if update is opt.RMSprop._update:
        return {"rule": lib.PYN_RULE_RMSPROP, "rho": optimizer.rho, "eps": optimizer.eps}
    if update is opt.Adam._update:
        return {"rule": lib.PYN_RULE_ADAM, "beta1": optimizer.beta1, "beta2": optimizer.beta2,
                "eps": optimizer.eps, "weight_decay": optimizer.decoupled_weight_decay}
    return None


#: What the rebinding check reads of each bound array, and of each layer (see
#: CTrainPlan._ensure_bound): attrgetter gathers them without a Python loop per array.
_VIEW = operator.attrgetter("shape", "dtype", "flags.writeable")
_LAYER_SETTINGS = operator.attrgetter("dropout", "bn_eps", "bn_momentum", "frozen")


#: The pyn_net's parameter slot of each kind within a layer (4 l + q).
_SLOTS = {"W": 0, "b": 1, "gamma": 2, "beta": 3}


def _usable(a, dtype):
    """Can C take ``a`` as a buffer to update: an array of ``dtype``, C-contiguous, aligned,
    writable? (:meth:`CTrainPlan._refuse` says which of these fails.)"""
    if not isinstance(a, np.ndarray) or a.dtype != dtype:
        return False
    flags = a.flags
    return flags.c_contiguous and flags.aligned and flags.writeable


def _aligned_empty(n, dtype):
    """An array of ``n`` elements whose data starts on a 64-byte boundary."""
    dtype = np.dtype(dtype)
    raw = np.empty(n + 64 // dtype.itemsize, dtype)
    # the address through cffi: a quarter of the cost of __array_interface__ (twice a fit)
    address = int(ffi.cast("uintptr_t", ffi.from_buffer(raw)))
    skip = (-address % 64) // dtype.itemsize
    return raw[skip:skip + n]


class NetBinding:
    """The binding half of :class:`~pyneuron.backends.c_plan.CTrainPlan`: it reads
    ``self.model``, ``self.optimizer``, ``self.penalty``, ``self.clip_value``,
    ``self.clip_norm`` and ``self.typed`` (the dtype's C functions), and keeps the
    ``pyn_net`` in ``self._net`` with the arrays and settings it was built from."""

    def _penalty_arrays(self):
        """The penalty as C reads it (``pyn_net.pen_l1``, ``pen_l2``, ``pen_mean``): per
        parameter slot ``4 l + q`` (q: W, b, gamma, beta) the strengths the penalty kernel
        takes with ``m = 1`` -- ``l2`` doubled for the ``"sum"`` scaling -- and whether they
        are divided by the batch size (``"mean"``); ``None`` without a penalty."""
        if not self._penalized:
            return None
        L = len(self.model.layers)
        l1s, l2s = [0.0] * (4 * L), [0.0] * (4 * L)
        for i, kind, a, b in self.penalty.terms:
            l1k, l2k, _ = self.penalty._args(a, b, 1)
            slot = 4 * i + ("W", "b", "gamma", "beta").index(kind)
            l1s[slot], l2s[slot] = float(l1k), float(l2k)
        return ffi.new("double[]", l1s), ffi.new("double[]", l2s), int(self.penalty.scaling == "mean")

    def _gather(self):
        """The arrays the C step reads and writes, in the order they are bound: per layer
        W, b (if it has one), gamma, beta, running_mean, running_var (with batch norm),
        then the optimizer's state, one entry per trainable parameter."""
        arrays = []
        for layer in self.model.layers:
            arrays.append(layer.W)
            if getattr(layer, "has_bias", True):
                arrays.append(layer.b)
            if layer.batch_norm:
                arrays += (layer.gamma, layer.beta, layer.running_mean, layer.running_var)
        names = self.optimizer.state_names
        for s in self.optimizer.state:
            for n in names:
                arrays.append(s[n])
        return arrays

    def _trainable(self):
        """The model's parameters minus the frozen ones (all of them before issue 14)."""
        model = self.model
        return model.trainable_parameters() if hasattr(model, "trainable_parameters") else model.parameters()

    def _current(self):
        """:meth:`_gather` after making sure the optimizer has its state arrays."""
        self.optimizer._ensure_state(self._trainable(), self.optimizer.state_names)
        return self._gather()

    def _settings(self):
        """Every number C reads from the plan's ``pyn_net`` rather than from an array: the
        optimizer's rule and constants, dropout rates, batch norm's eps and momentum,
        leaky ReLU's slope, which parameters are frozen. The per-operation path reads them
        at every step, so a callback may change them between steps or epochs. (Compared
        with ``==``: the rule stays a dict, the layers' part a list, nothing is sorted.)"""
        return (describe_optimizer(self.optimizer), self.model.negative_slope,
                list(map(_LAYER_SETTINGS, self.model.layers)))

    def _ensure_bound(self):
        """Bind again (checking everything) unless every array is the very one bound, with
        the shape, dtype and writability it was checked with, and every setting C reads is
        as bound (:meth:`_settings`). Called before every C call, so it is kept cheap: one
        identity test per array in C (``map(operator.is_, ...)``), then one list of
        (shape, dtype, writable) compared with the bound one."""
        if self._bound_arrays is not None:
            arrays = self._gather()
            if (len(arrays) == len(self._bound_arrays)
                    and all(map(operator.is_, arrays, self._bound_arrays))
                    and list(map(_VIEW, arrays)) == self._bound_views
                    and self._settings() == self._settings_bound):
                return
        self._bind()

    def _bind(self):
        """Check every buffer and build the ``pyn_net`` C reads (raises ValueError or
        TypeError naming the array)."""
        model, optimizer, t = self.model, self.optimizer, self.typed
        rule = describe_optimizer(optimizer)
        if rule is None:
            raise TypeError(f"optimizer: the fused C plan cannot run {type(optimizer).__name__}'s "
                            "update; fit gives such optimizers the per-operation plan")
        arrays = self._current()
        if not all(_usable(a, t.dtype) for a in arrays):
            self._refuse(arrays)
        # One pass over the layers checks each array's shape against the architecture and
        # fills the pyn_net's slots: parameter 4 l + q (q: W, b, gamma, beta), running
        # statistics 2 l, 2 l + 1, optimizer state in the trainable slots' order.
        sizes = [int(n) for n in model.layer_sizes]
        L = len(model.layers)
        param, stats = [ffi.NULL] * (4 * L), [ffi.NULL] * (2 * L)
        state1, state2 = [ffi.NULL] * (4 * L), [ffi.NULL] * (4 * L)
        trainable, trained_slots, keep = [0] * (4 * L), [], []
        for l, layer in enumerate(model.layers):
            n = sizes[l + 1]
            for kind in layer.parameter_kinds():     # W, b (with a bias), gamma, beta (batch norm)
                p = getattr(layer, kind)
                shape = (n, sizes[l]) if kind == "W" else (n,)
                if p.shape != shape:
                    raise ValueError(f"{kind}{l + 1}: expected shape {shape}, got {p.shape}")
                slot = 4 * l + _SLOTS[kind]
                param[slot] = t.ptr(p)
                if kind not in layer.frozen:
                    trainable[slot] = 1
                    trained_slots.append(slot)
            if layer.batch_norm:
                for r, kind in enumerate(("running_mean", "running_var")):
                    p = getattr(layer, kind)
                    if p.shape != (n,):
                        raise ValueError(f"{kind}{l + 1}: expected shape {(n,)}, got {p.shape}")
                    stats[2 * l + r] = t.ptr(p)
            keep.append(1.0 - layer.dropout)
        # Arrays that each own their memory (no base) and are distinct objects cannot share
        # any: the usual case (a model's own arrays, the optimizer's zeros_like) skips the
        # search, which costs a sixth of binding a small net.
        if not (all(a.base is None for a in arrays) and len(set(map(id, arrays))) == len(arrays)):
            order = sorted(arrays, key=lambda a: a.__array_interface__["data"][0])  # by address
            for a, b in zip(order, order[1:]):
                if np.shares_memory(a, b):
                    raise ValueError("parameters and optimizer state: expected separate arrays, "
                                     "got two that share memory")
        names_state = optimizer.state_names
        if len(trained_slots) != len(optimizer.state):
            raise ValueError(f"optimizer.state: expected one entry per trainable parameter "
                             f"({len(trained_slots)}), got {len(optimizer.state)}")
        for slot, s in zip(trained_slots, optimizer.state):  # state follows trainable_parameters
            if len(names_state) > 0:
                state1[slot] = t.ptr(s[names_state[0]])
            if len(names_state) > 1:
                state2[slot] = t.ptr(s[names_state[1]])
        self._trainable_flags = ffi.new("int[]", trainable)
        keepalive = [ffi.new("int64_t[]", sizes), ffi.new("int[]", [_ACT_CODES[a] for a in model.activations]),
                     ffi.new("double[]", keep),
                     ffi.new("double[]", [getattr(layer, "bn_eps", 1e-5) for layer in model.layers]),
                     ffi.new("double[]", [getattr(layer, "bn_momentum", 0.1) for layer in model.layers])]
        pointers = [ffi.new("void *[]", lst) for lst in (param, state1, state2, stats)]
        net = ffi.new("pyn_net *")
        net.L = L
        net.sizes, net.acts, net.keep, net.bn_eps, net.bn_momentum = keepalive
        net.param, net.state1, net.state2, net.stats = pointers
        net.trainable = self._trainable_flags
        net.loss = _LOSS_CODES[model.loss_name]
        net.negative_slope = float(model.negative_slope)
        if self._pen_arrays is None:
            net.pen_l1 = net.pen_l2 = ffi.NULL
        else:
            net.pen_l1, net.pen_l2, net.pen_mean = self._pen_arrays
        net.clip_value = float(self.clip_value or 0.0)
        net.clip_norm = float(self.clip_norm or 0.0)
        for key, value in rule.items():
            setattr(net, key, value)
        self._net, self._keepalive = net, (keepalive, pointers, param, stats, state1, state2)
        n_model = len(arrays) - len(optimizer.state) * len(names_state)   # the model's, then state
        self._bound_arrays = list(arrays)
        self._bound_views = [(a.shape, a.dtype, True) for a in arrays]   # checked writable above
        rule_now, slope, layer_settings = self._settings()
        # each layer's `frozen` as a frozen copy: the live set is the one a callback changes
        self._settings_bound = (rule_now, slope, [(*s[:3], frozenset(s[3])) for s in layer_settings])
        self._sizes, self._keep = sizes, keep
        # where the C epoch copies the weights it starts from (see keep_restore_point): one
        # buffer of every parameter and running statistic, in snapshot's order
        self._point = _aligned_empty(sum(a.size for a in arrays[:n_model]), t.dtype)
        self._point_ptr = t.ptr(self._point)
        self._dropout_width = sum(n for n, k in zip(sizes[1:], keep) if k < 1.0)
        self._m_cap = 0  # the layout depends on the net: size the workspace again

    def _refuse(self, arrays):
        """Raise the error for the first of ``arrays`` (as :meth:`_gather` lists them) that C
        cannot take: a TypeError for a wrong type or dtype, a ValueError for a
        non-contiguous, misaligned or read-only array, each naming the array."""
        model, optimizer, dtype = self.model, self.optimizer, self.typed.dtype
        names = []
        for i, layer in enumerate(model.layers, 1):
            names += [f"W{i}"] + ([f"b{i}"] if getattr(layer, "has_bias", True) else [])
            names += [f"gamma{i}", f"beta{i}", f"running_mean{i}", f"running_var{i}"] if layer.batch_norm else []
        names += [f"optimizer.state[{i}][{n!r}]" for i in range(len(optimizer.state))
                  for n in optimizer.state_names]
        for name, a in zip(names, arrays):
            if not isinstance(a, np.ndarray) or a.dtype != dtype:
                raise TypeError(f"{name}: expected a numpy array of {dtype}, got "
                                f"{getattr(a, 'dtype', type(a).__name__)}")
            if not (a.flags.c_contiguous and a.flags.aligned):
                raise ValueError(f"{name}: expected a C-contiguous, aligned array")
            if not a.flags.writeable:
                raise ValueError(f"{name}: expected a writable array (training updates it in "
                                 "place), got a read-only one")
