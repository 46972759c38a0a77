"""gradient_check at ReLU kinks (issue 15 item 8): entries whose ±eps
perturbation moves a pre-activation across 0 are reported as kinks and not
judged; everything else is judged as before, on every backend."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pyneuron as pn


def issue_model(backend, activation="relu"):
    model = pn.MLP([2, 2, 1], activation=activation, output="sigmoid", backend=backend)
    model.set_weights([np.array([[1.0, -1.0], [0.5, 2.0]]), np.zeros(2), np.array([[1.5, -2.0]]), np.zeros(1)])
    return model


def central_difference(model, X, y, array, index, eps=1e-6):
    p = model.parameters()[array]
    original = p[index]
    p[index] = original + eps
    up = model.loss(X, y)
    p[index] = original - eps
    down = model.loss(X, y)
    p[index] = original
    return (up - down) / (2 * eps)


@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
def test_the_issue_case_passes_with_its_kinks_named(backend, activation):
    model = issue_model(backend, activation)
    X, y = np.zeros((1, 2)), [1]
    # backprop by hand: z1 = 0 so a1 = 0; z2 = 0, σ = 0.5, dZ2 = σ − y = −0.5; at z = 0 the
    # slope taken is relu'(0) = 0 and leaky_relu'(0) = α = 0.01 (as torch), so
    # db1 = dZ2 · W2 · slope and dW1 = db1 xᵀ = 0
    dW1, db1, dW2, db2 = model.gradients(X, y)
    slope = 0.0 if activation == "relu" else 0.01
    assert not dW1.any() and not dW2.any() and db2.tolist() == [-0.5]
    assert np.allclose(db1, [-0.5 * 1.5 * slope, -0.5 * -2.0 * slope], rtol=1e-15, atol=0)
    # the central difference of b1 straddles the kink: it is not the derivative of either side
    difference = central_difference(model, X, y, 1, 0)
    assert abs(difference - db1[0]) > 0.1
    result = pn.gradient_check(model, X, y)
    assert result.passed and result.overall < 1e-8, str(result)
    assert result.kinks == {"W1": [], "b1": [(0,), (1,)], "W2": [], "b2": []}
    assert result.checked == {"W1": 4, "b1": 2, "W2": 2, "b2": 1}
    assert "b1       relative error 0.000e+00  (2 entries, 2 at kinks, not judged)" in str(result)


def test_the_issue_case_backprop_matches_torch():
    torch = pytest.importorskip("torch")
    W1 = torch.tensor([[1.0, -1.0], [0.5, 2.0]], dtype=torch.float64, requires_grad=True)
    b1 = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    W2 = torch.tensor([[1.5, -2.0]], dtype=torch.float64, requires_grad=True)
    b2 = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    x = torch.zeros(1, 2, dtype=torch.float64)
    z = torch.relu(x @ W1.T + b1) @ W2.T + b2
    torch.nn.functional.binary_cross_entropy_with_logits(z, torch.ones(1, 1, dtype=torch.float64)).backward()
    ours = issue_model("numpy").gradients(np.zeros((1, 2)), [1])
    for mine, theirs in zip(ours, (W1, b1, W2, b2)):
        assert np.array_equal(mine, theirs.grad.numpy())


def test_a_fresh_relu_network_on_xor_passes(backend):
    X, y = pn.datasets.make_xor()
    model = pn.MLP([2, 3, 1], activation="relu", seed=0, backend=backend)
    result = pn.gradient_check(model, X, y)
    assert result.passed, str(result)
    # biases start at 0 and x = (0, 0) is a sample: every hidden bias sits on its kink
    assert result.kinks["b1"] == [(0,), (1,), (2,)] and result.kinks["W1"] == []


def test_a_wrong_gradient_away_from_the_kinks_still_fails(backend):
    X, y = pn.datasets.make_xor()
    model = pn.MLP([2, 3, 1], activation="relu", seed=0, backend=backend)
    grads = model.gradients(X, y)
    grads[2][0, 1] += 1e-3                       # dW2, smooth there
    result = pn.gradient_check(model, X, y, gradients=grads)
    assert not result.passed and result.errors["W2"] > 1e-4 and "FAIL" in str(result)
    # an entry on a kink is not judged, whatever its gradient: that is what a kink means here
    grads = model.gradients(X, y)
    grads[1][0] += 1.0
    assert pn.gradient_check(model, X, y, gradients=grads).passed


def test_smooth_networks_and_generic_inputs_report_no_kinks(backend):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6, 3))
    y = rng.integers(0, 2, 6)
    for activation in ("tanh", "relu"):
        model = pn.MLP([3, 4, 1], activation=activation, seed=1, backend=backend)
        result = pn.gradient_check(model, X, y)
        assert result.passed and all(k == [] for k in result.kinks.values()), str(result)
        assert "at kinks" not in str(result)


def test_a_relu_output_layer_has_kinks_too():
    model = pn.MLP([2, 1], output="relu", loss="mse")
    model.set_weights([np.array([[1.0, 2.0]]), np.zeros(1)])
    result = pn.gradient_check(model, np.zeros((1, 2)), [[1.0]])
    assert result.passed and result.kinks == {"W1": [], "b1": [(0,)]}


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from(["relu", "leaky_relu"]), st.booleans())
def test_relu_networks_on_zero_one_inputs_pass(seed, activation, batch_norm):
    # inputs in {0, 1} and zero biases put many pre-activations exactly on their kink
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 2, size=(5, 3)).astype(float)
    y = rng.integers(0, 3, 5)
    model = pn.MLP([3, 4, 3, 3], activation=activation, output="softmax", seed=seed % 1000,
                   batch_norm=batch_norm)
    for layer in model.layers:
        layer.W[...] = np.round(layer.W * 4) / 4          # coarse weights: ties are common
    result = pn.gradient_check(model, X, y)
    assert result.passed, str(result)


# ---------------------------------------------------------------- the check's own arithmetic and arguments
def test_the_relative_error_is_the_documented_formula():
    X, y = pn.datasets.make_moons(8, noise=0.1, seed=0)
    model = pn.MLP([2, 3, 1], activation="tanh", seed=0)
    exact = model.gradients(X, y)
    given = [g.copy() for g in exact]
    given[2][0, 1] += 0.01                       # dW2 off by 0.01 in one entry
    result = pn.gradient_check(model, X, y, gradients=given)
    # the central differences equal `exact` to ~1e-10, so d = 0.01 and s = ‖given‖ + ‖exact‖
    sums = [np.linalg.norm(g) + np.linalg.norm(e) for g, e in zip(given, exact)]
    assert result.errors["W2"] == pytest.approx(0.01 / sums[2], rel=1e-6)
    assert result.overall == pytest.approx(0.01 / np.sqrt(np.sum(np.square(sums))), rel=1e-6)
    assert result.errors["W1"] < 1e-8


def test_the_norm_floor_keeps_zero_gradients_from_dividing_by_round_off():
    X, y = pn.datasets.make_moons(8, noise=0.1, seed=0)
    model = pn.MLP([2, 3, 1], activation="tanh", batch_norm=True, bias=True, seed=0)
    given = model.gradients(X, y)
    assert np.abs(given[1]).max() < 1e-12         # a bias before batch norm has no gradient
    given[1][0] = 1e-6
    # ‖d‖ = 1e-6 and ‖given‖ + ‖numeric‖ ≈ 1e-6, below the floor 1e-3: error 1e-6 / 1e-3
    assert pn.gradient_check(model, X, y, gradients=given).errors["b1"] == pytest.approx(1e-3, rel=1e-3)


def test_pass_means_strictly_below_the_threshold():
    X, y = pn.datasets.make_xor()
    model = pn.MLP([2, 3, 1], activation="tanh", seed=0)
    overall = pn.gradient_check(model, X, y).overall
    assert not pn.gradient_check(model, X, y, threshold=overall).passed
    assert pn.gradient_check(model, X, y, threshold=np.nextafter(overall, 1)).passed


def test_sampling_is_seeded_and_arguments_are_checked():
    X, y = pn.datasets.make_blobs(10, centers=3, seed=1)
    model = pn.MLP([2, 30, 3], activation="tanh", output="softmax", seed=0)
    grads = model.gradients(X, y)
    grads[0] += 1e-4                              # every entry wrong: which ones are sampled shows
    a = pn.gradient_check(model, X, y, max_checks_per_array=5, gradients=grads)
    assert a.errors == pn.gradient_check(model, X, y, max_checks_per_array=5, gradients=grads, seed=0).errors
    assert a.errors != pn.gradient_check(model, X, y, max_checks_per_array=5, gradients=grads, seed=1).errors
    for bad in ({"eps": 0.0}, {"threshold": 0.0}, {"max_checks_per_array": 0}):
        with pytest.raises(ValueError, match=f"{next(iter(bad))}: expected"):
            pn.gradient_check(model, X, y, **bad)
    with pytest.raises(ValueError, match="gradients: expected one array per parameter"):
        pn.gradient_check(model, X, y, gradients=grads[:-1])
    with pytest.raises(ValueError, match="gradients: expected one array per parameter"):
        pn.gradient_check(model, X, y, gradients=[g.T for g in grads])


def test_gradient_check_leaves_batchnorm_running_statistics_alone():
    X, y = pn.datasets.make_moons(8, noise=0.1, seed=0)
    model = pn.MLP([2, 3, 1], activation="relu", batch_norm=True, seed=0)
    before = [model.layers[0].running_mean.copy(), model.layers[0].running_var.copy()]
    assert pn.gradient_check(model, X, y).passed
    assert np.array_equal(model.layers[0].running_mean, before[0])
    assert np.array_equal(model.layers[0].running_var, before[1])
