"""scikit-learn's epoch loop (``_fit_stochastic``) as one pyneuron :class:`~pyneuron.Callback`.

pyneuron's ``fit`` runs the batches; this callback adds, per epoch, what
scikit-learn's MLP does around them (``sklearn/neural_network/_multilayer_perceptron.py``
and ``_stochastic_optimizers.py``):

* ``loss_`` = the epoch's batch losses (before each update) weighted by batch size,
  over the samples, in scikit-learn's units (pyneuron's value divided by the scale c
  of ``_params``; for several regression targets, the squared error averaged over them);
* the ``learning_rate`` schedule of ``solver="sgd"``: ``"constant"``;
  ``"invscaling"``: after each epoch ``lr = learning_rate_init / (t_ + 1) ** power_t``,
  ``t_`` = samples seen so far; ``"adaptive"``: divide by 5 whenever the no-improvement
  count exceeds ``n_iter_no_change`` (stop once lr ≤ 1e-6);
* the no-improvement count: an epoch counts when its loss is not below
  ``best_loss_ − tol`` (or, with early stopping, its validation score not above
  ``best_validation_score_ + tol``); training stops once the count exceeds
  ``n_iter_no_change``;
* with early stopping, the weights of the best validation score, restored at the end.

scikit-learn keeps SGD's velocity in parameter units (``v ← μv − η g``) and pyneuron
in gradient units (``v ← μv + g``, PyTorch's form); they agree while η is fixed, and
:func:`set_lr` rescales pyneuron's velocity when η changes so they keep agreeing.
"""
from __future__ import annotations

import numpy as np

from .. import optimizers as _optimizers
from ..training import Callback

#: scikit-learn's floor for the adaptive schedule (``SGDOptimizer.trigger_stopping``).
MIN_ADAPTIVE_LR = 1e-6


def set_lr(optimizer, lr):
    """Change ``optimizer.lr``; SGD's momentum buffer is rescaled so the step it carries is unchanged."""
    old = optimizer.lr
    if lr == old:
        return
    if type(optimizer) is _optimizers.SGD and optimizer.momentum:
        for state in optimizer.state:
            state["velocity"] *= old / lr
    optimizer.lr = lr


def snapshot(model):
    """Copies of every array that decides the model's predictions (parameters, batch-norm statistics)."""
    arrays = [p.copy() for p in model.parameters()]
    for layer in model.layers:
        if getattr(layer, "batch_norm", False):
            arrays += [layer.running_mean.copy(), layer.running_var.copy()]
    return arrays


def restore(model, arrays):
    targets = list(model.parameters())
    for layer in model.layers:
        if getattr(layer, "batch_norm", False):
            targets += [layer.running_mean, layer.running_var]
    for target, saved in zip(targets, arrays):
        target[...] = saved


