"""A checkpoint moves either way: torch's ``state_dict`` into a pyneuron MLP, and
pyneuron's ``state_dict`` into a torch ``Sequential`` written by hand (torch is the
oracle for the names and for the outputs)."""
import numpy as np
import pytest

import pyneuron as pn

torch = pytest.importorskip("torch")
nn = torch.nn


def _torch_out(seq, X):
    seq.eval()
    with torch.no_grad():
        return seq(torch.from_numpy(X)).numpy()


OPTIONS = [
    dict(),
    dict(batch_norm=True),
    dict(batch_norm=True, bias=True, dropout=[0.5, 0.1]),
    dict(bias=False, output="linear"),
    dict(bias=[True, False, True], activation=["leaky_relu", "linear"], negative_slope=0.2),
    dict(dtype="float32", output="softmax", dropout=0.25),
    dict(activation="sigmoid", output="tanh", batch_norm=True, dtype="float32"),
]


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "defaults")
def test_names_and_values_are_those_of_the_exported_sequential(options):
    options = {"output": "softmax", **options}
    model = pn.MLP([3, 5, 4, 2], seed=1, **options)
    if model.batch_norm:
        X = np.random.default_rng(0).normal(size=(16, 3))
        model.fit(X, (X[:, 0] > 0).astype(int) if model.is_classifier else X[:, :2], epochs=1, batch_size=4)
    ours = model.state_dict()
    theirs = model.to_torch().state_dict()
    assert list(ours) == list(theirs)
    for key, value in theirs.items():
        assert ours[key].dtype == value.numpy().dtype, key
        np.testing.assert_array_equal(ours[key], value.numpy(), err_msg=key)


def _torch_net():
    torch.manual_seed(3)
    return nn.Sequential(nn.Linear(4, 6, bias=False), nn.BatchNorm1d(6), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(6, 5, bias=False), nn.BatchNorm1d(5), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(5, 3)).double()


def _data(n=64):
    rng = np.random.default_rng(8)
    X = rng.normal(size=(n, 4))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)
    return X, y


@pytest.fixture(scope="module")
def trained_torch_net():
    X, y = _data()
    net = _torch_net()
    optim = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    net.train()
    for _ in range(20):      # trained: weights, running statistics and num_batches_tracked all moved
        optim.zero_grad()
        nn.CrossEntropyLoss()(net(torch.from_numpy(X)), torch.from_numpy(y)).backward()
        optim.step()
    return net


@pytest.mark.parametrize("backend", pn.available_backends())
def test_a_torch_checkpoint_loads_into_pyneuron(backend, trained_torch_net):
    X, y = _data()
    net = trained_torch_net
    checkpoint = net.state_dict()
    assert int(checkpoint["1.num_batches_tracked"]) == 20
    model = pn.MLP([4, 6, 5, 3], activation="relu", output="softmax", batch_norm=True, dropout=0.2,
                   seed=0, backend=backend)
    assert model.load_state_dict(checkpoint) == ([], [])        # tensors, as torch gives them
    logits = _torch_out(net, X)
    probs = torch.softmax(torch.from_numpy(logits), dim=1).numpy()
    np.testing.assert_allclose(model.predict_proba(X), probs, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(model.predict(X), logits.argmax(axis=1))
    np.testing.assert_array_equal(model.layers[0].running_var, checkpoint["1.running_var"].numpy())


def test_a_pyneuron_checkpoint_loads_into_a_torch_net_written_by_hand():
    X, y = _data()
    model = pn.MLP([4, 6, 5, 3], activation="relu", output="linear", batch_norm=True, dropout=0.2, seed=5)
    model.fit(X, np.eye(3)[y], epochs=5, batch_size=16, optimizer="adam", lr=0.01)
    net = nn.Sequential(nn.Linear(4, 6, bias=False), nn.BatchNorm1d(6), nn.ReLU(), nn.Dropout(0.2),
                        nn.Linear(6, 5, bias=False), nn.BatchNorm1d(5), nn.ReLU(), nn.Dropout(0.2),
                        nn.Linear(5, 3)).double()
    result = net.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()}, strict=True)
    assert list(result.missing_keys) == [] and list(result.unexpected_keys) == []
    np.testing.assert_allclose(_torch_out(net, X), model.predict(X), rtol=0, atol=1e-12)


def test_float32_tensors_with_grad_load_into_a_float64_model():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1), nn.Sigmoid())   # float32, requires_grad
    model = pn.MLP([2, 3, 1], activation="tanh", seed=0)
    model.load_state_dict(dict(net.named_parameters()))
    assert model.layers[0].W.dtype == np.float64
    np.testing.assert_array_equal(model.layers[0].W, net[0].weight.detach().numpy().astype(np.float64))
    X = np.random.default_rng(1).normal(size=(7, 2)).astype(np.float32)
    np.testing.assert_allclose(model.predict_proba(X), _torch_out(net, X)[:, 0], rtol=0, atol=1e-6)


def test_a_bad_tensor_is_refused_by_key():
    model = pn.MLP([2, 3, 1], seed=0)
    sd = {k: torch.from_numpy(v) for k, v in model.state_dict().items()}
    sd["2.weight"] = torch.tensor([[0.0, float("nan"), 1.0]], dtype=torch.float64)
    with pytest.raises(ValueError, match=r"'2.weight'.*finite"):
        model.load_state_dict(sd)
    sd["2.weight"] = torch.zeros((1, 3), dtype=torch.int64)
    with pytest.raises(TypeError, match=r"'2.weight'.*floating-point"):
        model.load_state_dict(sd)


def test_a_distributed_data_parallel_checkpoint_is_explained():
    """DDP's state_dict puts 'module.' before every name; the error says how to load it."""
    model = pn.MLP([2, 3, 1], seed=0)
    net = model.to_torch()
    prefixed = nn.ModuleDict({"module": net}).state_dict()      # the names DDP's state_dict gives
    assert list(prefixed) == ["module." + k for k in net.state_dict()]
    with pytest.raises(ValueError, match=r"removeprefix\('module\.'\)"):
        model.load_state_dict(prefixed)
    model.load_state_dict({k.removeprefix("module."): v for k, v in prefixed.items()})
