"""pyneuron.bench_common without timing anything (issue 15 item 10: the mutation run of
pyneuron/bench_common.py): a Figure's median, lowest and highest round and its printed
spread; calibrate's doubling, its cap and its start, on a fake process clock; interleaved's
seconds per unit on a fake clock (what counts as a unit, the calibrated repeats); the
machine lines from a fake /proc/cpuinfo, a fake threadpoolctl and a fake NumPy; and where
load_bench_function finds the bench/ scripts (fake source trees in a temporary folder, and
this checkout's own two reference scripts)."""
import io
import os
import sys
import time
import types

import pytest

from pyneuron import bench_common
from pyneuron.bench_common import Figure, calibrate, interleaved

from bench_fakes import fake_c_backend


def test_a_figure_is_the_median_and_the_range_of_its_rounds():
    f = Figure([10.0, 0.3, 3.0])
    assert f.samples == [0.3, 3.0, 10.0]
    assert (f.median, f.low, f.high) == (3.0, 0.3, 10.0)
    # 100 (3 - 0.3) / 3 = 90, 100 (10 - 3) / 3 = 233.3
    assert f.spread() == "-90/+233%"
    g = Figure([2.0, 1.0, 4.0, 8.0])                 # even count: the mean of the middle two
    assert (g.median, g.low, g.high) == (3.0, 1.0, 8.0)
    assert g.spread() == "-67/+167%"
    assert Figure([5.0]).spread() == "-0/+0%"


class FakeClock:
    """time.process_time that returns the given values, one per call."""

    def __init__(self, *values):
        self.values, self.calls = list(values), 0

    def __call__(self):
        self.calls += 1
        return self.values.pop(0)


@pytest.mark.parametrize("once, min_time, number", [
    (0.25, 1.0, 4),          # 0.25, 0.5 < 1; 4 calls last exactly 1.0: enough
    (0.25, 1.5, 8),          # 1.0 < 1.5 <= 2.0
    (0.25, 0.2, 1),          # one call is already long enough
    (0.25, 0.25, 1),         # exactly long enough
    (2.0 ** -30, 1.0, 2 ** 24),   # capped: the first power of two >= 10**7
])
def test_calibrate_doubles_the_calls_until_they_last_min_time(monkeypatch, once, min_time, number):
    clock = FakeClock(5.0, 5.0 + once)              # CPU time does not start at zero
    monkeypatch.setattr(time, "process_time", clock)
    calls = []
    assert calibrate(lambda: calls.append(1), min_time) == number
    assert len(calls) == 2 and clock.calls == 2     # a warm-up call, then one timed call


class Tick:
    """A shared fake clock: engines advance it by how long they 'run'."""

    def __init__(self, start=100.0):
        self.now = start

    def __call__(self):
        return self.now


def test_interleaved_divides_each_round_by_the_units_run(monkeypatch):
    clock = Tick()

    def engine(seconds, units):
        def run():
            clock.now += seconds
            return units
        return run

    engines = {"steps": engine(0.5, 2),           # 2 units per call
               "none": engine(0.75, None),        # not an int: one unit
               "zero": engine(1.0, 0),            # not positive: one unit
               "negative": engine(0.5, -2),       # not positive: one unit
               "float": engine(0.25, 4.0)}        # not an int: one unit
    monkeypatch.setattr(bench_common, "calibrate", lambda fn, t: pytest.fail("min_time 0: no calibration"))
    figures = interleaved(engines, 3, clock=clock)
    expected = {"steps": 0.25, "none": 0.75, "zero": 1.0, "negative": 0.5, "float": 0.25}
    assert {name: f.samples for name, f in figures.items()} == {k: [v] * 3 for k, v in expected.items()}


def test_interleaved_repeats_each_engine_as_calibrated(monkeypatch):
    clock = Tick()
    calls = {"a": 0, "b": 0}

    def engine(name, seconds, units):
        def run():
            calls[name] += 1
            clock.now += seconds
            return units
        return run

    engines = {"a": engine("a", 0.5, 2), "b": engine("b", 0.75, None)}
    asked = []

    def fake_calibrate(fn, min_time):
        asked.append(min_time)
        return 3 if fn is engines["a"] else 1

    monkeypatch.setattr(bench_common, "calibrate", fake_calibrate)
    figures = interleaved(engines, 2, min_time=0.5, clock=clock)
    assert asked == [0.5, 0.5]
    assert calls == {"a": 6, "b": 2}                 # 3 calls per round for a, 1 for b
    # a: 3 calls of 0.5 s, 6 units -> 0.25 s per unit; b: 0.75 s per call
    assert figures["a"].samples == [0.25, 0.25] and figures["b"].samples == [0.75, 0.75]


