"""The conformance kit: hold any backend to a reference, kernel by kernel.

``check_backend(backend, reference="numpy")`` runs every kernel of the interface
(:mod:`pyneuron.backends.base`) on both backends and compares the results (a fused
kernel, like ``dense_forward``, when the backend has its own):

* **generated cases** (hypothesis; the builders are in :mod:`pyneuron.kernel_cases`):
  batch 1, one feature, odd sizes, values from 1e-3 up to ``|z| = 700`` (float64) or 80
  (float32), exact zeros (the kinks of relu), in every dtype the backend lists; a
  failing case is shrunk to the smallest one that still fails;
* **edge cases the project learned**: saturated sigmoids (``z = ±40, ±700``), softmax
  rows with a huge common offset (no row-max subtraction overflows), relu and leaky relu
  at exactly 0, probabilities at exactly 0 and 1, one-sample batch norm;
* **no writing to inputs** (aliasing): a kernel may change only the arrays it updates in
  place (the ``*_step`` kernels' parameter and state); results keep the input's dtype;
* **short whole training runs** (SGD, momentum, Adam; batch norm and dropout; sigmoid,
  softmax and linear outputs), whose final weights must match the reference's.

It returns a :class:`ConformanceReport`: per kernel pass or fail, and for a failure the
(smallest) input, the first array index that differs, the expected and actual values and
their distance in ulps (:mod:`pyneuron.ulps`). Needs hypothesis (the ``test`` extra).

Tolerances: by default float64 agrees to ``1e-9`` relative and float32 to ``2e-4``
(a learner's kernel may sum in another order); ``rtol=`` or ``ulps=`` tightens or widens
them (pyneuron's own backends are held to the scalar one at ``rtol=1e-12`` by
``tests/test_differential.py``). A kernel that sums terms which can cancel (matmul,
linear, batch norm, the optimizer steps) also gets an absolute tolerance of ``rtol`` times
the size of the terms summed into each output (:mod:`pyneuron.kernel_cases`), since a
different summation order legitimately changes the last bits of a sum that cancels.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .backends.slope_name import SLOPE_KERNELS, slope_position
from .kernel_cases import edge_cases, fused_cases, kernel_cases
from .ulps import max_ulp_distance, ulp_distance

#: The default relative tolerance per dtype (a learner's kernel: another summation order).
RTOL = {np.dtype(np.float64): 1e-9, np.dtype(np.float32): 2e-4}
#: The dtypes the kit can check.
DTYPES = (np.dtype(np.float64), np.dtype(np.float32))
#: Largest ``|z|`` of generated values, per dtype (exp of it stays finite after the row max).
BIG = {np.dtype(np.float64): 700.0, np.dtype(np.float32): 80.0}


# ------------------------------------------------------------------ the report
@dataclass
class KernelResult:
    """One kernel (and variant, dtype) held to the reference."""
    kernel: str
    variant: str
    dtype: str
    passed: bool
    examples: int = 0
    #: for a failure: what differs and where (see ``str(report)`` of :class:`ConformanceReport`)
    failure: dict | None = None


@dataclass
class ConformanceReport:
    """What :func:`check_backend` found. ``passed`` is True when every result passed;
    ``failures`` lists the failed :class:`KernelResult` s; ``failed_kernels`` their names."""
    backend: str
    reference: str
    results: list = field(default_factory=list)
    #: the strictness it ran with: ``rtol`` by dtype name, ``max_dim``, ``max_examples``
    settings: dict = field(default_factory=dict)

    @property
    def passed(self):
        return all(r.passed for r in self.results)

    @property
    def failures(self):
        return [r for r in self.results if not r.passed]

    @property
    def failed_kernels(self):
        return sorted({r.kernel for r in self.failures})

    def as_dicts(self):
        return [{"kernel": r.kernel, "variant": r.variant, "dtype": r.dtype, "passed": r.passed,
                 "examples": r.examples, **(r.failure or {})} for r in self.results]

    def __str__(self):
        kernels = {}
        for r in self.results:
            kernels.setdefault(r.kernel, []).append(r)
        lines = [f"conformance of {self.backend!r} against {self.reference!r}: "
                 f"{sum(all(x.passed for x in rs) for rs in kernels.values())} of {len(kernels)} kernels pass"
                 + (f" (rtol {self.settings['rtol']}, sizes up to {self.settings['max_dim']})"
                    if self.settings else "")]
        for kernel, rs in kernels.items():
            bad = [r for r in rs if not r.passed]
            lines.append(f"  {'FAIL' if bad else 'ok  '}  {kernel}"
                         + (f"  ({sum(r.examples for r in rs)} cases)" if not bad else ""))
            for r in bad:
                f = r.failure
                lines.append(f"        [{r.variant or 'generated'}, {r.dtype}] {f['message']}")
                if "index" in f:
                    lines.append(f"        output {f['output']} at index {f['index']}: expected {f['expected']!r}, "
                                 f"got {f['actual']!r} ({'no finite' if f['ulps'] is None else f['ulps']} ulps)")
                lines.append(f"        smallest input: {f['input']}")
        return "\n".join(lines)

    def raise_if_failed(self):
        """Raise ``AssertionError`` with the report when a kernel failed."""
        if not self.passed:
            raise AssertionError(str(self))


# ------------------------------------------------------------------ comparing one call
def _outputs(result, args, mutated):
    if mutated:
        return [np.asarray(args[i]) for i in mutated]
    if isinstance(result, tuple):
        return [np.asarray(x) for x in result]
    return [np.asarray(result)]


def _show(args, kwargs, kernel=None):
    """The call's arguments as text; the leaky-ReLU slope (passed by position, as pyneuron
    passes it) is shown with its name, ``negative_slope=``."""
    parts = [np.array2string(np.asarray(a), precision=17, separator=", ") if isinstance(a, np.ndarray)
             else repr(a) for a in args]
    if kernel in SLOPE_KERNELS and len(args) > slope_position(kernel):
        at = slope_position(kernel)
        parts[at] = f"negative_slope={parts[at]}"
    parts += [f"{k}={v!r}" for k, v in kwargs.items()]
    return "(" + ", ".join(parts) + ")"


def compare_call(kernel, candidate, reference, args, kwargs, mutated=(), terms=None, rtol=None):
    """Run ``kernel`` on both backends (each on its own copies of the arguments); return
    ``None`` if they agree, else a failure dict (message, output, index, expected,
    actual, ulps, input, shapes).

    ``mutated``: positions of the arguments the kernel updates in place (those are its
    outputs); ``terms``: ``None`` or a function of ``(args, kwargs)`` giving per output
    the size of the terms it sums (:mod:`pyneuron.kernel_cases`); ``rtol``: a float, or
    ``None`` for :data:`RTOL` of the inputs' dtype."""
    failure = _compare_call(kernel, candidate, reference, args, kwargs, mutated, terms, rtol)
    if failure is not None:
        failure["shapes"] = [a.shape for a in args if isinstance(a, np.ndarray)]
    return failure


