"""The inputs the conformance kit (:mod:`pyneuron.testing`) runs each kernel on.

``kernel_cases()`` maps each kernel of the interface to its variants (an activation, a
loss, an optimizer setting), each with a builder of random arguments of given sizes and
dtype, the positions of the arguments it updates in place, and the size of the terms it
sums (see below). ``edge_cases()`` lists the inputs the project learned to test by hand:
saturation, huge softmax rows, the kinks of relu at exactly 0, probabilities of exactly 0
and 1, a one-sample batch.

Values: Gaussian arrays whose scale is drawn per array from ``1e-3 … 100`` (the decades
``tests/test_differential.py`` drew from), with about 15 % exact zeros; activations see
``|z|`` up to the kit's ``big`` (700 in float64); the scalar settings (leaky relu's slope,
the penalties' ``l1``/``l2``, dropout's keep probability, batch norm's ``eps``, the
optimizers' learning rates) are drawn from the values the project's tests use.
The leaky-ReLU slope (``negative_slope``) is the last positional argument of the kernels
that take it: cases pass it by position, as pyneuron does, so a learner's kernel runs
whatever it names that parameter.

**Terms.** A kernel that sums terms which can cancel (a dot product, ``θ − ηg``, batch
norm's centring) may legitimately differ from the reference by a few ulps *of its terms*,
not of its result, when it sums in another order: the result of a sum that cancels to
~0 keeps only the rounding of its terms. For such a kernel, ``terms(args, kwargs)``
returns, per output, the size of the terms summed into it (e.g. ``max(|A| @ |B|)`` for a
product); the kit allows an absolute error of ``rtol × terms`` on top of the relative
``rtol``. A kernel whose terms all have one sign (a loss, a penalty) gets ``None``: a
purely relative tolerance.
"""
from __future__ import annotations

import numpy as np

#: The decades an array's scale is drawn from.
SCALES = (1e-3, 1.0, 1.0, 10.0, 100.0)


def _abs(a):
    return np.abs(np.asarray(a, dtype=np.float64))


def _max(a):
    a = _abs(a)
    return float(a.max()) if a.size else 0.0


# ------------------------------------------------------------------ the size of summed terms
def _matmul_terms(args, kwargs):
    A, B = _abs(args[0]), _abs(args[1])
    A = A.T if kwargs.get("trans_a") else A
    B = B.T if kwargs.get("trans_b") else B
    return [_max(A @ B)]


def _linear_forward_terms(args, kwargs):
    X, W, b = args
    return [_max(_abs(X) @ _abs(W).T) + _max(b)]


def _linear_backward_terms(args, kwargs):
    dZ, X, W = (_abs(a) for a in args)
    return [_max(dZ @ W), _max(dZ.T @ X), _max(dZ.sum(axis=0))]


def _softmax_backward_terms(args, kwargs):
    # a_i (da_i − Σ_k da_k a_k): the inner sum can cancel against da_i
    dA, A = _abs(args[1]), _abs(args[3])
    return [_max(A * (dA + (dA * A).sum(axis=1, keepdims=True)))]


def _penalty_gradient_terms(args, kwargs):
    W, l1, l2, m = args            # l2/m w + l1/m sign(w): two terms of possibly opposite sign
    return [_max(l2 / m * _abs(W) + l1 / m)]


def _batchnorm_forward_terms(args, kwargs):
    Z, gamma, beta, eps = args
    big = _abs(Z).max(axis=0)                      # the terms summed into mean and var
    var = np.asarray(Z, dtype=np.float64).var(axis=0)
    zhat = _max(big / np.sqrt(var + eps))          # z − μ cancels: its error is ~ulp(|z|)
    return [zhat * _max(gamma) + _max(beta), zhat, _max(big), _max(big) ** 2]


def _batchnorm_inference_terms(args, kwargs):
    Z, gamma, beta, mean, var, eps = args
    return [_max((_abs(Z) + _abs(mean)) * _abs(gamma) / np.sqrt(_abs(var) + eps) + _abs(beta))]


def _batchnorm_backward_terms(args, kwargs):
    dY, Zhat, gamma, var, eps = (_abs(a) for a in args)
    m = dY.shape[0]
    # m dY − Σ dY − Ẑ Σ dY Ẑ cancels by design (the gradient is orthogonal to 1 and Ẑ)
    terms = m * dY + dY.sum(axis=0) + Zhat * (dY * Zhat).sum(axis=0)
    return [_max(gamma / (m * np.sqrt(var + eps)) * terms), _max((dY * Zhat).sum(axis=0)), _max(dY.sum(axis=0))]


