"""``pyneuron bench``: one speed report, every figure measured in the same run, one thread.

1. the matmul ladder (naive, loop order, cache blocking, packed AVX2/FMA, packed
   AVX-512 where the CPU has it) at n = 64 ... 1024 in float64 and float32, in GFLOPS and
   as a % of NumPy's matmul (OpenBLAS on the kernel it picked, named in the header);
2. training through ``model.fit`` (:mod:`pyneuron.bench_fit`): µs per step for the c and
   numpy backends, a hand-written NumPy loop (``bench/``) and PyTorch eager, on the
   configurations of issue 10, and the peak memory of an epoch on the 784 net;
3. one bare SGD step (``sgd_train_step``) per backend beside the hand-written step;
4. the scalar backend on the small net, with its slowdown against numpy;

then which targets are met, and by how much the others are missed.

Every figure is process CPU time with the engines interleaved over rounds, a median with
the spread of the rounds (:mod:`pyneuron.bench_common`).

BLAS must run on one thread for the comparison to be fair, and OpenBLAS reads its
thread count only when NumPy is first imported. ``pyneuron bench`` has imported NumPy
already, so :func:`main` re-runs itself in a fresh interpreter with
``OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=MKL_NUM_THREADS=1`` unless they are set already.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from .bench_common import THREAD_VARS as _THREAD_VARS
from .bench_common import _ROOT
from .bench_common import interleaved, load_bench_function, machine_lines


def _single_threaded() -> bool:
    return all(os.environ.get(v) == "1" for v in _THREAD_VARS)


def _rerun_single_threaded(argv) -> int:
    """Run this report in a fresh interpreter with the thread variables set, importing the
    same pyneuron as this process (``-m`` would put the working directory first, which
    from a source checkout means the unbuilt tree rather than the installed package)."""
    env = dict(os.environ, **{v: "1" for v in _THREAD_VARS})
    code = ("import sys; sys.path.insert(0, sys.argv[1]); "
            "from pyneuron.bench_report import main; sys.exit(main(sys.argv[2:]))")
    return subprocess.call([sys.executable, "-c", code, _ROOT, *argv], env=env)


# ---------------------------------------------------------------- (1) the matmul ladder
RUNGS = ("naive", "reorder", "blocked", "simd", "avx512")


def ladder_section(np, sizes, repeats, min_time, out):
    """GFLOPS of every rung and of NumPy at each n; returns {(dtype, n, rung): fraction of
    NumPy's GFLOPS}."""
    from pyneuron.backends import c_backend
    best = c_backend.simd_level(available=True)
    rungs = [r for r in RUNGS if (r != "simd" or c_backend.simd_available())
             and (r != "avx512" or best == "avx512")]
    out("(1) matmul ladder: C = A·B, n×n; GFLOPS, median of interleaved rounds, and % of "
        "NumPy's matmul")
    out(f"  {'dtype':8}{'n':>5}" + "".join(f"{r:>16}" for r in rungs) + f"{'numpy':>10}")
    results = {}
    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        for n in sizes:
            A = rng.standard_normal((n, n)).astype(dtype)
            B = rng.standard_normal((n, n)).astype(dtype)
            C = np.empty((n, n), dtype)
            flops = 2.0 * n ** 3
            engines = {"numpy": lambda: np.matmul(A, B, out=C)}
            for rung in rungs:
                if rung == "naive" and n > 256 or rung == "reorder" and n > 512:
                    continue  # minutes per call: the point is made at smaller n
                engines[rung] = lambda rung=rung: c_backend.matmul(A, B, rung, out=C)
            figures = interleaved(engines, repeats, min_time)
            gf_np = flops / figures["numpy"].median / 1e9
            cells = []
            for rung in rungs:
                if rung not in figures:
                    cells.append("—")
                    continue
                gf = flops / figures[rung].median / 1e9
                results[(np.dtype(dtype).name, n, rung)] = gf / gf_np
                cells.append(f"{gf:7.1f} ({100 * gf / gf_np:3.0f}%)")
            out(f"  {np.dtype(dtype).name:8}{n:>5}" + "".join(f"{c:>16}" for c in cells)
                + f"{gf_np:>10.1f}")
    out("")
    return results


def threads_section(np, sizes, repeats, min_time, out):
    """The threads rung: the top rung on 1 thread against 2 threads, wall-clock (the only
    place this report uses it: threads add up their CPU time). Returns {(dtype, n): speed-up}."""
    from pyneuron.backends import c_backend
    if not c_backend.openmp_available():
        out("  threads rung: this build has no OpenMP (the kernels run on one thread)")
        return {}
    if not any(n >= 512 for n in sizes):
        return {}
    before = c_backend.threads()
    results = {}
    rng = np.random.default_rng(0)
    cells = []
    try:
        for dtype in (np.float64, np.float32):
            for n in [n for n in sizes if n >= 512]:
                A = rng.standard_normal((n, n)).astype(dtype)
                B = rng.standard_normal((n, n)).astype(dtype)
                C = np.empty((n, n), dtype)

                def on(k):
                    c_backend.set_threads(k)
                    c_backend.matmul(A, B, "auto", out=C)
                figures = interleaved({"1": lambda: on(1), "2": lambda: on(2)}, repeats, min_time,
                                      clock=time.perf_counter)
                r = figures["1"].median / figures["2"].median
                results[(np.dtype(dtype).name, n)] = r
                cells.append(f"{np.dtype(dtype).name} n={n} {r:.2f}×")
    finally:
        c_backend.set_threads(before)
    out("  threads rung, 2 threads against 1 (wall-clock, interleaved; the cores are shared): "
        + ", ".join(cells))
    out("")
    return results


# ---------------------------------------------------------------- (2) training steps
def two_moons(np, n, seed=0, noise=0.2):
    """Two interleaving half circles, as in scikit-learn's make_moons."""
    rng = np.random.default_rng(seed)
    half = n // 2
    t_out, t_in = np.linspace(0, np.pi, half), np.linspace(0, np.pi, n - half)
    X = np.vstack([np.c_[np.cos(t_out), np.sin(t_out)],
                   np.c_[1 - np.cos(t_in), 0.5 - np.sin(t_in)]])
    X += noise * rng.standard_normal(X.shape)
    y = np.r_[np.zeros(half), np.ones(n - half)]
    order = rng.permutation(n)
    return np.ascontiguousarray(X[order]), y[order].reshape(-1, 1)


def digits(np):
    """1437 digit images (8×8 = 64 features) and one-hot labels: scikit-learn's digits if
    installed (its first 80 %), else random data of that shape."""
    try:
        from sklearn.datasets import load_digits
        d = load_digits()
        X, labels, source = d.data[:1437] / 16.0, d.target[:1437], "sklearn digits"
    except ImportError:
        rng = np.random.default_rng(0)
        X, labels, source = rng.random((1437, 64)), rng.integers(0, 10, 1437), "random"
    return np.ascontiguousarray(X), np.eye(10)[labels], source


def init_params(np, sizes, seed=0):
    """He-initialized weights ``(n_out, n_in)`` and zero biases for layer ``sizes``,
    drawn with ``np`` (the module given) from ``seed``: the hand-written loop's start."""
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal((o, i)) * np.sqrt(2.0 / i) for i, o in zip(sizes, sizes[1:])]
    return weights, [np.zeros(o) for o in sizes[1:]]


