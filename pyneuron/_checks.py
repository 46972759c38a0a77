"""Checks on a model's own arrays and settings, shared by every way in:
``MLP.set_weights``, ``from_torch`` and ``load``.

Each function raises ``ValueError`` (or ``TypeError`` for something that is not
an array of numbers) naming the argument, what was expected and what was given;
``load`` turns those into :class:`~pyneuron.io.ModelFileError`.
"""
from __future__ import annotations

import numbers

import numpy as np


def check_parameter(value: object, name: str, shape: tuple[int, ...], dtype: np.typing.DTypeLike,
                    nonnegative: bool = False) -> np.ndarray:
    """``value`` as a new C-contiguous array of ``dtype`` and exactly ``shape``,
    every entry finite (and ``>= 0`` if ``nonnegative``, as a variance must be).

    Raises ``TypeError`` for non-numeric input (strings, objects, complex
    numbers) and ``ValueError`` for a wrong shape or a bad value.
    """
    try:
        arr = np.asarray(value) if not isinstance(value, (str, bytes)) else None
    except (TypeError, ValueError):          # ragged nested lists and the like
        arr = None
    if arr is None or arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name}: expected an array of real numbers, got {type(value).__name__}"
                        + (f" of dtype {arr.dtype}" if arr is not None else ""))
    if np.iscomplexobj(arr):
        raise TypeError(f"{name}: expected real numbers, got complex dtype {arr.dtype}")
    if arr.shape != tuple(shape):
        raise ValueError(f"{name}: expected shape {tuple(shape)}, got {arr.shape}")
    with np.errstate(over="ignore"):        # a value beyond float32: reported just below
        arr = np.array(arr, dtype=dtype, order="C", copy=True)
    finite = np.isfinite(arr)
    if not finite.all():
        index = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise ValueError(f"{name}: expected finite values, got {arr[index]} at index {index}")
    if nonnegative and (arr < 0).any():
        index = tuple(int(i) for i in np.argwhere(arr < 0)[0])
        raise ValueError(f"{name}: expected values >= 0 (a variance), got {arr[index]} at index {index}")
    return arr


def check_batchnorm_settings(eps: object, momentum: object, name: str) -> tuple[float, float]:
    """Batch norm's ``eps`` (a finite number > 0, added to the variance) and
    ``momentum`` (a finite number in [0, 1], PyTorch's convention:
    ``running = (1 − momentum)·running + momentum·batch``). Returns them as floats."""
    for label, value in (("eps", eps), ("momentum", momentum)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
            raise ValueError(f"{name} {label}: expected a finite number, got {value!r}")
    if not eps > 0:
        raise ValueError(f"{name} eps: expected a number > 0, got {eps!r}")
    if not 0 <= momentum <= 1:
        raise ValueError(f"{name} momentum: expected a number in [0, 1], got {momentum!r}")
    return float(eps), float(momentum)


#: The batch-norm arrays of a layer, in the order ``save`` writes them, and
#: whether each must be non-negative.
BATCHNORM_ARRAYS = (("gamma", False), ("beta", False), ("running_mean", False), ("running_var", True))


def check_batchnorm_arrays(arrays: dict[str, object], n_out: int, dtype: np.typing.DTypeLike, name: str) -> dict[str, np.ndarray]:
    """Check a layer's ``{"gamma", "beta", "running_mean", "running_var"}``:
    each of shape ``(n_out,)``, finite, the running variance ``>= 0`` (a negative
    one makes every prediction NaN). Returns the checked copies in a new dict."""
    return {key: check_parameter(arrays[key], f"{name} {key}", (n_out,), dtype, nonnegative)
            for key, nonnegative in BATCHNORM_ARRAYS}
