"""Save/load, metrics and gradient checking (issue 5)."""
import json
import zipfile

import numpy as np
import pytest

import pyneuron as pn
from pyneuron import metrics

from helpers import assert_close

ARCHITECTURES = [
    dict(layer_sizes=[2, 3, 1]),
    dict(layer_sizes=[2, 5, 4, 3], activation=["tanh", "leaky_relu"], output="softmax", negative_slope=0.2),
    dict(layer_sizes=[3, 6, 2], activation="sigmoid", output="linear", batch_norm=True),
    dict(layer_sizes=[2, 4, 4, 1], dropout=[0.1, 0.3], dtype="float32"),
    dict(layer_sizes=[2, 2], output="tanh", loss="mse", init="xavier_uniform"),
]


def data_for(model, rng):
    X = rng.normal(size=(20, model.n_features))
    if model.loss_name == "cce":
        return X, rng.integers(0, model.n_outputs, 20)
    if model.loss_name == "bce":
        return X, rng.integers(0, 2, 20)
    return X, rng.normal(size=(20, model.n_outputs)) * 0.5


@pytest.mark.parametrize("arch", ARCHITECTURES, ids=lambda a: "-".join(map(str, a["layer_sizes"])))
def test_save_load_round_trip_is_exact(arch, tmp_path):
    rng = np.random.default_rng(0)
    model = pn.MLP(seed=1, **arch)
    X, y = data_for(model, rng)
    model.fit(X, y, epochs=3, batch_size=8, optimizer=pn.optimizers.Adam(0.01))
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = pn.load(path)
    assert loaded.layer_sizes == model.layer_sizes and loaded.activations == model.activations
    assert loaded.loss_name == model.loss_name and loaded.dtype == model.dtype
    assert np.array_equal(loaded.predict_proba(X), model.predict_proba(X))   # bit-identical
    for a, b in zip(loaded.parameters(), model.parameters()):
        assert np.array_equal(a, b)
    if model.batch_norm:
        assert np.array_equal(loaded.layers[0].running_var, model.layers[0].running_var)
    assert type(loaded.optimizer) is pn.optimizers.Adam and loaded.optimizer.t == model.optimizer.t
    for s1, s2 in zip(loaded.optimizer.state, model.optimizer.state):
        assert np.array_equal(s1["m"], s2["m"]) and np.array_equal(s1["v"], s2["v"])
    # training continues identically from the saved state
    model.fit(X, y, epochs=1, batch_size=None, optimizer=model.optimizer, shuffle=False)
    loaded.fit(X, y, epochs=1, batch_size=None, optimizer=loaded.optimizer, shuffle=False)
    for a, b in zip(loaded.parameters(), model.parameters()):
        assert np.array_equal(a, b)


def test_malformed_files_are_refused(tmp_path):
    good = tmp_path / "good.npz"
    pn.MLP([2, 3, 1], seed=0).save(good)
    text = tmp_path / "text.npz"
    text.write_text("not a model")
    with pytest.raises(pn.ModelFileError, match="not a readable"):
        pn.load(text)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(pn.ModelFileError):
        pn.load(truncated)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, a=np.arange(3))
    with pytest.raises(pn.ModelFileError, match="not a pyneuron model"):
        pn.load(foreign)
    with np.load(good) as data:
        entries = {k: data[k] for k in data.files}
    future = dict(entries, format=np.array("pyneuron-model-99"))
    np.savez(tmp_path / "future.npz", **future)
    with pytest.raises(pn.ModelFileError, match="format"):
        pn.load(tmp_path / "future.npz")
    wrong_shape = dict(entries)
    wrong_shape["layer0/W"] = np.zeros((5, 5))
    np.savez(tmp_path / "shape.npz", **wrong_shape)
    with pytest.raises(pn.ModelFileError, match="layer0/W"):
        pn.load(tmp_path / "shape.npz")
    bad_arch = dict(entries, architecture=np.array(json.dumps({"layer_sizes": "nonsense"})))
    np.savez(tmp_path / "arch.npz", **bad_arch)
    with pytest.raises(pn.ModelFileError, match="architecture"):
        pn.load(tmp_path / "arch.npz")
    pickled = dict(entries)
    pickled["layer0/W"] = np.array([object()], dtype=object)
    np.savez(tmp_path / "objects.npz", **pickled)
    with pytest.raises(pn.ModelFileError, match="'layer0/W' holds Python objects, which only pickle could load"):
        pn.load(tmp_path / "objects.npz")
    with pytest.raises(FileNotFoundError):
        pn.load(tmp_path / "missing.npz")
    assert zipfile.is_zipfile(good)


