"""The training toolkit's kernels in C (issue 5): loss_gradient, penalty, penalty_gradient,
dropout, batch norm and the four optimizer steps.

* differential tests (hypothesis) of every one against the numpy backend (relative 1e-12 in
  float64, 1e-5 in float32, with an absolute term scaled to the magnitude of the terms
  where a sum can cancel) and against the scalar backend (small sizes);
* bit-for-bit agreement with numpy on x86-64, where the C code follows numpy's order of
  operations and the compiler does not contract a*b + c into an FMA;
* malformed calls: a clear TypeError/ValueError naming the argument, and nothing written;
* a whole training run with Adam + dropout + batch norm + L2 agreeing with numpy.
"""
import platform

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from helpers import c_backend_module

cb = c_backend_module()  # skip the file, or fail under PYNEURON_REQUIRE_C

import pyneuron as pn  # noqa: E402
from pyneuron import backends  # noqa: E402

C = backends.get("c")
NP = backends.get("numpy")
SCALAR = backends.get("scalar")
DTYPES = [np.float64, np.float32]
RTOL = {np.float64: 1e-12, np.float32: 1e-5}
REFS = {"numpy": NP, "scalar": SCALAR}
X86_64 = platform.machine().lower() in ("x86_64", "amd64")


def close(actual, expected, dtype, scale=None, rtol=None):
    """allclose with the dtype's relative tolerance and an absolute one of ``rtol * scale``
    (default: the largest |expected|), for results where terms can cancel."""
    rtol = rtol or RTOL[np.dtype(dtype).type]
    expected = np.asarray(expected, dtype=np.float64)
    if scale is None:
        scale = np.abs(expected).max(initial=0.0)
    assert np.shape(actual) == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * max(scale, 1e-300))


def magnitude(*arrays):
    return max((float(np.abs(np.asarray(a, np.float64)).max(initial=0.0)) for a in arrays),
               default=0.0)


def reference_tol(ref, dtype):
    """The scalar backend computes in double and rounds once; numpy float32 rounds at
    every operation: a few float32 ulps apart after a handful of operations."""
    return RTOL[np.dtype(dtype).type] if ref == "numpy" or dtype == np.float64 else 1e-5


# ---------------------------------------------------------------- strategies
shapes = st.one_of(
    st.tuples(st.integers(0, 12)),
    st.tuples(st.integers(0, 9), st.integers(0, 7)),
    st.tuples(st.integers(0, 3), st.integers(0, 4), st.integers(0, 3)),
    st.just(()),
)
dtypes = st.sampled_from(DTYPES)
seeds = st.integers(0, 2**32 - 1)
refs = st.sampled_from(sorted(REFS))
unit = st.floats(0.0, 0.999)


def normal(rng, shape, dtype, scale=1.0):
    return np.asarray(rng.standard_normal(shape) * scale, dtype=dtype)


# ---------------------------------------------------------------- loss gradient
@settings(max_examples=60, deadline=None)
@given(shape=st.tuples(st.integers(1, 10), st.integers(1, 6)) | st.tuples(st.integers(1, 12)),
       loss=st.sampled_from(["mse", "bce", "cce"]), dtype=dtypes, seed=seeds, ref=refs)
def test_loss_gradient_matches(shape, loss, dtype, seed, ref):
    rng = np.random.default_rng(seed)
    if loss == "mse":
        A, Y = normal(rng, shape, dtype), normal(rng, shape, dtype)
    else:
        A = rng.uniform(0.01, 0.99, shape).astype(dtype)
        Y = rng.integers(0, 2, shape).astype(dtype)
    got = C.loss_gradient(loss, A, Y)
    assert got.dtype == dtype and got.shape == A.shape
    close(got, REFS[ref].loss_gradient(loss, A, Y), dtype, rtol=reference_tol(ref, dtype))


