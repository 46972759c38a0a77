"""pyneuron/kernel_cases.py, the conformance kit's inputs, on their own (issue 15 item 10:
the mutation run of kernel_cases.py). The kit (tests/test_engines_kit.py) only shows that
two backends agree on whatever the builders give; these tests hold the builders to what
the module promises: the shapes of ``(batch, inputs, outputs)``, the requested dtype,
scales drawn from the decades with ~15 % exact zeros, the scalar settings drawn from the
listed values, probabilities with exact 0 and 1, one-hot targets, the arguments a kernel
updates in place (found by running the numpy kernel, not read from the table), the term
sizes worked by hand on small inputs, and the edge cases' reasons to exist."""
from __future__ import annotations

import math

import numpy as np
import pytest

from pyneuron import kernel_cases as kc
from pyneuron.backends.numpy_backend import NumpyBackend

NP = NumpyBackend()
CASES = {**kc.kernel_cases(), **kc.fused_cases()}
BIG = {np.float64: 700.0, np.float32: 80.0}
DIMS = (2, 3, 4)          # batch, inputs, outputs: all different, so a swapped size shows


def case(kernel, variant=""):
    for v, build, mutated, terms in CASES[kernel]:
        if v == variant:
            return build, mutated, terms
    raise KeyError((kernel, variant))


def draws(kernel, variant="", n=40, dims=DIMS, dtype=np.float64):
    build = case(kernel, variant)[0]
    return [build(np.random.default_rng(s), dims, dtype, BIG[dtype]) for s in range(n)]


def pooled(kernel, variant, position, **kw):
    """Argument ``position`` of ``n`` draws, raveled into one float64 array."""
    return np.concatenate([np.ravel(np.asarray(args[position], dtype=np.float64)) for args, _ in draws(kernel, variant, **kw)])


def values(kernel, variant, position, **kw):
    return {args[position] for args, _ in draws(kernel, variant, **kw)}


# ---------------------------------------------------------------- shapes and dtypes of every case
def shapes(kernel, variant, m, n, k):
    """The array shapes each kernel's arguments have, from the interface's signatures."""
    kk = max(k, 2) if variant.startswith("softmax +") else k
    table = {
        "linear_forward": [(m, n), (k, n), (k,)], "linear_backward": [(m, k), (m, n), (k, n)],
        "activation_forward": [(m, k)], "activation_backward": [(m, k), (m, k), (m, k)], "softmax": [(m, k)],
        "loss_value": [(m, k), (m, k)], "loss_gradient": [(m, k), (m, k)], "loss_from_logits": [(m, k), (m, k)],
        "output_delta": [(m, k), (m, k)], "penalty": [(k, n)], "penalty_gradient": [(k, n)],
        "dropout_forward": [(m, k), (m, k)], "dropout_backward": [(m, k), (m, k)],
        "batchnorm_forward": [(m, k), (k,), (k,)], "batchnorm_inference": [(m, k)] + [(k,)] * 4,
        "batchnorm_backward": [(m, k), (m, k), (k,), (k,)], "sgd_step": [(k, n)] * 2,
        "momentum_step": [(k, n)] * 3, "rmsprop_step": [(k, n)] * 3, "adam_step": [(k, n)] * 4,
        "momentum_course_step": [(k, n)] * 3, "adagrad_step": [(k, n)] * 3,
        "dense_forward": [(m, n), (k, n), (k,)], "dense_backward": [(m, k), (m, n), (k, n), (m, k), (m, k)],
        "data_loss": [(m, kk)] * 3, "sample_losses": [(m, kk)] * 3, "output_gradient": [(m, kk)] * 3,
        "weighted_data_loss": [(m, kk)] * 3 + [(m,)], "weighted_output_gradient": [(m, kk)] * 3 + [(m,)],
        "scale_rows": [(m, k), (m,)],
    }
    if kernel == "matmul":
        ta, tb = variant == "trans_a=True, trans_b=False", variant == "trans_a=False, trans_b=True"
        return [(n, m) if ta else (m, n), (k, n) if tb else (n, k)]
    return table[kernel]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("dims", [DIMS, (1, 1, 1), (5, 1, 2)])