class SklearnLoop(Callback):
    """Keeps an estimator's scikit-learn attributes up to date during one ``fit`` call.

    ``est`` is the wrapper (its ``loss_curve_``, ``t_``, ``n_iter_`` … are updated in
    place); ``n_samples`` and ``batch_size`` describe the training batches; ``scale``
    is c; ``schedule`` is ``None`` (the optimizer's lr stays) or a ``learning_rate``
    name; ``validation`` is ``None`` or ``(X_val, Y_val, sample_weight_val or None)``.
    """

    def __init__(self, est, settings, n_samples, batch_size, scale, schedule, validation, incremental):
        self.est, self.settings = est, settings
        self.n_samples, self.batch_size, self.scale = n_samples, batch_size, scale
        self.schedule, self.validation, self.incremental = schedule, validation, incremental
        self.stopped = False
        self.best_weights = None

    def epoch_loss(self, model, logs):
        """scikit-learn's ``loss_`` for the epoch, from pyneuron's epoch mean of the batch losses
        (this class is used when every batch has the same size, so the two means agree)."""
        if model.loss_name == "mse" and model.n_outputs > 1:    # alpha = 0 here (see PerBatchLoop)
            return 0.5 * logs["loss"]                          # ½·mean over targets and samples
        return logs["loss"] / self.scale

    def on_epoch_end(self, model, epoch, logs=None):
        est, s = self.est, self.settings
        est.n_iter_ += 1
        est.loss_ = self.epoch_loss(model, logs)
        est.t_ += self.n_samples
        est.loss_curve_.append(est.loss_)
        if s.verbose:
            print(f"Iteration {est.n_iter_}, loss = {est.loss_:.8f}", flush=True)
        self._count_no_improvement(model)
        optimizer = model.optimizer
        if self.schedule == "invscaling":
            set_lr(optimizer, s.learning_rate_init / (est.t_ + 1) ** s.power_t / self._lr_scale(optimizer))
        if est._no_improvement_count > s.n_iter_no_change:
            lr = optimizer.lr * self._lr_scale(optimizer)
            if self.schedule == "adaptive" and lr > MIN_ADAPTIVE_LR:
                set_lr(optimizer, optimizer.lr / 5.0)
                est._no_improvement_count = 0
                if s.verbose:
                    print(f"Setting learning rate to {lr / 5.0:f}", flush=True)
            else:
                self.stopped = True
                model.stop_training = True
                if s.verbose:
                    what = "Validation score" if self.validation is not None else "Training loss"
                    print(f"{what} did not improve more than tol={s.tol:f} for "
                          f"{s.n_iter_no_change} consecutive epochs. Stopping.", flush=True)
        if self.incremental:
            model.stop_training = True

    def _lr_scale(self, optimizer):
        """pyneuron's lr times this is scikit-learn's (SGD-family optimizers carry lr / c)."""
        return self.scale if isinstance(optimizer, (_optimizers.SGD, _optimizers.Momentum)) else 1.0

    def _count_no_improvement(self, model):
        est, tol = self.est, self.settings.tol
        if self.validation is not None:
            score = est._validation_score(*self.validation)
            est.validation_scores_.append(score)
            if self.settings.verbose:
                print(f"Validation score: {score:f}", flush=True)
            if not score >= est.best_validation_score_ + tol:     # NaN counts as no improvement
                est._no_improvement_count += 1
            else:
                est._no_improvement_count = 0
            if score > est.best_validation_score_:
                est.best_validation_score_ = score
                self.best_weights = snapshot(model)
        else:
            loss = est.loss_curve_[-1]
            if not loss <= est.best_loss_ - tol:
                est._no_improvement_count += 1
            else:
                est._no_improvement_count = 0
            if loss < est.best_loss_:
                est.best_loss_ = loss

    def on_train_end(self, model, logs=None):
        if self.validation is not None and self.best_weights is not None:
            restore(model, self.best_weights)



class PerBatchLoop(SklearnLoop):
    """:class:`SklearnLoop` that also watches every batch: needed when the last batch is
    smaller (scikit-learn weights each batch's loss by its size) and for several regression
    targets with a penalty (scikit-learn averages the squared error over the targets but not
    the penalty, so pyneuron's batch loss is split with ΣW² read before the step).
    A loop without batch hooks lets pyneuron's ``fit`` run whole epochs in one call."""

    @staticmethod
    def needed(model, n_samples, batch_size, alpha):
        several_targets = model.loss_name == "mse" and model.n_outputs > 1
        return n_samples % batch_size != 0 or (several_targets and alpha > 0)

    def on_epoch_begin(self, model, epoch, logs=None):
        self.weighted_loss = 0.0
        self.split_penalty = model.loss_name == "mse" and model.n_outputs > 1
        self.sum_sq = 0.0

    def on_batch_begin(self, model, batch, logs=None):
        if self.split_penalty and self.settings.alpha > 0:
            self.sum_sq = sum(float(np.sum(layer.W * layer.W)) for layer in model.layers)

    def watch_weights(self, sample_weight, shuffle):
        """A ``shuffle`` callable for ``fit`` that draws the order as ``fit`` would (the
        model's generator) and keeps it, so each batch's weight sum -- the penalty's m
        with sample weights -- is known here."""
        self.sample_weight, self.order = sample_weight, None

        def order(epoch, n):
            self.order = self.est.model_.rng.permutation(n) if shuffle else np.arange(n)
            return self.order
        return order

    def on_batch_end(self, model, batch, logs=None):
        size = min(self.batch_size, self.n_samples - batch * self.batch_size)
        loss = logs["loss"] / self.scale
        if self.split_penalty:    # ½·mean over targets and samples = ½ · pyneuron's data loss
            m = size
            if getattr(self, "order", None) is not None:
                start = batch * self.batch_size
                m = float(self.sample_weight[self.order[start:start + size]].sum()) or size
            penalty = self.settings.alpha * self.sum_sq / (2.0 * m)
            loss = 0.5 * (logs["loss"] - self.scale * penalty) + penalty
        self.weighted_loss += loss * size

    def epoch_loss(self, model, logs):
        return self.weighted_loss / self.n_samples
