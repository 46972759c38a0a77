"""Learning-rate schedules: ``lr = schedule(lr0, k)`` where ``k`` counts epochs
(``per="epoch"``, the default) or optimizer steps (``per="step"``), from 0.

==================  =====================================================
schedule            lr at count k
==================  =====================================================
Constant            lr0
InverseTimeDecay    lr0 / (1 + decay · k)          (seed 003's exercise)
StepDecay           lr0 · gamma^floor(k / step_size)
ExponentialDecay    lr0 · gamma^k
CosineDecay         min_lr + (lr0 − min_lr) · (1 + cos(π · min(k, T)/T)) / 2
==================  =====================================================
"""
from __future__ import annotations

import math

from .validation import check_choice, check_number, check_positive_int


class Schedule:
    """A learning-rate schedule: ``schedule(lr0, k)`` is the rate at count ``k``;
    ``per`` is what ``k`` counts, ``"epoch"`` or ``"step"`` (a ``ValueError`` otherwise)."""

    def __init__(self, per: str = "epoch") -> None:
        self.per = check_choice(per, "per", ("epoch", "step"))

    def __call__(self, lr0: float, k: int) -> float:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class Constant(Schedule):
    """``lr0`` at every count."""

    def __call__(self, lr0: float, k: int) -> float:
        return lr0


class InverseTimeDecay(Schedule):
    """``lr0 / (1 + decay · k)``; ``decay >= 0``."""

    def __init__(self, decay: float = 0.01, per: str = "epoch") -> None:
        super().__init__(per)
        self.decay = check_number(decay, "decay", 0.0)

    def __call__(self, lr0: float, k: int) -> float:
        return lr0 / (1.0 + self.decay * k)


class StepDecay(Schedule):
    """``lr0 · gamma^floor(k / step_size)``: multiplied by ``gamma > 0`` every
    ``step_size`` counts (an integer >= 1)."""

    def __init__(self, step_size: int = 10, gamma: float = 0.5, per: str = "epoch") -> None:
        super().__init__(per)
        self.step_size = check_positive_int(step_size, "step_size")
        self.gamma = check_number(gamma, "gamma", 0.0, low_open=True)

    def __call__(self, lr0: float, k: int) -> float:
        return lr0 * self.gamma ** (k // self.step_size)


class ExponentialDecay(Schedule):
    """``lr0 · gamma^k``; ``gamma > 0``."""

    def __init__(self, gamma: float = 0.99, per: str = "epoch") -> None:
        super().__init__(per)
        self.gamma = check_number(gamma, "gamma", 0.0, low_open=True)

    def __call__(self, lr0: float, k: int) -> float:
        return lr0 * self.gamma ** k


class CosineDecay(Schedule):
    """``min_lr + (lr0 − min_lr) · (1 + cos(π · min(k, T)/T)) / 2`` with ``T = total``
    (an integer >= 1): half a cosine from ``lr0`` down to ``min_lr``, then flat."""

    def __init__(self, total: int = 100, min_lr: float = 0.0, per: str = "epoch") -> None:
        super().__init__(per)
        self.total = check_positive_int(total, "total")
        self.min_lr = check_number(min_lr, "min_lr", 0.0)

    def __call__(self, lr0: float, k: int) -> float:
        progress = min(k, self.total) / self.total
        return self.min_lr + (lr0 - self.min_lr) * (1.0 + math.cos(math.pi * progress)) / 2.0
