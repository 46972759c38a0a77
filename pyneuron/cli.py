"""The ``pyneuron`` command (``pyneuron --help``, ``pyneuron COMMAND --help``).

* ``demo``    — a small network on two moons, on every backend: accuracy and time
* ``train``   — train a network on a built-in dataset; metrics, plots, a saved model
* ``explain`` — the hand calculation of one training step for a small network
* ``bench``   — the speed report (delegates to :mod:`pyneuron.bench_report`)
* ``lessons`` — list the tutorials' lessons, or run one
* ``compare`` — run a few training steps on several backends; where do they first differ?
* ``precision`` — each kernel's distance in ulps from the exact result, per backend and dtype

Bad options end with a one-line error and exit status 2, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

BACKENDS = ["scalar", "numpy", "c"]
#: The datasets ``pyneuron train --dataset`` knows (:func:`load_dataset` makes them).
DATASETS = ["moons", "circles", "blobs", "xor", "spiral", "tutorial-moons", "tutorial-circles",
            "tutorial-blobs", "digits"]
OPTIMIZERS = ["sgd", "momentum", "rmsprop", "adam", "adamw"]


class CommandError(Exception):
    """A problem with what the user asked for, reported as one line."""


# ------------------------------------------------------------------------------ option parsing helpers
def int_list(text):
    """``--hidden``/``--layers``: ``"16,8"`` -> ``[16, 8]``, positive integers only."""
    try:
        values = [int(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers such as 16,8, got {text!r}") from None
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive integers such as 16,8, got {text!r}")
    return values


def float_rows(text):
    """``"1,2"`` -> [[1, 2]]; ``"1,2;0,1"`` -> two samples."""
    try:
        rows = [[float(v) for v in row.split(",")] for row in text.replace(" ", "").split(";") if row]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers like 1,2 or 1,2;0,1 (samples split by ;), got {text!r}") from None
    if not rows or len({len(r) for r in rows}) != 1:
        raise argparse.ArgumentTypeError(f"expected samples of equal length, got {text!r}")
    return rows


def float_list(text):
    """``--y``: ``"1,0"`` -> ``[1.0, 0.0]``."""
    try:
        return [float(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def slope(text):
    """``--negative-slope``: a finite number >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0 such as 0.01, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0 such as 0.01, got {text!r}")
    return value


def check_sizes(samples=None, n_features=2, hidden=(), hidden_flag="--hidden"):
    """Refuse, before anything is allocated, a ``--samples`` or layer width
    (``hidden_flag``) whose arrays could not fit in memory: a one-line error
    instead of a MemoryError."""
    from .validation import check_array_fits
    if samples is not None:
        check_array_fits((samples, n_features), "float64", "--samples")
    widths = [n_features, *hidden]
    for fan_in, width in zip(widths, widths[1:]):
        check_array_fits((width, fan_in), "float64", hidden_flag)            # a weight matrix
        if samples is not None:
            check_array_fits((samples, width), "float64", hidden_flag)       # a layer's activations


def missing_backends_note(pn):
    """One line per backend that cannot run here, with how to get it (or nothing)."""
    missing = [n for n in pn.backends.BACKEND_NAMES if n not in pn.available_backends()]
    return [f"({name} is not available here: {pn.backends.unavailable_reason(name)})" for name in missing]


