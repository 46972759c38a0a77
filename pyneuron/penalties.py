r"""L1 and L2 penalties: which parameters, how strong, and in which scaling.

``fit(l2=..., l1=..., penalty=...)`` and ``model.loss(X, y, l2=..., l1=..., penalty=...)``
take the same three arguments, read here:

* ``l2``, ``l1``: a float -- the strength on every weight matrix ``W`` (never biases,
  gamma or beta), as the tutorials do -- or a mapping from parameter names to strengths,
  so that a course which penalizes only the first layer, or biases too, can be matched.
  Names are those of the model file (``"layer0/W"``, ``"layer1/b"``, ``"layer0/gamma"``),
  a layer (``"layer0"``: all of its parameters) or a kind (``"W"``, ``"b"``): e.g.
  ``{"W": 1e-3, "layer0/W": 0.0}``. The most specific name wins: a full name over a
  layer, a layer over a kind. Parameters not named are not penalized.
* ``penalty``: the scaling, for a batch of ``m`` samples and each penalized array ``W``:

  ``"mean"`` (the default; the tutorials'):

  .. math:: P = \frac{\lambda_2}{2m}\sum W^2 + \frac{\lambda_1}{m}\sum |W|,\qquad
            \frac{\partial P}{\partial W} = \frac{\lambda_2}{m} W + \frac{\lambda_1}{m}\operatorname{sign}(W)

  ``"sum"`` (the "from scratch" book's and the university course's):

  .. math:: P = \lambda_2\sum W^2 + \lambda_1\sum |W|,\qquad
            \frac{\partial P}{\partial W} = 2\lambda_2 W + \lambda_1\operatorname{sign}(W)

  In both, ``P`` is added to the batch's *mean* data loss. PyTorch's ``weight_decay=wd``
  on a parameter adds ``wd·W`` to its gradient: the same update as ``"sum"`` with
  ``λ₂ = wd/2`` (or ``"mean"`` with ``λ₂ = wd·m``).

Both scalings run through the backend's ``penalty`` / ``penalty_gradient`` kernels:
``"sum"`` is ``"mean"``'s kernel with ``m = 1`` and ``λ₂`` doubled (``2λ₂/2 = λ₂`` and
``2λ₂/1`` are exact in binary floating point, so nothing is rounded differently).
"""
from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import TYPE_CHECKING

from .validation import check_choice, check_number

if TYPE_CHECKING:
    from .network import MLP

#: The scalings ``penalty=`` accepts.
SCALINGS = ("mean", "sum")


def _strengths(model: MLP, value: float | Mapping[str, float], name: str) -> dict[str, float]:
    """``{full parameter name: strength}`` for ``value`` (a float or a mapping)."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        strength = check_number(value, name, 0.0)
        return {f"layer{i}/W": strength for i in range(len(model.layers))} if strength else {}
    if not isinstance(value, dict):
        raise TypeError(f"{name}: expected a number >= 0 or a mapping from parameter names to "
                        f"numbers, got {type(value).__name__}")
    ranked = []   # (specificity, full names, strength): kinds 0, layers 1, full names 2
    for key, strength in value.items():
        strength = check_number(strength, f"{name}[{key!r}]", 0.0)
        full = model.parameter_names(key, name)
        rank = 2 if (isinstance(key, str) and "/" in key) else (1 if key.startswith("layer") else 0)
        ranked.append((rank, full, strength))
    out = {}
    for rank in (0, 1, 2):
        for r, full, strength in ranked:
            if r == rank:
                out.update(dict.fromkeys(full, strength))
    order = [n for n, _ in model.named_parameters()]
    return {n: out[n] for n in order if n in out and out[n]}


class Penalty:
    """The penalty terms of one configuration: a list of ``(layer index, kind, l1, l2)``
    with the scaling folded into the kernel's arguments. False when there is none.

    Raises ``ValueError``/``TypeError`` naming ``l1``, ``l2`` or ``penalty`` for a
    negative or non-finite strength, an unknown parameter name or scaling."""

    def __init__(self, model: MLP, l1: float | Mapping[str, float] = 0.0, l2: float | Mapping[str, float] = 0.0,
                 scaling: str = "mean") -> None:
        self.scaling = check_choice(scaling, "penalty", SCALINGS)
        s1, s2 = _strengths(model, l1, "l1"), _strengths(model, l2, "l2")
        self.model = model
        self.terms: list[tuple[int, str, float, float]] = []
        if not (s1 or s2):      # no penalty (fit's default): no need to name every parameter
            return
        for name, _ in model.named_parameters():
            a, b = s1.get(name, 0.0), s2.get(name, 0.0)
            if a or b:
                layer, kind = name.split("/")
                self.terms.append((int(layer[len("layer"):]), kind, a, b))

    def __bool__(self) -> bool:
        return bool(self.terms)

    def uniform(self) -> tuple[float, float] | None:
        """``(l1, l2)`` if this is the classic configuration (``"mean"``, one strength on
        every weight matrix and nothing else) -- what a backend's fused plan knows --
        else ``None``."""
        if not self.terms:
            return 0.0, 0.0
        if self.scaling != "mean" or len(self.terms) != len(self.model.layers):
            return None
        pairs = {(a, b) for _, kind, a, b in self.terms if kind == "W"}
        if len(pairs) != 1 or any(kind != "W" for _, kind, _, _ in self.terms):
            return None
        return pairs.pop()

    def _args(self, l1: float, l2: float, m: int) -> tuple[float, float, int]:
        return (l1, l2, m) if self.scaling == "mean" else (l1, 2.0 * l2, 1)

    def value(self, kernels: object, m: int) -> float:
        """The penalty ``P`` of the model's current parameters for a batch of ``m``."""
        layers = self.model.layers
        return sum(kernels.penalty(getattr(layers[i], kind), *self._args(a, b, m))
                   for i, kind, a, b in self.terms)

    def add_gradients(self, kernels: object, m: int) -> None:
        """Add ``∂P/∂θ`` to each penalized parameter's gradient in ``layer.grads``."""
        layers = self.model.layers
        for i, kind, a, b in self.terms:
            layer = layers[i]
            layer.grads["d" + kind] = layer.grads["d" + kind] + kernels.penalty_gradient(
                getattr(layer, kind), *self._args(a, b, m))
