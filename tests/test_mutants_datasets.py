"""pyneuron.datasets beyond test_datasets*: the generators' exact geometry without
noise (where every point is known by hand), how samples are shared between classes
for odd sizes, noise on both sides of zero, the stratified split's argument checks,
and the round-off test of constant columns at its edge."""
from __future__ import annotations

import math

import numpy as np
import pytest

from pyneuron import datasets as ds


def sorted_rows(X):
    return X[np.lexsort(X.T[::-1])]


def test_xor_cycles_the_corners_and_noise_moves_them():
    X, y = ds.make_xor(6)
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1], [0, 0], [0, 1]]
    assert y.tolist() == [0, 1, 1, 0, 0, 1] and y.dtype == np.int64
    Xn, yn = ds.make_xor(6, noise=0.1, seed=0)
    assert yn.tolist() == y.tolist()
    jitter = Xn - X
    np.testing.assert_allclose(jitter, np.random.default_rng(0).normal(0.0, 0.1, (6, 2)), atol=1e-15)


@pytest.mark.parametrize("n", [5, 6])
def test_circles_without_noise_are_evenly_spaced_points(n):
    X, y = ds.make_circles(n, noise=0.0, factor=0.25, seed=0)
    n_out, n_in = n // 2, n - n // 2
    assert (y == 0).sum() == n_out and (y == 1).sum() == n_in
    for label, count, radius in ((0, n_out, 1.0), (1, n_in, 0.25)):
        angles = 2 * math.pi * np.arange(count) / count          # endpoint excluded
        expected = radius * np.c_[np.cos(angles), np.sin(angles)]
        np.testing.assert_allclose(sorted_rows(X[y == label]), sorted_rows(expected), atol=1e-15)


@pytest.mark.parametrize("n", [5, 6])
def test_moons_without_noise_are_the_two_arcs(n):
    X, y = ds.make_moons(n, noise=0.0, seed=0)
    n0, n1 = n // 2, n - n // 2
    assert (y == 0).sum() == n0 and (y == 1).sum() == n1
    t0, t1 = np.linspace(0, math.pi, n0), np.linspace(0, math.pi, n1)
    np.testing.assert_allclose(sorted_rows(X[y == 0]), sorted_rows(np.c_[np.cos(t0), np.sin(t0)]), atol=1e-15)
    np.testing.assert_allclose(sorted_rows(X[y == 1]), sorted_rows(np.c_[1 - np.cos(t1), 0.5 - np.sin(t1)]),
                               atol=1e-15)


def test_noise_is_added_with_its_standard_deviation():
    X0, _ = ds.make_moons(4000, noise=0.0, seed=1)
    X1, _ = ds.make_moons(4000, noise=0.3, seed=1)
    # same seed: the same permutation only when no noise is drawn first, so compare spreads
    assert abs(np.std(np.hypot(*X1.T)) - np.std(np.hypot(*X0.T))) > 0.01
    Xc, yc = ds.make_circles(4000, noise=0.2, factor=0.5, seed=3)
    r = np.hypot(*Xc.T)
    assert abs(r[yc == 0].mean() - 1.0) < 0.05 and abs(r[yc == 1].mean() - 0.5) < 0.05


def test_spiral_without_noise_puts_each_arm_on_its_own_turn():
    X, y = ds.make_spiral(12, n_classes=3, noise=0.0, seed=0)
    for c in range(3):
        m = 4
        r = np.linspace(0.0, 1.0, m)
        theta = np.linspace(4.0 * c, 4.0 * (c + 1), m)
        expected = np.c_[r * np.sin(theta), r * np.cos(theta)]
        np.testing.assert_allclose(sorted_rows(X[y == c]), sorted_rows(expected), atol=1e-15)


def test_spiral_needs_two_classes():
    with pytest.raises(ValueError, match=r"n_classes: expected an integer >= 2, got 1"):
        ds.make_spiral(10, n_classes=1)


def test_blobs_with_zero_spread_sit_on_their_centers_drawn_in_the_box():
    X, y = ds.make_blobs(7, centers=3, std=0.0, box=(2.0, 3.0), seed=0)
    assert np.bincount(y).tolist() == [3, 2, 2]
    centers = np.random.default_rng(0).uniform(2.0, 3.0, size=(3, 2))
    np.testing.assert_array_equal(X, centers[y])
    X, y = ds.make_blobs(4, centers=[[1.0, 2.0, 3.0]], std=0.0, seed=0)
    assert X.tolist() == [[1.0, 2.0, 3.0]] * 4 and y.tolist() == [0] * 4


