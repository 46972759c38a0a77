"""Save and load a model as one ``.npz`` file — no pickle, so loading never runs code.

The file holds ``format`` (a version string), ``architecture`` (JSON: layer
sizes, activations, loss, every constructor option and each hidden layer's
batch-norm ``eps`` and ``momentum``, which layers have a bias and which parameters
are frozen), every layer's parameters (no ``b`` for a layer without bias) and batch-norm
statistics, the model's random-generator state, the optimizer's class,
settings, step count and state arrays (one entry per trainable parameter), and the model's input ``standardizer``
(mean and scale) when it has one.

Saving is atomic: the file is written to a temporary file in the same folder,
flushed to disk, then renamed over the old one, so a crash or a kill leaves
the old model or the new one, never a torn file.

Loading trusts nothing in the file. The architecture record decides which
members must exist and the shape and dtype of each; a member is refused on its
header, before its data is read (see ``pyneuron._npz``), the total is
bounded by the machine's memory, every value is checked (finite weights,
variances ``>= 0``, a positive learning rate, a complete optimizer state …),
and the model is built from the file's arrays. Every way a file can be wrong
raises :class:`ModelFileError`.
"""
from __future__ import annotations

import contextlib
import errno
import json
import numbers
import os
import secrets
import stat
import zipfile

from typing import TYPE_CHECKING

import numpy as np

from . import _checks, validation
from ._npz import NpzError, NpzReader

if TYPE_CHECKING:
    from .network import MLP

FORMAT = "pyneuron-model-2"
#: Formats this version reads. Version 1 had no batch-norm eps/momentum (they
#: were always PyTorch's defaults, 1e-5 and 0.1, unless set by hand).
READABLE_FORMATS = ("pyneuron-model-1", FORMAT)
#: Refuse architecture records with more layers than this: far beyond any MLP
#: anyone trains, and it keeps a forged record from building millions of layers.
MAX_LAYERS = 10_000
#: The longest JSON record (characters) accepted for each text member.
TEXT_LIMITS = {"format": 64, "architecture": 1 << 20, "rng_state": 1 << 12, "optimizer": 1 << 16}
#: Optimizer state arrays that are running averages of squares, so never negative.
NONNEGATIVE_STATE = ("square_avg", "v", "square_sum")


class ModelFileError(ValueError):
    """A file that is not a valid pyneuron model (the message says what is wrong)."""


