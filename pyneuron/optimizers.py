"""Optimizers: how a gradient becomes a parameter update.

Each optimizer owns its state (velocities, moments, the step count ``t``) in
``self.state`` — one dict per parameter array, in the model's parameter order
— and applies its update through one backend kernel per array, in place.
Biases are updated exactly like weights.

A note on the tutorials: two of them write Adam's bias correction with a
fixed exponent (``1 − β``) instead of ``1 − βᵗ``; pyneuron uses the step
count ``t``, as Adam's paper does. One optimizer of theirs updated only
weights and left biases at their initial values; here every parameter moves
(unless frozen: ``model.freeze("b")``).

Every optimizer takes ``decay`` (default 0): the learning rate of step ``t`` (counted
from 0, before each update) is ``η₀ / (1 + decay·t)``, as the "from scratch" book's
optimizers apply it and as PyTorch's ``Adagrad(lr_decay=...)`` does -- counted in
steps, not epochs (for a per-epoch decay use ``fit(lr_schedule=...)``).
"""
from __future__ import annotations

import numpy as np

from .validation import check_bool, check_choice, check_number


class Optimizer:
    """Base class: ``step(kernels, params, grads)`` updates ``params`` in place."""

    def __init__(self, lr: float, decay: float = 0.0) -> None:
        self.lr = check_number(lr, "lr", 0.0, low_open=True)
        self.initial_lr = self.lr
        self.decay = check_number(decay, "decay", 0.0)
        self.t = 0
        self.state = []

    def _settings(self) -> dict[str, object]:
        return {"lr": self.lr}

    def _all_settings(self) -> dict[str, object]:
        settings = self._settings()
        if self.decay:
            settings["decay"] = self.decay
        return settings

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._all_settings().items())
        return f"{type(self).__name__}({args})"

    def get_config(self) -> dict[str, object]:
        """The constructor arguments (for saving)."""
        return dict(self._all_settings(), lr=self.initial_lr)

    def lr_at(self, t: int) -> float:
        """The learning rate of the step that follows ``t`` steps: ``η₀ / (1 + decay·t)``
        (the current ``lr`` when ``decay`` is 0)."""
        return self.initial_lr / (1.0 + self.decay * t) if self.decay else self.lr

    def reset(self) -> None:
        """Forget all state (moments, velocities, the step count)."""
        self.t = 0
        self.state = []

    def _ensure_state(self, params, names):
        if len(self.state) != len(params) or any(
                s[n].shape != p.shape for s, p in zip(self.state, params) for n in names):
            self.state = [{n: p.copy() * 0 for n in names} for p in params]

    def step(self, kernels: object, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """Apply one update to every parameter array (in place); with ``decay``, the
        learning rate is first set to :meth:`lr_at` of the steps taken so far."""
        if self.decay:
            self.lr = self.lr_at(self.t)
        self.t += 1
        self._ensure_state(params, self.state_names)
        for p, g, s in zip(params, grads, self.state):
            self._update(kernels, p, g, s)

    state_names: tuple[str, ...] = ()

    def _update(self, kernels, p, g, s):
        raise NotImplementedError


def _check_form(form: str, choices: tuple[str, ...]) -> str:
    return check_choice(form, "form", choices)


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with (Nesterov) momentum.

    ``form="torch"`` (the default), PyTorch's:

    .. math:: v \leftarrow \mu v + g,\qquad
              \theta \leftarrow \theta - \eta\,(g + \mu v \text{ if Nesterov else } v)

    ``form="course"``, the classic courses' (the velocity carries the learning rate):

    .. math:: v \leftarrow \mu v - \eta g,\qquad \theta \leftarrow \theta + v

    With a constant :math:`\eta` the two give the same weights (the course's ``v`` is
    ``−η`` times PyTorch's). They differ when :math:`\eta` changes over time (``decay``,
    a schedule): the course's velocity keeps each past gradient at the rate it was
    taken with, PyTorch's applies today's rate to all of them. ``nesterov`` exists in
    PyTorch's form only. With ``momentum=0`` both are plain
    :math:`\theta \leftarrow \theta - \eta g`.
    """

    def __init__(self, lr: float = 0.01, momentum: float = 0.0, nesterov: bool = False, decay: float = 0.0,
                 form: str = "torch") -> None:
        super().__init__(lr, decay)
        self.momentum = check_number(momentum, "momentum", 0.0, 1.0, high_open=True)
        nesterov = check_bool(nesterov, "nesterov")
        if nesterov and self.momentum == 0:
            raise ValueError("nesterov: Nesterov momentum needs momentum > 0, got momentum=0")
        self.form = _check_form(form, ("torch", "course"))
        if nesterov and self.form == "course":
            raise ValueError("nesterov: Nesterov momentum is written in PyTorch's form; "
                             "use form='torch' with nesterov=True")
        self.nesterov = nesterov
        self.state_names = ("velocity",) if self.momentum else ()

    def _settings(self) -> dict[str, object]:
        settings: dict[str, object] = {"lr": self.lr, "momentum": self.momentum, "nesterov": self.nesterov}
        if self.form != "torch":
            settings["form"] = self.form
        return settings

    def _update(self, kernels, p, g, s):
        if self.momentum and self.form == "course":
            kernels.momentum_course_step(p, g, s["velocity"], self.lr, self.momentum)
        elif self.momentum:
            kernels.momentum_step(p, g, s["velocity"], self.lr, self.momentum, 0.0, self.nesterov)
        else:
            kernels.sgd_step(p, g, self.lr)


class Momentum(Optimizer):
    r"""Momentum as the tutorials write it: an exponential average of gradients.

    .. math:: v \leftarrow \beta v + (1-\beta) g,\qquad \theta \leftarrow \theta - \eta v

    This equals PyTorch's ``SGD(momentum=β)`` with the learning rate scaled by
    ``(1 − β)`` (its velocity is this one divided by ``1 − β``).

    ``form="course"`` instead takes the courses' form, :math:`v \leftarrow \beta v - \eta g,
    \ \theta \leftarrow \theta + v` -- the same as ``SGD(momentum=beta, form="course")``;
    see :class:`SGD` for how it differs from PyTorch's.
    """

    state_names = ("velocity",)

    def __init__(self, lr: float = 0.01, beta: float = 0.9, decay: float = 0.0, form: str = "average") -> None:
        super().__init__(lr, decay)
        self.beta = check_number(beta, "beta", 0.0, 1.0, high_open=True)
        self.form = _check_form(form, ("average", "course"))

    def _settings(self) -> dict[str, object]:
        settings: dict[str, object] = {"lr": self.lr, "beta": self.beta}
        if self.form != "average":
            settings["form"] = self.form
        return settings

    def _update(self, kernels, p, g, s):
        if self.form == "course":
            kernels.momentum_course_step(p, g, s["velocity"], self.lr, self.beta)
        else:
            kernels.momentum_step(p, g, s["velocity"], self.lr, self.beta, self.beta, False)


class Adagrad(Optimizer):
    r"""Adagrad (Duchi, Hazan & Singer, 2011): each weight's step shrinks with the sum of
    all its squared gradients so far.

    .. math:: G \leftarrow G + g^2,\qquad
              \theta \leftarrow \theta - \eta\,\frac{g}{\sqrt{G} + \epsilon}

    The ε convention: ε is added *outside* the square root, as in PyTorch's ``Adagrad``
    (default ε = 1e-10, used here) and the "from scratch" book (which uses ε = 1e-7:
    ``Adagrad(eps=1e-7)``). ``G`` starts at 0 (PyTorch's ``initial_accumulator_value=0``).
    ``decay`` is PyTorch's ``lr_decay``: step ``t`` (from 0) uses ``η/(1 + decay·t)``.
    """

    state_names = ("square_sum",)

    def __init__(self, lr: float = 0.01, eps: float = 1e-10, decay: float = 0.0) -> None:
        super().__init__(lr, decay)
        self.eps = check_number(eps, "eps", 0.0, low_open=True)

    def _settings(self) -> dict[str, object]:
        return {"lr": self.lr, "eps": self.eps}

    def _update(self, kernels, p, g, s):
        kernels.adagrad_step(p, g, s["square_sum"], self.lr, self.eps)


class RMSprop(Optimizer):
    r"""RMSprop: divide by a running root-mean-square of recent gradients.

    .. math:: s \leftarrow \rho s + (1-\rho) g^2,\qquad
              \theta \leftarrow \theta - \eta\, g/(\sqrt{s}+\epsilon)

    (``rho`` is PyTorch's ``alpha``.)
    """

    state_names = ("square_avg",)

    def __init__(self, lr: float = 0.001, rho: float = 0.9, eps: float = 1e-8, decay: float = 0.0) -> None:
        super().__init__(lr, decay)
        self.rho = check_number(rho, "rho", 0.0, 1.0, high_open=True)
        self.eps = check_number(eps, "eps", 0.0, low_open=True)

    def _settings(self) -> dict[str, object]:
        return {"lr": self.lr, "rho": self.rho, "eps": self.eps}

    def _update(self, kernels, p, g, s):
        kernels.rmsprop_step(p, g, s["square_avg"], self.lr, self.rho, self.eps)


class Adam(Optimizer):
    r"""Adam: momentum and RMSprop together, with bias correction by the step count t.

    .. math:: m \leftarrow \beta_1 m + (1-\beta_1) g,\quad
              v \leftarrow \beta_2 v + (1-\beta_2) g^2,\quad
              \hat m = \frac{m}{1-\beta_1^t},\quad \hat v = \frac{v}{1-\beta_2^t},\quad
              \theta \leftarrow \theta - \eta\frac{\hat m}{\sqrt{\hat v}+\epsilon}

    Without the correction the first steps are far too small (m and v start
    at zero); ``t`` counts calls to :meth:`step`.
    """

    state_names = ("m", "v")
    decoupled_weight_decay = 0.0

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 decay: float = 0.0) -> None:
        super().__init__(lr, decay)
        self.beta1 = check_number(beta1, "beta1", 0.0, 1.0, high_open=True)
        self.beta2 = check_number(beta2, "beta2", 0.0, 1.0, high_open=True)
        self.eps = check_number(eps, "eps", 0.0, low_open=True)

    def _settings(self) -> dict[str, object]:
        return {"lr": self.lr, "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}

    def _update(self, kernels, p, g, s):
        kernels.adam_step(p, g, s["m"], s["v"], self.lr, self.beta1, self.beta2, self.eps,
                          self.t, self.decoupled_weight_decay)


class AdamW(Adam):
    r"""Adam with decoupled weight decay: before the Adam step,
    :math:`\theta \leftarrow \theta(1-\eta\lambda)`.

    Unlike an L2 term in the loss (``fit(l2=...)``, whose gradient Adam would
    rescale), the decay here shrinks every weight by the same fraction.
    """

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 weight_decay: float = 0.01, decay: float = 0.0) -> None:
        super().__init__(lr, beta1, beta2, eps, decay)
        self.decoupled_weight_decay = check_number(weight_decay, "weight_decay", 0.0)

    def _settings(self) -> dict[str, object]:
        return dict(super()._settings(), weight_decay=self.decoupled_weight_decay)


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW,
              "adagrad": Adagrad}


def get(name_or_optimizer: Optimizer | str, lr: float | None = None) -> Optimizer:
    """An optimizer from a name (``"adam"``) or an instance (returned as is)."""
    if isinstance(name_or_optimizer, Optimizer):
        return name_or_optimizer
    if isinstance(name_or_optimizer, str) and name_or_optimizer.lower() in OPTIMIZERS:
        cls = OPTIMIZERS[name_or_optimizer.lower()]
        return cls() if lr is None else cls(lr=lr)
    raise ValueError(f"optimizer: expected an Optimizer or one of {', '.join(map(repr, OPTIMIZERS))}, "
                     f"got {name_or_optimizer!r}")
