"""Datasets generated on the spot (no download), a splitter and a standardizer.

Every generator takes a ``seed`` (``None`` or an integer >= 0; anything else is
a ``TypeError``) and returns ``(X, y)`` with ``X`` of shape ``(n_samples, 2)``
(float64; ``make_blobs`` with explicit centers: their width) and ``y`` integer
class labels. A size whose arrays would not fit in the machine's memory while
the set is built (:data:`WORKING_COPIES` arrays of the output's shape) is a
``ValueError`` naming the argument, raised before anything is drawn.
"""
from __future__ import annotations

import numbers

import numpy as np

from . import validation
from .validation import as_float_matrix, check_number, check_positive_int

#: While a generator builds its points it holds about this many float64 arrays
#: of the output's shape at once (the points, their noise, the sum, the shuffled
#: copy); sizes are checked against that working set, before anything is drawn.
WORKING_COPIES = 4


def _check_seed(seed: int | None) -> int | None:
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
        raise TypeError(f"seed: expected a non-negative integer or None, got {seed!r}")
    return seed


def _rng(seed: int | None) -> np.random.Generator:
    return np.random.default_rng(_check_seed(seed))


def _check_fits(n_samples: int, n_features: int, name: str = "n_samples") -> int:
    """Refuse, before allocating, a set whose working arrays exceed the machine's
    memory (:func:`pyneuron.validation.check_array_fits`), naming ``name``."""
    try:
        validation.check_array_fits((WORKING_COPIES, n_samples, n_features), np.float64, name)
    except ValueError:
        need = WORKING_COPIES * n_samples * n_features * 8
        raise ValueError(f"{name}: {n_samples} samples of {n_features} features need about "
                         f"{need / 2**30:.3g} GiB while being generated ({WORKING_COPIES} float64 arrays "
                         f"of shape ({n_samples}, {n_features})), more than the "
                         f"{validation.memory_limit() / 2**30:.3g} GiB this machine has available; "
                         f"use fewer samples") from None
    return n_samples


def make_xor(n_samples: int = 4, noise: float = 0.0, seed: int | None = None) -> tuple[np.typing.NDArray[np.float64], np.typing.NDArray[np.int64]]:
    """The XOR truth table: inputs in {0,1}², label x1 XOR x2. With ``n_samples``
    > 4 the four corners repeat (cycled), jittered by Gaussian ``noise``."""
    n = _check_fits(check_positive_int(n_samples, "n_samples"), 2)
    check_number(noise, "noise", 0.0)
    rng = _rng(seed)
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    X = corners[np.arange(n) % 4]
    y = (X[:, 0] != X[:, 1]).astype(np.int64)
    if noise:
        X = X + rng.normal(0.0, noise, X.shape)
    return X, y


def make_blobs(n_samples: int = 300, centers: int | np.typing.ArrayLike = 3, std: float = 1.0,
               box: tuple[float, float] = (-10.0, 10.0), seed: int | None = None) -> tuple[np.typing.NDArray[np.float64], np.typing.NDArray[np.int64]]:
    """Gaussian clusters: ``centers`` (an int, drawn uniformly in ``box``, or an
    array of points), each of standard deviation ``std``, samples split evenly."""
    n = check_positive_int(n_samples, "n_samples")
    check_number(std, "std", 0.0)
    if not (isinstance(box, (tuple, list)) and len(box) == 2):
        raise ValueError(f"box: expected (low, high), got {box!r}")
    low, high = check_number(box[0], "box[0]"), check_number(box[1], "box[1]")
    if not low < high:
        raise ValueError(f"box: expected low < high, got {box!r}")
    if isinstance(centers, (numbers.Integral, np.integer)) and not isinstance(centers, bool):
        k = _check_fits(check_positive_int(centers, "centers"), 2, "centers")
        _check_fits(n, 2)
        rng = _rng(seed)
        centers = rng.uniform(low, high, size=(k, 2))
    else:
        centers = as_float_matrix(centers, "centers")
        _check_fits(n, centers.shape[1])
        rng = _rng(seed)
    k = centers.shape[0]
    y = np.arange(n) % k
    X = centers[y] + rng.normal(0.0, std, size=(n, centers.shape[1]))
    perm = rng.permutation(n)
    return X[perm], y[perm].astype(np.int64)


def make_circles(n_samples: int = 200, noise: float = 0.1, factor: float = 0.5,
                 seed: int | None = None) -> tuple[np.typing.NDArray[np.float64], np.typing.NDArray[np.int64]]:
    """Two concentric circles: outer radius 1 (class 0), inner radius ``factor`` (class 1)."""
    n = _check_fits(check_positive_int(n_samples, "n_samples", minimum=2), 2)
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