def model_path(path: str | os.PathLike[str], name: str = "path") -> str:
    """``path`` (a ``str`` or ``os.PathLike``) as a string ending in ``.npz``:
    ``save`` and ``load`` both add the suffix when it is missing, as
    ``numpy.savez`` does. Raises ``TypeError`` for anything else (an integer is
    not taken as a file descriptor)."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name}: expected a file name (str or os.PathLike), got {type(path).__name__} {path!r}")
    text = os.fsdecode(os.fspath(path))
    if not text:
        raise ValueError(f"{name}: expected a file name, got an empty string")
    if os.path.basename(text) in ("", ".", ".."):     # "models/", ".", PurePath("") (which is ".")
        raise ValueError(f"{name}: expected a file name, got {text!r}, which names a folder")
    return text if text.endswith(".npz") else text + ".npz"


# ---------------------------------------------------------------------------- save
def _architecture(model):
    hidden = model.layers[:-1]
    return {"layer_sizes": model.layer_sizes, "activation": model.hidden_activations,
            "output": model.output, "loss": model.loss_name,
            "init": model.init if isinstance(model.init, str) else "auto",
            "seed": int(model.seed) if isinstance(model.seed, numbers.Integral) else None,
            "backend": model.backend, "negative_slope": model.negative_slope, "dropout": model.dropout,
            "batch_norm": model.batch_norm, "dtype": str(model.dtype),
            "batch_norm_eps": [float(layer.bn_eps) for layer in hidden],
            "batch_norm_momentum": [float(layer.bn_momentum) for layer in hidden],
            # issue 14: which layers have a bias (files without it: every layer) and the frozen
            # parameters by name; the optimizer's state follows the trainable ones
            "bias": [bool(layer.has_bias) for layer in model.layers],
            "frozen": list(model.frozen),
            # a backend registered at run time (register_backend): loads on the default one
            # where it is not registered (any other unknown name is refused as before)
            "backend_registered": model.backend is not None and model.backend not in _builtin_backends()}


def _arrays_of(model):
    arrays = {"format": np.array(FORMAT), "architecture": np.array(json.dumps(_architecture(model))),
              # the generator's position, so shuffles and dropout masks continue as they would have
              "rng_state": np.array(json.dumps(model.rng.bit_generator.state))}
    for i, layer in enumerate(model.layers):
        arrays[f"layer{i}/W"] = layer.W
        if layer.has_bias:
            arrays[f"layer{i}/b"] = layer.b
        if layer.batch_norm:
            for key, _ in _checks.BATCHNORM_ARRAYS:
                arrays[f"layer{i}/{key}"] = getattr(layer, key)
    scaler = getattr(model, "standardizer", None)
    if scaler is not None:
        if getattr(scaler, "mean_", None) is None:
            raise ValueError("model.standardizer: expected a fitted Standardizer, got one that was never fit")
        arrays["preprocessing/mean"], arrays["preprocessing/scale"] = scaler.mean_, scaler.scale_
    optimizer = model.optimizer
    if optimizer is not None:
        meta = {"class": type(optimizer).__name__, "config": optimizer.get_config(), "t": int(optimizer.t),
                "lr": float(optimizer.lr), "n_state": len(optimizer.state),
                "state_names": list(optimizer.state_names),
                # so a later fit numbers its epochs (and per-epoch schedules) on from here
                "epochs": int(model.epochs_trained)}
        arrays["optimizer"] = np.array(json.dumps(meta))
        for j, state in enumerate(optimizer.state):
            for name, value in state.items():
                arrays[f"optimizer/{j}/{name}"] = value
    return arrays


def save(model: MLP, path: str | os.PathLike[str]) -> str:
    """Write ``model`` to ``path`` atomically and return the name written.

    ``path`` is a ``str`` or ``os.PathLike``; ``.npz`` is appended when missing
    (``save(model, "m")`` writes ``m.npz``, which ``load("m")`` reads). The data
    go to a temporary file in the same folder, are flushed and ``fsync``-ed,
    and the temporary file then replaces ``path`` in one ``os.replace``: an
    interrupted save leaves the previous file (or none) untouched.
    """
    final = model_path(path)
    arrays = _arrays_of(model)
    folder = os.path.dirname(final) or "."
    if not os.path.isdir(folder):
        raise FileNotFoundError(errno.ENOENT, f"path: no such folder {folder!r}")
    temporary = os.path.join(folder, f".{os.path.basename(final)}.{secrets.token_hex(6)}.tmp")
    # created as open() would (mode 0o666 less the umask), never over an existing file
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with contextlib.suppress(FileNotFoundError):   # a file being replaced keeps its permissions
            os.chmod(fd, stat.S_IMODE(os.stat(final).st_mode))
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, final)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    with contextlib.suppress(OSError, AttributeError):     # make the rename itself durable (POSIX)
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return final


# ---------------------------------------------------------------------------- load
def load(path: str | os.PathLike[str]) -> MLP:
    """Read a model written by :func:`save`; it predicts bit-identically and
    trains on from the same optimizer state and random-generator position.

    Raises ``TypeError`` if ``path`` is not a ``str``/``os.PathLike``,
    ``FileNotFoundError`` (or another ``OSError``) if the file cannot be
    opened, and :class:`ModelFileError` for every way its contents can be
    wrong: not a zip, not a pyneuron model, an unknown format, missing,
    extra, duplicated, mis-shaped, truncated or corrupt members, sizes beyond
    the machine's memory, non-finite or out-of-range values.
    """
    filename = model_path(path)
    try:
        f = open(filename, "rb")
    except FileNotFoundError:
        raise FileNotFoundError(errno.ENOENT, f"path: no such file {filename!r}") from None
    with f:
        try:
            with NpzReader(f) as npz:
                return _ModelReader(npz).model()
        except NpzError as exc:
            raise ModelFileError(f"path: {filename!r} is not a valid pyneuron model: {exc}") from None
        except zipfile.BadZipFile as exc:
            raise ModelFileError(f"path: {filename!r} is not a readable .npz file ({exc})") from None
        except Exception as exc:   # zlib, zip and record errors are many kinds; each one is a bad file
            raise ModelFileError(f"path: {filename!r} could not be read as a pyneuron model "
                                 f"({type(exc).__name__}: {exc})") from exc


def _json(text, name):
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise NpzError(f"{name!r} is not valid JSON ({type(exc).__name__}: {exc})") from None


def _field(record, key, kind, where):
    if not isinstance(record, dict) or key not in record:
        raise NpzError(f"the {where} record has no {key!r}")
    value = record[key]
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise NpzError(f"the {where} record's {key!r}: expected an integer, got {value!r}")
    if kind is not int and not isinstance(value, kind):
        raise NpzError(f"the {where} record's {key!r}: expected {kind.__name__}, got {value!r}")
    return value


def _slope_of(arch):
    """The leaky-ReLU slope of an architecture record: ``negative_slope``, or ``alpha`` in
    files written before it was renamed; checked here so that an error names the file's key."""
    if "negative_slope" in arch and "alpha" in arch:
        raise NpzError("the architecture record has both 'negative_slope' and its old name 'alpha'")
    key = "alpha" if "alpha" in arch else "negative_slope"
    if key not in arch:
        raise NpzError("the architecture record has no 'negative_slope' (nor its old name 'alpha')")
    try:
        return validation.check_number(arch[key], key, 0.0)
    except (TypeError, ValueError) as exc:
        raise NpzError(f"the architecture record's {exc}") from None


