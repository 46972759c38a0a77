"""pyneuron: multi-layer perceptrons you can read, step through, and then speed up.

Every computation exists three times behind one flag — ``scalar`` (Python
loops), ``numpy`` and ``c`` — chosen with :func:`set_backend`,
:func:`use_backend`, a model's ``backend=`` or ``PYNEURON_BACKEND``.
"""
from . import activations, datasets, initializers, losses, metrics, optimizers, schedules
from . import _version, plot, progress
from ._config import BackendEnvironmentError, available_backends, get_backend, set_backend, use_backend
from .backends import BackendUnavailableError, backend_report, register_backend, unregister_backend
from .explain import Explanation, explain
from .gradcheck import GradientCheckResult, gradient_check
from .io import ModelFileError, load
from .network import MLP
from .nonfinite import NonFiniteOutputError
from .neuron import Neuron
from .training import Callback, EarlyStopping, History, TrainingDivergedError
from . import callbacks
from .callbacks import CSVLogger, ModelCheckpoint, ReduceLROnPlateau, TerminateOnNaN
from .trace import trace
from .compare import compare_backends

__version__ = _version.version()   # the installed pyneuron-mlp, else the source tree's

from .interop_torch import from_torch   # torch is imported only when it runs


__all__ = ["explain", "Explanation", "from_torch", "MLP", "Neuron", "Callback", "EarlyStopping", "ModelCheckpoint", "ReduceLROnPlateau", "CSVLogger", "TerminateOnNaN", "callbacks", "History", "TrainingDivergedError",
           "BackendUnavailableError", "BackendEnvironmentError", "plot", "progress", "available_backends", "get_backend", "set_backend", "use_backend",
           "NonFiniteOutputError", "gradient_check", "GradientCheckResult", "load", "ModelFileError", "activations", "datasets", "initializers", "losses", "metrics",
           "optimizers", "schedules", "register_backend", "unregister_backend", "backend_report", "trace", "compare_backends"]
