"""Generated datasets, train_test_split and Standardizer."""
from __future__ import annotations

import numpy as np
import pytest

from pyneuron import datasets as ds

GENERATORS = {
    "moons": (lambda seed: ds.make_moons(200, noise=0.1, seed=seed), 2),
    "circles": (lambda seed: ds.make_circles(200, noise=0.1, seed=seed), 2),
    "blobs": (lambda seed: ds.make_blobs(300, centers=3, seed=seed), 3),
    "spiral": (lambda seed: ds.make_spiral(300, n_classes=3, seed=seed), 3),
    "xor": (lambda seed: ds.make_xor(8, noise=0.1, seed=seed), 2),
}


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_shapes_dtypes_balance(name):
    make, k = GENERATORS[name]
    X, y = make(0)
    n = X.shape[0]
    assert X.shape == (n, 2) and X.dtype == np.float64
    assert y.shape == (n,) and y.dtype == np.int64
    assert np.all(np.isfinite(X))
    counts = np.bincount(y)
    assert len(counts) == k
    assert counts.max() - counts.min() <= 1          # balanced


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_seeded_reproducibility(name):
    make, _ = GENERATORS[name]
    X1, y1 = make(42)
    X2, y2 = make(42)
    X3, _ = make(43)
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


def test_xor_truth_table():
    X, y = ds.make_xor()
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert y.tolist() == [0, 1, 1, 0]


def test_moons_geometry():
    X, y = ds.make_moons(400, noise=0.0, seed=0)
    upper, lower = X[y == 0], X[y == 1]
    # class 0 on (cos t, sin t), class 1 on (1 - cos t, 0.5 - sin t)
    assert np.allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)
    assert np.allclose(np.hypot(1 - lower[:, 0], 0.5 - lower[:, 1]), 1.0)
    assert upper[:, 1].min() >= -1e-12 and lower[:, 1].max() <= 0.5 + 1e-12


def test_circles_radii():
    X, y = ds.make_circles(200, noise=0.0, factor=0.5, seed=0)
    r = np.hypot(X[:, 0], X[:, 1])
    assert np.allclose(r[y == 0], 1.0) and np.allclose(r[y == 1], 0.5)


def test_blobs_explicit_centers():
    centers = np.array([[0.0, 0.0], [10.0, 10.0]])
    X, y = ds.make_blobs(1000, centers=centers, std=0.5, seed=0)
    for c in range(2):
        assert np.allclose(X[y == c].mean(axis=0), centers[c], atol=0.1)
        assert np.allclose(X[y == c].std(axis=0), 0.5, atol=0.05)


# ---------------------------------------------------------------- train_test_split
def test_split_sizes_and_disjointness():
    X = np.arange(100.0).reshape(50, 2)          # row i is [2i, 2i+1]: identifies its index
    y = np.arange(50)
    Xtr, Xte, ytr, yte = ds.train_test_split(X, y, test_size=0.2, seed=0)
    assert Xtr.shape == (40, 2) and Xte.shape == (10, 2) and ytr.shape == (40,) and yte.shape == (10,)
    assert set(ytr).isdisjoint(set(yte)) and set(ytr) | set(yte) == set(range(50))
    assert np.array_equal(Xtr[:, 0] / 2, ytr) and np.array_equal(Xte[:, 0] / 2, yte)   # rows stay paired
    again = ds.train_test_split(X, y, test_size=0.2, seed=0)
    assert np.array_equal(again[3], yte)
    other = ds.train_test_split(X, y, test_size=0.2, seed=1)
    assert not np.array_equal(other[3], yte)
    assert not np.array_equal(ytr, np.sort(ytr))          # shuffled


def test_split_stratified_keeps_proportions():
    y = np.array([0] * 80 + [1] * 20)
    X = np.arange(100.0).reshape(100, 1)
    Xtr, Xte, ytr, yte = ds.train_test_split(X, y, test_size=0.25, seed=0, stratify=True)
    assert np.bincount(yte).tolist() == [20, 5]
    assert np.bincount(ytr).tolist() == [60, 15]
    assert set(Xtr[:, 0]).isdisjoint(Xte[:, 0])


@pytest.mark.parametrize("test_size", [0.0, 1.0, 1.5, 0.001])
def test_split_bad_test_size(test_size):
    with pytest.raises(ValueError, match="test_size"):
        ds.train_test_split(np.zeros((10, 2)), np.zeros(10), test_size=test_size)


def test_split_length_mismatch():
    with pytest.raises(ValueError, match="y: expected 10 targets"):
        ds.train_test_split(np.zeros((10, 2)), np.zeros(9))


# ---------------------------------------------------------------- Standardizer
def test_standardizer_fit_on_train_only():
    rng = np.random.default_rng(0)
    train = rng.normal([5.0, -3.0], [2.0, 0.1], (200, 2))
    test = rng.normal([6.0, -3.0], [2.0, 0.1], (50, 2))
    scaler = ds.Standardizer().fit(train)
    assert np.allclose(scaler.mean_, train.mean(axis=0)) and np.allclose(scaler.scale_, train.std(axis=0))
    Z = scaler.transform(train)
    assert np.allclose(Z.mean(axis=0), 0.0, atol=1e-12)
    assert np.allclose(Z.std(axis=0), 1.0)
    T = scaler.transform(test)
    assert np.allclose(T, (test - train.mean(axis=0)) / train.std(axis=0))   # the train statistics
    assert not np.allclose(T.mean(axis=0), 0.0, atol=1e-3)
    assert np.allclose(scaler.inverse_transform(T), test)
    assert np.allclose(ds.Standardizer().fit_transform(train), Z)


def test_standardizer_constant_column():
    X = np.array([[1.0, 7.0], [2.0, 7.0], [3.0, 7.0]])
    with np.errstate(all="raise"):
        Z = ds.Standardizer().fit_transform(X)
    assert np.all(np.isfinite(Z))
    assert np.array_equal(Z[:, 1], [0.0, 0.0, 0.0])


def test_standardizer_transform_before_fit():
    with pytest.raises(ValueError, match="fit"):
        ds.Standardizer().transform(np.zeros((2, 2)))


def test_standardizer_wrong_width():
    scaler = ds.Standardizer().fit(np.random.default_rng(0).normal(size=(10, 3)))
    with pytest.raises(ValueError, match="X: expected 3 features"):
        scaler.transform(np.zeros((2, 2)))
