"""pyneuron.backends.c_backend's Python side beyond the kernel tests (issue 15 item 10: what the
mutation run showed untested). The module helpers on both sides of each check: the SIMD
level names (portable, avx2, avx512), the thread count's bounds 1 and 1024, the ladder's
refusals on a CPU without AVX2+FMA or AVX-512F (the CPU is simulated by a stand-in for the
compiled module's ``pyn_simd_available``, so the checks run on any machine); a dense layer
with no outputs (refused for softmax only) or one softmax output; 1-D arrays through the
element-wise activations. Expected values are written out here, never computed by pyneuron."""
from __future__ import annotations

import math

import numpy as np
import pytest

from helpers import assert_close, c_backend_module

cb = c_backend_module()  # skip the file, or fail under PYNEURON_REQUIRE_C

DTYPES = [np.float64, np.float32]
LEVEL_NAMES = {0: "portable", 1: "avx2", 2: "avx512"}   # pyneuron_kernels.h: PYN_SIMD_NONE/AVX2/AVX512


# ---------------------------------------------------------------- SIMD levels and threads
def test_simd_level_names_every_level_the_cpu_has():
    best = cb.lib.pyn_simd_available()
    try:
        for level in range(best + 1):
            assert cb.lib.pyn_set_simd_level(level) == level
            assert cb.simd_level() == LEVEL_NAMES[level]                # the level in use now
            assert cb.simd_level(available=True) == LEVEL_NAMES[best]   # the CPU's best, unchanged
            assert cb.simd_available() is (best >= 1)
    finally:
        cb.lib.pyn_set_simd_enabled(1)
    assert cb.simd_level() == LEVEL_NAMES[best]


@pytest.fixture
def restore_threads():
    before = cb.threads()
    yield
    cb.set_threads(before)


@pytest.mark.parametrize("n", [1, 2, 1024, np.int64(3)])
def test_set_threads_accepts_1_to_1024(n, restore_threads):
    got = cb.set_threads(n)
    assert got == (int(n) if cb.openmp_available() else 1)
    assert cb.threads() == got


@pytest.mark.parametrize("n", [0, -1, 1025])
def test_set_threads_refuses_counts_outside_1_to_1024(n, restore_threads):
    before = cb.threads()
    with pytest.raises(ValueError, match=rf"^n: expected 1 to 1024 threads, got {n}$"):
        cb.set_threads(n)
    assert cb.threads() == before


@pytest.mark.parametrize("n", [True, 2.0, "2"])
def test_set_threads_refuses_non_integers(n, restore_threads):
    with pytest.raises(TypeError, match=rf"^n: expected an integer number of threads, got {type(n).__name__}$"):
        cb.set_threads(n)


# ---------------------------------------------------------------- the ladder on a smaller CPU
class CpuWith:
    """The compiled module as seen from c_backend, on a CPU whose best SIMD level is ``level``."""

    def __init__(self, level):
        self.level, self.real = level, cb.lib

    def pyn_simd_available(self):
        return self.level

    def __getattr__(self, name):
        return getattr(self.real, name)


def operands(dtype):
    rng = np.random.default_rng(3)
    A, B = rng.standard_normal((5, 7)).astype(dtype), rng.standard_normal((7, 4)).astype(dtype)
    expected = A.astype(np.float64) @ B.astype(np.float64)
    return A, B, expected


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_cpu_with_avx2_only_refuses_avx512_and_runs_the_simd_rungs(dtype, monkeypatch):
    A, B, expected = operands(dtype)
    monkeypatch.setattr(cb, "lib", CpuWith(1))
    assert cb.simd_available()
    with pytest.raises(RuntimeError, match=r"^variant 'avx512': this CPU lacks AVX-512F; use 'auto' or 'simd'$"):
        cb.matmul(A, B, "avx512")
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    for variant in ("simd", "narrow", "auto", "blocked"):
        assert_close(cb.matmul(A, B, variant), expected, rtol=rtol, atol=rtol, what=variant)


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_cpu_without_avx2_refuses_the_simd_rungs_and_auto_still_runs(dtype, monkeypatch):
    A, B, expected = operands(dtype)
    monkeypatch.setattr(cb, "lib", CpuWith(0))
    assert not cb.simd_available()
    for variant in ("simd", "narrow"):
        with pytest.raises(RuntimeError, match=rf"^variant '{variant}': this CPU lacks AVX2\+FMA; "
                                               r"use 'auto' or 'blocked'$"):
            cb.matmul(A, B, variant)
    with pytest.raises(RuntimeError, match=r"^variant 'avx512': this CPU lacks AVX-512F"):
        cb.matmul(A, B, "avx512")
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    for variant in ("auto", "blocked", "naive", "reorder"):
        assert_close(cb.matmul(A, B, variant), expected, rtol=rtol, atol=rtol, what=variant)


