"""Lesson 12 — write your own engine: two kernels of your own, registered as a backend,
held to the built-in ones by the conformance kit, a planted mistake found by the
localizer, fixed, and timed against the other engines.

Every model in pyneuron calls only kernels, so an engine is a set of functions with
fixed names and signatures (pyneuron/backends/base.py lists them, each with its
equation). Here we write ``linear_forward`` (Z = X Wᵀ + b) and ``activation_backward``
(dZ = dA ⊙ f'(Z)) ourselves; every other kernel is borrowed from the reference engine.
Our ``activation_backward`` has the kind of mistake everyone makes once: tanh's
derivative written as 1 + a² instead of 1 − a².
"""
from __future__ import annotations

import time

import numpy as np

import pyneuron as pn
from pyneuron import backends
from pyneuron.compare import compare_backends
from pyneuron.testing import check_backend

from ._common import heading, parse, parser, progress


class MyKernels:
    """A learner's engine: two kernels, written row by row and activation by activation."""

    def linear_forward(self, X, W, b):
        # Z[s] = W · X[s] + b for each sample s: one matrix-vector product per row
        Z = np.empty((X.shape[0], W.shape[0]), dtype=X.dtype)
        for s in range(X.shape[0]):
            Z[s] = W @ X[s] + b
        return Z

    def activation_backward(self, name, dA, Z, A, negative_slope=0.01):
        if name == "sigmoid":
            return dA * A * (1 - A)
        if name == "tanh":
            return dA * (1 + A * A)          # the planted mistake: tanh' = 1 − a², not 1 + a²
        if name == "relu":
            return dA * (Z > 0)
        if name == "leaky_relu":
            return dA * np.where(Z > 0, 1.0, negative_slope).astype(Z.dtype)
        if name == "linear":
            return dA.copy()
        # softmax: dz_i = a_i (da_i − Σ_k da_k a_k), row by row
        return A * (dA - np.sum(dA * A, axis=1, keepdims=True))


class MyFixedKernels(MyKernels):
    """The same engine with tanh's derivative corrected."""

    def activation_backward(self, name, dA, Z, A, negative_slope=0.01):
        if name == "tanh":
            return dA * (1 - A * A)
        return super().activation_backward(name, dA, Z, A, negative_slope)


def cpu_seconds(backend, X, y, epochs, at_least=0.2):
    """Mean CPU time of training the lesson's network on ``backend``, over as many runs as
    fill ``at_least`` CPU seconds (3 at least; a coarse process clock then still resolves
    a run of a millisecond). Returns ``(seconds per run, training accuracy)``."""
    runs, total = 0, 0.0
    while runs < 3 or total < at_least:
        model = pn.MLP([2, 16, 1], activation="tanh", seed=0, backend=backend)
        start = time.process_time()
        model.fit(X, y, epochs=epochs, batch_size=32, lr=0.1, callbacks=progress(model, epochs, backend))
        total += time.process_time() - start
        runs += 1
    return total / runs, model.score(X, y)


def main(argv=None):
    args = parse(parser(__doc__), argv, __name__)
    reference = args.backend or pn.get_backend()
    X, y = pn.datasets.make_moons(120 if args.fast else 400, noise=0.2, seed=0)
    results = {}

    heading("Step 1: two kernels of our own, registered as the engine 'mine'")
    pn.register_backend("mine", MyKernels(), reference=reference)
    report = pn.backend_report("mine")
    print(f"  ours: {', '.join(report.own)}")
    print(f"  borrowed from {report.reference}: {len(report.borrowed)} kernels "
          f"({', '.join(report.borrowed[:4])}, ...)")
    model = pn.MLP([2, 8, 1], activation="tanh", seed=0, backend="mine")
    history = model.fit(X, y, epochs=3, batch_size=32, lr=0.1, callbacks=progress(model, 3, "mine"))
    print(f"  it trains without an error: loss {history.history['loss'][0]:.4f} -> "
          f"{history.history['loss'][-1]:.4f} -- but is it right?")
    results["own"] = list(report.own)

    heading("Step 2: the conformance kit holds every kernel to the reference")
    kit = check_backend("mine", reference=reference, max_examples=5 if args.fast else 25, training=False)
    for line in str(kit).splitlines():
        if not line.startswith("  ok"):
            print(line)
    failure = next(r.failure for r in kit.failures if r.dtype == "float64")
    print(f"  the kit shrank the failing case to one sample and one unit; actual / expected = "
          f"{failure['actual'] / failure['expected']:.4f}, which is (1 + a²)/(1 − a²) for the a it shows: "
          f"tanh' must be 1 − a².")
    results["kit_failed"] = kit.failed_kernels

    heading("Step 3: the localizer finds the first kernel call where training parts ways")
    fresh = pn.MLP([2, 8, 1], activation="tanh", seed=0)
    comparison = compare_backends(fresh, X, y, backends=(reference, "mine"), steps=3, batch_size=32)
    print(comparison)
    first = comparison.divergences["mine"]
    results["divergence"] = (first.step, first.layer, first.kernel)

    heading("Step 4: the trace of that step, kernel by kernel")
    with pn.trace() as tape:
        pn.MLP([2, 8, 1], activation="tanh", seed=0, backend="mine").fit(X[:32], y[:32], epochs=1,
                                                                         batch_size=32, lr=0.1)
    print(tape.filter(step=0))

    heading("Step 5: fix the derivative, and check again")
    pn.register_backend("mine", MyFixedKernels(), reference=reference)
    kit = check_backend("mine", reference=reference, max_examples=5 if args.fast else 25,
                        training=not args.fast)
    print(f"  conformance kit: {'every kernel passes' if kit.passed else kit.failed_kernels}")
    comparison = compare_backends(fresh, X, y, backends=(reference, "mine"), steps=3, batch_size=32)
    print(comparison)
    results["fixed_passes"] = kit.passed and comparison.first is None

    heading("Step 6: how fast is ours?")
    epochs = 5 if args.fast else 30
    times = {}
    for name in [*pn.available_backends()]:
        seconds, accuracy = cpu_seconds(name, X, y, epochs)
        times[name] = seconds
        print(f"  {name:<7} {seconds * 1000:8.1f} ms CPU for {epochs} epochs, training accuracy {accuracy:.3f}")
    print(f"  ours takes {times['mine'] / times['numpy']:.1f}× the numpy engine's time and "
          f"{times['mine'] / times['scalar']:.2f}× the scalar engine's: it loops over the rows of each "
          f"batch in Python, but each row is one vectorized product.")
    backends.unregister_backend("mine")
    results["times"] = times

    return results


if __name__ == "__main__":
    main()
