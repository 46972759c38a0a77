"""A small mutation run: do the tests notice when the code is wrong?

For one module, every *mutant* (the module with one small change: a comparison flipped,
``+`` made ``-``, a number moved by one, ``and`` made ``or``, a ``not`` dropped, a
boolean constant flipped, a ``raise`` removed) is written into a temporary copy of the
tree, and the given tests run against it (``pytest -x``). A mutant the tests fail on is
*killed*; one they pass on *survived*: either a test is missing, or the mutant is
equivalent (it computes the same thing), which only reading it can tell.

    python .ci/mutation.py pyneuron/metrics.py tests/test_metrics_sklearn.py tests/test_toolkit_io_metrics.py
    python .ci/mutation.py pyneuron/io.py tests/test_files_*.py --lines 100-200 --min-kill 95
    python .ci/mutation.py pyneuron/training.py tests/test_toolkit_training.py -k "not seed_00"

The working tree is never modified (the copy lives in a temporary folder, with the
compiled C module copied beside it so ``c`` tests run). Prints each survivor as
``SURVIVED path:line what`` and a last line ``path: K/N killed (P%), E equivalent``; exits 1
when ``--min-kill`` is given and the kill rate is below it. Docstrings are never mutated.
Expect minutes per module: each mutant runs the tests once.

Equivalent mutants (ones that compute the same thing as the original, e.g. ``<`` made ``<=``
where equality cannot occur) are recorded, one a line, in ``.ci/mutation_equivalent.txt``::

    pyneuron/schedules.py:42 Lt -> LtE  # t is an int and the bound a half-integer: never equal

(the ``path:line what`` of its SURVIVED line, then ``#`` and why it is equivalent; the reason is
required). A recorded mutant is not run: it is printed as ``EQUIVALENT path:line what`` and left
out of the rate, which is killed / (total - equivalent). When one line has several mutants with
the same description, each is numbered in source order (``1 -> 2 [2]``), so a record names one
mutant. A record that matches no mutant of a mutated line (the code moved) is printed as
``STALE`` so it is fixed.
"""
from __future__ import annotations

import argparse
import ast
import copy
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLIP_COMPARISON = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
                   ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
SWAP_OPERATOR = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.Pow: ast.Mult}
EQUIVALENT_FILE = os.path.join(".ci", "mutation_equivalent.txt")


def read_equivalent(path):
    """The records of ``path`` as a dict ``{(module, line, description): reason}``.

    Each non-blank line not starting with ``#`` is ``module:line description  # reason``.
    Raises ValueError naming the file and line for a record without a line number or a reason.
    A missing file means no records."""
    records = {}
    if not os.path.isfile(path):
        return records
    with open(path) as f:
        for number, text in enumerate(f, 1):
            text = text.strip()
            if not text or text.startswith("#"):
                continue
            where_what, hash_sign, reason = text.partition("#")
            where, _, what = where_what.strip().partition(" ")
            module, _, line = where.rpartition(":")
            if not (hash_sign and reason.strip() and module and line.isdigit() and what.strip()):
                raise ValueError(f"{path}:{number}: expected 'path:line description  # why equivalent', "
                                 f"got {text!r}")
            records[(module, int(line), what.strip())] = reason.strip()
    return records


def _docstrings(tree):
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def mutants(tree):
    """Yield ``(node index in ast.walk order, change, line, description)`` for every mutant."""
    docstrings = _docstrings(tree)
    for index, node in enumerate(ast.walk(tree)):
        if isinstance(node, ast.Compare):
            for j, op in enumerate(node.ops):
                if type(op) in FLIP_COMPARISON:
                    yield index, ("compare", j), node.lineno, f"{type(op).__name__} -> {FLIP_COMPARISON[type(op)].__name__}"
        elif isinstance(node, ast.BoolOp):
            yield index, ("boolop",), node.lineno, "and <-> or"
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            yield index, ("not",), node.lineno, "drop not"
        elif isinstance(node, ast.BinOp) and type(node.op) in SWAP_OPERATOR:
            yield index, ("binop",), node.lineno, f"{type(node.op).__name__} -> {SWAP_OPERATOR[type(node.op)].__name__}"
        elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
            yield index, ("bool",), node.lineno, f"{node.value} -> {not node.value}"
        elif (isinstance(node, ast.Constant) and isinstance(node.value, (int, float))
              and id(node) not in docstrings):
            yield index, ("number",), node.lineno, f"{node.value!r} -> {node.value + 1!r}"
        elif isinstance(node, ast.Raise):
            yield index, ("raise",), node.lineno, "raise -> pass"


def numbered(found):
    """``found`` (``mutants``' tuples) with the descriptions that repeat on one line numbered
    ``what [k]`` (k from 1, in ``ast.walk`` order), so each ``line what`` names one mutant."""
    counts = Counter((line, what) for _, _, line, what in found)
    seen = Counter()
    for index, change, line, what in found:
        if counts[(line, what)] > 1:
            seen[(line, what)] += 1
            what = f"{what} [{seen[(line, what)]}]"
        yield index, change, line, what


