"""The leaky-ReLU slope's name in the kernel interface: ``negative_slope``.

The kernels that take the slope (:data:`SLOPE_KERNELS`) name it ``negative_slope``, as
``pn.MLP``, the layers, :mod:`pyneuron.activations` and torch's ``LeakyReLU`` do; until
this release they named it ``alpha``, which is the L2 strength in scikit-learn. Two rules
keep old code working for one release:

* pyneuron passes the slope **by position** in every kernel call it makes, so a learner's
  backend runs whichever name its methods use; :func:`old_named_kernels` finds the methods
  that still say ``alpha``, and ``register_backend`` warns once naming them.
* pyneuron's own backends take the old keyword too (keyword-only ``alpha=None``):
  :func:`old_slope_keyword` turns it into the slope with a ``DeprecationWarning`` naming
  ``negative_slope`` (the warning of ``pyneuron._slope.slope_argument``), and refuses
  both names at once with a ``TypeError``, as Python does for one argument given twice.
"""
from __future__ import annotations

import functools
import inspect

from .._slope import slope_argument

#: The interface's default slope, 0.01. It is a float object of its own (not the literal
#: ``0.01`` of any caller's code), so a built-in kernel can tell "``negative_slope`` not
#: given" (this very object) from "given" when the old ``alpha=`` comes too.
DEFAULT_NEGATIVE_SLOPE = float("0.01")

#: The kernels that take the slope, always as their last positional parameter.
SLOPE_KERNELS = ("activation_forward", "activation_backward", "dense_forward", "dense_backward",
                 "sgd_train_step", "output_gradient", "weighted_output_gradient")

#: The slope's old name in the kernel interface.
OLD_NAME = "alpha"


def old_slope_keyword(owner: str, negative_slope: float, alpha: float) -> float:
    """The slope a built-in kernel called with the deprecated ``alpha=`` keyword uses.

    ``owner`` names the kernel in the messages (e.g. ``"NumpyBackend.activation_forward"``);
    ``negative_slope`` is what the kernel received for it (:data:`DEFAULT_NEGATIVE_SLOPE`
    when the caller left it out). Warns ``DeprecationWarning`` naming ``negative_slope``,
    attributed to the line that called the kernel. Raises ``TypeError`` when the call gave
    ``negative_slope`` as well, and ``ValueError`` naming ``alpha`` for a value that is not
    a finite number >= 0.
    """
    if negative_slope is not DEFAULT_NEGATIVE_SLOPE:
        raise TypeError(f"{owner}() got the leaky-ReLU slope twice, as negative_slope={negative_slope!r} "
                        f"and as alpha={alpha!r} (its old, deprecated name): give only negative_slope")
    # stacklevel 4: slope_argument, this function, the kernel, the kernel's caller
    return slope_argument(owner, None, alpha, stacklevel=4)


@functools.lru_cache(maxsize=None)
def slope_position(kernel: str) -> int:
    """The index of ``negative_slope`` among the interface's positional arguments of
    ``kernel`` (``self`` not counted), e.g. 2 for ``activation_forward(name, Z, negative_slope)``."""
    from .base import Backend
    names = list(inspect.signature(getattr(Backend, kernel)).parameters)[1:]
    return names.index("negative_slope")


def old_named_kernels(kernels: dict) -> list[str]:
    """The names of the kernels in ``kernels`` (name -> callable, a learner's own) whose
    slope parameter is still called ``alpha``: the methods to rename ``negative_slope``.
    A kernel without a signature Python can read is taken on trust."""
    old = []
    for name, kernel in kernels.items():
        if name not in SLOPE_KERNELS:
            continue
        try:
            params = inspect.signature(kernel).parameters
        except (TypeError, ValueError):
            continue
        if OLD_NAME in params and "negative_slope" not in params:
            old.append(name)
    return old
