"""Callbacks: code ``fit`` runs at the start and end of training, of each epoch and batch.

The hooks take Keras's arguments: ``on_epoch_end(epoch, logs)``, ``on_batch_end(batch,
logs)``, ``on_train_begin(logs)`` …, and the model being trained is ``self.model``
(set by ``fit`` through :meth:`Callback.set_model` before ``on_train_begin``). ``epoch``
is 1-based and counts on across ``fit`` calls (see ``fit``'s ``initial_epoch``);
``batch`` is 0-based within its epoch. ``logs`` of an epoch holds that epoch's history
entries (``loss``, ``accuracy``, ``val_loss`` …, ``lr``); of a batch, its ``loss``.
Setting ``self.model.stop_training = True`` stops after the current epoch.

**The earlier hooks keep working** (a documented adapter): a hook written with the
model as its first argument -- ``on_epoch_end(self, model, epoch, logs=None)``,
``on_train_begin(self, model, logs=None)`` -- is recognized by its number of positional
parameters (one more than Keras's) and called that way. Write new callbacks in Keras's
form.

Built in: :class:`EarlyStopping`, :class:`ModelCheckpoint`, :class:`ReduceLROnPlateau`,
:class:`CSVLogger`, :class:`TerminateOnNaN`.
"""
from __future__ import annotations

import csv
import inspect
import math
import os
import warnings
from collections.abc import Callable
from typing import Any, Dict, Literal, Optional, TextIO

import numpy as np

from .validation import check_bool, check_number, check_positive_int

#: What a hook's ``logs`` is: the logged values by name, or None.
Logs = Optional[Dict[str, float]]

#: Each hook's positional parameters in Keras's form (after ``self``).
HOOKS = {"on_train_begin": 1, "on_train_end": 1, "on_epoch_begin": 2, "on_epoch_end": 2,
         "on_batch_begin": 2, "on_batch_end": 2}


class Callback:
    """Base class of the hooks ``fit`` calls (see the module docstring). Every hook does
    nothing here; override the ones you need. ``self.model`` is the model in training."""

    model: Any = None

    def set_model(self, model: Any) -> None:
        self.model = model

    def on_train_begin(self, logs: Logs = None) -> None: pass
    def on_train_end(self, logs: Logs = None) -> None: pass
    def on_epoch_begin(self, epoch: int, logs: Logs = None) -> None: pass
    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None: pass
    def on_batch_begin(self, batch: int, logs: Logs = None) -> None: pass
    def on_batch_end(self, batch: int, logs: Logs = None) -> None: pass

    def on_train_diverged(self, error: Exception) -> bool:
        """Called when ``fit`` is about to raise :class:`~pyneuron.training.TrainingDivergedError`
        (the model already holds the weights from before the diverged epoch). Return True
        to end training quietly instead (``fit`` then returns the history so far)."""
        return False


def _takes_model(method: Callable[..., Any], keras_count: int) -> bool:
    """Does this hook take the model first (the earlier form)?"""
    try:
        params = list(inspect.signature(method).parameters.values())
    except (TypeError, ValueError):
        return False
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) > keras_count


def has_batch_hooks(callback: Callback) -> bool:
    """Does this callback do anything between batches? (If none does, a backend may run
    a whole epoch in one call.)"""
    cls = type(callback)
    return (cls.on_batch_begin is not Callback.on_batch_begin
            or cls.on_batch_end is not Callback.on_batch_end)


class Hooks:
    """Calls one callback's hooks in the form it was written in. ``model`` is passed to the
    earlier form; the training plans call :meth:`on_batch_begin` / :meth:`on_batch_end`
    with the model first, as before."""

    def __init__(self, callback: Callback, model: Any) -> None:
        self.callback = callback
        callback.set_model(model)
        self._old = {name: _takes_model(getattr(callback, name), n) for name, n in HOOKS.items()}

    def call(self, name: str, model: Any, *args: int, logs: Logs = None) -> Any:
        hook = getattr(self.callback, name)
        if self._old[name]:
            return hook(model, *args, logs)
        return hook(*args, logs)

    def on_batch_begin(self, model: Any, batch: int, logs: Logs = None) -> None:
        self.call("on_batch_begin", model, batch, logs=logs)

    def on_batch_end(self, model: Any, batch: int, logs: Logs = None) -> None:
        self.call("on_batch_end", model, batch, logs=logs)


def snapshot(model: Any, into: list[np.ndarray] | None = None) -> list[np.ndarray]:
    """Copies of every array that defines the model's predictions.

    ``into``: an earlier snapshot of the same model to overwrite (no new arrays when
    every shape and dtype still match, as between the epochs of one ``fit``)."""
    sources: list[np.ndarray] = []
    for layer in model.layers:
        sources += layer.parameters()
        if layer.batch_norm:
            sources += [layer.running_mean, layer.running_var]
    if into is not None and len(into) == len(sources) and all(
            a.shape == s.shape and a.dtype == s.dtype for a, s in zip(into, sources)):
        for a, s in zip(into, sources):
            np.copyto(a, s)
        return into
    return [s.copy() for s in sources]


