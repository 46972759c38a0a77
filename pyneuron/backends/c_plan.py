"""The ``c`` backend's training plan: a whole step, or a whole epoch, in one C call.

:class:`CTrainPlan` is what :meth:`CBackend.train_plan` returns for every configuration
of ``fit`` it can describe to C (``kernels/typed_fit*.c``): the optimizers SGD (with
momentum, Nesterov, or the courses' form), Momentum, RMSprop, Adam, AdamW and Adagrad;
every penalty (L1/L2 on every weight matrix, per-parameter strengths, the ``"sum"``
scaling); inverted dropout, with masks from the model's generator or handed in by
``fit(dropout_masks=...)``; batch norm; layers without bias; frozen parameters; clipping
by value and by norm; per-step learning rates (schedules, decay); float32 and float64;
weighted samples (``sample_weight``: the weighted mean loss of :mod:`pyneuron.sample_weights`).
Anything else (an optimizer subclass with its own update) gets the per-operation plan of
:mod:`pyneuron.training_plan`, which composes the C kernels.

Buffers are checked once, when the plan binds them (dtype, shape, C-contiguity,
alignment, writability, no two sharing memory), and C keeps raw pointers to them.
Before every C call, ``CTrainPlan._ensure_bound`` compares the model's current
arrays with the bound ones -- identity, shape, dtype, writability -- and the settings C
reads (optimizer constants, dropout rates, ...), and binds again (checking again) if
anything changed, so a weight made read-only, reshaped or replaced after the plan was
made is noticed before C touches it (issue 15, item 5).
Randomness stays in Python: the dropout masks come from ``model.rng.random`` (or a
layer's ``mask_source``) in the order the per-operation path draws them (batch by batch,
layer by layer), see ``CTrainPlan._uniforms``.
"""
from __future__ import annotations

import math
import operator

import numpy as np

from .. import optimizers as opt
from ..callbacks import restore
from ..training_plan import EpochResult, TrainPlan
from .c_backend import _ACT_CODES, _LOSS_CODES, _MAX_LAYERS, _TYPED, ffi, lib

__all__ = ["CTrainPlan", "describe_optimizer"]


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


def supports(model, optimizer):
    """Can the C plan run this model with this optimizer?

    Every optimizer :func:`describe_optimizer` knows, layers with or without bias, frozen
    parameters, dropout masks handed in, float32 and float64, up to ``_MAX_LAYERS`` layers.
    Not (the per-operation path runs them, on the C kernels) an optimizer class with an
    update of its own. (A learning-rate ``decay`` reaches C as per-step rates.)"""
    return (np.dtype(model.dtype) in _TYPED and 1 <= len(model.layers) <= _MAX_LAYERS
            and describe_optimizer(optimizer) is not None)


#: What the rebinding check reads of each bound array, and of each layer (see
#: CTrainPlan._ensure_bound): attrgetter gathers them without a Python loop per array.
_VIEW = operator.attrgetter("shape", "dtype", "flags.writeable")
_LAYER_SETTINGS = operator.attrgetter("dropout", "bn_eps", "bn_momentum", "frozen")


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
    skip = (-raw.__array_interface__["data"][0] % 64) // dtype.itemsize
    return raw[skip:skip + n]


def _aligned_input(name, a, dtype):
    """``a`` as a C-contiguous, aligned array of ``dtype``: a misaligned but contiguous
    buffer (``np.frombuffer`` at an odd offset) is copied rather than refused."""
    if not isinstance(a, np.ndarray) or a.dtype != dtype or a.ndim != 2:
        raise TypeError(f"{name}: expected a 2-D numpy array of {dtype}, got "
                        f"{getattr(a, 'dtype', type(a).__name__)} of shape {getattr(a, 'shape', None)}")
    return np.require(a, requirements=("C", "A"))


