"""Issue 14, item 1: layers without bias and frozen parameters, on every backend.

Oracles: hand calculations, and PyTorch (``Linear(bias=False)``, ``requires_grad=False``)
trained side by side over whole runs."""
from __future__ import annotations

import numpy as np
import pytest

import pyneuron as pn
from pyneuron import optimizers as O

from helpers import assert_close, require_backend
from test_files_roundtrip import assert_same_state


def data(n=24, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    return X, (X[:, 0] - X[:, 1] * X[:, 2] > 0).astype(float)


# ---------------------------------------------------------------- no bias
def test_a_layer_without_bias_has_no_bias_parameter(backend):
    model = pn.MLP([3, 4, 2, 1], bias=[False, True, False], backend=backend, seed=0)
    # by hand: W 4x3, W 2x4 + b 2, W 1x2
    assert model.n_parameters == 12 + 8 + 2 + 2
    assert [n for n, _ in model.named_parameters()] == ["layer0/W", "layer1/W", "layer1/b", "layer2/W"]
    assert [w.shape for w in model.get_weights()] == [(4, 3), (2, 4), (2,), (1, 2)]
    X, y = data()
    assert [g.shape for g in model.gradients(X, y)] == [(4, 3), (2, 4), (2,), (1, 2)]
    model.fit(X, y, epochs=2, batch_size=8, optimizer=O.Adam(0.05))
    assert len(model.optimizer.state) == 4
    assert np.all(model.layers[0].b == 0) and np.all(model.layers[2].b == 0)


def test_no_bias_computes_x_times_w_transposed(backend):
    model = pn.MLP([2, 1], output="linear", bias=False, backend=backend)
    model.set_weights([np.array([[2.0, -3.0]])])
    # by hand: 2·1 − 3·0.5 = 0.5, 2·(−1) − 3·2 = −8
    assert_close(model.predict(np.array([[1.0, 0.5], [-1.0, 2.0]])), [0.5, -8.0])


def test_bias_argument_is_checked():
    for bad in ("no", [True], [True, 1], 1):
        with pytest.raises(ValueError, match="bias"):
            pn.MLP([2, 3, 1], bias=bad)


def test_set_weights_counts_only_existing_biases():
    model = pn.MLP([2, 3, 1], bias=[False, True])
    with pytest.raises(ValueError, match=r"weights: expected a list of 3 arrays \[W1, W2, \.\.\.\]"):
        model.set_weights([np.zeros((3, 2)), np.zeros(3), np.zeros((1, 3)), np.zeros(1)])


def test_batch_norm_layers_have_no_bias_by_default():
    model = pn.MLP([3, 5, 4, 2], output="softmax", batch_norm=True)
    assert [layer.has_bias for layer in model.layers] == [False, False, True]
    assert [n for n, _ in model.named_parameters()][:3] == ["layer0/W", "layer0/gamma", "layer0/beta"]
    assert [layer.has_bias for layer in pn.MLP([3, 5, 2], batch_norm=True, bias=True).layers] == [True, True]


def test_batch_norm_without_bias_matches_torch(backend):
    """Linear(bias=False) + BatchNorm1d, trained with Adam: the round-off-driven bias of
    the old default is gone, and the run follows torch's to rounding."""
    torch = pytest.importorskip("torch")
    X, y = data(32)
    model = pn.MLP([3, 5, 1], activation="tanh", batch_norm=True, seed=3, backend=backend)
    assert not model.layers[0].has_bias
    net = torch.nn.Sequential(torch.nn.Linear(3, 5, bias=False).double(), torch.nn.BatchNorm1d(5).double(),
                              torch.nn.Tanh(), torch.nn.Linear(5, 1).double())
    with torch.no_grad():
        net[0].weight.copy_(torch.from_numpy(model.layers[0].W))
        net[3].weight.copy_(torch.from_numpy(model.layers[1].W))
        net[3].bias.copy_(torch.from_numpy(model.layers[1].b))
    opt = torch.optim.Adam(net.parameters(), lr=0.02)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y[:, None])
    for _ in range(3):
        for s in range(0, 32, 8):
            opt.zero_grad()
            torch.nn.functional.binary_cross_entropy_with_logits(net(Xt[s:s + 8]), yt[s:s + 8]).backward()
            opt.step()
    model.fit(X, y, epochs=3, batch_size=8, shuffle=False, optimizer=O.Adam(0.02))
    assert_close(model.layers[0].W, net[0].weight.detach().numpy(), rtol=1e-9, atol=1e-12)
    assert_close(model.layers[0].gamma, net[1].weight.detach().numpy(), rtol=1e-9, atol=1e-12)
    assert_close(model.layers[1].W, net[3].weight.detach().numpy(), rtol=1e-9, atol=1e-12)
    assert_close(model.layers[0].running_mean, net[1].running_mean.numpy(), rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------- frozen
def test_freeze_names_and_shorthands():
    model = pn.MLP([2, 3, 3, 1], bias=[True, False, True])
    assert model.freeze("W").frozen == ["layer0/W", "layer1/W", "layer2/W"]
    assert model.unfreeze().freeze("b").frozen == ["layer0/b", "layer2/b"]
    assert model.unfreeze().freeze("layer1", "layer2/b").frozen == ["layer1/W", "layer2/b"]
    assert model.unfreeze("layer1").frozen == ["layer2/b"]
    assert model.trainable_parameters()[-1] is model.layers[2].W
    for bad in ("layer1/b", "layer3", "gamma", "weights", 3):
        with pytest.raises(ValueError, match="freeze"):
            model.freeze(bad)
    assert model.frozen == ["layer2/b"]


def test_frozen_biases_keep_their_values_by_hand(backend):
    """One SGD step, by hand: z = 0.5·2 + 0.35 = 1.35, mse loss (z − 1)² = 0.1225,
    dL/dz = 2·0.35 = 0.7, dW = 0.7·2 = 1.4, W ← 0.5 − 0.1·1.4 = 0.36; b stays 0.35."""
    model = pn.MLP([1, 1], output="linear", backend=backend)
    model.set_weights([np.array([[0.5]]), np.array([0.35])])
    model.freeze("b")
    h = model.fit(np.array([[2.0]]), np.array([1.0]), epochs=1, batch_size=None, lr=0.1)
    assert h["loss"][0] == pytest.approx(0.1225, rel=1e-14)
    assert model.layers[0].W[0, 0] == pytest.approx(0.36, rel=1e-14)
    assert model.layers[0].b[0] == 0.35


def test_blog_post_biases_stay_fixed_while_weights_train(backend):
    """The step-by-step blog post's convention: biases 0.35 and 0.60 never move."""
    model = pn.MLP([2, 2, 2], activation="sigmoid", output="sigmoid", loss="mse", backend=backend, seed=0)
    model.layers[0].b[...] = 0.35
    model.layers[1].b[...] = 0.60
    model.freeze("b")
    W_before = [layer.W.copy() for layer in model.layers]
    model.fit(np.array([[0.05, 0.10]]), np.array([[0.01, 0.99]]), epochs=5, batch_size=None,
              lr=0.5, optimizer=None)
    assert np.all(model.layers[0].b == 0.35) and np.all(model.layers[1].b == 0.60)
    assert all(not np.array_equal(a, layer.W) for a, layer in zip(W_before, model.layers))


@pytest.mark.parametrize("kind", ["sgd-momentum", "adam"])
def test_frozen_and_bias_free_run_matches_torch(backend, kind):
    torch = pytest.importorskip("torch")
    X, y = data(24)
    model = pn.MLP([3, 5, 4, 1], activation="tanh", bias=[False, True, True], seed=1, backend=backend)
    model.freeze("layer1", "layer2/b")
    layers = [torch.nn.Linear(3, 5, bias=False), torch.nn.Linear(5, 4), torch.nn.Linear(4, 1)]
    net = torch.nn.Sequential(layers[0], torch.nn.Tanh(), layers[1], torch.nn.Tanh(), layers[2]).double()
    with torch.no_grad():
        for lin, layer in zip(layers, model.layers):
            lin.weight.copy_(torch.from_numpy(layer.W))
            if lin.bias is not None:
                lin.bias.copy_(torch.from_numpy(layer.b))
    for p in (layers[1].weight, layers[1].bias, layers[2].bias):
        p.requires_grad_(False)
    trainable = [p for p in net.parameters() if p.requires_grad]
    if kind == "adam":
        opt, topt = O.Adam(0.01), torch.optim.Adam(trainable, lr=0.01)
    else:
        opt, topt = O.SGD(0.1, momentum=0.9), torch.optim.SGD(trainable, lr=0.1, momentum=0.9)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y[:, None])
    for _ in range(4):
        for s in range(0, 24, 6):
            topt.zero_grad()
            torch.nn.functional.binary_cross_entropy_with_logits(net(Xt[s:s + 6]), yt[s:s + 6]).backward()
            topt.step()
    frozen_before = [model.layers[1].W.copy(), model.layers[1].b.copy(), model.layers[2].b.copy()]
    model.fit(X, y, epochs=4, batch_size=6, shuffle=False, optimizer=opt)
    assert len(model.optimizer.state) == 2                   # layer0/W and layer2/W only
    for a, b in zip(frozen_before, [model.layers[1].W, model.layers[1].b, model.layers[2].b]):
        np.testing.assert_array_equal(a, b)
    assert_close(model.layers[0].W, layers[0].weight.detach().numpy(), rtol=1e-10, atol=1e-13)
    assert_close(model.layers[2].W, layers[2].weight.detach().numpy(), rtol=1e-10, atol=1e-13)


