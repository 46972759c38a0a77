"""The ``c`` backend: the heavy kernels in C (``kernels/``), called through cffi.

Kernels that run in C (float64 and float32):

* ``matmul`` (A·B, Aᵀ·B, A·Bᵀ, no transposed copies), on the fastest rung of the
  ladder this CPU has (``variant="auto"``: the packed AVX2/FMA kernel, else the
  cache-blocked portable one);
* ``linear_forward`` and the fused ``dense_forward`` (Z = X Wᵀ + b and A = f(Z) in one call);
* ``activation_forward``, ``activation_backward``, ``softmax``;
* ``linear_backward`` (dX, dW, db in one call);
* ``output_delta``, ``loss_value`` and ``loss_gradient``;
* regularization: ``penalty``, ``penalty_gradient``, ``dropout_forward``,
  ``dropout_backward``;
* batch norm: ``batchnorm_forward``, ``batchnorm_inference``, ``batchnorm_backward``;
* the optimizer steps, in place: ``sgd_step``, ``momentum_step``, ``rmsprop_step``,
  ``adam_step`` (AdamW's decoupled decay included). Each element follows the numpy
  backend's order of operations, with constants such as ``1 - beta`` and Adam's bias
  corrections ``1 - beta**t`` formed in Python (double) as NumPy's code forms them, so
  on x86-64 the results agree with numpy bit for bit;
* ``sgd_train_step``: forward, loss, backward and SGD update of a whole MLP in *one*
  C call, with its workspace cached between steps.

Nothing is inherited from :class:`~pyneuron.backends.numpy_backend.NumpyBackend`'s
arithmetic except two corner cases: ``loss_value``/``loss_gradient`` of a 0-d array.
``dense_backward`` and ``output_gradient`` keep the base class's composition, which
calls the C kernels above. ``penalty`` sums in double for both precisions and rounds the result
to W's precision (numpy sums float32 in float32, pairwise), so it agrees to rounding,
not bit for bit.

Optimizer steps: ``param`` and the state arrays must be writable, C-contiguous, of
``grad``'s dtype and shape (any shape: they are treated as flat), and must not share
memory with each other or (state) with ``grad``; a ``grad`` that *is* ``param`` is
copied first, as NumPy's temporaries would. Scalars (``lr``, ``beta``, ``eps``, ...)
must be finite real numbers, Adam's ``t`` an integer >= 1, dropout's ``keep_prob`` in
(0, 1], the penalty's ``m`` positive; they are used as Python floats (a float32
computation rounds them to float32, as NumPy does with a Python float).

C never allocates: every output and workspace is a NumPy array made here. Before every
C call the arguments are checked (type, dtype float32/float64 and the same for all,
C-contiguity, alignment, shape, writable outputs, outputs not sharing memory with
inputs); a violation raises ``TypeError``/``ValueError`` naming the argument. NaN and
inf propagate exactly as in the numpy backend, except that a training step refuses
non-finite ``X`` or ``Y`` (it would silently turn every weight into NaN).

Module-level helpers: :func:`matmul` (pick a rung of the ladder, optional ``out=``),
:func:`simd_available` and :func:`simd_level` (which SIMD code runs), :func:`threads` and
:func:`set_threads` (the threads rung: big packed products split over OpenMP threads).
"""
from __future__ import annotations

import numbers

import numpy as np

from .base import check_targets
from .kernel_checks import (check_activation_backward, check_batchnorm, check_dropout, check_linear_backward,
                            check_linear_forward, check_matmul, check_output_delta, check_penalty_args,
                            check_softmax_input, check_softmax_outputs)
from .c_checks import (_ACT_CODES, _LOSS_CODES, _MAX_LAYERS, _STEP_ERRORS, _TYPED,  # noqa: F401
                       VARIANTS, _activation, _array, _arrays, _finite, _in_place, _like_weights, _local,
                       _ok, _output, _real, _shape, _step_count, _StepPlan, _workspace, ffi, lib)
from .numpy_backend import NumpyBackend
from .slope_name import DEFAULT_NEGATIVE_SLOPE, old_slope_keyword