def _sgd_terms(args, kwargs):
    p, g, lr = args
    return [_max(p) + lr * _max(g)]


def _momentum_terms(args, kwargs):
    p, g, v, lr, beta, damp, nesterov = args
    velocity = beta * _max(v) + _max(g)
    return [_max(p) + lr * (_max(g) + beta * velocity), velocity]


def _rmsprop_terms(args, kwargs):
    p, g, s, lr, rho, eps = args
    s_new = rho * _abs(s) + (1 - rho) * _abs(g) ** 2
    return [_max(p) + lr * _max(_abs(g) / (np.sqrt(s_new) + eps)), None]


def _adam_terms(args, kwargs):
    p, g, m, v, lr, b1, b2, eps, t = args
    wd = kwargs.get("weight_decay", 0.0)
    m_terms = b1 * _abs(m) + (1 - b1) * _abs(g)
    v_new = b2 * _abs(v) + (1 - b2) * _abs(g) ** 2
    step = _max(m_terms / (1 - b1 ** t) / (np.sqrt(v_new / (1 - b2 ** t)) + eps))
    return [_max(p) * (1 + lr * wd) + lr * step, _max(m_terms), None]


def _course_terms(args, kwargs):
    p, g, v, lr, mu = args
    velocity = mu * _max(v) + lr * _max(g)
    return [_max(p) + velocity, velocity]


def _adagrad_terms(args, kwargs):
    p, g, s, lr, eps = args
    return [_max(p) + lr * _max(_abs(g) / (np.sqrt(_abs(s) + _abs(g) ** 2) + eps)), None]