def test_every_case_has_the_interfaces_shapes_and_the_requested_dtype(dims, dtype):
    for kernel, variants in CASES.items():
        for variant, build, _, _ in variants:
            args, kwargs = build(np.random.default_rng(0), dims, dtype, BIG[dtype])
            arrays = [a for a in args if isinstance(a, np.ndarray)]
            assert [a.shape for a in arrays] == shapes(kernel, variant, *dims), (kernel, variant)
            for a in arrays:
                # weights and row scales are float64 draws; every kernel input is in the dtype
                if not (kernel.startswith("weighted") or kernel == "scale_rows") or a.ndim == 2:
                    assert a.dtype == dtype, (kernel, variant)
            with np.errstate(all="ignore"):
                getattr(NP, kernel)(*[a.copy() if isinstance(a, np.ndarray) else a for a in args], **kwargs)


def test_the_variants_are_the_ones_their_names_say():
    for variant, build, _, _ in CASES["matmul"]:
        kwargs = build(np.random.default_rng(0), DIMS, np.float64, 700.0)[1]
        assert variant == f"trans_a={kwargs['trans_a']}, trans_b={kwargs['trans_b']}"
    assert [v for v, *_ in CASES["matmul"]] == ["trans_a=False, trans_b=False", "trans_a=True, trans_b=False",
                                               "trans_a=False, trans_b=True"]
    for variant, build, _, _ in CASES["momentum_step"]:
        args = build(np.random.default_rng(0), DIMS, np.float64, 700.0)[0]
        assert variant == f"nesterov={args[6]}, dampening={args[5]}" and args[4] == 0.9
    assert [v for v, *_ in CASES["momentum_step"]] == [                     # each option on both sides
        "nesterov=False, dampening=0.0", "nesterov=True, dampening=0.0", "nesterov=False, dampening=0.9"]
    assert {args[6] for v, b, *_ in CASES["momentum_step"] for args in [b(np.random.default_rng(0), DIMS,
                                                                           np.float64, 700.0)[0]]} == {False, True}
    for variant, build, _, _ in CASES["adam_step"]:
        args, kwargs = build(np.random.default_rng(0), DIMS, np.float64, 700.0)
        assert variant == f"weight_decay={kwargs['weight_decay']}" and args[5:8] == (0.9, 0.999, 1e-8)
    assert [v for v, *_ in CASES["adam_step"]] == ["weight_decay=0.0", "weight_decay=0.01"]
    for kernel in ("activation_forward", "activation_backward", "dense_forward", "dense_backward"):
        for variant, build, _, _ in CASES[kernel]:
            args = build(np.random.default_rng(0), DIMS, np.float64, 700.0)[0]
            assert variant in [a for a in args if isinstance(a, str)]
    for kernel in ("loss_value", "loss_gradient", "loss_from_logits"):
        for variant, build, _, _ in CASES[kernel]:
            assert build(np.random.default_rng(0), DIMS, np.float64, 700.0)[0][0] == variant
    for kernel in ("data_loss", "output_gradient", "weighted_data_loss"):
        for variant, build, _, _ in CASES[kernel]:
            loss, act = build(np.random.default_rng(0), DIMS, np.float64, 700.0)[0][:2]
            assert variant == f"{act} + {loss}"


# ---------------------------------------------------------------- which arguments a kernel updates
def test_the_mutated_positions_are_the_arguments_the_kernel_writes():
    for kernel, variants in CASES.items():
        for variant, build, mutated, _ in variants:
            for seed in range(3):
                args, kwargs = build(np.random.default_rng(seed), DIMS, np.float64, 700.0)
                given = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
                with np.errstate(all="ignore"):
                    getattr(NP, kernel)(*given, **kwargs)
                changed = tuple(i for i, (a, g) in enumerate(zip(args, given))
                                if isinstance(a, np.ndarray) and not np.array_equal(a, g, equal_nan=True))
                assert changed == tuple(mutated), (kernel, variant, seed)


# ---------------------------------------------------------------- the values drawn
def test_the_scales_are_decades_from_a_thousandth_to_a_hundred_with_one_twice():
    exponents = [math.log10(s) for s in kc.SCALES]
    assert all(e == round(e) for e in exponents)
    assert sorted(round(e) for e in exponents) == [-3, 0, 0, 1, 2]


