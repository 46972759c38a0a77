"""The multi-layer perceptron: layers, forward, backward, parameters.

Written once for every backend: each arithmetic step is a call to a kernel of
``self.kernels`` (the backend this model runs on), so the same code is the
Python loops of ``scalar``, the arrays of ``numpy`` or the C of ``c``.
"""
from __future__ import annotations

import numbers
import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from . import _checks, _config, backends
from . import initializers as inits
from . import losses, nonfinite
from ._slope import slope_argument
from .activations import HIDDEN_ACTIVATIONS, check_activation
from .layers import Dense
from .validation import as_float_matrix, check_bool, check_bytes_fit, check_dtype, check_number

if TYPE_CHECKING:
    from .callbacks import Callback, EarlyStopping
    from .optimizers import Optimizer
    from .schedules import Schedule
    from .training import History


def _check_bias(bias, n_layers, batch_norm):
    """One bool per layer from ``MLP``'s ``bias`` argument (see :class:`MLP`)."""
    if bias is None:
        return [not (batch_norm and i < n_layers - 1) for i in range(n_layers)]
    flags = list(bias) if isinstance(bias, (list, tuple)) else [bias] * n_layers
    if len(flags) != n_layers or not all(isinstance(f, (bool, np.bool_)) for f in flags):
        raise ValueError(f"bias: expected None, True, False or a list of {n_layers} bools "
                         f"(one per layer), got {bias!r}")
    return [bool(f) for f in flags]


class MaskSource:
    """A hidden layer's dropout masks from the user's ``dropout_masks(layer_index, shape)``,
    checked: an array of ``shape`` holding only 0 and 1."""

    def __init__(self, fn: Callable[..., Any], index: int) -> None:
        self.fn, self.index = fn, index

    def __call__(self, shape: tuple[int, ...]) -> np.ndarray:
        mask = self.fn(self.index, tuple(shape))
        arr = np.asarray(mask) if not isinstance(mask, np.ndarray) else mask
        if arr.shape != tuple(shape) or arr.dtype.kind not in "biuf":
            raise ValueError(f"dropout_masks: expected a 0/1 array of shape {tuple(shape)} for layer "
                             f"{self.index}, got {getattr(arr, 'dtype', type(mask).__name__)} of shape "
                             f"{getattr(arr, 'shape', None)}")
        if not np.all((arr == 0) | (arr == 1)):
            bad = arr[(arr != 0) & (arr != 1)].ravel()[:3]
            raise ValueError(f"dropout_masks: expected only 0 and 1 in layer {self.index}'s mask, "
                             f"got values such as {bad.tolist()}")
        return arr


def _check_parameters_fit(sizes, dtype, batch_norm):
    """Refuse, before any allocation, a network whose parameters cannot fit in memory.

    Counts every layer's ``W`` and ``b`` (and batch norm's four vectors per hidden
    layer) at ``dtype``; a float32 model's weights are first drawn in float64, so the
    largest such draw is added."""
    n_params = 0
    largest = 0
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        n_in, n_out = int(n_in), int(n_out)           # Python ints: no overflow
        hidden = i < len(sizes) - 2
        n_params += n_in * n_out + n_out + (4 * n_out if batch_norm and hidden else 0)
        largest = max(largest, n_in * n_out)
    n_bytes = n_params * dtype.itemsize + (largest * 8 if dtype.itemsize != 8 else 0)
    check_bytes_fit(n_bytes, "layer_sizes",     # the message is written only if it is needed
                    lambda: f"{list(map(int, sizes))} has {n_params:,} parameters ({dtype}), which")


