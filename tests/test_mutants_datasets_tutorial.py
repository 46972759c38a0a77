"""The tutorials' data sets and load_digits (pyneuron/datasets.py lines 319-398) beyond
test_datasets_extra: what the mutation run (.ci/mutation.py pyneuron/datasets.py --lines
319-398, issue 15 item 10) showed untested. Each set is compared point for point with the
tutorial's recipe written out here from its description (seed 000: blobs and circles,
seed 003: moons; the legacy generator seeded with 42, the numbers drawn in the
tutorial's order), with the defaults and with other sizes, noise levels and seeds; the
smallest sizes; load_digits without scikit-learn (its shape with scikit-learn is
test_datasets_extra's)."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from pyneuron import datasets


def blobs_recipe(n, seed):
    """Two clouds of n // 2 and n - n // 2 points (2 x n randn each, centres -2 and +2),
    concatenated class 0 first, then shuffled by one permutation of the same generator."""
    rs = np.random.RandomState(seed)
    n0 = n // 2
    first = rs.randn(2, n0) - 2.0
    second = rs.randn(2, n - n0) + 2.0
    X = np.hstack([first, second]).T
    y = np.array([0] * n0 + [1] * (n - n0))
    order = rs.permutation(n)
    return X[order], y[order]


def circles_recipe(n, noise, seed):
    """n radii, then n angles in [0, 2 pi); inside radius 0.5 is class 0 (listed first),
    then 2 x n Gaussian noise, transposed onto the points."""
    rs = np.random.RandomState(seed)
    r = rs.rand(n)
    a = rs.rand(n) * (2 * np.pi)
    inside = r < 0.5
    x, z = r * np.cos(a), r * np.sin(a)
    X = np.array([np.r_[x[inside], x[~inside]], np.r_[z[inside], z[~inside]]]).T
    y = np.r_[np.zeros(inside.sum(), int), np.ones(n - inside.sum(), int)]
    return X + noise * rs.randn(2, n).T, y


def moons_recipe(n, noise, seed):
    """n // 2 angles evenly over [0, pi] per moon: (cos t, sin t) and (1 - cos t, 1/2 - sin t),
    Gaussian noise of the whole (2h, 2) array, then a permutation of the 2h rows."""
    rs = np.random.RandomState(seed)
    h = n // 2
    t = np.pi * np.arange(h) / (h - 1) if h > 1 else np.zeros(1)
    upper = np.column_stack([np.cos(t), np.sin(t)])
    lower = np.column_stack([1 - np.cos(t), 0.5 - np.sin(t)])
    X = np.concatenate([upper, lower]) + rs.normal(0, noise, (2 * h, 2))
    y = np.repeat([0, 1], h)
    order = rs.permutation(2 * h)
    return X[order], y[order]


def assert_same_set(got, expected):
    (X, y), (X_expected, y_expected) = got, expected
    assert X.shape == X_expected.shape and X.dtype == np.float64 and y.dtype == np.int64
    np.testing.assert_allclose(X, X_expected, rtol=1e-14, atol=1e-15)
    assert np.array_equal(y, y_expected)


# ---------------------------------------------------------------------------- seed 000's blobs
def test_blobs_defaults_are_the_tutorial_points():
    X, y = datasets.make_tutorial_blobs()
    assert_same_set((X, y), blobs_recipe(1000, 42))
    assert X.flags.c_contiguous


@pytest.mark.parametrize("n, seed", [(2, 0), (3, 7), (11, 42), (40, None)])
def test_blobs_other_sizes_and_seeds(n, seed):
    if seed is None:
        X, y = datasets.make_tutorial_blobs(n, seed=None)
        assert X.shape == (n, 2) and np.bincount(y).tolist() == [n // 2, n - n // 2]
        return
    assert_same_set(datasets.make_tutorial_blobs(n, seed=seed), blobs_recipe(n, seed))


# ---------------------------------------------------------------------------- seed 000's circles
def test_circles_defaults_are_the_tutorial_points():
    assert_same_set(datasets.make_tutorial_circles(), circles_recipe(1000, 0.1, 42))


@pytest.mark.parametrize("n, noise, seed", [(2, 0.0, 0), (9, 0.3, 5), (2000, 0.1, 42), (50, 1.5, 1)])
def test_circles_other_sizes_noise_and_seeds(n, noise, seed):
    assert_same_set(datasets.make_tutorial_circles(n, noise=noise, seed=seed), circles_recipe(n, noise, seed))


# ---------------------------------------------------------------------------- seed 003's moons
def test_moons_defaults_are_the_tutorial_points():
    assert_same_set(datasets.make_tutorial_moons(), moons_recipe(500, 0.2, 42))


@pytest.mark.parametrize("n, noise, seed", [(4, 0.0, 0), (10, 0.5, 3), (60, 0.05, 42)])
def test_moons_other_sizes_noise_and_seeds(n, noise, seed):
    assert_same_set(datasets.make_tutorial_moons(n, noise=noise, seed=seed), moons_recipe(n, noise, seed))


def test_moons_without_noise_lie_on_the_arcs_end_to_end():
    X, y = datasets.make_tutorial_moons(6, noise=0.0, seed=0)
    upper = sorted(map(tuple, np.round(X[y == 0], 12)))
    lower = sorted(map(tuple, np.round(X[y == 1], 12)))
    assert upper == sorted([(1.0, 0.0), (0.0, 1.0), (-1.0, 0.0)])            # t = 0, pi/2, pi
    assert lower == sorted([(0.0, 0.5), (1.0, -0.5), (2.0, 0.5)])


# ---------------------------------------------------------------------------- arguments
@pytest.mark.parametrize("make", [datasets.make_tutorial_blobs, datasets.make_tutorial_circles,
                                  datasets.make_tutorial_moons])
def test_two_samples_are_the_fewest(make):
    assert make(n_samples=2)[0].shape == (2, 2)
    with pytest.raises(ValueError, match=r"n_samples: expected an integer >= 2, got 1"):
        make(n_samples=1)


@pytest.mark.parametrize("make", [datasets.make_tutorial_circles, datasets.make_tutorial_moons])
def test_noise_must_be_at_least_zero(make):
    assert make(n_samples=4, noise=0.5)[0].shape[0] == 4
    with pytest.raises(ValueError, match="noise"):
        make(n_samples=4, noise=-0.1)


@pytest.mark.parametrize("make", [datasets.make_tutorial_blobs, datasets.make_tutorial_circles,
                                  datasets.make_tutorial_moons])
def test_seeds_are_checked(make):
    with pytest.raises(TypeError, match=r"seed: expected a non-negative integer or None, got -1"):
        make(n_samples=4, seed=-1)


# ---------------------------------------------------------------------------- digits
def test_load_digits_without_sklearn_raises_import_error_naming_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"^load_digits needs scikit-learn, which ships the digits data: "
                                          r"pip install scikit-learn$") as info:
        datasets.load_digits()
    assert info.value.__cause__ is None and info.value.__suppress_context__
