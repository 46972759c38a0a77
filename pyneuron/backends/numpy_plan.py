"""The ``numpy`` backend's training plan: a whole step in vectorized NumPy, in reused buffers.

:class:`NumpyTrainPlan` is what :meth:`NumpyBackend.train_plan` returns. It runs the
same step as the per-operation plan of :mod:`pyneuron.training_plan` (forward through
every layer, loss, backward, L1/L2 gradients, clipping, one optimizer update, in that
order, with the dropout masks drawn from ``model.rng`` batch by batch, layer by layer),
but as one Python function over preallocated arrays instead of one kernel call per
operation:

* every product writes into a buffer kept between steps (``np.matmul(..., out=)``), one
  set of buffers per batch size (two in an epoch with a last partial batch);
* the batch rows are gathered with ``np.take(..., out=)`` into a reused buffer;
* the first layer's input gradient ``dX`` is never computed (nothing uses it);
* SGD (without momentum) and Adam/AdamW update in place through a scratch buffer per
  parameter; every other optimizer gets its own ``_update`` on the numpy kernels.
* in float64, a sigmoid + BCE or softmax + cross-entropy output computes its
  probabilities and its loss from the logits with the same exponentials;
* the parameters, gradients and the update rule are gathered once per epoch (before
  every step when a callback runs between batches), and NumPy's floating-point warnings
  are silenced once per epoch rather than per step.

The equations are the kernels' (see :mod:`pyneuron.backends.base` for their sources);
the arithmetic follows them operation for operation, so a run agrees with the
per-operation plan and the C plan to rounding (``tests/test_numpy_plan.py``).

What it covers: every optimizer (through ``Optimizer.step``'s bookkeeping: ``t``,
``decay``, the state arrays), L1/L2 in the ``"mean"`` scaling (``fit`` gives the other
penalties the per-operation plan), inverted dropout, batch norm with running statistics
as :mod:`pyneuron.layers` keeps them, clipping by value and by norm, per-step learning
rates, layers without bias, frozen parameters, float32 and float64, every activation and
loss the model knows, weighted samples (``sample_weight``: the kernels' weighted loss and
output gradient, the penalty over the batch's weight sum, as the per-operation path
computes them). What it leaves to the per-operation plan (:func:`supports` says):
dropout masks handed in (``mask_source``), other dtypes, and any subclass of the numpy
backend (its kernels may differ from the ones written out here).
"""
from __future__ import annotations

import math

import numpy as np

from .. import optimizers as opt
from ..training_plan import TrainPlan, clip_gradients, right_answers
from .base import LOGIT_LOSSES
from .numpy_backend import _sigmoid

__all__ = ["NumpyTrainPlan", "supports"]

_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "softmax", "linear")


def supports(model):
    """Can :class:`NumpyTrainPlan` run ``model``? Yes unless the dtype is not
    float32/float64 or an activation is one this module does not write out. (Dropout
    masks handed in by ``fit(dropout_masks=...)`` are taken from each layer's
    ``mask_source``, as :meth:`pyneuron.layers.Dense.forward` takes them.)"""
    if np.dtype(model.dtype) not in (np.dtype(np.float64), np.dtype(np.float32)):
        return False
    return all(layer.activation in _ACTIVATIONS for layer in model.layers)


def _mean(a):
    """``np.mean(a)`` of a float64 array, without its dispatch: the same pairwise sum
    divided by the count, so the same number."""
    return np.add.reduce(a, axis=None) / a.size


class _Buffers:
    """The arrays one step with a batch of ``m`` rows writes, per layer ``l``: ``Z[l]``
    (``(m, n_l)``, before batch norm), ``A[l]`` (the layer's output), ``dA[l]`` (the gradient
    at layer ``l``'s input, ``None`` for the first layer), and the batch ``X``, ``Y``."""

    def __init__(self, model, m, n_in, n_out):
        dt = model.dtype
        sizes = [layer.n_out for layer in model.layers]
        self.X = np.empty((m, n_in), dt)
        self.Y = np.empty((m, n_out), dt)
        self.Z = [np.empty((m, n), dt) for n in sizes]
        self.A = [np.empty((m, n), dt) for n in sizes]
        self.dA = [None] + [np.empty((m, layer.n_in), dt) for layer in model.layers[1:]]


