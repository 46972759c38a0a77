"""Datasets at the door (issue 15 item 6): sizes whose arrays cannot fit are
refused before anything is allocated, naming the argument; boolean options take
only booleans; seeds only integers."""
import numpy as np
import pytest

from pyneuron import datasets, validation

GENERATORS = [datasets.make_xor, datasets.make_blobs, datasets.make_circles, datasets.make_moons,
              datasets.make_spiral, datasets.make_tutorial_blobs, datasets.make_tutorial_circles,
              datasets.make_tutorial_moons]


@pytest.mark.parametrize("make", GENERATORS, ids=lambda f: f.__name__)
def test_a_trillion_samples_are_refused_before_allocating(make, monkeypatch):
    def no_generator(*args, **kwargs):
        raise AssertionError("made a random generator before refusing the size")
    monkeypatch.setattr(datasets, "_rng", no_generator)
    monkeypatch.setattr(np.random, "RandomState", no_generator)
    # 4 working arrays x 10**12 x 2 x 8 bytes = 6.4e13 bytes = 5.96e4 GiB
    with pytest.raises(ValueError, match=r"n_samples: 1000000000000 samples of 2 features need about 5.96e\+04 GiB"):
        make(n_samples=10**12)


@pytest.mark.parametrize("make", GENERATORS, ids=lambda f: f.__name__)
def test_the_size_bound_is_the_working_set(make, monkeypatch):
    # just under and just over the limit a generator's working set sets (on a pretend machine)
    limit = 4 * 1000 * 2 * 8                          # WORKING_COPIES arrays of 1000 x 2 float64
    monkeypatch.setattr(validation, "MAX_ARRAY_BYTES", limit)
    X, _ = make(n_samples=1000)
    assert X.shape == (1000, 2)
    with pytest.raises(ValueError, match=r"n_samples: 1001 samples of 2 features .* more than the"):
        make(n_samples=1001)


def test_blob_centers_and_features_count_too(monkeypatch):
    with pytest.raises(ValueError, match="centers: 1000000000000 samples"):
        datasets.make_blobs(10, centers=10**12)
    monkeypatch.setattr(validation, "MAX_ARRAY_BYTES", 4 * 100 * 50 * 8)
    X, _ = datasets.make_blobs(100, centers=np.zeros((3, 50)))
    assert X.shape == (100, 50)
    with pytest.raises(ValueError, match="n_samples: 100 samples of 51 features"):
        datasets.make_blobs(100, centers=np.zeros((3, 51)))


def test_spiral_classes_cannot_outnumber_samples():
    X, y = datasets.make_spiral(6, n_classes=6, seed=0)
    assert sorted(y.tolist()) == [0, 1, 2, 3, 4, 5]
    with pytest.raises(ValueError, match=r"n_classes: expected at most n_samples \(6\) classes, got 7"):
        datasets.make_spiral(6, n_classes=7)
    with pytest.raises(ValueError, match="n_classes: expected at most"):
        datasets.make_spiral(6, n_classes=10**12)


@pytest.mark.parametrize("box, message", [((5.0, 5.0), "expected low < high"), ((1.0,), r"expected \(low, high\)"),
                                          ((0.0, np.inf), r"box\[1\]: expected a finite"), ("ab", r"\(low, high\)")])
def test_blob_box_is_checked(box, message):
    with pytest.raises(ValueError, match=message):
        datasets.make_blobs(10, centers=2, box=box)


def test_blob_centers_array_is_checked():
    with pytest.raises(ValueError, match="centers: expected finite values"):
        datasets.make_blobs(10, centers=[[0.0, np.nan]])
    with pytest.raises(ValueError, match="centers: expected a 2-D array"):
        datasets.make_blobs(10, centers=[0.0, 1.0])


@pytest.mark.parametrize("flag", ["no", 1, 0, 1.5])
def test_stratify_takes_booleans_none_or_labels(flag):
    X, y = datasets.make_moons(20, seed=0)
    with pytest.raises(TypeError, match="stratify: expected True or False, None, or an array of 20"):
        datasets.train_test_split(X, y, stratify=flag)
    with pytest.raises(ValueError, match=r"stratify: expected 20 class labels .* shape \(1,\)"):
        datasets.train_test_split(X, y, stratify=np.array([True]))


@pytest.mark.parametrize("flag", [True, False, np.bool_(True), None])
def test_stratify_accepts_booleans(flag):
    X, y = datasets.make_moons(20, seed=0)
    X_tr, X_te, y_tr, y_te = datasets.train_test_split(X, y, test_size=0.5, stratify=flag, seed=0)
    assert len(y_te) == 10 and (not flag or y_te.sum() == 5)


@pytest.mark.parametrize("make", GENERATORS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("seed", [True, 1.5, "7", -1])
def test_seeds_must_be_non_negative_integers(seed, make):
    with pytest.raises(TypeError, match="seed: expected a non-negative integer or None"):
        make(n_samples=10, seed=seed)
    assert np.array_equal(datasets.make_moons(10, seed=np.int64(3))[0], datasets.make_moons(10, seed=3)[0])


def test_an_all_zero_column_is_only_centred():
    scaler = datasets.Standardizer().fit([[0.0, 1.0], [0.0, 3.0]])
    assert scaler.scale_.tolist() == [1.0, 1.0]
    assert scaler.transform([[0.5, 2.0]]).tolist() == [[0.5, 0.0]]


@pytest.mark.parametrize("test_size, n_test", [(0.1, 1), (0.9, 9), (0.04, None), (0.96, None)])
def test_the_split_keeps_at_least_one_sample_on_each_side(test_size, n_test):
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10) % 2
    if n_test is None:
        with pytest.raises(ValueError, match=f"test_size: {test_size} of 10 samples leaves"):
            datasets.train_test_split(X, y, test_size=test_size, seed=0)
        return
    X_tr, X_te, y_tr, y_te = datasets.train_test_split(X, y, test_size=test_size, seed=0)
    assert len(X_te) == n_test and len(X_tr) == 10 - n_test
    assert sorted(X_tr[:, 0].tolist() + X_te[:, 0].tolist()) == X[:, 0].tolist()   # a partition
