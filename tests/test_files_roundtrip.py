"""Model files, issue 15 item 3 (d, e): every setting that changes what a model
computes survives save/load bit for bit — every constructor option, every
optimizer with its state, per-layer batch-norm eps and momentum — and ``save``
and ``load`` agree on the path they use."""
import inspect
import os
import pathlib

import numpy as np
import pytest

import pyneuron as pn
from pyneuron import io, optimizers, schedules

from helpers import require_backend

#: Attributes that describe a run in progress, not the model: not saved.
TRANSIENT = {"history", "stop_training", "cache", "grads",
             "epochs_loaded"}   # the history's epoch count becomes this on load: compared as epochs_trained


def assert_same_state(a, b, where="model"):
    """``a`` and ``b`` hold the same state, recursively, bit for bit: every
    attribute of every object (a new attribute nobody saves makes this fail)."""
    if isinstance(a, np.random.Generator):
        assert a.bit_generator.state == b.bit_generator.state, f"{where}: generator state differs"
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape, \
            f"{where}: {a.dtype}{a.shape} vs {getattr(b, 'dtype', type(b))}{getattr(b, 'shape', '')}"
        assert a.tobytes() == b.tobytes(), f"{where}: arrays differ\n{a}\n{b}"
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), f"{where}: {a!r} vs {b!r}"
        for k, (x, y) in enumerate(zip(a, b)):
            assert_same_state(x, y, f"{where}[{k}]")
    elif isinstance(a, dict):
        assert set(a) == set(b), f"{where}: keys {sorted(a)} vs {sorted(b)}"
        for k in a:
            assert_same_state(a[k], b[k], f"{where}[{k!r}]")
    elif hasattr(a, "__dict__") and not isinstance(a, type):
        assert type(a) is type(b), f"{where}: {type(a).__name__} vs {type(b).__name__}"
        keys = set(vars(a)) - TRANSIENT
        assert keys == set(vars(b)) - TRANSIENT, f"{where}: attributes differ"
        if hasattr(type(a), "epochs_trained"):
            assert a.epochs_trained == b.epochs_trained, f"{where}: epochs trained differ"
        for k in sorted(keys):
            assert_same_state(vars(a)[k], vars(b)[k], f"{where}.{k}")
    else:
        assert isinstance(a, bool) == isinstance(b, bool) and a == b, f"{where}: {a!r} vs {b!r}"


#: Every MLP constructor option takes a non-default value in at least one entry.
CONFIGS = [
    dict(layer_sizes=[2, 3, 1]),
    dict(layer_sizes=[3, 5, 4, 3], activation=["tanh", "leaky_relu"], output="softmax", negative_slope=0.2,
         init="he_uniform", seed=7, dtype="float32"),
    dict(layer_sizes=[3, 6, 2], activation="sigmoid", output="linear", loss="mse", batch_norm=True,
         init="xavier_uniform", backend="numpy", seed=3),
    dict(layer_sizes=[2, 4, 4, 1], activation="leaky_relu", dropout=[0.1, 0.3], batch_norm=True,
         dtype="float32", backend="scalar", init="small_random", seed=5),
    dict(layer_sizes=[2, 2], output="tanh", loss="mse", init="xavier_normal", seed=None),
    dict(layer_sizes=[2, 4, 2], activation="relu", output="sigmoid", loss="bce", dropout=0.25,
         init="glorot", backend="c", seed=11),
    dict(layer_sizes=[2, 3, 3], activation="linear", output="softmax", loss="cce", init="zeros",
         batch_norm=True, seed=2),
    dict(layer_sizes=[2, 3, 4, 1], activation="tanh", bias=[False, True, False], seed=4),   # issue 14
]
OPTIMIZERS = [
    optimizers.SGD(0.05), optimizers.SGD(0.05, momentum=0.5), optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    optimizers.Momentum(0.05, beta=0.8), optimizers.RMSprop(0.01, rho=0.8, eps=1e-7, decay=0.02),
    optimizers.Adam(0.01, beta1=0.8, beta2=0.99, eps=1e-7, decay=0.03),
    optimizers.AdamW(0.01, beta1=0.85, beta2=0.98, eps=1e-6, weight_decay=0.1, decay=0.04),
    optimizers.Adagrad(0.05, eps=1e-9, decay=0.01), optimizers.SGD(0.05, momentum=0.5, form="course", decay=0.1),
    optimizers.Momentum(0.05, beta=0.7, form="course", decay=0.05),
]


