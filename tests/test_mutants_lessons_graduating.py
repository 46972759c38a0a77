"""Lesson 13 (pyneuron.lessons.graduating) beyond test_torch_lesson_graduating and the key
results: what the mutation run (.ci/mutation.py pyneuron/lessons/graduating.py, issue 15
item 10) needs — each epoch's order from its own seed, ``train_in_torch`` against SGD on the
binary cross-entropy written out here (whole batches and one process's share), one process
of ``train_rank`` in a group of one, the free port, and ``main`` with its two processes
replaced by the step they must equal (one process on whole batches): the weights it trains
against a torch loop written out here from the lesson's stated settings, and every line
it prints. The real two-process run is test_examples' test_13_graduating."""
from __future__ import annotations

import socket
import sys

import numpy as np
import pytest

import pyneuron as pn
from pyneuron.lessons import graduating


def test_without_torch_the_message_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError) as caught:
        graduating.import_torch()
    assert str(caught.value) == "lesson graduating needs PyTorch, which is not installed: pip install torch"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_each_epochs_order_comes_from_a_generator_seeded_with_the_epoch():
    orders = graduating.batch_orders(3, 7)
    assert len(orders) == 3
    for epoch, order in zip((1, 2, 3), orders):
        assert order.tolist() == np.random.default_rng(epoch).permutation(7).tolist()
    assert graduating.batch_orders(0, 7) == []


def test_the_world_size():
    assert graduating.WORLD_SIZE == 2


def test_a_free_port_can_be_bound():
    port = graduating.free_port()
    assert isinstance(port, int) and 0 < port < 65536
    try:                                                  # a port the kernel chose: from its ephemeral range
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = map(int, f.read().split())
        assert low <= port <= high
    except FileNotFoundError:
        pass
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


class Weights:
    def __init__(self, *arrays):
        self.arrays = [np.asarray(a, dtype=float) for a in arrays]

    def get_weights(self):
        return self.arrays


def test_largest_difference_over_every_parameter():
    a = Weights([[1.0, 2.0]], [0.5], [[3.0]])
    b = Weights([[1.5, 2.0]], [0.5], [[2.25]])             # differences 0.5 and -0.75 (in the last array)
    assert graduating.largest_difference(a, b) == 0.75
    assert graduating.largest_difference(b, a) == 0.75
    assert graduating.largest_difference(a, a) == 0.0


# ---------------------------------------------------------------------------- train_in_torch
def sgd_on_bce(W, b, X, y, epochs, batch_size, lr, rank=0, world_size=1):
    """One sigmoid unit trained by hand: p = σ(X wᵀ + b), the mean BCE gradient of each batch's
    share (X_sᵀ (p − y) / m), w ← w − lr g."""
    W, b = W.copy(), b.copy()
    for epoch in range(1, epochs + 1):
        order = np.random.default_rng(epoch).permutation(len(X))
        for start in range(0, len(X), batch_size):
            rows = order[start:start + batch_size][rank::world_size]
            p = 1 / (1 + np.exp(-(X[rows] @ W.T + b)))[:, 0]
            err = (p - y[rows]) / len(rows)
            W -= lr * (err @ X[rows])[None, :]
            b -= lr * err.sum(keepdims=True)
    return W, b


