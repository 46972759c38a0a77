"""A bare install works: pyneuron imports only its declared dependencies at module
level, and everything else (matplotlib, scikit-learn, PyTorch, the notebook tools)
only inside a function or behind an ``except ImportError`` guard.

CI proves the same from the outside (.ci/run stage 1 runs the README's commands in
a fresh virtual environment without the extras); these tests catch the mistake in
any environment, with the extras installed or not.
"""
from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "pyneuron"


def _names(pattern):
    text = (ROOT / "pyproject.toml").read_text()
    block = re.search(pattern, text, re.M | re.S).group(1)
    return {name.lower().replace("-", "_") for name in re.findall(r'"([A-Za-z0-9_.-]+)', block)}


def declared_dependencies():
    """Import names of ``[project] dependencies`` in pyproject.toml (e.g. numpy, cffi, tqdm)."""
    return _names(r"^dependencies\s*=\s*\[(.*?)\]")


def extra_test_names():
    """Import names of the ``test`` extra (what ``pip install ".[test]"`` adds)."""
    return _names(r"^test\s*=\s*\[(.*?)\]") | {"_pytest"}


ALLOWED = set(sys.stdlib_module_names) | declared_dependencies() | {"pyneuron", "_cffi_backend"}


def guarded(node, parents, postponed=False):
    """Whether ``node`` sits in a ``try`` whose handlers catch ImportError, or (in a module
    whose annotations are postponed, ``from __future__ import annotations``) under
    ``if TYPE_CHECKING:``, which never runs: such an import only names types for checkers."""
    for parent in parents:
        if postponed and isinstance(parent, ast.If) and _is_type_checking(parent.test) \
                and node in _walk_body(parent.body):
            return True
        if isinstance(parent, ast.Try) and node in _walk_body(parent.body):
            for handler in parent.handlers:
                names = _handler_names(handler)
                if names & {"ImportError", "ModuleNotFoundError", "Exception", "BaseException", None}:
                    return True
    return False


def _is_type_checking(test):
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _postponed_annotations(tree):
    return any(isinstance(node, ast.ImportFrom) and node.module == "__future__"
               and any(alias.name == "annotations" for alias in node.names) for node in tree.body)


def _walk_body(statements):
    for statement in statements:
        yield from ast.walk(statement)


def _handler_names(handler):
    if handler.type is None:
        return {None}
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return {t.id if isinstance(t, ast.Name) else getattr(t, "attr", "?") for t in types}


def module_level_imports(tree):
    """``(node, top-level package, parents)`` for every import not inside a function."""
    found = []

    def visit(node, parents):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return                                    # runs only when called
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append((node, alias.name.split(".")[0], parents))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node, node.module.split(".")[0], parents))
        for child in ast.iter_child_nodes(node):
            visit(child, parents + [node])

    visit(tree, [])
    return found


def unguarded_optional_imports(source, filename="<source>"):
    tree = ast.parse(source, filename)
    postponed = _postponed_annotations(tree)
    return [f"{filename}:{node.lineno} imports {package!r} at module level without an ImportError guard"
            for node, package, parents in module_level_imports(tree)
            if package not in ALLOWED and not guarded(node, parents, postponed)]


def test_dependencies_are_read_from_pyproject():
    assert {"numpy", "cffi", "tqdm"} <= declared_dependencies()
    assert "matplotlib" not in ALLOWED and "sklearn" not in ALLOWED and "torch" not in ALLOWED


def guarded_packages(path):
    """The optional packages that ``path``'s package ``__init__`` imports behind a guard:
    its private submodules (``_name.py``) are only reached through that guard."""
    init = path.parent / "__init__.py"
    if not path.name.startswith("_") or path == init or not init.is_file():
        return set()
    tree = ast.parse(init.read_text(encoding="utf-8"))
    return {package for node, package, parents in module_level_imports(tree)
            if package not in ALLOWED and guarded(node, parents)}


