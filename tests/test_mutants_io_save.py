"""pyneuron.io's save side (lines 1-159) beyond test_files_*: what the mutation run
(.ci/mutation.py pyneuron/io.py --lines 1-159, issue 15 item 10) showed untested — the
text members' limits as numbers (64, 2**20, 2**12, 2**16 characters, each reached and
passed), model_path's refusals and the name it reports, what the architecture record
and the member list hold for each kind of model, and how save names, creates and
places its temporary file."""
from __future__ import annotations

import json
import os
import pathlib
import re

import numpy as np
import pytest

import pyneuron as pn
from pyneuron import io
from pyneuron.backends.numpy_backend import NumpyBackend


def entries_of(path):
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def record(path, name):
    return json.loads(str(entries_of(path)[name]))


@pytest.fixture
def saved(tmp_path):
    """A file with every text member: a model trained with Adam."""
    model = pn.MLP([2, 3, 1], seed=0)
    model.fit(np.array([[0.0, 1.0], [1.0, 0.0]]), [1, 0], epochs=1, optimizer=pn.optimizers.Adam(0.01))
    return entries_of(model.save(tmp_path / "m.npz"))


# ---------------------------------------------------------------------------- text limits
@pytest.mark.parametrize("name, limit", [("architecture", 2**20), ("rng_state", 2**12), ("optimizer", 2**16)])
def test_json_members_load_at_their_limit_and_are_refused_one_character_beyond(name, limit, saved, tmp_path):
    text = str(saved[name])
    assert len(text) < limit
    padded = text + " " * (limit - len(text))              # JSON allows trailing blanks: same record
    np.savez(tmp_path / "at.npz", **dict(saved, **{name: np.array(padded)}))
    model = pn.load(tmp_path / "at.npz")
    assert model.layer_sizes == [2, 3, 1] and model.optimizer.t == 1
    np.savez(tmp_path / "over.npz", **dict(saved, **{name: np.array(padded + " ")}))
    with pytest.raises(pn.ModelFileError, match=f"'{name}'.* at most {limit} characters"):
        pn.load(tmp_path / "over.npz")


def test_the_format_member_holds_at_most_64_characters(saved, tmp_path):
    for text, message in (("x" * 64, "has format 'x{64}'"), ("x" * 65, "'format'.* at most 64 characters")):
        np.savez(tmp_path / "f.npz", **dict(saved, format=np.array(text)))
        with pytest.raises(pn.ModelFileError, match=message):
            pn.load(tmp_path / "f.npz")


# ---------------------------------------------------------------------------- model_path
class BytesPath:
    def __fspath__(self):
        return b"model"


@pytest.mark.parametrize("path, expected", [("m", "m.npz"), ("m.npz", "m.npz"), ("a.b", "a.b.npz"),
                                            (pathlib.Path("d") / "m", os.path.join("d", "m.npz")),
                                            (BytesPath(), "model.npz")])
def test_model_path_adds_the_suffix(path, expected):
    assert io.model_path(path) == expected


@pytest.mark.parametrize("bad", [3, None, b"m.npz", ["m"]])
def test_model_path_refuses_other_types_naming_the_argument(bad):
    with pytest.raises(TypeError, match=rf"^file: expected a file name \(str or os.PathLike\), got "
                                        rf"{type(bad).__name__} "):
        io.model_path(bad, "file")


def test_model_path_refuses_an_empty_name():
    with pytest.raises(ValueError, match=r"^file: expected a file name, got an empty string$"):
        io.model_path("", "file")
    with pytest.raises(ValueError, match=r"^path: expected a file name, got an empty string$"):
        pn.MLP([2, 1]).save("")


# ---------------------------------------------------------------------------- what is written
def test_the_architecture_record(tmp_path):
    model = pn.MLP([2, 3, 4, 1], activation=["tanh", "relu"], batch_norm=True, bias=[True, False, True],
                   seed=np.int64(5), dropout=[0.1, 0.0], init="he_uniform", negative_slope=0.3)
    model.layers[0].bn_eps, model.layers[1].bn_momentum = 0.5, 0.25
    model.freeze("layer2/b")
    arch = record(model.save(tmp_path / "m.npz"), "architecture")
    assert arch == {"layer_sizes": [2, 3, 4, 1], "activation": ["tanh", "relu"], "output": "sigmoid",
                    "loss": "bce", "init": "he_uniform", "seed": 5, "backend": None, "negative_slope": 0.3,
                    "dropout": [0.1, 0.0], "batch_norm": True, "dtype": "float64",
                    "batch_norm_eps": [0.5, 1e-5], "batch_norm_momentum": [0.1, 0.25],
                    "bias": [True, False, True], "frozen": ["layer2/b"], "backend_registered": False}


def test_an_init_that_is_no_name_and_no_seed_are_recorded_as_auto_and_none(tmp_path):
    model = pn.MLP([2, 1], backend="numpy")
    model.init = object()                  # e.g. set by hand: the weights are in the file anyway
    arch = record(model.save(tmp_path / "m.npz"), "architecture")
    assert arch["init"] == "auto" and arch["seed"] is None and arch["backend"] == "numpy"
    assert arch["backend_registered"] is False


