"""explain(): the tutorials' hand calculations, reproduced by the model's own kernels.

Expected numbers are the tutorials' printed figures where they follow from
their inputs, and the true figures where a tutorial slipped (see the seeds' README).
"""
import numpy as np
import pytest

import pyneuron as pn
from pyneuron.explain import Explanation, explain


def seed003_net(backend, hidden="sigmoid"):
    """Seed 003's 2-2-1 network (its W is already (n_out, n_in))."""
    model = pn.MLP([2, 2, 1], activation=hidden, output="sigmoid", backend=backend)
    model.set_weights([np.array([[0.1, 0.2], [0.3, 0.4]]), np.array([0.1, 0.2]),
                       np.array([[0.5, 0.6]]), np.array([0.3])])
    return model


def seed004_backward_net(backend):
    """Seed 004's 2-2-1 ReLU net; the tutorial stores W as (n_in, n_out), so transpose."""
    model = pn.MLP([2, 2, 1], activation="relu", output="sigmoid", backend=backend)
    model.set_weights([np.array([[0.3, 0.7], [0.5, -0.2]]).T, np.array([0.1, -0.1]),
                       np.array([[0.6], [-0.4]]).T, np.array([0.2])])
    return model


def test_seed003_forward_and_backward(backend, assert_close):
    e = explain(seed003_net(backend), [[1.0, 2.0]], [1], lr=0.1)
    hidden, out = e.layers
    assert_close(hidden.Z, [[0.6, 1.3]], rtol=1e-12, what="z1")
    assert_close(hidden.A, [[0.64565631, 0.78583498]], atol=5e-9, what="a1")
    assert_close(out.Z, [[1.09432914]], atol=5e-9, what="z2")
    assert_close(e.output, [[0.74919605]], atol=5e-9, what="a2")
    assert round(e.loss, 4) == 0.2888
    assert_close(out.dZ, [[-0.25080395]], atol=5e-9, what="delta2")
    assert_close(out.dW, [[-0.16193315, -0.19709052]], atol=5e-9, what="dW2")
    assert_close(hidden.dA, [[-0.1254, -0.1505]], atol=5e-5, what="da1")
    assert_close(hidden.derivative, [[0.2288, 0.1683]], atol=5e-5, what="sigma'(z1)")
    assert_close(hidden.dW, [[-0.02869, -0.05737999], [-0.02532594, -0.05065187]], atol=5e-9, what="dW1")
    assert_close(hidden.db, [-0.02869, -0.02532594], atol=5e-9, what="db1")
    assert_close(out.W_new, [[0.51619332, 0.61970905]], atol=5e-9, what="W2_new")
    assert_close(hidden.W_new, [[0.102869, 0.205738], [0.30253259, 0.40506519]], atol=5e-9, what="W1_new")
    assert hidden.delta is hidden.dZ
    text = e.text()
    for figure in ["0.6457", "0.7858", "1.0943", "0.7492", "0.2888", "-0.2508", "-0.1619", "-0.1971",
                   "-0.1254", "-0.1505", "0.2288", "0.1683", "-0.0287", "-0.0253", "0.5162", "0.6197"]:
        assert figure in text, f"{figure} missing from:\n{text}"
    assert "0.1000·1.0000 + 0.2000·2.0000 + 0.1000 = 0.6000" in text


def test_seed003_tanh_exercise_true_values(backend, assert_close):
    # The tutorial's comment gives z2 = 0.5312, a2 = 0.6298; its inputs give 0.6314, 0.6528.
    model = pn.MLP([2, 2, 1], activation="tanh", output="sigmoid", backend=backend)
    model.set_weights([np.array([[0.2, 0.4], [0.6, 0.1]]), np.array([0.0, 0.1]),
                       np.array([[0.3, 0.7]]), np.array([0.2])])
    e = explain(model, [[0.5, 0.8]], [1])
    assert_close(e.layers[0].Z, [[0.42, 0.48]], rtol=1e-12, what="z1")
    assert np.round(e.layers[0].A, 4).tolist() == [[0.3969, 0.4462]]
    assert round(float(e.layers[1].Z[0, 0]), 4) == 0.6314
    assert round(float(e.output[0, 0]), 4) == 0.6528
    assert "0.6314" in e.text() and "0.6528" in e.text()


def test_seed004_forward_2_3_1_true_values(backend):
    # Printed z1[1] = -0.25, z2 = 0.619, output 0.6498; its inputs give -0.35, 0.719, 0.6724.
    model = pn.MLP([2, 3, 1], activation="relu", output="sigmoid", backend=backend)
    model.set_weights([np.array([[0.1, 0.3, -0.2], [0.4, -0.5, 0.6]]).T, np.array([0.1, -0.1, 0.2]),
                       np.array([[0.7], [-0.3], [0.5]]).T, np.array([0.1])])
    e = explain(model, [[0.5, 0.8]], [1])
    assert np.round(e.layers[0].Z, 4).tolist() == [[0.47, -0.35, 0.58]]
    assert np.round(e.layers[0].A, 4).tolist() == [[0.47, 0.0, 0.58]]
    assert round(float(e.layers[1].Z[0, 0]), 4) == 0.719
    assert round(float(e.output[0, 0]), 4) == 0.6724
    assert "0.3000·0.5000 + -0.5000·0.8000 + -0.1000 = -0.3500" in e.text()


