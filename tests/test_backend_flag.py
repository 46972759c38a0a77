"""The backend flag: set_backend / get_backend / use_backend, a model's
``backend=``, ``PYNEURON_BACKEND`` (read when the default is first needed, a name or a
plugin spec), available_backends."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import pyneuron
from pyneuron import MLP, backends

from helpers import require_backend

ROOT = Path(__file__).resolve().parents[1]


def test_available_backends_lists_scalar_and_numpy():
    names = pyneuron.available_backends()
    assert isinstance(names, list)
    assert "scalar" in names and "numpy" in names
    assert set(names) <= {"scalar", "numpy", "c"}


def test_default_is_numpy_and_set_get():
    assert pyneuron.get_backend() in pyneuron.available_backends()
    pyneuron.set_backend("scalar")
    assert pyneuron.get_backend() == "scalar"
    assert MLP([2, 1]).kernels.name == "scalar"
    pyneuron.set_backend("numpy")
    assert pyneuron.get_backend() == "numpy"
    assert MLP([2, 1]).kernels.name == "numpy"


@pytest.mark.parametrize("bad", ["torch", "NUMPY", "", None, 3])
def test_unknown_name_lists_valid_ones(bad):
    before = pyneuron.get_backend()
    with pytest.raises(ValueError, match=r"backend.*'scalar'.*'numpy'.*'c'"):
        pyneuron.set_backend(bad)
    assert pyneuron.get_backend() == before
    with pytest.raises(ValueError, match="backend"):
        MLP([2, 1], backend=bad if bad is not None else "nope")


def test_use_backend_restores(backend):
    pyneuron.set_backend("numpy")
    with pyneuron.use_backend(backend) as kernels:
        assert pyneuron.get_backend() == backend
        assert kernels.name == backend
    assert pyneuron.get_backend() == "numpy"


def test_use_backend_restores_on_error():
    pyneuron.set_backend("numpy")
    with pytest.raises(ZeroDivisionError):
        with pyneuron.use_backend("scalar"):
            assert pyneuron.get_backend() == "scalar"
            1 / 0
    assert pyneuron.get_backend() == "numpy"


def test_use_backend_nested():
    pyneuron.set_backend("numpy")
    with pyneuron.use_backend("scalar"):
        with pyneuron.use_backend("numpy"):
            assert pyneuron.get_backend() == "numpy"
        assert pyneuron.get_backend() == "scalar"
    assert pyneuron.get_backend() == "numpy"


def test_use_backend_unknown_name_leaves_flag():
    pyneuron.set_backend("numpy")
    with pytest.raises(ValueError, match="backend"):
        with pyneuron.use_backend("fortran"):
            pass  # pragma: no cover
    assert pyneuron.get_backend() == "numpy"


def test_model_backend_overrides_global(backend, monkeypatch):
    pyneuron.set_backend("numpy" if backend != "numpy" else "scalar")
    model = MLP([2, 3, 1], seed=0, backend=backend)
    assert model.kernels.name == backend
    # Any kernel call on another backend would blow up: the model must not touch them.
    for other in pyneuron.available_backends():
        if other != backend:
            for kernel in ("dense_forward", "linear_forward", "activation_forward", "sgd_train_step"):
                monkeypatch.setattr(backends.get(other), kernel,
                                    lambda *a, _o=other, **k: pytest.fail(f"{_o} backend was called"))
    X, y = np.ones((2, 2)), np.array([0, 1])
    model.forward(X)
    model.fit(X, y, epochs=1, batch_size=None, lr=0.1)


def test_model_without_backend_follows_global():
    model = MLP([2, 3, 1], seed=0)
    with pyneuron.use_backend("scalar"):
        assert model.kernels.name == "scalar"
    assert model.kernels.name == pyneuron.get_backend()


def test_neuron_and_activations_follow_flag():
    with pyneuron.use_backend("scalar"):
        assert pyneuron.Neuron([1.0], 0.0).output([0.0]) == 0.5
        assert pyneuron.activations.apply("sigmoid", 0.0) == 0.5


def test_unavailable_c_raises_clearly(monkeypatch):
    """If the C kernels cannot load, asking for 'c' says why and how to build."""
    monkeypatch.setattr(backends, "_instances", {k: v for k, v in backends._instances.items() if k != "c"})
    monkeypatch.setattr(backends, "_c_error", "the 'c' backend is not available: test")
    with pytest.raises(pyneuron.BackendUnavailableError, match="'c' backend is not available"):
        pyneuron.set_backend("c")
    assert "c" not in pyneuron.available_backends()


def _run(env_value, code="import pyneuron; print(pyneuron.get_backend())", **extra):
    env = dict(os.environ, **extra)
    env.pop("PYNEURON_BACKEND", None)
    if env_value is not None:
        env["PYNEURON_BACKEND"] = env_value
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=str(ROOT), timeout=120)


@pytest.mark.parametrize("value", ["scalar", "numpy"])
def test_environment_variable_read_at_import(value):
    proc = _run(value)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == value


def test_environment_variable_unset_gives_numpy():
    proc = _run(None)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "numpy"


@pytest.mark.parametrize("value", ["cuda", "gpu", "NUMPY"])
def test_environment_variable_invalid_fails_clearly(value):
    proc = _run(value, "import pyneuron; print(pyneuron.MLP([2, 1]).predict([[1.0, 2.0]]))")
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("pyneuron._config.BackendEnvironmentError: ")
    assert "PYNEURON_BACKEND" in last and repr(value) in last and "'scalar', 'numpy', 'c'" in last
    assert "register_backend" in last                  # how a name of one's own becomes valid
    proc = _run(value, "import pyneuron; print(pyneuron.get_backend())")
    assert "PYNEURON_BACKEND" in proc.stderr.strip().splitlines()[-1]
    # importing alone reads nothing: the name may still be registered by the script
    proc = _run(value, "import pyneuron; print('imported')")
    assert proc.returncode == 0 and proc.stdout.strip() == "imported", proc.stderr


LEARNER = """
import numpy as np
import pyneuron as pn

