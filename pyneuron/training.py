"""The training loop: mini-batches, optimizer steps, history, callbacks.

One epoch visits every training sample once, in ``batch_size`` slices of a
fresh permutation drawn from the model's generator (so a seed gives the same
order on every backend). Each batch: forward (training graph), loss,
backward, optional regularization gradients and clipping, one optimizer step.
How those steps are computed -- one kernel call per operation, one C call per
step, or one C call per epoch -- is the backend's *training plan*
(:mod:`pyneuron.training_plan`); ``fit`` itself is the same on every backend.

``history["loss"]`` holds, per epoch, the mean over the epoch's batches of each
batch's loss computed on its forward pass *before* its update (Keras's
convention; with ``batch_size=None`` it is the loss before the epoch's single
step). ``history["accuracy"]`` is likewise a running figure: the right answers
of each batch's forward pass before its update (with dropout and batch
statistics, as trained), over the epoch's samples -- no extra pass over the
training set is made for it. It includes the L1/L2 penalty when one is set; ``history["val_loss"]``
is the data loss alone on the validation set after the epoch (no penalty), so
it compares across regularization strengths.
"""
from __future__ import annotations

import math
import sys

import numpy as np

from . import optimizers as opt
from .metrics import output_accuracy
from .network import MaskSource
from .penalties import Penalty
from .schedules import Schedule
from .training_plan import TrainPlan
from .validation import check_bool, check_number, check_positive_int


class TrainingDivergedError(FloatingPointError):
    """The loss became NaN or infinite. ``epoch`` (1-based) and ``batch`` say where;
    the model has been put back to the last weights whose epoch ended finite."""

    def __init__(self, message, epoch, batch, history):
        super().__init__(message)
        self.epoch, self.batch, self.history = epoch, batch, history


class History:
    """What happened during ``fit``: ``history["loss"]``, ``history["val_loss"]``,
    ``history["accuracy"]`` … one value per epoch; ``epoch`` lists the epochs (1-based)."""

    def __init__(self):
        self.history = {}
        self.epoch = []
        self.stopped_epoch = None
        self.best_epoch = None

    def append(self, epoch, logs):
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def __getitem__(self, key):
        return self.history[key]

    def __contains__(self, key):
        return key in self.history

    def __repr__(self):
        last = {k: round(v[-1], 4) for k, v in self.history.items() if v}
        return f"History(epochs={len(self.epoch)}, last={last})"

    def _repr_html_(self):
        """Jupyter's display: the curves and the last values (see :mod:`pyneuron.display`)."""
        from .display import history_html
        return history_html(self)


class Callback:
    """Hooks called by ``fit``. ``logs`` is a dict (batch: ``loss``; epoch: the
    history entries of that epoch). Set ``model.stop_training = True`` to stop."""

    def on_train_begin(self, model, logs=None): pass
    def on_train_end(self, model, logs=None): pass
    def on_epoch_begin(self, model, epoch, logs=None): pass
    def on_epoch_end(self, model, epoch, logs=None): pass
    def on_batch_begin(self, model, batch, logs=None): pass
    def on_batch_end(self, model, batch, logs=None): pass


def snapshot(model):
    """Copies of every array that defines the model's predictions."""
    arrays = []
    for layer in model.layers:
        arrays += [p.copy() for p in layer.parameters()]
        if layer.batch_norm:
            arrays += [layer.running_mean.copy(), layer.running_var.copy()]
    return arrays


def restore(model, arrays):
    it = iter(arrays)
    for layer in model.layers:
        targets = layer.parameters() + ([layer.running_mean, layer.running_var] if layer.batch_norm else [])
        for target in targets:
            target[...] = next(it)