def test_seed004_backward_true_values(backend, assert_close):
    e = explain(seed004_backward_net(backend), [[1.0, 0.5]], [1], lr=0.1)
    hidden, out = e.layers
    assert np.round(hidden.Z, 4).tolist() == [[0.65, 0.5]]
    assert round(float(e.output[0, 0]), 4) == 0.5963
    assert round(e.loss, 4) == 0.5170                 # the tutorial prints 0.5173
    assert np.round(out.dZ, 4).tolist() == [[-0.4037]]
    assert np.round(out.dW, 4).tolist() == [[-0.2624, -0.2019]]
    assert np.round(hidden.dZ, 4).tolist() == [[-0.2422, 0.1615]]
    # tutorial layout dW1 = [[-0.2422, 0.1615], [-0.1211, 0.0807]] is our transpose
    assert np.round(hidden.dW.T, 4).tolist() == [[-0.2422, 0.1615], [-0.1211, 0.0807]]
    assert np.round(out.W_new, 4).tolist() == [[0.6262, -0.3798]]
    W1_new_tutorial_layout = hidden.W_new.T
    assert round(float(W1_new_tutorial_layout[0, 1]), 4) == 0.6839   # printed 0.6838
    assert np.round(W1_new_tutorial_layout, 4).tolist() == [[0.3242, 0.6839], [0.5121, -0.2081]]
    text = str(e)
    for figure in ["0.5963", "0.5170", "-0.4037", "-0.2624", "-0.2019", "-0.2422", "0.1615",
                   "0.0807", "0.6262", "-0.3798", "0.3242", "0.6839", "0.5121", "-0.2081"]:
        assert figure in text, f"{figure} missing from:\n{text}"
    assert "0.5173" not in text and "0.6838" not in text


def test_backends_agree(assert_close):
    results = {name: explain(seed004_backward_net(name), [[1.0, 0.5]], [1])
               for name in pn.available_backends()}
    reference = results.pop("numpy")
    for name, e in results.items():
        for a, b in zip(e.updated_weights(), reference.updated_weights()):
            assert_close(a, b, rtol=1e-12, atol=1e-15, what=f"{name} vs numpy")
        assert e.text().replace(f"({name} backend", "(numpy backend") == reference.text()


def test_model_is_not_changed(backend):
    model = seed003_net(backend)
    before = model.get_weights()
    e = explain(model, [[1.0, 2.0]], [1], lr=0.5)
    for a, b in zip(before, model.get_weights()):
        assert np.array_equal(a, b)
    # and the update really is W - lr * dW
    assert np.allclose(e.layers[0].W_new, before[0] - 0.5 * e.layers[0].dW)
    model.set_weights(e.updated_weights())
    assert model.loss([[1.0, 2.0]], [1]) < e.loss


def test_matches_gradient_of_loss_for_mse_and_softmax(backend):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3, 4))
    for output, y in (("linear", rng.normal(size=3)), ("softmax", np.array([0, 2, 1]))):
        model = pn.MLP([4, 5, 3 if output == "softmax" else 1], activation="tanh", output=output,
                       seed=1, backend=backend)
        e = explain(model, X, y)
        grads = model.gradients(X, y)
        for layer, dW in zip(e.layers, grads[::2]):
            assert np.allclose(layer.dW, dW)
        assert np.isclose(e.loss, model.loss(X, y))
        assert "LOSS" in e.text() and "sample 3" in e.text()


def test_large_layers_are_summarized():
    model = pn.MLP([64, 32, 10], activation="relu", output="softmax", seed=0)
    X = np.random.default_rng(0).normal(size=(10, 64))
    e = explain(model, X, np.arange(10), max_terms=6, max_neurons=4, max_samples=2)
    assert e.layers[0].dW.shape == (32, 64)            # the record keeps everything
    text = e.text()
    assert "more terms" in text and "more neurons" in text and "first 2 samples" in text
    assert len(text.splitlines()) < 200
    # a written-out z still sums correctly
    layer = e.layers[0]
    assert np.isclose(sum(w * x for w, x in layer.terms(0, 0)) + layer.b[0], layer.Z[0, 0])


def test_sample_selects_rows():
    model = seed003_net("numpy")
    X = np.array([[1.0, 2.0], [0.0, 0.0], [3.0, 1.0]])
    e = explain(model, X, [1, 0, 1], sample=2)
    assert e.X.tolist() == [[3.0, 1.0]] and isinstance(e, Explanation)
    assert explain(model, X, [1, 0, 1], sample=slice(0, 2)).X.shape == (2, 2)


@pytest.mark.parametrize("kwargs, error", [({"lr": 0}, ValueError), ({"sample": 7}, ValueError),
                                           ({"sample": "first"}, TypeError), ({"max_terms": 1}, ValueError)])
def test_bad_arguments(kwargs, error):
    with pytest.raises(error):
        explain(seed003_net("numpy"), [[1.0, 2.0]], [1], **kwargs)


def test_bad_targets_name_the_argument():
    with pytest.raises(ValueError, match="y"):
        explain(seed003_net("numpy"), [[1.0, 2.0]], [2])
