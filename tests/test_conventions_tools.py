"""Issue 14: the tools that walk a model's parameters know layers without bias —
gradient_check names each array right, explain works it through with b = 0."""
import numpy as np

import pyneuron as pn

X = np.array([[0.5, -1.0], [1.5, 0.25], [-0.5, 2.0]])
y = np.array([1, 0, 1])


def test_gradient_check_names_the_arrays_of_a_bias_free_layer(backend):
    model = pn.MLP([2, 3, 1], bias=[False, True], activation="tanh", seed=0, backend=backend)
    result = pn.gradient_check(model, X, y)
    assert list(result.checked) == ["W1", "W2", "b2"]
    assert result.checked["W1"] == 6 and result.checked["b2"] == 1 and result.passed


def test_explain_works_a_bias_free_layer_through_with_b_zero(backend):
    model = pn.MLP([2, 3, 1], bias=[False, True], activation="tanh", seed=0, backend=backend)
    e = pn.explain(model, X[:2], y[:2], lr=0.1)
    first = e.layers[0]
    assert np.all(first.b == 0) and np.all(first.db == 0) and np.all(first.b_new == 0)
    # W_new is the first layer's own update, not another array's
    assert np.allclose(first.W_new, model.layers[0].W - 0.1 * first.dW, rtol=1e-14, atol=0)
    assert np.allclose(e.layers[1].b_new, model.layers[1].b - 0.1 * e.layers[1].db, rtol=1e-14, atol=0)
