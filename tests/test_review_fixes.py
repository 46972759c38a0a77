"""Regression tests for problems found in a fresh-eyes review (one test per problem)."""
from __future__ import annotations

import numpy as np
import pytest

import pyneuron as pn
from pyneuron import backends

from helpers import assert_close


# ---------------------------------------------------------------- float32 BCE at saturation
@pytest.mark.parametrize("a, y", [(1.0, 1.0), (0.0, 0.0), (1.0, 0.0), (0.0, 1.0)])
def test_bce_float32_saturated_loss_matches_float64(backend, a, y):
    """A float32 sigmoid that saturates to exactly 0 or 1 must give the clipped loss
    (finite), as in float64 — not NaN (0·log 0) or inf (log of 1 − 1)."""
    k = backends.get(backend)
    A64, Y64 = np.array([[a]]), np.array([[y]])
    with np.errstate(all="raise"):
        value = k.loss_value("bce", A64.astype(np.float32), Y64.astype(np.float32))
    assert_close(value, k.loss_value("bce", A64, Y64), rtol=1e-6, atol=1e-9, what="float32 bce loss")
    with np.errstate(all="raise"):
        grad = k.loss_gradient("bce", A64.astype(np.float32), Y64.astype(np.float32))
    assert grad.dtype == np.float32 and np.all(np.isfinite(grad))
    assert_close(grad, k.loss_gradient("bce", A64, Y64).astype(np.float32), rtol=1e-6,
                 what="float32 bce gradient")


def test_float32_sigmoid_model_that_learns_well_does_not_diverge(backend):
    X, y = pn.datasets.make_blobs(200, centers=[[-5, -5], [5, 5]], std=0.5, seed=0)
    model = pn.MLP([2, 8, 1], seed=0, dtype="float32", backend=backend)
    history = model.fit(X, y, epochs=60, optimizer=pn.optimizers.Adam(0.05))
    assert np.isfinite(history["loss"][-1]) and history["accuracy"][-1] == 1.0


# ---------------------------------------------------------------- batch norm and one-sample batches
def test_one_sample_batch_leaves_running_statistics_alone(backend):
    """One sample has no variance: mixing its 0 into running_var drives inference
    to divide by sqrt(eps)."""
    X, _ = pn.datasets.make_moons(20, noise=0.2, seed=0)
    model = pn.MLP([2, 4, 1], seed=0, batch_norm=True, backend=backend)
    layer = model.layers[0]
    model.forward(X, training=True)
    mean, var = layer.running_mean.copy(), layer.running_var.copy()
    model.forward(X[:1], training=True)
    assert_close(layer.running_mean, mean, what="running_mean")
    assert_close(layer.running_var, var, what="running_var")


def test_final_one_sample_batch_does_not_shrink_running_var():
    X, y = pn.datasets.make_moons(65, noise=0.2, seed=0)       # 2 batches of 32, then 1
    a = pn.MLP([2, 4, 1], seed=0, batch_norm=True)
    a.fit(X, y, epochs=1, batch_size=32, shuffle=False)
    b = pn.MLP([2, 4, 1], seed=0, batch_norm=True)
    b.fit(X[:64], y[:64], epochs=1, batch_size=32, shuffle=False)
    assert_close(a.layers[0].running_var, b.layers[0].running_var, what="running_var")


def test_batch_norm_with_batch_size_one_is_refused():
    X, y = pn.datasets.make_moons(20, noise=0.2, seed=0)
    model = pn.MLP([2, 4, 1], seed=0, batch_norm=True)
    with pytest.raises(ValueError, match="batch_size"):
        model.fit(X, y, epochs=1, batch_size=1)


# ---------------------------------------------------------------- gradient check on float32
def test_gradient_check_refuses_float32_model_clearly():
    X, y = pn.datasets.make_moons(10, noise=0.2, seed=0)
    model = pn.MLP([2, 4, 1], seed=0, dtype="float32")
    with pytest.raises(ValueError, match="model.*float64"):
        pn.gradient_check(model, X[:5], y[:5])


# ---------------------------------------------------------------- argument checks at the door
@pytest.mark.parametrize("make", [
    lambda: pn.datasets.make_moons(10, noise=-0.1),
    lambda: pn.datasets.make_circles(10, noise=-0.1),
    lambda: pn.datasets.make_spiral(10, noise=-0.1),
    lambda: pn.datasets.make_xor(8, noise=-0.1),
])
def test_negative_noise_names_the_argument(make):
    with pytest.raises(ValueError, match="noise"):
        make()


def test_negative_blob_std_names_the_argument():
    with pytest.raises(ValueError, match="std"):
        pn.datasets.make_blobs(10, std=-1.0)


@pytest.mark.parametrize("seed", [1.5, "42", True])
def test_bad_seed_names_the_argument(seed):
    with pytest.raises(TypeError, match="seed"):
        pn.MLP([2, 3, 1], seed=seed)


def test_numpy_integer_seed_is_accepted():
    assert_close(pn.MLP([2, 3, 1], seed=np.int64(3)).layers[0].W, pn.MLP([2, 3, 1], seed=3).layers[0].W)


def test_optimizer_by_name_takes_fit_lr():
    X, y = pn.datasets.make_moons(20, noise=0.2, seed=0)
    model = pn.MLP([2, 4, 1], seed=0)
    model.fit(X, y, epochs=1, optimizer="adam", lr=0.05)
    assert isinstance(model.optimizer, pn.optimizers.Adam) and model.optimizer.lr == 0.05


def test_softmax_with_one_unit_is_refused_at_construction():
    with pytest.raises(ValueError, match="softmax"):
        pn.MLP([2, 4, 1], output="softmax")


@pytest.mark.parametrize("metric", [pn.metrics.mean_squared_error, pn.metrics.mean_absolute_error,
                                    pn.metrics.r2_score])
def test_regression_metric_shape_mismatch_names_y_pred(metric):
    with pytest.raises(ValueError, match="y_pred"):
        metric([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0])


def test_layer_sizes_may_be_a_numpy_array():
    model = pn.MLP(np.array([2, 3, 1]), seed=0)
    assert model.layer_sizes == [2, 3, 1] and all(type(n) is int for n in model.layer_sizes)
    with pytest.raises(ValueError, match="layer_sizes"):
        pn.MLP(np.array([[2, 3, 1]]))


@pytest.mark.parametrize("option, value", [("--epochs", "-1"), ("--batch-size", "-3")])
def test_cli_train_rejects_bad_counts_before_doing_anything(option, value):
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, "-m", "pyneuron.cli", "train", option, value],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert option in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("option, value", [("--epochs", "0"), ("--lr", "0"), ("--batch-size", "0")])
def test_cli_demo_rejects_bad_options_before_printing(option, value):
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, "-m", "pyneuron.cli", "demo", option, value],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert option in proc.stderr and "Traceback" not in proc.stderr
