"""The package installs as this project: its own distribution name (``pyneuron`` on PyPI is
an unrelated project), MIT ``LICENSE``, ``py.typed`` for type checkers, and
``python -m pyneuron`` as the command line."""
import os
import re
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


# ---------------------------------------------------------------------------- sdist and abi3 wheel
TEXTS = ("pyproject.toml", "setup.py", "build_kernels.py", "MANIFEST.in", "LICENSE", "README.md")
BUILD_PRODUCTS = (".so", ".o", ".pyd", ".pyc", "pyneuron/_kernels.c")


def _checkout_copy(dest):
    """The files a clean checkout has (``git ls-files``, as they are in the working tree), or,
    outside a git checkout (e.g. an unpacked sdist), the tree without build products."""
    import shutil
    listed = subprocess.run(["git", "-C", ROOT, "ls-files", "-z"], capture_output=True, text=True)
    if listed.returncode == 0 and listed.stdout:
        for name in listed.stdout.split("\0"):
            source = os.path.join(ROOT, name)
            if name and os.path.isfile(source):
                os.makedirs(os.path.join(dest, os.path.dirname(name)), exist_ok=True)
                shutil.copy2(source, os.path.join(dest, name))
        return
    ignore = shutil.ignore_patterns("*.so", "*.o", "*.pyd", "_kernels.c", "__pycache__", "build", "dist",
                                    "*.egg-info", ".git", ".hypothesis", ".benchmarks", "_build")
    shutil.copytree(ROOT, dest, ignore=ignore, dirs_exist_ok=True)


def _limited_api_expected():
    """Whether cffi builds the module for the limited API here (setup.py's conditions)."""
    import sysconfig
    from cffi import recompiler
    return (sys.implementation.name == "cpython" and not hasattr(sys, "gettotalrefcount")
            and not sysconfig.get_config_var("Py_GIL_DISABLED") and recompiler.USE_LIMITED_API)


def _c_compiler():
    import shutil
    import sysconfig
    cc = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()[0]
    return shutil.which(cc)


@pytest.fixture(scope="module")
def sdist(tmp_path_factory):
    """``(path of the .tar.gz, member names without the top folder, unpacked folder)``,
    built with setuptools' PEP 517 backend from a copy of the checkout."""
    import tarfile
    from test_c_build import need_modern_setuptools
    need_modern_setuptools()
    base = tmp_path_factory.mktemp("sdist")
    src = base / "src"
    _checkout_copy(src)
    proc = subprocess.run([sys.executable, "-c", "from setuptools import build_meta as b; "
                           "print(b.build_sdist('dist'))"], cwd=str(src), capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    archive = src / "dist" / proc.stdout.strip().splitlines()[-1]
    with tarfile.open(archive) as tar:
        members = [m.split("/", 1)[1] for m in tar.getnames() if "/" in m]
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}     # Python < 3.10.12
        tar.extractall(base / "unpacked", **safe)
    (top,) = (base / "unpacked").iterdir()
    return archive, set(members), top, src


@pytest.mark.slow
def test_the_sdist_carries_what_its_tests_need(sdist):
    archive, members, _, src = sdist
    assert archive.name.startswith("pyneuron_mlp-")
    for folder in ("tests", "bench", "examples"):
        shipped = {os.path.relpath(os.path.join(root, f), src).replace(os.sep, "/")
                   for root, _, files in os.walk(src / folder) for f in files}
        assert shipped and shipped <= members, sorted(shipped - members)
    for needed in ("tests/conftest.py", "tests/helpers.py", "bench/conftest.py", "examples/README.md",
                   "kernels/pyneuron_kernels.h", "kernels/pyneuron_kernels.c", *TEXTS):
        assert needed in members, needed
    assert not [m for m in members if m.endswith(BUILD_PRODUCTS) or "__pycache__" in m
                or m.startswith("docs/_build")]