# ------------------------------------------------------------------ the cases
def kernel_cases():
    """kernel -> list of (variant, builder, mutated argument positions, terms).

    A builder takes ``(rng, dims, dtype, big)`` (``dims`` = (batch, inputs, outputs))
    and returns ``(args, kwargs)``; ``terms`` is ``None`` or a function of ``(args,
    kwargs)`` giving, per output, the size of the terms summed into it (module doc)."""
    from .backends.base import ACTIVATIONS

    def arr(rng, shape, dtype, scale=None, zeros=True):
        s = rng.choice(SCALES) if scale is None else scale
        a = rng.standard_normal(shape) * s
        if zeros:
            a[rng.random(shape) < 0.15] = 0.0
        return a.astype(dtype)

    def probs(rng, shape, dtype, edges=True):
        p = rng.random(shape)
        if edges:
            p[rng.random(shape) < 0.1] = 0.0
            p[rng.random(shape) < 0.1] = 1.0
        return p.astype(dtype)

    def onehot(rng, m, k, dtype):
        Y = np.zeros((m, k), dtype)
        Y[np.arange(m), rng.integers(0, k, m)] = 1
        return Y

    def softmax(Z):
        e = np.exp(Z - Z.max(axis=1, keepdims=True))
        return (e / e.sum(axis=1, keepdims=True)).astype(Z.dtype)

    def pick(rng, values):
        return values[int(rng.integers(0, len(values)))]

    cases = {}

    def add(kernel, variant, build, mutated=(), terms=None):
        cases.setdefault(kernel, []).append((variant, build, mutated, terms))

    for ta, tb in ((False, False), (True, False), (False, True)):
        add("matmul", f"trans_a={ta}, trans_b={tb}",
            lambda r, d, t, big, ta=ta, tb=tb: (
                (arr(r, (d[1], d[0]) if ta else (d[0], d[1]), t), arr(r, (d[2], d[1]) if tb else (d[1], d[2]), t)),
                {"trans_a": ta, "trans_b": tb}), terms=_matmul_terms)
    add("linear_forward", "", lambda r, d, t, big: (
        (arr(r, (d[0], d[1]), t), arr(r, (d[2], d[1]), t), arr(r, (d[2],), t)), {}), terms=_linear_forward_terms)
    add("linear_backward", "", lambda r, d, t, big: (
        (arr(r, (d[0], d[2]), t), arr(r, (d[0], d[1]), t), arr(r, (d[2], d[1]), t)), {}),
        terms=_linear_backward_terms)
    for act in ACTIVATIONS:
        add("activation_forward", act, lambda r, d, t, big, act=act: (
            (act, np.clip(arr(r, (d[0], d[2]), t, pick(r, (1e-3, 1.0, big / 20, big))), -big, big).astype(t),
             pick(r, (0.01, 0.2))), {}))
        add("activation_backward", act, lambda r, d, t, big, act=act: _act_backward_args(
            act, np.clip(arr(r, (d[0], d[2]), t, pick(r, (1e-3, 1.0, big / 20, big))), -big, big).astype(t),
            arr(r, (d[0], d[2]), t), softmax, pick(r, (0.01, 0.2))),
            terms=_softmax_backward_terms if act == "softmax" else None)
    add("softmax", "", lambda r, d, t, big: (
        (np.clip(arr(r, (d[0], d[2]), t, pick(r, (1.0, big / 10, big))), -big, big).astype(t),), {}))
    for loss in ("mse", "bce", "cce"):
        add("loss_value", loss, lambda r, d, t, big, loss=loss: _loss_args(
            loss, r, d, t, probs, onehot, softmax, arr))
        add("loss_gradient", loss, lambda r, d, t, big, loss=loss: _loss_args(
            loss, r, d, t, probs, onehot, softmax, arr))
    add("loss_from_logits", "bce", lambda r, d, t, big: (
        ("bce", arr(r, (d[0], d[2]), t, pick(r, (1e-3, 1.0, big / 20, big))),
         (r.random((d[0], d[2])) < 0.5).astype(t)), {}))
    add("loss_from_logits", "cce", lambda r, d, t, big: (
        ("cce", arr(r, (d[0], d[2]), t, pick(r, (1e-3, 1.0, big / 20, big))), onehot(r, d[0], d[2], t)), {}))
    add("output_delta", "", lambda r, d, t, big: (
        (probs(r, (d[0], d[2]), t), (r.random((d[0], d[2])) < 0.5).astype(t), d[0] * d[2]), {}))
    penalty = lambda r, d, t, big: ((arr(r, (d[2], d[1]), t), pick(r, (0.0, 0.3)),           # noqa: E731
                                     pick(r, (0.0, 0.01, 2.0)), int(r.integers(1, 65))), {})
    add("penalty", "", penalty)
    add("penalty_gradient", "", penalty, terms=_penalty_gradient_terms)
    for kernel in ("dropout_forward", "dropout_backward"):
        add(kernel, "", lambda r, d, t, big: _dropout_args(r, d, t, arr, pick(r, (0.1, 0.5, 0.8, 1.0))))
    add("batchnorm_forward", "", lambda r, d, t, big: (
        (arr(r, (d[0], d[2]), t, zeros=False) + arr(r, (d[2],), t), arr(r, (d[2],), t, 1.0) + t(1),
         arr(r, (d[2],), t, 1.0), pick(r, (1e-5, 1e-3))), {}), terms=_batchnorm_forward_terms)
    add("batchnorm_inference", "", lambda r, d, t, big: (
        (arr(r, (d[0], d[2]), t), arr(r, (d[2],), t, 1.0) + t(1), arr(r, (d[2],), t, 1.0), arr(r, (d[2],), t),
         np.abs(arr(r, (d[2],), t)) + t(0.1), pick(r, (1e-5, 1e-3))), {}), terms=_batchnorm_inference_terms)
    add("batchnorm_backward", "", lambda r, d, t, big: _bn_backward_args(r, d, t, arr, pick),
        terms=_batchnorm_backward_terms)
    lrs = (1e-3, 0.1, 1.0)
    add("sgd_step", "", lambda r, d, t, big: ((arr(r, (d[2], d[1]), t), arr(r, (d[2], d[1]), t), pick(r, lrs)), {}),
        mutated=(0,), terms=_sgd_terms)
    for nesterov, damp in ((False, 0.0), (True, 0.0), (False, 0.9)):
        add("momentum_step", f"nesterov={nesterov}, dampening={damp}", lambda r, d, t, big, n=nesterov, dp=damp: (
            (arr(r, (d[2], d[1]), t), arr(r, (d[2], d[1]), t), arr(r, (d[2], d[1]), t), pick(r, lrs), 0.9, dp, n),
            {}), mutated=(0, 2), terms=_momentum_terms)
    add("rmsprop_step", "", lambda r, d, t, big: (
        (arr(r, (d[2], d[1]), t), arr(r, (d[2], d[1]), t), np.abs(arr(r, (d[2], d[1]), t)), pick(r, lrs), 0.9, 1e-8),
        {}), mutated=(0, 2), terms=_rmsprop_terms)
    for wd in (0.0, 0.01):
        add("adam_step", f"weight_decay={wd}", lambda r, d, t, big, wd=wd: (
            (arr(r, (d[2], d[1]), t), arr(r, (d[2], d[1]), t), arr(r, (d[2], d[1]), t),
             np.abs(arr(r, (d[2], d[1]), t)), pick(r, lrs), 0.9, 0.999, 1e-8, int(r.integers(1, 20))),
            {"weight_decay": wd}), mutated=(0, 2, 3), terms=_adam_terms)
    add("momentum_course_step", "", lambda r, d, t, big: (
        (arr(r, (d[2], d[1]), t), arr(r, (d[2], d[1]), t), arr(r, (d[2], d[1]), t), pick(r, lrs), 0.9), {}),
        mutated=(0, 2), terms=_course_terms)
    add("adagrad_step", "", lambda r, d, t, big: (
        (arr(r, (d[2], d[1]), t), arr(r, (d[2], d[1]), t), np.abs(arr(r, (d[2], d[1]), t)), pick(r, lrs), 1e-10),
        {}), mutated=(0, 2), terms=_adagrad_terms)
    return cases


