"""The fit table of ``pyneuron bench`` for chosen cases only: a quick, rerunnable check of
one ratio while working on it (the full report takes minutes).

    python bench/fit_ratio.py                # case 0 (2-16-8-1 SGD), 15 rounds, every engine
    python bench/fit_ratio.py 0,1 21 c,numpy # cases 0 and 1, 21 rounds, c and numpy only

Cases are numbered as in ``pyneuron.bench_fit.CASES``. Every figure is what the report
prints: process CPU time per step of a whole run (model construction and fit), engines
interleaved over the rounds, the median and its spread (``pyneuron.bench_common``). Leaving
engines out is quicker, but the c run then follows a numpy run rather than PyTorch's, with
warmer caches: quote ratios from runs with the same engines.
"""
from __future__ import annotations

import sys

import numpy as np

from pyneuron import bench_fit
from pyneuron.bench_common import interleaved


def main(argv):
    cases = [int(c) for c in argv[0].split(",")] if argv else [0]
    rounds = int(argv[1]) if len(argv) > 1 else 15
    wanted = argv[2].split(",") if len(argv) > 2 else None
    data, reference = bench_fit.datasets(np), bench_fit.load_reference_fit()
    for index in cases:
        case = bench_fit.CASES[index]
        engines, _ = bench_fit.engines_for(np, case, data, reference)
        if wanted:
            engines = {name: fn for name, fn in engines.items()
                       if name.replace("pyneuron ", "") in wanted}
        figures = interleaved(engines, rounds)
        cells = [f"{name} {f.median * 1e6:.1f} µs ({f.spread()})" for name, f in figures.items()]
        print(f"{case[0]} ({rounds} rounds): " + "; ".join(cells))
        if "pyneuron c" in figures and "pyneuron numpy" in figures:
            print(f"  c/numpy {figures['pyneuron numpy'].median / figures['pyneuron c'].median:.2f}x")
        if "pyneuron c" in figures and "hand-written NumPy" in figures:
            print(f"  c/hand-written {figures['hand-written NumPy'].median / figures['pyneuron c'].median:.2f}x")


if __name__ == "__main__":
    main(sys.argv[1:])
