"""``MLP.state_dict`` / ``MLP.load_state_dict`` without PyTorch: the names, the checks.

The names are spelled out by hand here from torch's numbering of a Sequential (one
position per Linear, BatchNorm1d, activation and Dropout); tests/test_torch_state_dict.py
checks them against torch itself.
"""
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pyneuron as pn


def _trained_bn_model(seed=0, backend=None):
    model = pn.MLP([3, 4, 5, 2], activation="tanh", output="softmax", batch_norm=True,
                   dropout=[0.2, 0.0], seed=seed, backend=backend)
    X = np.random.default_rng(seed).normal(size=(24, 3))
    model.fit(X, (X[:, 0] > 0).astype(int), epochs=2, batch_size=8)   # statistics away from 0 / 1
    return model, X


def test_names_follow_the_sequential_positions():
    model, _ = _trained_bn_model()
    # 0 Linear, 1 BatchNorm1d, 2 Tanh, 3 Dropout, 4 Linear, 5 BatchNorm1d, 6 Tanh, 7 Linear, 8 Softmax
    bn = ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert list(model.state_dict()) == (["0.weight"] + [f"1.{k}" for k in bn] + ["4.weight"]
                                        + [f"5.{k}" for k in bn] + ["7.weight", "7.bias"])
    plain = pn.MLP([2, 3, 3, 1], activation=["relu", "linear"], output="linear", bias=[True, False, True])
    # 0 Linear, 1 ReLU, 2 Linear (linear: no module), 3 Linear
    assert list(plain.state_dict()) == ["0.weight", "0.bias", "2.weight", "3.weight", "3.bias"]


def test_values_are_copies_of_the_parameters():
    model, _ = _trained_bn_model()
    sd = model.state_dict()
    layer0, layer2 = model.layers[0], model.layers[2]
    pairs = [("0.weight", layer0.W), ("1.weight", layer0.gamma), ("1.bias", layer0.beta),
             ("1.running_mean", layer0.running_mean), ("1.running_var", layer0.running_var),
             ("7.weight", layer2.W), ("7.bias", layer2.b)]
    for key, array in pairs:
        assert sd[key].dtype == np.float64 and np.array_equal(sd[key], array), key
        assert not np.shares_memory(sd[key], array), key
    assert sd["1.num_batches_tracked"].dtype == np.int64 and sd["1.num_batches_tracked"].shape == ()
    sd["0.weight"][...] = 7.0
    assert not np.any(model.layers[0].W == 7.0)


def test_a_checkpoint_moves_between_models_exactly(backend):
    model, X = _trained_bn_model(backend=backend)
    other = pn.MLP([3, 4, 5, 2], activation="tanh", output="softmax", batch_norm=True,
                   dropout=[0.2, 0.0], seed=99, backend=backend)
    assert other.load_state_dict(model.state_dict()) == ([], [])
    for a, b in zip(model.state_dict().values(), other.state_dict().values()):
        assert np.array_equal(a, b)
    np.testing.assert_array_equal(other.predict_proba(X), model.predict_proba(X))


@settings(max_examples=25, deadline=None)
@given(hidden=st.lists(st.integers(1, 5), max_size=3), batch_norm=st.booleans(), dropout=st.booleans(),
       output=st.sampled_from(["sigmoid", "softmax", "linear", "relu"]), n_out=st.integers(2, 3),
       seed=st.integers(0, 2**16), dtype=st.sampled_from(["float64", "float32"]))
def test_state_dict_round_trips_for_generated_networks(hidden, batch_norm, dropout, output, n_out, seed, dtype):
    sizes = [2] + hidden + [n_out]
    build = dict(output=output, batch_norm=batch_norm, dtype=dtype, dropout=0.3 if dropout else 0.0)
    model = pn.MLP(sizes, seed=seed, **build)
    rng = np.random.default_rng(seed)
    for layer in model.layers[:-1]:
        if batch_norm:
            layer.running_mean[...] = rng.normal(size=layer.n_out)
            layer.running_var[...] = rng.uniform(0.5, 2, size=layer.n_out)
    fresh = pn.MLP(sizes, seed=seed + 1, **build)
    fresh.load_state_dict(model.state_dict())
    for name in ("W", "b") + (("gamma", "beta", "running_mean", "running_var") if batch_norm else ()):
        for a, b in zip(model.layers, fresh.layers):
            if hasattr(a, name):
                assert np.array_equal(getattr(a, name), getattr(b, name))
    X = rng.normal(size=(5, 2))
    np.testing.assert_array_equal(fresh.predict_proba(X), model.predict_proba(X))


def test_other_float_widths_and_lists_are_converted_to_the_models_dtype():
    model = pn.MLP([2, 2, 1], seed=0)
    sd = {k: v.astype(np.float32) for k, v in model.state_dict().items()}
    sd["0.weight"] = [[0.5, -0.25], [1.0, 2.0]]
    model.load_state_dict(sd)
    assert model.layers[0].W.dtype == np.float64
    np.testing.assert_array_equal(model.layers[0].W, [[0.5, -0.25], [1.0, 2.0]])


def test_missing_and_unexpected_keys_are_named():
    model = pn.MLP([2, 3, 1], seed=0)
    sd = model.state_dict()
    del sd["2.bias"]
    sd["2.weight_extra"] = np.zeros(3)
    with pytest.raises(ValueError) as info:
        model.load_state_dict(sd)
    message = str(info.value)
    assert "missing keys: '2.bias'" in message and "unexpected keys: '2.weight_extra'" in message
    assert "strict=False" in message


