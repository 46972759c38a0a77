"""Bad input to a C wrapper is a clear TypeError/ValueError naming the argument --
never a crash and never a wrong answer. The fuzz test runs thousands of malformed calls
in a subprocess, so a segfault shows up as a failed test."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from helpers import c_backend_module

cb = c_backend_module()  # skip the file, or fail under PYNEURON_REQUIRE_C

from pyneuron import backends  # noqa: E402

C = backends.get("c")
rng = np.random.default_rng(0)
X = rng.standard_normal((6, 4))
W = rng.standard_normal((3, 4))
b = rng.standard_normal(3)
dZ = rng.standard_normal((6, 3))
Z = rng.standard_normal((6, 3))


def fortran(a):
    return np.asfortranarray(a)


def strided(a):
    """A non-contiguous view with the same shape."""
    big = np.zeros((a.shape[0], 2 * a.shape[1]), a.dtype)
    big[:, ::2] = a
    return big[:, ::2]


def misaligned(a):
    raw = np.zeros(a.nbytes + 1, np.uint8)[1:]
    out = raw.view(a.dtype).reshape(a.shape) if raw.ctypes.data % a.itemsize == 0 else \
        np.frombuffer(raw.data, a.dtype, a.size).reshape(a.shape)
    out[...] = a
    return out


# Each case: a call with exactly one bad argument, the exception and words of its message.
CASES = {
    "matmul wrong dtype": (lambda: C.matmul(X.astype(np.int64), W.T.copy()), TypeError, "A"),
    "matmul mixed dtypes": (lambda: C.matmul(X, W.T.astype(np.float32).copy()), TypeError, "B"),
    "matmul fortran": (lambda: C.matmul(X, fortran(W.T)), ValueError, "C-contiguous"),
    "matmul slice": (lambda: C.matmul(strided(X), W.T.copy()), ValueError, "non-contiguous"),
    "matmul shape": (lambda: C.matmul(X, W), ValueError, "B"),
    "matmul 1-D": (lambda: C.matmul(X[0], W), ValueError, "2-D"),
    "matmul list": (lambda: C.matmul(X.tolist(), W), TypeError, "ndarray"),
    "matmul big-endian": (lambda: C.matmul(X.astype(">f8"), W.T.copy()), TypeError, "byte order"),
    "matmul out misaligned": (lambda: cb.matmul(X, W.T.copy(), out=misaligned(np.empty((6, 3)))),
                              ValueError, "aligned"),
    "matmul variant": (lambda: cb.matmul(X, W.T.copy(), "fast"), ValueError, "variant"),
    "matmul out aliases A": (lambda: _aliasing_out(), ValueError, "out: must not share memory"),
    "matmul out read-only": (lambda: cb.matmul(X, W.T.copy(), out=_readonly((6, 3))),
                             ValueError, "writable"),
    "matmul out shape": (lambda: cb.matmul(X, W.T.copy(), out=np.empty((3, 6))), ValueError,
                         "out"),
    "matmul out dtype": (lambda: cb.matmul(X, W.T.copy(), out=np.empty((6, 3), np.float32)),
                         TypeError, "out"),
    "linear W shape": (lambda: C.linear_forward(X, W.T.copy(), b), ValueError, "W"),
    "linear b shape": (lambda: C.linear_forward(X, W, b[:2].copy()), ValueError, "b"),
    "linear b dtype": (lambda: C.linear_forward(X, W, b.astype(np.float32)), TypeError, "b"),
    "linear X fortran": (lambda: C.linear_forward(fortran(X), W, b), ValueError, "X"),
    "dense bad activation": (lambda: C.dense_forward(X, W, b, "swish"), ValueError, "activation"),
    "activation slice": (lambda: C.activation_forward("relu", strided(Z)), ValueError, "Z"),
    "activation name": (lambda: C.activation_forward(3, Z), ValueError, "activation"),
    "activation negative_slope": (lambda: C.activation_forward("leaky_relu", Z, "0.1"), TypeError, "negative_slope"),
    "backward shapes": (lambda: C.activation_backward("tanh", Z, Z[:2].copy(), Z), ValueError, "Z"),
    "backward dtype": (lambda: C.activation_backward("tanh", Z, Z, Z.astype(np.float32)),
                       TypeError, "A"),
    "softmax 1-D": (lambda: C.softmax(b), ValueError, "2-D"),
    "softmax no columns": (lambda: C.softmax(np.zeros((2, 0))), ValueError, "column"),
    "linear_backward X": (lambda: C.linear_backward(dZ, X[:5].copy(), W), ValueError, "X"),
    "linear_backward W": (lambda: C.linear_backward(dZ, X, W[:2].copy()), ValueError, "W"),
    "output_delta shape": (lambda: C.output_delta(Z, Z[:, :2].copy(), 6), ValueError, "Y"),
    "output_delta n_terms": (lambda: C.output_delta(Z, Z, "6"), TypeError, "n_terms"),
    "loss name": (lambda: C.loss_value("hinge", Z, Z), ValueError, "loss"),
}
def _aliasing_out():
    A = np.eye(3)
    return cb.matmul(A, np.eye(3), out=A)


def _readonly(shape):
    a = np.empty(shape)
    a.flags.writeable = False
    return a


@pytest.mark.parametrize("case", CASES)
def test_bad_argument_is_a_clear_error(case):
    call, exc, words = CASES[case]
    with pytest.raises(exc, match=words):
        call()


# ---------------------------------------------------------------- the training step
def step_args(dtype=np.float64):
    r = np.random.default_rng(1)
    Ws = [r.standard_normal((5, 3)).astype(dtype), r.standard_normal((2, 5)).astype(dtype)]
    bs = [np.zeros(5, dtype), np.zeros(2, dtype)]
    Xs = r.standard_normal((8, 3)).astype(dtype)
    Ys = np.eye(2, dtype=dtype)[r.integers(0, 2, 8)]
    return Xs, Ys, Ws, bs


def step(Xs, Ys, Ws, bs, acts=("relu", "softmax"), loss="cce", lr=0.1):
    return C.sgd_train_step(Xs, Ys, Ws, bs, list(acts), loss, lr)


def _misaligned_inputs():
    """Every entry point that takes X, called with a misaligned but contiguous X
    (issue 15, item 5): each must give what the aligned X gives, bit for bit."""
    Wt = W.T.copy()
    dZ = np.linspace(-1, 1, 18).reshape(6, 3)
    return {
        "matmul": lambda x: C.matmul(x, Wt),
        "matmul variant": lambda x: cb.matmul(x, Wt, "blocked"),
        "linear_forward": lambda x: C.linear_forward(x, W, b),
        "dense_forward": lambda x: C.dense_forward(x, W, b, "tanh")[1],
        "linear_backward": lambda x: C.linear_backward(dZ, x, W)[1],
        "activation_forward": lambda x: C.activation_forward("sigmoid", x),
        "sgd_train_step": lambda x: _train_once(x),
    }


def _train_once(x):
    Ws, bs = [W.copy()], [b.copy()]
    C.sgd_train_step(x, np.full((6, 3), 0.5), Ws, bs, ["linear"], "mse", 0.1)
    return Ws[0]


@pytest.mark.parametrize("entry", sorted(_misaligned_inputs()))
def test_misaligned_input_is_copied_not_refused(entry):
    x = misaligned(X)
    assert not x.flags.aligned
    call = _misaligned_inputs()[entry]
    np.testing.assert_array_equal(call(x), call(X.copy()))


def test_step_refuses_nan_and_inf_and_leaves_weights_untouched():
    Xs, Ys, Ws, bs = step_args()
    before = [w.copy() for w in Ws + bs]
    Xs[3, 1] = np.nan
    with pytest.raises(ValueError, match="X: expected finite"):
        step(Xs, Ys, Ws, bs)
    Xs[3, 1] = 0.0
    Ys[0, 0] = np.inf
    with pytest.raises(ValueError, match="Y: expected finite"):
        step(Xs, Ys, Ws, bs)
    assert all(np.array_equal(a, c) for a, c in zip(Ws + bs, before))


def test_step_refuses_aliasing():
    Xs, Ys, Ws, bs = step_args()
    with pytest.raises(ValueError, match="X: must not share memory"):
        step(Ws[0], Ys[:5], Ws, bs)  # X is the first weight matrix itself
    with pytest.raises(ValueError, match="Y: must not share memory"):
        step(Xs[:1], bs[1].reshape(1, 2), Ws, bs)  # Y is a view of the last bias
    with pytest.raises(ValueError, match="weights/biases"):
        step(Xs, Ys, [Ws[0], Ws[1]], [bs[0], Ws[1][0, :2]])  # a bias inside a weight
    shared = np.zeros(5 * 3 + 5)
    with pytest.raises(ValueError, match="weights/biases"):
        step(Xs, Ys, [shared[:15].reshape(5, 3), Ws[1]], [shared[10:15], bs[1]])


@pytest.mark.parametrize("mutate,exc,words", [
    (lambda a: a.__setitem__(0, a[0].astype(np.float32)), TypeError, "X"),
    (lambda a: a.__setitem__(0, np.asfortranarray(a[0])), None, None),
    (lambda a: a.__setitem__(0, a[0][:, :2].copy()), ValueError, "X"),
    (lambda a: a.__setitem__(1, a[1][:, :1].copy()), ValueError, "Y"),
    (lambda a: a.__setitem__(1, a[1].astype(np.float32)), TypeError, "Y"),
    (lambda a: a.__setitem__(1, strided(a[1])), ValueError, "Y"),
    (lambda a: a[2].__setitem__(0, a[2][0].astype(np.float32)), TypeError, "weights"),
    (lambda a: a[2].__setitem__(1, np.asfortranarray(a[2][1])), ValueError, "weights\\[1\\]"),
    (lambda a: a[2].__setitem__(1, a[2][1][:, :4].copy()), ValueError, "weights\\[1\\]"),
    (lambda a: a[3].__setitem__(0, a[3][0][:4].copy()), ValueError, "biases\\[0\\]"),
    (lambda a: a[3][1].setflags(write=False), ValueError, "writable"),
    (lambda a: a.__setitem__(2, a[2][:1]), ValueError, "layers"),
])
def test_step_refuses_malformed_arguments(mutate, exc, words):
    args = list(step_args())
    mutate(args)
    if exc is None:  # a Fortran-ordered (m, 3) X is not C-contiguous unless trivially so
        if args[0].flags.c_contiguous:
            return
        exc, words = ValueError, "X"
    with pytest.raises(exc, match=words):
        step(*args)


def test_step_refuses_bad_names_and_rates():
    Xs, Ys, Ws, bs = step_args()
    with pytest.raises(ValueError, match="activation"):
        step(Xs, Ys, Ws, bs, acts=("relu", "gelu"))
    with pytest.raises(ValueError, match="loss"):
        step(Xs, Ys, Ws, bs, loss="hinge")
    with pytest.raises(TypeError, match="lr"):
        step(Xs, Ys, Ws, bs, lr="fast")


# ---------------------------------------------------------------- fuzzing, in a subprocess
FUZZ = textwrap.dedent(r"""
    import sys
    import numpy as np
    from pyneuron import backends
    from pyneuron.backends import c_backend as cb
    C = backends.get("c")
    rng = np.random.default_rng(int(sys.argv[1]))

    def array():
        kind = rng.integers(12)
        shape = tuple(int(s) for s in rng.integers(0, 6, rng.integers(0, 4)))
        dtype = [np.float64, np.float32, np.int32, np.float16, ">f8", np.complex128][
            rng.integers(6) if kind < 3 else rng.integers(2)]
        a = (rng.standard_normal(shape) * 10).astype(dtype)
        if kind == 3 and a.ndim == 2:
            a = np.asfortranarray(a)
        if kind == 4 and a.ndim >= 1:
            a = a[..., ::2]
        if kind == 5:
            a = a.T
        if kind == 6 and a.size:
            a.flat[0] = np.nan
        if kind == 7:
            a = a.tolist()
        if kind == 8:
            a.flags.writeable = False
        return a

    def names(pool):
        return pool[rng.integers(len(pool))]

    acts = ["relu", "sigmoid", "tanh", "leaky_relu", "softmax", "linear", "nope", None]
    losses = ["mse", "bce", "cce", "nope"]
    numbers = [0.1, 0.9, 0.0, 1.0, -1.0, 1e-8, 1e300, float("nan"), float("inf"), 3, True,
               "0.1", None, np.float32(0.5)]

    def number():
        return numbers[rng.integers(len(numbers))] if rng.integers(3) == 0 else 0.5

    def step_count():
        return [1, 2, 50, 0, -3, 1.0, True, None, np.int64(7)][rng.integers(9)]

    def like(a, shape=None):
        # mostly a well-formed partner of a (its dtype, the shape given or its own),
        # sometimes any array at all: the near-valid calls are the ones that reach C
        if not isinstance(a, np.ndarray) or rng.integers(4) == 0:
            return array()
        shape = a.shape if shape is None else shape
        return (rng.standard_normal(shape) * 3).astype(a.dtype) if a.dtype.kind == "f" \
            else array()

    def column(a):  # an (n,) partner of an (m, n) array
        return like(a, a.shape[1:2] if isinstance(a, np.ndarray) and a.ndim == 2 else None)

    def same_or_other(a):
        # mostly a partner of a; sometimes a itself or a view of it (aliasing)
        kind = rng.integers(6)
        if kind == 0:
            return a
        if kind == 1 and isinstance(a, np.ndarray) and a.ndim:
            return a[: max(1, a.shape[0] // 2)]
        return like(a)
    calls = [
        lambda: C.matmul(array(), array(), bool(rng.integers(2)), bool(rng.integers(2))),
        lambda: cb.matmul(array(), array(), names(list(cb.VARIANTS) + ["x"]), out=array()),
        lambda: C.linear_forward(array(), array(), array()),
        lambda: C.dense_forward(array(), array(), array(), names(acts)),
        lambda: C.activation_forward(names(acts), array()),
        lambda: C.activation_backward(names(acts), array(), array(), array()),
        lambda: C.softmax(array()),
        lambda: C.linear_backward(array(), array(), array()),
        lambda: C.output_delta(array(), array(), int(rng.integers(1, 5))),
        lambda: C.loss_value(names(losses), array(), array()),
        lambda: C.sgd_train_step(array(), array(), [array(), array()], [array(), array()],
                                 [names(acts), names(acts)], names(losses), 0.1),
        lambda: (lambda a: C.loss_gradient(names(losses), a, like(a)))(array()),
        lambda: C.penalty(array(), number(), number(), [4, 0, -1, 2.5, "m"][rng.integers(5)]),
        lambda: C.penalty_gradient(array(), number(), number(), [4, 0, 1][rng.integers(3)]),
        lambda: (lambda a: C.dropout_forward(a, like(a), number()))(array()),
        lambda: (lambda a: C.dropout_backward(a, like(a), number()))(array()),
        lambda: (lambda z: C.batchnorm_forward(z, column(z), column(z), number()))(array()),
        lambda: (lambda z: C.batchnorm_inference(z, column(z), column(z), column(z),
                                                 np.abs(column(z)), number()))(array()),
        lambda: (lambda z: C.batchnorm_backward(z, like(z), column(z), np.abs(column(z)),
                                                number()))(array()),
        lambda: (lambda p: C.sgd_step(p, same_or_other(p), number()))(array()),
        lambda: (lambda p: C.momentum_step(p, like(p), same_or_other(p), number(), number(),
                                           number(), bool(rng.integers(2))))(array()),
        lambda: (lambda p: C.rmsprop_step(p, like(p), same_or_other(p), number(), number(),
                                          number()))(array()),
        lambda: (lambda p, g: C.adam_step(p, g, same_or_other(g), same_or_other(p), number(),
                                          number(), number(), number(), step_count(),
                                          number()))(*(lambda p: (p, like(p)))(array())),
    ]
    ok = refused = 0
    for i in range(int(sys.argv[2])):
        try:
            calls[rng.integers(len(calls))]()
            ok += 1
        except (TypeError, ValueError):
            refused += 1
    print(ok, refused)
""")


@pytest.mark.parametrize("seed", [0, 1])
def test_thousands_of_malformed_calls_never_crash(seed, tmp_path):
    import pyneuron  # the child must import the same (built) package as this process
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.dirname(os.path.dirname(os.path.abspath(pyneuron.__file__)))] + sys.path))
    # cwd: `python -c` puts the working directory first on sys.path, and from the
    # repo root that would import the source tree instead of the installed package.
    proc = subprocess.run([sys.executable, "-c", FUZZ, str(seed), "3000"], capture_output=True,
                          text=True, timeout=120, env=env, cwd=tmp_path)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr[-3000:]}"
    ok, refused = map(int, proc.stdout.split())
    assert ok + refused == 3000 and refused > 1000
