"""Issue 11: ``from_torch(net, output="softmax"|"sigmoid")`` turns a net ending in a bare
Linear (trained on logits with CrossEntropyLoss / BCEWithLogitsLoss) into a classifier; a
trailing LogSoftmax reads as softmax; errors say what to do. torch is the oracle."""
import numpy as np
import pytest

import pyneuron as pn
from pyneuron.interop_torch import UnsupportedModuleError

torch = pytest.importorskip("torch")
nn = torch.nn


def _trained(modules, loss_fn, X, y, steps=30, seed=0):
    """A float64 Sequential trained a few SGD steps in torch, so its weights are not the initial ones."""
    torch.manual_seed(seed)
    net = nn.Sequential(*modules()).double()
    opt = torch.optim.SGD(net.parameters(), lr=0.3)
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(net(X), y).backward()
        opt.step()
    return net


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 4))
    classes = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5).astype(int)      # 3 classes
    return X, classes


def test_cross_entropy_net_becomes_a_softmax_classifier(backend, data):
    X, classes = data
    Xt, yt = torch.from_numpy(X), torch.from_numpy(classes)
    net = _trained(lambda: [nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3)], nn.CrossEntropyLoss(), Xt, yt)
    model = pn.from_torch(net, output="softmax", backend=backend)
    assert model.output == "softmax" and model.loss_name == "cce" and model.is_classifier
    with torch.no_grad():
        logits = net(Xt)
        expected = torch.softmax(logits, dim=1).numpy()
        expected_loss = nn.CrossEntropyLoss()(logits, yt).item()
    np.testing.assert_allclose(model.predict_proba(X), expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(model.predict(X), logits.argmax(dim=1).numpy())
    assert model.loss(X, classes) == pytest.approx(expected_loss, rel=1e-12)


def test_cross_entropy_gradients_match_torch_so_training_continues_alike(backend, data):
    X, classes = data
    Xt, yt = torch.from_numpy(X), torch.from_numpy(classes)
    net = _trained(lambda: [nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3)], nn.CrossEntropyLoss(), Xt, yt)
    model = pn.from_torch(net, output="softmax", backend=backend)
    net.zero_grad()
    nn.CrossEntropyLoss()(net(Xt), yt).backward()
    expected = [p.grad.numpy() for p in net.parameters()]        # W1, b1, W2, b2 as pyneuron orders them
    for ours, theirs in zip(model.gradients(X, classes), expected, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-13)


def test_bce_with_logits_net_becomes_a_sigmoid_classifier(backend, data):
    X, classes = data
    labels = (classes > 0).astype(float)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(labels).reshape(-1, 1)
    net = _trained(lambda: [nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 1)], nn.BCEWithLogitsLoss(), Xt, yt)
    model = pn.from_torch(net, output="sigmoid", backend=backend)
    assert model.output == "sigmoid" and model.loss_name == "bce"
    with torch.no_grad():
        logits = net(Xt)
        expected_loss = nn.BCEWithLogitsLoss()(logits, yt).item()
    np.testing.assert_allclose(model.predict_proba(X).reshape(-1), torch.sigmoid(logits).numpy().reshape(-1),
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(model.predict(X).reshape(-1), (logits.numpy().reshape(-1) > 0).astype(int))
    assert model.loss(X, labels.astype(int)) == pytest.approx(expected_loss, rel=1e-12)


def test_without_output_a_bare_linear_stays_a_regressor(data):
    X, _ = data
    net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)).double()
    model = pn.from_torch(net)
    assert model.output == "linear" and model.loss_name == "mse"
    with torch.no_grad():
        np.testing.assert_allclose(model.predict(X), net(torch.from_numpy(X)).numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("output", [None, "softmax"])
def test_trailing_log_softmax_is_read_as_softmax(output, data):
    X, classes = data
    Xt, yt = torch.from_numpy(X), torch.from_numpy(classes)
    net = _trained(lambda: [nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3), nn.LogSoftmax(dim=1)],
                   nn.NLLLoss(), Xt, yt)
    model = pn.from_torch(net, output=output)
    assert model.output == "softmax" and model.loss_name == "cce"
    with torch.no_grad():
        log_p = net(Xt)
    np.testing.assert_allclose(model.predict_proba(X), log_p.exp().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(model.predict(X), log_p.argmax(dim=1).numpy())
    assert model.loss(X, classes) == pytest.approx(nn.NLLLoss()(log_p, yt).item(), rel=1e-12)


def test_a_net_already_ending_in_its_activation_accepts_the_same_output(data):
    X, _ = data
    net = nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1)).double()
    assert pn.from_torch(net, output="softmax").output == "softmax"
    net = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid()).double()
    assert pn.from_torch(net, output="sigmoid").output == "sigmoid"