def _compare_call(kernel, candidate, reference, args, kwargs, mutated, terms, rtol):
    copy = lambda a: a.copy() if isinstance(a, np.ndarray) else a       # noqa: E731
    ref_args, got_args = [copy(a) for a in args], [copy(a) for a in args]
    shown = _show(args, kwargs, kernel)
    with np.errstate(all="ignore"):
        expected = getattr(reference, kernel)(*ref_args, **kwargs)
        try:
            actual = getattr(candidate, kernel)(*got_args, **kwargs)
        except Exception as exc:          # the learner's kernel crashed: that is the finding
            return {"message": f"raised {type(exc).__name__}: {exc}", "input": shown}
    for i, (a, g) in enumerate(zip(args, got_args)):
        if isinstance(a, np.ndarray) and i not in mutated and not np.array_equal(a, g, equal_nan=True):
            return {"message": f"changed its input argument {i} (a kernel must not write to its inputs)",
                    "input": shown}
    exp_out, got_out = _outputs(expected, ref_args, mutated), _outputs(actual, got_args, mutated)
    if len(exp_out) != len(got_out):
        return {"message": f"returned {len(got_out)} values, expected {len(exp_out)}", "input": shown}
    if rtol is None:
        dtype = next((a.dtype for a in args if isinstance(a, np.ndarray) and a.dtype.kind == "f"),
                     np.dtype(np.float64))
        rtol = RTOL[np.dtype(dtype)]
    if terms is not None:
        with np.errstate(all="ignore"):
            sizes = terms(args, kwargs)
    else:
        sizes = [None] * len(exp_out)
    for j, (e, g) in enumerate(zip(exp_out, got_out)):
        if e.shape != g.shape:
            return {"message": f"output {j} has shape {g.shape}, expected {e.shape}", "input": shown}
        if e.dtype.kind == "f" and g.dtype != e.dtype:
            return {"message": f"output {j} is {g.dtype}, expected {e.dtype} (the input's dtype)", "input": shown}
        e64, g64 = e.astype(np.float64), g.astype(np.float64)
        size = sizes[j] if j < len(sizes) else None
        atol = rtol * (size if size else 1e-300)
        with np.errstate(all="ignore"):
            close = np.isclose(g64, e64, rtol=rtol, atol=atol, equal_nan=True)
        if not np.all(close):
            index = tuple(int(i) for i in np.argwhere(~close)[0]) if e.ndim else ()
            ulps = ulp_distance(e[index], g[index], e.dtype if e.dtype.kind == "f" else None)
            return {"message": "differs from the reference", "output": j, "index": index,
                    "expected": e64[index].item(), "actual": g64[index].item(),
                    "ulps": ulps.item() if hasattr(ulps, "item") else ulps, "input": shown,
                    "max_ulps": max_ulp_distance(e, g, e.dtype if e.dtype.kind == "f" else None)}
    return None


