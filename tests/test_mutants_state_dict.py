"""pyneuron.state_dict, the branches tests/test_interop_state_dict.py leaves on one side
(issue 15 item 10: the mutation run of pyneuron/state_dict.py): the batch counter's value,
``strict``'s default, strict refusing missing keys alone and unexpected keys alone, the key
list in the message, the prefix hint for any enclosing module (numbered or named, one level or more), and torch tensors of each float
width (bfloat16 through float32; float64 kept exact) when torch is installed."""
import numpy as np
import pytest

import pyneuron as pn
from pyneuron.state_dict import load_state_dict, state_dict


def _bn_model():
    return pn.MLP([2, 3, 1], batch_norm=True, seed=0)       # 0 Linear, 1 BatchNorm1d, 2 ReLU, 3 Linear, 4 Sigmoid


def test_the_batch_counter_is_an_int64_zero():
    counter = state_dict(_bn_model())["1.num_batches_tracked"]
    assert isinstance(counter, np.ndarray) and counter.shape == () and counter.dtype == np.int64
    assert int(counter) == 0


def test_strict_is_the_default():
    model = pn.MLP([2, 3, 1], seed=0)
    sd = model.state_dict()
    del sd["2.bias"]
    with pytest.raises(ValueError, match=r"missing keys: '2\.bias'"):
        load_state_dict(model, sd)


def test_strict_refuses_missing_keys_alone_and_leaves_the_model():
    model = pn.MLP([2, 3, 1], seed=0)
    before = model.layers[0].W.copy()
    sd = {k: v + 1.0 for k, v in model.state_dict().items() if k != "2.bias"}
    with pytest.raises(ValueError) as info:
        load_state_dict(model, sd, strict=True)
    assert "missing keys: '2.bias'" in str(info.value) and "unexpected" not in str(info.value)
    np.testing.assert_array_equal(model.layers[0].W, before)


def test_strict_refuses_unexpected_keys_alone():
    model = pn.MLP([2, 3, 1], seed=0)
    sd = model.state_dict()
    sd["5.weight"] = np.zeros(3)
    with pytest.raises(ValueError) as info:
        load_state_dict(model, sd, strict=True)
    assert "unexpected keys: '5.weight'" in str(info.value) and "missing" not in str(info.value)


def test_the_message_lists_the_model_keys_without_the_optional_counter():
    model = _bn_model()
    with pytest.raises(ValueError) as info:
        load_state_dict(model, {})
    message = str(info.value)
    names = "0.weight, 1.weight, 1.bias, 1.running_mean, 1.running_var, 3.weight, 3.bias"
    assert f"this model's keys are {names} (model.state_dict().keys())" in message
    assert "num_batches_tracked" not in message


@pytest.mark.parametrize("prefix", ["0.", "net.", "net.0.", "module.1.", "a.b.c."])
def test_keys_behind_any_prefix_get_the_hint_that_strips_it(prefix):
    # "0.0.weight" is what an nn.Sequential holding the model at position 0 names the keys,
    # "net.0.weight" a module keeping it as .net, "module.1." DDP around a Sequential.
    model = pn.MLP([2, 3, 1], seed=0)
    nested = {prefix + k: v for k, v in model.state_dict().items()}
    with pytest.raises(ValueError) as info:
        load_state_dict(model, nested)
    assert f"The keys starting with {prefix!r} are this model's keys inside an enclosing module" in str(info.value)
    assert f"k.removeprefix({prefix!r})" in str(info.value)


def test_the_shortest_prefix_that_explains_the_keys_is_named():
    # "0.0.weight" strips to "0.weight" after "0." — not "0.0." (which leaves "weight").
    model = pn.MLP([2, 3, 1], seed=0)
    with pytest.raises(ValueError, match=r"k\.removeprefix\('0\.'\)"):
        load_state_dict(model, {"0." + k: v for k, v in model.state_dict().items()})


def test_no_hint_when_no_prefix_explains_every_unexpected_key():
    model = pn.MLP([2, 3, 1], seed=0)
    keys = {"net." + k: v for k, v in model.state_dict().items()}
    keys["net.5.weight"] = keys["net.0.weight"]       # no key 5.weight in this model
    with pytest.raises(ValueError) as info:
        load_state_dict(model, keys)
    assert "removeprefix" not in str(info.value) and "enclosing" not in str(info.value)
    with pytest.raises(ValueError) as info:
        load_state_dict(model, {"weight": np.zeros((3, 2))})   # no dot: no prefix at all
    assert "removeprefix" not in str(info.value)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_torch_tensors_of_each_width(dtype):
    torch = pytest.importorskip("torch")
    model = pn.MLP([2, 3, 1], seed=0, dtype=dtype)
    values = np.array([[0.1, -0.3], [1e-3, 2.5], [7.0, 1 / 3]])     # 0.1 and 1/3 are inexact in float32
    for tensor_dtype in (torch.float64, torch.float32, torch.bfloat16):
        tensor = torch.tensor(values, dtype=tensor_dtype)
        expected = tensor.to(torch.float64).numpy().astype(dtype)     # torch's own conversion as the oracle
        load_state_dict(model, {"0.weight": tensor}, strict=False)
        assert model.layers[0].W.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(model.layers[0].W, expected, err_msg=str(tensor_dtype))
    # a float64 tensor into a float64 model keeps every bit
    load_state_dict(model, {"0.weight": torch.tensor(values, dtype=torch.float64)}, strict=False)
    if dtype == "float64":
        np.testing.assert_array_equal(model.layers[0].W, values)