class CTrainPlan(TrainPlan):
    """One C call per step (per-batch callbacks) or per epoch (none)."""

    path = "fused"
    #: The C epoch returns each batch's penalty, so fit needs no batch callback for it.
    records_penalties = True

    def __init__(self, kernels, model, optimizer, l1=0.0, l2=0.0, clip_value=None,
                 clip_norm=None, track_accuracy=False, penalty=None, sample_weight=None):
        super().__init__(kernels, model, optimizer, l1, l2, clip_value, clip_norm, track_accuracy,
                         penalty=penalty, sample_weight=sample_weight)
        self._penalized = bool(self.penalty)
        if sample_weight is None:
            self._w = None
        else:   # a weight per training row, as C reads them (float64, contiguous)
            self._w = np.ascontiguousarray(sample_weight, dtype=np.float64)
            if self._w.ndim != 1:
                raise ValueError(f"sample_weight: expected one weight per training row, shape (m,), "
                                 f"got shape {self._w.shape}")
            self._w_ptr = ffi.from_buffer("double[]", self._w)
        self._pen_arrays = self._penalty_arrays()
        self.typed = _TYPED[np.dtype(model.dtype)]
        self._bound_arrays = None   # the arrays C holds pointers to, once bound
        self._m_cap, self._work = 0, None
        self._nb_cap = 0
        self._lrs_filled = (None, 0)    # (lr, steps) already in the learning-rate buffer
        #: answers a row adds to the accuracy count: one for cce, one per output otherwise
        self._counted_per_row = 1 if model.loss_name == "cce" else int(model.layer_sizes[-1])
        self._X_in = self._Y_in = None
        self._done, self._after = ffi.new("int64_t *"), ffi.new("double *")
        self._fit_epoch = lib.pyn_fit_epoch_f64 if self.typed.dtype == np.float64 else lib.pyn_fit_epoch_f32
        self._point_wanted = False   # keep_restore_point was called: the next epoch copies
        self._point_in_c = None      # the copy the C epoch made, for go_back
        self._ensure_bound()

    # ------------------------------------------------------------ the restore point
    def keep_restore_point(self):
        """As :meth:`TrainPlan.keep_restore_point`, made by the epoch's C call itself
        (``pyn_fit_epoch``'s ``restore_point``: one copy in C before its first update)
        rather than by Python here; an epoch run step by step (callbacks between batches)
        takes Python's copy at its start."""
        self._point_wanted = True
        self._point_in_c = None

    def go_back(self):
        if self._point_in_c is None:
            TrainPlan.go_back(self)
            return
        # the copy C made: one flat buffer, read back array by array in snapshot's order
        copies, at = [], 0
        for layer in self.model.layers:
            for a in layer.parameters() + ([layer.running_mean, layer.running_var] if layer.batch_norm else []):
                copies.append(self._point_in_c[at:at + a.size].reshape(a.shape))
                at += a.size
        restore(self.model, copies)

    # ------------------------------------------------------------ binding the buffers
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
        sizes = [int(n) for n in model.layer_sizes]  # the architecture every array must fit
        for i, layer in enumerate(model.layers, 1):
            n = sizes[i]
            expect = {"W": (n, sizes[i - 1])}
            if getattr(layer, "has_bias", True):
                expect["b"] = (n,)
            if layer.batch_norm:
                expect.update(gamma=(n,), beta=(n,), running_mean=(n,), running_var=(n,))
            for attr, shape in expect.items():
                if getattr(layer, attr).shape != shape:
                    raise ValueError(f"{attr}{i}: expected shape {shape}, got {getattr(layer, attr).shape}")
        # Arrays that each own their memory (no base) and are distinct objects cannot share
        # any: the usual case (a model's own arrays, the optimizer's zeros_like) skips the
        # search, which costs a sixth of binding a small net.
        if not (all(a.base is None for a in arrays) and len(set(map(id, arrays))) == len(arrays)):
            order = sorted(arrays, key=lambda a: a.__array_interface__["data"][0])  # by address
            for a, b in zip(order, order[1:]):
                if np.shares_memory(a, b):
                    raise ValueError("parameters and optimizer state: expected separate arrays, "
                                     "got two that share memory")

        L = len(model.layers)
        keep = [1.0 - layer.dropout for layer in model.layers]
        param, stats = [ffi.NULL] * (4 * L), [ffi.NULL] * (2 * L)
        state1, state2 = [ffi.NULL] * (4 * L), [ffi.NULL] * (4 * L)
        names_state = optimizer.state_names
        trainable = [0] * (4 * L)
        trained_slots = []
        for l, layer in enumerate(model.layers):
            frozen = getattr(layer, "frozen", ())
            for q, kind in enumerate(("W", "b", "gamma", "beta")):
                if (kind == "b" and not getattr(layer, "has_bias", True)
                        or kind in ("gamma", "beta") and not layer.batch_norm):
                    continue
                p = getattr(layer, kind)
                param[4 * l + q] = t.ptr(p)
                if kind not in frozen:
                    trainable[4 * l + q] = 1
                    trained_slots.append(4 * l + q)
            if layer.batch_norm:
                stats[2 * l] = t.ptr(layer.running_mean)
                stats[2 * l + 1] = t.ptr(layer.running_var)
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

    # ------------------------------------------------------------ running an epoch
    def epoch(self, X, Y, order, batch, lr_for_step=None, callbacks=()):
        """As :meth:`TrainPlan.epoch`; one C call for the epoch when there are no
        ``callbacks``, else one C call per step with the callbacks in between."""
        X, Y = self._data(X, Y)
        if order is not None:
            order = np.ascontiguousarray(order, dtype=np.int64)  # C checks each index
            if order.shape != (X.shape[0],):
                raise ValueError(f"order: expected a permutation of range({X.shape[0]}), "
                                 f"got shape {order.shape}")
        point, self._point_wanted = self._point_wanted, False
        if callbacks:
            if point:
                TrainPlan.keep_restore_point(self)
            return self._epoch_by_steps(X, Y, order, batch, lr_for_step, callbacks)
        self._ensure_bound()
        if point:
            self._point_in_c = self._point
        return self._run(X, Y, order, 0, X.shape[0], batch, lr_for_step, check_after=True,
                         restore_point=self._point_ptr if point else ffi.NULL)

    def _data(self, X, Y):
        """``X``, ``Y`` checked (once for the arrays fit passes every epoch) and their C
        pointers: C-contiguous, aligned (a misaligned ``X`` is copied), of the model's
        dtype and shapes."""
        if X is self._X_in and Y is self._Y_in:
            return self._X, self._Y
        t = self.typed
        Xc, Yc = _aligned_input("X", X, t.dtype), _aligned_input("Y", Y, t.dtype)
        n = Xc.shape[0]
        if Xc.shape[1] != self._sizes[0] or Yc.shape != (n, self._sizes[-1]) or n == 0:
            raise ValueError(f"X, Y: expected shapes (m, {self._sizes[0]}) and (m, {self._sizes[-1]}) "
                             f"with m >= 1, got {Xc.shape} and {Yc.shape}")
        if self._w is not None and self._w.shape != (n,):
            raise ValueError(f"sample_weight: expected one weight per training row, shape ({n},), "
                             f"got shape {self._w.shape}")
        self._X_in, self._Y_in, self._X, self._Y = X, Y, Xc, Yc
        self._X_ptr, self._Y_ptr = t.ptr(Xc), t.ptr(Yc)
        return Xc, Yc

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
            result.penalties += part.penalties
            result.correct += part.correct
            result.counted += part.counted
            if part.diverged_batch is not None:
                result.diverged_batch = b + 1
                return result
            result.after_loss = part.after_loss
            for cb in callbacks:
                cb.on_batch_end(model, b, {"loss": part.losses[-1]})
        return result

    def _buffers(self, nb):
        """Per-batch outputs of the epoch call (losses, right answers, learning rates),
        kept between calls."""
        if nb > self._nb_cap:
            self._lrs_filled = (None, 0)
            self._losses, self._correct, self._lrs = np.empty(nb), np.zeros(nb, np.int64), np.empty(nb)
            self._penalties = np.zeros(nb)
            self._c_out = (ffi.from_buffer("double[]", self._losses),
                           ffi.from_buffer("int64_t[]", self._correct),
                           ffi.from_buffer("double[]", self._lrs),
                           ffi.from_buffer("double[]", self._penalties))
            self._nb_cap = nb
        return self._c_out

    def _uniforms(self, n, batch):
        """The numbers C draws its dropout masks from (``mask = u < keep``) for ``n`` rows in
        batches of ``batch``: batch by batch, layer by layer, ``m × width`` each, as the
        per-operation path draws them. From the model's generator in one call, or, for a
        layer with masks handed in (``fit(dropout_masks=...)``), from its ``mask_source``:
        a kept unit (1) becomes 0.0 and a dropped one (0) 1.0, so C makes the very mask.
        The masks of a whole epoch are asked for before it runs: if it diverges, the
        source has also been asked for the batches after the one that stopped it."""
        layers = [layer for layer, k in zip(self.model.layers, self._keep) if k < 1.0]
        if all(getattr(layer, "mask_source", None) is None for layer in layers):
            return self.model.rng.random(self._dropout_width * n)
        parts = []
        for start in range(0, n, batch):
            m = min(batch, n - start)
            for layer in layers:
                if layer.mask_source is None:
                    parts.append(self.model.rng.random(m * layer.n_out))
                else:
                    mask = layer.mask_source((m, layer.n_out))
                    parts.append(np.subtract(1.0, mask, dtype=np.float64).ravel())
        return np.concatenate(parts)

    def _learning_rates(self, nb, t0, lr_for_step):
        """The learning rate of each of the next ``nb`` steps (``lr_for_step(t)`` for step
        counts ``t0, t0 + 1, ...``, else the optimizer's ``lr``) in the buffer C reads.
        A constant rate already in place for ``nb`` steps is not written again."""
        lrs = self._lrs
        if lr_for_step is None:
            lr = self.optimizer.lr
            if lr == self._lrs_filled[0] and nb <= self._lrs_filled[1]:
                return
            rates = [float(lr)]
        else:
            rates = [float(lr_for_step(t0 + k)) for k in range(nb)]
        for lr in rates:
            if not 0.0 < lr < math.inf:
                raise ValueError(f"lr: expected a positive finite learning rate, got {lr!r}")
        if lr_for_step is None:
            lrs[:nb] = rates[0]
            self._lrs_filled = (lr, nb)
        else:
            lrs[:nb] = rates
            self._lrs_filled = (None, 0)

    def _run(self, X, Y, order, start, stop, batch, lr_for_step, check_after, restore_point=ffi.NULL):
        """Batches of rows ``start:stop`` (of ``order``) in one C call.

        Run once per epoch of every fit, so kept short (a few µs of Python beside the C
        epoch of a small net): buffers and pointers are made once and reused."""
        optimizer = self.optimizer
        n = stop - start
        nb = -(-n // batch)
        c_losses, c_correct, c_lrs, c_penalties = self._buffers(nb)
        t0 = optimizer.t
        self._learning_rates(nb, t0, lr_for_step)
        u_ptr = ffi.from_buffer("double[]", self._uniforms(n, batch)) if self._dropout_width else ffi.NULL
        work, work_len = self._workspace(min(batch, n))
        w_ptr = ffi.NULL if self._w is None else self._w_ptr     # per row of X, as X is indexed
        if order is None:
            if start == 0:
                Xs, Ys = self._X_ptr, self._Y_ptr
            else:
                Xs, Ys = self.typed.ptr(X[start:stop]), self.typed.ptr(Y[start:stop])
                w_ptr = w_ptr if self._w is None else w_ptr + start
            order_ptr, n_rows = ffi.NULL, n
        else:
            Xs, Ys, order_ptr = self._X_ptr, self._Y_ptr, ffi.from_buffer("int64_t[]", order) + start
            n_rows = X.shape[0]
        err = self._fit_epoch(self._net, n_rows, Xs, Ys, order_ptr, n, batch, u_ptr, c_lrs, t0, work,
                              work_len, c_losses, c_penalties if self._penalized else ffi.NULL,
                              c_correct if self.track_accuracy else ffi.NULL,
                              self._done, self._after if check_after else ffi.NULL, restore_point, w_ptr)
        if err:
            exc = ValueError if err == lib.PYN_ERR_ORDER else RuntimeError
            raise exc(_EPOCH_ERRORS.get(err, f"pyneuron._kernels: internal error code {err} in the fit epoch"))
        k = self._done[0]
        optimizer.t = t0 + k
        if lr_for_step is not None:
            optimizer.lr = float(self._lrs[min(k, nb - 1)])
        seen = min(k + 1, nb)        # the applied batches, and the one that stopped the epoch
        result = EpochResult(losses=self._losses[:seen].tolist())
        if self._penalized:
            result.penalties = self._penalties[:seen].tolist()
        if self.track_accuracy:
            result.correct = sum(self._correct[:k].tolist())   # a few numbers: no NumPy reduction
        result.counted = min(n, k * batch) * self._counted_per_row
        if k < nb:
            result.diverged_batch = k + 1
        elif check_after:
            result.after_loss = self._after[0]
        return result


_EPOCH_ERRORS = {lib.PYN_ERR_ORDER: "order: expected row indices in range(n), got one outside it"}
