"""Gradient checking: is backprop right? Compare it with central differences.

For a parameter θ the numerical gradient is

    g_num = (L(θ + ε) − L(θ − ε)) / (2ε)

and the check reports, per parameter array and overall, the relative error

    ‖g_backprop − g_num‖ / max(‖g_backprop‖ + ‖g_num‖, 1e-3)

which is ~1e-9 or smaller for correct float64 gradients and ~1 for a wrong
one. The floor of 1e-3 keeps gradients that are truly zero (a bias followed
by batch norm) from turning round-off (~1e-10) into a relative error of 1.
Dropout is off and batch norm uses batch statistics (as in
``model.gradients``), so the loss is a deterministic function of θ.

Kinks. ReLU and leaky ReLU have a corner at z = 0: where a perturbation of
±ε moves some pre-activation ``z`` across 0, the loss is not differentiable
in between and the central difference averages two different slopes (with
``x = 0`` and ``b = 0`` it reports ½·relu'(0⁺) where backprop, like PyTorch,
uses relu'(0) = 0). Such entries are not errors of backprop, and the check
cannot judge them: for each entry it compares the sign pattern of every
ReLU-family layer's ``Z`` at θ + ε and θ − ε with the one at θ, and an entry
whose perturbation changes any sign is reported as a *kink* and left out of
the errors. The others are judged as usual.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .validation import check_number, check_positive_int

if TYPE_CHECKING:
    from .network import MLP

#: Denominator floor of the relative error (see the module docstring).
NORM_FLOOR = 1e-3
#: Activations with a kink at z = 0 (see the module docstring).
KINKED_ACTIVATIONS = ("relu", "leaky_relu")


@dataclass
class GradientCheckResult:
    """Relative errors per parameter array (``"W1"``, ``"b1"`` …) and overall.

    ``checked[name]`` counts the entries examined; ``kinks[name]`` lists the
    indices of those whose perturbation crossed a ReLU kink, which are not
    judged (their count is ``len(kinks[name])``); ``errors`` and ``overall``
    come from the other entries.
    """

    errors: dict[str, float]
    overall: float
    threshold: float
    eps: float
    checked: dict[str, int] = field(default_factory=dict)
    kinks: dict[str, list[tuple[int, ...]]] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return bool(self.overall < self.threshold)

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        lines = [f"gradient check (central differences, eps={self.eps:g}, threshold={self.threshold:g})"]
        for name, err in self.errors.items():
            at_kinks = len(self.kinks.get(name, ()))
            note = f", {at_kinks} at kinks, not judged" if at_kinks else ""
            lines.append(f"  {name:<8} relative error {err:.3e}  ({self.checked[name]} entries{note})")
        verdict = "PASS" if self.passed else "FAIL"
        lines.append(f"  overall  relative error {self.overall:.3e}  -> {verdict}")
        return "\n".join(lines)

    __repr__ = __str__


def _names(model: MLP) -> list[str]:
    names = []
    for i, layer in enumerate(model.layers, start=1):
        names += [f"{kind}{i}" for kind in layer.parameter_kinds()]   # no b{i} for a layer without bias
    return names


def gradient_check(model: MLP, X: np.typing.ArrayLike, y: np.typing.ArrayLike, eps: float = 1e-6, threshold: float = 1e-6,
                   max_checks_per_array: int | None = None, seed: int | None = 0,
                   gradients: list[np.typing.ArrayLike] | None = None) -> GradientCheckResult:
    """Check ``model.gradients(X, y)`` against central differences of ``model``'s loss.

    ``max_checks_per_array`` samples that many entries of each parameter array
    (for large nets); ``None`` checks every entry. ``gradients`` lets you pass
    gradients to check instead of the model's own (for example deliberately
    perturbed ones, to see the check fail). Parameters are restored afterwards.
    """
    if model.dtype != np.float64:
        raise ValueError(f"model: gradient checking needs a float64 model, got {model.dtype}: float32 "
                         "round-off (~1e-7) swamps central differences; check a copy built with "
                         "dtype='float64' (backprop is the same code in both)")
    eps = check_number(eps, "eps", 0.0, low_open=True)
    threshold = check_number(threshold, "threshold", 0.0, low_open=True)
    if max_checks_per_array is not None:
        max_checks_per_array = check_positive_int(max_checks_per_array, "max_checks_per_array")
    Xc = model.check_X(X)
    Y = model.encode_y(y, Xc.shape[0])
    analytic = model.gradients(Xc, y) if gradients is None else [np.asarray(g, dtype=float) for g in gradients]
    params = model.parameters()
    if len(analytic) != len(params) or any(g.shape != p.shape for g, p in zip(analytic, params)):
        raise ValueError("gradients: expected one array per parameter with matching shapes "
                         f"({[p.shape for p in params]}), got {[np.shape(g) for g in analytic]}")

    kinked = [layer for layer in model.layers if layer.activation in KINKED_ACTIVATIONS]

    def loss():
        """The loss at the current θ, and the sign pattern of every kinked layer's Z."""
        A = model._forward(Xc, batch_stats=model.batch_norm, update_stats=False)
        return model._data_loss(A, Y), [layer.cache["Z"] > 0 for layer in kinked]

    def same_side(a, b):
        return all(np.array_equal(x, y) for x, y in zip(a, b))

    _, signs = loss()
    rng = np.random.default_rng(seed)
    errors, checked, kinks = {}, {}, {}
    diff_sq = total_sq = 0.0
    for name, p, g in zip(_names(model), params, analytic):
        flat = p.reshape(-1)
        idx = np.arange(flat.size)
        if max_checks_per_array is not None and flat.size > max_checks_per_array:
            idx = rng.choice(flat.size, max_checks_per_array, replace=False)
        numeric = np.empty(len(idx))
        smooth = np.ones(len(idx), dtype=bool)
        for n, k in enumerate(idx):
            original = flat[k]
            flat[k] = original + eps
            up, signs_up = loss()
            flat[k] = original - eps
            down, signs_down = loss()
            flat[k] = original
            numeric[n] = (up - down) / (2 * eps)
            smooth[n] = same_side(signs_up, signs) and same_side(signs_down, signs)
        exact = g.reshape(-1)[idx][smooth]
        numeric = numeric[smooth]
        d = float(np.linalg.norm(exact - numeric))
        s = float(np.linalg.norm(exact) + np.linalg.norm(numeric))
        errors[name] = d / max(s, NORM_FLOOR)
        checked[name] = len(idx)
        kinks[name] = [tuple(int(i) for i in np.unravel_index(k, p.shape)) for k in np.asarray(idx)[~smooth]]
        diff_sq += d * d
        total_sq += s * s
    overall = float(np.sqrt(diff_sq) / max(np.sqrt(total_sq), NORM_FLOOR))
    return GradientCheckResult(errors, overall, threshold, eps, checked, kinks)