def _threadpoolctl(monkeypatch, infos):
    fake = types.ModuleType("threadpoolctl")
    fake.threadpool_info = lambda: infos
    monkeypatch.setitem(sys.modules, "threadpoolctl", fake)


def test_blas_kernel_names_the_blas_entry(monkeypatch):
    openmp = {"user_api": "openmp", "internal_api": "openmp", "version": None, "architecture": None}
    blas = {"user_api": "blas", "internal_api": "openblas", "version": "0.3.27", "architecture": "Haswell"}
    _threadpoolctl(monkeypatch, [openmp, blas])
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    assert bench_common.blas_kernel() == "openblas 0.3.27, kernel Haswell (unpinned: its best for this CPU)"
    monkeypatch.setenv("OPENBLAS_CORETYPE", "SkylakeX")
    assert bench_common.blas_kernel() == "openblas 0.3.27, kernel Haswell (pinned by OPENBLAS_CORETYPE=SkylakeX)"
    _threadpoolctl(monkeypatch, [openmp])
    assert bench_common.blas_kernel() == "no BLAS found by threadpoolctl"
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)     # import raises ImportError
    assert bench_common.blas_kernel() == "BLAS kernel unknown (pip install threadpoolctl to name it)"


def _cpuinfo(monkeypatch, text):
    def fake_open(path, *args, **kwargs):
        assert path == "/proc/cpuinfo"
        if text is None:
            raise OSError("no such file")
        return io.StringIO(text)
    monkeypatch.setattr(bench_common, "open", fake_open, raising=False)


CPUINFO = ("processor\t: 0\n"
           "model name\t: Example CPU @ 2.20GHz: rev 2\n"
           "flags\t\t: fpu sse4_2 avx2 odd:flag fma avx512f avx512vl\n"
           "flags\t\t: avx avx512bw\n")


def test_cpu_features_lists_the_wanted_flags_of_the_first_flags_line(monkeypatch):
    _cpuinfo(monkeypatch, CPUINFO)
    assert bench_common.cpu_features() == "sse4_2 avx2 fma avx512f avx512vl"
    _cpuinfo(monkeypatch, "processor\t: 0\n")
    assert bench_common.cpu_features() == "unknown"
    _cpuinfo(monkeypatch, None)
    assert bench_common.cpu_features() == "unknown"


