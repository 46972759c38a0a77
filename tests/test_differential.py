"""Differential tests: the ``scalar`` backend (the textbook loops) is the reference;
``numpy`` and ``c`` must agree with it.

Kernel by kernel and over short training runs this is the conformance kit
(:func:`pyneuron.testing.check_backend`, issue 12) at the project's strict settings:
hypothesis-generated shapes up to 40 wide (batch of 1, one feature, odd sizes), values
from 1e-3 to |z| = 700 with exact zeros, the edge cases, to a relative 1e-12 in float64.
For kernels that *sum* terms which can cancel (matmul, linear layers, batch norm's
centring, the optimizer steps), a relative tolerance on a result near 0 is meaningless
when its terms are large; the kit adds ``atol = 1e-12 × size of the summed terms``
(:mod:`pyneuron.kernel_cases`). These replaced the hand-written differential tests of each
kernel; ``test_the_strict_kit_catches_each_kind_it_replaced`` shows it fails on a planted
mistake of each kind those tests caught.

What the kit does not express stays below: whole models' forward, loss and gradients,
float32 against float64, and the global flag.
"""
from __future__ import annotations

import numpy as np
import pytest

import pyneuron
from pyneuron import MLP
from pyneuron.backends.registry import KERNELS
from pyneuron.kernel_cases import fused_cases
from pyneuron.testing import check_backend, has_own_kernel

from engines_planted import STRICT_PLANTED
from helpers import assert_close, require_backend

OTHERS = ["numpy", "c"]
#: The project's strictness: held to the textbook loops, 1e-12, sizes up to 40.
STRICT = dict(reference="scalar", rtol=1e-12, max_dim=40)
EXAMPLES = 25


# ---------------------------------------------------------------- kernels and runs: the kit
@pytest.mark.parametrize("name", OTHERS)
@pytest.mark.parametrize("kernel", [*KERNELS, *fused_cases()])
def test_kernel_passes_the_strict_kit(name, kernel):
    """Every primitive kernel, and every fused one (c's own dense_forward, numpy's own
    sample_losses, the interface's compositions) against the scalar backend's."""
    require_backend(name)
    # a default composition (the interface's, on both sides) of kernels checked one by one
    # needs fewer cases than a kernel written anew
    composed = kernel not in KERNELS and not has_own_kernel(pyneuron.backends.get(name), kernel)
    report = check_backend(name, kernels=[kernel], training=False, max_examples=10 if composed else EXAMPLES,
                           **STRICT)
    report.raise_if_failed()
    assert report.results and all(r.examples >= 1 for r in report.results)
    assert {r.dtype for r in report.results} == {"float64"}      # scalar computes in float64 only


@pytest.mark.parametrize("name", OTHERS)
def test_loss_from_logits_of_float32_inputs_is_computed_in_float64(name):
    """Both sum the float32 logits' terms in float64, so they agree to 1e-12 there too."""
    require_backend(name)
    check_backend(name, kernels=["loss_from_logits"], dtypes=["float32"], training=False,
                  max_examples=EXAMPLES, **STRICT).raise_if_failed()


@pytest.mark.parametrize("name", OTHERS)
def test_training_runs_pass_the_strict_kit(name):
    require_backend(name)
    report = check_backend(name, kernels=[], training=True, **STRICT)
    report.raise_if_failed()
    assert len(report.results) == 5                          # the kit's five runs, float64


@pytest.mark.parametrize("kind", sorted(STRICT_PLANTED))
def test_the_strict_kit_catches_each_kind_it_replaced(kind):
    backend, kernels = STRICT_PLANTED[kind]
    report = check_backend(backend, kernels=sorted(kernels - {"training"}), training="training" in kernels,
                           max_examples=10, **STRICT)
    assert set(report.failed_kernels) == kernels, str(report)


def test_a_blocked_loop_losing_its_tail_is_seen_only_at_the_strict_sizes():
    """Sums over more than 16 terms: the kit's default sizes (up to 7) never reach them."""
    backend, _ = STRICT_PLANTED["matmul, blocked tail"]
    assert check_backend(backend, kernels=["matmul"], training=False, max_examples=10).passed
    report = check_backend(backend, kernels=["matmul"], training=False, max_examples=10, **STRICT)
    assert report.failures
    for result in report.failures:                  # shrunk, yet still more than 16 terms
        assert max(max(shape) for shape in result.failure["shapes"]) > 16


