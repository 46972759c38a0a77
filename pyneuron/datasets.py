"""Datasets generated on the spot (no download), a splitter and a standardizer.

Every generator takes a ``seed`` and returns ``(X, y)`` with ``X`` of shape
``(n_samples, 2)`` (float64) and ``y`` integer class labels.
"""
from __future__ import annotations

import numpy as np

from .validation import as_float_matrix, check_number, check_positive_int


def _rng(seed):
    return np.random.default_rng(seed)


def make_xor(n_samples=4, noise=0.0, seed=None):
    """The XOR truth table: inputs in {0,1}², label x1 XOR x2. With ``n_samples``
    > 4 the four corners repeat (cycled), jittered by Gaussian ``noise``."""
    n = check_positive_int(n_samples, "n_samples")
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    X = corners[np.arange(n) % 4]
    y = (X[:, 0] != X[:, 1]).astype(np.int64)
    if noise:
        X = X + _rng(seed).normal(0.0, noise, X.shape)
    return X, y


def make_blobs(n_samples=300, centers=3, std=1.0, box=(-10.0, 10.0), seed=None):
    """Gaussian clusters: ``centers`` (an int, drawn uniformly in ``box``, or an
    array of points), each of standard deviation ``std``, samples split evenly."""
    n = check_positive_int(n_samples, "n_samples")
    rng = _rng(seed)
    if isinstance(centers, (int, np.integer)):
        centers = rng.uniform(box[0], box[1], size=(check_positive_int(centers, "centers"), 2))
    centers = np.asarray(centers, dtype=float)
    k = centers.shape[0]
    y = np.arange(n) % k
    X = centers[y] + rng.normal(0.0, std, size=(n, centers.shape[1]))
    perm = rng.permutation(n)
    return X[perm], y[perm].astype(np.int64)


def make_circles(n_samples=200, noise=0.1, factor=0.5, seed=None):
    """Two concentric circles: outer radius 1 (class 0), inner radius ``factor`` (class 1)."""
    n = check_positive_int(n_samples, "n_samples", minimum=2)
    check_number(factor, "factor", 0.0, 1.0, low_open=True, high_open=True)
    rng = _rng(seed)
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    X = np.vstack([np.c_[np.cos(t_out), np.sin(t_out)], factor * np.c_[np.cos(t_in), np.sin(t_in)]])
    y = np.r_[np.zeros(n_out), np.ones(n_in)].astype(np.int64)
    X = X + rng.normal(0.0, noise, X.shape)
    perm = rng.permutation(n)
    return X[perm], y[perm]


def make_moons(n_samples=200, noise=0.1, seed=None):
    """Two interleaving half circles: class 0 on the upper arc (cos t, sin t),
    class 1 on the lower arc (1 − cos t, 0.5 − sin t), t in [0, π], plus noise."""
    n = check_positive_int(n_samples, "n_samples", minimum=2)
    rng = _rng(seed)
    n0 = n // 2
    n1 = n - n0
    t0 = np.linspace(0, np.pi, n0)
    t1 = np.linspace(0, np.pi, n1)
    X = np.vstack([np.c_[np.cos(t0), np.sin(t0)], np.c_[1 - np.cos(t1), 0.5 - np.sin(t1)]])
    y = np.r_[np.zeros(n0), np.ones(n1)].astype(np.int64)
    X = X + rng.normal(0.0, noise, X.shape)
    perm = rng.permutation(n)
    return X[perm], y[perm]


def make_spiral(n_samples=300, n_classes=3, noise=0.2, seed=None):
    """``n_classes`` interleaved spiral arms (the classic CS231n-style set)."""
    n = check_positive_int(n_samples, "n_samples")
    k = check_positive_int(n_classes, "n_classes", minimum=2)
    rng = _rng(seed)
    y = np.arange(n) % k
    r = np.empty(n)
    theta = np.empty(n)
    for c in range(k):
        idx = np.flatnonzero(y == c)
        r[idx] = np.linspace(0.0, 1.0, len(idx))
        theta[idx] = np.linspace(c * 4.0, (c + 1) * 4.0, len(idx)) + rng.normal(0.0, noise, len(idx))
    X = np.c_[r * np.sin(theta), r * np.cos(theta)]
    perm = rng.permutation(n)
    return X[perm], y[perm].astype(np.int64)


def train_test_split(X, y, test_size=0.2, seed=None, stratify=False):
    """Shuffle and split into ``X_train, X_test, y_train, y_test``."""
    X = np.asarray(X)
    y = np.asarray(y)
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"y: expected {X.shape[0]} targets (one per row of X), got {y.shape[0]}")
    check_number(test_size, "test_size", 0.0, 1.0, low_open=True, high_open=True)
    n = X.shape[0]
    n_test = int(round(n * test_size))
    if not 1 <= n_test < n:
        raise ValueError(f"test_size: {test_size} of {n} samples leaves {n_test} for testing; "
                         "need at least 1 and fewer than all")
    rng = _rng(seed)
    if stratify:
        test = []
        for c in np.unique(y):
            idx = rng.permutation(np.flatnonzero(y == c))
            test.extend(idx[:int(round(len(idx) * test_size))])
        test = np.array(sorted(test))
        train = np.setdiff1d(np.arange(n), test)
        train, test = rng.permutation(train), rng.permutation(test)
    else:
        order = rng.permutation(n)
        test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]


class Standardizer:
    """Scale each feature to zero mean and unit variance, using statistics from
    the training data only: ``fit(X_train)``, then ``transform`` train and test."""

    def __init__(self):
        self.mean_ = None
        self.scale_ = None

    def __repr__(self):
        return "Standardizer(fitted)" if self.mean_ is not None else "Standardizer()"

    def fit(self, X):
        X = as_float_matrix(X, "X")
        self.mean_ = X.mean(axis=0)
        std = X.std(axis=0)
        self.scale_ = np.where(std > 0, std, 1.0)  # a constant feature is left centred, not divided by 0
        return self

    def transform(self, X):
        if self.mean_ is None:
            raise ValueError("Standardizer: call fit(X_train) before transform")
        X = as_float_matrix(X, "X", n_features=self.mean_.shape[0])
        return (X - self.mean_) / self.scale_

    def fit_transform(self, X):
        return self.fit(X).transform(X)

    def inverse_transform(self, X):
        if self.mean_ is None:
            raise ValueError("Standardizer: call fit(X_train) before inverse_transform")
        return np.asarray(X, dtype=float) * self.scale_ + self.mean_