def test_each_array_draws_its_scale_and_about_15_percent_exact_zeros():
    rms = []
    zeros = total = 0
    for args, _ in draws("linear_forward", n=300, dims=(20, 20, 1)):
        X = args[0]
        nz = X[X != 0]
        rms.append(math.sqrt(np.mean(nz ** 2)))
        zeros += X.size - nz.size
        total += X.size
    decades = [round(math.log10(r)) for r in rms]
    assert set(decades) == {-3, 0, 1, 2}
    assert 0.3 < decades.count(0) / len(decades) < 0.5          # 1.0 twice among five
    assert 0.13 < zeros / total < 0.17


def test_arrays_with_a_given_scale_keep_it():
    for kernel, variant, position in (("dense_forward", "tanh", 1), ("dense_forward", "tanh", 2),
                                      ("dense_backward", "tanh", 1 + 1), ("batchnorm_forward", "", 2),
                                      ("batchnorm_inference", "", 2)):
        W = pooled(kernel, variant, position, n=150)                 # scale 1.0, with zeros
        nz = W[W != 0]
        assert 0.12 < 1 - nz.size / W.size < 0.18, (kernel, position)
        assert 0.88 < math.sqrt(np.mean(nz ** 2)) < 1.12, (kernel, position)
    gamma = pooled("batchnorm_forward", "", 1, n=100)               # N(0, 1) + 1
    assert 0.85 < gamma.mean() < 1.15 and 0.7 < gamma.std() < 1.1
    assert np.any(gamma == 1.0)                                     # the exact zeros, moved by 1
    var = pooled("batchnorm_inference", "", 4, n=100)               # |N| + 0.1: never 0
    assert var.min() == 0.1
    gamma_i = pooled("batchnorm_inference", "", 1, n=100)
    assert 0.85 < gamma_i.mean() < 1.15 and 0.7 < gamma_i.std() < 1.1 and np.any(gamma_i == 1.0)


def test_batch_norms_inputs_have_no_repeated_values_in_a_column():
    # drawn without exact zeros: a column of Z (a sample plus a column offset) has no ties
    for args, _ in draws("batchnorm_forward", n=60, dims=(12, 1, 3)):
        Z = args[0]
        for j in range(Z.shape[1]):
            assert len(set(Z[:, j].tolist())) == Z.shape[0]


def test_activation_inputs_reach_the_kits_big_and_stay_within_it():
    for dtype in (np.float64, np.float32):
        big = BIG[dtype]
        for kernel, position in (("activation_forward", 1), ("activation_backward", 2),
                                 ("loss_from_logits", 1)):
            for variant, *_ in CASES[kernel]:
                tops = [float(np.abs(args[position]).max()) for args, _ in draws(kernel, variant, n=60, dtype=dtype)]
                if kernel != "loss_from_logits":                              # (logits are not clipped)
                    assert max(tops) == big                                   # clipped at ±big
                assert min(tops) < 0.05                                       # the 1e-3 scale
                assert any(big / 100 < t < big / 2 for t in tops), (kernel, variant)   # big / 20
        tops = [float(np.abs(args[0]).max()) for args, _ in draws("softmax", n=60, dtype=dtype)]
        assert max(tops) == big and min(tops) < 10 and any(big / 50 < t < big / 2 for t in tops)


def test_the_leaky_slope_is_one_of_the_projects_values():
    for kernel, position in (("activation_forward", 2), ("activation_backward", 4)):
        assert values(kernel, "leaky_relu", position) == {0.01, 0.2}
    assert values("dense_forward", "leaky_relu", 4) == {0.01}
    assert values("dense_backward", "leaky_relu", 6) == {0.01}


def test_penalty_settings():
    for kernel in ("penalty", "penalty_gradient"):
        assert values(kernel, "", 1) == {0.0, 0.3}
        assert values(kernel, "", 2) == {0.0, 0.01, 2.0}
        ms = values(kernel, "", 3, n=500)
        assert min(ms) == 1 and max(ms) == 64 and all(isinstance(m, int) for m in ms)


def test_dropout_masks_keep_about_keep_of_the_units():
    for kernel in ("dropout_forward", "dropout_backward"):
        found = set()
        for args, _ in draws(kernel, n=80, dims=(30, 1, 30)):
            A, mask, keep = args
            found.add(keep)
            assert set(np.unique(mask)) <= {0.0, 1.0}
            assert abs(mask.mean() - keep) < 0.08
        assert found == {0.1, 0.5, 0.8, 1.0}


