"""Measure how long each lesson takes on each backend: the figures the lessons
announce before they start, and the README's table.

    python -m pyneuron.lessons.timing                 # every lesson, every backend, full and --fast
    python -m pyneuron.lessons.timing --lessons 03 04 --backends numpy c --settings fast
    python -m pyneuron.lessons.timing --backends scalar --limit 300   # stop a run after 300 CPU seconds
    python -m pyneuron.lessons.timing --markdown      # the README's table, from EXPECTED_SECONDS

Each run is a fresh ``python -m pyneuron.lessons.<name>`` child with the BLAS
libraries held to one thread; the figure is the child's CPU time (user + system,
from ``resource.getrusage``), which a busy machine inflates far less than the
wall-clock time printed beside it. Runs are interleaved across backends so a
change in the machine's load touches them all alike. With ``--limit S`` a run is
stopped after S CPU seconds (``RLIMIT_CPU``) and reported as ``>S``: the scalar
backend needs hours for some full lessons, and "more than five minutes" is
what a learner needs to know.
"""
from __future__ import annotations

import argparse
import os
import resource
import signal
import subprocess
import sys
import time

from . import EXPECTED_SECONDS, LESSONS, _duration, find

SINGLE_THREAD = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}


def _cpu_limit(seconds):
    def apply():
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 5))
    return apply


def measure(lesson, backend, fast, limit=None):
    """``(cpu_seconds, wall_seconds, status)`` of one run of ``lesson`` on ``backend``;
    ``status`` is ``"ok"``, ``"limit"`` (stopped after ``limit`` CPU seconds) or
    ``"failed"``."""
    env = dict(os.environ, MPLBACKEND="Agg", PYNEURON_PROGRESS="0", **SINGLE_THREAD)
    env.pop("PYNEURON_BACKEND", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", f"pyneuron.lessons.{lesson}", "--backend", backend,
                           *(["--fast"] if fast else [])], capture_output=True, text=True, env=env,
                          preexec_fn=_cpu_limit(limit) if limit else None)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode == 0:
        return cpu, wall, "ok"
    stopped = limit and done.returncode in (-signal.SIGXCPU, -signal.SIGKILL)   # the kernel's CPU limit
    return cpu, wall, "limit" if stopped else "failed"


def markdown_table(times=None):
    """The README's table of expected times (from :data:`EXPECTED_SECONDS`)."""
    times = EXPECTED_SECONDS if times is None else times
    columns = [(setting, backend) for setting in ("full", "fast") for backend in ("scalar", "numpy", "c")]
    head = "| lesson | " + " | ".join(f"{b}{' --fast' if s == 'fast' else ''}" for s, b in columns) + " |"
    rows = [head, "|" + "---|" * (len(columns) + 1)]
    for number, name, _ in LESSONS:
        cells = []
        for setting, backend in columns:
            value = times.get(name, {}).get(setting, {}).get(backend)
            cells.append("—" if value is None else _duration(value).replace("about ", ""))
        rows.append(f"| {number} {name} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main(argv=None):
    """The command line above: measure and print the table, or ``--markdown``."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--lessons", nargs="*", default=[n for n, _, _ in LESSONS], help="numbers or names (default all)")
    p.add_argument("--backends", nargs="*", default=["numpy", "c", "scalar"])
    p.add_argument("--settings", nargs="*", default=["fast", "full"], choices=["fast", "full"])
    p.add_argument("--limit", type=int, default=None, metavar="S", help="stop a run after S CPU seconds")
    p.add_argument("--markdown", action="store_true", help="print the README's table of the stored times")
    args = p.parse_args(argv)
    if args.markdown:
        print(markdown_table())
        return 0
    lessons = [find(name) for name in args.lessons]
    print(f"{'lesson':<24} {'setting':<7} {'backend':<7} {'CPU s':>8} {'wall s':>8}", flush=True)
    for number, name, _ in lessons:
        for setting in args.settings:
            for backend in args.backends:
                cpu, wall, status = measure(name, backend, setting == "fast", args.limit)
                shown = f">{args.limit}" if status == "limit" else f"{cpu:.1f}"
                print(f"{number}_{name:<21} {setting:<7} {backend:<7} {shown:>8} {wall:8.1f}"
                      + ("  (failed)" if status == "failed" else ""), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
