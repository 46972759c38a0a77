"""Lesson 04 — two moons (seed 003's data, split and settings): train a 2-16-8-1
network, then see what depth, width and the learning rate change."""
from __future__ import annotations

import numpy as np

import pyneuron as pn
from pyneuron import plot

from ._common import heading, parse, parser, progress, save, tutorial_split

ARCHITECTURES = [([2, 4, 1], "shallow"), ([2, 8, 1], "medium"), ([2, 16, 1], "wide"),
                 ([2, 8, 8, 1], "deep"), ([2, 16, 8, 1], "wide-deep")]
LEARNING_RATES = [0.001, 0.01, 0.1, 0.5, 1.0]


def train(sizes, lr, epochs, data, backend):
    X_tr, X_te, y_tr, y_te = data
    model = pn.MLP(sizes, activation="relu", output="sigmoid", seed=42, backend=backend)
    desc = f"{'-'.join(map(str, sizes))} lr {lr}"
    history = model.fit(X_tr, y_tr, epochs=epochs, batch_size=None, lr=lr,
                        callbacks=progress(model, epochs, desc))
    return model, history, model.score(X_tr, y_tr), model.score(X_te, y_te)


def main(argv=None):
    args = parse(parser(__doc__), argv, __name__)
    X, y = pn.datasets.make_tutorial_moons(500, noise=0.2, seed=42)
    X_tr, X_te, y_tr, y_te = tutorial_split(X, y, 0.2, seed=42)
    scaler = pn.datasets.Standardizer().fit(X_tr)
    data = (scaler.transform(X_tr), scaler.transform(X_te), y_tr, y_te)
    heading("The data")
    print(f"  {len(y_tr)} training and {len(y_te)} test points; training classes {np.bincount(y_tr).tolist()}"
          " (the tutorial's [201 199]: these are its exact points and split)")

    main_epochs, arch_epochs, lr_epochs = (1000, 600, 400) if args.fast else (2000, 1500, 1000)
    heading(f"2-16-8-1 ReLU network, full-batch gradient descent at 0.1, {main_epochs} epochs")
    model, history, train_acc, test_acc = train([2, 16, 8, 1], 0.1, main_epochs, data, args.backend)
    print(f"  training accuracy {train_acc:.2%}, test accuracy {test_acc:.2%} "
          "(the tutorial reports 98.50 % and 96.00 % with its own initial weights)")
    save(args, "moons_boundary.png",
         lambda p: plot.plot_decision_boundary(model, data[0], y_tr, path=p, title="two moons (standardized)"))
    save(args, "moons_history.png", lambda p: plot.plot_history(history, path=p, title="two moons"))

    heading(f"Architectures ({arch_epochs} epochs each, lr 0.1)")
    print(f"  {'architecture':<22} {'train':>8} {'test':>8} {'final loss':>11}")
    architectures = {}
    for sizes, label in ARCHITECTURES:
        _, h, tr, te = train(sizes, 0.1, arch_epochs, data, args.backend)
        name = f"{label} ({'-'.join(map(str, sizes))})"
        architectures[name] = {"train": tr, "test": te, "loss": h["loss"]}
        print(f"  {name:<22} {tr:8.2%} {te:8.2%} {h['loss'][-1]:11.6f}")

    heading(f"Learning rates (2-16-8-1, {lr_epochs} epochs each)")
    rates = {}
    for lr in LEARNING_RATES:
        _, h, _, te = train([2, 16, 8, 1], lr, lr_epochs, data, args.backend)
        rates[lr] = {"test": te, "loss": h["loss"]}
        print(f"  lr = {lr:<6} test accuracy {te:.2%}   final loss {h['loss'][-1]:.4f}")
    print("  too small a rate has barely moved after these epochs; larger ones get there sooner.")
    save(args, "moons_learning_rates.png", lambda p: plot.plot_curves(
        {f"lr={lr}": r["loss"] for lr, r in rates.items()}, path=p, log=True, title="loss by learning rate"))
    return {"train_accuracy": train_acc, "test_accuracy": test_acc,
            "architectures": {k: {"train": v["train"], "test": v["test"]} for k, v in architectures.items()},
            "learning_rates": {lr: r["test"] for lr, r in rates.items()}}


if __name__ == "__main__":
    main()
