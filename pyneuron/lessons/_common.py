"""What every lesson shares: its command line, notes, and saving figures."""
from __future__ import annotations

import argparse
import os

import numpy as np

import pyneuron as pn


def parser(description):
    """The options every lesson takes: ``--backend``, ``--fast``, ``--out``."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--backend", default=None, choices=list(pn.backends.BACKEND_NAMES),
                   help="engine to run on (default: the global flag, normally numpy)")
    p.add_argument("--fast", action="store_true",
                   help="a quicker setting (fewer epochs, smaller data) used by the tests")
    p.add_argument("--out", metavar="DIR", default=None, help="save the lesson's figures as PNGs in DIR")
    return p


def parse(p, argv):
    """Parse ``argv`` and check the backend can run here (a clear error if not)."""
    args = p.parse_args(argv)
    if args.backend is not None:
        pn.backends.get(args.backend)     # raises BackendUnavailableError with the reason
    return args


def heading(title):
    print()
    print(title)
    print("-" * len(title))


def note(text):
    """A remark on where the tutorial's printed figure differs from what its code gives."""
    print(f"  note: {text}")


def save(args, filename, draw):
    """Call ``draw(path)`` to save a figure in ``--out`` (if given). Without
    matplotlib, say so and carry on: the numbers are the lesson."""
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