class Mine:
    calls = 0
    def linear_forward(self, X, W, b):
        Mine.calls += 1
        return X @ W.T + b

pn.register_backend("mine", Mine())
model = pn.MLP([2, 3, 1], seed=0)
model.predict(np.array([[1.0, 2.0]]))
print(pn.get_backend(), model.kernels.name, Mine.calls)
"""


def test_environment_variable_names_a_backend_registered_after_import():
    proc = _run("mine", LEARNER)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["mine", "mine", "2"]           # two layers' forward passes


def test_environment_variable_as_a_plugin_spec_imports_and_registers_it():
    tests = str(Path(__file__).resolve().parent)
    code = ("import os, sys; sys.path.insert(0, os.environ['TESTS'])\n"
            "import pyneuron as pn\n"
            "print(pn.get_backend(), pn.backend_report(pn.get_backend()).own)\n"
            "print(pn.MLP([3, 4, 1], seed=0).kernels.name)\n")
    for spec, name in (("engines_planted:OffByOneBug=mine", "mine"), ("engines_planted:SignBug", "signbug")):
        proc = _run(spec, code, TESTS=tests)
        assert proc.returncode == 0, proc.stderr
        first, second = proc.stdout.splitlines()
        assert first.split(" ", 1)[0] == name and second == name
    assert "['linear_backward']" in _run("engines_planted:OffByOneBug=mine", code, TESTS=tests).stdout


@pytest.mark.parametrize("spec, says", [("engines_planted:Nope", "module 'engines_planted' has no attribute 'Nope'"),
                                        ("no_such_module_h6:Thing", "No module named 'no_such_module_h6'"),
                                        ("engines_planted:", "expected MODULE:ATTR or MODULE:ATTR=NAME")])
def test_a_plugin_spec_that_cannot_load_names_the_variable(spec, says):
    tests = str(Path(__file__).resolve().parent)
    code = "import os, sys; sys.path.insert(0, os.environ['TESTS']); import pyneuron; pyneuron.get_backend()"
    proc = _run(spec, code, TESTS=tests)
    last = proc.stderr.strip().splitlines()[-1]
    assert proc.returncode != 0 and last.startswith("pyneuron._config.BackendEnvironmentError: ")
    assert f"PYNEURON_BACKEND={spec!r}" in last and says in last


def test_the_variable_is_not_read_where_the_backend_is_chosen():
    code = ("import pyneuron as pn\n"
            "with pn.use_backend('scalar'):\n"
            "    print(pn.MLP([2, 1]).kernels.name)\n"
            "print(pn.MLP([2, 1], backend='numpy').kernels.name)\n"
            "pn.set_backend('numpy')\n"
            "print(pn.MLP([2, 1]).kernels.name)\n")
    proc = _run("gpu", code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["scalar", "numpy", "numpy"]


def test_a_failed_read_is_not_remembered(monkeypatch):
    """Asked before the name is registered: the clear error; registered, then asked again: it."""
    from pyneuron import _config
    monkeypatch.setattr(_config, "_default", None)
    monkeypatch.setattr(_config, "_default_from_environment", False)
    monkeypatch.setenv("PYNEURON_BACKEND", "later")
    with pytest.raises(pyneuron.BackendEnvironmentError, match="PYNEURON_BACKEND='later' is not a backend"):
        MLP([2, 1]).kernels
    from pyneuron.backends.numpy_backend import NumpyBackend
    pyneuron.register_backend("later", NumpyBackend())
    try:
        assert pyneuron.get_backend() == "later" and MLP([2, 1]).kernels.name == "later"
        monkeypatch.setenv("PYNEURON_BACKEND", "scalar")
        assert pyneuron.get_backend() == "later"        # read once it succeeded, not again
        with pyneuron.use_backend("scalar"):
            assert pyneuron.get_backend() == "scalar"
    finally:
        backends.unregister_backend("later")
        pyneuron.set_backend("numpy")


def test_the_command_line_takes_a_plugin_in_the_variable(tmp_path):
    tests = str(Path(__file__).resolve().parent)
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=tests + os.pathsep + str(ROOT))
    for value, argv in (("engines_planted:OffByOneBug=mine", []),
                        ("mine", ["--plugin", "engines_planted:OffByOneBug=mine"])):
        env["PYNEURON_BACKEND"] = value
        done = subprocess.run([sys.executable, "-m", "pyneuron.cli", *argv, "train", "--epochs", "1",
                               "--samples", "20"], capture_output=True, text=True, cwd=str(ROOT), env=env,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        assert "backend mine" in done.stdout
    env["PYNEURON_BACKEND"] = "engines_planted:Nope"
    done = subprocess.run([sys.executable, "-m", "pyneuron.cli", "train", "--epochs", "1"], capture_output=True,
                          text=True, cwd=str(ROOT), env=env, timeout=120)
    assert done.returncode == 2 and done.stdout == "" and "Traceback" not in done.stderr
    assert done.stderr.strip() == ("pyneuron train: error: PYNEURON_BACKEND='engines_planted:Nope' could not be "
                                   "loaded as a plugin backend (MODULE:ATTR or MODULE:ATTR=NAME): "
                                   "PYNEURON_BACKEND: module 'engines_planted' has no attribute 'Nope'")


def test_environment_error_is_a_value_error():
    from pyneuron._config import BackendEnvironmentError, environment_error
    assert issubclass(BackendEnvironmentError, ValueError)
    assert pyneuron.BackendEnvironmentError is BackendEnvironmentError
    for good in ("scalar", "numpy", "c", "", "package.module:Kernels", "package.module:Kernels=mine"):
        assert environment_error(good) is None
    assert "PYNEURON_BACKEND='tpu'" in str(environment_error("tpu"))
    assert "is not a plugin spec" in str(environment_error("package.module:Kernels=my engine"))


def test_environment_c_without_the_module_fails_only_when_used():
    """PYNEURON_BACKEND=c on a machine without the C module: importing works, a
    model that names its backend works, the default names the variable when used."""
    code = ("import sys; sys.modules['pyneuron._kernels'] = None\n"
            "import pyneuron as pn\n"
            "assert pn.get_backend() == 'c' and 'c' not in pn.available_backends()\n"
            "print(pn.MLP([2, 1], backend='numpy', seed=0).predict([[1.0, 2.0]]).tolist())\n"
            "try:\n"
            "    pn.MLP([2, 1]).predict([[1.0, 2.0]])\n"
            "except pn.BackendUnavailableError as exc:\n"
            "    print('refused:', exc)\n"
            "with pn.use_backend('scalar'):\n"
            "    print('block:', pn.MLP([2, 1]).kernels.name)\n")
    proc = _run("c", code)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] in ("[0]", "[1]")
    assert lines[1].startswith("refused: PYNEURON_BACKEND=c") and "build_kernels.py" in lines[1]
    assert lines[2] == "block: scalar"


# ------------------------------------------------------------------------------ one flag per thread / task
def test_set_backend_is_the_default_use_backend_wins_inside_its_block():
    pyneuron.set_backend("numpy")
    with pyneuron.use_backend("scalar"):
        pyneuron.set_backend("numpy")                  # changes the default, not the block
        assert pyneuron.get_backend() == "scalar"
    assert pyneuron.get_backend() == "numpy"
    with pyneuron.use_backend("scalar"):
        pyneuron.set_backend("scalar")
    assert pyneuron.get_backend() == "scalar"          # the default set inside the block stays
    pyneuron.set_backend("numpy")


def test_threads_whose_blocks_exit_out_of_order_each_see_their_own():
    """Thread A enters scalar, thread B enters numpy; A's block ends first while B
    is still inside, then B checks and ends. Each sees its own backend throughout;
    a third thread outside any block and the main thread see the default."""
    import threading

    pyneuron.set_backend("numpy")
    other = "scalar"
    a_entered, b_entered, a_exited, b_may_exit = (threading.Event() for _ in range(4))
    seen, errors = {}, []

    def thread_a():
        try:
            with pyneuron.use_backend(other):
                a_entered.set()
                b_entered.wait(10)
                seen["a inside"] = pyneuron.get_backend(), MLP([2, 1]).kernels.name
            seen["a after"] = pyneuron.get_backend()
            a_exited.set()
        except Exception as exc:          # pragma: no cover - reported below
            errors.append(exc)
            a_exited.set()

    def thread_b():
        try:
            a_entered.wait(10)
            with pyneuron.use_backend("c" if "c" in pyneuron.available_backends() else "numpy") as k:
                b_entered.set()
                a_exited.wait(10)                      # A has left its block: B must be unaffected
                seen["b inside"] = pyneuron.get_backend(), k.name
                b_may_exit.wait(10)
            seen["b after"] = pyneuron.get_backend()
        except Exception as exc:          # pragma: no cover
            errors.append(exc)

    ta, tb = threading.Thread(target=thread_a), threading.Thread(target=thread_b)
    ta.start(), tb.start()
    a_exited.wait(10)
    seen["main while b inside"] = pyneuron.get_backend()
    outsider = threading.Thread(target=lambda: seen.setdefault("outsider", pyneuron.get_backend()))
    outsider.start(), outsider.join(10)
    b_may_exit.set()
    ta.join(10), tb.join(10)
    assert not errors, errors
    b_name = "c" if "c" in pyneuron.available_backends() else "numpy"
    assert seen["a inside"] == (other, other)
    assert seen["a after"] == "numpy"
    assert seen["b inside"] == (b_name, b_name)
    assert seen["b after"] == "numpy"
    assert seen["main while b inside"] == "numpy" and seen["outsider"] == "numpy"
    assert pyneuron.get_backend() == "numpy"


def test_asyncio_tasks_whose_blocks_exit_out_of_order_each_see_their_own():
    import asyncio

    pyneuron.set_backend("numpy")
    log = []

    async def task(name, backend, hold, steps):
        with pyneuron.use_backend(backend):
            for _ in range(steps):
                await asyncio.sleep(hold)
                log.append((name, pyneuron.get_backend(), MLP([2, 1]).kernels.name))
        log.append((name, "after", pyneuron.get_backend()))

    async def both():
        # "first" enters first and leaves first; "second" stays inside after it
        await asyncio.gather(task("first", "scalar", 0.001, 2), task("second", "numpy", 0.002, 4))
        with pyneuron.use_backend("scalar"):
            await asyncio.gather(task("nested", "numpy", 0.001, 1))
            log.append(("parent", "after nested", pyneuron.get_backend()))

    pyneuron.set_backend("c" if "c" in pyneuron.available_backends() else "numpy")
    default = pyneuron.get_backend()
    asyncio.run(both())
    order = [entry[0] for entry in log if entry[1] == "after"]
    assert order[:2] == ["first", "second"]            # the blocks really ended in that order
    for name, backend, model in [e for e in log if e[1] != "after" and e[0] != "parent"]:
        expected = {"first": "scalar", "second": "numpy", "nested": "numpy"}[name]
        assert (backend, model) == (expected, expected), (name, backend, model)
    assert ("first", "after", default) in log and ("second", "after", default) in log
    assert ("nested", "after", "scalar") in log        # a task inherits its creator's block
    assert ("parent", "after nested", "scalar") in log
    assert pyneuron.get_backend() == default
    pyneuron.set_backend("numpy")


def test_set_backend_means_the_variable_is_not_consulted(monkeypatch):
    from pyneuron import _config
    monkeypatch.setattr(_config, "_default", None)
    monkeypatch.setattr(_config, "_default_from_environment", False)
    monkeypatch.setenv("PYNEURON_BACKEND", "gpu")
    assert "PYNEURON_BACKEND='gpu'" in str(_config.environment_error())     # read: names no backend
    pyneuron.set_backend("numpy")
    try:
        assert _config.environment_error() is None       # set_backend chose: the variable is not read
        assert pyneuron.get_backend() == "numpy"
    finally:
        pyneuron.set_backend("numpy")


def test_an_unavailable_backend_names_the_variable_only_when_the_variable_chose_it(monkeypatch):
    """c chosen by PYNEURON_BACKEND: the error says so; chosen by set_backend or a
    use_backend block: the plain reason, without the variable."""
    require_backend("c")
    from pyneuron import _config

    def c_goes_missing(mp):
        mp.setattr(backends, "_instances", {k: v for k, v in backends._instances.items() if k != "c"})
        mp.setattr(backends, "_c_error", "the 'c' backend is not available: test")

    try:
        pyneuron.set_backend("c")
        with pytest.MonkeyPatch.context() as mp:
            c_goes_missing(mp)
            with pytest.raises(pyneuron.BackendUnavailableError, match="^the 'c' backend is not available"):
                _config.resolve(None)
    finally:
        pyneuron.set_backend("numpy")
    monkeypatch.setattr(_config, "_default", "c")
    monkeypatch.setattr(_config, "_default_from_environment", True)
    with pyneuron.use_backend("c"):
        c_goes_missing(monkeypatch)
        with pytest.raises(pyneuron.BackendUnavailableError, match="^the 'c' backend is not available"):
            _config.resolve(None)
    with pytest.raises(pyneuron.BackendUnavailableError, match="^PYNEURON_BACKEND=c asks for a backend"):
        _config.resolve(None)