def mutate(tree, index, change):
    """The source of ``tree`` with the one change at node ``index`` applied."""
    tree = copy.deepcopy(tree)
    node = list(ast.walk(tree))[index]
    kind = change[0]
    if kind == "compare":
        node.ops[change[1]] = FLIP_COMPARISON[type(node.ops[change[1]])]()
    elif kind == "boolop":
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif kind == "not":                     # `not x` becomes `bool(x)`
        node.__class__ = ast.Call
        node.func, node.args, node.keywords = ast.Name("bool", ast.Load()), [node.operand], []
    elif kind == "binop":
        node.op = SWAP_OPERATOR[type(node.op)]()
    elif kind == "bool":
        node.value = not node.value
    elif kind == "number":
        node.value = node.value + 1
    elif kind == "raise":
        node.__class__ = ast.Pass
    ast.fix_missing_locations(tree)
    return ast.unparse(tree)


def copy_tree(root, target):
    """The parts of the tree the tests need, with the compiled module, without caches."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", ".benchmarks")
    for name in os.listdir(root):
        src = os.path.join(root, name)
        if name.startswith(".") or name in ("build", "dist") or name.endswith(".egg-info"):
            continue
        if os.path.isdir(src):
            shutil.copytree(src, os.path.join(target, name), ignore=ignore)
        else:
            shutil.copy2(src, target)


def run(module, tests, root=ROOT, lines=None, timeout=600, out=print, equivalent=None, keyword=None):
    """Mutate ``module`` (a path relative to ``root``) and run ``tests`` on each mutant
    (only those matching pytest's ``-k`` expression ``keyword``, when given).

    ``equivalent`` is a dict as :func:`read_equivalent` returns (default: the records of
    ``root``'s ``.ci/mutation_equivalent.txt``); the mutants it names are not run.
    Returns ``(killed, total, survivors, equivalent)``: ``total`` counts every mutant, the
    last item the equivalent ones among them; survivors are ``(line, description)``."""
    if equivalent is None:
        equivalent = read_equivalent(os.path.join(root, EQUIVALENT_FILE))
    source_path = os.path.join(root, module)
    with open(source_path) as f:
        tree = ast.parse(f.read())
    killed, total, skipped, survivors, used = 0, 0, 0, [], set()
    with tempfile.TemporaryDirectory(prefix="pyneuron-mutation-") as work:
        copy_tree(root, work)
        target = os.path.join(work, module)
        env = dict(os.environ, PYTHONPATH=work, PYTHONDONTWRITEBYTECODE="1")
        for index, change, line, what in numbered(list(mutants(tree))):
            if lines is not None and not (lines[0] <= line <= lines[1]):
                continue
            try:
                source = mutate(tree, index, change)
            except (TypeError, ValueError, AttributeError):   # a change ast cannot unparse
                continue
            total += 1
            if (module, line, what) in equivalent:
                skipped += 1
                used.add((module, line, what))
                out(f"EQUIVALENT {module}:{line} {what}")
                continue
            with open(target, "w") as f:
                f.write(source)
            try:
                selection = ["-k", keyword] if keyword else []
                done = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", *selection,
                                       *tests], cwd=work, env=env, capture_output=True, text=True,
                                      timeout=timeout)
                dead = done.returncode not in (0, 5)
            except subprocess.TimeoutExpired:               # a mutant that loops forever is caught too
                dead = True
            killed += dead
            if not dead:
                survivors.append((line, what))
                out(f"SURVIVED {module}:{line} {what}")
    for key in sorted(equivalent):
        if key[0] == module and key not in used and (lines is None or lines[0] <= key[1] <= lines[1]):
            out(f"STALE {key[0]}:{key[1]} {key[2]}  (recorded as equivalent, but no such mutant)")
    return killed, total, survivors, skipped


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("module", help="the module to mutate, relative to the project root")
    parser.add_argument("tests", nargs="+", help="the test files (or node ids) that should kill its mutants")
    parser.add_argument("--lines", metavar="A-B", help="mutate only lines A to B")
    parser.add_argument("-k", dest="keyword", metavar="EXPRESSION",
                        help="pytest's -k: run only the tests whose names match EXPRESSION")
    parser.add_argument("--min-kill", type=float, metavar="PERCENT",
                        help="exit 1 if fewer than PERCENT %% of the mutants are killed")
    args = parser.parse_args(argv)
    lines = None
    if args.lines:
        try:
            lines = tuple(int(x) for x in args.lines.split("-"))
            assert len(lines) == 2 and lines[0] <= lines[1]
        except (ValueError, AssertionError):
            parser.error(f"--lines: expected A-B with A <= B, got {args.lines!r}")
    if not os.path.isfile(os.path.join(ROOT, args.module)):
        parser.error(f"module: no file {args.module!r} under {ROOT}")
    try:
        equivalent = read_equivalent(os.path.join(ROOT, EQUIVALENT_FILE))
    except ValueError as error:
        parser.error(str(error))
    killed, total, _, skipped = run(args.module, args.tests, root=ROOT, lines=lines, equivalent=equivalent,
                                    keyword=args.keyword)
    judged = total - skipped
    rate = 100.0 * killed / judged if judged else 100.0
    print(f"{args.module}: {killed}/{judged} killed ({rate:.1f}%), {skipped} equivalent")
    return 1 if args.min_kill is not None and rate < args.min_kill else 0


if __name__ == "__main__":
    sys.exit(main())