def test_frozen_gamma_and_beta_stay(backend):
    X, y = data(20)
    model = pn.MLP([3, 4, 1], batch_norm=True, seed=2, backend=backend)
    model.layers[0].gamma[...] = 1.5
    model.freeze("layer0/gamma", "layer0/beta")
    model.fit(X, y, epochs=2, batch_size=5, optimizer=O.Adam(0.05))
    assert np.all(model.layers[0].gamma == 1.5) and np.all(model.layers[0].beta == 0.0)


def test_changing_what_is_frozen_resets_the_optimizer():
    X, y = data()
    model = pn.MLP([3, 4, 1], seed=0)
    model.fit(X, y, epochs=1, optimizer=O.Adam(0.01))
    assert model.optimizer.t > 0
    model.unfreeze("b")                       # nothing was frozen: nothing changes
    assert model.optimizer.t > 0 and len(model.optimizer.state) == 4
    model.freeze("b")
    assert model.optimizer.t == 0 and model.optimizer.state == []


def test_every_backend_agrees_on_a_frozen_bias_free_run():
    X, y = data(30)
    results = {}
    for name in ("scalar", "numpy", "c"):
        if name not in pn.available_backends():
            continue
        model = pn.MLP([3, 6, 1], bias=[False, True], seed=4, backend=name, dropout=0.2)
        model.freeze("layer1/b")
        h = model.fit(X, y, epochs=3, batch_size=7, optimizer=O.RMSprop(0.01))
        results[name] = (h["loss"], model.get_weights())
    ref = results["numpy"]
    for name, (loss, weights) in results.items():
        assert_close(loss, ref[0], rtol=1e-12, what=f"{name} losses")
        for a, b in zip(weights, ref[1]):
            assert_close(a, b, rtol=1e-11, atol=1e-14, what=f"{name} weights")


