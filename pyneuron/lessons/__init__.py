"""The tutorials as runnable lessons, in learning order.

Each lesson is a module with ``main(argv=None) -> dict``: it prints what it
teaches, saves its figures with ``--out DIR``, runs on any backend
(``--backend``), has a quick setting for tests (``--fast``), and returns its
key results so they can be checked. Run one with ``pyneuron lessons NAME``
or ``python examples/NN_name.py``.
"""
from __future__ import annotations

import importlib

#: (number, name, one-line summary), in the order a learner should take them.
LESSONS = [
    ("01", "single_neuron", "one neuron by hand, and the activation table"),
    ("02", "hand_calculations", "forward and backward passes worked with real numbers (explain)"),
    ("03", "xor", "a hidden layer solves XOR"),
    ("04", "moons", "two moons: training, then architecture and learning-rate experiments"),
    ("05", "training_toolkit", "optimizers compared, early stopping, the complete pipeline"),
    ("06", "digits", "8×8 digits with softmax; precision, recall and F1"),
    ("07", "optimizer_race", "SGD, momentum and Adam on x² + 3y²"),
    ("08", "perceptron", "one neuron learns AND and OR but not XOR"),
    ("09", "vanishing_gradients", "deep sigmoid vs ReLU: gradient norms layer by layer"),
    ("10", "common_mistakes", "unscaled inputs, and MSE where cross-entropy belongs"),
    ("11", "conventions", "same network, different conventions: torch's, the book's, a course's"),
    ("12", "own_engine", "write your own engine: two kernels, the conformance kit, the localizer"),
    ("13", "graduating", "graduating to PyTorch: to_torch, two processes with DistributedDataParallel, from_torch"),
]


#: CPU seconds per lesson, setting and backend, measured on one core of the machine the
#: README's speed report names, with ``python -m pyneuron.lessons.timing --limit 300`` (rerun
#: it to refresh these; last run 2026-11-29 18:33-19:50 UTC, the full scalar runs of 04 and 06
#: from an earlier one): {lesson: {"fast"|"full": {backend: seconds}}}; ``">300"`` marks a
#: run stopped by ``--limit 300`` before it finished.
EXPECTED_SECONDS = {
    "single_neuron": {
        "full": {"scalar": 0.2, "numpy": 0.3, "c": 0.2},
        "fast": {"scalar": 0.2, "numpy": 0.3, "c": 0.3},
    },
    "hand_calculations": {
        "full": {"scalar": 0.2, "numpy": 0.2, "c": 0.2},
        "fast": {"scalar": 0.2, "numpy": 0.2, "c": 0.3},
    },
    "xor": {
        "full": {"scalar": 1.0, "numpy": 0.7, "c": 0.3},
        "fast": {"scalar": 0.5, "numpy": 0.5, "c": 0.3},
    },
    "moons": {
        "full": {"scalar": 375.0, "numpy": 3.1, "c": 1.4},
        "fast": {"scalar": 144.7, "numpy": 1.5, "c": 0.7},
    },
    "training_toolkit": {
        "full": {"scalar": 66.0, "numpy": 2.4, "c": 0.5},
        "fast": {"scalar": 51.8, "numpy": 1.9, "c": 0.5},
    },
    "digits": {
        "full": {"scalar": ">300", "numpy": 4.2, "c": 2.6},
        "fast": {"scalar": 143.1, "numpy": 2.0, "c": 1.8},
    },
    "optimizer_race": {
        "full": {"scalar": 0.3, "numpy": 0.2, "c": 0.2},
        "fast": {"scalar": 0.3, "numpy": 0.2, "c": 0.3},
    },
    "perceptron": {
        "full": {"scalar": 1.6, "numpy": 1.4, "c": 0.5},
        "fast": {"scalar": 0.5, "numpy": 0.5, "c": 0.3},
    },
    "vanishing_gradients": {
        "full": {"scalar": 3.6, "numpy": 0.3, "c": 0.3},
        "fast": {"scalar": 1.1, "numpy": 0.3, "c": 0.3},
    },
    "common_mistakes": {
        "full": {"scalar": 7.7, "numpy": 0.8, "c": 0.3},
        "fast": {"scalar": 0.5, "numpy": 0.3, "c": 0.3},
    },
    "conventions": {
        "full": {"scalar": 6.6, "numpy": 0.8, "c": 0.4},
        "fast": {"scalar": 0.9, "numpy": 0.3, "c": 0.3},
    },
    "own_engine": {
        "full": {"scalar": 7.8, "numpy": 12.0, "c": 12.9},
        "fast": {"scalar": 2.5, "numpy": 3.9, "c": 3.6},
    },
    "graduating": {
        "full": {"scalar": 14.4, "numpy": 11.9, "c": 11.5},
        "fast": {"scalar": 11.6, "numpy": 11.0, "c": 10.7},
    },
}


def _duration(seconds):
    """``0.4`` -> "under 1 s"; ``12.3`` -> "about 12 s"; ``">300"`` (a run stopped at 300
    CPU s) -> "over 5 min"."""
    if isinstance(seconds, str):
        limit = float(seconds.lstrip(">"))
        return f"over {limit / 60:.0f} min" if limit >= 90 else f"over {limit:.0f} s"
    if seconds < 1:
        return "under 1 s"
    if seconds < 1.5:
        return "about 1 s"
    if seconds < 90:
        return f"about {seconds:.0f} s"
    return f"about {seconds / 60:.0f} min"


def expected_time(name, fast, backend=None):
    """One line: how long lesson ``name`` takes on each backend (``fast``: with
    ``--fast``), marking ``backend``; ``""`` if it has not been measured."""
    times = EXPECTED_SECONDS.get(find(name)[1], {}).get("fast" if fast else "full")
    if not times:
        return ""
    parts = [f"{b} {_duration(times[b])}" + (" ← this run" if b == backend else "")
             for b in ("scalar", "numpy", "c") if b in times]
    setting = " with --fast" if fast else ""
    return f"  expected time{setting} (CPU time on one core): " + ", ".join(parts)


def find(name):
    """The lesson ``(number, name, summary)`` for a name, a number (``"3"``,
    ``"03"``) or a file-style name (``"03_xor"``); ``ValueError`` if none."""
    key = str(name).strip().lower().removesuffix(".py")
    for number, lesson, summary in LESSONS:
        if key in (lesson, number, number.lstrip("0"), f"{number}_{lesson}"):
            return number, lesson, summary
    known = ", ".join(f"{n}_{l}" for n, l, _ in LESSONS)
    raise ValueError(f"lesson: no lesson called {name!r}; choose one of {known}")


def load(name):
    """The lesson's module."""
    return importlib.import_module(f"{__name__}.{find(name)[1]}")


def run(name, argv=None):
    """Run a lesson with command-line style ``argv``; returns its results dict."""
    return load(name).main(argv)
