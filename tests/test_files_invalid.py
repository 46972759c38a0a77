"""Model files, issue 15 item 3 (b, c): a file whose contents are wrong in any
way — a bad value, a missing, extra, duplicated or mis-shaped member, a corrupt
archive — is refused with ModelFileError saying what is wrong, and nothing
else ever escapes (a hypothesis fuzz of corrupted files)."""
import io as bytes_io
import json
import os
import struct
import tempfile
import warnings
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pyneuron as pn
from pyneuron import io

N_PARAMS = 6      # W, b, gamma, beta of the hidden layer; W, b of the output layer


@pytest.fixture(scope="module")
def good_entries():
    """The members of a valid file: batch norm, Adam state, a standardizer."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 3)), rng.integers(0, 2, 30)
    model = pn.MLP([3, 4, 2], output="softmax", batch_norm=True, seed=0, bias=True)
    model.fit(X, y, epochs=2, batch_size=10, optimizer=pn.optimizers.Adam(0.01))
    model.standardizer = pn.datasets.Standardizer().fit(X)
    with tempfile.TemporaryDirectory() as folder:
        path = model.save(os.path.join(folder, "good.npz")) or os.path.join(folder, "good.npz")
        with np.load(path) as data:
            return {k: data[k] for k in data.files}


def edit_json(member, **changes):
    """A mutation setting (or, with None, deleting) fields of a JSON member."""
    def mutate(e):
        record = json.loads(str(e[member]))
        for key, value in changes.items():
            if value is None:
                record.pop(key)
            else:
                record[key] = value
        e[member] = np.array(json.dumps(record))
    return mutate


def set_entry(name, value):
    def mutate(e):
        e[name] = value
    return mutate


def poke(name, index, value):
    def mutate(e):
        e[name] = e[name].copy()
        e[name][index] = value
    return mutate


def drop(name):
    def mutate(e):
        del e[name]
    return mutate


BAD_CONTENTS = {
    # values
    "negative running variance": (poke("layer0/running_var", 1, -0.5), r"'layer0/running_var'.*>= 0"),
    "NaN running variance": (poke("layer0/running_var", 0, np.nan), r"'layer0/running_var'.*finite"),
    "inf running mean": (poke("layer0/running_mean", 2, np.inf), r"'layer0/running_mean'.*finite"),
    "NaN weight": (poke("layer0/W", (1, 2), np.nan), r"'layer0/W'.*finite.*index \(1, 2\)"),
    "inf weight": (poke("layer1/W", (0, 0), np.inf), r"'layer1/W'.*finite"),
    "-inf bias": (poke("layer1/b", 0, -np.inf), r"'layer1/b'.*finite"),
    "NaN gamma": (poke("layer0/gamma", 0, np.nan), r"'layer0/gamma'.*finite"),
    "negative Adam v": (poke("optimizer/2/v", 0, -1e-3), r"'optimizer/2/v'.*>= 0"),
    "NaN Adam m": (poke("optimizer/0/m", (0, 0), np.nan), r"'optimizer/0/m'.*finite"),
    "inf standardizer scale": (poke("preprocessing/scale", 0, np.inf), "standardizer"),
    "zero standardizer scale": (poke("preprocessing/scale", 1, 0.0), "standardizer"),
    "negative standardizer scale": (poke("preprocessing/scale", 1, -2.0), "standardizer"),
    "NaN standardizer scale": (poke("preprocessing/scale", 2, np.nan), "standardizer"),
    "NaN standardizer mean": (poke("preprocessing/mean", 2, np.nan), r"'preprocessing/mean'.*finite"),
    # the optimizer record
    "negative step count": (edit_json("optimizer", t=-1), "'t': expected an integer >= 0"),
    "fractional step count": (edit_json("optimizer", t=1.5), "'t': expected an integer"),
    "boolean step count": (edit_json("optimizer", t=True), "'t': expected an integer"),
    "step count without state": (edit_json("optimizer", t=0), "inconsistent"),
    "NaN learning rate": (edit_json("optimizer", lr=float("nan")), "learning rate lr: expected a finite"),
    "negative learning rate": (edit_json("optimizer", lr=-0.1), "learning rate lr: expected a number > 0"),
    "zero learning rate": (edit_json("optimizer", lr=0.0), "learning rate lr: expected a number > 0"),
    "text learning rate": (edit_json("optimizer", lr="fast"), "learning rate lr: expected a finite"),
    "state for some arrays": (edit_json("optimizer", n_state=3), "state for 3 parameter arrays"),
    "a missing state array": (drop("optimizer/5/v"), "'optimizer/5/v' is missing"),
    "other state names": (edit_json("optimizer", state_names=["m"]), "'state_names'"),
    "unknown optimizer": (edit_json("optimizer", **{"class": "Lion"}), "class 'Lion'"),
    "invalid optimizer setting": (edit_json("optimizer", config={"lr": 0.01, "beta1": 2.0}), "settings are invalid"),
    "unknown optimizer setting": (edit_json("optimizer", config={"lr": 0.01, "gamma": 2.0}), "settings are invalid"),
    "optimizer record not a dict": (set_entry("optimizer", np.array("[1, 2]")), "has no 'class'"),
    # the standardizer, the generator
    "mean without scale": (drop("preprocessing/scale"), "'preprocessing/scale' is missing"),
    "scale of the wrong dtype": (set_entry("preprocessing/scale", np.ones(3, np.float32)), "float64"),
    "invalid generator state": (set_entry("rng_state", np.array('{"bit_generator": "PCG64"}')), "random-generator"),
    "another generator": (set_entry("rng_state", np.array(json.dumps(
        np.random.SFC64(0).state, default=lambda a: a.tolist()))), "random-generator"),
    "no generator state": (drop("rng_state"), "'rng_state' is missing"),
    # the architecture record
    "zero-width layer": (edit_json("architecture", layer_sizes=[3, 0, 2]), "'layer_sizes'"),
    "float layer size": (edit_json("architecture", layer_sizes=[3, 4.0, 2]), "'layer_sizes'"),
    "boolean layer size": (edit_json("architecture", layer_sizes=[3, True, 2]), "'layer_sizes'"),
    "sizes as text": (edit_json("architecture", layer_sizes="3-4-2"), "'layer_sizes': expected list"),
    "too many layers": (edit_json("architecture", layer_sizes=[1] * (io.MAX_LAYERS + 2)), "'layer_sizes'"),
    "sizes beyond memory": (edit_json("architecture", layer_sizes=[3, 10**12, 2]), "would not fit in memory"),
    "a 5000-digit size": (set_entry("architecture", np.array('{"layer_sizes": [3, ' + "9" * 5000 + ', 2]}')),
                          "not valid JSON"),
    "deeply nested JSON": (set_entry("architecture", np.array("[" * 100_000)), "not valid JSON"),
    "batch_norm as text": (edit_json("architecture", batch_norm="no"), "'batch_norm': expected bool"),
    "half precision": (edit_json("architecture", dtype="float16"), "dtype"),
    "no dtype": (edit_json("architecture", dtype=None), "no 'dtype'"),
    "zero batch-norm eps": (edit_json("architecture", batch_norm_eps=[0.0]), "eps: expected a number > 0"),
    "NaN batch-norm eps": (edit_json("architecture", batch_norm_eps=[float("nan")]), "eps: expected a finite"),
    "batch-norm momentum 2": (edit_json("architecture", batch_norm_momentum=[2.0]), r"momentum: expected a number in \[0, 1\]"),
    "one eps too many": (edit_json("architecture", batch_norm_eps=[0.1, 0.1]), "batch-norm settings"),
    "bias as one flag": (edit_json("architecture", bias=True), "'bias': expected 2 booleans"),
    "a bias flag too many": (edit_json("architecture", bias=[False, True, True]), "'bias': expected 2 booleans"),
    "bias flag as text": (edit_json("architecture", bias=["no", True]), "'bias': expected 2 booleans"),
    "frozen unknown name": (edit_json("architecture", frozen=["layer7/W"]), "'frozen': expected distinct"),
    "frozen twice": (edit_json("architecture", frozen=["layer0/W", "layer0/W"]), "'frozen': expected distinct"),
    "frozen as text": (edit_json("architecture", frozen="layer0/W"), "'frozen': expected distinct"),
    "frozen not a name": (edit_json("architecture", frozen=[3]), "'frozen': expected distinct"),
    "state for a frozen array": (edit_json("architecture", frozen=["layer1/b"]), "state for 6 parameter arrays"),
    "one layer size": (edit_json("architecture", layer_sizes=[3]), "'layer_sizes': expected 2 to"),
    "eps as text": (edit_json("architecture", batch_norm_eps="0.1"), "batch-norm settings"),
    "unknown activation": (edit_json("architecture", activation="swish"), "activation"),
    "unknown initializer": (edit_json("architecture", init="orthogonal"), "init"),
    "negative slope": (edit_json("architecture", negative_slope=-1.0), "negative_slope"),
    "negative slope, old key": (edit_json("architecture", negative_slope=None, alpha=-1.0), "'alpha'|alpha:"),
    "slope under both keys": (edit_json("architecture", alpha=0.2), "both 'negative_slope' and"),
    "no slope": (edit_json("architecture", negative_slope=None), "no 'negative_slope'"),
    "dropout 1.5": (edit_json("architecture", dropout=[1.5]), "dropout"),
    "unknown backend": (edit_json("architecture", backend="gpu"), "backend"),
    "negative seed": (edit_json("architecture", seed=-3), "seed"),
    "unknown loss": (edit_json("architecture", loss="hinge"), "loss"),
    "future format": (set_entry("format", np.array("pyneuron-model-99")), "format 'pyneuron-model-99'"),
    "format as a number": (set_entry("format", np.array(2.0)), "'format' holds a float64"),
    "no architecture": (drop("architecture"), "not a pyneuron model"),
    # members
    "an extra member": (set_entry("notes", np.zeros(3)), r"does not have: \['notes'\]"),
    "a missing weight": (drop("layer1/b"), "'layer1/b' is missing"),
    "a transposed weight": (set_entry("layer0/W", np.zeros((3, 4))), r"shape \(3, 4\).*shape \(4, 3\)"),
    "float32 weight in a float64 model": (set_entry("layer0/W", np.zeros((4, 3), np.float32)), "float32"),
    "big-endian weight": (set_entry("layer0/W", np.zeros((4, 3), ">f8")), ">f8"),
    "Fortran-ordered weight": (set_entry("layer0/W", np.asfortranarray(np.zeros((4, 3)))), "Fortran-ordered"),
    "integer weight": (set_entry("layer0/W", np.zeros((4, 3), np.int64)), "int64"),
    "weights of Python objects": (set_entry("layer0/W", np.array([object()])), "pickle"),
    "text too long": (set_entry("format", np.array("x" * 1000)), "at most 64 characters"),
}


@pytest.mark.parametrize("case", BAD_CONTENTS, ids=str)
def test_bad_contents_are_refused_naming_the_field(case, good_entries, tmp_path):
    mutate, message = BAD_CONTENTS[case]
    entries = {k: v.copy() for k, v in good_entries.items()}
    mutate(entries)
    np.savez(tmp_path / "bad.npz", **entries)
    with pytest.raises(pn.ModelFileError, match=message):
        pn.load(tmp_path / "bad.npz")


def test_the_good_file_loads(good_entries, tmp_path):
    np.savez(tmp_path / "good.npz", **good_entries)
    model = pn.load(tmp_path / "good.npz")
    assert model.optimizer.t == 6 and len(model.optimizer.state) == N_PARAMS
    # the checks accept the edge values the rules allow
    entries = dict(good_entries)
    entries["layer0/running_var"] = np.zeros(4)                  # a variance of exactly 0 is one
    for key in ("gamma", "beta", "running_mean"):                # these may be negative
        entries[f"layer0/{key}"] = -np.arange(1.0, 5.0)
    entries["optimizer/0/m"] = -np.ones((4, 3))
    entries["optimizer/2/v"] = np.zeros(4)
    edit_json("architecture", batch_norm_momentum=[1.0], batch_norm_eps=[1e-300])(entries)
    np.savez(tmp_path / "edges.npz", **entries)
    model = pn.load(tmp_path / "edges.npz")
    assert model.layers[0].bn_momentum == 1.0 and not model.layers[0].running_var.any()
    assert model.layers[0].gamma.tolist() == [-1.0, -2.0, -3.0, -4.0] and (model.optimizer.state[0]["m"] == -1).all()


def test_the_layer_limit_is_inclusive(good_entries, tmp_path, monkeypatch):
    monkeypatch.setattr(io, "MAX_LAYERS", 2)
    model = pn.MLP([2, 3, 3, 1], seed=0)                   # 3 layers: over the patched limit
    model.save(tmp_path / "three.npz")
    with pytest.raises(pn.ModelFileError, match="'layer_sizes': expected 2 to 3 positive integers"):
        pn.load(tmp_path / "three.npz")
    pn.MLP([2, 3, 1], seed=0).save(tmp_path / "two.npz")   # exactly at the limit
    assert pn.load(tmp_path / "two.npz").layer_sizes == [2, 3, 1]


@pytest.mark.parametrize("optimizer, state", [(pn.optimizers.RMSprop(0.01), "square_avg"),
                                              (pn.optimizers.Adagrad(0.01), "square_sum"),
                                              (pn.optimizers.Adam(0.01), "v")])
def test_averages_of_squares_in_optimizer_state_must_not_be_negative(optimizer, state, tmp_path):
    X, y = pn.datasets.make_xor()
    model = pn.MLP([2, 3, 1], seed=0)
    model.fit(X, y, epochs=2, optimizer=optimizer)
    model.save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz") as data:
        entries = {k: data[k] for k in data.files}
    entries[f"optimizer/1/{state}"] = entries[f"optimizer/1/{state}"] * 0 - 1e-9
    np.savez(tmp_path / "bad.npz", **entries)
    with pytest.raises(pn.ModelFileError, match=f"'optimizer/1/{state}'.*>= 0"):
        pn.load(tmp_path / "bad.npz")
    if state != "v":                                          # other state may be negative
        return
    entries[f"optimizer/1/{state}"] *= -1
    entries["optimizer/1/m"] = entries["optimizer/1/m"] * 0 - 1.0
    np.savez(tmp_path / "ok.npz", **entries)
    assert (pn.load(tmp_path / "ok.npz").optimizer.state[1]["m"] == -1).all()


def test_a_version_1_file_loads_with_the_default_batchnorm_settings(good_entries, tmp_path):
    entries = dict(good_entries, format=np.array("pyneuron-model-1"))
    edit_json("architecture", batch_norm_eps=None, batch_norm_momentum=None)(entries)
    np.savez(tmp_path / "v1.npz", **entries)
    model = pn.load(tmp_path / "v1.npz")
    assert (model.layers[0].bn_eps, model.layers[0].bn_momentum) == (1e-5, 0.1)


def test_a_model_without_optimizer_or_standardizer_or_with_plain_sgd(tmp_path):
    model = pn.MLP([2, 3, 1], seed=0)
    model.save(tmp_path / "fresh.npz")
    loaded = pn.load(tmp_path / "fresh.npz")
    assert loaded.optimizer is None and loaded.standardizer is None
    X, y = pn.datasets.make_xor()
    model.fit(X, y, epochs=2, optimizer=pn.optimizers.SGD(0.1))   # no state arrays, t > 0
    model.save(tmp_path / "sgd.npz")
    assert pn.load(tmp_path / "sgd.npz").optimizer.t == model.optimizer.t > 0


# ---------------------------------------------------------------- the archive itself
def zip_bytes(members, compression=zipfile.ZIP_STORED):
    """A zip of ``{name: bytes}`` (a list of pairs may repeat a name)."""
    out = bytes_io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # zipfile warns about duplicate names
        with zipfile.ZipFile(out, "w", compression) as zf:
            for name, data in (members.items() if isinstance(members, dict) else members):
                zf.writestr(name, data)
    return out.getvalue()


def npy_bytes(array):
    out = bytes_io.BytesIO()
    np.save(out, array)
    return out.getvalue()


def npy_members(entries):
    return {f"{k}.npy": npy_bytes(v) for k, v in entries.items()}


def test_a_duplicated_member_is_refused(good_entries, tmp_path):
    members = list(npy_members(good_entries).items())
    members.append(("layer0/W.npy", npy_bytes(np.zeros((4, 3)))))
    (tmp_path / "dup.npz").write_bytes(zip_bytes(members))
    with pytest.raises(pn.ModelFileError, match=r"more than once: \['layer0/W.npy'\]"):
        pn.load(tmp_path / "dup.npz")


def test_a_header_that_disagrees_with_the_recorded_size_is_refused(good_entries, tmp_path):
    members = npy_members(good_entries)
    members["layer0/W.npy"] = members["layer0/W.npy"][:-8]          # one value short
    (tmp_path / "short.npz").write_bytes(zip_bytes(members))
    with pytest.raises(pn.ModelFileError, match="'layer0/W' records 216 bytes, its header implies 224"):
        pn.load(tmp_path / "short.npz")
    members["layer0/W.npy"] = npy_bytes(good_entries["layer0/W"]) + b"\0" * 8
    (tmp_path / "long.npz").write_bytes(zip_bytes(members))
    with pytest.raises(pn.ModelFileError, match="records 232 bytes"):
        pn.load(tmp_path / "long.npz")


def test_text_members_may_be_as_long_as_their_limit_and_no_longer(good_entries, tmp_path):
    limit = io.TEXT_LIMITS["format"]
    for text, message in (("x" * limit, "has format 'x"), ("x" * (limit + 1), f"at most {limit} characters")):
        entries = dict(good_entries, format=np.array(text))
        np.savez(tmp_path / "f.npz", **entries)
        with pytest.raises(pn.ModelFileError, match=message):
            pn.load(tmp_path / "f.npz")


def test_npy_format_version_2_members_and_members_beyond_one_read_chunk_load(good_entries, tmp_path):
    members = npy_members(good_entries)
    out = bytes_io.BytesIO()
    np.lib.format.write_array(out, good_entries["layer0/W"], version=(2, 0))
    members["layer0/W.npy"] = out.getvalue()
    (tmp_path / "v2.npz").write_bytes(zip_bytes(members))
    assert np.array_equal(pn.load(tmp_path / "v2.npz").layers[0].W, good_entries["layer0/W"])
    big = pn.MLP([2, 600, 300, 1], seed=0)             # W2: 1.44 MB, read in two pieces
    big.save(tmp_path / "big.npz")
    assert big.layers[1].W.nbytes > 1 << 20
    assert np.array_equal(pn.load(tmp_path / "big.npz").layers[1].W, big.layers[1].W)


def test_text_beyond_unicode_is_refused(good_entries, tmp_path):
    members = npy_members(good_entries)
    out = bytes_io.BytesIO()
    np.lib.format.write_array_header_1_0(out, {"descr": "<U1", "fortran_order": False, "shape": ()})
    members["format.npy"] = out.getvalue() + struct.pack("<I", 0x110000)
    (tmp_path / "text.npz").write_bytes(zip_bytes(members))
    with pytest.raises(pn.ModelFileError, match="'format' could not be read"):
        pn.load(tmp_path / "text.npz")


def test_npy_format_version_3_is_refused(good_entries, tmp_path):
    members = npy_members(good_entries)
    w = members["layer0/W.npy"]
    members["layer0/W.npy"] = w[:6] + b"\x03\x00" + struct.pack("<I", struct.unpack("<H", w[8:10])[0]) + w[10:]
    (tmp_path / "v3.npz").write_bytes(zip_bytes(members))
    with pytest.raises(pn.ModelFileError, match=r"version \(3, 0\)"):
        pn.load(tmp_path / "v3.npz")


def patch_member_flags(data, name, compress_type=None, flag_bits=None):
    """Rewrite a member's compression method / flags in its local and central headers."""
    data = bytearray(data)
    with zipfile.ZipFile(bytes_io.BytesIO(bytes(data))) as zf:
        offset = zf.getinfo(name).header_offset
    central = data.find(b"PK\x01\x02" + b"\x14\x03", 0)
    while data[central + 46:central + 46 + len(name)] != name.encode():
        central = data.find(b"PK\x01\x02", central + 4)
    for pos, flag_at, method_at in ((offset, 6, 8), (central, 8, 10)):
        if flag_bits is not None:
            data[pos + flag_at:pos + flag_at + 2] = struct.pack("<H", flag_bits)
        if compress_type is not None:
            data[pos + method_at:pos + method_at + 2] = struct.pack("<H", compress_type)
    return bytes(data)