def torch_runner(np, sizes, output, lr):
    """A step and an epoch function for PyTorch CPU (float64, one thread), or None."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(torch.nn.Linear(a, b).double())
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    net = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    if output == "sigmoid":
        lossf = torch.nn.functional.binary_cross_entropy_with_logits
    else:
        lossf = torch.nn.functional.cross_entropy

    def step(X, Y):
        opt.zero_grad()
        loss = lossf(net(X), Y)
        loss.backward()
        opt.step()
        return loss.item()

    def tensors(X, Y):
        return torch.from_numpy(X), torch.from_numpy(Y)

    return step, tensors, torch.__version__


CASES = [
    ("2-16-8-1 relu/sigmoid, moons, batch 32", [2, 16, 8, 1], "sigmoid", 32, "moons"),
    ("2-16-8-1 relu/sigmoid, moons, full batch 400", [2, 16, 8, 1], "sigmoid", 400, "moons"),
    ("64-64-32-10 relu/softmax, digits, batch 32", [64, 64, 32, 10], "softmax", 32, "digits"),
]


def step_section(np, repeats, min_time, with_scalar, out):
    """One bare SGD step (the ``sgd_train_step`` kernel) per engine; returns
    {title: {engine: median seconds}}."""
    from pyneuron import backends
    reference = load_bench_function("reference_numpy_step.py", "reference_step")
    lr = 0.01
    out("(3) one bare training step (forward + backward + SGD update, the sgd_train_step "
        "kernel), float64; µs per step, median (spread)")
    if reference is None:
        out("    (the hand-written NumPy reference lives in bench/ of a source checkout: "
            "not found here)")
    results = {}
    X_moons, y_moons = two_moons(np, 400)
    X_dig, Y_dig, source = digits(np)
    names = [n for n in ("c", "numpy") if n in backends.available()]
    torch_info = None
    for title, sizes, output, batch, data in CASES:
        X, Y = (X_moons, y_moons) if data == "moons" else (X_dig, Y_dig)
        loss = "bce" if output == "sigmoid" else "cce"
        acts = ["relu"] * (len(sizes) - 2) + [output]
        Xb, Yb = X[:batch], Y[:batch]
        engines = {}
        for name in names:
            k = backends.get(name)
            W, b = init_params(np, sizes)
            engines[f"pyneuron {name}"] = lambda k=k, W=W, b=b: k.sgd_train_step(Xb, Yb, W, b, acts, loss, lr)
        if reference is not None:
            W, b = init_params(np, sizes)
            engines["hand-written NumPy"] = lambda W=W, b=b: reference(Xb, Yb, W, b, output, lr)
        runner = torch_runner(np, sizes, output, lr)
        if runner is not None:
            tstep, tensors, torch_info = runner
            tb = tensors(Xb, Yb.argmax(axis=1)) if output == "softmax" else tensors(Xb, Yb)
            engines["PyTorch CPU"] = lambda: tstep(*tb)
        if with_scalar and data == "moons":
            k = backends.get("scalar")
            W, b = init_params(np, sizes)
            engines["pyneuron scalar"] = lambda k=k, W=W, b=b: k.sgd_train_step(Xb, Yb, W, b, acts, loss, lr)
        figures = interleaved(engines, repeats, min_time)
        out(f"  {title} ({len(X)} samples{', ' + source if data == 'digits' else ''}): "
            + "; ".join(f"{name.replace('pyneuron ', '')} {f.median * 1e6:.1f} ({f.spread()})"
                        for name, f in figures.items()))
        results[title] = {name: f.median for name, f in figures.items()}
    if torch_info is None:
        out("  PyTorch: not installed, so not in the table (pip install torch)")
    else:
        out(f"  PyTorch {torch_info}: nn.Sequential of Linear/ReLU, *_with_logits / cross_entropy "
            "loss, torch.optim.SGD")
    out("")
    return results


def scalar_section(step_results, out):
    """Section (4) of the report through ``out``: the scalar backend's µs per step on
    the small net and how many times slower than numpy it is."""
    out("(4) the scalar backend (pure Python loops) on the small net, against numpy")
    for title, med in step_results.items():
        if "pyneuron scalar" in med:
            out(f"  {title}: scalar {med['pyneuron scalar'] * 1e6:,.0f} µs per step, "
                f"{med['pyneuron scalar'] / med['pyneuron numpy']:.0f}× slower than numpy")
    out("")


def targets_section(ladder, threads, fits, peaks, out):
    """Issue 10's targets: which are met, and by how much the others miss."""
    from .bench_fit import CASES as FIT_CASES
    out("targets (issue 10; ratios of medians from this run)")

    def line(ok, text):
        out(f"  [{'met' if ok else 'MISSED'}] {text}")

    top = "avx512" if any(r == "avx512" for _, _, r in ladder) else "simd"
    for dtype in ("float64", "float32"):
        got = [(n, r) for (d, n, rung), r in ladder.items() if d == dtype and rung == top and n >= 256]
        if got:
            worst = min(r for _, r in got)
            line(worst >= 0.9, f"top rung ({top}) ≥ 0.9× NumPy's BLAS at n ≥ 256, {dtype}: "
                 + ", ".join(f"n={n} {r:.2f}×" for n, r in sorted(got)))
    if threads:
        worst = min(threads.values())
        line(worst >= 1.7, "threads rung ≥ 1.7× one thread at n ≥ 512: "
             + ", ".join(f"{d} n={n} {r:.2f}×" for (d, n), r in sorted(threads.items())))
    else:
        line(False, "threads rung ≥ 1.7× one thread at n ≥ 512: not measured (no OpenMP, "
             "or no size ≥ 512 asked for)")
    titles = [c[0] for c in FIT_CASES]
    med = {t: {k: f.median for k, f in fits.get(t, {}).items()} for t in titles}

    def ratio(title, a, b):
        m = med.get(title, {})
        return m[a] / m[b] if a in m and b in m else None

    c_vs_np = [(titles[0], 12.0), (titles[1], 8.0), (titles[3], 3.0), (titles[4], 3.0)]
    for title, goal in c_vs_np:
        r = ratio(title, "pyneuron numpy", "pyneuron c")
        if r is not None:
            line(r >= goal, f"fit, c ≥ {goal:g}× numpy backend, {title}: {r:.2f}×")
    for title, goal in [(titles[5], 1.0), (titles[6], 1.0), (titles[2], 3.0), (titles[3], 3.0),
                        (titles[4], 3.0)]:
        r = ratio(title, "hand-written NumPy", "pyneuron c")
        if r is not None:
            line(r >= goal, f"fit, c ≥ {goal:g}× the hand-written NumPy loop, {title}: {r:.2f}×")
    for title in titles[:2]:
        r = ratio(title, "PyTorch eager", "pyneuron c")
        if r is not None:
            line(r >= 30, f"fit, c ≥ 30× PyTorch eager, {title}: {r:.1f}×")
    for title in titles:
        r = ratio(title, "pyneuron numpy", "hand-written NumPy")
        if r is not None:
            line(r <= 1.15, f"fit, numpy backend within 1.15× of the hand-written loop, {title}: {r:.2f}×")
    if peaks and "hand-written" in peaks and peaks["hand-written"] > 0:
        r = peaks["c"] / peaks["hand-written"]
        line(r <= 1.5, f"peak memory of fit (c) ≤ 1.5× the hand-written loop's, 784 net: {r:.2f}×")


