"""Lesson 09 — vanishing gradients (seed 004): in a deep stack of sigmoid layers
each layer multiplies the gradient by at most 0.25, so the first layers hear
almost nothing; ReLU with He initialization passes the gradient through."""
from __future__ import annotations

import numpy as np

import pyneuron as pn
from pyneuron import plot

from ._common import heading, parse, parser, save


def layer_gradient_norms(model, X, y):
    """‖dW‖ of every layer, first to last, from ``model.gradients``."""
    grads = model.gradients(X, y)
    return [float(np.linalg.norm(g)) for g in grads[::2]]


def main(argv=None):
    args = parse(parser(__doc__), argv, __name__)
    depth, width = 10, 64
    n = 64 if args.fast else 256
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 20))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    sizes = [20] + [width] * (depth - 1) + [1]
    heading(f"{depth} layers of {width}: gradient norm ‖dW‖ per layer on {n} random samples")
    sigmoid = pn.MLP(sizes, activation="sigmoid", output="sigmoid", init="xavier_normal", seed=0,
                     backend=args.backend)
    relu = pn.MLP(sizes, activation="relu", output="sigmoid", init="he_normal", seed=0, backend=args.backend)
    norms = {"sigmoid (Xavier)": layer_gradient_norms(sigmoid, X, y),
             "ReLU (He)": layer_gradient_norms(relu, X, y)}
    print(f"  {'layer':>5} " + " ".join(f"{k:>18}" for k in norms))
    for i in range(depth):
        print(f"  {i + 1:>5} " + " ".join(f"{v[i]:18.3e}" for v in norms.values()))
    s, r = norms["sigmoid (Xavier)"], norms["ReLU (He)"]
    print(f"\n  first layer / last layer: sigmoid {s[0] / s[-1]:.1e}, ReLU {r[0] / r[-1]:.1e}")
    print(f"  the first layer's gradient is {r[0] / s[0]:.0f}× larger with ReLU and He initialization")
    print("  (the tutorial's sketch with weights of scale 0.01 would vanish even faster: "
          "0.25 per layer from the derivative, times the tiny weights)")
    save(args, "gradient_norms.png", lambda p: plot.plot_curves(
        norms, path=p, log=True, xlabel="layer", ylabel="‖dW‖", title="gradient norm by layer"))
    return {"sigmoid": s, "relu": r}


if __name__ == "__main__":
    main()
