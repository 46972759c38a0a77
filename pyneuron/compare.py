"""Where do two engines part ways? ``pyneuron.compare_backends(model, X, y, ...)``.

Each backend trains its own copy of ``model`` (same weights, same generator, so the same
dropout masks) for ``steps`` steps on the same batches, on the per-operation path, every
kernel call recorded in full (:mod:`pyneuron.trace` with ``expand=True``: the C
backend's fused kernels are run as the small kernels they fuse, so the difference is
seen inside them; a learner's own fused kernel stays one call). The first backend is
the reference. For every other one the report gives the first call, in execution
order, whose output differs beyond the tolerance: its step, layer, kernel, which output
and the array index, both values and their distance in ulps (:mod:`pyneuron.ulps`), and
whether that call's *inputs* already differed (then the difference came from outside
the kernels). Calls are matched by position among the top-level calls of a step; when a
composed kernel differs, its parts are searched for the first that does.

It also reports how the difference grows: after each step, the largest absolute and
relative difference over all parameters and its ulp distance, so the rounding drift of
float32 against float64 or of another summation order is seen step by step.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from .ulps import max_ulp_distance, ulp_distance


@dataclass
class Divergence:
    """The first place a backend's run left the reference's (fields as in the module doc)."""
    backend: str
    reference: str
    step: int
    layer: int | None
    param: str | None
    kernel: str
    output: int
    index: tuple
    expected: float
    actual: float
    ulps: int | None
    inputs_differed: bool
    record: int
    #: the exception the backend's kernel raised there, if it raised one
    error: str | None = None


@dataclass
class Comparison:
    """What :func:`compare_backends` found. ``divergences[name]`` is a :class:`Divergence`
    or ``None`` (agreed throughout); ``growth[name]`` lists, per step, ``(step, max abs
    difference, max relative difference, max ulps)`` over the parameters."""
    reference: str
    backends: list
    steps: int
    rtol: float
    divergences: dict = field(default_factory=dict)
    growth: dict = field(default_factory=dict)
    traces: dict = field(default_factory=dict)

    @property
    def first(self):
        """The earliest divergence of any backend (by step, then call), or ``None``."""
        found = [d for d in self.divergences.values() if d is not None]
        return min(found, key=lambda d: (d.step, d.record)) if found else None

    def __str__(self):
        lines = [f"compare_backends: {self.steps} steps, reference {self.reference!r}, rtol {self.rtol:g}"]
        for name in self.backends[1:]:
            d = self.divergences[name]
            if d is None:
                lines.append(f"  {name}: agrees with {self.reference} at every kernel call")
            else:
                where = "" if d.layer is None else f", layer {d.layer}" + (f" ({d.param})" if d.param else "")
                lines.append(f"  {name}: first differs at step {d.step}{where}, kernel {d.kernel}, "
                              f"output {d.output}, index {d.index}: {d.reference} {d.expected!r}, "
                              f"{name} {d.actual!r} ({'no finite' if d.ulps is None else d.ulps} ulps)"
                              + ("  [its inputs already differed]" if d.inputs_differed else "")
                              + (f"  [raised {d.error}]" if d.error else ""))
            for step, diff, rel, ulps in self.growth[name]:
                lines.append(f"      after step {step}: max |difference| {diff:.3g}, relative {rel:.3g}, "
                             f"{'no finite' if ulps is None else ulps} ulps")
        return "\n".join(lines)


def _arrays(value):
    if isinstance(value, list):
        return [np.asarray(v) for v in value if isinstance(v, np.ndarray) or np.isscalar(v)]
    if isinstance(value, np.ndarray) or isinstance(value, float):
        return [np.asarray(value)]
    return []


def _term_scale(inputs):
    """The size of the terms a kernel may sum: the largest |element| of its first array
    input times that of its second (a product's terms), or of the first alone."""
    sizes = []
    for a in inputs or ():
        if isinstance(a, np.ndarray) and a.size and a.dtype.kind == "f":
            finite = np.abs(a[np.isfinite(a)])
            sizes.append(float(finite.max()) if finite.size else 0.0)
        if len(sizes) == 2:
            break
    return sizes[0] * sizes[1] if len(sizes) == 2 else (sizes[0] if sizes else 0.0)


def _differs(ref_value, value, rtol, inputs=None):
    """``None`` if the two outputs agree, else ``(output, index, expected, actual, ulps)``.

    An element differs when ``|a - e| > rtol·|e| + rtol·max(max|E|, terms)``, ``E`` the
    reference output and ``terms`` the size of the products the kernel sums (a sum that
    cancels to ~0, like a bias gradient before batch norm, keeps only the rounding of its
    terms, which legitimately differs with the summation order)."""
    ref_arrays, arrays = _arrays(ref_value), _arrays(value)
    terms = _term_scale(inputs)
    if len(ref_arrays) != len(arrays):
        return (0, (), float("nan"), float("nan"), None)
    for j, (e, g) in enumerate(zip(ref_arrays, arrays)):
        if e.shape != g.shape:
            return (j, (), float("nan"), float("nan"), None)
        e64, g64 = e.astype(np.float64), g.astype(np.float64)
        with np.errstate(all="ignore"):
            scale = float(np.nanmax(np.abs(e64[np.isfinite(e64)]))) if np.isfinite(e64).any() else 1.0
            close = np.isclose(g64, e64, rtol=rtol, atol=rtol * max(scale, terms, 1e-300), equal_nan=True)
        if not np.all(close):
            index = tuple(int(i) for i in np.argwhere(~close)[0]) if e.ndim else ()
            dtype = _narrower(e, g)
            return (j, index, e64[index].item(), g64[index].item(), ulp_distance(e64[index], g64[index], dtype).item())
    return None


def _first_difference(ref_records, records, rtol):
    """The first pair of records (by position) whose output differs; searches a composed
    kernel's nested records. Returns ``(record, difference, inputs differed)`` or ``None``."""
    def top(recs, depth):
        return [i for i, r in enumerate(recs) if r["depth"] == depth]

    def search(ref_recs, recs, depth):
        ti, tj = top(ref_recs, depth), top(recs, depth)
        for n, (i, j) in enumerate(zip(ti, tj)):
            a, b = ref_recs[i], recs[j]
            out = _differs(a["output"], b["output"], rtol, a["inputs"]) if a["kernel"] == b["kernel"] and \
                "error" not in b else (0, (), float("nan"), float("nan"), None)
            if out is None:
                continue
            end_a = ti[n + 1] if n + 1 < len(ti) else len(ref_recs)
            end_b = tj[n + 1] if n + 1 < len(tj) else len(recs)
            inner_a, inner_b = ref_recs[i + 1:end_a], recs[j + 1:end_b]
            if inner_a and inner_b and a["kernel"] == b["kernel"]:
                deeper = search(inner_a, inner_b, depth + 1)
                if deeper is not None:
                    return deeper
            ins = _differs([x for x in a["inputs"] if isinstance(x, np.ndarray)],
                           [x for x in b["inputs"] if isinstance(x, np.ndarray)], rtol) is not None
            return b, out, ins
        return None

    return search(ref_records, records, 0)


def _parse(entry):
    """``"numpy"`` -> ("numpy", None); ``"numpy:float32"`` -> ("numpy", float32)."""
    from .validation import check_dtype
    if not isinstance(entry, str):
        raise ValueError(f"backends: expected names such as 'numpy' or 'numpy:float32', got {entry!r}")
    name, _, dtype = entry.partition(":")
    return name, (check_dtype(dtype) if dtype else None)


def _with_dtype(model, dtype):
    """Convert a model's arrays (parameters, batch-norm statistics) to ``dtype`` in place."""
    model.dtype = dtype
    for layer in model.layers:
        for attr in ("W", "b", "gamma", "beta", "running_mean", "running_var"):
            a = getattr(layer, attr, None)
            if a is not None:
                new = a.astype(dtype)
                new.flags.writeable = a.flags.writeable
                setattr(layer, attr, new)


def _narrower(a, b):
    return a.dtype if a.dtype.kind == "f" and (b.dtype.kind != "f" or a.dtype.itemsize <= b.dtype.itemsize) else \
        (b.dtype if b.dtype.kind == "f" else None)


def compare_backends(model, X, y, backends=("scalar", "numpy", "c"), steps=3, batch_size=None,
                     optimizer="sgd", lr=0.1, l2=0.0, rtol=None, seed=0):
    """Run ``steps`` training steps of copies of ``model`` on each of ``backends`` (the
    first is the reference) and report where each first differs (see the module doc).

    ``X`` (m, n_features), ``y`` as ``fit`` takes it; ``batch_size`` rows per step
    (``None``: all), the batches drawn from ``seed``, the same on every backend;
    ``optimizer`` a name or an :class:`~pyneuron.optimizers.Optimizer` (each backend gets
    a copy), ``l2`` the classic penalty; ``rtol`` the tolerance (default ``1e-10`` in
    float64, ``1e-4`` when a float32 run is compared; see ``_differs``).
    ``model`` itself is not changed. Returns a :class:`Comparison` (prints as a report).
    Raises ``ValueError`` for fewer than two backends, an unknown or unavailable name,
    ``steps`` < 1, and as ``fit`` for bad data."""
    from . import backends as registry
    from .optimizers import get as get_optimizer
    from .trace import Trace
    from .training_plan import TrainPlan
    from .validation import check_positive_int
    names = list(backends) if not isinstance(backends, str) else [backends]
    if len(names) < 2 or len(set(names)) != len(names):
        raise ValueError(f"backends: expected two or more distinct backend names (the first is the "
                         f"reference), got {backends!r}")
    specs = [_parse(name) for name in names]
    for name, _ in specs:
        registry.get(name)          # ValueError / BackendUnavailableError with the reason
    steps = check_positive_int(steps, "steps")
    Xc = model.check_X(X)
    model.encode_y(y, Xc.shape[0])
    m = Xc.shape[0]
    batch = m if batch_size is None else min(check_positive_int(batch_size, "batch_size"), m)
    dtypes = {np.dtype(d or model.dtype) for _, d in specs}
    if rtol is None:
        rtol = 1e-4 if np.dtype(np.float32) in dtypes else 1e-10
    rng = np.random.default_rng(seed)
    batches = [rng.permutation(m)[:batch] for _ in range(steps)]
    base_optimizer = get_optimizer(optimizer, lr if isinstance(optimizer, str) else None)
    runs, params = {}, {}
    for entry, (name, dtype) in zip(names, specs):
        clone = copy.deepcopy(model)
        clone.backend = name
        if dtype is not None and np.dtype(dtype) != np.dtype(model.dtype):
            _with_dtype(clone, dtype)
        Xd, Y = clone.check_X(X), clone.encode_y(y, m)
        opt = copy.deepcopy(base_optimizer)
        per_step, after = [], []
        with Trace(detail="full", expand=True) as tape:
            plan = TrainPlan(clone.kernels, clone, opt, l1=0.0, l2=l2)
            for idx in batches:
                start = len(tape.records)
                try:
                    with np.errstate(all="ignore"):
                        plan.step(Xd[idx], Y[idx])
                except Exception:          # a learner's kernel raised: compare what ran
                    per_step.append(tape.records[start:])
                    break
                per_step.append(tape.records[start:])
                after.append([p.copy() for p in clone.parameters()])
        runs[entry], params[entry] = per_step, after
    result = Comparison(names[0], names, steps, rtol)
    ref = names[0]
    for name in names[1:]:
        result.traces[name] = runs[name]
        result.divergences[name] = None
        for k in range(min(len(runs[ref]), len(runs[name]))):
            found = _first_difference(runs[ref][k], runs[name][k], rtol)
            if found is not None:
                rec, (j, index, e, a, ulps), ins = found
                result.divergences[name] = Divergence(name, ref, k, rec["layer"], rec["param"], rec["kernel"],
                                                      j, index, e, a, None if ulps is None else int(ulps), ins,
                                                      rec["index"], rec.get("error"))
                break
        growth = []
        for k in range(min(len(params[ref]), len(params[name]))):
            diffs = [np.abs(p.astype(np.float64) - q.astype(np.float64)) for p, q in zip(params[ref][k], params[name][k])]
            with np.errstate(all="ignore"):
                worst = max((float(np.max(d)) if d.size else 0.0) for d in diffs)
                rel = max((float(np.max(d / np.maximum(np.abs(q.astype(np.float64)), 1e-300))) if d.size else 0.0)
                          for d, q in zip(diffs, params[ref][k]))
            ulps = [max_ulp_distance(p, q, _narrower(p, q)) for p, q in zip(params[ref][k], params[name][k])]
            growth.append((k, worst, rel, None if any(u is None for u in ulps) else max(ulps)))
        result.growth[name] = growth
    return result


__all__ = ["compare_backends", "Comparison", "Divergence"]


# ------------------------------------------------------------------ the command line
def load_plugin(spec, option="--plugin"):
    """Register the backend named by ``"MODULE:ATTR"`` or ``"MODULE:ATTR=NAME"`` (ATTR an
    object with kernels, or a class to instantiate; NAME defaults to ATTR in lower case)
    and return its name. Raises ``ValueError`` for a malformed spec or a missing
    attribute (messages start with ``option``, where the spec came from), ``ImportError``
    for a module that cannot be imported, and what :func:`pyneuron.register_backend` raises."""
    import importlib
    from . import backends as registry
    target, _, name = spec.partition("=")
    module, _, attr = target.partition(":")
    if not module or not attr:
        raise ValueError(f"{option}: expected MODULE:ATTR or MODULE:ATTR=NAME, got {spec!r}")
    obj = getattr(importlib.import_module(module), attr, None)
    if obj is None:
        raise ValueError(f"{option}: module {module!r} has no attribute {attr!r}")
    name = name or attr.lower()
    registry.register_backend(name, obj() if isinstance(obj, type) else obj)
    return name


def add_arguments(parser, datasets):
    """The options of ``pyneuron compare``."""
    parser.add_argument("--backends", default=None, metavar="A,B,...",
                        help="backends to compare, the first the reference; NAME:float32 for another dtype "
                             "(default: every available built-in one)")
    parser.add_argument("--plugin", action="append", default=[], metavar="MODULE:ATTR[=NAME]",
                        help="register your own backend first (then name it in --backends)")
    parser.add_argument("--dataset", default="moons", choices=datasets, help="data (default moons)")
    parser.add_argument("--samples", type=int, default=64, help="points to generate (default 64)")
    parser.add_argument("--hidden", default="8", metavar="N,N,...", help="hidden widths (default 8)")
    parser.add_argument("--activation", default="tanh", help="hidden activation (default tanh)")
    parser.add_argument("--optimizer", default="sgd", help="optimizer name (default sgd)")
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate (default 0.1)")
    parser.add_argument("--steps", type=int, default=3, help="training steps (default 3)")
    parser.add_argument("--batch-size", type=int, default=16, help="rows per step; 0 = all (default 16)")
    parser.add_argument("--dtype", default="float64", choices=["float64", "float32"], help="the model's dtype")
    parser.add_argument("--rtol", type=float, default=None, help="tolerance (default 1e-10, or 1e-4 with float32)")
    parser.add_argument("--seed", type=int, default=0, help="seed of data, weights and batches (default 0)")


def run_command(args, load_dataset, int_list):
    """``pyneuron compare``: print the report; exit status 0 when every backend agrees, 1 when one differs."""
    from . import MLP, available_backends
    for spec in args.plugin:
        load_plugin(spec)
    names = args.backends.split(",") if args.backends else [n for n in ("scalar", "numpy", "c")
                                                              if n in available_backends()]
    X, y = load_dataset(args.dataset, args.samples, 0.2, args.seed)[:2]
    n_classes = len(np.unique(y))
    output = "sigmoid" if n_classes <= 2 else "softmax"
    sizes = [X.shape[1], *int_list(args.hidden), 1 if n_classes <= 2 else n_classes]
    model = MLP(sizes, activation=args.activation, output=output, seed=args.seed, dtype=args.dtype)
    result = compare_backends(model, X, y, backends=names, steps=args.steps,
                              batch_size=args.batch_size or None, optimizer=args.optimizer, lr=args.lr,
                              rtol=args.rtol, seed=args.seed)
    print(result)
    return 1 if result.first is not None else 0
