"""Issue 11: ``pyneuron --version`` and ``pyneuron.__version__`` (the installed ``pyneuron-mlp``
distribution's version, else the source tree's)."""
import importlib
import os
import subprocess
import sys
from importlib import metadata

import pytest

import pyneuron
from pyneuron import _version, cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _pyproject_version():
    tomllib = pytest.importorskip("tomllib")
    path = os.path.join(ROOT, "pyproject.toml")
    if not os.path.exists(path):
        pytest.skip("no pyproject.toml next to the tests (installed package)")
    with open(path, "rb") as f:
        return tomllib.load(f)["project"]["version"]


def test_source_version_is_pyprojects():
    assert _version.SOURCE_VERSION == _pyproject_version()


def test_distribution_name_is_pyprojects():
    tomllib = pytest.importorskip("tomllib")
    path = os.path.join(ROOT, "pyproject.toml")
    if not os.path.exists(path):
        pytest.skip("no pyproject.toml")
    with open(path, "rb") as f:
        assert tomllib.load(f)["project"]["name"] == _version.DISTRIBUTION == "pyneuron-mlp"


def test_dunder_version_is_the_installed_distributions_or_the_sources():
    try:
        expected = metadata.version("pyneuron-mlp")
    except metadata.PackageNotFoundError:
        expected = _pyproject_version()
    assert pyneuron.__version__ == expected


def test_metadata_wins_when_installed_and_source_otherwise(monkeypatch):
    monkeypatch.setattr(metadata, "version", lambda name: {"pyneuron-mlp": "9.8.7"}[name])
    assert _version.version() == "9.8.7"

    def missing(name):
        raise metadata.PackageNotFoundError(name)
    monkeypatch.setattr(metadata, "version", missing)
    assert _version.version() == _version.SOURCE_VERSION
    assert importlib.reload(_version).version() == _version.SOURCE_VERSION


def test_the_unrelated_pyneuron_distribution_is_never_asked(monkeypatch):
    asked = []

    def record(name):
        asked.append(name)
        raise metadata.PackageNotFoundError(name)
    monkeypatch.setattr(metadata, "version", record)
    _version.version()
    assert asked == ["pyneuron-mlp"]


def test_cli_version_prints_and_exits_zero(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.split()[:2] == ["pyneuron", pyneuron.__version__]
    assert "pyneuron-mlp" in out


def test_python_m_pyneuron_version():
    done = subprocess.run([sys.executable, "-m", "pyneuron", "--version"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith(f"pyneuron {pyneuron.__version__} ")