class NumpyTrainPlan(TrainPlan):
    """The numpy backend's fused plan (see the module docstring). Parameters as
    :class:`~pyneuron.training_plan.TrainPlan`'s.

    What a step reads from the model and the optimizer (the parameter arrays, which are
    frozen, the optimizer's rule and state) is gathered by ``_prepare``: once per epoch
    when no callback runs between batches, else before every step, so a callback may
    change any of it between steps as on the per-operation path."""

    path = "numpy fused step"

    @property
    def records_penalties(self):
        return True

    def __init__(self, kernels, model, optimizer, l1=0.0, l2=0.0, clip_value=None,
                 clip_norm=None, track_accuracy=False, penalty=None, sample_weight=None):
        super().__init__(kernels, model, optimizer, l1, l2, clip_value, clip_norm, track_accuracy,
                         penalty=penalty, sample_weight=sample_weight)
        self._bufs = {}
        self._grads = {}     # id(layer) -> {"dW": ..., ...}, reused between steps
        self._scratch = {}   # id(parameter) -> a scratch array of its shape
        self._rows = {}      # m -> np.arange(m)
        self._penalized = bool(self.penalty)

    # ------------------------------------------------------------ buffers
    def _buffers(self, m, n_in, n_out):
        bufs = self._bufs.get(m)
        if bufs is None or bufs.X.shape[1] != n_in or bufs.Z[0].dtype != self.model.dtype:
            bufs = self._bufs[m] = _Buffers(self.model, m, n_in, n_out)
        return bufs

    def _layer_grads(self, layer):
        g = self._grads.get(id(layer))
        if g is None or g["dW"].shape != layer.W.shape or g["dW"].dtype != layer.W.dtype:
            g = {"dW": np.empty_like(layer.W), "db": np.empty_like(layer.b)}
            if layer.batch_norm:
                g["dgamma"], g["dbeta"] = np.empty_like(layer.gamma), np.empty_like(layer.beta)
            self._grads[id(layer)] = g
        return g

    def _tmp(self, p):
        s = self._scratch.get(id(p))
        if s is None or s.shape != p.shape or s.dtype != p.dtype:
            s = self._scratch[id(p)] = np.empty_like(p)
        return s

    def _prepare(self):
        """Gather what a step reads: per layer its gradients' buffers (``layer.grads``
        shows them, without ``db`` for a layer without bias), the trainable parameters with
        their gradients and scratch arrays, and which update rule runs."""
        model, o = self.model, self.optimizer
        grads, self._layer_g = [], []
        for layer in model.layers:
            g = self._layer_grads(layer)
            layer.grads = {k: v for k, v in g.items() if k != "db" or layer.has_bias}
            self._layer_g.append(g)
            grads += [layer.grads["d" + kind] for kind in layer.parameter_kinds() if kind not in layer.frozen]
        self._params = model.trainable_parameters()
        self._grad_list = grads
        self._tmps = [self._tmp(p) for p in self._params]
        out = model.layers[-1]
        # (weighted samples take the kernels' weighted loss and gradient, as the per-operation path)
        self._fused_output = (LOGIT_LOSSES.get((out.activation, model.loss_name))
                              if out.dropout == 0.0 and np.dtype(model.dtype) == np.float64
                              and self.sample_weight is None else None)
        cls = type(o)
        if cls.step is not opt.Optimizer.step:
            self._rule = "own step"
        else:
            o._ensure_state(self._params, o.state_names)
            if cls._update is opt.SGD._update and not o.momentum:
                self._rule = "sgd"
            elif cls._update is opt.Adam._update:
                self._rule = "adam"
            else:
                self._rule = "update"

    # ------------------------------------------------------------ one step
    def step(self, Xb, Yb):
        """As :meth:`TrainPlan.step`: one step on ``(Xb, Yb)``, returning ``(loss, right
        answers)`` of its forward pass before the update (skipped if the loss is not finite)."""
        self._prepare()
        return self._step(Xb, Yb)

    def _step(self, Xb, Yb):
        model, kernels = self.model, self.kernels
        layers = model.layers
        m = Xb.shape[0]
        bufs = self._buffers(m, Xb.shape[1], Yb.shape[1])
        caches = []
        A = Xb
        out, loss = layers[-1], model.loss_name
        fused = self._fused_output
        for layer, Z, Ab in zip(layers, bufs.Z, bufs.A):
            A, cache = self._forward_layer(layer, A, Z, Ab, m, activate=not fused or layer is not out)
            caches.append(cache)
        Zout = caches[-1]["Z"]
        # with sample weights: the weighted mean loss, and the penalty's m is the batch's
        # weight sum (when not 0), as TrainPlan.step computes them
        w = getattr(self, "_batch_weight", self.sample_weight) if self.sample_weight is not None else None
        m_pen = m if w is None or not w.sum() else float(w.sum())
        if fused:
            A, value = self._output_and_loss(fused, Zout, Yb, m)
            caches[-1]["A"] = A
        elif w is not None:
            value = kernels.weighted_data_loss(loss, out.activation, A, Yb, Zout, w)
        else:
            value = kernels.data_loss(loss, out.activation, A, Yb, Zout)
        if self._penalized:
            self.last_penalty = self.penalty.value(kernels, m_pen)
            value += self.last_penalty
        correct = right_answers(A, Yb, loss) if self.track_accuracy else 0
        if not math.isfinite(value):
            return value, correct
        # backward: dZ of the output, then layer by layer, without the first layer's dX
        if fused:   # the kernels' output_delta: (A − Y) / N, N = items (bce) or rows (cce)
            dZ = A - Yb
            dZ /= A.size if fused == "bce" else m
        elif w is not None:
            dZ = kernels.weighted_output_gradient(loss, out.activation, A, Yb, Zout, w, model.negative_slope)
        else:
            dZ = kernels.output_gradient(loss, out.activation, A, Yb, Zout, model.negative_slope)
        penalized = self._penalized
        for l in range(len(layers) - 1, -1, -1):
            layer, cache, g = layers[l], caches[l], self._layer_g[l]
            if l < len(layers) - 1:
                dZ = self._activation_backward(layer, bufs.dA[l + 1], cache)
            if layer.batch_norm:
                dZ = self._batchnorm_backward(layer, dZ, cache, g)
            np.matmul(dZ.T, cache["X"], out=g["dW"])
            if layer.has_bias:
                np.add.reduce(dZ, axis=0, out=g["db"])
            if l > 0:
                np.matmul(dZ, layer.W, out=bufs.dA[l])
        if penalized:   # as Penalty.add_gradients: every penalized parameter, its own strengths
            penalty = self.penalty
            for i, kind, a, b in penalty.terms:
                self._layer_g[i]["d" + kind] += kernels.penalty_gradient(
                    getattr(layers[i], kind), *penalty._args(a, b, m_pen))
        grads = self._grad_list
        if self.clip_value is not None or self.clip_norm is not None:
            grads = [g.copy() for g in grads]
            clip_gradients(grads, self.clip_value, self.clip_norm)
        self._update(self._params, grads)
        return value, correct

    def _output_and_loss(self, loss, Z, Y, m):
        """The output ``A`` (sigmoid or softmax of the logits ``Z``) and the loss from the
        logits, sharing their exponentials: the numpy kernels' ``_sigmoid``/``softmax`` and
        ``loss_from_logits``, operation for operation (float64 only, where the kernel's
        float64 loss and the model's arithmetic coincide)."""
        if loss == "bce":
            e = np.exp(-np.abs(Z))
            value = float(_mean((np.maximum(Z, 0.0) - Y * Z) + np.log1p(e)))
            one_e = 1.0 + e
            return np.where(Z >= 0, 1.0 / one_e, e / one_e), value
        rows = self._rows.get(m)
        if rows is None:
            rows = self._rows[m] = np.arange(m)
        top_index = Z.argmax(axis=1)
        top = Z[rows, top_index]
        E = np.exp(Z - top[:, None])
        A = E / E.sum(axis=1, keepdims=True)
        E[rows, top_index] = 0.0            # the max's own e^0 = 1 is the "1 +" of log1p
        value = float(_mean((top - (Y * Z).sum(axis=1)) + np.log1p(E.sum(axis=1))))
        return A, value

    def _forward_layer(self, layer, X, Z, A, m, activate=True):
        """``A = dropout(f(BN(X Wᵀ + b)))`` in the buffers ``Z``, ``A``; returns ``A`` and
        what backward needs (as :meth:`pyneuron.layers.Dense.forward` keeps it)."""
        np.matmul(X, layer.W.T, out=Z)
        if layer.has_bias:
            Z += layer.b
        if layer.batch_norm:      # the numpy kernel's batchnorm_forward, then running stats
            mean = Z.mean(axis=0)
            var = ((Z - mean) ** 2).mean(axis=0)
            Zhat = (Z - mean) / np.sqrt(var + layer.bn_eps)
            layer._update_running_stats(mean, var, m)
            Zn = layer.gamma * Zhat + layer.beta
            cache = {"X": X, "Z": Zn, "A": A, "Zhat": Zhat, "var": var}
        else:
            Zn = Z
            cache = {"X": X, "Z": Zn, "A": A}
        if not activate:
            return None, cache
        act = layer.activation
        if act == "relu":
            np.maximum(Zn, 0.0, out=A)
        elif act == "tanh":
            np.tanh(Zn, out=A)
        elif act == "sigmoid":
            A[...] = _sigmoid(Zn)
        elif act == "linear":
            A[...] = Zn
        else:
            A[...] = self.kernels.activation_forward(act, Zn, layer.negative_slope)
        if layer.dropout > 0.0:
            keep = 1.0 - layer.dropout
            if layer.mask_source is not None:   # fit(dropout_masks=...): as Dense.forward takes it
                mask = layer.mask_source(A.shape).astype(A.dtype, copy=False)
            else:
                mask = (self.model.rng.random(A.shape) < keep).astype(A.dtype)
            cache["mask"] = mask
            A = np.multiply(A, mask)
            A /= keep
        return A, cache

    def _activation_backward(self, layer, dA, cache):
        """``dZ = (dA ⊙ mask / keep) ⊙ f'(Z)``, in ``dA``'s buffer where the kernel allows."""
        if "mask" in cache:
            dA *= cache["mask"]
            dA /= 1.0 - layer.dropout
        act = layer.activation
        if act == "relu":
            # dA ⊙ [Z > 0]: the kernel's where(Z > 0, dA, 0) wherever dA is finite (an
            # infinite dA behind a closed unit gives NaN here, 0 there; both diverge)
            np.multiply(dA, cache["Z"] > 0, out=dA)
            return dA
        if act == "linear":
            return dA
        return self.kernels.activation_backward(act, dA, cache["Z"], cache["A"], layer.negative_slope)

    def _batchnorm_backward(self, layer, dY, cache, g):
        """The numpy kernel's ``batchnorm_backward``, writing ``dgamma``, ``dbeta`` into ``g``."""
        m = dY.shape[0]
        Zhat = cache["Zhat"]
        dbeta = np.sum(dY, axis=0, out=g["dbeta"])
        dgamma = np.sum(dY * Zhat, axis=0, out=g["dgamma"])
        return layer.gamma / (m * np.sqrt(cache["var"] + layer.bn_eps)) * (m * dY - dbeta - Zhat * dgamma)

    # ------------------------------------------------------------ the update
    def _update(self, params, grads):
        """``Optimizer.step``'s bookkeeping (decay, ``t``), then each parameter's update:
        SGD without momentum and Adam/AdamW in place here (the numpy kernels' arithmetic,
        operation for operation), every other rule by its own ``_update``."""
        o, kernels, rule = self.optimizer, self.kernels, self._rule
        if rule == "own step":
            o.step(kernels, params, grads)
            return
        if o.decay:
            o.lr = o.lr_at(o.t)
        o.t += 1
        lr = o.lr
        if rule == "sgd":
            for p, g, tmp in zip(params, grads, self._tmps):
                p -= np.multiply(g, lr, out=tmp)
        elif rule == "adam":
            b1, b2, eps, t = o.beta1, o.beta2, o.eps, o.t
            wd = o.decoupled_weight_decay
            c1, c2 = 1.0 - b1 ** t, 1.0 - b2 ** t
            for p, g, s, tmp in zip(params, grads, o.state, self._tmps):
                mm, vv = s["m"], s["v"]
                if wd:
                    p *= 1.0 - lr * wd
                mm *= b1
                mm += np.multiply(g, 1.0 - b1, out=tmp)
                vv *= b2
                np.multiply(g, 1.0 - b2, out=tmp)
                tmp *= g
                vv += tmp
                den = np.divide(vv, c2, out=tmp)
                np.sqrt(den, out=den)
                den += eps
                step = mm / c1
                step *= lr
                step /= den
                p -= step
        else:
            for p, g, s in zip(params, grads, o.state):
                o._update(kernels, p, g, s)

    # ------------------------------------------------------------ an epoch
    def epoch(self, X, Y, order, batch, lr_for_step=None, callbacks=()):
        """As :meth:`TrainPlan.epoch`, with the shuffled batches gathered into reused buffers."""
        if callbacks:
            return self._epoch(X, Y, order, batch, lr_for_step, callbacks)
        # Overflow shows up as a non-finite loss, which fit reports with its epoch;
        # NumPy's warnings on the way there would only be noise (as in TrainPlan.step).
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._epoch(X, Y, order, batch, lr_for_step, callbacks)

    def _epoch(self, X, Y, order, batch, lr_for_step, callbacks):
        # shuffled batches are gathered into reused buffers when no dtype conversion is needed
        self._gathering = order is not None and X.dtype == self.model.dtype and Y.dtype == self.model.dtype
        return TrainPlan.epoch(self, X, Y, order, batch, lr_for_step, callbacks)

    def _batch(self, X, Y, order, start, batch):
        if not self._gathering:
            return TrainPlan._batch(self, X, Y, order, start, batch)
        idx = order[start:start + batch]
        if self.sample_weight is not None:   # the batch's weights, for _step
            self._batch_weight = self.sample_weight[idx]
        bufs = self._buffers(len(idx), X.shape[1], Y.shape[1])
        return X.take(idx, axis=0, out=bufs.X), Y.take(idx, axis=0, out=bufs.Y)

    def _epoch_step(self, b, Xb, Yb, callbacks):
        if callbacks or b == 0:
            self._prepare()      # a callback may have changed any array or setting
        if callbacks:
            return self._guarded(Xb, Yb)
        return self._step(Xb, Yb)    # nothing runs between steps: the whole epoch is under the errstate

    def _kept(self, Xb, Yb):
        if Xb is not None and self._gathering and not self._plain_forward():
            return Xb.copy(), Yb.copy()   # the buffer is reused by model._forward's path: a copy
        return Xb, Yb

    def _plain_forward(self):
        """Is the training forward pass also the inference one (no batch norm, no dropout)?
        Then :meth:`loss_after` runs it in the plan's buffers, which never overwrite the
        batch's ``X`` and ``Y`` buffers."""
        return not any(layer.batch_norm or layer.dropout for layer in self.model.layers)

    def _guarded(self, Xb, Yb):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._step(Xb, Yb)

    def loss_after(self, Xb, Yb):
        """As :meth:`TrainPlan.loss_after` (NaN if a parameter or running statistic is not
        finite, else the data loss of ``(Xb, Yb)`` in inference mode), with one finiteness
        check over all the arrays at once rather than one per array."""
        model = self.model
        arrays = [a.ravel() for layer in model.layers for a in layer.parameters()
                  + ([layer.running_mean, layer.running_var] if layer.batch_norm else [])]
        if not np.isfinite(np.concatenate(arrays)).all():
            return math.nan
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if not self._plain_forward():
                return model._data_loss(model._forward(Xb), Yb)
            # the step's own forward (no running statistics, no masks to draw), and the loss
            # as the step takes it: the model's forward and data loss, operation for operation
            layers, m = model.layers, Xb.shape[0]
            bufs = self._buffers(m, Xb.shape[1], Yb.shape[1])
            fused, out = self._fused_output, layers[-1]
            A = Xb
            for layer, Z, Ab in zip(layers, bufs.Z, bufs.A):
                A, cache = self._forward_layer(layer, A, Z, Ab, m, activate=not fused or layer is not out)
            if fused:
                return self._output_and_loss(fused, cache["Z"], Yb, m)[1]
            return self.kernels.data_loss(model.loss_name, out.activation, A, Yb, cache["Z"])
