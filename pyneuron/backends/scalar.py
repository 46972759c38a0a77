"""The ``scalar`` backend: every kernel as plain Python loops over floats.

This is the textbook. Each kernel reads its NumPy inputs into Python lists
at the door (``.tolist()``), computes one number at a time exactly as the
equation in :mod:`pyneuron.backends.base` says, and hands the result back as
a NumPy array. Step into any function with a debugger and every line is one
term of the equation. It is slow on purpose; the other backends are held to
it by the differential tests.
"""
from __future__ import annotations

import math

import numpy as np

from .base import PROB_EPS, Backend, check_loss_inputs, check_targets
from .kernel_checks import (check_activation_backward, check_activation_name, check_batchnorm, check_dropout,
                            check_linear_backward, check_linear_forward, check_matmul, check_output_delta,
                            check_penalty_args, check_shape, check_softmax_input, check_step, check_step_count)
from .slope_name import DEFAULT_NEGATIVE_SLOPE, old_slope_keyword


def _out(rows, like):
    """Pack a list (of lists) of floats back into an array shaped and typed like ``like``."""
    return np.array(rows, dtype=like.dtype).reshape(like.shape)


def _in_place(target, rows):
    """Write computed floats back into the caller's array (optimizer steps)."""
    target[...] = np.array(rows, dtype=target.dtype).reshape(target.shape)


def _flat(a):
    return a.reshape(-1).tolist()


