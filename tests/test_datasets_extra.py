"""The tutorials' datasets (seeds 000 and 003) and the bundled digits."""
import sys

import numpy as np
import pytest

from pyneuron import datasets


def test_tutorial_moons_reproduce_seed_003_split():
    X, y = datasets.make_tutorial_moons()
    assert X.shape == (500, 2) and np.bincount(y).tolist() == [250, 250]
    # Seed 003 splits with a legacy permutation (seed 42, 100 test points) and
    # prints the training class counts [201 199]: only its exact points give that.
    train = np.random.RandomState(42).permutation(500)[100:]
    assert np.bincount(y[train]).tolist() == [201, 199]


def test_tutorial_moons_depend_on_seed_and_noise():
    a, _ = datasets.make_tutorial_moons(seed=1)
    b, _ = datasets.make_tutorial_moons(seed=2)
    c, _ = datasets.make_tutorial_moons(seed=1, noise=0.0)
    assert not np.allclose(a, b)
    # without noise every point lies on its arc
    r0 = np.hypot(c[:, 0], c[:, 1])
    r1 = np.hypot(c[:, 0] - 1, c[:, 1] - 0.5)
    assert np.all(np.isclose(r0, 1) | np.isclose(r1, 1))


def test_tutorial_circles_shape_and_classes():
    X, y = datasets.make_tutorial_circles(2000)
    assert X.shape == (2000, 2) and set(np.unique(y)) == {0, 1}
    assert 900 < np.sum(y == 0) < 1100          # uniform radius: about half inside 0.5
    radius = np.hypot(X[:, 0], X[:, 1])
    assert np.median(radius[y == 0]) < 0.3 < np.median(radius[y == 1])
    X0, y0 = datasets.make_tutorial_circles(100, noise=0.0)
    r = np.hypot(X0[:, 0], X0[:, 1])
    assert np.all((r < 0.5) == (y0 == 0))


def test_tutorial_blobs_are_separable_clouds():
    X, y = datasets.make_tutorial_blobs()
    assert X.shape == (1000, 2) and np.bincount(y).tolist() == [500, 500]
    assert np.allclose(X[y == 0].mean(axis=0), [-2, -2], atol=0.15)
    assert np.allclose(X[y == 1].mean(axis=0), [2, 2], atol=0.15)
    assert np.mean((X.sum(axis=1) > 0) == (y == 1)) > 0.99
    assert not np.array_equal(X, datasets.make_tutorial_blobs(seed=0)[0])


@pytest.mark.parametrize("make", [datasets.make_tutorial_blobs, datasets.make_tutorial_circles,
                                  datasets.make_tutorial_moons])
def test_bad_sizes_are_refused(make):
    with pytest.raises(ValueError, match="n_samples"):
        make(n_samples=0)


def test_load_digits_shape():
    pytest.importorskip("sklearn")
    X, y = datasets.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert np.bincount(y).size == 10 and X.min() == 0 and X.max() == 16


def test_load_digits_without_sklearn_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        datasets.load_digits()


@pytest.mark.parametrize("n", [3, 5, 501])
def test_tutorial_moons_of_an_odd_size_have_that_many_rows(n):
    X, y = datasets.make_tutorial_moons(n, noise=0.0, seed=0)
    assert X.shape == (n, 2) and y.shape == (n,)
    assert (np.sum(y == 0), np.sum(y == 1)) == (n - n // 2, n // 2)    # the upper arc gets the extra one
    up, low = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(up[:, 0], up[:, 1]), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.hypot(1 - low[:, 0], 0.5 - low[:, 1]), 1.0, atol=1e-12)
    assert sorted(up[:, 0]) == pytest.approx(sorted(np.cos(np.linspace(0, np.pi, n - n // 2))), abs=1e-12)
