"""One training step per engine, one benchmark group per network, so the ratios
(c vs numpy backend, numpy backend vs the hand-written step, vs PyTorch) read off one table."""
import numpy as np
import pytest

from reference_numpy_step import reference_step

CASES = {
    "moons 2-16-8-1 batch 32": ([2, 16, 8, 1], "sigmoid", 32),
    "moons 2-16-8-1 batch 400": ([2, 16, 8, 1], "sigmoid", 400),
    "digits 64-64-32-10 batch 32": ([64, 64, 32, 10], "softmax", 32),
}
ENGINES = ["c", "numpy", "scalar", "reference", "torch"]
#: (case, engine) pairs to time: every engine on every net, except the scalar
#: backend, which is timed on the small net only (the digits net would take minutes).
PAIRS = [(case, engine) for case in CASES for engine in ENGINES
         if not (engine == "scalar" and CASES[case][0][0] != 2)]


def problem(sizes, output, m, seed=0):
    rng = np.random.default_rng(seed)
    W = [rng.standard_normal((o, i)) * np.sqrt(2.0 / i) for i, o in zip(sizes, sizes[1:])]
    b = [np.zeros(o) for o in sizes[1:]]
    X = rng.standard_normal((m, sizes[0]))
    k = sizes[-1]
    Y = (np.eye(k)[rng.integers(0, k, m)] if output == "softmax"
         else rng.integers(0, 2, (m, 1)).astype(float))
    return X, Y, W, b


def torch_step(sizes, output, X, Y, lr):
    """One PyTorch CPU step on (X, Y), built by the report's own runner so the
    benchmark and `pyneuron bench` time the same network."""
    pytest.importorskip("torch")
    from pyneuron.bench_report import torch_runner
    step, tensors, _ = torch_runner(np, sizes, output, lr)
    Xt, Yt = tensors(X, Y.argmax(axis=1) if output == "softmax" else Y)
    return lambda: step(Xt, Yt)


@pytest.mark.parametrize("case, engine", PAIRS)
def test_training_step(benchmark, request, case, engine):
    from pyneuron import backends
    sizes, output, m = CASES[case]
    if benchmark.disabled and engine == "scalar":
        m = min(m, 8)
    X, Y, W, b = problem(sizes, output, m)
    loss = "bce" if output == "sigmoid" else "cce"
    acts = ["relu"] * (len(sizes) - 2) + [output]
    lr = 0.01
    benchmark.group = f"step {case}"
    if engine == "c":
        request.getfixturevalue("c_backend")  # skip or fail if the module is missing
    if engine in ("c", "numpy", "scalar"):
        k = backends.get(engine)
        value = benchmark(k.sgd_train_step, X, Y, W, b, acts, loss, lr)
    elif engine == "reference":
        value = benchmark(reference_step, X, Y, W, b, output, lr)
    else:
        value = benchmark(torch_step(sizes, output, X, Y, lr))
    assert np.isfinite(value) and value > 0


def test_reference_step_matches_the_numpy_backend():
    """The yardstick must compute the same step as the backends."""
    from pyneuron import backends
    for sizes, output, m in CASES.values():
        X, Y, W, b = problem(sizes, output, m, seed=1)
        W2, b2 = [w.copy() for w in W], [v.copy() for v in b]
        loss = "bce" if output == "sigmoid" else "cce"
        acts = ["relu"] * (len(sizes) - 2) + [output]
        for _ in range(3):
            l1 = reference_step(X, Y, W, b, output, 0.1)
            l2 = backends.get("numpy").sgd_train_step(X, Y, W2, b2, acts, loss, 0.1)
            assert l1 == pytest.approx(l2, rel=1e-12)
        for p, q in zip(W + b, W2 + b2):
            np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-15)
