"""Rung 7 of the matmul ladder, the variant "small" (kernels/typed_small.c): small products
on AVX-512 that read A and B in place.

Against NumPy (float64 products, the tolerance of tests/test_c_ladder.py) on odd and narrow
shapes, every combination of transposes and both dtypes, K in one, two and three passes of
KC = 256; bit for bit rung 6 ("avx512"), which is the rung's promise (each element summed
over k in order, one fused multiply-add per step, K split as rung 6 splits it); which rung
"auto" takes, told apart by what each leaves in the workspace (rung 7 packs nothing and
writes only a transposed panel of B when trans_b; rung 6 packs A); the workspace the public
entry asks for is never overrun; NaN and inf propagate as in NumPy; ``out`` is fully
overwritten and nothing around it is touched; a CPU without AVX-512F is refused.
"""
import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from helpers import CpuWith, c_backend_module

cb = c_backend_module()  # skip the file, or fail under PYNEURON_REQUIRE_C

from pyneuron._kernels import ffi  # noqa: E402

DTYPES = [np.float64, np.float32]
RTOL = {np.float64: 1e-12, np.float32: 1e-5}
TRANS = [(False, False), (True, False), (False, True), (True, True)]
TRANS_IDS = ["AB", "AtB", "ABt", "AtBt"]
CTYPE = {np.float64: "double[]", np.float32: "float[]"}
SUFFIX = {np.float64: "f64", np.float32: "f32"}
# kernels/typed_ladder.c and typed_small.c: K is summed in passes of KC; a zmm register
# holds VL512 numbers; rung 7 takes panels of 4 zmm vectors of columns.
KC = 256
VL512 = {np.float64: 8, np.float32: 16}
SMALL_MAX_KN = 32768

HAS_AVX512 = cb.simd_level(available=True) == "avx512"
needs_avx512 = pytest.mark.skipif(not HAS_AVX512, reason="this CPU has no AVX-512F")


def operands(M, N, K, trans_a, trans_b, dtype, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((K, M) if trans_a else (M, K)).astype(dtype)
    B = rng.standard_normal((N, K) if trans_b else (K, N)).astype(dtype)
    return A, B, (A.T if trans_a else A), (B.T if trans_b else B)


def check(C, opA, opB, dtype, what=""):
    """C against NumPy's float64 product, relative to the size of the terms (as
    tests/test_c_ladder.py's check)."""
    a, b = opA.astype(np.float64), opB.astype(np.float64)
    want, scale = a @ b, float((np.abs(a) @ np.abs(b)).max(initial=0.0))
    rtol = RTOL[dtype]
    assert C.dtype == dtype and C.shape == want.shape, what
    np.testing.assert_allclose(C, want, rtol=rtol, atol=rtol * max(scale, 1e-300), err_msg=what)


# ---------------------------------------------------------------- right answers
@needs_avx512
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("trans", TRANS, ids=TRANS_IDS)
@pytest.mark.parametrize("M", [1, 3, 4, 5, 33])
def test_small_rung_matches_numpy_and_avx512_bit_for_bit(M, trans, dtype):
    # N: one lane, a part of one zmm, exactly one (f64), a part of two, ... past a
    # 4-vector panel; K: one pass, exactly KC, and two or three passes
    for N, K in itertools.product([1, 7, 8, 9, 17, 31, 32, 33, 64, 65],
                                  [1, 7, 8, 9, 63, 256, 257, 600]):
        A, B, opA, opB = operands(M, N, K, *trans, dtype, seed=M * 1000 + N * 7 + K)
        C = cb.matmul(A, B, "small", *trans)
        what = f"M={M} N={N} K={K} trans={trans}"
        check(C, opA, opB, dtype, what)
        np.testing.assert_array_equal(C, cb.matmul(A, B, "avx512", *trans), err_msg=what)


@needs_avx512
@settings(max_examples=60, deadline=None)
@given(M=st.integers(0, 70), N=st.integers(0, 70), K=st.integers(0, 300),
       trans=st.sampled_from(TRANS), dtype=st.sampled_from(DTYPES), seed=st.integers(0, 99))
def test_small_rung_on_generated_shapes(M, N, K, trans, dtype, seed):
    A, B, opA, opB = operands(M, N, K, *trans, dtype, seed)
    C = cb.matmul(A, B, "small", *trans)
    assert C.shape == (M, N) and C.dtype == dtype
    if M * N:
        check(C, opA, opB, dtype)   # K = 0: NumPy's zeros
    np.testing.assert_array_equal(C, cb.matmul(A, B, "avx512", *trans))


@needs_avx512
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(0, 5, 3), (4, 0, 3), (4, 33, 0), (0, 0, 0)])
def test_empty_products(shape, dtype):
    M, N, K = shape
    C = cb.matmul(np.ones((M, K), dtype), np.ones((K, N), dtype), "small")
    assert C.shape == (M, N) and C.dtype == dtype and not C.any()


