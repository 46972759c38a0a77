"""Model files, issue 15 item 3 (a, b): a save killed at a random moment leaves
the old model or the new one, never neither; a hostile file is refused by a
process whose address space is bounded, so a big allocation would show as a
MemoryError instead of passing unnoticed on a machine with room to spare."""
import io as bytes_io
import json
import multiprocessing
import os
import random
import signal
import struct
import subprocess
import sys
import textwrap
import time
import zipfile

import numpy as np
import pytest

import pyneuron as pn

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="fork, SIGKILL, RLIMIT_AS and /proc are Linux tools")

ARCH = [30, 300, 300, 10]        # about 100 000 parameters: a save takes a few milliseconds


def _save_forever(path):
    model = pn.MLP(ARCH, output="softmax", seed=1)
    while True:
        model.save(path)


def test_a_save_killed_at_random_moments_leaves_the_old_or_the_new_model(tmp_path):
    path = tmp_path / "model.npz"
    old, new = pn.MLP(ARCH, output="softmax", seed=0), pn.MLP(ARCH, output="softmax", seed=1)
    context = multiprocessing.get_context("fork")
    moments = random.Random(15)
    found, torn = {"old": 0, "new": 0}, 0
    for _ in range(20):
        old.save(path)
        saver = context.Process(target=_save_forever, args=(str(path),))
        saver.start()
        time.sleep(moments.uniform(0.0, 0.06))
        os.kill(saver.pid, signal.SIGKILL)
        saver.join()
        leftovers = [name for name in os.listdir(tmp_path) if name != "model.npz"]
        torn += bool(leftovers)                      # killed while a temporary file was open
        for name in leftovers:
            assert name.startswith(".model.npz.") and name.endswith(".tmp"), name
            os.unlink(tmp_path / name)
        loaded = pn.load(path)                       # never a torn or missing file
        W = loaded.layers[0].W
        kind = "old" if np.array_equal(W, old.layers[0].W) else "new"
        assert np.array_equal(W, (old if kind == "old" else new).layers[0].W)
        found[kind] += 1
    assert torn >= 1, "no kill landed inside a save; the test did not test anything"
    assert found["new"] >= 1, found


# ---------------------------------------------------------------- hostile files
LOADER = textwrap.dedent("""
    import resource, sys
    import numpy as np
    import pyneuron as pn

    def address_space():
        for line in open("/proc/self/status"):
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024

    limit = address_space() + int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        big = np.ones(2 * int(sys.argv[1]) // 8)
        print("UNBOUNDED")
    except MemoryError:
        print("BOUNDED")
    for path in sys.argv[2:]:
        try:
            pn.load(path)
            print("LOADED", path)
        except pn.ModelFileError as exc:
            print("REFUSED", str(exc).replace(chr(10), " "))
        except BaseException as exc:
            print("ESCAPED", type(exc).__name__, exc)
""")

HEADROOM = 192 << 20         # the loader may allocate this much beyond what it holds after imports
BOMB = 256 << 20             # bytes a deflated member expands to (more than HEADROOM)


def npy_header(shape, dtype="<f8"):
    out = bytes_io.BytesIO()
    np.lib.format.write_array_header_1_0(out, {"descr": dtype, "fortran_order": False, "shape": shape})
    return out.getvalue()


