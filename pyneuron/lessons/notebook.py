"""Every lesson as a Jupyter notebook, generated from the lesson's own source.

A lesson module (``pyneuron/lessons/xor.py``) is the single source: this module
turns it into a script in jupytext's *percent* format — the lesson's docstring
and its tutorials as prose, a settings cell (backend, ``--fast``), then the
lesson's helper functions and the body of its ``main`` as cells, one section
per ``heading(...)`` with that heading as the section's prose — and jupytext
turns the script into an ``.ipynb``. Nothing is written twice, so the notebook
and the script cannot drift apart.

    pyneuron lessons --notebook 03              # writes 03_xor.ipynb here
    pyneuron lessons --notebook 03 --out DIR    # ... in DIR
    pyneuron lessons --notebook 03 --open       # ... and opens it in JupyterLab (or Notebook)

Running the notebook needs ``pip install jupytext nbclient ipykernel matplotlib`` (``pip install ".[notebooks]"`` in a checkout) (jupytext,
nbclient, ipykernel and matplotlib). Figures are displayed in the notebook by
the lesson's ``save`` calls (no ``%matplotlib`` magic needed).
"""
from __future__ import annotations

import ast
import inspect
import os
import shutil
import subprocess
import textwrap

from . import LESSONS, expected_time, find, load
from ._common import seed_lines

INSTALL_HINT = 'notebooks need jupytext, nbclient and ipykernel: pip install jupytext nbclient ipykernel matplotlib'


def _markdown(text):
    """``text`` as a percent-format markdown cell."""
    lines = [f"# {line}".rstrip() for line in text.strip("\n").splitlines()]
    return "# %% [markdown]\n" + "\n".join(lines) + "\n"


def _code(text):
    return "# %%\n" + text.strip("\n") + "\n"


def _absolute_imports(source):
    """The lesson's relative imports, made absolute for a notebook kernel."""
    return (source.replace("from ._common import", "from pyneuron.lessons._common import")
            .replace("from . import", "from pyneuron.lessons import"))


def _segment(lines, first, last):
    """Source lines ``first``..``last`` (1-based, inclusive)."""
    return "\n".join(lines[first - 1:last])


def _heading_text(node):
    """The prose for a ``heading(...)`` call: its string, with ``{…}`` for the parts
    only known when the cell runs."""
    arg = node.value.args[0] if node.value.args else None
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.JoinedStr):
        return "".join(part.value if isinstance(part, ast.Constant) else "…" for part in arg.values)
    return "Next step"


def _is_heading(statement):
    return (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)
            and isinstance(statement.value.func, ast.Name) and statement.value.func.id == "heading")


def _is_parse(statement):
    return (isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Call)
            and isinstance(statement.value.func, ast.Name) and statement.value.func.id == "parse")


