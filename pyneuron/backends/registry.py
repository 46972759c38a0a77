"""Bring your own backend: register a learner's kernels as a fourth engine.

``pyneuron.register_backend("mine", MyKernels())`` turns any object with some of the
kernels of :class:`~pyneuron.backends.base.Backend` (a subclass of it, a subclass of one of
pyneuron's backends, or a plain class) into a backend that every model, optimizer, lesson
and the ``use_backend``/``set_backend`` flag accept by name. A kernel the object does not
have is *borrowed* from a reference backend (``numpy`` unless another is named), so a
learner can write one kernel at a time; :func:`backend_report` says which kernels are the
learner's and which are borrowed.

The fused kernels (``dense_forward``, ``dense_backward``, ``sgd_train_step``) and the
training plan are the learner's if they wrote them; otherwise they are the interface's
defaults, composed of the backend's own primitives (never the reference's fused versions,
which would hide the learner's kernels).

Checks at registration (each a ``ValueError`` or ``TypeError`` naming the kernel): a name
that is a built-in backend, a kernel attribute that is not callable, a kernel whose
signature cannot take the interface's arguments, a method whose name is a near miss of a
kernel name (``linear_foward``), which would otherwise be silently ignored. A kernel whose
leaky-ReLU slope parameter still has its old name ``alpha`` works (pyneuron passes the
slope by position) and draws one ``DeprecationWarning`` per registration naming the
methods to rename ``negative_slope``.
"""
from __future__ import annotations

import difflib
import inspect
import warnings
from abc import ABCMeta

from .base import Backend
from .slope_name import old_named_kernels

#: The primitive kernels, in the interface's order (each may be borrowed).
KERNELS = ("matmul", "linear_forward", "linear_backward", "activation_forward",
           "activation_backward", "softmax", "loss_value", "loss_from_logits", "loss_gradient",
           "output_delta", "penalty", "penalty_gradient", "dropout_forward", "dropout_backward",
           "batchnorm_forward", "batchnorm_inference", "batchnorm_backward", "sgd_step",
           "momentum_step", "rmsprop_step", "adam_step", "momentum_course_step", "adagrad_step")
#: Kernels with a default composed of the primitives: the learner's if written, else the default.
FUSED = ("dense_forward", "dense_backward", "sgd_train_step", "data_loss", "output_gradient",
         "sample_losses", "weighted_data_loss", "weighted_output_gradient", "scale_rows", "train_plan")

#: Names a registered backend may not take (the built-ins, and the CLI's "all").
RESERVED = ("scalar", "numpy", "c", "all")


def _pyneuron_classes():
    """pyneuron's own backend classes: a kernel inherited from one of them is not the learner's."""
    from .numpy_backend import NumpyBackend
    from .scalar import ScalarBackend
    classes = {Backend, NumpyBackend, ScalarBackend}
    try:
        from .c_backend import CBackend
        classes.add(CBackend)
    except ImportError:
        pass
    return classes


def _own_kernel(obj, name):
    """``obj``'s own ``name`` kernel (a callable), or ``None`` if it has none or inherits
    pyneuron's. Raises ``TypeError`` if the attribute exists but is not callable."""
    if isinstance(obj, type):
        raise TypeError(f"backend: expected an instance with kernels, got the class {obj.__name__} "
                        f"(write {obj.__name__}() to make one)")
    value = inspect.getattr_static(obj, name, None)
    if value is None:
        return None
    cls = type(obj)
    for klass in cls.__mro__:
        if name in vars(klass):
            if klass in _pyneuron_classes():
                return None
            break
    kernel = getattr(obj, name)
    if not callable(kernel):
        raise TypeError(f"kernel {name!r}: expected a function or method, got "
                        f"{type(kernel).__name__} {kernel!r}")
    if getattr(kernel, "__isabstractmethod__", False):
        return None
    return kernel


def _expected_parameters(name):
    """The interface's parameters of kernel ``name`` that pyneuron passes (by position):
    without ``self`` and without the built-ins' keyword-only deprecated aliases."""
    params = list(inspect.signature(getattr(Backend, name)).parameters.values())[1:]
    return [p for p in params if p.kind is not p.KEYWORD_ONLY]


def check_signature(name, kernel):
    """Raise ``TypeError`` unless ``kernel`` can be called as the interface calls ``name``:
    with every required argument by position, and every optional one by position too."""
    expected = _expected_parameters(name)
    try:
        sig = inspect.signature(kernel)
    except (TypeError, ValueError):      # a builtin without a signature: take it on trust
        return
    try:
        sig.bind(*[p.name for p in expected])
    except TypeError as exc:
        want = ", ".join(p.name if p.default is p.empty else f"{p.name}={p.default!r}" for p in expected)
        raise TypeError(f"kernel {name!r}: expected the signature ({want}), got {sig} ({exc})") from None


def _near_misses(obj):
    """Public callables of ``obj`` whose names look like a misspelt kernel name."""
    known = set(KERNELS) | set(FUSED) | set(dir(Backend))
    misses = []
    for attr in dir(obj):
        if attr.startswith("_") or attr in known:
            continue
        close = difflib.get_close_matches(attr, KERNELS + FUSED, n=1, cutoff=0.85)
        if close and callable(getattr(obj, attr, None)):
            misses.append((attr, close[0]))
    return misses