def test_a_registered_backend_is_flagged(tmp_path):
    pn.register_backend("m2_saved", NumpyBackend())
    try:
        model = pn.MLP([2, 1], backend="m2_saved", seed=0)
        arch = record(model.save(tmp_path / "m.npz"), "architecture")
        assert arch["backend"] == "m2_saved" and arch["backend_registered"] is True
        assert pn.load(tmp_path / "m.npz").backend == "m2_saved"
    finally:
        pn.backends.unregister_backend("m2_saved")


def test_the_members_of_a_plain_model(tmp_path):
    model = pn.MLP([2, 3, 1], bias=[False, True], seed=0)
    entries = entries_of(model.save(tmp_path / "m.npz"))
    assert sorted(entries) == ["architecture", "format", "layer0/W", "layer1/W", "layer1/b", "rng_state"]
    assert str(entries["format"]) == "pyneuron-model-2"
    assert json.loads(str(entries["rng_state"])) == model.rng.bit_generator.state
    for key in ("layer0/W", "layer1/W", "layer1/b"):
        layer, kind = key.split("/")
        assert np.array_equal(entries[key], getattr(model.layers[int(layer[5:])], kind))


def test_the_members_of_a_model_with_batch_norm_a_standardizer_and_an_optimizer(tmp_path):
    X, y = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]]), [1, 0, 1]
    model = pn.MLP([2, 3, 1], batch_norm=True, seed=0)
    model.fit(X, y, epochs=3, batch_size=None, optimizer=pn.optimizers.SGD(0.1, momentum=0.5))
    model.standardizer = pn.datasets.Standardizer().fit(X)
    entries = entries_of(model.save(tmp_path / "m.npz"))
    statistics = ["layer0/" + k for k in ("gamma", "beta", "running_mean", "running_var")]
    assert sorted(entries) == sorted(["architecture", "format", "rng_state", "layer0/W", "layer1/W", "layer1/b",
                                      *statistics, "preprocessing/mean", "preprocessing/scale", "optimizer",
                                      "optimizer/0/velocity", "optimizer/1/velocity", "optimizer/2/velocity",
                                      "optimizer/3/velocity", "optimizer/4/velocity"])
    for key in statistics:
        assert np.array_equal(entries[key], getattr(model.layers[0], key.split("/")[1]))
    assert np.array_equal(entries["preprocessing/mean"], X.mean(axis=0))
    assert np.array_equal(entries["preprocessing/scale"], X.std(axis=0))
    meta = json.loads(str(entries["optimizer"]))
    assert meta["class"] == "SGD" and meta["t"] == 3 and meta["epochs"] == 3 and meta["lr"] == 0.1
    assert meta["n_state"] == 5 == len(model.optimizer.state)
    assert meta["config"] == model.optimizer.get_config() and meta["state_names"] == list(model.optimizer.state_names)
    for j, state in enumerate(model.optimizer.state):
        for name, value in state.items():
            assert np.array_equal(entries[f"optimizer/{j}/{name}"], value)


def test_an_unfitted_standardizer_is_refused(tmp_path):
    model = pn.MLP([2, 1])
    model.standardizer = pn.datasets.Standardizer()
    with pytest.raises(ValueError, match=r"^model.standardizer: expected a fitted Standardizer, got one that was "
                                         r"never fit$"):
        model.save(tmp_path / "m.npz")
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------------------- how it is written
def test_a_bare_name_is_written_in_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert pn.MLP([2, 1]).save("m") == "m.npz"
    assert os.listdir(tmp_path) == ["m.npz"]


def test_a_path_in_another_folder_is_written_there_not_here(tmp_path, monkeypatch):
    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir(), there.mkdir()
    monkeypatch.chdir(here)
    assert pn.MLP([2, 1]).save(there / "m") == str(there / "m.npz")
    assert os.listdir(here) == [] and os.listdir(there) == ["m.npz"]


def test_a_missing_folder_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"path: no such folder '.*absent'") as info:
        pn.MLP([2, 1]).save(tmp_path / "absent" / "m.npz")
    assert info.value.errno == 2 and os.listdir(tmp_path) == []


def test_the_temporary_file_is_hidden_beside_the_target_with_a_random_name(tmp_path, monkeypatch):
    seen = []
    savez = np.savez

    def watching(f, **arrays):
        seen.append((sorted(os.listdir(tmp_path)), os.fstat(f.fileno()).st_mode & 0o777))
        return savez(f, **arrays)

    monkeypatch.setattr(np, "savez", watching)
    umask = os.umask(0o002)
    try:
        pn.MLP([2, 1]).save(tmp_path / "m.npz")
        pn.MLP([2, 1]).save(tmp_path / "m.npz")
    finally:
        os.umask(umask)
    (first, mode), (second, _) = seen
    assert len(first) == 1 and re.fullmatch(r"\.m\.npz\.[0-9a-f]{12}\.tmp", first[0])
    assert mode == 0o664                      # created as open() would: 0o666 less the umask
    assert sorted(second)[0] != first[0] and "m.npz" in second
    assert os.listdir(tmp_path) == ["m.npz"]
