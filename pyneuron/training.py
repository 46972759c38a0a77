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

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Union

from . import optimizers as opt
from .callbacks import (Callback, EarlyStopping, Hooks, ReduceLROnPlateau, has_batch_hooks,
                        restore, snapshot)
from .metrics import output_accuracy
from .network import MaskSource
from .penalties import Penalty
from .sample_weights import check_sample_weight, training_weights
from .schedules import Schedule
from .validation import check_number, check_positive_int

if TYPE_CHECKING:
    from .network import MLP

__all__ = ["fit", "History", "TrainingDivergedError", "Callback", "EarlyStopping", "snapshot", "restore"]

#: What ``l1`` / ``l2`` accept: one strength, or strengths by parameter name.
Strength = Union[float, Mapping[str, float]]


class TrainingDivergedError(FloatingPointError):
    """The loss became NaN or infinite. ``epoch`` (1-based) and ``batch`` say where;
    the model has been put back to the last weights whose epoch ended finite."""

    def __init__(self, message: str, epoch: int, batch: int, history: History) -> None:
        super().__init__(message)
        self.epoch, self.batch, self.history = epoch, batch, history


class History:
    """What happened during ``fit``: ``history["loss"]``, ``history["val_loss"]``,
    ``history["accuracy"]`` … one value per epoch; ``epoch`` lists the epochs (1-based)."""

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.stopped_epoch: int | None = None
        self.best_epoch: int | None = None
        #: the epochs before this fit call (its first epoch is ``initial_epoch + 1``)
        self.initial_epoch = 0

    def append(self, epoch: int, logs: Mapping[str, float]) -> None:
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __contains__(self, key: object) -> bool:
        return key in self.history

    def __repr__(self) -> str:
        last = {k: round(v[-1], 4) for k, v in self.history.items() if v}
        return f"History(epochs={len(self.epoch)}, last={last})"

    def _repr_html_(self) -> str:
        """Jupyter's display: the curves and the last values (see :mod:`pyneuron.display`)."""
        from .display import history_html
        html: str = history_html(self)
        return html


def _split_validation(model: MLP, X: np.ndarray, Y: np.ndarray, w: np.ndarray | None, validation_split: float,
                      validation_data: Sequence[Any] | None) -> tuple[Any, ...]:
    """``(X_tr, Y_tr, w_tr, X_val, Y_val, w_val)``: the held-out part of the data (and of
    the weights ``w``, when given) or ``validation_data`` ``(X, y[, sample_weight])``."""
    if validation_data is not None:
        if validation_split:
            raise ValueError("validation_split: give either validation_split or validation_data, not both")
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError(f"validation_data: expected a tuple (X_val, y_val) or (X_val, y_val, "
                             f"sample_weight_val), got {type(validation_data).__name__}"
                             f"{' of length %d' % len(validation_data) if isinstance(validation_data, (tuple, list)) else ''}")
        Xv = model.check_X(validation_data[0], "validation_data[0]")
        Yv = model.encode_y(validation_data[1], Xv.shape[0], "validation_data[1]")
        wv = (check_sample_weight(validation_data[2], Xv.shape[0], "validation_data[2]")
              if len(validation_data) == 3 and validation_data[2] is not None else None)
        return X, Y, w, Xv, Yv, wv
    if not validation_split:
        return X, Y, w, None, None, None
    check_number(validation_split, "validation_split", 0.0, 1.0, low_open=True, high_open=True)
    n_val = int(round(X.shape[0] * validation_split))
    if n_val < 1 or n_val >= X.shape[0]:
        raise ValueError(f"validation_split: {validation_split} of {X.shape[0]} samples leaves "
                         f"{n_val} for validation; need at least 1 and fewer than all")
    # A random hold-out (from the model's generator): data sorted by class
    # would otherwise give a validation set of one class.
    order = model.rng.permutation(X.shape[0])
    val, train = order[:n_val], order[n_val:]
    if w is None:
        return X[train], Y[train], None, X[val], Y[val], None
    if not np.any(w[train] > 0):
        raise ValueError("sample_weight: every row left for training after validation_split weighs 0")
    return X[train], Y[train], w[train], X[val], Y[val], (w[val] if np.any(w[val] > 0) else None)


