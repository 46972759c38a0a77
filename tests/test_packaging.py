"""The package installs as this project: its own distribution name (``pyneuron`` on PyPI is
an unrelated project), MIT ``LICENSE``, ``py.typed`` for type checkers, and
``python -m pyneuron`` as the command line."""
import os
import subprocess
import sys
import zipfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIST_NAME = "pyneuron-mlp"


def _pyproject():
    tomllib = pytest.importorskip("tomllib")       # Python >= 3.11
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        return tomllib.load(f)


def test_python_dash_m_pyneuron_runs_the_command_line():
    for args in (["--help"], []):
        proc = subprocess.run([sys.executable, "-m", "pyneuron", *args], capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith("usage: pyneuron") and "demo" in proc.stdout
    bad = subprocess.run([sys.executable, "-m", "pyneuron", "no-such-command"], capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr     # argparse's refusal, passed through


def test_the_distribution_has_its_own_name_and_the_import_name_stays_pyneuron():
    config = _pyproject()
    assert config["project"]["name"] == DIST_NAME
    assert config["tool"]["setuptools"]["packages"][0] == "pyneuron"
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {root[len(ROOT) + 1:].replace(os.sep, ".")
             for root, _, files in os.walk(os.path.join(ROOT, "pyneuron")) if "__init__.py" in files}
    assert found == listed


def test_license_is_the_mit_text_pyproject_declares():
    assert _pyproject()["project"]["license"] == "MIT"
    with open(os.path.join(ROOT, "LICENSE")) as f:
        text = f.read()
    assert text.startswith("MIT License") and "Copyright (c)" in text and "the pyneuron authors" in text
    assert "THE SOFTWARE IS PROVIDED \"AS IS\"" in text


def test_py_typed_is_in_the_package_and_declared_as_package_data():
    assert os.path.isfile(os.path.join(ROOT, "pyneuron", "py.typed"))
    assert "py.typed" in _pyproject()["tool"]["setuptools"]["package-data"]["pyneuron"]


@pytest.mark.slow
def test_the_wheel_carries_py_typed_license_main_and_the_new_name(tmp_path):
    """A wheel built from a copy of the tree (without a compiler: pure Python, quick)."""
    from test_c_build import need_modern_setuptools, source_copy
    need_modern_setuptools()
    src = source_copy(tmp_path)
    env = dict(os.environ, CC="/bin/false", PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop("PYNEURON_REQUIRE_C", None)
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                           "-w", str(tmp_path / "wheels"), str(src)], capture_output=True, text=True,
                          env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (wheel,) = (tmp_path / "wheels").glob("pyneuron_mlp-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        fields = zf.read(metadata).decode()
    for needed in ("pyneuron/py.typed", "pyneuron/__main__.py", "pyneuron/sklearn/__init__.py",
                   "pyneuron/sklearn/_params.py"):
        assert needed in names, needed
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), [n for n in names if "dist-info" in n]
    assert f"Name: {DIST_NAME}\n" in fields and "License-Expression: MIT" in fields