# ------------------------------------------------------------------ the kit
def _resolve(backend, reference):
    from . import backends
    ref = backends.get(reference)
    if isinstance(backend, str):
        return backend, backends.get(backend), ref
    from .backends.registry import RegisteredBackend, make
    if isinstance(backend, RegisteredBackend):
        return backend.name, backend, ref
    name = getattr(backend, "name", None)
    if not isinstance(name, str) or name in backends.names() or name in ("abstract", "all"):
        name = type(backend).__name__        # e.g. a subclass of NumpyBackend still named 'numpy'
    return name, make("candidate", backend, ref), ref


def check_backend(backend, reference="numpy", max_examples=20, training=True, seed=0, *,
                  rtol=None, ulps=None, max_dim=7, dtypes=None, kernels=None):
    """Hold ``backend`` (a name, or an object with kernels) to ``reference``; returns a
    :class:`ConformanceReport` (``report.passed``, ``print(report)``,
    ``report.raise_if_failed()``).

    ``max_examples``: generated cases per kernel, variant and dtype (then a failure is
    shrunk to its smallest); ``training``: also compare short training runs; ``seed``:
    the generated values (the same seed gives the same cases).

    Strictness (defaults suit a learner's kernels; pyneuron's own use
    ``reference="scalar", rtol=1e-12, max_dim=40``):

    * ``rtol``: the relative tolerance, a float for every dtype or a dict
      ``{dtype: float}`` (missing dtypes keep :data:`RTOL`); or ``ulps``: an int ``n``,
      meaning ``rtol = n × eps`` of each dtype (``n`` ulps of the expected value). A kernel
      that sums terms also gets ``rtol ×`` the size of its terms as an absolute tolerance;
      the training runs' weights get ``1000 × rtol``.
    * ``max_dim``: the largest batch, input and output size generated (sizes 1, 2–7 and,
      above 7, up to ``max_dim`` and ``max_dim`` itself).
    * ``dtypes``: the dtypes to check, e.g. ``("float64",)`` (default: those both
      backends list in their ``dtypes``).
    * ``kernels``: check only these kernels (names of :data:`~pyneuron.backends.registry.KERNELS`
      or fused ones of :func:`~pyneuron.kernel_cases.fused_cases`); ``None`` for every
      primitive kernel and each fused one the backend has its own version of (a default
      composition is checked through its parts).

    Raises ``ValueError`` for an unknown backend or kernel name, a ``max_examples`` or
    ``max_dim`` below 1, a dtype other than float32/float64, a negative tolerance, or both
    ``rtol`` and ``ulps``; ``ImportError`` without hypothesis."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st
    for arg, value in (("max_examples", max_examples), ("max_dim", max_dim)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{arg}: expected an int >= 1, got {value!r}")
    tolerance = _tolerances(rtol, ulps)
    cases, fused = kernel_cases(), fused_cases()
    if kernels is not None:
        kernels = [kernels] if isinstance(kernels, str) else list(kernels)
        unknown = [k for k in kernels if k not in cases and k not in fused]
        if unknown:
            raise ValueError(f"kernels: expected names among {', '.join([*cases, *fused])}, got {unknown!r}")
    name, candidate, ref = _resolve(backend, reference)
    if kernels is None:
        cases.update({k: v for k, v in fused.items() if has_own_kernel(candidate, k)})
    else:
        cases = {k: v for k, v in {**cases, **fused}.items() if k in kernels}
    report = ConformanceReport(name, ref.name, settings={
        "rtol": {d.name: r for d, r in tolerance.items()}, "max_dim": max_dim, "max_examples": max_examples})
    if dtypes is None:
        dtypes = [np.dtype(t) for t in getattr(candidate, "dtypes", (np.float64,))
                  if np.dtype(t) in DTYPES and np.dtype(t) in [np.dtype(x) for x in ref.dtypes]]
    else:
        dtypes = _dtypes(dtypes)
    size = _sizes(st, max_dim)
    dims = st.tuples(size, size, size)
    config = settings(max_examples=max_examples, deadline=None, database=None, derandomize=True,
                      report_multiple_bugs=False, phases=[Phase.generate, Phase.shrink],
                      suppress_health_check=list(HealthCheck))
    for kernel, variants in cases.items():
        for variant, build, mutated, terms in variants:
            for dtype in dtypes:
                found, count = [], [0]
                prop = config(given(d=dims, s=st.integers(0, 2 ** 32 - 1))(
                    _property(kernel, build, mutated, terms, dtype, tolerance[dtype], candidate, ref, seed,
                              found, count)))
                try:
                    prop()
                except Exception:       # hypothesis re-raises the shrunk failure last
                    if not found:
                        raise
                report.results.append(KernelResult(kernel, variant, dtype.name, not found, count[0],
                                                   found[-1] if found else None))
    for kernel, variant, args, kwargs in edge_cases():
        if kernel in cases and np.dtype(np.float64) in dtypes:
            failure = compare_call(kernel, candidate, ref, args, kwargs, rtol=tolerance[np.dtype(np.float64)])
            report.results.append(KernelResult(kernel, "edge: " + variant, "float64", failure is None, 1, failure))
    if training:
        for result in training_runs(name, candidate, ref, dtypes, rtol=tolerance):
            report.results.append(result)
    return report


def has_own_kernel(backend, kernel):
    """Whether ``backend`` (a backend object) has its own ``kernel`` rather than the
    interface's default (for a registered backend: one the learner wrote)."""
    from .backends.base import Backend
    from .backends.registry import RegisteredBackend
    if isinstance(backend, RegisteredBackend):
        return kernel in backend.own
    return getattr(type(backend), kernel, None) is not getattr(Backend, kernel)