# ------------------------------------------------------------------------------ demo
def _demo(args):
    import pyneuron as pn

    from .progress import progress_for

    if args.epochs < 1:
        raise CommandError(f"--epochs: expected an integer >= 1, got {args.epochs}")
    if args.batch_size < 1:
        raise CommandError(f"--batch-size: expected an integer >= 1, got {args.batch_size}")
    if not args.lr > 0:
        raise CommandError(f"--lr: expected a number > 0, got {args.lr}")
    if args.samples < 10:
        raise CommandError(f"--samples: expected an integer >= 10 (a fifth is kept for testing), got {args.samples}")
    check_sizes(args.samples, 2, [16, 8])
    X, y = pn.datasets.make_moons(args.samples, noise=0.2, seed=args.seed)
    X_tr, X_te, y_tr, y_te = pn.datasets.train_test_split(X, y, test_size=0.2, seed=args.seed)
    names = pn.available_backends() if args.backend == "all" else [args.backend]
    print(f"two moons: {len(X_tr)} training and {len(X_te)} test samples; "
          f"network 2-16-8-1 relu/sigmoid, SGD lr {args.lr}, batch {args.batch_size}, {args.epochs} epochs")
    if args.backend == "all":
        for line in missing_backends_note(pn):       # said once, before the slow part
            print(line)
    print(f"{'backend':<8} {'test accuracy':>14} {'train time':>12}", flush=True)
    for name in names:
        model = pn.MLP([2, 16, 8, 1], activation="relu", output="sigmoid", seed=args.seed, backend=name)
        start = time.perf_counter()
        model.fit(X_tr, y_tr, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                  callbacks=[progress_for(model, args.epochs, desc=name)])
        elapsed = time.perf_counter() - start
        print(f"{name:<8} {model.score(X_te, y_te):>13.1%} {elapsed:>11.3f}s", flush=True)
    return 0


# ------------------------------------------------------------------------------ train
def load_dataset(name, samples, noise, seed):
    """``(X, y)`` for a dataset name of :data:`DATASETS`."""
    from . import datasets as ds
    makers = {"moons": lambda: ds.make_moons(samples, noise=noise, seed=seed),
              "circles": lambda: ds.make_circles(samples, noise=noise, seed=seed),
              "blobs": lambda: ds.make_blobs(samples, centers=3, seed=seed),
              "xor": lambda: ds.make_xor(samples, noise=noise, seed=seed),
              "spiral": lambda: ds.make_spiral(samples, noise=noise, seed=seed),
              "tutorial-moons": lambda: ds.make_tutorial_moons(samples, noise=noise, seed=seed),
              "tutorial-circles": lambda: ds.make_tutorial_circles(samples, noise=noise, seed=seed),
              "tutorial-blobs": lambda: ds.make_tutorial_blobs(samples, seed=seed),
              "digits": ds.load_digits}
    return makers[name]()


def epoch_printer(model, every, epochs, desc):
    """Live progress for ``train``: a bar, and a line every ``every`` epochs
    (and the first and last), printed the moment that epoch ends."""
    from .progress import progress_for

    def line(epoch, logs):
        shown = "  ".join(f"{k} {v:.4f}" for k, v in logs.items() if k != "lr")
        return f"  epoch {epoch:>5}/{epochs}  {shown}"
    return progress_for(model, epochs, desc=desc, line=line,
                        print_epochs=lambda e: e == 1 or e % every == 0 or e == epochs)