class EarlyStopping(Callback):
    """Stop once ``monitor`` has gone ``patience`` epochs in a row without improving
    by more than ``min_delta`` (as Keras and the tutorials count); with ``restore_best_weights`` the model ends with the
    weights of its best epoch (``history.best_epoch``)."""

    def __init__(self, monitor="val_loss", patience=10, min_delta=0.0, restore_best_weights=True, mode="auto"):
        self.monitor = monitor
        self.patience = check_positive_int(patience, "patience", minimum=1)
        self.min_delta = check_number(min_delta, "min_delta", 0.0)
        self.restore_best_weights = check_bool(restore_best_weights, "restore_best_weights")
        if mode == "auto":
            mode = "max" if "acc" in monitor or monitor.endswith(("f1", "r2")) else "min"
        if mode not in ("min", "max"):
            raise ValueError(f"mode: expected 'auto', 'min' or 'max', got {mode!r}")
        self.mode = mode

    def __repr__(self):
        return (f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience}, "
                f"min_delta={self.min_delta}, restore_best_weights={self.restore_best_weights})")

    def on_train_begin(self, model, logs=None):
        self.best, self.best_epoch, self.wait, self.best_weights = None, None, 0, None

    def _improved(self, value):
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, model, epoch, logs=None):
        if self.monitor not in logs:
            raise ValueError(f"EarlyStopping: monitor {self.monitor!r} is not recorded; "
                             f"available: {sorted(logs)}")
        value = logs[self.monitor]
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = snapshot(model)
        else:
            self.wait += 1
            if self.wait >= self.patience:  # `patience` epochs in a row without improvement
                model.stop_training = True

    def on_train_end(self, model, logs=None):
        if model.history is not None:
            model.history.best_epoch = self.best_epoch
        if self.restore_best_weights and self.best_weights is not None:
            restore(model, self.best_weights)


def _split_validation(model, X, Y, validation_split, validation_data):
    if validation_data is not None:
        if validation_split:
            raise ValueError("validation_split: give either validation_split or validation_data, not both")
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError(f"validation_data: expected a tuple (X_val, y_val), got {type(validation_data).__name__}")
        Xv = model.check_X(validation_data[0], "validation_data[0]")
        return X, Y, Xv, model.encode_y(validation_data[1], Xv.shape[0], "validation_data[1]")
    if not validation_split:
        return X, Y, None, None
    check_number(validation_split, "validation_split", 0.0, 1.0, low_open=True, high_open=True)
    n_val = int(round(X.shape[0] * validation_split))
    if n_val < 1 or n_val >= X.shape[0]:
        raise ValueError(f"validation_split: {validation_split} of {X.shape[0]} samples leaves "
                         f"{n_val} for validation; need at least 1 and fewer than all")
    # A random hold-out (from the model's generator): data sorted by class
    # would otherwise give a validation set of one class.
    order = model.rng.permutation(X.shape[0])
    val, train = order[:n_val], order[n_val:]
    return X[train], Y[train], X[val], Y[val]


def _has_batch_hooks(callback):
    """Does this callback do anything between batches? (If none does, a backend may run
    a whole epoch in one call.)"""
    cls = type(callback)
    return (cls.on_batch_begin is not Callback.on_batch_begin
            or cls.on_batch_end is not Callback.on_batch_end)


class _PenaltyRecorder(Callback):
    """Reads the penalty of the weights before each step (what that step's loss includes),
    so the history can show data loss and penalty apart on every training path."""

    def __init__(self, penalty, kernels, m, batch):
        self.penalty, self.kernels, self.m, self.batch = penalty, kernels, m, batch
        self.values = []

    def on_batch_begin(self, model, batch, logs=None):
        size = min(self.batch, self.m - batch * self.batch)
        self.values.append(self.penalty.value(self.kernels, size))


def _check_order(order, m):
    """``shuffle(epoch, m)``'s answer as an int64 permutation of ``range(m)``."""
    arr = np.asarray(order)
    if arr.shape != (m,) or arr.dtype.kind not in "iu":
        raise ValueError(f"shuffle: expected the callable to return a permutation of range({m}) "
                         f"(integers, shape ({m},)), got {getattr(arr, 'dtype', '?')} of shape {arr.shape}")
    arr = arr.astype(np.int64, copy=False)
    if not np.array_equal(np.sort(arr), np.arange(m)):
        raise ValueError(f"shuffle: expected the callable to return a permutation of range({m}), "
                         f"got indices repeated or outside it")
    return arr


