"""The matmul ladder's newer rungs against NumPy on odd and narrow shapes, and the
run-time dispatch: which rung "auto" takes, and that forcing the portable path off the
SIMD rungs still gives the right product. Rung 7 ("small") has tests/test_c_small_rung.py."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from helpers import c_backend_module

cb = c_backend_module()

DTYPES = [np.float64, np.float32]
RTOL = {np.float64: 1e-12, np.float32: 1e-5}
TRANS = [(False, False), (True, False), (False, True), (True, True)]


def operands(M, N, K, trans_a, trans_b, dtype, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((K, M) if trans_a else (M, K)).astype(dtype)
    B = rng.standard_normal((N, K) if trans_b else (K, N)).astype(dtype)
    return A, B, (A.T if trans_a else A), (B.T if trans_b else B)


def expected(opA, opB):
    """The product in float64 by NumPy, and the size of its terms (for cancellation)."""
    a, b = opA.astype(np.float64), opB.astype(np.float64)
    return a @ b, float((np.abs(a) @ np.abs(b)).max(initial=0.0))


def check(C, opA, opB, dtype):
    want, scale = expected(opA, opB)
    rtol = RTOL[dtype]
    assert C.dtype == dtype and C.shape == want.shape
    np.testing.assert_allclose(C, want, rtol=rtol, atol=rtol * max(scale, 1e-300))


needs_simd = pytest.mark.skipif(not cb.simd_available(), reason="this CPU has no AVX2+FMA")


@needs_simd
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("trans", TRANS, ids=["AB", "AtB", "ABt", "AtBt"])
@pytest.mark.parametrize("N", [1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16])
@pytest.mark.parametrize("M,K", [(1, 1), (3, 2), (32, 16), (7, 33), (130, 5), (5, 300)])
def test_narrow_rung_matches_numpy(M, K, N, trans, dtype):
    A, B, opA, opB = operands(M, N, K, *trans, dtype)
    check(cb.matmul(A, B, "narrow", *trans), opA, opB, dtype)


@needs_simd
@settings(max_examples=60, deadline=None)
@given(M=st.integers(0, 40), N=st.integers(0, 16), K=st.integers(0, 70),
       trans=st.sampled_from(TRANS), dtype=st.sampled_from(DTYPES), seed=st.integers(0, 9))
def test_narrow_rung_on_generated_shapes(M, N, K, trans, dtype, seed):
    A, B, opA, opB = operands(M, N, K, *trans, dtype, seed)
    C = cb.matmul(A, B, "narrow", *trans)
    if M * N:
        check(C, opA, opB, dtype)
    else:
        assert C.shape == (M, N)


@needs_simd
def test_narrow_rung_writes_only_its_output():
    # the output sits inside a larger buffer: nothing around it may change
    A, B, opA, opB = operands(9, 5, 13, False, True, np.float64)
    big = np.full((11, 7), 7.0)
    out = big[1:10, 1:6].copy()
    cb.matmul(A, B, "narrow", False, True, out=out)
    check(out, opA, opB, np.float64)
    big2 = np.full(9 * 5 + 2, 7.0)
    view = big2[1:-1].reshape(9, 5)
    cb.matmul(A, B, "narrow", False, True, out=view)
    assert big2[0] == 7.0 and big2[-1] == 7.0


def test_narrow_rung_refuses_wide_products():
    with pytest.raises(ValueError, match="at most 16 columns"):
        cb.matmul(np.ones((2, 3)), np.ones((3, 17)), "narrow")


@needs_simd
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("N", [1, 8, 16, 17, 40])
def test_auto_takes_the_narrow_rung_up_to_16_columns_and_packing_above(N, dtype):
    A, B, _, _ = operands(37, N, 29, False, True, dtype, seed=3)
    auto = cb.matmul(A, B, "auto", False, True)
    rung = "narrow" if N <= cb.NARROW_MAX else "simd"
    np.testing.assert_array_equal(auto, cb.matmul(A, B, rung, False, True))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("N", [3, 16, 40])
def test_forced_portable_path_gives_the_blocked_rung(N, dtype):
    A, B, opA, opB = operands(23, N, 31, True, False, dtype, seed=4)
    cb.lib.pyn_set_simd_enabled(0)
    try:
        assert cb.lib.pyn_simd_enabled() == 0
        auto = cb.matmul(A, B, "auto", True, False)
    finally:
        cb.lib.pyn_set_simd_enabled(1)
    # bit for bit the portable rung: the SIMD rungs really were off
    np.testing.assert_array_equal(auto, cb.matmul(A, B, "blocked", True, False))
    check(auto, opA, opB, dtype)


needs_avx512 = pytest.mark.skipif(cb.simd_level(available=True) != "avx512",
                                  reason="this CPU has no AVX-512F")


@needs_avx512
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("trans", TRANS, ids=["AB", "AtB", "ABt", "AtBt"])
@pytest.mark.parametrize("M,N,K", [(1, 17, 1), (11, 31, 7), (12, 32, 256), (13, 33, 257),
                                   (121, 47, 300), (37, 2049, 5), (250, 130, 40)])
def test_avx512_rung_matches_numpy(M, N, K, trans, dtype):
    A, B, opA, opB = operands(M, N, K, *trans, dtype, seed=M)
    check(cb.matmul(A, B, "avx512", *trans), opA, opB, dtype)


@needs_avx512
@pytest.mark.parametrize("dtype", DTYPES)
def test_auto_gives_avx512s_sums_above_16_columns_and_a_forced_lower_level_takes_avx2(dtype):
    # 50 x 70 x 90 is small enough for rung 7, whose sums are rung 6's bit for bit
    # (which of the two "auto" takes: tests/test_c_small_rung.py)
    A, B, _, _ = operands(50, 70, 90, False, True, dtype, seed=9)
    auto = cb.matmul(A, B, "auto", False, True)
    np.testing.assert_array_equal(auto, cb.matmul(A, B, "avx512", False, True))
    np.testing.assert_array_equal(auto, cb.matmul(A, B, "small", False, True))
    assert cb.lib.pyn_set_simd_level(cb.lib.PYN_SIMD_AVX2) == cb.lib.PYN_SIMD_AVX2
    try:
        assert cb.simd_level() == "avx2"
        lower = cb.matmul(A, B, "auto", False, True)
    finally:
        cb.lib.pyn_set_simd_enabled(1)
    assert cb.simd_level() == "avx512"
    np.testing.assert_array_equal(lower, cb.matmul(A, B, "simd", False, True))


def test_set_simd_level_never_exceeds_the_cpu():
    best = cb.lib.pyn_simd_available()
    try:
        assert cb.lib.pyn_set_simd_level(99) == best
        assert cb.lib.pyn_set_simd_level(-3) == 0
    finally:
        cb.lib.pyn_set_simd_enabled(1)
