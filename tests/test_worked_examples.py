"""The tutorials' worked numbers (seeds 003 and 004 in ../shared/seeds),
reproduced through pyneuron's public API on every backend, to the digits
the tutorials print.

Where a tutorial's printed figure does not follow from its own inputs,
the test asserts the true value and a comment says what the tutorial printed.

Layouts: pyneuron stores ``W`` as ``(n_out, n_in)`` and data as rows
``(n_samples, n_features)``.
* Seed 003 writes samples as *columns* (``x`` is ``(2, 1)``) and ``W`` as
  ``(n_out, n_in)``: its ``W`` is used as is, its ``x`` is transposed to a row.
* Seed 004 writes ``W`` as ``(n_in, n_out)`` with samples as rows: its ``W``
  matrices are transposed before ``set_weights`` and its gradients are
  compared transposed.
"""
from __future__ import annotations

import numpy as np
import pytest

import pyneuron
from pyneuron import MLP, Neuron, activations


def printed(value, shown, digits=4):
    """``value`` rounds to what the tutorial shows with ``digits`` decimals."""
    value = np.asarray(value, dtype=float)
    shown = np.asarray(shown, dtype=float)
    assert value.shape == shown.shape, (value.shape, shown.shape)
    ok = np.abs(value - shown) <= 0.5 * 10.0 ** -digits + 1e-12
    assert np.all(ok), f"computed {value.tolist()} does not round to the printed {shown.tolist()} ({digits} d.p.)"


# ---------------------------------------------------------------- seed 004: a single neuron
@pytest.mark.parametrize("activation, printed_value", [("sigmoid", 0.9089), ("relu", 2.3), ("tanh", 0.9801)])
def test_single_neuron(backend, activation, printed_value):
    n = Neuron([0.2, 0.8, -0.5], 2.0, activation, backend=backend)
    z = n.pre_activation([1.0, 2.0, 3.0])
    assert abs(z - 2.3) < 1e-12                      # 0.2 + 1.6 - 1.5 + 2.0
    printed(n.output([1.0, 2.0, 3.0]), printed_value)
    printed(n([1.0, 2.0, 3.0]), printed_value)


@pytest.mark.parametrize("activation, printed_value", [("sigmoid", 0.1192), ("relu", 0.0), ("tanh", -0.9640)])
def test_single_neuron_negative_z(backend, activation, printed_value):
    # The tutorial's "z = -2" row: one input 1 with weight -2 and bias 0 gives z = -2.
    n = Neuron([-2.0], 0.0, activation, backend=backend)
    assert n.pre_activation([1.0]) == -2.0
    printed(n.output([1.0]), printed_value)
    with pyneuron.use_backend(backend):
        printed(activations.apply(activation, -2.0), printed_value)


# ---------------------------------------------------------------- seed 004: the activation table
Z_TABLE = [-3, -1, 0, 1, 3]
TABLE = {
    # name: (f(z) row, f'(z) row) as printed by the tutorial
    "sigmoid": ([0.0474, 0.2689, 0.5000, 0.7311, 0.9526], [0.0452, 0.1966, 0.2500, 0.1966, 0.0452]),
    "relu": ([0.0, 0.0, 0.0, 1.0, 3.0], [0.0, 0.0, 0.0, 1.0, 1.0]),
    "leaky_relu": ([-0.0300, -0.0100, 0.0000, 1.0000, 3.0000], [0.01, 0.01, 0.01, 1.00, 1.00]),
}


@pytest.mark.parametrize("name", sorted(TABLE))
def test_activation_table(backend, name):
    values, slopes = TABLE[name]
    with pyneuron.use_backend(backend):
        f = activations.apply(name, Z_TABLE)
        d = activations.derivative(name, Z_TABLE)
    assert f.shape == (5,) and d.shape == (5,)
    printed(f, values)
    printed(d, slopes)


