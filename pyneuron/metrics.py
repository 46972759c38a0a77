"""Metrics for classification and regression, computed from labels (NumPy).

Classification: accuracy, confusion matrix, per-class and macro precision /
recall / F1, log loss. Regression: MSE, MAE, R².
"""
from __future__ import annotations

import numpy as np

from .backends.base import PROB_EPS


def _labels(y, name):
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] > 1:
        return np.argmax(arr, axis=1)
    return arr.reshape(-1)


def _pair(y_true, y_pred):
    t, p = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"y_pred: expected {t.shape[0]} labels to match y_true, got {p.shape[0]}")
    if t.size == 0:
        raise ValueError("y_true: expected at least one label, got none")
    return t, p


def accuracy(y_true, y_pred):
    """Fraction of labels predicted exactly."""
    t, p = _pair(y_true, y_pred)
    return float(np.mean(t == p))


def output_accuracy(A, Y, loss):
    """Accuracy of a network's outputs ``A`` against its encoded targets ``Y``:
    argmax against argmax for softmax (``cce``), and element-wise ``A >= 0.5``
    against the 0/1 labels for sigmoid units (``bce``; multi-label counts each
    label, so [1, 0] for a true [1, 1] is half right, not right)."""
    if loss == "cce":
        return float(np.mean(np.argmax(A, axis=1) == np.argmax(Y, axis=1)))
    return float(np.mean((A >= 0.5) == (Y >= 0.5)))


def confusion_matrix(y_true, y_pred, labels=None):
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


def precision_recall_f1(y_true, y_pred, labels=None):
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


def log_loss(y_true, proba):
    """Mean cross-entropy of predicted probabilities (binary: a vector of P(class 1))."""
    P = np.clip(np.asarray(proba, dtype=float), PROB_EPS, 1 - PROB_EPS)
    t = np.asarray(y_true)
    if P.ndim == 1:
        t = t.reshape(-1).astype(float)
        return float(-np.mean(t * np.log(P) + (1 - t) * np.log(1 - P)))
    if t.ndim == 1:
        if t.size and (t.min() < 0 or t.max() >= P.shape[1] or not np.all(t == np.round(t))):
            raise ValueError(f"y_true: expected class labels in 0..{P.shape[1] - 1} for {P.shape[1]} "
                             f"probability columns, got values {np.unique(t)[:10].tolist()}")
        onehot = np.zeros_like(P)
        onehot[np.arange(len(t)), t.astype(int)] = 1
        t = onehot
    return float(-np.mean(np.sum(t * np.log(P), axis=1)))


def _real_pair(y_true, y_pred):
    t, p = np.asarray(y_true, float), np.asarray(y_pred, float)
    if p.size != t.size:
        raise ValueError(f"y_pred: expected {t.size} values to match y_true of shape {t.shape}, "
                         f"got shape {p.shape}")
    return t, p.reshape(t.shape)


def mean_squared_error(y_true, y_pred):
    t, p = _real_pair(y_true, y_pred)
    return float(np.mean((t - p) ** 2))


def mean_absolute_error(y_true, y_pred):
    t, p = _real_pair(y_true, y_pred)
    return float(np.mean(np.abs(t - p)))


def r2_score(y_true, y_pred):
    """1 − Σ(y − ŷ)² / Σ(y − ȳ)²."""
    t, p = _real_pair(y_true, y_pred)
    total = np.sum((t - t.mean(axis=0)) ** 2)
    return float(1 - np.sum((t - p) ** 2) / total) if total > 0 else 0.0


def evaluate(model, X, y):
    """Metrics for ``model`` on ``(X, y)``: loss and accuracy/precision/recall/F1
    for classifiers (of the positive class for one sigmoid output, macro-averaged
    over classes for softmax), loss, MSE, MAE and R² for regression."""
    Xc = model.check_X(X)
    Y = model.encode_y(y, Xc.shape[0])
    A = model._forward(Xc)
    result = {"loss": model._data_loss(A, Y)}
    if model.loss_name == "cce":
        t, p = np.argmax(Y, axis=1), np.argmax(A, axis=1)
    elif model.loss_name == "bce" and model.n_outputs == 1:
        t, p = Y[:, 0].astype(int), (A[:, 0] >= 0.5).astype(int)
    elif model.loss_name == "bce":
        result["accuracy"] = output_accuracy(A, Y, "bce")
        return result
    else:
        result.update(mse=mean_squared_error(Y, A), mae=mean_absolute_error(Y, A), r2=r2_score(Y, A))
        return result
    prf = precision_recall_f1(t, p, labels=np.arange(max(2, model.n_outputs)))
    if model.loss_name == "bce":
        # one sigmoid unit: precision, recall and F1 of the positive class (1), as
        # scikit-learn reports them for binary problems
        result.update(accuracy=accuracy(t, p), precision=float(prf["precision"][1]),
                      recall=float(prf["recall"][1]), f1=float(prf["f1"][1]))
    else:
        result.update(accuracy=accuracy(t, p), precision=prf["macro_precision"],
                      recall=prf["macro_recall"], f1=prf["macro_f1"])
    return result