def _train(args):
    import numpy as np

    import pyneuron as pn

    if args.patience is not None and not args.validation_split:
        raise CommandError("--patience watches the validation loss: add --validation-split (e.g. 0.2)")
    if args.epochs < 1:
        raise CommandError(f"--epochs: expected an integer >= 1, got {args.epochs}")
    if args.batch_size < 0:
        raise CommandError(f"--batch-size: expected an integer >= 0 (0 = full batch), got {args.batch_size}")
    if args.print_every < 1:
        raise CommandError(f"--print-every: expected an integer >= 1, got {args.print_every}")
    if not args.l2 >= 0:
        raise CommandError(f"--l2: expected a number >= 0, got {args.l2}")
    if args.dataset != "digits":
        if args.samples < 10:
            raise CommandError(f"--samples: expected an integer >= 10, got {args.samples}")
        check_sizes(args.samples, 2, args.hidden)
    else:
        check_sizes(1797, 64, args.hidden)
    if args.plot:
        from . import plot
        plot.require_matplotlib()        # before training: a missing extra must not cost the run
    X, y = load_dataset(args.dataset, args.samples, args.noise, args.seed)
    X_tr, X_te, y_tr, y_te = pn.datasets.train_test_split(X, y, test_size=args.test_size, seed=args.seed)
    scaler = pn.datasets.Standardizer().fit(X_tr)
    X_tr, X_te = scaler.transform(X_tr), scaler.transform(X_te)
    n_classes = int(np.max(y)) + 1
    binary = n_classes <= 2
    sizes = [X.shape[1], *args.hidden, 1 if binary else n_classes]
    model = pn.MLP(sizes, activation=args.activation, output="sigmoid" if binary else "softmax",
                   seed=args.seed, backend=args.backend, dropout=args.dropout,
                   negative_slope=args.negative_slope)
    optimizer = pn.optimizers.get(args.optimizer, lr=args.lr)
    early = pn.EarlyStopping(patience=args.patience) if args.patience is not None else None
    print(f"{args.dataset}: {len(y_tr)} training and {len(y_te)} test samples (inputs standardized); "
          f"network {'-'.join(map(str, sizes))} {args.activation}/{model.output}, {optimizer!r}, "
          f"batch {args.batch_size or 'full'}, {args.epochs} epochs, backend {model.kernels.name}", flush=True)
    start = time.perf_counter()
    history = model.fit(X_tr, y_tr, epochs=args.epochs, batch_size=args.batch_size or None,
                        optimizer=optimizer, l2=args.l2, validation_split=args.validation_split,
                        early_stopping=early,
                        callbacks=[epoch_printer(model, args.print_every, args.epochs, args.dataset)])
    elapsed = time.perf_counter() - start
    if early is not None and history.best_epoch is not None:
        print(f"  early stopping: best epoch {history.best_epoch} of {len(history.epoch)} (weights restored)")
    print(f"trained in {elapsed:.2f}s; test set:")
    for key, value in model.evaluate(X_te, y_te).items():
        print(f"  {key:<10} {value:.4f}")
    if args.plot:
        from . import plot
        os.makedirs(args.plot, exist_ok=True)
        plot.plot_history(history, path=os.path.join(args.plot, "history.png"), title=args.dataset)
        print(f"  saved {os.path.join(args.plot, 'history.png')}")
        if X.shape[1] == 2:
            plot.plot_decision_boundary(model, X_te, y_te, path=os.path.join(args.plot, "decision_boundary.png"),
                                        title=f"{args.dataset} (test points, standardized)")
            print(f"  saved {os.path.join(args.plot, 'decision_boundary.png')}")
    if args.save:
        model.standardizer = scaler
        written = model.save(args.save)
        print(f"  model saved to {written}, with its input standardizer (mean "
              f"{np.round(scaler.mean_, 4).tolist()}, scale {np.round(scaler.scale_, 4).tolist()}): "
              f"load it with pyneuron.load and apply model.standardizer.transform(X) before predicting")
    return 0


# ------------------------------------------------------------------------------ explain
def _explain(args):
    import numpy as np

    import pyneuron as pn
    from .explain import explain

    if args.model:
        if args.layers or args.weights:
            raise CommandError("give either --model or --layers/--weights, not both")
        model = pn.load(args.model)
        if args.backend:
            model.backend = pn.backends.check_name(args.backend)
    else:
        if not args.layers:
            raise CommandError("give the network: --layers 2,2,1 (with --weights, or random weights "
                               "from --seed), or --model FILE.npz")
        check_sizes(None, args.layers[0], args.layers[1:], hidden_flag="--layers")
        model = pn.MLP(args.layers, activation=args.activation, output=args.output, seed=args.seed,
                       backend=args.backend, negative_slope=args.negative_slope)
        if args.weights:
            try:
                weights = json.loads(args.weights)
            except json.JSONDecodeError as exc:
                raise CommandError(f"--weights: not valid JSON ({exc.msg} at character {exc.pos})") from None
            if not isinstance(weights, list):
                raise CommandError("--weights: expected a JSON list [W1, b1, W2, b2, ...]")
            model.set_weights([np.asarray(w, dtype=float) for w in weights])
    X = np.asarray(args.x, dtype=float)
    if model.standardizer is not None:
        print("(the model was trained on standardized inputs: --x is standardized with the "
              "statistics saved beside it before the calculation)")
        X = model.standardizer.transform(X)
    if args.y is None:
        raise CommandError("give the targets with --y, e.g. --y 1 (one per sample, comma-separated)")
    y = np.asarray(args.y)
    if model.loss_name in ("bce", "cce"):
        if not np.all(y == np.round(y)):
            raise CommandError(f"--y: expected class labels for a classifier, got {args.y}")
        y = y.astype(np.int64)
    if model.n_outputs > 1 and model.loss_name != "cce":
        y = y.reshape(X.shape[0], model.n_outputs) if y.size == X.shape[0] * model.n_outputs else y
    print(explain(model, X, y, lr=args.lr))
    return 0


