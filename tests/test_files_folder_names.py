"""save and load refuse a path that names a folder rather than a file: "models/", ".",
"..", and pathlib's PurePath("") (which is "."), which once saved a file named "..npz"."""
import os
import pathlib

import pytest

import pyneuron as pn


@pytest.mark.parametrize("path", ["models/", ".", "..", "a/..", "a/.", pathlib.PurePath(""), pathlib.Path("."),
                                  "models" + os.sep])
@pytest.mark.parametrize("verb", ["save", "load"])
def test_a_folder_is_not_a_file_name(path, verb, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = pn.MLP([2, 1], seed=0)
    with pytest.raises(ValueError, match=r"^path: expected a file name, got '.*', which names a folder$"):
        model.save(path) if verb == "save" else pn.load(path)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("path", ["m", "m.npz", "sub/m", ".m", "..m", "m."])
def test_names_that_only_look_like_folders_are_files(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.makedirs("sub", exist_ok=True)
    written = pn.MLP([2, 1], seed=0).save(path)
    assert os.path.isfile(written) and written.endswith(".npz")
    assert pn.load(path).layer_sizes == [2, 1]
