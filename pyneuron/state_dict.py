"""A model's parameters under PyTorch's names: ``state_dict`` and ``load_state_dict``.

The names are those of the ``torch.nn.Sequential`` that :meth:`pyneuron.MLP.to_torch`
builds for the model -- one module per ``Linear``, ``BatchNorm1d``, activation and
``Dropout``, numbered from 0 -- so a checkpoint moves either way::

    torch_net.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
    model.load_state_dict(torch_net.state_dict())

=============================  ==========================================================
key                            pyneuron
=============================  ==========================================================
``"{i}.weight"``               a layer's ``W``, shape ``(n_out, n_in)`` (``Linear`` at position i)
``"{i}.bias"``                 its ``b``, shape ``(n_out,)``; absent for a layer without bias
``"{j}.weight"``               batch norm's ``gamma`` (``BatchNorm1d`` at position j = i + 1)
``"{j}.bias"``                 ``beta``
``"{j}.running_mean"``         ``running_mean``
``"{j}.running_var"``          ``running_var`` (>= 0)
``"{j}.num_batches_tracked"``  always 0 in a pyneuron ``state_dict``: pyneuron does not count
                               batches, and torch reads the count only when ``momentum=None``,
                               which pyneuron has no equivalent of; on load it is checked and ignored
=============================  ==========================================================

Activations and dropout have no parameters, but they take a position each, as in torch:
``MLP([2, 3, 1], batch_norm=True)`` is ``Linear, BatchNorm1d, ReLU, Linear, Sigmoid`` and its
keys are ``0.weight``, ``1.weight``, ``1.bias``, ``1.running_mean``, ``1.running_var``,
``1.num_batches_tracked``, ``3.weight``, ``3.bias`` (the hidden layer has no bias: batch norm's
``beta`` is its shift, see :class:`pyneuron.MLP`'s ``bias``).

The values are NumPy arrays. PyTorch is never imported here; a ``torch.Tensor`` given to
:func:`load_state_dict` is recognised when torch has been imported by the caller.
"""
from __future__ import annotations

import numbers
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import numpy.typing as npt

from . import _checks

if TYPE_CHECKING:
    from .network import MLP

__all__ = ["IncompatibleKeys", "state_dict", "load_state_dict", "torch_keys"]

#: torch's name of each pyneuron parameter kind, by the module that holds it.
_LINEAR = (("W", "weight"), ("b", "bias"))
_BATCH_NORM = (("gamma", "weight"), ("beta", "bias"), ("running_mean", "running_mean"),
               ("running_var", "running_var"))
_COUNTER = "num_batches_tracked"


class IncompatibleKeys(NamedTuple):
    """What :func:`load_state_dict` returns, as torch's ``load_state_dict`` does: the keys
    the model expected but did not get, and the keys it got but has no place for
    (both empty after a ``strict=True`` load, which refuses either)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


def torch_keys(model: MLP) -> list[tuple[str, int, str]]:
    """``[(key, layer index, attribute), ...]`` for every array of ``model`` in its torch
    ``state_dict``, in torch's order: the key (``"0.weight"``), the pyneuron layer it belongs
    to and the :class:`~pyneuron.layers.Dense` attribute holding it (``"W"``, ``"b"``,
    ``"gamma"``, ``"beta"``, ``"running_mean"``, ``"running_var"``, or
    ``"num_batches_tracked"``, which pyneuron does not keep).

    The positions follow :meth:`pyneuron.MLP.to_torch`: per layer ``Linear``, then
    ``BatchNorm1d`` if the layer has batch norm, then its activation unless it is
    ``"linear"``, then ``Dropout`` if its rate is not 0."""
    keys = []
    position = 0
    for i, layer in enumerate(model.layers):
        keys += [(f"{position}.{name}", i, kind) for kind, name in _LINEAR if kind == "W" or layer.has_bias]
        position += 1
        if layer.batch_norm:
            keys += [(f"{position}.{name}", i, kind) for kind, name in _BATCH_NORM]
            keys.append((f"{position}.{_COUNTER}", i, _COUNTER))
            position += 1
        position += (layer.activation != "linear") + (layer.dropout != 0)
    return keys


def state_dict(model: MLP) -> dict[str, npt.NDArray[Any]]:
    """``model``'s parameters and batch-norm statistics under torch's names (see the module's
    table), as copies: ``{"0.weight": W1 (n_out, n_in), "0.bias": b1 (n_out,), ...}`` in the
    model's dtype; ``num_batches_tracked`` is a 0-d ``int64`` array holding 0.

    Equal, key for key and value for value, to ``to_torch(model).state_dict()``. Frozen
    parameters are included (torch's ``state_dict`` has no ``requires_grad``)."""
    out: dict[str, npt.NDArray[Any]] = {}
    for key, i, kind in torch_keys(model):
        if kind == _COUNTER:
            out[key] = np.array(0, dtype=np.int64)
        else:
            out[key] = np.array(getattr(model.layers[i], kind), copy=True)
    return out


def _as_array(value: Any) -> Any:
    """A torch tensor as a NumPy array (detached, on the CPU; bfloat16 through float32,
    which holds it exactly); anything else unchanged. torch is not imported here: a
    tensor exists only if the caller imported torch."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        tensor = value.detach().cpu()
        if tensor.dtype == torch.bfloat16:
            tensor = tensor.float()
        return tensor.numpy()
    return value


def _asarray(value: Any) -> npt.NDArray[Any] | None:
    """``np.asarray(value)``, or ``None`` for what is no array of numbers (a string, a ragged list)."""
    if isinstance(value, (str, bytes)):
        return None
    try:
        return np.asarray(value)
    except (TypeError, ValueError):
        return None


def _check_value(value: Any, key: str, shape: tuple[int, ...], dtype: np.dtype[Any],
                 nonnegative: bool) -> npt.NDArray[Any]:
    """A parameter's new value: a floating-point array (any width; converted to ``dtype``)
    of ``shape``, finite, and ``>= 0`` for a variance."""
    name = f"state_dict[{key!r}]"
    arr = _asarray(_as_array(value))
    if arr is None or arr.dtype.kind != "f":
        raise TypeError(f"{name}: expected an array of floating-point numbers (a parameter), got "
                        f"{type(value).__name__}" + (f" of dtype {arr.dtype}" if arr is not None else ""))
    return _checks.check_parameter(arr, name, shape, dtype, nonnegative)


def _check_counter(value: Any, key: str) -> None:
    """``num_batches_tracked``: one integer >= 0 (torch keeps an int64 0-d tensor)."""
    arr = _asarray(_as_array(value))
    if (arr is None or arr.shape not in ((), (1,)) or arr.dtype.kind not in "iu"
            or not isinstance(arr.reshape(()).item(), numbers.Integral) or arr.reshape(()).item() < 0):
        raise ValueError(f"state_dict[{key!r}]: expected the number of batches batch norm has seen, "
                         f"an integer >= 0 (torch's num_batches_tracked), got {value!r}")


def _prefix_hint(unexpected: list[str], known: set[str]) -> str:
    """A sentence for keys that are this model's keys behind a prefix, as an enclosing
    module's ``state_dict`` names them (``DistributedDataParallel``: ``"module.0.weight"``;
    an ``nn.Sequential`` holding the model first: ``"0.0.weight"``), or ''.

    The prefix is the shortest one, ending at a dot, under which every unexpected key
    that has it is one of this model's keys."""
    prefixes = {key[:i + 1] for key in unexpected for i, c in enumerate(key) if c == "."}
    for prefix in sorted(prefixes, key=lambda p: (len(p), p)):
        inner = [key[len(prefix):] for key in unexpected if key.startswith(prefix)]
        if all(key in known for key in inner):
            return (f"The keys starting with {prefix!r} are this model's keys inside an enclosing "
                    f"module (DistributedDataParallel's 'module.', or an nn.Sequential holding the "
                    f"model): load {{k.removeprefix({prefix!r}): v for k, v in state_dict.items()}}, "
                    f"or the enclosed module's own state_dict(). ")
    return ""


