"""The ``pyneuron`` command: ``demo`` and ``bench`` (``pyneuron --help``)."""
from __future__ import annotations

import argparse
import sys
import time


def _demo(args):
    import pyneuron as pn

    X, y = pn.datasets.make_moons(args.samples, noise=0.2, seed=args.seed)
    X_tr, X_te, y_tr, y_te = pn.datasets.train_test_split(X, y, test_size=0.2, seed=args.seed)
    names = pn.available_backends() if args.backend == "all" else [args.backend]
    print(f"two moons: {len(X_tr)} training and {len(X_te)} test samples; "
          f"network 2-16-8-1 relu/sigmoid, SGD lr {args.lr}, batch {args.batch_size}, {args.epochs} epochs")
    print(f"{'backend':<8} {'test accuracy':>14} {'train time':>12}")
    for name in names:
        model = pn.MLP([2, 16, 8, 1], activation="relu", output="sigmoid", seed=args.seed, backend=name)
        start = time.perf_counter()
        model.fit(X_tr, y_tr, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr)
        elapsed = time.perf_counter() - start
        print(f"{name:<8} {model.score(X_te, y_te):>13.1%} {elapsed:>11.3f}s")
    missing = set(pn.backends.BACKEND_NAMES) - set(pn.available_backends())
    for name in sorted(missing):
        print(f"({name}: {pn.backends.unavailable_reason(name)})")
    return 0


def _bench(args, rest):
    try:
        from .bench_report import main as report
    except ImportError as exc:
        print(f"pyneuron bench: the benchmark report is not available ({exc})", file=sys.stderr)
        return 2
    return report(rest)


def build_parser():
    parser = argparse.ArgumentParser(prog="pyneuron", description="pyneuron: read, step through and speed up an MLP.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser("demo", help="train a small network on two moons on every backend; print accuracy and time")
    demo.add_argument("--backend", default="all", choices=["all", "scalar", "numpy", "c"],
                      help="backend to run (default: every available one)")
    demo.add_argument("--epochs", type=int, default=300, help="training epochs (default 300)")
    demo.add_argument("--samples", type=int, default=500, help="number of points (default 500)")
    demo.add_argument("--batch-size", type=int, default=32, help="mini-batch size (default 32)")
    demo.add_argument("--lr", type=float, default=0.1, help="learning rate of plain SGD (default 0.1)")
    demo.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    sub.add_parser("bench", help="print the speed report (matmul ladder, training steps per backend)",
                   add_help=False)
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    if argv and argv[0] == "bench":
        return _bench(None, argv[1:])
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return _demo(args)
    except (ValueError, TypeError, RuntimeError) as exc:
        print(f"pyneuron {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