def _tolerances(rtol, ulps):
    """The relative tolerance per dtype from ``check_backend``'s ``rtol``/``ulps``."""
    if rtol is not None and ulps is not None:
        raise ValueError(f"rtol, ulps: expected one of them, got rtol={rtol!r} and ulps={ulps!r}")
    table = dict(RTOL)
    if ulps is not None:
        if not isinstance(ulps, (int, np.integer)) or isinstance(ulps, bool) or ulps < 0:
            raise ValueError(f"ulps: expected an int >= 0, got {ulps!r}")
        return {d: ulps * float(np.finfo(d).eps) for d in table}
    if rtol is None:
        return table
    given_ = rtol if isinstance(rtol, dict) else {d: rtol for d in table}
    for d, r in given_.items():
        dt = _dtypes([d])[0]
        if isinstance(r, bool) or not isinstance(r, (int, float)) or not r >= 0:
            raise ValueError(f"rtol: expected a float >= 0 (or a dict of them by dtype), got {r!r}")
        table[dt] = float(r)
    return table


def _dtypes(dtypes):
    out = []
    for d in dtypes:
        try:
            dt = np.dtype(d)
        except TypeError:
            dt = None
        if dt is None or dt not in DTYPES:       # None == np.dtype(...) is read as float64
            raise ValueError(f"dtypes: expected float64 or float32, got {d!r}")
        out.append(dt)
    return out


def _sizes(st, max_dim):
    """One generated size: 1, 2–7, and above 7 anything up to ``max_dim`` and ``max_dim`` itself."""
    choices = [st.just(1)]
    if max_dim >= 2:
        choices.append(st.integers(2, min(max_dim, 7)))
    if max_dim > 7:
        choices += [st.integers(8, max_dim), st.just(max_dim)]
    return st.one_of(*choices)