def test_blob_centers_true_is_not_a_count():
    with pytest.raises((TypeError, ValueError), match="centers"):
        ds.make_blobs(10, centers=True)


def test_a_stratified_class_needs_two_samples():
    X, y = np.zeros((5, 1)), np.array([0, 0, 1, 1, 2])
    with pytest.raises(ValueError, match=r"^stratify: a class has only 1 sample; every class needs at least 2"):
        ds.train_test_split(X, y, test_size=0.4, stratify=y, seed=0)


@pytest.mark.parametrize("test_size, ok", [(0.3, True), (0.2, False), (0.7, True), (0.8, False)])
def test_each_part_needs_room_for_every_class(test_size, ok):
    X, y = np.zeros((10, 1)), np.arange(10) % 3           # 3 classes: each part needs >= 3 samples
    if ok:
        _, _, y_tr, y_te = ds.train_test_split(X, y, test_size=test_size, stratify=y, seed=0)
        assert set(y_tr) == set(y_te) == {0, 1, 2}
    else:
        with pytest.raises(ValueError, match="stratifying 3 classes needs at least 3 in each part"):
            ds.train_test_split(X, y, test_size=test_size, stratify=y, seed=0)
    with pytest.raises(ValueError, match=r"^test_size: the split gives 2 test and 8 training samples; "):
        ds.train_test_split(X, y, test_size=0.2, stratify=y, seed=0)


def test_stratified_counts_by_largest_remainder():
    # classes of 5, 3, 2 of 10 with 5 for testing: quotas 2.5, 1.5, 1.0 -> floors 2, 1, 1 (sum 4);
    # the one missing sample goes to a class with remainder 0.5 (class 0 or 1), never to class 2
    y = np.array([0] * 5 + [1] * 3 + [2] * 2)
    X = np.arange(10.0).reshape(10, 1)
    for seed in range(8):
        X_tr, X_te, y_tr, y_te = ds.train_test_split(X, y, test_size=0.5, stratify=y, seed=seed)
        counts = np.bincount(y_te, minlength=3).tolist()
        assert counts in ([3, 1, 1], [2, 2, 1])
        assert sorted(X_tr[:, 0].tolist() + X_te[:, 0].tolist()) == X[:, 0].tolist()
        assert (y[X_te[:, 0].astype(int)] == y_te).all()


def test_scalars_are_not_datasets():
    with pytest.raises(ValueError, match=r"X, y: expected arrays with one row per sample, got shapes \(\) and \(3,\)"):
        ds.train_test_split(1.0, [0, 1, 0])
    with pytest.raises(ValueError, match=r"got shapes \(3, 1\) and \(\)"):
        ds.train_test_split(np.zeros((3, 1)), 0)


def test_non_finite_float_labels_cannot_stratify():
    X = np.zeros((4, 1))
    with pytest.raises(ValueError, match="stratify: expected class labels, got non-finite values"):
        ds.train_test_split(X, [0, 1, 0, 1], stratify=np.array([0.0, 1.0, np.nan, 1.0]))


def test_constant_columns_at_the_round_off_bound():
    eps = np.finfo(np.float64).eps
    n, mean = 7, 1.0
    bound = (n * eps * mean) ** 2 / (1 - n * eps)          # var = n·eps·var + (n·eps·mean)²
    assert ds.constant_columns(np.array([0.0]), np.array([0.0]), n).tolist() == [True]
    assert ds.constant_columns(np.array([bound * 0.99]), np.array([mean]), n).tolist() == [True]
    assert ds.constant_columns(np.array([bound * 1.01]), np.array([mean]), n).tolist() == [False]
    assert ds.constant_columns(np.array([1e-20]), np.array([0.0]), n).tolist() == [False]