def fit(model, X, y, epochs=100, batch_size=32, lr=None, optimizer=None, shuffle=True, verbose=0,
        l2=0.0, l1=0.0, validation_split=0.0, validation_data=None, early_stopping=None,
        callbacks=None, clip_value=None, clip_norm=None, lr_schedule=None, metrics="auto",
        penalty="mean", dropout_masks=None):
    """Train ``model`` on ``(X, y)``; returns a :class:`History`.

    Parameters
    ----------
    epochs : int
    batch_size : int or None — ``None`` = full batch, ``1`` = stochastic.
    lr : float — learning rate of the default optimizer ``SGD(lr)`` (default 0.01), or of
        an optimizer given by name; an optimizer object carries its own.
    optimizer : Optimizer or name — e.g. ``pyneuron.optimizers.Adam(lr=0.001)`` or ``"adam"``.
    shuffle : bool or callable — a new order every epoch, from the model's generator; or
        ``shuffle(epoch, n) -> order``, called at each epoch (``epoch`` from 1, ``n`` the
        training rows) for a permutation of ``range(n)`` (checked), e.g.
        ``lambda epoch, n: np.random.permutation(n)`` to follow a course's global generator.
    verbose : 0 silent, 1 a progress bar (tqdm), 2 one line per epoch.
    l2, l1 : float or mapping — penalty strengths: a float for every weight matrix (not
        biases), or ``{parameter name: strength}`` (``"layer0/W"``, ``"b"``, ``"layer1"``);
        see :mod:`pyneuron.penalties`.
    dropout_masks : callable or None — ``dropout_masks(layer_index, shape)`` returns the 0/1
        keep-mask (``shape = (batch, width)``) of hidden layer ``layer_index`` (0-based)
        each time a batch needs one, instead of drawing it from the model's generator, e.g.
        ``lambda i, shape: np.random.binomial(1, 0.8, size=shape)`` for a course that draws
        from NumPy's global generator. Checked: that shape, only 0 and 1. Kept units are
        scaled by ``1/(1 - rate)`` as usual; every backend uses the same masks.
    penalty : ``"mean"`` — ``λ₂/(2m)·ΣW² + λ₁/m·Σ|W|`` (m = batch size), gradient
        ``λ₂/m·W + λ₁/m·sign(W)``; or ``"sum"`` — ``λ₂·ΣW² + λ₁·Σ|W|``, gradient
        ``2λ₂·W + λ₁·sign(W)``; added to the batch's mean data loss either way.
    validation_split : fraction held out at random; or ``validation_data=(X_val, y_val)``.
    early_stopping : an :class:`EarlyStopping`.
    callbacks : list of :class:`Callback`.
    clip_value, clip_norm : clip each gradient element, or the global gradient norm.
    lr_schedule : a :class:`~pyneuron.schedules.Schedule`.
    metrics : ``"auto"`` (accuracy for classifiers) or ``()`` for none.

    The epoch's ``loss`` and ``accuracy`` are running means over its batches, each taken
    from the batch's forward pass before its update (as Keras reports them): no second
    pass over the training set. With a penalty, ``loss`` includes it, and the history
    also holds ``data_loss`` and ``penalty`` (the mean penalty of the weights before each
    step), so ``loss = data_loss + penalty``.

    Frozen parameters (``model.freeze``) are not updated; an optimizer's ``decay`` sets
    each step's learning rate (not combinable with ``lr_schedule``). ``val_loss`` and ``val_accuracy`` use the whole
    validation set after the epoch, in inference mode.

    Raises :class:`TrainingDivergedError` when a batch's loss becomes NaN or infinite, or
    when the epoch's last update leaves a parameter non-finite or the last batch's loss
    (recomputed with the new parameters) infinite; the model then keeps the weights from
    the start of that epoch.
    """
    epochs = check_positive_int(epochs, "epochs")
    Xc = model.check_X(X)
    Y = model.encode_y(y, Xc.shape[0])
    X_tr, Y_tr, X_val, Y_val = _split_validation(model, Xc, Y, validation_split, validation_data)
    m = X_tr.shape[0]
    batch = m if batch_size is None else check_positive_int(batch_size, "batch_size")
    batch = min(batch, m)
    if model.batch_norm and batch < 2:
        raise ValueError(f"batch_size: batch normalization needs at least 2 samples per batch "
                         f"(it normalizes with the batch's variance), got batches of {batch}")
    if optimizer is None:
        optimizer = opt.SGD(lr=0.01 if lr is None else lr)
    elif isinstance(optimizer, str):
        optimizer = opt.get(optimizer, lr)          # fit(optimizer="adam", lr=0.01)
    else:
        if lr is not None:
            raise ValueError("lr: give the learning rate to the optimizer "
                             f"(e.g. {type(optimizer).__name__}(lr={lr})), not to fit, when an optimizer is given")
        optimizer = opt.get(optimizer)
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose: expected 0, 1 or 2, got {verbose!r}")
    terms = Penalty(model, l1=l1, l2=l2, scaling=penalty)
    if not (isinstance(shuffle, (bool, np.bool_)) or callable(shuffle)):
        raise TypeError(f"shuffle: expected True, False or a callable (epoch, n) -> order, "
                        f"got {type(shuffle).__name__}")
    if dropout_masks is not None and not callable(dropout_masks):
        raise TypeError(f"dropout_masks: expected None or a callable (layer_index, shape) -> 0/1 "
                        f"mask, got {type(dropout_masks).__name__}")
    if getattr(optimizer, "decay", 0.0) and lr_schedule is not None:
        raise ValueError(f"lr_schedule: the optimizer already decays its learning rate "
                         f"(decay={optimizer.decay}); give one or the other")
    if clip_value is not None:
        clip_value = check_number(clip_value, "clip_value", 0.0, low_open=True)
    if clip_norm is not None:
        clip_norm = check_number(clip_norm, "clip_norm", 0.0, low_open=True)
    if lr_schedule is not None and not isinstance(lr_schedule, Schedule):
        raise TypeError(f"lr_schedule: expected a pyneuron.schedules.Schedule, got {type(lr_schedule).__name__}")
    track_accuracy = metrics == "auto" and model.is_classifier
    if metrics not in ("auto", (), [], None):
        raise ValueError(f"metrics: expected 'auto' or (), got {metrics!r}")
    callbacks = list(callbacks or [])
    if early_stopping is not None:
        callbacks.append(early_stopping)
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"callbacks: expected pyneuron Callback objects, got {type(cb).__name__}")
        if getattr(cb, "monitor", "").startswith("val_") and X_val is None:
            raise ValueError(f"{type(cb).__name__}: monitors {cb.monitor!r} but there is no validation "
                             "data; pass validation_split or validation_data, or monitor='loss'")

    for i, layer in enumerate(model.layers):    # for this fit only (a callable is not saved)
        layer.mask_source = MaskSource(dropout_masks, i) if dropout_masks is not None and layer.dropout else None
    try:
        return _fit(model, optimizer, X_tr, Y_tr, X_val, Y_val, epochs, m, batch, shuffle, verbose,
                    terms, clip_value, clip_norm, lr_schedule, track_accuracy, callbacks)
    finally:
        for layer in model.layers:
            layer.mask_source = None


