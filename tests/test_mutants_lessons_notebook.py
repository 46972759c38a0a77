"""pyneuron.lessons.notebook beyond test_learner_notebooks and test_learner_open: what the
mutation run (.ci/mutation.py pyneuron/lessons/notebook.py, issue 15 item 10) needs — the
whole percent-format script of a small hand-made lesson, written out cell by cell (prose,
settings, imports and constants sharing a cell, a decorated helper and its docstring, the
sections of ``main`` at each ``heading``, the rewritten ``parse`` and ``return``), both
settings of ``fast``, a lesson without docstring, seeds or measured times, the lessons it
refuses, and the notebook, the file, and opening it in Jupyter."""
from __future__ import annotations

import ast
import importlib
import json
import sys
import types

import pytest

from pyneuron import lessons
from pyneuron.lessons import _common, notebook

FAKE = '''"""Lesson 3: a fake lesson.

It follows seed 003, step by step."""
from __future__ import annotations

import numpy as np
from ._common import heading, parse, parser
from . import find

RATE = 0.5
STEPS = 3
"a bare string"


@functools.cache
def helper(x):
    """Double
    x."""
    return 2 * x


def quiet(x):
    return x


class Box:
    """A box."""


def main(argv=None):
    args = parse(parser(__doc__), argv, __name__)
    a = helper(
        1)
    heading("Step one")
    b = a + 1
    c = b * 2
    heading(f"Step {a} of {c}!")
    if c:
        d = c
    return {"d": d,
            "a": a}


if __name__ == "__main__":
    main()
'''

HEADER = '(a "seed" is one of the five tutorials pyneuron grew from; this lesson follows:)'
INTRO = ("This notebook is generated from `pyneuron/lessons/xor.py` (`pyneuron lessons --notebook 03`), so it runs "
         "the same code as `pyneuron lessons xor`. Change `BACKEND` to `\"scalar\"` to run the textbook loops "
         "(slower: see the times below), ")
TAIL = ["# %% [markdown]\n# `results` holds the lesson's key numbers (the ones its tests check).\n",
        "# %%\nresults\n"]


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """Lesson "xor" read from a file holding ``source`` (never imported: only its source is read)."""
    loaded = []

    def install(source, name="fake_lesson"):
        path = tmp_path / f"{name}.py"
        path.write_text(source)
        module = types.ModuleType(name)
        module.__file__ = str(path)

        def load(lesson):
            loaded.append(lesson)
            return module
        monkeypatch.setattr(notebook, "load", load)
        return loaded
    return install


@pytest.fixture
def xor_times(monkeypatch):
    monkeypatch.setitem(lessons.EXPECTED_SECONDS, "xor", {"full": {"numpy": 2.0}, "fast": {"numpy": 0.5}})


def body_cells():
    return [
        "# %%\nimport numpy as np\nfrom pyneuron.lessons._common import heading, parse, parser\n"
        "from pyneuron.lessons import find\n",
        '# %%\nRATE = 0.5\nSTEPS = 3\n"a bare string"\n',
        "# %% [markdown]\n# `helper`: Double x.\n",
        '# %%\n@functools.cache\ndef helper(x):\n    """Double\n    x."""\n    return 2 * x\n',
        "# %%\ndef quiet(x):\n    return x\n",
        "# %% [markdown]\n# `Box`: A box.\n",
        '# %%\nclass Box:\n    """A box."""\n',
        '# %%\nargs = parse(parser(""), ["--backend", BACKEND] + (["--fast"] if FAST else []), '
        '"pyneuron.lessons.xor")\na = helper(\n    1)\n',
        "# %% [markdown]\n# ## Step one\n",
        '# %%\nheading("Step one")\nb = a + 1\nc = b * 2\n',
        "# %% [markdown]\n# ## Step … of …!\n",
        '# %%\nheading(f"Step {a} of {c}!")\nif c:\n    d = c\nresults = {"d": d,\n        "a": a}\n',
    ] + TAIL


def test_the_script_of_a_small_lesson_cell_by_cell(fake, xor_times):
    loaded = fake(FAKE)
    script = notebook.percent_script("3", backend="c")
    assert loaded == ["xor"]
    cells = [
        "# %% [markdown]\n# # Lesson 03: a hidden layer solves XOR\n#\n# Lesson 3: a fake lesson.\n#\n"
        f"# It follows seed 003, step by step.\n#\n# {HEADER}\n#\n# - seed 003: {_common.SEEDS['003']}\n",
        "# %% [markdown]\n# " + INTRO + "or `FAST` to `True` for the quick setting.\n#\n"
        "# - expected time (CPU time on one core): numpy about 2 s\n"
        "# - expected time with --fast (CPU time on one core): numpy under 1 s\n",
        "# %%\nBACKEND = 'c'\nFAST = False\n",
    ] + body_cells()
    assert script.split("\n\n# %%") == "\n".join(cells).split("\n\n# %%")     # cell by cell, for the diff
    assert script == "\n".join(cells)
    ast.parse(script)