def test_loss_gradient_clips_and_handles_empty_and_0d():
    A = np.array([[0.0, 1.0, 0.5]])
    Y = np.array([[0.0, 1.0, 1.0]])
    for loss in ("bce", "cce"):
        close(C.loss_gradient(loss, A, Y), NP.loss_gradient(loss, A, Y), np.float64)
    empty = np.zeros((0, 3))
    assert C.loss_gradient("mse", empty, empty).shape == (0, 3)
    a0, y0 = np.array(0.3), np.array(1.0)
    close(C.loss_gradient("mse", a0, y0), NP.loss_gradient("mse", a0, y0), np.float64)


# ---------------------------------------------------------------- penalty
# (no coefficients so small that l/m leaves float32's normal range: there a float32
# computation and the scalar backend's double one legitimately part)
coefficients = st.just(0.0) | st.floats(1e-6, 2.0)


@settings(max_examples=60, deadline=None)
@given(shape=shapes, dtype=dtypes, seed=seeds, ref=refs,
       l1=coefficients, l2=coefficients, m=st.integers(1, 500))
def test_penalty_and_its_gradient_match(shape, dtype, seed, ref, l1, l2, m):
    rng = np.random.default_rng(seed)
    W = normal(rng, shape, dtype)
    if W.size:
        W.flat[rng.integers(W.size)] = 0.0  # sign(0) = 0
    want = REFS[ref].penalty(W, l1, l2, m)
    got = C.penalty(W, l1, l2, m)
    assert isinstance(got, float)
    # numpy sums float32 in float32 (pairwise); C sums in double: rounding apart
    assert got == pytest.approx(want, rel=RTOL[dtype], abs=1e-300)
    grad = C.penalty_gradient(W, l1, l2, m)
    assert grad.dtype == dtype and grad.shape == W.shape
    close(grad, REFS[ref].penalty_gradient(W, l1, l2, m), dtype,
          scale=(l1 + l2 * magnitude(W)) / m, rtol=reference_tol(ref, dtype))


def test_penalty_gradient_keeps_nan_and_inf_like_numpy():
    W = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 2.0])
    for l1, l2 in ((0.1, 0.0), (0.0, 0.1), (0.1, 0.1)):
        with np.errstate(invalid="ignore"):  # 0·inf = NaN is the point of this test
            expected = NP.penalty_gradient(W, l1, l2, 4)
        np.testing.assert_array_equal(C.penalty_gradient(W, l1, l2, 4), expected)


# ---------------------------------------------------------------- dropout
@settings(max_examples=60, deadline=None)
@given(shape=shapes, dtype=dtypes, seed=seeds, ref=refs, keep=st.floats(0.05, 1.0))
def test_dropout_forward_and_backward_match(shape, dtype, seed, ref, keep):
    rng = np.random.default_rng(seed)
    A = normal(rng, shape, dtype, 3.0)
    mask = np.asarray(rng.random(shape) < keep, dtype=dtype)
    tol = reference_tol(ref, dtype)
    for kernel in ("dropout_forward", "dropout_backward"):
        got = getattr(C, kernel)(A, mask, keep)
        assert got.dtype == dtype and got.shape == A.shape
        close(got, getattr(REFS[ref], kernel)(A, mask, keep), dtype, rtol=tol)


def test_dropout_accepts_read_only_inputs():
    A = np.arange(6.0).reshape(2, 3)
    mask = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    A.flags.writeable = mask.flags.writeable = False
    np.testing.assert_array_equal(C.dropout_forward(A, mask, 0.5), A * mask / 0.5)


# ---------------------------------------------------------------- batch norm
bn_shapes = st.tuples(st.integers(1, 12), st.integers(0, 7))


@settings(max_examples=60, deadline=None)
@given(shape=bn_shapes, dtype=dtypes, seed=seeds, ref=refs,
       eps=st.sampled_from([1e-5, 1e-3, 0.1]), offset=st.floats(-5, 5))