# ---------------------------------------------------------------- one-number functions
def sigmoid(z):
    """σ(z) = 1 / (1 + e^(-z)), in a form that never overflows."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)  # z < 0, so e^z is small: no overflow
    return e / (1.0 + e)


def activate(name, z, negative_slope):
    """Apply one element-wise activation to one number ``z`` (``negative_slope``: leaky
    ReLU's slope for z <= 0)."""
    if name == "sigmoid":
        return sigmoid(z)
    if name == "tanh":
        return math.tanh(z)
    if name == "relu":
        return z if z > 0 else 0.0
    if name == "leaky_relu":
        return z if z > 0 else negative_slope * z
    if name == "linear":
        return z
    raise ValueError(f"activation: unknown name {name!r}")


def derivative(name, z, a, negative_slope):
    """f'(z) for one number, using the already computed output ``a`` where it is simpler."""
    if name == "sigmoid":
        return a * (1.0 - a)
    if name == "tanh":
        return 1.0 - a * a
    if name == "relu":
        return 1.0 if z > 0 else 0.0
    if name == "leaky_relu":
        return 1.0 if z > 0 else negative_slope
    if name == "linear":
        return 1.0
    raise ValueError(f"activation: unknown name {name!r}")


def clip_probability(p):
    """Keep a probability inside [ε, 1-ε] so that log(p) is finite."""
    return min(max(p, PROB_EPS), 1.0 - PROB_EPS)


class ScalarBackend(Backend):
    """The kernels of :class:`~pyneuron.backends.base.Backend` as plain Python loops over
    floats, one neuron and one weight at a time: the textbook to step through (float64)."""

    name = "scalar"
    dtypes = (np.float64,)

    # ------------------------------------------------------------ linear algebra
    def matmul(self, A, B, trans_a=False, trans_b=False):
        check_matmul(A, B, trans_a, trans_b)
        a, b = A.tolist(), B.tolist()
        n_rows = A.shape[1] if trans_a else A.shape[0]
        n_inner = A.shape[0] if trans_a else A.shape[1]
        n_cols = B.shape[0] if trans_b else B.shape[1]
        C = []
        for i in range(n_rows):
            row = []
            for j in range(n_cols):
                total = 0.0
                for k in range(n_inner):
                    a_ik = a[k][i] if trans_a else a[i][k]
                    b_kj = b[j][k] if trans_b else b[k][j]
                    total += a_ik * b_kj
                row.append(total)
            C.append(row)
        return np.array(C, dtype=A.dtype).reshape(n_rows, n_cols)

    def linear_forward(self, X, W, b):
        check_linear_forward(X, W, b)
        x, w, bias = X.tolist(), W.tolist(), b.tolist()
        Z = []
        for sample in x:                      # one sample at a time
            z_row = []
            for i in range(len(w)):           # neuron i of this layer
                z = bias[i]
                for j in range(len(sample)):  # each incoming weight
                    z += w[i][j] * sample[j]
                z_row.append(z)
            Z.append(z_row)
        return np.array(Z, dtype=X.dtype).reshape(X.shape[0], W.shape[0])

    def linear_backward(self, dZ, X, W):
        check_linear_backward(dZ, X, W)
        dz, x, w = dZ.tolist(), X.tolist(), W.tolist()
        m, n_out, n_in = len(dz), len(w), X.shape[1]
        # dX[s][j] = sum_i dZ[s][i] * W[i][j]: how each input moved the loss
        dX = [[0.0] * n_in for _ in range(m)]
        for s in range(m):
            for j in range(n_in):
                for i in range(n_out):
                    dX[s][j] += dz[s][i] * w[i][j]
        # dW[i][j] = sum_s dZ[s][i] * X[s][j]: summed over the batch
        dW = [[0.0] * n_in for _ in range(n_out)]
        for i in range(n_out):
            for j in range(n_in):
                for s in range(m):
                    dW[i][j] += dz[s][i] * x[s][j]
        # db[i] = sum_s dZ[s][i]
        db = [0.0] * n_out
        for i in range(n_out):
            for s in range(m):
                db[i] += dz[s][i]
        return (np.array(dX, dtype=X.dtype).reshape(X.shape),
                np.array(dW, dtype=W.dtype).reshape(W.shape),
                np.array(db, dtype=W.dtype).reshape(n_out))

    # ------------------------------------------------------------ activations
    def activation_forward(self, name, Z, negative_slope=DEFAULT_NEGATIVE_SLOPE, *, alpha=None):
        if alpha is not None:       # the slope's old name, deprecated (see slope_name)
            negative_slope = old_slope_keyword(f"{type(self).__name__}.activation_forward", negative_slope, alpha)
        check_activation_name(name)
        if name == "softmax":
            return self.softmax(Z)
        # element-wise: any shape, one number at a time
        return _out([activate(name, z, negative_slope) for z in _flat(Z)], Z)

    def activation_backward(self, name, dA, Z, A, negative_slope=DEFAULT_NEGATIVE_SLOPE, *, alpha=None):
        if alpha is not None:       # the slope's old name, deprecated (see slope_name)
            negative_slope = old_slope_keyword(f"{type(self).__name__}.activation_backward", negative_slope, alpha)
        check_activation_backward(name, dA, Z, A)
        if name != "softmax":
            # element-wise: dz = da * f'(z), any shape, one number at a time
            dZ = [d * derivative(name, z, a, negative_slope) for d, z, a in zip(_flat(dA), _flat(Z), _flat(A))]
            return _out(dZ, dA)
        da, a = dA.tolist(), A.tolist()
        dZ = []
        for s in range(len(da)):
            # dz_i = a_i * (da_i - sum_k da_k a_k): the softmax Jacobian times da, row by row
            weighted = 0.0
            for k in range(len(da[s])):
                weighted += da[s][k] * a[s][k]
            dZ.append([a[s][i] * (da[s][i] - weighted) for i in range(len(da[s]))])
        return _out(dZ, dA)

    def softmax(self, Z):
        check_softmax_input(Z)
        rows = []
        for z in Z.tolist():
            top = max(z)                        # subtract this row's max: e^(z-top) <= 1
            exps = [math.exp(v - top) for v in z]
            total = 0.0
            for e in exps:
                total += e
            rows.append([e / total for e in exps])
        return _out(rows, Z)

    # ------------------------------------------------------------ losses
    def loss_value(self, loss, A, Y):
        check_loss_inputs(Y, A)
        a, y = _flat(A), _flat(Y)
        total = 0.0
        for a_k, y_k in zip(a, y):
            if loss == "mse":
                diff = a_k - y_k
                total += diff * diff
            elif loss == "bce":
                p = clip_probability(a_k)
                total += -(y_k * math.log(p) + (1.0 - y_k) * math.log(1.0 - p))
            elif loss == "cce":
                total += -y_k * math.log(clip_probability(a_k))
            else:
                raise ValueError(f"loss: unknown name {loss!r}")
        n_terms = A.shape[0] if loss == "cce" else A.size
        return total / n_terms

    def loss_from_logits(self, loss, Z, Y):
        check_loss_inputs(Y, Z, "Z")
        z_rows, y_rows = Z.tolist(), Y.tolist()       # Python floats: float64 arithmetic
        total = 0.0
        for z, y in zip(z_rows, y_rows):              # one sample (row) at a time
            if loss == "bce":
                for z_k, y_k in zip(z, y):
                    # softplus(z) − y z with softplus(z) = max(z, 0) + log(1 + e^(−|z|)):
                    # e^(−|z|) <= 1 never overflows, and max(z, 0) − y z (exactly 0 for
                    # a right answer) is taken first so the small log term is not lost
                    total += (max(z_k, 0.0) - y_k * z_k) + math.log1p(math.exp(-abs(z_k)))
            elif loss == "cce":
                # logsumexp(z) = top + log(1 + sum of e^(z_k − top) over the others),
                # top = the row's largest logit (its own term is e^0 = 1)
                top_index = z.index(max(z))
                top = z[top_index]
                others = 0.0
                for k, z_k in enumerate(z):
                    if k != top_index:
                        others += math.exp(z_k - top)
                label_logit = 0.0
                for z_k, y_k in zip(z, y):
                    label_logit += y_k * z_k
                # logsumexp − z_label = (top − z_label) + log1p(others): the first part
                # is exactly 0 when the label has the largest logit
                total += (top - label_logit) + math.log1p(others)
            else:
                raise ValueError(f"loss: loss_from_logits computes 'bce' or 'cce', got {loss!r}")
        n_terms = Z.shape[0] if loss == "cce" else Z.size
        return total / n_terms

    def loss_gradient(self, loss, A, Y):
        check_targets(Y, A)
        a, y = _flat(A), _flat(Y)
        grad = []
        for a_k, y_k in zip(a, y):
            if loss == "mse":
                grad.append(2.0 * (a_k - y_k) / A.size)
            elif loss == "bce":
                p = clip_probability(a_k)
                grad.append((p - y_k) / (p * (1.0 - p)) / A.size)
            elif loss == "cce":
                grad.append(-y_k / clip_probability(a_k) / A.shape[0])
            else:
                raise ValueError(f"loss: unknown name {loss!r}")
        return _out(grad, A)

    def output_delta(self, A, Y, n_terms):
        check_output_delta(A, Y, n_terms)
        delta = [(a_k - y_k) / n_terms for a_k, y_k in zip(_flat(A), _flat(Y))]
        return _out(delta, A)

    def scale_rows(self, M, scale):
        check_shape("scale", scale, np.shape(M)[:1])
        rows = [[c * x for x in row] for row, c in zip(M.tolist(), scale.tolist())]
        return _out(rows, M)

    # ------------------------------------------------------------ regularization
    def penalty(self, W, l1, l2, m):
        check_penalty_args(l1, l2, m)
        squares, absolutes = 0.0, 0.0
        for w in _flat(W):
            squares += w * w
            absolutes += abs(w)
        return l2 / (2.0 * m) * squares + l1 / m * absolutes

    def penalty_gradient(self, W, l1, l2, m):
        check_penalty_args(l1, l2, m)

        def sign(w):
            return (w > 0) - (w < 0)
        grad = [(l2 / m) * w + (l1 / m) * sign(w) for w in _flat(W)]
        return _out(grad, W)

    def dropout_forward(self, A, mask, keep_prob):
        check_dropout(A, mask, keep_prob)
        out = [a * k / keep_prob for a, k in zip(_flat(A), _flat(mask))]
        return _out(out, A)

    def dropout_backward(self, dA, mask, keep_prob):
        return self.dropout_forward(dA, mask, keep_prob)

    def batchnorm_forward(self, Z, gamma, beta, eps):
        check_batchnorm(eps, {"Z": Z}, {"gamma": gamma, "beta": beta})
        z, g, bt = Z.tolist(), gamma.tolist(), beta.tolist()
        m, n = Z.shape
        mean, var = [0.0] * n, [0.0] * n
        for j in range(n):
            for s in range(m):
                mean[j] += z[s][j]
            mean[j] /= m
            for s in range(m):
                centred = z[s][j] - mean[j]
                var[j] += centred * centred
            var[j] /= m
        Zhat = [[(z[s][j] - mean[j]) / math.sqrt(var[j] + eps) for j in range(n)] for s in range(m)]
        Yout = [[g[j] * Zhat[s][j] + bt[j] for j in range(n)] for s in range(m)]
        return (_out(Yout, Z), _out(Zhat, Z),
                np.array(mean, dtype=Z.dtype), np.array(var, dtype=Z.dtype))

    def batchnorm_inference(self, Z, gamma, beta, running_mean, running_var, eps):
        check_batchnorm(eps, {"Z": Z}, {"gamma": gamma, "beta": beta, "running_mean": running_mean,
                                        "running_var": running_var})
        z, g, bt = Z.tolist(), gamma.tolist(), beta.tolist()
        mu, var = running_mean.tolist(), running_var.tolist()
        rows = [[g[j] * (row[j] - mu[j]) / math.sqrt(var[j] + eps) + bt[j]
                 for j in range(len(row))] for row in z]
        return _out(rows, Z)

    def batchnorm_backward(self, dY, Zhat, gamma, var, eps):
        check_batchnorm(eps, {"dY": dY, "Zhat": Zhat}, {"gamma": gamma, "var": var})
        dy, zh, g, vr = dY.tolist(), Zhat.tolist(), gamma.tolist(), var.tolist()
        m, n = dY.shape
        dbeta, dgamma = [0.0] * n, [0.0] * n
        for j in range(n):
            for s in range(m):
                dbeta[j] += dy[s][j]
                dgamma[j] += dy[s][j] * zh[s][j]
        dZ = [[g[j] / (m * math.sqrt(vr[j] + eps)) * (m * dy[s][j] - dbeta[j] - zh[s][j] * dgamma[j])
               for j in range(n)] for s in range(m)]
        return (_out(dZ, dY), np.array(dgamma, dtype=dY.dtype), np.array(dbeta, dtype=dY.dtype))

    # ------------------------------------------------------------ optimizer steps, in place
    def sgd_step(self, param, grad, lr):
        check_step(grad, {"param": param}, lr=lr)
        new = [p - lr * g for p, g in zip(_flat(param), _flat(grad))]
        _in_place(param, new)

    def momentum_step(self, param, grad, velocity, lr, beta, dampening, nesterov):
        check_step(grad, {"param": param, "velocity": velocity}, lr=lr, beta=beta, dampening=dampening)
        p, g, v = _flat(param), _flat(grad), _flat(velocity)
        for k in range(len(p)):
            v[k] = beta * v[k] + (1.0 - dampening) * g[k]
            step = g[k] + beta * v[k] if nesterov else v[k]
            p[k] = p[k] - lr * step
        _in_place(velocity, v)
        _in_place(param, p)

    def rmsprop_step(self, param, grad, square_avg, lr, rho, eps):
        check_step(grad, {"param": param, "square_avg": square_avg}, lr=lr, rho=rho, eps=eps)
        p, g, s = _flat(param), _flat(grad), _flat(square_avg)
        for k in range(len(p)):
            s[k] = rho * s[k] + (1.0 - rho) * g[k] * g[k]
            p[k] = p[k] - lr * g[k] / (math.sqrt(s[k]) + eps)
        _in_place(square_avg, s)
        _in_place(param, p)

    def momentum_course_step(self, param, grad, velocity, lr, mu):
        check_step(grad, {"param": param, "velocity": velocity}, lr=lr, mu=mu)
        p, g, v = _flat(param), _flat(grad), _flat(velocity)
        for k in range(len(p)):
            v[k] = mu * v[k] - lr * g[k]      # the velocity carries the learning rate
            p[k] = p[k] + v[k]
        _in_place(velocity, v)
        _in_place(param, p)

    def adagrad_step(self, param, grad, square_sum, lr, eps):
        check_step(grad, {"param": param, "square_sum": square_sum}, lr=lr, eps=eps)
        p, g, s = _flat(param), _flat(grad), _flat(square_sum)
        for k in range(len(p)):
            s[k] = s[k] + g[k] * g[k]         # every squared gradient so far
            p[k] = p[k] - lr * g[k] / (math.sqrt(s[k]) + eps)
        _in_place(square_sum, s)
        _in_place(param, p)

    def adam_step(self, param, grad, m, v, lr, beta1, beta2, eps, t, weight_decay=0.0):
        check_step(grad, {"param": param, "m": m, "v": v}, lr=lr, eps=eps, beta1=beta1, beta2=beta2,
                   weight_decay=weight_decay)
        check_step_count(t)
        p, g, m1, v2 = _flat(param), _flat(grad), _flat(m), _flat(v)
        for k in range(len(p)):
            if weight_decay:
                p[k] = p[k] * (1.0 - lr * weight_decay)     # decoupled decay (AdamW)
            m1[k] = beta1 * m1[k] + (1.0 - beta1) * g[k]     # first moment
            v2[k] = beta2 * v2[k] + (1.0 - beta2) * g[k] * g[k]  # second moment
            m_hat = m1[k] / (1.0 - beta1 ** t)               # bias correction uses t
            v_hat = v2[k] / (1.0 - beta2 ** t)
            p[k] = p[k] - lr * m_hat / (math.sqrt(v_hat) + eps)
        _in_place(m, m1)
        _in_place(v, v2)
        _in_place(param, p)
