"""The ``pyneuron`` command, run as a subprocess: happy paths and error paths."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEED003 = "[[[0.1,0.2],[0.3,0.4]],[0.1,0.2],[[0.5,0.6]],[0.3]]"


def cli(*args, timeout=120):
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-m", "pyneuron.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=timeout)


def cli_without(modules, *args, env=None, timeout=120):
    """The command with ``modules`` made unimportable (as if not installed)."""
    code = ("import sys\n"
            f"for name in {list(modules)!r}: sys.modules[name] = None\n"
            "from pyneuron.cli import main\n"
            "sys.exit(main(sys.argv[1:]))")
    env = dict(os.environ, MPLBACKEND="Agg", **(env or {}))
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=timeout)


def assert_one_line_error(done, *fragments):
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if "error" in line]
    assert len(errors) == 1, done.stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]


@pytest.mark.parametrize("command", [[], ["demo"], ["train"], ["explain"], ["lessons"]])
def test_help_explains_every_option(command):
    done = cli(*command, "--help")
    assert done.returncode == 0 and "usage: pyneuron" in done.stdout
    if command == ["train"]:
        for option in ("--dataset", "--hidden", "--activation", "--optimizer", "--epochs", "--batch-size",
                       "--lr", "--backend", "--seed", "--plot", "--save"):
            assert option in done.stdout
    if command == ["explain"]:
        for option in ("--layers", "--weights", "--model", "--x", "--y", "--lr"):
            assert option in done.stdout


def test_demo_still_works():
    done = cli("demo", "--backend", "numpy", "--epochs", "5", "--samples", "100")
    assert done.returncode == 0, done.stderr
    assert "numpy" in done.stdout and "%" in done.stdout


TRAIN_30 = ["train", "--dataset", "moons", "--epochs", "30", "--hidden", "8,4", "--optimizer", "adam",
            "--lr", "0.02", "--validation-split", "0.2", "--patience", "10", "--print-every", "10"]


def test_train_and_save(tmp_path):
    done = cli(*TRAIN_30, "--save", str(tmp_path / "model.npz"))
    assert done.returncode == 0, done.stderr
    assert "epoch    10/30" in done.stdout and "accuracy" in done.stdout
    accuracy = float(done.stdout.split("  accuracy")[-1].split()[0])
    assert accuracy > 0.8
    import pyneuron as pn
    assert pn.load(tmp_path / "model.npz").layer_sizes == [2, 8, 4, 1]
    # the saved model can be explained from the command line
    done = cli("explain", "--model", str(tmp_path / "model.npz"), "--x", "0.5,-0.2", "--y", "1")
    assert done.returncode == 0, done.stderr
    assert "Layer 3: 4 → 1" in done.stdout


def test_train_plot(tmp_path):
    pytest.importorskip("matplotlib")
    done = cli(*TRAIN_30, "--plot", str(tmp_path / "plots"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "plots" / "history.png").stat().st_size > 2000
    assert (tmp_path / "plots" / "decision_boundary.png").stat().st_size > 2000


def test_train_plot_without_matplotlib_refuses_before_training(tmp_path):
    done = cli_without(["matplotlib"], *TRAIN_30, "--plot", str(tmp_path / "plots"),
                       "--save", str(tmp_path / "model.npz"))
    assert_one_line_error(done, "matplotlib", "pip install matplotlib")
    assert "epoch" not in done.stdout                  # nothing was trained
    assert not (tmp_path / "plots").exists()


def test_train_multiclass_on_scalar():
    done = cli("train", "--dataset", "spiral", "--samples", "90", "--epochs", "3", "--backend", "scalar",
               "--optimizer", "sgd", "--lr", "0.1", "--batch-size", "0")
    assert done.returncode == 0, done.stderr
    assert "2-16-8-3" in done.stdout and "backend scalar" in done.stdout


def test_explain_seed003_from_the_command_line():
    done = cli("explain", "--layers", "2,2,1", "--activation", "sigmoid", "--weights", SEED003,
               "--x", "1,2", "--y", "1", "--backend", "scalar")
    assert done.returncode == 0, done.stderr
    for figure in ("0.7492", "0.2888", "-0.2508", "-0.1619", "0.5162"):
        assert figure in done.stdout


def test_explain_batch_with_random_weights():
    done = cli("explain", "--layers", "3,4,2", "--output", "softmax", "--x", "1,2,3;0,0,1", "--y", "1,0")
    assert done.returncode == 0, done.stderr
    assert "sample 2" in done.stdout and "softmax" in done.stdout


def test_lessons_list_and_run(tmp_path):
    done = cli("lessons")
    assert done.returncode == 0 and "08  perceptron" in done.stdout
    done = cli("lessons", "perceptron", "--fast", "--backend", "scalar", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "XOR" in done.stdout
    done = cli("lessons", "07", "--fast")
    assert done.returncode == 0 and "14.56" in done.stdout


def test_bench_still_delegates():
    done = cli("bench", "--help")
    assert "Traceback" not in done.stderr
    assert done.returncode == 0 or "not available" in done.stderr


@pytest.mark.parametrize("args, fragment", [
    (["train", "--epochs", "many"], "--epochs"),
    (["train", "--hidden", "0,4"], "--hidden"),
    (["train", "--dataset", "mnist"], "--dataset"),
    (["train", "--lr", "-1"], "lr"),
    (["train", "--epochs", "0"], "epochs"),
    (["train", "--patience", "5"], "--validation-split"),
    (["train", "--backend", "gpu"], "--backend"),
    (["explain", "--x", "1,2", "--y", "1"], "--layers"),
    (["explain", "--layers", "2,2,1", "--x", "1,2"], "--y"),
    (["explain", "--layers", "2,2,1", "--x", "1,2,3", "--y", "1"], "features"),
    (["explain", "--layers", "2,2,1", "--x", "1,a", "--y", "1"], "--x"),
    (["explain", "--layers", "2,2,1", "--x", "1,2", "--y", "1", "--weights", "[1"], "JSON"),
    (["explain", "--layers", "2,2,1", "--x", "1,2", "--y", "1", "--weights", "[[1]]"], "weights"),
    (["explain", "--layers", "2,2,1", "--x", "1,2", "--y", "3"], "y"),
    (["explain", "--model", "/no/such/file.npz", "--x", "1,2", "--y", "1"], "no such file"),
    (["lessons", "nonsense"], "no lesson"),
    (["nonsense"], "invalid choice"),
])
def test_bad_options_give_one_line_and_nonzero_exit(args, fragment):
    assert_one_line_error(cli(*args), fragment)


def test_corrupt_model_file(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file")
    assert_one_line_error(cli("explain", "--model", str(bad), "--x", "1,2", "--y", "1"), "bad.npz")


# ------------------------------------------------------------------------------ the environment
EVERY_COMMAND = [["demo", "--epochs", "1"], ["train", "--epochs", "1"], ["lessons", "xor", "--fast"],
                 ["explain", "--layers", "2,2,1", "--x", "1,2", "--y", "1"], ["bench", "--help"]]


def console_script():
    """The installed ``pyneuron`` command beside this interpreter, if there is one."""
    path = Path(sys.executable).with_name("pyneuron")
    return str(path) if path.is_file() else None


@pytest.mark.parametrize("command, value", [(c, "gpu") for c in EVERY_COMMAND]
                         + [(EVERY_COMMAND[0], "NUMPY"), (EVERY_COMMAND[1], "c,numpy")], ids=str)
def test_bad_backend_variable_is_one_line_from_every_command(command, value):
    env = dict(os.environ, MPLBACKEND="Agg", PYNEURON_BACKEND=value)
    launchers = [[sys.executable, "-m", "pyneuron.cli"]]
    if (ROOT / "pyneuron" / "__main__.py").is_file():
        launchers.append([sys.executable, "-m", "pyneuron"])
    if console_script():
        launchers.append([console_script()])
    for launcher in launchers:
        done = subprocess.run([*launcher, *command], capture_output=True, text=True, cwd=ROOT, env=env,
                              timeout=120)
        assert_one_line_error(done, "PYNEURON_BACKEND", repr(value), "'scalar', 'numpy', 'c'")
        assert done.stdout == ""                       # refused before any work


def test_c_in_the_variable_without_c_does_not_break_numpy():
    no_c = {"PYNEURON_BACKEND": "c"}
    done = cli_without(["pyneuron._kernels"], "demo", "--backend", "numpy", "--epochs", "2", "--samples", "60",
                       env=no_c)
    assert done.returncode == 0, done.stderr
    assert "numpy" in done.stdout and "%" in done.stdout
    # the command that would use the variable's backend says so in one line
    done = cli_without(["pyneuron._kernels"], "train", "--epochs", "1", env=no_c)
    assert_one_line_error(done, "PYNEURON_BACKEND=c", "build_kernels.py")


def test_demo_says_once_that_c_is_missing_and_how_to_build_it():
    done = cli_without(["pyneuron._kernels"], "demo", "--epochs", "2", "--samples", "60")
    assert done.returncode == 0, done.stderr
    notes = [line for line in done.stdout.splitlines() if "not available" in line]
    assert len(notes) == 1 and notes[0].startswith("(c ")
    assert "build_kernels.py" in notes[0] and "compiler" in notes[0]
    assert done.stdout.index(notes[0]) < done.stdout.index("numpy ")   # before the slow part
    rows = [line.split()[0] for line in done.stdout.splitlines() if "%" in line]
    assert rows == ["scalar", "numpy"]


@pytest.mark.parametrize("args, fragment", [
    (["demo", "--samples", str(10**12)], "--samples"),
    (["train", "--samples", str(10**12)], "--samples"),
    (["train", "--hidden", f"{10**6},{10**7}"], "--hidden"),
    (["train", "--dataset", "digits", "--hidden", f"{10**12}"], "--hidden"),
    (["explain", "--layers", f"2,{10**12},1", "--x", "1,2", "--y", "1"], "--layers"),
    (["demo", "--samples", "3"], "--samples"),
    (["train", "--samples", "0"], "--samples"),
])
def test_sizes_that_cannot_fit_are_usage_errors(args, fragment):
    done = cli(*args)
    assert_one_line_error(done, fragment)
    assert "MemoryError" not in done.stderr


def test_train_says_the_file_it_really_wrote(tmp_path):
    """``--save m`` writes ``m.npz`` (save adds the suffix); the message names that file."""
    done = cli("train", "--dataset", "moons", "--epochs", "2", "--hidden", "4",
               "--save", str(tmp_path / "m"))
    assert done.returncode == 0, done.stderr
    assert f"model saved to {tmp_path / 'm.npz'}," in done.stdout
    assert (tmp_path / "m.npz").exists() and not (tmp_path / "m").exists()
