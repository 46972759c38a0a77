"""Save and load a model as one ``.npz`` file — no pickle, so loading never runs code.

The file holds ``format`` (a version string), ``architecture`` (JSON: layer
sizes, activations, loss, options), every layer's parameters and batch-norm
statistics, the model's random-generator state, the optimizer's class,
settings, step count and state arrays, and the model's input ``standardizer``
(mean and scale) when it has one.
Anything malformed — not a zip, a foreign ``.npz``, a newer format, missing or
mis-shaped arrays — raises :class:`ModelFileError` saying what is wrong.
"""
from __future__ import annotations

import json
import os
import zipfile

import numpy as np

FORMAT = "pyneuron-model-1"


class ModelFileError(ValueError):
    """A file that is not a valid pyneuron model."""


def _architecture(model):
    return {"layer_sizes": model.layer_sizes, "activation": model.hidden_activations,
            "output": model.output, "loss": model.loss_name, "init": model.init if isinstance(model.init, str) else "auto",
            "seed": model.seed if isinstance(model.seed, int) else None, "backend": model.backend,
            "alpha": model.alpha, "dropout": model.dropout, "batch_norm": model.batch_norm,
            "dtype": str(model.dtype)}


def save(model, path):
    """Write ``model`` to ``path`` (``.npz`` is appended by NumPy if missing)."""
    arrays = {"format": np.array(FORMAT), "architecture": np.array(json.dumps(_architecture(model))),
              # the generator's position, so shuffles and dropout masks continue as they would have
              "rng_state": np.array(json.dumps(model.rng.bit_generator.state))}
    for i, layer in enumerate(model.layers):
        arrays[f"layer{i}/W"], arrays[f"layer{i}/b"] = layer.W, layer.b
        if layer.batch_norm:
            for key in ("gamma", "beta", "running_mean", "running_var"):
                arrays[f"layer{i}/{key}"] = getattr(layer, key)
    scaler = getattr(model, "standardizer", None)
    if scaler is not None:
        if getattr(scaler, "mean_", None) is None:
            raise ValueError("model.standardizer: expected a fitted Standardizer, got one that was never fit")
        arrays["preprocessing/mean"], arrays["preprocessing/scale"] = scaler.mean_, scaler.scale_
    optimizer = model.optimizer
    if optimizer is not None:
        meta = {"class": type(optimizer).__name__, "config": optimizer.get_config(), "t": optimizer.t,
                "lr": optimizer.lr, "n_state": len(optimizer.state),
                "state_names": list(optimizer.state_names)}
        arrays["optimizer"] = np.array(json.dumps(meta))
        for j, state in enumerate(optimizer.state):
            for name, value in state.items():
                arrays[f"optimizer/{j}/{name}"] = value
    np.savez(path, **arrays)


def _read(path):
    if not os.path.exists(path):
        raise FileNotFoundError(f"path: no such file {path!r}")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"path: {path!r} is not a readable .npz file (not a zip archive)")
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ModelFileError(f"path: {path!r} is not a readable .npz file ({exc})") from None
    except ValueError as exc:  # object arrays need pickle: refused
        raise ModelFileError(f"path: {path!r} holds data that would need pickle to load; refused ({exc})") from None


def load(path):
    """Read a model written by :func:`save`; it predicts bit-identically."""
    from . import optimizers
    from .network import MLP

    data = _read(path)
    if "format" not in data or "architecture" not in data:
        raise ModelFileError(f"path: {path!r} is not a pyneuron model (no 'format'/'architecture' entries)")
    fmt = str(data["format"])
    if fmt != FORMAT:
        raise ModelFileError(f"path: {path!r} has format {fmt!r}; this pyneuron reads {FORMAT!r}")
    try:
        arch = json.loads(str(data["architecture"]))
        model = MLP(arch["layer_sizes"], activation=arch["activation"], output=arch["output"],
                    loss=arch["loss"], init=arch["init"], seed=arch["seed"], backend=arch["backend"],
                    alpha=arch["alpha"], dropout=arch["dropout"], batch_norm=arch["batch_norm"],
                    dtype=arch["dtype"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelFileError(f"path: {path!r} has an invalid architecture record ({exc})") from None
    for i, layer in enumerate(model.layers):
        keys = ["W", "b"] + (["gamma", "beta", "running_mean", "running_var"] if layer.batch_norm else [])
        for key in keys:
            name = f"layer{i}/{key}"
            target = getattr(layer, key)
            if name not in data:
                raise ModelFileError(f"path: {path!r} is missing {name!r}")
            value = data[name]
            if value.shape != target.shape or value.dtype != target.dtype:
                raise ModelFileError(f"path: {path!r}: {name!r} has shape {value.shape} {value.dtype}, "
                                     f"expected {target.shape} {target.dtype}")
            if not np.all(np.isfinite(value)):
                raise ModelFileError(f"path: {path!r}: {name!r} holds NaN or inf")
            target[...] = value
    if "preprocessing/mean" in data:
        from .datasets import Standardizer
        mean, scale = data["preprocessing/mean"], data.get("preprocessing/scale")
        if (scale is None or mean.shape != (model.n_features,) or scale.shape != mean.shape
                or not np.all(np.isfinite(mean)) or not np.all(scale > 0)):
            raise ModelFileError(f"path: {path!r} has an invalid input standardizer "
                                 f"(expected {model.n_features} finite means and positive scales)")
        model.standardizer = Standardizer()
        model.standardizer.mean_, model.standardizer.scale_ = mean, scale
    if "rng_state" in data:
        try:
            model.rng.bit_generator.state = json.loads(str(data["rng_state"]))
        except (ValueError, TypeError, KeyError) as exc:
            raise ModelFileError(f"path: {path!r} has an invalid random-generator state ({exc})") from None
    if "optimizer" in data:
        try:
            meta = json.loads(str(data["optimizer"]))
            cls = {c.__name__: c for c in optimizers.OPTIMIZERS.values()}[meta["class"]]
            optimizer = cls(**meta["config"])
            optimizer.t, optimizer.lr = int(meta["t"]), float(meta["lr"])
            optimizer.state = [{name: np.array(data[f"optimizer/{j}/{name}"]) for name in meta["state_names"]}
                               for j in range(meta["n_state"])]
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(f"path: {path!r} has an invalid optimizer record ({exc})") from None
        model.optimizer = optimizer
    return model
