"""PyTorch interop: ``MLP.to_torch`` and ``pyneuron.from_torch``.

PyTorch is the oracle here: the same weights must give the same outputs, and
one SGD step in each framework must land on the same weights.
"""
import numpy as np
import pytest

import pyneuron as pn

torch = pytest.importorskip("torch")
nn = torch.nn

from pyneuron.interop_torch import UnsupportedModuleError  # noqa: E402

BACKENDS = pn.available_backends()
HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "linear"]
OUTPUTS = ["sigmoid", "softmax", "linear", "tanh", "relu", "leaky_relu"]


def _random_net(depth, hidden, output, seed, n_in=4, n_out=3, **options):
    rng = np.random.default_rng(seed)
    sizes = [n_in] + [int(n) for n in rng.integers(2, 7, size=depth)] + [n_out]
    model = pn.MLP(sizes, activation=hidden, output=output, seed=seed, negative_slope=0.07, **options)
    # non-zero biases, so that a bias mix-up cannot hide
    model.set_weights([w + rng.normal(scale=0.3, size=w.shape) if w.ndim == 1 else w
                       for w in model.get_weights()])
    return model


def _torch_out(seq, X):
    with torch.no_grad():
        return seq(torch.from_numpy(X)).numpy()


def _as_matrix(p):
    return p.reshape(len(p), -1)


@pytest.mark.parametrize("depth", [0, 1, 3])
@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("output", OUTPUTS)
def test_to_torch_gives_the_same_outputs(depth, hidden, output):
    model = _random_net(depth, hidden, output, seed=depth * 31 + len(hidden) + len(output))
    X = np.random.default_rng(5).normal(size=(11, 4))
    seq = model.to_torch()
    assert isinstance(seq, nn.Sequential)
    assert all(p.dtype == torch.float64 for p in seq.parameters())
    np.testing.assert_allclose(_torch_out(seq, X), _as_matrix(model.predict_proba(X)), rtol=0, atol=1e-12)


@pytest.mark.parametrize("depth", [0, 2])
@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("output", ["sigmoid", "softmax", "linear"])
def test_round_trip_is_exact(depth, hidden, output):
    model = _random_net(depth, hidden, output, seed=3 + depth)
    back = pn.from_torch(model.to_torch())
    assert back.layer_sizes == model.layer_sizes
    assert back.activations == model.activations
    assert back.loss_name == model.loss_name
    assert back.dtype == model.dtype
    for a, b in zip(model.get_weights(), back.get_weights()):
        assert np.array_equal(a, b)
    if "leaky_relu" in model.activations:
        assert back.negative_slope == model.negative_slope


@pytest.mark.parametrize("backend", BACKENDS)
def test_from_torch_matches_a_torch_built_network(backend):
    torch.manual_seed(0)
    seq = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 6), nn.LeakyReLU(0.2),
                        nn.Linear(6, 4), nn.Identity(), nn.Linear(4, 3), nn.Softmax(dim=1)).double()
    model = pn.from_torch(seq, backend=backend, seed=1)
    assert model.activations == ["relu", "leaky_relu", "linear", "softmax"]
    assert model.negative_slope == 0.2 and model.loss_name == "cce"
    X = np.random.default_rng(2).normal(size=(9, 5))
    np.testing.assert_allclose(model.predict_proba(X), _torch_out(seq, X), rtol=0, atol=1e-12)


def test_float32_stays_float32():
    seq = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    model = pn.from_torch(seq)
    assert model.dtype == np.float32 and model.output == "linear" and model.loss_name == "mse"
    again = model.to_torch()
    assert all(p.dtype == torch.float32 for p in again.parameters())
    X = np.random.default_rng(0).normal(size=(6, 3)).astype(np.float32)
    np.testing.assert_allclose(_torch_out(again, X), _torch_out(seq, X), rtol=0, atol=1e-6)


def test_linear_without_bias_reads_as_zero_bias():
    seq = nn.Sequential(nn.Linear(3, 4, bias=False), nn.Sigmoid(), nn.Linear(4, 1), nn.Sigmoid()).double()
    model = pn.from_torch(seq)
    assert np.array_equal(model.layers[0].b, np.zeros(4))
    X = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_allclose(model.predict_proba(X)[:, None], _torch_out(seq, X), rtol=0, atol=1e-12)


def test_batch_norm_and_dropout_carry_over():
    model = pn.MLP([4, 6, 5, 2], activation="tanh", output="softmax", batch_norm=True,
                   dropout=[0.25, 0.1], seed=4)
    X = np.random.default_rng(1).normal(size=(40, 4))
    model.fit(X, (X[:, 0] > 0).astype(int), epochs=3, batch_size=8, optimizer="adam")
    seq = model.to_torch()
    kinds = [type(m).__name__ for m in seq]
    assert kinds == ["Linear", "BatchNorm1d", "Tanh", "Dropout"] * 2 + ["Linear", "Softmax"]
    assert [seq[3].p, seq[7].p] == [0.25, 0.1]
    seq.eval()  # inference: running statistics, no dropout — what predict_proba does
    np.testing.assert_allclose(_torch_out(seq, X), model.predict_proba(X), rtol=0, atol=1e-12)
    back = pn.from_torch(seq)
    assert back.batch_norm and back.dropout == [0.25, 0.1]
    for a, b in zip(model.layers[:-1], back.layers[:-1]):
        for name in ("gamma", "beta", "running_mean", "running_var"):
            assert np.array_equal(getattr(a, name), getattr(b, name))
    np.testing.assert_array_equal(back.predict_proba(X), model.predict_proba(X))


