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
    check_number(noise, "noise", 0.0)
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
    check_number(std, "std", 0.0)
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
    check_number(noise, "noise", 0.0)
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
    check_number(noise, "noise", 0.0)
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
    check_number(noise, "noise", 0.0)
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


# ---------------------------------------------------------------------------
# The tutorials' own datasets, reproduced point for point.
#
# These use NumPy's legacy ``RandomState`` on purpose: the tutorials seed the
# global legacy generator (``np.random.seed``), so drawing the same numbers in
# the same order gives exactly the points the tutorials trained on.


def make_tutorial_blobs(n_samples=1000, seed=42):
    """Seed 000's linearly separable set: two unit-variance Gaussian clouds,
    class 0 around (−2, −2) and class 1 around (2, 2), shuffled.

    With the defaults these are exactly the tutorial's 1,000 points."""
    n = check_positive_int(n_samples, "n_samples", minimum=2)
    rs = np.random.RandomState(seed)
    n0 = n // 2
    n1 = n - n0
    class0 = rs.randn(2, n0) + np.array([[-2.0], [-2.0]])
    class1 = rs.randn(2, n1) + np.array([[2.0], [2.0]])
    X = np.concatenate([class0, class1], axis=1).T
    y = np.r_[np.zeros(n0), np.ones(n1)].astype(np.int64)
    order = rs.permutation(n)
    return np.ascontiguousarray(X[order]), y[order]


def make_tutorial_circles(n_samples=1000, noise=0.1, seed=42):
    """Seed 000's non-linear set: a disc of radius 0.5 (class 0) inside a ring
    reaching radius 1 (class 1), then Gaussian ``noise`` on every coordinate.

    Radius and angle are uniform, so about half the points fall in each class;
    points near radius 0.5 are pushed across the border by the noise, which is
    why no classifier gets much above ~92 % on it. Rows come class 0 first,
    then class 1 (as the tutorial returns them): shuffle before slicing.
    With the defaults these are exactly the tutorial's points
    (``n_samples=2000`` gives its final pipeline's set)."""
    n = check_positive_int(n_samples, "n_samples", minimum=2)
    check_number(noise, "noise", 0.0)
    rs = np.random.RandomState(seed)
    radius = rs.rand(n)
    angle = 2 * np.pi * rs.rand(n)
    points = np.c_[radius * np.cos(angle), radius * np.sin(angle)]
    inner = radius < 0.5
    X = np.vstack([points[inner], points[~inner]])
    y = np.r_[np.zeros(inner.sum()), np.ones((~inner).sum())].astype(np.int64)
    X = X + (rs.randn(2, n) * noise).T
    return X, y


def make_tutorial_moons(n_samples=500, noise=0.2, seed=42):
    """Seed 003's two moons: upper arc (cos t, sin t) for class 0, lower arc
    (1 − cos t, 0.5 − sin t) for class 1, t evenly spaced in [0, π], Gaussian
    ``noise``, shuffled. With the defaults these are exactly the tutorial's
    500 points. (:func:`make_moons` draws the same shape from a modern
    generator.)"""
    n = check_positive_int(n_samples, "n_samples", minimum=2)
    check_number(noise, "noise", 0.0)
    rs = np.random.RandomState(seed)
    half = n // 2
    t = np.linspace(0, np.pi, half)
    X = np.vstack([np.c_[np.cos(t), np.sin(t)], np.c_[1 - np.cos(t), 0.5 - np.sin(t)]])
    X = X + rs.normal(0.0, noise, X.shape)
    y = np.r_[np.zeros(half), np.ones(half)].astype(np.int64)
    order = rs.permutation(2 * half)
    return X[order], y[order]


def load_digits():
    """The 8×8 handwritten digits: ``X`` (1797, 64) pixel intensities 0–16 as
    float64, ``y`` the digit 0–9.

    Read from the copy bundled inside scikit-learn (nothing is downloaded);
    install it with ``pip install "pyneuron[datasets]"``."""
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError:
        raise ImportError('load_digits needs scikit-learn, which ships the digits data: '
                          'pip install "pyneuron[datasets]"') from None
    data = sklearn_digits()
    return np.asarray(data.data, dtype=np.float64), np.asarray(data.target, dtype=np.int64)
