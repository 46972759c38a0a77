"""The mutation tool (.ci/mutation.py) on a two-function project: the tested function's
mutants are killed, the untested one's survive, and the working tree is never changed."""
import importlib.util
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOL = os.path.join(ROOT, ".ci", "mutation.py")

pytestmark = pytest.mark.skipif(not os.path.isfile(TOOL), reason="the mutation tool lives in the source tree's .ci/")


def load_tool():
    spec = importlib.util.spec_from_file_location("mutation_tool", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SOURCE = '''"""A docstring with a number, 7, that is never mutated."""


def is_adult(age):
    return age >= 18


def untested(a, b):
    return a + b
'''

TESTS = '''from toy import is_adult


def test_is_adult():
    assert is_adult(18) and not is_adult(17)
'''


def test_tested_mutants_die_untested_survive(tmp_path):
    tool = load_tool()
    (tmp_path / "toy.py").write_text(SOURCE)
    (tmp_path / "test_toy.py").write_text(TESTS)
    seen = []
    killed, total, survivors = tool.run("toy.py", ["test_toy.py"], root=str(tmp_path), out=seen.append)
    # is_adult: >= -> > (killed by 18), 18 -> 19 (killed by 18); untested: + -> - (survives)
    assert (killed, total) == (2, 3)
    assert survivors == [(9, "Add -> Sub")]
    assert seen == ["SURVIVED toy.py:9 Add -> Sub"]
    assert (tmp_path / "toy.py").read_text() == SOURCE          # the copy was mutated, not the tree


def test_lines_limit_the_mutants_and_min_kill_sets_the_exit_status(tmp_path, monkeypatch, capsys):
    tool = load_tool()
    (tmp_path / "toy.py").write_text(SOURCE)
    (tmp_path / "test_toy.py").write_text(TESTS)
    assert tool.run("toy.py", ["test_toy.py"], root=str(tmp_path), lines=(4, 5), out=print)[:2] == (2, 2)
    monkeypatch.setattr(tool, "ROOT", str(tmp_path))
    assert tool.main(["toy.py", "test_toy.py", "--min-kill", "60"]) == 0       # 66.7 %
    assert tool.main(["toy.py", "test_toy.py", "--min-kill", "70"]) == 1
    assert "toy.py: 2/3 killed (66.7%)" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        tool.main(["toy.py", "test_toy.py", "--lines", "9-4"])
