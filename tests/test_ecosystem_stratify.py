"""Issue 11: ``datasets.train_test_split(..., stratify=labels)`` keeps each class's share in
both parts, as scikit-learn's does; ``stratify=True`` (stratify by ``y``) still works."""
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pyneuron import datasets


def _split(counts, test_size, seed=0, labels=None, **kw):
    y = np.repeat(np.arange(len(counts)), counts)
    X = np.arange(y.size, dtype=float).reshape(-1, 1)
    out = datasets.train_test_split(X, y, test_size=test_size, seed=seed,
                                    stratify=y if labels is None else labels, **kw)
    return y, out


def test_by_hand_three_classes():
    # 50 / 30 / 20 samples, test_size 0.3 -> 30 test: quotas 15, 9, 6 exactly
    y, (X_tr, X_te, y_tr, y_te) = _split([50, 30, 20], 0.3)
    assert np.bincount(y_te).tolist() == [15, 9, 6]
    assert np.bincount(y_tr).tolist() == [35, 21, 14]
    # the parts are a partition of the samples, and X stays with its y
    assert sorted(np.concatenate([X_tr[:, 0], X_te[:, 0]]).tolist()) == list(range(100))
    assert np.array_equal(y[X_te[:, 0].astype(int)], y_te)
    assert np.array_equal(y[X_tr[:, 0].astype(int)], y_tr)


def test_by_hand_largest_remainders():
    # 7 / 7 / 6 samples, 10 to test: quotas 3.5, 3.5, 3.0 -> floors 3, 3, 3 and the one
    # sample left goes to a class with remainder 0.5 (either of the first two)
    for seed in range(6):
        _, (_, _, _, y_te) = _split([7, 7, 6], 0.5, seed=seed)
        assert sorted(np.bincount(y_te).tolist()) == [3, 3, 4] and np.bincount(y_te)[2] == 3


def test_string_labels_and_one_hot_rows():
    y = np.array(["cat"] * 12 + ["dog"] * 8)
    X = np.zeros((20, 2))
    _, _, _, y_te = datasets.train_test_split(X, y, test_size=0.25, seed=1, stratify=y)
    assert sorted(y_te.tolist()) == ["cat"] * 3 + ["dog"] * 2
    onehot = np.eye(2)[np.repeat([0, 1], [12, 8])]
    _, _, _, Y_te = datasets.train_test_split(X, onehot, test_size=0.25, seed=1, stratify=True)
    assert Y_te.sum(axis=0).tolist() == [3.0, 2.0]


def test_stratify_by_another_array_than_y():
    groups = np.repeat([0, 1], [10, 30])
    y = np.arange(40.0)                        # a regression target: stratify by groups instead
    X = y.reshape(-1, 1)
    _, _, _, y_te = datasets.train_test_split(X, y, test_size=0.25, seed=0, stratify=groups)
    # quotas 10 · 10/40 = 2.5 and 30 · 10/40 = 7.5: one of them is rounded up
    assert np.bincount(groups[y_te.astype(int)]).tolist() in ([2, 8], [3, 7])


def test_true_equals_passing_y():
    y, (a_tr, a_te, _, _) = _split([13, 9, 5], 0.3, seed=4)
    X = np.arange(y.size, dtype=float).reshape(-1, 1)
    b_tr, b_te, _, _ = datasets.train_test_split(X, y, test_size=0.3, seed=4, stratify=True)
    assert np.array_equal(a_tr, b_tr) and np.array_equal(a_te, b_te)


@pytest.mark.parametrize("stratify, error, match", [
    (np.arange(10), ValueError, "a class has only 1 sample"),
    (np.array([0, 0, 0, 0, 1, 1, 1, 1, 2, 2]), ValueError, "needs at least 3 in each part"),
    (np.zeros((10, 2, 2)), ValueError, r"stratify: expected 10 class labels"),
    (np.zeros(9), ValueError, r"shape \(9,\)"),
    ("y", TypeError, "stratify: expected True or False, None, or an array"),
])
def test_bad_stratify_is_explained(stratify, error, match):
    X, y = np.zeros((10, 1)), np.zeros(10)
    with pytest.raises(error, match=match):
        datasets.train_test_split(X, y, test_size=0.2, stratify=stratify)


@settings(max_examples=60, deadline=None)
@given(counts=st.lists(st.integers(2, 40), min_size=2, max_size=5), test_size=st.floats(0.1, 0.9),
       seed=st.integers(0, 2**31))
def test_counts_are_the_quotas_rounded(counts, test_size, seed):
    n = sum(counts)
    n_test = int(round(n * test_size))
    assume(len(counts) <= n_test <= n - len(counts))
    _, (_, _, y_tr, y_te) = _split(counts, test_size, seed=seed)
    got = np.bincount(y_te, minlength=len(counts))
    assert got.sum() == n_test and len(y_tr) == n - n_test
    for c, n_c in enumerate(counts):
        quota = n_c * n_test / n
        assert got[c] in (math.floor(quota), math.ceil(quota)), (c, got, quota)
    assert (np.bincount(y_tr, minlength=len(counts)) + got).tolist() == counts


@settings(max_examples=30, deadline=None)
@given(counts=st.lists(st.integers(3, 60), min_size=2, max_size=4), seed=st.integers(0, 1000))
def test_against_scikit_learn(counts, seed):
    sk = pytest.importorskip("sklearn.model_selection")
    n = sum(counts)
    n_test = max(len(counts), n // 4)
    assume(n - n_test >= len(counts))
    test_size = n_test / n                       # a whole number of samples, so both round alike
    y, (_, _, _, y_te) = _split(counts, test_size, seed=seed)
    _, _, _, sk_te = sk.train_test_split(np.zeros((n, 1)), y, test_size=n_test, stratify=y, random_state=seed)
    ours = np.bincount(y_te, minlength=len(counts))
    theirs = np.bincount(sk_te, minlength=len(counts))
    assert ours.sum() == theirs.sum() == n_test
    assert np.all(np.abs(ours - theirs) <= 1), (ours, theirs)    # both round the same quotas
