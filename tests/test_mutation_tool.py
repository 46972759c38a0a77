"""The mutation tool (.ci/mutation.py) on a two-function project: the tested function's
mutants are killed, the untested one's survive, the working tree is never changed, and a
mutant recorded as equivalent is not run and leaves the rate."""
import ast
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
    killed, total, survivors, equivalent = tool.run("toy.py", ["test_toy.py"], root=str(tmp_path), out=seen.append)
    # is_adult: >= -> > (killed by 18), 18 -> 19 (killed by 18); untested: + -> - (survives)
    assert (killed, total, equivalent) == (2, 3, 0)
    assert survivors == [(9, "Add -> Sub")]
    assert seen == ["SURVIVED toy.py:9 Add -> Sub"]
    assert (tmp_path / "toy.py").read_text() == SOURCE          # the copy was mutated, not the tree


def test_k_selects_the_tests_that_run_on_each_mutant(tmp_path, monkeypatch, capsys):
    tool = load_tool()
    (tmp_path / "toy.py").write_text(SOURCE)
    (tmp_path / "test_toy.py").write_text(TESTS + "\n\ndef test_untested():\n    from toy import untested\n"
                                          "    assert untested(2, 3) == 5\n")
    monkeypatch.setattr(tool, "ROOT", str(tmp_path))
    assert tool.main(["toy.py", "test_toy.py", "-k", "not untested", "--min-kill", "100"]) == 1
    assert "toy.py: 2/3 killed (66.7%), 0 equivalent" in capsys.readouterr().out
    assert tool.main(["toy.py", "test_toy.py", "--min-kill", "100"]) == 0
    assert "toy.py: 3/3 killed (100.0%), 0 equivalent" in capsys.readouterr().out


def test_lines_limit_the_mutants_and_min_kill_sets_the_exit_status(tmp_path, monkeypatch, capsys):
    tool = load_tool()
    (tmp_path / "toy.py").write_text(SOURCE)
    (tmp_path / "test_toy.py").write_text(TESTS)
    assert tool.run("toy.py", ["test_toy.py"], root=str(tmp_path), lines=(4, 5), out=print)[:2] == (2, 2)
    monkeypatch.setattr(tool, "ROOT", str(tmp_path))
    assert tool.main(["toy.py", "test_toy.py", "--min-kill", "60"]) == 0       # 66.7 %
    assert tool.main(["toy.py", "test_toy.py", "--min-kill", "70"]) == 1
    assert "toy.py: 2/3 killed (66.7%), 0 equivalent" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        tool.main(["toy.py", "test_toy.py", "--lines", "9-4"])


def test_recorded_equivalent_mutants_are_skipped_and_leave_the_rate(tmp_path, monkeypatch, capsys):
    tool = load_tool()
    (tmp_path / "toy.py").write_text(SOURCE)
    (tmp_path / "test_toy.py").write_text(TESTS)
    (tmp_path / ".ci").mkdir()
    (tmp_path / ".ci" / "mutation_equivalent.txt").write_text(
        "# a comment line\n\n"
        "toy.py:9 Add -> Sub  # pretend: only ever called with b = 0\n"
        "toy.py:5 Lt -> LtE  # a record the code no longer matches\n")
    seen = []
    killed, total, survivors, equivalent = tool.run("toy.py", ["test_toy.py"], root=str(tmp_path), out=seen.append)
    assert (killed, total, survivors, equivalent) == (2, 3, [], 1)
    assert seen == ["EQUIVALENT toy.py:9 Add -> Sub",
                    "STALE toy.py:5 Lt -> LtE  (recorded as equivalent, but no such mutant)"]
    # --lines that leave the stale record's line out do not report it
    seen = []
    assert tool.run("toy.py", ["test_toy.py"], root=str(tmp_path), lines=(9, 9), out=seen.append) == (0, 1, [], 1)
    assert seen == ["EQUIVALENT toy.py:9 Add -> Sub"]
    monkeypatch.setattr(tool, "ROOT", str(tmp_path))
    assert tool.main(["toy.py", "test_toy.py", "--min-kill", "100"]) == 0     # 2/2 non-equivalent killed
    assert "toy.py: 2/2 killed (100.0%), 1 equivalent" in capsys.readouterr().out


@pytest.mark.parametrize("record", ["toy.py:9 Add -> Sub", "toy.py:9 Add -> Sub  #  ", "toy.py Add -> Sub  # why",
                                    "toy.py:x Add -> Sub  # why", "toy.py:9  # why", ":9 Add -> Sub  # why"])
def test_a_record_without_place_description_or_reason_is_refused(tmp_path, record):
    tool = load_tool()
    path = tmp_path / "equivalent.txt"
    path.write_text("# fine\n" + record + "\n")
    with pytest.raises(ValueError, match=r"equivalent.txt:2: expected 'path:line description  # why equivalent'"):
        tool.read_equivalent(str(path))


def test_the_project_records_parse_and_name_existing_mutants():
    """Each record names a mutant the tool makes today: code that moved leaves a STALE
    record, which this catches before the next mutation run reports it."""
    tool = load_tool()
    records = tool.read_equivalent(os.path.join(ROOT, ".ci", "mutation_equivalent.txt"))
    found = {}
    for module, line, what in records:
        assert os.path.isfile(os.path.join(ROOT, module)), module
        if module not in found:
            with open(os.path.join(ROOT, module)) as f:
                tree = ast.parse(f.read())
            found[module] = {(n, w) for _, _, n, w in tool.numbered(list(tool.mutants(tree)))}
        assert (line, what) in found[module], f"stale record: {module}:{line} {what}"


def test_repeated_descriptions_on_one_line_are_numbered(tmp_path):
    tool = load_tool()
    (tmp_path / "toy.py").write_text("def pad(a):\n    return a.reshape(-1, 1)\n")
    (tmp_path / "test_toy.py").write_text("def test_nothing():\n    pass\n")
    (tmp_path / ".ci").mkdir()
    (tmp_path / ".ci" / "mutation_equivalent.txt").write_text("toy.py:2 1 -> 2 [1]  # reshape(-2, 1) is reshape(-1, 1)\n")
    seen = []
    assert tool.run("toy.py", ["test_toy.py"], root=str(tmp_path), out=seen.append) == (0, 2, [(2, "1 -> 2 [2]")], 1)
    assert seen == ["EQUIVALENT toy.py:2 1 -> 2 [1]", "SURVIVED toy.py:2 1 -> 2 [2]"]
