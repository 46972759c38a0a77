"""pyneuron.initializers: each named distribution draws exactly what the module's table
says from the given generator (the same draw made here with the formula written out), the
aliases and "auto" resolve as documented, and unknown names are refused (issue 15 item 10:
the mutation run of pyneuron/initializers.py)."""
import math

import numpy as np
import pytest

from pyneuron.initializers import INITIALIZERS, initial_weights, resolve

N_IN, N_OUT = 3, 5


def expected(name, seed):
    rng = np.random.default_rng(seed)
    shape = (N_OUT, N_IN)
    if name == "he_normal":
        return rng.normal(0, math.sqrt(2 / N_IN), shape)
    if name == "he_uniform":
        return rng.uniform(-math.sqrt(6 / N_IN), math.sqrt(6 / N_IN), shape)
    if name == "xavier_normal":
        return rng.normal(0, math.sqrt(2 / (N_IN + N_OUT)), shape)
    if name == "xavier_uniform":
        return rng.uniform(-math.sqrt(6 / (N_IN + N_OUT)), math.sqrt(6 / (N_IN + N_OUT)), shape)
    if name == "small_random":
        return 0.01 * rng.standard_normal(shape)
    return np.zeros(shape)


@pytest.mark.parametrize("name", INITIALIZERS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_each_initializer_is_its_formula(name, dtype):
    W = initial_weights(name, N_IN, N_OUT, np.random.default_rng(11), dtype=dtype)
    assert W.shape == (N_OUT, N_IN) and W.dtype == dtype and W.flags.c_contiguous
    np.testing.assert_allclose(W, expected(name, 11).astype(dtype), rtol=1e-15 if dtype == np.float64 else 1e-7)


def test_the_spread_of_each_distribution():
    """Independent of the draw order: sample moments of a large draw."""
    rng = np.random.default_rng(0)
    n_in, n_out = 50, 4000
    for name, sd in [("he_normal", math.sqrt(2 / n_in)), ("he_uniform", math.sqrt(6 / n_in) / math.sqrt(3)),
                     ("xavier_normal", math.sqrt(2 / (n_in + n_out))),
                     ("xavier_uniform", math.sqrt(6 / (n_in + n_out)) / math.sqrt(3)), ("small_random", 0.01)]:
        W = initial_weights(name, n_in, n_out, rng)
        assert abs(W.mean()) < 0.01 * sd * 5 and W.std() == pytest.approx(sd, rel=0.02), name
    assert not initial_weights("zeros", n_in, n_out, rng).any()


@pytest.mark.parametrize("alias, name", [("glorot_normal", "xavier_normal"), ("glorot_uniform", "xavier_uniform"),
                                         ("he", "he_normal"), ("xavier", "xavier_normal"),
                                         ("glorot", "xavier_normal")] + [(n, n) for n in INITIALIZERS])
def test_names_and_aliases_resolve(alias, name):
    assert resolve(alias, "relu") == name and resolve(alias, "sigmoid") == name


@pytest.mark.parametrize("activation, name", [("relu", "he_normal"), ("leaky_relu", "he_normal"),
                                              ("sigmoid", "xavier_normal"), ("tanh", "xavier_normal"),
                                              ("linear", "xavier_normal"), ("softmax", "xavier_normal")])
def test_auto_picks_by_activation(activation, name):
    assert resolve("auto", activation) == name


@pytest.mark.parametrize("bad", ["he_norm", "Auto", "", "uniform"])
def test_unknown_names_are_refused(bad):
    with pytest.raises(ValueError, match=f"init: expected 'auto' or one of 'he_normal', .*'zeros', got '{bad}'"):
        resolve(bad, "relu")
    with pytest.raises(ValueError, match=f"init: expected one of 'he_normal', .*'zeros', got '{bad}'"):
        initial_weights(bad, 2, 2, np.random.default_rng(0))