def _positive_ints(text):
    """``--sizes``: comma-separated integers >= 1."""
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers such as 64,128, got {text!r}")
    return values


def _positive_int(text):
    """``--repeats``: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def main(argv=None) -> int:
    """Print the speed report. ``--quick`` is a fast smoke run (small sizes, few repeats)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="pyneuron bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="a fast smoke run: n = 64, 128 and few, short repeats")
    parser.add_argument("--sizes", type=_positive_ints,
                        help="matmul sizes, comma-separated (default 64,128,256,512,1024)")
    parser.add_argument("--repeats", type=_positive_int, help="timed runs per figure (default 7, quick 3)")
    parser.add_argument("--no-scalar", action="store_true", help="skip the scalar backend")
    args = parser.parse_args(argv)
    if not _single_threaded():
        return _rerun_single_threaded(argv)

    import numpy as np
    from pyneuron import backends
    if "c" not in backends.available():
        print(f"pyneuron bench: {backends.unavailable_reason('c')}", file=sys.stderr)
        return 1
    sizes = args.sizes or ([64, 128] if args.quick else [64, 128, 256, 512, 1024])
    repeats = args.repeats or (3 if args.quick else 7)
    min_time = 0.002 if args.quick else 0.05
    out = print
    cmd = "pyneuron bench " + " ".join(argv)
    out(f"pyneuron speed report — `{cmd.strip()}` — {time.strftime('%Y-%m-%d %H:%M')}")
    for line in machine_lines(np):
        out(line)
    if args.quick:
        out("note    : --quick is a smoke run (short, few repeats): its figures are rough")
    out("")
    from .bench_fit import fit_section, memory_line
    ladder = ladder_section(np, sizes, repeats, min_time, out)
    threads = threads_section(np, sizes, repeats, min_time, out)
    fits = fit_section(np, repeats, out, quick=args.quick)
    peaks = None if args.quick else memory_line(np, out)
    out("")
    steps = step_section(np, repeats, min_time, not args.no_scalar, out)
    if not args.no_scalar:
        scalar_section(steps, out)
    targets_section(ladder, threads, fits, peaks, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