# ---------------------------------------------------------------- what the kit does not express
# The kit compares one kernel call at a time and short training runs by their final
# weights, backend against backend in one dtype. These compare other things: a whole
# model's forward pass, loss and every parameter's gradient at one point (the layers'
# composition of the kernels, batch by batch, without an update in between); float32
# against float64 on one backend; and the global flag.
PAIRS = [("relu", "sigmoid"), ("tanh", "softmax"), ("sigmoid", "linear"), ("leaky_relu", "softmax"),
         ("tanh", "tanh"), (["relu", "tanh"], "sigmoid")]


def _problem(output, n_out, m=40, n_in=3, seed=7):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n_in))
    if output == "softmax":
        y = rng.integers(0, n_out, m)
    elif output == "sigmoid":
        y = rng.integers(0, 2, (m, n_out)) if n_out > 1 else rng.integers(0, 2, m)
    else:
        y = rng.standard_normal((m, n_out)) * 0.5
    return X, y


def _sizes(hidden, n_out):
    return [3, 6, 5, n_out] if isinstance(hidden, list) else [3, 7, n_out]


def _close_lists(got, ref, rtol, what):
    assert len(got) == len(ref)
    for i, (g, r) in enumerate(zip(got, ref)):
        assert_close(g, r, rtol=rtol, atol=rtol * max(1.0, np.abs(r).max()) * 1e-2, what=f"{what}[{i}]")


@pytest.mark.parametrize("name", OTHERS)
@pytest.mark.parametrize("hidden, output", PAIRS)
def test_model_forward_loss_gradients_agree(name, hidden, output):
    require_backend(name)
    n_out = 3 if output == "softmax" else (2 if output == "tanh" else 1)
    X, y = _problem(output, n_out)
    ref = MLP(_sizes(hidden, n_out), activation=hidden, output=output, seed=3, backend="scalar")
    other = MLP(_sizes(hidden, n_out), activation=hidden, output=output, seed=3, backend=name)
    _close_lists(other.get_weights(), ref.get_weights(), 0.0, "initial weights")   # same seed, same draw
    assert_close(other.forward(X), ref.forward(X), rtol=1e-12, atol=1e-14, what="forward")
    assert abs(other.loss(X, y) - ref.loss(X, y)) <= 1e-12 * abs(ref.loss(X, y))
    _close_lists(other.gradients(X, y), ref.gradients(X, y), 1e-10, "gradients")


@pytest.mark.parametrize("name", ["numpy", "c"])
@pytest.mark.parametrize("hidden, output", PAIRS[:3])
def test_float32_agrees_with_float64(name, hidden, output):
    require_backend(name)
    n_out = 3 if output == "softmax" else 1
    X, y = _problem(output, n_out)
    m64 = MLP(_sizes(hidden, n_out), activation=hidden, output=output, seed=5, backend=name)
    m32 = MLP(_sizes(hidden, n_out), activation=hidden, output=output, seed=5, backend=name, dtype="float32")
    m32.set_weights(m64.get_weights())
    out32 = m32.forward(X)
    assert out32.dtype == np.float32
    assert_close(out32, m64.forward(X), rtol=1e-5, atol=1e-6, what="float32 forward")
    assert abs(m32.loss(X, y) - m64.loss(X, y)) <= 1e-5 * max(1.0, abs(m64.loss(X, y)))
    for g32, g64 in zip(m32.gradients(X, y), m64.gradients(X, y)):
        assert g32.dtype == np.float32
        assert_close(g32, g64, rtol=1e-4, atol=1e-5 * max(1.0, np.abs(g64).max()), what="float32 gradient")
    h32 = m32.fit(X, y, epochs=3, batch_size=8, lr=0.05, shuffle=True)
    h64 = m64.fit(X, y, epochs=3, batch_size=8, lr=0.05, shuffle=True)
    assert_close(h32["loss"], h64["loss"], rtol=1e-4, what="float32 history")
    for w32, w64 in zip(m32.get_weights(), m64.get_weights()):
        assert w32.dtype == np.float32
        assert_close(w32, w64, rtol=1e-4, atol=1e-5, what="float32 weights")


def test_global_flag_does_not_change_results():
    """A model that follows the global flag gives the same numbers under each backend."""
    X, y = _problem("sigmoid", 1)
    outs = []
    for name in pyneuron.available_backends():
        with pyneuron.use_backend(name):
            outs.append(MLP([3, 4, 1], seed=1).forward(X))
    for o in outs[1:]:
        assert_close(o, outs[0], rtol=1e-12, atol=1e-15)
