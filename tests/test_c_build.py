"""The build: the compiled module imports and runs, and a wheel built from a copy of the
source tree (offline, no build isolation) contains it.

With ``PYNEURON_REQUIRE_C=1`` (CI) a missing module FAILS these tests; without it they
skip, saying why.
"""
import glob
import os
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from helpers import C_REQUIRED

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_kernels():
    try:
        from pyneuron import _kernels
    except ImportError as exc:
        if C_REQUIRED:
            pytest.fail(f"PYNEURON_REQUIRE_C is set but pyneuron._kernels is missing: {exc}")
        pytest.skip(f"pyneuron._kernels not built ({exc}); run `python build_kernels.py`")
    return _kernels


def test_compiled_module_imports_and_runs_a_kernel():
    k = load_kernels()
    A = np.array([[1.0, 2.0], [3.0, 4.0]])
    B = np.array([[5.0, 6.0], [7.0, 8.0]])
    C = np.zeros((2, 2))
    k.lib.pyn_matmul_naive_f64(2, 2, 2, k.ffi.from_buffer("double[]", A), 0,
                               k.ffi.from_buffer("double[]", B), 0,
                               k.ffi.from_buffer("double[]", C))
    assert C.tolist() == [[19.0, 22.0], [43.0, 50.0]]


def test_c_backend_is_listed_and_loads():
    load_kernels()
    from pyneuron import backends
    assert "c" in backends.available()
    assert backends.get("c").name == "c"


def test_builder_declares_every_header_function():
    """cffi only exposes what the header declares; the builder must feed all of it."""
    k = load_kernels()
    with open(os.path.join(ROOT, "kernels", "pyneuron_kernels.h")) as f:
        header = f.read()
    import re
    names = set(re.findall(r"\b(pyn_\w+)\(", header))
    assert len(names) > 30
    assert all(hasattr(k.lib, n) for n in names)


def need_modern_setuptools():
    """pyproject.toml's SPDX ``license`` string needs setuptools >= 77 (the test extra
    installs it; an older one here is an environment problem, not a build failure)."""
    import setuptools
    if int(setuptools.__version__.split(".")[0]) < 77:
        pytest.skip(f"setuptools {setuptools.__version__} < 77: pip install -U 'setuptools>=77'")


def source_copy(tmp_path):
    """A fresh ``tmp_path/src`` holding what a clean checkout has (see _copy_source_tree)."""
    src = tmp_path / "src"
    src.mkdir()
    _copy_source_tree(src)
    if not (src / "README.md").exists():  # pyproject names it as the readme
        (src / "README.md").write_text("pyneuron\n")
    return src


def _copy_source_tree(dest):
    """The files a clean checkout has, without any build products."""
    ignore = shutil.ignore_patterns("*.so", "*.o", "*.pyd", "_kernels.c", "__pycache__",
                                    "build", "dist", "*.egg-info", ".git", ".hypothesis",
                                    ".benchmarks")
    for name in ("pyproject.toml", "setup.py", "build_kernels.py", "MANIFEST.in", "README.md",
                 "LICENSE"):
        if os.path.exists(os.path.join(ROOT, name)):
            shutil.copy(os.path.join(ROOT, name), dest)
    for name in ("pyneuron", "kernels"):
        shutil.copytree(os.path.join(ROOT, name), os.path.join(dest, name), ignore=ignore)


@pytest.mark.slow
def test_wheel_from_clean_tree_contains_the_compiled_module(tmp_path):
    """``pip wheel --no-build-isolation`` (offline) on a copy of the tree, then install the
    wheel into a target directory and run a kernel from there in a fresh interpreter."""
    load_kernels()
    need_modern_setuptools()
    src = source_copy(tmp_path)
    env = dict(os.environ, PYNEURON_REQUIRE_C="1", PIP_NO_INDEX="1",
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    wheel_dir = tmp_path / "wheels"
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                           "--no-build-isolation", "-w", str(wheel_dir), str(src)],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    wheels = glob.glob(str(wheel_dir / "pyneuron_mlp-*.whl"))
    assert len(wheels) == 1
    names = zipfile.ZipFile(wheels[0]).namelist()
    assert any(n.startswith("pyneuron/_kernels") and n.endswith((".so", ".pyd")) for n in names)
    assert "pyneuron/backends/c_backend.py" in names

    target = tmp_path / "site"
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--target",
                           str(target), wheels[0]], capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    check = ("import numpy as np, pyneuron.backends as b; c = b.get('c'); "
             "import pyneuron._kernels as k; print(k.__file__); "
             "print(c.matmul(np.eye(2), np.ones((2, 2))).sum())")
    run_env = dict(os.environ, PYTHONPATH=str(target))
    proc = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                          cwd=str(tmp_path), env=run_env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.splitlines()[0].startswith(str(target))
    assert proc.stdout.splitlines()[1] == "4.0"


@pytest.mark.slow
def test_sdist_ships_the_c_sources(tmp_path):
    """Installing from an sdist needs build_kernels.py and kernels/*.c, *.h (MANIFEST.in)."""
    load_kernels()
    need_modern_setuptools()
    src = source_copy(tmp_path)
    proc = subprocess.run([sys.executable, "-c",
                           "from setuptools import build_meta as b; print(b.build_sdist('dist'))"],
                          cwd=str(src), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    import tarfile
    name = proc.stdout.strip().splitlines()[-1]
    members = tarfile.open(src / "dist" / name).getnames()
    for needed in ("build_kernels.py", "setup.py", "kernels/pyneuron_kernels.h",
                   "kernels/pyneuron_kernels.c", "kernels/typed_kernels.c"):
        assert any(m.endswith(needed) for m in members), needed