# ---------------------------------------------------------------- metrics, worked by hand
def test_classification_metrics_by_hand():
    y_true = [0, 0, 1, 1, 1, 2]
    y_pred = [0, 1, 1, 1, 0, 2]
    assert metrics.accuracy(y_true, y_pred) == pytest.approx(4 / 6)
    C = metrics.confusion_matrix(y_true, y_pred)
    assert C.tolist() == [[1, 1, 0], [1, 2, 0], [0, 0, 1]]
    prf = metrics.precision_recall_f1(y_true, y_pred)
    # class 0: TP 1, FP 1, FN 1 -> P = R = 0.5 ; class 1: TP 2, FP 1, FN 1 -> 2/3 ; class 2: 1
    assert_close(prf["precision"], [0.5, 2 / 3, 1.0])
    assert_close(prf["recall"], [0.5, 2 / 3, 1.0])
    assert_close(prf["f1"], [0.5, 2 / 3, 1.0])
    assert prf["macro_f1"] == pytest.approx((0.5 + 2 / 3 + 1) / 3)
    assert metrics.log_loss([1, 0], [0.8, 0.4]) == pytest.approx(-(np.log(0.8) + np.log(0.6)) / 2)
    assert metrics.log_loss([0, 1], [[0.7, 0.3], [0.2, 0.8]]) == pytest.approx(-(np.log(0.7) + np.log(0.8)) / 2)


def test_regression_metrics_by_hand():
    t, p = [1.0, 2.0, 3.0], [1.5, 2.0, 2.0]
    assert metrics.mean_squared_error(t, p) == pytest.approx((0.25 + 0 + 1) / 3)
    assert metrics.mean_absolute_error(t, p) == pytest.approx(0.5)
    assert metrics.r2_score(t, p) == pytest.approx(1 - 1.25 / 2.0)


def test_metrics_agree_with_scikit_learn():
    skm = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    t, p = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
    prf = metrics.precision_recall_f1(t, p)
    assert_close(prf["precision"], skm.precision_score(t, p, average=None))
    assert_close(prf["recall"], skm.recall_score(t, p, average=None))
    assert prf["macro_f1"] == pytest.approx(skm.f1_score(t, p, average="macro"))
    assert np.array_equal(metrics.confusion_matrix(t, p), skm.confusion_matrix(t, p))
    yt, yp = rng.normal(size=50), rng.normal(size=50)
    assert metrics.r2_score(yt, yp) == pytest.approx(skm.r2_score(yt, yp))


def test_evaluate_returns_what_suits_the_task():
    X, y = pn.datasets.make_blobs(90, centers=3, seed=0)
    clf = pn.MLP([2, 8, 3], output="softmax", seed=0)
    clf.fit(X, y, epochs=30, lr=0.05)
    result = clf.evaluate(X, y)
    assert set(result) == {"loss", "accuracy", "precision", "recall", "f1"}
    assert result["accuracy"] == pytest.approx(clf.score(X, y))
    reg = pn.MLP([2, 4, 1], output="linear", seed=0)
    result = reg.evaluate(X, X[:, 0])
    assert set(result) == {"loss", "mse", "mae", "r2"} and result["loss"] == pytest.approx(result["mse"])


