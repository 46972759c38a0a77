"""pyneuron.bench_report without timing anything (issue 15 item 10: the mutation run of
pyneuron/bench_report.py): the ladder's rungs, rows and GFLOPS from fake figures; the
threads rung; the step section's engines (what each kernel, the hand-written step and
PyTorch are given) and its lines; the scalar section; every target on both sides of its
goal (met exactly at the goal, missed just below it); the data, the He start and the
PyTorch runner the sections use; the argument checks, the single-thread re-run and
``main``'s sections, defaults and header, with every section replaced by a recorder."""
import sys
import time

import numpy as np
import pytest

from pyneuron import backends, bench_fit, bench_report
from pyneuron.bench_common import THREAD_VARS, Figure

from bench_fakes import fake_c_backend, figure, layers, record_torch

TITLES = [case[0] for case in bench_fit.CASES]


# ---------------------------------------------------------------- (1) the matmul ladder
GFLOPS = {"numpy": 20.050000005, "naive": 1.0, "reorder": 5.0, "blocked": 10.0, "simd": 18.050000005,
          "avx512": 19.0}
DASH = " " * 15 + "—"
CELLS = {"naive": "      1.0 (  5%)", "reorder": "      5.0 ( 25%)", "blocked": "     10.0 ( 50%)",
         "simd": "     18.1 ( 90%)"}       # 100 · 18.050000005 / 20.050000005 = 90.02


def _fake_c(monkeypatch, best, simd):
    """The C module's ladder as the CPU would offer it; returns the products asked for
    (shapes, dtype, rung, out's shape) and their matrices."""
    c_backend, calls, matrices = fake_c_backend(monkeypatch), [], []
    c_backend.simd_level = lambda available=False: best if available else "?"
    c_backend.simd_available = lambda: simd

    def matmul(A, B, variant, out=None):
        calls.append((A.shape, A.dtype.name, variant, out.shape))
        matrices.append((A, B))
    c_backend.matmul = matmul
    return calls, matrices


def test_the_ladder_rows(monkeypatch):
    calls, matrices = _fake_c(monkeypatch, "avx2", True)
    expected_runs = [(d, n) for d in ("float64", "float32") for n in (256, 257, 512, 513)]
    runs = iter(expected_runs)

    def interleaved(engines, repeats, min_time):
        assert (repeats, min_time) == (4, 0.25)
        dtype, n = next(runs)
        flops = 2 * n ** 3                          # an n×n product: n³ multiply-adds
        for name, fn in engines.items():
            if name != "numpy":
                fn()
        return {name: Figure([flops / (GFLOPS[name] * 1e9)]) for name in engines}

    monkeypatch.setattr(bench_report, "interleaved", interleaved)
    lines = []
    results = bench_report.ladder_section(np, [256, 257, 512, 513], 4, 0.25, lines.append)
    # naive runs up to n = 256, reorder up to n = 512
    ran = {256: ["naive", "reorder", "blocked", "simd"], 257: ["reorder", "blocked", "simd"],
           512: ["reorder", "blocked", "simd"], 513: ["blocked", "simd"]}
    assert calls == [((n, n), d, rung, (n, n)) for d, n in expected_runs for rung in ran[n]]
    rng = np.random.default_rng(0)                  # the same matrices in every run
    A, B = matrices[0]
    assert np.array_equal(A, rng.standard_normal((256, 256))) and np.array_equal(B, rng.standard_normal((256, 256)))
    assert results == pytest.approx({(d, n, rung): GFLOPS[rung] / GFLOPS["numpy"]
                                     for d, n in expected_runs for rung in ran[n]})

    def row(d, n):
        return (f"  {d}   {n}" + "".join(CELLS[r] if r in ran[n] else DASH
                                           for r in ("naive", "reorder", "blocked", "simd")) + "      20.1")
    assert lines == ["(1) matmul ladder: C = A·B, n×n; GFLOPS, median of interleaved rounds, and % of NumPy's matmul",
                     "  dtype       n           naive         reorder         blocked            simd     numpy"] + \
        [row(d, n) for d, n in expected_runs] + [""]
    assert row("float64", 256) == ("  float64   256      1.0 (  5%)      5.0 ( 25%)     10.0 ( 50%)"
                                   "     18.1 ( 90%)      20.1")