def percent_script(name, backend="numpy", fast=False):
    """The lesson ``name`` (a name or number) as a jupytext percent-format script.

    Raises ``ValueError`` for an unknown lesson or backend, and ``RuntimeError``
    if the lesson's source does not have the shape this generator reads (a
    ``main(argv)`` whose last statement returns the results)."""
    from pyneuron import backends
    backends.check_name(backend)
    number, lesson, summary = find(name)
    module = load(lesson)
    source = inspect.getsource(module)
    lines = source.splitlines()
    tree = ast.parse(source)
    doc = ast.get_docstring(tree) or summary

    seeds = [line.strip() for line in seed_lines(doc)]
    times = [line.strip() for line in (expected_time(lesson, False), expected_time(lesson, True)) if line]
    cells = [_markdown(f"# Lesson {number}: {summary}\n\n{doc}\n\n"
                       + (seeds[0] + "\n\n" + "\n".join(f"- {line}" for line in seeds[1:]) if seeds else "")),
             _markdown("This notebook is generated from `pyneuron/lessons/" + lesson + ".py` "
                       "(`pyneuron lessons --notebook " + number + "`), so it runs the same code as "
                       "`pyneuron lessons " + lesson + "`. Change `BACKEND` to `\"scalar\"` to run the "
                       "textbook loops (slower: see the times below), " + (
                           "or `FAST` to `False` for the full run (`FAST = True` is the lesson's quick "
                           "setting)." if fast else "or `FAST` to `True` for the quick setting.") + "\n\n" + "\n".join(f"- {line}" for line in times)),
             _code(f"BACKEND = {backend!r}\nFAST = {bool(fast)!r}")]

    main, previous = None, None
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(getattr(node, "value", None), ast.Constant) \
                and node is tree.body[0]:
            continue                                             # the module docstring: prose above
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            continue
        if isinstance(node, ast.If):                             # if __name__ == "__main__": main()
            continue
        if isinstance(node, ast.FunctionDef) and node.name == "main":
            main = node
            continue
        first = node.decorator_list[0].lineno if getattr(node, "decorator_list", None) else node.lineno
        text = _absolute_imports(_segment(lines, first, node.end_lineno))
        kind = "def" if isinstance(node, (ast.FunctionDef, ast.ClassDef)) else (
            "import" if isinstance(node, (ast.Import, ast.ImportFrom)) else "other")
        if kind == "def" and ast.get_docstring(node):
            cells.append(_markdown(f"`{node.name}`: " + " ".join(ast.get_docstring(node).split())))
        if kind != "def" and kind == previous and cells[-1].startswith("# %%\n"):
            cells[-1] += text + "\n"                             # imports (or constants) share a cell
        else:
            cells.append(_code(text))
        previous = kind
    if main is None or not main.body or not isinstance(main.body[-1], ast.Return):
        raise RuntimeError(f"lesson {lesson}: expected a main(argv) that ends by returning its results")

    body = main.body
    sections, current = [], []
    for statement in body:
        if _is_heading(statement) and current:
            sections.append(current)
            current = []
        current.append(statement)
    sections.append(current)
    for section in sections:
        if _is_heading(section[0]):
            cells.append(_markdown(f"## {_heading_text(section[0])}"))
        chunks = []
        for statement in section:
            start = statement.lineno
            text = textwrap.dedent(_segment(lines, start, statement.end_lineno))
            if _is_parse(statement):
                text = ('args = parse(parser(""), ["--backend", BACKEND] + (["--fast"] if FAST else []), '
                        f'"pyneuron.lessons.{lesson}")')
            elif isinstance(statement, ast.Return):
                text = "results = " + text.removeprefix("return ")
            chunks.append(text)
        cells.append(_code("\n".join(chunks)))
    cells.append(_markdown("`results` holds the lesson's key numbers (the ones its tests check)."))
    cells.append(_code("results"))
    return "\n".join(cells)


def notebook(name, backend="numpy", fast=False):
    """The lesson as an ``nbformat`` notebook (needs jupytext)."""
    try:
        import jupytext
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    nb = jupytext.reads(percent_script(name, backend, fast), fmt="py:percent")
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def write(name, directory=".", backend="numpy", fast=False):
    """Write ``NN_name.ipynb`` in ``directory`` (created if needed); returns its path."""
    number, lesson, _ = find(name)
    nb = notebook(lesson, backend, fast)
    import jupytext
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"{number}_{lesson}.ipynb")
    jupytext.write(nb, path, fmt="ipynb")
    return path


def all_lessons():
    """Every lesson's name, in learning order."""
    return [lesson for _, lesson, _ in LESSONS]


#: The programs ``--open`` tries, in order: JupyterLab, then the classic Notebook.
JUPYTER_PROGRAMS = ("jupyter-lab", "jupyter-notebook")

OPEN_HINT = ("to open it, install JupyterLab (pip install jupyterlab) and run: jupyter lab {path}  "
             "(or open the file in VS Code)")


def jupyter_command(path):
    """The command that opens ``path`` (a notebook or a folder) in the first installed
    program of :data:`JUPYTER_PROGRAMS`, or ``None`` when neither is installed."""
    for program in JUPYTER_PROGRAMS:
        found = shutil.which(program)
        if found:
            return [found, path]
    return None


def open_in_jupyter(path, say=print):
    """Open ``path`` in JupyterLab (or Notebook) and wait until its server is stopped;
    without either, say how to open it. Returns the exit status for the command line
    (0 also when the server is stopped with Ctrl-C)."""
    command = jupyter_command(path)
    if command is None:
        say(OPEN_HINT.format(path=path))
        return 0
    say(f"opening {path} with {os.path.basename(command[0])} (Ctrl-C stops the server)", flush=True)
    try:
        return subprocess.call(command)
    except KeyboardInterrupt:
        return 0