def restore(model: Any, arrays: list[np.ndarray]) -> None:
    """Put back the arrays :func:`snapshot` took."""
    it = iter(arrays)
    for layer in model.layers:
        targets = layer.parameters() + ([layer.running_mean, layer.running_var] if layer.batch_norm else [])
        for target in targets:
            target[...] = next(it)


class _Monitor(Callback):
    """A callback watching one logged value for improvement (``mode`` "min" or "max")."""

    def _set_monitor(self, monitor: str, min_delta: float, mode: str) -> None:
        if not isinstance(monitor, str):
            raise TypeError(f"monitor: expected the name of a logged value such as 'val_loss', got {monitor!r}")
        self.monitor = monitor
        self.min_delta = check_number(min_delta, "min_delta", 0.0)
        if mode == "auto":
            mode = "max" if "acc" in monitor or monitor.endswith(("f1", "r2")) else "min"
        if mode not in ("min", "max"):
            raise ValueError(f"mode: expected 'auto', 'min' or 'max', got {mode!r}")
        self.mode = mode

    def _value(self, logs: Logs) -> float:
        if self.monitor not in (logs or {}):
            raise ValueError(f"{type(self).__name__}: monitor {self.monitor!r} is not recorded; "
                             f"available: {sorted(logs or {})}")
        return (logs or {})[self.monitor]

    def _improved(self, value: float, best: float | None) -> bool:
        """Better than ``best`` by more than ``min_delta`` (anything beats None; NaN never wins)."""
        if best is None:
            return not math.isnan(value)
        if self.mode == "min":
            return value < best - self.min_delta
        return value > best + self.min_delta


class EarlyStopping(_Monitor):
    """Stop once ``monitor`` has gone ``patience`` epochs in a row without improving
    by more than ``min_delta`` (as Keras and the tutorials count); with ``restore_best_weights`` the model ends with the
    weights of its best epoch (``history.best_epoch``)."""

    def __init__(self, monitor: str = "val_loss", patience: int = 10, min_delta: float = 0.0,
                 restore_best_weights: bool = True, mode: Literal["auto", "min", "max"] = "auto") -> None:
        self._set_monitor(monitor, min_delta, mode)
        self.patience = check_positive_int(patience, "patience", minimum=1)
        self.restore_best_weights = check_bool(restore_best_weights, "restore_best_weights")

    def __repr__(self) -> str:
        return (f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience}, "
                f"min_delta={self.min_delta}, restore_best_weights={self.restore_best_weights})")

    def on_train_begin(self, logs: Logs = None) -> None:
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.wait = 0
        self.best_weights: list[np.ndarray] | None = None

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        value = self._value(logs)
        if self._improved(value, self.best):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = snapshot(self.model)
        else:
            self.wait += 1
            if self.wait >= self.patience:  # `patience` epochs in a row without improvement
                self.model.stop_training = True

    def on_train_end(self, logs: Logs = None) -> None:
        if self.model.history is not None:
            self.model.history.best_epoch = self.best_epoch
        if self.restore_best_weights and self.best_weights is not None:
            restore(self.model, self.best_weights)


class ModelCheckpoint(_Monitor):
    """Save the model to ``filepath`` (with :func:`pyneuron.io.save`: atomic, so a crash
    mid-write never leaves a broken file) after each epoch; with ``save_best_only`` (the
    default) only when ``monitor`` improved on the best value seen in this ``fit``.

    ``filepath`` may hold ``{epoch}`` and any logged name (``"ckpt-{epoch:03d}-{val_loss:.3f}"``),
    filled in per epoch. ``saved`` lists the paths written; ``best`` the best value."""

    def __init__(self, filepath: str | os.PathLike[str], monitor: str = "val_loss", save_best_only: bool = True,
                 mode: Literal["auto", "min", "max"] = "auto", min_delta: float = 0.0) -> None:
        if not isinstance(filepath, (str, os.PathLike)):
            raise TypeError(f"filepath: expected a path (str or os.PathLike), got {type(filepath).__name__}")
        self.filepath = os.fspath(filepath)
        self._set_monitor(monitor, min_delta, mode)
        self.save_best_only = check_bool(save_best_only, "save_best_only")
        self.best: float | None = None
        self.saved: list[str] = []

    def on_train_begin(self, logs: Logs = None) -> None:
        self.best = None

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        from .io import save
        if self.save_best_only:
            value = self._value(logs)
            if not self._improved(value, self.best):
                return
            self.best = value
        try:
            path = self.filepath.format(epoch=epoch, **(logs or {}))
        except (KeyError, IndexError, ValueError) as err:
            raise ValueError(f"filepath: {self.filepath!r} names {err} which is neither 'epoch' nor "
                             f"a logged value ({', '.join(sorted(logs or {}))})") from None
        self.saved.append(save(self.model, path))