@pytest.mark.parametrize("best, simd, rungs", [
    ("avx512", True, ["naive", "reorder", "blocked", "simd", "avx512"]),
    ("avx2", True, ["naive", "reorder", "blocked", "simd"]),
    ("portable", False, ["naive", "reorder", "blocked"]),
])
def test_the_ladder_climbs_as_far_as_the_cpu(monkeypatch, best, simd, rungs):
    _fake_c(monkeypatch, best, simd)
    lines = []
    assert bench_report.ladder_section(np, [], 3, 0.0, lines.append) == {}
    assert lines[1].split() == ["dtype", "n", *rungs, "numpy"]


def test_the_threads_rung(monkeypatch):
    c_backend, set_to, products = fake_c_backend(monkeypatch), [], []
    c_backend.openmp_available = lambda: True
    c_backend.threads = lambda: 3
    c_backend.set_threads = set_to.append
    c_backend.matmul = lambda A, B, variant, out=None: products.append((A.shape[0], variant, A, B))
    ratios = iter([1.8, 1.9, 1.75, 1.6])

    def interleaved(engines, repeats, min_time, clock):
        assert (repeats, min_time, clock) == (5, 0.5, time.perf_counter)   # threads: wall-clock
        engines["1"]()
        engines["2"]()
        return {"1": Figure([next(ratios) / 2]), "2": Figure([0.5])}

    monkeypatch.setattr(bench_report, "interleaved", interleaved)
    lines = []
    got = bench_report.threads_section(np, [256, 512, 1024], 5, 0.5, lines.append)
    assert got == pytest.approx({("float64", 512): 1.8, ("float64", 1024): 1.9, ("float32", 512): 1.75,
                                 ("float32", 1024): 1.6})
    assert set_to == [1, 2] * 4 + [3]                    # the thread count before is restored
    assert [p[:2] for p in products] == [(n, "auto") for n in (512, 512, 1024, 1024) * 2]
    rng = np.random.default_rng(0)                  # the same matrices in every run
    assert np.array_equal(products[0][2], rng.standard_normal((512, 512)))
    assert np.array_equal(products[0][3], rng.standard_normal((512, 512)))
    assert lines == ["  threads rung, 2 threads against 1 (wall-clock, interleaved; the cores are shared): "
                     "float64 n=512 1.80×, float64 n=1024 1.90×, float32 n=512 1.75×, float32 n=1024 1.60×", ""]


def test_the_threads_rung_needs_openmp_and_a_large_size(monkeypatch):
    c_backend = fake_c_backend(monkeypatch)
    monkeypatch.setattr(bench_report, "interleaved", lambda *a, **k: pytest.fail("nothing to time"))
    c_backend.openmp_available = lambda: False
    lines = []
    assert bench_report.threads_section(np, [1024], 3, 0.1, lines.append) == {}
    assert lines == ["  threads rung: this build has no OpenMP (the kernels run on one thread)"]
    c_backend.openmp_available = lambda: True
    lines.clear()
    assert bench_report.threads_section(np, [256, 511], 3, 0.1, lines.append) == {}
    assert lines == []
    # n = 512 is measured
    c_backend.threads = lambda: 1
    c_backend.set_threads = lambda k: None
    c_backend.matmul = lambda A, B, variant, out=None: None
    monkeypatch.setattr(bench_report, "interleaved",
                        lambda engines, repeats, min_time, clock: {"1": Figure([1.0]), "2": Figure([0.5])})
    assert bench_report.threads_section(np, [512], 3, 0.1, lines.append) == {("float64", 512): 2.0,
                                                                              ("float32", 512): 2.0}


# ---------------------------------------------------------------- (3) the step section
MEDIANS = {"pyneuron c": 5.049995,           # prints 5.0: µs are seconds × 10⁶ exactly
           "pyneuron numpy": 20.0, "hand-written NumPy": 25.0, "PyTorch CPU": 100.0,
           "pyneuron scalar": 2000.0}


