"""``pyneuron lessons --notebook N --open``: writes the lesson's notebook and opens it in
JupyterLab (or Notebook) when one is installed, else says how; a notebook already there
is opened as it is, never overwritten; misuse is one line, never a traceback."""
from __future__ import annotations

import os
import stat
import sys

import pytest

from pyneuron.cli import main


def fake_program(directory, name, status=0):
    """An executable ``name`` in ``directory`` that records its arguments and exits ``status``."""
    path = directory / name
    record = directory / f"{name}.args"
    path.write_text(f"#!{sys.executable}\nimport sys\nopen({str(record)!r}, 'w').write('\\n'.join(sys.argv[1:]))\n"
                    f"sys.exit({status})\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return record


@pytest.fixture
def empty_path(tmp_path, monkeypatch):
    """A PATH with nothing on it but a fresh directory (no jupyter)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    return bin_dir


def test_without_jupyter_it_writes_the_notebook_and_says_how_to_open_it(tmp_path, empty_path, capsys):
    pytest.importorskip("jupytext")
    out = tmp_path / "nb"
    assert main(["lessons", "--notebook", "03", "--out", str(out), "--open"]) == 0
    printed = capsys.readouterr().out
    path = out / "03_xor.ipynb"
    assert path.exists() and path.stat().st_size > 0
    assert "pip install jupyterlab" in printed and f"jupyter lab {path}" in printed


def test_with_jupyterlab_it_opens_the_notebook_and_returns_its_status(tmp_path, empty_path, capsys):
    pytest.importorskip("jupytext")
    record = fake_program(empty_path, "jupyter-lab", status=3)
    fake_program(empty_path, "jupyter-notebook")            # JupyterLab is preferred
    out = tmp_path / "nb"
    assert main(["lessons", "--notebook", "xor", "--out", str(out), "--open"]) == 3
    assert record.read_text() == str(out / "03_xor.ipynb")
    assert not (empty_path / "jupyter-notebook.args").exists()
    assert "opening" in capsys.readouterr().out


def test_classic_notebook_when_lab_is_absent(tmp_path, empty_path):
    pytest.importorskip("jupytext")
    record = fake_program(empty_path, "jupyter-notebook")
    assert main(["lessons", "--notebook", "01", "--out", str(tmp_path), "--open"]) == 0
    assert record.read_text() == str(tmp_path / "01_single_neuron.ipynb")


def test_an_existing_notebook_is_opened_as_it_is(tmp_path, empty_path, capsys):
    mine = tmp_path / "03_xor.ipynb"
    mine.write_text("my own edits")
    record = fake_program(empty_path, "jupyter-lab")
    assert main(["lessons", "--notebook", "03", "--out", str(tmp_path), "--open"]) == 0
    assert mine.read_text() == "my own edits"
    assert record.read_text() == str(mine)
    assert "already there" in capsys.readouterr().out


def test_all_opens_the_folder(tmp_path, empty_path):
    pytest.importorskip("jupytext")
    record = fake_program(empty_path, "jupyter-lab")
    assert main(["lessons", "--notebook", "all", "--out", str(tmp_path), "--open"]) == 0
    assert record.read_text() == str(tmp_path)
    from pyneuron import lessons
    assert len(list(tmp_path.glob("*.ipynb"))) == len(lessons.LESSONS)


def test_open_without_a_notebook_is_one_line(capsys):
    assert main(["lessons", "--open"]) == 2
    err = capsys.readouterr().err
    assert "--notebook NAME --open" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_unknown_lesson_with_open_writes_nothing(tmp_path, empty_path, capsys):
    record = fake_program(empty_path, "jupyter-lab")
    assert main(["lessons", "--notebook", "nonsense", "--out", str(tmp_path), "--open"]) == 2
    assert "no lesson" in capsys.readouterr().err
    assert not record.exists() and not list(tmp_path.glob("*.ipynb"))
