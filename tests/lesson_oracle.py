"""Independent NumPy oracles for the lesson mutation tests (tests/test_mutants_lessons_*.py):
the forward pass, the losses and plain gradient descent of an MLP written out from the
textbook formulas, so a lesson's returned numbers are checked against arithmetic that
does not go through pyneuron's engines."""
from __future__ import annotations

import numpy as np


def act(name, z):
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "linear":
        return z
    if name == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    raise AssertionError(name)


def act_slope(name, z, a):
    if name == "sigmoid":
        return a * (1.0 - a)
    if name == "tanh":
        return 1.0 - a * a
    if name == "relu":
        return (z > 0).astype(float)
    if name == "linear":
        return np.ones_like(z)
    raise AssertionError(name)


def initial_weights(model):
    """Copies of ``model``'s (W, b) per layer (W of shape (out, in))."""
    return [(np.array(layer.W, dtype=float), np.array(layer.b, dtype=float)) for layer in model.layers]


def forward(weights, activations, X):
    """Every layer's (Z, A) for rows ``X``."""
    out, A = [], np.asarray(X, dtype=float)
    for (W, b), name in zip(weights, activations):
        Z = A @ W.T + b
        A = act(name, Z)
        out.append((Z, A))
    return out


def loss_of(kind, P, Y):
    if kind == "bce":
        return float(np.mean(-(Y * np.log(P) + (1 - Y) * np.log(1 - P))))
    if kind == "ce":
        return float(np.mean(-np.sum(Y * np.log(P), axis=1)))
    if kind == "mse":
        return float(np.mean((P - Y) ** 2))
    raise AssertionError(kind)


def gradients(weights, activations, kind, X, Y):
    """(loss, [(dW, db) per layer, first to last]) of the mean loss over the rows of ``X``;
    ``Y`` is a 2-D target array."""
    X, Y = np.asarray(X, float), np.asarray(Y, float)
    n = len(X)
    layers = forward(weights, activations, X)
    P = layers[-1][1]
    loss = loss_of(kind, P, Y)
    if kind == "mse":
        dZ = 2 * (P - Y) / (n * Y.shape[1]) * act_slope(activations[-1], layers[-1][0], P)
    else:                                   # sigmoid + BCE, softmax + CE: P - Y
        dZ = (P - Y) / n
    grads = []
    for i in range(len(weights) - 1, -1, -1):
        A_prev = X if i == 0 else layers[i - 1][1]
        grads.append((dZ.T @ A_prev, dZ.sum(axis=0)))
        if i:
            dA = dZ @ weights[i][0]
            dZ = dA * act_slope(activations[i - 1], layers[i - 1][0], layers[i - 1][1])
    return loss, grads[::-1]


def gradient_descent(weights, activations, kind, X, Y, lr, epochs):
    """Full-batch gradient descent; returns (weights, losses per epoch before its
    update, probabilities at the end). ``Y`` is a 2-D target array."""
    weights = [(W.copy(), b.copy()) for W, b in weights]
    losses = []
    for _ in range(epochs):
        loss, grads = gradients(weights, activations, kind, X, Y)
        losses.append(loss)
        for (W, b), (dW, db) in zip(weights, grads):
            W -= lr * dW
            b -= lr * db
    return weights, losses, forward(weights, activations, X)[-1][1]


def record_fits(monkeypatch, module, epochs=None):
    """Record every ``MLP.fit`` call a lesson ``module`` makes (its keyword arguments) and every
    ``progress`` it asks for (epochs, desc, the epochs whose line is printed); with ``epochs``,
    train only that many epochs, so a lesson's full setting is checked without running it.
    Returns the list of records, one dict per fit (``fit``: its keyword arguments, ``model``, ``n``: its rows,
    ``progress``: (epochs, desc, printed epochs), ``line``), in call order."""
    import pyneuron as pn

    calls, real_fit, real_progress = [], pn.MLP.fit, getattr(module, "progress", None)

    def progress(model, n, desc, print_epochs=None, line=None):
        calls.append({"progress": (n, desc, None if print_epochs is None else sorted(print_epochs)), "line": line})
        return real_progress(model, n, desc, print_epochs, line)

    def fit(self, X, y, **kwargs):
        if not calls or "fit" in calls[-1]:        # a fit without a progress callback of its own
            calls.append({})
        calls[-1].update(fit=dict(kwargs), model=self, n=len(X))
        if epochs is not None:
            kwargs = dict(kwargs, epochs=min(epochs, kwargs["epochs"]))
        return real_fit(self, X, y, **kwargs)

    if real_progress is not None:
        monkeypatch.setattr(module, "progress", progress)
    monkeypatch.setattr(pn.MLP, "fit", fit)
    return calls
