"""The argument checks of the kernel interface, shared by every backend.

The kernels of :class:`~pyneuron.backends.base.Backend` are a public interface: learners
call them directly and register backends against them. A bad argument must raise a
``ValueError`` or ``TypeError`` that names the argument, says what was expected and what
was given -- the *same* message on ``scalar``, ``numpy`` and ``c`` -- and never crash deep
inside NumPy, divide by zero, or return inf/NaN silently. So the checks live here, once:
the scalar and numpy kernels call them at their door, the ``c`` kernels call them after
their own checks of what C needs (dtype, contiguity, alignment, see
:mod:`pyneuron.backends.c_checks`), and the interface's default fused kernels
(``dense_forward``, ``sgd_train_step``, the weighted losses, ``scale_rows``) call them for
a learner's registered backend too.

Shapes follow the interface's conventions: data ``(m, n_in)``, ``W`` ``(n_out, n_in)``,
``b`` ``(n_out,)``. Each check returns nothing (or the checked number as a Python float)
and raises at the first bad argument, in the order of the kernel's parameters.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

#: Activation names every backend understands.
ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "softmax", "linear")
#: Loss names every backend understands.
LOSSES = ("mse", "bce", "cce")


# ---------------------------------------------------------------- numbers
def check_real(name, x):
    """A real number (a bool is refused: ``True`` is not a rate). Returns ``float(x)``;
    raises ``TypeError``."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name}: expected a real number, got {type(x).__name__}")
    return float(x)


def check_finite(name, x):
    """A finite real number (:func:`check_real`, then not NaN or inf), as a Python float.
    Raises ``TypeError`` or ``ValueError``."""
    if type(x) is float and math.isfinite(x):       # the common case, without the ABC check
        return x
    v = check_real(name, x)
    if not math.isfinite(v):
        raise ValueError(f"{name}: expected a finite number, got {x!r}")
    return v


def check_step_count(t):
    """Adam's step count ``t``: an integer >= 1 (its bias corrections divide by
    ``1 - beta**t``, which is 0 at ``t = 0``). Returns ``int(t)``."""
    if isinstance(t, bool) or not isinstance(t, numbers.Integral):
        raise TypeError(f"t: expected an integer step count, got {type(t).__name__}")
    if t < 1:
        raise ValueError(f"t: expected a step count >= 1, got {t}")
    return int(t)


# ---------------------------------------------------------------- shapes
def check_shape(name, a, expected):
    """Raise ``ValueError`` unless ``a``'s shape is ``expected`` (a tuple)."""
    if np.shape(a) != expected:
        raise ValueError(f"{name}: expected shape {expected}, got {np.shape(a)}")


def check_ndim(name, a, ndim):
    """Raise ``ValueError`` unless ``a`` is ``ndim``-D."""
    if np.ndim(a) != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array, got shape {np.shape(a)}")


def check_matmul(A, B, trans_a, trans_b):
    """:meth:`~pyneuron.backends.base.Backend.matmul`'s operands: 2-D, and ``op(B)`` with
    as many rows as ``op(A)`` has columns."""
    check_ndim("A", A, 2)
    check_ndim("B", B, 2)
    M, K = np.shape(A)[::-1] if trans_a else np.shape(A)
    if (np.shape(B)[1] if trans_b else np.shape(B)[0]) != K:
        raise ValueError(f"B: expected {K} {'columns' if trans_b else 'rows'} to match "
                         f"op(A) of shape {(M, K)}, got shape {np.shape(B)}")


def check_linear_forward(X, W, b):
    """``X`` ``(m, n_in)``, ``W`` ``(n_out, n_in)``, ``b`` ``(n_out,)``."""
    check_ndim("X", X, 2)
    check_ndim("W", W, 2)
    check_ndim("b", b, 1)
    n_out = np.shape(W)[0]
    check_shape("W", W, (n_out, np.shape(X)[1]))
    check_shape("b", b, (n_out,))


def check_linear_backward(dZ, X, W):
    """``dZ`` ``(m, n_out)``, ``X`` ``(m, n_in)``, ``W`` ``(n_out, n_in)``."""
    check_ndim("dZ", dZ, 2)
    check_ndim("X", X, 2)
    check_ndim("W", W, 2)
    m, n_out = np.shape(dZ)
    n_in = np.shape(X)[1]
    check_shape("X", X, (m, n_in))
    check_shape("W", W, (n_out, n_in))