__all__ = ["CBackend", "matmul", "simd_available", "simd_level", "threads", "set_threads",
           "openmp_available", "VARIANTS"]

#: What each SIMD level of the C code means (``pyn_simd_available`` / ``simd_level``).
SIMD_LEVELS = {0: "portable", 1: "avx2", 2: "avx512"}
NARROW_MAX = 16


def simd_available() -> bool:
    """True if this CPU has AVX2 + FMA, so the ``simd`` rung (and the fast paths) can run."""
    return bool(lib.pyn_simd_available())


def threads() -> int:
    """Threads a big matrix product uses (the threads rung; 1 for small ones, and always
    1 where the build has no OpenMP). Starts from ``PYNEURON_THREADS`` or
    ``OMP_NUM_THREADS``, else 1."""
    return int(lib.pyn_get_threads())


def set_threads(n) -> int:
    """Use ``n`` threads (an int >= 1) for big matrix products; returns the count in
    effect, which is 1 where the C build has no OpenMP. Results do not depend on it: each
    element is summed by one thread in one order. Raises ``TypeError``/``ValueError``."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"n: expected an integer number of threads, got {type(n).__name__}")
    if not 1 <= n <= 1024:
        raise ValueError(f"n: expected 1 to 1024 threads, got {n}")
    return int(lib.pyn_set_threads(int(n)))


def openmp_available() -> bool:
    """Was the C code built with OpenMP (so the threads rung can run)?"""
    return bool(lib.pyn_openmp_available())


def simd_level(available=False) -> str:
    """The SIMD code the C kernels run now (``"avx512"``, ``"avx2"`` or ``"portable"``),
    or with ``available=True`` the best this CPU offers. Chosen at run time, per CPU."""
    return SIMD_LEVELS[lib.pyn_simd_available() if available else lib.pyn_simd_enabled()]


# ---------------------------------------------------------------- the matmul ladder
def matmul(A, B, variant="auto", trans_a=False, trans_b=False, out=None):
    r"""``C = op(A) op(B)`` in C, on one rung of the ladder.

    .. math:: C_{ij} = \sum_k \operatorname{op}(A)_{ik}\operatorname{op}(B)_{kj}

    ``variant``: ``"naive"`` (i-j-k), ``"reorder"`` (i-k-j), ``"blocked"`` (cache
    blocking), ``"simd"`` (packed, register-tiled AVX2/FMA; raises ``RuntimeError`` on a
    CPU without it), ``"avx512"`` (the same packing, an AVX-512 micro-kernel; raises
    ``RuntimeError`` without AVX-512F), ``"small"`` (rung 7: AVX-512 reading ``A`` and ``B``
    in place, no packing, for products that fit in cache; any shape, bit for bit avx512's
    result; ``RuntimeError`` without AVX-512F), ``"narrow"`` (AVX2/FMA without packing A, for
    ``N <= 16`` columns; ``ValueError`` for wider products) or ``"auto"`` (narrow for
    ``N <= 16``; else, where the CPU has AVX-512F, small when ``K <= 256`` and
    ``K * N <= 32768`` -- unless ``threads() > 1`` and ``M * N * K >= 2**21``, which take the
    threads rung -- and avx512 for the rest; else simd where it has AVX2, else blocked). With
    ``trans_a`` ``A`` is read as ``Aᵀ``, with ``trans_b`` ``B`` as ``Bᵀ`` -- no copy.
    ``out``, if given, receives the result (it must not overlap ``A`` or ``B``).
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant: expected one of {', '.join(VARIANTS)}, got {variant!r}")
    t = _arrays(A=(A, 2), B=(B, 2))
    check_matmul(A, B, trans_a, trans_b)
    M, K = A.shape[::-1] if trans_a else A.shape
    N = B.shape[0] if trans_b else B.shape[1]
    if out is None:
        out = np.empty((M, N), t.dtype)
    else:
        _output("out", out, t, (M, N), {"A": A, "B": B})
    fn = t.ladder[variant]
    if variant == "narrow" and N > NARROW_MAX:
        raise ValueError(f"variant 'narrow': serves products of at most {NARROW_MAX} columns, "
                         f"got {N}; use 'auto'")
    if variant in ("avx512", "small") and lib.pyn_simd_available() < lib.PYN_SIMD_AVX512:
        raise RuntimeError(f"variant {variant!r}: this CPU lacks AVX-512F; use 'auto' or 'simd'")
    if variant in ("simd", "avx512", "small", "narrow", "auto"):
        if variant != "auto" and not simd_available():
            raise RuntimeError(f"variant {variant!r}: this CPU lacks AVX2+FMA; use 'auto' or 'blocked'")
        ws, n = _workspace(t, t.matmul_workspace(M, N, K))
        _ok(fn(M, N, K, t.ptr(A), bool(trans_a), t.ptr(B), bool(trans_b), t.ptr(out), ws, n))
    else:
        fn(M, N, K, t.ptr(A), bool(trans_a), t.ptr(B), bool(trans_b), t.ptr(out))
    return out


