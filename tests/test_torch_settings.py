"""``to_torch`` / ``from_torch`` carry every setting of a model, and a torch-trained net
keeps training in pyneuron as it would have in torch.

Every parameter of ``MLP``'s constructor has a case below (a test checks the list is
complete), and each case is read on the torch side (the module's own attributes, torch
being the oracle) and on the way back (the rebuilt model's settings and outputs).
"""
import inspect

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pyneuron as pn

torch = pytest.importorskip("torch")
nn = torch.nn

SIZES = [3, 5, 4, 2]

#: One case per constructor option (several for the options with several meanings).
CASES = {
    "activation": [dict(activation="tanh"), dict(activation=["sigmoid", "relu"])],
    "output": [dict(output="softmax"), dict(output="linear"), dict(output="tanh")],
    "loss": [dict(output="sigmoid", loss="mse"), dict(output="softmax", loss="bce"),
             dict(output="softmax", loss="mse")],
    "init": [dict(init="xavier")],
    "seed": [dict(seed=7)],
    "backend": [dict(backend=b) for b in pn.available_backends()],
    "negative_slope": [dict(activation="leaky_relu", negative_slope=0.3),
                       dict(activation=["leaky_relu", "tanh"], output="leaky_relu", negative_slope=0.0)],
    "dropout": [dict(dropout=0.4), dict(dropout=[0.0, 0.25])],
    "batch_norm": [dict(batch_norm=True), dict(batch_norm=True, activation="linear")],
    "dtype": [dict(dtype="float32"), dict(dtype="float32", batch_norm=True, dropout=0.1)],
    "bias": [dict(bias=False), dict(bias=[False, True, False]), dict(batch_norm=True, bias=True)],
}
#: Not settings of a network: the sizes are in every case, alpha is negative_slope's old name.
NOT_CASES = {"self", "layer_sizes", "alpha"}


def test_every_constructor_option_has_a_case():
    options = set(inspect.signature(pn.MLP.__init__).parameters) - NOT_CASES
    assert options == set(CASES), f"cases missing for {options - set(CASES)}"


def _model(options):
    return _model_of(SIZES, options)


def _model_of(sizes, options):
    model = pn.MLP(sizes, **options)
    rng = np.random.default_rng(1)
    # weights, biases and statistics away from their initial values, so a mix-up shows
    model.set_weights([w + rng.normal(scale=0.2, size=w.shape) for w in model.get_weights()])
    for layer in model.layers:
        if layer.batch_norm:
            layer.gamma[...] = rng.uniform(0.5, 1.5, layer.n_out)
            layer.beta[...] = rng.normal(size=layer.n_out)
            layer.running_mean[...] = rng.normal(size=layer.n_out)
            layer.running_var[...] = rng.uniform(0.2, 3, layer.n_out)
    return model


def _settings(model):
    return dict(layer_sizes=model.layer_sizes, activations=model.activations, output=model.output,
                loss=model.loss_name, dtype=model.dtype, bias=model.bias, dropout=model.dropout,
                batch_norm=model.batch_norm, frozen=model.frozen,
                bn=[(layer.bn_eps, layer.bn_momentum) for layer in model.layers if layer.batch_norm],
                slope=model.negative_slope if "leaky_relu" in model.activations else None)


def _torch_side(seq):
    """What the Sequential itself says, module by module."""
    said = []
    for m in seq:
        kind = type(m).__name__
        if kind == "Linear":
            said.append((kind, m.in_features, m.out_features, m.bias is not None, m.weight.dtype))
        elif kind == "BatchNorm1d":
            said.append((kind, m.eps, m.momentum))
        elif kind == "LeakyReLU":
            said.append((kind, m.negative_slope))
        elif kind == "Dropout":
            said.append((kind, m.p))
        else:
            said.append((kind,))
    return said


def _expected_torch_side(model):
    """The same list, written from the model's settings by hand."""
    dtype = torch.float64 if model.dtype == np.float64 else torch.float32
    names = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "ReLU", "softmax": "Softmax"}
    said = []
    for i, (n_in, n_out) in enumerate(zip(model.layer_sizes[:-1], model.layer_sizes[1:])):
        layer = model.layers[i]
        said.append(("Linear", n_in, n_out, model.bias[i], dtype))
        if layer.batch_norm:
            said.append(("BatchNorm1d", layer.bn_eps, layer.bn_momentum))
        if layer.activation == "leaky_relu":
            said.append(("LeakyReLU", model.negative_slope))
        elif layer.activation != "linear":
            said.append((names[layer.activation],))
        if i < len(model.dropout) and model.dropout[i]:
            said.append(("Dropout", model.dropout[i]))
    return said


CASE_LIST = [(name, case) for name, cases in CASES.items() for case in cases]


@pytest.mark.parametrize("name,options", CASE_LIST, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASE_LIST)])
def test_every_setting_survives_the_round_trip(name, options):
    model = _model(options)
    for layer in model.layers:          # non-default batch-norm settings, so a default cannot pass
        layer.bn_eps, layer.bn_momentum = 1e-3, 0.25
    seq = model.to_torch()
    assert _torch_side(seq) == _expected_torch_side(model)
    back = pn.from_torch(seq, seed=model.seed, backend=model.backend)
    assert _settings(back) == _settings(model)
    assert back.seed == model.seed and back.backend == model.backend
    for a, b in zip(model.get_weights(), back.get_weights()):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    X = np.random.default_rng(2).normal(size=(9, 3)).astype(model.dtype)
    np.testing.assert_array_equal(back.predict(X), model.predict(X))
    seq.eval()
    with torch.no_grad():
        out = seq(torch.from_numpy(X)).numpy()
    atol = 1e-5 if model.dtype == np.float32 else 1e-12
    proba = model.predict_proba(X)
    np.testing.assert_allclose(out, proba.reshape(len(X), -1), rtol=0, atol=atol)


