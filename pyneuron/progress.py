"""Live progress for training: a tqdm bar per ``fit``, epoch lines printed as
their epoch ends.

:class:`Progress` is an ordinary :class:`~pyneuron.training.Callback`::

    model.fit(X, y, epochs=500, callbacks=[progress_for(model, 500, desc="digits")])

* one bar for the run, advanced at the end of every epoch, showing the latest
  loss (and validation loss) and the estimated time left (:class:`Progress`);
* on the scalar backend, a second, per-batch bar under it once an epoch has been
  running for more than ``batch_after`` seconds (1 s by default): an epoch of a few
  hundred samples already takes that long there, so the learner sees the batches
  move instead of a frozen screen (:class:`BatchProgress`). The other backends get
  no batch hooks, because a callback that listens to batches makes ``fit`` call
  the backend once per batch instead of once per epoch;
* with ``print_epochs`` (an iterable of epoch numbers, or a function
  ``epoch -> bool``), a line ``epoch N  loss …`` for each of those epochs, printed
  and flushed the moment that epoch ends (through ``tqdm.write``, so the bar
  is redrawn beneath it rather than torn).

Bars go to standard error and the lines to standard output. Set the environment
variable ``PYNEURON_PROGRESS=0`` (or pass ``enabled=False``) to turn the bars off,
e.g. in logs; the printed lines stay.
"""
from __future__ import annotations

import os
import sys
import time

from .training import Callback

#: The environment variable that turns the bars off when set to ``0``, ``false`` or ``no``.
ENVIRONMENT_VARIABLE = "PYNEURON_PROGRESS"


def bars_enabled():
    """Whether progress bars are on (``PYNEURON_PROGRESS`` is not 0/false/no)."""
    return os.environ.get(ENVIRONMENT_VARIABLE, "1").strip().lower() not in ("0", "false", "no", "off")


