"""A user's script type-checks under ``mypy --strict`` against the pyneuron this suite
imports (``py.typed`` plus the annotations of the public API), and a typo in an option
(``fit(epochz=3)``) is an error mypy reports.

mypy reads pyneuron the way it reads any installed typed package: calls into it are
checked against its signatures, and errors inside pyneuron's own code are not the
user's (``follow_imports = silent`` for ``pyneuron.*``, which is what mypy does for a
package in site-packages). For an editable install or a source checkout, which mypy
cannot find through site-packages, the folder holding the imported package is given as
``MYPYPATH``. Needs ``pip install mypy`` (CI's stage 2); skipped without it.
"""
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import pyneuron

pytest.importorskip("mypy", reason="could not import 'mypy': pip install mypy")

CONFIG = """\
[mypy]
strict = True
warn_unused_configs = True

[mypy-pyneuron.*]
follow_imports = silent
"""

#: What a learner's script does with pyneuron, written as a careful user would under --strict.
USER_SCRIPT = '''\
"""Train, evaluate, save and reload a network; every call checked by mypy --strict."""
from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path

import numpy as np
import numpy.typing as npt

import pyneuron as pn
from pyneuron import datasets, metrics, optimizers, schedules
from pyneuron.io import ModelFileError


def prepare(seed: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64],
                                npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    X, y = datasets.make_moons(n_samples=120, noise=0.2, seed=seed)
    X_train, X_test, y_train, y_test = datasets.train_test_split(X, y, test_size=0.25, seed=seed, stratify=y)
    scaler = datasets.Standardizer().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def train(X: npt.NDArray[np.float64], y: npt.NDArray[np.int64], optimizer: optimizers.Optimizer) -> pn.MLP:
    model = pn.MLP([2, 8, 1], activation="tanh", output="sigmoid", seed=0, negative_slope=0.01)
    history = model.fit(X, y, epochs=3, batch_size=16, optimizer=optimizer, l2=1e-4, shuffle=True,
                        validation_split=0.2, lr_schedule=schedules.StepDecay(step_size=2, gamma=0.5),
                        early_stopping=pn.EarlyStopping(patience=2), verbose=0)
    losses: list[float] = history["loss"]
    assert len(losses) >= 1
    return model


def report(model: pn.MLP, X: npt.NDArray[np.float64], y: npt.NDArray[np.int64]) -> dict[str, float]:
    predicted = model.predict(X)
    proba = model.predict_proba(X)
    scores = metrics.precision_recall_f1(y, predicted)
    matrix: npt.NDArray[np.int64] = metrics.confusion_matrix(y, predicted)
    return {"accuracy": metrics.accuracy(y, predicted), "log_loss": metrics.log_loss(y, proba),
            "macro_f1": float(scores["macro_f1"]), "errors": float(matrix.sum() - np.trace(matrix)),
            "score": model.score(X, y), "loss": float(model.evaluate(X, y)["loss"])}


def round_trip(model: pn.MLP, folder: Path) -> pn.MLP:
    path: str = model.save(folder / "model")
    try:
        again = pn.load(path)
    except ModelFileError as error:
        raise SystemExit(f"could not read {path}: {error}") from error
    weights: list[npt.NDArray[np.float64]] = again.get_weights()
    again.set_weights(weights)
    state = again.state_dict()
    again.load_state_dict(state, strict=True)
    return again


def look_inside(X: npt.NDArray[np.float64], y: npt.NDArray[np.int64]) -> bool:
    model = pn.MLP([2, 3, 1], activation="relu", seed=2)
    step = pn.explain(model, X[:2], y[:2], lr=0.1, sample=None)
    text: str = step.text()
    new_weights: list[npt.NDArray[np.float64]] = step.updated_weights()
    check = pn.gradient_check(model, X[:8], y[:8], eps=1e-6, max_checks_per_array=4)
    relu: npt.NDArray[np.float64] = pn.activations.apply("leaky_relu", [-1.0, 2.0], negative_slope=0.1)
    slope = pn.activations.derivative("tanh", np.zeros(3))
    schedule = schedules.CosineDecay(total=10, min_lr=0.001)
    rates = [schedule(0.1, k) for k in range(3)] + [schedules.ExponentialDecay(gamma=0.9)(0.1, 2)]
    X_r, y_r = datasets.make_blobs(n_samples=30, centers=2, seed=0)
    fit_quality = metrics.r2_score(y_r, y_r + 0.1) + metrics.mean_absolute_error(y_r, y_r)
    return bool(check) and bool(text) and len(new_weights) == 4 and relu.shape == (2,) and \
        slope.shape == (3,) and min(rates) > 0 and fit_quality > 0 and X_r.shape == (30, 2)


def main() -> float:
    X_train, X_test, y_train, y_test = prepare(seed=1)
    assert look_inside(X_train, y_train)
    choices: list[optimizers.Optimizer] = [optimizers.SGD(lr=0.1, momentum=0.9, nesterov=True),
                                           optimizers.Adam(lr=0.01), optimizers.get("rmsprop", lr=0.01)]
    best = 0.0
    for optimizer in choices:
        model = train(X_train, y_train, optimizer)
        with tempfile.TemporaryDirectory() as folder:
            again = round_trip(model, Path(folder))
        best = max(best, report(again, X_test, y_test)["accuracy"])
    if importlib.util.find_spec("torch") is not None:
        net = model.to_torch()
        back: pn.MLP = pn.from_torch(net, output=None)
        print(back.n_parameters)
    return best


if __name__ == "__main__":
    print(main())
'''

#: The same kind of call with a misspelt option: mypy must say so.
TYPO_SCRIPT = '''\
import pyneuron as pn
from pyneuron import datasets

X, y = datasets.make_xor()
model = pn.MLP([2, 4, 1], seed=0)
model.fit(X, y, epochz=3)
'''


def _mypy(tmp_path, name, source):
    script = tmp_path / name
    script.write_text(source)
    config = tmp_path / "mypy.ini"
    config.write_text(CONFIG)
    env = {"PATH": "", "HOME": str(tmp_path)}
    root = Path(pyneuron.__file__).resolve().parent.parent
    if root.name not in ("site-packages", "dist-packages"):      # a checkout or an editable install
        env["MYPYPATH"] = str(root)
    return subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(config), "--no-incremental",
                           "--python-executable", sys.executable, str(script)],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600)


def test_a_user_script_passes_mypy_strict(tmp_path):
    done = _mypy(tmp_path, "user_script.py", USER_SCRIPT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success: no issues found in 1 source file" in done.stdout


def test_the_user_script_runs(tmp_path):
    """The script mypy accepts is also one that works (so the test checks real usage)."""
    done = subprocess.run([sys.executable, "-c", USER_SCRIPT], capture_output=True, text=True, cwd=tmp_path,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    assert 0.5 <= float(done.stdout.strip().splitlines()[-1]) <= 1.0


def test_a_misspelt_option_is_a_mypy_error(tmp_path):
    done = _mypy(tmp_path, "typo.py", TYPO_SCRIPT)
    assert done.returncode == 1, done.stdout + done.stderr
    assert 'typo.py:6: error: Unexpected keyword argument "epochz" for "fit" of "MLP"' in done.stdout, done.stdout
    assert "Found 1 error in 1 file" in done.stdout, done.stdout
