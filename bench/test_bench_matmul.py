"""The matmul ladder against NumPy's matmul, one benchmark group per (dtype, n).

Note: pytest-benchmark does not pin BLAS to one thread; start pytest with
OPENBLAS_NUM_THREADS=1 for the single-threaded comparison (``pyneuron bench`` does so itself).
"""
import numpy as np
import pytest

RUNGS = ["naive", "reorder", "blocked", "simd", "numpy"]


@pytest.mark.parametrize("rung", RUNGS)
@pytest.mark.parametrize("n", [64, 128, 256, 512])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_matmul_ladder(benchmark, c_backend, rung, n, dtype):
    if benchmark.disabled:
        n = min(n, 24)  # a plain correctness run in the default suite
    elif rung == "naive" and n > 256:
        pytest.skip("naive at n=512 takes seconds per call; see `pyneuron bench`")
    if rung == "simd" and not c_backend.simd_available():
        pytest.skip("no AVX2+FMA on this CPU")
    benchmark.group = f"matmul {np.dtype(dtype).name} n={n}"
    benchmark.extra_info["gflop"] = 2 * n ** 3 / 1e9
    rng = np.random.default_rng(0)
    A = rng.standard_normal((n, n)).astype(dtype)
    B = rng.standard_normal((n, n)).astype(dtype)
    C = np.empty((n, n), dtype)
    if rung == "numpy":
        benchmark(np.matmul, A, B, out=C)
    else:
        benchmark(c_backend.matmul, A, B, rung, out=C)
    expected = A.astype(np.float64) @ B.astype(np.float64)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(C, expected, rtol=tol, atol=tol * n * 10)
