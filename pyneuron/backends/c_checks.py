"""The ``c`` backend's arrays and argument checks, apart from its wrappers
(:mod:`pyneuron.backends.c_backend`) and fit's plan (:mod:`pyneuron.backends.c_plan`).

``_Typed`` holds the C functions of one precision and makes C pointers; the
``_array``/``_arrays``/``_output``/``_in_place`` checks run before any C call and raise
``TypeError``/``ValueError`` naming the argument: dtype float32/float64 (one for all),
C-contiguity, shape, writability of what C writes, no output sharing memory with an
input. A misaligned input (``np.frombuffer`` at an odd offset) is accepted and copied to
an aligned buffer by ``_Typed.ptr``; a misaligned array C would write into is refused.
``_StepPlan`` is what ``sgd_train_step`` caches between calls.
"""
from __future__ import annotations

import threading

import numpy as np

from .base import ACTIVATIONS, LOSSES  # noqa: F401 (the names of c's codes, checked by the tests)
from .kernel_checks import (check_activation_name, check_finite, check_layers, check_real, check_shape,
                            check_step, check_step_count)

try:
    from .._kernels import ffi, lib
except ImportError as exc:  # turned into "c backend unavailable" by backends.get
    raise ImportError(f"the compiled module pyneuron._kernels is missing or broken: {exc}") from exc

#: Rungs of the matmul ladder, slowest first, plus "auto". "narrow" serves only products
#: of at most 16 columns (``NARROW_MAX``), where it is what "auto" picks; "small" (rung 7,
#: AVX-512) any shape, and "auto" picks it for small products of more than 16 columns.
VARIANTS = ("naive", "reorder", "blocked", "simd", "avx512", "small", "narrow", "auto")
_ACT_CODES = {"linear": 0, "sigmoid": 1, "tanh": 2, "relu": 3, "leaky_relu": 4, "softmax": 5}
_LOSS_CODES = {"mse": 0, "bce": 1, "cce": 2}
_MAX_LAYERS = 64


class _Typed:
    """The C functions of one precision, and how to hand it an array."""

    def __init__(self, dtype, suffix, ctype):
        self.dtype = np.dtype(dtype)
        self.ctype = ctype + "[]"
        get = lambda name: getattr(lib, f"pyn_{name}_{suffix}")  # noqa: E731
        self.ladder = {v: get(f"matmul_{v}") for v in VARIANTS}
        self.matmul_workspace = get("matmul_workspace")
        self.dense_forward = get("dense_forward")
        self.dense_workspace = get("dense_workspace")
        self.activation_forward = get("activation_forward")
        self.activation_backward = get("activation_backward")
        self.linear_backward = get("linear_backward")
        self.output_delta = get("output_delta")
        self.loss_value = get("loss_value")
        self.train_step = get("train_step")
        self.train_step_workspace = get("train_step_workspace")
        for name in ("loss_gradient", "penalty", "penalty_gradient", "dropout",
                     "batchnorm_forward", "batchnorm_inference", "batchnorm_backward",
                     "sgd_step", "momentum_step", "rmsprop_step", "adam_step"):
            setattr(self, name, get(name))

    def ptr(self, a):
        """A C pointer to a checked array (inputs may be read-only). A misaligned input
        (``np.frombuffer`` at an odd offset) is copied to an aligned buffer, which the
        returned pointer keeps alive; outputs are refused earlier if misaligned."""
        if not a.flags.aligned:
            a = np.require(a, requirements=("C", "A"))
        return ffi.from_buffer(self.ctype, a)


_TYPED = {np.dtype(np.float64): _Typed(np.float64, "f64", "double"),
          np.dtype(np.float32): _Typed(np.float32, "f32", "float")}
_local = threading.local()  # cffi releases the GIL: one workspace per thread