def _property(kernel, build, mutated, terms, dtype, rtol, candidate, ref, seed, found, count):
    """The hypothesis property for one kernel, variant and dtype; failures go to ``found``."""
    def prop(d, s):
        count[0] += 1
        rng = np.random.default_rng([seed, s])
        args, kwargs = build(rng, d, dtype.type, BIG[dtype])
        failure = compare_call(kernel, candidate, ref, args, kwargs, mutated, terms, rtol)
        if failure is not None:
            found.append(failure)
            raise AssertionError(failure["message"])
    return prop


RUNS = (
    ("sgd, sigmoid + bce", dict(sizes=[3, 5, 1], activation="tanh", output="sigmoid"), dict(optimizer="sgd", lr=0.5)),
    ("adam, relu + batch norm + dropout, softmax + cce",
     dict(sizes=[3, 6, 4, 3], activation="relu", output="softmax", batch_norm=True, dropout=0.2),
     dict(optimizer="adam", lr=0.01)),
    ("momentum, leaky relu, mse", dict(sizes=[3, 4, 2], activation="leaky_relu", output="linear", loss="mse"),
     dict(optimizer="momentum", lr=0.05, l2=0.1)),
    ("adam, sigmoid, mse", dict(sizes=[3, 5, 2], activation="sigmoid", output="linear", loss="mse"),
     dict(optimizer="adam", lr=0.01)),
    ("sgd, relu then tanh, softmax + cce", dict(sizes=[3, 6, 5, 3], activation=["relu", "tanh"], output="softmax"),
     dict(optimizer="sgd", lr=0.1)),
)


def training_runs(name, candidate, ref, dtypes, epochs=3, rtol=None):
    """Short training runs (:data:`RUNS`) from one seed on both backends; their final
    weights must agree to ``1000 × rtol[dtype]`` (``rtol``: a dict by dtype, default
    :data:`RTOL`), relative and absolute."""
    from . import MLP, backends
    rng = np.random.default_rng(7)
    X = rng.standard_normal((24, 3))
    results = []
    temporary = name not in backends.names()
    label = "_conformance_candidate" if temporary else name
    if temporary:
        backends._registered[label] = candidate
    try:
        for title, arch, fit in RUNS:
            for dtype in dtypes:
                sizes = arch["sizes"]
                y = (rng.integers(0, sizes[-1], 24) if arch["output"] == "softmax"
                     else (X[:, :sizes[-1]] > 0).astype(int) if arch["output"] == "sigmoid"
                     else X[:, :sizes[-1]] * 0.5)
                models = [MLP(sizes, seed=3, backend=b, dtype=dtype.name, **{k: v for k, v in arch.items() if k != "sizes"})
                          for b in (label, ref.name)]
                try:
                    with np.errstate(all="ignore"):
                        for model in models:
                            model.fit(X, y, epochs=epochs, batch_size=8, **fit)
                except Exception as exc:
                    results.append(KernelResult("training", title, dtype.name, False, 1,
                                                {"message": f"raised {type(exc).__name__}: {exc}", "input": title}))
                    continue
                failure = None
                rtol_w = 1e3 * (rtol or RTOL)[dtype]
                pairs = [(f"layer{i}/{kind}", a, b) for i, (la, lb) in enumerate(zip(*(m.layers for m in models)))
                         for kind, a, b in zip(la.parameter_kinds(), la.parameters(), lb.parameters())]
                for w_name, a, b in pairs:
                    close = np.isclose(a, b, rtol=rtol_w, atol=rtol_w)
                    if not np.all(close):
                        index = tuple(int(i) for i in np.argwhere(~close)[0])
                        failure = {"message": f"after {epochs} epochs, weights {w_name} differ", "output": w_name,
                                   "index": index, "expected": float(b[index]), "actual": float(a[index]),
                                   "ulps": ulp_distance(b[index], a[index]).item(), "input": title}
                        break
                results.append(KernelResult("training", title, dtype.name, failure is None, 1, failure))
    finally:
        if temporary:
            backends._registered.pop(label, None)
    return results


__all__ = ["check_backend", "has_own_kernel", "ConformanceReport", "KernelResult", "compare_call", "edge_cases", "RTOL"]
