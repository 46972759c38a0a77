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

from helpers import CpuWith, assert_close, c_backend_module

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

def operands(dtype):
    rng = np.random.default_rng(3)
    A, B = rng.standard_normal((5, 7)).astype(dtype), rng.standard_normal((7, 4)).astype(dtype)
    expected = A.astype(np.float64) @ B.astype(np.float64)
    return A, B, expected


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_cpu_with_avx2_only_refuses_avx512_and_runs_the_simd_rungs(dtype, monkeypatch):
    if not cb.simd_available():
        pytest.skip("the SIMD rungs run for real here: this CPU has no AVX2+FMA")
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


# ---------------------------------------------------------------- losses: C, not NumPy
def numpy_path_refused(*args, **kwargs):
    raise AssertionError("the c backend fell back to NumpyBackend for a loss C computes")


@pytest.mark.parametrize("kernel", ["loss_value", "loss_gradient"])
def test_losses_of_arrays_with_rows_run_in_c(kernel, monkeypatch):
    from pyneuron.backends.numpy_backend import NumpyBackend
    monkeypatch.setattr(NumpyBackend, kernel, numpy_path_refused)
    A, Y = np.array([[0.25, 0.5], [1.0, -1.0]]), np.array([[0.0, 1.0], [1.0, 1.0]])
    got = getattr(cb.CBackend(), kernel)("mse", A, Y)
    if kernel == "loss_value":    # (0.0625 + 0.25 + 0 + 4) / 4
        assert got == pytest.approx(4.3125 / 4, rel=1e-15)
    else:                         # 2 (A - Y) / 4
        np.testing.assert_array_equal(got, [[0.125, -0.25], [0.0, -1.0]])
    A1, Y1 = np.array([0.25, 0.5]), np.array([0.0, 1.0])       # 1-D: one row per element
    got = getattr(cb.CBackend(), kernel)("mse", A1, Y1)
    if kernel == "loss_value":
        assert got == pytest.approx(0.3125 / 2, rel=1e-15)
    else:
        np.testing.assert_array_equal(got, [0.25, -0.5])
    got = getattr(cb.CBackend(), kernel)("mse", np.array([[0.25]]), np.array([[1.0]]))    # one element
    if kernel == "loss_value":
        assert got == 0.5625
    else:
        np.testing.assert_array_equal(got, [[-1.5]])


@pytest.mark.parametrize("shape", [(), (0, 2), (2, 0), (0,)])
def test_losses_of_0d_and_empty_arrays_are_numpys(shape, monkeypatch):
    """The two corner cases C leaves to the numpy backend (it has no row to average over)."""
    from pyneuron.backends.numpy_backend import NumpyBackend
    calls = []
    real = NumpyBackend.loss_value

    def spy(self, loss, A, Y):
        calls.append(A.shape)
        return real(self, loss, A, Y)

    monkeypatch.setattr(NumpyBackend, "loss_value", spy)
    A, Y = np.full(shape, 0.75), np.full(shape, 1.0)
    if A.size:
        assert cb.CBackend().loss_value("mse", A, Y) == 0.0625            # (0.75 - 1)^2
    else:                               # the mean of no terms is refused, not NaN
        with pytest.raises(ValueError, match="A: expected at least one value to take the mean loss over"):
            cb.CBackend().loss_value("mse", A, Y)
    assert calls == [shape]


# ---------------------------------------------------------------- the fused step and its plan cache
def one_unit(w=2.0, dtype=np.float64):
    return [np.array([[w]], dtype)], [np.zeros(1, dtype)]


X1, Y0 = np.array([[1.0]]), np.array([[0.0]])


def test_sgd_train_step_takes_any_real_slope_and_refuses_a_bool():
    c = cb.CBackend()
    # leaky ReLU unit, w = -2, x = 1, y = 0, slope s: z = -2, a = -2s, loss a^2; dL/dz = 2a s
    for slope in (0.5, np.float32(0.5), 1):
        weights, biases = one_unit(-2.0)
        s = float(slope)
        loss = c.sgd_train_step(X1, Y0, weights, biases, ["leaky_relu"], "mse", 0.25, slope)
        assert loss == 4 * s * s
        np.testing.assert_array_equal(weights[0], [[-2.0 - 0.25 * (2 * (-2 * s) * s)]])
        np.testing.assert_array_equal(biases[0], [-0.25 * (2 * (-2 * s) * s)])
    for bad in (True, "0.5", None):
        weights, biases = one_unit(-2.0)
        with pytest.raises(TypeError, match=rf"^negative_slope: expected a real number, got {type(bad).__name__}$"):
            c.sgd_train_step(X1, Y0, weights, biases, ["leaky_relu"], "mse", 0.25, bad)
        np.testing.assert_array_equal(weights[0], [[-2.0]])      # refused before any update