class _PenaltyRecorder(Callback):
    """Reads the penalty of the weights before each step (what that step's loss includes),
    so the history can show data loss and penalty apart on every training path."""

    def __init__(self, penalty: Penalty, kernels: Any, m: int, batch: int) -> None:
        self.penalty, self.kernels, self.m, self.batch = penalty, kernels, m, batch
        self.values: list[float] = []

    def on_batch_begin(self, batch: int, logs: dict[str, float] | None = None) -> None:
        size = min(self.batch, self.m - batch * self.batch)
        self.values.append(self.penalty.value(self.kernels, size))


def _check_order(order: Any, m: int) -> np.ndarray:
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


def _optimizer(model: MLP, optimizer: opt.Optimizer | str | None, lr: float | None) -> opt.Optimizer:
    """The optimizer of this fit: the one given (an object as is, a name new), else the
    model's own (its state kept; ``lr`` sets its learning rate), else ``SGD(lr or 0.01)``."""
    if optimizer is None:
        if model.optimizer is None:
            return opt.SGD(lr=0.01 if lr is None else lr)
        if lr is not None:
            lr = check_number(lr, "lr", 0.0, low_open=True)
            model.optimizer.lr = model.optimizer.initial_lr = lr
        return model.optimizer
    if isinstance(optimizer, str):
        return opt.get(optimizer, lr)          # fit(optimizer="adam", lr=0.01)
    if lr is not None:
        raise ValueError("lr: give the learning rate to the optimizer "
                         f"(e.g. {type(optimizer).__name__}(lr={lr})), not to fit, when an optimizer is given")
    return opt.get(optimizer)