def _fit(model, optimizer, X_tr, Y_tr, X_val, Y_val, epochs, m, batch, shuffle, verbose, terms,
         clip_value, clip_norm, lr_schedule, track_accuracy, callbacks):
    """The epochs of :func:`fit`, its arguments checked."""
    model.optimizer = optimizer
    model.history = history = History()
    model.stop_training = False
    uniform = terms.uniform()
    if uniform is not None:      # the classic penalty: the backend's own plan (fused on c)
        l1, l2 = uniform
        plan = model.kernels.train_plan(model, optimizer, l1=l1, l2=l2, clip_value=clip_value,
                                        clip_norm=clip_norm, track_accuracy=track_accuracy)
    else:                        # per-parameter or "sum": the per-operation path
        plan = TrainPlan(model.kernels, model, optimizer, clip_value=clip_value, clip_norm=clip_norm,
                         track_accuracy=track_accuracy, penalty=terms)
    batch_hooks = [cb for cb in callbacks if _has_batch_hooks(cb)]
    recorder = None
    if terms and not plan.records_penalties:
        recorder = _PenaltyRecorder(terms, model.kernels, m, batch)
        batch_hooks.insert(0, recorder)
    lr_for_step = None
    if lr_schedule is not None and lr_schedule.per == "step":
        def lr_for_step(t):
            return lr_schedule(optimizer.initial_lr, t)
    elif getattr(optimizer, "decay", 0.0):      # an Optimizer subclass may not set it
        lr_for_step = optimizer.lr_at
    progress = None
    if verbose == 1:
        from tqdm.auto import tqdm
        progress = tqdm(total=epochs, desc="training", unit="epoch", file=sys.stderr)

    for cb in callbacks:
        cb.on_train_begin(model)
    for epoch in range(1, epochs + 1):
        if lr_schedule is not None and lr_schedule.per == "epoch":
            optimizer.lr = lr_schedule(optimizer.initial_lr, epoch - 1)
        for cb in callbacks:
            cb.on_epoch_begin(model, epoch)
        last_good = snapshot(model)
        if callable(shuffle):
            order = _check_order(shuffle(epoch, m), m)
        else:
            order = model.rng.permutation(m) if shuffle else None
        if recorder is not None:
            recorder.values = []
        run = plan.epoch(X_tr, Y_tr, order, batch, lr_for_step, batch_hooks)
        if run.diverged_batch is not None or not math.isfinite(run.after_loss):
            restore(model, last_good)
            if progress is not None:
                progress.close()
            if run.diverged_batch is not None:
                where, b = f"the loss became {run.losses[-1]} at epoch {epoch}, batch {run.diverged_batch}", run.diverged_batch
            else:
                b = len(run.losses)
                where = (f"the last update of epoch {epoch} (batch {b}) made the loss "
                         f"{run.after_loss} (or a parameter non-finite)")
            raise TrainingDivergedError(
                f"training diverged: {where}. "
                f"The model keeps the weights from the start of epoch {epoch}. "
                f"Try a smaller learning rate (it was {optimizer.lr}), scaled inputs, or clip_norm.",
                epoch, b, history)
        logs = {"loss": run.mean_loss}
        if terms:
            pen = (recorder.values if recorder is not None else run.penalties)[:len(run.losses)]
            logs["penalty"] = sum(pen) / len(pen) if pen else math.nan
            logs["data_loss"] = logs["loss"] - logs["penalty"]
        if track_accuracy:
            logs["accuracy"] = run.accuracy
        if X_val is not None:
            A_val = model._forward(X_val)
            logs["val_loss"] = model._data_loss(A_val, Y_val)
            if track_accuracy:
                logs["val_accuracy"] = output_accuracy(A_val, Y_val, model.loss_name)
        logs["lr"] = optimizer.lr
        history.append(epoch, logs)
        for cb in callbacks:
            cb.on_epoch_end(model, epoch, logs)
        shown = {k: f"{v:.4f}" for k, v in logs.items() if k != "lr"}
        if progress is not None:
            progress.set_postfix(shown, refresh=False)
            progress.update(1)
        elif verbose == 2:
            print(f"epoch {epoch}/{epochs} - " + " - ".join(f"{k}: {v}" for k, v in shown.items()), flush=True)
        if model.stop_training:
            history.stopped_epoch = epoch
            break
    for layer in model.layers:  # no activations of a whole data set stay alive after fit
        layer.cache = {}
    if progress is not None:
        progress.close()
    for cb in callbacks:
        cb.on_train_end(model)
    return history

