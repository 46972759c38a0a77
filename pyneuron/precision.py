"""How many last bits does each engine get wrong? ``pyneuron precision`` / :func:`precision_report`.

For each kernel, each backend and each dtype, the kernel runs on generated inputs and
every element of its result is compared with the *exact* result: computed with mpmath
at 40 significant digits (133 bits: every product of two float64 numbers is exact, and a
sum of a few hundred of them loses nothing a float64 result can show), from the very
inputs the kernel saw (for float32, the inputs rounded to float32 first, so the report
measures the kernel, not the rounding of its inputs), then rounded to the kernel's
dtype. The distance is counted in ulps (:mod:`pyneuron.ulps`); 0 means the correctly
rounded answer, 1 the neighbouring float. (For float32 the exact value is rounded to
float64 and then to float32; that double rounding can cost 1 ulp, rarely.)

The matmul ladder of the C backend is measured rung by rung: ``naive`` (i-j-k) and
``reorder`` (i-k-j) add the products in order, one rounding per multiply and per add;
``blocked`` adds them in blocks (another order, other last bits); ``simd``/``avx512``/
``small``/``narrow`` use fused multiply-adds (one rounding for ``a*b + c``) in order over k
(``simd``, ``avx512`` and ``small`` add up blocks of 256 k; ``narrow``'s last rows keep
partial sums over alternating k); BLAS (NumPy) has its own order. No order is exact: each
changes which bits are lost, so results differ by a few ulps.

A training run closes the report: the final weights of each engine and dtype after a
few epochs, in ulps from the scalar backend's float64 run (the reference engine here,
not an exact result: exact training would need exact arithmetic all the way).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .ulps import ulp_distance

DTYPES = ("float64", "float32")


def _mp():
    try:
        import mpmath
    except ImportError as exc:      # pragma: no cover - mpmath comes with the test extra
        raise ImportError("pyneuron precision needs mpmath (pip install mpmath; the test extra has it)") from exc
    ctx = mpmath.mp.clone() if hasattr(mpmath.mp, "clone") else mpmath.mp
    ctx.dps = 40
    return ctx


def _exact(kernel, args, mp):
    """The exact result of ``kernel`` on ``args`` (mpmath numbers in nested lists)."""
    f = lambda x: mp.mpf(float(x))        # noqa: E731  (every float32/float64 is exact in mpf)
    if kernel == "matmul":
        A, B = args
        return [[mp.fsum(f(A[i, k]) * f(B[k, j]) for k in range(A.shape[1])) for j in range(B.shape[1])]
                for i in range(A.shape[0])]
    if kernel == "linear_forward":
        X, W, b = args
        return [[mp.fsum([f(b[i])] + [f(W[i, j]) * f(X[s, j]) for j in range(X.shape[1])])
                 for i in range(W.shape[0])] for s in range(X.shape[0])]
    if kernel.startswith("activation_forward:"):
        name, Z = kernel.split(":")[1], args[1]
        if name == "softmax":
            rows = []
            for s in range(Z.shape[0]):
                e = [mp.exp(f(z)) for z in Z[s]]
                total = mp.fsum(e)
                rows.append([x / total for x in e])
            return rows
        fn = {"sigmoid": lambda z: 1 / (1 + mp.exp(-z)), "tanh": mp.tanh}[name]
        return [[fn(f(z)) for z in row] for row in Z]
    if kernel == "loss_from_logits:bce":
        Z, Y = args[1], args[2]
        terms = [mp.log(1 + mp.exp(f(z))) - f(y) * f(z) for z, y in zip(Z.ravel(), Y.ravel())]
        return mp.fsum(terms) / Z.size
    if kernel == "batchnorm_forward":
        Z = args[0]
        m = Z.shape[0]
        cols = []
        for j in range(Z.shape[1]):
            col = [f(z) for z in Z[:, j]]
            mean = mp.fsum(col) / m
            var = mp.fsum((z - mean) ** 2 for z in col) / m
            cols.append([(z - mean) / mp.sqrt(var + f(args[3])) for z in col])
        return [[cols[j][s] for j in range(Z.shape[1])] for s in range(m)]
    raise ValueError(f"kernel: no exact reference for {kernel!r}")


def _cases(rng, size):
    """(label, kernel name, argument builder) of the measured kernels."""
    m, k, n = size, 3 * size, max(size // 2, 1)
    return [
        ("matmul", "matmul", lambda t: (rng.standard_normal((m, k)).astype(t), rng.standard_normal((k, n)).astype(t))),
        ("linear_forward", "linear_forward", lambda t: (
            rng.standard_normal((m, k)).astype(t), rng.standard_normal((n, k)).astype(t), rng.standard_normal(n).astype(t))),
        ("activation_forward: sigmoid", "activation_forward:sigmoid",
         lambda t: ("sigmoid", (rng.standard_normal((m, n)) * 6).astype(t))),
        ("activation_forward: tanh", "activation_forward:tanh",
         lambda t: ("tanh", (rng.standard_normal((m, n)) * 3).astype(t))),
        ("activation_forward: softmax", "activation_forward:softmax",
         lambda t: ("softmax", (rng.standard_normal((m, n)) * 5).astype(t))),
        ("loss_from_logits: bce", "loss_from_logits:bce", lambda t: (
            "bce", (rng.standard_normal((m, 1)) * 4).astype(t), (rng.random((m, 1)) < 0.5).astype(t))),
        ("batchnorm_forward", "batchnorm_forward", lambda t: (
            (rng.standard_normal((m, n)) * 2 + 1).astype(t), np.ones(n, t), np.zeros(n, t), 1e-5)),
    ]


@dataclass
class PrecisionReport:
    """Rows of ``(what, engine, dtype, max ulps, median ulps)`` (``rows``), and the
    training rows ``(engine, dtype, max ulps, median ulps)`` (``training``)."""
    rows: list = field(default_factory=list)
    training: list = field(default_factory=list)

    def __str__(self):
        lines = ["ulps from the exact result (mpmath, 40 digits), rounded to each dtype",
                 f"  {'kernel':<30} {'engine':<14} {'dtype':<8} {'max':>6} {'median':>7}"]
        for what, engine, dtype, worst, median in self.rows:
            lines.append(f"  {what:<30} {engine:<14} {dtype:<8} {worst:>6} {median:>7g}")
        if self.training:
            lines.append("final weights after training, ulps from the scalar backend's float64 run")
            for engine, dtype, worst, median in self.training:
                lines.append(f"  {engine:<14} {dtype:<8} max {worst}  median {median:g}")
        return "\n".join(lines)


def _ulps(got, exact, dtype):
    want = np.array([float(x) for x in np.ravel(np.array(exact, dtype=object))]).astype(dtype)
    d = ulp_distance(np.ravel(np.asarray(got)).astype(dtype), want, dtype).astype(np.float64)
    return int(d.max()), float(np.median(d))


def precision_report(backends=None, dtypes=DTYPES, size=8, seed=0, training=True, ladder=True):
    """Measure each kernel's distance from the exact result, per backend and dtype (see
    the module doc); returns a :class:`PrecisionReport` (prints as a table).

    ``backends``: names (default: every available one); ``size``: rows of the generated
    inputs (columns follow); ``ladder``: also each rung of the C matmul. Raises
    ``ValueError`` for an unknown backend or dtype, ``ImportError`` without mpmath."""
    from . import available_backends
    from . import backends as registry
    from .validation import check_dtype, check_positive_int
    mp = _mp()
    names = list(backends) if backends is not None else available_backends()
    engines = [(name, registry.get(name)) for name in names]
    dtypes = [np.dtype(check_dtype(t)) for t in dtypes]
    size = check_positive_int(size, "size")
    report = PrecisionReport()
    for label, kernel, build in _cases(np.random.default_rng(seed), size):
        for dtype in dtypes:
            args = build(dtype.type)
            exact = _exact(kernel, args, mp)
            method = kernel.split(":")[0]
            for name, engine in engines:
                if dtype not in [np.dtype(t) for t in engine.dtypes]:
                    continue
                with np.errstate(all="ignore"):
                    got = getattr(engine, method)(*args)
                got = got[0] if isinstance(got, tuple) else got
                report.rows.append((label, name, dtype.name, *_ulps(got, exact, dtype)))
            if kernel == "matmul" and ladder and "c" in available_backends():
                from .backends import c_backend
                for rung in c_backend.VARIANTS:
                    try:
                        got = c_backend.matmul(*args, variant=rung)
                    except (RuntimeError, ValueError):     # this CPU lacks the rung, or too wide
                        continue
                    report.rows.append((label, f"c/{rung}", dtype.name, *_ulps(got, exact, dtype)))
    if training:
        report.training = _training(names, dtypes, seed)
    return report


def _training(names, dtypes, seed, epochs=5):
    from . import MLP, backends as registry
    from .datasets import make_moons
    X, y = make_moons(64, noise=0.2, seed=seed)
    ref = MLP([2, 8, 1], activation="tanh", seed=seed, backend="scalar")
    ref.fit(X, y, epochs=epochs, batch_size=16, lr=0.1)
    ref_w = np.concatenate([w.ravel() for w in ref.get_weights()])
    rows = []
    for name in names:
        for dtype in dtypes:
            if dtype not in [np.dtype(t) for t in registry.get(name).dtypes]:
                continue
            model = MLP([2, 8, 1], activation="tanh", seed=seed, backend=name, dtype=dtype.name)
            model.fit(X, y, epochs=epochs, batch_size=16, lr=0.1)
            w = np.concatenate([w.ravel() for w in model.get_weights()])
            d = ulp_distance(w, ref_w.astype(dtype), dtype).astype(np.float64)
            rows.append((name, dtype.name, int(d.max()), float(np.median(d))))
    return rows


def add_arguments(parser):
    """The options of ``pyneuron precision``."""
    parser.add_argument("--backends", default=None, metavar="A,B,...", help="engines (default: every available one)")
    parser.add_argument("--dtypes", default="float64,float32", metavar="T,T", help="dtypes (default float64,float32)")
    parser.add_argument("--size", type=int, default=8, help="rows of the generated inputs (default 8)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the inputs (default 0)")
    parser.add_argument("--no-training", action="store_true", help="leave out the training run")


def run_command(args):
    """``pyneuron precision``: print the report."""
    report = precision_report(backends=args.backends.split(",") if args.backends else None,
                              dtypes=args.dtypes.split(","), size=args.size, seed=args.seed,
                              training=not args.no_training)
    print(report)
    return 0


__all__ = ["precision_report", "PrecisionReport"]
