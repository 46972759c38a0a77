"""Differential tests: every C kernel against the numpy and scalar backends, and every
rung of the matmul ladder against NumPy, in float64 (relative 1e-12) and float32 (1e-5).

Skipped only when the compiled module is missing *and* ``PYNEURON_REQUIRE_C`` is unset;
with it set, a missing module is an import error, i.e. a failure.
"""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from helpers import c_backend_module

cb = c_backend_module()  # skip the file, or fail under PYNEURON_REQUIRE_C

from pyneuron import backends  # noqa: E402

C = backends.get("c")
NP = backends.get("numpy")
SCALAR = backends.get("scalar")
DTYPES = [np.float64, np.float32]
RTOL = {np.float64: 1e-12, np.float32: 1e-5}
ELEMENTWISE = ["sigmoid", "tanh", "relu", "leaky_relu", "linear"]
ACTS = ELEMENTWISE + ["softmax"]


def close(actual, expected, dtype, scale=None):
    """allclose with the dtype's relative tolerance and an absolute one scaled by the
    magnitude of the terms (``scale``), for sums that can cancel."""
    rtol = RTOL[np.dtype(dtype).type]
    expected = np.asarray(expected, dtype=np.float64)
    if scale is None:
        scale = np.abs(expected).max(initial=0.0)
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * max(scale, 1e-300))


def product_scale(A, B):
    return float((np.abs(A).astype(np.float64) @ np.abs(B).astype(np.float64)).max(initial=0))


@pytest.fixture(params=["simd", "portable"])
def path(request):
    """Run a test on the AVX2 path and on the portable one (forced off)."""
    if request.param == "simd" and not cb.simd_available():
        pytest.skip("this CPU has no AVX2+FMA")
    cb.lib.pyn_set_simd_enabled(request.param == "simd")
    yield request.param
    cb.lib.pyn_set_simd_enabled(1)


# ---------------------------------------------------------------- the matmul ladder
SIZES = [(1, 1, 1), (3, 3, 3), (7, 7, 7), (17, 17, 17), (63, 63, 63), (65, 65, 65),
         (129, 129, 129), (3, 17, 65), (129, 7, 63), (65, 129, 1), (1, 63, 17), (17, 1, 129)]


