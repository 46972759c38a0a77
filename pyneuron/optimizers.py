"""Optimizers: how a gradient becomes a parameter update.

Each optimizer owns its state (velocities, moments, the step count ``t``) in
``self.state`` — one dict per parameter array, in the model's parameter order
— and applies its update through one backend kernel per array, in place.
Biases are updated exactly like weights.

A note on the tutorials: two of them write Adam's bias correction with a
fixed exponent (``1 − β``) instead of ``1 − βᵗ``; pyneuron uses the step
count ``t``, as Adam's paper does. One optimizer of theirs updated only
weights and left biases at their initial values; here every parameter moves.
"""
from __future__ import annotations

from .validation import check_number


class Optimizer:
    """Base class: ``step(kernels, params, grads)`` updates ``params`` in place."""

    def __init__(self, lr):
        self.lr = check_number(lr, "lr", 0.0, low_open=True)
        self.initial_lr = self.lr
        self.t = 0
        self.state = []

    def _settings(self):
        return {"lr": self.lr}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._settings().items())
        return f"{type(self).__name__}({args})"

    def get_config(self):
        """The constructor arguments (for saving)."""
        return dict(self._settings(), lr=self.initial_lr)

    def reset(self):
        """Forget all state (moments, velocities, the step count)."""
        self.t = 0
        self.state = []

    def _ensure_state(self, params, names):
        if len(self.state) != len(params) or any(
                s[n].shape != p.shape for s, p in zip(self.state, params) for n in names):
            self.state = [{n: p.copy() * 0 for n in names} for p in params]

    def step(self, kernels, params, grads):
        """Apply one update to every parameter array (in place)."""
        self.t += 1
        self._ensure_state(params, self.state_names)
        for p, g, s in zip(params, grads, self.state):
            self._update(kernels, p, g, s)

    state_names: tuple = ()

    def _update(self, kernels, p, g, s):
        raise NotImplementedError


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with (Nesterov) momentum — PyTorch's form.

    .. math:: v \leftarrow \mu v + g,\qquad
              \theta \leftarrow \theta - \eta\,(g + \mu v \text{ if Nesterov else } v)

    With ``momentum=0`` this is plain :math:`\theta \leftarrow \theta - \eta g`.
    """

    def __init__(self, lr=0.01, momentum=0.0, nesterov=False):
        super().__init__(lr)
        self.momentum = check_number(momentum, "momentum", 0.0, 1.0, high_open=True)
        if nesterov and self.momentum == 0:
            raise ValueError("nesterov: Nesterov momentum needs momentum > 0, got momentum=0")
        self.nesterov = bool(nesterov)
        self.state_names = ("velocity",) if self.momentum else ()

    def _settings(self):
        return {"lr": self.lr, "momentum": self.momentum, "nesterov": self.nesterov}

    def _update(self, kernels, p, g, s):
        if self.momentum:
            kernels.momentum_step(p, g, s["velocity"], self.lr, self.momentum, 0.0, self.nesterov)
        else:
            kernels.sgd_step(p, g, self.lr)


class Momentum(Optimizer):
    r"""Momentum as the tutorials write it: an exponential average of gradients.

    .. math:: v \leftarrow \beta v + (1-\beta) g,\qquad \theta \leftarrow \theta - \eta v

    This equals PyTorch's ``SGD(momentum=β)`` with the learning rate scaled by
    ``(1 − β)`` (its velocity is this one divided by ``1 − β``).
    """

    state_names = ("velocity",)

    def __init__(self, lr=0.01, beta=0.9):
        super().__init__(lr)
        self.beta = check_number(beta, "beta", 0.0, 1.0, high_open=True)

    def _settings(self):
        return {"lr": self.lr, "beta": self.beta}

    def _update(self, kernels, p, g, s):
        kernels.momentum_step(p, g, s["velocity"], self.lr, self.beta, self.beta, False)


class RMSprop(Optimizer):
    r"""RMSprop: divide by a running root-mean-square of recent gradients.

    .. math:: s \leftarrow \rho s + (1-\rho) g^2,\qquad
              \theta \leftarrow \theta - \eta\, g/(\sqrt{s}+\epsilon)

    (``rho`` is PyTorch's ``alpha``.)
    """

    state_names = ("square_avg",)

    def __init__(self, lr=0.001, rho=0.9, eps=1e-8):
        super().__init__(lr)
        self.rho = check_number(rho, "rho", 0.0, 1.0, high_open=True)
        self.eps = check_number(eps, "eps", 0.0, low_open=True)

    def _settings(self):
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

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(lr)
        self.beta1 = check_number(beta1, "beta1", 0.0, 1.0, high_open=True)
        self.beta2 = check_number(beta2, "beta2", 0.0, 1.0, high_open=True)
        self.eps = check_number(eps, "eps", 0.0, low_open=True)

    def _settings(self):
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

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
        super().__init__(lr, beta1, beta2, eps)
        self.decoupled_weight_decay = check_number(weight_decay, "weight_decay", 0.0)

    def _settings(self):
        return dict(super()._settings(), weight_decay=self.decoupled_weight_decay)


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW}


def get(name_or_optimizer, lr=None):
    """An optimizer from a name (``"adam"``) or an instance (returned as is)."""
    if isinstance(name_or_optimizer, Optimizer):
        return name_or_optimizer
    if isinstance(name_or_optimizer, str) and name_or_optimizer.lower() in OPTIMIZERS:
        cls = OPTIMIZERS[name_or_optimizer.lower()]
        return cls() if lr is None else cls(lr=lr)
    raise ValueError(f"optimizer: expected an Optimizer or one of {', '.join(map(repr, OPTIMIZERS))}, "
                     f"got {name_or_optimizer!r}")
