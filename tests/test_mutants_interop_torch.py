"""pyneuron.interop_torch, every rule on both sides in one fast file (issue 15 item 10: the
mutation run of pyneuron/interop_torch.py): the modules to_torch writes for each setting and
the flags of frozen parameters, the loss attribute, what from_torch reads back, and each
refusal with its position and hint next to the nearest net it accepts."""
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

import pyneuron as pn                                                      # noqa: E402
from pyneuron.interop_torch import UnsupportedModuleError, from_torch, to_torch   # noqa: E402


def _bn_model():
    return pn.MLP([3, 4, 4, 3], activation=["leaky_relu", "sigmoid"], output="softmax", negative_slope=0.2,
                  dropout=[0.25, 0.0], batch_norm=True, seed=1)


def test_to_torch_writes_one_module_per_setting():
    net = to_torch(_bn_model())
    assert [type(m).__name__ for m in net] == ["Linear", "BatchNorm1d", "LeakyReLU", "Dropout", "Linear",
                                               "BatchNorm1d", "Sigmoid", "Linear", "Softmax"]
    assert net[2].negative_slope == 0.2 and net[3].p == 0.25 and net[8].dim == 1
    plain = to_torch(pn.MLP([2, 3, 3, 1], activation=["tanh", "relu"], output="linear", seed=0))
    assert [type(m).__name__ for m in plain] == ["Linear", "Tanh", "Linear", "ReLU", "Linear"]
    linear_hidden = to_torch(pn.MLP([2, 3, 1], activation="linear", seed=0))
    assert [type(m).__name__ for m in linear_hidden] == ["Linear", "Linear", "Sigmoid"]


def test_to_torch_flags_frozen_parameters_only():
    model = _bn_model().freeze("layer0/W", "layer0/gamma", "layer1/beta")
    net = to_torch(model)
    flags = {k: p.requires_grad for k, p in net.named_parameters()}
    assert flags == {"0.weight": False, "1.weight": False, "1.bias": True, "4.weight": True, "5.weight": True,
                     "5.bias": False, "7.weight": True, "7.bias": True}
    m2 = pn.MLP([2, 3, 1], seed=0).freeze("layer1/b")
    assert {k: p.requires_grad for k, p in to_torch(m2).named_parameters()} == \
        {"0.weight": True, "0.bias": True, "2.weight": True, "2.bias": False}
    back = from_torch(net)
    assert [sorted(layer.frozen) for layer in back.layers] == [["W", "gamma"], ["beta"], []]
    assert [sorted(layer.frozen) for layer in from_torch(to_torch(m2)).layers] == [[], ["b"]]


def test_a_loss_other_than_the_natural_one_travels_as_an_attribute():
    assert not hasattr(to_torch(pn.MLP([2, 3, 1], seed=0)), "pyneuron_loss")
    net = to_torch(pn.MLP([2, 3, 1], loss="mse", seed=0))
    assert net.pyneuron_loss == "mse"
    assert from_torch(net).loss_name == "mse"
    assert from_torch(net, loss="bce").loss_name == "bce"
    bare = nn.Sequential(nn.Linear(2, 1, dtype=torch.float64))
    bare.pyneuron_loss = "mse"
    assert from_torch(bare, output="sigmoid").loss_name == "bce"      # output= ignores the attribute


def test_round_trip_reads_every_setting_back():
    model = _bn_model()
    back = from_torch(to_torch(model))
    assert [(l.activation, l.dropout, l.batch_norm, l.has_bias) for l in back.layers] == \
        [("leaky_relu", 0.25, True, False), ("sigmoid", 0.0, True, False), ("softmax", 0.0, False, True)]
    assert back.negative_slope == 0.2 and back.dtype == np.float64 and back.loss_name == "cce"
    for a, b in zip(model.get_weights(), back.get_weights()):
        np.testing.assert_array_equal(a, b)
    X = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_array_equal(back.predict_proba(X), model.predict_proba(X))


def test_a_net_without_leaky_relu_gets_the_default_slope_and_bias_false_is_kept():
    net = nn.Sequential(nn.Linear(2, 3, bias=False, dtype=torch.float64), nn.ReLU(),
                        nn.Linear(3, 1, dtype=torch.float64))
    model = from_torch(net)
    assert model.negative_slope == 0.01
    assert [l.has_bias for l in model.layers] == [False, True]
    assert model.layers[0].frozen == set() and model.layers[1].frozen == set()
    net[0].weight.requires_grad_(False)
    net[2].bias.requires_grad_(False)
    model = from_torch(net)
    assert model.layers[0].frozen == {"W"} and model.layers[1].frozen == {"b"}