def test_the_fast_setting_says_how_to_leave_it(fake, xor_times):
    fake(FAKE)
    script = notebook.percent_script("xor", backend="numpy", fast=1)
    intro = ("# %% [markdown]\n# " + INTRO + "or `FAST` to `False` for the full run (`FAST = True` is the "
             "lesson's quick setting).\n#\n")
    assert intro in script
    assert "\n# %%\nBACKEND = 'numpy'\nFAST = True\n\n" in script


def test_a_lesson_without_docstring_seeds_or_times(fake, monkeypatch):
    monkeypatch.delitem(lessons.EXPECTED_SECONDS, "xor")
    fake("x = 1\n\n\ndef main(argv=None):\n    heading('First')\n    return {}\n")
    script = notebook.percent_script("xor")
    assert script == "\n".join([
        "# %% [markdown]\n# # Lesson 03: a hidden layer solves XOR\n#\n# a hidden layer solves XOR\n",
        "# %% [markdown]\n# " + INTRO + "or `FAST` to `True` for the quick setting.\n",
        "# %%\nBACKEND = 'numpy'\nFAST = False\n",
        "# %%\nx = 1\n",
        "# %% [markdown]\n# ## First\n",
        "# %%\nheading('First')\nresults = {}\n"] + TAIL)


@pytest.mark.parametrize("call, prose", [("heading()", "Next step"), ("heading(3)", "Next step"),
                                         ("heading(title)", "Next step"), ("heading('a' 'b')", "ab"),
                                         ("heading(f'{n} steps')", "… steps")])
def test_heading_prose(fake, monkeypatch, call, prose):
    monkeypatch.delitem(lessons.EXPECTED_SECONDS, "xor")
    fake(f"def main(argv=None):\n    n = 1\n    {call}\n    return n\n")
    script = notebook.percent_script("xor")
    assert f"# %%\nn = 1\n\n# %% [markdown]\n# ## {prose}\n\n# %%\n{call}\nresults = n\n" in script


@pytest.mark.parametrize("main", [
    "def main(argv=None):\n    n = 1\n    other('x')\n    box.heading('y')\n    m = heading('z')\n    return n\n",
    "def main(argv=None):\n    n = parse.x\n    args = other(1)\n    parse(1)\n    return n\n"])
def test_only_a_call_of_heading_starts_a_section_and_only_args_parse_is_rewritten(fake, monkeypatch, main):
    monkeypatch.delitem(lessons.EXPECTED_SECONDS, "xor")
    fake(main)
    script = notebook.percent_script("xor")
    body = [line.strip() for line in main.splitlines()[1:-1]]
    assert script.endswith("\n# %%\n" + "\n".join(body) + "\nresults = n\n\n" + "\n".join(TAIL))
    assert "## " not in script and "BACKEND]" not in script


def test_a_heading_first_in_main_makes_no_empty_cell(fake, monkeypatch):
    monkeypatch.delitem(lessons.EXPECTED_SECONDS, "xor")
    fake("def main(argv=None):\n    heading('A')\n    return 1\n")
    assert notebook.percent_script("xor").endswith("FAST = False\n\n# %% [markdown]\n# ## A\n\n"
                                                   "# %%\nheading('A')\nresults = 1\n\n" + "\n".join(TAIL))


@pytest.mark.parametrize("source", ["x = 1\n", "def main(argv=None):\n    x = 1\n",
                                    "def main(argv=None):\n    return 1\n    x = 1\n"])
def test_a_lesson_without_a_main_that_returns_is_refused(fake, source):
    fake(source)
    with pytest.raises(RuntimeError, match=r"^lesson xor: expected a main\(argv\) that ends by returning its "
                                           r"results$"):
        notebook.percent_script("xor")


def test_markdown_and_code_cells():
    assert notebook._markdown("\n\nA  \n\n B\n\n") == "# %% [markdown]\n# A\n#\n#  B\n"
    assert notebook._code("\n\nx = 1\n\n  y\n\n") == "# %%\nx = 1\n\n  y\n"
    assert notebook._segment(["a", "b", "c", "d"], 2, 3) == "b\nc"
    assert notebook._absolute_imports("from ._common import a\nfrom . import b\nfrom .xor import c") == (
        "from pyneuron.lessons._common import a\nfrom pyneuron.lessons import b\nfrom .xor import c")