def fit(model: MLP, X: Any, y: Any, epochs: int = 100, batch_size: int | None = 32,
        lr: float | None = None, optimizer: opt.Optimizer | str | None = None,
        shuffle: bool | Callable[[int, int], Any] = True, verbose: Literal[0, 1, 2] = 0,
        l2: Strength = 0.0, l1: Strength = 0.0, validation_split: float = 0.0,
        validation_data: Sequence[Any] | None = None, early_stopping: EarlyStopping | None = None,
        callbacks: Sequence[Callback] | None = None, clip_value: float | None = None,
        clip_norm: float | None = None, lr_schedule: Schedule | None = None,
        metrics: Literal["auto"] | Sequence[str] | None = "auto", penalty: Literal["mean", "sum"] = "mean",
        dropout_masks: Callable[[int, tuple[int, int]], Any] | None = None,
        sample_weight: Any = None, class_weight: Mapping[int, float] | Literal["balanced"] | None = None,
        initial_epoch: int | None = None) -> History:
    """Train ``model`` on ``(X, y)``; returns a :class:`History`.

    Parameters
    ----------
    epochs : int — how many epochs this call trains (unlike Keras, where ``epochs`` is
        the number of the last one: here ``fit(epochs=5, initial_epoch=5)`` runs epochs 6-10).
    batch_size : int or None — ``None`` = full batch, ``1`` = stochastic.
    lr : float — the learning rate. With no ``optimizer``: of the model's optimizer from
        an earlier ``fit`` or ``pn.load`` (its state kept), else of a new ``SGD`` (default
        0.01); with an optimizer name, of that new optimizer. An optimizer object carries its own.
    optimizer : Optimizer or name or None — e.g. ``pyneuron.optimizers.Adam(lr=0.001)`` or
        ``"adam"`` (a name makes a new optimizer, with fresh state). ``None``: **a second
        fit continues with the model's optimizer** (``model.optimizer``: its moments,
        velocities and step count, so per-step decay and schedules go on), as Keras does.
    initial_epoch : int or None — how many epochs came before this call: the epochs are
        numbered ``initial_epoch + 1 ...`` in the history, callbacks and per-epoch
        ``lr_schedule``. ``None``: ``model.epochs_trained`` (0 for a new model), so a second
        fit continues the count and the schedule.
    sample_weight : array (m,) or None — a weight >= 0 per row of ``X`` (finite, not all
        0): each batch's data loss is the weighted mean ``Σ w ℓ / Σ w`` (scikit-learn's
        normalization; see :mod:`pyneuron.sample_weights`), and so is ``history["loss"]``.
        With ``validation_split``, the held-out rows' weights weight ``val_loss``;
        ``validation_data=(X_val, y_val, w_val)`` gives them directly.
    class_weight : {class: weight} or "balanced" or None — classifiers with one class per
        row: each row's weight is its class's (times its ``sample_weight``); "balanced" is
        ``n_samples / (n_classes · count(class))`` as scikit-learn computes it.
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
        each time a batch needs one, instead of drawing it from the model's generator.
        Checked: that shape, only 0 and 1. Kept units are scaled by ``1/(1 - rate)``.
    penalty : ``"mean"`` — ``λ₂/(2m)·ΣW² + λ₁/m·Σ|W|`` (m = batch size, or the batch's
        weight sum with ``sample_weight``), gradient ``λ₂/m·W + λ₁/m·sign(W)``; or ``"sum"``
        — ``λ₂·ΣW² + λ₁·Σ|W|``, gradient ``2λ₂·W + λ₁·sign(W)``; added to the batch's data loss.
    validation_split : fraction held out at random; or ``validation_data=(X_val, y_val)``.
    early_stopping : an :class:`EarlyStopping`.
    callbacks : list of :class:`~pyneuron.callbacks.Callback` (hooks ``(epoch, logs)`` as
        Keras's; see :mod:`pyneuron.callbacks`).
    clip_value, clip_norm : clip each gradient element, or the global gradient norm.
    lr_schedule : a :class:`~pyneuron.schedules.Schedule`.
    metrics : ``"auto"`` (accuracy for classifiers) or ``()`` for none.

    The epoch's ``loss`` and ``accuracy`` are running means over its batches, each taken
    from the batch's forward pass before its update (as Keras reports them): no second
    pass over the training set. With a penalty, ``loss`` includes it, and the history
    also holds ``data_loss`` and ``penalty`` (the mean penalty of the weights before each
    step), so ``loss = data_loss + penalty``. The returned history holds this call's
    epochs (``model.history`` is the last call's, as in Keras).

    Frozen parameters (``model.freeze``) are not updated; an optimizer's ``decay`` sets
    each step's learning rate (not combinable with ``lr_schedule``). ``val_loss`` and
    ``val_accuracy`` use the whole validation set after the epoch, in inference mode.

    Raises :class:`TrainingDivergedError` when a batch's loss becomes NaN or infinite, or
    when the epoch's last update leaves a parameter non-finite or the last batch's loss
    (recomputed with the new parameters) infinite; the model then keeps the weights from
    the start of that epoch (a :class:`~pyneuron.callbacks.TerminateOnNaN` turns this into
    a quiet stop).
    """
    epochs = check_positive_int(epochs, "epochs")
    if initial_epoch is None:
        initial_epoch = model.epochs_trained
    initial_epoch = check_positive_int(initial_epoch, "initial_epoch", minimum=0)
    Xc = model.check_X(X)
    Y = model.encode_y(y, Xc.shape[0])
    w = training_weights(model, Y, sample_weight, class_weight)
    X_tr, Y_tr, w_tr, X_val, Y_val, w_val = _split_validation(model, Xc, Y, w, validation_split, validation_data)
    m = X_tr.shape[0]
    batch = m if batch_size is None else check_positive_int(batch_size, "batch_size")
    batch = min(batch, m)
    if model.batch_norm and batch < 2:
        raise ValueError(f"batch_size: batch normalization needs at least 2 samples per batch "
                         f"(it normalizes with the batch's variance), got batches of {batch}")
    optimizer = _optimizer(model, optimizer, lr)
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose: expected 0, 1 or 2, got {verbose!r}")
    terms = Penalty(model, l1=l1, l2=l2, scaling=penalty)
    if not (isinstance(shuffle, (bool, np.bool_)) or callable(shuffle)):
        raise TypeError(f"shuffle: expected True, False or a callable (epoch, n) -> order, "
                        f"got {type(shuffle).__name__}")
    if dropout_masks is not None and not callable(dropout_masks):
        raise TypeError(f"dropout_masks: expected None or a callable (layer_index, shape) -> 0/1 "
                        f"mask, got {type(dropout_masks).__name__}")
    decay = getattr(optimizer, "decay", 0.0)    # an Optimizer subclass may not set it
    if decay and lr_schedule is not None:
        raise ValueError(f"lr_schedule: the optimizer already decays its learning rate "
                         f"(decay={decay}); give one or the other")
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
        monitor = getattr(cb, "monitor", "")
        if monitor.startswith("val_") and X_val is None:
            raise ValueError(f"{type(cb).__name__}: monitors {monitor!r} but there is no validation "
                             "data; pass validation_split or validation_data, or monitor='loss'")
        if isinstance(cb, ReduceLROnPlateau) and (lr_schedule is not None or decay):
            raise ValueError("callbacks: ReduceLROnPlateau sets the learning rate, and so does "
                             f"{'lr_schedule' if lr_schedule is not None else 'the optimizer decay'}; give one")

    for i, layer in enumerate(model.layers):    # for this fit only (a callable is not saved)
        layer.mask_source = MaskSource(dropout_masks, i) if dropout_masks is not None and layer.dropout else None
    try:
        return _fit(model, optimizer, (X_tr, Y_tr, w_tr), (X_val, Y_val, w_val), initial_epoch, epochs,
                    batch, shuffle, verbose, terms, clip_value, clip_norm, lr_schedule, track_accuracy, callbacks)
    finally:
        for layer in model.layers:
            layer.mask_source = None


