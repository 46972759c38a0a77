"""A hand-written NumPy training loop: the yardstick for ``fit`` on every backend.

What someone would write by hand for an MLP with ReLU hidden layers and a sigmoid + BCE
or softmax + cross-entropy output: a shuffled pass over the data per epoch, and per batch
forward, loss, backward and update in plain array expressions -- no kernel interface, no
argument checks, no history beyond the batch losses. It covers the configurations of
``pyneuron bench``'s fit table: SGD or Adam, optionally an L2 penalty
(λ/(2m)·ΣW², pyneuron's convention), inverted dropout and batch normalization (training
mode, running statistics kept as PyTorch does).

Equations (per batch of m rows; hidden layers l, output layer L):
  forward   Z_l = A_{l-1} W_lᵀ + b_l;  batch norm Ẑ = (Z − μ)/√(σ² + ε), Z ← γẐ + β;
            A_l = relu(Z_l) ⊙ M_l / p  (dropout mask M_l, keep probability p)
  loss      from the logits Z_L: mean softplus(z) − y z (sigmoid) or mean over rows of
            logsumexp(z) − Σ y z (softmax);  + λ/(2m) Σ_l ‖W_l‖²
  backward  dZ_L = (σ(Z_L) or softmax(Z_L) − Y) / N;  dW_l = dZ_lᵀ A_{l-1} + (λ/m) W_l;
            db_l = Σ_s dZ_l;  dA_{l-1} = dZ_l W_l, then through dropout, relu, batch norm
  update    SGD θ −= η g, or Adam with bias correction by the step count.
"""
import numpy as np


def fit_numpy(X, Y, sizes, output, epochs, batch, optimizer="sgd", lr=0.01, l2=0.0,
              dropout=0.0, batch_norm=False, seed=0, eps=1e-5, momentum=0.1):
    """Train a fresh ``sizes`` MLP on ``(X, Y)`` (``Y`` one-hot or 0/1 columns, of X's
    dtype); returns the list of every batch's loss."""
    rng = np.random.default_rng(seed)
    dtype = X.dtype
    L = len(sizes) - 1
    W = [(rng.standard_normal((o, i)) * np.sqrt(2.0 / i)).astype(dtype)
         for i, o in zip(sizes, sizes[1:])]
    b = [np.zeros(o, dtype) for o in sizes[1:]]
    gamma = [np.ones(o, dtype) for o in sizes[1:-1]] if batch_norm else []
    beta = [np.zeros(o, dtype) for o in sizes[1:-1]] if batch_norm else []
    run_mean = [np.zeros(o, dtype) for o in sizes[1:-1]] if batch_norm else []
    run_var = [np.ones(o, dtype) for o in sizes[1:-1]] if batch_norm else []
    params = W + b + gamma + beta
    if optimizer == "adam":
        m1 = [np.zeros_like(p) for p in params]
        m2 = [np.zeros_like(p) for p in params]
        beta1, beta2, adam_eps = 0.9, 0.999, 1e-8
    keep = 1.0 - dropout
    n = X.shape[0]
    t = 0
    losses = []
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch):
            idx = order[start:start + batch]
            A, Yb = X[idx], Y[idx]
            m = A.shape[0]
            # forward, keeping what backward needs
            inputs, zhats, inv_std, masks, pre = [], [], [], [], []
            for l in range(L - 1):
                inputs.append(A)
                Z = A @ W[l].T + b[l]
                if batch_norm:
                    mu, var = Z.mean(axis=0), Z.var(axis=0)
                    inv = 1.0 / np.sqrt(var + eps)
                    Zh = (Z - mu) * inv
                    Z = gamma[l] * Zh + beta[l]
                    zhats.append(Zh)
                    inv_std.append(inv)
                    if m > 1:
                        run_mean[l] *= 1 - momentum
                        run_mean[l] += momentum * mu
                        run_var[l] *= 1 - momentum
                        run_var[l] += momentum * var * (m / (m - 1))
                pre.append(Z)
                A = np.maximum(Z, 0.0)
                if dropout:
                    mask = (rng.random(A.shape) < keep) / keep
                    masks.append(mask)
                    A = A * mask
            inputs.append(A)
            Z = A @ W[-1].T + b[-1]
            # loss from the logits, and dZ of the output
            if output == "sigmoid":
                loss = np.mean(np.maximum(Z, 0) + np.log1p(np.exp(-np.abs(Z))) - Yb * Z)
                e = np.exp(-np.abs(Z))
                P = np.where(Z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
                dZ = (P - Yb) / Z.size
            else:
                top = Z.max(axis=1, keepdims=True)
                E = np.exp(Z - top)
                s = E.sum(axis=1, keepdims=True)
                loss = np.mean(top[:, 0] + np.log(s[:, 0]) - (Yb * Z).sum(axis=1))
                dZ = (E / s - Yb) / m
            if l2:
                loss += l2 / (2 * m) * sum(np.sum(w * w) for w in W)
            losses.append(float(loss))
            # backward
            grads_W, grads_b = [None] * L, [None] * L
            grads_g, grads_be = [None] * (L - 1), [None] * (L - 1)
            for l in range(L - 1, -1, -1):
                grads_W[l] = dZ.T @ inputs[l]
                grads_b[l] = dZ.sum(axis=0)
                if l2:
                    grads_W[l] += (l2 / m) * W[l]
                if l == 0:
                    break
                dA = dZ @ W[l]
                if dropout:
                    dA *= masks[l - 1]
                dZ = dA * (pre[l - 1] > 0)
                if batch_norm:
                    Zh = zhats[l - 1]
                    grads_be[l - 1] = dZ.sum(axis=0)
                    grads_g[l - 1] = (dZ * Zh).sum(axis=0)
                    dZ = (gamma[l - 1] * inv_std[l - 1] / m) * (
                        m * dZ - grads_be[l - 1] - Zh * grads_g[l - 1])
            grads = grads_W + grads_b + (grads_g + grads_be if batch_norm else [])
            # update
            t += 1
            if optimizer == "adam":
                c1, c2 = 1 - beta1 ** t, 1 - beta2 ** t
                for p, g, mm, vv in zip(params, grads, m1, m2):
                    mm *= beta1
                    mm += (1 - beta1) * g
                    vv *= beta2
                    vv += (1 - beta2) * g * g
                    p -= lr * (mm / c1) / (np.sqrt(vv / c2) + adam_eps)
            else:
                for p, g in zip(params, grads):
                    p -= lr * g
    return losses