def test_batch_norm_settings():
    assert values("batchnorm_forward", "", 3) == {1e-5, 1e-3}
    assert values("batchnorm_inference", "", 5) == {1e-5, 1e-3}
    assert values("batchnorm_backward", "", 4) == {1e-5, 1e-3}


def test_batch_norm_backward_gets_the_normalized_batch_and_its_variance():
    # Ẑ = (Z − μ)/√(var + eps) per column: its columns have mean 0 and variance var/(var + eps)
    for args, _ in draws("batchnorm_backward", n=40, dims=(6, 1, 3)):
        dY, Zhat, gamma, var, eps = args
        np.testing.assert_allclose(Zhat.mean(axis=0), 0.0, atol=1e-9)
        np.testing.assert_allclose(Zhat.var(axis=0), var / (var + eps), rtol=1e-9)
        assert np.all(var > 0)
        for j in range(Zhat.shape[1]):       # drawn without exact zeros: no ties in a column
            assert len(set(Zhat[:, j].tolist())) == Zhat.shape[0]
    g = pooled("batchnorm_backward", "", 2, n=100)
    assert 0.85 < g.mean() < 1.15 and 0.7 < g.std() < 1.1 and np.any(g == 1.0)
    dY = pooled("batchnorm_backward", "", 0, n=100)
    assert 0.85 < math.sqrt(np.mean(dY[dY != 0] ** 2)) < 1.15


def test_optimizer_settings():
    lrs = {1e-3, 0.1, 1.0}
    assert values("sgd_step", "", 2) == lrs
    for variant, *_ in CASES["momentum_step"]:
        assert values("momentum_step", variant, 3) == lrs
    assert values("rmsprop_step", "", 3) == lrs
    assert {args[4:6] for args, _ in draws("rmsprop_step")} == {(0.9, 1e-8)}
    assert np.all(pooled("rmsprop_step", "", 2) >= 0)                     # a mean of squares
    for variant, *_ in CASES["adam_step"]:
        assert values("adam_step", variant, 4) == lrs
        ts = values("adam_step", variant, 8, n=300)
        assert min(ts) == 1 and max(ts) == 19
        assert np.all(pooled("adam_step", variant, 3) >= 0)              # v: a mean of squares
    assert values("momentum_course_step", "", 3) == lrs and values("momentum_course_step", "", 4) == {0.9}
    assert values("adagrad_step", "", 3) == lrs and values("adagrad_step", "", 4) == {1e-10}
    assert np.all(pooled("adagrad_step", "", 2) >= 0)                     # a sum of squares


def test_probabilities_include_exact_zeros_and_ones():
    for kernel in ("loss_value", "loss_gradient"):
        P = pooled(kernel, "bce", 1, n=60, dims=(10, 1, 10))
        assert P.min() == 0.0 and P.max() == 1.0
        inside = np.mean((P > 0) & (P < 1))
        assert 0.75 < inside < 0.86                                      # 0.9 × 0.9 of them
        assert 0.06 < np.mean(P == 0.0) < 0.13 and 0.07 < np.mean(P == 1.0) < 0.14
    P = pooled("output_delta", "", 0, n=60, dims=(10, 1, 10))
    assert P.min() == 0.0 and P.max() == 1.0 and 0.75 < np.mean((P > 0) & (P < 1)) < 0.86


def test_binary_and_one_hot_targets():
    for kernel, variant, position in (("loss_value", "bce", 2), ("loss_from_logits", "bce", 2),
                                      ("output_delta", "", 1), ("data_loss", "sigmoid + bce", 3)):
        Y = pooled(kernel, variant, position, n=40, dims=(10, 1, 10))
        assert set(np.unique(Y)) == {0.0, 1.0} and 0.4 < Y.mean() < 0.6
    for kernel, variant, position in (("loss_value", "cce", 2), ("loss_from_logits", "cce", 2),
                                      ("data_loss", "softmax + cce", 3)):
        seen = np.zeros(4)
        for args, _ in draws(kernel, variant, n=40):
            Y = args[position]
            assert set(np.unique(Y)) <= {0.0, 1.0} and np.all(Y.sum(axis=1) == 1.0)
            seen += Y.sum(axis=0)
        assert np.all(seen > 0)                                          # every class is drawn
    assert all(args[2] == 2 * 4 for args, _ in draws("output_delta"))     # n_terms = batch × outputs


