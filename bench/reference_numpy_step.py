"""A hand-written NumPy training step: the yardstick for the numpy backend.

The same arithmetic as ``Backend.sgd_train_step`` for an MLP with ReLU hidden layers and a
sigmoid + BCE or softmax + cross-entropy output, written the way one would by hand:
no kernel interface, no checks, straight array expressions. If the numpy backend stays
within 1.5x of this, the kernel interface itself costs little.
"""
import numpy as np


def reference_step(X, Y, weights, biases, output, lr):
    """One SGD step in place; returns the loss before the update.

    ``output`` is ``"sigmoid"`` (binary cross-entropy) or ``"softmax"`` (cross-entropy).
    Forward:  Z_l = A_{l-1} W_lᵀ + b_l,  A_l = relu(Z_l),  output layer f(Z_L).
    Backward: dZ_L = (A_L − Y)/N,  dW_l = dZ_lᵀ A_{l-1},  db_l = Σ_s dZ_l,
              dZ_{l-1} = (dZ_l W_l) ⊙ [Z_{l-1} > 0];  W −= lr dW,  b −= lr db.
    """
    inputs, zs = [], []
    A = X
    for W, b in zip(weights[:-1], biases[:-1]):
        inputs.append(A)
        Z = A @ W.T + b
        zs.append(Z)
        A = np.maximum(Z, 0.0)
    inputs.append(A)
    Z = A @ weights[-1].T + biases[-1]
    m = X.shape[0]
    if output == "sigmoid":
        e = np.exp(-np.abs(Z))
        P = np.where(Z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
        Pc = np.clip(P, 1e-12, 1 - 1e-12)
        loss = -np.mean(Y * np.log(Pc) + (1 - Y) * np.log(1 - Pc))
        dZ = (P - Y) / P.size
    else:
        E = np.exp(Z - Z.max(axis=1, keepdims=True))
        P = E / E.sum(axis=1, keepdims=True)
        loss = -np.sum(Y * np.log(np.clip(P, 1e-12, 1 - 1e-12))) / m
        dZ = (P - Y) / m
    for i in range(len(weights) - 1, -1, -1):
        dW = dZ.T @ inputs[i]
        db = dZ.sum(axis=0)
        if i:
            dZ = (dZ @ weights[i]) * (zs[i - 1] > 0)
        weights[i] -= lr * dW
        biases[i] -= lr * db
    return float(loss)