def _fit(model: MLP, optimizer: opt.Optimizer, train: tuple[Any, ...], validation: tuple[Any, ...],
         initial_epoch: int, epochs: int, batch: int, shuffle: bool | Callable[[int, int], Any],
         verbose: int, terms: Penalty, clip_value: float | None, clip_norm: float | None,
         lr_schedule: Schedule | None, track_accuracy: bool, callbacks: list[Callback]) -> History:
    """The epochs of :func:`fit`, its arguments checked."""
    X_tr, Y_tr, w_tr = train
    X_val, Y_val, w_val = validation
    m = X_tr.shape[0]
    model.optimizer = optimizer
    model.history = history = History()
    history.initial_epoch = initial_epoch
    model.stop_training = False
    uniform = terms.uniform()
    l1, l2 = uniform if uniform is not None else (0.0, 0.0)
    plan = model.kernels.train_plan(model, optimizer, l1=l1, l2=l2, clip_value=clip_value, clip_norm=clip_norm,
                                    track_accuracy=track_accuracy,
                                    penalty=terms, sample_weight=w_tr)
    hooks = [Hooks(cb, model) for cb in callbacks]
    batch_hooks = [h for h in hooks if has_batch_hooks(h.callback)]
    recorder = None
    if terms and not plan.records_penalties:
        recorder = _PenaltyRecorder(terms, model.kernels, m, batch)
        batch_hooks.append(Hooks(recorder, model))   # last: it reads the weights the step will see
    lr_for_step = None
    if lr_schedule is not None and lr_schedule.per == "step":
        def lr_for_step(t: int) -> float:
            return lr_schedule(optimizer.initial_lr, t)
    elif getattr(optimizer, "decay", 0.0):      # an Optimizer subclass may not set it
        lr_for_step = optimizer.lr_at
    last_epoch = initial_epoch + epochs
    progress = None
    if verbose == 1:
        from tqdm.auto import tqdm  # type: ignore[import-untyped,unused-ignore]
        progress = tqdm(total=epochs, desc="training", unit="epoch", file=sys.stderr)

    # Decided once, not at every epoch: a small net's epoch is ~50 µs in all, so the
    # Python around the plan's call is kept to what changes from epoch to epoch.
    lr_per_epoch = lr_schedule is not None and lr_schedule.per == "epoch"
    own_order, penalized = callable(shuffle), bool(terms)
    rng = model.rng
    # With nothing to run between epochs -- no callbacks, validation, printing, learning
    # rates set from Python, own order, or dropout masks drawn between the orders -- the
    # plan is given the epochs at once (the C plan runs them in one call): see _ahead.
    ahead = None
    if not (hooks or recorder or X_val is not None or verbose or lr_per_epoch or own_order
            or lr_for_step is not None or any(layer.dropout for layer in model.layers)):
        ahead = _ahead(plan, rng, X_tr, Y_tr, batch, shuffle, epochs)
    for h in hooks:
        h.call("on_train_begin", model)
    for epoch in range(initial_epoch + 1, last_epoch + 1):
        if ahead is not None:
            run = next(ahead)
        else:
            if lr_per_epoch:
                optimizer.lr = lr_schedule(optimizer.initial_lr, epoch - 1)
            for h in hooks:
                h.call("on_epoch_begin", model, epoch)
            plan.keep_restore_point()       # the weights to go back to if this epoch diverges
            order: np.ndarray | None
            if own_order:
                order = _check_order(shuffle(epoch, m), m)
            else:
                order = rng.permutation(m) if shuffle else None
            if recorder is not None:
                recorder.values = []
            run = plan.epoch(X_tr, Y_tr, order, batch, lr_for_step, batch_hooks)
        if run.diverged_batch is not None or not math.isfinite(run.after_loss):
            plan.go_back()
            error = _diverged(run, epoch, optimizer, history)
            if not any(h.callback.on_train_diverged(error) for h in hooks):
                if progress is not None:
                    progress.close()
                raise error
            history.stopped_epoch = epoch
            break
        logs = {"loss": run.mean_loss}
        if penalized:
            pen = (recorder.values if recorder is not None else run.penalties)[:len(run.losses)]
            logs["penalty"] = sum(pen) / len(pen) if pen else math.nan
            logs["data_loss"] = logs["loss"] - logs["penalty"]
        if track_accuracy:
            logs["accuracy"] = run.accuracy
        if X_val is not None:
            A_val, Z_val = model._outputs(X_val, "val_loss", check=False)    # in chunks
            logs["val_loss"] = model._data_loss(A_val, Y_val, Z_val, weights=w_val)
            if track_accuracy:
                logs["val_accuracy"] = output_accuracy(A_val, Y_val, model.loss_name)
        logs["lr"] = optimizer.lr
        history.append(epoch, logs)
        for h in hooks:
            h.call("on_epoch_end", model, epoch, logs=logs)
        if progress is not None:
            progress.set_postfix(_shown(logs), refresh=False)
            progress.update(1)
        elif verbose == 2:
            shown = _shown(logs)
            print(f"epoch {epoch}/{last_epoch} - " + " - ".join(f"{k}: {v}" for k, v in shown.items()), flush=True)
        if model.stop_training:
            history.stopped_epoch = epoch
            break
    for layer in model.layers:  # no activations of a whole data set stay alive after fit
        layer.cache = {}
    if progress is not None:
        progress.close()
    for h in hooks:
        h.call("on_train_end", model)
    return history