@pytest.mark.parametrize("rank, world_size", [(0, 1), (0, 2), (1, 2), (2, 3)])
def test_train_in_torch_is_sgd_on_the_share_of_each_batch(rank, world_size):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    X, y = rng.normal(size=(10, 3)), (rng.random(10) > 0.5).astype(np.float64)
    W, b = rng.normal(size=(1, 3)), rng.normal(size=1)
    net = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Sigmoid()).double()
    with torch.no_grad():
        net[0].weight.copy_(torch.from_numpy(W))
        net[0].bias.copy_(torch.from_numpy(b))
    kwargs = {} if (rank, world_size) == (0, 1) else {"rank": rank, "world_size": world_size}
    assert graduating.train_in_torch(net, X, y, 2, 4, 0.5, **kwargs) is net      # 10 rows: batches 4, 4, 2
    W_hand, b_hand = sgd_on_bce(W, b, X, y, 2, 4, 0.5, rank, world_size)
    np.testing.assert_allclose(net[0].weight.detach().numpy(), W_hand, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(net[0].bias.detach().numpy(), b_hand, rtol=1e-12, atol=1e-14)


def test_one_rank_in_a_group_of_one_writes_what_one_process_trains(tmp_path):
    torch = pytest.importorskip("torch")
    X, y = pn.datasets.make_moons(16, noise=0.1, seed=0)
    y = y.astype(np.float64)
    model = pn.MLP([2, 3, 1], activation="tanh", output="sigmoid", seed=1)
    path = tmp_path / "rank0.npz"
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        graduating.train_rank(0, 1, graduating.free_port(), model, X, y, 2, 4, 0.5, str(path))
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(threads)
    import torch.distributed as dist
    assert not dist.is_initialized()                         # the group is left
    expected = graduating.train_in_torch(model.to_torch(), X, y, 2, 4, 0.5).state_dict()
    with np.load(path) as saved:
        assert sorted(saved.files) == sorted(expected)
        for key, value in expected.items():
            np.testing.assert_allclose(saved[key], value.numpy(), rtol=1e-13, atol=1e-15)


# ---------------------------------------------------------------------------- main
def hand_trained(torch):
    """The lesson's single-process run, from its stated settings: moons (256 training rows,
    noise 0.15, seed 13; 512 test rows, seed 14), standardized by the training rows' mean and
    population deviation, a 2-16-16-1 tanh net with a sigmoid output (pyneuron seed 13),
    15 epochs (--fast) of batches of 32 in each epoch's seeded order, SGD lr 0.5 on the mean
    binary cross-entropy, the update written out."""
    X, y = pn.datasets.make_moons(256, noise=0.15, seed=13)
    X_test, y_test = pn.datasets.make_moons(512, noise=0.15, seed=14)
    mean, scale = X.mean(axis=0), X.std(axis=0)
    X, X_test = (X - mean) / scale, (X_test - mean) / scale
    net = pn.MLP([2, 16, 16, 1], activation="tanh", output="sigmoid", seed=13).to_torch()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y.astype(np.float64))
    for epoch in range(1, 16):
        order = np.random.default_rng(epoch).permutation(256)
        for start in range(0, 256, 32):
            rows = torch.from_numpy(order[start:start + 32])
            p = net(Xt[rows])[:, 0]
            loss = -(yt[rows] * torch.log(p) + (1 - yt[rows]) * torch.log(1 - p)).mean()
            grads = torch.autograd.grad(loss, list(net.parameters()))
            with torch.no_grad():
                for param, grad in zip(net.parameters(), grads):
                    param -= 0.5 * grad
    with torch.no_grad():
        accuracy = float(np.mean((net(torch.from_numpy(X_test))[:, 0].numpy() >= 0.5) == y_test))
    return net, accuracy


@pytest.fixture
def one_process(monkeypatch):
    """main with its two processes replaced by the step they must equal: one process on
    whole batches (DDP's averaged gradient), written where rank 0 writes; and the calls of
    train_in_torch and spawn recorded."""
    torch = pytest.importorskip("torch")
    calls = {"train": [], "spawn": [], "moons": [], "nets": []}
    real_train, real_moons = graduating.train_in_torch, pn.datasets.make_moons

    def train(net, X, y, epochs, batch_size, lr, *rest):
        calls["train"].append(((len(X), epochs, batch_size, lr) + rest, torch.get_num_threads()))
        calls["nets"].append(net)
        return real_train(net, X, y, epochs, batch_size, lr, *rest)

    def moons(*args, **kwargs):
        calls["moons"].append((args, kwargs))
        return real_moons(*args, **kwargs)

    def spawn(function, nprocs, join, args):
        world_size, port, model, X, y, epochs, batch_size, lr, path = args
        calls["spawn"].append((function, nprocs, join, world_size, type(port), len(X), epochs, batch_size, lr))
        net = real_train(model.to_torch(), X, y, epochs, batch_size, lr)
        np.savez(path, **{key: t.detach().numpy() for key, t in net.state_dict().items()})

    monkeypatch.setattr(graduating, "train_in_torch", train)
    monkeypatch.setattr(pn.datasets, "make_moons", moons)
    monkeypatch.setattr(torch.multiprocessing, "spawn", spawn)
    return torch, calls