def test_one_linear_with_and_without_activation_and_float32():
    lin = nn.Linear(3, 2)                                    # float32, torch's default
    model = from_torch(nn.Sequential(lin, nn.Softmax(dim=-1)))
    assert model.dtype == np.float32 and [l.activation for l in model.layers] == ["softmax"]
    np.testing.assert_array_equal(model.layers[0].W, lin.weight.detach().numpy())
    assert from_torch(nn.Sequential(nn.Linear(3, 2))).layers[0].activation == "linear"
    assert [l.activation for l in from_torch(nn.Sequential(nn.Linear(3, 2), nn.Identity())).layers] == ["linear"]
    assert from_torch(nn.Sequential(nn.Linear(3, 2), nn.LogSoftmax(dim=1))).output == "softmax"


def _refused(net, position, *words, error=UnsupportedModuleError, **kw):
    with pytest.raises(error) as info:
        from_torch(net, **kw)
    message = str(info.value)
    for word in words:
        assert word in message, (word, message)
    if error is UnsupportedModuleError:
        assert info.value.position == position and info.value.module is net[position]
        assert message.startswith(f"from_torch: module {position} of the Sequential, ")
        assert message.endswith("built from: Linear, BatchNorm1d, Dropout, Identity, Sigmoid, Tanh, ReLU, "
                                "LeakyReLU, Softmax, LogSoftmax.")
    return message


L = nn.Linear


class Custom(nn.Module):
    def forward(self, x):
        return x


@pytest.mark.parametrize("module, hint", [
    (nn.Flatten(), "remove the Flatten"),
    (nn.GELU(), "pyneuron has no such activation"),
    (nn.LayerNorm(3), "pyneuron normalizes only with nn.BatchNorm1d"),
    (nn.BatchNorm2d(3), "pyneuron normalizes only with nn.BatchNorm1d"),
    (nn.Conv1d(1, 1, 1), "fully connected layers only"),
    (nn.Bilinear(3, 3, 3), "fully connected layers only"),
    (Custom(), "remove it, or replace it with a supported module"),
])
def test_unsupported_modules_name_what_to_do(module, hint):
    _refused(nn.Sequential(L(2, 3), module, L(3, 1)), 1, "has no pyneuron counterpart", "What to do: ", hint)


def test_refusals_of_supported_modules_carry_no_generic_hint():
    message = _refused(nn.Sequential(L(2, 3), nn.ReLU(), L(3, 1), nn.BatchNorm1d(1)), 3,
                       "normalizes the output layer")
    assert "What to do" not in message


@pytest.mark.parametrize("modules, position, words", [
    ([nn.ReLU(), L(2, 3)], 0, ["comes before the first Linear"]),
    ([L(2, 3), nn.ReLU(), nn.BatchNorm1d(3), L(3, 1)], 2, ["is not directly after a Linear"]),
    ([L(2, 3), nn.BatchNorm1d(3), nn.BatchNorm1d(3), L(3, 1)], 2, ["is not directly after a Linear"]),
    ([L(2, 3), nn.Dropout(0.1), nn.BatchNorm1d(3), L(3, 1)], 2, ["is not directly after a Linear"]),
    ([L(2, 3), nn.BatchNorm1d(3, affine=False), L(3, 1)], 1, ["needs affine=True"]),
    ([L(2, 3), nn.BatchNorm1d(3, track_running_stats=False), L(3, 1)], 1, ["needs affine=True"]),
    ([L(2, 3), nn.BatchNorm1d(3, momentum=None), L(3, 1)], 1, ["numeric momentum"]),
    ([L(2, 3), nn.Dropout(0.1), nn.Dropout(0.1), L(3, 1)], 2, ["follows another Dropout"]),
    ([L(2, 3), nn.ReLU(), nn.Tanh(), L(3, 1)], 2, ["a second activation in one layer"]),
    ([L(2, 3), nn.Dropout(0.1), nn.ReLU(), L(3, 1)], 2, ["comes after a Dropout"]),
    ([L(2, 3), nn.Softmax(dim=0)], 1, ["normalizes over dim 0", "What to do: use nn.Softmax(dim=1)"]),
    ([L(2, 3), nn.LogSoftmax(dim=0)], 1, ["What to do: use nn.LogSoftmax(dim=1)"]),
    ([L(2, 3), nn.Softmax(dim=1), L(3, 1)], 1, ["softmax in a hidden layer", "What to do: replace it with"]),
    ([L(2, 3), nn.ReLU(), L(3, 1), nn.BatchNorm1d(1)], 3, ["normalizes the output layer"]),
    ([L(2, 3), nn.ReLU(), L(3, 1), nn.Dropout(0.1)], 3, ["follows the output layer"]),
    ([L(2, 3), nn.BatchNorm1d(3), nn.ReLU(), L(3, 3), nn.ReLU(), L(3, 1)], 3, ["has no BatchNorm1d"]),
    ([L(2, 3), nn.ReLU(), L(3, 3), nn.BatchNorm1d(3), nn.ReLU(), L(3, 1)], 0, ["has no BatchNorm1d"]),
    ([L(2, 3), nn.LeakyReLU(0.1), L(3, 3), nn.LeakyReLU(0.2), L(3, 1)], 3,
     ["has a different slope from the LeakyReLU at position 1 (0.1)"]),
])
def test_refused_nets_name_the_module_and_position(modules, position, words):
    _refused(nn.Sequential(*modules), position, *words)


