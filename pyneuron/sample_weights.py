"""``fit``'s ``sample_weight`` and ``class_weight``: one weight per training row.

With weights ``w``, each batch's data loss is the weighted mean of the rows' losses,

.. math:: L_w = \\frac{\\sum_s w_s\\,\\ell_s}{\\sum_s w_s},

scikit-learn's normalization in ``MLPClassifier`` / ``MLPRegressor`` (``np.average`` with
``weights=``), and the ``"mean"`` L1/L2 penalty divides by the batch's weight sum instead
of its row count, as scikit-learn's does. So a row of weight 2 counts exactly as that row
given twice (with full batches), and multiplying every weight by a constant changes
nothing. (Keras instead divides ``Σ w_s ℓ_s`` by the batch's row count, so there the
weights' scale acts as a learning-rate factor.) A batch whose weights are all zero has
loss 0 and only the penalty moves the weights.

``class_weight`` gives every row of class ``c`` the weight ``class_weight[c]`` (classes
missing from the mapping: 1), or with ``"balanced"`` ``n_samples / (n_classes ·
count(c))``, as :func:`sklearn.utils.class_weight.compute_class_weight` computes it, over
the rows given to ``fit``. With both, a row's weight is the product, as Keras does.
"""
from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np


def check_sample_weight(sample_weight: Any, m: int, name: str = "sample_weight") -> np.ndarray:
    """``sample_weight`` as a float64 array ``(m,)``: finite, >= 0, not all 0.

    Raises ``TypeError`` for non-numbers and ``ValueError`` for a wrong length or a
    value out of range, naming ``name``."""
    try:
        w = np.asarray(sample_weight)
    except Exception:
        raise TypeError(f"{name}: expected an array of {m} numbers, got {type(sample_weight).__name__}") from None
    if w.dtype == object or w.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected real numbers, got an array of dtype {w.dtype}")
    if w.ndim != 1 or w.shape[0] != m:
        raise ValueError(f"{name}: expected one weight per training row, shape ({m},), got shape {w.shape}")
    w = w.astype(np.float64)
    if not np.all(np.isfinite(w)):
        raise ValueError(f"{name}: expected finite weights, got NaN or inf at rows "
                         f"{np.flatnonzero(~np.isfinite(w))[:5].tolist()}")
    if np.any(w < 0):
        raise ValueError(f"{name}: expected weights >= 0, got {w[w < 0][:3].tolist()} at rows "
                         f"{np.flatnonzero(w < 0)[:5].tolist()}")
    if not np.any(w > 0):
        raise ValueError(f"{name}: expected at least one weight > 0, got all {m} zero")
    return w


def row_classes(model: Any, Y: np.ndarray) -> tuple[np.ndarray, int]:
    """The class of each row of the encoded targets ``Y``: the one-hot column for ``cce``,
    the 0/1 label for one sigmoid output. ``ValueError`` for regression and multi-label."""
    if model.loss_name == "cce":
        return Y.argmax(axis=1), model.n_outputs
    if model.loss_name == "bce" and model.n_outputs == 1:
        return Y[:, 0].astype(np.int64), 2
    what = "multi-label targets (one sigmoid per label)" if model.loss_name == "bce" else "regression"
    raise ValueError(f"class_weight: weights per class need one class per row (softmax, or one sigmoid "
                     f"output), got {what}; give sample_weight instead")


def class_weight_rows(class_weight: Mapping[int, float] | str, model: Any, Y: np.ndarray) -> np.ndarray:
    """One weight per row of ``Y`` from ``class_weight`` (a mapping or ``"balanced"``)."""
    classes, k = row_classes(model, Y)
    table: np.ndarray = np.ones(k)
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(f"class_weight: expected a mapping {{class: weight}} or 'balanced', got {class_weight!r}")
        counts = np.bincount(classes, minlength=k)
        present = counts > 0
        table[present] = classes.shape[0] / (np.count_nonzero(present) * counts[present])
        weights: np.ndarray = table[classes]
        return weights
    if not hasattr(class_weight, "items"):
        raise TypeError(f"class_weight: expected a mapping {{class: weight}} or 'balanced', "
                        f"got {type(class_weight).__name__}")
    for c, weight in class_weight.items():
        if isinstance(c, bool) or not isinstance(c, numbers.Integral) or not 0 <= int(c) < k:
            raise ValueError(f"class_weight: expected classes 0..{k - 1} as keys, got {c!r}")
        if (isinstance(weight, bool) or not isinstance(weight, numbers.Real)
                or not np.isfinite(float(weight)) or weight < 0):
            raise ValueError(f"class_weight: expected a finite weight >= 0 for class {c}, got {weight!r}")
        table[int(c)] = float(weight)
    weights = table[classes]
    return weights


def training_weights(model: Any, Y: np.ndarray, sample_weight: Any,
                     class_weight: Mapping[int, float] | str | None) -> np.ndarray | None:
    """The per-row weights of a ``fit`` call (``None`` when neither is given): the checked
    ``sample_weight`` times the rows' ``class_weight``."""
    if sample_weight is None and class_weight is None:
        return None
    m = Y.shape[0]
    w = np.ones(m) if sample_weight is None else check_sample_weight(sample_weight, m)
    if class_weight is not None:
        w = w * class_weight_rows(class_weight, model, Y)
        if not np.any(w > 0):
            raise ValueError("class_weight: with these weights every training row weighs 0")
    return w