def _fake_steps(monkeypatch, reference=True, torch=True, available=("scalar", "numpy", "c")):
    rec = {"kernel": [], "reference": [], "tensors": [], "torch": []}

    class Kernel:
        def __init__(self, name):
            self.name = name

        def sgd_train_step(self, X, Y, W, b, acts, loss, lr):
            rec["kernel"].append((self.name, X, Y, W, b, acts, loss, lr))

    def ref(X, Y, W, b, output, lr):
        rec["reference"].append((X, Y, W, b, output, lr))

    def runner(np_, sizes, output, lr):
        rec["torch"].append((sizes, output, lr))
        return (lambda *t: rec["tensors"].append(("step", t)),
                lambda X, Y: ("T", X, Y), "9.9")

    def interleaved(engines, repeats, min_time):
        assert (repeats, min_time) == (3, 0.125)
        for fn in engines.values():
            fn()
        return {name: figure(MEDIANS[name]) for name in engines}

    X_dig = np.random.default_rng(2).random((1437, 64))
    Y_dig = np.eye(10)[np.arange(1437) % 10]

    def load_bench_function(filename, name):      # where it looks: tests/test_mutants_bench_common.py
        assert (filename, name) == ("reference_numpy_step.py", "reference_step")
        return ref if reference else None

    monkeypatch.setattr(bench_report, "load_bench_function", load_bench_function)
    monkeypatch.setattr(bench_report, "digits", lambda np_: (X_dig, Y_dig, "SRC"))
    monkeypatch.setattr(bench_report, "torch_runner", runner if torch else (lambda *a: None))
    monkeypatch.setattr(bench_report, "interleaved", interleaved)
    monkeypatch.setattr(backends, "available", lambda: list(available))
    monkeypatch.setattr(backends, "get", Kernel)
    return rec, X_dig, Y_dig


def _same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b)) and len(a) == len(b)


def test_the_step_section_engines(monkeypatch):
    rec, X_dig, Y_dig = _fake_steps(monkeypatch)
    lines = []
    results = bench_report.step_section(np, 3, 0.125, True, lines.append)
    Xm, ym = bench_report.two_moons(np, 400)
    small, digit = [2, 16, 8, 1], [64, 64, 32, 10]
    Ws, bs = bench_report.init_params(np, small)
    Wd, bd = bench_report.init_params(np, digit)
    cases = [(Xm[:32], ym[:32], Ws, bs, ["relu", "relu", "sigmoid"], "bce"),
             (Xm, ym, Ws, bs, ["relu", "relu", "sigmoid"], "bce"),
             (X_dig[:32], Y_dig[:32], Wd, bd, ["relu", "relu", "softmax"], "cce")]
    names = [["c", "numpy", "scalar"], ["c", "numpy", "scalar"], ["c", "numpy"]]   # scalar on the moons only
    got = iter(rec["kernel"])
    for (X, Y, W, b, acts, loss), kernels in zip(cases, names):
        for name in kernels:
            k, Xk, Yk, Wk, bk, actsk, lossk, lr = next(got)
            assert (k, actsk, lossk, lr) == (name, acts, loss, 0.01)
            assert np.array_equal(Xk, X) and np.array_equal(Yk, Y) and _same(Wk, W) and _same(bk, b)
    assert next(got, None) is None
    for (X, Y, W, b, *_), (Xr, Yr, Wr, br, output, lr), out in zip(cases, rec["reference"],
                                                                   ["sigmoid", "sigmoid", "softmax"]):
        assert np.array_equal(Xr, X) and np.array_equal(Yr, Y) and _same(Wr, W) and _same(br, b)
        assert (output, lr) == (out, 0.01)
    assert rec["torch"] == [(small, "sigmoid", 0.01), (small, "sigmoid", 0.01), (digit, "softmax", 0.01)]
    # torch gets 0/1 columns for a sigmoid output, class indices for a softmax one
    (_, (t1, X1, Y1)), (_, (t2, X2, Y2)), (_, (t3, X3, Y3)) = rec["tensors"]
    assert np.array_equal(X1, Xm[:32]) and np.array_equal(Y1, ym[:32]) and np.array_equal(Y2, ym)
    assert np.array_equal(X3, X_dig[:32]) and np.array_equal(Y3, np.arange(32) % 10)
    cells = "c 5.0 (-0/+0%); numpy 20.0 (-0/+0%); hand-written NumPy 25.0 (-0/+0%); PyTorch CPU 100.0 (-0/+0%)"
    assert lines == [
        "(3) one bare training step (forward + backward + SGD update, the sgd_train_step kernel), float64; "
        "µs per step, median (spread)",
        f"  2-16-8-1 relu/sigmoid, moons, batch 32 (400 samples): {cells}; scalar 2000.0 (-0/+0%)",
        f"  2-16-8-1 relu/sigmoid, moons, full batch 400 (400 samples): {cells}; scalar 2000.0 (-0/+0%)",
        f"  64-64-32-10 relu/softmax, digits, batch 32 (1437 samples, SRC): {cells}",
        "  PyTorch 9.9: nn.Sequential of Linear/ReLU, *_with_logits / cross_entropy loss, torch.optim.SGD", ""]
    assert results["2-16-8-1 relu/sigmoid, moons, batch 32"] == pytest.approx(
        {name: m * 1e-6 for name, m in MEDIANS.items()})