def test_cross_entropy_probabilities_are_softmax_rows():
    for args, _ in draws("loss_value", "cce", n=40):
        A = args[1]
        assert np.all(A >= 0) and np.all(np.isfinite(A))
        np.testing.assert_allclose(A.sum(axis=1), 1.0, rtol=1e-12)


def test_activation_backward_gets_the_activation_of_its_input():
    for variant, *_ in CASES["activation_backward"]:
        for args, _ in draws("activation_backward", variant, n=10):
            act, dA, Z, A, slope = args
            with np.errstate(all="ignore"):
                expected = NP.activation_forward(act, Z, slope)
            np.testing.assert_allclose(A, expected, rtol=1e-12, atol=1e-300)


def test_dense_backward_gets_the_layers_forward_pass():
    biases = []
    for variant, *_ in CASES["dense_backward"]:
        for args, _ in draws("dense_backward", variant, n=25):
            dA, X, W, Z, A, act, slope = args
            b = _bias_of(X, W, Z)
            biases.append(b)
            np.testing.assert_allclose(Z, X @ W.T + b, rtol=1e-12, atol=1e-12)
            with np.errstate(all="ignore"):
                np.testing.assert_allclose(A, NP.activation_forward(act, Z, slope), rtol=1e-12, atol=1e-300)
    b = np.concatenate(biases)
    b = b[np.abs(b) > 1e-9]                                           # the bias's scale is 1.0
    assert 0.88 < math.sqrt(np.mean(b ** 2)) < 1.12


def _bias_of(X, W, Z):
    """The bias the builder drew: Z − X Wᵀ is one row repeated."""
    b = (Z - X @ W.T)[0]
    np.testing.assert_allclose(Z - X @ W.T, np.broadcast_to(b, Z.shape), atol=1e-12)
    return b


def test_output_cases_pair_logits_activation_and_targets():
    mse_targets = []
    for variant, *_ in CASES["data_loss"]:
        for dtype in (np.float64, np.float32):
            tops = []
            for args, _ in draws("data_loss", variant, n=60, dims=(3, 1, 1), dtype=dtype):
                loss, act, A, Y, Z = args
                with np.errstate(all="ignore"):
                    expected = NP.activation_forward(act, Z.astype(np.float64)).astype(dtype)
                np.testing.assert_array_equal(A, expected)
                tops.append(float(np.abs(Z).max()))
                if loss == "mse":
                    assert not set(np.unique(Y)) <= {0.0, 1.0}
                    mse_targets.append(Y.ravel())
            assert max(tops) <= BIG[dtype] and min(tops) < 0.01
            assert any(5 < t < 30 for t in tops)                        # the scale 10
            assert any(BIG[dtype] / 40 < t < BIG[dtype] / 4 for t in tops)
    Y = np.concatenate(mse_targets).astype(np.float64)
    assert 0.85 < math.sqrt(np.mean(Y[Y != 0] ** 2)) < 1.15            # regression targets of scale 1


def test_weights_are_in_0_1_and_sometimes_all_zero():
    for kernel in ("weighted_data_loss", "weighted_output_gradient"):
        for variant, *_ in CASES[kernel]:
            ws = [args[5] for args, _ in draws(kernel, variant, n=40, dims=(6, 1, 2))]
            assert all(np.all((w >= 0) & (w < 1)) for w in ws)
            assert any(not w.any() for w in ws) and any(w.max() > 0.5 for w in ws)
    scales = pooled("scale_rows", "", 1, n=40)
    assert scales.min() >= 0 and 1.0 < scales.max() < 2.0


# ---------------------------------------------------------------- which kernels sum terms
def test_the_kernels_that_sum_cancelling_terms_have_term_sizes():
    with_terms = {(k, v) for k, vs in CASES.items() for v, _, _, t in vs if t is not None}
    expected = {(k, v) for k, vs in CASES.items() for v, *_ in vs
                if k in ("matmul", "linear_forward", "linear_backward", "penalty_gradient", "batchnorm_forward",
                         "batchnorm_inference", "batchnorm_backward", "dense_forward", "dense_backward")
                or k.endswith("_step")} | {("activation_backward", "softmax")}
    assert with_terms == expected


