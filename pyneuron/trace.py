"""A trace of every kernel call: ``with pyneuron.trace() as t: model.fit(X, y)``.

Inside the block (in this thread or task only), every backend object a model asks for is
wrapped in a recording proxy (:class:`TracedBackend`); outside it nothing is wrapped, so
a trace that is off costs one ``is None`` test per backend lookup. Each call becomes one
record (a dict): its number, the training ``step`` (how many optimizer updates came
before it), ``phase`` (forward, loss, backward, update), ``layer`` (0-based, ``None`` when
not tied to one), ``param`` (``"W"``, ``"b"``, ... for an update), ``kernel``, ``backend``,
``depth`` (a fused kernel's parts are nested under it), the shapes and dtype of the
array arguments, and -- with ``detail="summary"`` (the default) -- min, max and mean of
each input and output, or with ``detail="full"`` copies of them.

A fused kernel the backend overrides is one record (``fused: True``): the C backend's
``dense_forward`` is one C call, and its training plan's whole epoch is one record
``train_plan.epoch``. A fused kernel a backend does *not* override is the interface's
composition of the small kernels, recorded with them nested under it. ``expand=True``
runs every built-in backend's fused kernels and training plan as those compositions
(the per-operation path), to see inside them; a learner's own fused kernels stay theirs.
That path computes the same equations but may round in another order than a fused one
(the C plan's Adam folds ``lr/(1 - beta1^t)`` into one factor), so an expanded run agrees
with an untraced one to rounding, not always bit for bit.

Tracing never changes a result: the proxy passes each call through unchanged (copies
are taken of the arguments, never given to the kernel); only ``expand=True``, which asks
for another path, can move the last bits.

``print(t)`` shows the tape; ``t.filter(layer=0, kernel="linear_forward")`` keeps some
records; ``t.records`` (or ``list(t)``) is a list of dicts a DataFrame takes as is;
``t.step()`` walks the tape one call at a time, printing each call's inputs and output
in full (best with the scalar backend and ``detail="full"``: the values the textbook
loops computed, call by call, without a debugger).
"""
from __future__ import annotations

import contextvars
import sys
import threading

import numpy as np

from . import backends
from .backends.base import Backend

#: How much of each array a record keeps.
DETAILS = ("shapes", "summary", "full")
#: Fused kernels with a default composition in the interface.
COMPOSED = ("dense_forward", "dense_backward", "sgd_train_step")
#: Dispatchers of the interface: transparent unless a backend writes its own.
DISPATCHERS = ("data_loss", "output_gradient")

_current: contextvars.ContextVar = contextvars.ContextVar("pyneuron_trace", default=None)
_open = 0                     # traces recording now, in any thread (the hook is set while > 0)
_open_lock = threading.Lock()


def _wrap_current(kernels):
    tape = _current.get()
    if tape is None or isinstance(kernels, TracedBackend):
        return kernels
    return TracedBackend(kernels, tape)


def phase_of(kernel):
    """forward, loss, backward or update, read from a kernel's name."""
    if kernel == "train_plan.epoch":
        return "epoch"
    if kernel == "sgd_train_step":
        return "step"
    if kernel.endswith("_step"):
        return "update"
    if kernel.startswith("loss_") and kernel != "loss_gradient" or kernel in ("penalty", "data_loss"):
        return "loss"
    if kernel.endswith("_backward") or kernel in ("loss_gradient", "output_delta", "penalty_gradient",
                                                  "output_gradient"):
        return "backward"
    return "forward"


def _own(inner, attr):
    """Does backend ``inner`` write its own ``attr`` (not the interface's default)? Read
    from the function behind the bound method, so an instance attribute that merely holds
    the default (as ``monkeypatch`` leaves one behind) does not count as the backend's own."""
    value = getattr(inner, attr)
    return getattr(value, "__func__", value) is not getattr(Backend, attr)


class TracedBackend:
    """A backend that records each kernel call on a :class:`Trace`, then makes it."""

    def __init__(self, inner, tape):
        self.__wrapped__ = inner
        self._tape = tape

    @property
    def name(self):
        return self.__wrapped__.name

    def __repr__(self):
        return f"<traced {self.__wrapped__!r}>"

    def __getattr__(self, attr):
        from .backends.registry import KERNELS, RegisteredBackend
        inner = self.__wrapped__
        value = getattr(inner, attr)
        builtin = not isinstance(inner, RegisteredBackend)
        if attr in KERNELS:
            return lambda *a, **k: self._tape._record(self, attr, value, a, k)
        if attr in COMPOSED:
            if _own(inner, attr) and not (self._tape.expand and builtin):
                return lambda *a, **k: self._tape._record(self, attr, value, a, k, fused=True)
            composed = getattr(Backend, attr).__get__(self)
            return lambda *a, **k: self._tape._record(self, attr, composed, a, k)
        if attr in DISPATCHERS:
            if _own(inner, attr):
                return lambda *a, **k: self._tape._record(self, attr, value, a, k, fused=True)
            return getattr(Backend, attr).__get__(self)
        if attr == "train_plan":
            return self._train_plan
        return value

    def _train_plan(self, model, optimizer, *args, **kwargs):
        from .backends.registry import RegisteredBackend
        from .training_plan import TrainPlan
        inner = self.__wrapped__
        if not _own(inner, "train_plan") or (self._tape.expand and not isinstance(inner, RegisteredBackend)):
            return TrainPlan(self, model, optimizer, *args, **kwargs)
        plan = inner.train_plan(model, optimizer, *args, **kwargs)
        if type(plan) is TrainPlan:
            plan.kernels = self
        else:                                    # a fused plan: each epoch is one record
            epoch = plan.epoch
            plan.epoch = lambda X, Y, *a, **k: self._tape._record(
                self, "train_plan.epoch", epoch, (X, Y) + a, k, fused=True)
        return plan