def test_the_step_section_with_less(monkeypatch):
    rec, _, _ = _fake_steps(monkeypatch, reference=False, torch=False, available=("scalar", "numpy"))
    lines = []
    results = bench_report.step_section(np, 3, 0.125, False, lines.append)
    assert [k[0] for k in rec["kernel"]] == ["numpy"] * 3
    assert lines[1] == "    (the hand-written NumPy reference lives in bench/ of a source checkout: not found here)"
    assert lines[2] == "  2-16-8-1 relu/sigmoid, moons, batch 32 (400 samples): numpy 20.0 (-0/+0%)"
    assert lines[-2:] == ["  PyTorch: not installed, so not in the table (pip install torch)", ""]
    assert all(set(r) == {"pyneuron numpy"} for r in results.values())


def test_the_scalar_section():
    lines = []
    bench_report.scalar_section({"A": {"pyneuron scalar": 0.01234549, "pyneuron numpy": 0.0000617},
                                 "B": {"pyneuron numpy": 1.0}}, lines.append)
    # 12345.49 µs; 0.01234549 / 0.0000617 = 200.09
    assert lines == ["(4) the scalar backend (pure Python loops) on the small net, against numpy",
                     "  A: scalar 12,345 µs per step, 200× slower than numpy", ""]


# ---------------------------------------------------------------- the targets
def _fits(**medians):
    """{title: {engine: Figure}} from t0=dict(c=…, numpy=…, hand=…, torch=…)."""
    names = {"c": "pyneuron c", "numpy": "pyneuron numpy", "hand": "hand-written NumPy", "torch": "PyTorch eager"}
    return {TITLES[int(t[1:])]: {names[k]: Figure([v]) for k, v in m.items()} for t, m in medians.items()}


def _targets(ladder, threads, fits, peaks):
    lines = []
    bench_report.targets_section(ladder, threads, fits, peaks, lines.append)
    assert lines[0] == "targets (issue 10; ratios of medians from this run)"
    return lines[1:]


def test_every_target_met_exactly_at_its_goal():
    ladder = {("float64", 256, "simd"): 0.9, ("float64", 512, "simd"): 1.2, ("float64", 128, "simd"): 0.1,
              ("float64", 256, "blocked"): 0.5, ("float32", 256, "simd"): 1.0, ("float32", 1024, "simd"): 0.95}
    threads = {("float64", 512): 1.7, ("float32", 1024): 2.0}
    fits = _fits(t0=dict(c=1.0, numpy=12.0, torch=30.0), t1=dict(c=1.0, numpy=8.0, torch=31.0),
                 t2=dict(c=1.0, hand=3.0, torch=9.0), t3=dict(c=1.0, numpy=3.0, hand=3.0), t4=dict(c=2.0, numpy=6.0, hand=6.0),
                 t5=dict(c=1.0, hand=1.0, numpy=1.15), t6=dict(c=0.5, hand=0.5))
    peaks = {"c": 3.0, "numpy": 9.0, "hand-written": 2.0}
    t = TITLES                      # the PyTorch target is the small net's only: none for t[2]
    assert _targets(ladder, threads, fits, peaks) == [
        "  [met] top rung (simd) ≥ 0.9× NumPy's BLAS at n ≥ 256, float64: n=256 0.90×, n=512 1.20×",
        "  [met] top rung (simd) ≥ 0.9× NumPy's BLAS at n ≥ 256, float32: n=256 1.00×, n=1024 0.95×",
        "  [met] threads rung ≥ 1.7× one thread at n ≥ 512: float32 n=1024 2.00×, float64 n=512 1.70×",
        f"  [met] fit, c ≥ 12× numpy backend, {t[0]}: 12.00×",
        f"  [met] fit, c ≥ 8× numpy backend, {t[1]}: 8.00×",
        f"  [met] fit, c ≥ 3× numpy backend, {t[3]}: 3.00×",
        f"  [met] fit, c ≥ 3× numpy backend, {t[4]}: 3.00×",
        f"  [met] fit, c ≥ 1× the hand-written NumPy loop, {t[5]}: 1.00×",
        f"  [met] fit, c ≥ 1× the hand-written NumPy loop, {t[6]}: 1.00×",
        f"  [met] fit, c ≥ 3× the hand-written NumPy loop, {t[2]}: 3.00×",
        f"  [met] fit, c ≥ 3× the hand-written NumPy loop, {t[3]}: 3.00×",
        f"  [met] fit, c ≥ 3× the hand-written NumPy loop, {t[4]}: 3.00×",
        f"  [met] fit, c ≥ 30× PyTorch eager, {t[0]}: 30.0×",
        f"  [met] fit, c ≥ 30× PyTorch eager, {t[1]}: 31.0×",
        f"  [met] fit, numpy backend within 1.15× of the hand-written loop, {t[3]}: 1.00×",
        f"  [met] fit, numpy backend within 1.15× of the hand-written loop, {t[4]}: 1.00×",
        f"  [met] fit, numpy backend within 1.15× of the hand-written loop, {t[5]}: 1.15×",
        "  [met] peak memory of fit (c) ≤ 1.5× the hand-written loop's, 784 net: 1.50×",
    ]