class MLP:
    """A fully connected network ``layer_sizes[0] -> ... -> layer_sizes[-1]``.

    Parameters
    ----------
    layer_sizes : list of int
        Inputs, then each layer's width, e.g. ``[2, 16, 8, 1]``.
    activation : str or list of str
        Hidden activation(s): one name for all, or one per hidden layer.
    output : str
        Output activation: ``"sigmoid"`` (binary), ``"softmax"`` (classes),
        ``"linear"`` (regression), or any hidden activation.
    loss : str or None
        ``"bce"``, ``"cce"``, ``"mse"``; ``None`` picks the natural one for ``output``.
    init : str
        Weight initializer (see :mod:`pyneuron.initializers`); ``"auto"`` = He
        before ReLU-family layers, Xavier otherwise.
    seed : int or None
        Seeds the model's ``numpy.random.Generator``: initial weights, shuffling
        and dropout masks all come from it, identically on every backend (so runs
        agree across backends to rounding; an unstable run, e.g. SGD at lr 2.0 for
        300 epochs, can magnify the rounding into different labels).
    backend : str or None
        ``"scalar"``, ``"numpy"`` or ``"c"``; ``None`` follows the global flag.
    negative_slope : float
        Slope of leaky ReLU for negative inputs, ``f(z) = z`` for ``z > 0`` and
        ``negative_slope · z`` otherwise (torch's ``LeakyReLU(negative_slope)``); >= 0,
        default 0.01.
    alpha : float, deprecated
        The old name of ``negative_slope``, accepted for one release with a
        ``DeprecationWarning`` (scikit-learn's ``alpha`` is the L2 strength, pyneuron's
        ``l2``). Giving both is a ``ValueError``.
    dropout : float or list of float
        Inverted-dropout rate after each hidden layer (0 = none).
    batch_norm : bool
        Batch normalization between each hidden layer's linear part and activation.
    dtype : "float64" or "float32"
    bias : None, bool or list of bool
        Whether each layer has a bias ``b`` (one bool for all, or one per layer). ``False``
        means no bias parameter at all, as ``torch.nn.Linear(bias=False)``: it is not in
        :meth:`parameters`, :meth:`gradients`, :meth:`get_weights`, the optimizer's state
        or the model file. ``None`` (the default): every layer has one, except the layers
        followed by batch norm -- normalization subtracts the batch mean, which cancels a
        bias exactly, so its gradient would be round-off (and Adam would turn round-off
        into steps of size ``lr``); batch norm's ``beta`` is that layer's shift.

    Dropout masks and shuffle orders can also come from outside the model's generator:
    ``fit(..., dropout_masks=..., shuffle=...)``.
    """

    def __init__(self, layer_sizes: Sequence[int], activation: str | Sequence[str] = "relu",
                 output: str = "sigmoid", loss: str | None = None, init: str = "auto",
                 seed: int | None = None, backend: str | None = None, negative_slope: float | None = None,
                 dropout: float | Sequence[float] = 0.0, batch_norm: bool = False,
                 dtype: str | np.dtype[Any] | type = "float64", bias: bool | Sequence[bool] | None = None, *,
                 alpha: float | None = None) -> None:
        is_sequence = isinstance(layer_sizes, (list, tuple)) or (
            isinstance(layer_sizes, np.ndarray) and layer_sizes.ndim == 1)
        sizes = list(layer_sizes) if is_sequence else None
        if (not sizes or len(sizes) < 2
                or any(isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1 for n in sizes)):
            raise ValueError(f"layer_sizes: expected a list of at least two positive integers "
                             f"(inputs, ..., outputs), got {layer_sizes!r}")
        n_hidden = len(sizes) - 2
        if isinstance(activation, str):
            hidden = [activation] * n_hidden
        elif isinstance(activation, (list, tuple)) and len(activation) == n_hidden:
            hidden = list(activation)
        else:
            raise ValueError(f"activation: expected a name or a list of {n_hidden} names "
                             f"(one per hidden layer), got {activation!r}")
        for name in hidden:
            check_activation(name, "activation", HIDDEN_ACTIVATIONS)
        check_activation(output, "output")
        if output == "softmax" and sizes[-1] < 2:
            raise ValueError(f"output: softmax over {sizes[-1]} unit is always 1 and cannot learn; use "
                             f"output='sigmoid' for two classes, or one softmax unit per class, "
                             f"got layer_sizes={layer_sizes!r}")
        rates = [dropout] * n_hidden if not isinstance(dropout, (list, tuple)) else list(dropout)
        if len(rates) != n_hidden:
            raise ValueError(f"dropout: expected a rate or a list of {n_hidden} rates, got {dropout!r}")
        for r in rates:
            check_number(r, "dropout", 0.0, 1.0, high_open=True)
        if backend is not None:
            backends.check_name(backend)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise TypeError(f"seed: expected a non-negative integer or None, got {seed!r}")
        if seed is not None and seed < 0:
            raise ValueError(f"seed: expected a non-negative integer or None, got {seed!r}")
        batch_norm = check_bool(batch_norm, "batch_norm")
        biases = _check_bias(bias, len(sizes) - 1, batch_norm)
        dtype = check_dtype(dtype)
        _check_parameters_fit(sizes, dtype, batch_norm)
        self.layer_sizes = [int(n) for n in sizes]
        self.hidden_activations = hidden
        self.output = output
        self.loss_name = losses.resolve(loss, output)
        self.init = init
        self.seed = seed
        self.backend = backend
        self.negative_slope = slope_argument("MLP", negative_slope, alpha)   # one rule for every entry point
        self.dropout = rates
        self.batch_norm = batch_norm
        self.dtype = dtype
        self.bias = biases
        self.rng = np.random.default_rng(seed)
        self.layers = []
        for i, (n_in, n_out) in enumerate(zip(self.layer_sizes[:-1], self.layer_sizes[1:])):
            is_output = i == len(self.layer_sizes) - 2
            act = output if is_output else hidden[i]
            W = inits.initial_weights(inits.resolve(init, act), n_in, n_out, self.rng, self.dtype)
            b = np.zeros(n_out, dtype=self.dtype) if biases[i] else None
            self.layers.append(Dense(W, b, act, self.negative_slope,
                                     dropout=0.0 if is_output else rates[i],
                                     batch_norm=self.batch_norm and not is_output))
        self.history: History | None = None
        #: Epochs trained before this model was saved, when it came from :func:`pyneuron.load`
        #: (0 otherwise); :attr:`epochs_trained` starts from it until the next ``fit``.
        self.epochs_loaded: int = 0
        self.optimizer: Optimizer | None = None
        self.stop_training = False
        #: An optional fitted :class:`~pyneuron.datasets.Standardizer` for this model's
        #: inputs. It is saved and loaded with the model; it is *not* applied by
        #: ``predict`` — call ``model.standardizer.transform(X)`` yourself.
        self.standardizer = None

    # ------------------------------------------------------------------ basics
    @property
    def kernels(self) -> Any:
        """The backend object whose kernels this model calls right now."""
        return _config.resolve(self.backend)

    @property
    def activations(self) -> list[str]:
        """Every layer's activation name, the output's last."""
        return [layer.activation for layer in self.layers]

    @property
    def n_features(self) -> int:
        return self.layer_sizes[0]

    @property
    def n_outputs(self) -> int:
        return self.layer_sizes[-1]

    @property
    def is_classifier(self) -> bool:
        return losses.is_classifier(self.loss_name)

    def _backend_shown(self) -> str | None:
        """The backend this model computes on, for ``repr``: its own, else the default one;
        ``None`` when the default cannot be resolved (a bad ``PYNEURON_BACKEND``) — a repr
        never raises, since debuggers and notebooks call it to show the model."""
        if self.backend:
            return self.backend
        try:
            return _config.get_backend()
        except _config.BackendEnvironmentError:
            return None

    def __repr__(self) -> str:
        """The architecture and how it trains: ``MLP(2-16-8-1, activation='relu', output='sigmoid',
        loss='bce', ..., parameters=209)``, the settings that differ from the defaults
        (dropout, batch norm, dtype, no bias, leaky slope, frozen parameters) and, once
        trained, the epochs and the optimizer."""
        arch = "-".join(map(str, self.layer_sizes))
        hidden = self.hidden_activations
        activation = hidden[0] if hidden and all(a == hidden[0] for a in hidden) else hidden
        parts = [arch, f"activation={activation!r}", f"output={self.output!r}", f"loss={self.loss_name!r}"]
        if "leaky_relu" in hidden:
            parts.append(f"negative_slope={self.negative_slope}")
        if any(self.dropout):
            rate = self.dropout[0] if all(r == self.dropout[0] for r in self.dropout) else self.dropout
            parts.append(f"dropout={rate!r}")
        if self.batch_norm:
            parts.append("batch_norm=True")
        if self.dtype != np.float64:
            parts.append(f"dtype={np.dtype(self.dtype).name!r}")
        if self.bias != _check_bias(None, len(self.layers), self.batch_norm):
            parts.append(f"bias={self.bias!r}")
        parts.append(f"backend={self._backend_shown()!r}")
        parts.append(f"parameters={self.n_parameters}")
        frozen = self.frozen
        if frozen:
            parts.append(f"frozen={frozen!r}")
        if self.epochs_trained:
            parts.append(f"epochs_trained={self.epochs_trained}")
        if self.optimizer is not None:
            parts.append(f"optimizer={self.optimizer!r}")
        return f"MLP({', '.join(parts)})"

    def summary(self, print_fn: Callable[[str], object] | None = print) -> str | None:
        """Print a table of the layers (Keras's ``model.summary()``): each layer's type,
        output shape, parameter count and how many are trainable / frozen, then the totals
        (see :mod:`pyneuron.summary`). ``print_fn=None`` returns the text instead."""
        from .summary import summary_text
        text = summary_text(self)
        if print_fn is None:
            return text
        print_fn(text)
        return None

    @property
    def epochs_trained(self) -> int:
        """Epochs completed by ``fit`` so far (read from the last fit's history; 0 for a new
        model, the saved count for a loaded one): a second ``fit`` numbers its epochs on from here."""
        history = self.history
        if history is None:
            return self.epochs_loaded
        return history.epoch[-1] if history.epoch else getattr(history, "initial_epoch", 0)

    @property
    def alpha(self) -> float:
        """The leaky-ReLU slope under its old name: read-only and deprecated (warns), kept for
        code written before ``negative_slope`` (use ``negative_slope``)."""
        from ._slope import warn_alpha_attribute
        warn_alpha_attribute("MLP")
        return self.negative_slope

    @property
    def n_parameters(self) -> int:
        return int(sum(p.size for layer in self.layers for p in layer.parameters()))

    def parameters(self) -> list[np.ndarray]:
        """Every parameter array, layer by layer (W, b[, gamma, beta]); frozen ones
        included, absent biases not (see :meth:`trainable_parameters`)."""
        return [p for layer in self.layers for p in layer.parameters()]

    def named_parameters(self) -> list[tuple[str, np.ndarray]]:
        """``[(name, array), ...]`` in :meth:`parameters`' order, named as the model file
        names them: ``"layer0/W"``, ``"layer0/b"``, ``"layer0/gamma"`` ..."""
        return [(f"layer{i}/{kind}", p) for i, layer in enumerate(self.layers)
                for kind, p in zip(layer.parameter_kinds(), layer.parameters())]

    def trainable_parameters(self) -> list[np.ndarray]:
        """The parameters training updates: :meth:`parameters` less the frozen ones. The
        optimizer keeps one state entry per array of this list, in this order."""
        return [p for layer in self.layers
                for kind, p in zip(layer.parameter_kinds(), layer.parameters()) if kind not in layer.frozen]

    @property
    def frozen(self) -> list[str]:
        """The names of the frozen parameters (``["layer0/b", ...]``), in parameter order."""
        return [f"layer{i}/{kind}" for i, layer in enumerate(self.layers)
                for kind in layer.parameter_kinds() if kind in layer.frozen]

    def parameter_names(self, name: str, what: str = "names") -> list[str]:
        """The full parameter names ``name`` stands for: a full name (``"layer1/b"``), a
        layer (``"layer0"``: all of its parameters) or a kind across layers (``"W"``,
        ``"b"``, ``"gamma"``, ``"beta"``). Raises ``ValueError`` (naming ``what``) for a
        name that stands for no parameter of this model."""
        known = [n for n, _ in self.named_parameters()]
        if isinstance(name, str):
            if name in known:
                return [name]
            matched = [n for n in known if n.startswith(name + "/") or n.endswith("/" + name)]
            if matched and (name in ("W", "b", "gamma", "beta") or name.startswith("layer")):
                return matched
        raise ValueError(f"{what}: expected parameter names of this model ({', '.join(known)}), "
                         f"a layer ('layer0' ... 'layer{len(self.layers) - 1}') or 'W', 'b'"
                         f"{', gamma, beta' if self.batch_norm else ''}; got {name!r}")

    def _set_frozen(self, names, frozen, what):
        targets = [t for name in names for t in self.parameter_names(name, what)]
        before = self.frozen
        for full in targets:
            i, kind = full.split("/")
            layer = self.layers[int(i[len("layer"):])]
            (layer.frozen.add if frozen else layer.frozen.discard)(kind)
        if self.frozen != before and self.optimizer is not None and self.optimizer.state:
            self.optimizer.reset()   # its state lists the trainable arrays, which just changed

    def freeze(self, *names: str) -> MLP:
        """Freeze parameters: still used forward, never updated by ``fit``, no optimizer
        state (``torch``'s ``requires_grad=False``). ``names`` as :meth:`parameter_names`
        reads them, e.g. ``model.freeze("b")`` keeps every bias at its value. Changing
        what is frozen resets the model's optimizer (its state and step count).
        Raises ``ValueError`` for a name that is no parameter of this model."""
        self._set_frozen(names, True, "freeze")
        return self

    def unfreeze(self, *names: str) -> MLP:
        """Undo :meth:`freeze` for ``names`` (no names: unfreeze everything)."""
        if not names:
            names = [n for n, _ in self.named_parameters()]
        self._set_frozen(names, False, "unfreeze")
        return self

    def get_weights(self) -> list[np.ndarray]:
        """Copies of ``[W1, b1, W2, b2, ...]`` (W of shape (n_out, n_in), b of shape (n_out,));
        a layer built without bias contributes its W alone."""
        return [a.copy() for layer in self.layers for a in ((layer.W, layer.b) if layer.has_bias else (layer.W,))]

    def set_weights(self, weights: Sequence[ArrayLike]) -> None:
        """Load ``[W1, b1, W2, b2, ...]`` (as :meth:`get_weights` gives them: no b for a layer
        without bias); every shape is checked before anything changes."""
        slots = [(kind, i, getattr(layer, kind)) for i, layer in enumerate(self.layers)
                 for kind in (("W", "b") if layer.has_bias else ("W",))]
        if not isinstance(weights, (list, tuple)) or len(weights) != len(slots):
            got = len(weights) if isinstance(weights, (list, tuple)) else type(weights).__name__
            spelled = ", ".join(f"{kind}{i + 1}" for kind, i, _ in slots[:2])
            raise ValueError(f"weights: expected a list of {len(slots)} arrays "
                             f"[{spelled}{', ...' if len(slots) > 2 else ''}], got {got}")
        checked = []
        for j, ((kind, i, old), new) in enumerate(zip(slots, weights)):
            name = f"weights[{j}] ({kind}{i + 1})"
            # the checks load and from_torch apply: real numbers, the shape, finite values
            checked.append((old, _checks.check_parameter(new, name, old.shape, self.dtype)))
        for old, arr in checked:
            old[...] = arr

    # ------------------------------------------------------------------ inputs
    def check_X(self, X: ArrayLike, name: str = "X") -> np.ndarray:
        return as_float_matrix(X, name, self.dtype, self.n_features)

    def encode_y(self, y: ArrayLike, n_samples: int, name: str = "y") -> np.ndarray:
        Y = losses.encode_targets(y, self.n_outputs, self.loss_name, self.dtype, name)
        if Y.shape[0] != n_samples:
            raise ValueError(f"{name}: expected {n_samples} targets (one per row of X), got {Y.shape[0]}")
        return Y

    # ------------------------------------------------------------------ forward / backward
    def forward(self, X: ArrayLike, training: bool = False) -> np.ndarray:
        """The network's output for ``X`` (probabilities for sigmoid/softmax).

        Each layer keeps its ``cache`` (input, Z, A) for a later :meth:`backward`.
        ``training=True`` uses batch statistics in batch norm and draws dropout
        masks from the model's generator (as during ``fit``).
        """
        training = check_bool(training, "training")
        A = self.check_X(X)
        return self._forward(A, batch_stats=training, rng=self.rng if training else None)

    def _forward(self, A: np.ndarray, batch_stats: bool = False, rng: np.random.Generator | None = None,
                 update_stats: bool = True) -> np.ndarray:
        kernels = self.kernels
        for layer in self.layers:
            A = layer.forward(kernels, A, batch_stats=batch_stats, rng=rng, update_stats=update_stats)
        return A

    def _backward(self, Y: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Backprop from the last forward pass; fills each layer's ``grads``. With
        ``weights`` (float64 ``(m,)``), of the weighted mean loss (see :meth:`_data_loss`)."""
        kernels = self.kernels
        out = self.layers[-1]
        if weights is None:
            dZ = kernels.output_gradient(self.loss_name, out.activation, out.cache["out"], Y,
                                         out.cache["Z"], self.negative_slope)
        else:
            dZ = kernels.weighted_output_gradient(self.loss_name, out.activation, out.cache["out"], Y,
                                                  out.cache["Z"], weights, self.negative_slope)
        dA = out.backward(kernels, dZ=dZ)
        for layer in reversed(self.layers[:-1]):
            dA = layer.backward(kernels, dA=dA)
        return dA

    def _data_loss(self, A: np.ndarray, Y: np.ndarray, Z: np.ndarray | None = None,
                   weights: np.ndarray | None = None) -> float:
        """Mean loss of the output ``A`` of the last forward pass against ``Y``; with
        ``weights`` (float64 ``(m,)``, >= 0) the weighted mean ``Σ w_s ℓ_s / Σ w_s``
        (:meth:`~pyneuron.backends.base.Backend.weighted_data_loss`).

        For sigmoid + bce and softmax + cce the value comes from the output layer's
        pre-activation ``Z`` (:meth:`~pyneuron.backends.base.Backend.loss_from_logits`),
        which stays exact where the probabilities have rounded to 0 or 1; ``Z`` defaults
        to the one the output layer cached with ``A``. Every loss the model reports
        (``loss``, ``evaluate``, fit's history, ``val_loss``, early stopping) comes
        from here.
        """
        out = self.layers[-1]
        if Z is None:
            if A is not out.cache.get("out"):
                raise ValueError("A: expected the output of this model's last forward pass "
                                 "(its logits are read from the output layer), or pass Z")
            Z = out.cache["Z"]
        if weights is not None:
            return self.kernels.weighted_data_loss(self.loss_name, out.activation, A, Y, Z, weights)
        return self.kernels.data_loss(self.loss_name, out.activation, A, Y, Z)

    def loss(self, X: ArrayLike, y: ArrayLike, l2: float | Mapping[str, float] = 0.0,
             l1: float | Mapping[str, float] = 0.0, penalty: Literal["mean", "sum"] = "mean") -> float:
        """Mean loss of the model's predictions on ``(X, y)``, plus the L1/L2 penalty when
        ``l2``/``l1`` are given (the same arguments as ``fit``; see
        :class:`pyneuron.penalties.Penalty` for both scalings, with ``m`` = the rows of X).

        From the logits for sigmoid + bce and softmax + cce (exact at saturation).
        Raises :class:`~pyneuron.nonfinite.NonFiniteOutputError` if the output is NaN or inf."""
        from .penalties import Penalty
        terms = Penalty(self, l1=l1, l2=l2, scaling=penalty)
        Xc = self.check_X(X)
        Y = self.encode_y(y, Xc.shape[0])
        A, Z = self._outputs(Xc, "loss")
        value = self._data_loss(A, Y, Z)
        if terms:
            value += terms.value(self.kernels, Xc.shape[0])
        return value

    def gradients(self, X: ArrayLike, y: ArrayLike) -> list[np.ndarray]:
        """Gradients of :meth:`loss` for every parameter, ``[dW1, db1, dW2, db2, ...]``
        (plus dgamma, dbeta after each batch-normalized layer's db, matching
        :meth:`parameters`). Dropout is off; batch norm uses the batch's statistics
        and leaves the running ones untouched."""
        Xc = self.check_X(X)
        Y = self.encode_y(y, Xc.shape[0])
        self._forward(Xc, batch_stats=self.batch_norm, update_stats=False)
        self._backward(Y)
        return [g.copy() for layer in self.layers for g in layer.gradients()]

    # ------------------------------------------------------------------ use
    #: Answering methods forward their input in chunks of about this many values per layer
    #: (rows = this / the widest layer, rounded down to a multiple of 48, at least 48):
    #: memory stays bounded on large inputs, and the answers are those of one whole pass
    #: (see :mod:`pyneuron.chunks`).
    answer_chunk_values = 1 << 20

    def _outputs(self, Xc: np.ndarray, what: str, check: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """The output layer's ``(A, Z)`` for the checked input ``Xc`` in inference mode, in
        chunks, NaN/inf refused when ``check`` (:func:`pyneuron.chunks.outputs`)."""
        from .chunks import outputs
        return outputs(self, Xc, what, check)

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Output probabilities: ``(m, k)`` for softmax, ``(m,)`` for one sigmoid unit.

        Raises :class:`~pyneuron.nonfinite.NonFiniteOutputError` (a ``ValueError``) if the
        output is NaN or inf, naming the rows and where it came from."""
        A, _ = self._outputs(self.check_X(X), "predict_proba")
        return A[:, 0].copy() if self.output == "sigmoid" and self.n_outputs == 1 else A

    def decision_function(self, X: ArrayLike) -> np.ndarray:
        """The output layer's pre-activation ``Z = A_prev Wᵀ + b`` (the logits), before
        sigmoid / softmax: ``(m,)`` for one output unit, ``(m, k)`` otherwise.

        For a sigmoid unit, ``Z > 0`` exactly where the probability is above 0.5; for
        softmax, the class with the largest ``Z`` is the predicted one. Raises
        :class:`~pyneuron.nonfinite.NonFiniteOutputError` if a logit is NaN or inf."""
        _, Z = self._outputs(self.check_X(X), "decision_function")
        return Z[:, 0].copy() if self.n_outputs == 1 else Z

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Class labels (classifiers) or predicted values (regression, 1-D for one output).

        Raises :class:`~pyneuron.nonfinite.NonFiniteOutputError` (a ``ValueError``) if the
        output is NaN or inf — a NaN row has no class — naming the rows and the first
        layer or parameter where the value stopped being finite."""
        A, _ = self._outputs(self.check_X(X), "predict")
        if self.loss_name == "cce":
            return np.argmax(A, axis=1)
        if self.loss_name == "bce":
            labels = (A >= 0.5).astype(np.int64)
            return labels[:, 0] if self.n_outputs == 1 else labels
        return A[:, 0].copy() if self.n_outputs == 1 else A

    def score(self, X: ArrayLike, y: ArrayLike) -> float:
        """Accuracy for a classifier, mean squared error for regression."""
        from . import metrics
        Xc = self.check_X(X)
        Y = self.encode_y(y, Xc.shape[0])
        A, _ = self._outputs(Xc, "score")
        if self.is_classifier:
            return metrics.output_accuracy(A, Y, self.loss_name)   # as fit's history["accuracy"]
        return metrics.mean_squared_error(Y, A)

    def evaluate(self, X: ArrayLike, y: ArrayLike) -> dict[str, Any]:
        """A dict of metrics suited to the task (see :func:`pyneuron.metrics.evaluate`).
        Raises :class:`~pyneuron.nonfinite.NonFiniteOutputError` if the output is NaN or inf."""
        from . import metrics
        Xc = self.check_X(X)
        with np.errstate(over="ignore", invalid="ignore"):
            return metrics.evaluate(self, Xc, y)

    def fit(self, X: ArrayLike, y: ArrayLike, epochs: int = 100, batch_size: int | None = 32,
            lr: float | None = None, optimizer: Optimizer | str | None = None,
            shuffle: bool | Callable[[int, int], ArrayLike] = True, verbose: Literal[0, 1, 2] = 0,
            l2: float | Mapping[str, float] = 0.0, l1: float | Mapping[str, float] = 0.0,
            validation_split: float = 0.0, validation_data: Sequence[ArrayLike] | None = None,
            early_stopping: EarlyStopping | None = None, callbacks: Sequence[Callback] | None = None,
            clip_value: float | None = None, clip_norm: float | None = None,
            lr_schedule: Schedule | None = None, metrics: Literal["auto"] | Sequence[str] | None = "auto",
            penalty: Literal["mean", "sum"] = "mean",
            dropout_masks: Callable[[int, tuple[int, int]], ArrayLike] | None = None,
            sample_weight: ArrayLike | None = None,
            class_weight: Mapping[int, float] | Literal["balanced"] | None = None,
            initial_epoch: int | None = None) -> History:
        """Train on ``(X, y)``; every option is :func:`pyneuron.training.fit`'s (documented
        there). A second call continues with the model's optimizer and epoch count.
        Returns the :class:`~pyneuron.training.History` of this call."""
        from .training import fit
        return fit(self, X, y, epochs=epochs, batch_size=batch_size, lr=lr, optimizer=optimizer,
                   shuffle=shuffle, verbose=verbose, l2=l2, l1=l1, validation_split=validation_split,
                   validation_data=validation_data, early_stopping=early_stopping, callbacks=callbacks,
                   clip_value=clip_value, clip_norm=clip_norm, lr_schedule=lr_schedule, metrics=metrics,
                   penalty=penalty, dropout_masks=dropout_masks, sample_weight=sample_weight,
                   class_weight=class_weight, initial_epoch=initial_epoch)

    def save(self, path: str | os.PathLike[str]) -> str:
        """Write architecture, weights, optimizer state and statistics to one ``.npz``
        (``.npz`` is added to ``path`` when missing); returns the path written
        (see :func:`pyneuron.io.save`)."""
        from .io import save
        return save(self, path)

    def to_torch(self) -> Any:
        """An equivalent ``torch.nn.Sequential`` with these weights (see :mod:`pyneuron.interop_torch`)."""
        from .interop_torch import to_torch
        return to_torch(self)

    def state_dict(self) -> dict[str, np.ndarray]:
        """This model's parameters and batch-norm statistics under PyTorch's names for the
        equivalent ``nn.Sequential`` (``"0.weight"``, ``"0.bias"``, ``"1.running_mean"`` ...),
        as NumPy copies (see :mod:`pyneuron.state_dict`)."""
        from .state_dict import state_dict
        return state_dict(self)

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> Any:
        """Copy a ``state_dict`` (this model's or a torch ``Sequential``'s) into the model, every
        value checked first; ``strict`` as in torch. Returns ``(missing_keys, unexpected_keys)``
        (see :func:`pyneuron.state_dict.load_state_dict`)."""
        from .state_dict import load_state_dict
        return load_state_dict(self, state_dict, strict=strict)

    def _repr_html_(self) -> str:
        """Jupyter's display: a summary table (see :mod:`pyneuron.display`)."""
        from .display import mlp_html
        return mlp_html(self)