def test_the_c_plan_fuses_these_conventions_too():
    # layers without bias and frozen parameters run in the fused C step (issue 10); the
    # runs above agree with numpy's per-operation path
    require_backend("c")
    from pyneuron.backends.c_plan import supports
    adam = O.Adam()
    assert supports(pn.MLP([2, 3, 1], backend="c"), adam)
    assert supports(pn.MLP([2, 3, 1], backend="c", batch_norm=True, bias=True), adam)
    assert supports(pn.MLP([2, 3, 1], backend="c", bias=[False, True]), adam)
    assert supports(pn.MLP([2, 3, 1], backend="c").freeze("layer0/W"), adam)
    model = pn.MLP([2, 3, 1], backend="c").freeze("b")
    assert model.kernels.train_plan(model, adam).path == "fused"


# ---------------------------------------------------------------- files and torch
@pytest.mark.parametrize("optimizer", [O.Adam(0.01), O.SGD(0.05, momentum=0.9), O.Adagrad(0.1)],
                         ids=repr)
def test_bias_free_frozen_model_round_trips_bitwise(backend, optimizer, tmp_path):
    X, y = data(20)
    model = pn.MLP([3, 4, 4, 1], bias=[False, True, False], batch_norm=False, seed=8, backend=backend)
    model.freeze("layer1/b", "layer0/W")
    model.fit(X, y, epochs=2, batch_size=5, optimizer=type(optimizer)(**optimizer.get_config()))
    model.save(tmp_path / "m")
    loaded = pn.load(tmp_path / "m")
    assert loaded.frozen == ["layer0/W", "layer1/b"]
    assert [layer.has_bias for layer in loaded.layers] == [False, True, False]
    assert_same_state(model, loaded)
    for m in (model, loaded):
        m.fit(X, y, epochs=2, batch_size=5, optimizer=m.optimizer)
    assert_same_state(model, loaded)