def test_strict_false_loads_what_matches_and_reports_the_rest():
    model = pn.MLP([2, 3, 1], seed=0)
    before_b = model.layers[1].b.copy()
    sd = {"0.weight": np.full((3, 2), 0.5), "9.weight": np.zeros(2)}
    result = model.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["0.bias", "2.weight", "2.bias"]
    assert result.unexpected_keys == ["9.weight"]
    np.testing.assert_array_equal(model.layers[0].W, np.full((3, 2), 0.5))
    np.testing.assert_array_equal(model.layers[1].b, before_b)


def test_num_batches_tracked_is_optional():
    model, _ = _trained_bn_model()
    sd = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    assert model.load_state_dict(sd) == ([], [])


@pytest.mark.parametrize("key,value,error,words", [
    ("0.weight", np.zeros((2, 3)), ValueError, ["'0.weight'", "shape (4, 3)", "(2, 3)"]),
    ("0.weight", np.zeros(6), ValueError, ["'0.weight'", "shape"]),
    ("7.bias", np.array([0.0, np.nan]), ValueError, ["'7.bias'", "finite", "nan"]),
    ("1.weight", np.array([0.0, np.inf, 1, 1]), ValueError, ["'1.weight'", "finite", "inf"]),
    ("5.running_var", np.array([1.0, 1.0, -0.5, 1.0, 1.0]), ValueError, ["'5.running_var'", ">= 0", "-0.5"]),
    ("0.weight", np.zeros((4, 3), dtype=np.int64), TypeError, ["'0.weight'", "floating-point", "int64"]),
    ("0.weight", np.zeros((4, 3), dtype=bool), TypeError, ["'0.weight'", "floating-point", "bool"]),
    ("0.weight", "weights", TypeError, ["'0.weight'", "floating-point", "str"]),
    ("0.weight", [[1.0], [1.0, 2.0]], TypeError, ["'0.weight'", "floating-point"]),
    ("0.weight", np.zeros((4, 3), dtype=complex), TypeError, ["'0.weight'", "complex"]),
    ("1.running_mean", np.full(4, 1e300), None, []),            # fits float64: accepted
    ("1.num_batches_tracked", np.array(-1), ValueError, ["'1.num_batches_tracked'", "integer >= 0"]),
    ("1.num_batches_tracked", np.array(2.5), ValueError, ["'1.num_batches_tracked'", "integer >= 0"]),
    ("1.num_batches_tracked", np.zeros((2,), dtype=np.int64), ValueError, ["num_batches_tracked"]),
])
def test_bad_values_are_refused_by_key_and_leave_the_model_unchanged(key, value, error, words):
    model, X = _trained_bn_model()
    before = model.state_dict()
    sd = model.state_dict()
    for k in sd:        # every other value changed, so a partial load would show
        if sd[k].dtype.kind == "f":
            sd[k] = sd[k] + 1.0
    sd[key] = value
    if error is None:
        model.load_state_dict(sd)
        return
    with pytest.raises(error) as info:
        model.load_state_dict(sd)
    for word in words:
        assert word in str(info.value), (word, str(info.value))
    for k, v in model.state_dict().items():
        assert np.array_equal(v, before[k]), k


def test_float32_overflow_is_refused():
    model = pn.MLP([2, 1], dtype="float32", seed=0)
    with pytest.raises(ValueError, match=r"'0.weight'.*finite"):
        model.load_state_dict({"0.weight": np.array([[1e300, 0.0]]), "0.bias": np.zeros(1)})


@pytest.mark.parametrize("bad,error,words", [
    ([("0.weight", np.zeros((1, 2)))], TypeError, ["state_dict", "mapping", "list"]),
    ({0: np.zeros((1, 2))}, TypeError, ["string keys", "0"]),
])
def test_a_state_dict_that_is_no_mapping_of_names_is_refused(bad, error, words):
    model = pn.MLP([2, 1], seed=0)
    with pytest.raises(error) as info:
        model.load_state_dict(bad)
    for word in words:
        assert word in str(info.value)


def test_strict_must_be_a_bool():
    model = pn.MLP([2, 1], seed=0)
    with pytest.raises(TypeError, match="strict: expected True or False, got 'no'"):
        model.load_state_dict(model.state_dict(), strict="no")


def test_torch_is_never_imported():
    code = ("import sys, numpy as np, pyneuron as pn\n"
            "m = pn.MLP([3, 4, 2], batch_norm=True, seed=0)\n"
            "m.load_state_dict(m.state_dict())\n"
            "print('torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_keys_behind_a_wrappers_prefix_get_a_hint():
    model = pn.MLP([2, 3, 1], seed=0)
    wrapped = {"module." + k: v for k, v in model.state_dict().items()}     # as DistributedDataParallel names them
    with pytest.raises(ValueError) as info:
        model.load_state_dict(wrapped)
    assert "k.removeprefix('module.')" in str(info.value)
    model.load_state_dict({k.removeprefix("module."): v for k, v in wrapped.items()})
    other = {"extra.9.weight": np.zeros((3, 2)), "0.weight": np.zeros((3, 2))}   # no key of this model behind it
    with pytest.raises(ValueError) as info:
        model.load_state_dict(other)
    assert "removeprefix" not in str(info.value)