def _in_notebook():
    """Whether this runs in a Jupyter kernel."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    return shell is not None and hasattr(shell, "kernel")


def _format_logs(logs):
    return "  ".join(f"{key} {value:.4f}" for key, value in (logs or {}).items()
                     if key != "lr" and isinstance(value, (int, float)))


def progress_for(model, epochs, desc="training", **options):
    """The progress callback for training ``model`` for ``epochs`` epochs: a
    :class:`BatchProgress` on the scalar backend, a :class:`Progress` otherwise.
    ``options`` are those of :class:`Progress`."""
    slow = model.kernels.name == "scalar"
    return (BatchProgress if slow else Progress)(epochs, desc=desc, **options)


class Progress(Callback):
    """A progress bar per epoch (and optional epoch lines) for one ``fit``.

    Parameters
    ----------
    epochs : the ``epochs`` given to ``fit`` (the bar's length), or ``None``.
    desc : the bar's label, e.g. the experiment's name.
    print_epochs : epochs whose line is printed when they end: an iterable of
        epoch numbers, a function ``epoch -> bool``, or ``None`` for no lines.
    line : a function ``(epoch, logs) -> str`` that formats a printed line
        (default ``"  epoch N  loss 0.1234  accuracy 0.9500 …"``).
    batch_after : (:class:`BatchProgress`) seconds an epoch must have run before
        the per-batch bar appears (a number ≥ 0).
    enabled : show the bars (default: unless ``PYNEURON_PROGRESS=0``).
    file : where the bars go (default ``sys.stderr``).
    leave : keep the finished bar on screen (default ``False``: it is erased, so a
        lesson's printed results are not buried under bars).

    Raises ``TypeError`` for a ``print_epochs`` that is neither iterable nor
    callable and ``ValueError`` for a negative or non-finite ``batch_after``.
    """

    def __init__(self, epochs=None, desc="training", print_epochs=None, line=None, batch_after=1.0, enabled=None,
                 file=None, leave=False):
        if print_epochs is None:
            self._prints = lambda epoch: False
        elif callable(print_epochs):
            self._prints = print_epochs
        else:
            try:
                wanted = {int(e) for e in print_epochs}
            except TypeError:
                raise TypeError(f"print_epochs: expected epoch numbers or a function epoch -> bool, "
                                f"got {type(print_epochs).__name__}") from None
            self._prints = wanted.__contains__
        if not (isinstance(batch_after, (int, float)) and 0 <= batch_after < float("inf")):
            raise ValueError(f"batch_after: expected a number of seconds >= 0, got {batch_after!r}")
        if epochs is not None and not (isinstance(epochs, int) and epochs >= 1):
            raise ValueError(f"epochs: expected an integer >= 1 or None, got {epochs!r}")
        self.epochs = epochs
        self.desc = str(desc)
        self.line = line or (lambda epoch, logs: f"  epoch {epoch:>5}  {_format_logs(logs)}")
        self.batch_after = float(batch_after)
        self.enabled = bars_enabled() if enabled is None else bool(enabled)
        self.file = file
        self.leave = bool(leave)
        self._epochs_bar = self._batch_bar = None
        self._batches_per_epoch = None

    # -------------------------------------------------------------------- bars
    def _bar(self, **options):
        from tqdm import tqdm
        stream = self.file or sys.stderr
        # A terminal or a notebook redraws the bar in place; a log file or a pipe keeps every
        # redraw, so there it is redrawn every few seconds rather than five times a second.
        live = _in_notebook() or getattr(stream, "isatty", lambda: False)()
        return tqdm(file=stream, dynamic_ncols=True, mininterval=0.2 if live else 5.0, **options)

    def on_train_begin(self, model, logs=None):
        self._batches_per_epoch = None
        if self.enabled:
            self._epochs_bar = self._bar(total=self.epochs, desc=self.desc, unit="epoch", leave=self.leave)

    def on_epoch_end(self, model, epoch, logs=None):
        if self._batch_bar is not None:
            self._batch_bar.close()
            self._batch_bar = None
        if self._epochs_bar is not None:
            self._epochs_bar.update(1)
            shown = {k: f"{v:.4f}" for k, v in (logs or {}).items() if k in ("loss", "val_loss")}
            self._epochs_bar.set_postfix(shown, refresh=False)
        if self._prints(epoch):
            self.write(self.line(epoch, logs or {}))

    def on_train_end(self, model, logs=None):
        for bar in (self._batch_bar, self._epochs_bar):
            if bar is not None:
                bar.close()
        self._epochs_bar = self._batch_bar = None

    def write(self, text):
        """Print ``text`` to standard output now, above the bars."""
        if self._epochs_bar is not None:
            from tqdm import tqdm
            tqdm.write(text, file=sys.stdout)
        else:
            print(text)
        sys.stdout.flush()


class BatchProgress(Progress):
    """:class:`Progress` plus a per-batch bar once an epoch has run longer than
    ``batch_after`` seconds (its length is the first epoch's batch count)."""

    def on_epoch_begin(self, model, epoch, logs=None):
        self._epoch_start = time.perf_counter()
        self._batches = 0

    def on_batch_end(self, model, batch, logs=None):
        self._batches += 1
        if not self.enabled:
            return
        if self._batch_bar is None:
            if time.perf_counter() - self._epoch_start > self.batch_after:
                self._batch_bar = self._bar(total=self._batches_per_epoch, desc="  batches", unit="batch",
                                            leave=False, initial=self._batches)
        else:
            self._batch_bar.update(1)
        if self._batch_bar is not None and logs and "loss" in logs:
            self._batch_bar.set_postfix(loss=f"{logs['loss']:.4f}", refresh=False)

    def on_epoch_end(self, model, epoch, logs=None):
        if self._batches_per_epoch is None and self._batches:
            self._batches_per_epoch = self._batches
        super().on_epoch_end(model, epoch, logs)