def load_state_dict(model: MLP, state_dict: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
    """Copy ``state_dict`` (torch's names, see the module's table) into ``model``'s parameters
    and batch-norm statistics, in place.

    Values are NumPy arrays, torch tensors (when the caller has torch) or nested lists of
    floating-point numbers, of exactly the model's shapes; they are converted to the model's
    dtype (as torch's ``load_state_dict`` converts), must be finite, and a running variance
    must be ``>= 0``, as :func:`pyneuron.load` checks a file. ``num_batches_tracked`` is
    optional (as in torch), checked to be an integer >= 0 and otherwise ignored.

    ``strict=True`` (the default, as in torch): every key the model expects must be present
    and no other key may be. ``strict=False`` loads the keys that match and reports the rest.
    Either way every value is checked before anything changes: a refused ``state_dict``
    leaves the model as it was. The model's optimizer state is kept, as torch keeps an
    optimizer's (call ``model.optimizer.reset()`` to start it afresh).

    Returns :class:`IncompatibleKeys` ``(missing_keys, unexpected_keys)``.

    Raises ``TypeError`` if ``state_dict`` is not a mapping with string keys or a value is
    not an array of floating-point numbers; ``ValueError`` naming the missing and the
    unexpected keys (``strict=True``), or the key whose value has the wrong shape, a NaN or
    infinity, or a negative variance.
    """
    if not isinstance(strict, (bool, np.bool_)):
        raise TypeError(f"strict: expected True or False, got {strict!r}")
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"state_dict: expected a mapping of names to arrays, as model.state_dict() or "
                        f"torch's module.state_dict() gives, got {type(state_dict).__name__}")
    bad = [k for k in state_dict if not isinstance(k, str)]
    if bad:
        raise TypeError(f"state_dict: expected string keys such as '0.weight', got {bad[0]!r}")
    expected = torch_keys(model)
    known = {key for key, _, _ in expected}
    missing = [key for key, _, kind in expected if key not in state_dict and kind != _COUNTER]
    unexpected = [key for key in state_dict if key not in known]
    if strict and (missing or unexpected):
        names = [key for key, _, kind in expected if kind != _COUNTER]
        parts = ([f"missing keys: {', '.join(map(repr, missing))}"] if missing else []) + (
            [f"unexpected keys: {', '.join(map(repr, unexpected))}"] if unexpected else [])
        raise ValueError(f"state_dict: does not fit this model ({'; '.join(parts)}); this model's keys are "
                         f"{', '.join(names)} (model.state_dict().keys()). "
                         + _prefix_hint(unexpected, known) + "Pass strict=False to load only the keys that match")
    updates = []
    for key, i, kind in expected:
        if key not in state_dict:
            continue
        if kind == _COUNTER:
            _check_counter(state_dict[key], key)
            continue
        target = getattr(model.layers[i], kind)
        updates.append((target, _check_value(state_dict[key], key, target.shape, target.dtype,
                                             kind == "running_var")))
    for target, value in updates:
        target[...] = value
    return IncompatibleKeys(missing, unexpected)