def test_sgd_train_step_takes_the_old_alpha_keyword_with_a_warning():
    weights, biases = one_unit(-2.0)
    with pytest.warns(DeprecationWarning, match="negative_slope"):
        loss = cb.CBackend().sgd_train_step(X1, Y0, weights, biases, ["leaky_relu"], "mse", 0.25, alpha=0.5)
    assert loss == 1.0                                  # a = -1 (slope 0.5, not the default 0.01)
    np.testing.assert_array_equal(weights[0], [[-1.75]])


def plans():
    from pyneuron.backends import c_checks
    return c_checks._local.plans


def test_the_step_workspace_grows_only_for_a_bigger_batch():
    c = cb.CBackend()
    weights, biases = one_unit()
    X4, Y4 = np.ones((4, 1)), np.zeros((4, 1))
    c.sgd_train_step(X4, Y4, weights, biases, ["linear"], "mse", 0.0)
    plan = plans()[id(weights[0])]
    first = plan.work
    assert plan.m_cap == 4
    for m in (4, 2, 4):                   # the same or a smaller batch: the same workspace
        c.sgd_train_step(X4[:m], Y4[:m], weights, biases, ["linear"], "mse", 0.0)
        assert plans()[id(weights[0])] is plan and plan.work is first and plan.m_cap == 4
    c.sgd_train_step(np.ones((5, 1)), np.zeros((5, 1)), weights, biases, ["linear"], "mse", 0.0)
    assert plan.m_cap == 5 and plan.work is not first


def test_the_plan_cache_holds_at_most_eight_models():
    c = cb.CBackend()
    plans().clear()
    models = [one_unit(float(k + 1)) for k in range(9)]
    for k, (weights, biases) in enumerate(models[:8]):
        loss = c.sgd_train_step(X1, Y0, weights, biases, ["linear"], "mse", 0.0)
        assert loss == (k + 1.0) ** 2
    assert sorted(plans()) == sorted(id(w[0]) for w, _ in models[:8])
    c.sgd_train_step(X1, Y0, *models[8], ["linear"], "mse", 0.0)      # the ninth empties it first
    assert list(plans()) == [id(models[8][0][0])]


# ---------------------------------------------------------------- which plan fit runs
@pytest.mark.parametrize("optimizer", ["SGD", "own update"])
def test_train_plan_defaults_are_no_penalty_no_clipping_no_accuracy(optimizer):
    import pyneuron as pn
    from pyneuron.backends.c_plan import CTrainPlan
    from pyneuron.training_plan import TrainPlan

    class OwnUpdate(pn.optimizers.SGD):
        def step(self, params, grads):
            return super().step(params, grads)

    model = pn.MLP([2, 3, 1], seed=0, backend="c")
    opt = pn.optimizers.SGD(lr=0.1) if optimizer == "SGD" else OwnUpdate(lr=0.1)
    plan = cb.CBackend().train_plan(model, opt)
    assert type(plan) is (CTrainPlan if optimizer == "SGD" else TrainPlan)
    assert (plan.l1, plan.l2, plan.clip_value, plan.clip_norm, plan.track_accuracy) == (0.0, 0.0, None, None, False)
    assert not plan.penalty
    plan = cb.CBackend().train_plan(model, opt, 0.25, 0.5, 1.0, 2.0, True)
    assert (plan.l1, plan.l2, plan.clip_value, plan.clip_norm, plan.track_accuracy) == (0.25, 0.5, 1.0, 2.0, True)


# ---------------------------------------------------------------- dropout's keep probability
@pytest.mark.parametrize("kernel", ["dropout_forward", "dropout_backward"])
@pytest.mark.parametrize("keep_prob, scale", [(1.0, 1.0), (0.5, 2.0), (0.25, 4.0)])
def test_dropout_keeps_probabilities_in_0_to_1_inclusive_of_1(kernels, kernel, keep_prob, scale):
    A, mask = np.array([[1.0, 2.0], [3.0, -4.0]]), np.array([[1.0, 0.0], [1.0, 1.0]])
    np.testing.assert_array_equal(getattr(kernels, kernel)(A, mask, keep_prob),
                                  [[scale, 0.0], [3 * scale, -4 * scale]])