@pytest.mark.parametrize("flags, kind", [(dict(compress_type=99), "NotImplementedError"),
                                         (dict(flag_bits=0x1), "RuntimeError")])
def test_unsupported_compression_or_encryption_is_a_model_file_error(flags, kind, good_entries, tmp_path):
    data = patch_member_flags(zip_bytes(npy_members(good_entries)), "layer0/W.npy", **flags)
    (tmp_path / "odd.npz").write_bytes(data)
    with pytest.raises(pn.ModelFileError, match=kind):
        pn.load(tmp_path / "odd.npz")


@pytest.mark.parametrize("content, message", [(b"", "not a readable"), (b"not a model", "not a readable"),
                                              (b"PK\x05\x06" + b"\0" * 18, "not a pyneuron model")])
def test_files_that_are_not_models(content, message, tmp_path):
    (tmp_path / "x.npz").write_bytes(content)
    with pytest.raises(pn.ModelFileError, match=message):
        pn.load(tmp_path / "x.npz")


# ---------------------------------------------------------------- fuzz
@pytest.fixture(scope="module")
def good_files(good_entries):
    return [zip_bytes(npy_members(good_entries)),
            zip_bytes(npy_members(good_entries), zipfile.ZIP_DEFLATED)]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_corrupted_files_only_ever_raise_model_file_error(data, good_files):
    content = bytearray(data.draw(st.sampled_from(good_files)))
    action = data.draw(st.sampled_from(["flip", "truncate", "insert"]))
    if action == "truncate":
        del content[data.draw(st.integers(0, len(content) - 1)):]
    for _ in range(data.draw(st.integers(1, 8)) if action != "truncate" else 0):
        at = data.draw(st.integers(0, len(content) - 1))
        byte = data.draw(st.integers(0, 255))
        if action == "flip":
            content[at] = byte
        else:
            content.insert(at, byte)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "fuzzed.npz")
        with open(path, "wb") as f:
            f.write(content)
        try:
            model = pn.load(path)
        except pn.ModelFileError:
            return
    # a change the format does not see (a timestamp, a comment): the model is whole
    assert all(np.isfinite(p).all() for p in model.parameters())
    assert (model.layers[0].running_var >= 0).all()


@pytest.mark.parametrize("steps", [0, 1])
def test_an_optimizer_before_its_first_step_and_after_one_step_loads(steps, tmp_path):
    X, y = pn.datasets.make_xor()
    model = pn.MLP([2, 3, 1], seed=0)
    model.optimizer = pn.optimizers.Adam(0.01)
    if steps:
        model.fit(X, y, epochs=1, batch_size=None, optimizer=model.optimizer)
    model.save(tmp_path / "m.npz")
    loaded = pn.load(tmp_path / "m.npz").optimizer
    assert loaded.t == steps and len(loaded.state) == (len(model.parameters()) if steps else 0)