class _ModelReader:
    """Reads one model from an open :class:`~pyneuron._npz.NpzReader`, in the
    order that keeps a hostile file cheap: records, then the list of members
    with their shapes and the bound on their total size, then the arrays (each
    checked), and only then the model."""

    def __init__(self, npz):
        self.npz = npz

    def model(self):
        npz = self.npz
        if "format" not in npz or "architecture" not in npz:
            raise NpzError("it is not a pyneuron model (no 'format'/'architecture' members)")
        fmt = npz.read_text("format", TEXT_LIMITS["format"])
        if fmt not in READABLE_FORMATS:
            raise NpzError(f"it has format {fmt!r}; this pyneuron reads {', '.join(READABLE_FORMATS)}")
        arch = _json(npz.read_text("architecture", TEXT_LIMITS["architecture"]), "architecture")
        self._read_sizes(arch)
        optimizer_meta = self._read_optimizer_meta() if "optimizer" in npz else None
        expected = self._expected_members(optimizer_meta)
        extra = sorted(npz.names - set(expected) - {"format", "architecture", "rng_state", "optimizer"})
        if extra:
            raise NpzError(f"it holds members a pyneuron model does not have: {extra[:5]}")
        total = sum(self.dtype.itemsize * int(np.prod(shape, dtype=object)) for shape, _ in expected.values())
        try:
            validation.check_array_fits((total,), np.uint8, "architecture")
        except ValueError as exc:
            raise NpzError(f"its arrays would not fit in memory ({exc})") from None
        arrays = {name: self._read_checked(name, shape, dtype) for name, (shape, dtype) in expected.items()}
        return self._build(arch, arrays, optimizer_meta)

    # -------------------------------------------------------------- records
    def _read_sizes(self, arch):
        sizes = _field(arch, "layer_sizes", list, "architecture")
        if (not 2 <= len(sizes) <= MAX_LAYERS + 1
                or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in sizes)):
            raise NpzError(f"the architecture record's 'layer_sizes': expected 2 to {MAX_LAYERS + 1} "
                           f"positive integers, got {sizes[:10]!r}{' ...' if len(sizes) > 10 else ''}")
        batch_norm = _field(arch, "batch_norm", bool, "architecture")
        self.dtype = validation.check_dtype(_field(arch, "dtype", str, "architecture"))
        self.sizes = sizes
        bias = arch.get("bias", [True] * (len(sizes) - 1))     # format 1 and early 2: all biases
        if not (isinstance(bias, list) and len(bias) == len(sizes) - 1
                and all(isinstance(f, bool) for f in bias)):
            raise NpzError(f"the architecture record's 'bias': expected {len(sizes) - 1} booleans "
                           f"(one per layer), got {bias!r:.200}")
        self.bias = bias
        self.param_shapes = []           # in the order of model.parameters()
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            bn = batch_norm and i < len(sizes) - 2
            self.param_shapes += [((n_out, n_in), f"layer{i}/W")] + ([((n_out,), f"layer{i}/b")] if bias[i] else [])
            if bn:
                self.param_shapes += [((n_out,), f"layer{i}/{key}") for key in ("gamma", "beta")]
        frozen = arch.get("frozen", [])
        names = {name for _, name in self.param_shapes}       # a set: a long forged list stays cheap
        if (not isinstance(frozen, list) or any(not isinstance(n, str) or n not in names for n in frozen)
                or len(set(frozen)) != len(frozen)):
            raise NpzError(f"the architecture record's 'frozen': expected distinct parameter names "
                           f"of this model, got {frozen!r:.200}")
        self.frozen = frozen
        # the optimizer keeps state for the trainable parameters only, in this order
        self.trainable_shapes = [(shape, name) for shape, name in self.param_shapes if name not in frozen]
        self.bn_layers = range(len(sizes) - 2) if batch_norm else range(0)

    def _read_optimizer_meta(self):
        from . import optimizers
        meta = _json(self.npz.read_text("optimizer", TEXT_LIMITS["optimizer"]), "optimizer")
        name = _field(meta, "class", str, "optimizer")
        classes = {cls.__name__: cls for cls in optimizers.OPTIMIZERS.values()}
        if name not in classes:
            raise NpzError(f"the optimizer record names class {name!r}; expected one of {sorted(classes)}")
        config = _field(meta, "config", dict, "optimizer")
        try:
            optimizer = classes[name](**config)
        except (TypeError, ValueError) as exc:
            raise NpzError(f"the optimizer record's settings are invalid ({exc})") from None
        t = _field(meta, "t", int, "optimizer")
        if t < 0:
            raise NpzError(f"the optimizer record's step count 't': expected an integer >= 0, got {t}")
        optimizer.t = t
        try:
            optimizer.lr = validation.check_number(meta.get("lr"), "lr", 0.0, low_open=True)
        except ValueError as exc:
            raise NpzError(f"the optimizer record's learning rate {exc}") from None
        names = _field(meta, "state_names", list, "optimizer")
        if names != list(optimizer.state_names):
            raise NpzError(f"the optimizer record's 'state_names': {name} keeps "
                           f"{list(optimizer.state_names)}, got {names!r}")
        n_state = _field(meta, "n_state", int, "optimizer")
        n_params = len(self.trainable_shapes)
        if n_state not in (0, n_params):
            raise NpzError(f"the optimizer record has state for {n_state} parameter arrays; "
                           f"expected 0 or all {n_params}")
        if names and (n_state > 0) != (t > 0):
            raise NpzError(f"the optimizer record is inconsistent: step count t={t} with state for "
                           f"{n_state} arrays ({name} has state exactly when it has taken a step)")
        epochs = meta.get("epochs", 0)          # absent in files written before it was saved
        if type(epochs) is not int or epochs < 0:
            raise NpzError(f"the optimizer record's epoch count 'epochs': expected an integer >= 0, "
                           f"got {epochs!r}")
        return optimizer, n_state, epochs

    def _expected_members(self, optimizer_meta):
        """{member: (shape, dtype)} of every array the file must hold."""
        expected = {name: (shape, self.dtype) for shape, name in self.param_shapes}
        n_out_of = self.sizes[1:]
        for i in self.bn_layers:
            for key in ("running_mean", "running_var"):
                expected[f"layer{i}/{key}"] = ((n_out_of[i],), self.dtype)
        if "preprocessing/mean" in self.npz or "preprocessing/scale" in self.npz:
            for key in ("mean", "scale"):
                expected[f"preprocessing/{key}"] = ((self.sizes[0],), np.dtype(np.float64))
        if optimizer_meta is not None:
            optimizer, n_state, _ = optimizer_meta
            for j in range(n_state):
                for name in optimizer.state_names:
                    expected[f"optimizer/{j}/{name}"] = (self.trainable_shapes[j][0], self.dtype)
        return expected

    def _read_checked(self, name, shape, dtype):
        key = name.rsplit("/", 1)[-1]
        value = self.npz.read_array(name, shape, dtype)
        if key == "scale":
            if not (np.all(np.isfinite(value)) and np.all(value > 0)):
                raise NpzError(f"it has an invalid input standardizer: {name!r} must hold finite "
                               f"scales > 0, got {value[:10]}")
            return value
        nonnegative = key == "running_var" or (name.startswith("optimizer/") and key in NONNEGATIVE_STATE)
        return _checks.check_parameter(value, repr(name), shape, dtype, nonnegative)

    # -------------------------------------------------------------- the model
    def _build(self, arch, arrays, optimizer_meta):
        from . import initializers
        from .datasets import Standardizer
        from .network import MLP

        init = _field(arch, "init", str, "architecture")
        n_hidden = len(self.sizes) - 2
        eps = arch.get("batch_norm_eps", [1e-5] * n_hidden)
        momentum = arch.get("batch_norm_momentum", [0.1] * n_hidden)
        if not (isinstance(eps, list) and isinstance(momentum, list) and len(eps) == len(momentum) == n_hidden):
            raise NpzError(f"the architecture record's batch-norm settings: expected {n_hidden} values "
                           f"of 'batch_norm_eps' and of 'batch_norm_momentum', got {eps!r} and {momentum!r}")
        bn_settings = [_checks.check_batchnorm_settings(e, m, f"layer {i} batch-norm")
                       for i, (e, m) in enumerate(zip(eps, momentum))]
        initializers.resolve(init, "relu")        # a known name (ValueError otherwise)
        # zeros: nothing is drawn and nothing is touched; the file's arrays replace them
        model = MLP(self.sizes, activation=arch.get("activation"), output=arch.get("output"),
                    loss=arch.get("loss"), init="zeros", seed=arch.get("seed"),
                    backend=_backend_here(arch.get("backend"), arch.get("backend_registered") is True),
                    negative_slope=_slope_of(arch), dropout=arch.get("dropout"),
                    batch_norm=arch["batch_norm"], dtype=self.dtype.name, bias=self.bias)
        model.init = init
        for i, layer in enumerate(model.layers):
            layer.W = arrays[f"layer{i}/W"]
            if layer.has_bias:
                layer.b = arrays[f"layer{i}/b"]
            if i < n_hidden:
                layer.bn_eps, layer.bn_momentum = bn_settings[i]
            if layer.batch_norm:
                for key, _ in _checks.BATCHNORM_ARRAYS:
                    setattr(layer, key, arrays[f"layer{i}/{key}"])
        if "preprocessing/mean" in arrays:
            model.standardizer = Standardizer()
            model.standardizer.mean_ = arrays["preprocessing/mean"]
            model.standardizer.scale_ = arrays["preprocessing/scale"]
        state = _json(self.npz.read_text("rng_state", TEXT_LIMITS["rng_state"]), "rng_state")
        try:
            model.rng.bit_generator.state = state
        except (ValueError, TypeError, KeyError, OverflowError) as exc:
            raise NpzError(f"it has an invalid random-generator state ({type(exc).__name__}: {exc})") from None
        if self.frozen:
            model.freeze(*self.frozen)
        if optimizer_meta is not None:
            optimizer, n_state, epochs = optimizer_meta
            optimizer.state = [{name: arrays[f"optimizer/{j}/{name}"] for name in optimizer.state_names}
                               for j in range(n_state)]
            model.optimizer = optimizer
            model.epochs_loaded = epochs
        return model


def _builtin_backends():
    from .backends import BACKEND_NAMES
    return BACKEND_NAMES


def _backend_here(name, registered):
    """The saved backend name if it can be used here; a backend that was registered with
    ``register_backend`` when saved (``registered``) but is not in this process becomes
    ``None`` (the default backend), with a warning saying so and how to get it back."""
    from . import backends
    if not registered or not isinstance(name, str) or name in backends.names():
        return name
    import warnings
    warnings.warn(f"the model was saved with backend {name!r}, which is not registered here; it "
                  f"loads on the default backend instead (register yours with "
                  f"pyneuron.register_backend({name!r}, ...) and set model.backend = {name!r} "
                  f"to use it)", UserWarning, stacklevel=5)
    return None