def test_every_target_missed_just_below_its_goal():
    ladder = {("float64", 256, "avx512"): 0.89, ("float64", 256, "simd"): 1.5, ("float64", 1024, "avx512"): 1.1}
    fits = _fits(t0=dict(c=1.0, numpy=11.0, torch=29.5), t1=dict(c=1.0, numpy=7.5, torch=20.0),
                 t2=dict(c=1.0, hand=2.9), t3=dict(c=1.0, numpy=2.5, hand=2.0), t4=dict(c=1.0, numpy=2.0),
                 t5=dict(c=1.0, hand=0.8, numpy=1.2), t6=dict(c=1.0, hand=0.5))
    t = TITLES
    assert _targets(ladder, {("float64", 512): 1.5}, fits, {"c": 0.8, "hand-written": 0.5}) == [
        "  [MISSED] top rung (avx512) ≥ 0.9× NumPy's BLAS at n ≥ 256, float64: n=256 0.89×, n=1024 1.10×",
        "  [MISSED] threads rung ≥ 1.7× one thread at n ≥ 512: float64 n=512 1.50×",
        f"  [MISSED] fit, c ≥ 12× numpy backend, {t[0]}: 11.00×",
        f"  [MISSED] fit, c ≥ 8× numpy backend, {t[1]}: 7.50×",
        f"  [MISSED] fit, c ≥ 3× numpy backend, {t[3]}: 2.50×",
        f"  [MISSED] fit, c ≥ 3× numpy backend, {t[4]}: 2.00×",
        f"  [MISSED] fit, c ≥ 1× the hand-written NumPy loop, {t[5]}: 0.80×",
        f"  [MISSED] fit, c ≥ 1× the hand-written NumPy loop, {t[6]}: 0.50×",
        f"  [MISSED] fit, c ≥ 3× the hand-written NumPy loop, {t[2]}: 2.90×",
        f"  [MISSED] fit, c ≥ 3× the hand-written NumPy loop, {t[3]}: 2.00×",
        f"  [MISSED] fit, c ≥ 30× PyTorch eager, {t[0]}: 29.5×",
        f"  [MISSED] fit, c ≥ 30× PyTorch eager, {t[1]}: 20.0×",
        f"  [MISSED] fit, numpy backend within 1.15× of the hand-written loop, {t[3]}: 1.25×",
        f"  [MISSED] fit, numpy backend within 1.15× of the hand-written loop, {t[5]}: 1.50×",
        "  [MISSED] peak memory of fit (c) ≤ 1.5× the hand-written loop's, 784 net: 1.60×",
    ]


@pytest.mark.parametrize("peaks", [None, {}, {"c": 3.0}, {"c": 3.0, "hand-written": 0.0}])
def test_nothing_measured(peaks):
    assert _targets({}, {}, {}, peaks) == [
        "  [MISSED] threads rung ≥ 1.7× one thread at n ≥ 512: not measured (no OpenMP, or no size ≥ 512 asked for)"]


# ---------------------------------------------------------------- the command line
def test_the_size_and_repeat_arguments():
    import argparse
    assert bench_report._positive_ints("64, 128,") == [64, 128]
    assert bench_report._positive_ints("1") == [1]
    for bad in ("0,64", "-3", "a,64", "", ","):
        with pytest.raises(argparse.ArgumentTypeError, match=f"expected positive integers such as 64,128, got {bad!r}"):
            bench_report._positive_ints(bad)
    assert bench_report._positive_int("1") == 1 and bench_report._positive_int(" 12 ") == 12
    for bad in ("0", "-1", "x", "1.5"):
        with pytest.raises(argparse.ArgumentTypeError, match=f"expected an integer >= 1, got {bad!r}"):
            bench_report._positive_int(bad)