def test_each_output_is_within_its_term_size():
    # |Σ tᵢ| <= Σ |tᵢ|: a term size below the result's own size would be wrong
    for kernel, variants in CASES.items():
        for variant, build, mutated, terms in variants:
            if terms is None:
                continue
            for seed in range(5):
                args, kwargs = build(np.random.default_rng(seed), DIMS, np.float64, 700.0)
                given = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
                with np.errstate(all="ignore"):
                    out = getattr(NP, kernel)(*given, **kwargs)
                    sizes = terms(args, kwargs)
                outs = [given[i] for i in mutated] if mutated else list(out) if isinstance(out, tuple) else [out]
                assert len(sizes) >= len(outs) or kernel == "dense_forward", (kernel, variant)
                for o, size in zip(outs, sizes):
                    if size is not None:
                        assert np.abs(np.asarray(o, dtype=np.float64)).max() <= size * (1 + 1e-9), (kernel, variant)


# ---------------------------------------------------------------- the term sizes, worked by hand
A_ = np.array([[1.0, -2.0]])


def test_matmul_terms():
    B = np.array([[3.0], [-4.0]])
    assert kc._matmul_terms((A_, B), {}) == [11.0]                                   # 1·3 + 2·4
    assert kc._matmul_terms((A_.T, B), {"trans_a": True}) == [11.0]
    assert kc._matmul_terms((A_, B.T), {"trans_b": True}) == [11.0]
    assert kc._matmul_terms((np.zeros((0, 2)), B), {}) == [0.0]                     # nothing summed


def test_linear_terms():
    X, W, b = A_, np.array([[3.0, -4.0]]), np.array([-5.0])
    assert kc._linear_forward_terms((X, W, b), {}) == [16.0]                         # 11 + |b|
    dZ, X2 = np.array([[2.0], [-1.0]]), np.array([[1.0, -3.0], [2.0, 0.0]])
    # |dZ| |W| = [[6, 8], [3, 4]]; |dZ|ᵀ|X| = [2 + 2, 6 + 0]; Σ|dZ| = 3
    assert kc._linear_backward_terms((dZ, X2, W), {}) == [8.0, 6.0, 3.0]
    assert kc._dense_forward_terms((X, W, b, "tanh", 0.01), {}) == [16.0, 32.0]
    assert kc._dense_backward_terms((dZ, X2, W), {}) == [16.0, 12.0, 6.0]           # with 2 |dA|


def test_softmax_backward_terms():
    dA, A = np.array([[1.0, -2.0]]), np.array([[0.25, 0.75]])
    # Σ|dA||A| = 0.25 + 1.5 = 1.75; |A|(|dA| + 1.75) = [0.6875, 2.8125]
    assert kc._softmax_backward_terms(("softmax", dA, None, A, 0.01), {}) == [2.8125]


def test_penalty_gradient_terms():
    # l2/m |w| + l1/m = 2/4 · 2 + 0.3/4
    assert kc._penalty_gradient_terms((np.array([[-2.0, 1.0]]), 0.3, 2.0, 4), {}) == [pytest.approx(1.075, rel=1e-15)]


def test_batchnorm_terms():
    Z, gamma, beta = np.array([[1.0], [3.0]]), np.array([2.0]), np.array([-1.0])
    # max|z| = 3, var = 1, eps = 3: ẑ's size 3/√4 = 1.5; γ 1.5 + |β| = 4; the sums: 3 and 9
    assert kc._batchnorm_forward_terms((Z, gamma, beta, 3.0), {}) == [4.0, 1.5, 3.0, 9.0]
    # (|z| + |μ|)|γ|/√(|var| + eps) + |β| per column: (1 + 1)·2/2 + 0.5 = 2.5 and (2 + 1)·1/3 + 3 = 4
    assert kc._batchnorm_inference_terms((np.array([[1.0, -2.0]]), np.array([2.0, -1.0]), np.array([0.5, -3.0]),
                                          np.array([-1.0, 1.0]), np.array([3.0, -8.0]), 1.0), {}) == [4.0]
    dY, Zhat = np.array([[1.0], [-3.0]]), np.array([[1.0], [-2.0]])
    # m|dY| + Σ|dY| + |ẑ| Σ|dY ẑ| = [2 + 4 + 7, 6 + 4 + 14]; × γ/(m √(var + eps)) = 2/(2·2)
    assert kc._batchnorm_backward_terms((dY, Zhat, np.array([2.0]), np.array([3.0]), 1.0), {}) == [12.0, 7.0, 4.0]