def test_batchnorm_forward_matches(shape, dtype, seed, ref, eps, offset):
    rng = np.random.default_rng(seed)
    Z = (normal(rng, shape, np.float64, 2.0) + offset).astype(dtype)
    gamma = rng.uniform(0.5, 1.5, shape[1]).astype(dtype)
    beta = normal(rng, shape[1], dtype)
    got = C.batchnorm_forward(Z, gamma, beta, eps)
    want = REFS[ref].batchnorm_forward(Z, gamma, beta, eps)
    tol = reference_tol(ref, dtype)
    if dtype == np.float32 and ref == "scalar":
        tol = 1e-4  # float32 (Z - mean) cancels when |offset| >> spread
    names = ("Y", "Zhat", "mean", "var")
    for name, g, w in zip(names, got, want):
        assert g.dtype == dtype and g.shape == np.shape(w), name
        scale = {"mean": magnitude(Z), "var": magnitude(Z) ** 2,
                 "Zhat": magnitude(w) + 1, "Y": magnitude(w) + 1}[name]
        close(g, w, dtype, scale=scale, rtol=tol)


@settings(max_examples=60, deadline=None)
@given(shape=bn_shapes, dtype=dtypes, seed=seeds, ref=refs, eps=st.sampled_from([1e-5, 0.1]))
def test_batchnorm_inference_matches(shape, dtype, seed, ref, eps):
    rng = np.random.default_rng(seed)
    n = shape[1]
    Z = normal(rng, shape, dtype, 2.0)
    gamma, beta = rng.uniform(0.5, 1.5, n).astype(dtype), normal(rng, n, dtype)
    mean, var = normal(rng, n, dtype), rng.uniform(0.1, 3.0, n).astype(dtype)
    got = C.batchnorm_inference(Z, gamma, beta, mean, var, eps)
    want = REFS[ref].batchnorm_inference(Z, gamma, beta, mean, var, eps)
    assert got.dtype == dtype
    close(got, want, dtype, scale=magnitude(Z, mean) * 5 + magnitude(beta),
          rtol=reference_tol(ref, dtype))


@settings(max_examples=60, deadline=None)
@given(shape=bn_shapes, dtype=dtypes, seed=seeds, ref=refs, eps=st.sampled_from([1e-5, 0.1]))
def test_batchnorm_backward_matches(shape, dtype, seed, ref, eps):
    rng = np.random.default_rng(seed)
    n = shape[1]
    Z = normal(rng, shape, dtype, 2.0)
    gamma = rng.uniform(0.5, 1.5, n).astype(dtype)
    _, Zhat, _, var = NP.batchnorm_forward(Z, gamma, np.zeros(n, dtype), eps)
    dY = normal(rng, shape, dtype)
    got = C.batchnorm_backward(dY, Zhat, gamma, var, eps)
    want = REFS[ref].batchnorm_backward(dY, Zhat, gamma, var, eps)
    m = shape[0]
    sums = m * magnitude(dY) * (1 + magnitude(Zhat))  # the terms dZ, dgamma, dbeta cancel
    scales = (sums * magnitude(gamma) / np.sqrt(float(var.min(initial=1.0)) + eps) / m,
              sums, sums)
    for name, g, w, scale in zip(("dZ", "dgamma", "dbeta"), got, want, scales):
        assert g.dtype == dtype and g.shape == np.shape(w), name
        close(g, w, dtype, scale=scale, rtol=reference_tol(ref, dtype))


def test_batchnorm_by_hand():
    Z = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 16.0]])
    Y, Zhat, mean, var = C.batchnorm_forward(Z, np.array([2.0, 1.0]), np.array([0.5, -1.0]), 0.0)
    np.testing.assert_allclose(mean, [3.0, 12.0], rtol=1e-15)
    np.testing.assert_allclose(var, [8 / 3, 8.0], rtol=1e-15)
    np.testing.assert_allclose(Zhat[:, 1], np.array([-2.0, -2.0, 4.0]) / np.sqrt(8.0), rtol=1e-15)


# ---------------------------------------------------------------- optimizer steps
def run_step(k, kernel, arrays, scalars):
    """Copy the in-place arrays, run ``kernel`` on ``k``; return the updated copies."""
    param, grad, *state = arrays
    param, state = param.copy(), [s.copy() for s in state]
    assert getattr(k, kernel)(param, grad, *state, *scalars) is None
    return [param] + state