@pytest.mark.parametrize("kernel", ["dropout_forward", "dropout_backward"])
@pytest.mark.parametrize("keep_prob", [0.0, -0.5, 1.0000001, 2.0])
def test_c_dropout_refuses_a_keep_probability_outside_0_to_1(kernel, keep_prob):
    A = np.ones((2, 2))
    with pytest.raises(ValueError, match=rf"^keep_prob: expected a probability in \(0, 1\], got {keep_prob!r}$"):
        getattr(cb.CBackend(), kernel)(A, A, keep_prob)


# ---------------------------------------------------------------- the fused step's checks of X and Y
def misaligned(a):
    """A C-contiguous copy of ``a`` at an odd byte offset."""
    raw = np.zeros(a.nbytes + 1, np.uint8)[1:]
    out = np.frombuffer(raw.data, a.dtype, a.size).reshape(a.shape)
    out[...] = a
    assert not out.flags.aligned and out.flags.c_contiguous
    return out


XS, YS = np.array([[1.0, 2.0], [0.5, -1.0], [2.0, 0.0]]), np.array([[1.0], [0.0], [-1.0]])
BAD_X = {
    "list": ([[1.0, 1.0]] * 3, TypeError, r"^X: expected a numpy\.ndarray of float32 or float64, got list$"),
    "float32": (XS.astype(np.float32), TypeError, r"^X: expected dtype float64 like the weights, got float32$"),
    "3-D": (np.ones((3, 2, 1)), ValueError, r"^X: expected a 2-D array, got shape \(3, 2, 1\)$"),
    "width": (np.ones((3, 3)), ValueError, r"^X: expected shape \(3, 2\), got \(3, 3\)$"),
    "strided": (np.ones((3, 4))[:, ::2], ValueError, r"^X: expected a C-contiguous array .* a non-contiguous"),
}
BAD_Y = {
    "list": ([[0.0]] * 3, TypeError, r"^Y: expected a numpy\.ndarray of float32 or float64, got list$"),
    "float32": (YS.astype(np.float32), TypeError, r"^Y: expected dtype float64 like the weights, got float32$"),
    "1-D": (np.zeros(3), ValueError, r"^Y: expected a 2-D array, got shape \(3,\)$"),
    "rows": (np.zeros((2, 1)), ValueError, r"^Y: expected shape \(3, 1\), got \(2, 1\)$"),
    "columns": (np.zeros((3, 2)), ValueError, r"^Y: expected shape \(3, 1\), got \(3, 2\)$"),
    "strided": (np.zeros((3, 2))[:, :1], ValueError, r"^Y: expected a C-contiguous array .* a non-contiguous"),
}


def two_inputs():
    return [np.array([[1.0, -2.0]])], [np.array([0.5])]


@pytest.mark.parametrize("which, bad", [("X", k) for k in BAD_X] + [("Y", k) for k in BAD_Y])
def test_sgd_train_step_refuses_each_bad_x_and_y_before_any_update(which, bad):
    c = cb.CBackend()
    weights, biases = two_inputs()
    c.sgd_train_step(XS, YS, weights, biases, ["linear"], "mse", 0.0)   # the plan exists: the fast check runs
    value, exc, message = (BAD_X if which == "X" else BAD_Y)[bad]
    X, Y = (value, YS) if which == "X" else (XS, value)
    with pytest.raises(exc, match=message):
        c.sgd_train_step(X, Y, weights, biases, ["linear"], "mse", 0.1)
    np.testing.assert_array_equal(weights[0], [[1.0, -2.0]])
    np.testing.assert_array_equal(biases[0], [0.5])


def test_sgd_train_step_takes_misaligned_x_and_y_as_their_values():
    # z = x1 - 2 x2 + 0.5 = -2.5, 3, 2.5 against y = 1, 0, -1: errors -3.5, 3, 3.5; mse = (12.25 + 9 + 12.25) / 3
    c = cb.CBackend()
    expected = None
    for X, Y in ((XS, YS), (misaligned(XS), misaligned(YS))):
        weights, biases = two_inputs()
        loss = c.sgd_train_step(X, Y, weights, biases, ["linear"], "mse", 0.1)
        assert loss == pytest.approx(33.5 / 3, rel=1e-15)
        if expected is None:
            expected = weights[0].copy(), biases[0].copy()
        np.testing.assert_array_equal(weights[0], expected[0])
        np.testing.assert_array_equal(biases[0], expected[1])