# ---------------------------------------------------------------- dense layers at the edges
@pytest.mark.parametrize("dtype", DTYPES)
def test_a_softmax_layer_with_no_outputs_is_refused(dtype):
    X, W, b = np.ones((3, 2), dtype), np.zeros((0, 2), dtype), np.zeros(0, dtype)
    with pytest.raises(ValueError, match=r"^W: softmax needs at least one output, got 0 rows$"):
        cb.CBackend().dense_forward(X, W, b, "softmax")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ["linear", "sigmoid", "relu"])
def test_other_layers_with_no_outputs_give_empty_results(dtype, activation):
    X, W, b = np.ones((3, 2), dtype), np.zeros((0, 2), dtype), np.zeros(0, dtype)
    c = cb.CBackend()
    Z, A = c.dense_forward(X, W, b, activation)
    assert Z.shape == A.shape == (3, 0) and Z.dtype == A.dtype == dtype
    assert c.linear_forward(X, W, b).shape == (3, 0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_softmax_layer_with_one_output_gives_probability_one(kernels, dtype):
    if np.dtype(dtype) not in [np.dtype(d) for d in kernels.dtypes]:
        pytest.skip(f"{kernels.name} computes in float64 only")
    X = np.array([[1.0, 2.0], [-3.0, 0.5]], dtype)
    W, b = np.array([[0.5, -1.0]], dtype), np.array([0.25], dtype)
    Z, A = kernels.dense_forward(X, W, b, "softmax")
    assert_close(Z, [[0.5 - 2.0 + 0.25], [-1.5 - 0.5 + 0.25]], rtol=1e-7)
    np.testing.assert_array_equal(A, [[1.0], [1.0]])


def test_linear_forward_is_the_affine_map_without_an_activation():
    X = np.array([[1.0, -2.0]])
    W, b = np.array([[3.0, 0.5], [-1.0, -1.0]]), np.array([0.5, -4.0])
    # 3 - 1 + 0.5 = 2.5;  -1 + 2 - 4 = -3 (negative: an activation's slope would change it)
    np.testing.assert_array_equal(cb.CBackend().linear_forward(X, W, b), [[2.5, -3.0]])


# ---------------------------------------------------------------- activations of 1-D arrays
@pytest.mark.parametrize("dtype", DTYPES)
def test_element_wise_activations_take_1d_arrays(dtype):
    c = cb.CBackend()
    Z = np.array([0.5, -1.0, 2.0], dtype)
    dA = np.array([1.0, 2.0, 3.0], dtype)
    sig = [1.0 / (1.0 + math.exp(-z)) for z in (0.5, -1.0, 2.0)]
    A = c.activation_forward("sigmoid", Z)
    assert A.shape == (3,)
    assert_close(A, sig, rtol=1e-6)
    dZ = c.activation_backward("sigmoid", dA, Z, A)
    assert_close(dZ, [d * s * (1 - s) for d, s in zip((1.0, 2.0, 3.0), sig)], rtol=1e-5)
    Ar = c.activation_forward("leaky_relu", Z, 0.25)
    np.testing.assert_array_equal(Ar, np.array([0.5, -0.25, 2.0], dtype))
    np.testing.assert_array_equal(c.activation_backward("leaky_relu", dA, Z, Ar, 0.25),
                                  np.array([1.0, 0.5, 3.0], dtype))


def test_softmax_backward_needs_rows():
    Z = np.array([0.5, -1.0, 2.0])
    with pytest.raises(ValueError, match=r"^dA: expected a 2-D array, got shape \(3,\)$"):
        cb.CBackend().activation_backward("softmax", Z, Z, Z)