def _machine(monkeypatch, cpuinfo, processor="", affinity=True, loadavg=(0.5, 1.25, 2.0)):
    _cpuinfo(monkeypatch, cpuinfo)
    monkeypatch.setattr(bench_common.platform, "processor", lambda: processor)
    monkeypatch.setattr(bench_common.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(bench_common.platform, "python_version", lambda: "3.11.9")
    monkeypatch.setattr(bench_common.platform, "system", lambda: "Linux")
    monkeypatch.setattr(bench_common.platform, "release", lambda: "6.1")
    monkeypatch.setattr(bench_common.os, "cpu_count", lambda: 8)
    if affinity:
        monkeypatch.setattr(bench_common.os, "sched_getaffinity",
                            lambda pid: {0, 1} if pid == 0 else pytest.fail("pid 0 is this process"),
                            raising=False)
    else:
        monkeypatch.delattr(bench_common.os, "sched_getaffinity")

    def getloadavg():
        if loadavg is None:
            raise OSError("no load average")
        return loadavg
    monkeypatch.setattr(bench_common.os, "getloadavg", getloadavg)
    monkeypatch.setattr(bench_common, "blas_kernel", lambda: "BLAS K")
    fake_c_backend(monkeypatch).simd_level = lambda: "avx2"
    for v in bench_common.THREAD_VARS:
        monkeypatch.setenv(v, "1")


class FakeNumPy:
    __version__ = "2.0.1"

    def __init__(self, config=True):
        self.config = config

    def show_config(self, mode):
        assert mode == "dicts"
        if not self.config:
            raise TypeError("no mode")           # an older NumPy
        return {"Build Dependencies": {"blas": {"name": "openblas", "version": "0.3.27"}}}


def test_machine_lines_from_fakes(monkeypatch):
    _machine(monkeypatch, CPUINFO)
    assert bench_common.machine_lines(FakeNumPy()) == [
        "machine : Example CPU @ 2.20GHz: rev 2; 8 logical cores (2 usable); "
        "CPU features: sse4_2 avx2 fma avx512f avx512vl",
        "kernels : pyneuron C runs avx2 code (chosen at run time); NumPy's BLAS: BLAS K",
        "software: Python 3.11.9, NumPy 2.0.1 (openblas 0.3.27), Linux 6.1",
        "threads : one — OPENBLAS_NUM_THREADS=1, OMP_NUM_THREADS=1, MKL_NUM_THREADS=1 "
        "(set before NumPy was imported); torch.set_num_threads(1)",
        "load    : load average 0.50 1.25 2.00 (other processes share these cores)",
        "timing  : process CPU time, engines interleaved over rounds; median (spread of rounds)",
    ]


def test_machine_lines_fall_back(monkeypatch):
    # no model name: the platform's processor, else its machine; no affinity: every core;
    # no dict mode in NumPy; no load average
    _machine(monkeypatch, "flags\t: avx\n", processor="", affinity=False, loadavg=None)
    lines = bench_common.machine_lines(FakeNumPy(config=False))
    assert lines[0] == "machine : x86_64; 8 logical cores (8 usable); CPU features: avx"
    assert lines[2] == "software: Python 3.11.9, NumPy 2.0.1 (unknown BLAS), Linux 6.1"
    assert lines[4] == "load    : load average unknown"
    _machine(monkeypatch, None, processor="Proc 9")
    assert bench_common.machine_lines(FakeNumPy())[0] == \
        "machine : Proc 9; 8 logical cores (2 usable); CPU features: unknown"


# ---------------------------------------------------------------- load_bench_function
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = [("reference_numpy_fit.py", "fit_numpy"), ("reference_numpy_step.py", "reference_step")]


def _script(root, filename, body):
    (root / "bench").mkdir(parents=True, exist_ok=True)
    (root / "bench" / filename).write_text(body)


@pytest.fixture
def trees(tmp_path, monkeypatch):
    """A fake source tree (bench_common._ROOT) and a current directory, both without bench/."""
    root, cwd = tmp_path / "root", tmp_path / "cwd"
    root.mkdir()
    cwd.mkdir()
    monkeypatch.setattr(bench_common, "_ROOT", str(root))
    monkeypatch.chdir(cwd)
    return root, cwd


@pytest.mark.parametrize("filename, name", SCRIPTS)
def test_a_bench_script_is_looked_for_in_the_source_tree_then_the_current_directory(trees, filename, name):
    root, cwd = trees
    load = bench_common.load_bench_function
    assert load(filename, name) is None                   # in neither: None, not an error
    _script(cwd, filename, f"def {name}():\n    return 'from the current directory'\n")
    _script(root, "other.py", f"def {name}():\n    return 'another script'\n")
    assert load(filename, name)() == "from the current directory"
    _script(root, filename, f"def {name}():\n    return 'from the source tree'\n")
    assert load(filename, name)() == "from the source tree"          # the source tree first
    stem = filename[:-3]
    before = sys.modules.get(stem)                  # bench/'s tests import the scripts by name
    assert load(filename, name).__module__ == stem and sys.modules.get(stem) is before


def test_a_bench_script_without_the_function_or_that_fails_to_import(trees):
    root, _ = trees
    _script(root, "reference_numpy_fit.py", "def fit_numpy_v0():\n    pass\n")
    with pytest.raises(AttributeError) as info:
        bench_common.load_bench_function("reference_numpy_fit.py", "fit_numpy")
    path = os.path.join(str(root), "bench", "reference_numpy_fit.py")
    assert str(info.value) == f"{path} defines no 'fit_numpy', which the benchmark report runs"
    _script(root, "reference_numpy_step.py", "raise RuntimeError('a broken script')\n")
    with pytest.raises(RuntimeError, match="a broken script"):
        bench_common.load_bench_function("reference_numpy_step.py", "reference_step")


@pytest.mark.skipif(os.path.realpath(bench_common._ROOT) != os.path.realpath(ROOT),
                    reason="pyneuron is imported from outside this checkout")
@pytest.mark.parametrize("filename, name", SCRIPTS)
def test_this_checkouts_reference_scripts_are_found(tmp_path, monkeypatch, filename, name):
    monkeypatch.chdir(tmp_path)                           # not through the current directory
    fn = bench_common.load_bench_function(filename, name)
    assert fn.__name__ == name
    assert os.path.realpath(fn.__code__.co_filename) == os.path.realpath(os.path.join(ROOT, "bench", filename))