def test_a_file_naming_a_parameter_that_does_not_exist_as_frozen_is_refused(tmp_path):
    import json
    model = pn.MLP([2, 3, 1], bias=[False, True])
    model.save(tmp_path / "m")
    with np.load(tmp_path / "m.npz") as f:
        entries = {k: f[k] for k in f.files}
    arch = json.loads(str(entries["architecture"]))
    for key, value in (("frozen", ["layer0/b"]), ("frozen", "W"), ("bias", [False]), ("bias", [0, 1])):
        bad = dict(arch, **{key: value})
        np.savez(tmp_path / "bad.npz", **dict(entries, architecture=np.array(json.dumps(bad))))
        with pytest.raises(pn.ModelFileError, match=key):
            pn.load(tmp_path / "bad.npz")
    entries["layer0/b"] = np.zeros(3)                        # a bias the record says is absent
    np.savez(tmp_path / "bad.npz", **entries)
    with pytest.raises(pn.ModelFileError, match="layer0/b"):
        pn.load(tmp_path / "bad.npz")


def test_torch_round_trip_keeps_missing_biases_and_frozen_parameters():
    torch = pytest.importorskip("torch")
    model = pn.MLP([3, 4, 2], output="softmax", bias=[False, True], batch_norm=True, seed=0)
    model.freeze("layer1/b", "layer0/gamma")
    net = model.to_torch()
    assert net[0].bias is None and net[0].weight.requires_grad
    assert not net[1].weight.requires_grad and net[1].bias.requires_grad
    linear_out = [m for m in net if isinstance(m, torch.nn.Linear)][-1]
    assert linear_out.bias is not None and not linear_out.bias.requires_grad
    back = pn.from_torch(net)
    assert [layer.has_bias for layer in back.layers] == [False, True]
    assert back.frozen == ["layer0/gamma", "layer1/b"]
    fresh = torch.nn.Sequential(torch.nn.Linear(2, 3, bias=False), torch.nn.ReLU(), torch.nn.Linear(3, 1),
                                torch.nn.Sigmoid()).double()
    assert pn.from_torch(fresh).n_parameters == 6 + 3 + 1