def test_optimizer_terms():
    p, g = np.array([[-3.0, 1.0]]), np.array([[2.0, -5.0]])
    assert kc._sgd_terms((p, g, 0.1), {}) == [3.5]                                  # 3 + 0.1 · 5
    p, g, v = np.array([[-3.0]]), np.array([[2.0]]), np.array([[-4.0]])
    # velocity 0.9 · 4 + 2 = 5.6; 3 + 0.5 (2 + 0.9 · 5.6)
    assert kc._momentum_terms((p, g, v, 0.5, 0.9, 0.0, False), {}) == [pytest.approx(6.52, rel=1e-15), 5.6]
    # s' = 0.5 · 23 + 0.5 · 3² = 16; 3 + 2 · 3/(4 + 1)
    assert kc._rmsprop_terms((p, np.array([[3.0]]), np.array([[-23.0]]), 2.0, 0.5, 1.0), {}) == [
        pytest.approx(4.2, rel=1e-15), None]
    # velocity 0.9 · 4 + 0.5 · 2 = 4.6; 3 + 4.6
    assert kc._course_terms((p, g, v, 0.5, 0.9), {}) == [pytest.approx(7.6, rel=1e-15), pytest.approx(4.6, rel=1e-15)]
    # √(16 + 9) = 5; 3 + 2 · 3/(5 + 1)
    assert kc._adagrad_terms((p, np.array([[3.0]]), np.array([[-16.0]]), 2.0, 1.0), {}) == [4.0, None]


def test_adam_terms():
    p, g, m, v = np.array([[-2.0]]), np.array([[4.0]]), np.array([[-2.0]]), np.array([[9.0]])
    # β1 = β2 = 0.5, t = 1: m' = 0.5·2 + 0.5·4 = 3, v' = 0.5·9 + 0.5·4² = 12.5; step = (3/0.5)/(√(12.5/0.5) + 1) = 1
    args = (p, g, m, v, 0.5, 0.5, 0.5, 1.0, 1)
    assert kc._adam_terms(args, {}) == [2.0 + 0.5 * 1.0, 3.0, None]
    assert kc._adam_terms(args, {"weight_decay": 0.1}) == [pytest.approx(2.0 * 1.05 + 0.5, rel=1e-15), 3.0, None]
    # t = 2: corrections 1 − 0.25 = 0.75 for both; step = (3/0.75)/(√(12.5/0.75) + 1)
    step = (3 / 0.75) / (math.sqrt(12.5 / 0.75) + 1.0)
    got = kc._adam_terms((p, g, m, v, 0.5, 0.5, 0.5, 1.0, 2), {})
    assert got[0] == pytest.approx(2.0 + 0.5 * step, rel=1e-14)


# ---------------------------------------------------------------- the edge cases
def edge(variant):
    return next((k, a) for k, v, a, _ in kc.edge_cases() if v == variant)


def test_edge_cases_are_the_documented_ones():
    listed = [(k, v) for k, v, _, _ in kc.edge_cases()]
    assert len(listed) == len(set(listed)) == 11
    for kernel, _, args, kwargs in kc.edge_cases():
        if kernel.startswith("activation_"):
            assert args[-1] == 0.01                      # the interface's default slope
        with np.errstate(all="ignore"):
            getattr(NP, kernel)(*args, **kwargs)         # a valid call of the interface
        assert all(a.dtype == np.float64 for a in args if isinstance(a, np.ndarray))


def test_saturation_edges_reach_exp_overflow_and_the_sign_of_zero():
    for variant in ("sigmoid saturation", "tanh saturation"):
        _, (act, z, slope) = edge(variant)
        z = z.ravel()
        assert {-700.0, -40.0, 0.0, 40.0, 700.0} <= set(z.tolist())
        assert np.any((z < 0) & (z > -1e-299))          # a negative number next to 0
        assert slope == 0.01
    _, (big,) = edge("rows with a huge offset")
    _, (_, big2, _) = edge("softmax rows with a huge offset")
    np.testing.assert_array_equal(big, big2)
    # exp of the raw row overflows (> 709.78) and a row has two equal maxima (a tie for argmax)
    assert np.all(np.abs(big).max(axis=1) > 709.78)
    assert big[0].tolist() == [1000.0, 1000.0, -1000.0]
    assert big[1].tolist() == [-745.0, 0.0, 745.0]     # e^-745 is the last subnormal before 0
    assert np.exp(big[1, 0]) > 0 and np.exp(big[1, 0] - 1) == 0


