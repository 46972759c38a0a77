"""PyTorch as an independent oracle: forward, loss and gradients of random
nets (several depths and activations; bce / cce / mse) match ``torch.nn``
built by hand in float64, to 1e-10. Skips cleanly without torch."""
from __future__ import annotations

import numpy as np
import pytest

from pyneuron import MLP

from helpers import assert_close

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

CASES = [
    # layer sizes, hidden activation(s), output, loss
    ([4, 3], [], "sigmoid", "bce"),
    ([3, 5, 1], "relu", "sigmoid", "bce"),
    ([3, 6, 4, 3], ["tanh", "leaky_relu"], "softmax", "cce"),
    ([2, 8, 8, 8, 2], "sigmoid", "linear", "mse"),
    ([5, 7, 2], "leaky_relu", "sigmoid", "bce"),
    ([3, 4, 4, 2], ["linear", "relu"], "tanh", "mse"),
    ([3, 10, 4], "tanh", "softmax", "cce"),
    ([3, 6, 3], "relu", "softmax", "bce"),
]


def torch_net(model):
    """An nn.Sequential with the model's weights, built by hand."""
    mods = []
    for layer in model.layers:
        lin = nn.Linear(layer.n_in, layer.n_out).double()
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(layer.W))   # both (n_out, n_in)
            lin.bias.copy_(torch.from_numpy(layer.b))
        mods.append(lin)
        mods.append({"sigmoid": nn.Sigmoid(), "tanh": nn.Tanh(), "relu": nn.ReLU(),
                     "leaky_relu": nn.LeakyReLU(model.negative_slope), "linear": nn.Identity(),
                     "softmax": nn.Softmax(dim=1)}[layer.activation])
    return nn.Sequential(*mods)


def torch_loss(loss, A, Y):
    if loss == "mse":
        return F.mse_loss(A, Y)                      # mean over every element
    if loss == "bce":
        return F.binary_cross_entropy(A, Y)          # mean over every element
    return -(Y * torch.log(A)).sum() / A.shape[0]    # categorical CE, mean over samples


@pytest.mark.parametrize("sizes, hidden, output, loss", CASES)
@pytest.mark.parametrize("seed", [0, 1])
def test_matches_torch(backend, sizes, hidden, output, loss, seed):
    rng = np.random.default_rng(100 + seed)
    model = MLP(sizes, activation=hidden, output=output, loss=loss, seed=seed,
                backend=backend, negative_slope=0.05)
    for layer in model.layers:
        layer.b[...] = rng.normal(0, 0.2, layer.b.shape)
    m, k = 7, sizes[-1]
    X = rng.standard_normal((m, sizes[0]))
    if loss == "cce":
        y = rng.integers(0, k, m)
        Y = np.eye(k)[y]
    elif loss == "bce":
        Y = (rng.random((m, k)) < 0.5).astype(float) if output == "sigmoid" else np.eye(k)[rng.integers(0, k, m)]
        y = Y[:, 0] if k == 1 else Y
    else:
        Y = rng.standard_normal((m, k))
        y = Y

    net = torch_net(model)
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    At = net(Xt)
    Lt = torch_loss(loss, At, Yt)
    Lt.backward()

    A = model.forward(X)
    assert_close(A, At.detach().numpy(), rtol=1e-10, atol=1e-12, what="forward")
    assert abs(model.loss(X, y) - Lt.item()) <= 1e-10 * max(1.0, abs(Lt.item()))
    grads = model.gradients(X, y)
    linears = [mod for mod in net if isinstance(mod, nn.Linear)]
    for i, lin in enumerate(linears):
        tW, tb = lin.weight.grad.numpy(), lin.bias.grad.numpy()
        scale = max(1.0, np.abs(tW).max(), np.abs(tb).max())
        assert_close(grads[2 * i], tW, rtol=1e-10, atol=1e-12 * scale, what=f"dW{i + 1}")
        assert_close(grads[2 * i + 1], tb, rtol=1e-10, atol=1e-12 * scale, what=f"db{i + 1}")


def test_one_sgd_step_matches_torch(backend):
    rng = np.random.default_rng(5)
    model = MLP([3, 5, 3], activation="tanh", output="softmax", seed=2, backend=backend)
    X, y = rng.standard_normal((6, 3)), rng.integers(0, 3, 6)
    net = torch_net(model)
    opt = torch.optim.SGD(net.parameters(), lr=0.3)
    loss = torch_loss("cce", net(torch.from_numpy(X)), torch.from_numpy(np.eye(3)[y]))
    loss.backward()
    opt.step()
    model.fit(X, y, epochs=1, batch_size=None, lr=0.3, shuffle=False)
    torch_weights = [p.detach().numpy() for p in net.parameters()]
    for mine, theirs in zip(model.get_weights(), torch_weights):
        assert_close(mine, theirs, rtol=1e-10, atol=1e-13)