# ---------------------------------------------------------------- one training step
def _torch_loss(name, out, Y):
    if name == "bce":
        return nn.BCELoss()(out, Y)
    if name == "cce":  # cross-entropy on the probabilities the Softmax module gives
        return nn.NLLLoss()(torch.log(out), Y.argmax(dim=1))
    return nn.MSELoss()(out, Y)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("hidden,output,y_kind", [
    ("tanh", "sigmoid", "binary"),
    ("relu", "softmax", "classes"),
    ("leaky_relu", "linear", "real"),
    ("sigmoid", "softmax", "classes"),
    ("linear", "sigmoid", "binary"),
])
def test_one_sgd_step_matches_torch(backend, hidden, output, y_kind):
    rng = np.random.default_rng(7)
    n_out = 3 if y_kind == "classes" else 1
    model = _random_net(2, hidden, output, seed=11, n_out=n_out, backend=backend)
    X = rng.normal(size=(16, 4))
    if y_kind == "binary":
        y = (X[:, 0] + X[:, 1] > 0).astype(float)
    elif y_kind == "classes":
        y = rng.integers(0, 3, size=16)
    else:
        y = X @ np.array([0.5, -1.0, 2.0, 0.1])
    Y = model.encode_y(y, 16)
    seq = model.to_torch()

    lr = 0.3
    model.fit(X, y, epochs=1, batch_size=None, shuffle=False, optimizer=pn.optimizers.SGD(lr=lr))
    sgd = torch.optim.SGD(seq.parameters(), lr=lr)
    sgd.zero_grad()
    loss = _torch_loss(model.loss_name, seq(torch.from_numpy(X)), torch.from_numpy(Y))
    loss.backward()
    sgd.step()

    assert model.history["loss"][0] == pytest.approx(loss.item(), abs=1e-12)
    torch_weights = [p.detach().numpy() for p in seq.parameters()]
    for ours, theirs in zip(model.get_weights(), torch_weights, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)


# ---------------------------------------------------------------- refusals
@pytest.mark.parametrize("modules,position,words", [
    (lambda: [nn.Linear(3, 4), nn.Conv1d(1, 1, 1)], 1, "Conv1d"),
    (lambda: [nn.Linear(3, 4), nn.ReLU(), nn.LayerNorm(4), nn.Linear(4, 1)], 2, "LayerNorm"),
    (lambda: [nn.Linear(3, 4), nn.GELU(), nn.Linear(4, 1)], 1, "GELU"),
    (lambda: [nn.Flatten(), nn.Linear(3, 1)], 0, "before the first Linear"),
    (lambda: [nn.Linear(3, 4), nn.Softmax(dim=1), nn.Linear(4, 2)], 1, "softmax in a hidden layer"),
    (lambda: [nn.Linear(3, 4), nn.ReLU(), nn.Tanh(), nn.Linear(4, 1)], 2, "second activation"),
    (lambda: [nn.Linear(3, 4), nn.LogSoftmax(dim=1), nn.Linear(4, 2)], 1, "softmax in a hidden layer"),
    (lambda: [nn.Linear(3, 2), nn.LogSoftmax(dim=0)], 1, "dim"),
    (lambda: [nn.Linear(3, 2), nn.Softmax(dim=0)], 1, "dim"),
    (lambda: [nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1), nn.Dropout(0.2)], 3, "output layer"),
    (lambda: [nn.Linear(3, 4), nn.ReLU(), nn.BatchNorm1d(4), nn.Linear(4, 1)], 2, "directly after a Linear"),
    (lambda: [nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 1)],
     3, "every hidden layer or on none"),
    (lambda: [nn.Linear(3, 4), nn.LeakyReLU(0.1), nn.Linear(4, 1), nn.LeakyReLU(0.3)], 3, "one negative_slope"),
])
def test_unsupported_modules_are_refused_by_name_and_position(modules, position, words):
    seq = nn.Sequential(*modules())
    with pytest.raises(UnsupportedModuleError, match=f"module {position} of the Sequential") as info:
        pn.from_torch(seq)
    assert words in str(info.value)
    assert info.value.position == position
    assert isinstance(info.value, ValueError)


def test_other_inputs_are_refused():
    with pytest.raises(TypeError, match="torch.nn.Sequential"):
        pn.from_torch(nn.Linear(3, 1))
    with pytest.raises(ValueError, match="no Linear"):
        pn.from_torch(nn.Sequential())
    with pytest.raises(ValueError, match="expects 5 inputs"):
        pn.from_torch(nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(5, 1)))


def test_missing_torch_gives_install_hint(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_torch(name, *args, **kwargs):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("No module named 'torch'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    with pytest.raises(ImportError, match="pip install torch"):
        pn.MLP([2, 3, 1], seed=0).to_torch()