# ---------------------------------------------------------------- activations
def check_activation_name(name):
    """One of :data:`ACTIVATIONS`; raises ``ValueError`` listing them."""
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(f"activation: expected one of {', '.join(ACTIVATIONS)}, got {name!r}")


def check_softmax_input(Z, name="Z"):
    """A softmax input: 2-D (softmax is taken per row, ``(m, k)``) with ``k >= 1`` (a row
    of no values has no maximum and sums to 0). Raises ``ValueError``."""
    shape = np.shape(Z)
    if len(shape) != 2:
        raise ValueError(f"{name}: expected a 2-D array, got shape {shape}")
    if shape[1] == 0:
        raise ValueError(f"{name}: softmax needs at least one column, got shape {shape}")


def check_softmax_outputs(W):
    """A softmax dense layer needs an output: ``W`` of shape ``(0, n_in)`` raises ``ValueError``."""
    if np.shape(W)[:1] == (0,):
        raise ValueError("W: softmax needs at least one output, got 0 rows")


def check_activation_backward(name, dA, Z, A):
    """:meth:`~pyneuron.backends.base.Backend.activation_backward`'s arguments: a known
    ``name``, ``Z`` and ``A`` of ``dA``'s shape, and for softmax (a per-row Jacobian) a
    2-D ``dA``. Raises ``ValueError``."""
    check_activation_name(name)
    shape = np.shape(dA)
    if name == "softmax" and len(shape) != 2:
        raise ValueError(f"dA: expected a 2-D array, got shape {shape}")
    check_shape("Z", Z, shape)
    check_shape("A", A, shape)


# ---------------------------------------------------------------- losses
def check_output_delta(A, Y, n_terms):
    """``Y`` of ``A``'s shape and ``n_terms`` a real number, > 0 when ``A`` has values
    (an empty batch divides no value). Returns ``n_terms`` as a float; raises
    ``ValueError`` or ``TypeError``."""
    if np.shape(Y) != np.shape(A):
        raise ValueError(f"Y: expected the shape of A, {np.shape(A)}, got {np.shape(Y)}")
    n = check_real("n_terms", n_terms)
    if not n > 0 and np.size(A):
        raise ValueError(f"n_terms: expected a positive number of loss terms, got {n_terms!r}")
    return n


def check_sample_weights(weights, A):
    """The weighted losses' ``weights``: one per row of ``A`` (shape ``(m,)``), each finite
    and >= 0 (a negative weight would reward a wrong answer). Raises ``ValueError``
    naming the first bad row."""
    check_shape("weights", weights, np.shape(A)[:1])
    w = np.asarray(weights)
    bad = ~(np.isfinite(w) & (w >= 0))
    if bad.any():
        row = int(np.argmax(bad))
        raise ValueError(f"weights: expected finite numbers >= 0, got {float(w[row])!r} at row {row}")


# ---------------------------------------------------------------- regularization
def check_penalty_args(l1, l2, m):
    """The penalty's strengths ``l1``, ``l2`` (finite) and batch size ``m`` (finite, > 0:
    the penalty divides by it). Returns the three as Python floats."""
    l1, l2, m = check_finite("l1", l1), check_finite("l2", l2), check_finite("m", m)
    if m <= 0:
        raise ValueError(f"m: expected a positive number of samples, got {m!r}")
    return l1, l2, m


def check_keep_prob(keep_prob):
    """Dropout's keep probability ``p``: a finite real number (not a bool) in (0, 1].
    ``p = 0`` would divide by 0 and ``p > 1`` would scale the kept units down.
    Returns it as a Python float; raises ``TypeError`` or ``ValueError``."""
    p = check_finite("keep_prob", keep_prob)
    if not 0.0 < p <= 1.0:
        raise ValueError(f"keep_prob: expected a probability in (0, 1], got {p!r}")
    return p


def check_dropout(A, mask, keep_prob):
    """Dropout's arguments: ``mask`` of ``A``'s shape and :func:`check_keep_prob`.
    Returns ``keep_prob`` as a float."""
    check_shape("mask", mask, np.shape(A))
    return check_keep_prob(keep_prob)