def test_standardizer_repr_and_inverse():
    s = ds.Standardizer()
    assert repr(s) == "Standardizer()"
    with pytest.raises(ValueError, match=r"Standardizer: call fit\(X_train\) before inverse_transform"):
        s.inverse_transform([[1.0]])
    s.fit([[1.0, 10.0], [3.0, 10.0]])
    assert repr(s) == "Standardizer(fitted)"
    assert s.mean_.tolist() == [2.0, 10.0] and s.scale_.tolist() == [1.0, 1.0]
    assert s.inverse_transform([[1.0, 2.0]]).tolist() == [[3.0, 12.0]]
    assert s.fit_transform([[0.0], [4.0]]).tolist() == [[-1.0], [1.0]]


# ------------------------------------------------------------------ defaults and draw order
@pytest.mark.parametrize("make, explicit", [
    (ds.make_blobs, dict(n_samples=300, centers=3, std=1.0, box=(-10.0, 10.0))),
    (ds.make_circles, dict(n_samples=200, noise=0.1, factor=0.5)),
    (ds.make_moons, dict(n_samples=200, noise=0.1)),
    (ds.make_spiral, dict(n_samples=300, n_classes=3, noise=0.2)),
    (ds.make_xor, dict(n_samples=4, noise=0.0)),
], ids=lambda v: getattr(v, "__name__", ""))
def test_the_documented_defaults(make, explicit):
    X, y = make(seed=5)
    X2, y2 = make(seed=5, **explicit)
    assert np.array_equal(X, X2) and np.array_equal(y, y2) and len(X) == explicit["n_samples"]


def test_blobs_draw_centers_then_noise_then_the_shuffle():
    """A seed fixes the set: centers uniform in the box, Gaussian noise added, rows permuted."""
    X, y = ds.make_blobs(9, centers=2, std=0.5, box=(0.0, 1.0), seed=4)
    rng = np.random.default_rng(4)
    centers = rng.uniform(0.0, 1.0, size=(2, 2))
    labels = np.arange(9) % 2
    points = centers[labels] + rng.normal(0.0, 0.5, size=(9, 2))
    perm = rng.permutation(9)
    np.testing.assert_array_equal(X, points[perm])
    np.testing.assert_array_equal(y, labels[perm])


@pytest.mark.parametrize("make", [ds.make_circles, ds.make_moons], ids=lambda f: f.__name__)
def test_circles_and_moons_add_their_noise(make):
    X0, y0 = make(6, noise=0.0, seed=2)
    X1, y1 = make(6, noise=0.3, seed=2)
    assert np.array_equal(y0, y1)                                  # the same permutation after the noise
    rng = np.random.default_rng(2)
    noise = rng.normal(0.0, 0.3, (6, 2))
    perm = rng.permutation(6)
    np.testing.assert_allclose(X1 - X0, noise[perm], atol=1e-15)


@pytest.mark.parametrize("factor, message", [(1.0, "< 1"), (0.0, "> 0"), (1.5, "< 1")])
def test_the_inner_circle_is_strictly_inside(factor, message):
    with pytest.raises(ValueError, match=f"factor: expected a number {message}"):
        ds.make_circles(10, factor=factor)


def test_spiral_angles_get_their_noise_class_by_class():
    X, y = ds.make_spiral(6, n_classes=2, noise=0.5, seed=7)
    rng = np.random.default_rng(7)
    labels = np.arange(6) % 2
    r, theta = np.empty(6), np.empty(6)
    for c in range(2):
        idx = np.flatnonzero(labels == c)
        r[idx] = np.linspace(0.0, 1.0, 3)
        theta[idx] = np.linspace(4.0 * c, 4.0 * (c + 1), 3) + rng.normal(0.0, 0.5, 3)
    perm = rng.permutation(6)
    np.testing.assert_allclose(X, np.c_[r * np.sin(theta), r * np.cos(theta)][perm], atol=1e-15)
    np.testing.assert_array_equal(y, labels[perm])


def test_blob_centers_are_counted_as_two_feature_points(monkeypatch):
    monkeypatch.setattr(ds.validation, "MAX_ARRAY_BYTES", 4 * 1000 * 2 * 8)     # the working set of 1000 x 2
    assert len(ds.make_blobs(10, centers=1000, seed=0)[0]) == 10
    with pytest.raises(ValueError, match=r"^centers: 1001 samples of 2 features need"):
        ds.make_blobs(10, centers=1001, seed=0)


@pytest.mark.parametrize("make", [ds.make_circles, ds.make_moons, ds.make_xor, ds.make_spiral],
                         ids=lambda f: f.__name__)
