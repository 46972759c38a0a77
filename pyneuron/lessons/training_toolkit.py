"""Lesson 05 — seed 000's training toolkit on its circles data: plain gradient
descent, momentum and Adam compared; early stopping; then the complete
pipeline (dropout, L2, Adam, mini-batches, early stopping) on 2,000 points."""
from __future__ import annotations

import pyneuron as pn
from pyneuron import plot

from ._common import heading, parse, parser, progress, save


def compare_optimizers(X, y, epochs, backend):
    """Seed 000's race: the same 2-16-8-1 network, batch 32, three optimizers."""
    contenders = {"gradient descent (lr 0.5)": lambda: pn.optimizers.SGD(lr=0.5),
                  "momentum β=0.9 (lr 0.5)": lambda: pn.optimizers.Momentum(lr=0.5, beta=0.9),
                  "Adam (lr 0.01)": lambda: pn.optimizers.Adam(lr=0.01)}
    results = {}
    for name, make in contenders.items():
        model = pn.MLP([2, 16, 8, 1], activation="relu", output="sigmoid", seed=1, backend=backend)
        history = model.fit(X, y, epochs=epochs, batch_size=32, optimizer=make(),
                            callbacks=progress(model, epochs, name))
        results[name] = {"accuracy": model.score(X, y), "loss": history["loss"]}
        print(f"  {name:<28} accuracy {results[name]['accuracy']:.2%}   final loss {history['loss'][-1]:.4f}")
    return results


def main(argv=None):
    args = parse(parser(__doc__), argv, __name__)
    X, y = pn.datasets.make_tutorial_circles(1000, noise=0.1, seed=42)
    race_epochs = 30 if args.fast else 100
    heading(f"Optimizers on the circles ({len(y)} points, {race_epochs} epochs, batch 32)")
    race = compare_optimizers(X, y, race_epochs, args.backend)
    print("  (momentum here is the tutorial's v = βv + (1−β)g; accuracy is on the training data, as there)")
    save(args, "optimizers.png", lambda p: plot.plot_curves(
        {k: v["loss"] for k, v in race.items()}, path=p, log=True, title="training loss by optimizer"))

    heading("Early stopping (2-16-8-1, Adam 0.01, batch 32, patience 20, 20 % held out)")
    X_tr, X_val, y_tr, y_val = pn.datasets.train_test_split(X, y, test_size=0.2, seed=0)
    model = pn.MLP([2, 16, 8, 1], activation="relu", output="sigmoid", seed=2, backend=args.backend)
    stopper = pn.EarlyStopping(monitor="val_loss", patience=20, restore_best_weights=True)
    epochs = 100 if args.fast else 500
    history = model.fit(X_tr, y_tr, epochs=epochs, batch_size=32,
                        optimizer=pn.optimizers.Adam(lr=0.01), validation_data=(X_val, y_val),
                        early_stopping=stopper, callbacks=progress(model, epochs, "early stopping"))
    early = {"best_epoch": history.best_epoch, "epochs_run": len(history.epoch),
             "val_accuracy": model.score(X_val, y_val)}
    print(f"  ran {early['epochs_run']} epochs, best validation loss at epoch {early['best_epoch']} "
          f"(weights restored from it); validation accuracy {early['val_accuracy']:.2%}")

    heading("The complete pipeline: 2-32-16-8-1 ReLU, dropout 0.2, L2 0.01, Adam 0.001, batch 32")
    X, y = pn.datasets.make_tutorial_circles(2000, noise=0.1, seed=42)
    X_tr, X_val, y_tr, y_val = pn.datasets.train_test_split(X, y, test_size=0.2, seed=0)
    print(f"  {len(y_tr)} training and {len(y_val)} validation points; early stopping patience 30")
    model = pn.MLP([2, 32, 16, 8, 1], activation="relu", output="sigmoid", dropout=0.2, seed=0,
                   backend=args.backend)
    epochs = 150 if args.fast else 500
    history = model.fit(X_tr, y_tr, epochs=epochs, batch_size=32, l2=0.01,
                        optimizer=pn.optimizers.Adam(lr=0.001), validation_data=(X_val, y_val),
                        early_stopping=pn.EarlyStopping(patience=30),
                        callbacks=progress(model, epochs, "pipeline"))
    pipeline = {"train_accuracy": model.score(X_tr, y_tr), "val_accuracy": model.score(X_val, y_val),
                "best_epoch": history.best_epoch, "epochs_run": len(history.epoch)}
    print(f"  training accuracy {pipeline['train_accuracy']:.2%}, validation accuracy "
          f"{pipeline['val_accuracy']:.2%}; best epoch {pipeline['best_epoch']} of {pipeline['epochs_run']} run")
    print("  (points near radius 0.5 are pushed across the border by the noise, so ~92 % is about "
          "the best any classifier can do on this set)")
    save(args, "pipeline_history.png", lambda p: plot.plot_history(history, path=p, title="complete pipeline"))
    save(args, "pipeline_boundary.png", lambda p: plot.plot_decision_boundary(
        model, X_val, y_val, path=p, title="complete pipeline (validation points)"))
    return {"optimizers": {k: v["accuracy"] for k, v in race.items()}, "early_stopping": early,
            "pipeline": pipeline}


if __name__ == "__main__":
    main()