def check_batchnorm(eps, matrices, vectors):
    """Batch norm's arguments: ``matrices`` (a dict, name -> array, the first setting
    ``(m, n)``) 2-D of that shape, ``vectors`` 1-D of shape ``(n,)``, ``eps`` finite.
    Returns ``eps`` as a float."""
    for name, a in matrices.items():
        check_ndim(name, a, 2)
    for name, a in vectors.items():
        check_ndim(name, a, 1)
    shape = np.shape(next(iter(matrices.values())))
    for name, a in list(matrices.items())[1:]:
        check_shape(name, a, shape)
    for name, a in vectors.items():
        check_shape(name, a, shape[1:])
    return check_finite("eps", eps)


# ---------------------------------------------------------------- optimizer steps
def check_step(grad, state, **numbers_):
    """An optimizer step's arrays and numbers: each array of ``state`` (a dict, name ->
    array: ``param`` first, then the optimizer's state) of ``grad``'s shape and dtype,
    writable, and sharing no memory with another one of them (each is updated in place:
    a velocity that *is* the parameter would be scaled by both updates), nor, for the
    state, with ``grad`` (``param`` may: ``sgd_step(p, p, lr)`` reads ``p`` before writing
    it); each of ``numbers_`` finite. Returns the numbers as Python floats, in order.
    Raises ``ValueError`` or ``TypeError``."""
    shape, dtype = np.shape(grad), getattr(grad, "dtype", None)
    names = list(state)
    for i, name in enumerate(names):
        a = state[name]
        if getattr(a, "dtype", dtype) != dtype:
            raise TypeError(f"{name}: expected dtype {dtype} like grad, got {a.dtype}")
        check_shape(name, a, shape)
        if isinstance(a, np.ndarray) and not a.flags.writeable:
            raise ValueError(f"{name}: expected a writable array (updated in place), "
                             "got a read-only one")
        for other in names[:i]:
            if np.shares_memory(a, state[other]):
                raise ValueError(f"{name}: must not share memory with {other} "
                                 "(both are updated in place)")
        if i > 0 and np.shares_memory(a, grad):
            raise ValueError(f"{name}: must not share memory with grad (it is updated in place)")
    return [check_finite(name, x) for name, x in numbers_.items()]


# ---------------------------------------------------------------- the fused training step
def check_layers(weights, biases, activations, loss):
    """``sgd_train_step``'s model: lists (or tuples) of weights and biases, one weight, bias
    and activation per layer and at least one layer, and a known ``loss``."""
    if not isinstance(weights, (list, tuple)) or not isinstance(biases, (list, tuple)):
        raise TypeError("weights, biases: expected lists of arrays, got "
                        f"{type(weights).__name__}, {type(biases).__name__}")
    if not len(weights) or len(biases) != len(weights) or len(activations) != len(weights):
        raise ValueError(f"weights, biases, activations: expected one of each per layer and 1 or more "
                         f"layers, got {len(weights)}, {len(biases)}, {len(activations)}")
    if loss not in LOSSES:
        raise ValueError(f"loss: expected one of {', '.join(LOSSES)}, got {loss!r}")


def check_batch(X, Y, weights):
    """``sgd_train_step``'s data: ``X`` ``(m, n_in)`` and ``Y`` ``(m, n_out)`` for the
    layers' ``weights`` (:func:`check_like_weights` first)."""
    check_like_weights("X", X, weights[0])
    check_like_weights("Y", Y, weights[0])
    check_ndim("X", X, 2)
    m = np.shape(X)[0]
    check_shape("X", X, (m, np.shape(weights[0])[1]))
    check_ndim("Y", Y, 2)
    check_shape("Y", Y, (m, np.shape(weights[-1])[0]))


def check_like_weights(name, a, W):
    """A training step's ``X`` or ``Y`` in a floating dtype other than the weights' ``W``
    (float32 data for a float64 model) is refused: the step would run in a mix of
    precisions. Raises ``TypeError`` naming ``name``, not the weights."""
    dtype = getattr(a, "dtype", None)
    if dtype is not None and dtype.kind == "f" and dtype != getattr(W, "dtype", dtype):
        raise TypeError(f"{name}: expected dtype {W.dtype} like the weights, got {dtype}")
