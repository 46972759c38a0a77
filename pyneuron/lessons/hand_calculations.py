"""Lesson 02 — forward and backward passes worked by hand, with pyneuron's
``explain`` doing the arithmetic (seed 003's 2-2-1 sigmoid network and its tanh
exercise; seed 004's 2-3-1 forward pass and 2-2-1 ReLU backward pass)."""
from __future__ import annotations

import numpy as np

import pyneuron as pn
from pyneuron import plot
from pyneuron.explain import explain

from ._common import heading, note, parse, parser, save


def network(sizes, hidden, weights, backend):
    """An MLP with the given ``[W1, b1, W2, b2]`` (W as (n_out, n_in))."""
    model = pn.MLP(sizes, activation=hidden, output="sigmoid", backend=backend)
    model.set_weights([np.asarray(w, dtype=float) for w in weights])
    return model


def main(argv=None):
    args = parse(parser(__doc__), argv, __name__)
    results = {}

    heading("Seed 003: a 2-2-1 sigmoid network, x = [1, 2], y = 1")
    net = network([2, 2, 1], "sigmoid", [[[0.1, 0.2], [0.3, 0.4]], [0.1, 0.2], [[0.5, 0.6]], [0.3]], args.backend)
    e = explain(net, [[1.0, 2.0]], [1], lr=0.1)
    print(e)
    note("the tutorial's backward section quotes z2 ≈ 0.9941 and a2 ≈ 0.7299 in a comment; "
         "its own forward pass (and this one) gives z2 = 1.0943, a2 = 0.7492.")
    results["seed003"] = e
    save(args, "seed003_network.png", lambda p: plot.plot_network(net, path=p))

    heading("Seed 003's exercise: the same shape with tanh, x = [0.5, 0.8]")
    net = network([2, 2, 1], "tanh", [[[0.2, 0.4], [0.6, 0.1]], [0.0, 0.1], [[0.3, 0.7]], [0.2]], args.backend)
    e = explain(net, [[0.5, 0.8]], [1])
    for layer in e.layers:
        print(f"  z[{layer.number}] = {np.round(layer.Z[0], 4).tolist()}   "
              f"a[{layer.number}] = {np.round(layer.A[0], 4).tolist()}")
    note("the tutorial's solution gives z2 = 0.5312 and a2 = 0.6298; its inputs give "
         f"z2 = {e.layers[1].Z[0, 0]:.4f} and a2 = {e.output[0, 0]:.4f} (z1 and a1 agree).")
    results["seed003_tanh"] = e

    heading("Seed 004: a 2-3-1 ReLU network forward, x = [0.5, 0.8]")
    print("  (the tutorial stores W as (inputs, neurons); pyneuron's rows are neurons, so W is transposed here)")
    net = network([2, 3, 1], "relu", [np.array([[0.1, 0.3, -0.2], [0.4, -0.5, 0.6]]).T, [0.1, -0.1, 0.2],
                                      np.array([[0.7], [-0.3], [0.5]]).T, [0.1]], args.backend)
    e = explain(net, [[0.5, 0.8]], [1])
    for i in range(3):
        print(f"  z[1]_{i + 1} = {e.layers[0].z_equation(0, i)}   a[1]_{i + 1} = relu = {e.layers[0].A[0, i]:.4f}")
    print(f"  z[2] = {e.layers[1].z_equation(0, 0)}   ŷ = sigmoid(z[2]) = {e.output[0, 0]:.4f}")
    note("the tutorial prints z1[1] = −0.25, z2 = 0.619 and an output of 0.6498; "
         "0.5·0.3 + 0.8·(−0.5) − 0.1 is −0.35, which gives z2 = 0.719 and 0.6724.")
    results["seed004_forward"] = e

    heading("Seed 004: a 2-2-1 ReLU network, one backward pass, x = [1, 0.5], y = 1")
    net = network([2, 2, 1], "relu", [np.array([[0.3, 0.7], [0.5, -0.2]]).T, [0.1, -0.1],
                                      np.array([[0.6], [-0.4]]).T, [0.2]], args.backend)
    e = explain(net, [[1.0, 0.5]], [1], lr=0.1)
    print(e)
    W1_new = e.layers[0].W_new.T
    print(f"  W1 after, in the tutorial's (inputs, neurons) layout: {np.round(W1_new, 4).tolist()}")
    note(f"the tutorial prints a loss of 0.5173 and W1[0][1] = 0.6838 after the step; its inputs give "
         f"{e.loss:.4f} and {W1_new[0, 1]:.4f}. Its gradients and other weights match.")
    results["seed004_backward"] = e
    return results


if __name__ == "__main__":
    main()