def test_classifier_round_trip_through_torch(data):
    X, classes = data
    model = pn.MLP([4, 5, 3], output="softmax", seed=2)
    model.fit(X, classes, epochs=3, batch_size=10)
    net = model.to_torch()
    back = pn.from_torch(net, output="softmax")
    np.testing.assert_array_equal(back.predict_proba(X), model.predict_proba(X))
    # the same net written by hand without its Softmax (as trained with CrossEntropyLoss)
    logits_net = nn.Sequential(*list(net)[:-1])
    again = pn.from_torch(logits_net, output="softmax")
    np.testing.assert_allclose(again.predict_proba(X), model.predict_proba(X), rtol=1e-14, atol=1e-15)
    np.testing.assert_array_equal(again.predict(X), model.predict(X))


@pytest.mark.parametrize("modules, output, match", [
    (lambda: [nn.Linear(4, 3)], "logits", "output: expected 'softmax'"),
    (lambda: [nn.Linear(4, 3)], "Softmax", "output: expected 'softmax'"),
    (lambda: [nn.Linear(4, 1)], "softmax", "1 output.*output='sigmoid'"),
    (lambda: [nn.Linear(4, 3), nn.Softmax(dim=1)], "sigmoid", "already ends in module 1.*Remove that module"),
    (lambda: [nn.Linear(4, 1), nn.Sigmoid()], "softmax", "already ends in module 1"),
    (lambda: [nn.Linear(4, 3), nn.ReLU()], "softmax", "already ends in module 1"),
])
def test_bad_output_is_explained(modules, output, match):
    with pytest.raises(ValueError, match=match):
        pn.from_torch(nn.Sequential(*modules()).double(), output=output)


@pytest.mark.parametrize("modules, position, advice", [
    (lambda: [nn.Linear(3, 4), nn.GELU(), nn.Linear(4, 1)], 1, "replace it with one of ReLU, LeakyReLU"),
    (lambda: [nn.Linear(3, 4), nn.ReLU6(), nn.Linear(4, 1)], 1, "replace it with one of ReLU, LeakyReLU"),
    (lambda: [nn.Flatten(), nn.Linear(3, 1)], 0, "remove the Flatten"),
    (lambda: [nn.Linear(3, 4), nn.ReLU(), nn.LayerNorm(4), nn.Linear(4, 1)], 2, "nn.BatchNorm1d"),
    (lambda: [nn.Linear(3, 4), nn.Conv1d(1, 1, 1)], 1, "has to stay in torch"),
    (lambda: [nn.Linear(3, 4), nn.PReLU(), nn.Linear(4, 1)], 1, "nn.LeakyReLU(negative_slope="),
    (lambda: [nn.Linear(3, 4), nn.Sequential(nn.ReLU()), nn.Linear(4, 1)], 1, "splice it"),
    (lambda: [nn.Linear(3, 4), nn.ReLU(), nn.AlphaDropout(0.1), nn.Linear(4, 1)], 2, "nn.Dropout(p)"),
    (lambda: [nn.Linear(3, 2), nn.Softmax(dim=0)], 1, "use nn.Softmax(dim=1)"),
    (lambda: [nn.Linear(3, 2), nn.LogSoftmax(dim=0)], 1, "use nn.LogSoftmax(dim=1)"),
    (lambda: [nn.Linear(3, 4), nn.Softmax(dim=1), nn.Linear(4, 2)], 1, "replace it with one of"),
])
def test_unsupported_module_error_says_what_to_do(modules, position, advice):
    with pytest.raises(UnsupportedModuleError, match=f"module {position} of the Sequential") as info:
        pn.from_torch(nn.Sequential(*modules()))
    assert "What to do: " in str(info.value) and advice in str(info.value)


def test_a_module_that_is_not_a_sequential_says_how_to_make_one():
    with pytest.raises(TypeError, match="nn.Sequential"):
        pn.from_torch(nn.Linear(3, 1))
