"""MLP.fit names its options (no **options), the same as pyneuron.training.fit's, so IDEs
and type checkers see them and a misspelt option is a TypeError at once."""
import inspect

import numpy as np
import pytest

import pyneuron as pn
from pyneuron import training


def test_mlp_fit_has_every_option_of_training_fit_with_the_same_defaults():
    method = inspect.signature(pn.MLP.fit).parameters
    function = inspect.signature(training.fit).parameters
    assert list(method)[1:] == list(function)[1:]          # self / model, then the same names in order
    for name in list(function)[1:]:
        assert method[name].default == function[name].default, name
        assert method[name].annotation != inspect.Parameter.empty, name
    assert not any(p.kind is p.VAR_KEYWORD for p in method.values())


def test_a_misspelt_option_is_refused():
    with pytest.raises(TypeError, match="epochz"):
        pn.MLP([2, 1]).fit(np.zeros((2, 2)), [0, 1], epochz=3)


def test_every_option_reaches_fit():
    X = np.random.default_rng(0).normal(size=(12, 2))
    y = (X[:, 0] > 0).astype(int)
    a, b = pn.MLP([2, 3, 1], seed=0), pn.MLP([2, 3, 1], seed=0)
    options = dict(epochs=2, batch_size=4, lr=0.2, shuffle=False, l2=0.1, clip_norm=1.0,
                   sample_weight=np.arange(1.0, 13.0), initial_epoch=5, validation_split=0.25)
    ha = a.fit(X, y, **options)
    hb = training.fit(b, X, y, **options)
    assert ha.epoch == hb.epoch == [6, 7] and ha["loss"] == hb["loss"] and ha["val_loss"] == hb["val_loss"]
