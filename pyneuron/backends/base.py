"""The kernel interface every backend implements.

A backend is a set of *kernels*: small functions with fixed names and
signatures that do the arithmetic of a multi-layer perceptron. The model,
the optimizers and the training loop call only these kernels, so they never
know which backend runs (``scalar``, ``numpy`` or ``c``).

Conventions shared by every kernel
----------------------------------
* Arrays are NumPy arrays; data is ``(n_samples, n_features)``.
* A dense layer's ``W`` has shape ``(n_out, n_in)`` and ``b`` has ``(n_out,)``.
* Kernels that *return* arrays allocate them in Python (the C backend passes
  those buffers into C, which never allocates).
* Kernels whose name ends in ``_step`` update their first arguments in place
  (parameters and optimizer state) and return ``None``.
* ``m`` below is the number of samples (rows of ``X``).
* The leaky-ReLU slope is ``negative_slope`` (torch's name; default 0.01), the last
  positional parameter of the kernels that take it. pyneuron always passes it by
  position; its old name ``alpha`` still works for one release as a keyword of the
  built-in backends (see :mod:`pyneuron.backends.slope_name`).

Subclasses implement the primitive kernels (marked abstract). The *fused*
kernels (``dense_forward``, ``dense_backward``, ``sgd_train_step``) have a
default written in terms of the primitives; a backend that can do the whole
unit of work faster (one C call instead of many) overrides them, and the
model never notices.
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod

import numpy as np

from .kernel_checks import ACTIVATIONS, LOSSES  # noqa: F401 (the interface's names, imported from here)
from .kernel_checks import (check_batch, check_layers, check_sample_weights, check_shape,
                            check_softmax_outputs)
from .slope_name import DEFAULT_NEGATIVE_SLOPE, old_slope_keyword

#: Probabilities are clipped to [EPS, 1 - EPS] before a log is taken.
PROB_EPS = 1e-12
#: (output activation, loss) pairs whose loss value is computed from the logits
#: ``Z`` by :meth:`Backend.loss_from_logits`, never from clipped probabilities.
LOGIT_LOSSES = {("sigmoid", "bce"): "bce", ("softmax", "cce"): "cce"}


def _unit_scaled(weights):
    r"""``weights`` (float64 ``(m,)``, >= 0) times the power of two that brings the largest
    into [0.5, 1), or ``None`` when there are none or all are 0.

    Only the exponents change, so the scaling is exact, and :math:`\sum_s w_s \ell_s /
    \sum_s w_s` and :math:`m\,w_s / \sum_r w_r` (ratios of weights) are the same numbers
    as from the unscaled weights, rounding included; but the sum then lies in [0.5, m].
    Unscaled, a batch whose one weight is 5e-324 has a subnormal sum: the loss keeps none
    of its digits and :math:`m / \sum w` overflows to inf; weights near 1.8e308 overflow
    the sum instead."""
    if weights.size == 0:
        return None
    top = float(np.max(weights))
    if top == 0.0:
        return None
    return np.ldexp(weights, -math.frexp(top)[1])


def check_targets(Y, outputs, name="A"):
    """Refuse targets ``Y`` whose shape is not that of the outputs they are compared with
    (``A``, or the logits ``Z``): a loss kernel would otherwise pair rows with ``zip``
    and drop the extra ones (scalar) or fail inside NumPy's broadcasting.

    Raises ``ValueError`` naming both shapes."""
    if np.shape(Y) != np.shape(outputs):
        raise ValueError(f"Y: expected the shape of {name}, {np.shape(outputs)}, got {np.shape(Y)}")


def check_loss_inputs(Y, outputs, name="A"):
    """:func:`check_targets`, and refuse outputs with no value: a mean loss over none is
    0/0 (NaN in NumPy, ``ZeroDivisionError`` in Python). Raises ``ValueError``."""
    check_targets(Y, outputs, name)
    if np.size(outputs) == 0:
        raise ValueError(f"{name}: expected at least one value to take the mean loss over, "
                         f"got shape {np.shape(outputs)}")


class Backend(ABC):
    """Abstract kernel set. See the module docstring for conventions."""

    #: Short name used by ``pyneuron.set_backend``.
    name: str = "abstract"
    #: Floating dtypes the backend computes in natively.
    dtypes: tuple = (np.float64,)

    def __repr__(self) -> str:
        return f"<pyneuron backend {self.name!r}>"

    # ------------------------------------------------------------------ linear algebra
    @abstractmethod
    def matmul(self, A, B, trans_a=False, trans_b=False):
        r"""Matrix product in the three forms backprop needs.

        .. math:: C = \operatorname{op}(A)\,\operatorname{op}(B),\quad
                  \operatorname{op}(M) = M \text{ or } M^\top

        ``trans_a`` / ``trans_b`` read the operand transposed *without*
        making a transposed copy: ``C[i][j] = sum_k op(A)[i][k] * op(B)[k][j]``.
        """

    @abstractmethod
    def linear_forward(self, X, W, b):
        r"""Pre-activation of a dense layer.

        .. math:: Z = X W^\top + b,\qquad Z_{si} = b_i + \sum_j W_{ij} X_{sj}

        ``X`` (m, n_in), ``W`` (n_out, n_in), ``b`` (n_out,) -> ``Z`` (m, n_out).
        """

    @abstractmethod
    def linear_backward(self, dZ, X, W):
        r"""Gradients of a dense layer's linear part.

        .. math:: dX = dZ\,W,\qquad dW = dZ^\top X,\qquad db_i = \sum_s dZ_{si}

        Returns ``(dX, dW, db)`` with the shapes of ``X``, ``W`` and ``b``.
        """

    # ------------------------------------------------------------------ activations
    @abstractmethod
    def activation_forward(self, name, Z, negative_slope=DEFAULT_NEGATIVE_SLOPE):
        r"""Element-wise (row-wise for softmax) activation ``A = f(Z)``.

        * sigmoid  :math:`\sigma(z) = 1/(1+e^{-z})`, evaluated without overflow
          (for z < 0 as :math:`e^{z}/(1+e^{z})`)
        * tanh     :math:`\tanh z`
        * relu     :math:`\max(0, z)`
        * leaky_relu :math:`z` if z > 0 else :math:`s z`, :math:`s` = ``negative_slope``
          (torch's ``LeakyReLU(negative_slope)``)
        * softmax  :math:`e^{z_i - \max_j z_j} / \sum_k e^{z_k - \max_j z_j}` per row
        * linear   :math:`z`
        """

    @abstractmethod
    def activation_backward(self, name, dA, Z, A, negative_slope=DEFAULT_NEGATIVE_SLOPE):
        r"""Chain rule through the activation: ``dZ = dA * f'(Z)``.

        * sigmoid    :math:`f' = a(1-a)`
        * tanh       :math:`f' = 1-a^2`
        * relu       :math:`f' = 1` if z > 0 else 0
        * leaky_relu :math:`f' = 1` if z > 0 else :math:`s` = ``negative_slope``
        * linear     :math:`f' = 1`
        * softmax    (row-wise Jacobian-vector product)
          :math:`dz_i = a_i\,(da_i - \sum_k da_k a_k)`

        ``Z`` and ``A`` have ``dA``'s shape, which for softmax is ``(m, k)``; otherwise
        ``ValueError`` (:func:`check_activation_backward`).
        """

    @abstractmethod
    def softmax(self, Z):
        r"""Row-wise softmax with the row maximum subtracted first.

        .. math:: A_{si} = \frac{e^{Z_{si}-\max_k Z_{sk}}}{\sum_j e^{Z_{sj}-\max_k Z_{sk}}}

        ``Z`` is ``(m, k)`` with ``k >= 1``; otherwise ``ValueError``
        (:func:`check_softmax_input`).
        """

    # ------------------------------------------------------------------ losses
    @abstractmethod
    def loss_value(self, loss, A, Y):
        r"""Mean loss of predictions ``A`` against targets ``Y`` (same shape).

        * mse  :math:`\frac{1}{mk}\sum (a-y)^2` (mean over every element)
        * bce  :math:`-\frac{1}{mk}\sum [y\log a + (1-y)\log(1-a)]`
        * cce  :math:`-\frac{1}{m}\sum_s \sum_i y_{si}\log a_{si}`

        Probabilities are clipped to ``[PROB_EPS, 1-PROB_EPS]`` so log(0)
        never happens, which caps each term at 27.63: a model with a sigmoid +
        bce or softmax + cce output reports its loss with :meth:`loss_from_logits`
        instead (see :meth:`data_loss`). Returns a Python float.
        """

    @abstractmethod
    def loss_from_logits(self, loss, Z, Y):
        r"""Mean BCE or cross-entropy computed from the output layer's pre-activation ``Z``.

        ``loss="bce"`` (sigmoid output): mean over all :math:`mk` elements of

        .. math:: \ell(z, y) = -[y\log\sigma(z) + (1-y)\log(1-\sigma(z))]
                             = \operatorname{softplus}(z) - y z,\qquad
                  \operatorname{softplus}(z) = \max(z, 0) + \log(1 + e^{-|z|})

        ``loss="cce"`` (softmax output): mean over the :math:`m` rows of

        .. math:: \ell(z, y) = -\sum_i y_i \log\operatorname{softmax}(z)_i
                             = \operatorname{logsumexp}(z) - \sum_i y_i z_i,\qquad
                  \operatorname{logsumexp}(z) = \max_j z_j + \log\sum_i e^{z_i - \max_j z_j}

        Why from ``Z``: a probability that rounds to 0 or 1 has lost the loss's
        information. Clipping it to ``[PROB_EPS, 1 - PROB_EPS]`` caps every term at
        ``-log(1e-12) = 27.63``, so a sigmoid unit with ``z = 30`` and label 0
        would report 27.63 instead of ``softplus(30) = 30.0000000000000936``; in
        float32, ``sigmoid(17)`` rounds to ``1 - 6e-8`` (term 16.64) or to 1 (27.63),
        where the true value is 17.0000000414. Both forms above are exact identities
        (the log-sigmoid and log-softmax of the textbook) and never overflow:
        ``exp`` is only taken of numbers ``<= 0``. Each term is summed as
        ``(max(z, 0) - y z) + log1p(e^{-|z|})`` and ``(max_j z_j - sum_i y_i z_i) +
        log1p(sum_{i != argmax} e^{z_i - max_j z_j})``: the first part is exactly 0 for a confident
        right answer, so the small second part keeps its digits (``z = 40, y = 1``
        gives 4.2e-18, not 0).

        ``Z`` and ``Y`` have the same shape ``(m, k)``; ``Y`` holds 0/1 labels (bce)
        or one-hot rows (cce). Every term is computed and summed in float64 for
        float32 inputs too. Returns a Python float; a non-finite ``Z`` gives a
        non-finite value (training reads it as divergence). Raises ``ValueError``
        for a loss other than ``"bce"`` or ``"cce"``.
        """

    @abstractmethod
    def loss_gradient(self, loss, A, Y):
        r"""Gradient of :meth:`loss_value` with respect to ``A``.

        * mse  :math:`\frac{2}{mk}(a-y)`
        * bce  :math:`\frac{1}{mk}\,\frac{a-y}{a(1-a)}` (``a`` clipped)
        * cce  :math:`-\frac{1}{m}\,y/a` (``a`` clipped)
        """

    @abstractmethod
    def output_delta(self, A, Y, n_terms):
        r"""Fused output gradient for sigmoid + BCE and softmax + CE.

        .. math:: dZ = \frac{A - Y}{N}

        where ``N = n_terms`` is the number of terms the loss averages over
        (m*k for BCE, m for CE). The sigmoid / softmax derivative cancels
        against the loss derivative, which is why this is exact and stable.
        """

    # ------------------------------------------------------------------ regularization
    @abstractmethod
    def penalty(self, W, l1, l2, m):
        r"""Weight penalty added to the loss (the tutorials' convention).

        .. math:: P = \frac{\lambda_2}{2m}\sum W^2 + \frac{\lambda_1}{m}\sum |W|
        """

    @abstractmethod
    def penalty_gradient(self, W, l1, l2, m):
        r"""Gradient of :meth:`penalty`: :math:`\frac{\lambda_2}{m}W + \frac{\lambda_1}{m}\operatorname{sign}(W)`."""

    @abstractmethod
    def dropout_forward(self, A, mask, keep_prob):
        r"""Inverted dropout at training time: :math:`A \odot M / p`.

        ``mask`` holds 0/1 drawn by the model (keep with probability ``p``);
        dividing by ``p`` keeps the expected activation unchanged, so at
        inference dropout is the identity. ``mask`` has ``A``'s shape and ``p`` is a
        finite real number in (0, 1]; otherwise ``ValueError`` or ``TypeError``
        (:func:`check_dropout`).
        """

    @abstractmethod
    def dropout_backward(self, dA, mask, keep_prob):
        r"""Gradient of inverted dropout: :math:`dA \odot M / p`."""

    @abstractmethod
    def batchnorm_forward(self, Z, gamma, beta, eps):
        r"""Batch normalization in training mode, per feature (column).

        .. math:: \mu = \frac1m\sum_s Z_s,\quad
                  \sigma^2 = \frac1m\sum_s (Z_s-\mu)^2,\quad
                  \hat Z = \frac{Z-\mu}{\sqrt{\sigma^2+\epsilon}},\quad
                  Y = \gamma\hat Z + \beta

        Returns ``(Y, Zhat, mean, var)`` (``var`` is the biased batch variance).
        """

    @abstractmethod
    def batchnorm_inference(self, Z, gamma, beta, running_mean, running_var, eps):
        r"""Batch normalization in inference mode, with running statistics.

        .. math:: Y = \gamma\frac{Z-\mu_{run}}{\sqrt{\sigma^2_{run}+\epsilon}} + \beta
        """

    @abstractmethod
    def batchnorm_backward(self, dY, Zhat, gamma, var, eps):
        r"""Gradients of training-mode batch normalization.

        .. math:: d\beta = \sum_s dY_s,\quad d\gamma = \sum_s dY_s\hat Z_s,\quad
                  dZ = \frac{\gamma}{m\sqrt{\sigma^2+\epsilon}}
                       \Big(m\,dY - d\beta - \hat Z\, d\gamma\Big)

        Returns ``(dZ, dgamma, dbeta)``.
        """

    # ------------------------------------------------------------------ optimizer steps (in place)
    @abstractmethod
    def sgd_step(self, param, grad, lr):
        r"""Plain gradient descent, in place: :math:`\theta \leftarrow \theta - \eta g`."""

    @abstractmethod
    def momentum_step(self, param, grad, velocity, lr, beta, dampening, nesterov):
        r"""Momentum, in place (covers PyTorch's SGD and the tutorials' form).

        .. math:: v \leftarrow \beta v + (1-d)\,g,\qquad
                  u = g + \beta v \ \text{(Nesterov)}\ \text{or}\ u = v,\qquad
                  \theta \leftarrow \theta - \eta u

        ``d = 0`` is PyTorch's ``SGD(momentum=beta)``; ``d = beta`` is the
        tutorials' exponential average :math:`v = \beta v + (1-\beta) g`.
        """

    @abstractmethod
    def rmsprop_step(self, param, grad, square_avg, lr, rho, eps):
        r"""RMSprop, in place.

        .. math:: s \leftarrow \rho s + (1-\rho) g^2,\qquad
                  \theta \leftarrow \theta - \eta\, g / (\sqrt{s} + \epsilon)
        """

    @abstractmethod
    def adam_step(self, param, grad, m, v, lr, beta1, beta2, eps, t, weight_decay=0.0):
        r"""Adam (AdamW when ``weight_decay > 0``), in place, step count ``t >= 1``.

        .. math:: \theta \leftarrow \theta(1 - \eta\lambda),\quad
                  m \leftarrow \beta_1 m + (1-\beta_1) g,\quad
                  v \leftarrow \beta_2 v + (1-\beta_2) g^2,

                  \hat m = m/(1-\beta_1^t),\quad \hat v = v/(1-\beta_2^t),\quad
                  \theta \leftarrow \theta - \eta\,\hat m/(\sqrt{\hat v}+\epsilon)
        """

    # Two updates the classic courses use. Not abstract, so a backend written before
    # them still loads; every backend of pyneuron implements them (c inherits numpy's).
    def momentum_course_step(self, param, grad, velocity, lr, mu):
        r"""Momentum in the courses' form, in place: the velocity carries the learning rate.

        .. math:: v \leftarrow \mu v - \eta g,\qquad \theta \leftarrow \theta + v

        With a constant :math:`\eta` this is :meth:`momentum_step`'s PyTorch form
        (:math:`v' = \mu v' + g,\ \theta \leftarrow \theta - \eta v'`) with
        :math:`v = -\eta v'`; when :math:`\eta` changes, past gradients keep the rate
        they were taken with here, and take the current rate there.
        """
        raise NotImplementedError(f"backend {self.name!r} has no momentum_course_step kernel")

    def adagrad_step(self, param, grad, square_sum, lr, eps):
        r"""Adagrad (Duchi, Hazan & Singer 2011), in place.

        .. math:: G \leftarrow G + g^2,\qquad \theta \leftarrow \theta - \eta\,\frac{g}{\sqrt{G} + \epsilon}

        :math:`\epsilon` is added *outside* the square root, as PyTorch's ``Adagrad`` and
        the "from scratch" book do (not :math:`\sqrt{G + \epsilon}`).
        """
        raise NotImplementedError(f"backend {self.name!r} has no adagrad_step kernel")

    # ------------------------------------------------------------------ fused kernels (defaults compose the primitives)
    # Each default below also takes the slope's old name ``alpha`` (keyword only, deprecated,
    # see slope_name) and passes the slope on by position.
    def dense_forward(self, X, W, b, activation, negative_slope=DEFAULT_NEGATIVE_SLOPE, *, alpha=None):
        """One dense layer forward: ``Z = X Wᵀ + b``, ``A = f(Z)``. Returns ``(Z, A)``.
        A softmax layer with no output (``W`` of shape ``(0, n_in)``) raises ``ValueError``."""
        if alpha is not None:
            negative_slope = old_slope_keyword(f"{type(self).__name__}.dense_forward", negative_slope, alpha)
        if activation == "softmax":
            check_softmax_outputs(W)
        Z = self.linear_forward(X, W, b)
        return Z, self.activation_forward(activation, Z, negative_slope)

    def dense_backward(self, dA, X, W, Z, A, activation, negative_slope=DEFAULT_NEGATIVE_SLOPE, *, alpha=None):
        """One dense layer backward: ``dZ = dA ⊙ f'(Z)`` then :meth:`linear_backward`."""
        if alpha is not None:
            negative_slope = old_slope_keyword(f"{type(self).__name__}.dense_backward", negative_slope, alpha)
        dZ = self.activation_backward(activation, dA, Z, A, negative_slope)
        return self.linear_backward(dZ, X, W)

    def sgd_train_step(self, X, Y, weights, biases, activations, loss, lr,
                       negative_slope=DEFAULT_NEGATIVE_SLOPE, *, alpha=None):
        """One whole training step of a plain MLP: forward, loss, backward, SGD update.

        ``weights``/``biases`` are lists of the layers' arrays and are updated
        in place; ``activations`` names each layer's activation (the last is
        the output's). Returns the loss *before* the update (:meth:`data_loss`:
        from the logits for sigmoid + bce and softmax + cce). This default
        composes the primitive kernels; the C backend does it in one call.
        Bad arguments raise ``TypeError`` or ``ValueError`` (:func:`check_layers`,
        :func:`check_batch`: ``X`` or ``Y`` of a floating dtype other than the weights', of
        another shape than the layers', layer lists of different lengths, an unknown loss).
        """
        if alpha is not None:
            negative_slope = old_slope_keyword(f"{type(self).__name__}.sgd_train_step", negative_slope, alpha)
        check_layers(weights, biases, activations, loss)
        check_batch(X, Y, weights)
        inputs, zs, outs = [], [], []
        A = X
        for W, b, act in zip(weights, biases, activations):
            inputs.append(A)
            Z, A = self.dense_forward(A, W, b, act, negative_slope)
            zs.append(Z)
            outs.append(A)
        value = self.data_loss(loss, activations[-1], A, Y, zs[-1])
        dZ = self.output_gradient(loss, activations[-1], A, Y, zs[-1], negative_slope)
        for i in range(len(weights) - 1, -1, -1):
            dX, dW, db = self.linear_backward(dZ, inputs[i], weights[i])
            self.sgd_step(weights[i], dW, lr)
            self.sgd_step(biases[i], db, lr)
            if i > 0:
                dZ = self.activation_backward(activations[i - 1], dX, zs[i - 1], outs[i - 1], negative_slope)
        return value

    def data_loss(self, loss, activation, A, Y, Z):
        """The mean loss of an output layer whose activation is ``activation``:
        :meth:`loss_from_logits` of ``Z`` for sigmoid + bce and softmax + cce (see
        :data:`LOGIT_LOSSES`), :meth:`loss_value` of ``A`` for every other pair."""
        if (activation, loss) in LOGIT_LOSSES:
            return self.loss_from_logits(loss, Z, Y)
        return self.loss_value(loss, A, Y)

    # ------------------------------------------------------------------ weighted losses (sample_weight)
    def sample_losses(self, loss, activation, A, Y, Z):
        r"""Each row's loss :math:`\ell_s`, a float64 array ``(m,)``, so that
        :meth:`data_loss` is their mean: :math:`\frac1m\sum_s \ell_s`.

        :math:`\ell_s` is the mean over the row's ``k`` outputs for ``mse`` and ``bce``
        and the sum :math:`-\sum_i y_{si}\log a_{si}` for ``cce`` (the conventions of
        :meth:`loss_value`), from the logits ``Z`` where :meth:`data_loss` takes them.
        This default calls :meth:`data_loss` on each one-row slice (``m`` calls, right
        on every backend); a backend may compute all rows at once."""
        check_targets(Y, A)
        return np.array([self.data_loss(loss, activation, A[s:s + 1], Y[s:s + 1], Z[s:s + 1])
                         for s in range(A.shape[0])], dtype=np.float64)

    def weighted_data_loss(self, loss, activation, A, Y, Z, weights):
        r"""The weighted mean loss of a batch (scikit-learn's ``MLPClassifier`` /
        ``MLPRegressor`` normalization, ``np.average(..., weights=w)``):

        .. math:: L_w = \frac{\sum_s w_s \ell_s}{\sum_s w_s}

        with :math:`\ell_s` from :meth:`sample_losses`; equal weights give
        :meth:`data_loss`, and a weight of 2 counts a row twice. ``weights`` is a float64
        array ``(m,)`` of numbers >= 0; a batch whose weights are all 0 has ``L_w = 0``.
        The weights are first brought to a largest of about 1 (``_unit_scaled``), so a
        subnormal or huge weight sum loses no digits. Returns a Python float."""
        check_sample_weights(weights, A)
        w = _unit_scaled(weights)
        if w is None:
            return 0.0
        return float(np.dot(w, self.sample_losses(loss, activation, A, Y, Z))) / float(np.sum(w))

    def weighted_output_gradient(self, loss, activation, A, Y, Z, weights,
                                 negative_slope=DEFAULT_NEGATIVE_SLOPE, *, alpha=None):
        r"""``dL_w/dZ`` of the output layer for :meth:`weighted_data_loss`.

        The unweighted mean's gradient (:meth:`output_gradient`) has row
        :math:`\frac1m\,\partial\ell_s/\partial Z_s` (each row's loss depends on its row of
        ``Z`` alone, softmax included), so the weighted one is that row scaled by
        :math:`m\,w_s / \sum_r w_r`. All-zero weights give a zero gradient. Same shape and
        dtype as ``Z``."""
        if alpha is not None:
            negative_slope = old_slope_keyword(f"{type(self).__name__}.weighted_output_gradient",
                                               negative_slope, alpha)
        check_sample_weights(weights, A)
        dZ = self.output_gradient(loss, activation, A, Y, Z, negative_slope)
        w = _unit_scaled(weights)        # so m / Σw cannot overflow (a subnormal weight sum)
        scale = w * (A.shape[0] / float(np.sum(w))) if w is not None else np.zeros_like(weights)
        return self.scale_rows(dZ, scale)

    def scale_rows(self, M, scale):
        r"""``M`` with row ``s`` multiplied by ``scale[s]``: :math:`M'_{si} = c_s M_{si}`
        (``M`` (m, k), ``scale`` (m,); a new array of ``M``'s dtype)."""
        check_shape("scale", scale, np.shape(M)[:1])
        return (M * scale[:, None]).astype(M.dtype, copy=False)

    # ------------------------------------------------------------------ training plans
    def train_plan(self, model, optimizer, l1=0.0, l2=0.0, clip_value=None, clip_norm=None,
                   track_accuracy=False, **extras):
        """How ``fit`` runs ``model``'s training steps on this backend: a
        :class:`pyneuron.training_plan.TrainPlan` (see that module for what a plan promises).

        ``extras``: ``penalty=`` a :class:`~pyneuron.penalties.Penalty` (per-parameter
        strengths or the ``"sum"`` scaling, replacing ``l1``/``l2``) or ``None``, and
        ``sample_weight=`` a float array ``(m,)`` over the training rows or ``None``. This is
        the one place a plan is chosen: ``fit`` always calls it.

        This default is the per-operation path: each step composes the kernels above, one
        call per operation. A backend that can run a whole step or a whole epoch in one
        call (``c``, ``numpy``) overrides this and returns its own plan, or this default
        (with the extras passed on) for what its plan cannot run; ``fit`` never knows which.
        """
        from ..training_plan import TrainPlan
        return TrainPlan(self, model, optimizer, l1, l2, clip_value, clip_norm, track_accuracy, **extras)

    def output_gradient(self, loss, activation, A, Y, Z, negative_slope=DEFAULT_NEGATIVE_SLOPE, *, alpha=None):
        """``dL/dZ`` of the output layer: the fused ``A − Y`` where it applies,
        otherwise the loss gradient chained through the activation."""
        if alpha is not None:
            negative_slope = old_slope_keyword(f"{type(self).__name__}.output_gradient", negative_slope, alpha)
        if (activation, loss) == ("sigmoid", "bce"):
            return self.output_delta(A, Y, A.size)
        if (activation, loss) == ("softmax", "cce"):
            return self.output_delta(A, Y, A.shape[0])
        dA = self.loss_gradient(loss, A, Y)
        return self.activation_backward(activation, dA, Z, A, negative_slope)
