"""What the plots accept as a model: a :class:`pyneuron.MLP`, or a fitted scikit-learn
wrapper from :mod:`pyneuron.sklearn` (its network is ``model_``, its labels ``classes_``),
and class labels of any kind (numbers or strings)."""
from __future__ import annotations

import numpy as np


def network_of(model, argument="model"):
    """The :class:`~pyneuron.network.MLP` behind ``model`` (itself, or a wrapper's ``model_``).

    Raises ``ValueError`` for an estimator that is not fitted yet and ``TypeError`` for
    anything else, naming ``argument``."""
    from ..network import MLP
    if isinstance(model, MLP):
        return model
    inner = getattr(model, "model_", None)
    if isinstance(inner, MLP):
        return inner
    if hasattr(model, "get_params") and hasattr(model, "fit"):
        raise ValueError(f"{argument}: {type(model).__name__} is not fitted yet; call fit(X, y) first")
    raise TypeError(f"{argument}: expected a pyneuron MLP or a fitted pyneuron.sklearn estimator, "
                    f"got {type(model).__name__}")


class ClassifierView:
    """A classifier seen by the decision-boundary plot: its class ``labels`` in output
    order (the values ``y`` holds), their display ``names``, ``codes(y, n)`` (each label's
    index), ``predict_codes(X)`` and, for two classes, ``probability(X)`` = P(class 1)."""

    def __init__(self, labels, names, predict_codes, probability=None):
        self.labels = list(labels)
        self.names = [str(name) for name in names]
        self.predict_codes = predict_codes
        self.probability = probability

    def codes(self, y, n):
        """``y`` (labels, or a one-hot matrix) as indices into :attr:`labels`, checked."""
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == len(self.labels) and y.shape[1] > 1:
            found = np.argmax(y, axis=1)
        else:
            if y.ndim == 2 and y.shape[1] == 1:
                y = y[:, 0]
            if y.ndim != 1:
                raise ValueError(f"y: expected one label per sample (or a one-hot matrix with "
                                 f"{len(self.labels)} columns), got shape {y.shape}")
            lookup = {label: k for k, label in enumerate(self.labels)}
            values = y.tolist()
            unknown = sorted({repr(v) for v in values if not _hashable(v) or v not in lookup})
            if unknown:
                raise ValueError(f"y: expected labels among the model's classes {self.labels}, "
                                 f"got {', '.join(unknown[:5])}")
            found = np.array([lookup[v] for v in values], dtype=np.int64)
        if found.shape[0] != n:
            raise ValueError(f"y: expected {n} labels (one per row of X), got {found.shape[0]}")
        return found


def _hashable(value):
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _names(class_names, labels):
    if class_names is None:
        return [str(label) for label in labels]
    if isinstance(class_names, str) or len(class_names) != len(labels):
        raise ValueError(f"class_names: expected {len(labels)} names (one per class), got {class_names!r}")
    return [str(name) for name in class_names]


def _from_estimator(model, class_names):
    classes = getattr(model, "classes_", None)
    if classes is None or not hasattr(model, "predict_proba"):
        raise ValueError(f"model: a decision boundary needs a classifier, got {type(model).__name__}")
    classes = np.asarray(classes)
    if classes.ndim != 1:
        raise ValueError("model: a decision boundary shows one class per point; this estimator "
                         "was fitted on multilabel targets")
    labels = classes.tolist()
    index = {label: k for k, label in enumerate(labels)}

    def predict_codes(X):       # the estimator's own predict, so ties fall as it decides them
        return np.array([index[label] for label in np.asarray(model.predict(X)).tolist()], dtype=np.int64)

    probability = (lambda X: np.asarray(model.predict_proba(X))[:, 1]) if len(labels) == 2 else None
    return ClassifierView(labels, _names(class_names, labels), predict_codes, probability)


def _from_mlp(net, y, class_names):
    if net.loss_name == "bce" and net.n_outputs == 1:
        n_classes, probability = 2, net.predict_proba
    elif net.loss_name == "cce":
        n_classes, probability = net.n_outputs, None
    elif net.loss_name == "bce":
        raise ValueError(f"model: a decision boundary shows one class per point; this network has "
                         f"{net.n_outputs} independent sigmoid outputs (multilabel)")
    else:
        raise ValueError(f"model: a decision boundary needs a classifier; this network's loss is "
                         f"{net.loss_name!r} (regression)")
    y = np.asarray(y)
    values = np.unique(y) if y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1) else np.arange(n_classes)
    if values.dtype.kind in "biuf":
        labels = list(range(n_classes))            # the network's own codes 0 … k−1
    elif class_names is not None:
        labels = _names(class_names, range(n_classes))
    elif len(values) == n_classes:
        labels = values.tolist()                   # sorted, as numpy.unique encodes them
    else:
        raise ValueError(f"y: {len(values)} distinct labels for a network with {n_classes} classes; "
                         f"pass class_names= (each class's label, in output order)")

    def predict_codes(X):
        return np.asarray(net.predict(X), dtype=np.int64)

    return ClassifierView(labels, _names(class_names, labels), predict_codes, probability)


def classifier_view(model, y, class_names=None):
    """``(network, view)``: the MLP behind ``model`` and its :class:`ClassifierView`.

    ``model`` is an MLP classifier or a fitted ``pyneuron.sklearn.MLPClassifier``. The
    labels are the wrapper's ``classes_``; for an MLP, the codes 0 … k−1 when ``y`` holds
    numbers, else ``class_names`` or ``y``'s distinct values sorted (as ``numpy.unique``
    encodes them). ``class_names`` (one per class, in output order) are the names shown.
    """
    net = network_of(model)
    if model is net:
        return net, _from_mlp(net, y, class_names)
    return net, _from_estimator(model, class_names)
