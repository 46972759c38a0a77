"""A dense layer: ``Z = X Wᵀ + b``, optional batch normalization, activation,
optional inverted dropout — each step a backend kernel.

Forward keeps what backward needs in ``layer.cache`` (its input, ``Z``, the
output ``A``, the dropout mask, the batch-norm ``Ẑ``). After ``backward`` the
layer's gradients sit in ``layer.grads`` (``dW``, ``db`` and, with batch norm,
``dgamma``, ``dbeta``), in the same order as :meth:`Dense.parameters`.

A layer built with ``b=None`` has no bias parameter (like ``torch.nn.Linear(bias=False)``):
``parameters()`` and ``gradients()`` leave it out, and ``layer.b`` is a read-only array of
zeros that the kernels add (so every kernel keeps its one signature). Any parameter can be
*frozen* (``layer.frozen`` holds its kind, ``"W"``, ``"b"``, ``"gamma"`` or ``"beta"``): it
is used forward and gets its gradient computed, but training never updates it.
"""
from __future__ import annotations

import numpy as np

from ._slope import warn_alpha_attribute
from .validation import check_bool


class Dense:
    """One fully connected layer of ``n_out`` neurons, each seeing ``n_in`` inputs.

    ``W[i]`` is neuron ``i``'s row of incoming weights (shape ``(n_out, n_in)``,
    as in PyTorch's ``Linear``) and ``b[i]`` its bias (``b=None``: no bias at all).
    ``mask_source``, if given, is called as ``mask_source(shape)`` for each dropout mask
    instead of drawing it from the generator (see ``MLP(dropout_masks=...)``).
    """

    def __init__(self, W, b, activation, negative_slope=0.01, dropout=0.0, batch_norm=False,
                 bn_momentum=0.1, bn_eps=1e-5, mask_source=None):
        self.W = W
        self.has_bias = b is not None
        if b is None:
            b = np.zeros(W.shape[0], dtype=W.dtype)
            b.flags.writeable = False        # a constant 0, never a parameter
        self.b = b
        self.frozen = set()
        self.mask_source = mask_source
        self.activation = activation
        self.negative_slope = negative_slope
        self.dropout = dropout
        self.batch_norm = check_bool(batch_norm, "batch_norm")
        self.bn_momentum = bn_momentum
        self.bn_eps = bn_eps
        n_out = W.shape[0]
        if batch_norm:
            self.gamma = np.ones(n_out, dtype=W.dtype)
            self.beta = np.zeros(n_out, dtype=W.dtype)
            self.running_mean = np.zeros(n_out, dtype=W.dtype)
            self.running_var = np.ones(n_out, dtype=W.dtype)
        self.cache = {}
        self.grads = {}

    @property
    def alpha(self):
        """Deprecated read-only name of ``negative_slope``, the leaky-ReLU slope (warns)."""
        warn_alpha_attribute("Dense")
        return self.negative_slope

    @property
    def n_in(self):
        return self.W.shape[1]

    @property
    def n_out(self):
        return self.W.shape[0]

    def parameter_kinds(self):
        """The names of this layer's parameters, in :meth:`parameters`' order:
        ``"W"``, ``"b"`` (if it has a bias), then ``"gamma"``, ``"beta"`` with batch norm."""
        return ["W"] + (["b"] if self.has_bias else []) + (["gamma", "beta"] if self.batch_norm else [])

    def parameters(self):
        """The parameter arrays (frozen ones included), in a fixed order: W, b (then gamma,
        beta with batch norm); a layer without bias has no b here."""
        return [getattr(self, k) for k in self.parameter_kinds()]

    def gradients(self):
        """The gradients of :meth:`parameters`, same order (after :meth:`backward`)."""
        return [self.grads["d" + k] for k in self.parameter_kinds()]

    def __repr__(self):
        extras = ""
        if self.activation == "leaky_relu":
            extras += f", negative_slope={self.negative_slope}"
        if self.batch_norm:
            extras += ", batch_norm=True"
        if self.dropout:
            extras += f", dropout={self.dropout}"
        if not self.has_bias:
            extras += ", bias=False"
        if self.frozen:
            extras += f", frozen={sorted(self.frozen)}"
        return f"Dense({self.n_in} -> {self.n_out}, activation={self.activation!r}{extras})"

    # -------------------------------------------------------------- forward
    def forward(self, kernels, X, batch_stats=False, rng=None, update_stats=True):
        """``A = dropout(f(BN(X Wᵀ + b)))``; keeps what :meth:`backward` needs.

        ``batch_stats``: batch norm normalizes with this batch's statistics (the
        training graph; running statistics are updated if ``update_stats``),
        otherwise with the running ones (inference). Dropout is applied only
        when an ``rng`` is given to draw its mask from.
        """
        cache = {"X": X}
        if self.batch_norm:
            Z_lin = kernels.linear_forward(X, self.W, self.b)
            cache["Z_lin"] = Z_lin
            if batch_stats:
                Z, Zhat, mean, var = kernels.batchnorm_forward(Z_lin, self.gamma, self.beta, self.bn_eps)
                cache.update(Zhat=Zhat, var=var)
                if update_stats:
                    self._update_running_stats(mean, var, X.shape[0])
            else:
                Z = kernels.batchnorm_inference(Z_lin, self.gamma, self.beta,
                                                self.running_mean, self.running_var, self.bn_eps)
            A = kernels.activation_forward(self.activation, Z, self.negative_slope)
        else:
            Z, A = kernels.dense_forward(X, self.W, self.b, self.activation, self.negative_slope)
        cache["Z"], cache["A"] = Z, A
        if rng is not None and self.dropout > 0.0:
            keep = 1.0 - self.dropout
            if self.mask_source is not None:
                mask = self.mask_source(A.shape).astype(A.dtype, copy=False)
            else:
                mask = (rng.random(A.shape) < keep).astype(A.dtype)
            cache["mask"] = mask
            A = kernels.dropout_forward(A, mask, keep)
        cache["out"] = A
        self.cache = cache
        return A

    def _update_running_stats(self, mean, var, m):
        # One sample has no variance (its batch variance is 0, the unbiased one 0/0):
        # mixing it in would pull running_var towards 0 and blow up inference.
        if m < 2:
            return
        # PyTorch's convention: running variance uses the unbiased batch variance.
        unbiased = var * (m / (m - 1))
        mom = self.bn_momentum
        self.running_mean[...] = (1 - mom) * self.running_mean + mom * mean
        self.running_var[...] = (1 - mom) * self.running_var + mom * unbiased

    # -------------------------------------------------------------- backward
    def backward(self, kernels, dA=None, dZ=None):
        """Back through the layer from ``dA`` (gradient at its output) or, for
        the output layer's fused ``A − Y``, from ``dZ`` directly. Stores
        ``self.grads`` and returns ``dX``, the gradient for the layer below."""
        c = self.cache
        if dZ is None:
            if "mask" in c:
                dA = kernels.dropout_backward(dA, c["mask"], 1.0 - self.dropout)
            dZ = kernels.activation_backward(self.activation, dA, c["Z"], c["A"], self.negative_slope)
        if self.batch_norm:
            dZ, dgamma, dbeta = kernels.batchnorm_backward(dZ, c["Zhat"], self.gamma, c["var"], self.bn_eps)
            self.grads["dgamma"], self.grads["dbeta"] = dgamma, dbeta
        dX, dW, db = kernels.linear_backward(dZ, c["X"], self.W)
        self.grads["dZ"], self.grads["dW"] = dZ, dW
        if self.has_bias:
            self.grads["db"] = db
        else:
            self.grads.pop("db", None)
        return dX
