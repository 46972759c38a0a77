"""No class or number from NaN: find where a model's output stopped being finite.

A NaN probability has no class: ``argmax`` of a NaN row is 0 and ``NaN >= 0.5`` is
False, so without a check a broken model would quietly answer "class 0". The
model's answering methods (``predict``, ``predict_proba``, ``decision_function``,
``score``, ``loss``, ``evaluate``) call :func:`check_parameters` before their forward
pass and :func:`check_output` after it; they raise :class:`NonFiniteOutputError`
naming the rows and the first place the arithmetic left the floating-point range:

1. a parameter (``W``, ``b``, batch norm's ``gamma``, ``beta``, ``running_mean``,
   ``running_var``) that is NaN or ±inf, or a ``running_var`` at or below ``-eps``
   (whose square root is NaN or 0) — every row is then affected;
2. otherwise the first layer whose pre-activation ``Z = X Wᵀ + b`` (or batch-norm
   output, or activation) is NaN or ±inf in some row: for the first layer that
   means the inputs are too large (e.g. ±1e308, where ``w·x`` overflows), for a
   later one that the previous layers grew the numbers beyond the dtype's range.
"""
from __future__ import annotations

import numpy as np

#: How many row numbers an error message lists before "...".
SHOWN_ROWS = 10


class NonFiniteOutputError(ValueError):
    """The model's output has NaN or ±inf, so no class or value is given from it.

    Attributes: ``rows`` (indices of the affected input rows) and ``source`` (a
    sentence naming where the non-finite value came from).
    """

    def __init__(self, message, rows, source):
        super().__init__(message)
        self.rows = rows
        self.source = source


def _first_bad(arr):
    index = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
    return arr[index], index


def _bad_parameter(model):
    """A sentence naming the first non-finite parameter or statistic, or None."""
    for number, layer in enumerate(model.layers, start=1):
        arrays = [("W", layer.W), ("b", layer.b)]
        if layer.batch_norm:
            arrays += [("gamma", layer.gamma), ("beta", layer.beta),
                       ("running_mean", layer.running_mean), ("running_var", layer.running_var)]
        for name, arr in arrays:
            if not np.all(np.isfinite(arr)):
                value, index = _first_bad(arr)
                return f"layer {number}'s {name} holds {value} at index {index}"
        if layer.batch_norm and np.any(layer.running_var + layer.bn_eps <= 0):
            j = int(np.argmax(layer.running_var + layer.bn_eps <= 0))
            return (f"layer {number}'s batch-norm running_var is {layer.running_var[j]} at index {j}, "
                    f"at or below -eps = {-layer.bn_eps}: sqrt(running_var + eps) is NaN or 0")
    return None


def _bad_rows_by_layer(model):
    """For each layer, a boolean mask of the rows whose cached arrays are not all finite."""
    masks = []
    for layer in model.layers:
        cache = layer.cache
        steps = [(key, cache[key]) for key in ("Z_lin", "Z", "A", "out") if key in cache]
        masks.append([(key, ~np.isfinite(arr).all(axis=1)) for key, arr in steps])
    return masks


def _describe(model, number, key, rows):
    layer = model.layers[number - 1]
    X = layer.cache["X"][rows]
    largest_input = float(np.max(np.abs(X)))
    largest_weight = float(np.max(np.abs(layer.W)))
    if key in ("Z_lin", "Z") and not (layer.batch_norm and key == "Z"):
        where = f"layer {number}'s pre-activation Z = X·Wᵀ + b"
        if number == 1:
            return (f"{where} overflowed: the inputs are too large for {model.dtype} arithmetic "
                    f"(largest |x| in those rows is {largest_input:.3g}, largest |w| {largest_weight:.3g}); "
                    f"scale them, e.g. with pyneuron.datasets.Standardizer")
        return (f"{where} overflowed: its inputs (layer {number - 1}'s outputs) reach |x| = "
                f"{largest_input:.3g} and its weights |w| = {largest_weight:.3g}")
    if key == "Z":
        return f"layer {number}'s batch normalization (running statistics) gave a non-finite value"
    return f"layer {number}'s {layer.activation} activation gave a non-finite value"


def _error(model, what, rows, m, source):
    shown = ", ".join(map(str, rows[:SHOWN_ROWS].tolist())) + (", ..." if len(rows) > SHOWN_ROWS else "")
    return NonFiniteOutputError(
        f"{what}: the model's output is NaN or inf, or computed from such a value, for {len(rows)} of "
        f"{m} rows (rows {shown}), so no "
        f"{'class or ' if model.is_classifier else ''}value is given from it. It comes from {source}.",
        rows.tolist(), source)


def check_parameters(model, what, m):
    """Before a forward pass of ``m`` rows: raise :class:`NonFiniteOutputError` if a
    parameter or batch-norm statistic would make every output NaN or inf (the scalar
    backend's ``math.sqrt`` would otherwise fail with a bare "math domain error")."""
    source = _bad_parameter(model)
    if source is not None:
        raise _error(model, what, np.arange(m), m, source)


def check_output(model, what):
    """After a forward pass: raise :class:`NonFiniteOutputError` if a layer's cached
    pre-activation, batch-norm output or activation is NaN or inf in some row, naming
    those rows and the first layer where it happened. ``what`` names the method
    (``"predict"``...) for the message. Returns ``None`` when all is finite."""
    masks = _bad_rows_by_layer(model)
    m = model.layers[0].cache["X"].shape[0]
    bad = np.zeros(m, dtype=bool)
    for steps in masks:
        for _, mask in steps:
            bad |= mask
    if not bad.any():
        return
    source = "the output"
    for number, steps in enumerate(masks, start=1):
        hit = next(((key, mask) for key, mask in steps if mask.any()), None)
        if hit is not None:
            source = _describe(model, number, hit[0], np.flatnonzero(hit[1]))
            break
    raise _error(model, what, np.flatnonzero(bad), m, source)