def step_case(draw_scalars):
    @st.composite
    def case(draw):
        shape, dtype, seed = draw(shapes), draw(dtypes), draw(seeds)
        rng = np.random.default_rng(seed)
        return shape, dtype, rng, draw_scalars(draw)
    return case()


STEPS = {
    "sgd_step": (0, lambda draw: (draw(st.floats(1e-4, 1.0)),)),
    "momentum_step": (1, lambda draw: (draw(st.floats(1e-4, 1.0)), draw(unit), draw(unit),
                                       draw(st.booleans()))),
    "rmsprop_step": (1, lambda draw: (draw(st.floats(1e-4, 1.0)), draw(unit),
                                      draw(st.sampled_from([1e-8, 1e-3])))),
    "adam_step": (2, lambda draw: (draw(st.floats(1e-4, 0.1)), draw(unit), draw(unit),
                                   draw(st.sampled_from([1e-8, 1e-3])), draw(st.integers(1, 50)),
                                   draw(st.sampled_from([0.0, 0.01, 0.3])))),
}


def step_arrays(kernel, shape, dtype, rng):
    n_state = STEPS[kernel][0]
    arrays = [normal(rng, shape, dtype), normal(rng, shape, dtype)]
    if kernel == "momentum_step":
        arrays.append(normal(rng, shape, dtype))
    elif kernel == "rmsprop_step":
        arrays.append(np.asarray(rng.uniform(0, 2, shape), dtype=dtype))
    elif kernel == "adam_step":
        arrays += [normal(rng, shape, dtype, 0.5), np.asarray(rng.uniform(0, 1, shape), dtype)]
    assert len(arrays) == 2 + n_state
    return arrays


