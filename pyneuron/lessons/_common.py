"""What every lesson shares: its command line, its opening lines (which tutorial
it follows, how long it takes), live progress, notes, and saving figures."""
from __future__ import annotations

import argparse
import importlib
import os
import re
import sys

import numpy as np

import pyneuron as pn


def parser(description):
    """The options every lesson takes: ``--backend``, ``--fast``, ``--out``."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--backend", default=None, choices=pn.backends.names(),   # registered ones too
                   help="engine to run on (default: the global flag, normally numpy)")
    p.add_argument("--fast", action="store_true",
                   help="a quicker setting (fewer epochs, smaller data) used by the tests")
    p.add_argument("--out", metavar="DIR", default=None, help="save the lesson's figures as PNGs in DIR")
    return p


#: The five tutorials pyneuron grew from ("seeds"; /work/shared/seeds/README.md describes
#: them), in a phrase each, for a learner who meets "seed 003" in a lesson.
SEEDS = {
    "000": "a long from-scratch guide: a two-layer net up to a complete training pipeline",
    "001": "a short notebook: a house-price network, backpropagation, optimizers and regularizers",
    "002": "a classification notebook: softmax, cross-entropy and the 8×8 digits",
    "003": "an MLP guide: hand calculations, XOR, two moons and experiments",
    "004": "a textbook chapter: perceptron, activations, losses, optimizers, vanishing gradients",
}


def cited_seeds(text):
    """The seed numbers ``text`` cites ("seed 003", "seeds 001 and 004"), in order."""
    found = []
    for match in re.finditer(r"[Ss]eeds? ((?:\d{3})(?:(?:, | and )\d{3})*)", text or ""):
        for n in re.findall(r"\d{3}", match.group(1)):
            if n not in found:
                found.append(n)
    return found


def seed_lines(text):
    """What each tutorial ``text`` cites is, one line each."""
    seeds = cited_seeds(text)
    if not seeds:
        return []
    lines = ["  (a \"seed\" is one of the five tutorials pyneuron grew from; this lesson follows:)"]
    return lines + [f"    seed {n}: {SEEDS[n]}" for n in seeds if n in SEEDS]


def parse(p, argv, lesson=None):
    """Parse ``argv``, check the backend can run here (a clear error if not), and
    print the lesson's opening lines: the tutorials it follows and how long it
    takes on each backend (``lesson`` is the lesson's module ``__name__``)."""
    args = p.parse_args(argv)
    if args.backend is not None:
        pn.backends.get(args.backend)     # raises BackendUnavailableError with the reason
    if lesson is not None:
        module = sys.modules.get(lesson) or importlib.import_module(lesson)
        lesson = getattr(getattr(module, "__spec__", None), "name", None) or lesson   # also as __main__
        doc = getattr(module, "__doc__", "") or ""
        print(" ".join(doc.split("\n\n")[0].split()), flush=True)
        for line in seed_lines(doc):
            print(line)
        from . import expected_time
        line = expected_time(lesson.rsplit(".", 1)[-1], args.fast, args.backend or pn.get_backend())
        if line:
            print(line, flush=True)
    return args


def progress(model, epochs, desc, print_epochs=None, line=None):
    """The callbacks that show a run's progress live (a list for ``fit``'s
    ``callbacks=``): a bar per epoch, per batch on the scalar backend once an
    epoch takes over a second, and ``print_epochs``' lines as their epochs end."""
    from pyneuron.progress import progress_for
    return [progress_for(model, epochs, desc=desc, print_epochs=print_epochs, line=line)]


def heading(title):
    print()
    print(title)
    print("-" * len(title))


def note(text):
    """A remark on where the tutorial's printed figure differs from what its code gives."""
    print(f"  note: {text}")


def in_notebook():
    """Whether this code runs in a Jupyter kernel (where figures are shown inline)."""
    from pyneuron.progress import _in_notebook
    return _in_notebook()


def save(args, filename, draw):
    """Call ``draw(path)`` to save a figure in ``--out`` (if given), and show it when
    running in a notebook. Without matplotlib, say so and carry on: the numbers are
    the lesson."""
    if in_notebook():
        try:
            figure = draw(None)
        except ImportError as exc:
            print(f"  (figure {filename} not shown: {exc})")
        else:
            from IPython.display import display
            display(figure)
    if not args.out:
        return None
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, filename)
    try:
        draw(path)
    except ImportError as exc:
        print(f"  (figure {filename} skipped: {exc})")
        return None
    print(f"  figure saved: {path}")
    return path


def tutorial_split(X, y, test_size=0.2, seed=42):
    """Seed 003's split: a legacy-generator permutation, the first
    ``int(n·test_size)`` rows for testing. Returns X_train, X_test, y_train, y_test."""
    n_test = int(len(y) * test_size)
    order = np.random.RandomState(seed).permutation(len(y))
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]