# ------------------------------------------------------------------------------ bench and lessons
def _bench(rest):
    try:
        from .bench_report import main as report
    except ImportError as exc:
        print(f"pyneuron bench: the benchmark report is not available ({exc})", file=sys.stderr)
        return 2
    return report(rest)


def _lessons(args):
    from . import lessons
    if args.open and not args.notebook:
        raise CommandError("--open opens a lesson's notebook: pyneuron lessons --notebook NAME --open")
    if args.notebook:
        if args.name:
            raise CommandError("give the lesson once: pyneuron lessons --notebook NAME [--out DIR]")
        return _write_notebooks(args, lessons)
    if not args.name:
        print("The tutorials as lessons, in learning order (run one: pyneuron lessons NAME [--backend B] "
              "[--fast] [--out DIR]; as a notebook: pyneuron lessons --notebook NAME):")
        for number, name, summary in lessons.LESSONS:
            print(f"  {number}  {name:<20} {summary}")
        return 0
    lessons.find(args.name)                    # a clear error for an unknown name
    argv = list(args.rest)
    if args.backend:
        argv += ["--backend", args.backend]
    if args.fast:
        argv.append("--fast")
    if args.out:
        argv += ["--out", args.out]
    lessons.run(args.name, argv)
    return 0


def _write_notebooks(args, lessons):
    """``lessons --notebook NAME|all [--out DIR] [--open]``. With ``--open`` a notebook
    that is already there is opened as it is (it may hold the learner's own work)."""
    from .lessons import notebook
    names = notebook.all_lessons() if args.notebook == "all" else [args.notebook]
    for name in names:
        lessons.find(name)                     # a clear error for an unknown name, before writing any
    directory = args.out or "."
    paths = []
    for name in names:
        number, lesson, _ = lessons.find(name)
        path = os.path.join(directory, f"{number}_{lesson}.ipynb")
        if args.open and os.path.exists(path):
            print(f"{path} is already there: opening it as it is (delete it for a fresh copy)")
        else:
            path = notebook.write(name, directory, backend=args.backend or "numpy", fast=args.fast)
            print(f"wrote {path}" + ("" if args.open else f"  (open it with: pyneuron lessons --notebook "
                                                            f"{args.notebook} --open, or jupyter lab {path})"))
        paths.append(path)
    if args.open:
        return notebook.open_in_jupyter(paths[0] if len(paths) == 1 else directory)
    return 0


# ------------------------------------------------------------------------------ the parser
def backend_choices():
    """The built-in backends and any registered before the parser is built (``--plugin``)."""
    from .backends import names
    return [*BACKENDS, *(n for n in names() if n not in BACKENDS)]


def take_plugins(argv):
    """Split leading ``--plugin MODULE:ATTR[=NAME]`` options (before the command) off ``argv``."""
    specs = []
    while len(argv) >= 2 and argv[0] == "--plugin":
        specs.append(argv[1])
        argv = argv[2:]
    return argv, specs


