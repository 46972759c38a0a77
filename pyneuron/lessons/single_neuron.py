"""Lesson 01 — one neuron: a weighted sum, a bias, an activation (seed 004's numbers)."""
from __future__ import annotations

import numpy as np

import pyneuron as pn
from pyneuron import plot

from ._common import heading, note, parse, parser, save


def main(argv=None):
    args = parse(parser(__doc__), argv, __name__)
    backend = args.backend
    heading("A single neuron with three inputs")
    x, w, b = [1.0, 2.0, 3.0], [0.2, 0.8, -0.5], 2.0
    neuron = pn.Neuron(w, b, "sigmoid", backend=backend)
    z = neuron.pre_activation(x)
    print("  z = " + " + ".join(f"{wi}·{xi}" for wi, xi in zip(w, x)) + f" + {b}")
    print("    = " + " + ".join(f"{wi * xi:.1f}" for wi, xi in zip(w, x)) + f" + {b} = {z:.4f}")
    outputs = {}
    for name in ("sigmoid", "relu", "tanh"):
        for value in (z, -2.0):
            outputs[(name, value)] = pn.Neuron([1.0], 0.0, name, backend=backend).output([value])
    for value in (z, -2.0):
        print(f"  with z = {value:g}:  " + "   ".join(
            f"{name}({value:g}) = {outputs[(name, value)]:.4f}" for name in ("sigmoid", "relu", "tanh")))

    heading("Activations and their derivatives")
    zs = np.array([-3.0, -1.0, 0.0, 1.0, 3.0])
    with pn.use_backend(backend or pn.get_backend()):
        table = {name: (pn.activations.apply(name, zs), pn.activations.derivative(name, zs))
                 for name in ("sigmoid", "relu", "leaky_relu")}
        softmax = pn.activations.apply("softmax", np.array([2.0, 1.0, 0.1]))
    print(f"  {'z':>5} | {'sigmoid':>7} | {'sigmoid′':>8} | {'relu':>4} | {'relu′':>5} | "
          f"{'leaky relu':>10} | {'leaky′':>6}")
    for i, zv in enumerate(zs):
        s, r, lk = table["sigmoid"], table["relu"], table["leaky_relu"]
        print(f"  {zv:5.1f} | {s[0][i]:7.4f} | {s[1][i]:8.4f} | {r[0][i]:4.1f} | {r[1][i]:5.1f} | "
              f"{lk[0][i]:10.4f} | {lk[1][i]:6.2f}")
    print(f"  softmax([2.0, 1.0, 0.1]) = [{', '.join(f'{p:.4f}' for p in softmax)}]  "
          f"(sum {softmax.sum():.4f})")
    note("the tutorial's printed table shows relu(−3) and relu(−1) as −0.0; its own code, "
         "np.maximum(0, z) on integer z, prints 0.0 for both, as here: ReLU of a negative number is 0")
    with pn.use_backend(backend or pn.get_backend()):
        save(args, "activations.png", lambda p: plot.plot_activations(path=p))
    return {"z": z, "outputs": outputs, "table": {k: (v[0].tolist(), v[1].tolist()) for k, v in table.items()},
            "softmax": softmax.tolist()}


if __name__ == "__main__":
    main()