def operands(M, N, K, trans_a, trans_b, dtype, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((K, M) if trans_a else (M, K)).astype(dtype)
    B = rng.standard_normal((N, K) if trans_b else (K, N)).astype(dtype)
    return A, B, (A.T if trans_a else A), (B.T if trans_b else B)


@pytest.mark.parametrize("variant", cb.VARIANTS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("trans", [(False, False), (True, False), (False, True), (True, True)],
                         ids=["AB", "AtB", "ABt", "AtBt"])
@pytest.mark.parametrize("M,N,K", SIZES)
def test_ladder_matches_numpy(variant, dtype, trans, M, N, K):
    if variant in ("simd", "narrow") and not cb.simd_available():
        pytest.skip("this CPU has no AVX2+FMA")
    if variant in ("avx512", "small") and cb.simd_level(available=True) != "avx512":
        pytest.skip("this CPU has no AVX-512F")
    if variant == "narrow" and N > cb.NARROW_MAX:
        pytest.skip("the narrow rung serves N <= 16 (tests/test_c_ladder.py)")
    A, B, opA, opB = operands(M, N, K, *trans, dtype)
    C_ = cb.matmul(A, B, variant, *trans)
    assert C_.dtype == dtype
    close(C_, opA.astype(np.float64) @ opB.astype(np.float64), dtype, product_scale(opA, opB))


@pytest.mark.parametrize("variant", ["blocked", "simd", "avx512", "small", "auto"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_ladder_crosses_every_block_edge(variant, dtype):
    """M > MC (120), K > KC (256), N > NC (2048): every loop of the packed kernel turns."""
    if variant == "simd" and not cb.simd_available():
        pytest.skip("this CPU has no AVX2+FMA")
    if variant in ("avx512", "small") and cb.simd_level(available=True) != "avx512":
        pytest.skip("this CPU has no AVX-512F")
    for trans in [(False, False), (True, True)]:
        A, B, opA, opB = operands(131, 2053, 263, *trans, dtype, seed=1)
        close(cb.matmul(A, B, variant, *trans), opA.astype(np.float64) @ opB.astype(np.float64),
              dtype, product_scale(opA, opB))


@pytest.mark.parametrize("dtype", DTYPES)
def test_matmul_zero_inner_dimension_gives_zeros(dtype):
    for variant in cb.VARIANTS:
        if variant in ("simd", "narrow") and not cb.simd_available():
            continue
        if variant in ("avx512", "small") and cb.simd_level(available=True) != "avx512":
            continue
        out = cb.matmul(np.ones((3, 0), dtype), np.ones((0, 4), dtype), variant)
        assert out.shape == (3, 4) and not out.any()


def test_matmul_out_argument_and_readonly_inputs():
    rng = np.random.default_rng(2)
    A, B = rng.standard_normal((5, 6)), rng.standard_normal((6, 7))
    A.flags.writeable = False  # read-only inputs are legitimate
    out = np.empty((5, 7))
    assert cb.matmul(A, B, out=out) is out
    close(out, A @ B, np.float64, product_scale(A, B))


def test_memory_mapped_inputs(tmp_path):
    rng = np.random.default_rng(3)
    np.save(tmp_path / "a.npy", rng.standard_normal((9, 4)))
    A = np.load(tmp_path / "a.npy", mmap_mode="r")
    W, b = rng.standard_normal((3, 4)), rng.standard_normal(3)
    close(C.linear_forward(A, W, b), np.asarray(A) @ W.T + b, np.float64, 10.0)


# ---------------------------------------------------------------- hypothesis strategies
def matrices(draw, m, n, dtype, big=False):
    limit = 800.0 if big else 5.0
    values = st.floats(-limit, limit, allow_nan=False, width=32 if dtype == np.float32 else 64)
    flat = draw(st.lists(values, min_size=m * n, max_size=m * n))
    return np.array(flat, dtype=dtype).reshape(m, n)


@st.composite
def layer_case(draw):
    dtype = draw(st.sampled_from(DTYPES))
    m, n_in, n_out = (draw(st.integers(1, 19)) for _ in range(3))
    big = draw(st.booleans())
    return (dtype, matrices(draw, m, n_in, dtype, big), matrices(draw, n_out, n_in, dtype),
            matrices(draw, 1, n_out, dtype)[0], matrices(draw, m, n_out, dtype))


@st.composite
def activation_case(draw):
    dtype = draw(st.sampled_from(DTYPES))
    m, n = draw(st.integers(1, 23)), draw(st.integers(1, 23))
    big = draw(st.booleans())
    Z = matrices(draw, m, n, dtype, big)
    dA = matrices(draw, m, n, dtype)
    return dtype, draw(st.sampled_from(ACTS)), draw(st.floats(0.0, 0.5)), Z, dA


# ---------------------------------------------------------------- kernels vs numpy and scalar
@settings(max_examples=60, deadline=None)
@given(layer_case())
def test_linear_forward_and_dense_forward(case):
    dtype, X, W, b, _ = case
    scale = product_scale(X, W.T) + np.abs(b).max()
    close(C.linear_forward(X, W, b), NP.linear_forward(X, W, b), dtype, scale)
    for act in ACTS:
        Z, A = C.dense_forward(X, W, b, act, 0.1)
        Zr, Ar = NP.dense_forward(X, W, b, act, 0.1)
        close(Z, Zr, dtype, scale)
        # A = f(Z) where Z itself carries the rounding of the sum: compare f at C's own Z
        close(A, NP.activation_forward(act, Z, 0.1), dtype)
    if dtype == np.float64:
        close(C.linear_forward(X, W, b), SCALAR.linear_forward(X, W, b), dtype, scale)


@settings(max_examples=60, deadline=None)
@given(layer_case())
def test_linear_backward(case):
    dtype, X, W, _, dZ = case
    dX, dW, db = C.linear_backward(dZ, X, W)
    rX, rW, rb = NP.linear_backward(dZ, X, W)
    close(dX, rX, dtype, product_scale(dZ, W))
    close(dW, rW, dtype, product_scale(dZ.T, X))
    close(db, rb, dtype, np.abs(dZ).sum(axis=0).max())
    if dtype == np.float64:
        sX, sW, sb = SCALAR.linear_backward(dZ, X, W)
        close(dX, sX, dtype, product_scale(dZ, W))
        close(dW, sW, dtype, product_scale(dZ.T, X))


@settings(max_examples=80, deadline=None)
@given(activation_case())
def test_activations_forward_and_backward(case):
    dtype, act, alpha, Z, dA = case
    A = C.activation_forward(act, Z, alpha)
    assert A.dtype == dtype
    close(A, NP.activation_forward(act, Z, alpha), dtype)
    Ar = NP.activation_forward(act, Z, alpha)
    dZ = C.activation_backward(act, dA, Z, Ar, alpha)
    scale = (np.abs(dA * Ar).sum(axis=1, keepdims=True).max() if act == "softmax" else None)
    close(dZ, NP.activation_backward(act, dA, Z, Ar, alpha), dtype, scale)
    if dtype == np.float64:
        close(A, SCALAR.activation_forward(act, Z, alpha), dtype)
        close(dZ, SCALAR.activation_backward(act, dA, Z, Ar, alpha), dtype, scale)


@settings(max_examples=40, deadline=None)
@given(activation_case())
def test_softmax_rows_sum_to_one(case):
    dtype, _, _, Z, _ = case
    A = C.softmax(Z)
    close(A, NP.softmax(Z), dtype)
    close(A.sum(axis=1), np.ones(Z.shape[0]), dtype)


def test_sigmoid_and_softmax_survive_huge_inputs():
    Z = np.array([[-1e308, -800.0, 0.0, 800.0, 1e308]])
    assert np.array_equal(C.activation_forward("sigmoid", Z), NP.activation_forward("sigmoid", Z))
    A = C.softmax(Z)
    assert np.isfinite(A).all() and A[0, -1] == 1.0


def test_nan_propagates_like_numpy():
    Z = np.array([[np.nan, 1.0, -1.0]])
    for act in ACTS:
        np.testing.assert_array_equal(C.activation_forward(act, Z), NP.activation_forward(act, Z))


@settings(max_examples=60, deadline=None)
@given(layer_case(), st.sampled_from(["mse", "bce", "cce"]))
def test_output_delta_and_loss_value(case, loss):
    dtype, _, _, _, A = case
    P = NP.activation_forward("sigmoid", A)       # probabilities in (0, 1)
    Y = (P > 0.5).astype(dtype)
    for n_terms in (1, A.shape[0], A.size):
        close(C.output_delta(P, Y, n_terms), NP.output_delta(P, Y, n_terms), dtype)
    expected = NP.loss_value(loss, P, Y)
    assert C.loss_value(loss, P, Y) == pytest.approx(expected, rel=RTOL[dtype] * 10, abs=1e-300)
    if dtype == np.float64:
        assert C.loss_value(loss, P, Y) == pytest.approx(SCALAR.loss_value(loss, P, Y), rel=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_matmul_method_all_forms_on_both_paths(path, dtype):
    rng = np.random.default_rng(4)
    for M, N, K in [(1, 1, 1), (5, 9, 3), (33, 17, 70)]:
        for trans in [(False, False), (True, False), (False, True)]:
            A, B, opA, opB = operands(M, N, K, *trans, dtype, seed=int(rng.integers(1 << 30)))
            close(C.matmul(A, B, *trans), NP.matmul(A, B, *trans), dtype, product_scale(opA, opB))
            if dtype == np.float64:
                close(C.matmul(A, B, *trans), SCALAR.matmul(A, B, *trans), dtype,
                      product_scale(opA, opB))


@pytest.mark.parametrize("dtype", DTYPES)
def test_layer_kernels_on_both_paths(path, dtype):
    rng = np.random.default_rng(5)
    X, W = rng.standard_normal((37, 13)).astype(dtype), rng.standard_normal((11, 13)).astype(dtype)
    b, dZ = rng.standard_normal(11).astype(dtype), rng.standard_normal((37, 11)).astype(dtype)
    close(C.linear_forward(X, W, b), NP.linear_forward(X, W, b), dtype, 20.0)
    for got, want in zip(C.linear_backward(dZ, X, W), NP.linear_backward(dZ, X, W)):
        close(got, want, dtype, 50.0)


def test_simd_flag_reports_the_cpu():
    assert isinstance(cb.simd_available(), bool)
    with open("/proc/cpuinfo") as f:  # Linux: what the CPU says of itself
        flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), None)
    if flags is not None:
        assert cb.simd_available() == ("avx2" in flags and "fma" in flags)
        best = "avx512" if cb.simd_available() and "avx512f" in flags else \
            "avx2" if cb.simd_available() else "portable"
        assert cb.simd_level(available=True) == best
    assert cb.simd_level() == cb.simd_level(available=True)