def test_the_configurations_cover_every_constructor_option():
    options = set(inspect.signature(pn.MLP).parameters) - {"alpha"}   # negative_slope's deprecated name
    varied = {key for config in CONFIGS for key in config}
    assert options == varied, f"options no round-trip test varies: {sorted(options - varied)}"
    defaults = {k: p.default for k, p in inspect.signature(pn.MLP).parameters.items()}
    for key in options - {"layer_sizes"}:
        assert any(key in c and c[key] != defaults[key] for c in CONFIGS), key


def test_the_optimizers_cover_every_class_and_setting():
    assert {type(o) for o in OPTIMIZERS} == set(optimizers.OPTIMIZERS.values())
    for cls in optimizers.OPTIMIZERS.values():
        defaults = {k: p.default for k, p in inspect.signature(cls).parameters.items()}
        for key, default in defaults.items():
            assert any(type(o) is cls and o.get_config().get(key, default) != default for o in OPTIMIZERS), \
                f"no round-trip test sets {cls.__name__}({key}=...)"


def data_for(model, rng, n=24):
    X = rng.normal(size=(n, model.n_features))
    if model.loss_name == "cce":
        return X, rng.integers(0, model.n_outputs, n)
    if model.loss_name == "bce":
        return X, rng.integers(0, 2, (n, model.n_outputs)) if model.n_outputs > 1 else rng.integers(0, 2, n)
    return X, rng.normal(size=(n, model.n_outputs)) * 0.5


def trained_model(config, optimizer, tmp_path):
    if config.get("backend") == "c":
        require_backend("c")
    model = pn.MLP(**config)
    for k, layer in enumerate(model.layers[:-1]):        # settings only from_torch or a user sets
        layer.bn_eps, layer.bn_momentum = 0.5 / (k + 1), 0.25 + 0.5 * k
    rng = np.random.default_rng(0)
    X, y = data_for(model, rng)
    optimizer = type(optimizer)(**optimizer.get_config())
    schedule = None if optimizer.get_config().get("decay") else schedules.InverseTimeDecay(0.5)
    model.fit(X, y, epochs=3, batch_size=8, optimizer=optimizer,
              lr_schedule=schedule)                 # either way lr != initial lr when saved
    if model.n_features == 3:
        model.standardizer = pn.datasets.Standardizer().fit(X * 10 + 3)
    if len(model.layers) == 3:                 # a frozen parameter: the optimizer keeps no state for it
        model.freeze("layer0/W")
        model.fit(X, y, epochs=1, batch_size=8, optimizer=model.optimizer)
    return model, X, y


@pytest.mark.parametrize("optimizer", OPTIMIZERS, ids=lambda o: repr(o))
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "-".join(map(str, c["layer_sizes"])))
def test_round_trip_is_bitwise_and_training_continues_identically(config, optimizer, tmp_path):
    model, X, y = trained_model(config, optimizer, tmp_path)
    assert model.optimizer.lr != model.optimizer.initial_lr
    written = io.save(model, tmp_path / "m")
    assert written == str(tmp_path / "m.npz") and os.listdir(tmp_path) == ["m.npz"]   # no temporary left
    loaded = pn.load(tmp_path / "m")
    assert_same_state(model, loaded)
    assert np.array_equal(loaded.predict_proba(X), model.predict_proba(X))
    # training continues identically: same shuffles, dropout masks, optimizer steps
    for m in (model, loaded):
        m.fit(X, y, epochs=2, batch_size=8, optimizer=m.optimizer)
    assert_same_state(model, loaded)


def test_assert_same_state_sees_a_difference():
    a, b = pn.MLP([2, 3, 1], seed=0), pn.MLP([2, 3, 1], seed=0)
    assert_same_state(a, b)
    b.layers[0].bn_eps = 1e-3
    with pytest.raises(AssertionError, match="bn_eps"):
        assert_same_state(a, b)
    b = pn.MLP([2, 3, 1], seed=0)
    b.layers[1].W[0, 0] = np.nextafter(b.layers[1].W[0, 0], 9)
    with pytest.raises(AssertionError, match="layers"):
        assert_same_state(a, b)


