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
]


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