# ---------------------------------------------------------------- gradient checking
def test_gradient_check_passes_and_fails(backend):
    X, y = pn.datasets.make_moons(12, noise=0.2, seed=0)
    model = pn.MLP([2, 4, 3, 1], activation="tanh", seed=0, backend=backend)
    result = pn.gradient_check(model, X, y)
    assert result.passed and result.overall < 1e-7 and set(result.errors) == {"W1", "b1", "W2", "b2", "W3", "b3"}
    assert "PASS" in str(result) and f"threshold={result.threshold:g}" in str(result)
    grads = model.gradients(X, y)
    grads[2][1, 0] += 1e-2      # one wrong entry in dW2
    broken = pn.gradient_check(model, X, y, gradients=grads)
    assert not broken.passed and "FAIL" in str(broken)
    assert broken.errors["W2"] > 1e-3 and broken.errors["W1"] < 1e-7


def test_gradient_check_samples_large_arrays_and_restores_parameters():
    X, y = pn.datasets.make_blobs(10, centers=3, seed=1)
    model = pn.MLP([2, 30, 3], output="softmax", seed=0)
    before = model.get_weights()
    result = pn.gradient_check(model, X, y, max_checks_per_array=7)
    assert result.passed and result.checked["W1"] == 7 and result.checked["b2"] == 3
    for a, b in zip(model.get_weights(), before):
        assert np.array_equal(a, b)


def test_the_input_standardizer_travels_with_the_model(tmp_path):
    X, y = pn.datasets.make_moons(60, noise=0.1, seed=0)
    X = X * 100 + 50
    scaler = pn.datasets.Standardizer().fit(X)
    model = pn.MLP([2, 4, 1], seed=0)
    model.fit(scaler.transform(X), y, epochs=5)
    model.standardizer = scaler
    model.save(tmp_path / "m.npz")
    loaded = pn.load(tmp_path / "m.npz")
    assert np.array_equal(loaded.standardizer.mean_, scaler.mean_)
    assert np.array_equal(loaded.standardizer.scale_, scaler.scale_)
    assert np.array_equal(loaded.predict_proba(loaded.standardizer.transform(X)),
                          model.predict_proba(scaler.transform(X)))
    assert pn.load(tmp_path / "m.npz").standardizer is not None
    plain = pn.MLP([2, 4, 1], seed=0)
    plain.save(tmp_path / "plain.npz")
    assert pn.load(tmp_path / "plain.npz").standardizer is None
    # a bad standardizer record is refused
    with np.load(tmp_path / "m.npz") as data:
        entries = {k: data[k] for k in data.files}
    entries["preprocessing/scale"] = np.array([1.0, 0.0])
    np.savez(tmp_path / "bad.npz", **entries)
    with pytest.raises(pn.ModelFileError, match="standardizer"):
        pn.load(tmp_path / "bad.npz")
    model.standardizer = pn.datasets.Standardizer()
    with pytest.raises(ValueError, match="never fit"):
        model.save(tmp_path / "unfit.npz")


def test_binary_evaluate_reports_the_positive_class():
    # a model that predicts class 1 for every sample: TP = 3, FP = 2, FN = 0
    model = pn.MLP([1, 1], output="sigmoid", seed=0)
    model.set_weights([np.array([[0.0]]), np.array([5.0])])
    X = np.zeros((5, 1))
    y = np.array([1, 1, 1, 0, 0])
    result = model.evaluate(X, y)
    assert result["accuracy"] == pytest.approx(0.6)
    assert result["precision"] == pytest.approx(3 / 5)
    assert result["recall"] == pytest.approx(1.0)
    assert result["f1"] == pytest.approx(2 * 0.6 * 1.0 / 1.6)


def test_metric_label_errors_name_the_argument():
    with pytest.raises(ValueError, match="labels: expected every label"):
        metrics.confusion_matrix([0, 1, 2], [0, 1, 1], labels=[0, 1])
    with pytest.raises(ValueError, match="y_true: expected class labels in 0..1"):
        metrics.log_loss([0, 2], [[0.5, 0.5], [0.2, 0.8]])