# ---------------------------------------------------------------- argument checks
def _array(name, a, ndim=None, written=False):
    """Check that ``a`` is an array the C code can read (and, if ``written``, write in
    place); return its ``_Typed``. A misaligned input is accepted (``_Typed.ptr`` copies
    it); a misaligned array C would write into is refused."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name}: expected a numpy.ndarray of float32 or float64, "
                        f"got {type(a).__name__}")
    t = _TYPED.get(a.dtype)
    if t is None:
        raise TypeError(f"{name}: expected dtype float32 or float64 (native byte order), "
                        f"got {a.dtype}")
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array, got shape {a.shape}")
    if not a.flags.c_contiguous:
        kind = "Fortran-ordered" if a.flags.f_contiguous else "non-contiguous (a strided view)"
        raise ValueError(f"{name}: expected a C-contiguous array (np.ascontiguousarray makes "
                         f"one), got a {kind} array of shape {a.shape}")
    if written and not a.flags.aligned:
        raise ValueError(f"{name}: expected an aligned array (it is written in place), "
                         "got a misaligned buffer")
    return t


def _arrays(**named):
    """Check several arrays and that they share one dtype; return its ``_Typed``."""
    first = None
    for name, (a, ndim) in named.items():
        t = _array(name, a, ndim)
        if first is None:
            first, first_name = t, name
        elif t is not first:
            raise TypeError(f"{name}: expected dtype {first.dtype} like {first_name}, "
                            f"got {a.dtype}")
    return first


def _like_weights(name, a, t):
    """A training step's ``X`` or ``Y``: a 2-D array C can read, of the weights' dtype
    (``t``, checked first); the message names ``name``, not the weights."""
    if _array(name, a, 2) is not t:
        raise TypeError(f"{name}: expected dtype {t.dtype} like the weights, got {a.dtype}")


_shape = check_shape


def _output(name, out, t, shape, inputs):
    """Check a caller-supplied output array."""
    _array(name, out, written=True)
    if out.dtype != t.dtype:
        raise TypeError(f"{name}: expected dtype {t.dtype}, got {out.dtype}")
    _shape(name, out, shape)
    if not out.flags.writeable:
        raise ValueError(f"{name}: expected a writable array, got a read-only one")
    for in_name, a in inputs.items():
        if np.shares_memory(out, a):
            raise ValueError(f"{name}: must not share memory with the input {in_name}")


def _activation(name):
    """The C code of a known activation name (:func:`~pyneuron.backends.kernel_checks.check_activation_name`)."""
    check_activation_name(name)
    return _ACT_CODES[name]


# the numbers' checks are the interface's (the same messages on every backend)
_real, _finite, _step_count = check_real, check_finite, check_step_count


def _in_place(grad, **state):
    """Check the arrays of an optimizer step; return ``(t, grad)``.

    ``grad`` may be read-only. ``param`` and the state arrays (in that order in
    ``state``) must be writable, C-contiguous, of grad's dtype and shape, and must not
    share memory with each other; a state array must not share memory with ``grad``.
    A ``grad`` that shares memory with ``param`` is copied first, which is what NumPy's
    temporaries amount to, so ``sgd_step(p, p, lr)`` means what it does on numpy.
    """
    t = _array("grad", grad)
    for name, a in state.items():
        _array(name, a, written=True)       # what C needs: a float array, C-contiguous, aligned
    check_step(grad, state)                 # the interface's: grad's dtype and shape, writable, no overlap
    if np.shares_memory(state["param"], grad):
        grad = grad.copy()
    return t, grad


def _workspace(t, n):
    """A per-thread scratch array of at least ``n`` elements of ``t``; returns (ptr, len)."""
    key = t.ctype
    ws = getattr(_local, "ws", None)
    if ws is None:
        ws = _local.ws = {}
    entry = ws.get(key)
    if entry is None or entry[1] < n:
        arr = np.empty(max(n, 1), t.dtype)
        entry = ws[key] = (t.ptr(arr), arr.size, arr)
    return entry[0], entry[1]


def _ok(code):
    if code:
        raise RuntimeError(f"pyneuron._kernels: internal error code {code}")


# ---------------------------------------------------------------- the plan of sgd_train_step
_STEP_ERRORS = {
    lib.PYN_ERR_X_NONFINITE: (ValueError, "X: expected finite values, got NaN or inf"),
    lib.PYN_ERR_Y_NONFINITE: (ValueError, "Y: expected finite values, got NaN or inf"),
    lib.PYN_ERR_X_ALIAS: (ValueError, "X: must not share memory with a weight or bias "
                                      "(they are updated in place)"),
    lib.PYN_ERR_Y_ALIAS: (ValueError, "Y: must not share memory with a weight or bias "
                                      "(they are updated in place)"),
    lib.PYN_ERR_PARAM_ALIAS: (ValueError, "weights/biases: expected separate arrays, got two "
                                          "that share memory"),
}


class _StepPlan:
    """Everything about a training step that stays the same from one call to the next:
    the checked parameter arrays (held, so their memory stays valid), the C pointers to
    them, the layer sizes and the workspace (grown when a bigger batch comes)."""

    def __init__(self, weights, biases, activations, loss):
        check_layers(weights, biases, activations, loss)       # the interface's checks
        L = len(weights)
        if L > _MAX_LAYERS:
            raise ValueError(f"weights, biases, activations: expected 1 to {_MAX_LAYERS} layers "
                             f"(the C step's limit), got {L}")
        t = _arrays(**{f"weights[{i}]": (w, 2) for i, w in enumerate(weights)},
                    **{f"biases[{i}]": (b, 1) for i, b in enumerate(biases)})
        sizes = [weights[0].shape[1]]
        for i, (W, b) in enumerate(zip(weights, biases)):
            _shape(f"weights[{i}]", W, (W.shape[0], sizes[-1]))
            _shape(f"biases[{i}]", b, (W.shape[0],))
            for name, p in ((f"weights[{i}]", W), (f"biases[{i}]", b)):
                _array(name, p, written=True)
                if not p.flags.writeable:
                    raise ValueError(f"{name}: expected a writable array (updated in place), "
                                     "got a read-only one")
            sizes.append(W.shape[0])
        self.t = t
        self.weights, self.biases = tuple(weights), tuple(biases)
        self.checked = [(w.shape, b.shape, w.dtype, b.dtype, w.flags.writeable, b.flags.writeable)
                        for w, b in zip(weights, biases)]
        self.acts, self.loss = tuple(activations), loss
        self.L, self.n_in, self.n_out = L, sizes[0], sizes[-1]
        self.c_sizes = ffi.new("int64_t[]", sizes)
        self.c_acts = ffi.new("int[]", [_activation(a) for a in activations])
        self._views = [t.ptr(w) for w in weights], [t.ptr(b) for b in biases]
        self.c_W = ffi.new(f"{t.ctype[:-2]} *[]", self._views[0])
        self.c_b = ffi.new(f"{t.ctype[:-2]} *[]", self._views[1])
        self.c_loss = ffi.new("double *")
        self.loss_code = _LOSS_CODES[loss]
        self.m_cap, self.work, self.work_len = -1, None, 0

    def matches(self, weights, biases, activations, loss):
        """Same parameter arrays (by identity, still of the shape, dtype and writability
        they were checked with), activations and loss as when built? Anything changed
        since (a weight made read-only, reshaped in place, replaced) makes a new plan,
        which checks again before C writes anything (issue 15, item 5)."""
        L = self.L
        if len(weights) != L or len(biases) != L or loss != self.loss:
            return False
        mine_w, mine_b, checked = self.weights, self.biases, self.checked
        for i in range(L):
            w, b = weights[i], biases[i]
            if (w is not mine_w[i] or b is not mine_b[i]
                    or (w.shape, b.shape, w.dtype, b.dtype, w.flags.writeable, b.flags.writeable)
                    != checked[i]):
                return False
        return tuple(activations) == self.acts

    def grow(self, m):
        """Make the workspace big enough for a batch of ``m`` rows."""
        n = self.t.train_step_workspace(self.L, self.c_sizes, m)
        self._work_array = np.empty(n, self.t.dtype)
        self.work, self.work_len, self.m_cap = self.t.ptr(self._work_array), n, m
