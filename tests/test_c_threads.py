"""The threads rung: big packed products split their columns over OpenMP threads. Each
element of C is still summed by one thread in one order, so any thread count gives the
single-thread result bit for bit; without OpenMP the count stays 1."""
import numpy as np
import pytest

from helpers import c_backend_module

cb = c_backend_module()


@pytest.fixture
def restore_threads():
    before = cb.threads()
    yield
    cb.set_threads(before)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("trans", [(False, False), (True, True)])
def test_two_threads_give_the_one_thread_product_bit_for_bit(dtype, trans, restore_threads):
    rng = np.random.default_rng(0)
    M, N, K = 250, 301, 129                    # above the 128³ threshold, odd edges
    A = rng.standard_normal((K, M) if trans[0] else (M, K)).astype(dtype)
    B = rng.standard_normal((N, K) if trans[1] else (K, N)).astype(dtype)
    assert cb.set_threads(1) == 1
    one = cb.matmul(A, B, "auto", *trans)
    got = cb.set_threads(2)
    assert got == (2 if cb.openmp_available() else 1)
    two = cb.matmul(A, B, "auto", *trans)
    np.testing.assert_array_equal(two, one)
    opA, opB = (A.T if trans[0] else A), (B.T if trans[1] else B)
    want = opA.astype(np.float64) @ opB.astype(np.float64)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    scale = float((np.abs(opA).astype(np.float64) @ np.abs(opB).astype(np.float64)).max())
    np.testing.assert_allclose(two, want, rtol=tol, atol=tol * scale)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("M, N, K", [(12, 17, 10300), (25, 40, 2100), (515, 70, 61)],
                         ids=["one-row-sliver", "two-slivers-one-short", "rows-split-unevenly"])
@pytest.mark.parametrize("threads", [2, 3])
def test_thread_shares_at_the_edges_give_the_one_thread_product(dtype, M, N, K, threads,
                                                                 restore_threads):
    """Rows are shared out by whole 12-row slivers and B's packing by whole column slivers:
    a thread may get no rows (M = 12) or no columns to pack; the product stays the one-thread
    one bit for bit, and NumPy's to rounding. (Each shape is above the 128³ threshold.)"""
    rng = np.random.default_rng(3)
    A = rng.standard_normal((M, K)).astype(dtype)
    B = rng.standard_normal((K, N)).astype(dtype)
    cb.set_threads(1)
    one = cb.matmul(A, B, "auto")
    cb.set_threads(threads)
    np.testing.assert_array_equal(cb.matmul(A, B, "auto"), one)
    want = A.astype(np.float64) @ B.astype(np.float64)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    scale = float((np.abs(A).astype(np.float64) @ np.abs(B).astype(np.float64)).max())
    np.testing.assert_allclose(one, want, rtol=tol, atol=tol * scale)


def test_training_on_two_threads_is_the_same_run(restore_threads):
    import pyneuron as pn
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((300, 200)), rng.integers(0, 3, 300)
    runs = []
    for n in (1, 2):
        cb.set_threads(n)
        model = pn.MLP([200, 160, 3], output="softmax", seed=0, backend="c")
        model.fit(X, y, epochs=1, batch_size=150, optimizer=pn.optimizers.Adam(0.01))
        runs.append(model.get_weights())
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("bad, exc", [(0, ValueError), (-2, ValueError), (2000, ValueError),
                                      (2.0, TypeError), (True, TypeError), ("2", TypeError)])
def test_set_threads_refuses_bad_counts(bad, exc, restore_threads):
    with pytest.raises(exc, match="n:"):
        cb.set_threads(bad)


def test_the_count_follows_the_environment(tmp_path):
    import os
    import subprocess
    import sys
    code = "from pyneuron.backends import c_backend as cb; print(cb.threads())"
    for env, want in (({"OMP_NUM_THREADS": "3"}, 3), ({"PYNEURON_THREADS": "2", "OMP_NUM_THREADS": "3"}, 2),
                      ({}, 1)):
        e = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "PYNEURON_THREADS")}
        e.update(env)
        # from tmp_path: the installed package, not a source tree without the compiled module
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=e,
                             timeout=120, cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        assert int(out.stdout) == (want if cb.openmp_available() else 1)