def build_parser():
    """The ``argparse`` parser of every command (its ``--backend`` choices include the
    backends registered so far, e.g. by ``--plugin``)."""
    parser = argparse.ArgumentParser(prog="pyneuron", description="pyneuron: read, step through and speed up an MLP.",
                                     epilog="pyneuron --plugin MODULE:ATTR[=NAME] COMMAND ... registers your own "
                                            "backend first (see pyneuron.register_backend), so --backend NAME works.")
    from . import _version
    parser.add_argument("--version", action="version",
                        version=f"pyneuron {_version.version()} (distribution {_version.DISTRIBUTION})",
                        help="print pyneuron's version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser("demo", help="train a small network on two moons on every backend; print accuracy and time")
    demo.add_argument("--backend", default="all", choices=["all", *backend_choices()],
                      help="backend to run (default: every available one)")
    demo.add_argument("--epochs", type=int, default=300, help="training epochs (default 300)")
    demo.add_argument("--samples", type=int, default=500, help="number of points (default 500)")
    demo.add_argument("--batch-size", type=int, default=32, help="mini-batch size (default 32)")
    demo.add_argument("--lr", type=float, default=0.1, help="learning rate of plain SGD (default 0.1)")
    demo.add_argument("--seed", type=int, default=42, help="random seed (default 42)")

    train = sub.add_parser("train", help="train a network on a built-in dataset and report test metrics",
                           description="Train an MLP on a built-in dataset. Inputs are standardized with "
                                       "the training split's statistics; the output layer is sigmoid for "
                                       "two classes and softmax for more.")
    train.add_argument("--dataset", default="moons", choices=DATASETS,
                       help="data to learn (default moons; 'digits' needs scikit-learn)")
    train.add_argument("--samples", type=int, default=500, help="points to generate (default 500; ignored for digits)")
    train.add_argument("--noise", type=float, default=0.2, help="noise of generated data (default 0.2)")
    train.add_argument("--hidden", type=int_list, default=[16, 8], metavar="N,N,...",
                       help="hidden layer widths; inputs and outputs follow from the data (default 16,8)")
    train.add_argument("--activation", default="relu", choices=["relu", "leaky_relu", "tanh", "sigmoid", "linear"],
                       help="hidden activation (default relu)")
    train.add_argument("--optimizer", default="adam", choices=OPTIMIZERS, help="optimizer (default adam)")
    train.add_argument("--lr", type=float, default=0.01, help="learning rate (default 0.01)")
    train.add_argument("--epochs", type=int, default=100, help="training epochs (default 100)")
    train.add_argument("--batch-size", type=int, default=32, help="mini-batch size; 0 = full batch (default 32)")
    train.add_argument("--l2", type=float, default=0.0, help="L2 penalty λ (default 0)")
    train.add_argument("--negative-slope", type=slope, default=0.01,
                       help="leaky_relu's slope for negative inputs (default 0.01)")
    train.add_argument("--dropout", type=float, default=0.0, help="dropout rate after each hidden layer (default 0)")
    train.add_argument("--validation-split", type=float, default=0.0,
                       help="fraction of the training data held out for validation (default 0)")
    train.add_argument("--patience", type=int, default=None,
                       help="stop early after this many epochs without a better validation loss "
                            "(needs --validation-split)")
    train.add_argument("--test-size", type=float, default=0.2, help="fraction kept for the test set (default 0.2)")
    train.add_argument("--backend", default=None, choices=backend_choices(), help="backend (default: the global flag)")
    train.add_argument("--seed", type=int, default=42, help="random seed for data, split and weights (default 42)")
    train.add_argument("--print-every", type=int, default=10, help="print progress every N epochs (default 10)")
    train.add_argument("--plot", metavar="DIR", help="save history.png (and decision_boundary.png for 2-D data) in DIR")
    train.add_argument("--save", metavar="PATH", help="write the trained model to PATH (.npz)")

    exp = sub.add_parser("explain", help="the hand calculation of one forward/backward pass and update",
                         description="Write out one training step by hand: each z term by term, the "
                                     "activations, the loss, every δ, dW, db and the updated weights.",
                         epilog="example: pyneuron explain --layers 2,2,1 --activation sigmoid "
                                "--weights '[[[0.1,0.2],[0.3,0.4]],[0.1,0.2],[[0.5,0.6]],[0.3]]' --x 1,2 --y 1")
    exp.add_argument("--layers", type=int_list, metavar="N,N,...", help="layer sizes, inputs first, e.g. 2,2,1")
    exp.add_argument("--weights", metavar="JSON",
                     help="[W1, b1, W2, b2, ...] as JSON; W has one row per neuron (shape n_out×n_in). "
                          "Without it the weights are drawn from --seed")
    exp.add_argument("--model", metavar="FILE", help="explain a model saved with model.save (instead of --layers)")
    exp.add_argument("--activation", default="sigmoid", choices=["sigmoid", "tanh", "relu", "leaky_relu", "linear"],
                     help="hidden activation (default sigmoid)")
    exp.add_argument("--output", default="sigmoid", choices=["sigmoid", "softmax", "linear", "tanh", "relu"],
                     help="output activation (default sigmoid; its natural loss is used)")
    exp.add_argument("--negative-slope", type=slope, default=0.01,
                     help="leaky_relu's slope for negative inputs (default 0.01; not with --model)")
    exp.add_argument("--x", type=float_rows, required=True, metavar="X",
                     help="input sample, e.g. 1,2 (several: 1,2;0,1)")
    exp.add_argument("--y", type=float_list, metavar="Y", help="target(s), one per sample, e.g. 1 or 1,0")
    exp.add_argument("--lr", type=float, default=0.1, help="learning rate of the update shown (default 0.1)")
    exp.add_argument("--backend", default=None, choices=backend_choices(), help="backend that does the arithmetic")
    exp.add_argument("--seed", type=int, default=0, help="seed for random weights (default 0)")

    sub.add_parser("bench", help="print the speed report (matmul ladder, training steps per backend)",
                   add_help=False)

    les = sub.add_parser("lessons", help="list the tutorials' lessons, or run one by name",
                         description="Without NAME, list the lessons; with NAME (e.g. xor or 03), run it. "
                                     "Options after NAME go to the lesson.")
    les.add_argument("name", nargs="?", help="lesson to run: its name or number (see the list)")
    les.add_argument("--backend", choices=backend_choices(), help="backend to run the lesson on")
    les.add_argument("--fast", action="store_true", help="the lesson's quick setting")
    les.add_argument("--out", metavar="DIR", help="save the lesson's figures (or its notebook) in DIR")
    les.add_argument("--notebook", metavar="NAME",
                     help="write lesson NAME (or 'all') as a Jupyter notebook NN_name.ipynb in --out DIR "
                          "(default: here) instead of running it; needs pip install jupytext nbclient ipykernel matplotlib")
    les.add_argument("--open", action="store_true",
                     help="with --notebook: open the notebook in JupyterLab (or Notebook) if installed, "
                          "else say how; one already written is opened as it is")
    les.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)

    from .compare import add_arguments as compare_arguments
    compare_arguments(sub.add_parser("compare", help="train a few steps on several backends and report "
                                                     "the first kernel call where they differ"), DATASETS)
    from .precision import add_arguments as precision_arguments
    precision_arguments(sub.add_parser("precision", help="each kernel's distance in ulps from the exact "
                                                         "result (mpmath), per backend and dtype"))
    return parser