def test_single_threaded_means_every_variable_is_one(monkeypatch):
    for v in THREAD_VARS:
        monkeypatch.setenv(v, "1")
    assert bench_report._single_threaded() is True
    monkeypatch.setenv(THREAD_VARS[1], "2")
    assert bench_report._single_threaded() is False
    monkeypatch.delenv(THREAD_VARS[1])
    assert bench_report._single_threaded() is False


def test_the_rerun_sets_the_variables(monkeypatch):
    calls = []
    monkeypatch.setattr(bench_report.subprocess, "call", lambda cmd, env: calls.append((cmd, env)) or 3)
    monkeypatch.setenv("PYNEURON_MARK", "kept")
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    assert bench_report._rerun_single_threaded(["--quick", "--no-scalar"]) == 3
    ((cmd, env),) = calls
    assert cmd[:2] == [sys.executable, "-c"] and cmd[3:] == [bench_report._ROOT, "--quick", "--no-scalar"]
    assert "from pyneuron.bench_report import main" in cmd[2]
    assert all(env[v] == "1" for v in THREAD_VARS) and env["PYNEURON_MARK"] == "kept"


@pytest.fixture
def sections(monkeypatch):
    """main with every section replaced by a recorder that prints its name."""
    for v in THREAD_VARS:
        monkeypatch.setenv(v, "1")
    monkeypatch.setattr(backends, "available", lambda: ["scalar", "numpy", "c"])   # with or without a C build
    calls = {}
    monkeypatch.setattr(time, "strftime", lambda fmt: f"<{fmt}>")
    monkeypatch.setattr(bench_report, "machine_lines", lambda np_: ["M1", "M2"])

    def recorder(name, result, module=bench_report):
        def section(*args, **kwargs):
            given = args[:-1] if name in ("scalar", "targets") else args[1:-1]     # after np, before out
            calls[name] = (given, kwargs, args[-1] is print)
            print(name)
            return result
        monkeypatch.setattr(module, name if name in ("fit_section", "memory_line") else f"{name}_section", section)

    recorder("ladder", "L")
    recorder("threads", "T")
    recorder("fit_section", "F", bench_fit)
    recorder("memory_line", "P", bench_fit)
    recorder("step", "S")
    recorder("scalar", None)
    recorder("targets", None)
    return calls


def test_main_in_full(sections, capsys):
    assert bench_report.main([]) == 0
    sizes = [64, 128, 256, 512, 1024]
    assert sections == {"ladder": ((sizes, 7, 0.05), {}, True), "threads": ((sizes, 7, 0.05), {}, True),
                        "fit_section": ((7,), {"quick": False}, True), "memory_line": ((), {}, True),
                        "step": ((7, 0.05, True), {}, True), "scalar": (("S",), {}, True),
                        "targets": (("L", "T", "F", "P"), {}, True)}
    assert capsys.readouterr().out.splitlines() == [
        "pyneuron speed report — `pyneuron bench` — <%Y-%m-%d %H:%M>", "M1", "M2", "",
        "ladder", "threads", "fit_section", "memory_line", "", "step", "scalar", "targets"]


def test_main_quick(sections, capsys):
    assert bench_report.main(["--quick"]) == 0
    assert sections["ladder"] == (([64, 128], 3, 0.002), {}, True)
    assert sections["fit_section"] == ((3,), {"quick": True}, True)
    assert "memory_line" not in sections and sections["targets"][0] == ("L", "T", "F", None)
    assert sections["step"][0] == (3, 0.002, True)
    assert capsys.readouterr().out.splitlines() == [
        "pyneuron speed report — `pyneuron bench --quick` — <%Y-%m-%d %H:%M>", "M1", "M2",
        "note    : --quick is a smoke run (short, few repeats): its figures are rough", "",
        "ladder", "threads", "fit_section", "", "step", "scalar", "targets"]


def test_main_with_arguments(sections, capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["pyneuron-bench", "--quick", "--sizes", "32,48", "--repeats", "5",
                                      "--no-scalar"])
    assert bench_report.main() == 0                      # the arguments from sys.argv
    assert sections["ladder"][0] == ([32, 48], 5, 0.002)
    assert sections["step"][0] == (5, 0.002, False) and "scalar" not in sections
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "pyneuron speed report — `pyneuron bench --quick --sizes 32,48 --repeats 5 --no-scalar` " \
                     "— <%Y-%m-%d %H:%M>"


