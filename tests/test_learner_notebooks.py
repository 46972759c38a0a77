"""Every lesson as a notebook, generated from the lesson's own source.

Without the notebook tools: the generated percent-format script is valid Python
that carries every statement of the lesson (so the two cannot drift). With
``pip install ".[notebooks]"`` (CI's second stage): every notebook runs
top to bottom in a fresh kernel on numpy with no error, shows its figures
without magic commands, and reaches the lesson's key results (the same checks
tests/test_examples.py applies to the script).
"""
from __future__ import annotations

import ast
import inspect
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pyneuron import lessons
from pyneuron.lessons import notebook

from test_examples import KEY_RESULTS

ROOT = Path(__file__).resolve().parents[1]
NAMES = [name for _, name, _ in lessons.LESSONS]


def main_statements(name):
    """The dedented source of every statement in the lesson's main(), except the
    argument parsing and the final return (which the notebook rewrites)."""
    source = inspect.getsource(lessons.load(name))
    lines = source.splitlines()
    main = next(n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == "main")
    out = []
    for statement in main.body[1:-1]:
        out.append(textwrap.dedent("\n".join(lines[statement.lineno - 1:statement.end_lineno])))
    return out


@pytest.mark.parametrize("name", NAMES)
def test_the_script_carries_the_whole_lesson(name):
    script = notebook.percent_script(name, backend="numpy", fast=True)
    ast.parse(script)                                           # valid Python, as jupytext needs
    for statement in main_statements(name):
        assert statement in script, statement
    assert "FAST = True" in script and "BACKEND = 'numpy'" in script
    assert script.count("# %% [markdown]") >= 3                 # prose: the lesson, how to use it, sections
    assert "from ._common" not in script and "from . import" not in script
    assert script.rstrip().endswith("results")


def test_unknown_lesson_and_backend_are_refused():
    with pytest.raises(ValueError, match="no lesson"):
        notebook.percent_script("nonsense")
    with pytest.raises(ValueError, match="backend"):
        notebook.percent_script("xor", backend="gpu")


def test_without_jupytext_the_command_says_what_to_install(tmp_path):
    code = ("import sys\nsys.modules['jupytext'] = None\nfrom pyneuron.cli import main\n"
            "sys.exit(main(sys.argv[1:]))")
    done = subprocess.run([sys.executable, "-c", code, "lessons", "--notebook", "03", "--out", str(tmp_path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "pip install jupytext" in done.stderr
    assert not list(tmp_path.iterdir())


def test_the_command_writes_a_valid_notebook(tmp_path):
    pytest.importorskip("jupytext")
    nbformat = pytest.importorskip("nbformat")
    done = subprocess.run([sys.executable, "-m", "pyneuron.cli", "lessons", "--notebook", "xor", "--out",
                           str(tmp_path)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    path = tmp_path / "03_xor.ipynb"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    kinds = [cell.cell_type for cell in nb.cells]
    assert kinds.count("markdown") >= 3 and kinds.count("code") >= 3
    assert nb.cells[0].source.startswith("# Lesson 03")
    assert any(cell.source.startswith("## XOR") for cell in nb.cells if cell.cell_type == "markdown")
    done = subprocess.run([sys.executable, "-m", "pyneuron.cli", "lessons", "--notebook", "nonsense"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2 and "no lesson" in done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_every_notebook_runs_and_reaches_the_lessons_results(name, tmp_path):
    pytest.importorskip("jupytext")
    pytest.importorskip("ipykernel")
    pytest.importorskip("matplotlib")
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    if name == "digits":
        pytest.importorskip("sklearn")
    if name == "graduating":
        pytest.importorskip("torch")
    nb = notebook.notebook(name, backend="numpy", fast=True)
    saved = tmp_path / "results.pkl"
    nb.cells.append(nbformat.v4.new_code_cell(
        f"import pickle\nwith open({str(saved)!r}, 'wb') as f:\n    pickle.dump(results, f)"))
    env_before = os.environ.get("PYNEURON_PROGRESS")
    os.environ["PYNEURON_PROGRESS"] = "0"                 # the kernel inherits it: no bars in the outputs
    try:
        nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        if env_before is None:
            os.environ.pop("PYNEURON_PROGRESS", None)
        else:
            os.environ["PYNEURON_PROGRESS"] = env_before
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    with open(saved, "rb") as f:
        KEY_RESULTS[name](pickle.load(f))
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    assert "Lesson " in text and "expected time" in text
    if "save(args" in inspect.getsource(lessons.load(name)):   # a lesson that draws figures
        assert images, "a figure should be displayed inline"
        assert not any("<Figure size" in o.get("data", {}).get("text/plain", "") and
                       "image/png" not in o.get("data", {}) for o in outputs)