# ---------------------------------------------------------------- which rung "auto" takes
def call(variant, A, B, trans_a, trans_b, work, work_len=None):
    """The C entry point itself, with a workspace of our own (to see what it writes)."""
    dtype = A.dtype.type
    M, K = A.shape[::-1] if trans_a else A.shape
    N = B.shape[0] if trans_b else B.shape[1]
    C = np.full((M, N), np.nan, dtype)
    fn = getattr(cb.lib, f"pyn_matmul_{variant}_{SUFFIX[dtype]}")
    p = lambda a: ffi.from_buffer(CTYPE[dtype], a)  # noqa: E731
    code = fn(M, N, K, p(A), trans_a, p(B), trans_b, p(C), p(work),
              work.size if work_len is None else work_len)
    return code, C


def workspace(M, N, K, dtype, guard=0):
    n = getattr(cb.lib, f"pyn_matmul_workspace_{SUFFIX[dtype]}")(M, N, K)
    return n, np.full(n + guard, np.nan, dtype)


@needs_avx512
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("M,N,K,small", [
    (32, 64, 64, True), (4, 17, 1, True),
    (5, 32768 // 256, 256, True),           # K = KC and K N = 32768: both limits reached
    (5, 129, 256, False),                   # K N = 33024 > 32768
    (5, 17, 257, False),                    # K > KC
    (300, 300, 300, False)])
def test_auto_takes_rung_7_for_small_products_only(M, N, K, small, dtype):
    """Without trans_b rung 7 writes nothing in the workspace; rung 6 packs A there.
    (Their results are equal bit for bit, so only the workspace tells them apart.)"""
    A, B, opA, opB = operands(M, N, K, False, False, dtype, seed=K)
    before = cb.threads()
    cb.set_threads(1)   # one thread: "auto" never takes the threads rung here
    try:
        _, work = workspace(M, N, K, dtype)
        code, C = call("auto", A, B, False, False, work)
    finally:
        cb.set_threads(before)
    assert code == 0
    check(C, opA, opB, dtype)
    assert np.isnan(work).all() == small
    _, work6 = workspace(M, N, K, dtype)
    assert call("avx512", A, B, False, False, work6)[0] == 0 and not np.isnan(work6).all()


@needs_avx512
@pytest.mark.skipif(not cb.openmp_available(), reason="the build has no OpenMP: no threads rung")
@pytest.mark.parametrize("M,threaded", [(64, True), (63, False)])
def test_with_threads_auto_gives_big_small_products_to_the_threads_rung(M, threaded):
    """K = 256, N = 128 is a small product, but with M = 64 it is 2**21 multiply-adds: with
    two threads set, "auto" takes the threads rung (it packs B into the workspace)."""
    N, K = 128, 256
    A, B, opA, opB = operands(M, N, K, False, False, np.float64, seed=M)
    before = cb.threads()
    cb.set_threads(2)
    try:
        _, work = workspace(M, N, K, np.float64)
        code, C = call("auto", A, B, False, False, work)
    finally:
        cb.set_threads(before)
    assert code == 0
    np.testing.assert_array_equal(C, cb.matmul(A, B, "small"))
    assert np.isnan(work).all() != threaded


@needs_avx512
@pytest.mark.parametrize("dtype", DTYPES)
def test_with_trans_b_rung_7_leaves_the_transposed_panel_of_b(dtype):
    # N = 30 columns: one panel (a 4-vector panel is 32 or 64 numbers wide), rows of
    # round_up(30, VL512) numbers; K = 50 in one pass
    M, N, K = 9, 30, 50
    A, B, opA, opB = operands(M, N, K, False, True, dtype, seed=5)
    width = -(-N // VL512[dtype]) * VL512[dtype]
    for variant in ("auto", "small"):
        _, work = workspace(M, N, K, dtype)
        code, C = call(variant, A, B, False, True, work)
        assert code == 0
        np.testing.assert_array_equal(C, cb.matmul(A, B, "avx512", False, True))
        panel = work[:K * width].reshape(K, width)
        np.testing.assert_array_equal(panel[:, :N], B.T)
        assert np.isnan(work[K * width:]).all()


@needs_avx512
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("trans", [(True, False), (False, True)], ids=["AtB", "ABt"])
def test_auto_equals_small_on_small_products_and_avx512_on_big_ones(trans, dtype):
    A, B, _, _ = operands(32, 64, 64, *trans, dtype, seed=1)
    np.testing.assert_array_equal(cb.matmul(A, B, "auto", *trans), cb.matmul(A, B, "small", *trans))
    A, B, _, _ = operands(300, 300, 300, *trans, dtype, seed=2)
    np.testing.assert_array_equal(cb.matmul(A, B, "auto", *trans), cb.matmul(A, B, "avx512", *trans))


@needs_avx512
@pytest.mark.parametrize("dtype", DTYPES)
def test_auto_at_a_forced_avx2_level_takes_simd_not_rung_7(dtype):
    A, B, opA, opB = operands(32, 64, 64, False, True, dtype, seed=3)
    assert cb.lib.pyn_set_simd_level(cb.lib.PYN_SIMD_AVX2) == cb.lib.PYN_SIMD_AVX2
    try:
        auto = cb.matmul(A, B, "auto", False, True)
        _, work = workspace(32, 64, 64, dtype)
        code, _ = call("auto", A, B, False, False, work)   # rung 4 packs A: not rung 7
    finally:
        cb.lib.pyn_set_simd_enabled(1)
    assert cb.simd_level() == "avx512"
    assert code == 0 and not np.isnan(work).all()
    np.testing.assert_array_equal(auto, cb.matmul(A, B, "simd", False, True))
    check(auto, opA, opB, dtype)


# ---------------------------------------------------------------- the workspace
@pytest.mark.parametrize("dtype", DTYPES)
def test_the_matmul_workspace_holds_rung_7s_panel_for_every_shape(dtype):
    """gemm_small's panel of Bᵀ: min(K, KC) rows of round_up(min(N, 4 VL512), VL512)
    numbers, no more than pyn_matmul_workspace asks for, for narrow N (<= 16, sized for
    rung 5) as for wide."""
    vl = VL512[dtype]
    size = getattr(cb.lib, f"pyn_matmul_workspace_{SUFFIX[dtype]}")
    for M, N, K in itertools.product([1, 5, 200], list(range(1, 80)) + [127, 128, 129, 2049],
                                     [1, 2, 7, 8, 9, 255, 256, 257, 1000]):
        need = min(K, KC) * -(-min(N, 4 * vl) // vl) * vl
        assert need <= size(M, N, K), (M, N, K)


@needs_avx512
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("trans", TRANS, ids=TRANS_IDS)
def test_the_entry_writes_inside_the_workspace_it_asks_for(trans, dtype):
    guard = 4096
    for M, N, K in [(1, 1, 1), (3, 7, 300), (5, 16, 256), (4, 17, 9), (2, 33, 600),
                    (6, 65, 257), (3, 200, 100)]:
        A, B, opA, opB = operands(M, N, K, *trans, dtype, seed=N)
        n, work = workspace(M, N, K, dtype, guard)
        code, C = call("small", A, B, *trans, work, n)
        assert code == 0
        check(C, opA, opB, dtype, f"M={M} N={N} K={K}")
        assert np.isnan(work[n:]).all(), (M, N, K)


@needs_avx512
@pytest.mark.parametrize("dtype", DTYPES)
def test_a_short_workspace_is_refused_before_anything_is_written(dtype):
    A, B, _, _ = operands(4, 40, 30, False, True, dtype)
    n, work = workspace(4, 40, 30, dtype)
    code, C = call("small", A, B, False, True, work, n - 1)
    assert code == cb.lib.PYN_ERR_WORKSPACE
    assert np.isnan(C).all() and np.isnan(work).all()


# ---------------------------------------------------------------- NaN, inf and out=
@needs_avx512
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("trans", TRANS, ids=TRANS_IDS)
def test_nan_and_inf_in_a_propagate_as_in_numpy(trans, dtype):
    M, N, K = 6, 33, 20
    A, B, opA, opB = operands(M, N, K, *trans, dtype, seed=7)
    opA[1, 3] = np.nan            # opA is a view of A: the row's products are all NaN
    opA[2, 5] = np.inf            # +-inf by B's sign
    opA[3, 0], opA[3, 9] = np.inf, -np.inf   # inf - inf where B's signs agree
    opA[4, 2] = np.inf
    opB[2, 10] = 0                # inf * 0 = NaN in column 10 of row 4
    C = cb.matmul(A, B, "small", *trans)
    with np.errstate(invalid="ignore"):   # inf - inf, inf * 0: NaN, as expected
        want = opA.astype(np.float64) @ opB.astype(np.float64)
    np.testing.assert_array_equal(np.isnan(C), np.isnan(want))
    assert np.isnan(C[1]).all() and np.isnan(C[4, 10]) and np.isinf(C[2]).all()
    inf = np.isinf(want)
    np.testing.assert_array_equal(C[inf], want[inf])
    finite = np.isfinite(want).all(axis=1)
    check(C[finite], opA[finite], opB, dtype)


def inside_nan(a, pad=64):
    """A copy of ``a`` in the middle of a NaN-filled buffer: a read past either end of it
    would bring NaN into the product."""
    big = np.full(a.size + 2 * pad, np.nan, a.dtype)
    view = big[pad:pad + a.size].reshape(a.shape)
    view[...] = a
    return view


@needs_avx512
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("M,N,K", [(5, 33, 7), (9, 70, 600), (4, 17, 256), (3, 64, 8)])
def test_out_with_garbage_is_fully_overwritten_and_nothing_around_it(M, N, K, dtype):
    """Rung 7 stores every element (no accumulate into what ``out`` held), its masked last
    vector of a row writes nothing past the row, and it reads nothing outside A and B.
    (AddressSanitizer does not see masked AVX-512 loads and stores: these checks do.)"""
    pad = 64   # more than a zmm register of floats
    for trans in TRANS:
        A, B, opA, opB = operands(M, N, K, *trans, dtype, seed=K)
        fresh = cb.matmul(A, B, "small", *trans)
        big = np.full(M * N + 2 * pad, np.nan, dtype)
        big[:pad] = big[-pad:] = 7
        out = big[pad:-pad].reshape(M, N)
        got = cb.matmul(inside_nan(A), inside_nan(B), "small", *trans, out=out)
        assert got is out
        np.testing.assert_array_equal(out, fresh)
        check(out, opA, opB, dtype)
        assert (big[:pad] == 7).all() and (big[-pad:] == 7).all()


# ---------------------------------------------------------------- CPUs without AVX-512F

@pytest.mark.parametrize("level", [0, 1])
def test_a_cpu_without_avx512_refuses_the_small_rung(level, monkeypatch):
    A, B = np.ones((3, 5)), np.ones((5, 40))
    monkeypatch.setattr(cb, "lib", CpuWith(level))
    with pytest.raises(RuntimeError, match=r"^variant 'small': this CPU lacks AVX-512F; "
                                           r"use 'auto' or 'simd'$"):
        cb.matmul(A, B, "small")
    if level:   # "auto" still runs (on this machine's real rungs)
        np.testing.assert_allclose(cb.matmul(A, B, "auto"), np.full((3, 40), 5.0), rtol=1e-15)


@pytest.mark.skipif(HAS_AVX512, reason="this CPU has AVX-512F: the entry runs")
@pytest.mark.parametrize("dtype", DTYPES)
def test_the_c_entry_refuses_a_cpu_without_avx512(dtype):
    A, B, _, _ = operands(3, 20, 4, False, False, dtype)
    n, work = workspace(3, 20, 4, dtype)
    code, C = call("small", A, B, False, False, work)
    assert code == cb.lib.PYN_ERR_NO_SIMD and np.isnan(C).all()