def test_kink_edges_hold_both_zeros_and_the_smallest_positive_step():
    for variant in ("relu kink at 0", "leaky_relu kink at 0"):
        _, (act, dA, z, A, slope) = edge(variant)
        z = z.ravel()
        assert z.tolist() == [-1.0, 0.0, -0.0, 1e-300, 1.0]
        assert np.signbit(z[2]) and not np.signbit(z[1])
        np.testing.assert_array_equal(dA, np.ones_like(dA))
        np.testing.assert_array_equal(A, NP.activation_forward(act, z[None, :], slope))


def test_loss_edges():
    _, (loss, Z, Y) = edge("bce confident")
    assert loss == "bce" and Z.tolist() == [[40.0, -40.0, 30.0]] and Y.tolist() == [[1.0, 0.0, 0.0]]
    _, (loss, Z, Y) = edge("cce huge logits")
    assert loss == "cce" and np.all(Y.sum(axis=1) == 1) and Y[1, 2] == 1 and Y[0, 0] == 1
    _, (loss, P, Y) = edge("bce at exactly 0 and 1")
    assert loss == "bce" and P.tolist() == [[0.0, 1.0]] and Y.tolist() == [[1.0, 0.0]]   # each wrong: −log 0


def test_one_sample_edges():
    _, (Z, gamma, beta, eps) = edge("one sample")
    assert Z.shape == (1, 2) and gamma.tolist() == [1.0, 1.0] and beta.tolist() == [0.0, 0.0] and eps == 1e-5
    assert Z.tolist() == [[3.0, -2.0]]
    _, (X, W, b) = edge("batch of 1, one feature")
    assert X.tolist() == [[2.0]] and W.tolist() == [[3.0]] and b.tolist() == [0.5]


def test_the_logit_scales_are_a_thousandth_one_and_a_twentieth_of_big():
    # each array's own scale: the rms of its nonzero entries (~8500 of them: within 1 %)
    def scales(kernel, variant, position):
        out = []
        for args, _ in draws(kernel, variant, n=30, dims=(100, 1, 100)):
            Z = np.asarray(args[position], dtype=np.float64)
            out.append(math.sqrt(np.mean(Z[Z != 0] ** 2)))
        return out
    for kernel, variant, position in (("activation_forward", "tanh", 1), ("activation_backward", "tanh", 2),
                                      ("loss_from_logits", "bce", 1), ("loss_from_logits", "cce", 1)):
        rms = scales(kernel, variant, position)
        for scale in (1e-3, 1.0, 700.0 / 20):
            assert any(0.975 * scale < r < 1.025 * scale for r in rms), (kernel, variant, scale)
    rms = scales("softmax", "", 0)
    for scale in (1.0, 700.0 / 10):
        assert any(0.975 * scale < r < 1.025 * scale for r in rms), scale


def _scales_of(arrays):
    return [math.sqrt(np.mean(Z[Z != 0] ** 2)) for Z in arrays]


def test_the_output_cases_logit_scales_are_a_thousandth_one_ten_and_a_twentieth_of_big():
    Zs = [args[4].astype(np.float64) for args, _ in draws("data_loss", "linear + mse", n=40, dims=(100, 1, 100))]
    rms = _scales_of(Zs)
    for scale in (1e-3, 1.0, 10.0, 700.0 / 20):
        assert any(0.975 * scale < r < 1.025 * scale for r in rms), scale


def test_the_cross_entropy_probabilities_are_softmax_of_logits_of_scale_half_three_or_forty():
    # log A = Z − logsumexp(Z) per row; the row's exact zeros of Z share one value of log A,
    # which gives the row's constant back, and so Z itself
    rms = []
    for args, _ in draws("loss_value", "cce", n=30, dims=(200, 1, 100)):
        L = np.log(args[1])
        Z = []
        for row in L:
            values, counts = np.unique(row, return_counts=True)
            c = values[counts.argmax()]
            Z.append((row - c)[row != c])
        rms.append(math.sqrt(np.mean(np.concatenate(Z) ** 2)))
    for scale in (0.5, 3.0, 40.0):
        assert any(0.985 * scale < r < 1.015 * scale for r in rms), scale