def test_frozen_parameters_survive_the_round_trip():
    model = _model(dict(batch_norm=True)).freeze("layer0/W", "layer1/gamma", "layer2/b")
    seq = model.to_torch()
    assert [n for n, p in seq.named_parameters() if not p.requires_grad] == ["0.weight", "4.weight", "6.bias"]
    assert pn.from_torch(seq).frozen == ["layer0/W", "layer1/gamma", "layer2/b"]


def test_an_explicit_loss_overrides_the_recorded_one():
    seq = _model(dict(output="sigmoid", loss="mse")).to_torch()
    assert seq.pyneuron_loss == "mse"
    assert pn.from_torch(seq, loss="bce").loss_name == "bce"
    assert not hasattr(_model(dict(output="sigmoid")).to_torch(), "pyneuron_loss")


# ---------------------------------------------------------------- training goes on
def _steps_in_torch(seq, X, Y, steps, lr, momentum=0.0, nesterov=False):
    optim = torch.optim.SGD(seq.parameters(), lr=lr, momentum=momentum, nesterov=nesterov)
    seq.train()
    for _ in range(steps):
        optim.zero_grad()
        nn.MSELoss()(seq(X), Y).backward()
        optim.step()


@pytest.mark.parametrize("backend", pn.available_backends())
@pytest.mark.parametrize("batch_norm", [False, True])
@pytest.mark.parametrize("momentum,nesterov", [(0.0, False), (0.9, False), (0.9, True)])
def test_a_torch_trained_net_keeps_training_in_pyneuron_as_in_torch(backend, batch_norm, momentum, nesterov):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(32, 3))
    Y = np.stack([np.sin(X[:, 0]), X[:, 1] * X[:, 2]], axis=1)
    torch.manual_seed(0)
    modules = [nn.Linear(3, 6, bias=not batch_norm)] + ([nn.BatchNorm1d(6)] if batch_norm else []) + [
        nn.Tanh(), nn.Linear(6, 2)]
    seq = nn.Sequential(*modules).double()
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    _steps_in_torch(seq, Xt, Yt, steps=15, lr=0.1)           # trained in torch ...
    model = pn.from_torch(seq, backend=backend, seed=0)
    _steps_in_torch(seq, Xt, Yt, steps=10, lr=0.1, momentum=momentum, nesterov=nesterov)   # ... torch goes on
    model.fit(X, Y, epochs=10, batch_size=None, shuffle=False,     # ... and so does pyneuron, from the same weights
              optimizer=pn.optimizers.SGD(lr=0.1, momentum=momentum, nesterov=nesterov))
    expected = {k: v.numpy() for k, v in seq.state_dict().items()}
    got = model.state_dict()
    assert list(got) == list(expected)
    for key in expected:
        if key.endswith("num_batches_tracked"):     # pyneuron counts no batches (its state_dict says 0)
            continue
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-10, atol=1e-12, err_msg=key)


@st.composite
def _configurations(draw):
    """Any mix of the settings: sizes, activations, output and loss, slope, dropout, batch norm, bias, dtype."""
    hidden = draw(st.lists(st.integers(1, 4), min_size=0, max_size=3))
    n_out = draw(st.integers(1, 3))
    output = draw(st.sampled_from(["sigmoid", "linear", "tanh", "relu", "leaky_relu"]
                                  + (["softmax"] if n_out > 1 else [])))
    loss = draw(st.sampled_from([None, "mse"] + (["bce"] if output in ("sigmoid", "softmax") else [])))
    return dict(
        layer_sizes=[2] + hidden + [n_out], output=output, loss=loss,
        activation=[draw(st.sampled_from(["sigmoid", "tanh", "relu", "leaky_relu", "linear"])) for _ in hidden],
        negative_slope=draw(st.sampled_from([0.0, 0.01, 0.3])),
        dropout=[draw(st.sampled_from([0.0, 0.5])) for _ in hidden],
        batch_norm=draw(st.booleans()) and bool(hidden),
        bias=draw(st.sampled_from([None, True, False])),
        dtype=draw(st.sampled_from(["float64", "float32"])))


@settings(max_examples=40, deadline=None)
@given(options=_configurations(), eps=st.sampled_from([1e-5, 1e-3]), momentum=st.sampled_from([0.1, 0.0, 1.0]))
def test_generated_configurations_survive_the_round_trip(options, eps, momentum):
    sizes = options.pop("layer_sizes")
    model = _model_of(sizes, options)
    for layer in model.layers:
        layer.bn_eps, layer.bn_momentum = eps, momentum
    back = pn.from_torch(model.to_torch())
    assert _settings(back) == _settings(model)
    for a, b in zip(model.get_weights(), back.get_weights()):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    X = np.random.default_rng(0).normal(size=(5, 2)).astype(model.dtype)
    np.testing.assert_array_equal(back.predict_proba(X), model.predict_proba(X))