#: (output activation, loss) pairs the fused output kernels are checked on: the two fused
#: pairs (computed from the logits) and two chained ones.
OUTPUT_PAIRS = (("sigmoid", "bce"), ("softmax", "cce"), ("linear", "mse"), ("tanh", "mse"))


def fused_cases():
    """The fused and composed kernels' cases (same layout as :func:`kernel_cases`).

    The kit checks one of these when the backend has its own version (a built-in that
    overrides the interface's default, or a learner who wrote it), or when asked by name;
    a default composition of the primitives is otherwise checked through its parts.
    ``sgd_train_step`` and ``train_plan`` (which update lists of arrays in place, or run
    whole epochs) are held by the kit's training runs instead."""
    from .backends.base import ACTIVATIONS
    cases = {}

    def add(kernel, variant, build, mutated=(), terms=None):
        cases.setdefault(kernel, []).append((variant, build, mutated, terms))

    def arr(rng, shape, dtype, scale=None):
        s = rng.choice(SCALES) if scale is None else scale
        a = rng.standard_normal(shape) * s
        a[rng.random(shape) < 0.15] = 0.0
        return a.astype(dtype)

    def output(rng, d, dtype, big, activation, loss):
        """(A, Y, Z) of an output layer: logits, their activation, matching targets."""
        from .backends.numpy_backend import NumpyBackend
        m, k = d[0], max(d[2], 2) if activation == "softmax" else d[2]
        Z = np.clip(arr(rng, (m, k), dtype, rng.choice((1e-3, 1.0, 10.0, big / 20))), -big, big).astype(dtype)
        with np.errstate(all="ignore"):
            A = NumpyBackend().activation_forward(activation, Z.astype(np.float64)).astype(dtype)
        if activation == "softmax":
            Y = np.eye(k, dtype=dtype)[rng.integers(0, k, m)]
        elif loss == "bce":
            Y = (rng.random((m, k)) < 0.5).astype(dtype)
        else:
            Y = arr(rng, (m, k), dtype, 1.0)
        return A, Y, Z

    for act in ACTIVATIONS:
        add("dense_forward", act, lambda r, d, t, big, act=act: (
            (arr(r, (d[0], d[1]), t), arr(r, (d[2], d[1]), t, 1.0), arr(r, (d[2],), t, 1.0), act, 0.01),
            {}), terms=_dense_forward_terms)
    for act in ACTIVATIONS:
        add("dense_backward", act, lambda r, d, t, big, act=act: _dense_backward_args(r, d, t, arr, act),
            terms=_dense_backward_terms)
    for act, loss in OUTPUT_PAIRS:
        def build(r, d, t, big, act=act, loss=loss, weighted=False):
            A, Y, Z = output(r, d, t, big, act, loss)
            extra = (r.random(A.shape[0]) * r.choice((0.0, 1.0, 1.0)),) if weighted else ()
            return (loss, act, A, Y, Z, *extra), {}
        add("data_loss", f"{act} + {loss}", build)
        add("sample_losses", f"{act} + {loss}", build)
        add("output_gradient", f"{act} + {loss}", build)
        add("weighted_data_loss", f"{act} + {loss}", lambda r, d, t, big, b=build: b(r, d, t, big, weighted=True))
        add("weighted_output_gradient", f"{act} + {loss}",
            lambda r, d, t, big, b=build: b(r, d, t, big, weighted=True))
    add("scale_rows", "", lambda r, d, t, big: ((arr(r, (d[0], d[2]), t), r.random(d[0]) * 2), {}))
    return cases


