"""Where the c backend's time goes in one case of the fit table: building the model, the
Python of ``fit`` around the C call, and the C call that runs the epochs.

    python bench/fit_breakdown.py        # case 2 (digits SGD), 15 rounds
    python bench/fit_breakdown.py 0 21   # case 0 (2-16-8-1 SGD), 21 rounds

Each round first runs the case's other engines (as ``pyneuron bench`` does, so the caches
are as cold as in the report), then one timed c run: process CPU time, medians over the
rounds after the first three. Cases are numbered as in ``pyneuron.bench_fit.CASES``.
"""
from __future__ import annotations

import statistics
import sys
import time

import numpy as np

from pyneuron import bench_fit
from pyneuron.backends import c_plan
from pyneuron.network import MLP


def _timed(owner, name, into):
    """Wrap ``owner.name`` so each call's CPU time is appended to ``into``."""
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        start = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            into.append(time.process_time() - start)
    setattr(owner, name, wrapper)
    return original


def main(argv):
    index = int(argv[0]) if argv else 2
    rounds = int(argv[1]) if len(argv) > 1 else 15
    case = bench_fit.CASES[index]
    data, reference = bench_fit.datasets(np), bench_fit.load_reference_fit()
    engines, _ = bench_fit.engines_for(np, case, data, reference)
    run_c = engines.pop("pyneuron c")
    build, c_call, whole = [], [], []
    originals = (_timed(MLP, "__init__", build), _timed(c_plan.CTrainPlan, "epochs", c_call))
    try:
        for _ in range(rounds):
            for other in engines.values():
                other()
            del build[:], c_call[:]
            start = time.process_time()
            steps = run_c()
            whole.append((time.process_time() - start, sum(build), sum(c_call)))
    finally:
        MLP.__init__, c_plan.CTrainPlan.epochs = originals
    kept = whole[3:] if len(whole) > 3 else whole
    total, built, in_c = (statistics.median(column) * 1e6 for column in zip(*kept))
    print(f"{case[0]}, c backend, {rounds} rounds (medians, process CPU time):")
    print(f"  whole run {total:8.0f} µs = {total / steps:.1f} µs per step over {steps} steps")
    print(f"  building the model {built:8.0f} µs")
    print(f"  fit's C call       {in_c:8.0f} µs = {in_c / steps:.1f} µs per step "
          "(the plan's epochs(): its Python around pyn_fit_epochs included)")
    print(f"  the rest of fit    {total - built - in_c:8.0f} µs (checks, binding, the epochs' orders)")


if __name__ == "__main__":
    main(sys.argv[1:])