@pytest.mark.parametrize("modules", [
    [L(2, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Dropout(0.1), L(3, 3), nn.BatchNorm1d(3), nn.ReLU(), L(3, 1)],
    [L(2, 3), nn.Dropout(0.1), L(3, 1)],
    [L(2, 3), nn.LeakyReLU(0.1), L(3, 3), nn.LeakyReLU(0.1), L(3, 2), nn.Softmax(dim=1)],
    [L(2, 3), nn.ReLU(), L(3, 2), nn.LogSoftmax(dim=-1)],
])
def test_the_nearest_accepted_nets(modules):
    model = from_torch(nn.Sequential(*modules))
    assert model.layers[0].n_in == 2 and len(model.layers) == sum(isinstance(m, nn.Linear) for m in modules)


def test_whole_net_errors():
    with pytest.raises(ValueError, match="holds no Linear layer"):
        from_torch(nn.Sequential())
    with pytest.raises(ValueError, match=r"module 2 of the Sequential, .*expects 4 inputs but the layer "
                                         r"before gives 3"):
        from_torch(nn.Sequential(L(2, 3), nn.ReLU(), L(4, 1)))
    with pytest.raises(ValueError, match=r"every Linear must have the same dtype, got \['torch.float32', "
                                         r"'torch.float64'\]"):
        from_torch(nn.Sequential(L(2, 3), nn.ReLU(), L(3, 1, dtype=torch.float64)))
    with pytest.raises(ValueError, match="pyneuron runs float64 or float32, the Linear layers are torch.float16"):
        from_torch(nn.Sequential(L(2, 3, dtype=torch.float16)))
    with pytest.raises(TypeError, match="sequential: expected a torch.nn.Sequential, got Linear"):
        from_torch(L(2, 3))


def test_output_argument():
    two = nn.Sequential(L(2, 3), nn.ReLU(), L(3, 2))
    assert from_torch(two, output="softmax").output == "softmax"
    assert from_torch(two).output == "linear"
    assert from_torch(nn.Sequential(L(2, 1)), output="sigmoid").output == "sigmoid"
    assert from_torch(nn.Sequential(L(2, 1), nn.Sigmoid()), output="sigmoid").output == "sigmoid"
    for bad in ("relu", 3):
        with pytest.raises(ValueError, match=r"^output: expected 'softmax'"):
            from_torch(two, output=bad)
    with pytest.raises(ValueError, match=r"output='softmax': the Sequential already ends in module 1"):
        from_torch(nn.Sequential(L(2, 2), nn.Sigmoid()), output="softmax")
    with pytest.raises(ValueError, match=r"output='softmax': the last Linear, module 2, has 1 output"):
        from_torch(nn.Sequential(L(2, 3), nn.ReLU(), L(3, 1)), output="softmax")


def test_without_torch_the_error_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match=r"pip install torch==2\.13\.0"):
        to_torch(pn.MLP([2, 3, 1], seed=0))
