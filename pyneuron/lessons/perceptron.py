"""Lesson 08 — the perceptron (seed 004): one neuron draws one straight line.
It learns AND and OR; XOR needs two lines, so it cannot (lesson 03 adds them)."""
from __future__ import annotations

import numpy as np

import pyneuron as pn
from pyneuron import plot

from ._common import heading, parse, parser, progress, save

GATES = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "XOR": [0, 1, 1, 0]}


def main(argv=None):
    args = parse(parser(__doc__), argv, __name__)
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    epochs = 1000 if args.fast else 5000
    heading(f"One sigmoid neuron, full-batch gradient descent at lr 1.0, {epochs} epochs")
    results = {}
    for gate, targets in GATES.items():
        y = np.array(targets)
        model = pn.MLP([2, 1], output="sigmoid", seed=0, backend=args.backend)
        model.fit(X, y, epochs=epochs, batch_size=None, lr=1.0, callbacks=progress(model, epochs, gate))
        predicted = model.predict(X)
        accuracy = model.score(X, y)
        (w1, w2), b = model.layers[0].W[0], model.layers[0].b[0]
        results[gate] = {"accuracy": accuracy, "weights": [float(w1), float(w2)], "bias": float(b)}
        print(f"  {gate:<4} targets {targets}  predicts {predicted.tolist()}  accuracy {accuracy:.0%}   "
              f"z = {w1:.2f}·x₁ + {w2:.2f}·x₂ + {b:.2f}")
        save(args, f"perceptron_{gate.lower()}.png",
             lambda p, model=model, y=y, gate=gate: plot.plot_decision_boundary(
                 model, X, y, path=p, resolution=80, title=f"one neuron on {gate}"))
    print("  XOR's ones sit on one diagonal and its zeros on the other: no single line splits them,"
          " so at best three of the four points come out right.")
    return results


if __name__ == "__main__":
    main()