def _delegate(name):
    def kernel(self, *args, **kwargs):
        return self._table[name](*args, **kwargs)
    kernel.__name__ = kernel.__qualname__ = name
    kernel.__doc__ = getattr(Backend, name).__doc__
    return kernel


_Delegating = ABCMeta("_Delegating", (Backend,), {n: _delegate(n) for n in KERNELS})


class RegisteredBackend(_Delegating):
    """A learner's backend: its own kernels where written, the reference's elsewhere.

    Built by :func:`pyneuron.register_backend`; ``own`` and ``borrowed`` list kernel names,
    ``source`` is the learner's object and ``reference`` the borrowed-from backend."""

    def __init__(self, name, source, reference):
        self.name = name
        self.source = source
        self.reference = reference
        self._table = {}
        self.own, self.borrowed = [], []
        for kernel in KERNELS:
            mine = _own_kernel(source, kernel)
            if mine is not None:
                check_signature(kernel, mine)
                self._table[kernel] = mine
                self.own.append(kernel)
            else:
                self._table[kernel] = getattr(reference, kernel)
                self.borrowed.append(kernel)
        for kernel in FUSED:
            mine = _own_kernel(source, kernel)
            if mine is not None:
                check_signature(kernel, mine)
                setattr(self, kernel, mine)      # an instance attribute shadows the default
                self.own.append(kernel)
        dtypes = getattr(source, "dtypes", None)
        self.dtypes = tuple(dtypes) if dtypes else tuple(reference.dtypes)
        #: The learner's kernels whose slope parameter still says ``alpha``.
        self.old_slope_name = old_named_kernels({k: getattr(self, k) if k in FUSED else self._table[k]
                                                 for k in self.own})

    def __repr__(self):
        return (f"<pyneuron backend {self.name!r}: {len(self.own)} kernels of its own, "
                f"{len(self.borrowed)} from {self.reference.name!r}>")


class BackendReport:
    """Which kernels of a backend are its own and which are borrowed (and from whom).

    ``rows`` is a list of ``(kernel, source)`` pairs, ``source`` being ``"own"``,
    ``"default"`` (the interface's composition of the backend's primitives) or
    ``"borrowed from NAME"``. Printing it gives a table."""

    def __init__(self, name, own, borrowed, reference):
        self.name, self.own, self.borrowed, self.reference = name, list(own), list(borrowed), reference
        self.rows = [(k, "own" if k in self.own else f"borrowed from {reference}") for k in KERNELS]
        self.rows += [(k, "own" if k in self.own else "default (composes the kernels above)")
                      for k in FUSED]

    def as_dict(self):
        return {"backend": self.name, "own": self.own, "borrowed": self.borrowed,
                "reference": self.reference}

    def __str__(self):
        width = max(len(k) for k, _ in self.rows)
        lines = [f"backend {self.name!r}: {len([k for k in self.own if k in KERNELS])} of "
                 f"{len(KERNELS)} kernels its own"
                 + (f", {len(self.borrowed)} borrowed from {self.reference!r}" if self.borrowed else "")]
        lines += [f"  {k:<{width}}  {src}" for k, src in self.rows]
        return "\n".join(lines)

    __repr__ = __str__


def check_new_name(name):
    """Raise ``ValueError`` unless ``name`` can name a registered backend."""
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name: expected a backend name made of letters, digits and '_' "
                         f"(e.g. 'mine'), got {name!r}")
    if name in RESERVED:
        raise ValueError(f"name: {name!r} is a built-in backend of pyneuron (or the CLI's 'all'); "
                         f"choose another name for yours (e.g. 'mine')")
    return name


def make(name, source, reference):
    """Check ``name`` and ``source`` and build the :class:`RegisteredBackend` (see module doc)."""
    check_new_name(name)
    if source is None or isinstance(source, (int, float, str, bytes, list, tuple, dict)):
        raise TypeError(f"backend: expected an object with kernels (e.g. a subclass of "
                        f"pyneuron.backends.Backend), got {type(source).__name__}")
    misses = _near_misses(source)
    if misses:
        said = ", ".join(f"{a!r} (did you mean {k!r}?)" for a, k in misses)
        raise ValueError(f"backend {name!r}: method {said} is not a kernel name and would never be called")
    made = RegisteredBackend(name, source, reference)
    if made.old_slope_name:
        # stacklevel 3: this function, register_backend, the learner's call
        warnings.warn(f"backend {name!r}: the leaky-ReLU slope is called negative_slope in the kernel "
                      f"interface (as in pn.MLP and torch); rename the parameter alpha to negative_slope "
                      f"in {', '.join(made.old_slope_name)}. The backend still works (pyneuron passes the "
                      f"slope by position); the name alpha is deprecated (scikit-learn's alpha is the "
                      f"L2 strength)", DeprecationWarning, stacklevel=3)
    return made