def test_main_trains_what_the_lesson_says_and_prints_it(one_process, capsys):
    torch, calls = one_process
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        results = graduating.main(["--fast", "--backend", "numpy"])
        assert torch.get_num_threads() == 2                       # given back
    finally:
        torch.set_num_threads(threads)
    out = capsys.readouterr().out
    assert calls["train"] == [((256, 15, 32, 0.5), 1)]              # one thread while it trains
    assert calls["spawn"] == [(graduating.train_rank, 2, True, 2, int, 256, 15, 32, 0.5)]

    assert calls["moons"] == [((256,), {"noise": 0.15, "seed": 13}), ((512,), {"noise": 0.15, "seed": 14})]
    net, accuracy = hand_trained(torch)
    for trained, by_hand in zip(calls["nets"][0].parameters(), net.parameters(), strict=True):
        np.testing.assert_allclose(trained.detach().numpy(), by_hand.detach().numpy(), rtol=1e-9, atol=1e-12)
    assert results["single_accuracy"] == accuracy == results["accuracy"]
    assert results["export_difference"] < 1e-12 and results["pyneuron_difference"] < 1e-10
    assert results["parallel_difference"] == 0.0 and results["agreement"] == 1.0

    exported = pn.MLP([2, 16, 16, 1], activation="tanh", output="sigmoid", seed=13).to_torch()
    assert str(exported) + "\n" in out
    assert ("  its parameters, under torch's names (model.state_dict() gives the same):\n"
            "    0.weight   (16, 2)\n    0.bias     (16,)\n    2.weight   (16, 16)\n    2.bias     (16,)\n"
            "    4.weight   (1, 16)\n    4.bias     (1,)\n") in out
    assert (f"  torch's outputs vs pyneuron's on 512 test points: largest difference "
            f"{results['export_difference']:.1e}\n") in out
    assert "Trained in torch: one process, SGD lr 0.5, batches of 32, 15 epochs\n" in out
    assert f"  test accuracy after bringing it back with from_torch: {accuracy:.3f}\n" in out
    assert (f"  the same steps taken by pyneuron's fit (same batches): largest weight difference "
            f"{results['pyneuron_difference']:.1e}\n") in out
    assert "Data-parallel: 2 processes, each with half of every batch\n" in out
    assert ("  each process: rows rank, rank + 2, ... of each batch of 32; DistributedDataParallel averages "
            "the 2 gradients in every backward\n") in out
    assert "Brought back with from_torch: the parallel run against the single-process one\n" in out
    assert "  largest weight difference 0.0e+00 (rounding: the two halves' gradients are summed" in out
    assert f"  same predicted class on 100% of the test points; test accuracy {accuracy:.3f}\n" in out
    assert "  note: batch norm would differ: each process normalizes by its own half's statistics" in out


def test_the_full_setting_trains_60_epochs(one_process, monkeypatch):
    torch, calls = one_process
    monkeypatch.setattr(pn.MLP, "fit", lambda self, *a, **k: self)        # pyneuron's copy: not needed here
    threads = torch.get_num_threads()
    try:
        graduating.main(["--backend", "numpy"])
    finally:
        torch.set_num_threads(threads)
    assert calls["train"][0][0] == (256, 60, 32, 0.5)
    assert calls["spawn"][0][6] == 60