def test_main_reruns_itself_with_one_thread(sections, monkeypatch):
    monkeypatch.setenv("MKL_NUM_THREADS", "2")
    reruns = []
    monkeypatch.setattr(bench_report, "_rerun_single_threaded", lambda argv: reruns.append(argv) or 7)
    assert bench_report.main(["--quick"]) == 7
    assert reruns == [["--quick"]] and sections == {}


def test_main_without_the_c_backend(sections, monkeypatch, capsys):
    monkeypatch.setattr(backends, "available", lambda: ["scalar", "numpy"])
    monkeypatch.setattr(backends, "unavailable_reason", lambda name: f"{name} is not built here")
    assert bench_report.main([]) == 1
    assert capsys.readouterr().err == "pyneuron bench: c is not built here\n" and sections == {}


def test_main_help_and_bad_arguments(sections, monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit) as exit_:
        bench_report.main(["--help"])
    assert exit_.value.code == 0
    assert "``pyneuron bench``: one speed report, every figure measured in the same run, one thread." \
        in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        bench_report.main(["--sizes", "0"])
    assert exit_.value.code == 2
    assert "expected positive integers such as 64,128, got '0'" in capsys.readouterr().err


# ---------------------------------------------------------------- the data and the start
def test_two_moons_lie_on_their_half_circles():
    X, y = bench_report.two_moons(np, 9, noise=0.0)
    assert X.shape == (9, 2) and y.shape == (9, 1) and X.flags.c_contiguous
    labels = y[:, 0]
    assert sorted(labels) == [0.0] * 4 + [1.0] * 5          # n // 2 of class 0, the rest class 1
    top, bottom = X[labels == 0], X[labels == 1]
    # class 0 on the unit circle around (0, 0), angles 0..π; class 1 on the one around (1, 0.5), angles -π..0
    assert np.allclose(np.hypot(*top.T), 1.0) and np.allclose(np.hypot(bottom[:, 0] - 1, bottom[:, 1] - 0.5), 1.0)
    assert np.allclose(np.sort(np.arctan2(top[:, 1], top[:, 0])), np.linspace(0, np.pi, 4))
    angles = np.sort(np.arctan2(0.5 - bottom[:, 1], 1 - bottom[:, 0]))
    assert np.allclose(angles, np.linspace(0, np.pi, 5))


def test_two_moons_rows_in_the_generators_order():
    # the points by angle, class 0 then class 1, shuffled by the permutation the generator
    # draws after the noise
    n, half = 9, 4
    t0, t1 = np.linspace(0, np.pi, half), np.linspace(0, np.pi, n - half)
    points = np.vstack([np.c_[np.cos(t0), np.sin(t0)], np.c_[1 - np.cos(t1), 0.5 - np.sin(t1)]])
    rng = np.random.default_rng(3)
    rng.standard_normal((n, 2))
    order = rng.permutation(n)
    X, y = bench_report.two_moons(np, n, seed=3, noise=0.0)
    assert np.allclose(X, points[order]) and np.array_equal(y[:, 0], (order >= half).astype(float))


def test_two_moons_noise_and_seed():
    clean, y0 = bench_report.two_moons(np, 50, noise=0.0)
    default, y1 = bench_report.two_moons(np, 50)
    double, _ = bench_report.two_moons(np, 50, noise=0.4)
    assert np.array_equal(y0, y1)                          # the same shuffle whatever the noise
    assert np.allclose(default - clean, 0.5 * (double - clean))   # the default noise is 0.2
    assert np.std(default - clean) == pytest.approx(0.2, rel=0.3)
    assert np.array_equal(default, bench_report.two_moons(np, 50, seed=0)[0])
    assert not np.array_equal(default, bench_report.two_moons(np, 50, seed=1)[0])


def test_digits_from_scikit_learn():
    load_digits = pytest.importorskip("sklearn.datasets").load_digits
    X, Y, source = bench_report.digits(np)
    d = load_digits()
    assert source == "sklearn digits" and X.flags.c_contiguous
    assert np.array_equal(X, d.data[:1437] / 16.0)           # pixels 0..16 scaled to 0..1
    assert Y.shape == (1437, 10) and np.array_equal(Y.argmax(axis=1), d.target[:1437]) and Y.sum() == 1437