def make_moons(n_samples: int = 200, noise: float = 0.1, seed: int | None = None) -> tuple[np.typing.NDArray[np.float64], np.typing.NDArray[np.int64]]:
    """Two interleaving half circles: class 0 on the upper arc (cos t, sin t),
    class 1 on the lower arc (1 − cos t, 0.5 − sin t), t in [0, π], plus noise."""
    n = _check_fits(check_positive_int(n_samples, "n_samples", minimum=2), 2)
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


def make_spiral(n_samples: int = 300, n_classes: int = 3, noise: float = 0.2,
                seed: int | None = None) -> tuple[np.typing.NDArray[np.float64], np.typing.NDArray[np.int64]]:
    """``n_classes`` interleaved spiral arms (the classic CS231n-style set)."""
    n = _check_fits(check_positive_int(n_samples, "n_samples"), 2)
    k = check_positive_int(n_classes, "n_classes", minimum=2)
    if k > n:
        raise ValueError(f"n_classes: expected at most n_samples ({n}) classes, got {k}")
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


def train_test_split(X: np.typing.ArrayLike, y: np.typing.ArrayLike, test_size: float = 0.2, seed: int | None = None,
                     stratify: bool | np.typing.ArrayLike | None = None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle and split into ``X_train, X_test, y_train, y_test``.

    Parameters
    ----------
    X : array of shape (n, ...)
    y : array of shape (n,) or (n, k)
        One target (or one row of targets) per row of ``X``.
    test_size : float in (0, 1)
        The share of samples for testing: ``round(n · test_size)`` of them, which must
        leave at least one sample on each side.
    seed : int >= 0 or None
        Seeds the shuffle.
    stratify : None, bool, or array of shape (n,) or (n, k)
        ``None`` or ``False``: a plain shuffle. An array of class labels (any dtype; a 2-D
        array's rows are the classes, e.g. one-hot ``y``): both parts keep the classes'
        proportions, as scikit-learn's ``train_test_split(..., stratify=labels)`` does.
        ``True`` means ``stratify=y`` (pyneuron's older form, kept).

    How a stratified split is allotted: class ``c`` with ``n_c`` of the ``n`` samples has
    the quota ``n_c · n_test / n`` in the test part; each class gets its quota's floor and
    the samples still missing go, one each, to the classes with the largest remainders
    (ties drawn at random) -- the largest-remainder (Hamilton) apportionment, so every
    class's test count is its quota rounded up or down and the counts sum to ``n_test``.
    Within each class the test samples are drawn at random; both parts are then shuffled.

    Raises ``ValueError`` if the lengths disagree, ``test_size`` leaves a part empty, a
    class has fewer than 2 samples, or either part would have fewer samples than there are
    classes (some class could not appear in it); ``TypeError`` for a ``stratify`` that is
    neither None, a bool nor an array of labels.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError(f"X, y: expected arrays with one row per sample, got shapes {X.shape} and {y.shape}")
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"y: expected {X.shape[0]} targets (one per row of X), got {y.shape[0]}")
    check_number(test_size, "test_size", 0.0, 1.0, low_open=True, high_open=True)
    labels = _stratify_labels(stratify, y, X.shape[0])
    n = X.shape[0]
    n_test = int(round(n * test_size))
    if not 1 <= n_test < n:
        raise ValueError(f"test_size: {test_size} of {n} samples leaves {n_test} for testing; "
                         "need at least 1 and fewer than all")
    rng = _rng(seed)
    if labels is None:
        order = rng.permutation(n)
        test, train = order[:n_test], order[n_test:]
    else:
        train, test = _stratified_indices(labels, n_test, rng)
    return X[train], X[test], y[train], y[test]


def _stratify_labels(stratify: object, y: np.ndarray, n: int) -> np.typing.NDArray[np.int64] | None:
    """The class of each sample as integers 0..k-1, or None for no stratification."""
    if stratify is None:
        return None
    if isinstance(stratify, (bool, np.bool_)):
        return _class_codes(y, "y (stratify=True)") if stratify else None
    if isinstance(stratify, (str, bytes, numbers.Number)) or not hasattr(stratify, "__len__"):
        raise TypeError(f"stratify: expected True or False, None, or an array of {n} class labels "
                        f"(one per row of X), got {stratify!r}")
    labels = np.asarray(stratify)
    if labels.ndim not in (1, 2) or labels.shape[0] != n:
        raise ValueError(f"stratify: expected {n} class labels (one per row of X, shape ({n},) or "
                         f"({n}, k)), got an array of shape {labels.shape}")
    return _class_codes(labels, "stratify")


def _class_codes(labels: np.ndarray, name: str) -> np.typing.NDArray[np.int64]:
    if labels.ndim not in (1, 2):
        raise ValueError(f"{name}: expected class labels of shape (n,) or (n, k), got shape {labels.shape}")
    if labels.dtype.kind == "f" and not np.all(np.isfinite(labels)):
        raise ValueError(f"{name}: expected class labels, got non-finite values")
    try:
        _, codes = np.unique(labels, axis=0 if labels.ndim == 2 else None, return_inverse=True)
    except TypeError as exc:
        raise TypeError(f"{name}: expected sortable class labels, got {labels.dtype} ({exc})") from None
    return codes.reshape(-1)


def _stratified_indices(codes: np.typing.NDArray[np.int64], n_test: int, rng: np.random.Generator) -> tuple[np.typing.NDArray[np.int64], np.typing.NDArray[np.int64]]:
    """(train, test) indices keeping each class's share (see :func:`train_test_split`)."""
    n = codes.shape[0]
    counts = np.bincount(codes)
    n_classes = counts.shape[0]
    if counts.min() < 2:
        raise ValueError(f"stratify: a class has only {counts.min()} sample; every class needs at "
                         "least 2 (one for each part)")
    if min(n_test, n - n_test) < n_classes:
        raise ValueError(f"test_size: the split gives {n_test} test and {n - n_test} training samples; "
                         f"stratifying {n_classes} classes needs at least {n_classes} in each part")
    members = [rng.permutation(np.flatnonzero(codes == c)) for c in range(n_classes)]
    quota = counts * n_test / n
    take = np.floor(quota).astype(int)
    remainder = quota - take
    # the missing samples go to the largest remainders; a random key breaks ties
    order = np.lexsort((rng.random(n_classes), -remainder))
    take[order[:n_test - take.sum()]] += 1
    test = np.concatenate([idx[:k] for idx, k in zip(members, take)])
    train = np.concatenate([idx[k:] for idx, k in zip(members, take)])
    return rng.permutation(train), rng.permutation(test)


class Standardizer:
    """Scale each feature to zero mean and unit variance, using statistics from
    the training data only: ``fit(X_train)``, then ``transform`` train and test.

    ``transform(X) = (X − mean_) / scale_`` with ``mean_`` and ``scale_`` (the
    population standard deviation, ``ddof=0``) per column, float64, as
    scikit-learn's ``StandardScaler``. A column whose variance is zero, or
    indistinguishable from zero by round-off, gets ``scale_ = 1``: it is only
    centred (see :func:`constant_columns`).
    """

    def __init__(self) -> None:
        self.mean_: np.typing.NDArray[np.float64] | None = None
        self.scale_: np.typing.NDArray[np.float64] | None = None

    def __repr__(self) -> str:
        return "Standardizer(fitted)" if self.mean_ is not None else "Standardizer()"

    def fit(self, X: np.typing.ArrayLike) -> Standardizer:
        """Learn ``mean_`` and ``scale_`` from ``X`` (n_samples, n_features), finite."""
        X = as_float_matrix(X, "X")
        mean = X.mean(axis=0)
        var = np.mean((X - mean) ** 2, axis=0)           # the two-pass variance
        self.mean_ = mean
        self.scale_ = np.where(constant_columns(var, mean, X.shape[0]), 1.0, np.sqrt(var))
        return self

    def _check_fitted(self, method: str) -> None:
        if self.mean_ is None:
            raise ValueError(f"Standardizer: call fit(X_train) before {method}")

    def transform(self, X: np.typing.ArrayLike) -> np.typing.NDArray[np.float64]:
        self._check_fitted("transform")
        X = as_float_matrix(X, "X", n_features=self.mean_.shape[0])
        return (X - self.mean_) / self.scale_

    def fit_transform(self, X: np.typing.ArrayLike) -> np.typing.NDArray[np.float64]:
        return self.fit(X).transform(X)

    def inverse_transform(self, X: np.typing.ArrayLike) -> np.typing.NDArray[np.float64]:
        self._check_fitted("inverse_transform")
        X = as_float_matrix(X, "X", n_features=self.mean_.shape[0])
        return X * self.scale_ + self.mean_


def constant_columns(var: np.typing.NDArray[np.float64], mean: np.typing.NDArray[np.float64], n_samples: int) -> np.typing.NDArray[np.bool_]:
    r"""Which columns' variance is zero up to the round-off of computing it.

    The two-pass variance of ``n`` float64 values (mean first, then the mean
    squared deviation) has an error bounded by about
    :math:`n\varepsilon\,\sigma^2 + (n\varepsilon\,\bar x)^2` (Chan, Golub &
    LeVeque, "Algorithms for computing the sample variance", 1983). A column
    whose computed variance is within that bound cannot be told from a constant
    one: seven copies of 100000.1 give a variance of about 1e-22, not 0, and
    dividing by its square root (1.5e-11) would blow 100000.2 up to 6.9e9.
    scikit-learn's ``StandardScaler`` applies the same test.
    """
    eps = np.finfo(np.float64).eps
    return var <= n_samples * eps * var + (n_samples * eps * mean) ** 2


# ---------------------------------------------------------------------------
# The tutorials' own datasets, reproduced point for point.
#
# These use NumPy's legacy ``RandomState`` on purpose: the tutorials seed the
# global legacy generator (``np.random.seed``), so drawing the same numbers in
# the same order gives exactly the points the tutorials trained on.


def make_tutorial_blobs(n_samples: int = 1000, seed: int | None = 42) -> tuple[np.typing.NDArray[np.float64], np.typing.NDArray[np.int64]]:
    """Seed 000's linearly separable set: two unit-variance Gaussian clouds,
    class 0 around (−2, −2) and class 1 around (2, 2), shuffled.

    With the defaults these are exactly the tutorial's 1,000 points."""
    n = _check_fits(check_positive_int(n_samples, "n_samples", minimum=2), 2)
    rs = np.random.RandomState(_check_seed(seed))
    n0 = n // 2
    n1 = n - n0
    class0 = rs.randn(2, n0) + np.array([[-2.0], [-2.0]])
    class1 = rs.randn(2, n1) + np.array([[2.0], [2.0]])
    X = np.concatenate([class0, class1], axis=1).T
    y = np.r_[np.zeros(n0), np.ones(n1)].astype(np.int64)
    order = rs.permutation(n)
    return np.ascontiguousarray(X[order]), y[order]


def make_tutorial_circles(n_samples: int = 1000, noise: float = 0.1, seed: int | None = 42) -> tuple[np.typing.NDArray[np.float64], np.typing.NDArray[np.int64]]:
    """Seed 000's non-linear set: a disc of radius 0.5 (class 0) inside a ring
    reaching radius 1 (class 1), then Gaussian ``noise`` on every coordinate.

    Radius and angle are uniform, so about half the points fall in each class;
    points near radius 0.5 are pushed across the border by the noise, which is
    why no classifier gets much above ~92 % on it. Rows come class 0 first,
    then class 1 (as the tutorial returns them): shuffle before slicing.
    With the defaults these are exactly the tutorial's points
    (``n_samples=2000`` gives its final pipeline's set)."""
    n = _check_fits(check_positive_int(n_samples, "n_samples", minimum=2), 2)
    check_number(noise, "noise", 0.0)
    rs = np.random.RandomState(_check_seed(seed))
    radius = rs.rand(n)
    angle = 2 * np.pi * rs.rand(n)
    points = np.c_[radius * np.cos(angle), radius * np.sin(angle)]
    inner = radius < 0.5
    X = np.vstack([points[inner], points[~inner]])
    y = np.r_[np.zeros(inner.sum()), np.ones((~inner).sum())].astype(np.int64)
    X = X + (rs.randn(2, n) * noise).T
    return X, y


def make_tutorial_moons(n_samples: int = 500, noise: float = 0.2, seed: int | None = 42) -> tuple[np.typing.NDArray[np.float64], np.typing.NDArray[np.int64]]:
    """Seed 003's two moons: upper arc (cos t, sin t) for class 0, lower arc
    (1 − cos t, 0.5 − sin t) for class 1, t evenly spaced in [0, π], Gaussian
    ``noise``, shuffled. With the defaults these are exactly the tutorial's
    500 points. An odd ``n_samples`` gives the upper arc the extra point (as
    scikit-learn's ``make_moons``); the tutorial's recipe, ``n // 2`` points per
    arc, would return one row fewer than asked. (:func:`make_moons` draws the
    same shape from a modern generator.)"""
    n = _check_fits(check_positive_int(n_samples, "n_samples", minimum=2), 2)
    check_number(noise, "noise", 0.0)
    rs = np.random.RandomState(_check_seed(seed))
    lower = n // 2
    upper = n - lower
    t_up, t_low = np.linspace(0, np.pi, upper), np.linspace(0, np.pi, lower)
    X = np.vstack([np.c_[np.cos(t_up), np.sin(t_up)], np.c_[1 - np.cos(t_low), 0.5 - np.sin(t_low)]])
    X = X + rs.normal(0.0, noise, X.shape)
    y = np.r_[np.zeros(upper), np.ones(lower)].astype(np.int64)
    order = rs.permutation(n)
    return X[order], y[order]


def load_digits() -> tuple[np.typing.NDArray[np.float64], np.typing.NDArray[np.int64]]:
    """The 8×8 handwritten digits: ``X`` (1797, 64) pixel intensities 0–16 as
    float64, ``y`` the digit 0–9.

    Read from the copy bundled inside scikit-learn (nothing is downloaded);
    install it with ``pip install scikit-learn``."""
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError:
        raise ImportError('load_digits needs scikit-learn, which ships the digits data: '
                          'pip install scikit-learn') from None
    data = sklearn_digits()
    return np.asarray(data.data, dtype=np.float64), np.asarray(data.target, dtype=np.int64)
