"""Lesson 13 — graduating to PyTorch: the same network exported with to_torch, trained in
torch, then data-parallel over two processes (DistributedDataParallel), and brought back
with from_torch, where it has the single-process run's weights to rounding.

Needs PyTorch (``pip install torch``); everything runs on the CPU of this machine: two
processes talking over the loopback address (torch.distributed's gloo backend)."""
from __future__ import annotations

import importlib
import multiprocessing
import os
import socket
import sys
import tempfile

import numpy as np

import pyneuron as pn

from ._common import heading, note, parse, parser

#: How many processes share the training (each one a "rank" of the group).
WORLD_SIZE = 2


def import_torch():
    """torch, or an ImportError that says how to install it."""
    try:
        import torch
    except ImportError:
        raise ImportError("lesson graduating needs PyTorch, which is not installed: pip install torch") from None
    return torch


def batch_orders(epochs, n):
    """The order of the rows in every epoch, from a generator seeded with the epoch (1, 2, ...):
    every process draws the same orders without talking to the others, and pyneuron's ``fit``
    can be given the same ones (``shuffle=lambda epoch, n: ...``)."""
    return [np.random.default_rng(epoch).permutation(n) for epoch in range(1, epochs + 1)]


def train_in_torch(net, X, y, epochs, batch_size, lr, rank=0, world_size=1):
    """SGD on the binary cross-entropy of ``net``'s sigmoid output, ``batch_size`` rows per step.

    With ``world_size`` processes, process ``rank`` takes every ``world_size``-th row of each
    batch (rows ``rank``, ``rank + world_size``, ...) and computes the mean loss of its share.
    ``DistributedDataParallel`` averages the processes' gradients during ``backward``, so
    with equal shares the step is the one a single process takes on the whole batch: the mean
    of the shares' mean gradients is the batch's mean gradient."""
    torch = import_torch()
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    loss_fn = torch.nn.BCELoss()
    X, y = torch.from_numpy(X), torch.from_numpy(y)
    for order in batch_orders(epochs, len(X)):
        for start in range(0, len(X), batch_size):
            rows = torch.from_numpy(order[start:start + batch_size][rank::world_size])
            optimizer.zero_grad()
            loss = loss_fn(net(X[rows])[:, 0], y[rows])
            loss.backward()              # under DDP: gradients averaged across the processes here
            optimizer.step()
    return net


def train_rank(rank, world_size, port, model, X, y, epochs, batch_size, lr, path):
    """What each of the processes runs: join the group, export its copy of the pyneuron
    ``model`` with ``to_torch``, wrap it in ``DistributedDataParallel``, train on its share of
    every batch, and (rank 0) write the trained parameters to ``path`` as NumPy arrays under
    torch's names.

    Each process builds its own torch module from the model's NumPy arrays: a torch module
    handed to ``spawn`` would travel through shared memory, and both processes would then
    step the same parameters."""
    torch = import_torch()
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel
    torch.set_num_threads(1)             # two processes on a shared CPU: one thread each
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world_size)
    try:
        net = model.to_torch()
        ddp = DistributedDataParallel(net)   # copies rank 0's parameters to every process first
        train_in_torch(ddp, X, y, epochs, batch_size, lr, rank, world_size)
        if rank == 0:
            np.savez(path, **{key: t.detach().numpy() for key, t in net.state_dict().items()})
        # Leave together: a process that exits while another still holds its end of the
        # connection (rank 0 writing the file) can make gloo abort that other process.
        dist.barrier()
    finally:
        dist.destroy_process_group()
    if multiprocessing.current_process().name != "MainProcess":
        # A spawned process leaves at once, its output flushed: gloo's threads can abort
        # it in C++'s teardown at exit ("terminate called without an active exception").
        sys.stdout.flush(), sys.stderr.flush()
        os._exit(0)


def free_port():
    """A TCP port nobody listens on right now, for the processes to meet at."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def importable(function):
    """``function`` as the spawned processes can import it: a process started by ``spawn``
    finds its function by module and name, and a notebook's cells are no module, so in a
    notebook the processes run this lesson module's copy of the same function."""
    if function.__module__ == "__main__":
        return getattr(importlib.import_module("pyneuron.lessons.graduating"), function.__name__)
    return function


def largest_difference(a, b):
    """The largest absolute difference between two models' parameters."""
    return max(float(np.max(np.abs(p - q))) for p, q in zip(a.get_weights(), b.get_weights()))


