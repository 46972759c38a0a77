"""``pyneuron bench``: one speed report, every figure measured in the same run, one thread.

1. the matmul ladder (naive, loop order, cache blocking, packed AVX2/FMA) at
   n = 64 ... 512 in float64 and float32, in GFLOPS and as a % of NumPy's matmul;
2. one training step and one epoch per backend for 2-16-8-1 relu/sigmoid on two moons
   (batch 32 and full batch 400) and 64-64-32-10 relu/softmax (batch 32, 1437 samples),
   beside PyTorch CPU (if installed) and a hand-written NumPy step (``bench/``);
3. the scalar backend on the small net, with its slowdown against numpy.

BLAS must run on one thread for the comparison to be fair, and OpenBLAS reads its
thread count only when NumPy is first imported. ``pyneuron bench`` has imported NumPy
already, so :func:`main` re-runs itself in a fresh interpreter with
``OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=MKL_NUM_THREADS=1`` unless they are set already.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import statistics
import subprocess
import sys
import time

_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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


# ---------------------------------------------------------------- timing
def measure(fn, repeats, min_time):
    """Per-call seconds of ``fn``: (median, min) over ``repeats`` runs, each run calling it
    often enough to last at least ``min_time`` seconds."""
    number, t0 = 1, time.perf_counter()
    fn()
    once = time.perf_counter() - t0
    if once < min_time:
        number = max(1, int(min_time / max(once, 1e-7)))
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        runs.append((time.perf_counter() - t0) / number)
    return statistics.median(runs), min(runs)


# ---------------------------------------------------------------- the machine
def machine_lines(np):
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    blas = "unknown BLAS"
    try:
        info = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{info.get('name')} {info.get('version')}"
    except Exception:  # older NumPy: no dict mode
        pass
    from pyneuron.backends import c_backend
    try:
        load = "load average %.2f %.2f %.2f (other processes share these cores)" % os.getloadavg()
    except OSError:
        load = "load average unknown"
    return [
        f"machine : {cpu}; {os.cpu_count()} logical cores ({usable} usable); "
        f"AVX2+FMA kernels: {'yes' if c_backend.simd_available() else 'no (portable code)'}",
        f"software: Python {platform.python_version()}, NumPy {np.__version__} ({blas}), "
        f"{platform.system()} {platform.release()}",
        "threads : one — " + ", ".join(f"{v}={os.environ.get(v)}" for v in _THREAD_VARS)
        + " (set before NumPy was imported); torch.set_num_threads(1)",
        f"load    : {load}",
    ]


# ---------------------------------------------------------------- (1) the matmul ladder
RUNGS = ("naive", "reorder", "blocked", "simd")


def ladder_section(np, sizes, repeats, min_time, out):
    from pyneuron.backends import c_backend
    rungs = [r for r in RUNGS if r != "simd" or c_backend.simd_available()]
    out("(1) matmul ladder: C = A·B, n×n; GFLOPS (best run) and % of NumPy's matmul in "
        "the same run")
    head = f"  {'dtype':8}{'n':>5}" + "".join(f"{r:>16}" for r in rungs) + f"{'numpy':>10}"
    out(head)
    results = {}
    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        for n in sizes:
            A = rng.standard_normal((n, n)).astype(dtype)
            B = rng.standard_normal((n, n)).astype(dtype)
            C = np.empty((n, n), dtype)
            flops = 2.0 * n ** 3
            _, t_np = measure(lambda: np.matmul(A, B, out=C), repeats, min_time)
            gf_np = flops / t_np / 1e9
            cells = []
            for rung in rungs:
                slow = rung == "naive" or (rung == "reorder" and n >= 512)
                _, t = measure(lambda: c_backend.matmul(A, B, rung, out=C),
                               max(2, repeats // 2) if slow else repeats, min_time)
                gf = flops / t / 1e9
                results[(np.dtype(dtype).name, n, rung)] = gf / gf_np
                cells.append(f"{gf:7.1f} ({100 * gf / gf_np:3.0f}%)")
            out(f"  {np.dtype(dtype).name:8}{n:>5}" + "".join(f"{c:>16}" for c in cells)
                + f"{gf_np:>10.1f}")
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
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal((o, i)) * np.sqrt(2.0 / i) for i, o in zip(sizes, sizes[1:])]
    return weights, [np.zeros(o) for o in sizes[1:]]


def load_reference():
    """``reference_step`` from bench/ of the source tree this package runs from, or of the
    current directory (an installed package run from a checkout); None if neither has it."""
    for root in (_ROOT, os.getcwd()):
        path = os.path.join(root, "bench", "reference_numpy_step.py")
        if os.path.exists(path):
            break
    else:
        return None
    spec = importlib.util.spec_from_file_location("reference_numpy_step", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.reference_step


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
    from pyneuron import backends
    reference = load_reference()
    lr = 0.01
    out("(2) one training step (forward + backward + SGD update) and one epoch, float64; "
        "µs per step (median / best run), ms per epoch (median)")
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
        batches = [(X[s:s + batch], Y[s:s + batch]) for s in range(0, len(X), batch)]
        Xb, Yb = batches[0]
        out(f"  {title} ({len(X)} samples{', ' + source if data == 'digits' else ''}, "
            f"{len(batches)} steps per epoch)")
        out(f"    {'engine':24}{'step median':>12}{'best':>10}{'epoch ms':>10}")
        rows = {}

        def run(label, step_fn, epoch_fn, reps=repeats):
            med, best = measure(step_fn, reps, min_time)
            ep, _ = measure(epoch_fn, max(1, reps // 2), 0.0)
            rows[label] = (med, best, ep)
            out(f"    {label:24}{med * 1e6:>12.1f}{best * 1e6:>10.1f}{ep * 1e3:>10.2f}")

        for name in names:
            k = backends.get(name)
            W, b = init_params(np, sizes)
            run(f"pyneuron {name}", lambda: k.sgd_train_step(Xb, Yb, W, b, acts, loss, lr),
                lambda: [k.sgd_train_step(x, y, W, b, acts, loss, lr) for x, y in batches])
        if reference is not None:
            W, b = init_params(np, sizes)
            run("hand-written NumPy", lambda: reference(Xb, Yb, W, b, output, lr),
                lambda: [reference(x, y, W, b, output, lr) for x, y in batches])
        runner = torch_runner(np, sizes, output, lr)
        if runner is not None:
            tstep, tensors, torch_info = runner
            if output == "softmax":
                tb = [(tensors(x, y.argmax(axis=1))) for x, y in batches]
            else:
                tb = [tensors(x, y) for x, y in batches]
            run("PyTorch CPU", lambda: tstep(*tb[0]), lambda: [tstep(x, y) for x, y in tb])
        if with_scalar and data == "moons":
            k = backends.get("scalar")
            W, b = init_params(np, sizes)
            run("pyneuron scalar", lambda: k.sgd_train_step(Xb, Yb, W, b, acts, loss, lr),
                lambda: [k.sgd_train_step(x, y, W, b, acts, loss, lr) for x, y in batches],
                reps=max(2, repeats // 2))
        ratios = []
        med = {k: v[0] for k, v in rows.items()}
        if "pyneuron c" in med:
            ratios.append(f"c is {med['pyneuron numpy'] / med['pyneuron c']:.1f}× numpy backend")
            if "PyTorch CPU" in med:
                ratios.append(f"{med['PyTorch CPU'] / med['pyneuron c']:.1f}× PyTorch")
        if "hand-written NumPy" in med:
            ratios.append(f"numpy backend takes {med['pyneuron numpy'] / med['hand-written NumPy']:.2f}× "
                          "the hand-written step")
        out("    ratios (step medians): " + "; ".join(ratios))
        results[title] = med
    if torch_info is None:
        out("  PyTorch: not installed, so not in the table (pip install torch)")
    else:
        out(f"  PyTorch {torch_info}: nn.Sequential of Linear/ReLU, *_with_logits / cross_entropy "
            "loss, torch.optim.SGD")
    out("")
    return results


def scalar_section(step_results, out):
    out("(3) the scalar backend (pure Python loops) on the small net, against numpy")
    for title, med in step_results.items():
        if "pyneuron scalar" in med:
            out(f"  {title}: scalar {med['pyneuron scalar'] * 1e6:,.0f} µs per step, "
                f"{med['pyneuron scalar'] / med['pyneuron numpy']:.0f}× slower than numpy")
    out("")


def targets_section(ladder, steps, out):
    out("targets")

    def line(ok, text):
        out(f"  [{'met' if ok else 'MISSED'}] {text}")

    for dtype, goal in (("float64", 0.90), ("float32", 0.85)):
        got = [(n, r) for (d, n, rung), r in ladder.items() if d == dtype and rung == "simd" and n >= 256]
        if got:
            worst = min(r for _, r in got)
            line(worst >= goal, f"simd rung ≥ {goal:.0%} of NumPy at n ≥ 256, {dtype}: "
                 + ", ".join(f"n={n} {r:.0%}" for n, r in got))
    goals = [10.0, 2.5, 2.5]
    for (title, *_), goal in zip(CASES, goals):
        med = steps.get(title, {})
        if "pyneuron c" not in med:
            continue
        r = med["pyneuron numpy"] / med["pyneuron c"]
        line(r >= goal, f"c step ≥ {goal}× numpy backend, {title}: {r:.1f}×")
        if "PyTorch CPU" in med:
            line(med["pyneuron c"] < med["PyTorch CPU"],
                 f"c step faster than PyTorch CPU, {title}: "
                 f"{med['PyTorch CPU'] / med['pyneuron c']:.1f}×")
        if "hand-written NumPy" in med:
            r = med["pyneuron numpy"] / med["hand-written NumPy"]
            line(r <= 1.5, f"numpy backend within 1.5× of the hand-written step, {title}: {r:.2f}×")


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
                        help="matmul sizes, comma-separated (default 64,128,256,512)")
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
    sizes = args.sizes or ([64, 128] if args.quick else [64, 128, 256, 512])
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
    ladder = ladder_section(np, sizes, repeats, min_time, out)
    steps = step_section(np, repeats, min_time, not args.no_scalar, out)
    if not args.no_scalar:
        scalar_section(steps, out)
    targets_section(ladder, steps, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