def test_unknown_lesson_is_refused_before_reading_anything(fake):
    loaded = fake(FAKE)
    with pytest.raises(ValueError, match="no lesson called 'nope'"):
        notebook.percent_script("nope")
    with pytest.raises(ValueError, match="backend"):
        notebook.percent_script("xor", backend="gpu")
    assert loaded == []


# ---------------------------------------------------------------------------- the notebook and its file
def test_notebook_without_jupytext_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "jupytext", None)
    with pytest.raises(ImportError) as caught:
        notebook.notebook("xor")
    assert str(caught.value) == ("notebooks need jupytext, nbclient and ipykernel: pip install jupytext nbclient "
                                 "ipykernel matplotlib")
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_notebook_cells_and_kernel(fake, xor_times):
    pytest.importorskip("jupytext")
    fake(FAKE)
    nb = notebook.notebook("xor", backend="scalar", fast=True)
    assert nb.metadata["kernelspec"] == {"name": "python3", "display_name": "Python 3", "language": "python"}
    assert [cell.cell_type for cell in nb.cells][:4] == ["markdown", "markdown", "code", "code"]
    assert nb.cells[2].source == "BACKEND = 'scalar'\nFAST = True"
    assert nb.cells[-1].source == "results"
    assert notebook.notebook("xor").cells[2].source == "BACKEND = 'numpy'\nFAST = False"      # the defaults


def test_write_makes_the_folder_and_names_the_file(fake, xor_times, tmp_path):
    pytest.importorskip("jupytext")
    fake(FAKE)
    folder = tmp_path / "a" / "b"
    path = notebook.write("3", str(folder), backend="c", fast=True)
    assert path == str(folder / "03_xor.ipynb")
    nb = json.loads((folder / "03_xor.ipynb").read_text())
    assert "".join(nb["cells"][2]["source"]) == "BACKEND = 'c'\nFAST = True"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert notebook.write("xor", str(folder)) == path                  # the folder exists: written again
    nb = json.loads((folder / "03_xor.ipynb").read_text())
    assert "".join(nb["cells"][2]["source"]) == "BACKEND = 'numpy'\nFAST = False"


def test_all_lessons_in_order():
    assert notebook.all_lessons() == [importlib.import_module(f"pyneuron.lessons.{name}").__name__.rsplit(".")[-1]
                                      for _, name, _ in lessons.LESSONS]
    assert notebook.all_lessons()[0] == "single_neuron" and notebook.all_lessons()[-1] == "graduating"
    assert len(notebook.all_lessons()) == 13


# ---------------------------------------------------------------------------- opening it
@pytest.mark.parametrize("installed, program", [({"jupyter-lab", "jupyter-notebook"}, "jupyter-lab"),
                                                ({"jupyter-notebook"}, "jupyter-notebook"),
                                                ({"jupyter-lab"}, "jupyter-lab"), (set(), None)])
def test_jupyter_command_prefers_lab(monkeypatch, installed, program):
    monkeypatch.setattr(notebook.shutil, "which", lambda name: f"/bin/{name}" if name in installed else None)
    expected = None if program is None else [f"/bin/{program}", "nb.ipynb"]
    assert notebook.jupyter_command("nb.ipynb") == expected


def test_open_without_jupyter_says_how(monkeypatch):
    monkeypatch.setattr(notebook, "jupyter_command", lambda path: None)
    said = []
    assert notebook.open_in_jupyter("x/03_xor.ipynb", say=said.append) == 0
    assert said == ["to open it, install JupyterLab (pip install jupyterlab) and run: jupyter lab x/03_xor.ipynb  "
                    "(or open the file in VS Code)"]


@pytest.mark.parametrize("outcome, status", [(3, 3), (0, 0), (KeyboardInterrupt, 0)])
def test_open_runs_the_program_and_returns_its_status(monkeypatch, outcome, status):
    monkeypatch.setattr(notebook, "jupyter_command", lambda path: ["/opt/bin/jupyter-lab", path])
    called = []

    def call(command):
        called.append(command)
        if outcome is KeyboardInterrupt:
            raise KeyboardInterrupt
        return outcome
    monkeypatch.setattr(notebook.subprocess, "call", call)
    said = []
    assert notebook.open_in_jupyter("nb.ipynb", say=lambda *a, **k: said.append((a, k))) == status
    assert called == [["/opt/bin/jupyter-lab", "nb.ipynb"]]
    assert said == [(("opening nb.ipynb with jupyter-lab (Ctrl-C stops the server)",), {"flush": True})]