def main(argv=None):
    args = parse(parser(__doc__), argv, __name__)
    torch = import_torch()
    threads = torch.get_num_threads()    # given back at the end, for the script or notebook that ran this
    torch.set_num_threads(1)
    epochs, batch_size, lr = (15 if args.fast else 60), 32, 0.5
    X, y = pn.datasets.make_moons(256, noise=0.15, seed=13)
    X_test, y_test = pn.datasets.make_moons(512, noise=0.15, seed=14)
    scaler = pn.datasets.Standardizer().fit(X)
    X, X_test = scaler.transform(X), scaler.transform(X_test)
    y = y.astype(np.float64)

    heading("The network, built in pyneuron and exported with to_torch")
    model = pn.MLP([2, 16, 16, 1], activation="tanh", output="sigmoid", seed=13, backend=args.backend)
    net = model.to_torch()
    print(net)
    print("  its parameters, under torch's names (model.state_dict() gives the same):")
    for key, value in net.state_dict().items():
        print(f"    {key:10s} {tuple(value.shape)}")
    with torch.no_grad():
        exported = net(torch.from_numpy(X_test))[:, 0].numpy()
    export_difference = float(np.max(np.abs(exported - model.predict_proba(X_test))))
    print(f"  torch's outputs vs pyneuron's on {len(X_test)} test points: largest difference "
          f"{export_difference:.1e}")

    heading(f"Trained in torch: one process, SGD lr {lr}, batches of {batch_size}, {epochs} epochs")
    single = train_in_torch(model.to_torch(), X, y, epochs, batch_size, lr)
    single_model = pn.from_torch(single, backend=args.backend)
    print(f"  test accuracy after bringing it back with from_torch: {single_model.score(X_test, y_test):.3f}")
    in_pyneuron = pn.MLP([2, 16, 16, 1], activation="tanh", output="sigmoid", seed=13, backend=args.backend)
    orders = batch_orders(epochs, len(X))
    in_pyneuron.fit(X, y, epochs=epochs, batch_size=batch_size, optimizer=pn.optimizers.SGD(lr=lr),
                    shuffle=lambda epoch, n: orders[epoch - 1])
    pyneuron_difference = largest_difference(in_pyneuron, single_model)
    print(f"  the same steps taken by pyneuron's fit (same batches): largest weight difference "
          f"{pyneuron_difference:.1e}")

    heading(f"Data-parallel: {WORLD_SIZE} processes, each with half of every batch")
    assert len(X) % batch_size == 0 and batch_size % WORLD_SIZE == 0, "equal shares in every step"
    print(f"  each process: rows rank, rank + {WORLD_SIZE}, ... of each batch of {batch_size}; "
          f"DistributedDataParallel averages the {WORLD_SIZE} gradients in every backward")
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "rank0.npz")
        torch.multiprocessing.spawn(importable(train_rank), nprocs=WORLD_SIZE, join=True, args=(
            WORLD_SIZE, free_port(), model, X, y, epochs, batch_size, lr, path))
        with np.load(path) as saved:
            trained = {key: torch.from_numpy(saved[key]) for key in saved.files}
    parallel = model.to_torch()
    parallel.load_state_dict(trained)
    parallel_model = pn.from_torch(parallel, backend=args.backend)

    heading("Brought back with from_torch: the parallel run against the single-process one")
    parallel_difference = largest_difference(parallel_model, single_model)
    agreement = float(np.mean(parallel_model.predict(X_test) == single_model.predict(X_test)))
    accuracy = parallel_model.score(X_test, y_test)
    print(f"  largest weight difference {parallel_difference:.1e} (rounding: the two halves' gradients "
          f"are summed in another order than one batch's)")
    print(f"  same predicted class on {agreement:.0%} of the test points; test accuracy {accuracy:.3f}")
    note("batch norm would differ: each process normalizes by its own half's statistics unless the "
         "net uses torch.nn.SyncBatchNorm; dropout masks differ per process too.")
    torch.set_num_threads(threads)
    return {"export_difference": export_difference, "pyneuron_difference": pyneuron_difference,
            "parallel_difference": parallel_difference, "agreement": agreement, "accuracy": accuracy,
            "single_accuracy": single_model.score(X_test, y_test)}


if __name__ == "__main__":
    main()
