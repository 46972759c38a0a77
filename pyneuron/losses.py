"""Loss functions by name, and how targets ``y`` become the matrix ``Y`` a loss compares with.

=====  ======================================  ==========================
name   L                                       natural output activation
=====  ======================================  ==========================
mse    mean over all elements of (a − y)²      linear (regression)
bce    −mean[y log a + (1−y) log(1−a)]         sigmoid (binary / multi-label)
cce    −(1/m) Σ_s Σ_i y_si log a_si            softmax (one class of many)
=====  ======================================  ==========================

With sigmoid + bce and softmax + cce the gradient at the output's
pre-activation simplifies to ``(A − Y) / N`` (the backends' ``output_delta``),
and the loss value is computed from that pre-activation ``Z`` (the logits):
``softplus(z) − y z`` and ``logsumexp(z) − Σ y z`` (the backends'
``loss_from_logits``), exact where the probabilities have rounded to 0 or 1.
Other pairs (e.g. softmax + bce) clip probabilities to ``[1e-12, 1 − 1e-12]``
before any log.
"""
from __future__ import annotations

import numpy as np

from .backends.base import LOSSES

ALIASES = {"mean_squared_error": "mse", "binary_crossentropy": "bce", "binary_cross_entropy": "bce",
           "categorical_crossentropy": "cce", "cross_entropy": "cce", "categorical_cross_entropy": "cce"}

DEFAULT_LOSS = {"sigmoid": "bce", "softmax": "cce"}


def resolve(loss, output):
    """The loss name for a model: the one asked for, or the natural one for its output."""
    if loss is None:
        return DEFAULT_LOSS.get(output, "mse")
    name = ALIASES.get(loss, loss)
    if name not in LOSSES:
        raise ValueError(f"loss: expected one of {', '.join(map(repr, LOSSES))} or None, got {loss!r}")
    if name == "cce" and output != "softmax":
        raise ValueError(f"loss: 'cce' needs output='softmax' (a distribution over classes), got output={output!r}")
    if name == "bce" and output not in ("sigmoid", "softmax"):
        raise ValueError(f"loss: 'bce' needs probabilities in (0, 1) (output='sigmoid'), got output={output!r}")
    return name


def is_classifier(loss):
    """Whether the loss named ``loss`` is a classifier's (``"bce"``, ``"cce"``)."""
    return loss in ("bce", "cce")


def encode_targets(y, n_outputs, loss, dtype=np.float64, name="y"):
    """Turn user targets into the ``(m, n_outputs)`` matrix ``Y`` the loss compares with.

    * cce: 1-D integer classes ``0..k-1`` (made one-hot here) or a one-hot matrix;
    * bce: 0/1 labels, 1-D for a single output or ``(m, k)`` for multi-label;
    * mse: real targets, 1-D for a single output or ``(m, k)``.
    """
    try:
        arr = np.asarray(y)
    except Exception:
        raise TypeError(f"{name}: expected an array of targets, got {type(y).__name__}") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name}: expected numeric targets, got an array of dtype {arr.dtype}")
    if np.iscomplexobj(arr):    # casting to float would silently drop the imaginary part
        raise TypeError(f"{name}: expected real targets, got complex dtype {arr.dtype}")
    if arr.ndim not in (1, 2) or arr.size == 0:
        raise ValueError(f"{name}: expected a non-empty 1-D or 2-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: expected finite targets, got NaN or inf")
    if loss == "cce":
        if arr.ndim == 1:
            if not np.all(arr == np.round(arr)) or arr.min() < 0 or arr.max() >= n_outputs:
                raise ValueError(f"{name}: expected integer class labels in 0..{n_outputs - 1} "
                                 f"for a softmax output of {n_outputs} units, got values {np.unique(arr)[:10]}")
            Y = np.zeros((arr.shape[0], n_outputs), dtype=dtype)
            Y[np.arange(arr.shape[0]), arr.astype(np.int64)] = 1.0
            return Y
        if arr.shape[1] != n_outputs:
            raise ValueError(f"{name}: expected one-hot rows of length {n_outputs}, got shape {arr.shape}")
        if not (np.all((arr == 0) | (arr == 1)) and np.all(arr.sum(axis=1) == 1)):
            raise ValueError(f"{name}: expected one-hot rows (a single 1 per row), got {arr[:3].tolist()}...")
        return np.ascontiguousarray(arr, dtype=dtype)
    Y = arr.reshape(-1, 1) if arr.ndim == 1 else arr
    if Y.shape[1] != n_outputs:
        raise ValueError(f"{name}: expected {n_outputs} target column(s) for {n_outputs} output unit(s), "
                         f"got shape {arr.shape}")
    if loss == "bce" and not np.all((Y == 0) | (Y == 1)):
        raise ValueError(f"{name}: expected 0/1 labels for a sigmoid output, got values {np.unique(Y)[:10]}")
    return np.ascontiguousarray(Y, dtype=dtype)
