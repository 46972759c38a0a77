"""What every figure of ``pyneuron bench`` is measured with, and the machine it ran on.

Timing: process CPU time (``time.process_time``), not wall-clock, so another process's
load on the shared cores does not count; engines are *interleaved* -- each round runs
every engine once, the orders chosen so each engine runs right after every other equally
often (:func:`balanced_orders`) -- so a slow spell of the machine, or the caches another
engine leaves spent, falls on all of them alike; each figure is the median over the rounds, with the
spread (lowest and highest round) printed beside it.

The hand-written NumPy engines the figures are compared with are scripts in ``bench/`` of a
source checkout, not part of the package: :func:`load_bench_function` finds and loads them.
"""
from __future__ import annotations

import importlib.util
import os
import platform
import statistics
import time

THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

#: The source tree this package runs from (the folder above ``pyneuron/``).
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Figure:
    """Seconds per unit (a call, a step) of one engine over the rounds."""

    def __init__(self, samples):
        self.samples = sorted(samples)
        self.median = statistics.median(self.samples)
        self.low, self.high = self.samples[0], self.samples[-1]

    def spread(self):
        """The rounds' range around the median, in percent: ``-2/+5%``."""
        m = self.median
        return f"-{100 * (m - self.low) / m:.0f}/+{100 * (self.high - m) / m:.0f}%"


def calibrate(fn, min_time):
    """How many calls of ``fn`` last at least ``min_time`` CPU seconds (at least 1)."""
    fn()
    number, t0 = 1, time.process_time()
    fn()
    once = time.process_time() - t0
    while once * number < min_time and number < 10 ** 7:
        number *= 2
    return number


def balanced_orders(n):
    """Orders of ``range(n)``, one per round, in which every engine runs right after every
    other equally often (a Williams design: ``n`` rows for even ``n``, ``2 n`` for odd).

    A plain rotation keeps the cyclic order, so one engine would nearly always run right
    after the same other one — after PyTorch, say, with its caches spent — and carry that
    cost in every round."""
    if n < 1:
        return [[]]
    first, low, high = [0], 1, n - 1
    for j in range(1, n):
        if j % 2:
            first.append(low)
            low += 1
        else:
            first.append(high)
            high -= 1
    rows = [[(x + r) % n for x in first] for r in range(n)]
    return rows if n % 2 == 0 else rows + [row[::-1] for row in rows]


def interleaved(engines, rounds, min_time=0.0, clock=time.process_time):
    """Time ``engines`` (name -> callable) interleaved over ``rounds``, each round in the
    next of :func:`balanced_orders`.

    A callable returns the number of units it ran (steps of a fit; anything but a positive
    int means one), so the figure is seconds per unit. With ``min_time`` > 0 each callable is first
    repeated enough times to last that long per round. ``clock`` is process CPU time,
    except where threads are compared (their CPU times add up): wall-clock time then.
    Returns name -> :class:`Figure`."""
    numbers = {name: calibrate(fn, min_time) if min_time > 0 else 1 for name, fn in engines.items()}
    names = list(engines)
    samples = {name: [] for name in names}
    orders = balanced_orders(len(names))
    for r in range(rounds):
        for name in (names[i] for i in orders[r % len(orders)]):
            fn, number = engines[name], numbers[name]
            units = 0
            t0 = clock()
            for _ in range(number):
                ran = fn()
                units += ran if isinstance(ran, int) and ran > 0 else 1
            samples[name].append((clock() - t0) / units)
    return {name: Figure(s) for name, s in samples.items()}


def blas_kernel():
    """The BLAS NumPy calls and the kernel it picked for this CPU (threadpoolctl), or why
    it is unknown."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "BLAS kernel unknown (pip install threadpoolctl to name it)"
    for info in threadpool_info():
        if info.get("user_api") == "blas":
            pinned = os.environ.get("OPENBLAS_CORETYPE")
            return (f"{info.get('internal_api')} {info.get('version')}, kernel "
                    f"{info.get('architecture')}" + (f" (pinned by OPENBLAS_CORETYPE={pinned})"
                                                      if pinned else " (unpinned: its best for this CPU)"))
    return "no BLAS found by threadpoolctl"


def cpu_features():
    """The SIMD extensions this CPU reports (Linux), e.g. ``avx2 fma avx512f``."""
    wanted = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512dq", "avx512bw", "avx512vl")
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    have = set(line.split(":", 1)[1].split())
                    return " ".join(w for w in wanted if w in have)
    except OSError:
        pass
    return "unknown"


def machine_lines(np):
    """Lines naming the machine, the software, the kernels that run and the load."""
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
        f"CPU features: {cpu_features()}",
        f"kernels : pyneuron C runs {c_backend.simd_level()} code (chosen at run time); "
        f"NumPy's BLAS: {blas_kernel()}",
        f"software: Python {platform.python_version()}, NumPy {np.__version__} ({blas}), "
        f"{platform.system()} {platform.release()}",
        "threads : one — " + ", ".join(f"{v}={os.environ.get(v)}" for v in THREAD_VARS)
        + " (set before NumPy was imported); torch.set_num_threads(1)",
        f"load    : {load}",
        "timing  : process CPU time, engines interleaved over rounds; median (spread of rounds)",
    ]


def load_bench_function(filename, name):
    """The function ``name`` of the script ``bench/<filename>``, or None if there is no such script.

    The script is looked for first in ``bench/`` of the source tree this package runs from,
    then in ``bench/`` of the current directory (an installed package run from a checkout);
    the first one found is imported under its file name's stem (not added to ``sys.modules``)
    and ``name`` is read from it. The scripts are not installed with the package, so a missing
    one is an expected state -- the report then prints that the engine is absent -- and gives
    None, not an error.

    ``filename``: a file name in ``bench/``, e.g. ``"reference_numpy_step.py"``; ``name``: the
    attribute to return, e.g. ``"reference_step"``.

    Raises AttributeError (naming the script's path) if the script found has no ``name``, and
    whatever importing the script raises."""
    for root in (_ROOT, os.getcwd()):
        path = os.path.join(root, "bench", filename)
        if os.path.exists(path):
            break
    else:
        return None
    spec = importlib.util.spec_from_file_location(os.path.splitext(filename)[0], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    try:
        return getattr(module, name)
    except AttributeError:
        raise AttributeError(f"{path} defines no {name!r}, which the benchmark report runs") from None
