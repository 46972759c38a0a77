"""Metrics for classification and regression, computed from labels (NumPy).

Classification: accuracy, confusion matrix, per-class and macro precision /
recall / F1, log loss. Regression: MSE, MAE, R².

They follow scikit-learn's ``sklearn.metrics`` conventions, and the tests hold
them to it: ``y_true`` and ``y_pred`` must have the same number of samples;
labels may be 1-D classes, or rows of one-hot vectors or probabilities (read
by their argmax); regression targets are 1-D or ``(n_samples, n_outputs)``,
and a score over several outputs is their unweighted mean
(``multioutput="uniform_average"``). NaN or inf anywhere is a ``ValueError``
naming the argument — never a number computed from it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .network import MLP


def _array(y: np.typing.ArrayLike, name: str) -> np.ndarray:
    """``y`` as an array of real numbers or labels, 1-D or 2-D, NaN/inf refused."""
    if isinstance(y, (str, bytes)):
        raise TypeError(f"{name}: expected an array, got a {type(y).__name__}")
    try:
        arr = np.asarray(y)
    except (TypeError, ValueError) as exc:               # ragged lists
        raise TypeError(f"{name}: expected a 1-D or 2-D array, got {type(y).__name__} ({exc})") from None
    if np.iscomplexobj(arr):
        raise TypeError(f"{name}: expected real numbers, got complex dtype {arr.dtype}")
    if arr.ndim not in (1, 2):
        raise ValueError(f"{name}: expected a 1-D or 2-D array, got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name}: expected at least one sample, got shape {arr.shape}")
    if arr.dtype.kind == "f":
        finite = np.isfinite(arr)
        if not finite.all():
            index = tuple(int(i) for i in np.argwhere(~finite)[0])
            raise ValueError(f"{name}: expected finite values, got {arr[index]} at index {index}")
    return arr


def _labels(y: np.typing.ArrayLike, name: str) -> np.ndarray:
    """Class labels: a 1-D array (or one column) as it is, rows of one-hot
    vectors or probabilities as their argmax. Continuous values in one column
    (probabilities of class 1?) are refused: threshold them first."""
    arr = _array(y, name)
    if arr.ndim == 2 and arr.shape[1] > 1:
        return np.argmax(arr, axis=1)
    flat = arr.reshape(-1)
    if flat.dtype.kind == "f" and not np.all(flat == np.round(flat)):
        example = flat[flat != np.round(flat)][0]
        raise ValueError(f"{name}: expected class labels, got continuous values such as {example.item()!r}; "
                         f"for probabilities of class 1 pass (p >= 0.5) instead")
    return flat


def _pair(y_true: np.typing.ArrayLike, y_pred: np.typing.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    t, p = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if t.shape[0] != p.shape[0]:
        raise ValueError(f"y_pred: expected {t.shape[0]} samples to match y_true, got {p.shape[0]}")
    return t, p


def accuracy(y_true: np.typing.ArrayLike, y_pred: np.typing.ArrayLike) -> float:
    """Fraction of labels predicted exactly."""
    t, p = _pair(y_true, y_pred)
    return float(np.mean(t == p))


def output_accuracy(A: np.ndarray, Y: np.ndarray, loss: str) -> float:
    """Accuracy of a network's outputs ``A`` against its encoded targets ``Y``:
    argmax against argmax for softmax (``cce``), and element-wise ``A >= 0.5``
    against the 0/1 labels for sigmoid units (``bce``; multi-label counts each
    label, so [1, 0] for a true [1, 1] is half right, not right)."""
    if loss == "cce":
        return float(np.mean(np.argmax(A, axis=1) == np.argmax(Y, axis=1)))
    return float(np.mean((A >= 0.5) == (Y >= 0.5)))


def confusion_matrix(y_true: np.typing.ArrayLike, y_pred: np.typing.ArrayLike, labels: np.typing.ArrayLike | None = None) -> np.typing.NDArray[np.int64]:
    """``C[i, j]`` = number of samples of true class ``labels[i]`` predicted as ``labels[j]``."""
    t, p = _pair(y_true, y_pred)
    labels = np.unique(np.concatenate([t, p])) if labels is None else np.asarray(labels)
    index = {v: i for i, v in enumerate(labels.tolist())}
    unknown = [v for v in np.unique(np.concatenate([t, p])).tolist() if v not in index]
    if unknown:
        raise ValueError(f"labels: expected every label of y_true and y_pred among {labels.tolist()}, "
                         f"got also {unknown[:10]}")
    C = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for a, b in zip(t.tolist(), p.tolist()):
        C[index[a], index[b]] += 1
    return C


def precision_recall_f1(y_true: np.typing.ArrayLike, y_pred: np.typing.ArrayLike, labels: np.typing.ArrayLike | None = None) -> dict[str, Any]:
    """Per-class precision TP/(TP+FP), recall TP/(TP+FN), F1 = 2PR/(P+R), and
    their unweighted (macro) means. A class never predicted has precision 0."""
    t, p = _pair(y_true, y_pred)
    labels = np.unique(np.concatenate([t, p])) if labels is None else np.asarray(labels)
    C = confusion_matrix(t, p, labels)
    tp = np.diag(C).astype(float)
    predicted, actual = C.sum(axis=0), C.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return {"labels": labels, "precision": precision, "recall": recall, "f1": f1, "support": actual,
            "macro_precision": float(precision.mean()), "macro_recall": float(recall.mean()),
            "macro_f1": float(f1.mean())}


def log_loss(y_true: np.typing.ArrayLike, proba: np.typing.ArrayLike) -> float:
    r"""Mean cross-entropy of predicted probabilities,
    :math:`-\frac1m\sum_i \sum_c y_{ic} \log p_{ic}`.

    ``proba`` is a vector of P(class 1) for a binary problem (``y_true`` in
    {0, 1}), or one row of class probabilities per sample, each row summing to
    1 (``y_true`` as class indices or one-hot rows). As scikit-learn does,
    probabilities are clipped to ``[ε, 1 − ε]`` with ε the machine epsilon of
    their dtype, so a confident mistake costs ``−log ε`` (36.04 in float64)
    rather than infinity. For a model's own loss, :meth:`MLP.loss
    <pyneuron.MLP.loss>` is exact even there: it works from the logits.

    Raises ``ValueError`` for probabilities outside [0, 1], rows that do not
    sum to 1, labels outside the columns, or mismatched sample counts.
    """
    P = _array(proba, "proba")
    P = P.astype(P.dtype if P.dtype.kind == "f" else np.float64)
    if np.any(P < 0) or np.any(P > 1):
        raise ValueError(f"proba: expected probabilities in [0, 1], got values from {P.min()} to {P.max()}")
    eps = np.finfo(P.dtype).eps
    t = _array(y_true, "y_true")
    if t.shape[0] != P.shape[0]:
        raise ValueError(f"proba: expected {t.shape[0]} rows to match y_true, got {P.shape[0]}")
    if P.ndim == 1:
        t = t.reshape(-1).astype(float)
        if t.ndim != 1 or t.shape != P.shape or not np.all((t == 0) | (t == 1)):
            raise ValueError(f"y_true: expected 0/1 labels for a vector of P(class 1), got values "
                             f"{np.unique(t)[:10].tolist()} of shape {np.shape(y_true)}")
        Pc = np.clip(P, eps, 1 - eps)
        return float(-np.mean(t * np.log(Pc) + (1 - t) * np.log(1 - Pc)))
    sums = P.sum(axis=1)
    if not np.allclose(sums, 1.0, rtol=0.0, atol=np.sqrt(eps)):
        bad = int(np.argmax(np.abs(sums - 1)))
        raise ValueError(f"proba: expected each row to sum to 1 (class probabilities), row {bad} sums to {sums[bad]}")
    if t.ndim == 1 or t.shape[1] == 1:
        t = t.reshape(-1)
        if t.min() < 0 or t.max() >= P.shape[1] or not np.all(t == np.round(t)):
            raise ValueError(f"y_true: expected class labels in 0..{P.shape[1] - 1} for {P.shape[1]} "
                             f"probability columns, got values {np.unique(t)[:10].tolist()}")
        onehot = np.zeros_like(P)
        onehot[np.arange(len(t)), t.astype(int)] = 1
        t = onehot
    elif t.shape != P.shape:
        raise ValueError(f"y_true: expected one-hot rows of shape {P.shape} to match proba, got {t.shape}")
    return float(-np.mean(np.sum(t * np.log(np.clip(P, eps, 1 - eps)), axis=1)))


def _real_pair(y_true: np.typing.ArrayLike, y_pred: np.typing.ArrayLike) -> tuple[np.typing.NDArray[np.float64], np.typing.NDArray[np.float64]]:
    """Both targets as float ``(n_samples, n_outputs)`` arrays of matching shape."""
    t, p = _array(y_true, "y_true"), _array(y_pred, "y_pred")
    for name, arr in (("y_true", t), ("y_pred", p)):
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{name}: expected real numbers, got dtype {arr.dtype}")
    t, p = (a.astype(np.float64).reshape(a.shape[0], -1) for a in (t, p))
    if t.shape[0] != p.shape[0]:
        raise ValueError(f"y_pred: inconsistent numbers of samples: y_true has {t.shape[0]}, "
                         f"y_pred has {p.shape[0]}")
    if t.shape[1] != p.shape[1]:
        raise ValueError(f"y_pred: expected {t.shape[1]} outputs per sample to match y_true, got {p.shape[1]}")
    return t, p


def mean_squared_error(y_true: np.typing.ArrayLike, y_pred: np.typing.ArrayLike) -> float:
    r""":math:`\frac1m\sum_i (y_i - \hat y_i)^2`, averaged uniformly over outputs."""
    t, p = _real_pair(y_true, y_pred)
    return float(np.mean(np.mean((t - p) ** 2, axis=0)))


def mean_absolute_error(y_true: np.typing.ArrayLike, y_pred: np.typing.ArrayLike) -> float:
    r""":math:`\frac1m\sum_i |y_i - \hat y_i|`, averaged uniformly over outputs."""
    t, p = _real_pair(y_true, y_pred)
    return float(np.mean(np.mean(np.abs(t - p), axis=0)))


def r2_score(y_true: np.typing.ArrayLike, y_pred: np.typing.ArrayLike) -> float:
    r"""Coefficient of determination, per output
    :math:`R^2 = 1 - \sum_i (y_i - \hat y_i)^2 / \sum_i (y_i - \bar y)^2`,
    then the unweighted mean over outputs (scikit-learn's default).

    An output whose target is constant has no variance to explain: it scores
    1.0 when predicted exactly and 0.0 otherwise (as scikit-learn's
    ``force_finite=True``). Needs at least two samples (``ValueError``).
    """
    t, p = _real_pair(y_true, y_pred)
    if t.shape[0] < 2:
        raise ValueError(f"y_true: R² needs at least 2 samples, got {t.shape[0]}")
    residual = np.sum((t - p) ** 2, axis=0)
    total = np.sum((t - t.mean(axis=0)) ** 2, axis=0)
    scores = np.where(residual == 0, 1.0, 0.0)
    varying = total != 0
    scores[varying] = 1 - residual[varying] / total[varying]
    return float(np.mean(scores))


class MetricsReport(dict[str, float]):
    """What :func:`evaluate` returns: a ``dict`` of metric name to ``float`` (compare it,
    index it, serialize it as any dict), which a notebook shows as a table saying what
    each number measures (:func:`pyneuron.display.metrics_html`).

    Attributes:
        kind: ``"binary"`` (one sigmoid output: precision, recall and F1 of class 1),
            ``"multiclass"`` (softmax: their unweighted means over the classes),
            ``"multilabel"`` (several sigmoid outputs: loss and per-output accuracy) or
            ``"regression"`` (loss, MSE, MAE, R²).
        loss_name: the model's loss (``"bce"``, ``"cce"`` or ``"mse"``).
        n_samples: how many samples the metrics were computed on.
        n_classes: classes of a classifier (``None`` for regression).
    """

    def __init__(self, values: dict[str, float], kind: str, loss_name: str, n_samples: int,
                 n_classes: int | None = None) -> None:
        super().__init__(values)
        self.kind, self.loss_name, self.n_samples, self.n_classes = kind, loss_name, n_samples, n_classes

    def _repr_html_(self) -> str:
        from .display import metrics_html
        return metrics_html(self)


def evaluate(model: MLP, X: np.typing.ArrayLike, y: np.typing.ArrayLike) -> MetricsReport:
    """Metrics for ``model`` on ``(X, y)``, as a :class:`MetricsReport` (a ``dict``):
    loss and accuracy/precision/recall/F1 for classifiers (of the positive class for
    one sigmoid output, macro-averaged over classes for softmax), loss, MSE, MAE and
    R² for regression."""
    Xc = model.check_X(X)
    Y = model.encode_y(y, Xc.shape[0])
    A, Z = model._outputs(Xc, "evaluate")    # inference mode, in chunks, NaN/inf refused
    result = {"loss": model._data_loss(A, Y, Z)}
    n = Xc.shape[0]
    if model.loss_name == "cce":
        t, p = np.argmax(Y, axis=1), np.argmax(A, axis=1)
    elif model.loss_name == "bce" and model.n_outputs == 1:
        t, p = Y[:, 0].astype(int), (A[:, 0] >= 0.5).astype(int)
    elif model.loss_name == "bce":
        result["accuracy"] = output_accuracy(A, Y, "bce")
        return MetricsReport(result, "multilabel", model.loss_name, n, model.n_outputs)
    else:
        result.update(mse=mean_squared_error(Y, A), mae=mean_absolute_error(Y, A), r2=r2_score(Y, A))
        return MetricsReport(result, "regression", model.loss_name, n)
    prf = precision_recall_f1(t, p, labels=np.arange(max(2, model.n_outputs)))
    if model.loss_name == "bce":
        # one sigmoid unit: precision, recall and F1 of the positive class (1), as
        # scikit-learn reports them for binary problems
        result.update(accuracy=accuracy(t, p), precision=float(prf["precision"][1]),
                      recall=float(prf["recall"][1]), f1=float(prf["f1"][1]))
        return MetricsReport(result, "binary", model.loss_name, n, 2)
    result.update(accuracy=accuracy(t, p), precision=prf["macro_precision"],
                  recall=prf["macro_recall"], f1=prf["macro_f1"])
    return MetricsReport(result, "multiclass", model.loss_name, n, model.n_outputs)