def write_zip(path, members, claims=None):
    """A zip of ``{name: bytes or (header, n_zero_bytes)}``, deflated; ``claims``
    rewrites members' recorded uncompressed sizes afterwards (a forged record)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            with zf.open(name, "w", force_zip64=False) as member:
                if isinstance(data, tuple):
                    header, n_zeros = data
                    member.write(header)
                    chunk = bytes(1 << 20)
                    for start in range(0, n_zeros, len(chunk)):
                        member.write(chunk[:min(len(chunk), n_zeros - start)])
                else:
                    member.write(data)
    if claims:
        content = bytearray(path.read_bytes())
        with zipfile.ZipFile(path) as zf:
            offsets = {name: zf.getinfo(name).header_offset for name in claims}
        for name, size in claims.items():
            content[offsets[name] + 22:offsets[name] + 26] = struct.pack("<I", size)   # local header
            central = content.find(b"PK\x01\x02")
            while content[central + 46:central + 46 + len(name)] != name.encode():
                central = content.find(b"PK\x01\x02", central + 4)
            content[central + 24:central + 28] = struct.pack("<I", size)               # central directory
        path.write_bytes(bytes(content))


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    model = pn.MLP([2, 3, 1], seed=0)
    model.save(folder / "good.npz")
    with zipfile.ZipFile(folder / "good.npz") as zf:
        good = {name: zf.read(name) for name in zf.namelist()}
    arch = json.loads(str(np.load(folder / "good.npz")["architecture"]))

    def architecture(sizes):
        out = bytes_io.BytesIO()
        np.save(out, np.array(json.dumps(dict(arch, layer_sizes=sizes))))
        return out.getvalue()

    files = {}
    # 1. an extra member that deflates to 256 MiB (1 GiB in the issue)
    files["extra bomb"] = dict(good, **{"bomb.npy": (npy_header((BOMB // 8,)), BOMB)})
    # 2. an expected member whose data deflate to 256 MiB
    files["member bomb"] = dict(good, **{"layer0/W.npy": (npy_header((3, 2)), BOMB)})
    # 3. a header claiming 8 TB, alone and with an architecture that agrees
    files["8 TB header"] = dict(good, **{"layer0/W.npy": npy_header((2**20, 2**20)) + bytes(48)})
    files["8 TB model"] = dict(files["8 TB header"], **{"architecture.npy": architecture([2**20, 2**20, 1])})
    # 4. the architecture record [2, 300000000, 1] with the small arrays
    files["[2, 300000000, 1]"] = dict(good, **{"architecture.npy": architecture([2, 300_000_000, 1])})
    for name, members in files.items():
        write_zip(folder / f"{name}.npz", members)
    # 5. an architecture whose headers and size records all agree (1.6 GB of
    #    parameters), but whose data are 16 bytes each: the file lies about its size
    n = 50_000_000
    shapes = {"layer0/W.npy": (n, 2), "layer0/b.npy": (n,), "layer1/W.npy": (1, n)}
    forged = dict(good, **{"architecture.npy": architecture([2, n, 1])},
                  **{name: npy_header(shape) + bytes(16) for name, shape in shapes.items()})
    claims = {name: len(npy_header(shape)) + 8 * int(np.prod(shape)) for name, shape in shapes.items()}
    write_zip(folder / "forged sizes.npz", forged, claims)
    files["forged sizes"] = forged
    return folder, list(files)


def test_hostile_files_are_refused_within_a_memory_bound(hostile_files):
    folder, names = hostile_files
    done = subprocess.run([sys.executable, "-c", LOADER, str(HEADROOM)]
                          + [str(folder / f"{name}.npz") for name in names] + [str(folder / "good.npz")],
                          capture_output=True, text=True, timeout=300)
    lines = done.stdout.splitlines()
    assert done.returncode == 0 and lines[0] == "BOUNDED", done.stdout + done.stderr
    results = dict(zip(names + ["good"], lines[1:]))
    assert results.pop("good").startswith("LOADED"), lines      # the bound leaves room for a real model
    expected = {"extra bomb": r"does not have: \['bomb'\]",
                "member bomb": f"'layer0/W' records {len(npy_header((3, 2))) + BOMB} bytes",
                "8 TB header": r"shape \(1048576, 1048576\)",
                "8 TB model": "would not fit in memory",
                # the header check, or (on a machine with under ~10 GiB free) the size check before it
                "[2, 300000000, 1]": r"expected a C-ordered float64 array of shape \(300000000, 2\)"
                                     r"|would not fit in memory",
                "forged sizes": "layer0/W"}
    for name, message in expected.items():
        assert results[name].startswith("REFUSED"), (name, results[name])
        assert __import__("re").search(message, results[name]), (name, results[name])


def test_the_member_bomb_is_refused_on_its_size_record(hostile_files, tmp_path):
    folder, _ = hostile_files
    with zipfile.ZipFile(folder / "good.npz") as zf:
        good = {name: zf.read(name) for name in zf.namelist()}
    header = npy_header((3, 2))
    write_zip(tmp_path / "bomb.npz", dict(good, **{"layer0/W.npy": (header, 48 + (1 << 20))}))
    with pytest.raises(pn.ModelFileError, match=f"'layer0/W' records {len(header) + 48 + (1 << 20)} bytes"):
        pn.load(tmp_path / "bomb.npz")