class CBackend(NumpyBackend):
    __doc__ = __doc__
    name = "c"
    dtypes = (np.float64, np.float32)

    # ------------------------------------------------------------ linear algebra
    def matmul(self, A, B, trans_a=False, trans_b=False):
        return matmul(A, B, "auto", trans_a, trans_b)

    def _dense(self, X, W, b, act, negative_slope):
        t = _arrays(X=(X, 2), W=(W, 2), b=(b, 1))
        check_linear_forward(X, W, b)
        m, n_in = X.shape
        n_out = W.shape[0]
        if act == _ACT_CODES["softmax"]:
            check_softmax_outputs(W)
        Z = np.empty((m, n_out), t.dtype)
        A = np.empty((m, n_out), t.dtype) if act >= 0 else None
        ws, n = _workspace(t, t.dense_workspace(m, n_in, n_out))
        _ok(t.dense_forward(m, n_in, n_out, t.ptr(X), t.ptr(W), t.ptr(b), act,
                            _real("negative_slope", negative_slope), t.ptr(Z),
                            ffi.NULL if A is None else t.ptr(A), ws, n))
        return Z, A

    def linear_forward(self, X, W, b):
        return self._dense(X, W, b, -1, 0.0)[0]

    def dense_forward(self, X, W, b, activation, negative_slope=DEFAULT_NEGATIVE_SLOPE, *, alpha=None):
        if alpha is not None:       # the slope's old name, deprecated (see slope_name)
            negative_slope = old_slope_keyword(f"{type(self).__name__}.dense_forward", negative_slope, alpha)
        return self._dense(X, W, b, _activation(activation), negative_slope)

    def linear_backward(self, dZ, X, W):
        t = _arrays(dZ=(dZ, 2), X=(X, 2), W=(W, 2))
        check_linear_backward(dZ, X, W)
        m, n_out = dZ.shape
        n_in = X.shape[1]
        dX = np.empty((m, n_in), t.dtype)
        dW = np.empty((n_out, n_in), t.dtype)
        db = np.empty(n_out, t.dtype)
        ws, n = _workspace(t, t.dense_workspace(m, n_in, n_out))
        _ok(t.linear_backward(m, n_in, n_out, t.ptr(dZ), t.ptr(X), t.ptr(W), t.ptr(dX),
                              t.ptr(dW), t.ptr(db), ws, n))
        return dX, dW, db

    # ------------------------------------------------------------ activations
    def activation_forward(self, name, Z, negative_slope=DEFAULT_NEGATIVE_SLOPE, *, alpha=None):
        if alpha is not None:       # the slope's old name, deprecated (see slope_name)
            negative_slope = old_slope_keyword(f"{type(self).__name__}.activation_forward", negative_slope, alpha)
        act = _activation(name)
        if act == _ACT_CODES["softmax"]:
            return self.softmax(Z)
        t = _array("Z", Z)
        A = np.empty_like(Z)
        t.activation_forward(1, Z.size, act, _real("negative_slope", negative_slope), t.ptr(Z), t.ptr(A))
        return A

    def softmax(self, Z):
        t = _array("Z", Z)
        check_softmax_input(Z)
        A = np.empty_like(Z)
        t.activation_forward(Z.shape[0], Z.shape[1], _ACT_CODES["softmax"], 0.0, t.ptr(Z),
                             t.ptr(A))
        return A

    def activation_backward(self, name, dA, Z, A, negative_slope=DEFAULT_NEGATIVE_SLOPE, *, alpha=None):
        if alpha is not None:       # the slope's old name, deprecated (see slope_name)
            negative_slope = old_slope_keyword(f"{type(self).__name__}.activation_backward", negative_slope, alpha)
        act = _activation(name)
        t = _arrays(dA=(dA, None), Z=(Z, None), A=(A, None))
        check_activation_backward(name, dA, Z, A)
        dZ = np.empty_like(dA)
        m, n = (dA.shape if act == _ACT_CODES["softmax"] else (1, dA.size))
        t.activation_backward(m, n, act, _real("negative_slope", negative_slope), t.ptr(dA), t.ptr(Z), t.ptr(A),
                              t.ptr(dZ))
        return dZ

    # ------------------------------------------------------------ losses
    def output_delta(self, A, Y, n_terms):
        t = _arrays(A=(A, None), Y=(Y, None))
        n_terms = check_output_delta(A, Y, n_terms)
        dZ = np.empty_like(A)
        t.output_delta(A.size, t.ptr(A), t.ptr(Y), n_terms, t.ptr(dZ))
        return dZ

    def loss_value(self, loss, A, Y):
        if loss not in _LOSS_CODES:
            raise ValueError(f"loss: unknown name {loss!r}")
        t = _arrays(A=(A, None), Y=(Y, None))
        check_targets(Y, A)
        if A.ndim == 0 or A.size == 0:
            return super().loss_value(loss, A, Y)
        m = A.shape[0]
        return t.loss_value(m, A.size // m, _LOSS_CODES[loss], t.ptr(A), t.ptr(Y))

    def loss_gradient(self, loss, A, Y):
        if loss not in _LOSS_CODES:
            raise ValueError(f"loss: unknown name {loss!r}")
        t = _arrays(A=(A, None), Y=(Y, None))
        check_targets(Y, A)
        if A.ndim == 0:
            return super().loss_gradient(loss, A, Y)
        dA = np.empty_like(A)
        m = A.shape[0]
        if A.size:
            t.loss_gradient(m, A.size // m, _LOSS_CODES[loss], t.ptr(A), t.ptr(Y), t.ptr(dA))
        return dA

    # ------------------------------------------------------------ regularization
    def penalty(self, W, l1, l2, m):
        t = _array("W", W)
        l1, l2, m = check_penalty_args(l1, l2, m)
        # summed in double; the result rounded to W's precision, as numpy's would be
        return float(t.dtype.type(t.penalty(W.size, t.ptr(W), l2 / (2.0 * m), l1 / m)))

    def penalty_gradient(self, W, l1, l2, m):
        t = _array("W", W)
        l1, l2, m = check_penalty_args(l1, l2, m)
        out = np.empty_like(W)
        t.penalty_gradient(W.size, t.ptr(W), l2 / m, l1 / m, t.ptr(out))
        return out

    def _dropout(self, A, mask, keep_prob, a_name):
        t = _arrays(**{a_name: (A, None), "mask": (mask, None)})
        keep_prob = check_dropout(A, mask, keep_prob)
        out = np.empty_like(A)
        t.dropout(A.size, t.ptr(A), t.ptr(mask), keep_prob, t.ptr(out))
        return out

    def dropout_forward(self, A, mask, keep_prob):
        return self._dropout(A, mask, keep_prob, "A")

    def dropout_backward(self, dA, mask, keep_prob):
        return self._dropout(dA, mask, keep_prob, "dA")

    # ------------------------------------------------------------ batch normalization
    def batchnorm_forward(self, Z, gamma, beta, eps):
        t = _arrays(Z=(Z, 2), gamma=(gamma, 1), beta=(beta, 1))
        eps = check_batchnorm(eps, {"Z": Z}, {"gamma": gamma, "beta": beta})
        m, n = Z.shape
        Y, Zhat = np.empty_like(Z), np.empty_like(Z)
        mean, var = np.empty(n, t.dtype), np.empty(n, t.dtype)
        ws, wn = _workspace(t, n)
        _ok(t.batchnorm_forward(m, n, t.ptr(Z), t.ptr(gamma), t.ptr(beta), eps, t.ptr(Y),
                                t.ptr(Zhat), t.ptr(mean), t.ptr(var), ws, wn))
        return Y, Zhat, mean, var

    def batchnorm_inference(self, Z, gamma, beta, running_mean, running_var, eps):
        t = _arrays(Z=(Z, 2), gamma=(gamma, 1), beta=(beta, 1),
                    running_mean=(running_mean, 1), running_var=(running_var, 1))
        eps = check_batchnorm(eps, {"Z": Z}, {"gamma": gamma, "beta": beta, "running_mean": running_mean,
                                              "running_var": running_var})
        m, n = Z.shape
        Y = np.empty_like(Z)
        ws, wn = _workspace(t, n)
        _ok(t.batchnorm_inference(m, n, t.ptr(Z), t.ptr(gamma), t.ptr(beta),
                                  t.ptr(running_mean), t.ptr(running_var), eps, t.ptr(Y),
                                  ws, wn))
        return Y

    def batchnorm_backward(self, dY, Zhat, gamma, var, eps):
        t = _arrays(dY=(dY, 2), Zhat=(Zhat, 2), gamma=(gamma, 1), var=(var, 1))
        eps = check_batchnorm(eps, {"dY": dY, "Zhat": Zhat}, {"gamma": gamma, "var": var})
        m, n = dY.shape
        dZ = np.empty_like(dY)
        dgamma, dbeta = np.empty(n, t.dtype), np.empty(n, t.dtype)
        ws, wn = _workspace(t, n)
        _ok(t.batchnorm_backward(m, n, t.ptr(dY), t.ptr(Zhat), t.ptr(gamma), t.ptr(var), eps,
                                 t.ptr(dZ), t.ptr(dgamma), t.ptr(dbeta), ws, wn))
        return dZ, dgamma, dbeta

    # ------------------------------------------------------------ optimizer steps, in place
    def sgd_step(self, param, grad, lr):
        t, grad = _in_place(grad, param=param)
        t.sgd_step(grad.size, t.ptr(param), t.ptr(grad), _finite("lr", lr))

    def momentum_step(self, param, grad, velocity, lr, beta, dampening, nesterov):
        t, grad = _in_place(grad, param=param, velocity=velocity)
        lr, beta = _finite("lr", lr), _finite("beta", beta)
        dampening = _finite("dampening", dampening)
        t.momentum_step(grad.size, t.ptr(param), t.ptr(grad), t.ptr(velocity), lr, beta,
                        1.0 - dampening, bool(nesterov))

    def rmsprop_step(self, param, grad, square_avg, lr, rho, eps):
        t, grad = _in_place(grad, param=param, square_avg=square_avg)
        lr, rho, eps = _finite("lr", lr), _finite("rho", rho), _finite("eps", eps)
        t.rmsprop_step(grad.size, t.ptr(param), t.ptr(grad), t.ptr(square_avg), lr, rho,
                       1.0 - rho, eps)

    def adam_step(self, param, grad, m, v, lr, beta1, beta2, eps, t, weight_decay=0.0):
        typed, grad = _in_place(grad, param=param, m=m, v=v)
        lr, eps = _finite("lr", lr), _finite("eps", eps)
        beta1, beta2 = _finite("beta1", beta1), _finite("beta2", beta2)
        weight_decay = _finite("weight_decay", weight_decay)
        t = _step_count(t)
        # the bias corrections and constants, formed in double exactly as NumPy's code does
        bc1, bc2 = 1.0 - beta1 ** t, 1.0 - beta2 ** t
        typed.adam_step(grad.size, typed.ptr(param), typed.ptr(grad), typed.ptr(m),
                        typed.ptr(v), lr, beta1, 1.0 - beta1, beta2, 1.0 - beta2, eps, bc1, bc2,
                        bool(weight_decay), 1.0 - lr * weight_decay)

    # ------------------------------------------------------------ the fused training step
    def sgd_train_step(self, X, Y, weights, biases, activations, loss, lr,
                       negative_slope=DEFAULT_NEGATIVE_SLOPE, *, alpha=None):
        """One SGD step of a whole MLP in one C call (see ``Backend.sgd_train_step``).

        The checked parameters, their C pointers and the workspace are cached per thread
        (keyed by the identity of the first weight array), so a training loop pays only for
        checking ``X`` and ``Y`` on each step. Raises ``ValueError`` if ``X`` or ``Y``
        holds NaN/inf or shares memory with a parameter.
        """
        if alpha is not None:       # the slope's old name, deprecated (see slope_name)
            negative_slope = old_slope_keyword(f"{type(self).__name__}.sgd_train_step", negative_slope, alpha)
        try:
            plan = _local.plans[id(weights[0])]
        except (AttributeError, KeyError, IndexError, TypeError):
            plan = None
        if plan is None or not plan.matches(weights, biases, activations, loss):
            plan = self._new_plan(weights, biases, activations, loss)
        t = plan.t
        if not (type(X) is np.ndarray and X.dtype is t.dtype and X.ndim == 2
                and X.shape[1] == plan.n_in and X.flags.c_contiguous and X.flags.aligned):
            _like_weights("X", X, t)
            _shape("X", X, (X.shape[0], plan.n_in))
        m = X.shape[0]
        if not (type(Y) is np.ndarray and Y.dtype is t.dtype and Y.shape == (m, plan.n_out)
                and Y.flags.c_contiguous and Y.flags.aligned):
            _like_weights("Y", Y, t)
            _shape("Y", Y, (m, plan.n_out))
        if type(lr) is not float:
            lr = _real("lr", lr)
        if type(negative_slope) is not float:
            negative_slope = _real("negative_slope", negative_slope)
        if m > plan.m_cap:
            plan.grow(m)
        err = t.train_step(plan.L, plan.c_sizes, m, t.ptr(X), t.ptr(Y), plan.c_W, plan.c_b, plan.c_acts,
                           plan.loss_code, lr, negative_slope, plan.work, plan.work_len, plan.c_loss)
        if err:
            exc, msg = _STEP_ERRORS.get(err, (RuntimeError, f"internal error code {err}"))
            raise exc(msg)
        return plan.c_loss[0]

    @staticmethod
    def _new_plan(weights, biases, activations, loss):
        plans = getattr(_local, "plans", None)
        if plans is None:
            plans = _local.plans = {}
        plan = _StepPlan(weights, biases, activations, loss)
        if len(plans) >= 8:
            plans.clear()
        plans[id(weights[0])] = plan
        return plan

    # ------------------------------------------------------------ fit's training plan
    def train_plan(self, model, optimizer, l1=0.0, l2=0.0, clip_value=None, clip_norm=None,
                   track_accuracy=False, **extras):
        """The fused plan (:class:`~pyneuron.backends.c_plan.CTrainPlan`: one C call per
        epoch, or per step with per-batch callbacks) for every optimizer C knows; the
        per-operation plan otherwise (e.g. an optimizer subclass with its own update). Weighted
        samples (the ``sample_weight`` extra, see :meth:`Backend.train_plan`) run fused too.
        Every :class:`~pyneuron.penalties.Penalty` runs fused (per-parameter strengths,
        the ``"sum"`` scaling)."""
        from ..training_plan import plan_extras
        from .c_plan import CTrainPlan, supports
        penalty, sample_weight = plan_extras(**extras)
        if supports(model, optimizer):
            return CTrainPlan(self, model, optimizer, l1, l2, clip_value, clip_norm, track_accuracy,
                              penalty=penalty, sample_weight=sample_weight)
        return super().train_plan(model, optimizer, l1, l2, clip_value, clip_norm, track_accuracy, **extras)