@pytest.mark.slow
def test_the_wheel_built_from_the_sdist_is_abi3_and_its_tests_pass(sdist, tmp_path):
    """pip builds the wheel from the unpacked sdist (as ``pip install`` of an sdist does): its
    tag is cp310-abi3 and the module ``_kernels.abi3.so`` where cffi builds for the limited
    API (the interpreter's own tag elsewhere); installed, it imports, and tests run from
    the sdist's own tests folder pass against it."""
    import re
    if not _c_compiler():
        pytest.skip("no C compiler: the wheel would hold no module to tag")
    _, _, unpacked, _ = sdist
    env = dict(os.environ, PYNEURON_REQUIRE_C="1", PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                           "-w", str(tmp_path / "wheels"), str(unpacked)], capture_output=True, text=True,
                          env=env, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (wheel,) = (tmp_path / "wheels").glob("pyneuron_mlp-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        modules = [n for n in zf.namelist() if n.startswith("pyneuron/_kernels") and n.endswith((".so", ".pyd"))]
        tags = re.findall(r"^Tag: (.+)$", zf.read(next(n for n in zf.namelist() if n.endswith(".dist-info/WHEEL")))
                          .decode(), re.M)
    python, abi, platform = wheel.name[:-4].split("-")[-3:]
    assert tags == [f"{python}-{abi}-{platform}"]
    if _limited_api_expected():
        assert (python, abi) == ("cp310", "abi3"), wheel.name
        assert modules == ["pyneuron/_kernels.abi3" + (".pyd" if sys.platform == "win32" else ".so")]
    else:
        assert abi != "abi3" and len(modules) == 1 and "abi3" not in modules[0], (wheel.name, modules)

    site = tmp_path / "site"
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(site), str(wheel)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    run_env = dict(env, PYTHONPATH=str(site), MPLBACKEND="Agg")
    # run from tmp_path, not the unpacked folder: its sources must not shadow the installed wheel
    where = subprocess.run([sys.executable, "-c", "import pyneuron._kernels as k; print(k.__file__)"],
                           cwd=str(tmp_path), capture_output=True, text=True, env=run_env, timeout=120)
    assert where.returncode == 0, where.stderr[-3000:]
    assert where.stdout.strip() == str(site / modules[0])
    chosen = ["tests/test_worked_examples.py", "tests/test_backend_flag.py",
              "tests/test_c_build.py::test_compiled_module_imports_and_runs_a_kernel"]
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                            "--rootdir", str(unpacked), "-c", str(unpacked / "pyproject.toml"),
                            *[str(unpacked / t) for t in chosen]],
                           cwd=str(tmp_path), capture_output=True, text=True, env=run_env, timeout=600)
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-3000:]
    assert " passed" in tests.stdout and " skipped" not in tests.stdout.splitlines()[-1], tests.stdout[-500:]


def test_cffis_generated_c_compiles_under_the_limited_api(tmp_path):
    """The abi3 tag is honest: the C that cffi generates for pyneuron._kernels defines
    Py_LIMITED_API itself (before Python.h), and it compiles with the limited API pinned to
    3.10 (the wheel's floor) where any function outside it is an error, not a warning."""
    import sysconfig
    if not _c_compiler():
        pytest.skip("no C compiler")
    if not _limited_api_expected():
        pytest.skip("this interpreter does not build for the limited API (debug, free-threaded or not CPython)")
    sys.path.insert(0, ROOT)
    try:
        import build_kernels
    finally:
        sys.path.remove(ROOT)
    source = tmp_path / "_kernels.c"
    build_kernels.ffibuilder.emit_c_code(str(source))
    cc = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()
    common = [*cc, "-I", sysconfig.get_paths()["include"], "-I", os.path.join(ROOT, "kernels"), str(source)]
    macros = subprocess.run([*common, "-E", "-dM"], capture_output=True, text=True, timeout=120)
    assert macros.returncode == 0, macros.stderr[-3000:]
    assert re.search(r"^#define Py_LIMITED_API\b", macros.stdout, re.M), "cffi did not define Py_LIMITED_API"
    pinned = subprocess.run([*common, "-fsyntax-only", "-DPy_LIMITED_API=0x030A0000",
                             "-Werror=implicit-function-declaration"], capture_output=True, text=True, timeout=120)
    assert pinned.returncode == 0, pinned.stderr[-3000:]
