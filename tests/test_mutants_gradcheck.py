"""gradient_check's edges (issue 15 item 10: the mutation run of pyneuron/gradcheck.py):
float32 is refused, an array no larger than ``max_checks_per_array`` is checked whole and in
order, a sampled one draws distinct entries, and a perturbation that only lands on z = 0
from below is not a kink (the sign pattern is backprop's relu'(z) = [z > 0])."""
import numpy as np
import pytest

import pyneuron as pn


def test_float32_models_are_refused():
    model = pn.MLP([2, 1], dtype="float32", seed=0)
    with pytest.raises(ValueError, match="model: gradient checking needs a float64 model, got float32"):
        pn.gradient_check(model, [[1.0, 2.0]], [1])


def kinked_model(backend, hidden):
    """Every hidden z is 0 at x = 0, b1 = 0: each b1 entry's ±eps crosses the kink."""
    model = pn.MLP([2, hidden, 1], activation="relu", output="sigmoid", seed=1, backend=backend)
    model.layers[0].b[...] = 0.0
    return model


@pytest.mark.parametrize("seed", range(6))
def test_an_array_as_small_as_the_limit_is_checked_whole_in_order(backend, seed):
    model = kinked_model(backend, 2)
    result = pn.gradient_check(model, np.zeros((1, 2)), [1], max_checks_per_array=2, seed=seed)
    assert result.checked == {"W1": 2, "b1": 2, "W2": 2, "b2": 1}
    assert result.kinks["b1"] == [(0,), (1,)]


@pytest.mark.parametrize("seed", range(5))
def test_a_sampled_array_draws_distinct_entries(backend, seed):
    model = kinked_model(backend, 8)
    result = pn.gradient_check(model, np.zeros((1, 2)), [1], max_checks_per_array=6, seed=seed)
    assert result.checked["b1"] == 6
    assert len(result.kinks["b1"]) == 6 and len(set(result.kinks["b1"])) == 6
    assert all(0 <= i < 8 for (i,) in result.kinks["b1"])


def test_landing_on_zero_from_below_is_not_a_kink(backend):
    """b1 = −eps, x = 0: z = −eps; b1 + eps gives z = 0 exactly, where relu is still flat
    (relu(0) = 0 = relu'(0)), so backprop's 0 and the central difference 0 agree and the
    entry is judged."""
    eps = 1e-6
    model = pn.MLP([1, 1, 1], activation="relu", output="sigmoid", backend=backend)
    model.set_weights([np.array([[1.0]]), np.array([-eps]), np.array([[2.0]]), np.array([0.0])])
    result = pn.gradient_check(model, [[0.0]], [1], eps=eps)
    assert result.kinks == {"W1": [], "b1": [], "W2": [], "b2": []}
    assert result.errors["b1"] == 0.0 and result.passed
