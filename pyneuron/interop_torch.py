"""PyTorch interop: carry a pyneuron MLP to ``torch.nn.Sequential`` and back.

A pyneuron layer is ``Linear -> [BatchNorm1d] -> activation -> [Dropout]``,
which is exactly how the same network is written as a PyTorch ``Sequential``:

=====================  =========================================
pyneuron               torch.nn
=====================  =========================================
``Dense`` W, b         ``Linear`` weight, bias (both ``(n_out, n_in)``, ``(n_out,)``)
``batch_norm=True``    ``BatchNorm1d`` (gamma, beta, running mean/var, eps, momentum)
``"sigmoid"``          ``Sigmoid``
``"tanh"``             ``Tanh``
``"relu"``             ``ReLU``
``"leaky_relu"``       ``LeakyReLU(negative_slope)``
``"softmax"``          ``Softmax(dim=1)`` (``LogSoftmax(dim=1)`` is also read as softmax)
``"linear"``           no module (``Identity`` is also read as linear)
``dropout=p``          ``Dropout(p)`` after a hidden layer's activation
=====================  =========================================

Decisions a reader should know about:

* ``to_torch`` writes no module for a linear activation, so two ``Linear`` in a
  row (or a ``Linear`` at the end) mean "linear" when read back.
* A ``Linear(bias=False)`` is read as a layer without bias (``MLP(bias=...)``) and
  written back the same way; a parameter with ``requires_grad=False`` is read as
  frozen (``model.freeze``) and a frozen one is written with ``requires_grad=False``.
* The module returned by ``to_torch`` is in training mode, as every freshly
  built torch module is. With dropout or batch norm, call ``.eval()`` before
  comparing its outputs with ``model.predict_proba``.
* A classifier trained on logits -- a net ending in a bare ``Linear``, trained with
  ``CrossEntropyLoss`` or ``BCEWithLogitsLoss`` -- says so with
  ``from_torch(net, output="softmax")`` or ``output="sigmoid"``: the logits go through
  that output activation and ``predict`` returns classes. Without ``output`` such a net
  is a regressor (``"linear"`` output, MSE) whose ``predict`` returns the logits.
* A trailing ``LogSoftmax`` (a net trained with ``NLLLoss``) is read as softmax:
  ``predict_proba`` returns ``exp`` of the net's output, and ``to_torch`` writes ``Softmax``.
* A torch module has no loss (torch keeps the criterion apart), so the loss is
  ``from_torch``'s ``loss`` argument, or the natural one for the output. A model whose
  loss is not the natural one (e.g. ``output="sigmoid", loss="mse"``) is exported with
  the attribute ``pyneuron_loss`` on the Sequential, which ``from_torch`` reads when
  ``loss`` is not given, so the round trip keeps it.
* A pyneuron MLP has one leaky-ReLU slope, batch norm on every hidden layer or
  on none, and no dropout on its inputs or outputs; a Sequential that needs
  anything else is refused with an error naming the module and its position.

PyTorch is imported only when these functions run (``pip install torch``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

from . import _checks, losses

if TYPE_CHECKING:
    from .network import MLP

#: pyneuron activation name -> the torch.nn class name that computes it.
TORCH_ACTIVATIONS = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "ReLU",
                     "leaky_relu": "LeakyReLU", "softmax": "Softmax"}
_FROM_TORCH = {cls: name for name, cls in TORCH_ACTIVATIONS.items()}
_FROM_TORCH["Identity"] = "linear"
_FROM_TORCH["LogSoftmax"] = "softmax"          # log-probabilities: pyneuron keeps the probabilities

SUPPORTED_MODULES = ("Linear", "BatchNorm1d", "Dropout", "Identity") + tuple(TORCH_ACTIVATIONS.values()) + (
    "LogSoftmax",)

#: What ``from_torch(output=...)`` accepts: the activation a final bare Linear's logits go through.
OUTPUTS = ("softmax", "sigmoid")

_ACTIVATIONS_HINT = "ReLU, LeakyReLU, Tanh, Sigmoid or Identity"
#: Per module class: what the user can do instead (the error of an unsupported module says it).
_HINTS = {
    "Flatten": "pyneuron's inputs are already flat, shape (n_samples, n_features): remove the Flatten "
               "and pass X.reshape(len(X), -1)",
    "Sequential": "nested Sequentials are not read: splice it into one flat Sequential, "
                  "e.g. nn.Sequential(*outer[:i], *inner, *outer[i + 1:])",
    "PReLU": "pyneuron's leaky ReLU has one fixed slope: if the PReLU learned one value, replace it with "
             "nn.LeakyReLU(negative_slope=float(prelu.weight))",
    "AlphaDropout": "replace it with nn.Dropout(p) (inverted dropout, as pyneuron's)",
    "Dropout1d": "replace it with nn.Dropout(p) (inverted dropout, as pyneuron's)",
}
_KIND_HINTS = {     # by the torch.nn submodule that defines the class
    "activation": f"pyneuron has no such activation: replace it with one of {_ACTIVATIONS_HINT} "
                  "(retrain in torch if the net depends on it), then convert again",
    "normalization": "pyneuron normalizes only with nn.BatchNorm1d between a hidden Linear and its "
                     "activation: use that, or keep this net in torch",
    "batchnorm": "pyneuron normalizes only with nn.BatchNorm1d between a hidden Linear and its "
                 "activation: use that, or keep this net in torch",
    "instancenorm": "pyneuron normalizes only with nn.BatchNorm1d between a hidden Linear and its "
                    "activation: use that, or keep this net in torch",
}
_FULLY_CONNECTED_ONLY = ("pyneuron has fully connected layers only (a chain of Linear): this net "
                         "has to stay in torch")


def _hint(module: Any) -> str:
    """What to do about a module from_torch cannot read (a sentence), or ''."""
    kind = type(module).__name__
    if kind in _HINTS:
        return _HINTS[kind]
    where = type(module).__module__.rsplit(".", 1)[-1]
    if where in _KIND_HINTS:
        return _KIND_HINTS[where]
    if where in ("conv", "rnn", "sparse", "transformer", "pooling", "pixelshuffle", "fold", "linear",
                 "upsampling", "padding", "channelshuffle"):
        return _FULLY_CONNECTED_ONLY
    return ("remove it, or replace it with a supported module, and convert again; a net that "
            "needs it has to stay in torch")


class UnsupportedModuleError(ValueError):
    """A module of the Sequential has no pyneuron counterpart. ``position`` is
    its index in the Sequential and ``module`` the module itself."""

    def __init__(self, message: str, position: int, module: Any) -> None:
        super().__init__(message)
        self.position, self.module = position, module


def _import_torch() -> Any:
    try:
        import torch
    except ImportError:
        raise ImportError("PyTorch interop needs PyTorch, which is not installed: "
                          "pip install torch==2.13.0 (the version pyneuron is tested with)") from None
    return torch


def _torch_dtype(torch: Any, dtype: np.typing.DTypeLike) -> Any:
    return {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}[np.dtype(dtype)]


def _tensor(torch: Any, array: np.ndarray) -> Any:
    return torch.from_numpy(np.array(array, copy=True))


# ---------------------------------------------------------------------- out
def to_torch(model: MLP) -> Any:                 # a torch.nn.Sequential
    """An equivalent ``torch.nn.Sequential`` with a copy of ``model``'s weights.

    Same dtype as the model (float64 -> ``torch.float64``). Batch-norm layers
    carry their running statistics, ``eps`` and ``momentum``; dropout layers their rate;
    ``LeakyReLU`` the model's ``negative_slope``. A layer without bias becomes
    ``Linear(bias=False)``; a frozen parameter gets ``requires_grad=False``. A loss other
    than the output's natural one is kept as the Sequential's ``pyneuron_loss`` attribute
    (see the module's notes). The parameter names are those of :meth:`MLP.state_dict`.
    """
    torch = _import_torch()
    nn = torch.nn
    dtype = _torch_dtype(torch, model.dtype)
    modules = []
    for layer in model.layers:
        has_bias = getattr(layer, "has_bias", True)
        frozen = getattr(layer, "frozen", ())
        linear = nn.Linear(layer.n_in, layer.n_out, bias=has_bias, dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(_tensor(torch, layer.W))
            if has_bias:
                linear.bias.copy_(_tensor(torch, layer.b))
        linear.weight.requires_grad_("W" not in frozen)
        if has_bias:
            linear.bias.requires_grad_("b" not in frozen)
        modules.append(linear)
        if layer.batch_norm:
            bn = nn.BatchNorm1d(layer.n_out, eps=layer.bn_eps, momentum=layer.bn_momentum, dtype=dtype)
            with torch.no_grad():
                bn.weight.copy_(_tensor(torch, layer.gamma))
                bn.bias.copy_(_tensor(torch, layer.beta))
                bn.running_mean.copy_(_tensor(torch, layer.running_mean))
                bn.running_var.copy_(_tensor(torch, layer.running_var))
            bn.weight.requires_grad_("gamma" not in frozen)
            bn.bias.requires_grad_("beta" not in frozen)
            modules.append(bn)
        act = layer.activation
        if act == "leaky_relu":
            modules.append(nn.LeakyReLU(negative_slope=layer.negative_slope))
        elif act == "softmax":
            modules.append(nn.Softmax(dim=1))
        elif act != "linear":
            modules.append(getattr(nn, TORCH_ACTIVATIONS[act])())
        if layer.dropout:
            modules.append(nn.Dropout(p=layer.dropout))
    sequential = nn.Sequential(*modules)
    if model.loss_name != losses.resolve(None, model.output):
        sequential.pyneuron_loss = model.loss_name
    return sequential


# ---------------------------------------------------------------------- in
class _LayerSpec:
    """What ``from_torch`` learns about one pyneuron layer while reading modules."""

    def __init__(self, position: int, linear: Any) -> None:
        self.position = position
        self.linear = linear
        self.batch_norm: tuple[int, Any] | None = None          # (position, module)
        self.activation = "linear"
        self.activation_position: int | None = None
        self.activation_module: Any = None
        self.slope: tuple[int, float, Any] | None = None   # (position, slope, module) of a LeakyReLU
        self.dropout = 0.0
        self.dropout_position: int | None = None
        self.dropout_module: Any = None


def _refuse(position: int, module: Any, why: str, hint: str | None = None) -> NoReturn:
    hint = _hint(module) if hint is None and type(module).__name__ not in SUPPORTED_MODULES else hint
    raise UnsupportedModuleError(
        f"from_torch: module {position} of the Sequential, {module!r}, {why}. "
        + (f"What to do: {hint}. " if hint else "")
        + f"A pyneuron MLP is a chain of Linear -> [BatchNorm1d] -> activation -> [Dropout] "
        f"built from: {', '.join(SUPPORTED_MODULES)}.", position, module)


def _read_layers(sequential: Any) -> list[_LayerSpec]:
    """Group the Sequential's modules into layers, refusing what does not fit."""
    specs: list[_LayerSpec] = []
    for position, module in enumerate(sequential):
        kind = type(module).__name__
        current = specs[-1] if specs else None
        if kind == "Linear":
            specs.append(_LayerSpec(position, module))
            continue
        if current is None:
            _refuse(position, module, "comes before the first Linear (pyneuron layers start with "
                    "their weights; the inputs are fed in as they are)")
        if kind not in SUPPORTED_MODULES:
            _refuse(position, module, "has no pyneuron counterpart")
        if kind == "BatchNorm1d":
            if current.batch_norm or current.activation_position is not None or current.dropout_module is not None:
                _refuse(position, module, "is not directly after a Linear (pyneuron normalizes "
                        "between a layer's Linear and its activation)")
            if not (module.affine and module.track_running_stats) or module.momentum is None:
                _refuse(position, module, "needs affine=True, track_running_stats=True and a "
                        "numeric momentum, as pyneuron's batch norm has")
            current.batch_norm = (position, module)
        elif kind == "Dropout":
            if current.dropout_position is not None:
                _refuse(position, module, "follows another Dropout in the same layer")
            current.dropout, current.dropout_position = float(module.p), position
            current.dropout_module = module
        else:  # an activation (or Identity)
            if current.activation_position is not None:
                _refuse(position, module, "is a second activation in one layer (pyneuron has one "
                        "activation per Linear)")
            if current.dropout_module is not None:
                _refuse(position, module, "comes after a Dropout; pyneuron applies dropout after "
                        "a layer's activation")
            if kind in ("Softmax", "LogSoftmax") and module.dim not in (1, -1):
                _refuse(position, module, "normalizes over dim "
                        f"{module.dim}; pyneuron's softmax is over the features, dim=1",
                        hint=f"use nn.{kind}(dim=1)")
            if kind == "LeakyReLU":
                current.slope = (position, float(module.negative_slope), module)
            current.activation, current.activation_position = _FROM_TORCH[kind], position
            current.activation_module = module
    if not specs:
        raise ValueError("from_torch: the Sequential holds no Linear layer; nothing to convert")
    return specs


def _check_network(specs: list[_LayerSpec]) -> bool:
    """Whole-network rules: hidden activations, one slope, batch norm and dropout placement."""
    *hidden, out = specs
    for spec in hidden:
        if spec.activation == "softmax":
            _refuse(spec.activation_position, spec.activation_module, "is a softmax in a hidden "
                    "layer; pyneuron allows softmax only at the output",
                    hint=f"replace it with one of {_ACTIVATIONS_HINT}")
    if out.batch_norm:
        _refuse(out.batch_norm[0], out.batch_norm[1], "normalizes the output layer; pyneuron's "
                "batch norm sits in hidden layers only")
    if out.dropout_position is not None:
        _refuse(out.dropout_position, out.dropout_module, "follows the output layer; pyneuron applies "
                "dropout to hidden layers only")
    with_bn = [s for s in hidden if s.batch_norm]
    if with_bn and len(with_bn) != len(hidden):
        missing = next(s for s in hidden if not s.batch_norm)
        _refuse(missing.position, missing.linear, "has no BatchNorm1d while other hidden layers "
                "do; pyneuron's batch_norm is on every hidden layer or on none")
    slopes = [s.slope for s in specs if s.slope is not None]
    for position, slope, module in slopes[1:]:
        if slope != slopes[0][1]:
            _refuse(position, module, "has a different slope from "
                    f"the LeakyReLU at position {slopes[0][0]} ({slopes[0][1]}); a pyneuron MLP "
                    "has one negative_slope")
    previous = specs[0].linear.in_features
    for spec in specs:
        if spec.linear.in_features != previous:
            raise ValueError(f"from_torch: module {spec.position} of the Sequential, {spec.linear!r}, "
                             f"expects {spec.linear.in_features} inputs but the layer before gives {previous}")
        previous = spec.linear.out_features
    dtypes = {spec.linear.weight.dtype for spec in specs}
    if len(dtypes) != 1:
        raise ValueError(f"from_torch: every Linear must have the same dtype, got {sorted(map(str, dtypes))}")
    return bool(with_bn)


def _output_activation(out: _LayerSpec, output: str | None) -> str:
    """The pyneuron output activation for the last layer ``out`` given ``from_torch``'s ``output``."""
    if output is None:
        return out.activation
    if not isinstance(output, str) or output not in OUTPUTS:
        raise ValueError(f"output: expected 'softmax' (logits of classes, CrossEntropyLoss), 'sigmoid' "
                         f"(logits of yes/no, BCEWithLogitsLoss) or None, got {output!r}")
    if out.activation not in ("linear", output):
        raise ValueError(f"output={output!r}: the Sequential already ends in module {out.activation_position}, "
                         f"{out.activation_module!r}; output= says what the logits of a final bare Linear "
                         f"mean. Remove that module (so the net ends in its Linear) or leave output=None")
    if output == "softmax" and out.linear.out_features < 2:
        raise ValueError(f"output='softmax': the last Linear, module {out.position}, has 1 output, and a "
                         f"softmax needs one logit per class; one logit trained with BCEWithLogitsLoss "
                         f"is output='sigmoid'")
    return output


def from_torch(sequential: Any, loss: str | None = None, seed: int | None = None,
               backend: str | None = None, output: str | None = None) -> MLP:
    """Build a pyneuron :class:`~pyneuron.MLP` from a ``torch.nn.Sequential``.

    Parameters
    ----------
    sequential : torch.nn.Sequential
        ``Linear`` layers, each optionally followed by ``BatchNorm1d``, one
        supported activation, and ``Dropout`` (see the module's table).
    loss : str or None
        The pyneuron loss; ``None`` takes the Sequential's ``pyneuron_loss`` attribute
        if :func:`to_torch` wrote one, else the natural one for the output
        (sigmoid -> ``"bce"``, softmax -> ``"cce"``, otherwise ``"mse"``).
    seed : int or None
        Seeds the model's generator (shuffling, dropout masks); the weights
        come from ``sequential``.
    backend : str or None
        The pyneuron backend to run on.
    output : "softmax", "sigmoid" or None
        What the outputs of a net ending in a bare ``Linear`` are: logits of classes
        (trained with ``CrossEntropyLoss``: ``"softmax"``, loss ``"cce"``) or of yes/no
        labels (``BCEWithLogitsLoss``: ``"sigmoid"``, loss ``"bce"``). The model is then a
        classifier: ``predict_proba`` = softmax/sigmoid of the logits, ``predict`` the
        classes. ``None``: the output activation is read from the net (a bare ``Linear``
        is a regression output). A net already ending in the same activation is accepted.

    Raises :class:`UnsupportedModuleError` (a ``ValueError``) naming the first
    module pyneuron cannot represent, its position and what to do about it;
    ``ValueError`` for an ``output`` other than the above or that contradicts the
    net's last module (ending in ``Sigmoid`` with ``output="softmax"``, or a
    softmax over one output), and for
    values pyneuron would compute NaN from, checked as :func:`pyneuron.load`
    checks a file: non-finite weights or batch-norm parameters and statistics,
    a negative running variance, ``eps <= 0`` or a momentum outside [0, 1].
    """
    torch = _import_torch()
    if not isinstance(sequential, torch.nn.Sequential):
        raise TypeError(f"sequential: expected a torch.nn.Sequential, got {type(sequential).__name__}; "
                        f"from_torch reads only Sequential: write the layers your forward() applies, in "
                        f"order, as nn.Sequential(...) and copy the state_dict into it")
    specs = _read_layers(sequential)
    batch_norm = _check_network(specs)
    torch_dtype = specs[0].linear.weight.dtype
    if torch_dtype not in (torch.float64, torch.float32):
        raise ValueError(f"from_torch: pyneuron runs float64 or float32, the Linear layers are {torch_dtype}")
    dtype = "float64" if torch_dtype == torch.float64 else "float32"
    slopes = [s.slope[1] for s in specs if s.slope is not None]

    def numpy_of(tensor: Any) -> np.ndarray:
        return tensor.detach().cpu().numpy().astype(dtype, copy=True)

    batch_norms = {}            # layer index -> (checked arrays, eps, momentum)
    for k, spec in enumerate(specs):
        if spec.batch_norm:
            position, bn = spec.batch_norm
            name = f"from_torch: module {position} of the Sequential ({type(bn).__name__})"
            arrays = {"gamma": bn.weight, "beta": bn.bias, "running_mean": bn.running_mean,
                      "running_var": bn.running_var}
            arrays = _checks.check_batchnorm_arrays({key: numpy_of(t) for key, t in arrays.items()},
                                                    spec.linear.out_features, dtype, name)
            batch_norms[k] = (arrays, *_checks.check_batchnorm_settings(bn.eps, bn.momentum, name))

    if loss is None and output is None:
        loss = getattr(sequential, "pyneuron_loss", None)
    from .network import MLP
    model = MLP([specs[0].linear.in_features] + [s.linear.out_features for s in specs],
                activation=[s.activation for s in specs[:-1]], output=_output_activation(specs[-1], output),
                loss=loss, seed=seed, backend=backend, negative_slope=slopes[0] if slopes else 0.01,
                dropout=[s.dropout for s in specs[:-1]], batch_norm=batch_norm, dtype=dtype,
                bias=[s.linear.bias is not None for s in specs])

    weights = []
    frozen = []
    for i, spec in enumerate(specs):
        lin = spec.linear
        weights.append(numpy_of(lin.weight))
        frozen += [f"layer{i}/W"] if not lin.weight.requires_grad else []
        if lin.bias is not None:          # Linear(bias=False) stays without bias
            weights.append(numpy_of(lin.bias))
            frozen += [f"layer{i}/b"] if not lin.bias.requires_grad else []
        if spec.batch_norm:
            bn = spec.batch_norm[1]
            frozen += [f"layer{i}/{k}" for k, t in (("gamma", bn.weight), ("beta", bn.bias))
                       if t is not None and not t.requires_grad]
    model.set_weights(weights)
    if frozen:                             # requires_grad=False: frozen in pyneuron
        model.freeze(*frozen)
    for k, (arrays, eps, momentum) in batch_norms.items():
        layer = model.layers[k]
        for key, value in arrays.items():
            getattr(layer, key)[...] = value
        layer.bn_eps, layer.bn_momentum = eps, momentum
    return model
