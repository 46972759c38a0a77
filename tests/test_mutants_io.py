"""pyneuron.io beyond test_files_*: what the mutation run (.ci/mutation.py) showed
untested — the smallest model (one layer), a model with exactly one trainable array
and optimizer state, files without a 'bias' record (all layers biased), the lists in
error messages (five extra members, ten sizes, ten scales), a missing file, and a
backend registered when saved but not here."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import pyneuron as pn
from pyneuron import io


def entries_of(path):
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def rewrite(path, entries, **arch_changes):
    arch = json.loads(str(entries["architecture"]))
    for key, value in arch_changes.items():
        if value is None:
            arch.pop(key, None)
        else:
            arch[key] = value
    entries = dict(entries, architecture=np.array(json.dumps(arch)))
    np.savez(path, **entries)
    return path


def test_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"path: no such file '.*nothing\.npz'"):
        io.load(tmp_path / "nothing")


def test_a_one_layer_model_loads(tmp_path):
    model = pn.MLP([3, 2], output="softmax", seed=0)
    model.fit(np.eye(3), [0, 1, 1], epochs=2, optimizer=pn.optimizers.Adam(0.01))
    back = io.load(model.save(tmp_path / "one.npz"))
    assert back.layer_sizes == [3, 2]
    assert np.array_equal(back.layers[0].W, model.layers[0].W) and back.optimizer.t == model.optimizer.t


def test_one_trainable_array_with_optimizer_state_loads(tmp_path):
    model = pn.MLP([2, 1], output="sigmoid", bias=False, seed=0)
    model.fit(np.array([[0.0, 1.0], [1.0, 0.0]]), [0, 1], epochs=1, optimizer=pn.optimizers.Adam(0.01))
    assert model.optimizer.t > 0 and len(model.optimizer.state) == 1
    back = io.load(model.save(tmp_path / "w.npz"))
    assert len(back.optimizer.state) == 1
    assert np.array_equal(back.optimizer.state[0]["m"], model.optimizer.state[0]["m"])


def test_a_file_without_bias_record_has_a_bias_in_every_layer(tmp_path):
    model = pn.MLP([2, 3, 1], seed=0)
    path = rewrite(tmp_path / "old.npz", entries_of(model.save(tmp_path / "m.npz")), bias=None)
    back = io.load(path)
    assert [layer.has_bias for layer in back.layers] == [True, True]
    assert np.array_equal(back.layers[1].b, model.layers[1].b)


def test_extra_members_are_listed_five_at_most(tmp_path):
    entries = entries_of(pn.MLP([2, 1], seed=0).save(tmp_path / "m.npz"))
    entries.update({f"x{i}": np.zeros(1) for i in range(6)})
    np.savez(tmp_path / "extra.npz", **entries)
    with pytest.raises(io.ModelFileError, match=r"does not have: \['x0', 'x1', 'x2', 'x3', 'x4'\]$"):
        io.load(tmp_path / "extra.npz")


@pytest.mark.parametrize("sizes, shown", [
    ([2] * 9 + [0], r"\[2, 2, 2, 2, 2, 2, 2, 2, 2, 0\]$"),                     # ten: all shown
    ([2] * 10 + [0], r"\[2, 2, 2, 2, 2, 2, 2, 2, 2, 2\] \.\.\.$"),             # eleven: ten and ...
    ([2], r"\[2\]$"),                                                            # one layer size only
])
def test_bad_layer_sizes_are_listed_ten_at_most(sizes, shown, tmp_path):
    entries = entries_of(pn.MLP([2, 1], seed=0).save(tmp_path / "m.npz"))
    path = rewrite(tmp_path / "bad.npz", entries, layer_sizes=sizes)
    with pytest.raises(io.ModelFileError, match=r"'layer_sizes': expected 2 to 10001 positive integers, got " + shown):
        io.load(path)


def test_bad_scales_are_listed_ten_at_most(tmp_path):
    model = pn.MLP([12, 1], seed=0)
    model.standardizer = pn.datasets.Standardizer().fit(np.arange(24.0).reshape(2, 12))
    entries = entries_of(model.save(tmp_path / "m.npz"))
    entries["preprocessing/scale"] = np.zeros(12)
    np.savez(tmp_path / "bad.npz", **entries)
    with pytest.raises(io.ModelFileError, match=r"finite scales > 0, got \[0\. 0\. 0\. 0\. 0\. 0\. 0\. 0\. 0\. 0\.\]$"):
        io.load(tmp_path / "bad.npz")


# ------------------------------------------------------------------ backends registered when saved
@pytest.mark.parametrize("name", [None, "numpy"])
def test_a_registered_flag_with_a_known_or_no_backend_loads_it_quietly(name, tmp_path):
    entries = entries_of(pn.MLP([2, 1], seed=0).save(tmp_path / "m.npz"))
    path = rewrite(tmp_path / "r.npz", entries, backend=name if name else None, backend_registered=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert io.load(path).backend == name


def test_a_backend_registered_when_saved_but_not_here_loads_on_the_default(tmp_path):
    entries = entries_of(pn.MLP([2, 1], seed=0).save(tmp_path / "m.npz"))
    path = rewrite(tmp_path / "r.npz", entries, backend="my_gpu", backend_registered=True)
    with pytest.warns(UserWarning, match="saved with backend 'my_gpu', which is not registered here") as record:
        model = io.load(path)
    assert model.backend is None and len(record) == 1


def test_the_unregistered_backend_warning_points_at_the_callers_load(tmp_path):
    entries = entries_of(pn.MLP([2, 1], seed=0).save(tmp_path / "m.npz"))
    path = rewrite(tmp_path / "r.npz", entries, backend="my_gpu", backend_registered=True)
    with pytest.warns(UserWarning, match="not registered here") as record:
        pn.load(path)
    assert [w.filename for w in record] == [__file__]