def _environment_error():
    """A bad ``PYNEURON_BACKEND``, as the one-line message (or ``None``)."""
    from ._config import environment_error
    return environment_error()


def _compare(args):
    from .compare import run_command
    return run_command(args, load_dataset, int_list)


def _precision(args):
    from .precision import run_command
    return run_command(args)


COMMANDS = {"demo": _demo, "train": _train, "explain": _explain, "lessons": _lessons, "compare": _compare,
            "precision": _precision}


def main(argv=None):
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit status.
    Every error the user can cause is one line on stderr and status 2, never a traceback."""
    argv = sys.argv[1:] if argv is None else list(argv)
    argv, plugins = take_plugins(argv)
    for spec in plugins:
        try:
            from .compare import load_plugin
            load_plugin(spec)
        except (ValueError, TypeError, ImportError) as exc:
            print(f"pyneuron: error: {exc}", file=sys.stderr)
            return 2
    if argv and argv[0] == "bench":            # the report parses its own options
        error = _environment_error()
        if error is not None:
            print(f"pyneuron bench: error: {error}", file=sys.stderr)
            return 2
        return _bench(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)             # argparse itself exits 2 with a usage line on bad options
    if args.command is None:
        parser.print_help()
        return 0
    error = _environment_error()
    if error is not None:
        print(f"pyneuron {args.command}: error: {error}", file=sys.stderr)
        return 2
    try:
        return COMMANDS[args.command](args)
    except CommandError as exc:
        message = str(exc)
    except (ValueError, TypeError, RuntimeError, ArithmeticError, OSError, ImportError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    print(f"pyneuron {args.command}: error: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
