"""The leaky-ReLU slope's one name, ``negative_slope`` (torch's ``LeakyReLU(negative_slope)``),
and its old name ``alpha`` accepted for one release (scikit-learn's ``alpha`` is the L2
strength, pyneuron's ``l2``, so the old name meant something else to most readers).

The one rule for every public entry point that takes the slope: :class:`~pyneuron.MLP`,
:class:`~pyneuron.neuron.Neuron`, :func:`pyneuron.activations.apply` / ``derivative`` and
:func:`~pyneuron.plot.plot_activations`.
"""
from __future__ import annotations

import warnings

from .validation import check_number

DEFAULT_NEGATIVE_SLOPE = 0.01


def slope_argument(owner: str, negative_slope: float | None, alpha: float | None,
                   stacklevel: int = 3, default: float = DEFAULT_NEGATIVE_SLOPE) -> float:
    """The slope from ``negative_slope`` or the deprecated ``alpha``, checked (finite, >= 0).

    ``owner`` names the call in the warning, e.g. ``"Neuron"``. ``alpha`` given: a
    ``DeprecationWarning`` naming ``negative_slope``, attributed to the caller's line
    (``stacklevel`` counts from this function: 3 = the caller of the function that
    calls this one). Both given: ``ValueError``. Neither: ``default`` (0.01).

    Raises ``ValueError`` naming the argument the bad value came in.
    """
    if alpha is not None:
        if negative_slope is not None:
            raise ValueError(f"negative_slope and alpha: give only negative_slope (alpha is its old, "
                             f"deprecated name), got negative_slope={negative_slope!r} and alpha={alpha!r}")
        warnings.warn(f"{owner}(alpha=...) is deprecated and will be removed in the next release: the "
                      f"leaky-ReLU slope is now called negative_slope, as in torch (scikit-learn's alpha is "
                      f"the L2 strength, pyneuron's l2)", DeprecationWarning, stacklevel=stacklevel)
        return check_number(alpha, "alpha", 0.0)
    value = default if negative_slope is None else negative_slope
    return check_number(value, "negative_slope", 0.0)


def warn_alpha_attribute(owner: str, stacklevel: int = 3) -> None:
    """The DeprecationWarning for reading the old attribute ``owner.alpha``."""
    warnings.warn(f"{owner}.alpha is deprecated and will be removed in the next release: read "
                  f"{owner}.negative_slope (the leaky-ReLU slope's name, as in torch)",
                  DeprecationWarning, stacklevel=stacklevel)