def _where(args):
    """(layer index, parameter kind) of a call, from the frames that made it."""
    from .layers import Dense
    layer = model = None
    frame = sys._getframe(3)
    for _ in range(12):
        if frame is None:
            break
        owner = frame.f_locals.get("self") if "self" in frame.f_code.co_varnames[:1] else None
        if layer is None and isinstance(owner, Dense):
            layer = owner
        elif model is None and isinstance(getattr(owner, "layers", None), list):
            model = owner
        elif model is None and isinstance(getattr(getattr(owner, "model", None), "layers", None), list):
            model = owner.model
        if model is not None:
            break
        frame = frame.f_back
    if model is None:
        return None, None
    if layer is not None and layer in model.layers:
        return model.layers.index(layer), None
    ids = {id(a) for a in args if isinstance(a, np.ndarray)}
    for i, lay in enumerate(model.layers):
        for kind, p in zip(lay.parameter_kinds(), lay.parameters()):
            if id(p) in ids:
                return i, kind
    for i, lay in enumerate(model.layers):
        if any(id(lay.cache.get(k)) in ids for k in ("Z", "A", "out", "X")):
            return i, None
    return None, None


def _keep(a, detail):
    if not isinstance(a, np.ndarray):
        return a if isinstance(a, (int, float, str, bool, type(None))) else repr(a)
    if detail == "full":
        return a.copy()
    if detail == "summary" and a.size and a.dtype.kind == "f":
        with np.errstate(all="ignore"):
            return {"shape": a.shape, "min": float(a.min()), "max": float(a.max()), "mean": float(a.mean())}
    return {"shape": a.shape}


