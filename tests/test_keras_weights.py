"""fit(sample_weight=, class_weight=): the weighted mean loss sum(w l) / sum(w) (scikit-learn's
normalization), checked against duplicated rows, PyTorch's per-sample losses, scikit-learn's
class-weight formula and hand computations, on every backend."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pyneuron as pn

TASKS = {  # output, layer sizes, targets
    "bce": ("sigmoid", [3, 5, 1], lambda rng, m: rng.integers(0, 2, m)),
    "cce": ("softmax", [3, 5, 3], lambda rng, m: rng.integers(0, 3, m)),
    "mse": ("linear", [3, 5, 2], lambda rng, m: rng.normal(size=(m, 2))),
}


def data(task, m=9, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(m, 3)), TASKS[task][2](rng, m)


def model(task, backend, **kw):
    output, sizes, _ = TASKS[task]
    return pn.MLP(sizes, activation="tanh", output=output, seed=3, backend=backend, **kw)


@pytest.mark.parametrize("task", TASKS)
def test_weight_two_is_the_row_twice_full_batch(backend, task):
    X, y = data(task)
    w = np.array([1, 2, 1, 3, 1, 1, 2, 1, 1])
    weighted, duplicated = model(task, backend), model(task, backend)
    h1 = weighted.fit(X, y, epochs=4, batch_size=None, lr=0.3, l2=0.1, sample_weight=w)
    h2 = duplicated.fit(np.repeat(X, w, axis=0), np.repeat(y, w, axis=0), epochs=4, batch_size=None,
                        lr=0.3, l2=0.1)
    np.testing.assert_allclose(h1["loss"], h2["loss"], rtol=1e-12)
    for a, b in zip(weighted.parameters(), duplicated.parameters()):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("task", TASKS)
def test_weighted_minibatches_match_torch(backend, task):
    torch = pytest.importorskip("torch")
    X, y = data(task, m=10, seed=1)
    w = np.random.default_rng(2).uniform(0.0, 3.0, size=10)
    w[4] = 0.0
    net = model(task, backend)
    net_t = net.to_torch().double()
    hist = net.fit(X, y, epochs=2, batch_size=4, lr=0.2, shuffle=False, sample_weight=w)
    sgd = torch.optim.SGD(net_t.parameters(), lr=0.2)
    losses = []
    for _ in range(2):
        batch_losses = []
        for s in range(0, 10, 4):
            xb, wb = torch.tensor(X[s:s + 4]), torch.tensor(w[s:s + 4])
            out = net_t(xb)    # to_torch ends in the output activation
            if task == "bce":
                per_row = torch.nn.functional.binary_cross_entropy(
                    out[:, 0], torch.tensor(y[s:s + 4], dtype=torch.float64), reduction="none")
            elif task == "cce":
                per_row = torch.nn.functional.nll_loss(torch.log(out), torch.tensor(y[s:s + 4]), reduction="none")
            else:
                per_row = ((out - torch.tensor(y[s:s + 4])) ** 2).mean(dim=1)
            loss = (wb * per_row).sum() / wb.sum()
            batch_losses.append(loss.item())
            sgd.zero_grad()
            loss.backward()
            sgd.step()
        losses.append(np.mean(batch_losses))
    np.testing.assert_allclose(hist["loss"], losses, rtol=1e-10)
    back = pn.from_torch(net_t, output=TASKS[task][0]) if task != "mse" else pn.from_torch(net_t)
    for a, b in zip(net.get_weights(), back.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.one_of(st.just(0.0), st.floats(1e-300, 5.0)), min_size=8, max_size=8)
       .filter(lambda v: sum(v) > 0.1),
       st.floats(0.01, 100.0))
def test_scaling_every_weight_changes_nothing(weights, c):
    # weights 0 or at least 1e-300: a subnormal weight times c may round to 0 (5e-324 * 0.5
    # does), and then the scaled fit truly drops that row -- not what this property is about
    X, y = data("bce", m=8)
    a, b = model("bce", "numpy"), model("bce", "numpy")
    ha = a.fit(X, y, epochs=2, batch_size=3, lr=0.2, sample_weight=np.array(weights))
    hb = b.fit(X, y, epochs=2, batch_size=3, lr=0.2, sample_weight=c * np.array(weights))
    np.testing.assert_allclose(ha["loss"], hb["loss"], rtol=1e-9, atol=1e-12)
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_allclose(p, q, rtol=1e-9, atol=1e-12)


def test_equal_weights_are_the_unweighted_fit(backend):
    X, y = data("cce")
    a, b = model("cce", backend), model("cce", backend)
    ha = a.fit(X, y, epochs=3, batch_size=4, lr=0.1)
    hb = b.fit(X, y, epochs=3, batch_size=4, lr=0.1, sample_weight=np.full(9, 0.5))
    np.testing.assert_allclose(ha["loss"], hb["loss"], rtol=1e-12)
    np.testing.assert_allclose(ha["accuracy"], hb["accuracy"])


def test_class_weight_mapping_is_the_rows_sample_weight(backend):
    X, y = data("cce")
    a, b = model("cce", backend), model("cce", backend)
    ha = a.fit(X, y, epochs=2, batch_size=4, lr=0.1, class_weight={0: 2.0, 2: 0.5})
    table = np.array([2.0, 1.0, 0.5])       # class 1 missing from the mapping: weight 1
    hb = b.fit(X, y, epochs=2, batch_size=4, lr=0.1, sample_weight=table[y])
    np.testing.assert_allclose(ha["loss"], hb["loss"], rtol=1e-12)


def test_class_weight_times_sample_weight():
    X, y = data("bce")
    sw = np.arange(1.0, 10.0)
    a, b = model("bce", "numpy"), model("bce", "numpy")
    ha = a.fit(X, y, epochs=2, lr=0.1, batch_size=None, sample_weight=sw, class_weight={1: 3.0})
    hb = b.fit(X, y, epochs=2, lr=0.1, batch_size=None, sample_weight=sw * np.where(y == 1, 3.0, 1.0))
    np.testing.assert_allclose(ha["loss"], hb["loss"], rtol=1e-12)


@pytest.mark.parametrize("task", ["bce", "cce"])
def test_balanced_is_sklearns_formula(task):
    cw = pytest.importorskip("sklearn.utils.class_weight")
    from pyneuron.sample_weights import class_weight_rows
    rng = np.random.default_rng(5)
    y = rng.choice(3 if task == "cce" else 2, size=40, p=[0.6, 0.3, 0.1] if task == "cce" else [0.8, 0.2])
    net = model(task, "numpy")
    rows = class_weight_rows("balanced", net, net.encode_y(y, 40))
    classes = np.unique(y)
    expected = cw.compute_class_weight("balanced", classes=classes, y=y)
    np.testing.assert_allclose(rows, expected[np.searchsorted(classes, y)], rtol=1e-15)


def test_balanced_counts_only_the_classes_present():
    from pyneuron.sample_weights import class_weight_rows
    net = model("cce", "numpy")
    y = np.array([0, 0, 0, 2])                  # class 1 absent: 2 classes, 4 rows
    np.testing.assert_allclose(class_weight_rows("balanced", net, net.encode_y(y, 4)),
                               [4 / 6, 4 / 6, 4 / 6, 4 / 2])


def test_val_loss_uses_the_validation_weights(backend):
    X, y = data("bce", m=12)
    net = model("bce", backend)
    wv = np.array([0.0, 1.0, 2.0, 5.0])
    h = net.fit(X[:8], y[:8], epochs=1, lr=0.1, validation_data=(X[8:], y[8:], wv))
    p = net.predict_proba(X[8:])
    per_row = -(y[8:] * np.log(p) + (1 - y[8:]) * np.log(1 - p))
    np.testing.assert_allclose(h["val_loss"][0], np.average(per_row, weights=wv), rtol=1e-10)


def test_validation_split_splits_the_weights_too():
    import copy
    X, y = data("mse", m=10)
    net = model("mse", "numpy")
    w = np.arange(1.0, 11.0)
    val = copy.deepcopy(net.rng).permutation(10)[:3]     # the hold-out fit draws first
    h = net.fit(X, y, epochs=1, lr=0.05, validation_split=0.3, sample_weight=w)
    per_row = ((net.predict(X[val]) - y[val]) ** 2).mean(axis=1)
    np.testing.assert_allclose(h["val_loss"][0], np.average(per_row, weights=w[val]), rtol=1e-12)
    assert not np.isclose(h["val_loss"][0], per_row.mean(), rtol=1e-6)


@pytest.mark.parametrize("bad, kind, words", [
    (np.ones(8), ValueError, "shape (9,)"),
    (np.ones((9, 1)), ValueError, "shape (9,)"),
    (np.r_[np.ones(8), np.nan], ValueError, "finite"),
    (np.r_[np.ones(8), -1.0], ValueError, ">= 0"),
    (np.zeros(9), ValueError, "at least one weight > 0"),
    (np.array(["a"] * 9), TypeError, "real numbers"),
])
def test_bad_sample_weight_is_named(bad, kind, words):
    X, y = data("bce")
    with pytest.raises(kind, match="sample_weight") as err:
        model("bce", "numpy").fit(X, y, epochs=1, sample_weight=bad)
    assert words in str(err.value)


@pytest.mark.parametrize("task, cw, words", [
    ("mse", {0: 1.0}, "regression"),
    ("cce", {3: 1.0}, "classes 0..2"),
    ("cce", {0: -1.0}, "finite weight >= 0"),
    ("cce", "balance", "'balanced'"),
    ("cce", [1.0, 2.0], "mapping"),
    ("cce", {0: 0.0, 1: 0.0, 2: 0.0}, "weighs 0"),
])
def test_bad_class_weight_is_named(task, cw, words):
    X, y = data(task)
    with pytest.raises((ValueError, TypeError), match="class_weight") as err:
        model(task, "numpy").fit(X, y, epochs=1, class_weight=cw)
    assert words in str(err.value)


def test_class_weight_refuses_multilabel():
    X = np.random.default_rng(0).normal(size=(6, 3))
    y = np.random.default_rng(1).integers(0, 2, size=(6, 2))
    net = pn.MLP([3, 4, 2], output="sigmoid", seed=0)
    with pytest.raises(ValueError, match="class_weight: .*multi-label"):
        net.fit(X, y, epochs=1, class_weight={0: 2.0})


def test_weighted_kernels_agree_across_backends():
    rng = np.random.default_rng(7)
    Z = rng.normal(size=(5, 3)) * 4
    Y = np.eye(3)[rng.integers(0, 3, 5)]
    w = rng.uniform(0, 2, 5)
    from pyneuron import backends
    names = [n for n in ("scalar", "numpy", "c") if n in backends.available()]
    for act, loss in [("softmax", "cce"), ("sigmoid", "bce"), ("linear", "mse"), ("softmax", "bce")]:
        ref = backends.get("numpy")
        A = ref.activation_forward(act, Z)
        Yl = Y if loss != "mse" else Z * 0.3
        # hand: per-row losses by the formulas of the module docstring
        if loss == "cce":
            per_row = -(Yl * np.log(A)).sum(axis=1)
        elif loss == "bce":
            per_row = -(Yl * np.log(A) + (1 - Yl) * np.log(1 - A)).mean(axis=1)
        else:
            per_row = ((A - Yl) ** 2).mean(axis=1)
        for name in names:
            k = backends.get(name)
            np.testing.assert_allclose(k.sample_losses(loss, act, A, Yl, Z), per_row, rtol=1e-12)
            np.testing.assert_allclose(k.weighted_data_loss(loss, act, A, Yl, Z, w),
                                       np.average(per_row, weights=w), rtol=1e-12)
            dZ = k.weighted_output_gradient(loss, act, A, Yl, Z, w)
            np.testing.assert_allclose(dZ, k.output_gradient(loss, act, A, Yl, Z) * (5 * w / w.sum())[:, None],
                                       rtol=1e-12)
            assert k.weighted_data_loss(loss, act, A, Yl, Z, np.zeros(5)) == 0.0
            assert not np.any(k.weighted_output_gradient(loss, act, A, Yl, Z, np.zeros(5)))