#: At most this many row indices (8 MiB) of epoch orders are drawn ahead at once.
AHEAD_INDICES = 2**20


def _ahead(plan: Any, rng: np.random.Generator, X: np.ndarray, Y: np.ndarray, batch: int,
           shuffle: bool, epochs: int) -> Iterator[Any]:
    """The epochs' results, from :meth:`~pyneuron.training_plan.TrainPlan.epochs` calls
    of as many epochs as ``AHEAD_INDICES`` row indices allow.

    Each call's orders are drawn first: ``rng.permuted`` on rows of ``arange(m)`` draws
    exactly the numbers of ``rng.permutation(m)`` called once per row (tested), which the
    loop in ``fit`` draws one epoch at a time. If an epoch diverges, the generator is put
    back and moved on by the orders of the epochs that ran, so it ends as it would have."""
    m = X.shape[0]
    chunk = max(1, AHEAD_INDICES // m)
    for start in range(0, epochs, chunk):
        count = min(chunk, epochs - start)
        orders = None
        if shuffle:
            state = rng.bit_generator.state
            orders = rng.permuted(np.broadcast_to(np.arange(m), (count, m)), axis=1)
        runs = plan.epochs(X, Y, orders, batch, count)
        if shuffle and len(runs) < count:
            rng.bit_generator.state = state
            rng.permuted(np.broadcast_to(np.arange(m), (len(runs), m)), axis=1)
        yield from runs


def _shown(logs: dict[str, float]) -> dict[str, str]:
    """An epoch's logs as the progress bar and ``verbose=2`` print them."""
    return {k: f"{v:.4f}" for k, v in logs.items() if k != "lr"}


def _diverged(run: Any, epoch: int, optimizer: opt.Optimizer, history: History) -> TrainingDivergedError:
    """The :class:`TrainingDivergedError` for an epoch that stopped at a non-finite loss."""
    if run.diverged_batch is not None:
        b = run.diverged_batch
        where = f"the loss became {run.losses[-1]} at epoch {epoch}, batch {b}"
    else:
        b = len(run.losses)
        where = (f"the last update of epoch {epoch} (batch {b}) made the loss "
                 f"{run.after_loss} (or a parameter non-finite)")
    return TrainingDivergedError(
        f"training diverged: {where}. "
        f"The model keeps the weights from the start of epoch {epoch}. "
        f"Try a smaller learning rate (it was {optimizer.lr}), scaled inputs, or clip_norm.",
        epoch, b, history)