def _dense_forward_terms(args, kwargs):
    z = _linear_forward_terms(args[:3], kwargs)[0]
    return [z, 2 * z]              # every activation's slope is at most 1 (softmax's rows: 2)


def _dense_backward_args(r, d, t, arr, act):
    from .backends.numpy_backend import NumpyBackend
    X, W, b = arr(r, (d[0], d[1]), t), arr(r, (d[2], d[1]), t, 1.0), arr(r, (d[2],), t, 1.0)
    Z = (X.astype(np.float64) @ W.T + b).astype(t)
    with np.errstate(all="ignore"):
        A = NumpyBackend().activation_forward(act, Z.astype(np.float64)).astype(t)
    return (arr(r, (d[0], d[2]), t), X, W, Z, A, act, 0.01), {}


def _dense_backward_terms(args, kwargs):
    dA, X, W = args[:3]
    return _linear_backward_terms((2 * _abs(dA), X, W), kwargs)     # |f'| <= 1 (softmax's rows: 2)


def _act_backward_args(act, Z, dA, softmax, negative_slope):
    A = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh, "relu": lambda z: np.maximum(z, 0),
         "leaky_relu": lambda z: np.where(z > 0, z, negative_slope * z), "linear": lambda z: z.copy(),
         "softmax": softmax}[act]
    with np.errstate(over="ignore"):
        A = A(Z.astype(np.float64)).astype(Z.dtype)
    return (act, dA, Z, A, negative_slope), {}


def _loss_args(loss, r, d, t, probs, onehot, softmax, arr):
    m, k = d[0], d[2]
    if loss == "cce":
        return (loss, softmax(arr(r, (m, k), t, r.choice((0.5, 3.0, 40.0)))), onehot(r, m, k, t)), {}
    if loss == "bce":
        return (loss, probs(r, (m, k), t), (r.random((m, k)) < 0.5).astype(t)), {}
    return (loss, arr(r, (m, k), t), arr(r, (m, k), t)), {}


def _dropout_args(r, d, t, arr, keep):
    return (arr(r, (d[0], d[2]), t), (r.random((d[0], d[2])) < keep).astype(t), keep), {}


def _bn_backward_args(r, d, t, arr, pick):
    eps = pick(r, (1e-5, 1e-3))
    Z = arr(r, (d[0], d[2]), t, zeros=False) + arr(r, (d[2],), t)
    mean, var = Z.mean(axis=0), Z.var(axis=0)
    Zhat = ((Z - mean) / np.sqrt(var + eps)).astype(t)
    return (arr(r, (d[0], d[2]), t, 1.0), Zhat, arr(r, (d[2],), t, 1.0) + t(1), var.astype(t), eps), {}


def edge_cases():
    """(kernel, variant, args, kwargs) the project learned the hard way (float64)."""
    big = np.array([[1000.0, 1000.0, -1000.0], [-745.0, 0.0, 745.0]])
    z = np.array([[-700.0, -40.0, -1e-300, 0.0, 40.0, 700.0]])
    kink = np.array([[-1.0, 0.0, -0.0, 1e-300, 1.0]])
    return [
        ("activation_forward", "sigmoid saturation", ("sigmoid", z, 0.01), {}),
        ("activation_forward", "tanh saturation", ("tanh", z, 0.01), {}),
        ("softmax", "rows with a huge offset", (big,), {}),
        ("activation_forward", "softmax rows with a huge offset", ("softmax", big, 0.01), {}),
        ("activation_backward", "relu kink at 0", ("relu", np.ones_like(kink), kink, np.maximum(kink, 0), 0.01),
         {}),
        ("activation_backward", "leaky_relu kink at 0", ("leaky_relu", np.ones_like(kink), kink,
                                                         np.where(kink > 0, kink, 0.01 * kink), 0.01), {}),
        ("loss_from_logits", "bce confident", ("bce", np.array([[40.0, -40.0, 30.0]]), np.array([[1.0, 0.0, 0.0]])), {}),
        ("loss_from_logits", "cce huge logits", ("cce", big, np.array([[1.0, 0, 0], [0, 0, 1.0]])), {}),
        ("loss_value", "bce at exactly 0 and 1", ("bce", np.array([[0.0, 1.0]]), np.array([[1.0, 0.0]])), {}),
        ("batchnorm_forward", "one sample", (np.array([[3.0, -2.0]]), np.ones(2), np.zeros(2), 1e-5), {}),
        ("linear_forward", "batch of 1, one feature", (np.array([[2.0]]), np.array([[3.0]]), np.array([0.5])), {}),
    ]