def check_step(kernel, shape, dtype, rng, scalars, ref):
    arrays = step_arrays(kernel, shape, dtype, rng)
    got = run_step(C, kernel, arrays, scalars)
    want = run_step(REFS[ref], kernel, arrays, scalars)
    scale = magnitude(*arrays, *want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert g.dtype == dtype and g.shape == shape
        close(g, w, dtype, scale=scale, rtol=reference_tol(ref, dtype) * (2 if i == 0 else 1))
    return arrays, got


@pytest.mark.parametrize("kernel", STEPS)
def test_optimizer_steps_match(kernel):
    @settings(max_examples=50, deadline=None)
    @given(case=step_case(STEPS[kernel][1]), ref=refs)
    def check(case, ref):
        shape, dtype, rng, scalars = case
        arrays, got = check_step(kernel, shape, dtype, rng, scalars, ref)
        if arrays[0].size and scalars[0] > 0 and np.any(arrays[1] != 0):
            assert not np.array_equal(got[0], arrays[0]), "the step did not move param"
    check()


def test_adam_uses_the_bias_correction_with_t():
    p, g = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    m, v = np.zeros(2), np.zeros(2)
    C.adam_step(p, g, m, v, 0.1, 0.9, 0.999, 0.0, 1)
    # t = 1: m_hat = g, v_hat = g^2, so the first step is lr * sign(g)
    np.testing.assert_allclose(p, [0.9, -2.1], rtol=1e-14)
    np.testing.assert_allclose(m, 0.1 * g, rtol=1e-15)
    np.testing.assert_allclose(v, 0.001 * g * g, rtol=1e-15)


def test_adamw_decay_is_decoupled():
    p, g = np.array([2.0]), np.array([0.0])
    C.adam_step(p, g, np.zeros(1), np.zeros(1), 0.1, 0.9, 0.999, 1e-8, 1, weight_decay=0.5)
    np.testing.assert_allclose(p, [2.0 * (1 - 0.1 * 0.5)], rtol=1e-15)


def test_grad_may_be_read_only_or_param_itself():
    p = np.array([1.0, 2.0, 3.0])
    g = np.array([1.0, 1.0, 1.0])
    g.flags.writeable = False
    C.sgd_step(p, g, 0.5)
    np.testing.assert_array_equal(p, [0.5, 1.5, 2.5])
    for k in (C, NP):  # p -= lr * p: numpy's temporary, C's copy of grad
        q = np.array([1.0, 2.0, 4.0])
        vel = np.zeros(3)
        k.momentum_step(q, q, vel, 0.5, 0.9, 0.0, True)
        np.testing.assert_array_equal(q, [1.0 - 0.5 * 1.9, 2.0 - 0.5 * 3.8, 4.0 - 0.5 * 7.6])


# ---------------------------------------------------------------- bit for bit on x86-64
@pytest.mark.skipif(not X86_64, reason="other CPUs may contract a*b + c into an FMA")
@pytest.mark.parametrize("dtype", DTYPES)
def test_bitwise_equal_to_numpy(dtype):
    rng = np.random.default_rng(7)
    Z = normal(rng, (37, 9), dtype, 3.0)
    gamma, beta = rng.uniform(0.5, 1.5, 9).astype(dtype), normal(rng, 9, dtype)
    for g, w in zip(C.batchnorm_forward(Z, gamma, beta, 1e-5),
                    NP.batchnorm_forward(Z, gamma, beta, 1e-5)):
        np.testing.assert_array_equal(g, w)
    _, Zhat, _, var = NP.batchnorm_forward(Z, gamma, beta, 1e-5)
    for g, w in zip(C.batchnorm_backward(Z, Zhat, gamma, var, 1e-5),
                    NP.batchnorm_backward(Z, Zhat, gamma, var, 1e-5)):
        np.testing.assert_array_equal(g, w)
    np.testing.assert_array_equal(C.batchnorm_inference(Z, gamma, beta, beta, gamma, 1e-3),
                                  NP.batchnorm_inference(Z, gamma, beta, beta, gamma, 1e-3))
    mask = (rng.random(Z.shape) < 0.7).astype(dtype)
    np.testing.assert_array_equal(C.dropout_forward(Z, mask, 0.7), NP.dropout_forward(Z, mask, 0.7))
    np.testing.assert_array_equal(C.penalty_gradient(Z, 0.1, 0.3, 37),
                                  NP.penalty_gradient(Z, 0.1, 0.3, 37))
    A = rng.uniform(0.01, 0.99, Z.shape).astype(dtype)
    for loss in ("mse", "bce", "cce"):
        np.testing.assert_array_equal(C.loss_gradient(loss, A, mask), NP.loss_gradient(loss, A, mask))
    scalars = {"sgd_step": (0.1,), "momentum_step": (0.1, 0.9, 0.9, True),
               "rmsprop_step": (0.01, 0.9, 1e-8), "adam_step": (0.01, 0.9, 0.999, 1e-8, 7, 0.01)}
    for kernel, sc in scalars.items():
        arrays = step_arrays(kernel, (5, 8), dtype, rng)
        for g, w in zip(run_step(C, kernel, arrays, sc), run_step(NP, kernel, arrays, sc)):
            np.testing.assert_array_equal(g, w, err_msg=kernel)


# ---------------------------------------------------------------- malformed calls
def fortran(a):
    return np.asfortranarray(a)


def strided(a):
    big = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
    big[..., ::2] = a
    return big[..., ::2]


def readonly(a):
    a = a.copy()
    a.flags.writeable = False
    return a


r = np.random.default_rng(0)
P = r.standard_normal((4, 3))
G = r.standard_normal((4, 3))
S = r.random((4, 3))
Zb = r.standard_normal((6, 3))
g3, b3 = np.ones(3), np.zeros(3)
MASK = (r.random((6, 3)) < 0.5).astype(float)

STEP_CALLS = {
    "sgd_step": lambda p=None, g=None: C.sgd_step(P.copy() if p is None else p,
                                                  G if g is None else g, 0.1),
    "momentum_step": lambda p=None, g=None, s=None: C.momentum_step(
        P.copy() if p is None else p, G if g is None else g, S.copy() if s is None else s,
        0.1, 0.9, 0.0, False),
    "rmsprop_step": lambda p=None, g=None, s=None: C.rmsprop_step(
        P.copy() if p is None else p, G if g is None else g, S.copy() if s is None else s,
        0.1, 0.9, 1e-8),
    "adam_step": lambda p=None, g=None, s=None, s2=None: C.adam_step(
        P.copy() if p is None else p, G if g is None else g, S.copy() if s is None else s,
        S.copy() if s2 is None else s2, 0.1, 0.9, 0.999, 1e-8, 1),
}
STATE = {"momentum_step": "velocity", "rmsprop_step": "square_avg", "adam_step": "m"}

CASES = {}
for _k, _call in STEP_CALLS.items():
    CASES.update({
        f"{_k} param int": (lambda c=_call: c(p=P.astype(np.int64)), TypeError, "param"),
        f"{_k} param float32": (lambda c=_call: c(p=P.astype(np.float32)), TypeError, "param"),
        f"{_k} grad list": (lambda c=_call: c(g=G.tolist()), TypeError, "grad"),
        f"{_k} grad big-endian": (lambda c=_call: c(g=G.astype(">f8")), TypeError, "grad"),
        f"{_k} param fortran": (lambda c=_call: c(p=fortran(P.copy())), ValueError, "param"),
        f"{_k} grad strided": (lambda c=_call: c(g=strided(G)), ValueError, "grad"),
        f"{_k} param shape": (lambda c=_call: c(p=P[:3].copy()), ValueError, "param"),
        f"{_k} param read-only": (lambda c=_call: c(p=readonly(P)), ValueError, "writable"),
    })
for _k, _name in STATE.items():
    _call = STEP_CALLS[_k]
    CASES.update({
        f"{_k} state dtype": (lambda c=_call: c(s=S.astype(np.float32)), TypeError, _name),
        f"{_k} state shape": (lambda c=_call: c(s=S.ravel().copy()), ValueError, _name),
        f"{_k} state strided": (lambda c=_call: c(s=strided(S)), ValueError, _name),
        f"{_k} state read-only": (lambda c=_call: c(s=readonly(S)), ValueError, "writable"),
        f"{_k} state is param": (lambda c=_call: (lambda p: c(p=p, s=p))(P.copy()),
                                 ValueError, f"{_name}: must not share memory with param"),
        f"{_k} state is grad": (lambda c=_call: (lambda g: c(g=g, s=g))(S.copy()),
                                ValueError, f"{_name}: must not share memory with grad"),
        f"{_k} state views param": (lambda c=_call: (lambda big: c(p=big[:4], s=big[2:6]))(
            np.zeros((6, 3))), ValueError, "must not share memory"),
    })
CASES.update({
    "adam v is m": (lambda: (lambda m: C.adam_step(P.copy(), G, m, m, 0.1, 0.9, 0.999, 1e-8, 1))(
        S.copy()), ValueError, "v: must not share memory with m"),
    "adam t = 0": (lambda: C.adam_step(P.copy(), G, S.copy(), S.copy(), 0.1, 0.9, 0.999, 1e-8, 0),
                   ValueError, "t"),
    "adam t float": (lambda: C.adam_step(P.copy(), G, S.copy(), S.copy(), 0.1, 0.9, 0.999, 1e-8,
                                         1.0), TypeError, "t"),
    "adam t bool": (lambda: C.adam_step(P.copy(), G, S.copy(), S.copy(), 0.1, 0.9, 0.999, 1e-8,
                                        True), TypeError, "t"),
    "adam beta1 nan": (lambda: C.adam_step(P.copy(), G, S.copy(), S.copy(), 0.1, np.nan, 0.999,
                                           1e-8, 1), ValueError, "beta1"),
    "adam weight_decay str": (lambda: C.adam_step(P.copy(), G, S.copy(), S.copy(), 0.1, 0.9,
                                                  0.999, 1e-8, 1, "0.1"), TypeError,
                              "weight_decay"),
    "sgd lr inf": (lambda: C.sgd_step(P.copy(), G, np.inf), ValueError, "lr"),
    "sgd lr str": (lambda: C.sgd_step(P.copy(), G, "0.1"), TypeError, "lr"),
    "momentum dampening nan": (lambda: C.momentum_step(P.copy(), G, S.copy(), 0.1, 0.9, np.nan,
                                                       False), ValueError, "dampening"),
    "rmsprop eps None": (lambda: C.rmsprop_step(P.copy(), G, S.copy(), 0.1, 0.9, None),
                         TypeError, "eps"),
    # loss gradient, penalty, dropout
    "loss_gradient name": (lambda: C.loss_gradient("hinge", Zb, Zb), ValueError, "loss"),
    "loss_gradient shape": (lambda: C.loss_gradient("mse", Zb, Zb[:, :2].copy()), ValueError, "Y"),
    "loss_gradient dtype": (lambda: C.loss_gradient("mse", Zb, Zb.astype(np.float32)),
                            TypeError, "Y"),
    "loss_gradient fortran": (lambda: C.loss_gradient("mse", fortran(Zb), Zb), ValueError, "A"),
    "penalty W int": (lambda: C.penalty(P.astype(np.int32), 0.1, 0.1, 4), TypeError, "W"),
    "penalty W strided": (lambda: C.penalty(strided(P), 0.1, 0.1, 4), ValueError, "W"),
    "penalty m zero": (lambda: C.penalty(P, 0.1, 0.1, 0), ValueError, "m"),
    "penalty l2 nan": (lambda: C.penalty(P, 0.1, np.nan, 4), ValueError, "l2"),
    "penalty_gradient fortran": (lambda: C.penalty_gradient(fortran(P), 0.1, 0.1, 4),
                                 ValueError, "W"),
    "penalty_gradient l1 str": (lambda: C.penalty_gradient(P, "a", 0.1, 4), TypeError, "l1"),
    "dropout mask shape": (lambda: C.dropout_forward(Zb, MASK[:3].copy(), 0.5), ValueError,
                           "mask"),
    "dropout mask dtype": (lambda: C.dropout_forward(Zb, MASK.astype(bool), 0.5), TypeError,
                           "mask"),
    "dropout A fortran": (lambda: C.dropout_forward(fortran(Zb), MASK, 0.5), ValueError, "A"),
    "dropout dA strided": (lambda: C.dropout_backward(strided(Zb), MASK, 0.5), ValueError, "dA"),
    "dropout keep 0": (lambda: C.dropout_forward(Zb, MASK, 0.0), ValueError, "keep_prob"),
    "dropout keep 1.5": (lambda: C.dropout_backward(Zb, MASK, 1.5), ValueError, "keep_prob"),
    # batch norm
    "bn forward 1-D": (lambda: C.batchnorm_forward(b3, g3, b3, 1e-5), ValueError, "2-D"),
    "bn forward gamma shape": (lambda: C.batchnorm_forward(Zb, np.ones(4), b3, 1e-5),
                               ValueError, "gamma"),
    "bn forward beta dtype": (lambda: C.batchnorm_forward(Zb, g3, b3.astype(np.float32), 1e-5),
                              TypeError, "beta"),
    "bn forward fortran": (lambda: C.batchnorm_forward(fortran(Zb), g3, b3, 1e-5), ValueError,
                           "Z"),
    "bn forward eps nan": (lambda: C.batchnorm_forward(Zb, g3, b3, np.nan), ValueError, "eps"),
    "bn inference running_var shape": (lambda: C.batchnorm_inference(Zb, g3, b3, b3, np.ones(2),
                                                                     1e-5), ValueError,
                                       "running_var"),
    "bn inference running_mean strided": (lambda: C.batchnorm_inference(
        Zb, g3, b3, np.zeros(6)[::2], g3, 1e-5), ValueError, "running_mean"),
    "bn backward Zhat shape": (lambda: C.batchnorm_backward(Zb, Zb[:5].copy(), g3, g3, 1e-5),
                               ValueError, "Zhat"),
    "bn backward var dtype": (lambda: C.batchnorm_backward(Zb, Zb, g3, g3.astype(np.float32),
                                                           1e-5), TypeError, "var"),
    "bn backward dY strided": (lambda: C.batchnorm_backward(strided(Zb), Zb, g3, g3, 1e-5),
                               ValueError, "dY"),
})


@pytest.mark.parametrize("case", CASES)
def test_bad_argument_is_a_clear_error(case):
    call, exc, words = CASES[case]
    with pytest.raises(exc, match=words):
        call()


@pytest.mark.parametrize("kernel", STEP_CALLS)
def test_a_refused_step_writes_nothing(kernel):
    p, s = P.copy(), S.copy()
    with pytest.raises(ValueError):
        if kernel == "sgd_step":
            C.sgd_step(p, G, np.nan)
        else:
            STEP_CALLS[kernel](p=p, s=s, g=s)  # state aliases grad
    np.testing.assert_array_equal(p, P)
    np.testing.assert_array_equal(s, S)


# ---------------------------------------------------------------- a whole training run
def _train(backend, dtype="float64", steps=10):
    rng = np.random.default_rng(42)
    X = rng.standard_normal((80, 4))
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(float)
    model = pn.MLP([4, 12, 8, 1], activation="relu", dropout=[0.25, 0.1], batch_norm=True,
                   seed=5, backend=backend, dtype=dtype, bias=True)   # the fused path's biases
    h = model.fit(X, y, epochs=1, batch_size=80 // steps,
                  optimizer=pn.optimizers.Adam(0.01), l2=0.05)
    return model, h["loss"], X


def _named_arrays(model):
    out = {}
    for i, layer in enumerate(model.layers):
        names = ["W", "b"] + (["gamma", "beta"] if layer.batch_norm else [])
        out.update({f"{n}{i}": p for n, p in zip(names, layer.parameters())})
        if layer.batch_norm:
            out.update({f"running_mean{i}": layer.running_mean,
                        f"running_var{i}": layer.running_var})
    return out


@pytest.mark.parametrize("dtype,tol", [("float64", 1e-10), ("float32", 1e-4)])
def test_adam_dropout_batchnorm_l2_run_matches_numpy(dtype, tol):
    """Ten steps (one epoch of batches of 8): the same dropout masks and shuffles from the
    model's generator, the toolkit kernels in C on one side and numpy on the other.

    The bias of a layer followed by batch norm is the exception: batch norm subtracts the
    batch mean, so that bias's gradient is exactly 0 in exact arithmetic and only rounding
    noise (~1e-17) in floating point, which Adam divides by sqrt(v) + eps and turns into
    steps of ~1e-11 whose sign depends on rounding (C's matmul vs OpenBLAS). Those biases
    are only checked to stay at that noise level on both backends. In float32 that noise
    (~1e-7) is comparable to eps = 1e-8, so Adam moves those biases by up to lr per step
    in a rounding-dependent direction; batch norm's output does not depend on them, but
    its running mean (and so inference) does: in float32 those are left out."""
    mc, lc, X = _train("c", dtype)
    mn, ln, _ = _train("numpy", dtype)
    got, want = _named_arrays(mc), _named_arrays(mn)
    assert mc.layers[0].batch_norm and mc.layers[0].dropout > 0
    assert {"gamma0", "beta0", "running_var1"} <= set(got)
    np.testing.assert_allclose(lc, ln, rtol=tol)
    fresh = _named_arrays(pn.MLP([4, 12, 8, 1], activation="relu", dropout=[0.25, 0.1],
                                 batch_norm=True, seed=5, backend="numpy", dtype=dtype, bias=True))
    for name, a in got.items():
        b = want[name]
        assert a.dtype == np.dtype(dtype) and a.shape == b.shape, name
        layer = mc.layers[int(name[-1])]
        if name.startswith("b") and not name.startswith("beta") and layer.batch_norm:
            noise = 100 * 10 * 0.01 * np.finfo(dtype).eps / 1e-8  # steps * lr * eps-level grad / eps
            assert np.abs(a - fresh[name]).max() < noise and np.abs(b - fresh[name]).max() < noise
            continue
        if dtype == "float32" and name.startswith("running_mean"):
            continue
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol, err_msg=name)
    assert not np.allclose(got["W0"], fresh["W0"]), "training did not move the weights"
    assert not np.allclose(got["gamma1"], fresh["gamma1"]), "training did not move gamma"
    if dtype == "float64":
        np.testing.assert_allclose(mc.predict_proba(X), mn.predict_proba(X), rtol=tol, atol=tol)
