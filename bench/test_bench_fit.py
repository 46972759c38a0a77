"""Training through ``fit`` per engine (c, numpy backend, the hand-written NumPy loop of
``reference_numpy_fit.py``, PyTorch eager), one benchmark group per configuration, on the
two small configurations of ``pyneuron bench``'s fit table (the 784 net takes seconds per
run; ``pyneuron bench`` times it). Plus a check that the hand-written loop trains."""
import numpy as np
import pytest

from reference_numpy_fit import fit_numpy

import pyneuron as pn
from pyneuron import bench_fit

CASES = [c for c in bench_fit.CASES if c[3] == "moons"]


@pytest.fixture(scope="module")
def data():
    return bench_fit.datasets(np)


@pytest.mark.parametrize("engine", ["pyneuron c", "pyneuron numpy", "hand-written NumPy",
                                    "PyTorch eager"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_fit(benchmark, case, engine, data):
    case = case[:8] + (3,)                           # a few epochs per timed run
    engines, _ = bench_fit.engines_for(np, case, data, fit_numpy)
    if engine not in engines:
        pytest.skip(f"{engine} is not available here")
    benchmark.group = f"fit: {case[0]}"
    steps = benchmark(engines[engine])
    assert steps == 3 * 13                           # 400 rows in batches of 32, 3 epochs


@pytest.mark.parametrize("options", [{}, {"l2": 1e-3, "dropout": 0.2, "batch_norm": True}])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_the_hand_written_loop_trains(optimizer, options):
    # Ten separable 64-feature clusters: learnable with or without scikit-learn (the
    # benchmark's "digits" are random numbers of that shape when scikit-learn is absent).
    centers = np.random.default_rng(0).uniform(-3, 3, (10, 64))
    X, labels = pn.datasets.make_blobs(1000, centers=centers, std=1.0, seed=0)
    Y = np.eye(10)[labels]
    losses = fit_numpy(X, Y, [64, 32, 10], "softmax", 3, 64, optimizer,
                       0.1 if optimizer == "sgd" else 0.01, **options)
    first, last = np.mean(losses[:5]), np.mean(losses[-5:])
    assert np.isfinite(losses).all() and last < 0.7 * first   # it learns: the loss falls