def test_a_torch_batchnorm_eps_survives_save_and_load(tmp_path):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    bn = torch.nn.BatchNorm1d(3, eps=0.5, momentum=0.3, dtype=torch.float64)
    seq = torch.nn.Sequential(torch.nn.Linear(2, 3, dtype=torch.float64), bn, torch.nn.ReLU(),
                              torch.nn.Linear(3, 1, dtype=torch.float64), torch.nn.Sigmoid())
    with torch.no_grad():
        bn.running_mean.copy_(torch.tensor([0.1, -0.2, 0.3]))
        bn.running_var.copy_(torch.tensor([0.05, 0.2, 0.01]))
    seq.eval()
    model = pn.from_torch(seq)
    X = np.random.default_rng(1).normal(size=(50, 2))
    expected = seq(torch.from_numpy(X)).detach().numpy()[:, 0]
    model.save(tmp_path / "bn.npz")
    loaded = pn.load(tmp_path / "bn.npz")
    assert loaded.layers[0].bn_eps == 0.5 and loaded.layers[0].bn_momentum == 0.3
    np.testing.assert_allclose(loaded.predict_proba(X), expected, rtol=1e-12, atol=1e-15)
    assert np.array_equal(loaded.predict_proba(X), model.predict_proba(X))


# ---------------------------------------------------------------- paths
def test_save_and_load_agree_on_the_suffix(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = pn.MLP([2, 3, 1], seed=0)
    model.save("m")
    assert os.listdir(".") == ["m.npz"]
    for name in ("m", "m.npz", pathlib.Path("m"), tmp_path / "m.npz"):
        assert_same_state(model, pn.load(name))
    io.save(model, "d.v1")                        # another suffix is kept, .npz added
    assert os.path.exists("d.v1.npz") and pn.load("d.v1").layer_sizes == [2, 3, 1]


@pytest.mark.parametrize("bad", [0, 1, None, 3.5, b"m.npz", ["m.npz"]])
def test_paths_must_be_str_or_pathlike(bad, tmp_path):
    stdin_before = os.fstat(0)
    with pytest.raises(TypeError, match=r"path: expected a file name \(str or os.PathLike\)"):
        pn.load(bad)
    with pytest.raises(TypeError, match="path: expected a file name"):
        pn.MLP([2, 1]).save(bad)
    assert os.fstat(0).st_ino == stdin_before.st_ino         # standard input is still open


def test_missing_file_and_empty_name(tmp_path):
    with pytest.raises(FileNotFoundError):
        pn.load(tmp_path / "absent")
    with pytest.raises(ValueError, match="path: expected a file name, got an empty string"):
        pn.load("")


def test_a_failed_save_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    old = pn.MLP([2, 3, 1], seed=0)
    old.save(tmp_path / "m.npz")
    before = (tmp_path / "m.npz").read_bytes()
    broken = pn.MLP([2, 3, 1], seed=1)
    broken.standardizer = pn.datasets.Standardizer()         # never fit: save refuses it
    with pytest.raises(ValueError, match="never fit"):
        broken.save(tmp_path / "m.npz")

    def disk_full(f, **arrays):                               # fails halfway through writing
        f.write(b"PK\x03\x04 half a zip")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", disk_full)
    with pytest.raises(OSError, match="No space"):
        pn.MLP([2, 3, 1], seed=2).save(tmp_path / "m.npz")
    assert (tmp_path / "m.npz").read_bytes() == before and os.listdir(tmp_path) == ["m.npz"]


def test_save_creates_the_file_with_the_usual_permissions_and_keeps_an_old_files(tmp_path):
    umask = os.umask(0o022)
    try:
        pn.MLP([2, 1]).save(tmp_path / "p.npz")
        assert (tmp_path / "p.npz").stat().st_mode & 0o777 == 0o644
        os.chmod(tmp_path / "p.npz", 0o600)                    # a private model stays private
        pn.MLP([2, 1]).save(tmp_path / "p.npz")
        assert (tmp_path / "p.npz").stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(umask)


def test_saving_into_a_missing_folder_names_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="path: no such folder .*absent"):
        pn.MLP([2, 1]).save(tmp_path / "absent" / "m.npz")