class Trace:
    """The tape of kernel calls made inside ``with trace(...)`` (see the module doc).

    ``detail``: ``"shapes"``, ``"summary"`` (default) or ``"full"``; ``expand``: run the
    built-in backends' fused kernels as compositions. Raises ``ValueError`` for another
    ``detail``."""

    def __init__(self, detail="summary", expand=False, records=None):
        if detail not in DETAILS:
            raise ValueError(f"detail: expected one of {', '.join(map(repr, DETAILS))}, got {detail!r}")
        self.detail, self.expand = detail, bool(expand)
        self.records = [] if records is None else records
        self._depth = 0
        self._steps = 0
        self._updated = False
        self._cursor = 0
        self._token = None

    # -------------------------------------------------------------- recording
    def __enter__(self):
        global _open
        if self._token is not None:
            raise RuntimeError("trace: this trace is already recording (open a new pyneuron.trace())")
        self._token = _current.set(self)
        with _open_lock:
            _open += 1
            backends._wrap = _wrap_current
        return self

    def __exit__(self, *exc):
        global _open
        _current.reset(self._token)
        self._token = None
        with _open_lock:
            _open -= 1
            if _open == 0:
                backends._wrap = None
        return False

    def _record(self, proxy, kernel, fn, args, kwargs, fused=False):
        phase = phase_of(kernel)
        if self._depth == 0 and phase != "update" and self._updated:
            self._steps += 1            # the first call after an update starts the next step
            self._updated = False
        if phase in ("update", "step", "epoch"):
            self._updated = True
        layer, param = _where(args)
        arrays = [a for a in args if isinstance(a, np.ndarray)]
        rec = {"index": len(self.records), "step": self._steps, "phase": phase, "layer": layer,
               "param": param, "kernel": kernel, "backend": proxy.name, "depth": self._depth,
               "fused": fused, "shapes": [a.shape for a in arrays],
               "dtype": str(arrays[0].dtype) if arrays else None}
        rec["inputs"] = [_keep(a, self.detail) for a in args] + [
            f"{k}={v!r}" for k, v in kwargs.items() if not isinstance(v, np.ndarray)]
        self.records.append(rec)
        self._depth += 1
        try:
            out = fn(*args, **kwargs)
        except Exception as exc:
            rec["output"], rec["error"] = None, f"{type(exc).__name__}: {exc}"
            raise
        finally:
            self._depth -= 1
        if out is None and args and isinstance(args[0], np.ndarray):
            rec["output"] = _keep(args[0], self.detail)          # an in-place step: the parameter after
        elif isinstance(out, tuple):
            rec["output"] = [_keep(o, self.detail) for o in out]
        elif kernel == "train_plan.epoch":
            rec["output"] = {"mean_loss": out.mean_loss, "batches": len(out.losses)}
        else:
            rec["output"] = _keep(out, self.detail)
        return out

    # -------------------------------------------------------------- reading
    def __iter__(self):
        return iter(self.records)

    def __len__(self):
        return len(self.records)

    def __getitem__(self, i):
        return self.records[i]

    def to_list(self):
        """The records as a list of dicts (``pandas.DataFrame(t.to_list())``)."""
        return list(self.records)

    def filter(self, layer=None, kernel=None, phase=None, step=None, backend=None):
        """A :class:`Trace` holding the records that match every given field."""
        want = {k: v for k, v in dict(layer=layer, kernel=kernel, phase=phase, step=step,
                                      backend=backend).items() if v is not None}
        kept = [r for r in self.records if all(r[k] == v for k, v in want.items())]
        view = Trace(self.detail, self.expand, kept)
        return view

    def kernels(self):
        """How many times each kernel was called: ``{kernel: count}``."""
        counts = {}
        for r in self.records:
            counts[r["kernel"]] = counts.get(r["kernel"], 0) + 1
        return counts

    @staticmethod
    def _line(r):
        where = "   " if r["layer"] is None else f"L{r['layer']}" + (f".{r['param']}" if r["param"] else "")
        shapes = " ".join("x".join(map(str, s)) or "()" for s in r["shapes"])
        out = r.get("output")
        if isinstance(out, dict) and "mean" in out:
            said = f" -> mean {out['mean']:.4g} [{out['min']:.4g}, {out['max']:.4g}]"
        elif isinstance(out, float):
            said = f" -> {out:.6g}"
        elif isinstance(out, dict) and "mean_loss" in out:
            said = f" -> {out['batches']} batches, mean loss {out['mean_loss']:.6g}"
        else:
            said = ""
        fused = " (fused)" if r["fused"] else ""
        return (f"{r['index']:>5} step {r['step']:<3} {r['phase']:<8} {where:<7} {'  ' * r['depth']}"
                f"{r['backend']}.{r['kernel']}{fused}({shapes}){said}")

    def __str__(self):
        head = f"trace: {len(self.records)} kernel calls"
        return "\n".join([head] + [self._line(r) for r in self.records])

    def __repr__(self):
        return f"<pyneuron trace of {len(self.records)} kernel calls>"

    def step(self, show=True):
        """The next record of the tape (from the first), printed in full with
        ``show``; ``None`` at the end. ``t.rewind()`` starts again."""
        if self._cursor >= len(self.records):
            return None
        r = self.records[self._cursor]
        self._cursor += 1
        if show:
            print(self._line(r))
            with np.printoptions(precision=6, suppress=True, threshold=60):
                for i, a in enumerate(r.get("inputs", [])):
                    print(f"    in[{i}] = {a}")
                print(f"    out   = {r.get('output')}")
        return r

    def rewind(self):
        """Make :meth:`step` start again from the first call."""
        self._cursor = 0


def trace(detail="summary", expand=False):
    """``with pyneuron.trace() as t: ...`` records every kernel call in the block (see
    :mod:`pyneuron.trace`); ``detail`` is ``"shapes"``, ``"summary"`` or ``"full"``."""
    return Trace(detail, expand)


__all__ = ["trace", "Trace", "TracedBackend", "phase_of"]


def get_without_hook(name):
    """:func:`pyneuron.backends.get` without the trace hook's test (``_wrap is None``): the
    baseline of :func:`overhead` and of ``bench/test_bench_trace.py``. Not for other use."""
    backends.check_name(name)
    if name == "c":
        backends._load_c()
        if "c" not in backends._instances:
            raise backends.BackendUnavailableError(backends._c_error)
    return backends._instances[name] if name in backends._instances else backends._registered[name]


def overhead(repeats=15, epochs=300, backend="c"):
    """What the trace hook costs when no trace is recording: CPU time of a fused ``fit``
    (``MLP([8, 32, 1])``, 256 rows, batches of 32, ``epochs`` epochs) with
    ``pyneuron.backends.get`` as it is, against a copy of it without the hook's test,
    ``repeats`` runs each, interleaved. Returns ``(median with the hook, median without)``
    in seconds: ``python -c "from pyneuron.trace import overhead; print(overhead())"``."""
    import statistics
    import time

    from . import MLP
    hooked, bare = backends.get, get_without_hook

    rng = np.random.default_rng(0)
    X = rng.standard_normal((256, 8))
    y = (X[:, 0] > 0).astype(int)
    times = {"hooked": [], "bare": []}
    try:
        for _ in range(repeats):
            for label, get in (("bare", bare), ("hooked", hooked)):
                backends.get = get
                model = MLP([8, 32, 1], seed=0, backend=backend)
                start = time.process_time()
                model.fit(X, y, epochs=epochs, batch_size=32, lr=0.1)
                times[label].append(time.process_time() - start)
    finally:
        backends.get = hooked
    return statistics.median(times["hooked"]), statistics.median(times["bare"])