def test_softmax_of_logits(backend):
    with pyneuron.use_backend(backend):
        p = activations.apply("softmax", [2.0, 1.0, 0.1])
    printed(p, [0.6590, 0.2424, 0.0986])
    printed(p.sum(), 1.0)


# ---------------------------------------------------------------- seed 003: the 2-2-1 sigmoid network
def seed003_model(backend):
    model = MLP([2, 2, 1], activation="sigmoid", output="sigmoid", backend=backend, seed=0)
    # Seed 003's W is (n_out, n_in) like pyneuron's; its column biases become 1-D.
    model.set_weights([np.array([[0.1, 0.2], [0.3, 0.4]]), np.array([0.1, 0.2]),
                       np.array([[0.5, 0.6]]), np.array([0.3])])
    return model


X003 = np.array([[1.0], [2.0]]).T    # the seed's column x = [1, 2]ᵀ, as one row
Y003 = np.array([1])


def test_seed003_forward_and_loss(backend):
    model = seed003_model(backend)
    out = model.forward(X003)
    assert out.shape == (1, 1)
    printed(out[0, 0], 0.7492)
    printed(model.layers[0].cache["Z"][0], [0.6, 1.3])
    printed(model.layers[0].cache["A"][0], [0.6457, 0.7858])
    printed(model.layers[1].cache["Z"][0, 0], 1.0943)
    printed(model.loss(X003, Y003), 0.2888)
    printed(model.predict_proba(X003)[0], 0.74919605, digits=8)


def test_seed003_gradients(backend):
    model = seed003_model(backend)
    dW1, db1, dW2, db2 = model.gradients(X003, Y003)
    # model.gradients returns dW as (n_out, n_in), the same layout as seed 003's dW.
    printed(dW2, [[-0.1619, -0.1971]])
    printed(dW2, [[-0.16193315, -0.19709052]], digits=8)
    printed(db2, [-0.2508])
    printed(dW1, [[-0.02869, -0.05737999], [-0.02532594, -0.05065187]], digits=8)
    printed(db1, [-0.02869, -0.02532594], digits=8)


def test_seed003_one_training_step(backend):
    model = seed003_model(backend)
    loss_before = model.loss(X003, Y003)
    history = model.fit(X003, Y003, epochs=1, batch_size=None, lr=0.1, shuffle=False)
    W1, b1, W2, b2 = model.get_weights()
    printed(W2, [[0.51619332, 0.61970905]], digits=8)
    printed(W1, [[0.102869, 0.205738], [0.30253259, 0.40506519]], digits=8)
    printed(b2, [0.3 + 0.02508040], digits=7)
    printed(b1, [0.1 + 0.002869, 0.2 + 0.002532594], digits=8)
    assert history["loss"] == [pytest.approx(loss_before, rel=1e-12)]
    printed(history["loss"][0], 0.2888)


def test_seed003_tanh_exercise(backend):
    """x = [0.5, 0.8], tanh hidden, sigmoid output. The tutorial's comments say
    z2 = 0.5312 and a2 = 0.6298; its own inputs give z2 = 0.6314, a2 = 0.6528
    (z1 = [0.42, 0.48] and a1 = [0.3969, 0.4462] are printed correctly)."""
    model = MLP([2, 2, 1], activation="tanh", output="sigmoid", backend=backend)
    model.set_weights([np.array([[0.2, 0.4], [0.6, 0.1]]), np.array([0.0, 0.1]),
                       np.array([[0.3, 0.7]]), np.array([0.2])])
    out = model.forward(np.array([[0.5], [0.8]]).T)   # the seed's column x as a row
    printed(model.layers[0].cache["Z"][0], [0.42, 0.48])
    printed(model.layers[0].cache["A"][0], [0.3969, 0.4462])
    printed(model.layers[1].cache["Z"][0, 0], 0.6314)   # tutorial: 0.5312
    printed(out[0, 0], 0.6528)                          # tutorial: 0.6298


