"""pyneuron.lessons.timing beyond test_learner_progress's README check: what the mutation
run (.ci/mutation.py pyneuron/lessons/timing.py, issue 15 item 10) needs — the child's
command and environment (one BLAS thread, no progress bars, no inherited backend), the CPU
limit it sets, the CPU time as the children's user + system time, each exit status on each
side of the limit, the table's header and empty cells, and the command line's defaults,
order and printed rows. Nothing here times anything: the child and the clocks are fakes."""
from __future__ import annotations

import resource
import signal
import sys
import types

import pytest

from pyneuron import lessons
from pyneuron.lessons import timing


def test_one_blas_thread():
    assert timing.SINGLE_THREAD == {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def test_cpu_limit_sets_a_soft_and_a_hard_limit(monkeypatch):
    set_to = []
    monkeypatch.setattr(timing.resource, "setrlimit", lambda which, limits: set_to.append((which, limits)))
    apply = timing._cpu_limit(300)
    assert set_to == []                                    # only in the child, when called
    apply()
    assert set_to == [(resource.RLIMIT_CPU, (300, 305))]


class FakeChild:
    """Stands in for subprocess.run, resource.getrusage and time.perf_counter."""

    def __init__(self, monkeypatch, returncode):
        self.calls = []
        self.returncode = returncode
        usages = iter([types.SimpleNamespace(ru_utime=10.0, ru_stime=2.0),      # before the child
                       types.SimpleNamespace(ru_utime=13.5, ru_stime=2.25)])    # after it
        clock = iter([100.0, 104.75])
        monkeypatch.setattr(timing.subprocess, "run", self.run)
        monkeypatch.setattr(timing.resource, "getrusage", lambda who: (self.calls.append(("usage", who)),
                                                                       next(usages))[1])
        monkeypatch.setattr(timing.time, "perf_counter", lambda: next(clock))

    def run(self, command, **kwargs):
        self.calls.append(("run", command, kwargs))
        return types.SimpleNamespace(returncode=self.returncode)


@pytest.mark.parametrize("fast", [False, True])
def test_measure_runs_the_lesson_in_a_child_and_adds_user_and_system_time(monkeypatch, fast):
    monkeypatch.setenv("PYNEURON_BACKEND", "scalar")
    monkeypatch.setenv("OMP_NUM_THREADS", "8")
    child = FakeChild(monkeypatch, 0)
    assert timing.measure("xor", "c", fast) == (3.5 + 0.25, 4.75, "ok")
    (_, who1), (_, command, kwargs), (_, who2) = child.calls
    assert who1 == who2 == resource.RUSAGE_CHILDREN
    assert command == [sys.executable, "-m", "pyneuron.lessons.xor", "--backend", "c"] + (["--fast"] if fast else [])
    env = kwargs.pop("env")
    assert kwargs == {"capture_output": True, "text": True, "preexec_fn": None}
    assert "PYNEURON_BACKEND" not in env
    assert {k: env[k] for k in ("MPLBACKEND", "PYNEURON_PROGRESS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                "MKL_NUM_THREADS")} == {"MPLBACKEND": "Agg", "PYNEURON_PROGRESS": "0",
                                                        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                                                        "MKL_NUM_THREADS": "1"}


def test_measure_with_a_limit_sets_it_in_the_child(monkeypatch):
    child = FakeChild(monkeypatch, 0)
    set_to = []
    monkeypatch.setattr(timing.resource, "setrlimit", lambda which, limits: set_to.append(limits))
    timing.measure("moons", "scalar", False, limit=60)
    kwargs = child.calls[1][2]
    kwargs["preexec_fn"]()
    assert set_to == [(60, 65)]


@pytest.mark.parametrize("returncode, limit, status", [
    (0, None, "ok"), (0, 60, "ok"),
    (-signal.SIGXCPU, 60, "limit"), (-signal.SIGKILL, 60, "limit"),     # the soft, then the hard limit
    (-signal.SIGXCPU, None, "failed"), (-signal.SIGKILL, None, "failed"),   # killed, but no limit was set
    (1, 60, "failed"), (-signal.SIGTERM, 60, "failed"), (signal.SIGXCPU, 60, "failed")])
def test_measure_status(monkeypatch, returncode, limit, status):
    FakeChild(monkeypatch, returncode)
    assert timing.measure("xor", "numpy", True, limit) == (3.75, 4.75, status)


# ---------------------------------------------------------------------------- the table
HEAD = ["| lesson | scalar | numpy | c | scalar --fast | numpy --fast | c --fast |", "|---|---|---|---|---|---|---|"]


def test_markdown_table_rows_and_empty_cells():
    table = timing.markdown_table({"xor": {"full": {"scalar": 130.0, "numpy": 0.4, "c": 12.2},
                                           "fast": {"numpy": ">300", "c": 1.2}},
                                   "digits": {"fast": {"scalar": 95.0}}})
    lines = table.split("\n")
    assert lines[:2] == HEAD and len(lines) == 2 + 13
    assert lines[2] == "| 01 single_neuron | — | — | — | — | — | — |"
    assert lines[4] == "| 03 xor | 2 min | under 1 s | 12 s | — | over 5 min | 1 s |"
    assert lines[7] == "| 06 digits | — | — | — | 2 min | — | — |"
    assert lines[-1] == "| 13 graduating | — | — | — | — | — | — |"


def test_markdown_table_defaults_to_the_stored_times(monkeypatch):
    monkeypatch.setitem(lessons.EXPECTED_SECONDS, "perceptron", {"full": {"c": 45.0}})
    row = next(line for line in timing.markdown_table().splitlines() if line.startswith("| 08 "))
    assert row == "| 08 perceptron | — | — | 45 s | — | — | — |"


# ---------------------------------------------------------------------------- the command line
def test_markdown_option_prints_the_table(monkeypatch, capsys):
    monkeypatch.setattr(timing, "measure", lambda *a: pytest.fail("--markdown measures nothing"))
    assert timing.main(["--markdown"]) == 0
    assert capsys.readouterr().out == timing.markdown_table() + "\n"


def test_help_is_the_first_paragraph(capsys):
    with pytest.raises(SystemExit) as stopped:
        timing.main(["--help"])
    assert stopped.value.code == 0
    words = " ".join(capsys.readouterr().out.split())
    assert ("Measure how long each lesson takes on each backend: the figures the lessons announce before they "
            "start, and the README's table.") in words
    assert "python -m" not in words


@pytest.fixture
def measured(monkeypatch):
    calls = []
    results = {"numpy": (1.25, 2.5, "ok"), "c": (0.5, 20.0, "failed"), "scalar": (301.0, 320.04, "ok")}

    def measure(name, backend, fast, limit):
        calls.append((name, backend, fast, limit))
        if backend == "scalar" and limit:                  # the scalar run is stopped at the limit
            return 301.0, 320.04, "limit"
        return results[backend]
    monkeypatch.setattr(timing, "measure", measure)
    return calls


def test_main_measures_every_lesson_backend_and_setting_by_default(measured, capsys):
    assert timing.main([]) == 0
    names = [name for _, name, _ in lessons.LESSONS]
    assert measured == [(name, backend, fast, None) for name in names for fast in (True, False)
                        for backend in ("numpy", "c", "scalar")]
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "lesson                   setting backend    CPU s   wall s"
    assert out[1:4] == ["01_single_neuron         fast    numpy        1.2      2.5",
                        "01_single_neuron         fast    c            0.5     20.0  (failed)",
                        "01_single_neuron         fast    scalar     301.0    320.0"]
    assert len(out) == 1 + 13 * 6


def test_main_with_lessons_backends_settings_and_a_limit(measured, capsys):
    assert timing.main(["--lessons", "3", "xor", "--backends", "scalar", "c", "--settings", "full",
                        "--limit", "300"]) == 0
    assert measured == [("xor", "scalar", False, 300), ("xor", "c", False, 300)] * 2
    assert capsys.readouterr().out.splitlines()[1:3] == [
        "03_xor                   full    scalar      >300    320.0",
        "03_xor                   full    c            0.5     20.0  (failed)"]


@pytest.mark.parametrize("argv", [["--settings", "slow"], ["--limit", "1.5"], ["--lessons", "nonsense"]])
def test_main_refuses_bad_options(measured, argv):
    with pytest.raises((SystemExit, ValueError)):
        timing.main(argv)
    assert measured == []


def test_main_prints_each_row_as_it_is_measured(monkeypatch):
    flushed = []
    monkeypatch.setattr(timing, "measure", lambda *a: (1.0, 1.0, "ok"))
    monkeypatch.setattr("builtins.print", lambda *a, **k: flushed.append(k.get("flush")))
    timing.main(["--lessons", "1", "--backends", "c", "--settings", "fast"])
    assert flushed == [True, True]