def test_every_module_level_optional_import_is_guarded():
    problems = []
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 20
    for path in files:
        found = unguarded_optional_imports(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
        behind_init = guarded_packages(path)
        problems += [p for p in found if not any(f"imports {pkg!r}" in p for pkg in behind_init)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("source, bad", [
    ("import matplotlib.pyplot as plt", True),
    ("from sklearn.base import BaseEstimator", True),
    ("if True:\n    import torch", True),
    ("class A:\n    import pandas", True),
    ("try:\n    import torch\nexcept ValueError:\n    pass", True),
    ("try:\n    import torch\nexcept ImportError:\n    torch = None", False),
    ("try:\n    import torch\nexcept (OSError, ModuleNotFoundError):\n    torch = None", False),
    ("def f():\n    import torch", False),
    ("import numpy, os, json", False),
    ("from . import plot", False),
    ("import tqdm.auto", False),
    ("from __future__ import annotations\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import torch", False),
    ("from __future__ import annotations\nimport typing\nif typing.TYPE_CHECKING:\n    from matplotlib.figure import Figure", False),
    # without postponed annotations, a def's annotation naming the type runs at import
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import torch", True),
    ("from __future__ import annotations\nif DEBUG:\n    import torch", True),
    ("from __future__ import annotations\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    pass\nelse:\n    import torch", True),
])
def test_the_scan_itself(source, bad):
    """The scanner flags what it should (so the test above can fail)."""
    assert bool(unguarded_optional_imports(source)) is bad


def test_pyneuron_and_every_submodule_import_without_the_extras():
    """With matplotlib, scikit-learn, torch, pandas and the notebook tools made
    unimportable, ``import pyneuron`` and every submodule still import, or refuse
    with the install command (``pyneuron.sklearn``), never a bare ImportError."""
    blocked = ["matplotlib", "sklearn", "torch", "pandas", "scipy", "jupytext", "nbclient", "nbformat",
               "ipykernel", "IPython"]
    code = f"""
import importlib, pkgutil, sys
for name in {blocked!r}:
    sys.modules[name] = None
import pyneuron
failed, hinted = [], []
for info in pkgutil.walk_packages(pyneuron.__path__, "pyneuron."):
    if any(info.name.startswith(parent + ".") for parent in hinted):
        continue                                      # reached only through a parent that explained itself
    try:
        importlib.import_module(info.name)
    except ImportError as exc:
        if "pip install" in str(exc):                 # refuses with the install command: right
            hinted.append(info.name)
            continue
        if info.name == "pyneuron._kernels" or "pyneuron._kernels" in str(exc):
            continue                                  # the compiled C module: absent in a source tree
        failed.append(f"{{info.name}}: {{exc}}")
print("\\n".join(failed) or "ok")
"""
    env = dict(os.environ)
    env.pop("PYNEURON_BACKEND", None)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok", done.stdout


def skipped_at_module_level(tree):
    """Packages a test module hands to ``pytest.importorskip`` at module level."""
    names = set()
    for node in tree.body:
        value = getattr(node, "value", None)
        if isinstance(value, ast.Call) and getattr(value.func, "attr", None) == "importorskip" and value.args \
                and isinstance(value.args[0], ast.Constant):
            names.add(str(value.args[0].value).split(".")[0])
    return names


def test_test_modules_import_only_what_the_test_extra_installs():
    """The README's ``pip install ".[test]" && pytest`` collects every test file: a test
    module may import at module level only the standard library, pyneuron's
    dependencies, the ``test`` extra and its own helpers; anything else must be
    behind ``pytest.importorskip`` (or an ImportError guard), or inside the test."""
    # the docs' helper scripts that tests import (docs/conf.py is Sphinx's, never imported
    # by a test); they are held to the same rule below, since a test imports them
    docs_helpers = sorted(p for p in (ROOT / "docs").glob("*.py") if p.name != "conf.py")
    local = ({p.stem for p in (ROOT / "tests").glob("*.py")} | {p.stem for p in (ROOT / "bench").glob("*.py")}
             | {p.stem for p in docs_helpers})
    allowed = ALLOWED | extra_test_names() | local
    problems = []
    for path in sorted((ROOT / "tests").glob("*.py")) + sorted((ROOT / "bench").glob("*.py")) + docs_helpers:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = skipped_at_module_level(tree)
        for node, package, parents in module_level_imports(tree):
            if package not in allowed and package not in skipped and not guarded(node, parents):
                problems.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {package!r}, which "
                                f"pip install \".[test]\" does not install")
    assert not problems, "\n".join(problems)