# ---------------------------------------------------------------- seed 004: the 2-3-1 forward pass
def test_seed004_forward_2_3_1(backend):
    """The tutorial prints z1[1] = -0.25, z2 = 0.619 and output 0.6498; its own
    inputs give z1[1] = 0.5*0.3 + 0.8*(-0.5) - 0.1 = -0.35, z2 = 0.719 and
    sigmoid(0.719) = 0.6724. z1[0] = 0.47 and z1[2] = 0.58 are right."""
    W1_seed = np.array([[0.1, 0.3, -0.2], [0.4, -0.5, 0.6]])   # (n_in, n_out) in the seed
    W2_seed = np.array([[0.7], [-0.3], [0.5]])
    model = MLP([2, 3, 1], activation="relu", output="sigmoid", backend=backend)
    model.set_weights([W1_seed.T, np.array([0.1, -0.1, 0.2]), W2_seed.T, np.array([0.1])])
    out = model.forward(np.array([[0.5, 0.8]]))
    printed(model.layers[0].cache["Z"][0], [0.47, -0.35, 0.58])   # tutorial: [0.47, -0.25, 0.58]
    printed(model.layers[0].cache["A"][0], [0.47, 0.0, 0.58])
    printed(model.layers[1].cache["Z"][0, 0], 0.719)               # tutorial: 0.619
    printed(out[0, 0], 0.6724)                                     # tutorial: 0.6498


# ---------------------------------------------------------------- seed 004: the 2-2-1 ReLU backward pass
W1_004 = np.array([[0.3, 0.7], [0.5, -0.2]])   # seed layout (n_in, n_out)
W2_004 = np.array([[0.6], [-0.4]])
X004, Y004 = np.array([[1.0, 0.5]]), np.array([1])


def seed004_model(backend):
    model = MLP([2, 2, 1], activation="relu", output="sigmoid", backend=backend)
    model.set_weights([W1_004.T, np.array([0.1, -0.1]), W2_004.T, np.array([0.2])])  # transpose to (n_out, n_in)
    return model


def test_seed004_backward_pass(backend):
    model = seed004_model(backend)
    out = model.forward(X004)
    printed(model.layers[0].cache["Z"][0], [0.65, 0.5])
    printed(model.layers[1].cache["Z"][0, 0], 0.39)
    printed(out[0, 0], 0.5963)
    # The tutorial prints "Loss (BCE): 0.5173"; -log(sigmoid(0.39)) = 0.51703... -> 0.5170.
    printed(model.loss(X004, Y004), 0.5170)
    dW1, db1, dW2, db2 = model.gradients(X004, Y004)
    printed(model.layers[1].grads["dZ"][0, 0], -0.4037)          # dz2
    printed(dW2.T, [[-0.2624], [-0.2019]])                        # seed's dW2 is (n_in, n_out)
    printed(db2, [-0.4037])
    printed(model.layers[0].grads["dZ"][0], [-0.2422, 0.1615])    # dz1
    printed(dW1.T, [[-0.2422, 0.1615], [-0.1211, 0.0807]])        # seed layout X.T @ dz1
    printed(db1, [-0.2422, 0.1615])


def test_seed004_weight_update(backend):
    model = seed004_model(backend)
    model.fit(X004, Y004, epochs=1, batch_size=None, lr=0.1, shuffle=False)
    W1, b1, W2, b2 = model.get_weights()
    printed(W2[0], [0.6262, -0.3798])
    # Seed layout W1 after = [[0.3242, 0.6839], [0.5121, -0.2081]]; the tutorial
    # prints 0.6838 for W1[0][1], but 0.7 - 0.1 * 0.16149 = 0.683851 -> 0.6839.
    printed(W1.T, [[0.3242, 0.6839], [0.5121, -0.2081]])
    printed(b1, [0.1 + 0.02422, -0.1 - 0.01615])
    printed(b2, [0.2 + 0.04037])