def test_digits_without_scikit_learn(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    X, Y, source = bench_report.digits(np)
    rng = np.random.default_rng(0)
    assert source == "random" and np.array_equal(X, rng.random((1437, 64)))
    assert np.array_equal(Y, np.eye(10)[rng.integers(0, 10, 1437)])


def test_he_initialization():
    W, b = bench_report.init_params(np, [3, 4, 2], seed=5)
    rng = np.random.default_rng(5)
    first, second = rng.standard_normal((4, 3)), rng.standard_normal((2, 4))
    assert np.allclose(W[0], first * np.sqrt(2 / 3)) and np.allclose(W[1], second * np.sqrt(2 / 4))
    assert [v.tolist() for v in b] == [[0.0] * 4, [0.0] * 2]
    default, _ = bench_report.init_params(np, [3, 4, 2])
    assert np.array_equal(default[0], bench_report.init_params(np, [3, 4, 2], seed=0)[0][0])
    assert not np.array_equal(default[0], bench_report.init_params(np, [3, 4, 2], seed=1)[0][0])


def test_the_step_cases_are_what_their_titles_say():
    for title, sizes, output, batch, data in bench_report.CASES:
        assert title.startswith("-".join(map(str, sizes)) + f" relu/{output}, {data}, ")
        assert title.endswith(f"batch {batch}")
    assert [case[3] for case in bench_report.CASES] == [32, 400, 32]   # 400: the whole moons set
    assert [case[1] for case in bench_report.CASES] == [[2, 16, 8, 1], [2, 16, 8, 1], [64, 64, 32, 10]]


# ---------------------------------------------------------------- PyTorch's step
@pytest.fixture
def recorded_torch(monkeypatch, request):
    return record_torch(monkeypatch, request)


def _forward(params, X):
    """The ReLU MLP's logits from torch's (weight, bias) pairs, in NumPy."""
    h = X
    pairs = list(zip(params[::2], params[1::2]))
    for i, (W, b) in enumerate(pairs):
        h = h @ W.numpy().T + b.numpy()
        if i < len(pairs) - 1:
            h = np.maximum(h, 0)
    return h


def test_pytorch_step_with_a_sigmoid_output(recorded_torch):
    torch, rec = recorded_torch
    step, tensors, version = bench_report.torch_runner(np, [2, 3, 4, 1], "sigmoid", 0.01)
    assert version == torch.__version__ and torch.get_num_threads() == 1
    f64 = torch.float64
    assert layers(rec["nets"][0]) == [("Linear", 2, 3, f64), ("ReLU",), ("Linear", 3, 4, f64), ("ReLU",),
                                      ("Linear", 4, 1, f64)]
    assert rec["opts"] == [("SGD", {"lr": 0.01})]
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((5, 2)), np.array([[0.0], [1.0], [1.0], [0.0], [1.0]])
    Xt, Yt = tensors(X, Y)
    assert np.array_equal(Xt.numpy(), X) and np.array_equal(Yt.numpy(), Y)
    z = _forward(rec["initial"], X)
    expected = np.mean(np.maximum(z, 0) - z * Y + np.log1p(np.exp(-np.abs(z))))   # BCE from logits
    assert step(Xt, Yt) == pytest.approx(expected, rel=1e-12)
    assert rec["losses"] == [("binary_cross_entropy_with_logits", (5, 1), f64, (5, 1), f64)]


def test_pytorch_step_with_a_softmax_output(recorded_torch):
    torch, rec = recorded_torch
    step, tensors, _ = bench_report.torch_runner(np, [3, 4, 2], "softmax", 0.5)
    assert layers(rec["nets"][0]) == [("Linear", 3, 4, torch.float64), ("ReLU",), ("Linear", 4, 2, torch.float64)]
    X, labels = np.random.default_rng(1).standard_normal((4, 3)), np.array([0, 1, 1, 0])
    z = _forward(rec["initial"], X)
    log_softmax = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    assert step(*tensors(X, labels)) == pytest.approx(-np.mean(log_softmax[np.arange(4), labels]), rel=1e-12)
    assert rec["losses"] == [("cross_entropy", (4, 2), torch.float64, (4,), torch.int64)]
    assert rec["opts"] == [("SGD", {"lr": 0.5})]


def test_pytorch_step_without_torch(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    assert bench_report.torch_runner(np, [2, 1], "sigmoid", 0.1) is None