def test_two_feature_sets_are_bounded_as_two_features(make, monkeypatch):
    monkeypatch.setattr(ds.validation, "MAX_ARRAY_BYTES", 4 * 1000 * 2 * 8)     # the working set of 1000 x 2
    assert len(make(1000, seed=0)[0]) == 1000
    with pytest.raises(ValueError, match=r"^n_samples: 1001 samples of 2 features need"):
        make(1001, seed=0)


def test_moons_rows_in_the_order_the_seed_fixes():
    X, y = ds.make_moons(5, noise=0.0, seed=3)
    t0, t1 = np.linspace(0, math.pi, 2), np.linspace(0, math.pi, 3)
    points = np.vstack([np.c_[np.cos(t0), np.sin(t0)], np.c_[1 - np.cos(t1), 0.5 - np.sin(t1)]])
    rng = np.random.default_rng(3)
    rng.normal(0.0, 0.0, (5, 2))                                    # the (zero) noise is drawn first
    perm = rng.permutation(5)
    np.testing.assert_allclose(X, points[perm], atol=1e-15)
    assert y.tolist() == [int(i >= 2) for i in perm]


@pytest.mark.parametrize("make", [ds.make_circles, ds.make_moons], ids=lambda f: f.__name__)
def test_two_samples_are_enough_for_two_classes(make):
    X, y = make(2, noise=0.0, seed=0)
    assert sorted(y.tolist()) == [0, 1] and X.shape == (2, 2)
    with pytest.raises(ValueError, match=r"^n_samples: expected an integer >= 2, got 1$"):
        make(1)


def test_stratify_true_wants_labels_of_one_or_two_dimensions():
    X, y = np.zeros((4, 1)), np.array([0, 1, 0, 1]).reshape(4, 1, 1)
    with pytest.raises(ValueError, match=r"^y \(stratify=True\): expected class labels of shape \(n,\) or "
                                         r"\(n, k\), got shape \(4, 1, 1\)$"):
        ds.train_test_split(X, y, test_size=0.5, stratify=True)


@pytest.mark.parametrize("test_size", [1.0, 1.5])
def test_test_size_is_below_one(test_size):
    with pytest.raises(ValueError, match=rf"^test_size: expected a number < 1.0, got {test_size}$"):
        ds.train_test_split(np.zeros((10, 1)), np.arange(10), test_size=test_size)


@pytest.mark.parametrize("test_size", [0.0, -0.5])
def test_test_size_is_above_zero(test_size):
    with pytest.raises(ValueError, match=rf"^test_size: expected a number > 0.0, got {test_size}$"):
        ds.train_test_split(np.zeros((10, 1)), np.arange(10), test_size=test_size)


def test_unsortable_labels_cannot_stratify():
    labels = np.array([1, "a", 1, "a"], dtype=object)
    with pytest.raises(TypeError, match=r"^stratify: expected sortable class labels, got object"):
        ds.train_test_split(np.zeros((4, 1)), [0, 1, 0, 1], test_size=0.5, stratify=labels)


def test_fifty_copies_of_a_value_are_a_constant_column():
    """Fifty values of 100000.1: a round-off variance near 1e-21, within the bound for
    n = 50 samples (not for n = 1), so the scale is 1 and 100000.2 maps to 0.1."""
    s = ds.Standardizer().fit(np.full((50, 1), 100000.1))
    assert s.scale_.tolist() == [1.0]
    assert s.transform([[100000.2]])[0, 0] == pytest.approx(0.1, rel=1e-9)


def test_a_set_too_big_for_memory_names_its_need_and_the_limit(monkeypatch):
    """10**9 points of 2 features: 4 working float64 copies are 64e9 bytes = 59.6 GiB,
    against a limit set to 3 GiB."""
    from pyneuron import validation
    monkeypatch.setattr(validation, "MAX_ARRAY_BYTES", 3 * 2**30)
    with pytest.raises(ValueError, match=r"^n_samples: 1000000000 samples of 2 features need about 59\.6 GiB while "
                       r"being generated \(4 float64 arrays of shape \(1000000000, 2\)\), more than the 3 GiB "
                       r"this machine has available; use fewer samples$"):
        ds._check_fits(10**9, 2)
