"""Lesson 10 — two common mistakes (seeds 001 and 004): feeding unscaled inputs,
and training a classifier with mean squared error instead of cross-entropy."""
from __future__ import annotations

import math

import numpy as np

import pyneuron as pn
from pyneuron import backends

from ._common import heading, parse, parser, progress


def house_price_net(backend):
    """Seed 001's 3-3-1 house-price net with its exact random weights (legacy
    generator, seed 42; its W is already (n_out, n_in)) and zero biases."""
    rs = np.random.RandomState(42)
    W1, W2 = rs.randn(3, 3), rs.randn(1, 3)
    model = pn.MLP([3, 3, 1], activation="relu", output="linear", backend=backend)
    model.set_weights([W1, np.zeros(3), W2, np.zeros(1)])
    return model


def houses(n, seed=0):
    """Made-up houses: size (sq ft), bedrooms, location quality 1–10 -> price in $1000s."""
    rng = np.random.default_rng(seed)
    size = rng.uniform(600, 3500, n)
    bedrooms = rng.integers(1, 6, n).astype(float)
    location = rng.integers(1, 11, n).astype(float)
    price = 0.12 * size + 15 * bedrooms + 20 * location + rng.normal(0, 20, n)
    return np.c_[size, bedrooms, location], price


def train_houses(X, y, epochs, backend):
    model = pn.MLP([3, 8, 1], activation="relu", output="linear", seed=0, backend=backend)
    try:
        model.fit(X, y, epochs=epochs, batch_size=32, lr=0.01, callbacks=progress(model, epochs, "houses"))
    except pn.TrainingDivergedError as exc:
        return None, exc.epoch
    return model, None


def main(argv=None):
    args = parse(parser(__doc__), argv, __name__)
    kernels = backends.get(args.backend or pn.get_backend())
    results = {}

    heading("Mistake 1: unscaled inputs")
    net = house_price_net(args.backend)
    x = np.array([[1200.0, 3.0, 8.0]])
    prediction = float(net.predict(x)[0])
    print(f"  seed 001's untrained 3-3-1 net on (size 1200, 3 bedrooms, location 8): {prediction:.2f}")
    hidden = net.layers[0]
    shares = np.abs(hidden.W * x[0]).sum(axis=0)
    shares = shares / shares.sum()
    print("  share of the hidden layer's weighted sums coming from each input: "
          + ", ".join(f"{name} {s:.1%}" for name, s in zip(("size", "bedrooms", "location"), shares)))
    print("  the square footage drowns out the other two features before any learning starts.")
    results["house_prediction"] = prediction
    results["size_share"] = float(shares[0])

    X, y = houses(200 if args.fast else 1000)
    epochs = 30 if args.fast else 200
    model, diverged_at = train_houses(X, y, epochs, args.backend)
    if model is None:
        print(f"  training a 3-8-1 net on raw inputs (SGD 0.01): the loss overflowed at epoch {diverged_at}")
    else:
        raw_r2 = model.evaluate(X, y)["r2"]
        verdict = "no better than always guessing the average price" if raw_r2 < 0.5 else "usable"
        print(f"  training a 3-8-1 net on raw inputs (SGD 0.01, {epochs} epochs): R² {raw_r2:.3g} — {verdict}")
        results["raw_r2"] = raw_r2
    results["raw_diverged_epoch"] = diverged_at
    x_scaler, y_mean, y_std = pn.datasets.Standardizer().fit(X), y.mean(), y.std()
    model, _ = train_houses(x_scaler.transform(X), (y - y_mean) / y_std, epochs, args.backend)
    r2 = model.evaluate(x_scaler.transform(X), (y - y_mean) / y_std)["r2"]
    print(f"  the same net on standardized inputs and targets: R² {r2:.3f}")
    results["scaled_r2"] = r2

    heading("Mistake 2: mean squared error for a classifier")
    y_true = np.array([[1.0], [0.0], [1.0], [0.0]])
    y_pred = np.array([[0.9], [0.1], [0.8], [0.3]])
    mse, bce = kernels.loss_value("mse", y_pred, y_true), kernels.loss_value("bce", y_pred, y_true)
    print(f"  seed 004's predictions [0.9, 0.1, 0.8, 0.3] for labels [1, 0, 1, 0]: "
          f"MSE {mse:.4f}, cross-entropy {bce:.4f}")
    print("  a confidently wrong sigmoid neuron: label 1, prediction 0.01. How hard does each loss push z?")
    slopes = {}
    for loss in ("mse", "bce"):
        neuron = pn.MLP([1, 1], output="sigmoid", loss=loss, backend=args.backend)
        neuron.set_weights([np.zeros((1, 1)), np.array([math.log(0.01 / 0.99)])])
        dW, db = neuron.gradients(np.zeros((1, 1)), np.array([1.0]))
        slopes[loss] = float(db[0])
    print(f"    MSE: ∂L/∂z = 2(a − y)·a(1 − a) = {slopes['mse']:.4f}  (the sigmoid's flat tail smothers it)")
    print(f"    cross-entropy: ∂L/∂z = a − y = {slopes['bce']:.4f}  ({slopes['bce'] / slopes['mse']:.0f}× stronger)")
    results.update(mse=mse, bce=bce, mse_slope=slopes["mse"], bce_slope=slopes["bce"])
    return results


if __name__ == "__main__":
    main()
