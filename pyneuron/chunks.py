"""The answering methods' forward pass, in chunks of rows.

``predict``, ``predict_proba``, ``decision_function``, ``score``, ``loss``, ``evaluate``
and ``fit``'s validation loss need only the output layer's activation ``A`` and
pre-activation ``Z`` of every row. :func:`outputs` forwards the rows in chunks of about
``model.answer_chunk_values`` values per layer, keeps those two ``(m, k)`` arrays and lets
each chunk's hidden activations go, so the memory of a large input is its output's plus
one chunk's. The answers are those of one whole pass bit for bit, which takes two rules,
because a row's rounding can depend on where it falls in a product: a chunk holds a
multiple of :data:`ROW_BLOCK` rows (the C matmul's narrow rung takes rows 2-6 at a time
and the rest one by one, summing in another order; its packed rung works in slivers of
6 or 12), so each row lands where it would in the whole pass; and a lone last row is
joined to the chunk before it (NumPy computes a one-row product with ``gemv``, not
``gemm``).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import nonfinite

#: Chunks start at multiples of this many rows (a multiple of every row blocking of the
#: backends' products: 2, 3, 4, 6, 8, 12, 16).
ROW_BLOCK = 48


def outputs(model: Any, Xc: np.ndarray, what: str, check: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``(A, Z)``, both ``(m, k)``, of ``model``'s output layer for the checked input ``Xc``
    (inference mode: running statistics, no dropout).

    With ``check``, raises :class:`~pyneuron.nonfinite.NonFiniteOutputError` (its message
    starting with ``what``) when a parameter, or a value on a row's way through the
    layers, is NaN or inf: the error names every such row of ``Xc`` (not of its chunk) and
    the first layer where it happened, as one whole pass would. No layer cache outlives
    the call."""
    m = Xc.shape[0]
    if check:
        nonfinite.check_parameters(model, what, m)
    rows = model.answer_chunk_values // max(model.layer_sizes)
    step = max(1, rows // ROW_BLOCK) * ROW_BLOCK
    bounds = list(range(0, m, step)) + [m]
    if len(bounds) > 2 and bounds[-1] - bounds[-2] == 1:
        del bounds[-2]                  # no lone last row (see the module docstring)
    A: Any = None
    Z: Any = None
    source: str | None = None
    bad: list[np.ndarray] = []
    try:
        for start, stop in zip(bounds[:-1], bounds[1:]):
            with np.errstate(over="ignore", invalid="ignore"):   # reported below, with its source
                a = model._forward(Xc[start:stop])
            z = model.layers[-1].cache["Z"]
            if len(bounds) == 2:            # one chunk: its own arrays
                A, Z = a, z
            else:
                if A is None:
                    A = np.empty((m, a.shape[1]), dtype=a.dtype)
                    Z = np.empty((m, z.shape[1]), dtype=z.dtype)
                A[start:stop], Z[start:stop] = a, z
            if check:
                source = _bad_rows(model, start, bad, source)
    finally:
        for layer in model.layers:
            layer.cache = {}
    if bad:
        raise nonfinite._error(model, what, np.concatenate(bad), m, source)
    return A, Z


def _bad_rows(model: Any, start: int, bad: list[np.ndarray], source: str | None) -> str | None:
    """Append to ``bad`` the rows (numbered in the whole input) of the chunk at ``start``
    whose cached values are not finite; returns the sentence naming where the first such
    chunk's trouble started (``source`` once known)."""
    masks = nonfinite._bad_rows_by_layer(model)
    rows = np.zeros(model.layers[0].cache["X"].shape[0], dtype=bool)
    for steps in masks:
        for _, mask in steps:
            rows |= mask
    if not rows.any():
        return source
    bad.append(np.flatnonzero(rows) + start)
    if source is not None:
        return source
    for number, steps in enumerate(masks, start=1):
        hit = next(((key, mask) for key, mask in steps if mask.any()), None)
        if hit is not None:
            described: str = nonfinite._describe(model, number, hit[0], np.flatnonzero(hit[1]))
            return described
    return "the output"
