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

Buffers are checked once, when the plan binds them, and checked again before every C
call (:mod:`pyneuron.backends.c_bind`: a weight made read-only, reshaped or replaced after
the plan was made is noticed before C touches it, issue 15 item 5).
Randomness stays in Python: the dropout masks come from ``model.rng.random`` (or a
layer's ``mask_source``) in the order the per-operation path draws them (batch by batch,
layer by layer), see ``CTrainPlan._uniforms``.
"""
from __future__ import annotations

import math

import numpy as np

from ..callbacks import restore
from ..training_plan import EpochResult, TrainPlan
from .c_backend import _MAX_LAYERS, _TYPED, ffi, lib
from .c_bind import NetBinding, _aligned_empty, describe_optimizer

__all__ = ["CTrainPlan", "describe_optimizer"]


def supports(model, optimizer):
    """Can the C plan run this model with this optimizer?

    Every optimizer :func:`describe_optimizer` knows, layers with or without bias, frozen
    parameters, dropout masks handed in, float32 and float64, up to ``_MAX_LAYERS`` layers.
    Not (the per-operation path runs them, on the C kernels) an optimizer class with an
    update of its own. (A learning-rate ``decay`` reaches C as per-step rates.)"""
    return (np.dtype(model.dtype) in _TYPED and 1 <= len(model.layers) <= _MAX_LAYERS
            and describe_optimizer(optimizer) is not None)


def _aligned_input(name, a, dtype):
    """``a`` as a C-contiguous, aligned array of ``dtype``: a misaligned but contiguous
    buffer (``np.frombuffer`` at an odd offset) is copied rather than refused."""
    if not isinstance(a, np.ndarray) or a.dtype != dtype or a.ndim != 2:
        raise TypeError(f"{name}: expected a 2-D numpy array of {dtype}, got "
                        f"{getattr(a, 'dtype', type(a).__name__)} of shape {getattr(a, 'shape', None)}")
    return np.require(a, requirements=("C", "A"))


class CTrainPlan(NetBinding, TrainPlan):
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
            self._w, self._w_ptr = None, ffi.NULL
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
        f64 = self.typed.dtype == np.float64
        self._fit_epoch = lib.pyn_fit_epoch_f64 if f64 else lib.pyn_fit_epoch_f32
        self._fit_epochs = lib.pyn_fit_epochs_f64 if f64 else lib.pyn_fit_epochs_f32
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
        return self._run(X, Y, order, 0, X.shape[0], batch, lr_for_step, check_after=True,
                         restore_point=point)

    def epochs(self, X, Y, orders, batch, count):
        """As :meth:`TrainPlan.epochs`, in one C call (``pyn_fit_epochs``): a small net's
        epoch is ~30 µs of C, and the Python of a call per epoch added half as much again.
        Its losses, penalties and right answers come back in buffers of ``count`` epochs'
        batches, read into one :class:`EpochResult` per epoch run. One call per epoch, as
        the default does, with dropout (its masks are drawn epoch by epoch) and when this
        plan's ``epoch`` was wrapped (``pn.trace`` records each epoch that way)."""
        if self._dropout_width or "epoch" in vars(self):
            return TrainPlan.epochs(self, X, Y, orders, batch, count)
        X, Y = self._data(X, Y)
        n = X.shape[0]
        if orders is not None:
            orders = np.ascontiguousarray(orders, dtype=np.int64)  # C checks each index
            if orders.shape != (count, n):
                raise ValueError(f"orders: expected {count} permutations of range({n}), shape "
                                 f"({count}, {n}), got shape {orders.shape}")
        optimizer = self.optimizer
        nb = -(-n // batch)
        if nb > self._nb_cap:
            self._buffers(nb)
        t0 = optimizer.t
        self._learning_rates(nb, t0, None)
        self._ensure_bound()     # after the learning rate was read, as before every C call
        if min(batch, n) > self._m_cap:
            self._workspace(min(batch, n))
        losses, correct = np.empty(count * nb), np.zeros(count * nb, np.int64)
        penalties, after = np.zeros(count * nb), np.empty(count)
        ran = ffi.new("int64_t *")
        err = self._fit_epochs(
            self._net, n, self._X_ptr, self._Y_ptr,
            ffi.NULL if orders is None else ffi.from_buffer("int64_t[]", orders), n, batch, count,
            self._c_out[2], t0, self._work, self._work_len, ffi.from_buffer("double[]", losses),
            ffi.from_buffer("double[]", penalties) if self._penalized else ffi.NULL,
            ffi.from_buffer("int64_t[]", correct) if self.track_accuracy else ffi.NULL,
            self._done, ffi.from_buffer("double[]", after), self._point_ptr, self._w_ptr, ran)
        if err:
            exc = ValueError if err == lib.PYN_ERR_ORDER else RuntimeError
            raise exc(_EPOCH_ERRORS.get(err, f"pyneuron._kernels: internal error code {err} in the fit epochs"))
        self._point_in_c = self._point      # the start of the last epoch run, for go_back
        self._point_wanted = False
        runs, k, per_row = [], self._done[0], self._counted_per_row
        losses, penalties, correct = losses.tolist(), penalties.tolist(), correct.tolist()
        after = after.tolist()
        for e in range(ran[0]):
            # batches applied: all nb but in the last epoch run, which may have stopped at k
            applied = nb if e < ran[0] - 1 else k
            at = e * nb
            seen = losses[at:at + min(applied + 1, nb)]   # and the loss that stopped it
            runs.append(EpochResult(
                losses=seen, penalties=penalties[at:at + len(seen)] if self._penalized else [],
                correct=sum(correct[at:at + applied]) if self.track_accuracy else 0,
                counted=min(n, applied * batch) * per_row,
                diverged_batch=applied + 1 if applied < nb else None,
                after_loss=after[e] if applied == nb else None))
        optimizer.t = t0 + (ran[0] - 1) * nb + k
        return runs

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

    def _run(self, X, Y, order, start, stop, batch, lr_for_step, check_after, restore_point=False):
        """Batches of rows ``start:stop`` (of ``order``) in one C call; with
        ``restore_point``, C first copies the weights it starts from (see go_back).

        Run once per epoch of every fit, so kept short (a few µs of Python beside the C
        epoch of a small net, whose whole fit takes a few ms): buffers and pointers are
        made once and reused, and what is the same at every epoch is not looked up again."""
        optimizer = self.optimizer
        n = stop - start
        nb = -(-n // batch)
        if nb > self._nb_cap:
            self._buffers(nb)
        t0 = optimizer.t
        if lr_for_step is not None or optimizer.lr != self._lrs_filled[0] or nb > self._lrs_filled[1]:
            self._learning_rates(nb, t0, lr_for_step)
        u_ptr = ffi.from_buffer("double[]", self._uniforms(n, batch)) if self._dropout_width else ffi.NULL
        # Checked after the learning-rate schedule, the mask source and any batch callback
        # ran: any of them may have replaced, reshaped or frozen an array C will write.
        self._ensure_bound()
        point_ptr = ffi.NULL
        if restore_point:
            self._point_in_c, point_ptr = self._point, self._point_ptr
        m = min(batch, n)
        if m > self._m_cap:
            self._workspace(m)
        w_ptr = self._w_ptr     # per row of X, as X is indexed (NULL without weights)
        if order is None:
            if start == 0:
                Xs, Ys = self._X_ptr, self._Y_ptr
            else:
                Xs, Ys = self.typed.ptr(X[start:stop]), self.typed.ptr(Y[start:stop])
                w_ptr = w_ptr if self._w is None else w_ptr + start
            order_ptr, n_rows = ffi.NULL, n
        else:
            Xs, Ys, order_ptr = self._X_ptr, self._Y_ptr, ffi.from_buffer("int64_t[]", order)
            if start:
                order_ptr += start
            n_rows = X.shape[0]
        c_losses, c_correct, c_lrs, c_penalties = self._c_out
        err = self._fit_epoch(self._net, n_rows, Xs, Ys, order_ptr, n, batch, u_ptr, c_lrs, t0, self._work,
                              self._work_len, c_losses, c_penalties if self._penalized else ffi.NULL,
                              c_correct if self.track_accuracy else ffi.NULL,
                              self._done, self._after if check_after else ffi.NULL, point_ptr, w_ptr)
        if err:
            exc = ValueError if err == lib.PYN_ERR_ORDER else RuntimeError
            raise exc(_EPOCH_ERRORS.get(err, f"pyneuron._kernels: internal error code {err} in the fit epoch"))
        k = self._done[0]
        optimizer.t = t0 + k
        if lr_for_step is not None:
            optimizer.lr = float(self._lrs[min(k, nb - 1)])
        # the applied batches, and the one that stopped the epoch
        result = EpochResult(self._losses[:k + 1 if k < nb else nb].tolist())
        if self._penalized:
            result.penalties = self._penalties[:len(result.losses)].tolist()
        if self.track_accuracy:
            result.correct = sum(self._correct[:k].tolist())   # a few numbers: no NumPy reduction
        result.counted = min(n, k * batch) * self._counted_per_row
        if k < nb:
            result.diverged_batch = k + 1
        elif check_after:
            result.after_loss = self._after[0]
        return result


_EPOCH_ERRORS = {lib.PYN_ERR_ORDER: "order: expected row indices in range(n), got one outside it"}
