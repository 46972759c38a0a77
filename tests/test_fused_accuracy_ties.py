"""The training accuracy ``fit`` reports when output probabilities tie.

``metrics.output_accuracy`` takes the first largest probability of each row. The C step
counts right answers while it computes the softmax (``output_and_loss``): it finds the
first largest *logit* and then the first probability equal to its probability, since
logits that differ can give equal probabilities once ``exp`` rounds. These cases pin that:
the expected accuracies are worked out by hand from the rows' labels, and every backend,
fused or not, must report them.
"""
import numpy as np
import pytest

import pyneuron as pn


def _one_layer(backend, biases):
    """A softmax layer whose logits are its biases for every row (W = 0)."""
    model = pn.MLP([3, len(biases)], output="softmax", seed=0, backend=backend)
    model.layers[0].W[:] = 0.0
    model.layers[0].b[:] = biases
    return model


def _first_epoch_accuracy(model, labels, **fit_kw):
    X = np.random.default_rng(1).standard_normal((len(labels), 3))
    history = model.fit(X, labels, epochs=1, batch_size=len(labels), shuffle=False,
                        optimizer=pn.optimizers.SGD(0.01), **fit_kw)
    return history["accuracy"][0]


@pytest.mark.parametrize("labels, expected", [([0, 0, 0, 0], 1.0), ([1, 2, 0, 3], 0.25),
                                              ([3, 3, 1, 2], 0.0)])
def test_equal_logits_pick_the_first_class(backend, labels, expected):
    # every logit 0: every probability 1/4, and the first class is the answer
    assert _first_epoch_accuracy(_one_layer(backend, [0.0, 0.0, 0.0, 0.0]), labels) == expected


def test_logits_that_differ_below_rounding_tie_in_probability(backend):
    # z = (-1e-17, 0): e^(z0 - max) rounds to exactly 1 = e^0, so the two probabilities
    # are equal and argmax takes class 0 -- although class 1 has the larger logit
    labels = [0, 0, 1]
    assert _first_epoch_accuracy(_one_layer(backend, [-1e-17, 0.0]), labels) == pytest.approx(2 / 3)


def test_a_clear_winner_is_counted(backend):
    labels = [2, 2, 0, 1, 2]
    assert _first_epoch_accuracy(_one_layer(backend, [0.5, -1.0, 3.0]), labels) == pytest.approx(3 / 5)


def test_weighted_rows_count_the_same_answers(backend):
    # with sample weights the C step takes the weighted loss path and counts separately
    labels = [0, 0, 1]
    got = _first_epoch_accuracy(_one_layer(backend, [-1e-17, 0.0]), labels,
                                sample_weight=[1.0, 2.0, 3.0])
    assert got == pytest.approx(2 / 3)