class ReduceLROnPlateau(_Monitor):
    """Multiply the optimizer's learning rate by ``factor`` once ``monitor`` has gone
    ``patience`` epochs without improving by more than ``min_delta`` (Keras's and PyTorch's
    ``ReduceLROnPlateau``); the ``cooldown`` epochs after a reduction do not count (PyTorch's
    meaning: with Keras's counter, ``cooldown=1`` skips none), and the rate never goes below
    ``min_lr``. Sets both ``lr`` and ``initial_lr`` of ``model.optimizer``; not with an
    ``lr_schedule`` or an optimizer's ``decay`` (which set the rate themselves; ``fit``
    refuses the pair)."""

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10,
                 min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0,
                 mode: Literal["auto", "min", "max"] = "auto") -> None:
        self._set_monitor(monitor, min_delta, mode)
        self.factor = check_number(factor, "factor", 0.0, 1.0, low_open=True, high_open=True)
        self.patience = check_positive_int(patience, "patience", minimum=1)
        self.cooldown = check_positive_int(cooldown, "cooldown", minimum=0)
        self.min_lr = check_number(min_lr, "min_lr", 0.0)
        self.on_train_begin()

    def on_train_begin(self, logs: Logs = None) -> None:
        self.best: float | None = None
        self.wait, self.cooling = 0, 0

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        value = self._value(logs)
        if self._improved(value, self.best):
            self.best, self.wait = value, 0
        elif self.cooling == 0:
            self.wait += 1
        if self.cooling > 0:
            self.cooling -= 1
        optimizer = self.model.optimizer
        if self.wait >= self.patience and optimizer.lr > self.min_lr:
            optimizer.lr = optimizer.initial_lr = max(optimizer.lr * self.factor, self.min_lr)
            self.cooling, self.wait = self.cooldown, 0


class CSVLogger(Callback):
    """Write one row per epoch to ``filename`` (the :mod:`csv` module): ``epoch`` then the
    logged values, with a header row. ``append=True`` adds to an existing file (no second
    header if it already has lines), so a training continued by a second ``fit`` goes on
    in the same table."""

    def __init__(self, filename: str | os.PathLike[str], separator: str = ",", append: bool = False) -> None:
        if not isinstance(filename, (str, os.PathLike)):
            raise TypeError(f"filename: expected a path (str or os.PathLike), got {type(filename).__name__}")
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(f"separator: expected one character, got {separator!r}")
        self.filename = os.fspath(filename)
        self.separator = separator
        self.append = check_bool(append, "append")
        self._file: TextIO | None = None
        self._writer: Any = None
        self._keys: list[str] | None = None
        self._header_written: bool        # set by on_train_begin

    def on_train_begin(self, logs: Logs = None) -> None:
        has_lines = self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        self._file = open(self.filename, "a" if self.append else "w", newline="", encoding="utf-8")
        self._writer, self._keys, self._header_written = None, None, has_lines

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        values: dict[str, float] = logs or {}
        if self._file is None:
            raise RuntimeError("CSVLogger: on_epoch_end before on_train_begin (fit calls them in order)")
        if self._keys is None:
            self._keys = list(values)
            self._writer = csv.writer(self._file, delimiter=self.separator)
            if not self._header_written:
                self._writer.writerow(["epoch"] + self._keys)
        row: list[object] = [epoch]
        row += [values.get(k, "") for k in self._keys]
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs: Logs = None) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class TerminateOnNaN(Callback):
    """End training quietly when the loss becomes NaN or infinite, instead of raising
    :class:`~pyneuron.training.TrainingDivergedError`: the model keeps the weights from the
    start of the diverged epoch (as it does when the error is raised), ``fit`` returns the
    history so far with ``history.stopped_epoch`` set, and a ``RuntimeWarning`` says where.
    Also stops after an epoch whose logged values (e.g. ``val_loss``) are not finite."""

    def __init__(self) -> None:
        self.stopped_epoch: int | None = None

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        bad = sorted(k for k, v in (logs or {}).items() if not math.isfinite(v))
        if bad:
            warnings.warn(f"TerminateOnNaN: epoch {epoch} logged non-finite {', '.join(bad)}; "
                          "training stopped", RuntimeWarning, stacklevel=2)
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_diverged(self, error: Exception) -> bool:
        warnings.warn(f"TerminateOnNaN: {error}", RuntimeWarning, stacklevel=2)
        self.stopped_epoch = getattr(error, "epoch", None)
        return True
