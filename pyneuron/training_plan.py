"""How ``fit`` runs its steps on a backend: a *training plan*.

``fit`` (in :mod:`pyneuron.training`) is written once for every backend. Below it, one
object decides how each epoch's batches are computed: the plan that
``model.kernels.train_plan(...)`` returns. This module holds the default, which every
backend gets: each step is the textbook sequence of kernel calls, one per operation
(forward through every layer, loss, backward, penalty gradients, clipping, one
optimizer step) -- the *per-operation path*. The ``c`` backend returns a plan of its
own (:mod:`pyneuron.backends.c_plan`) that runs a whole step, or a whole epoch, in one
call; both follow the same order of operations and draw the same random numbers from
the model's generator, so a run agrees across paths and backends to rounding.

What a plan promises (:meth:`TrainPlan.epoch`):

* the batches are ``order[0:batch], order[batch:2*batch], ...`` of the training rows;
* each batch's loss (with the L1/L2 penalty) and right answers are taken from its
  forward pass *before* its update; they make the epoch's running mean loss and
  accuracy, so no extra pass over the training set is needed;
* the epoch stops at the first batch whose loss is not finite (that batch's update is
  not applied) and says which batch it was;
* after a complete epoch, the loss of the last batch is computed again with the new
  parameters (inference mode: running statistics, no dropout), so an explosion in the
  epoch's *last* update is caught too (issue 15, item 2a);
* :meth:`TrainPlan.keep_restore_point` before an epoch and :meth:`TrainPlan.go_back`
  after a diverged one put back the weights the epoch started from.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .callbacks import restore, snapshot


@dataclass
class EpochResult:
    """What one epoch of training gave.

    ``losses``: each applied batch's loss (before its update), and the non-finite loss
    of the batch that stopped the epoch, if one did. ``correct`` / ``counted``: right
    answers over the counted items (rows for ``cce``, elements otherwise) of the applied
    batches. ``diverged_batch``: the 1-based batch whose loss was not finite, or
    ``None``. ``after_loss``: the last batch's loss after the epoch's last update (NaN
    if a parameter is not finite); ``None`` when the epoch stopped early."""

    losses: list = field(default_factory=list)
    #: each batch's L1/L2 penalty (included in its loss), when the plan records them
    penalties: list = field(default_factory=list)
    correct: int = 0
    counted: int = 0
    diverged_batch: int | None = None
    after_loss: float | None = None

    @property
    def mean_loss(self):
        applied = self.losses if self.diverged_batch is None else self.losses[:-1]
        return sum(applied) / len(applied) if applied else math.nan

    @property
    def accuracy(self):
        return self.correct / self.counted if self.counted else math.nan


def clip_gradients(grads, clip_value, clip_norm):
    """Clip each gradient element to ``[-clip_value, clip_value]``, then scale every
    gradient by ``clip_norm / ‖g‖`` if the global norm ``‖g‖ = sqrt(Σ g²)`` over all of
    them exceeds ``clip_norm`` (PyTorch's ``clip_grad_norm_``), in place.

    The squares are summed in float64 whatever the gradients' dtype: a float32 gradient
    of 1.5e19 squares to 2.25e38, and two such terms overflow float32 to inf (the step
    was then silently skipped)."""
    if clip_value is not None:
        for g in grads:
            np.clip(g, -clip_value, clip_value, out=g)
    if clip_norm is not None:
        squares = 0.0
        for g in grads:
            g64 = g.astype(np.float64, copy=False).ravel()
            squares += float(np.dot(g64, g64))
        norm = math.sqrt(squares)
        if norm > clip_norm:
            for g in grads:
                g *= clip_norm / norm


def right_answers(A, Y, loss):
    """How many answers of the outputs ``A`` are right against the encoded targets ``Y``:
    the count behind :func:`pyneuron.metrics.output_accuracy` (argmax against argmax per
    row for ``cce``; ``A >= 0.5`` against ``Y >= 0.5`` per element otherwise), without its
    argument checks -- fit's batches are already checked. The C epoch counts the same way."""
    if loss == "cce":
        return int(np.count_nonzero(A.argmax(axis=1) == Y.argmax(axis=1)))
    return int(np.count_nonzero((A >= 0.5) == (Y >= 0.5)))


def counted_items(Y, loss):
    """How many answers a batch's accuracy counts: rows for ``cce``, elements otherwise."""
    return Y.shape[0] if loss == "cce" else Y.size


def plan_extras(penalty=None, sample_weight=None):
    """``(penalty, sample_weight)`` from ``train_plan``'s extras (see
    :meth:`pyneuron.backends.base.Backend.train_plan`); an unknown extra is a ``TypeError``
    through Python's own keyword check."""
    return penalty, sample_weight


class TrainPlan:
    """The per-operation path: every step is one kernel call per operation.

    Parameters are those of ``fit``: the model, its optimizer, the penalties ``l1``,
    ``l2`` and the clipping thresholds (``None``: off). ``track_accuracy`` says whether
    right answers are counted. ``penalty``, a :class:`~pyneuron.penalties.Penalty`,
    replaces ``l1``/``l2`` with per-parameter strengths or the ``"sum"`` scaling.
    ``sample_weight``, a float array of shape ``(m,)`` over the training rows, or
    ``None``: kept as ``self.sample_weight`` for the weighted data loss of ``fit``.
    These two are the *extras* of :meth:`pyneuron.backends.base.Backend.train_plan`; a
    backend's own plan that cannot run one of them returns this class with it.
    Frozen parameters get their gradients but no update: the optimizer steps
    :meth:`~pyneuron.network.MLP.trainable_parameters` alone."""

    #: Which path runs (shown by ``pyneuron bench`` and the tests).
    path = "per-operation"
    @property
    def records_penalties(self):
        """Does :meth:`epoch` fill ``EpochResult.penalties``? This class's does; a plan
        that runs its own epochs (the fused C plan) must say so itself, else ``fit``
        reads each penalty from a batch callback (making a fused plan run step by step)."""
        return type(self).epoch is TrainPlan.epoch

    def __init__(self, kernels, model, optimizer, l1=0.0, l2=0.0, clip_value=None,
                 clip_norm=None, track_accuracy=False, penalty=None, sample_weight=None):
        from .penalties import Penalty
        self.kernels, self.model, self.optimizer = kernels, model, optimizer
        self.l1, self.l2 = l1, l2
        self.penalty = penalty if penalty is not None else Penalty(model, l1, l2)
        self.clip_value, self.clip_norm = clip_value, clip_norm
        self.track_accuracy = track_accuracy
        self.sample_weight = sample_weight
        self._restore_point = None

    # The restore point: fit calls keep_restore_point before each epoch and go_back if the
    # epoch diverged (issue 15, item 2a). A plan that runs a whole epoch in one call may
    # copy the weights there instead (the C plan does: a copy in C costs next to nothing,
    # one made from Python at every epoch was a fifth of a small net's epoch).
    def keep_restore_point(self):
        """Remember every parameter and running statistic as they are now (before an
        epoch), for :meth:`go_back`."""
        self._restore_point = snapshot(self.model, into=self._restore_point)

    def go_back(self):
        """Put back the weights :meth:`keep_restore_point` remembered; ``RuntimeError``
        if none was kept."""
        if self._restore_point is None:
            raise RuntimeError("go_back: no restore point was kept (call keep_restore_point before the epoch)")
        restore(self.model, self._restore_point)

    def step(self, Xb, Yb):
        """One step on the batch ``(Xb, Yb)``; returns ``(loss, right answers)`` of its
        forward pass before the update (the update is skipped if the loss is not finite)."""
        model, kernels = self.model, self.kernels
        A = model._forward(Xb, batch_stats=model.batch_norm, rng=model.rng)
        # with sample_weight: the weighted mean loss, and the penalty's m is the batch's
        # weight sum (scikit-learn's MLP), so a weight of 2 is the row counted twice
        w = getattr(self, "_batch_weight", self.sample_weight) if self.sample_weight is not None else None
        value = model._data_loss(A, Yb, weights=w)
        m = Xb.shape[0] if w is None or not w.sum() else float(w.sum())
        if self.penalty:
            self.last_penalty = self.penalty.value(kernels, m)
            value += self.last_penalty
        correct = right_answers(A, Yb, model.loss_name) if self.track_accuracy else 0
        if not math.isfinite(value):
            return value, correct
        model._backward(Yb, weights=w)
        if self.penalty:
            self.penalty.add_gradients(kernels, m)
        if any(layer.frozen for layer in model.layers):
            grads = [g for layer in model.layers
                     for kind, g in zip(layer.parameter_kinds(), layer.gradients()) if kind not in layer.frozen]
        else:
            grads = [g for layer in model.layers for g in layer.gradients()]
        if self.clip_value is not None or self.clip_norm is not None:
            grads = [g.copy() for g in grads]
            clip_gradients(grads, self.clip_value, self.clip_norm)
        self.optimizer.step(kernels, model.trainable_parameters(), grads)
        return value, correct

    def epoch(self, X, Y, order, batch, lr_for_step=None, callbacks=()):
        """One epoch over the rows ``order`` of ``(X, Y)`` (``None``: in order) in batches of ``batch``.

        ``lr_for_step(t)``, if given, sets the optimizer's learning rate before each step
        from its step count ``t``. ``callbacks`` get ``on_batch_begin`` and
        ``on_batch_end`` around each step. Returns an :class:`EpochResult`."""
        model, optimizer = self.model, self.optimizer
        result = EpochResult()
        n = X.shape[0]
        Xb = Yb = None
        for b, start in enumerate(range(0, n, batch)):
            Xb, Yb = self._batch(X, Y, order, start, batch)
            for cb in callbacks:
                cb.on_batch_begin(model, b)
            if lr_for_step is not None:
                optimizer.lr = lr_for_step(optimizer.t)
            self.last_penalty = math.nan
            value, correct = self._epoch_step(b, Xb, Yb, callbacks)
            result.losses.append(value)
            if self.penalty:
                result.penalties.append(self.last_penalty)
            if not math.isfinite(value):
                result.diverged_batch = b + 1
                return result
            result.correct += correct
            result.counted += counted_items(Yb, model.loss_name)
            for cb in callbacks:
                cb.on_batch_end(model, b, {"loss": value})
        result.after_loss = self.loss_after(*self._kept(Xb, Yb))
        return result

    def epochs(self, X, Y, orders, batch, count):
        """``count`` epochs one after the other, for a ``fit`` that runs nothing between
        its epochs (no callbacks, validation, schedule or dropout): a list of their
        :class:`EpochResult`, ending at the first that diverged (stopped early, or with a
        non-finite ``after_loss``). Epoch ``e`` takes the rows ``orders[e]`` (``orders``: an
        int array ``(count, n)``, or None for rows in order). Each epoch starts with
        :meth:`keep_restore_point`, so :meth:`go_back` returns to the start of the last one
        run. Here one :meth:`epoch` call per epoch; the C plan runs them in one call."""
        runs = []
        for e in range(count):
            self.keep_restore_point()
            run = self.epoch(X, Y, None if orders is None else orders[e], batch)
            runs.append(run)
            if run.diverged_batch is not None or not math.isfinite(run.after_loss):
                break
        return runs

    # The three places a plan with its own step changes the epoch above.
    def _batch(self, X, Y, order, start, batch):
        """Rows ``order[start:start + batch]`` of ``(X, Y)`` (``order`` None: in order)."""
        rows = slice(start, start + batch) if order is None else order[start:start + batch]
        if self.sample_weight is not None:   # the batch's weights, for step
            self._batch_weight = self.sample_weight[rows]
        if order is None:  # rows in order: the batches are views, no copies
            return X[start:start + batch], Y[start:start + batch]
        return X[rows], Y[rows]

    def _epoch_step(self, b, Xb, Yb, callbacks):
        """Step ``b`` of the epoch: ``(loss, right answers)``."""
        return self._guarded_step(Xb, Yb)

    def _kept(self, Xb, Yb):
        """The last batch as :meth:`loss_after` may keep it."""
        return Xb, Yb

    def _guarded_step(self, Xb, Yb):
        try:
            # Overflow shows up as a non-finite loss, which fit reports with its epoch;
            # NumPy's warnings on the way there would only be noise.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                return self.step(Xb, Yb)
        except OverflowError:  # Python floats (scalar backend) raise instead of giving inf
            return math.inf, 0

    def loss_after(self, Xb, Yb):
        """The data loss of ``(Xb, Yb)`` with the current parameters in inference mode,
        or NaN if a parameter (or batch-norm statistic) is not finite."""
        model = self.model
        for layer in model.layers:
            arrays = layer.parameters() + ([layer.running_mean, layer.running_var] if layer.batch_norm else [])
            if not all(np.all(np.isfinite(a)) for a in arrays):
                return math.nan
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                return model._data_loss(model._forward(Xb), Yb)
        except OverflowError:
            return math.inf

